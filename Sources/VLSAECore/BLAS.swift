import CBLAS

/// Dense linear algebra through OpenBLAS. Every matrix product in the project goes here.
public enum BLAS {
    /// Pins OpenBLAS to `n` threads. Results are reproducible for a fixed thread count.
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// C ← alpha · op(A) · op(B) + beta · C on raw row-major buffers.
    @inlinable
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// op(A) · op(B) for matrices.
    public static func matmul(_ a: Matrix, _ b: Matrix, transA: Bool = false, transB: Bool = false,
                              alpha: Float = 1) -> Matrix {
        let m = transA ? a.cols : a.rows
        let k = transA ? a.rows : a.cols
        let kb = transB ? b.cols : b.rows
        let n = transB ? b.rows : b.cols
        precondition(k == kb, "matmul inner dimensions \(k) and \(kb) differ")
        var c = Matrix(rows: m, cols: n)
        if k == 0 { return c }
        a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                c.values.withUnsafeMutableBufferPointer { pc in
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                          a: pa.baseAddress!, lda: a.cols, b: pb.baseAddress!, ldb: b.cols,
                          beta: 0, c: pc.baseAddress!, ldc: n)
                }
            }
        }
        return c
    }

    /// C ← alpha · op(A) · op(B) + beta · C, in place.
    public static func gemm(_ a: Matrix, _ b: Matrix, into c: inout Matrix, transA: Bool = false,
                            transB: Bool = false, alpha: Float = 1, beta: Float = 0) {
        let m = transA ? a.cols : a.rows
        let k = transA ? a.rows : a.cols
        let n = transB ? b.rows : b.cols
        precondition((transB ? b.cols : b.rows) == k && c.rows == m && c.cols == n, "gemm shape mismatch")
        if k == 0 { return }
        let ldc = c.cols
        a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                c.values.withUnsafeMutableBufferPointer { pc in
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                          a: pa.baseAddress!, lda: a.cols, b: pb.baseAddress!, ldb: b.cols,
                          beta: beta, c: pc.baseAddress!, ldc: ldc)
                }
            }
        }
    }
}
