import Foundation
import VLSAECore
import VLSAEData
import VLSAEEval
import VLSAEModel
import VLSAEReport

/// What `vlsae eval --sae … --alignment …` adds to the baseline evaluation.
@MemberwiseInit
public struct AlignmentOptions: Sendable {
    /// The autoencoder checkpoint (safetensors from `vlsae train`, or an official `.pth`); nil only when every spec
    /// is `representation=planted`.
    public var checkpoint: String?
    /// Trained k for checkpoints that do not record it (official `.pth`); nil = the file's, or 256.
    public var checkpointK: Int? = nil
    /// Alignment specs, each as the user wrote it (see `AlignmentSpec`).
    public var specs: [String]
    /// Validation manifests for `alpha=validated:`, paired with evaluation datasets by name.
    public var validation: [String] = []
}

extension EvalJob {
    /// Everything loaded once per run: the model, parsed specs and validation datasets.
    struct AlignmentContext {
        /// nil when no checkpoint was given (every spec planted).
        let checkpoint: CheckpointRecord?
        let model: SAEModel?
        let specs: [AlignmentSpec]
        /// Validation datasets from --validation, by dataset name, with their manifest path.
        let validationByName: [String: (dataset: ZeroShotDataset, path: String)]
        /// Validation datasets named by val= in a spec, by manifest path.
        let validationByPath: [String: ZeroShotDataset]
        /// α tables of `alpha=table:` specs, by the path the spec gives.
        let alphaTables: [String: AlphaTable]
        let inputs: [FileDigest]
    }

    /// Parses specs and loads the checkpoint and validation manifests before any dataset is
    /// scored, so that a bad spec or file fails fast.
    static func prepareAlignment(
        _ a: AlignmentOptions, threads: Int, progress: Bool,
        datasets: (String) throws -> ZeroShotDataset
    ) throws -> AlignmentContext {
        guard !a.specs.isEmpty else {
            throw VLSAEError.usage("--sae given without --alignment; add e.g. --alignment alpha=fixed:1")
        }
        let specs = try a.specs.map { try AlignmentSpec(parsing: $0) }
        var inputs: [FileDigest] = []
        var model: SAEModel?
        var checkpointRecord: CheckpointRecord?
        if let path = a.checkpoint {
            if progress { Progress.note("loading autoencoder \(path)") }
            let loaded = try Checkpoint.load(path: path, topK: a.checkpointK)
            var m = loaded.model
            m.threads = threads
            let c = m.config
            for s in specs {
                if let k = s.k, k > c.topK {
                    throw VLSAEError.usage(
                        "alignment spec k=\(k) exceeds the trained k = \(c.topK) of \(path) "
                            + "(k from \(loaded.topKSource)); inference-time sparsity can only keep fewer units")
                }
            }
            inputs.append(loaded.digest.recorded(role: "sae_checkpoint"))
            model = m
            checkpointRecord = CheckpointRecord(
                path: path, sha256: loaded.sha256, arch: c.arch.rawValue,
                inputDim: c.inputDim, hiddenDim: c.hidden, hiddenRatio: c.hiddenRatio, k: c.topK)
        } else if let s = specs.first(where: { $0.representation.needsAutoencoder }) {
            throw VLSAEError.usage(
                "alignment with representation=\(s.representation.rawValue) needs an autoencoder checkpoint (--sae); "
                    + "only representation=planted needs none")
        }
        func record(_ d: ZeroShotDataset) {
            for f in d.inputs { inputs.append(f.recorded(role: "validation_" + (f.role ?? "file"))) }
        }
        var byName: [String: (dataset: ZeroShotDataset, path: String)] = [:]
        for path in a.validation {
            let d = try datasets(path)
            if let previous = byName[d.name] {
                throw VLSAEError.file(
                    path, "second validation manifest for dataset \"\(d.name)\" (first: \(previous.path))")
            }
            byName[d.name] = (d, path)
            record(d)
        }
        var byPath: [String: ZeroShotDataset] = [:]
        for s in specs {
            guard let path = s.validation, byPath[path] == nil else { continue }
            let d = try datasets(path)
            byPath[path] = d
            record(d)
        }
        var tables: [String: AlphaTable] = [:]
        for s in specs {
            guard case .table(let path) = s.alpha else { continue }
            let t = try tables[path] ?? AlphaTable.load(path: path)
            tables[path] = t
            inputs.append(t.digest.recorded(role: "alpha_table"))
        }
        return AlignmentContext(
            checkpoint: checkpointRecord, model: model, specs: specs, validationByName: byName,
            validationByPath: byPath, alphaTables: tables, inputs: inputs)
    }

    /// Checks that every --validation manifest pairs with an evaluated dataset.
    static func checkValidationPairing(_ context: AlignmentContext, datasetNames: Set<String>) throws {
        for (name, v) in context.validationByName.sorted(by: { $0.key < $1.key }) where !datasetNames.contains(name) {
            throw VLSAEError.file(
                v.path,
                "validation dataset \"\(name)\" matches no --data dataset "
                    + "(\(datasetNames.sorted().joined(separator: ", ")))")
        }
    }

    /// The enhanced rows of one dataset: per spec one cosine+concept row, plus one concept-only
    /// diagnostic row per distinct (representation, text, k), each compared with the baseline
    /// (`basePredictions`, the predictions its row was computed from).
    static func alignmentRows(
        _ dataset: ZeroShotDataset, baseline: ResultRow, basePredictions base: Predictions,
        context: AlignmentContext, options: Options
    ) throws -> (rows: [ResultRow], plantedInputs: [FileDigest]) {
        var rows: [ResultRow] = []
        var plantedInputs: [FileDigest] = []
        var conceptOnlyDone = Set<String>()
        for spec in context.specs {
            var validation: ZeroShotDataset?
            var source: String?
            if case .validated = spec.alpha, spec.folds == nil {
                if let path = spec.validation {
                    validation = context.validationByPath[path]
                    source = path
                } else if let v = context.validationByName[dataset.name] {
                    (validation, source) = (v.dataset, v.path)
                }
            }
            let out = try Alignment.evaluate(
                spec, dataset: dataset, map: context.model, validation: validation,
                validationSource: source, alphaTables: context.alphaTables, seed: options.seed,
                degenerate: options.degenerate)
            plantedInputs += out.plantedInputs
            // Planted rows owe nothing to the autoencoder: they cite no checkpoint.
            let checkpoint = spec.representation.needsAutoencoder ? context.checkpoint : nil
            let a = out.alpha
            let record = AlignmentRecord(
                score: "cosine+concept", representation: spec.representation.rawValue, text: spec.text.rawValue,
                k: out.k, trainedK: out.trainedK, alpha: a.alpha, alphaProtocol: a.protocolName, oracle: a.isOracle,
                alphaGrid: a.grid, selection: a.selection == .none ? nil : a.selection.rawValue,
                selectionAcc1: a.gridAcc1,
                folds: a.folds?.map {
                    FoldRecord(
                        fold: $0.fold, nImages: $0.nImages, alpha: $0.alpha,
                        selectionAcc1: $0.selectionAcc1, heldOutAcc1: $0.heldOutAcc1)
                },
                foldSeed: a.foldSeed,
                alphaTable: a.table?.recorded(role: nil),
                validation: a.validationInputs?.first?.recorded(as: source, role: nil))
            rows.append(
                try row(
                    dataset, baseline: baseline, basePredictions: base, predictions: out.enhanced,
                    method: out.method, variant: out.variant, alignment: record,
                    checkpoint: checkpoint, options: options))
            if conceptOnlyDone.insert(out.conceptOnlyVariant).inserted {
                let diag = AlignmentRecord(
                    score: "concept-only", representation: spec.representation.rawValue,
                    text: spec.text.rawValue, k: out.k, trainedK: out.trainedK, alpha: nil,
                    alphaProtocol: "none", oracle: false)
                rows.append(
                    try row(
                        dataset, baseline: baseline, basePredictions: base, predictions: out.conceptOnly,
                        method: Alignment.conceptOnlyMethod, variant: out.conceptOnlyVariant,
                        alignment: diag, checkpoint: checkpoint, options: options))
            }
        }
        return (rows, plantedInputs)
    }

    /// A result row for enhanced predictions, with the paired comparison against the baseline
    /// (same images, same bootstrap resamples as the baseline's acc1 interval).
    static func row(
        _ dataset: ZeroShotDataset, baseline: ResultRow, basePredictions: Predictions,
        predictions: Predictions, method: String, variant: String, alignment: AlignmentRecord,
        checkpoint: CheckpointRecord?, options: Options
    ) throws -> ResultRow {
        let m = Metrics.compute(predictions)
        let sample = try PairedSample(
            labels: dataset.labels, numClasses: dataset.numClasses,
            baseRank: basePredictions.trueRank, enhancedRank: predictions.trueRank)
        let p = try Bootstrap.paired(
            sample, resamples: options.bootstrapResamples, level: options.level,
            seed: options.seed)
        var deltas: [String: Double] = [:]
        var intervals: [String: ConfidenceInterval] = [:]
        for (metric, d) in p.delta { deltas[metric.rawValue] = d }
        for (metric, ci) in p.intervals { intervals[metric.rawValue] = ci }
        var perClassDelta: [Double?]?
        if options.perClass {
            let b = Metrics.compute(basePredictions).perClassRecall
            perClassDelta = zip(m.perClassRecall, b).map { e, b in e.flatMap { e in b.map { e - $0 } } }
        }
        var row = baseline
        row.metrics = MetricValues(acc1: m.acc1, acc5: m.acc5, meanPerClassRecall: m.meanPerClassRecall)
        row.method = method
        row.variant = variant
        row.intervals = p.enhancedIntervals[.acc1].map { ["acc1": $0] } ?? [:]
        row.perClassRecall = options.perClass ? m.perClassRecall : nil
        row.alignment = alignment
        row.checkpoint = checkpoint
        row.nCountedWrong = predictions.countedWrong > 0 ? predictions.countedWrong : nil
        row.comparison = ComparisonRecord(
            baseline: baseline.variant ?? baseline.method, deltas: deltas, intervals: intervals,
            mcnemarP: p.mcnemarP, flips: FlipCounts(gained: p.wrongToRight, lost: p.rightToWrong),
            perClassRecallDelta: perClassDelta)
        return row
    }
}
