import Foundation
import VLSAECore
import VLSAEData
import VLSAEFormats
import VLSAEModel
import VLSAEReport

/// The sweep's real work: `Trainer` for training, `ValidationMetrics` on the seeded validation
/// split for FVU/L0/dead units, `EvalJob` (baseline plus the cell's alignment) for accuracy, all
/// in memory. It keeps what it read: the datasets (every cell evaluates the same manifests) and
/// the last training pairs (a cell's training and measuring, and the cells that share them).
public final class StandardSweepBackend: SweepBackend {
    /// Key in the checkpoint's training summary that records the sweep identity hash.
    public static let hashKey = "sweep_checkpoint_hash"

    private var datasets: [String: ZeroShotDataset] = [:]
    private var pairs: (images: String, texts: String, loaded: Pairs)?

    /// Training pairs as read, with the digests of their files.
    private struct Pairs {
        var images: Matrix, texts: Matrix
        var imageFile: FileDigest, textFile: FileDigest
    }

    /// A backend that has read nothing yet.
    public init() {}

    /// Forgets the datasets and training pairs kept from an earlier run.
    public func startRun() {
        datasets = [:]
        pairs = nil
    }

    private func dataset(_ manifest: String) throws -> ZeroShotDataset {
        if let d = datasets[manifest] { return d }
        let d = try ZeroShotDataset.load(manifestPath: manifest)
        datasets[manifest] = d
        return d
    }

    private func loadPairs(_ r: SweepTrainingRequest) throws -> Pairs {
        if let p = pairs, p.images == r.images, p.texts == r.texts { return p.loaded }
        pairs = nil  // free the previous pairs before reading the next
        let (images, imageFile) = try TrainJob.loadMatrixWithDigest(r.images)
        let (texts, textFile) = try TrainJob.loadMatrixWithDigest(r.texts)
        let loaded = Pairs(images: images, texts: texts, imageFile: imageFile, textFile: textFile)
        pairs = (r.images, r.texts, loaded)
        return loaded
    }

    static func trainConfig(_ r: SweepTrainingRequest) -> TrainConfig {
        r.fixedTraining.trainConfig(lr: r.spec.lr, epochs: r.spec.epochs, seed: r.spec.seed)
    }

    static func arch(_ name: String) throws -> SAEArch {
        guard let a = SAEArch(rawValue: name) else {
            throw VLSAEError.usage("unknown architecture \"\(name)\"; use vlsae, sae-d or sae-v")
        }
        return a
    }

    /// Trains the cell's architecture at the request's trained k on the training pairs and saves the checkpoint to
    /// `path`, its summary recording the input digests and the identity hash under `hashKey`.
    public func train(_ r: SweepTrainingRequest, to path: String) throws {
        let p = try loadPairs(r)
        let config = SAEConfig(
            arch: try Self.arch(r.spec.arch), inputDim: p.images.cols, hiddenRatio: r.spec.hiddenRatio,
            topK: r.trainedK)
        let result = try Trainer.train(
            images: p.images, texts: p.texts, model: config, train: Self.trainConfig(r),
            threads: r.threads, progress: false)
        var summary = result.summary
        summary.inputs = TrainJob.inputsRecord(images: r.images, p.imageFile, texts: r.texts, p.textFile)
        summary.inputs[Self.hashKey] = r.checkpointHash
        try Checkpoint.save(result.model, summary: summary, to: path)
    }

    /// Checks that the checkpoint's summary records the request's identity hash, then measures it at `k` on the
    /// validation rows of the seeded split `Trainer.split(rows:valRatio:seed:)`.
    public func measure(checkpoint path: String, request r: SweepTrainingRequest, k: Int) throws -> SweepTrainingFacts {
        let loaded = try Checkpoint.load(path: path)
        guard let summary = loaded.summary, summary.inputs[Self.hashKey] == r.checkpointHash else {
            throw VLSAEError.file(
                path,
                "is not the checkpoint of training identity \(r.checkpointHash) (its summary records \(loaded.summary?.inputs[Self.hashKey] ?? "none")); delete it to retrain"
            )
        }
        var model = loaded.model
        model.threads = r.threads
        let p = try loadPairs(r)
        let split = Trainer.split(rows: p.images.rows, valRatio: r.fixedTraining.valRatio, seed: r.spec.seed)
        let v = ValidationMetrics.measure(
            model, images: p.images.gatherRows(split.validation),
            texts: p.texts.gatherRows(split.validation), k: k)
        return SweepTrainingFacts(
            fvuImage: v.image.fvu, fvuText: v.text.fvu, l0Image: v.image.l0, l0Text: v.text.l0,
            deadFraction: v.deadFraction, valLoss: v.loss, measuredK: k, bestEpoch: summary.bestEpoch,
            epochsRun: summary.epochsRun, trainRows: split.train.count, valRows: split.validation.count)
    }

    /// Runs `EvalJob` on `manifests` with the checkpoint and the one alignment spec, returning all rows (baseline,
    /// alignment, concept-only).
    public func evaluate(
        checkpoint path: String, alignment: String, manifests: [String], evaluation: SweepEvaluation,
        threads: Int
    ) throws -> [ResultRow] {
        let doc = try EvalJob.run(
            EvalJob.Options(
                manifests: manifests, bootstrapResamples: evaluation.bootstrap, seed: evaluation.seed,
                level: evaluation.level, threads: threads, command: [],
                tool: ToolRecord(version: ToolIdentity.version, gitCommit: "unknown"),
                progress: false, alignment: AlignmentOptions(checkpoint: path, specs: [alignment])), datasets: dataset)
        return doc.results
    }
}
