/// A dense, row-major float32 matrix: the one numeric container every stage shares.
///
/// Rows are samples (embeddings, activations); columns are features. Storage is a flat
/// `[Float]` so that it can be handed to the C kernels without copying.
public struct Matrix: Equatable, Sendable {
    /// Number of rows (samples); set only by the initialisers.
    public private(set) var rows: Int
    /// Number of columns (features); set only by the initialisers.
    public private(set) var cols: Int
    /// The `rows × cols` entries, row-major: entry (r, c) is at `r * cols + c`. Mutating may change values, never the
    /// count.
    public var values: [Float]

    /// A `rows × cols` matrix with every entry `value` (zero by default).
    public init(rows: Int, cols: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && cols >= 0, "negative matrix shape")
        self.rows = rows
        self.cols = cols
        self.values = [Float](repeating: value, count: rows * cols)
    }

    /// Wraps `values`, which must hold exactly `rows × cols` entries in row-major order.
    public init(rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols, "matrix values do not match \(rows)×\(cols)")
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    /// Builds a matrix from equally long rows.
    public init(_ rowArrays: [[Float]]) {
        let c = rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == c }, "ragged rows")
        self.init(rows: rowArrays.count, cols: c, values: rowArrays.flatMap { $0 })
    }

    /// Entry at row `r`, column `c` (no bounds check beyond the array's own).
    @inlinable public subscript(r: Int, c: Int) -> Float {
        get { values[r * cols + c] }
        set { values[r * cols + c] = newValue }
    }

    /// Row `r` as a slice of `values` (its indices are those of `values`, not 0..<cols).
    public func row(_ r: Int) -> ArraySlice<Float> { values[(r * cols)..<((r + 1) * cols)] }

    /// The rows at `indices`, in that order.
    public func gatherRows<S: Sequence>(_ indices: S) -> Matrix where S.Element == Int {
        var out: [Float] = []
        var n = 0
        for i in indices {
            out.append(contentsOf: row(i))
            n += 1
        }
        return Matrix(rows: n, cols: cols, values: out)
    }

    /// Rows `range` as a new matrix.
    public func rows(_ range: Range<Int>) -> Matrix {
        Matrix(
            rows: range.count, cols: cols, values: Array(values[(range.lowerBound * cols)..<(range.upperBound * cols)]))
    }

    /// A new `cols × rows` matrix, the transpose.
    public var transposed: Matrix {
        var out = Matrix(rows: cols, cols: rows)
        for r in 0..<rows { for c in 0..<cols { out.values[c * rows + r] = values[r * cols + c] } }
        return out
    }

    /// Each row divided by its L2 norm (accumulated in double); zero rows stay zero.
    public func normalizedRows() -> Matrix {
        var out = self
        out.normalizeRows()
        return out
    }

    /// In place: each row divided by its L2 norm (accumulated in double); zero rows stay zero.
    public mutating func normalizeRows() {
        let c = cols
        values.withUnsafeMutableBufferPointer { buf in
            for r in 0..<rows {
                var s: Double = 0
                for j in 0..<c {
                    let v = Double(buf[r * c + j])
                    s += v * v
                }
                let n = s.squareRoot()
                guard n > 0 else { continue }
                let inv = Float(1 / n)
                for j in 0..<c { buf[r * c + j] *= inv }
            }
        }
    }

    /// L2 norm of each row, accumulated in double.
    public func rowNorms() -> [Double] {
        (0..<rows).map { r in
            var s: Double = 0
            for v in row(r) { s += Double(v) * Double(v) }
            return s.squareRoot()
        }
    }

    /// Index of the first row holding a NaN or infinity, if any.
    public func firstNonFiniteRow() -> Int? {
        guard cols > 0 else { return nil }
        for (i, v) in values.enumerated() where !v.isFinite { return i / cols }
        return nil
    }
}
