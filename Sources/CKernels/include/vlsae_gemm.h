// Deterministic dense products and level-1 kernels: the same bits on every CPU, path and thread count.
//
// GEMM contract. C (m × n) = op(A) (m × k) · op(B) (k × n), all row-major, op = identity or transpose.
// Each output element is ONE fused multiply-add chain over p = 0, 1, …, k−1 in ascending order,
//     acc = 0 (or acc = C(i, j) when accumulating);  acc = fmaf(a(i, p), b(p, j), acc)  for each p,
// then, when not accumulating and alpha ≠ 1, C(i, j) = alpha · acc (one rounded multiply), else acc.
// The kernels vectorise across output columns (one lane per output element), never across k, and may
// block over m, n and k (a partial accumulator stored and reloaded as a float is exact), so a row's
// values do not depend on the path, on the other rows computed with it, or on how rows are split.
//
// Level 1 (same results in every path):
//   dot(n, x, y): sixteen partial chains, lane l = fmaf(x[i], y[i], lane l) over i ≡ l (mod 16)
//                 ascending, from 0; then s[l] = s[l] + s[l + w] for w = 8, 4, 2, 1 (l < w); s[0].
//   axpy(n, a, x, y): y[i] = fmaf(a, x[i], y[i]).
//   scale(n, a, x): x[i] = x[i] · a.
#ifndef VLSAE_GEMM_H
#define VLSAE_GEMM_H

#include <stdint.h>

/// op(B) packed into column panels for the kernels of one path. The layout belongs to that path: a
/// multiply with a packed B always runs on the path it was packed for (recorded in it), whatever the
/// active path is by then, so a pack can never be read with another path's layout.
typedef struct vlsae_packed_b vlsae_packed_b;

/// Packs op(B) (k × n; B is n × k with leading dimension ldb when trans_b, else k × n) for the active
/// path. NULL when memory runs out. Free with vlsae_packed_b_free.
vlsae_packed_b *vlsae_pack_b(int trans_b, int64_t k, int64_t n, const float *b, int64_t ldb);

/// As vlsae_pack_b for a given path; NULL also when the CPU cannot run it.
vlsae_packed_b *vlsae_pack_b_for_path(int path, int trans_b, int64_t k, int64_t n, const float *b, int64_t ldb);

/// A pack for `path` with room for op(B) (k × n) but nothing packed yet: fill its panels (⌈n / panel width⌉,
/// see vlsae_packed_b_panels) with vlsae_packed_b_fill, e.g. disjoint ranges from several threads.
vlsae_packed_b *vlsae_packed_b_create(int path, int64_t k, int64_t n);
int64_t vlsae_packed_b_panels(const vlsae_packed_b *packed);
/// Packs panels [first, first + count) of op(B) (arguments as for vlsae_pack_b) into `packed`.
void vlsae_packed_b_fill(vlsae_packed_b *packed, int trans_b, const float *b, int64_t ldb, int64_t first, int64_t count);

void vlsae_packed_b_free(vlsae_packed_b *packed);

/// The path a pack was made for, and its op(B) shape.
int vlsae_packed_b_path(const vlsae_packed_b *packed);
int64_t vlsae_packed_b_rows(const vlsae_packed_b *packed);  // k
int64_t vlsae_packed_b_cols(const vlsae_packed_b *packed);  // n
/// Bytes the pack holds.
int64_t vlsae_packed_b_bytes(const vlsae_packed_b *packed);

/// C (m × n, leading dimension ldc) = op(A) · op(B) with a packed op(B) (k × n), by the contract above.
/// op(A) is m × k: A is k × m with leading dimension lda when trans_a, else m × k. `accumulate`: 0 (C is
/// overwritten, then scaled by alpha when alpha ≠ 1) or 1 (C is the start of every chain; alpha must be 1).
/// Returns 0, or -1 when accumulate is set with alpha ≠ 1 or memory runs out (C untouched).
/// Single-threaded; concurrent calls on disjoint rows of C may share one pack.
int vlsae_gemm_packed(int trans_a, int64_t m, const float *a, int64_t lda, const vlsae_packed_b *b, float alpha,
                      int accumulate, float *c, int64_t ldc);

/// The same product with op(B) packed internally (in column blocks), on the active path.
int vlsae_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
               const float *b, int64_t ldb, int accumulate, float *c, int64_t ldc);

/// The level-1 kernels of the contract above, on the active path.
float vlsae_dot(int64_t n, const float *x, const float *y);
void vlsae_axpy(int64_t n, float a, const float *x, float *y);
void vlsae_scale(int64_t n, float a, float *x);

#endif
