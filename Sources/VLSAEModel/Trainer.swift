import Foundation
import VLSAECore

/// Training recipe: what decides the trained weights (the worker thread count does not, so it is no
/// part of the recipe and is not stored in checkpoints). Defaults are the released checkpoints' recipe, i.e. the official
/// cvlms/sae_trainer/train.py (ssfgunner/VL-SAE) as its train.sh runs it: Adam, lr 1e-3 (train.sh's `--initial_lr`;
/// train.py's own default is 1e-4), batch 512, 10 epochs, 2 warm-up epochs, 80/20 split, patience 10, no weight decay.
@MemberwiseInit
public struct TrainConfig: Codable, Equatable, Sendable {
    /// Base (peak) learning rate, reached at the end of warm-up; JSON `lr` in a checkpoint's summary.
    public var lr: Double = 1e-3
    /// Training rows per Adam step; the last batch of an epoch may be smaller.
    public var batchSize: Int = 512
    /// Maximum number of epochs.
    public var epochs: Int = 10
    /// W, epochs of linear warm-up before cosine annealing (see `LRSchedule`), between 0 and `epochs`.
    public var warmupEpochs: Int = 2
    /// Fraction of pairs held out for validation, in (0, 1).
    public var valRatio: Double = 0.2
    /// Stop after this many consecutive epochs without a lower validation loss.
    public var patience: Int = 10
    /// L2 weight decay λ for Adam; 0 as upstream.
    public var weightDecay: Double = 0
    /// Root of every random stream of a run: split, initial weights and shuffles (see `Trainer`).
    public var seed: UInt64 = 0
    /// Reshuffle the training rows (pairs kept together) each epoch. Upstream iterates in the
    /// order of its random split and never reshuffles; its `--shuffle` flag instead permutes images
    /// and captions independently once, which breaks the pairing, so it has no counterpart here.
    public var shuffle: Bool = true

    /// Throws `VLSAEError.usage` for a value out of range, a learning rate that is 0 in float32, or a schedule that is
    /// 0 in every epoch (e.g. one epoch without warm-up), which would write an untrained checkpoint.
    public func validate() throws {
        guard lr > 0, lr.isFinite else { throw VLSAEError.usage("learning rate must be positive (got \(lr))") }
        guard batchSize >= 1 else { throw VLSAEError.usage("batch size must be at least 1 (got \(batchSize))") }
        guard epochs >= 1 else { throw VLSAEError.usage("epochs must be at least 1 (got \(epochs))") }
        guard warmupEpochs >= 0 && warmupEpochs <= epochs else {
            throw VLSAEError.usage("warm-up epochs must be between 0 and epochs (\(epochs)), got \(warmupEpochs)")
        }
        guard valRatio > 0 && valRatio < 1 else {
            throw VLSAEError.usage("validation ratio must be in (0, 1) (got \(valRatio))")
        }
        guard patience >= 1 else { throw VLSAEError.usage("patience must be at least 1 (got \(patience))") }
        guard weightDecay >= 0, weightDecay.isFinite else {
            throw VLSAEError.usage("weight decay must be ≥ 0 (got \(weightDecay))")
        }
        guard Float(lr) > 0 else { throw VLSAEError.usage("learning rate \(lr) is 0 in float32") }
        // Refuse a schedule that never moves the weights rather than write an untrained checkpoint as trained.
        let rates = (0..<epochs).map {
            LRSchedule.learningRate(epoch: $0, base: lr, epochs: epochs, warmupEpochs: warmupEpochs)
        }
        guard rates.contains(where: { Float($0) > 0 }) else {
            throw VLSAEError.usage(
                "the learning-rate schedule is 0 in every epoch (epochs \(epochs), warm-up epochs \(warmupEpochs): "
                    + "cosine annealing reaches 0 in its last epoch), so training would not change the weights; "
                    + "use more epochs or at least one warm-up epoch")
        }
    }
}

/// Reconstruction quality of one modality on the validation rows.
public struct ModalityMetrics: Codable, Equatable, Sendable {
    /// Mean squared reconstruction error over all elements of the validation rows.
    public var mse: Double
    /// Fraction of variance unexplained: Σ‖x − x̂‖² / Σ‖x − mean(x)‖² (column means over the rows).
    public var fvu: Double
    /// 1 − fvu (NaN when fvu is).
    public var explainedVariance: Double
    /// Mean number of active units per row.
    public var l0: Double
}

/// Validation metrics of a model on paired rows.
public struct ValidationMetrics: Codable, Equatable, Sendable {
    /// MSE(image) + MSE(text), the training objective.
    public var loss: Double
    /// Image-side reconstruction metrics.
    public var image: ModalityMetrics
    /// Text-side reconstruction metrics.
    public var text: ModalityMetrics
    /// Fraction of units active on no validation row of either modality.
    public var deadFraction: Double
    /// Mean over pairs of |S_image ∩ S_text| / |S_image ∪ S_text| of the active sets.
    public var pairJaccard: Double
    /// Mean over pairs of the cosine between the image and caption activation vectors.
    public var pairCosine: Double

    /// Metrics of `model` on paired `images` / `texts` (row i of each is a pair).
    public static func measure(_ model: SAEModel, images: Matrix, texts: Matrix, k: Int? = nil) -> ValidationMetrics {
        let zi = model.encode(images, modality: .image, k: k)
        let zt = model.encode(texts, modality: .text, k: k)
        func quality(_ x: Matrix, _ z: SparseCodes, _ m: Modality) -> ModalityMetrics {
            let recon = model.decode(z, modality: m)
            let d = x.cols
            let n = x.rows
            var mean = [Double](repeating: 0, count: d)
            for r in 0..<n { for i in 0..<d { mean[i] += Double(x[r, i]) } }
            for i in 0..<d { mean[i] /= Double(max(n, 1)) }
            var sse = 0.0
            var sst = 0.0
            for r in 0..<n {
                for i in 0..<d {
                    let v = Double(x[r, i])
                    let e = Double(recon[r, i]) - v
                    let c = v - mean[i]
                    sse += e * e
                    sst += c * c
                }
            }
            let fvu = sst > 0 ? sse / sst : .nan
            return ModalityMetrics(
                mse: n * d > 0 ? sse / Double(n * d) : 0, fvu: fvu,
                explainedVariance: 1 - fvu, l0: z.meanActive)
        }
        let qi = quality(images, zi, .image)
        let qt = quality(texts, zt, .text)
        var alive = [Bool](repeating: false, count: model.config.hidden)
        for z in [zi, zt] { for r in 0..<z.rows { for j in z.activeUnits(r) { alive[Int(j)] = true } } }
        var jaccard = 0.0
        var cosine = 0.0
        let pairs = min(zi.rows, zt.rows)
        for r in 0..<pairs {
            // Both active lists are ascending: merge them.
            let a = zi.activeUnits(r)
            let av = zi.activeValues(r)
            let b = zt.activeUnits(r)
            let bv = zt.activeValues(r)
            var ia = a.startIndex
            var ib = b.startIndex
            var common = 0
            var dot = 0.0
            while ia < a.endIndex && ib < b.endIndex {
                if a[ia] == b[ib] {
                    common += 1
                    dot +=
                        Double(av[av.startIndex + (ia - a.startIndex)])
                        * Double(bv[bv.startIndex + (ib - b.startIndex)])
                    ia += 1
                    ib += 1
                } else if a[ia] < b[ib] {
                    ia += 1
                } else {
                    ib += 1
                }
            }
            let union = a.count + b.count - common
            jaccard += union > 0 ? Double(common) / Double(union) : 0
            let na = av.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            let nb = bv.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            cosine += na > 0 && nb > 0 ? dot / (na * nb) : 0
        }
        let dead = Double(alive.filter { !$0 }.count) / Double(max(model.config.hidden, 1))
        return ValidationMetrics(
            loss: qi.mse + qt.mse, image: qi, text: qt, deadFraction: dead,
            pairJaccard: pairs > 0 ? jaccard / Double(pairs) : 0,
            pairCosine: pairs > 0 ? cosine / Double(pairs) : 0)
    }
}

/// One epoch of a training run, as reported to `onEpoch` and kept in `TrainSummary.epochs`.
public struct EpochReport: Codable, Equatable, Sendable {
    /// 1-based, as upstream prints it.
    public var epoch: Int
    /// Learning rate used throughout the epoch (see `LRSchedule`).
    public var lr: Double
    /// Mean training loss over the epoch's rows (each batch weighted by its rows; upstream divides
    /// the sum of batch losses by ⌊N / batch⌋, which overstates it when the last batch is partial).
    public var trainLoss: Double
    /// Metrics on the validation rows after the epoch's last step.
    public var validation: ValidationMetrics
}

/// What a training run did; stored in the checkpoint's metadata.
public struct TrainSummary: Codable, Equatable, Sendable {
    /// The architecture and shape trained.
    public var model: SAEConfig
    /// The recipe trained with.
    public var train: TrainConfig
    /// Pairs in the training split.
    public var trainRows: Int
    /// Pairs in the validation split.
    public var valRows: Int
    /// Epochs actually run (fewer than `train.epochs` after an early stop).
    public var epochsRun: Int
    /// 1-based epoch whose weights were kept (best validation loss).
    public var bestEpoch: Int
    /// Validation loss of `bestEpoch` (MSE(image) + MSE(text)).
    public var bestValLoss: Double
    /// True when patience ended training before `train.epochs`.
    public var stoppedEarly: Bool
    /// One report per epoch run, in order.
    public var epochs: [EpochReport]
    /// Where the starting weights came from ("random" or the warm-start checkpoint).
    public var initialization: String
    /// Sources of the training data (addresses and digests), filled in by the caller.
    public var inputs: [String: String] = [:]
}

/// Trains an autoencoder on paired embeddings the way upstream train.py does (see `TrainConfig`).
///
/// Random streams, all from `SeededRandom(seed:)`: `.derived(1)` permutes the rows for the split
/// (first ⌊N·(1 − valRatio)⌋ train, rest validation, as upstream); `.derived(2).next()` seeds the
/// initial weights; `.derived(100 + e)` shuffles the training rows for epoch e.
public enum Trainer {
    /// Trains a model and returns the weights of the epoch with the lowest validation loss, with the run's summary.
    ///
    /// - Parameters:
    ///   - images: N × d image embeddings, row i paired with row i of `texts`.
    ///   - texts: N × d text embeddings.
    ///   - config: architecture and shape; must match `initial`'s when that is given.
    ///   - tc: the recipe; validated before anything else.
    ///   - threads: worker threads (at least 1); the result does not depend on it.
    ///   - initial: warm-start weights; nil draws initial weights from the seed.
    ///   - initialization: what `TrainSummary.initialization` records ("random" or the warm-start checkpoint).
    ///   - progress: whether to draw a progress bar on standard error.
    ///   - onEpoch: called after each epoch with its report.
    /// - Throws: `VLSAEError` for an invalid config or recipe, unpaired or non-finite rows, a dimension mismatch, a
    ///   split with an empty side, or parameters that become non-finite.
    public static func train(
        images: Matrix, texts: Matrix, model config: SAEConfig, train tc: TrainConfig,
        threads: Int = 1, initial: SAEModel? = nil, initialization: String = "random", progress: Bool = true,
        onEpoch: ((EpochReport) -> Void)? = nil
    ) throws -> (model: SAEModel, summary: TrainSummary) {
        try config.validate()
        try tc.validate()
        guard threads >= 1 else { throw VLSAEError.usage("threads must be at least 1 (got \(threads))") }
        guard images.rows == texts.rows else {
            throw VLSAEError.mismatch(
                "image and text embeddings must be paired row by row: \(images.rows) vs \(texts.rows) rows")
        }
        try checkDim(images.cols, config, "image embeddings")
        try checkDim(texts.cols, config, "text embeddings")
        if let r = images.firstNonFiniteRow() {
            throw VLSAEError.mismatch("image embeddings: row \(r) holds NaN or infinity")
        }
        if let r = texts.firstNonFiniteRow() {
            throw VLSAEError.mismatch("text embeddings: row \(r) holds NaN or infinity")
        }
        let n = images.rows
        let (trainIdx, valIdx) = split(rows: n, valRatio: tc.valRatio, seed: tc.seed)
        let trainRows = trainIdx.count
        guard trainRows >= 1 && !valIdx.isEmpty else {
            throw VLSAEError.usage(
                "\(n) pairs cannot be split with validation ratio \(tc.valRatio) into non-empty training and validation sets"
            )
        }
        let root = SeededRandom(seed: tc.seed)
        let trI = images.gatherRows(trainIdx)
        let trT = texts.gatherRows(trainIdx)
        let vaI = images.gatherRows(valIdx)
        let vaT = texts.gatherRows(valIdx)

        var model: SAEModel
        if let initial {
            guard initial.config == config else {
                throw VLSAEError.mismatch(
                    "warm-start checkpoint is \(initial.config.arch.rawValue) d=\(initial.config.inputDim) h=\(initial.config.hidden) k=\(initial.config.topK), training asks for \(config.arch.rawValue) d=\(config.inputDim) h=\(config.hidden) k=\(config.topK)"
                )
            }
            model = initial
        } else {
            var initRNG = root.derived(2)
            model = try SAEModel(config: config, seed: initRNG.next())
        }
        model.threads = threads

        var adam = Adam(count: model.parameters.count, weightDecay: tc.weightDecay)
        var grads: [Float] = []
        let batches = (trainRows + tc.batchSize - 1) / tc.batchSize
        let bar = Progress("train \(config.arch.rawValue)", total: tc.epochs * batches, enabled: progress)
        var best = model
        var bestLoss = Double.infinity
        var bestEpoch = 0
        var bad = 0
        var stopped = false
        var reports: [EpochReport] = []
        for e in 0..<tc.epochs {
            let lr = LRSchedule.learningRate(epoch: e, base: tc.lr, epochs: tc.epochs, warmupEpochs: tc.warmupEpochs)
            var order = Array(0..<trainRows)
            if tc.shuffle {
                var rng = root.derived(100 + UInt64(e))
                order = rng.permutation(trainRows)
            }
            var lossSum = 0.0
            for b in 0..<batches {
                let rows = order[(b * tc.batchSize)..<min((b + 1) * tc.batchSize, trainRows)]
                let bi = trI.gatherRows(rows)
                let bt = trT.gatherRows(rows)
                let loss = model.lossAndGradients(images: bi, texts: bt, gradients: &grads)
                adam.update(&model.parameters, gradients: grads, lr: lr, threads: threads)
                lossSum += loss.total * Double(rows.count)
                bar.update(e * batches + b + 1, status: String(format: "epoch %d loss %.5f", e + 1, loss.total))
            }
            if let bad = model.parameters.firstIndex(where: { !$0.isFinite }) {
                throw VLSAEError.usage(
                    "training diverged in epoch \(e + 1): parameter \(bad) is not finite (lower the learning rate)")
            }
            let val = ValidationMetrics.measure(model, images: vaI, texts: vaT)
            let report = EpochReport(epoch: e + 1, lr: lr, trainLoss: lossSum / Double(trainRows), validation: val)
            reports.append(report)
            onEpoch?(report)
            if val.loss < bestLoss {
                bestLoss = val.loss
                bestEpoch = e + 1
                best = model
                bad = 0
            } else {
                bad += 1
                if bad >= tc.patience {
                    stopped = e + 1 < tc.epochs
                    break
                }
            }
        }
        let summary = TrainSummary(
            model: config, train: tc, trainRows: trainRows, valRows: n - trainRows,
            epochsRun: reports.count, bestEpoch: bestEpoch, bestValLoss: bestLoss,
            stoppedEarly: stopped, epochs: reports, initialization: initialization)
        return (best, summary)
    }

    /// The seeded train/validation split: a permutation from `SeededRandom(seed).derived(1)`, its
    /// first ⌊n·(1 − valRatio)⌋ entries for training (upstream: `int(total * training_ratio)`).
    public static func split(rows n: Int, valRatio: Double, seed: UInt64) -> (train: [Int], validation: [Int]) {
        var rng = SeededRandom(seed: seed).derived(1)
        let perm = rng.permutation(n)
        let trainRows = max(0, min(n, Int((Double(n) * (1 - valRatio) + 1e-9).rounded(.down))))
        return (Array(perm[0..<trainRows]), Array(perm[trainRows...]))
    }

    static func checkDim(_ d: Int, _ config: SAEConfig, _ what: String) throws {
        guard d == config.inputDim else {
            throw VLSAEError.mismatch(
                "\(what) have dimension \(d) but the autoencoder is configured for \(config.inputDim)")
        }
    }
}
