import VLSAEModel

/// The fast recipe these job tests train with: batch 64 (many optimiser steps on a few thousand
/// pairs), learning rate 3e-3, one warm-up epoch; `epochs` and `seed` per test, every other field
/// `TrainConfig()`'s default.
func fastRecipe(epochs: Int, seed: UInt64) -> TrainConfig {
    var t = TrainConfig()
    t.epochs = epochs
    t.warmupEpochs = 1
    t.batchSize = 64
    t.lr = 3e-3
    t.seed = seed
    return t
}
