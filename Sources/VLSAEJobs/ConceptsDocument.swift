import Foundation
import VLSAECore
import VLSAEEval
import VLSAEModel
import VLSAEReport

/// `concepts.json`, written by `vlsae concepts`: what each concept of a checkpoint responds to, and
/// whole-dictionary figures beside those of a random dictionary of the same shape. Keys are the
/// snake_case of the property names (`CanonicalJSON`); absent optionals are left out. Everything
/// but `provenance` is a function of the inputs, flags and tool version: byte-identical on every
/// CPU, kernel path and thread count.
public struct ConceptsDocument: Codable, Equatable, Sendable {
    /// Version of this layout.
    public static let currentSchemaVersion = 1

    /// `schema_version`.
    public var schemaVersion: Int
    /// The build of `vlsae` that wrote it.
    public var tool: ToolRecord
    /// Every input file with its SHA-256 and role: `sae_checkpoint`, `image_embeddings`,
    /// `text_embeddings`, and when given `image_paths` and `captions`.
    public var inputs: [FileDigest]
    /// The autoencoder's shape and the k it was encoded at.
    public var checkpoint: ConceptsCheckpoint
    /// The choices that decide the figures.
    public var settings: ConceptsSettings
    /// Image rows scanned.
    public var nImages: Int
    /// Text rows scanned.
    public var nTexts: Int
    /// Whole-dictionary figures, for the checkpoint and for the random reference.
    public var figures: ConceptsFigures
    /// What the montages showed; nil without image paths.
    public var montages: MontageSummary?
    /// The listed concepts (all, or those of `--concepts`), in index order.
    public var concepts: [ConceptEntry]
    /// Run facts (kernel path, threads, command line): the one part allowed to differ between runs.
    public var provenance: RunProvenance

    /// The canonical bytes (`CanonicalJSON`).
    public func encoded() throws -> Data { try CanonicalJSON.encode(self) }

    /// The canonical bytes without the run facts: equal for two runs of the same computation.
    public func contentEncoded() throws -> Data {
        var copy = self
        copy.provenance = RunProvenance(command: [], numerics: provenance.numerics, kernelPath: nil, threads: nil)
        return try CanonicalJSON.encode(copy)
    }

    /// Reads a `concepts.json`; errors name the file and the key.
    public static func read(from path: String) throws -> ConceptsDocument {
        try CanonicalJSON.decode(ConceptsDocument.self, from: path)
    }
}

/// The autoencoder as `vlsae concepts` used it.
public struct ConceptsCheckpoint: Codable, Equatable, Sendable {
    /// `vlsae`, `sae_d` or `sae_v`.
    public var arch: SAEArch
    /// d.
    public var inputDim: Int
    /// h, the number of concepts.
    public var hidden: Int
    /// The checkpoint's k (for an official `.pth` without metadata: 256 capped at h).
    public var trainedK: Int
    /// The k rows were encoded at.
    public var k: Int
}

/// The settings of a `vlsae concepts` run.
public struct ConceptsSettings: Codable, Equatable, Sendable {
    /// Rows kept per concept and modality.
    public var top: Int
    /// Seed of the random reference dictionary (`SAEModel(config:seed:)`, the training initialisation).
    public var seed: UInt64
    /// `ConceptScan.denseThreshold`.
    public var denseThreshold: Double
    /// Whether image row i and text row i are a pair (then each concept has an `agreement`).
    public var paired: Bool
    /// "all", or the `--concepts` list as given after parsing ("3,17").
    public var concepts: String
}

/// `figures`: the checkpoint's dictionary and a random one of the same shape.
public struct ConceptsFigures: Codable, Equatable, Sendable {
    /// Of the checkpoint.
    public var trained: DictionaryFigures
    /// Of `SAEModel(config: the checkpoint's, seed: settings.seed)`, encoded and scanned alike.
    public var random: DictionaryFigures
}

/// `montages`: what drawing the montages found.
@MemberwiseInit
public struct MontageSummary: Codable, Equatable, Sendable {
    /// Rows of the top images whose file does not exist (or is not a regular file), ascending.
    public var missingImages: [Int]
    /// Montage files written (one per listed concept with at least one top image).
    public var drawn: Int
    /// Placeholder tiles over all montages (an image counts once per montage that shows it).
    public var placeholders: Int
    /// Rows of the top images whose file exists but is not a readable JPEG or PNG, ascending.
    public var unreadableImages: [Int]
}

/// One concept in `concepts.json`.
public struct ConceptEntry: Codable, Equatable, Sendable {
    /// The hidden unit.
    public var index: Int
    /// Fraction of the images in which it is active.
    public var imageFrequency: Double
    /// Fraction of the texts in which it is active.
    public var textFrequency: Double
    /// Its best images, best first (ties to the lower index).
    public var topImages: [TopImage]
    /// Its best texts, best first.
    public var topTexts: [TopText]
    /// With paired inputs: how many of its top images' paired captions (the text rows of the same
    /// index) are among its top texts.
    public var agreement: Int?
    /// Pairwise and cross-modal similarity of its top rows.
    public var similarity: ConceptSimilarity
    /// `montages/concept-<index>.jpg`, when drawn.
    public var montage: String?
    /// Placeholder tiles in its montage, when drawn.
    public var placeholders: Int?
}

/// A top image: row, activation and, with `--image-paths`, its path as the list gives it.
public struct TopImage: Codable, Equatable, Sendable {
    /// Row of the image embeddings.
    public var index: Int
    /// The concept's activation on it.
    public var activation: Float
    /// The image file, when known.
    public var path: String?
}

/// A top text: row, activation and, with `--captions`, its caption.
public struct TopText: Codable, Equatable, Sendable {
    /// Row of the text embeddings.
    public var index: Int
    /// The concept's activation on it.
    public var activation: Float
    /// The caption, when known.
    public var caption: String?
}
