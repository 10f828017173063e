import Foundation
import VLSAECore
import VLSAEFormats
import VLSAEModel
import VLSAEReport
import VLSAESynth

/// `vlsae recovery`: how many of a synthetic suite's planted concepts a trained VL-SAE found.
///
/// Compared per modality, in that modality's space (`concepts_image.npy`, `concepts_text.npy`),
/// with the modality offset projected out of both sides: the distance-based encoder's rows sit
/// near normalised inputs and so carry the offset, and a decoder may absorb it into its columns
/// rather than its bias. Without the projection a shared offset inflates every cosine. The decoder
/// columns' common mean direction is projected out too: every VL-SAE code has k active units with
/// values of at least ~0.6, so a component shared by all columns cannot be told apart from the
/// bias and carries no concept.
///
/// Chance level: in the default suite's geometry a random dictionary of the data's covariance
/// reaches a mean best cosine of about 0.41 and recovers nothing at 0.9, so the recovered
/// fraction, not the mean best cosine, is the informative figure.
public enum RecoveryJob {
    public struct ModalityRecovery: Codable, Equatable, Sendable {
        public var modality: String
        public var concepts: Int
        public var encoderRecovered: Double
        public var decoderRecovered: Double
        public var encoderMeanBestCosine: Double
        public var decoderMeanBestCosine: Double

        enum CodingKeys: String, CodingKey {
            case modality, concepts
            case encoderRecovered = "encoder_recovered"
            case decoderRecovered = "decoder_recovered"
            case encoderMeanBestCosine = "encoder_mean_best_cosine"
            case decoderMeanBestCosine = "decoder_mean_best_cosine"
        }
    }

    public struct Document: Codable, Equatable, Sendable {
        public var tool: [String: String]
        public var checkpoint: InputFileRecord
        public var suite: InputFileRecord
        public var threshold: Double
        public var comparison: String
        public var results: [ModalityRecovery]
        /// How the figures were computed (numeric mode, kernel path); the products are single-threaded.
        public var provenance: RunProvenance
    }

    public struct InputFileRecord: Codable, Equatable, Sendable {
        public var path: String
        public var sha256: String
    }

    public static func run(checkpoint: String, suite folder: String, threshold: Double = 0.9,
                           command: [String] = ["vlsae", "recovery"]) throws -> Document {
        guard threshold > 0 && threshold <= 1 else {
            throw VLSAEError.usage("--threshold must be in (0, 1], got \(threshold)")
        }
        let ckpt = try Checkpoint.load(path: checkpoint)
        guard ckpt.model.config.arch == .vlsae else {
            throw VLSAEError.usage("concept recovery compares one shared encoder with the planted concepts; \(checkpoint) is \(ckpt.model.config.arch.rawValue)")
        }
        let desc = try SynthSuite.load(folder: folder)
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        func matrix(_ name: String) throws -> Matrix { try TensorFile.load(TensorAddress(path: path(name))).matrix(name: path(name)) }

        let offsets = try matrix(desc.modalityOffsets)
        guard offsets.rows == 2 else { throw VLSAEError.file(path(desc.modalityOffsets), "expected 2 rows (image, text), found \(offsets.rows)") }
        try ckpt.model.checkInputDim(offsets.cols, source: path(desc.modalityOffsets))
        let tensors = Dictionary(uniqueKeysWithValues: ckpt.model.officialTensors().map { ($0.name, $0) })
        func weight(_ name: String) throws -> Matrix {
            guard let t = tensors[name], t.shape.count == 2 else { throw VLSAEError.file(checkpoint, "no 2-D tensor \(name)") }
            return Matrix(rows: t.shape[0], cols: t.shape[1], values: t.values)
        }
        let encoder = try weight("encoder")                        // h × d
        var results: [ModalityRecovery] = []
        for (m, conceptsFile, decoderName) in [(0, desc.imageConcepts, "vision_decoder.weight"),
                                                (1, desc.textConcepts, "text_decoder.weight")] {
            let offset = Array(offsets.row(m))
            let concepts = ConceptRecovery.projectingOut(offset, from: try matrix(conceptsFile))
            let decoderColumns = try weight(decoderName).transposed   // d × h → h × d
            let centred = ConceptRecovery.projectingOut(offset, from: decoderColumns)
            var mean = [Float](repeating: 0, count: centred.cols)
            for r in 0..<centred.rows { for (j, v) in centred.row(r).enumerated() { mean[j] += v / Float(centred.rows) } }
            let r = try ConceptRecovery.measure(
                concepts: concepts,
                encoderRows: ConceptRecovery.projectingOut(offset, from: encoder),
                decoderColumns: ConceptRecovery.projectingOut(mean, from: centred),
                threshold: threshold)
            results.append(ModalityRecovery(
                modality: m == 0 ? "image" : "text", concepts: concepts.rows,
                encoderRecovered: r.encoderRecovered, decoderRecovered: r.decoderRecovered,
                encoderMeanBestCosine: r.encoderMeanBestCosine, decoderMeanBestCosine: r.decoderMeanBestCosine))
        }
        let suiteFile = path("suite.json")
        return Document(
            tool: ["name": ToolIdentity.name, "version": ToolIdentity.version, "git_commit": ToolIdentity.gitCommit()],
            checkpoint: InputFileRecord(path: checkpoint, sha256: ckpt.sha256),
            suite: InputFileRecord(path: suiteFile, sha256: try SHA256.hex(fileAt: suiteFile)),
            threshold: threshold,
            comparison: "per modality, in that modality's concept space, modality offset projected out of concepts, encoder rows and decoder columns; the decoder columns' mean direction projected out too",
            results: results, provenance: .current(command: command, threads: 1))
    }

    /// A Markdown table of the recovery figures.
    public static func markdown(_ d: Document) -> String {
        var s = "| modality | concepts | encoder rows ≥ \(d.threshold) | decoder columns ≥ \(d.threshold) | encoder mean best cos | decoder mean best cos |\n"
        s += "| --- | ---: | ---: | ---: | ---: | ---: |\n"
        for r in d.results {
            s += String(format: "| %@ | %d | %.1f %% | %.1f %% | %.3f | %.3f |\n", r.modality, r.concepts,
                        100 * r.encoderRecovered, 100 * r.decoderRecovered, r.encoderMeanBestCosine, r.decoderMeanBestCosine)
        }
        return s
    }
}
