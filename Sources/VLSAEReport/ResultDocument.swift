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

    public var schemaVersion: Int
    public var tool: ToolRecord
    /// Every seed the run used, by purpose (e.g. "bootstrap").
    public var seeds: [String: UInt64]
    /// Every input file once: each dataset's files in evaluation order (manifest first), then the
    /// checkpoint, validation manifests' files and α tables of alignment rows.
    public var inputs: [FileDigest]
    public var results: [ResultRow]
    /// Run facts: the only part allowed to differ between two runs of the same computation.
    public var provenance: RunProvenance

    /// `command` is where schema 1 kept the command line.
    enum CodingKeys: CodingKey { case schemaVersion, tool, seeds, inputs, results, provenance, command }

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
        schemaVersion = try c.decode(Int.self, forKey: .schemaVersion)
        guard (1...ResultDocument.currentSchemaVersion).contains(schemaVersion) else {
            throw DecodingError.dataCorruptedError(
                forKey: .schemaVersion, in: c,
                debugDescription:
                    "schema_version \(schemaVersion) is not one this version of vlsae reads (1…\(ResultDocument.currentSchemaVersion))"
            )
        }
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
public struct RunProvenance: Codable, Equatable, Sendable {
    /// The numeric mode of this version of vlsae.
    public static let deterministic = "deterministic"
    /// The numeric mode of documents written before it was recorded (schema version 1: OpenBLAS).
    public static let unrecorded = "unrecorded"

    /// The command line, program name first.
    public var command: [String]
    /// "deterministic", or "unrecorded" for schema-1 documents.
    public var numerics: String
    /// The CKernels instruction-set path that ran: portable, avx2 or avx512 (`VLSAE_ISA`).
    public var kernelPath: String?
    /// Worker threads.
    public var threads: Int?

    public init(command: [String], numerics: String = RunProvenance.deterministic, kernelPath: String?, threads: Int?) {
        self.command = command
        self.numerics = numerics
        self.kernelPath = kernelPath
        self.threads = threads
    }

    /// This process's facts: the active kernel path and the given thread count.
    public static func current(command: [String], threads: Int) -> RunProvenance {
        RunProvenance(command: command, kernelPath: KernelPath.active.rawValue, threads: threads)
    }
}

public struct ToolRecord: Codable, Equatable, Sendable {
    public var name: String
    public var version: String
    /// `git rev-parse HEAD` of the checkout the executable was built in, or "unknown".
    public var gitCommit: String

    public init(name: String = "vlsae", version: String, gitCommit: String) {
        self.name = name
        self.version = version
        self.gitCommit = gitCommit
    }
}

/// The metrics block, with CLIP_benchmark's key names.
public struct MetricValues: Codable, Equatable, Sendable {
    public var acc1: Double
    /// null (never NaN) when there are fewer than 5 classes.
    public var acc5: Double?
    public var meanPerClassRecall: Double

    /// For `encode(to:)`, which writes an undefined acc5 as null rather than leaving the key out.
    enum CodingKeys: CodingKey { case acc1, acc5, meanPerClassRecall }

    public init(acc1: Double, acc5: Double?, meanPerClassRecall: Double) {
        self.acc1 = acc1
        self.acc5 = acc5
        self.meanPerClassRecall = meanPerClassRecall
    }

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
public struct ResultRow: Codable, Equatable, Sendable {
    public var dataset: String
    public var model: String
    public var pretrained: String
    public var task: String
    public var language: String
    public var metrics: MetricValues
    /// "cosine" for the CLIP_benchmark baseline; alignment variants name themselves.
    public var method: String
    /// Canonical description of exactly what was scored ("cosine" for the baseline, the
    /// normalised alignment spec otherwise), so rows can be matched across result files.
    public var variant: String?
    /// Intervals keyed by metric name ("acc1").
    public var intervals: [String: ConfidenceInterval]
    /// Recall per class in class order, null for classes without images (only with --per-class).
    public var perClassRecall: [Double?]?
    public var nImages: Int
    public var nClasses: Int
    public var nTemplates: Int
    /// False when the manifest gave an averaged classifier, so per-template variants were impossible.
    public var templateLevel: Bool
    public var classnamesSha256: String
    public var templatesSha256: String

    // Extension points for concept-level alignment; absent (not null) for the baseline.
    public var alignment: AlignmentRecord?
    public var checkpoint: CheckpointRecord?
    public var comparison: ComparisonRecord?

    public init(
        dataset: String, model: String, pretrained: String,
        task: String = "zeroshot_classification", language: String = "en",
        metrics: MetricValues, method: String, variant: String? = nil,
        intervals: [String: ConfidenceInterval],
        perClassRecall: [Double?]? = nil, nImages: Int, nClasses: Int, nTemplates: Int,
        templateLevel: Bool, classnamesSha256: String, templatesSha256: String,
        alignment: AlignmentRecord? = nil, checkpoint: CheckpointRecord? = nil,
        comparison: ComparisonRecord? = nil
    ) {
        self.dataset = dataset
        self.model = model
        self.pretrained = pretrained
        self.task = task
        self.language = language
        self.metrics = metrics
        self.method = method
        self.variant = variant
        self.intervals = intervals
        self.perClassRecall = perClassRecall
        self.nImages = nImages
        self.nClasses = nClasses
        self.nTemplates = nTemplates
        self.templateLevel = templateLevel
        self.classnamesSha256 = classnamesSha256
        self.templatesSha256 = templatesSha256
        self.alignment = alignment
        self.checkpoint = checkpoint
        self.comparison = comparison
    }
}

/// How concept-level similarity was added to the cosine logits (VL-SAE paper, Eq. 10): every choice
/// the paper leaves open is a recorded field.
///
///     logit = cos(v, t_c) + alpha · cos(f(v), f(t_c))      (score "cosine+concept")
///     logit = cos(f(v), f(t_c))                            (score "concept-only", a diagnostic)
public struct AlignmentRecord: Codable, Equatable, Sendable {
    /// "cosine+concept" or "concept-only".
    public var score: String
    /// f: "hidden" (sparse activations) or "reconstruction" (modality decoder output).
    public var representation: String
    /// "average-first" (f of the CLIP_benchmark class vector) or "per-template" (f per template
    /// embedding, normalised, averaged, normalised).
    public var text: String
    /// sim: always "cosine" (of row-normalised f).
    public var similarity: String
    /// Units kept per row at inference, and the checkpoint's trained k.
    public var k: Int
    public var trainedK: Int
    /// The alpha applied to every image; absent for k-fold selection (see `folds`) and concept-only.
    public var alpha: Double?
    /// "fixed", "table", "validated", "oracle"; "none" for concept-only.
    public var alphaProtocol: String
    /// True exactly when alpha was chosen on the evaluation images themselves.
    public var oracle: Bool
    /// The grid searched by validated/oracle, ascending.
    public var alphaGrid: [Double]?
    /// Where alpha was chosen: "validation-manifest", "kfold" or "evaluation-set" (oracle).
    public var selection: String?
    /// acc1 of each grid alpha on the selection data (validation set, or evaluation set for oracle).
    public var selectionAcc1: [Double]?
    /// k-fold selection: one entry per fold, and the seed of the fold assignment.
    public var folds: [FoldRecord]?
    public var foldSeed: UInt64?
    /// The alpha table file (table protocol) or validation manifest (validated), with its SHA-256
    /// (no role: the key says it).
    public var alphaTable: FileDigest?
    public var validation: FileDigest?

    public init(
        score: String, representation: String, text: String, similarity: String = "cosine",
        k: Int, trainedK: Int, alpha: Double?, alphaProtocol: String, oracle: Bool,
        alphaGrid: [Double]? = nil, selection: String? = nil, selectionAcc1: [Double]? = nil,
        folds: [FoldRecord]? = nil, foldSeed: UInt64? = nil, alphaTable: FileDigest? = nil,
        validation: FileDigest? = nil
    ) {
        self.score = score
        self.representation = representation
        self.text = text
        self.similarity = similarity
        self.k = k
        self.trainedK = trainedK
        self.alpha = alpha
        self.alphaProtocol = alphaProtocol
        self.oracle = oracle
        self.alphaGrid = alphaGrid
        self.selection = selection
        self.selectionAcc1 = selectionAcc1
        self.folds = folds
        self.foldSeed = foldSeed
        self.alphaTable = alphaTable
        self.validation = validation
    }
}

/// One fold of a k-fold alpha selection: alpha chosen on the other folds, applied to this one.
public struct FoldRecord: Codable, Equatable, Sendable {
    public var fold: Int
    public var nImages: Int
    public var alpha: Double
    /// acc1 of the chosen alpha on the other folds, and on this fold.
    public var selectionAcc1: Double
    public var heldOutAcc1: Double

    public init(fold: Int, nImages: Int, alpha: Double, selectionAcc1: Double, heldOutAcc1: Double) {
        self.fold = fold
        self.nImages = nImages
        self.alpha = alpha
        self.selectionAcc1 = selectionAcc1
        self.heldOutAcc1 = heldOutAcc1
    }
}

/// The SAE checkpoint used by an alignment row.
public struct CheckpointRecord: Codable, Equatable, Sendable {
    public var path: String
    public var sha256: String
    /// "vlsae", "sae-d" or "sae-v".
    public var arch: String
    public var inputDim: Int
    public var hiddenDim: Int
    public var hiddenRatio: Int
    /// The trained k.
    public var k: Int

    public init(path: String, sha256: String, arch: String, inputDim: Int, hiddenDim: Int, hiddenRatio: Int, k: Int) {
        self.path = path
        self.sha256 = sha256
        self.arch = arch
        self.inputDim = inputDim
        self.hiddenDim = hiddenDim
        self.hiddenRatio = hiddenRatio
        self.k = k
    }
}

/// A paired comparison of this row against its baseline on the same images.
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
    public var perClassRecallDelta: [Double?]?

    public init(
        baseline: String, deltas: [String: Double], intervals: [String: ConfidenceInterval],
        mcnemarP: Double, flips: FlipCounts, perClassRecallDelta: [Double?]? = nil
    ) {
        self.baseline = baseline
        self.deltas = deltas
        self.intervals = intervals
        self.mcnemarP = mcnemarP
        self.flips = flips
        self.perClassRecallDelta = perClassRecallDelta
    }
}

public struct FlipCounts: Codable, Equatable, Sendable {
    /// Wrong for the baseline, right for this row.
    public var gained: Int
    /// Right for the baseline, wrong for this row.
    public var lost: Int
    public init(gained: Int, lost: Int) {
        self.gained = gained
        self.lost = lost
    }
}
