#include "vlsae_convert.h"
#include "vlsae_dispatch.h"
#include <string.h>

#pragma clang fp contract(off)
#pragma STDC FP_CONTRACT OFF

/// Shift exponent and mantissa into place and rebias; infinity/NaN take the rest of the exponent range
/// (a NaN comes back quiet, its payload kept, as F16C returns it); subnormals are renormalised by one exact
/// float subtraction.
static inline float half_to_float(uint16_t h) {
    const uint32_t shifted_exponent = 0x7C00u << 13;
    uint32_t o = (uint32_t)(h & 0x7FFF) << 13;
    const uint32_t exponent = shifted_exponent & o;
    o += (uint32_t)(127 - 15) << 23;
    float f;
    if (exponent == shifted_exponent) {
        o += (uint32_t)(128 - 16) << 23;
        if (o & 0x007FFFFFu) o |= 0x00400000u;  // NaN: set the quiet bit
        memcpy(&f, &o, 4);
    } else if (exponent == 0) {
        o += 1u << 23;
        const uint32_t magic_bits = 113u << 23;
        float magic;
        memcpy(&f, &o, 4);
        memcpy(&magic, &magic_bits, 4);
        f -= magic;
    } else {
        memcpy(&f, &o, 4);
    }
    uint32_t bits;
    memcpy(&bits, &f, 4);
    bits |= (uint32_t)(h & 0x8000) << 16;
    memcpy(&f, &bits, 4);
    return f;
}

static void half_to_float_portable(const void *in, float *out, int64_t n) {
    const uint8_t *p = in;
    for (int64_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, p + 2 * i, 2);  // little-endian hosts only (the caller's contract)
        out[i] = half_to_float(h);
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("f16c,avx"))) static void half_to_float_f16c(const void *in, float *out, int64_t n) {
    const uint8_t *p = in;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 2 * i))));
    if (i < n) {
        // The tail goes through the same instruction, so NaNs are treated alike at every position.
        uint16_t h[8] = {0};
        float f[8];
        memcpy(h, p + 2 * i, (size_t)(n - i) * 2);
        _mm256_storeu_ps(f, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h)));
        memcpy(out + i, f, (size_t)(n - i) * sizeof(float));
    }
}

__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,f16c,avx2"))) static void half_to_float_avx512(
    const void *in, float *out, int64_t n) {
    const uint8_t *p = in;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p + 2 * i))));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(out + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p + 2 * i)));
    }
}

int vlsae_convert_uses_f16c(void) { return vlsae_path_active() != VLSAE_PATH_PORTABLE && vlsae_cpu_has_f16c(); }

void vlsae_half_to_float(const void *in, float *out, int64_t n) {
    switch (vlsae_path_active()) {
    case VLSAE_PATH_AVX512:
        if (vlsae_cpu_has_f16c()) { half_to_float_avx512(in, out, n); break; }
        half_to_float_portable(in, out, n);
        break;
    case VLSAE_PATH_AVX2:
        if (vlsae_cpu_has_f16c()) { half_to_float_f16c(in, out, n); break; }
        half_to_float_portable(in, out, n);
        break;
    default: half_to_float_portable(in, out, n); break;
    }
}
#else
int vlsae_convert_uses_f16c(void) { return 0; }

void vlsae_half_to_float(const void *in, float *out, int64_t n) { half_to_float_portable(in, out, n); }
#endif
