import COpenBLAS

/// OpenBLAS sgemm, the reference our deterministic GEMM is measured against (`sgemm` benchmark). No
/// number of the project goes through it: OpenBLAS picks its kernels per CPU and rounds differently.
enum BLAS {
    /// Pins OpenBLAS to `n` threads.
    static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
    static var threads: Int { Int(openblas_get_num_threads()) }

    /// C ← alpha · op(A) · op(B) + beta · C on raw row-major buffers.
    static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
