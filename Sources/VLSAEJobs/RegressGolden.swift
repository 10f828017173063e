import Foundation
import VLSAECore
import VLSAEModel
import VLSAEReport
import VLSAESynth

/// The reduced golden run that `make test` regenerates: a small planted-concept suite (fixed
/// seed), one small VL-SAE trained on it, and the baseline plus two alignment variants evaluated
/// on its two zero-shot sets. Every step is the same code as `vlsae synth`, `vlsae train` and
/// `vlsae eval --sae … --alignment …`; only the sizes are small, so it runs in seconds in a
/// debug build. Its result document is committed as `Results/golden/small-synth.json`.
public enum RegressGolden {
    /// The golden's file name in `Results/golden/`.
    public static let fileName = "small-synth.json"

    /// The small suite: seed 20 251 125, d 32 (concepts mostly in a 24-dimensional subspace), 96 concepts, 2000
    /// training pairs, 3 templates, zero-shot sets small10 (10 classes, 1000 images) and small40 (40 classes,
    /// 1200 images).
    public static var synthParameters: SynthParameters {
        SynthParameters(
            seed: 20_251_125, dim: 32, subspaceDim: 24, concepts: 96, trainPairs: 2000, templates: 3,
            evalSets: [
                SynthEvalSetSpec(name: "small10", classes: 10, images: 1000),
                SynthEvalSetSpec(name: "small40", classes: 40, images: 1200),
            ])
    }

    /// The small recipe: lr 0.004, 6 epochs with 1 warm-up, batch 128, seed 7; the rest `TrainConfig`'s defaults.
    public static var trainConfig: TrainConfig {
        TrainConfig(lr: 0.004, batchSize: 128, epochs: 6, warmupEpochs: 1, seed: 7)
    }

    /// Hidden ratio of the small VL-SAE (h = 4 × 32).
    public static let hiddenRatio = 4
    /// k of the small VL-SAE.
    public static let topK = 12
    /// The two alignment specs evaluated besides the baseline.
    public static let alignments = [
        "representation=hidden,text=average-first,alpha=fixed:1",
        "representation=reconstruction,text=per-template,alpha=fixed:0.5",
    ]

    /// Generates the suite, trains and evaluates inside `folder` (writing `suite/`,
    /// `sae.safetensors` and `result.json` there, as the commands would); paths in the document are
    /// relative to `folder` (the working directory is switched there while the jobs run).
    /// `mutateCheckpoint` may alter the trained checkpoint before evaluation (tests use it to
    /// check that a worse model is caught). `threads` changes how fast, never what is written.
    public static func run(
        in folder: String, tool: ToolRecord, threads: Int = 1,
        mutateCheckpoint: ((String) throws -> Void)? = nil
    ) throws -> ResultDocument {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let cwd = FileManager.default.currentDirectoryPath
        guard FileManager.default.changeCurrentDirectoryPath(folder) else {
            throw VLSAEError.file(folder, "cannot enter folder")
        }
        defer { _ = FileManager.default.changeCurrentDirectoryPath(cwd) }
        let p = synthParameters
        _ = try SynthJob.run(SynthJob.Options(folder: "suite", parameters: p))
        try TrainJob.run(
            TrainJob.Options(
                images: "suite/train_image.npy", texts: "suite/train_text.npy",
                arch: .vlsae, topK: topK, hiddenRatio: hiddenRatio,
                train: trainConfig, threads: threads, progress: false)
        )
        .write(to: "sae.safetensors")
        try mutateCheckpoint?("sae.safetensors")
        let doc = try EvalJob.run(
            EvalJob.Options(
                manifests: p.evalSets.map { "suite/\($0.name)/manifest.json" },
                bootstrapResamples: 1000, seed: 0, threads: threads,
                command: ["vlsae", "(regress golden: small synthetic suite)"],
                tool: tool, progress: false,
                alignment: AlignmentOptions(checkpoint: "sae.safetensors", specs: alignments)))
        try doc.write(to: "result.json")
        return doc
    }
}
