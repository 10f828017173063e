import CKernels

/// The instruction-set path every C kernel (CKernels) runs on: GEMM and level-1 kernels, the sparse
/// decode and backward passes, Adam, float16 conversion and SHA-256.
///
/// All paths return bit-identical results — they only differ in speed — so `active` never changes a
/// result byte. It starts as the best path this CPU and OS run, or as the environment variable
/// `VLSAE_ISA` (`portable`, `avx2`, `avx512`) asks; an unknown value or a path this CPU cannot run falls
/// back to the best path, and `environmentError()` says why.
public enum KernelPath: String, CaseIterable, Sendable {
    /// Plain C: fused multiply-adds through `fmaf` (correctly rounded by the C library).
    case portable
    /// AVX2 with FMA (and F16C, SHA extensions where present).
    case avx2
    /// AVX-512 F, VL, BW and DQ with operating-system support, plus what AVX2 uses.
    case avx512

    var code: Int32 {
        switch self {
        case .portable: return Int32(VLSAE_PATH_PORTABLE.rawValue)
        case .avx2: return Int32(VLSAE_PATH_AVX2.rawValue)
        case .avx512: return Int32(VLSAE_PATH_AVX512.rawValue)
        }
    }

    init?(code: Int32) {
        guard let p = KernelPath.allCases.first(where: { $0.code == code }) else { return nil }
        self = p
    }

    /// The path the kernels run on now.
    public static var active: KernelPath { KernelPath(code: vlsae_path_active()) ?? .portable }

    /// The paths this CPU and OS run, portable first.
    public static var supported: [KernelPath] { allCases.filter { vlsae_path_supported($0.code) != 0 } }

    /// The best path this CPU runs: the default when `VLSAE_ISA` is unset.
    public static var best: KernelPath { KernelPath(code: vlsae_path_best()) ?? .portable }

    /// Makes `path` active for every later kernel call in the process (calls already running finish on
    /// their path). Throws when this CPU cannot run it; nothing changes then.
    public static func use(_ path: KernelPath) throws {
        guard vlsae_path_set(path.code) == 0 else {
            throw VLSAEError.usage(
                "this CPU cannot run the \(path.rawValue) kernel path (it runs: "
                    + supported.map(\.rawValue).joined(separator: ", ") + ")")
        }
    }

    /// Runs `body` with `path` active, then restores the previous path. For tests: the path is process-wide.
    public static func with<T>(_ path: KernelPath, _ body: () throws -> T) throws -> T {
        let saved = active
        try use(path)
        defer { try? use(saved) }
        return try body()
    }

    /// Why `VLSAE_ISA` was not honoured — an unknown value, or a path this CPU cannot run — naming the value
    /// and the supported paths; nil when it was honoured or is unset.
    public static func environmentError() -> String? {
        guard let message = vlsae_path_environment_error() else { return nil }
        return String(cString: message)
    }
}
