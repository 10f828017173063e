import Foundation
import VLSAECore

/// Sparse hidden activations: for each row at most `k` (unit index, value) pairs, stored in
/// fixed slots `row·k ..< row·k + counts[row]` with indices ascending. Slots past `counts[row]`
/// hold index 0 and value 0, so code that forgets `counts` adds nothing rather than garbage.
///
/// A row can hold fewer than k pairs: the upstream top-k keeps only entries strictly above the
/// threshold, so units tied with the (h−k)-th smallest value are all dropped.
public struct SparseCodes: Equatable, Sendable {
    /// Number of encoded rows.
    public let rows: Int
    /// The hidden size h (number of units).
    public let hidden: Int
    /// Slots per row: the k the rows were encoded with (a row may fill fewer, see `counts`).
    public let k: Int
    /// Unit indices in [0, hidden), `rows × k` slots, ascending within each row's filled slots.
    public var indices: [Int32]
    /// Activation values, aligned with `indices`; 0 in unfilled slots.
    public var values: [Float]
    /// Filled slots per row, each in [0, k].
    public var counts: [Int32]

    /// Codes for `rows` rows with every slot empty (index 0, value 0, count 0).
    public init(rows: Int, hidden: Int, k: Int) {
        self.rows = rows
        self.hidden = hidden
        self.k = k
        indices = [Int32](repeating: 0, count: rows * k)
        values = [Float](repeating: 0, count: rows * k)
        counts = [Int32](repeating: 0, count: rows)
    }

    /// The active units of `row`, ascending.
    public func activeUnits(_ row: Int) -> ArraySlice<Int32> {
        indices[(row * k)..<(row * k + Int(counts[row]))]
    }

    /// The values of the active units of `row`, aligned with `activeUnits(row)`.
    public func activeValues(_ row: Int) -> ArraySlice<Float> {
        values[(row * k)..<(row * k + Int(counts[row]))]
    }

    /// Mean number of active units per row (L0).
    public var meanActive: Double {
        rows == 0 ? 0 : Double(counts.reduce(0) { $0 + Int($1) }) / Double(rows)
    }

    /// rows × hidden matrix with zeros for inactive units.
    public func dense() -> Matrix {
        var out = Matrix(rows: rows, cols: hidden)
        for r in 0..<rows {
            for t in 0..<Int(counts[r]) {
                out.values[r * hidden + Int(indices[r * k + t])] = values[r * k + t]
            }
        }
        return out
    }

    /// The rows `range` as new codes.
    public func rows(_ range: Range<Int>) -> SparseCodes {
        var out = SparseCodes(rows: range.count, hidden: hidden, k: k)
        out.indices = Array(indices[(range.lowerBound * k)..<(range.upperBound * k)])
        out.values = Array(values[(range.lowerBound * k)..<(range.upperBound * k)])
        out.counts = Array(counts[range])
        return out
    }
}

/// The upstream sparsifier (`sparsify` in sae_model.py): threshold = kthvalue(|a|, h − k), i.e.
/// the (h−k)-th smallest absolute value; keep entries whose |a| is strictly above it.
/// The threshold is found by quickselect on a scratch copy (O(h)), not by sorting.
public enum TopK {
    /// Writes every entry of one row (k ≥ h), indices 0..<h; returns h.
    @inline(__always)
    static func keepAll(
        _ a: UnsafePointer<Float>, h: Int,
        indices: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>
    ) -> Int {
        for j in 0..<h {
            indices[j] = Int32(j)
            values[j] = a[j]
        }
        return h
    }

    /// Writes the kept (index, value) pairs of one row, indices ascending; returns how many.
    /// `scratch` must hold h floats. k ≥ h keeps every entry; k ≤ 0 keeps none.
    @inline(__always)
    public static func select(
        _ a: UnsafePointer<Float>, h: Int, k: Int,
        scratch: UnsafeMutablePointer<Float>,
        indices: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>
    ) -> Int {
        if k <= 0 || h == 0 { return 0 }
        if k >= h { return keepAll(a, h: h, indices: indices, values: values) }
        for j in 0..<h { scratch[j] = abs(a[j]) }
        let threshold = kthSmallest(scratch, count: h, rank: h - k - 1)
        var n = 0
        for j in 0..<h where abs(a[j]) > threshold {
            // At most k entries can exceed the (h−k)-th smallest; the guard only protects memory.
            if n == k { break }
            indices[n] = Int32(j)
            values[n] = a[j]
            n += 1
        }
        return n
    }

    /// Array convenience for tests and small callers: (indices, values) of the kept entries.
    public static func select(_ a: [Float], k: Int) -> (indices: [Int32], values: [Float]) {
        let h = a.count
        var scratch = [Float](repeating: 0, count: h)
        var idx = [Int32](repeating: 0, count: max(h, 1))
        var val = [Float](repeating: 0, count: max(h, 1))
        let n = a.withUnsafeBufferPointer { pa in
            scratch.withUnsafeMutableBufferPointer { ps in
                idx.withUnsafeMutableBufferPointer { pi in
                    val.withUnsafeMutableBufferPointer { pv in
                        select(
                            pa.baseAddress!, h: h, k: k, scratch: ps.baseAddress!,
                            indices: pi.baseAddress!, values: pv.baseAddress!)
                    }
                }
            }
        }
        return (Array(idx[0..<n]), Array(val[0..<n]))
    }

    /// The value of 0-based `rank` in ascending order; reorders `s`. Three-way partitioning keeps
    /// runs of equal values (ReLU zeros, exact ties) linear; the median-of-three pivot is
    /// deterministic, so the same input always takes the same path.
    @inline(__always)
    static func kthSmallest(_ s: UnsafeMutablePointer<Float>, count: Int, rank: Int) -> Float {
        var lo = 0
        var hi = count - 1
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            let x = s[lo]
            let y = s[mid]
            let z = s[hi]
            let pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y))
            var lt = lo
            var i = lo
            var gt = hi
            while i <= gt {
                let v = s[i]
                if v < pivot {
                    s[i] = s[lt]
                    s[lt] = v
                    lt += 1
                    i += 1
                } else if v > pivot {
                    s[i] = s[gt]
                    s[gt] = v
                    gt -= 1
                } else {
                    i += 1
                }
            }
            if rank < lt { hi = lt - 1 } else if rank > gt { lo = gt + 1 } else { return pivot }
        }
        return s[lo]
    }
}
