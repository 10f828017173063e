import Foundation
import VLSAECore
import VLSAEFormats
import VLSAEModel

/// `vlsae train`: paired embeddings → trained autoencoder checkpoint (safetensors).
public enum TrainJob {
    public struct Options: Sendable {
        public var images: String
        public var texts: String
        public var output: String
        /// nil: the warm-start checkpoint's, else VL-SAE.
        public var arch: SAEArch?
        /// nil: the warm-start checkpoint's, else 256 (released).
        public var topK: Int?
        /// nil: the warm-start checkpoint's, else 8 (released).
        public var hiddenRatio: Int?
        public var train: TrainConfig
        public var initialCheckpoint: String?
        /// Worker threads: how fast, not what is trained (the checkpoint is the same for any count).
        public var threads: Int
        public var progress: Bool

        public init(images: String, texts: String, output: String, arch: SAEArch? = nil, topK: Int? = nil,
                    hiddenRatio: Int? = nil, train: TrainConfig = TrainConfig(), initialCheckpoint: String? = nil,
                    threads: Int = 1, progress: Bool = true) {
            self.images = images; self.texts = texts; self.output = output; self.arch = arch; self.topK = topK
            self.hiddenRatio = hiddenRatio; self.train = train; self.initialCheckpoint = initialCheckpoint
            self.threads = threads; self.progress = progress
        }
    }

    /// Loads an address as a rows × d float matrix, naming the address in errors.
    static func loadMatrix(_ address: String) throws -> (Matrix, TensorAddress) {
        let a = try TensorAddress(parsing: address)
        let t = try TensorFile.load(a)
        do { return (try t.matrix(name: address), a) } catch let VLSAEError.mismatch(msg) {
            throw VLSAEError.file(a.path, msg)
        }
    }

    @discardableResult
    public static func run(_ o: Options, onEpoch: ((EpochReport) -> Void)? = nil) throws -> TrainSummary {
        let (images, ia) = try loadMatrix(o.images)
        let (texts, ta) = try loadMatrix(o.texts)
        var initial: LoadedCheckpoint? = nil
        if let path = o.initialCheckpoint { initial = try Checkpoint.load(path: path, topK: o.topK) }
        let base = initial?.model.config
        if let base, let arch = o.arch, arch != base.arch {
            throw VLSAEError.usage("--arch \(arch.rawValue) differs from the warm-start checkpoint's \(base.arch.rawValue)")
        }
        if let base, let r = o.hiddenRatio, r != base.hiddenRatio {
            throw VLSAEError.usage("--hidden-ratio \(r) differs from the warm-start checkpoint's \(base.hiddenRatio)")
        }
        let config = SAEConfig(arch: o.arch ?? base?.arch ?? .vlsae, inputDim: images.cols,
                               hiddenRatio: o.hiddenRatio ?? base?.hiddenRatio ?? 8,
                               topK: o.topK ?? base?.topK ?? 256)
        if let initial { try initial.model.checkInputDim(images.cols, source: o.images) }
        try config.validate()
        let result = try Trainer.train(images: images, texts: texts, model: config, train: o.train,
                                       threads: o.threads, initial: initial?.model,
                                       initialization: initial.map { "\($0.path) sha256 \($0.sha256)" } ?? "random",
                                       progress: o.progress, onEpoch: onEpoch)
        var summary = result.summary
        summary.inputs = [
            "images": ia.description, "images_sha256": try SHA256.hex(fileAt: ia.path),
            "texts": ta.description, "texts_sha256": try SHA256.hex(fileAt: ta.path),
        ]
        try Checkpoint.save(result.model, summary: summary, to: o.output)
        return summary
    }

    /// One line per epoch for the console.
    public static func describe(_ r: EpochReport) -> String {
        let v = r.validation
        return String(format: "epoch %d  lr %.3g  train %.5f  val %.5f  FVU img %.3f txt %.3f  L0 %.1f/%.1f  dead %.3f  pair Jaccard %.3f cosine %.3f",
                      r.epoch, r.lr, r.trainLoss, v.loss, v.image.fvu, v.text.fvu, v.image.l0, v.text.l0,
                      v.deadFraction, v.pairJaccard, v.pairCosine)
    }
}

/// `vlsae encode`: embeddings → dense activations (or a modality's reconstruction) as .npy.
public enum EncodeJob {
    public struct Options: Sendable {
        public var checkpoint: String
        public var input: String
        public var output: String
        /// Write the reconstruction through this modality's decoder instead of the activations.
        public var reconstruct: Modality?
        /// Encoder of SAE_D to use (ignored by VL-SAE and SAE_V); defaults to `reconstruct` or image.
        public var modality: Modality?
        /// Active units per row; at most the trained k.
        public var k: Int?
        public var threads: Int

        public init(checkpoint: String, input: String, output: String, reconstruct: Modality? = nil,
                    modality: Modality? = nil, k: Int? = nil, threads: Int = 1) {
            self.checkpoint = checkpoint; self.input = input; self.output = output
            self.reconstruct = reconstruct; self.modality = modality; self.k = k; self.threads = threads
        }
    }

    public struct Result: Sendable {
        public var rows: Int
        public var cols: Int
        public var meanActive: Double
        public var checkpointSHA256: String
    }

    @discardableResult
    public static func run(_ o: Options) throws -> Result {
        guard o.threads >= 1 else { throw VLSAEError.usage("threads must be at least 1 (got \(o.threads))") }
        let ckpt = try Checkpoint.load(path: o.checkpoint)
        var model = ckpt.model
        model.threads = o.threads
        if let k = o.k, !(1...model.config.topK).contains(k) {
            throw VLSAEError.usage("--k \(k) must be between 1 and the trained k (\(model.config.topK))")
        }
        let (x, _) = try TrainJob.loadMatrix(o.input)
        try model.checkInputDim(x.cols, source: o.input)
        if let r = x.firstNonFiniteRow() { throw VLSAEError.file(o.input, "row \(r) holds NaN or infinity") }
        let modality = o.modality ?? o.reconstruct ?? .image
        let codes = model.encode(x, modality: modality, k: o.k)
        let out = o.reconstruct.map { model.decode(codes, modality: $0) } ?? codes.dense()
        try NpyFormat.write(Tensor(shape: [out.rows, out.cols], floats: out.values), to: o.output)
        return Result(rows: out.rows, cols: out.cols, meanActive: codes.meanActive, checkpointSHA256: ckpt.sha256)
    }
}
