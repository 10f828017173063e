import CBLAS

/// Vector kernels of the sparse passes (one decoder column or one input row at a time), through
/// OpenBLAS level 1 so that they run at full speed in debug builds too. Each call is
/// single-threaded and deterministic; callers parallelise over rows or units.
enum Kernel {
    /// y ← a·x + y over n floats.
    @inline(__always)
    static func axpy(_ n: Int, _ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        cblas_saxpy(Int32(n), a, x, 1, y, 1)
    }

    @inline(__always)
    static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        cblas_sdot(Int32(n), x, 1, y, 1)
    }

    /// x ← a·x.
    @inline(__always)
    static func scale(_ n: Int, _ a: Float, _ x: UnsafeMutablePointer<Float>) {
        cblas_sscal(Int32(n), a, x, 1)
    }
}
