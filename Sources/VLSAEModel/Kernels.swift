import VLSAECore

/// Vector kernels of the sparse passes (one decoder column or one input row at a time): the
/// deterministic level-1 kernels of `GEMM` (C, on the active kernel path), which give the same bits on
/// every CPU and path. Each call is single-threaded; callers parallelise over rows or units.
enum Kernel {
    /// y ← fma(a, x, y) over n floats.
    @inline(__always)
    static func axpy(_ n: Int, _ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        GEMM.axpy(n, a, x, y)
    }

    /// Σ x·y in the fixed association of `GEMM.dot` (sixteen fused chains, then a fixed tree).
    @inline(__always)
    static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        GEMM.dot(n, x, y)
    }

    /// x ← x·a.
    @inline(__always)
    static func scale(_ n: Int, _ a: Float, _ x: UnsafeMutablePointer<Float>) {
        GEMM.scale(n, a, x)
    }
}
