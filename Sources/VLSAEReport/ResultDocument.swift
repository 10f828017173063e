import Foundation
import VLSAECore

/// One result file: what was run (tool, seeds), on what (inputs with SHA-256), the result rows, and
/// how this run computed them (`provenance`). It holds no timestamps or host names. Everything but
/// `provenance` is a function of the inputs, flags, seeds and tool version alone: byte-identical on
/// every CPU, kernel path and thread count. Keys are the snake_case of the property names
/// (`CanonicalJSON`); the layout is pinned by `Results/schema/result.schema.json` (JSON Schema
/// draft 2020-12).
public struct ResultDocument: Codable, Equatable, Sendable {
    /// 2: the command line moved into `provenance`, beside the numeric mode, kernel path and threads.
    public static let currentSchemaVersion = 2

    /// `schema_version`: `currentSchemaVersion` for a document built here; a decoded one keeps the version it was read
    /// with (1 or 2), and `encode(to:)` writes that version's layout back.
    public var schemaVersion: Int
    /// The build of `vlsae` that wrote the document (`tool`).
    public var tool: ToolRecord
    /// Every seed the run used, by purpose (e.g. "bootstrap").
    public var seeds: [String: UInt64]
    /// Every input file once: each dataset's files in evaluation order (manifest first), then the
    /// checkpoint, validation manifests' files and α tables of alignment rows.
    public var inputs: [FileDigest]
    /// The rows in the order the job produced them; for `vlsae eval`, datasets in `--data` order, each dataset's
    /// baseline row followed by its alignment rows.
    public var results: [ResultRow]
    /// Run facts: the only part allowed to differ between two runs of the same computation.
    public var provenance: RunProvenance

    /// `command` is where schema 1 kept the command line.
    enum CodingKeys: CodingKey { case schemaVersion, tool, seeds, inputs, results, provenance, command }

    /// A document at `currentSchemaVersion`.
    public init(
        tool: ToolRecord, seeds: [String: UInt64], inputs: [FileDigest], results: [ResultRow],
        provenance: RunProvenance
    ) {
        self.schemaVersion = ResultDocument.currentSchemaVersion
        self.tool = tool
        self.seeds = seeds
        self.inputs = inputs
        self.results = results
        self.provenance = provenance
    }

    /// Reads schema versions 1 and 2. Version 1 kept the command line at the top and recorded no
    /// numeric mode: such a document reads with `numerics` "unrecorded".
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try ResultDocument.decodeSchemaVersion(from: c, forKey: .schemaVersion)
        tool = try c.decode(ToolRecord.self, forKey: .tool)
        seeds = try c.decode([String: UInt64].self, forKey: .seeds)
        inputs = try c.decode([FileDigest].self, forKey: .inputs)
        results = try c.decode([ResultRow].self, forKey: .results)
        if schemaVersion == 1 {
            provenance = RunProvenance(
                command: try c.decode([String].self, forKey: .command),
                numerics: RunProvenance.unrecorded, kernelPath: nil, threads: nil)
        } else {
            provenance = try c.decode(RunProvenance.self, forKey: .provenance)
        }
    }

    /// The schema version at `key` of `container`; throws `DecodingError.dataCorrupted` when it is not one this
    /// version reads (1…`currentSchemaVersion`).
    public static func decodeSchemaVersion<Key: CodingKey>(
        from container: KeyedDecodingContainer<Key>, forKey key: Key
    ) throws -> Int {
        let version = try container.decode(Int.self, forKey: key)
        guard (1...currentSchemaVersion).contains(version) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container,
                debugDescription:
                    "schema_version \(version) is not one this version of vlsae reads (1…\(currentSchemaVersion))"
            )
        }
        return version
    }

    /// Writes the layout of `schemaVersion`: version 1 puts the command line under a top-level `command` key and has no
    /// `provenance`, so a schema-1 document read and written back keeps its shape.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schemaVersion, forKey: .schemaVersion)
        try c.encode(tool, forKey: .tool)
        try c.encode(seeds, forKey: .seeds)
        try c.encode(inputs, forKey: .inputs)
        try c.encode(results, forKey: .results)
        if schemaVersion == 1 {
            try c.encode(provenance.command, forKey: .command)
        } else {
            try c.encode(provenance, forKey: .provenance)
        }
    }

    /// Canonical bytes: sorted keys, fixed indentation, trailing newline; non-finite numbers refused.
    public func encoded() throws -> Data {
        do { return try CanonicalJSON.encode(self) } catch let e as EncodingError {
            throw VLSAEError.usage("cannot encode result document: \(e)")
        }
    }

    /// The canonical bytes of everything but the run facts: equal for two runs of the same
    /// computation on any CPU, kernel path or thread count.
    public func contentEncoded() throws -> Data {
        var copy = self
        copy.provenance = RunProvenance(command: [], numerics: provenance.numerics, kernelPath: nil, threads: nil)
        return try copy.encoded()
    }

    /// Encodes and writes atomically: the destination is either the old file or the whole new one.
    public func write(to path: String) throws {
        try AtomicFile.write(try encoded(), to: path)
    }

    /// Reads a result file (schema version 1 or 2); throws `VLSAEError.file` naming the file and key path when it is
    /// not valid JSON, lacks a key or has an unknown schema version.
    public static func read(from path: String) throws -> ResultDocument {
        try CanonicalJSON.decode(ResultDocument.self, from: path)
    }
}

/// How a run computed its numbers, kept apart from the numbers themselves.
///
/// In the `deterministic` numeric mode (the only one) every number that reaches a result comes from
/// the project's own kernels with a fixed order of operations (`GEMM`, `PortableMath` in VLSAECore),
/// so the same inputs, seeds and tool version give the same bytes whatever `kernelPath` and
/// `threads` say. No BLAS library computes any of them, so none is recorded.
@MemberwiseInit
public struct RunProvenance: Codable, Equatable, Sendable {
    /// The numeric mode of this version of vlsae.
    public static let deterministic = "deterministic"
    /// The numeric mode of documents written before it was recorded (schema version 1: OpenBLAS).
    public static let unrecorded = "unrecorded"

    /// The command line, program name first.
    public var command: [String]
    /// "deterministic", or "unrecorded" for schema-1 documents.
    public var numerics: String = RunProvenance.deterministic
    /// The CKernels instruction-set path that ran: portable, avx2 or avx512 (`VLSAE_ISA`).
    public var kernelPath: String?
    /// Worker threads.
    public var threads: Int?

    /// This process's facts: the active kernel path and the given thread count.
    public static func current(command: [String], threads: Int) -> RunProvenance {
        RunProvenance(command: command, kernelPath: KernelPath.active.rawValue, threads: threads)
    }
}

/// The program that wrote a document (`tool`): name, version and the commit it was built from. `vlsae` fills it in with
/// `ToolIdentity.record()` (VLSAEJobs).
@MemberwiseInit
public struct ToolRecord: Codable, Equatable, Sendable {
    /// Always "vlsae" (the schema pins it).
    public var name: String = "vlsae"
    /// The tool's semantic version, e.g. "0.1.0" (`ToolIdentity.version`; `vlsae --version`).
    public var version: String
    /// `git rev-parse HEAD` of the checkout the executable was built in, or "unknown".
    public var gitCommit: String
}

/// The metrics block, with CLIP_benchmark's key names.
@MemberwiseInit
public struct MetricValues: Codable, Equatable, Sendable {
    /// Top-1 accuracy: fraction of images whose true class has the largest logit, in [0, 1].
    public var acc1: Double
    /// null (never NaN) when there are fewer than 5 classes.
    public var acc5: Double?
    /// `mean_per_class_recall`: the mean over classes that have images of each class's top-1 recall (sklearn's balanced
    /// accuracy), in [0, 1].
    public var meanPerClassRecall: Double

    /// For `encode(to:)`, which writes an undefined acc5 as null rather than leaving the key out.
    enum CodingKeys: CodingKey { case acc1, acc5, meanPerClassRecall }

    /// Writes all three keys, an undefined `acc5` as an explicit null.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(acc1, forKey: .acc1)
        // Always present: an undefined acc5 is an explicit null, not a missing key.
        if let acc5 { try c.encode(acc5, forKey: .acc5) } else { try c.encodeNil(forKey: .acc5) }
        try c.encode(meanPerClassRecall, forKey: .meanPerClassRecall)
    }
}

/// One evaluation of one method on one dataset. The first six keys are CLIP_benchmark's, so a
/// row reads as a CLIP_benchmark result with provenance added.
@MemberwiseInit
public struct ResultRow: Codable, Equatable, Sendable {
    /// The manifest's `name`, e.g. "cifar10" or "synth10"; rows of different documents are matched by it.
    public var dataset: String
    /// The CLIP architecture, from the manifest's `model` (e.g. "ViT-B-32"; "synthetic" for the planted-concept suite).
    public var model: String
    /// The CLIP weights tag, from the manifest's `pretrained` (e.g. "laion2b_s34b_b79k").
    public var pretrained: String
    /// Always "zeroshot_classification", CLIP_benchmark's task name (the only one the schema allows).
    public var task: String = "zeroshot_classification"
    /// Language of the class names and templates, CLIP_benchmark's key: "en".
    public var language: String = "en"
    /// acc1, acc5 and mean per-class recall of this row's scoring rule on all `nImages` images.
    public var metrics: MetricValues
    /// "cosine" for the CLIP_benchmark baseline; alignment variants name themselves.
    public var method: String
    /// Canonical description of exactly what was scored ("cosine" for the baseline, the
    /// normalised alignment spec otherwise), so rows can be matched across result files.
    public var variant: String? = nil
    /// Intervals keyed by metric name ("acc1").
    public var intervals: [String: ConfidenceInterval]
    /// Recall per class in class order, null for classes without images (only with --per-class).
    public var perClassRecall: [Double?]? = nil
    /// N, the images scored (rows of the manifest's `image_embeddings`), at least 1.
    public var nImages: Int
    /// C, the number of class names, at least 2.
    public var nClasses: Int
    /// T, the number of templates in the manifest's template list (counted also when it gave an averaged classifier).
    public var nTemplates: Int
    /// False when the manifest gave an averaged classifier, so per-template variants were impossible.
    public var templateLevel: Bool
    /// `Catalog.listSHA256` of the class names: hex SHA-256 of each name's UTF-8 bytes followed by "\n".
    public var classnamesSha256: String
    /// `Catalog.listSHA256` of the template list, as for `classnamesSha256`.
    public var templatesSha256: String

    // Extension points for concept-level alignment; absent (not null) for the baseline.
    /// How concept similarity entered the logits; nil for the baseline.
    public var alignment: AlignmentRecord? = nil
    /// The SAE whose concepts were used; nil for the baseline.
    public var checkpoint: CheckpointRecord? = nil
    /// The paired comparison with this dataset's baseline row on the same images; nil for the baseline.
    public var comparison: ComparisonRecord? = nil
}

/// How concept-level similarity was added to the cosine logits (VL-SAE paper, Eq. 10): every choice
/// the paper leaves open is a recorded field.
///
///     logit = cos(v, t_c) + alpha · cos(f(v), f(t_c))      (score "cosine+concept")
///     logit = cos(f(v), f(t_c))                            (score "concept-only", a diagnostic)
@MemberwiseInit
public struct AlignmentRecord: Codable, Equatable, Sendable {
    /// "cosine+concept" or "concept-only".
    public var score: String
    /// f: "hidden" (sparse activations) or "reconstruction" (modality decoder output).
    public var representation: String
    /// "average-first" (f of the CLIP_benchmark class vector) or "per-template" (f per template
    /// embedding, normalised, averaged, normalised).
    public var text: String
    /// sim: always "cosine" (of row-normalised f).
    public var similarity: String = "cosine"
    /// Units kept per row at inference, and the checkpoint's trained k.
    public var k: Int
    /// `trained_k`: the k the checkpoint was trained with (`SAEConfig.topK`); `k` never exceeds it.
    public var trainedK: Int
    /// The alpha applied to every image; absent for k-fold selection (see `folds`) and concept-only.
    public var alpha: Double?
    /// "fixed", "table", "validated", "oracle"; "none" for concept-only.
    public var alphaProtocol: String
    /// True exactly when alpha was chosen on the evaluation images themselves.
    public var oracle: Bool
    /// The grid searched by validated/oracle, ascending.
    public var alphaGrid: [Double]? = nil
    /// Where alpha was chosen: "validation-manifest", "kfold" or "evaluation-set" (oracle).
    public var selection: String? = nil
    /// acc1 of each grid alpha on the selection data (validation set, or evaluation set for oracle).
    public var selectionAcc1: [Double]? = nil
    /// k-fold selection: one entry per fold, and the seed of the fold assignment.
    public var folds: [FoldRecord]? = nil
    /// `fold_seed`: seed of the fold assignment (a seeded permutation dealt round-robin); nil unless the selection is
    /// "kfold".
    public var foldSeed: UInt64? = nil
    /// The alpha table file (table protocol) or validation manifest (validated), with its SHA-256
    /// (no role: the key says it).
    public var alphaTable: FileDigest? = nil
    /// The validation manifest alpha was chosen on, when `selection` is "validation-manifest"; nil otherwise.
    public var validation: FileDigest? = nil
}

/// One fold of a k-fold alpha selection: alpha chosen on the other folds, applied to this one.
@MemberwiseInit
public struct FoldRecord: Codable, Equatable, Sendable {
    /// Fold index, 0-based, below the fold count.
    public var fold: Int
    /// Evaluation images in this fold; fold sizes differ by at most one.
    public var nImages: Int
    /// The grid alpha with the most top-1 hits on the other folds (ties: the smallest), applied to this fold.
    public var alpha: Double
    /// acc1 of the chosen alpha on the other folds, and on this fold.
    public var selectionAcc1: Double
    /// acc1 of that alpha on this fold's images; the row's metrics pool these held-out predictions.
    public var heldOutAcc1: Double
}

/// The SAE checkpoint used by an alignment row.
@MemberwiseInit
public struct CheckpointRecord: Codable, Equatable, Sendable {
    /// The checkpoint path as given to `--sae`, not resolved; the checkpoint's identity is `sha256`, and
    /// `vlsae regress --exact` ignores the path.
    public var path: String
    /// Hex SHA-256 of the checkpoint file, the same as its `sae_checkpoint` entry in the document's `inputs`.
    public var sha256: String
    /// "vlsae", "sae-d" or "sae-v".
    public var arch: String
    /// d: the embedding dimension the SAE reads (512 for ViT-B/32).
    public var inputDim: Int
    /// Hidden units (concepts): `inputDim` × `hiddenRatio`.
    public var hiddenDim: Int
    /// `hiddenDim` / `inputDim` (`--hidden-ratio`; 8 in the released checkpoints).
    public var hiddenRatio: Int
    /// The trained k.
    public var k: Int
}

/// A paired comparison of this row against its baseline on the same images.
@MemberwiseInit
public struct ComparisonRecord: Codable, Equatable, Sendable {
    /// The variant compared against, "cosine".
    public var baseline: String
    /// This row's metric minus the baseline's, keyed by metric name (acc1, acc5 when there are
    /// at least 5 classes, mean_per_class_recall).
    public var deltas: [String: Double]
    /// Paired-bootstrap intervals of the deltas, keyed by metric name; all from the same resamples.
    public var intervals: [String: ConfidenceInterval]
    /// Exact two-sided McNemar test on top-1 correctness.
    public var mcnemarP: Double
    /// Images that became correct (gained) and that became wrong (lost) relative to the baseline.
    public var flips: FlipCounts
    /// Per-class recall of this row minus the baseline's, in class order; null for classes
    /// without images (only with --per-class).
    public var perClassRecallDelta: [Double?]? = nil
}

/// Top-1 flips between the baseline and this row on the same images: the discordant pairs the McNemar test counts.
@MemberwiseInit
public struct FlipCounts: Codable, Equatable, Sendable {
    /// Wrong for the baseline, right for this row.
    public var gained: Int
    /// Right for the baseline, wrong for this row.
    public var lost: Int
}
