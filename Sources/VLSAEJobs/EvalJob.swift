import Foundation
import VLSAECore
import VLSAEData
import VLSAEEval
import VLSAEReport

/// `vlsae eval`: the baseline zero-shot evaluation of one or more manifests, plus concept-aligned
/// rows when an autoencoder is given, as one result document. Computes only: the caller writes
/// the document (`ResultDocument.write(to:)`), so nothing is written when any dataset fails.
public enum EvalJob {
    /// What `vlsae eval` passes: the manifests, the statistics' settings and, optionally, alignment.
    @MemberwiseInit
    public struct Options: Sendable {
        /// Manifest paths, evaluated in order; at least one.
        public var manifests: [String]
        /// Paired-bootstrap resamples per interval (`--bootstrap`); at least `minimumResamples`.
        public var bootstrapResamples: Int = 1000
        /// Seed of the bootstrap resamples and of the k-fold split of `validated` α protocols; recorded under `seeds`
        /// (`bootstrap`, `folds`).
        public var seed: UInt64 = 0
        /// Confidence level of the intervals, in (0, 1).
        public var level: Double = 0.95
        /// Whether every row carries each class's recall (`per_class_recall`), and alignment rows its paired
        /// delta as well.
        public var perClass: Bool = false
        /// Worker threads: how fast, not what is computed (recorded in the provenance only).
        public var threads: Int = 1
        /// Recorded verbatim in the document's provenance.
        public var command: [String]
        /// The tool recorded in the document.
        public var tool: ToolRecord
        /// Whether to print progress lines to standard error.
        public var progress: Bool = true
        /// Concept-level alignment rows to add after each baseline row (nil: baseline only).
        public var alignment: AlignmentOptions? = nil
        /// What scoring does with degenerate embeddings and concept codes (`--degenerate`).
        public var degenerate: DegenerateRowPolicy = .error
    }

    /// The smallest bootstrap worth reporting: fewer resamples make the 2.5 % tails noise.
    public static let minimumResamples = 1000

    /// The most bootstrap resamples accepted: every resample keeps its statistics in memory, and a
    /// million already pins a 95 % percentile interval far below the third decimal.
    public static let maximumResamples = 1_000_000

    /// Evaluates every manifest into one document. `datasets` loads a manifest (a sweep passes
    /// one that keeps what it loaded, since every cell evaluates the same manifests).
    public static func run(
        _ options: Options,
        datasets: (String) throws -> ZeroShotDataset = { try ZeroShotDataset.load(manifestPath: $0) }
    )
        throws -> ResultDocument
    {
        guard !options.manifests.isEmpty else { throw VLSAEError.usage("no manifest given (--data)") }
        guard options.bootstrapResamples >= minimumResamples, options.bootstrapResamples <= maximumResamples else {
            throw VLSAEError.usage(
                "--bootstrap must be in \(minimumResamples)...\(maximumResamples), got \(options.bootstrapResamples)")
        }
        try Parallelism.checkThreads(options.threads)
        try checkDistinctNames(options.manifests)
        var rows: [ResultRow] = []
        var inputs: [FileDigest] = []
        var seen = Set<FileDigest>()
        let alignment = try options.alignment.map {
            try prepareAlignment($0, threads: options.threads, progress: options.progress, datasets: datasets)
        }
        var names = Set<String>()
        for (i, path) in options.manifests.enumerated() {
            let note = "[\(i + 1)/\(options.manifests.count)] \(path)"
            if options.progress { Progress.note("\(note): loading and hashing") }
            let t0 = Date()
            let dataset = try datasets(path)
            if options.progress {
                let bytes = Dictionary(dataset.inputs.map { ($0.path, $0.size ?? 0) }, uniquingKeysWith: { a, _ in a })
                    .values.reduce(0, +)
                Progress.note(
                    "\(note): \(dataset.name), \(dataset.count) images × \(dataset.numClasses) classes, "
                        + "d = \(dataset.dimension), \(String(format: "%.1f MB", Double(bytes) / 1e6)) loaded in \(seconds(since: t0))"
                )
            }
            let t1 = Date()
            // The cosine baseline, predicted once: its row, and the reference of every alignment row.
            let classifier = ZeroShotClassifier(dataset: dataset)
            let wrong = try DegenerateRows.check(dataset, classifier: classifier, policy: options.degenerate)
            let predictions = ZeroShot.predict(
                images: dataset.images, labels: dataset.labels,
                classifier: classifier, threads: options.threads
            ).countingWrong(images: wrong)
            let baseline = try baselineRow(dataset, predictions: predictions, options: options)
            rows.append(baseline)
            names.insert(dataset.name)
            if options.progress { Progress.note("\(note): scored and bootstrapped in \(seconds(since: t1))") }
            var plantedInputs: [FileDigest] = []
            if let alignment {
                let t2 = Date()
                let aligned = try alignmentRows(
                    dataset, baseline: baseline, basePredictions: predictions,
                    context: alignment, options: options)
                rows += aligned.rows
                plantedInputs = aligned.plantedInputs
                if options.progress {
                    Progress.note("\(note): \(alignment.specs.count) alignment variant(s) in \(seconds(since: t2))")
                }
            }
            for f in dataset.inputs + plantedInputs where seen.insert(f).inserted { inputs.append(f) }
            if options.progress {
                Progress.note("\(note): baseline acc1 \(format(baseline.metrics.acc1))")
            }
        }
        var seeds = ["bootstrap": options.seed]
        if let alignment {
            try checkValidationPairing(alignment, datasetNames: names)
            for r in alignment.inputs where seen.insert(r).inserted { inputs.append(r) }
            if rows.contains(where: { $0.alignment?.selection == "kfold" }) { seeds["folds"] = options.seed }
        }
        return ResultDocument(
            tool: options.tool, seeds: seeds, inputs: inputs, results: rows,
            provenance: .current(command: options.command, threads: options.threads))
    }

    /// Refuses two manifests of the same dataset name before anything is computed: a result holds
    /// one baseline per dataset, and `regress` pairs rows by dataset name.
    static func checkDistinctNames(_ manifests: [String]) throws {
        var first: [String: String] = [:]
        for path in manifests {
            let name = try Manifest.load(path: path).name
            if let earlier = first[name] {
                throw VLSAEError.usage(
                    "\(path) and \(earlier) both describe dataset \"\(name)\"; evaluate each dataset once per result")
            }
            first[name] = path
        }
    }

    /// The baseline (cosine) row for one dataset, from its predictions.
    public static func baselineRow(_ dataset: ZeroShotDataset, predictions: Predictions, options: Options) throws
        -> ResultRow
    {
        let m = Metrics.compute(predictions)
        let ci = try Metrics.acc1Interval(
            predictions, resamples: options.bootstrapResamples, level: options.level,
            seed: options.seed)
        return ResultRow(
            dataset: dataset.name, model: dataset.model, pretrained: dataset.pretrained,
            metrics: MetricValues(acc1: m.acc1, acc5: m.acc5, meanPerClassRecall: m.meanPerClassRecall),
            method: Alignment.baselineMethod, variant: Alignment.baselineVariant,
            intervals: ["acc1": ci],
            perClassRecall: options.perClass ? m.perClassRecall : nil,
            nImages: m.nImages, nClasses: m.nClasses, nTemplates: dataset.numTemplates,
            templateLevel: dataset.templateLevel,
            classnamesSha256: dataset.classnamesSHA256, templatesSha256: dataset.templatesSHA256,
            classifierLayout: dataset.classifierLayout?.rawValue, embeddingProvenance: dataset.embeddingProvenance,
            nCountedWrong: predictions.countedWrong > 0 ? predictions.countedWrong : nil)
    }

    /// A short fixed-width table of the rows, for the terminal.
    public static func table(_ doc: ResultDocument) -> String {
        var lines = [
            pad("dataset", 20) + pad("method", 22) + pad("images", 9) + pad("classes", 8)
                + pad("acc1", 8) + pad("95% CI", 18) + pad("acc5", 8) + "mpcr"
        ]
        for r in doc.results {
            let ci = r.intervals["acc1"].map { "[\(format($0.low)), \(format($0.high))]" } ?? "-"
            lines.append(
                pad(r.dataset, 20) + pad(r.method, 22) + pad(r.nImages.map(String.init) ?? "-", 9)
                    + pad(r.nClasses.map(String.init) ?? "-", 8) + pad(format(r.metrics.acc1), 8) + pad(ci, 18)
                    + pad(r.metrics.acc5.map(format) ?? "n/a", 8) + format(r.metrics.meanPerClassRecall))
        }
        return lines.joined(separator: "\n")
    }

    private static func seconds(since t: Date) -> String { String(format: "%.2f s", Date().timeIntervalSince(t)) }
    private static func format(_ x: Double) -> String { String(format: "%.4f", x) }
    private static func pad(_ s: String, _ w: Int) -> String {
        s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count)
    }
}
