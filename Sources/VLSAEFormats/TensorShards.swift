import Foundation
import VLSAECore

/// Files of one array split along its first axis, such as clip-retrieval's `img_emb/img_emb_0.npy`,
/// `img_emb_1.npy`, …: named by an ordered list or by a glob pattern whose matches are taken in numeric order.
public enum TensorShards {
    /// Whether `address` is a glob pattern (`*` or `?` in its file name) rather than one file.
    public static func isPattern(_ address: String) -> Bool {
        let name = (address as NSString).lastPathComponent
        return name.contains("*") || name.contains("?")
    }

    /// The files matching `pattern` (`*` any run of characters, `?` one character, in the file name only; the folder
    /// is literal), as the pattern writes them, in numeric order (`numericOrder`). `folder` resolves a relative
    /// pattern. Throws `VLSAEError.file` when the folder cannot be listed or nothing matches.
    public static func expand(_ pattern: String, relativeTo folder: String = "") throws -> [String] {
        let patternFolder = (pattern as NSString).deletingLastPathComponent
        let name = (pattern as NSString).lastPathComponent
        guard !patternFolder.contains("*") && !patternFolder.contains("?") else {
            throw VLSAEError.usage("\(pattern): only the file name may hold * or ?")
        }
        var listed = patternFolder.isEmpty ? "." : patternFolder
        if !listed.hasPrefix("/") && !folder.isEmpty { listed = (folder as NSString).appendingPathComponent(listed) }
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: listed) } catch {
            throw VLSAEError.file(listed, "cannot list the folder of the shard pattern \(pattern)")
        }
        let found = entries.filter { Self.matches($0, pattern: name) }.sorted(by: numericOrder)
        guard !found.isEmpty else { throw VLSAEError.file(listed, "no file matches the shard pattern \(name)") }
        return found.map { patternFolder.isEmpty ? $0 : (patternFolder as NSString).appendingPathComponent($0) }
    }

    /// Whether `name` matches the glob `pattern` (`*`, `?`; every other character literal).
    static func matches(_ name: String, pattern: String) -> Bool {
        let n = Array(name)
        let p = Array(pattern)
        // Iterative wildcard match with one backtrack point (the last `*`).
        var i = 0
        var j = 0
        var star: Int? = nil
        var resume = 0
        while i < n.count {
            if j < p.count && (p[j] == "?" || p[j] == n[i]) {
                i += 1
                j += 1
            } else if j < p.count && p[j] == "*" {
                star = j
                resume = i
                j += 1
            } else if let s = star {
                j = s + 1
                resume += 1
                i = resume
            } else {
                return false
            }
        }
        while j < p.count && p[j] == "*" { j += 1 }
        return j == p.count
    }

    /// Numeric order of file names: runs of digits compare by value (`img_emb_2` before `img_emb_10`), other runs
    /// character by character; equal values fall back to the plain string order.
    public static func numericOrder(_ a: String, _ b: String) -> Bool {
        let x = runs(a)
        let y = runs(b)
        for (u, v) in zip(x, y) where u != v {
            switch (u, v) {
            case (.number(let p), .number(let q)):
                if p.count != q.count { return p.count < q.count }
                return p < q
            case (.number, .text): return true
            case (.text, .number): return false
            case (.text(let p), .text(let q)): return p < q
            }
        }
        return x.count != y.count ? x.count < y.count : a < b
    }

    private enum Run: Equatable {
        case number(String)  // leading zeros removed, so length then text orders by value
        case text(String)
    }

    private static func runs(_ s: String) -> [Run] {
        var out: [Run] = []
        var current = ""
        var digits = false
        func flush() {
            guard !current.isEmpty else { return }
            if digits {
                let trimmed = current.drop(while: { $0 == "0" })
                out.append(.number(trimmed.isEmpty ? "0" : String(trimmed)))
            } else {
                out.append(.text(current))
            }
            current = ""
        }
        for ch in s {
            let isDigit = ch.isASCII && ch.isNumber
            if isDigit != digits { flush() }
            digits = isDigit
            current.append(ch)
        }
        flush()
        return out
    }
}
