import CKernels
import Foundation
import VLSAECore

/// NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), little-endian C-order arrays of the
/// element types in `DType`. Everything else numpy can write is refused by name rather than
/// misread.
public enum NpyFormat {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    /// descr strings we accept; numpy writes '|u1' and '|b1', '<u1' is what hand-written headers use.
    static let dtypes: [String: DType] = [
        "<f2": .float16, "<f4": .float32, "<f8": .float64, "<i4": .int32, "<i8": .int64,
        "|u1": .uint8, "<u1": .uint8, "|b1": .bool,
    ]

    /// Parses the bytes of an `.npy` file read from `path` (which names it in errors). Throws `VLSAEError.file` for a
    /// bad magic or header, an unsupported dtype, big-endian data, or data shorter or longer than the shape needs.
    /// Fortran-order (column-major) data, what `np.save(x.T)` writes, is reordered to row-major on read.
    public static func read(_ data: Data, path: String) throws -> Tensor {
        let (dtype, shape, dataStart, fortran) = try parseHeader(data, path: path)
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw VLSAEError.file(path, "shape \(shapeString(shape)) is too large") }
            count = p
        }
        let (expected, o) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !o else { throw VLSAEError.file(path, "shape \(shapeString(shape)) is too large") }
        let found = data.count - dataStart
        if found < expected {
            throw VLSAEError.file(
                path,
                "truncated: expected \(expected) bytes of data for shape \(shapeString(shape)) \(descrName(dtype)), found \(found)"
            )
        }
        if found > expected {
            throw VLSAEError.file(
                path,
                "\(found - expected) unexpected bytes after the data: expected \(expected) bytes for shape \(shapeString(shape)) \(descrName(dtype)), found \(found)"
            )
        }
        let storage = data.withUnsafeBytes { raw in
            RawElements.decode(UnsafeRawBufferPointer(rebasing: raw[dataStart...]), dtype: dtype, count: count)
        }
        let tensor = Tensor(shape: shape, dtype: dtype, storage: storage)
        return fortran ? tensor.fromColumnMajor() : tensor
    }

    /// The bytes of a v1.0 `.npy` file: '<f4' (or '<f2' when `halfPrecision`, rounded to
    /// nearest even) for float storage, '<i8' for integer storage, header laid out exactly as
    /// numpy lays it out.
    public static func encode(_ tensor: Tensor, halfPrecision: Bool = false) -> Data {
        let descr: String
        switch tensor.storage {
        case .float: descr = halfPrecision ? "<f2" : "<f4"
        case .integer: descr = "<i8"
        }
        let shapeText = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : shapeString(tensor.shape)
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // numpy pads with spaces so that the data starts on a 64-byte boundary; the header
        // always ends in '\n' and at least one space of padding is always added.
        let hlen = header.utf8.count + 1
        header += String(repeating: " ", count: 64 - (10 + hlen) % 64) + "\n"
        var out = Data(magic)
        out.append(contentsOf: [1, 0])
        let n = UInt16(header.utf8.count)
        out.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)])
        out.append(contentsOf: Array(header.utf8))
        switch tensor.storage {
        case .float(let f) where halfPrecision:
            f.map { HalfFloat.bits(fromFloat: $0) }.withUnsafeBufferPointer { appendLittleEndian($0, to: &out) }
        case .float(let f): f.withUnsafeBufferPointer { appendLittleEndian($0, to: &out) }
        case .integer(let i): i.withUnsafeBufferPointer { appendLittleEndian($0, to: &out) }
        }
        return out
    }

    /// Writes `encode(_:halfPrecision:)`'s bytes atomically to `path`.
    public static func write(_ tensor: Tensor, to path: String, halfPrecision: Bool = false) throws {
        try AtomicFile.write(encode(tensor, halfPrecision: halfPrecision), to: path)
    }

    // MARK: - Header

    static func parseHeader(_ data: Data, path: String) throws -> (DType, [Int], Int, fortran: Bool) {
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 6, Array(bytes[0..<6]) == magic else {
            throw VLSAEError.file(path, "not a .npy file (missing the \\x93NUMPY magic)")
        }
        guard bytes.count >= 10 else { throw VLSAEError.file(path, "truncated: the .npy preamble is incomplete") }
        let major = bytes[6]
        let minor = bytes[7]
        let lengthBytes: Int
        switch (major, minor) {
        case (1, 0): lengthBytes = 2
        case (2, 0), (3, 0): lengthBytes = 4
        default:
            throw VLSAEError.file(path, "unsupported .npy format version \(major).\(minor) (supported: 1.0, 2.0, 3.0)")
        }
        guard bytes.count >= 8 + lengthBytes else {
            throw VLSAEError.file(path, "truncated: the .npy preamble is incomplete")
        }
        var headerLength = 0
        for i in 0..<lengthBytes { headerLength |= Int(bytes[8 + i]) << (8 * i) }
        let headerStart = 8 + lengthBytes
        guard headerLength <= data.count - headerStart else {
            throw VLSAEError.file(
                path, "truncated: header length \(headerLength) runs past the end of the \(data.count)-byte file")
        }
        let headerBytes = [UInt8](
            data[(data.startIndex + headerStart)..<(data.startIndex + headerStart + headerLength)])
        // Versions 1 and 2 are Latin-1, version 3 is UTF-8; only ASCII matters for what we accept.
        var parser = NpyHeaderParser(bytes: headerBytes, utf8: major == 3, path: path)
        let value = try parser.parseTopLevel()
        guard case .dict(let items) = value else {
            throw VLSAEError.file(path, "the .npy header is not a Python dict")
        }
        func field(_ key: String) throws -> NpyHeaderValue {
            guard let v = items.last(where: { $0.0 == key })?.1 else {
                throw VLSAEError.file(path, "the .npy header has no '\(key)' entry")
            }
            return v
        }
        let descrValue = try field("descr")
        guard case .string(let descr) = descrValue else {
            throw VLSAEError.file(
                path, "unsupported dtype \(descrValue.repr): structured (record) dtypes are not supported")
        }
        guard let dtype = dtypes[descr] else {
            throw VLSAEError.file(
                path,
                "unsupported dtype '\(descr)'\(dtypeHint(descr)); supported: '<f2' '<f4' '<f8' '<i4' '<i8' '|u1' '|b1'")
        }
        guard case .bool(let fortran) = try field("fortran_order") else {
            throw VLSAEError.file(path, "the .npy header's 'fortran_order' is not True or False")
        }
        guard case .tuple(let dims) = try field("shape") else {
            throw VLSAEError.file(path, "the .npy header's 'shape' is not a tuple")
        }
        var shape: [Int] = []
        for d in dims {
            guard case .int(let n) = d, n >= 0 else {
                throw VLSAEError.file(path, "the .npy header's 'shape' has an invalid dimension \(d.repr)")
            }
            shape.append(n)
        }
        return (dtype, shape, headerStart + headerLength, fortran)
    }

    private static func dtypeHint(_ descr: String) -> String {
        if descr == "O" || descr == "|O" { return " (object arrays hold pickled Python objects)" }
        if descr.hasPrefix(">") { return " (big-endian)" }
        if let c = descr.dropFirst().first {
            switch c {
            case "c": return " (complex)"
            case "U", "S", "a": return " (strings)"
            case "M", "m": return " (dates/times)"
            case "V": return " (raw bytes)"
            default: break
            }
        }
        return ""
    }

    static func descrName(_ dtype: DType) -> String { dtype.rawValue }

    static func shapeString(_ shape: [Int]) -> String { "(" + shape.map(String.init).joined(separator: ", ") + ")" }

    private static func appendLittleEndian<T: FixedWidthInteger>(_ values: UnsafeBufferPointer<T>, to out: inout Data) {
        #if _endian(little)
        out.append(
            UnsafeBufferPointer(
                start: UnsafeRawPointer(values.baseAddress)?.assumingMemoryBound(to: UInt8.self),
                count: values.count * MemoryLayout<T>.size))
        #else
        for v in values { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        #endif
    }

    private static func appendLittleEndian(_ values: UnsafeBufferPointer<Float>, to out: inout Data) {
        #if _endian(little)
        out.append(
            UnsafeBufferPointer(
                start: UnsafeRawPointer(values.baseAddress)?.assumingMemoryBound(to: UInt8.self),
                count: values.count * 4))
        #else
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        #endif
    }
}

/// Conversion of little-endian element bytes to tensor storage, shared by every reader.
/// The caller has checked that `raw` holds exactly `count` elements.
enum RawElements {
    /// Below this many elements, splitting across threads costs more than it saves.
    private static let parallelThreshold = 1 << 22

    static func decode(_ raw: UnsafeRawBufferPointer, dtype: DType, count: Int) -> Tensor.Storage {
        // Each case hands `fill` a whole loop rather than a per-element closure, so the loop is
        // specialised and vectorised and the only indirect call is one per chunk.
        switch dtype {
        case .float32:
            return .float(
                fill(count: count) { range, out in
                    #if _endian(little)
                    memcpy(out + range.lowerBound, raw.baseAddress! + range.lowerBound * 4, range.count * 4)
                    #else
                    for i in range {
                        out[i] = Float(
                            bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self))
                        )
                    }
                    #endif
                })
        case .float16:
            // F16C where the CPU has it (Sources/CKernels/convert.c).
            return .float(
                fill(count: count) { range, out in
                    #if _endian(little)
                    vlsae_half_to_float(
                        raw.baseAddress! + range.lowerBound * 2, out + range.lowerBound, Int64(range.count))
                    #else
                    for i in range {
                        out[i] = HalfFloat.float(
                            fromHalf: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)))
                    }
                    #endif
                })
        case .bfloat16:
            return .float(
                fill(count: count) { range, out in
                    for i in range {
                        out[i] = HalfFloat.float(
                            fromBFloat16: UInt16(
                                littleEndian: raw.loadUnaligned(fromByteOffset: i &* 2, as: UInt16.self)))
                    }
                })
        case .float64:
            return .float(
                fill(count: count) { range, out in
                    for i in range {
                        out[i] = Float(
                            Double(
                                bitPattern: UInt64(
                                    littleEndian: raw.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self))))
                    }
                })
        case .int32:
            return .integer(
                fill(count: count) { range, out in
                    for i in range {
                        out[i] = Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i &* 4, as: Int32.self)))
                    }
                })
        case .int64:
            return .integer(
                fill(count: count) { range, out in
                    #if _endian(little)
                    memcpy(out + range.lowerBound, raw.baseAddress! + range.lowerBound * 8, range.count * 8)
                    #else
                    for i in range {
                        out[i] = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i &* 8, as: Int64.self))
                    }
                    #endif
                })
        case .uint8:
            return .integer(
                fill(count: count) { range, out in
                    for i in range { out[i] = Int64(raw[i]) }
                })
        case .bool:
            return .integer(
                fill(count: count) { range, out in
                    for i in range { out[i] = raw[i] != 0 ? 1 : 0 }
                })
        }
    }

    /// A new array of trivial elements filled by `body` over index ranges, in parallel chunks
    /// for large arrays (first-touch page faults on the new array dominate otherwise).
    private static func fill<T>(count: Int, _ body: (Range<Int>, UnsafeMutablePointer<T>) -> Void) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            guard count > 0, let out = buffer.baseAddress else {
                initialized = 0
                return
            }
            if count < parallelThreshold {
                body(0..<count, out)
            } else {
                let chunks = min(64, max(1, ProcessInfo.processInfo.activeProcessorCount * 4))
                let per = (count + chunks - 1) / chunks
                DispatchQueue.concurrentPerform(iterations: chunks) { c in
                    let lo = min(count, c * per)
                    let hi = min(count, lo + per)
                    if lo < hi { body(lo..<hi, out) }
                }
            }
            initialized = count
        }
    }
}

/// The subset of Python literal syntax that `repr()` of an .npy header dict uses:
/// dicts, tuples, lists, strings, ints (with an optional Python 2 `L`), True/False/None.
enum NpyHeaderValue {
    case string(String)
    case int(Int)
    case bool(Bool)
    case none
    case tuple([NpyHeaderValue])
    case list([NpyHeaderValue])
    case dict([(String, NpyHeaderValue)])

    var repr: String {
        switch self {
        case .string(let s): return "'\(s)'"
        case .int(let i): return String(i)
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        case .tuple(let t): return "(" + t.map(\.repr).joined(separator: ", ") + (t.count == 1 ? ",)" : ")")
        case .list(let l): return "[" + l.map(\.repr).joined(separator: ", ") + "]"
        case .dict(let d): return "{" + d.map { "'\($0.0)': \($0.1.repr)" }.joined(separator: ", ") + "}"
        }
    }
}

struct NpyHeaderParser {
    let bytes: [UInt8]
    let utf8: Bool
    let path: String
    var pos = 0
    var depth = 0

    init(bytes: [UInt8], utf8: Bool, path: String) {
        self.bytes = bytes
        self.utf8 = utf8
        self.path = path
    }

    mutating func parseTopLevel() throws -> NpyHeaderValue {
        let v = try parseValue()
        skipSpace()
        guard pos == bytes.count else { throw fail("unexpected text after the header dict") }
        return v
    }

    private func fail(_ what: String) -> VLSAEError {
        let snippet = String(decoding: bytes.prefix(120), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return VLSAEError.file(path, "malformed .npy header (\(what) at byte \(pos)): \(snippet)")
    }

    private mutating func skipSpace() {
        while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
    }

    private mutating func parseValue() throws -> NpyHeaderValue {
        skipSpace()
        guard pos < bytes.count else { throw fail("unexpected end") }
        depth += 1
        defer { depth -= 1 }
        guard depth < 32 else { throw fail("nesting too deep") }
        switch bytes[pos] {
        case UInt8(ascii: "{"):
            pos += 1
            var items: [(String, NpyHeaderValue)] = []
            while true {
                skipSpace()
                guard pos < bytes.count else { throw fail("unterminated dict") }
                if bytes[pos] == UInt8(ascii: "}") {
                    pos += 1
                    return .dict(items)
                }
                guard case .string(let key) = try parseValue() else { throw fail("dict key is not a string") }
                skipSpace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                pos += 1
                items.append((key, try parseValue()))
                try separator(close: UInt8(ascii: "}"))
            }
        case UInt8(ascii: "("), UInt8(ascii: "["):
            let isTuple = bytes[pos] == UInt8(ascii: "(")
            let close = isTuple ? UInt8(ascii: ")") : UInt8(ascii: "]")
            pos += 1
            var items: [NpyHeaderValue] = []
            var sawComma = false
            while true {
                skipSpace()
                guard pos < bytes.count else { throw fail("unterminated \(isTuple ? "tuple" : "list")") }
                if bytes[pos] == close {
                    pos += 1
                    // "(3)" is a parenthesised int in Python, not a tuple.
                    if isTuple && items.count == 1 && !sawComma { return items[0] }
                    return isTuple ? .tuple(items) : .list(items)
                }
                items.append(try parseValue())
                skipSpace()
                if pos < bytes.count, bytes[pos] == UInt8(ascii: ",") { sawComma = true }
                try separator(close: close)
            }
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            let quote = bytes[pos]
            pos += 1
            var out: [UInt8] = []
            while true {
                guard pos < bytes.count else { throw fail("unterminated string") }
                let c = bytes[pos]
                pos += 1
                if c == quote { break }
                if c == UInt8(ascii: "\\") {
                    guard pos < bytes.count else { throw fail("unterminated string") }
                    out.append(bytes[pos])
                    pos += 1
                } else {
                    out.append(c)
                }
            }
            let s = utf8 ? String(decoding: out, as: UTF8.self) : String(out.map { Character(Unicode.Scalar($0)) })
            return .string(s)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            var negative = false
            if bytes[pos] == UInt8(ascii: "-") {
                negative = true
                pos += 1
            }
            var value = 0
            var digits = 0
            while pos < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[pos]) {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int(bytes[pos] - UInt8(ascii: "0")))
                guard !o1 && !o2 else { throw fail("integer too large") }
                value = a
                digits += 1
                pos += 1
            }
            guard digits > 0 else { throw fail("expected digits") }
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "L") || bytes[pos] == UInt8(ascii: "l") { pos += 1 }
            return .int(negative ? -value : value)
        default:
            for (word, v) in [("True", NpyHeaderValue.bool(true)), ("False", .bool(false)), ("None", .none)] {
                let w = Array(word.utf8)
                if pos + w.count <= bytes.count, Array(bytes[pos..<(pos + w.count)]) == w {
                    pos += w.count
                    return v
                }
            }
            throw fail("unexpected character")
        }
    }

    /// After an item: a comma (a trailing one before the closer is allowed) or the closer.
    private mutating func separator(close: UInt8) throws {
        skipSpace()
        guard pos < bytes.count else { throw fail("unexpected end") }
        if bytes[pos] == UInt8(ascii: ",") {
            pos += 1
            return
        }
        guard bytes[pos] == close else { throw fail("expected ',' or '\(Character(Unicode.Scalar(close)))'") }
    }
}
