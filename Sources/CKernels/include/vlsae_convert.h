// Element conversions of the tensor readers (VLSAEFormats), where the CPU has instructions for them.
#ifndef VLSAE_CONVERT_H
#define VLSAE_CONVERT_H

#include <stdint.h>

/// IEEE float16 → float32 for n little-endian values at `in` (any alignment), on little-endian hosts.
/// Exact: every finite value, infinity and subnormal converts to the same float32. A NaN keeps its sign and
/// payload and comes back quiet (as F16C returns it; numpy keeps signalling NaNs, PyTorch returns one
/// canonical NaN). Every kernel path returns the same bits: the portable one in C, AVX2 with F16C (eight at
/// a time) where the CPU has it, AVX-512 sixteen at a time.
void vlsae_half_to_float(const void *in, float *out, int64_t n);

/// 1 when `vlsae_half_to_float` uses F16C on the active path.
int vlsae_convert_uses_f16c(void);

#endif
