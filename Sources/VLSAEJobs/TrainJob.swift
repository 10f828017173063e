import Foundation
import VLSAECore
import VLSAEFormats
import VLSAEModel

/// `vlsae train`: paired embeddings → a trained autoencoder, written as a checkpoint
/// (safetensors) by `Result.write(to:)`.
public enum TrainJob {
    /// What `vlsae train` passes: the pairs, the architecture and the recipe.
    @MemberwiseInit
    public struct Options: Sendable {
        /// Tensor addresses of the paired embeddings (row i of each is a pair).
        public var images: String
        /// Tensor address of the text embeddings, N × d, row i captioning image row i.
        public var texts: String
        /// nil: the warm-start checkpoint's, else VL-SAE.
        public var arch: SAEArch? = nil
        /// nil: the warm-start checkpoint's, else 256 (released).
        public var topK: Int? = nil
        /// nil: the warm-start checkpoint's, else 8 (released).
        public var hiddenRatio: Int? = nil
        /// The recipe (optimiser, schedule, split, seed); defaults are the released checkpoints' recipe.
        public var train: TrainConfig = TrainConfig()
        /// Checkpoint to warm-start from (`--init`); nil: random initial weights.
        public var initialCheckpoint: String? = nil
        /// Worker threads: how fast, not what is trained (the checkpoint is the same for any count).
        public var threads: Int = 1
        /// Whether to print a line per epoch to standard error.
        public var progress: Bool = true
    }

    /// A trained model and what its training did.
    public struct Result: Sendable {
        /// The model of the best validation epoch.
        public var model: SAEModel
        /// Recipe, per-epoch metrics and the inputs' addresses and SHA-256s (checkpoint metadata).
        public var summary: TrainSummary

        /// Writes the checkpoint: safetensors with the official tensor names, config and summary.
        public func write(to path: String) throws { try Checkpoint.save(model, summary: summary, to: path) }
    }

    /// Loads an address as a rows × d float matrix, naming the address in errors.
    static func loadMatrix(_ address: String) throws -> Matrix { try loadMatrixWithDigest(address).matrix }

    /// The same, with the digest of the file hashed over the bytes the matrix was read from.
    static func loadMatrixWithDigest(_ address: String) throws -> (matrix: Matrix, digest: FileDigest) {
        let a = try TensorAddress(parsing: address)
        let (t, digest) = try TensorFile.loadWithDigest(a)
        do { return (try t.matrix(name: address), digest) } catch let VLSAEError.mismatch(msg) {
            throw VLSAEError.file(a.path, msg)
        }
    }

    /// The checkpoint summary's record of the training pairs: each address and its file's SHA-256.
    static func inputsRecord(images: String, _ imageFile: FileDigest, texts: String, _ textFile: FileDigest) -> [String:
        String]
    {
        ["images": images, "images_sha256": imageFile.sha256, "texts": texts, "texts_sha256": textFile.sha256]
    }

    /// Loads the pairs (hashing each file as it is read), trains and returns the model with its summary; writes
    /// nothing. `onEpoch` is called after each epoch. Throws a usage error when `arch` or `hiddenRatio` contradict the
    /// warm-start checkpoint.
    public static func run(_ o: Options, onEpoch: ((EpochReport) -> Void)? = nil) throws -> Result {
        let (images, imageFile) = try loadMatrixWithDigest(o.images)
        let (texts, textFile) = try loadMatrixWithDigest(o.texts)
        var initial: LoadedCheckpoint? = nil
        if let path = o.initialCheckpoint { initial = try Checkpoint.load(path: path, topK: o.topK) }
        let base = initial?.model.config
        if let base, let arch = o.arch, arch != base.arch {
            throw VLSAEError.usage(
                "--arch \(arch.rawValue) differs from the warm-start checkpoint's \(base.arch.rawValue)")
        }
        if let base, let r = o.hiddenRatio, r != base.hiddenRatio {
            throw VLSAEError.usage("--hidden-ratio \(r) differs from the warm-start checkpoint's \(base.hiddenRatio)")
        }
        let config = SAEConfig(
            arch: o.arch ?? base?.arch ?? .vlsae, inputDim: images.cols,
            hiddenRatio: o.hiddenRatio ?? base?.hiddenRatio ?? 8,
            topK: o.topK ?? base?.topK ?? 256)
        if let initial { try initial.model.checkInputDim(images.cols, source: o.images) }
        try config.validate()
        let result = try Trainer.train(
            images: images, texts: texts, model: config, train: o.train,
            threads: o.threads, initial: initial?.model,
            initialization: initial.map { "\($0.path) sha256 \($0.sha256)" } ?? "random",
            progress: o.progress, onEpoch: onEpoch)
        var summary = result.summary
        summary.inputs = inputsRecord(
            images: try TensorAddress(parsing: o.images).description, imageFile,
            texts: try TensorAddress(parsing: o.texts).description, textFile)
        return Result(model: result.model, summary: summary)
    }

    /// One line per epoch for the console.
    public static func describe(_ r: EpochReport) -> String {
        let v = r.validation
        return String(
            format:
                "epoch %d  lr %.3g  train %.5f  val %.5f  FVU img %.3f txt %.3f  L0 %.1f/%.1f  dead %.3f  pair Jaccard %.3f cosine %.3f",
            r.epoch, r.lr, r.trainLoss, v.loss, v.image.fvu, v.text.fvu, v.image.l0, v.text.l0,
            v.deadFraction, v.pairJaccard, v.pairCosine)
    }
}
