// Deterministic GEMM and level-1 kernels (contract in vlsae_gemm.h), in three builds: portable C with
// fmaf, AVX2 + FMA, and AVX-512. Every build computes each output element as the same ascending chain of
// fused multiply-adds; they differ only in how many output columns one instruction handles.
#include "vlsae_gemm.h"
#include "vlsae_dispatch.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

// No contraction anywhere: the only fused multiply-adds are the explicit ones (fmaf, _mm*_fmadd_ps), and
// the alpha scaling stays one separate multiply.
#pragma clang fp contract(off)
#pragma STDC FP_CONTRACT OFF
#pragma clang diagnostic ignored "-Wpsabi"

#define INLINE static inline __attribute__((always_inline))
#define MAX_MR 12
#define MAX_NR 32

struct vlsae_packed_b {
    int32_t path;
    int32_t nr;       // panel width of the path's layout
    int64_t k, n;
    int64_t panels;   // ⌈n / nr⌉
    float *data;      // panel q (columns q·nr ..< q·nr + nr, zero beyond n) at data + q·k·nr, row p at + p·nr
};

/// One register tile: C[0 ..< mr][0 ..< NR] (leading dimension ldc) over kc steps of the packed A panel
/// `ap` (row p at ap + p·MR) and B panel `bp` (row p at bp + p·NR). `load`: start from C (else from 0);
/// `scale`: multiply by alpha before storing.
typedef void (*tile_fn)(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc, int mr, int load,
                        int scale, float alpha);

/// Packs rows [p0, p0 + kc) of op(B) columns [j0, j0 + cols) as panels `nr` wide (zero-padded): panel q at
/// out + q·pstride, row p at + (p − p0)·nr. Every implementation writes the same values.
typedef void (*pack_b_fn)(int trans_b, int64_t p0, int64_t kc, int64_t j0, int64_t cols, const float *b, int64_t ldb,
                          int nr, float *out, int64_t pstride);

typedef struct {
    int mr, nr;   // register tile
    int64_t mc;   // rows of A packed at once with a packed B (a multiple of mr), kept in L2
    int64_t mcu;  // rows of A packed at once when B panels are packed as they are used (a multiple of mr)
    int64_t kc;   // depth of one pass (k is cut into passes; a partial sum in C is exact)
    tile_fn tile;
    pack_b_fn pack_b;
    float (*dot)(int64_t, const float *, const float *);
    void (*axpy)(int64_t, float, const float *, float *);
    void (*scale)(int64_t, float, float *);
} path_kernels;

static void *alloc_aligned(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) return NULL;
    return p;
}

// MARK: packing (plain copies: the same values whatever the path)

/// Rows [p0, p0 + kc) of op(B) columns [j0, j0 + cols) as panels `nr` wide (zero-padded): panel q at
/// out + q·pstride, row p at + (p − p0)·nr.
static void pack_b_scalar(int trans_b, int64_t p0, int64_t kc, int64_t j0, int64_t cols, const float *b, int64_t ldb,
                          int nr, float *out, int64_t pstride) {
    for (int64_t q = 0; q * nr < cols; q++) {
        float *panel = out + q * pstride;
        const int64_t jq = j0 + q * nr;
        const int w = cols - q * nr < nr ? (int)(cols - q * nr) : nr;
        if (!trans_b) {
            // b(p, j) = b[p·ldb + j]: each panel row is a contiguous run of a row of B.
            for (int64_t p = 0; p < kc; p++) {
                float *dst = panel + p * nr;
                memcpy(dst, b + (p0 + p) * ldb + jq, (size_t)w * sizeof(float));
                for (int c = w; c < nr; c++) dst[c] = 0;
            }
        } else {
            // b(p, j) = b[j·ldb + p]: a transpose, in blocks of 16 rows so that the writes stay in L1.
            for (int64_t pb = 0; pb < kc; pb += 16) {
                const int pn = kc - pb < 16 ? (int)(kc - pb) : 16;
                for (int c = 0; c < w; c++) {
                    const float *src = b + (jq + c) * ldb + p0 + pb;
                    float *dst = panel + pb * nr + c;
                    for (int p = 0; p < pn; p++) dst[(int64_t)p * nr] = src[p];
                }
                for (int c = w; c < nr; c++)
                    for (int p = 0; p < pn; p++) panel[(pb + p) * nr + c] = 0;
            }
        }
    }
}

/// Rows [i0, i0 + rows) and columns [p0, p0 + kc) of op(A) as panels of `mr` rows (zero-padded): panel
/// r0 / mr at out + r0·kc, element (r, p) at + p·mr + r.
static void pack_a_block(int trans_a, int64_t i0, int64_t rows, int64_t p0, int64_t kc, const float *a, int64_t lda,
                         int mr, float *out) {
    for (int64_t r0 = 0; r0 < rows; r0 += mr) {
        float *panel = out + r0 * kc;
        const int h = rows - r0 < mr ? (int)(rows - r0) : mr;
        if (!trans_a) {
            // a(i, p) = a[i·lda + p]
            for (int r = 0; r < h; r++) {
                const float *src = a + (i0 + r0 + r) * lda + p0;
                for (int64_t p = 0; p < kc; p++) panel[p * mr + r] = src[p];
            }
        } else {
            // a(i, p) = a[p·lda + i]
            for (int64_t p = 0; p < kc; p++)
                for (int r = 0; r < h; r++) panel[p * mr + r] = a[(p0 + p) * lda + i0 + r0 + r];
        }
        if (h < mr)
            for (int64_t p = 0; p < kc; p++)
                for (int r = h; r < mr; r++) panel[p * mr + r] = 0;
    }
}

// MARK: the portable build

#define P_MR 4
#define P_NR 16

INLINE void tile_portable_body(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc, const int mr,
                               int load, int scale, float alpha) {
    float acc[P_MR][P_NR];
    _Pragma("clang loop unroll(full)")
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < P_NR; j++) acc[r][j] = load ? c[r * ldc + j] : 0.0f;
    for (int64_t p = 0; p < kc; p++) {
        const float *bq = bp + p * P_NR, *aq = ap + p * P_MR;
        _Pragma("clang loop unroll(full)")
        for (int r = 0; r < mr; r++) {
            const float x = aq[r];
            for (int j = 0; j < P_NR; j++) acc[r][j] = fmaf(x, bq[j], acc[r][j]);
        }
    }
    _Pragma("clang loop unroll(full)")
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < P_NR; j++) c[r * ldc + j] = scale ? acc[r][j] * alpha : acc[r][j];
}

static void tile_portable(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc, int mr, int load,
                          int scale, float alpha) {
    switch (mr) {
    case 4: tile_portable_body(kc, ap, bp, c, ldc, 4, load, scale, alpha); break;
    case 3: tile_portable_body(kc, ap, bp, c, ldc, 3, load, scale, alpha); break;
    case 2: tile_portable_body(kc, ap, bp, c, ldc, 2, load, scale, alpha); break;
    default: tile_portable_body(kc, ap, bp, c, ldc, 1, load, scale, alpha); break;
    }
}

/// The fixed reduction of the sixteen dot-product lanes, shared by every path.
INLINE float reduce16(float s[16]) {
    for (int w = 8; w >= 1; w /= 2)
        for (int l = 0; l < w; l++) s[l] = s[l] + s[l + w];
    return s[0];
}

static float dot_portable(int64_t n, const float *x, const float *y) {
    float s[16] = {0};
    for (int64_t i = 0; i < n; i++) s[i & 15] = fmaf(x[i], y[i], s[i & 15]);
    return reduce16(s);
}

static void axpy_portable(int64_t n, float a, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = fmaf(a, x[i], y[i]);
}

static void scale_portable(int64_t n, float a, float *x) {
    for (int64_t i = 0; i < n; i++) x[i] = x[i] * a;
}

// MARK: the AVX2 and AVX-512 builds

#if defined(__x86_64__)
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))
#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")))

/// pack_b_scalar with the transposed case done in 8 × 8 blocks through registers (same values).
AVX2 static void pack_b_avx2(int trans_b, int64_t p0, int64_t kc, int64_t j0, int64_t cols, const float *b, int64_t ldb,
                             int nr, float *out, int64_t pstride) {
    if (!trans_b || nr % 8 != 0) { pack_b_scalar(trans_b, p0, kc, j0, cols, b, ldb, nr, out, pstride); return; }
    const int64_t full = cols / nr;  // panels with all nr columns
    for (int64_t q = 0; q < full; q++) {
        float *panel = out + q * pstride;
        const float *src = b + (j0 + q * nr) * ldb + p0;
        int64_t p = 0;
        for (; p + 8 <= kc; p += 8) {
            for (int c0 = 0; c0 < nr; c0 += 8) {
                const float *s = src + c0 * ldb + p;
                const __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ldb);
                const __m256 r2 = _mm256_loadu_ps(s + 2 * ldb), r3 = _mm256_loadu_ps(s + 3 * ldb);
                const __m256 r4 = _mm256_loadu_ps(s + 4 * ldb), r5 = _mm256_loadu_ps(s + 5 * ldb);
                const __m256 r6 = _mm256_loadu_ps(s + 6 * ldb), r7 = _mm256_loadu_ps(s + 7 * ldb);
                const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
                const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
                const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
                const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
                const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
                const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
                const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
                const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
                float *d = panel + p * nr + c0;
                _mm256_storeu_ps(d + 0 * nr, _mm256_permute2f128_ps(u0, u4, 0x20));
                _mm256_storeu_ps(d + 1 * nr, _mm256_permute2f128_ps(u1, u5, 0x20));
                _mm256_storeu_ps(d + 2 * nr, _mm256_permute2f128_ps(u2, u6, 0x20));
                _mm256_storeu_ps(d + 3 * nr, _mm256_permute2f128_ps(u3, u7, 0x20));
                _mm256_storeu_ps(d + 4 * nr, _mm256_permute2f128_ps(u0, u4, 0x31));
                _mm256_storeu_ps(d + 5 * nr, _mm256_permute2f128_ps(u1, u5, 0x31));
                _mm256_storeu_ps(d + 6 * nr, _mm256_permute2f128_ps(u2, u6, 0x31));
                _mm256_storeu_ps(d + 7 * nr, _mm256_permute2f128_ps(u3, u7, 0x31));
            }
        }
        for (; p < kc; p++)
            for (int c = 0; c < nr; c++) panel[p * nr + c] = src[c * ldb + p];
    }
    if (full * nr < cols)
        pack_b_scalar(1, p0, kc, j0 + full * nr, cols - full * nr, b, ldb, nr, out + full * pstride, pstride);
}

// AVX2: 6 rows × 16 columns, 12 accumulators; B rows are two aligned 8-float loads, A values broadcast.
#define X_MR 6
#define X_NR 16
#define X_MC 144    // 144 × 512 floats of A (288 KiB) stay in L2 while the packed B streams by
#define X_MCU 1020  // without a packed B, up to 1020 rows share each B panel packed on the fly
#define X_KC 512

// The register tile of the x86 paths, written once for both vector widths: MR rows × two vectors of W
// floats accumulate in registers; each step broadcasts one A value per row (SET1) and multiplies it
// into two aligned B loads with one fused multiply-add per lane, k ascending, as the contract says.
// `tile_<isa>` turns the run-time row count into the constant `tile_<isa>_body` is unrolled for.
#define DEFINE_TILE(ISA, ATTR, VEC, W, MR, NR, LOADU, LOAD, ZERO, SET1, FMADD, MUL, STOREU)                           \
    ATTR INLINE void tile_##ISA##_body(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc,           \
                                       const int mr, int load, int scale, float alpha) {                            \
        VEC c0[MR], c1[MR];                                                                                          \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < mr; r++) {                                           \
            c0[r] = load ? LOADU(c + r * ldc) : ZERO();                                                              \
            c1[r] = load ? LOADU(c + r * ldc + W) : ZERO();                                                          \
        }                                                                                                            \
        for (int64_t p = 0; p < kc; p++) {                                                                           \
            const VEC b0 = LOAD(bp), b1 = LOAD(bp + W);                                                              \
            _Pragma("clang loop unroll(full)") for (int r = 0; r < mr; r++) {                                       \
                const VEC x = SET1(ap[r]);                                                                           \
                c0[r] = FMADD(x, b0, c0[r]);                                                                         \
                c1[r] = FMADD(x, b1, c1[r]);                                                                         \
            }                                                                                                        \
            ap += MR;                                                                                                \
            bp += NR;                                                                                                \
        }                                                                                                            \
        const VEC va = SET1(alpha);                                                                                  \
        _Pragma("clang loop unroll(full)") for (int r = 0; r < mr; r++) {                                           \
            STOREU(c + r * ldc, scale ? MUL(c0[r], va) : c0[r]);                                                     \
            STOREU(c + r * ldc + W, scale ? MUL(c1[r], va) : c1[r]);                                                 \
        }                                                                                                            \
    }                                                                                                                \
    ATTR static void tile_##ISA(int64_t kc, const float *ap, const float *bp, float *c, int64_t ldc, int mr,         \
                                int load, int scale, float alpha) {                                                 \
        switch (mr) {                                                                                                \
        TILE_CASE(ISA, MR, 12) TILE_CASE(ISA, MR, 11) TILE_CASE(ISA, MR, 10) TILE_CASE(ISA, MR, 9)                  \
        TILE_CASE(ISA, MR, 8) TILE_CASE(ISA, MR, 7) TILE_CASE(ISA, MR, 6) TILE_CASE(ISA, MR, 5)                     \
        TILE_CASE(ISA, MR, 4) TILE_CASE(ISA, MR, 3) TILE_CASE(ISA, MR, 2)                                           \
        default: tile_##ISA##_body(kc, ap, bp, c, ldc, 1, load, scale, alpha); break;                                \
        }                                                                                                            \
    }
// Row counts above the path's MR never reach the switch; their cases compile to nothing.
#define TILE_CASE(ISA, MR, ROWS)                                                                                     \
    case ROWS:                                                                                                       \
        if ((ROWS) <= (MR)) tile_##ISA##_body(kc, ap, bp, c, ldc, (ROWS) <= (MR) ? (ROWS) : 1, load, scale, alpha); \
        break;

DEFINE_TILE(avx2, AVX2, __m256, 8, X_MR, X_NR, _mm256_loadu_ps, _mm256_load_ps, _mm256_setzero_ps, _mm256_set1_ps,
            _mm256_fmadd_ps, _mm256_mul_ps, _mm256_storeu_ps)

AVX2 static float dot_avx2(int64_t n, const float *x, const float *y) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), s1);
    }
    float s[16];
    _mm256_storeu_ps(s, s0);
    _mm256_storeu_ps(s + 8, s1);
    for (int l = 0; i < n; i++, l++) s[l] = fmaf(x[i], y[i], s[l]);
    return reduce16(s);
}

AVX2 static void axpy_avx2(int64_t n, float a, const float *x, float *y) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] = fmaf(a, x[i], y[i]);
}

AVX2 static void scale_avx2(int64_t n, float a, float *x) {
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), va));
    for (; i < n; i++) x[i] = x[i] * a;
}

// AVX-512: 12 rows × 32 columns, 24 of the 32 registers accumulate; B rows are two aligned 16-float loads.
#define Z_MR 12
#define Z_NR 32
#define Z_MC 144    // 144 × 512 floats of A (288 KiB) stay in L2 while the packed B streams by
#define Z_MCU 1020  // without a packed B, up to 1020 rows share each B panel packed on the fly
#define Z_KC 512

DEFINE_TILE(avx512, AVX512, __m512, 16, Z_MR, Z_NR, _mm512_loadu_ps, _mm512_load_ps, _mm512_setzero_ps,
            _mm512_set1_ps, _mm512_fmadd_ps, _mm512_mul_ps, _mm512_storeu_ps)

AVX512 static float dot_avx512(int64_t n, const float *x, const float *y) {
    __m512 s = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) s = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), s);
    if (i < n) {
        // Lanes past the end keep their partial sums exactly (mask3 leaves them untouched).
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        s = _mm512_mask3_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i), s, m);
    }
    float lanes[16];
    _mm512_storeu_ps(lanes, s);
    return reduce16(lanes);
}

AVX512 static void axpy_avx512(int64_t n, float a, const float *x, float *y) {
    const __m512 va = _mm512_set1_ps(a);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
    }
}

AVX512 static void scale_avx512(int64_t n, float a, float *x) {
    const __m512 va = _mm512_set1_ps(a);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), va));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), va));
    }
}
#endif

static const path_kernels kernels[VLSAE_PATH_COUNT] = {
    [VLSAE_PATH_PORTABLE] = {P_MR, P_NR, 128, 512, 256, tile_portable, pack_b_scalar, dot_portable, axpy_portable,
                             scale_portable},
#if defined(__x86_64__)
    [VLSAE_PATH_AVX2] = {X_MR, X_NR, X_MC, X_MCU, X_KC, tile_avx2, pack_b_avx2, dot_avx2, axpy_avx2, scale_avx2},
    [VLSAE_PATH_AVX512] = {Z_MR, Z_NR, Z_MC, Z_MCU, Z_KC, tile_avx512, pack_b_avx2, dot_avx512, axpy_avx512,
                           scale_avx512},
#endif
};

/// The kernels of `path`, or of the portable build where this architecture has no other.
static const path_kernels *kernels_for(int path) {
    if (path < 0 || path >= VLSAE_PATH_COUNT || kernels[path].tile == NULL) return &kernels[VLSAE_PATH_PORTABLE];
    return &kernels[path];
}

// MARK: the driver

/// C[0 ..< m][0 ..< n] = op(A) · op(B) by the contract, rows in blocks of `mcb`, k in passes of K->kc.
/// op(B) comes either packed whole (`bpanels`: ⌈n / nr⌉ panels of k rows) or, when bpanels is NULL,
/// from (trans_b, b, ldb), each panel packed into `pbuf` (kc·nr floats) just before it is used.
/// `abuf` holds mcb·kc floats.
static void gemm_blocked(const path_kernels *K, int trans_a, int64_t m, const float *a, int64_t lda, int64_t k,
                         int64_t n, float alpha, int accumulate, float *c, int64_t ldc, const float *bpanels,
                         int trans_b, const float *b, int64_t ldb, float *pbuf, int64_t mcb, float *abuf) {
    const int MR = K->mr, NR = K->nr;
    const int64_t panels = (n + NR - 1) / NR;
    float tile[MAX_MR * MAX_NR] __attribute__((aligned(64)));
    for (int64_t ic = 0; ic < m; ic += mcb) {
        const int64_t mc = m - ic < mcb ? m - ic : mcb;
        for (int64_t pc = 0; pc < k; pc += K->kc) {
            const int64_t kc = k - pc < K->kc ? k - pc : K->kc;
            pack_a_block(trans_a, ic, mc, pc, kc, a, lda, MR, abuf);
            const int load = accumulate || pc > 0;
            const int scale = pc + kc == k && !accumulate && alpha != 1.0f;
            for (int64_t q = 0; q < panels; q++) {
                const int64_t j0 = q * NR;
                const int nr = n - j0 < NR ? (int)(n - j0) : NR;
                const float *bp;
                if (bpanels) {
                    bp = bpanels + q * k * NR + pc * NR;
                } else {
                    K->pack_b(trans_b, pc, kc, j0, nr, b, ldb, NR, pbuf, 0);
                    bp = pbuf;
                }
                for (int64_t ir = 0; ir < mc; ir += MR) {
                    const int mr = mc - ir < MR ? (int)(mc - ir) : MR;
                    float *ct = c + (ic + ir) * ldc + j0;
                    if (nr == NR) {
                        K->tile(kc, abuf + ir * kc, bp, ct, ldc, mr, load, scale, alpha);
                    } else {
                        // A partial panel goes through a full-width tile, so padding lanes never touch C.
                        if (load)
                            for (int r = 0; r < mr; r++) memcpy(tile + r * NR, ct + r * ldc, (size_t)nr * sizeof(float));
                        K->tile(kc, abuf + ir * kc, bp, tile, NR, mr, load, scale, alpha);
                        for (int r = 0; r < mr; r++) memcpy(ct + r * ldc, tile + r * NR, (size_t)nr * sizeof(float));
                    }
                }
            }
        }
    }
}

/// C = alpha · 0 (or C unchanged when accumulating): the k = 0 product.
static void empty_product(int64_t m, int64_t n, float alpha, int accumulate, float *c, int64_t ldc) {
    if (accumulate) return;
    const float v = alpha != 1.0f ? 0.0f * alpha : 0.0f;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) c[i * ldc + j] = v;
}

vlsae_packed_b *vlsae_packed_b_create(int path, int64_t k, int64_t n) {
    if (!vlsae_path_supported(path) || k < 0 || n < 0) return NULL;
    const path_kernels *K = kernels_for(path);
    vlsae_packed_b *pk = malloc(sizeof *pk);
    if (!pk) return NULL;
    pk->path = path;
    pk->nr = K->nr;
    pk->k = k;
    pk->n = n;
    pk->panels = (n + K->nr - 1) / K->nr;
    pk->data = alloc_aligned((size_t)(pk->panels * k * K->nr) * sizeof(float));
    if (!pk->data) { free(pk); return NULL; }
    return pk;
}

int64_t vlsae_packed_b_panels(const vlsae_packed_b *packed) { return packed->panels; }

void vlsae_packed_b_fill(vlsae_packed_b *pk, int trans_b, const float *b, int64_t ldb, int64_t first, int64_t count) {
    if (first < 0) { count += first; first = 0; }
    if (first + count > pk->panels) count = pk->panels - first;
    if (count <= 0 || pk->k == 0) return;
    const path_kernels *K = kernels_for(pk->path);
    const int64_t j0 = first * pk->nr, cols = (first + count) * pk->nr < pk->n ? count * pk->nr : pk->n - j0;
    K->pack_b(trans_b, 0, pk->k, j0, cols, b, ldb, pk->nr, pk->data + first * pk->k * pk->nr, pk->k * pk->nr);
}

vlsae_packed_b *vlsae_pack_b_for_path(int path, int trans_b, int64_t k, int64_t n, const float *b, int64_t ldb) {
    vlsae_packed_b *pk = vlsae_packed_b_create(path, k, n);
    if (pk) vlsae_packed_b_fill(pk, trans_b, b, ldb, 0, pk->panels);
    return pk;
}

vlsae_packed_b *vlsae_pack_b(int trans_b, int64_t k, int64_t n, const float *b, int64_t ldb) {
    return vlsae_pack_b_for_path(vlsae_path_active(), trans_b, k, n, b, ldb);
}

void vlsae_packed_b_free(vlsae_packed_b *packed) {
    if (!packed) return;
    free(packed->data);
    free(packed);
}

int vlsae_packed_b_path(const vlsae_packed_b *packed) { return packed->path; }
int64_t vlsae_packed_b_rows(const vlsae_packed_b *packed) { return packed->k; }
int64_t vlsae_packed_b_cols(const vlsae_packed_b *packed) { return packed->n; }
int64_t vlsae_packed_b_bytes(const vlsae_packed_b *packed) {
    return packed->panels * packed->k * packed->nr * (int64_t)sizeof(float);
}

/// Rows of A packed at once: m cut into equal blocks of at most `block` rows, rounded up to whole panels.
static int64_t row_block(const path_kernels *K, int64_t m, int64_t block) {
    const int64_t blocks = (m + block - 1) / block, rows = (m + blocks - 1) / blocks;
    const int64_t r = (rows + K->mr - 1) / K->mr * K->mr;
    return r < block ? r : block;
}

int vlsae_gemm_packed(int trans_a, int64_t m, const float *a, int64_t lda, const vlsae_packed_b *b, float alpha,
                      int accumulate, float *c, int64_t ldc) {
    if (accumulate && alpha != 1.0f) return -1;
    if (m <= 0 || b->n <= 0) return 0;
    if (b->k == 0) { empty_product(m, b->n, alpha, accumulate, c, ldc); return 0; }
    const path_kernels *K = kernels_for(b->path);
    const int64_t mcb = row_block(K, m, K->mc), kc = b->k < K->kc ? b->k : K->kc;
    float *abuf = alloc_aligned((size_t)(mcb * kc) * sizeof(float));
    if (!abuf) return -1;
    gemm_blocked(K, trans_a, m, a, lda, b->k, b->n, alpha, accumulate, c, ldc, b->data, 0, NULL, 0, NULL, mcb, abuf);
    free(abuf);
    return 0;
}

int vlsae_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
               const float *b, int64_t ldb, int accumulate, float *c, int64_t ldc) {
    if (accumulate && alpha != 1.0f) return -1;
    if (m <= 0 || n <= 0) return 0;
    if (k == 0) { empty_product(m, n, alpha, accumulate, c, ldc); return 0; }
    const path_kernels *K = kernels_for(vlsae_path_active());
    // A large block of rows of A, and each B panel packed just before the block's rows use it.
    const int64_t mcb = row_block(K, m, K->mcu), kc = k < K->kc ? k : K->kc;
    float *abuf = alloc_aligned((size_t)(mcb * kc) * sizeof(float));
    float *pbuf = alloc_aligned((size_t)(kc * K->nr) * sizeof(float));
    if (!abuf || !pbuf) { free(abuf); free(pbuf); return -1; }
    gemm_blocked(K, trans_a, m, a, lda, k, n, alpha, accumulate, c, ldc, NULL, trans_b, b, ldb, pbuf, mcb, abuf);
    free(abuf);
    free(pbuf);
    return 0;
}

float vlsae_dot(int64_t n, const float *x, const float *y) { return kernels_for(vlsae_path_active())->dot(n, x, y); }

void vlsae_axpy(int64_t n, float a, const float *x, float *y) { kernels_for(vlsae_path_active())->axpy(n, a, x, y); }

void vlsae_scale(int64_t n, float a, float *x) { kernels_for(vlsae_path_active())->scale(n, a, x); }
