import ArgumentParser
import Foundation
import VLSAECore
import VLSAEJobs
import VLSAEModel

extension SAEArch: ExpressibleByArgument {}
extension Modality: ExpressibleByArgument {}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a VL-SAE (or the SAE_D / SAE_V baselines) on paired image and caption embeddings.",
        discussion: """
            Row i of the image array and row i of the text array must be a pair. Defaults follow the \
            released checkpoints: Adam, lr 1e-3, batch 512, 10 epochs, linear warm-up over 2 epochs then \
            cosine annealing (stepped once per epoch; the last epoch runs at lr 0, as upstream), an 80/20 \
            train/validation split, the best-validation weights kept, early stopping after 10 epochs \
            without improvement, k 256, hidden ratio 8. The split, the initial weights and the per-epoch \
            shuffling come from --seed: a given seed gives the same checkpoint bytes at any --threads.

            The checkpoint is safetensors with the official state-dict names (encoder, \
            vision_decoder.weight, ...), the config and a training summary (per-epoch losses, FVU, L0, \
            dead fraction, image-caption consistency, input SHA-256s) in its metadata.
            """)

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp("Image and text embeddings (N × d each), as two tensor addresses.", valueName: "source"))
    var pairs: [String] = []

    @Option(help: ArgumentHelp("Checkpoint to write.", valueName: "ckpt.safetensors"))
    var out: String

    @Option(help: ArgumentHelp("vlsae, sae-d or sae-v (default vlsae, or the --init checkpoint's).", valueName: "arch"))
    var arch: SAEArch?

    @Option(help: ArgumentHelp("Active units per row (default 256, or the --init checkpoint's).", valueName: "k"))
    var topk: Int?

    @Option(help: ArgumentHelp("Hidden size / input dimension (default 8).", valueName: "r"))
    var hiddenRatio: Int?

    @Option(help: "Peak learning rate.") var lr: Double = 1e-3
    @Option(help: "Epochs.") var epochs: Int = 10
    @Option(help: "Pairs per batch.") var batchSize: Int = 512
    @Option(help: "Linear warm-up epochs.") var warmupEpochs: Int = 2
    @Option(help: "Fraction of pairs held out for validation.") var valRatio: Double = 0.2
    @Option(help: "Epochs without validation improvement before stopping.") var patience: Int = 10
    @Option(help: "L2 weight decay added to the gradient (torch Adam).") var weightDecay: Double = 0
    @OptionGroup var seeding: SeedOption
    @OptionGroup var parallel: ThreadsOption
    @Flag(help: "Keep the training rows in split order every epoch (as upstream).")
    var noShuffle = false
    @Option(
        name: .customLong("init"),
        help: ArgumentHelp("Warm start from this checkpoint (.safetensors or official .pth).", valueName: "ckpt"))
    var initial: String?
    @OptionGroup var progress: ProgressOption

    func validate() throws {
        guard pairs.count == 2 else {
            throw ValidationError("--pairs takes exactly two sources: the image embeddings and the text embeddings")
        }
    }

    func run() throws {
        let t = TrainConfig(
            lr: lr, batchSize: batchSize, epochs: epochs, warmupEpochs: warmupEpochs, valRatio: valRatio,
            patience: patience, weightDecay: weightDecay, seed: seeding.seed, shuffle: !noShuffle)
        let options = TrainJob.Options(
            images: pairs[0], texts: pairs[1], arch: arch, topK: topk,
            hiddenRatio: hiddenRatio, train: t, initialCheckpoint: initial,
            threads: parallel.threads, progress: progress.enabled)
        try reportingErrors(threads: parallel.threads) {
            Progress.note(
                "\(parallel.threads) thread(s), kernel path \(KernelPath.active.rawValue), deterministic numerics")
            try refuseOverwritingInputs(outputs: [out], inputs: pairs.map(addressedFile) + [initial])
            let trained = try TrainJob.run(options) { Progress.note(TrainJob.describe($0)) }
            try trained.write(to: out)
            let summary = trained.summary
            Progress.note(
                "best epoch \(summary.bestEpoch) of \(summary.epochsRun), validation loss \(String(format: "%.6g", summary.bestValLoss))\(summary.stoppedEarly ? " (stopped early)" : "")"
            )
            Progress.note("wrote \(out)")
        }
    }
}
