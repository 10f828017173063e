import Foundation
import VLSAECore
import VLSAEFormats
import VLSAEModel
import VLSAEReport
import VLSAESynth

/// `vlsae recovery`: how many of a synthetic suite's planted concepts a trained VL-SAE found.
/// Reads the checkpoint and the suite's ground truth and hands each modality to
/// `ConceptRecovery.measure(concepts:encoderRows:decoderColumns:offset:threshold:)`, which says
/// what is compared and why.
///
/// Chance level: in the default suite's geometry a random dictionary of the data's covariance
/// reaches a mean best cosine of about 0.41 and recovers nothing at 0.9, so the recovered
/// fraction, not the mean best cosine, is the informative figure.
public enum RecoveryJob {
    /// The figures of one modality (`ConceptRecovery`), in that modality's concept space.
    public struct ModalityRecovery: Codable, Equatable, Sendable {
        /// `image` or `text`.
        public var modality: String
        /// Number of planted concepts compared (K).
        public var concepts: Int
        /// Fraction of concepts with some encoder row at cosine ≥ the threshold, in [0, 1].
        public var encoderRecovered: Double
        /// Fraction of concepts with some decoder column at cosine ≥ the threshold, in [0, 1].
        public var decoderRecovered: Double
        /// Mean over concepts of the best cosine with any encoder row.
        public var encoderMeanBestCosine: Double
        /// Mean over concepts of the best cosine with any decoder column.
        public var decoderMeanBestCosine: Double
    }

    /// The recovery figures (`--out`); keys in snake_case like every result.
    public struct Document: Codable, Equatable, Sendable {
        /// The `vlsae` that computed the figures.
        public var tool: ToolRecord
        /// The checkpoint measured, with its SHA-256.
        public var checkpoint: FileDigest
        /// The suite's `suite.json`.
        public var suite: FileDigest
        /// The cosine at which a concept counts as recovered, in (0, 1].
        public var threshold: Double
        /// What is compared with what, in words (offsets projected out), so the figures are read correctly.
        public var comparison: String
        /// One entry per modality: image, then text.
        public var results: [ModalityRecovery]
        /// How the figures were computed (numeric mode, kernel path); the products are single-threaded.
        public var provenance: RunProvenance
    }

    /// Measures the VL-SAE checkpoint at `checkpoint` against the suite in `folder`; throws a usage error for another
    /// architecture or a threshold outside (0, 1].
    ///
    /// - Parameters:
    ///   - checkpoint: path of a VL-SAE checkpoint whose input dimension is the suite's.
    ///   - folder: the suite's folder (with `suite.json`).
    ///   - threshold: the cosine at which a concept counts as recovered.
    ///   - command: recorded verbatim in the provenance.
    public static func run(
        checkpoint: String, suite folder: String, threshold: Double = 0.9,
        command: [String] = ["vlsae", "recovery"]
    ) throws -> Document {
        guard threshold > 0 && threshold <= 1 else {
            throw VLSAEError.usage("--threshold must be in (0, 1], got \(threshold)")
        }
        let ckpt = try Checkpoint.load(path: checkpoint)
        guard ckpt.model.config.arch == .vlsae else {
            throw VLSAEError.usage(
                "concept recovery compares one shared encoder with the planted concepts; \(checkpoint) is \(ckpt.model.config.arch.rawValue)"
            )
        }
        let (desc, suiteFile) = try SynthSuite.read(folder: folder)
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        func matrix(_ name: String) throws -> Matrix {
            try TensorFile.load(TensorAddress(path: path(name))).matrix(name: path(name))
        }

        let offsets = try matrix(desc.modalityOffsets)
        guard offsets.rows == 2 else {
            throw VLSAEError.file(path(desc.modalityOffsets), "expected 2 rows (image, text), found \(offsets.rows)")
        }
        try ckpt.model.checkInputDim(offsets.cols, source: path(desc.modalityOffsets))
        let tensors = Dictionary(uniqueKeysWithValues: ckpt.model.officialTensors().map { ($0.name, $0) })
        func weight(_ name: String) throws -> Matrix {
            guard let t = tensors[name], t.shape.count == 2 else {
                throw VLSAEError.file(checkpoint, "no 2-D tensor \(name)")
            }
            return Matrix(rows: t.shape[0], cols: t.shape[1], values: t.values)
        }
        let encoder = try weight("encoder")  // h × d
        var results: [ModalityRecovery] = []
        for (m, conceptsFile, decoderName) in [
            (0, desc.imageConcepts, "vision_decoder.weight"),
            (1, desc.textConcepts, "text_decoder.weight"),
        ] {
            let concepts = try matrix(conceptsFile)
            let r = try ConceptRecovery.measure(
                concepts: concepts, encoderRows: encoder,
                decoderColumns: try weight(decoderName).transposed,  // d × h → h × d
                offset: Array(offsets.row(m)), threshold: threshold)
            results.append(
                ModalityRecovery(
                    modality: m == 0 ? "image" : "text", concepts: concepts.rows,
                    encoderRecovered: r.encoderRecovered, decoderRecovered: r.decoderRecovered,
                    encoderMeanBestCosine: r.encoderMeanBestCosine, decoderMeanBestCosine: r.decoderMeanBestCosine))
        }
        return Document(
            tool: ToolIdentity.record(), checkpoint: ckpt.digest, suite: suiteFile, threshold: threshold,
            comparison:
                "per modality, in that modality's concept space, modality offset projected out of concepts, encoder rows and decoder columns; the decoder columns' mean direction projected out too",
            results: results, provenance: .current(command: command, threads: 1))
    }

    /// A Markdown table of the recovery figures.
    public static func markdown(_ d: Document) -> String {
        var s =
            "| modality | concepts | encoder rows ≥ \(d.threshold) | decoder columns ≥ \(d.threshold) | encoder mean best cos | decoder mean best cos |\n"
        s += "| --- | ---: | ---: | ---: | ---: | ---: |\n"
        for r in d.results {
            s += String(
                format: "| %@ | %d | %.1f %% | %.1f %% | %.3f | %.3f |\n", r.modality, r.concepts,
                100 * r.encoderRecovered, 100 * r.decoderRecovered, r.encoderMeanBestCosine, r.decoderMeanBestCosine)
        }
        return s
    }
}
