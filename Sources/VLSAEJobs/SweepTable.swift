import Foundation
import VLSAECore
import VLSAEPlot
import VLSAEReport

/// Reconstruction quality of a cell's checkpoint on the validation split, at the cell's k.
/// FVU is null when the validation rows have no variance.
public struct SweepTrainingFacts: Codable, Equatable, Sendable {
    /// Image fraction of variance unexplained, Σ‖x − x̂‖² / Σ‖x − mean(x)‖²; nil when undefined.
    public var fvuImage: Double?
    /// Text fraction of variance unexplained; nil when undefined.
    public var fvuText: Double?
    /// Mean active units per image row.
    public var l0Image: Double
    /// Mean active units per text row.
    public var l0Text: Double
    /// Fraction of hidden units active on no validation row of either modality, in [0, 1].
    public var deadFraction: Double
    /// MSE(image) + MSE(text) at the measured k.
    public var valLoss: Double
    /// The k the facts were measured at (the cell's k, also when reusing a larger-k checkpoint).
    public var measuredK: Int
    /// The checkpoint's best validation epoch, counted from 1.
    public var bestEpoch: Int
    /// Epochs trained (fewer than requested when patience stopped training).
    public var epochsRun: Int
    /// Pairs in the training split.
    public var trainRows: Int
    /// Pairs in the validation split the facts are measured on.
    public var valRows: Int

    /// Stores the facts; a non-finite FVU is stored as nil (written as null).
    public init(
        fvuImage: Double?, fvuText: Double?, l0Image: Double, l0Text: Double, deadFraction: Double,
        valLoss: Double, measuredK: Int, bestEpoch: Int, epochsRun: Int, trainRows: Int, valRows: Int
    ) {
        self.fvuImage = fvuImage.flatMap { $0.isFinite ? $0 : nil }
        self.fvuText = fvuText.flatMap { $0.isFinite ? $0 : nil }
        self.l0Image = l0Image
        self.l0Text = l0Text
        self.deadFraction = deadFraction
        self.valLoss = valLoss
        self.measuredK = measuredK
        self.bestEpoch = bestEpoch
        self.epochsRun = epochsRun
        self.trainRows = trainRows
        self.valRows = valRows
    }

    /// Mean FVU of the two modalities (nil when either is undefined).
    public var fvu: Double? {
        guard let i = fvuImage, let t = fvuText else { return nil }
        return (i + t) / 2
    }
    /// Mean active units per row over the two modalities (the x axis of the FVU-vs-L0 figure).
    public var l0: Double { (l0Image + l0Text) / 2 }
}

/// The summary of one dataset in one cell: the alignment row's acc1 and its paired Δacc1 against
/// the cosine baseline.
public struct SweepDatasetResult: Codable, Equatable, Sendable {
    /// The dataset's name, as in the result rows.
    public var dataset: String
    /// The summarised row's method (the alignment method, or `cosine` when the evaluation had no alignment row).
    public var method: String
    /// The summarised row's canonical variant string.
    public var variant: String?
    /// Images evaluated.
    public var nImages: Int
    /// Top-1 accuracy of the summarised row, in [0, 1].
    public var acc1: Double
    /// Paired-bootstrap interval of `acc1`; nil when the row has none.
    public var acc1Interval: ConfidenceInterval?
    /// Top-1 accuracy of the cosine baseline on the same images; nil without a baseline row.
    public var baselineAcc1: Double?
    /// acc1 − baseline acc1 on the same images, a fraction (the Δacc1 figure plots it in points); nil without a
    /// paired comparison.
    public var deltaAcc1: Double?
    /// Paired-bootstrap interval of `deltaAcc1`; nil without a paired comparison.
    public var deltaAcc1Interval: ConfidenceInterval?
    /// Exact McNemar p-value of the paired comparison; nil without one.
    public var mcnemarP: Double?

    /// Picks the alignment row (the one with a paired comparison, other than concept-only) and the
    /// baseline row of one dataset out of an evaluation's rows.
    public static func summarize(_ rows: [ResultRow], dataset: String) throws -> SweepDatasetResult {
        let mine = rows.filter { $0.dataset == dataset }
        let baseline = mine.first { $0.method == "cosine" }
        let aligned = mine.first { $0.comparison != nil && $0.method != "concept-only" } ?? baseline
        guard let row = aligned else {
            throw VLSAEError.mismatch("evaluation returned no row for dataset \(dataset)")
        }
        guard let nImages = row.nImages else {
            throw VLSAEError.mismatch("the row for dataset \(dataset) does not record its image count")
        }
        return SweepDatasetResult(
            dataset: dataset, method: row.method, variant: row.variant, nImages: nImages,
            acc1: row.metrics.acc1, acc1Interval: row.intervals["acc1"], baselineAcc1: baseline?.metrics.acc1,
            deltaAcc1: row.comparison?.deltas["acc1"], deltaAcc1Interval: row.comparison?.intervals["acc1"],
            mcnemarP: row.comparison?.mcnemarP)
    }
}

/// Where a cell's checkpoint is, relative to the sweep folder, and its content digest.
public struct SweepCheckpointRef: Codable, Equatable, Sendable {
    /// SHA-256 of the canonical training identity (names the file).
    public var hash: String
    /// The checkpoint's path relative to the sweep folder, `checkpoints/<hash>.safetensors`.
    public var path: String
    /// SHA-256 of the file's bytes.
    public var sha256: String
}

/// One finished cell: the file `cells/<id>.json` in the sweep folder.
public struct SweepCellResult: Codable, Equatable, Sendable {
    /// Version tag of the cell file.
    public var format = "vlsae-sweep-cell/2"
    /// The cell id (`SweepPlannedCell.id`); must match the file name.
    public var id: String
    /// The resolved cell.
    public var spec: SweepCellSpec
    /// The k the checkpoint is trained at; `spec.k` is the k the cell is evaluated at.
    public var trainedK: Int
    /// True when a checkpoint trained at a larger k is evaluated at k′ = `spec.k`.
    public var inferenceKReuse: Bool
    /// The checkpoint the cell trained or reused.
    public var checkpoint: SweepCheckpointRef
    /// Reconstruction quality on the validation split at the cell's k.
    public var training: SweepTrainingFacts
    /// One summary per dataset, in the order of the config's datasets.
    public var datasets: [SweepDatasetResult]
    /// The evaluation's full rows (baseline, alignment and concept-only), checkpoint paths
    /// relative to the sweep folder.
    public var rows: [ResultRow]
    /// How this cell was computed (threads, kernel path): stays in the cell file, out of the table.
    public var provenance: RunProvenance
    /// The shard that computed the cell and the scheduler that assigned it (`--shard auto`); nil for a run of the whole
    /// sweep. A run fact like `provenance`: stays in the cell file, out of the table.
    public var shard: SweepShard? = nil

}

/// A table row: the planned cell and its result.
public struct SweepTableCell: Codable, Equatable, Sendable {
    /// Position in the plan's canonical order, from 0.
    public var index: Int
    /// The cell id (`SweepPlannedCell.id`).
    public var id: String
    /// The resolved cell.
    public var spec: SweepCellSpec
    /// The k the checkpoint is trained at.
    public var trainedK: Int
    /// True when a checkpoint trained at a larger k is evaluated at k′ = `spec.k` (marked ↺ in `sweep.md`).
    public var inferenceKReuse: Bool
    /// The full alignment spec handed to evaluation (variant, α protocol and, with reuse, k).
    public var alignmentSpec: String
    /// The checkpoint evaluated.
    public var checkpoint: SweepCheckpointRef
    /// Reconstruction quality on the validation split at the cell's k.
    public var training: SweepTrainingFacts
    /// One summary per dataset.
    public var datasets: [SweepDatasetResult]

}

/// `sweep.json`: every cell of the plan in canonical order. Holds no timings, host names, command
/// lines, thread counts or kernel paths (those stay in the cell files), so shards run on different
/// machines with different thread counts merge into the bytes of a single run.
public struct SweepTable: Codable, Equatable, Sendable {
    /// Version tag of `sweep.json`.
    public var format = "vlsae-sweep-table/2"
    /// The sweep's name; nil when the config gives none.
    public var name: String?
    /// The `vlsae` that wrote the table.
    public var tool: ToolRecord
    /// `SweepPlan.sha256` of the plan the cells belong to.
    public var planSha256: String
    /// Whether cells that differ only in k share a checkpoint (`reuse_k`).
    public var reuseK: Bool
    /// The numeric mode every cell was computed in.
    public var numerics: String
    /// Bootstrap settings of every evaluation.
    public var evaluation: SweepEvaluation
    /// Each manifest with its input digests.
    public var datasets: [SweepDatasetInput]
    /// Training pair files with their digests (roles `train_images`, `train_texts`).
    public var trainInputs: [FileDigest]
    /// Every cell of the plan with its result, in canonical order.
    public var cells: [SweepTableCell]

    /// Joins the plan with the finished cells' results (keyed by cell id). Throws a usage error naming the missing
    /// cells unless every cell of the plan has a result.
    public init(plan: SweepPlan, results: [String: SweepCellResult], tool: ToolRecord) throws {
        var cells: [SweepTableCell] = []
        var missing: [Int] = []
        for c in plan.cells {
            guard let r = results[c.id] else {
                missing.append(c.index)
                continue
            }
            cells.append(
                SweepTableCell(
                    index: c.index, id: c.id, spec: c.spec, trainedK: c.trainedK,
                    inferenceKReuse: c.inferenceKReuse, alignmentSpec: c.alignmentSpec,
                    checkpoint: r.checkpoint, training: r.training, datasets: r.datasets))
        }
        guard missing.isEmpty else {
            throw VLSAEError.usage(
                "the sweep is incomplete: \(missing.count) of \(plan.cells.count) cells have no result (cells \(missing.prefix(10).map(String.init).joined(separator: ", "))\(missing.count > 10 ? ", …" : ""))"
            )
        }
        self.name = plan.name
        self.tool = tool
        self.planSha256 = plan.sha256
        self.reuseK = plan.reuseK
        self.numerics = RunProvenance.deterministic
        self.evaluation = plan.evaluation
        self.datasets = plan.datasets
        self.trainInputs = plan.trainInputs
        self.cells = cells
    }

    /// The canonical JSON of `sweep.json` (sorted snake_case keys).
    public func encoded() throws -> Data { try CanonicalJSON.encode(self) }

    /// Reads a `sweep.json` file.
    public static func read(from path: String) throws -> SweepTable {
        try CanonicalJSON.decode(SweepTable.self, from: path)
    }

    // MARK: Markdown

    /// One line per cell and dataset; the axes that vary are listed first.
    public func markdown() -> String {
        var out = "# Sweep\(name.map { " \($0)" } ?? "")\n\n"
        out +=
            "Plan SHA-256 `\(planSha256)`, \(cells.count) cells, tool \(tool.name) \(tool.version) (\(tool.gitCommit)).\n"
        out +=
            "Bootstrap: \(evaluation.bootstrap) resamples, seed \(evaluation.seed), level \(fmt(evaluation.level, 2)); \(numerics) numerics.\n"
        if reuseK {
            out += "k reuse: cells marked ↺ evaluate a checkpoint trained at a larger k with only k′ units kept.\n"
        }
        out +=
            "\nΔacc1 is the paired difference to the cosine baseline on the same images (bootstrap interval in brackets).\n\n"
        out +=
            "| # | arch | k | trained k | ratio | lr | epochs | seed | alignment | α | FVU img | FVU txt | L0 | dead | dataset | acc1 | Δacc1 | interval | McNemar p |\n"
        out += "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        for c in cells {
            for d in c.datasets {
                let ci = d.deltaAcc1Interval.map { "[\(signed($0.low)), \(signed($0.high))]" } ?? "–"
                let cols: [String] = [
                    String(c.index), c.spec.arch, c.inferenceKReuse ? "\(c.spec.k) ↺" : String(c.spec.k),
                    String(c.trainedK), String(c.spec.hiddenRatio), SweepTable.number(c.spec.lr), String(c.spec.epochs),
                    String(c.spec.seed), c.spec.alignment, c.spec.alpha,
                    c.training.fvuImage.map { fmt($0, 4) } ?? "–", c.training.fvuText.map { fmt($0, 4) } ?? "–",
                    fmt(c.training.l0, 1), fmt(c.training.deadFraction, 3), d.dataset, fmt(d.acc1, 4),
                    d.deltaAcc1.map(signed) ?? "–", ci, d.mcnemarP.map { fmt($0, 3) } ?? "–",
                ]
                out +=
                    "| " + cols.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
            }
        }
        return out
    }

    static func number(_ x: Double) -> String {
        var s = String(format: "%.6g", x)
        if s.contains("e") { return s }
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s
    }
    private func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
    private func signed(_ x: Double) -> String { String(format: "%+.4f", x) }

    // MARK: Figures

    /// The axes other than k (and dataset) whose values differ between cells, for series names.
    func varyingLabel(_ spec: SweepCellSpec, includeK: Bool = false) -> String {
        let all = cells.map(\.spec)
        var parts: [String] = []
        func add<T: Hashable>(_ name: String, _ key: KeyPath<SweepCellSpec, T>, _ show: (T) -> String) {
            if Set(all.map { $0[keyPath: key] }).count > 1 { parts.append("\(name)=\(show(spec[keyPath: key]))") }
        }
        add("arch", \.arch) { $0 }
        if includeK { add("k", \.k) { String($0) } }
        add("ratio", \.hiddenRatio) { String($0) }
        add("lr", \.lr) { SweepTable.number($0) }
        add("epochs", \.epochs) { String($0) }
        add("seed", \.seed) { String($0) }
        add("align", \.alignment) { $0 }
        add("alpha", \.alpha) { $0 }
        add("train", \.train) { $0.images }
        return parts.joined(separator: " ")
    }

    /// Δacc1 (percentage points) against k, one series per dataset and combination of the other
    /// varying axes, with the paired-bootstrap interval as bars.
    public func deltaSeries() -> [LineSeries] {
        var order: [String] = []
        var points: [String: [LinePoint]] = [:]
        for c in cells {
            let label = varyingLabel(c.spec)
            for d in c.datasets {
                guard let delta = d.deltaAcc1 else { continue }
                let name = label.isEmpty ? d.dataset : "\(d.dataset) \(label)"
                if points[name] == nil { order.append(name) }
                points[name, default: []].append(
                    LinePoint(
                        x: Double(c.spec.k), y: 100 * delta,
                        low: d.deltaAcc1Interval.map { 100 * $0.low }, high: d.deltaAcc1Interval.map { 100 * $0.high }))
            }
        }
        return order.map { LineSeries(name: $0, points: points[$0]!.sorted { $0.x < $1.x }) }
    }

    /// Mean FVU against mean L0 of every cell, grouped by the varying axes other than k.
    public func fvuPoints() -> [ScatterPoint] {
        cells.compactMap { c in
            guard let fvu = c.training.fvu else { return nil }
            let group = varyingLabel(c.spec)
            return ScatterPoint(
                x: c.training.l0, y: fvu, label: "k=\(c.spec.k)", group: group.isEmpty ? "cells" : group)
        }
    }

    /// The Δacc1-vs-k figure of `deltaSeries()` (`delta_vs_k.png`); log₂ x axis when k varies, a reference line at 0.
    public func deltaChart() -> LineChart {
        let ks = Set(cells.map(\.spec.k))
        // The figure font is ASCII-only, hence "delta" rather than Δ.
        return LineChart(
            title: "delta acc1 vs k" + (name.map { " (\($0))" } ?? ""), xLabel: "k (active units)",
            yLabel: "acc1 - cosine acc1 (points)", series: deltaSeries(),
            xScale: ks.count > 1 && ks.allSatisfy { $0 > 0 } ? .log2 : .linear, referenceY: 0)
    }

    /// The FVU-vs-L0 scatter of `fvuPoints()` with its Pareto front, both minimised (`fvu_vs_l0.png`).
    public func fvuChart() -> ScatterChart {
        ScatterChart(
            title: "FVU vs L0" + (name.map { " (\($0))" } ?? ""), xLabel: "L0 (mean active units)",
            yLabel: "FVU (mean of image, text)", points: fvuPoints(),
            xObjective: .minimize, yObjective: .minimize, showParetoFront: true)
    }

    /// Width of the sweep figures, in pixels.
    public static let figureWidth = 900
    /// Height of the sweep figures, in pixels.
    public static let figureHeight = 560

    /// The output files: sweep.json, sweep.md, delta_vs_k.png, fvu_vs_l0.png.
    public func outputs() throws -> [(name: String, data: Data)] {
        do {
            return [
                ("sweep.json", try encoded()), ("sweep.md", Data(markdown().utf8)),
                (
                    "delta_vs_k.png",
                    Data(
                        try deltaChart().render(width: SweepTable.figureWidth, height: SweepTable.figureHeight)
                            .pngData())
                ),
                (
                    "fvu_vs_l0.png",
                    Data(
                        try fvuChart().render(width: SweepTable.figureWidth, height: SweepTable.figureHeight).pngData())
                ),
            ]
        } catch let e as PlotError {
            throw VLSAEError.usage("cannot draw a sweep figure: \(e)")
        }
    }

    /// Writes the outputs into the sweep folder `folder`, each through the folder's work area
    /// and a rename.
    public func write(to folder: String) throws {
        let files = SweepFolder(folder)
        for (name, data) in try outputs() { try files.write(data, to: files.path(name)) }
    }
}
