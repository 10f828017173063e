// SHA-256 block compression (FIPS 180-4) for VLSAECore.SHA256, which does the buffering and padding.
// Every input file is hashed into every result, so this runs over every byte a job reads: the x86 SHA
// extensions are used where the CPU has them (about ten times the portable speed) unless the active kernel
// path (vlsae_dispatch.h) is portable. Integer arithmetic: every path gives the same state.
#ifndef VLSAE_SHA256_H
#define VLSAE_SHA256_H

#include <stdint.h>

/// Compresses `blocks` consecutive 64-byte blocks into `state` (the eight working words, H0 first).
void vlsae_sha256_blocks(uint32_t state[8], const uint8_t *data, int64_t blocks);

/// 1 when `vlsae_sha256_blocks` uses the SHA extensions on the active path.
int vlsae_sha256_uses_extensions(void);

#endif
