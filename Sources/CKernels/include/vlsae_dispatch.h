// The one run-time choice of kernel path for everything in CKernels.
//
// Every kernel exists in up to three builds — portable C, AVX2 (+FMA) and AVX-512 — that return
// bit-identical results, so the path only changes speed. The active path starts as the best one this
// CPU and operating system run, or the one the environment variable VLSAE_ISA names
// (portable | avx2 | avx512). An unknown value or a path this CPU cannot run never fails here: the
// best path is used and the reason is kept for `vlsae_path_environment_error` (Swift reports it).
#ifndef VLSAE_DISPATCH_H
#define VLSAE_DISPATCH_H

#include <stdint.h>

typedef enum {
    VLSAE_PATH_PORTABLE = 0,  // plain C; fused multiply-adds through fmaf
    VLSAE_PATH_AVX2 = 1,      // AVX2 + FMA (+ F16C and SHA extensions where present)
    VLSAE_PATH_AVX512 = 2,    // AVX-512 F, VL, BW, DQ with OS support, plus what AVX2 uses
} vlsae_path;

#define VLSAE_PATH_COUNT 3

/// The active path. The first call of any function here (from any thread) reads VLSAE_ISA and detects
/// the CPU, exactly once.
int vlsae_path_active(void);

/// 1 when this CPU and OS run `path`.
int vlsae_path_supported(int path);

/// The best path this CPU runs.
int vlsae_path_best(void);

/// Makes `path` active for every later kernel call. Returns 0, or -1 (nothing changed) when the CPU
/// cannot run it or it is not a path. Calls already running finish on the path they started with.
int vlsae_path_set(int path);

/// "portable", "avx2", "avx512", or NULL for a value that is not a path.
const char *vlsae_path_name(int path);

/// Applies a VLSAE_ISA value as at start-up (NULL or "": unset): the named path when this CPU runs it,
/// otherwise the best path with the reason recorded. Returns the path now active. For tests.
int vlsae_path_configure(const char *isa);

/// Why the VLSAE_ISA value was not honoured (unknown value, or a path this CPU cannot run), naming
/// the value and the supported paths; NULL when it was honoured or unset. The string is static.
const char *vlsae_path_environment_error(void);

/// CPU features the paths use beyond their instruction sets, for the kernels that need them.
int vlsae_cpu_has_f16c(void);
int vlsae_cpu_has_sha(void);

#endif
