import VLSAECore

/// Element types the readers understand. Computation is float32; narrower floats convert
/// exactly, wider ones round once.
public enum DType: String, Sendable, CaseIterable {
    case float16, bfloat16, float32, float64, int32, int64, uint8, bool

    /// Bytes per element in a file.
    public var byteSize: Int {
        switch self {
        case .float16, .bfloat16: return 2
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        case .uint8, .bool: return 1
        }
    }

    /// True for float16, bfloat16, float32 and float64.
    public var isFloatingPoint: Bool { [.float16, .bfloat16, .float32, .float64].contains(self) }
}

/// An n-dimensional array read from a file. Floating-point data is held as float32,
/// integer data as Int64 so that labels are never rounded.
public struct Tensor: Sendable, Equatable {
    /// Values in memory: floating-point dtypes as float32, integer and boolean dtypes as Int64.
    public enum Storage: Sendable, Equatable {
        /// Float32 values, row-major (C order).
        case float([Float])
        /// Int64 values, row-major (C order).
        case integer([Int64])
    }

    /// Dimensions, outermost first; empty for a scalar (one element).
    public let shape: [Int]
    /// The element type in the file it came from.
    public let dtype: DType
    /// The values, `count` of them in row-major (C) order.
    public let storage: Storage

    /// A tensor as given; the storage count is not checked against `shape`.
    public init(shape: [Int], dtype: DType, storage: Storage) {
        self.shape = shape
        self.dtype = dtype
        self.storage = storage
    }

    /// A float32 tensor of `shape`; `floats` must hold exactly the product of `shape` values.
    public init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count)
        self.init(shape: shape, dtype: .float32, storage: .float(floats))
    }

    /// Number of elements: the product of `shape` (1 for a scalar).
    public var count: Int { shape.reduce(1, *) }
    /// The shape as numpy prints it, e.g. `(3, 512)`.
    public var shapeDescription: String { "(" + shape.map(String.init).joined(separator: ", ") + ")" }

    /// Values as float32 (integers convert).
    public var floats: [Float] {
        switch storage {
        case .float(let f): return f
        case .integer(let i): return i.map { Float($0) }
        }
    }

    /// The sub-tensor at `index` along the first axis.
    public func slice(_ index: Int) throws -> Tensor {
        guard let first = shape.first else {
            throw VLSAEError.usage("cannot index a 0-dimensional array with [\(index)]")
        }
        guard index >= 0 && index < first else {
            throw VLSAEError.usage("index [\(index)] is out of range for first axis of length \(first)")
        }
        let inner = Array(shape.dropFirst())
        let n = inner.reduce(1, *)
        let range = (index * n)..<((index + 1) * n)
        switch storage {
        case .float(let f): return Tensor(shape: inner, dtype: dtype, storage: .float(Array(f[range])))
        case .integer(let i): return Tensor(shape: inner, dtype: dtype, storage: .integer(Array(i[range])))
        }
    }

    /// A 2-D float view as a matrix (a 1-D array becomes one row).
    public func matrix(name: String) throws -> Matrix {
        guard dtype.isFloatingPoint else {
            throw VLSAEError.mismatch("\(name): expected floating-point embeddings, found \(dtype.rawValue)")
        }
        switch shape.count {
        case 2: return Matrix(rows: shape[0], cols: shape[1], values: floats)
        case 1: return Matrix(rows: 1, cols: shape[0], values: floats)
        default:
            throw VLSAEError.mismatch("\(name): expected a 2-D array (rows × dim), found shape \(shapeDescription)")
        }
    }

    /// A 1-D integer view (labels). Floating-point values are accepted only when integral.
    public func integers(name: String) throws -> [Int] {
        guard shape.count == 1 else {
            throw VLSAEError.mismatch("\(name): expected a 1-D array of integers, found shape \(shapeDescription)")
        }
        switch storage {
        case .integer(let i): return i.map { Int($0) }
        case .float(let f):
            var out: [Int] = []
            out.reserveCapacity(f.count)
            for (idx, v) in f.enumerated() {
                guard v.isFinite, v == v.rounded(), abs(v) < 16_777_216 else {
                    throw VLSAEError.mismatch("\(name): element \(idx) (\(v)) is not an integer")
                }
                out.append(Int(v))
            }
            return out
        }
    }
}

/// Exact half-precision conversions.
public enum HalfFloat {
    /// The float32 value of IEEE 754 binary16 bits `h`, exactly (subnormals, infinities and NaN included).
    public static func float(fromHalf h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exp = Int((h >> 10) & 0x1F)
        let mant = UInt32(h & 0x3FF)
        if exp == 0 {
            if mant == 0 { return Float(bitPattern: sign) }
            // Subnormal: value = mant · 2^-24, exactly representable in float32.
            let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -v : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
    }

    /// The float32 value of bfloat16 bits `b`, exactly (the upper half of a float32).
    public static func float(fromBFloat16 b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// IEEE 754 binary16 bits of `f`, rounded to nearest with ties to even (as numpy's
    /// `astype(float16)`); overflow gives ±infinity, NaN stays NaN.
    public static func bits(fromFloat f: Float) -> UInt16 {
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

    /// `values` rounded through float16: what a reader of a `<f2` file gets back.
    public static func roundedThroughHalf(_ values: [Float]) -> [Float] {
        values.map { float(fromHalf: bits(fromFloat: $0)) }
    }
}
