import Foundation

/// Minimal `.npy` (format 1.0, C order, little-endian) encoder for what the suite writes:
/// float16 or float32 embeddings and int64 labels. VLSAEFormats' writer covers float32/int64;
/// float16 lives here because it halves the suite on disk and the readers accept `<f2`.
public enum SynthNpyWriter {
    public static func float32(_ values: [Float], shape: [Int]) -> Data {
        precondition(shape.reduce(1, *) == values.count, "npy: shape \(shape) does not match \(values.count) values")
        var data = header(descr: "<f4", shape: shape)
        var le = values.map { $0.bitPattern.littleEndian }
        le.withUnsafeMutableBytes { data.append(contentsOf: $0) }
        return data
    }

    public static func float16(_ values: [Float], shape: [Int]) -> Data {
        precondition(shape.reduce(1, *) == values.count, "npy: shape \(shape) does not match \(values.count) values")
        var data = header(descr: "<f2", shape: shape)
        var le = values.map { halfBits($0).littleEndian }
        le.withUnsafeMutableBytes { data.append(contentsOf: $0) }
        return data
    }

    public static func int64(_ values: [Int64], shape: [Int]) -> Data {
        precondition(shape.reduce(1, *) == values.count, "npy: shape \(shape) does not match \(values.count) values")
        var data = header(descr: "<i8", shape: shape)
        var le = values.map { $0.littleEndian }
        le.withUnsafeMutableBytes { data.append(contentsOf: $0) }
        return data
    }

    /// Magic, version 1.0, header length, then the dict padded with spaces and a newline so the
    /// data starts on a 64-byte boundary (as numpy writes it).
    static func header(descr: String, shape: [Int]) -> Data {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let len = UInt16(dict.utf8.count)
        data.append(contentsOf: [UInt8(len & 0xFF), UInt8(len >> 8)])
        data.append(contentsOf: Array(dict.utf8))
        return data
    }

    /// IEEE 754 binary16 bits of `f`, rounded to nearest with ties to even (as numpy's
    /// astype(float16)); overflow gives ±infinity, NaN stays NaN.
    public static func halfBits(_ f: Float) -> UInt16 {
        let x = f.bitPattern
        let sign = UInt16((x >> 16) & 0x8000)
        let exponent = Int((x >> 23) & 0xFF)
        var mantissa = x & 0x7F_FFFF
        if exponent == 0xFF { return sign | 0x7C00 | (mantissa != 0 ? 0x200 : 0) }
        let e = exponent - 127 + 15
        if e >= 0x1F { return sign | 0x7C00 }
        if e <= 0 {
            if e < -10 { return sign }
            mantissa |= 0x80_0000
            let shift = UInt32(14 - e)
            let kept = mantissa >> shift
            let rest = mantissa & ((UInt32(1) << shift) - 1)
            let midpoint = UInt32(1) << (shift - 1)
            var r = kept
            if rest > midpoint || (rest == midpoint && (kept & 1) == 1) { r += 1 }
            return sign | UInt16(r)
        }
        var h = UInt32(e) << 10 | (mantissa >> 13)
        let rest = mantissa & 0x1FFF
        // A carry out of the mantissa correctly bumps the exponent (up to infinity).
        if rest > 0x1000 || (rest == 0x1000 && (h & 1) == 1) { h += 1 }
        return sign | UInt16(h)
    }
}

extension SynthNpyWriter {
    /// The float32 value of binary16 bits (exact).
    public static func floatFromHalf(_ h: UInt16) -> Float {
        let sign: Float = (h & 0x8000) != 0 ? -1 : 1
        let e = Int((h >> 10) & 0x1F), m = Float(h & 0x3FF)
        if e == 0 { return sign * m * 0x1p-24 }
        if e == 0x1F { return m == 0 ? sign * .infinity : .nan }
        return sign * (1 + m / 1024) * Float(sign: .plus, exponent: e - 15, significand: 1)
    }

    /// `values` rounded through float16, i.e. what a reader of the `<f2` file gets back.
    public static func roundedThroughHalf(_ values: [Float]) -> [Float] {
        values.map { floatFromHalf(halfBits($0)) }
    }
}
