import Foundation
import VLSAECore

/// A file of strings, one per input row: image paths for `vlsae concepts --image-paths`, captions
/// for `--captions`. Two forms:
///
/// - a `.json` file holding one JSON array of strings;
/// - any other file: UTF-8 text, one string per line (`\n` or `\r\n`); a final newline ends the
///   last line rather than starting an empty one.
public enum StringListFile {
    /// Largest file accepted (a list of a million long captions is far smaller).
    public static let maxBytes = 512 * 1024 * 1024

    /// A list of file paths (`--image-paths`): the entries as listed, the files they name (a relative
    /// entry is relative to the list's folder) and the list's digest under `role`.
    public static func loadPaths(path: String, role: String) throws -> (
        listed: [String], files: [String], digest: FileDigest
    ) {
        let (strings, digest) = try load(path: path, role: role)
        let folder = (path as NSString).deletingLastPathComponent
        let files = strings.map {
            $0.hasPrefix("/") || folder.isEmpty ? $0 : (folder as NSString).appendingPathComponent($0)
        }
        return (strings, files, digest)
    }

    /// The strings of the file at `path` with the file's digest under `role`; errors name the file.
    public static func load(path: String, role: String) throws -> (strings: [String], digest: FileDigest) {
        let data = try readFile(path)
        guard data.count <= maxBytes else {
            throw VLSAEError.file(path, "\(data.count) bytes is more than the \(maxBytes) a string list may hold")
        }
        let digest = FileDigest(of: data, path: path, role: role)
        if path.lowercased().hasSuffix(".json") {
            let value: Any
            do { value = try JSONSerialization.jsonObject(with: data) } catch {
                throw VLSAEError.file(path, "not valid JSON: \(error.localizedDescription)")
            }
            guard let list = value as? [Any] else { throw VLSAEError.file(path, "expected a JSON array of strings") }
            let strings = try list.enumerated().map { (i, item) -> String in
                guard let s = item as? String else {
                    throw VLSAEError.file(path, "item \(i) is not a string")
                }
                return s
            }
            return (strings, digest)
        }
        guard String(data: data, encoding: .utf8) != nil else { throw VLSAEError.file(path, "not UTF-8 text") }
        // Split on the byte 0x0A: a "\r\n" pair is one Character in Swift, so splitting a String on
        // "\n" would miss it.
        var lines = [UInt8](data).split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == 0x0D ? line.dropLast() : line, as: UTF8.self)
        }
        if lines.last == "" { lines.removeLast() }
        return (lines, digest)
    }
}
