import Foundation
import VLSAECore
import VLSAESynth

/// A deliberately independent little `.npy` reader for the tests (C order, little-endian
/// <f2/<f4/<i8), so the suite's files are checked by code other than the writer.
enum NpyTestReader {
    struct Array {
        var descr: String
        var shape: [Int]
        var floats: [Float]
        var ints: [Int64]
    }

    /// binary16 → Float by the textbook formula (independent of HalfFloat.float(fromHalf:)).
    static func half(_ h: UInt16) -> Float {
        let sign: Double = h >> 15 == 1 ? -1 : 1
        let e = Int(h >> 10 & 0x1F)
        let m = Double(h & 0x3FF)
        if e == 0x1F { return m == 0 ? Float(sign * .infinity) : .nan }
        if e == 0 { return Float(sign * m * pow(2, -24)) }
        return Float(sign * (1 + m / 1024) * pow(2, Double(e - 15)))
    }

    static func read(_ path: String) throws -> Array {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, String(bytes: bytes[1..<6], encoding: .ascii) == "NUMPY" else {
            throw VLSAEError.file(path, "not an npy file")
        }
        let hlen = Int(bytes[8]) | Int(bytes[9]) << 8
        let header = String(bytes: bytes[10..<(10 + hlen)], encoding: .ascii) ?? ""
        func field(_ key: String, _ close: Character) -> String {
            guard let r = header.range(of: "'\(key)': ") else { return "" }
            let rest = header[r.upperBound...]
            let end = rest.firstIndex(of: close) ?? rest.endIndex
            return String(rest[..<end])
        }
        let descr = field("descr", ",").replacingOccurrences(of: "'", with: "")
        let shapeText = field("shape", ")").replacingOccurrences(of: "(", with: "")
        let shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let count = shape.reduce(1, *)
        let body = Swift.Array(bytes[(10 + hlen)...])
        var out = Array(descr: descr, shape: shape, floats: [], ints: [])
        func le(_ i: Int, _ width: Int) -> UInt64 {
            var v: UInt64 = 0
            for b in 0..<width { v |= UInt64(body[i * width + b]) << (8 * UInt64(b)) }
            return v
        }
        switch descr {
        case "<f2":
            guard body.count == 2 * count else { throw VLSAEError.file(path, "size") }
            out.floats = (0..<count).map { half(UInt16(le($0, 2))) }
        case "<f4":
            guard body.count == 4 * count else { throw VLSAEError.file(path, "size") }
            out.floats = (0..<count).map { Float(bitPattern: UInt32(le($0, 4))) }
        case "<i8":
            guard body.count == 8 * count else { throw VLSAEError.file(path, "size") }
            out.ints = (0..<count).map { Int64(bitPattern: le($0, 8)) }
        default:
            throw VLSAEError.file(path, "unsupported dtype \(descr)")
        }
        return out
    }
}
