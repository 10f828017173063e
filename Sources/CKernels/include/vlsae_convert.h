// Element conversions of the tensor readers (VLSAEFormats), where the CPU has instructions for them.
#ifndef VLSAE_CONVERT_H
#define VLSAE_CONVERT_H

#include <stdint.h>

/// IEEE float16 → float32 for n little-endian values at `in` (any alignment), on little-endian hosts.
/// Exact: every finite value, infinity and subnormal converts to the same float32. With F16C the CPU
/// converts eight at a time and signalling NaNs come back quiet (numpy keeps NaN payloads, PyTorch returns
/// one canonical NaN); the portable path keeps payloads. Every NaN stays a NaN of the same sign.
void vlsae_half_to_float(const void *in, float *out, int64_t n);

/// The portable conversion, whatever the CPU: for tests.
void vlsae_half_to_float_portable(const void *in, float *out, int64_t n);

/// 1 when `vlsae_half_to_float` uses F16C on this CPU.
int vlsae_convert_uses_f16c(void);

#endif
