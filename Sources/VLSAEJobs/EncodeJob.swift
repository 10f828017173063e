import Foundation
import VLSAECore
import VLSAEFormats
import VLSAEModel

/// `vlsae encode`: embeddings → dense activations (or a modality's reconstruction), written as
/// .npy by `Result.write(to:)`.
public enum EncodeJob {
    /// What `vlsae encode` passes.
    @MemberwiseInit
    public struct Options: Sendable {
        /// Path of the checkpoint (safetensors or an official `.pth`).
        public var checkpoint: String
        /// Tensor address of the N × d embeddings.
        public var input: String
        /// Write the reconstruction through this modality's decoder instead of the activations.
        public var reconstruct: Modality? = nil
        /// Encoder of SAE_D to use (ignored by VL-SAE and SAE_V); defaults to `reconstruct` or image.
        public var modality: Modality? = nil
        /// Active units per row; at most the trained k.
        public var k: Int? = nil
        /// Worker threads (≥ 1): how fast, not what is computed.
        public var threads: Int = 1
    }

    /// What `run(_:)` computed, in memory.
    public struct Result: Sendable {
        /// N × h activations (zeros for inactive units), or N × d reconstructions.
        public var output: Matrix
        /// Mean active units per row.
        public var meanActive: Double
        /// The checkpoint used, with its SHA-256.
        public var checkpoint: FileDigest

        /// N, the rows encoded.
        public var rows: Int { output.rows }
        /// h (activations) or d (reconstructions).
        public var cols: Int { output.cols }

        /// Writes the output as a float32 .npy file.
        public func write(to path: String) throws {
            try NpyFormat.write(Tensor(shape: [output.rows, output.cols], floats: output.values), to: path)
        }
    }

    /// Loads the checkpoint and the input (rejecting NaN or infinite rows), encodes at `k` (nil: the trained k) and
    /// returns activations or the reconstruction; writes nothing.
    public static func run(_ o: Options) throws -> Result {
        guard o.threads >= 1 else { throw VLSAEError.usage("threads must be at least 1 (got \(o.threads))") }
        let ckpt = try Checkpoint.load(path: o.checkpoint)
        var model = ckpt.model
        model.threads = o.threads
        if let k = o.k, !(1...model.config.topK).contains(k) {
            throw VLSAEError.usage("--k \(k) must be between 1 and the trained k (\(model.config.topK))")
        }
        let x = try TrainJob.loadMatrix(o.input)
        try model.checkInputDim(x.cols, source: o.input)
        if let r = x.firstNonFiniteRow() { throw VLSAEError.file(o.input, "row \(r) holds NaN or infinity") }
        let modality = o.modality ?? o.reconstruct ?? .image
        let codes = model.encode(x, modality: modality, k: o.k)
        let out = o.reconstruct.map { model.decode(codes, modality: $0) } ?? codes.dense()
        return Result(output: out, meanActive: codes.meanActive, checkpoint: ckpt.digest)
    }
}
