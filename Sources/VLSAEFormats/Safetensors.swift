import Foundation
import VLSAECore

/// Hugging Face safetensors: an 8-byte little-endian header length, a JSON header mapping
/// names to {dtype, shape, data_offsets} (offsets relative to the data section that follows),
/// and an optional "__metadata__" object of strings.
public enum SafetensorsFormat {
    static let dtypes: [String: DType] = [
        "F16": .float16, "BF16": .bfloat16, "F32": .float32, "F64": .float64,
        "I32": .int32, "I64": .int64, "U8": .uint8, "BOOL": .bool,
    ]
    /// The reference implementation refuses headers over 100 MB; so do we, before allocating.
    static let maxHeaderLength = 100_000_000

    private struct Entry: Decodable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }

    /// Decodes the header object entry by entry so a bad entry is reported by name.
    private struct Header: Decodable {
        var entries: [(String, Entry)] = []
        var metadata: [String: String] = [:]
        var problem: String? = nil

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: AnyCodingKey.self)
            for key in c.allKeys {
                if key.stringValue == "__metadata__" {
                    do { metadata = try c.decode([String: String].self, forKey: key) } catch {
                        problem = "\"__metadata__\" must be an object of string values"
                        return
                    }
                    continue
                }
                do { entries.append((key.stringValue, try c.decode(Entry.self, forKey: key))) } catch {
                    problem =
                        "entry \"\(key.stringValue)\" must be {\"dtype\": string, \"shape\": [non-negative ints], \"data_offsets\": [begin, end]}"
                    return
                }
            }
        }
    }

    /// Parses safetensors bytes read from `path` (which names the file in errors): the tensors in the order of their
    /// data offsets, converted to float32 or Int64 storage, and the `__metadata__` strings (empty when absent).
    /// Throws `VLSAEError.file` for a truncated file, a bad header, an unknown dtype, a shape that does not match its
    /// byte span, or overlapping or out-of-range data offsets.
    public static func read(_ data: Data, path: String) throws -> (tensors: [NamedTensor], metadata: [String: String]) {
        let data = data.startIndex == 0 ? data : Data(data)
        guard data.count >= 8 else {
            throw VLSAEError.file(
                path, "truncated: \(data.count) bytes is shorter than the 8-byte safetensors header length")
        }
        let n64 = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n64 <= UInt64(data.count - 8) else {
            throw VLSAEError.file(
                path,
                "truncated or not safetensors: header length \(n64) runs past the end of the \(data.count)-byte file")
        }
        let n = Int(n64)
        guard n <= maxHeaderLength else {
            throw VLSAEError.file(path, "safetensors header of \(n) bytes exceeds the \(maxHeaderLength)-byte limit")
        }
        let headerData = data.subdata(in: 8..<(8 + n))
        guard headerData.first == UInt8(ascii: "{") else {
            throw VLSAEError.file(path, "safetensors header is not a JSON object (it must start with '{')")
        }
        do { try JSONInput.check(headerData, path: path) } catch let VLSAEError.file(_, problem) {
            throw VLSAEError.file(path, "safetensors header: \(problem)")
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: headerData)
        } catch {
            throw VLSAEError.file(path, "safetensors header is not valid JSON: \(jsonReason(error))")
        }
        if let problem = header.problem { throw VLSAEError.file(path, "safetensors header: \(problem)") }

        let dataStart = 8 + n
        let dataSize = data.count - dataStart
        struct Placed {
            let name: String
            let dtype: DType
            let shape: [Int]
            let begin: Int
            let end: Int
        }
        var placed: [Placed] = []
        for (name, e) in header.entries {
            guard let dtype = dtypes[e.dtype] else {
                throw VLSAEError.file(
                    path,
                    "tensor \"\(name)\" has unsupported dtype \(e.dtype); supported: F16 BF16 F32 F64 I32 I64 U8 BOOL")
            }
            guard e.data_offsets.count == 2 else {
                throw VLSAEError.file(
                    path, "tensor \"\(name)\": data_offsets must be [begin, end], found \(e.data_offsets)")
            }
            let begin = e.data_offsets[0]
            let end = e.data_offsets[1]
            guard begin >= 0, begin <= end else {
                throw VLSAEError.file(
                    path, "tensor \"\(name)\": data_offsets [\(begin), \(end)] are not ordered (begin must be ≤ end)")
            }
            guard end <= dataSize else {
                throw VLSAEError.file(
                    path,
                    "tensor \"\(name)\": data_offsets [\(begin), \(end)] run past the end of the \(dataSize)-byte data section (file truncated?)"
                )
            }
            var count = 1
            for d in e.shape {
                let (p, o) = count.multipliedReportingOverflow(by: d)
                guard d >= 0, !o else {
                    throw VLSAEError.file(path, "tensor \"\(name)\": invalid shape \(e.shape)")
                }
                count = p
            }
            let (bytes, o) = count.multipliedReportingOverflow(by: dtype.byteSize)
            guard !o, bytes == end - begin else {
                throw VLSAEError.file(
                    path,
                    "tensor \"\(name)\": shape \(e.shape) of \(e.dtype) needs \(o ? "too many" : String(bytes)) bytes but data_offsets [\(begin), \(end)] span \(end - begin)"
                )
            }
            placed.append(Placed(name: name, dtype: dtype, shape: e.shape, begin: begin, end: end))
        }
        placed.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for (a, b) in zip(placed, placed.dropFirst()) where b.begin < a.end {
            throw VLSAEError.file(
                path, "tensors \"\(a.name)\" [\(a.begin), \(a.end)) and \"\(b.name)\" [\(b.begin), \(b.end)) overlap")
        }
        let tensors = data.withUnsafeBytes { raw in
            placed.map { p in
                let slice = UnsafeRawBufferPointer(rebasing: raw[(dataStart + p.begin)..<(dataStart + p.end)])
                let count = p.shape.reduce(1, *)
                return NamedTensor(
                    name: p.name,
                    tensor: Tensor(
                        shape: p.shape, dtype: p.dtype, storage: RawElements.decode(slice, dtype: p.dtype, count: count)
                    ))
            }
        }
        return (tensors, header.metadata)
    }

    /// Deterministic file bytes: names sorted, data laid out in that order, float storage as F32
    /// and integer storage as I64, header padded with spaces to a multiple of 8 bytes.
    public static func encode(_ tensors: [NamedTensor], metadata: [String: String] = [:]) throws -> Data {
        var seen = Set<String>()
        for t in tensors {
            guard t.name != "__metadata__", !t.name.isEmpty else {
                throw VLSAEError.usage("safetensors tensor name \"\(t.name)\" is not allowed")
            }
            guard seen.insert(t.name).inserted else {
                throw VLSAEError.usage("safetensors: two tensors named \"\(t.name)\"")
            }
        }
        let sorted = tensors.sorted { $0.name < $1.name }
        var fields: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            fields.append("\"__metadata__\":{" + items.joined(separator: ",") + "}")
        }
        var offset = 0
        for t in sorted {
            let (dtype, size): (String, Int)
            switch t.tensor.storage {
            case .float(let f): (dtype, size) = ("F32", f.count * 4)
            case .integer(let i): (dtype, size) = ("I64", i.count * 8)
            }
            let shape = t.tensor.shape.map(String.init).joined(separator: ",")
            fields.append(
                "\(jsonString(t.name)):{\"dtype\":\"\(dtype)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + size)]}"
            )
            offset += size
        }
        var header = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        header += [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8)
        var out = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for t in sorted {
            switch t.tensor.storage {
            case .float(let f):
                #if _endian(little)
                f.withUnsafeBytes { out.append(contentsOf: $0) }
                #else
                for v in f { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
                #endif
            case .integer(let i):
                #if _endian(little)
                i.withUnsafeBytes { out.append(contentsOf: $0) }
                #else
                for v in i { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
                #endif
            }
        }
        return out
    }

    /// Writes `encode(_:metadata:)`'s bytes atomically to `path`; a refused tensor name becomes a `VLSAEError.file`
    /// naming `path`.
    public static func write(_ tensors: [NamedTensor], metadata: [String: String] = [:], to path: String) throws {
        let data: Data
        do { data = try encode(tensors, metadata: metadata) } catch let VLSAEError.usage(msg) {
            throw VLSAEError.file(path, msg)
        }
        try AtomicFile.write(data, to: path)
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    private static func jsonReason(_ error: Error) -> String {
        if case DecodingError.dataCorrupted(let ctx) = error {
            return ctx.underlyingError.map { "\($0.localizedDescription)" } ?? ctx.debugDescription
        }
        if case DecodingError.typeMismatch(_, let ctx) = error { return ctx.debugDescription }
        return "\(error)"
    }
}
