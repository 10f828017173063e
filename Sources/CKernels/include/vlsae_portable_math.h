// The constant tables of VLSAECore's PortableMath, as data: portable_math_tables.bin, written by
// scripts/make_portable_math_tables.py (mpmath, each value rounded once to nearest-even) and
// embedded into the library at compile time by portable_math_tables.c.
#ifndef VLSAE_PORTABLE_MATH_H
#define VLSAE_PORTABLE_MATH_H

#include <stdint.h>

/// 2^(j/128) as (hi, lo), j = 0…127, interleaved: [hi₀, lo₀, hi₁, lo₁, …] (256 values).
extern const double *const vlsae_pm_exp_table;
/// For j = 90…180 (entry j − 90): invc = RN(128/j) and −log(invc) as (hi, lo), interleaved
/// [invc, hi, lo, …] (273 values). log(m) = log(m·invc) − log(invc) with m·invc − 1 small.
extern const double *const vlsae_pm_log_table;
/// sin(j/64) and cos(j/64) as (hi, lo), j = 0…51, interleaved [sinhi, sinlo, coshi, coslo, …]
/// (208 values).
extern const double *const vlsae_pm_sincos_table;
/// The bits of 2/π after the binary point, 64 per word, most significant first (20 words).
extern const uint64_t *const vlsae_pm_two_over_pi_bits;

#endif
