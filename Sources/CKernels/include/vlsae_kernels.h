// Hot loops of the sparse autoencoder passes, in C so that they can use AVX2 / AVX-512 where the CPU has
// them (Swift compiles for baseline x86-64), with their loops ordered for the caches.
// Each function runs the build of the active kernel path (vlsae_dispatch.h: portable, AVX2 or AVX-512);
// every build performs the same operations in the same order with contraction off, so they return
// bit-identical results.
#ifndef VLSAE_KERNELS_H
#define VLSAE_KERNELS_H

#include <stdint.h>

/// The scalars of one Adam step (see Adam in Optimizer.swift).
typedef struct {
    float step_size;      // lr / (1 − β₁ᵗ)
    float one_minus_beta1;
    float beta2;
    float one_minus_beta2;
    float eps;
    float weight_decay;   // 0: no decay term is added
    float bias_correction2_sqrt;  // √(1 − β₂ᵗ)
} vlsae_adam_step;

/// Adam on n contiguous parameters: g ← g + λθ; m ← m + (1−β₁)(g − m); v ← β₂v + (1−β₂)g²;
/// θ ← θ − step_size · m / (√v / √(1−β₂ᵗ) + ε).
void vlsae_adam(int64_t n, float *param, const float *grad, float *m, float *v, const vlsae_adam_step *s);

/// Groups the active slots of `rows` rows of sparse codes (row r: counts[r] slots at r·k) by unit: unit j's
/// slots (as r·k + t) land in list[start[j] ..< start[j+1]], rows ascending. `start` holds h + 1 integers,
/// `list` at least the number of active slots.
void vlsae_group_by_unit(int32_t h, int32_t k, int32_t rows, const int32_t *counts, const int32_t *indices,
                         int32_t *start, int32_t *list);

/// Decodes `rows` rows of sparse codes (row r: counts[r] slots at r·k, unit indices ascending):
/// out_r ← bias + Σ_t values[r·k+t] · wT[indices[r·k+t]·d …] (decoder columns stored contiguously), the terms
/// added in slot order. The work runs unit by unit, each decoder column read once per block while the
/// block's output rows stay in L2 (blocks of about 256 rows), which gives the same sums as row by row.
/// `work` holds h + 1 + rows·k integers.
void vlsae_decode_block(int32_t d, int32_t h, int32_t k, int32_t rows, const float *bias, const float *wT,
                        const int32_t *counts, const int32_t *indices, const float *values, float *out, int32_t *work);

/// The backward contribution of one unit's active slots in one modality. For each slot s (ascending),
/// with row r = slots[s] / k: dz = (e_r · col) · deriv[slot]; grad_dec += values[slot] · e_r;
/// grad_enc += dz · x_r; *grad_bias += dz when grad_bias is not NULL. e, x are row-major with d columns.
void vlsae_unit_backward(int32_t d, int32_t k, int32_t count, const int32_t *slots, const float *e, const float *x,
                         const float *values, const float *deriv, const float *col, float *grad_dec, float *grad_enc,
                         float *grad_bias);

#endif
