import Foundation

/// A check of JSON bytes from a file before Foundation decodes them: strict RFC 8259 syntax,
/// nesting no deeper than `maxDepth`, and no object naming a key twice. Foundation keeps one of two
/// equal keys silently (and Python's `json`, the writer of most manifests, keeps the last), so a
/// duplicate is refused rather than resolved. The scan is iterative and allocates only the keys of
/// the objects currently open, so hostile nesting cannot exhaust the stack.
public enum JSONInput {
    /// The deepest nesting of arrays and objects accepted; every file this tool reads is far shallower.
    public static let maxDepth = 64

    /// Throws `VLSAEError.file(path, …)` naming the problem and its line when `data` is not one well-formed JSON
    /// value (a UTF-8 byte-order mark is allowed), nests deeper than `maxDepth`, or has an object with a repeated key.
    public static func check(_ data: Data, path: String, maxDepth: Int = maxDepth) throws {
        try data.withUnsafeBytes { raw in
            var scanner = Scanner(bytes: raw.bindMemory(to: UInt8.self), maxDepth: maxDepth)
            do { try scanner.run() } catch let problem as Problem {
                let (line, column) = scanner.position(of: problem.offset)
                throw VLSAEError.file(path, "\(problem.message) (line \(line), column \(column))")
            }
        }
    }

    private struct Problem: Error {
        let message: String
        let offset: Int
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        let maxDepth: Int
        var pos = 0

        /// One open container: an object's keys so far (nil for an array).
        struct Frame {
            var keys: Set<String>?
        }

        init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        func position(of offset: Int) -> (Int, Int) {
            var line = 1
            var lineStart = 0
            for i in 0..<min(offset, bytes.count) where bytes[i] == 0x0A {
                line += 1
                lineStart = i + 1
            }
            return (line, offset - lineStart + 1)
        }

        func invalid(_ what: String, at offset: Int? = nil) -> Problem {
            Problem(message: "not valid JSON: \(what)", offset: offset ?? pos)
        }

        mutating func skipSpace() {
            while pos < bytes.count {
                switch bytes[pos] {
                case 0x20, 0x09, 0x0A, 0x0D: pos += 1
                default: return
                }
            }
        }

        mutating func run() throws {
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { pos = 3 }
            var frames: [Frame] = []
            // Each turn reads one value (opening a container counts as reading it), then closes what ends.
            while true {
                skipSpace()
                guard pos < bytes.count else { throw invalid("unexpected end of the text") }
                let c = bytes[pos]
                if c == 0x7B || c == 0x5B {  // { [
                    guard frames.count < maxDepth else {
                        throw Problem(message: "JSON nested deeper than \(maxDepth) levels", offset: pos)
                    }
                    pos += 1
                    frames.append(Frame(keys: c == 0x7B ? [] : nil))
                    skipSpace()
                    if pos < bytes.count, bytes[pos] == (c == 0x7B ? 0x7D : 0x5D) {
                        pos += 1
                        frames.removeLast()
                    } else if c == 0x7B {
                        try key(&frames[frames.count - 1])
                        continue
                    } else {
                        continue
                    }
                } else {
                    try scalar()
                }
                // After a value: a separator, a closing bracket, or the end of the text.
                while true {
                    skipSpace()
                    guard var top = frames.popLast() else {
                        guard pos == bytes.count else { throw invalid("unexpected text after the value") }
                        return
                    }
                    guard pos < bytes.count else { throw invalid("unexpected end of the text") }
                    let isObject = top.keys != nil
                    if bytes[pos] == 0x2C {  // ,
                        pos += 1
                        if isObject { try key(&top) }
                        frames.append(top)
                        break
                    }
                    guard bytes[pos] == (isObject ? 0x7D : 0x5D) else {
                        throw invalid(isObject ? "expected ',' or '}'" : "expected ',' or ']'")
                    }
                    pos += 1
                }
            }
        }

        /// An object member's key and its colon; a repeated key is refused.
        mutating func key(_ frame: inout Frame) throws {
            skipSpace()
            guard pos < bytes.count, bytes[pos] == 0x22 else { throw invalid("expected a string key") }
            let at = pos
            let name = try string()
            guard frame.keys!.insert(name).inserted else {
                let shown = name.unicodeScalars.count > 60 ? String(name.unicodeScalars.prefix(60)) + "…" : name
                throw Problem(
                    message: "duplicate key \"\(shown)\": a JSON object must name each key once", offset: at)
            }
            skipSpace()
            guard pos < bytes.count, bytes[pos] == 0x3A else { throw invalid("expected ':' after a key") }
            pos += 1
        }

        mutating func scalar() throws {
            let c = bytes[pos]
            switch c {
            case 0x22: _ = try string()
            case 0x74: try literal("true")
            case 0x66: try literal("false")
            case 0x6E: try literal("null")
            case 0x2D, 0x30...0x39: try number()
            default: throw invalid("unexpected character")
            }
        }

        mutating func literal(_ word: String) throws {
            for b in word.utf8 {
                guard pos < bytes.count, bytes[pos] == b else { throw invalid("expected \(word)") }
                pos += 1
            }
        }

        mutating func digits() -> Int {
            let start = pos
            while pos < bytes.count, (0x30...0x39).contains(bytes[pos]) { pos += 1 }
            return pos - start
        }

        mutating func number() throws {
            let start = pos
            if bytes[pos] == 0x2D { pos += 1 }
            let intStart = pos
            let n = digits()
            guard n > 0 else { throw invalid("a number needs digits", at: start) }
            if n > 1, bytes[intStart] == 0x30 { throw invalid("a number has a leading zero", at: start) }
            if pos < bytes.count, bytes[pos] == 0x2E {
                pos += 1
                guard digits() > 0 else { throw invalid("a number needs digits after '.'", at: start) }
            }
            if pos < bytes.count, bytes[pos] == 0x65 || bytes[pos] == 0x45 {
                pos += 1
                if pos < bytes.count, bytes[pos] == 0x2B || bytes[pos] == 0x2D { pos += 1 }
                guard digits() > 0 else { throw invalid("a number needs digits in its exponent", at: start) }
            }
        }

        /// A string's value (escapes resolved, so that two spellings of one key compare equal).
        mutating func string() throws -> String {
            let start = pos
            pos += 1
            var scalars = String.UnicodeScalarView()
            var runStart = pos
            func flush(_ end: Int) throws {
                guard end > runStart else { return }
                guard let s = String(bytes: UnsafeBufferPointer(rebasing: bytes[runStart..<end]), encoding: .utf8)
                else {
                    throw invalid("a string is not valid UTF-8", at: start)
                }
                scalars.append(contentsOf: s.unicodeScalars)
            }
            while true {
                guard pos < bytes.count else { throw invalid("unterminated string", at: start) }
                let c = bytes[pos]
                if c == 0x22 {
                    try flush(pos)
                    pos += 1
                    return String(scalars)
                }
                if c < 0x20 { throw invalid("a control character inside a string") }
                if c != 0x5C {
                    pos += 1
                    continue
                }
                try flush(pos)
                pos += 1
                guard pos < bytes.count else { throw invalid("unterminated string", at: start) }
                let e = bytes[pos]
                pos += 1
                switch e {
                case 0x22: scalars.append("\"")
                case 0x5C: scalars.append("\\")
                case 0x2F: scalars.append("/")
                case 0x62: scalars.append("\u{08}")
                case 0x66: scalars.append("\u{0C}")
                case 0x6E: scalars.append("\n")
                case 0x72: scalars.append("\r")
                case 0x74: scalars.append("\t")
                case 0x75:
                    var u = try hex4()
                    if (0xD800..<0xDC00).contains(u), pos + 1 < bytes.count, bytes[pos] == 0x5C, bytes[pos + 1] == 0x75
                    {
                        let save = pos
                        pos += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            pos = save
                        }
                    }
                    // A lone surrogate cannot be a key's character; it is kept apart as U+FFFD.
                    scalars.append(Unicode.Scalar(u) ?? "\u{FFFD}")
                default: throw invalid("unknown escape in a string", at: pos - 2)
                }
                runStart = pos
            }
        }

        mutating func hex4() throws -> UInt32 {
            guard pos + 4 <= bytes.count else { throw invalid("a \\u escape needs four hex digits") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[pos]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x41...0x46: d = c - 0x41 + 10
                case 0x61...0x66: d = c - 0x61 + 10
                default: throw invalid("a \\u escape needs four hex digits")
                }
                v = v << 4 | UInt32(d)
                pos += 1
            }
            return v
        }
    }
}
