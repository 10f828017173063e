#include "vlsae_kernels.h"
#include "vlsae_dispatch.h"
#include <string.h>

// Identical arithmetic in every build: no a·b + c contraction into FMA (which only the vector builds could
// use). On current x86 cores separate multiplies and adds issue on different ports, so this costs little.
#pragma clang fp contract(off)
#pragma STDC FP_CONTRACT OFF
// The helpers below pass 256-bit vectors by value; they are always inlined, so no ABI is involved.
#pragma clang diagnostic ignored "-Wpsabi"

// Unaligned, and allowed to alias the float arrays it is loaded from.
typedef float v8 __attribute__((vector_size(32), aligned(4), may_alias));

#define INLINE static inline __attribute__((always_inline))

INLINE v8 load8(const float *p) { return *(const v8 *)p; }
INLINE void store8(float *p, v8 v) { *(v8 *)p = v; }
INLINE v8 splat8(float a) { return (v8){a, a, a, a, a, a, a, a}; }

/// Fixed-order horizontal sum: ((0+4)+(2+6)) + ((1+5)+(3+7)).
INLINE float hsum8(v8 a) {
    float s04 = a[0] + a[4], s15 = a[1] + a[5], s26 = a[2] + a[6], s37 = a[3] + a[7];
    return (s04 + s26) + (s15 + s37);
}

INLINE void adam_body(int64_t n, float *p, const float *g, float *m, float *v, const vlsae_adam_step *s) {
    const float b1w = s->one_minus_beta1, b2 = s->beta2, b2w = s->one_minus_beta2, eps = s->eps;
    const float wd = s->weight_decay, inv = s->bias_correction2_sqrt, step = s->step_size;
    const int decay = wd != 0;
    int64_t i = 0;
    const v8 vb1w = splat8(b1w), vb2 = splat8(b2), vb2w = splat8(b2w), veps = splat8(eps);
    const v8 vwd = splat8(wd), vinv = splat8(inv), vstep = splat8(step);
    for (; i + 8 <= n; i += 8) {
        v8 pi = load8(p + i), gi = load8(g + i), mi = load8(m + i), vi = load8(v + i);
        if (decay) gi = gi + vwd * pi;
        v8 m1 = mi + vb1w * (gi - mi);
        v8 v1 = vi * vb2 + vb2w * gi * gi;
        v8 root = __builtin_elementwise_sqrt(v1);
        store8(m + i, m1);
        store8(v + i, v1);
        store8(p + i, pi - vstep * (m1 / (root / vinv + veps)));
    }
    for (; i < n; i++) {
        float pi = p[i], gi = g[i];
        if (decay) gi = gi + wd * pi;
        float m1 = m[i] + b1w * (gi - m[i]);
        float v1 = v[i] * b2 + b2w * gi * gi;
        m[i] = m1;
        v[i] = v1;
        p[i] = pi - step * (m1 / (__builtin_sqrtf(v1) / inv + eps));
    }
}

/// Counting sort of the active slots (row·k + t) by unit, rows ascending within each unit: unit j's slots
/// end up in list[start[j] ..< start[j+1]].
INLINE void group_by_unit(int32_t h, int32_t k, int32_t rows, const int32_t *counts, const int32_t *indices,
                          int32_t *start, int32_t *list) {
    memset(start, 0, (size_t)(h + 1) * sizeof(int32_t));
    for (int32_t r = 0; r < rows; r++)
        for (int32_t t = 0; t < counts[r]; t++) start[indices[(int64_t)r * k + t] + 1]++;
    for (int32_t j = 0; j < h; j++) start[j + 1] += start[j];
    for (int32_t r = 0; r < rows; r++)
        for (int32_t t = 0; t < counts[r]; t++) list[start[indices[(int64_t)r * k + t]]++] = r * k + t;
    // Filling advanced start[j] to the end of unit j's run, where unit j+1's begins: shift back by one.
    for (int32_t j = h; j > 0; j--) start[j] = start[j - 1];
    start[0] = 0;
}

INLINE void decode_block_body(int32_t d, int32_t h, int32_t k, int32_t rows, const float *bias, const float *wT,
                              const int32_t *counts, const int32_t *indices, const float *values, float *out,
                              int32_t *work) {
    for (int32_t r = 0; r < rows; r++) memcpy(out + (int64_t)r * d, bias, (size_t)d * sizeof(float));
    int32_t *start = work, *list = work + h + 1;
    group_by_unit(h, k, rows, counts, indices, start, list);
    // Units ascending: each output element receives its terms in the order of the row's (ascending)
    // active units.
    for (int32_t j = 0; j < h; j++) {
        const float *col = wT + (int64_t)j * d;
        for (int32_t s = start[j]; s < start[j + 1]; s++) {
            const int32_t slot = list[s];
            float *o = out + (int64_t)(slot / k) * d;
            const float a = values[slot];
            const v8 va = splat8(a);
            int32_t i = 0;
            for (; i + 16 <= d; i += 16) {
                store8(o + i, load8(o + i) + va * load8(col + i));
                store8(o + i + 8, load8(o + i + 8) + va * load8(col + i + 8));
            }
            for (; i < d; i++) o[i] = o[i] + a * col[i];
        }
    }
}

/// The backward pass of up to four slots of one unit at once (`n` rows e[q], x[q], 1 ≤ n ≤ 4), so that the
/// unit's gradient slices are loaded and stored once per group rather than once per slot. Per element,
/// the contributions are still added slot by slot in slot order, and each dot product is accumulated
/// exactly as for a single slot, so grouping does not change any value.
INLINE void unit_group_body(int32_t d, int n, const float *const *e, const float *const *x, const float *col,
                            const float *vals, const float *derivs, float *grad_dec, float *grad_enc,
                            float *grad_bias) {
    v8 acc[4][2];
    v8 va[4];
    for (int q = 0; q < 4; q++) { acc[q][0] = acc[q][1] = splat8(0); va[q] = splat8(q < n ? vals[q] : 0); }
    float dot[4] = {0, 0, 0, 0};
    int32_t i = 0;
    for (; i + 16 <= d; i += 16) {
        const v8 c0 = load8(col + i), c1 = load8(col + i + 8);
        v8 o0 = load8(grad_dec + i), o1 = load8(grad_dec + i + 8);
        for (int q = 0; q < n; q++) {
            const v8 e0 = load8(e[q] + i), e1 = load8(e[q] + i + 8);
            acc[q][0] = acc[q][0] + e0 * c0;
            acc[q][1] = acc[q][1] + e1 * c1;
            o0 = o0 + va[q] * e0;
            o1 = o1 + va[q] * e1;
        }
        store8(grad_dec + i, o0);
        store8(grad_dec + i + 8, o1);
    }
    for (int q = 0; q < n; q++) dot[q] = hsum8(acc[q][0] + acc[q][1]);
    for (; i < d; i++) {
        float o = grad_dec[i];
        for (int q = 0; q < n; q++) { dot[q] = dot[q] + e[q][i] * col[i]; o = o + vals[q] * e[q][i]; }
        grad_dec[i] = o;
    }
    float dz[4];
    v8 vz[4];
    for (int q = 0; q < 4; q++) {
        dz[q] = q < n ? dot[q] * derivs[q] : 0;
        vz[q] = splat8(dz[q]);
    }
    i = 0;
    for (; i + 16 <= d; i += 16) {
        v8 o0 = load8(grad_enc + i), o1 = load8(grad_enc + i + 8);
        for (int q = 0; q < n; q++) {
            o0 = o0 + vz[q] * load8(x[q] + i);
            o1 = o1 + vz[q] * load8(x[q] + i + 8);
        }
        store8(grad_enc + i, o0);
        store8(grad_enc + i + 8, o1);
    }
    for (; i < d; i++) {
        float o = grad_enc[i];
        for (int q = 0; q < n; q++) o = o + dz[q] * x[q][i];
        grad_enc[i] = o;
    }
    if (grad_bias) for (int q = 0; q < n; q++) *grad_bias += dz[q];
}

INLINE void unit_backward_body(int32_t d, int32_t k, int32_t count, const int32_t *slots, const float *e,
                               const float *x, const float *values, const float *deriv, const float *col,
                               float *grad_dec, float *grad_enc, float *grad_bias) {
    for (int32_t s = 0; s < count; s += 4) {
        const int n = count - s < 4 ? (int)(count - s) : 4;
        const float *er[4], *xr[4];
        float vals[4], derivs[4];
        for (int q = 0; q < 4; q++) {
            if (q < n) {
                const int32_t slot = slots[s + q];
                const int64_t r = slot / k;
                er[q] = e + r * d; xr[q] = x + r * d; vals[q] = values[slot]; derivs[q] = deriv[slot];
            } else {
                er[q] = xr[q] = 0; vals[q] = derivs[q] = 0;
            }
        }
        // A constant group size lets the compiler keep every accumulator in a register.
        switch (n) {
        case 4: unit_group_body(d, 4, er, xr, col, vals, derivs, grad_dec, grad_enc, grad_bias); break;
        case 3: unit_group_body(d, 3, er, xr, col, vals, derivs, grad_dec, grad_enc, grad_bias); break;
        case 2: unit_group_body(d, 2, er, xr, col, vals, derivs, grad_dec, grad_enc, grad_bias); break;
        default: unit_group_body(d, 1, er, xr, col, vals, derivs, grad_dec, grad_enc, grad_bias); break;
        }
    }
}

// Three builds of each kernel — portable, AVX2 and AVX-512 — of the same source, and the run-time choice
// among them by the active path (vlsae_dispatch.h).
#if defined(__x86_64__)
#define AVX2 __attribute__((target("avx2,fma")))
#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))
#define VARIANTS(name, params, args)                                    \
    AVX512 static void name##_avx512 params { name##_body args; }       \
    AVX2 static void name##_avx2 params { name##_body args; }           \
    static void name##_base params { name##_body args; }
#define CALL(name, args)                                                \
    do {                                                                \
        switch (vlsae_path_active()) {                                  \
        case VLSAE_PATH_AVX512: name##_avx512 args; break;              \
        case VLSAE_PATH_AVX2: name##_avx2 args; break;                  \
        default: name##_base args; break;                               \
        }                                                               \
    } while (0)
#else
#define VARIANTS(name, params, args) static void name##_base params { name##_body args; }
#define CALL(name, args) name##_base args
#endif

VARIANTS(adam, (int64_t n, float *p, const float *g, float *m, float *v, const vlsae_adam_step *s), (n, p, g, m, v, s))
VARIANTS(decode_block, (int32_t d, int32_t h, int32_t k, int32_t rows, const float *bias, const float *wT,
                        const int32_t *counts, const int32_t *indices, const float *values, float *out, int32_t *work),
         (d, h, k, rows, bias, wT, counts, indices, values, out, work))
VARIANTS(unit_backward, (int32_t d, int32_t k, int32_t count, const int32_t *slots, const float *e, const float *x,
                         const float *values, const float *deriv, const float *col, float *grad_dec,
                         float *grad_enc, float *grad_bias),
         (d, k, count, slots, e, x, values, deriv, col, grad_dec, grad_enc, grad_bias))

void vlsae_group_by_unit(int32_t h, int32_t k, int32_t rows, const int32_t *counts, const int32_t *indices,
                         int32_t *start, int32_t *list) {
    group_by_unit(h, k, rows, counts, indices, start, list);
}

void vlsae_adam(int64_t n, float *param, const float *grad, float *m, float *v, const vlsae_adam_step *s) {
    CALL(adam, (n, param, grad, m, v, s));
}

void vlsae_decode_block(int32_t d, int32_t h, int32_t k, int32_t rows, const float *bias, const float *wT,
                        const int32_t *counts, const int32_t *indices, const float *values, float *out, int32_t *work) {
    CALL(decode_block, (d, h, k, rows, bias, wT, counts, indices, values, out, work));
}

void vlsae_unit_backward(int32_t d, int32_t k, int32_t count, const int32_t *slots, const float *e, const float *x,
                         const float *values, const float *deriv, const float *col, float *grad_dec, float *grad_enc,
                         float *grad_bias) {
    CALL(unit_backward, (d, k, count, slots, e, x, values, deriv, col, grad_dec, grad_enc, grad_bias));
}
