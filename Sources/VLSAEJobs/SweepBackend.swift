import Foundation
import VLSAECore
import VLSAEFormats
import VLSAEModel
import VLSAEReport

/// The sweep's real work: `Trainer` for training, `ValidationMetrics` on the seeded validation
/// split for FVU/L0/dead units, `EvalJob` (baseline plus the cell's alignment) for accuracy.
public struct StandardSweepBackend: SweepBackend {
    /// Key in the checkpoint's training summary that records the sweep identity hash.
    public static let hashKey = "sweep_checkpoint_hash"

    public init() {}

    static func trainConfig(_ r: SweepTrainingRequest) -> TrainConfig {
        var tc = TrainConfig()
        tc.lr = r.spec.lr
        tc.epochs = r.spec.epochs
        tc.seed = r.spec.seed
        tc.batchSize = r.fixed.batchSize
        tc.warmupEpochs = r.fixed.warmupEpochs
        tc.valRatio = r.fixed.valRatio
        tc.patience = r.fixed.patience
        tc.weightDecay = r.fixed.weightDecay
        tc.shuffle = r.fixed.shuffle
        return tc
    }

    static func arch(_ name: String) throws -> SAEArch {
        guard let a = SAEArch(rawValue: name) else {
            throw VLSAEError.usage("unknown architecture \"\(name)\"; use vlsae, sae-d or sae-v")
        }
        return a
    }

    public func train(_ r: SweepTrainingRequest, to path: String) throws {
        let (images, _) = try TrainJob.loadMatrix(r.images)
        let (texts, _) = try TrainJob.loadMatrix(r.texts)
        let config = SAEConfig(arch: try Self.arch(r.spec.arch), inputDim: images.cols, hiddenRatio: r.spec.hiddenRatio,
                               topK: r.trainedK)
        let result = try Trainer.train(images: images, texts: texts, model: config, train: Self.trainConfig(r),
                                       threads: r.threads, progress: false)
        var summary = result.summary
        summary.inputs = [
            "images": r.images, "images_sha256": try SHA256.hex(fileAt: try TensorAddressPath.file(r.images)),
            "texts": r.texts, "texts_sha256": try SHA256.hex(fileAt: try TensorAddressPath.file(r.texts)),
            Self.hashKey: r.checkpointHash,
        ]
        try Checkpoint.save(result.model, summary: summary, to: path)
    }

    public func measure(checkpoint path: String, request r: SweepTrainingRequest, k: Int) throws -> SweepTrainingFacts {
        let loaded = try Checkpoint.load(path: path)
        guard let summary = loaded.summary, summary.inputs[Self.hashKey] == r.checkpointHash else {
            throw VLSAEError.file(path, "is not the checkpoint of training identity \(r.checkpointHash) (its summary records \(loaded.summary?.inputs[Self.hashKey] ?? "none")); delete it to retrain")
        }
        var model = loaded.model
        model.threads = r.threads
        let (images, _) = try TrainJob.loadMatrix(r.images)
        let (texts, _) = try TrainJob.loadMatrix(r.texts)
        let split = Trainer.split(rows: images.rows, valRatio: r.fixed.valRatio, seed: r.spec.seed)
        let v = ValidationMetrics.measure(model, images: images.gatherRows(split.validation),
                                          texts: texts.gatherRows(split.validation), k: k)
        return SweepTrainingFacts(fvuImage: v.image.fvu, fvuText: v.text.fvu, l0Image: v.image.l0, l0Text: v.text.l0,
                                  deadFraction: v.deadFraction, valLoss: v.loss, measuredK: k, bestEpoch: summary.bestEpoch,
                                  epochsRun: summary.epochsRun, trainRows: split.train.count, valRows: split.validation.count)
    }

    public func evaluate(checkpoint path: String, alignment: String, manifests: [String], evaluation: SweepEvaluation,
                         threads: Int) throws -> [ResultRow] {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("vlsae-sweep-eval-\(getpid())-\(UUID().uuidString).json").path
        defer { unlink(scratch) }
        let doc = try EvalJob.run(EvalJob.Options(
            manifests: manifests, output: scratch, bootstrapResamples: evaluation.bootstrap, seed: evaluation.seed,
            level: evaluation.level, threads: threads, command: [], tool: ToolRecord(version: ToolIdentity.version, gitCommit: "unknown"),
            progress: false, alignment: AlignmentOptions(checkpoint: path, specs: [alignment])))
        return doc.results
    }
}

/// The file part of a tensor address.
enum TensorAddressPath {
    static func file(_ address: String) throws -> String { try TensorAddress(parsing: address).path }
}
