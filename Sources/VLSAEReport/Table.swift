import Foundation
import VLSAECore

/// A paper-style table of one metric: one row per dataset plus an average row, one column per
/// scored variant (baselines first), every enhanced cell carrying its paired difference to the
/// baseline with the bootstrap interval.
///
/// Cell definition (all formats):
/// - numbers are percentages, 100·x printed with one decimal by C's `%.1f` (correct rounding of
///   the binary double; an exact tie such as 81.25 rounds to even, "81.2");
/// - baseline cell: `acc1`, e.g. `81.3`;
/// - enhanced cell: `acc1 (Δ [lo, hi])`, where Δ is the row's paired difference to its baseline
///   (comparison.deltas) and [lo, hi] its paired-bootstrap interval, all in percentage points
///   with an explicit sign (`+1.2`, `-0.4`); a value that prints as zero is written `0.0`;
/// - average row: the unweighted mean over the table's datasets of the metric and of Δ, with no
///   interval (the per-dataset bootstraps are independent and are not combined); `-` when the
///   column lacks a dataset;
/// - `-` for a dataset the column has no row for.
/// Columns whose α was chosen on the evaluation set carry `ORACLE` in the header and a footnote.
/// When the table holds rows of more than one checkpoint, enhanced headers add `@` and the first
/// 8 hex digits of the checkpoint's SHA-256.
/// Output depends only on the documents and their order: same inputs, same bytes.
public struct ReportTable: Equatable, Sendable {
    /// The output syntax of `render(_:)`; the raw values are what `vlsae report --format` accepts.
    public enum Format: String, CaseIterable, Sendable {
        case markdown, csv, latex
    }

    /// One column: one scored variant, a baseline method or an alignment variant of one checkpoint.
    public struct Column: Equatable, Sendable {
        /// The method for a baseline (with "(model/pretrained)" when there are several baselines); for an enhanced
        /// column the method, its footnote marker "[n]", "@" and the checkpoint's first 8 hex digits when the table
        /// holds several checkpoints, and "ORACLE" when `isOracle`.
        public var header: String
        /// True for rows without alignment (the cosine baseline): cells without a difference, no footnote.
        public var isBaseline: Bool
        /// True when any of the column's rows chose alpha on the evaluation images; the legend then explains ORACLE.
        public var isOracle: Bool
        /// Footnote text (without the marker); nil for a baseline column.
        public var footnote: String?
    }

    /// "acc1", "acc5" or "mean_per_class_recall": the metric every cell shows.
    public var metric: String
    /// Row labels, in order of first appearance across the documents; the average row is not among them.
    public var datasets: [String]
    /// Baseline columns first, then the enhanced ones, each in order of first appearance.
    public var columns: [Column]
    /// cells[dataset][column], formatted; the last row is the average.
    public var cells: [[String]]
    /// Paragraphs printed after the column footnotes: the cell definition, and the ORACLE warning when a column is one.
    public var legend: [String]

    static let metrics = ["acc1", "acc5", "mean_per_class_recall"]

    /// Builds the table from result documents (path, document) in the given order.
    /// `diagnostics: false` leaves out concept-only rows.
    /// - Throws: `VLSAEError.file` when two documents disagree on the same dataset and column.
    public init(
        documents: [(path: String, document: ResultDocument)], metric: String = "acc1",
        diagnostics: Bool = true
    ) throws {
        guard Self.metrics.contains(metric) else {
            throw VLSAEError.usage("unknown metric \"\(metric)\"; use \(Self.metrics.joined(separator: ", "))")
        }
        self.metric = metric
        struct Key: Hashable { let method, variant, checkpoint, model, pretrained, imported: String }
        struct Entry {
            var rows: [String: (row: ResultRow, path: String)] = [:]
            var key: Key
            var order: Int
        }
        var entries: [Key: Entry] = [:]
        var datasets: [String] = []
        var order = 0
        for (path, doc) in documents {
            for row in doc.results where diagnostics || row.alignment?.score != "concept-only" {
                let key = Key(
                    method: row.method, variant: row.variant ?? row.method,
                    checkpoint: row.checkpoint?.sha256 ?? "", model: row.model, pretrained: row.pretrained,
                    imported: row.imported?.format ?? "")
                if !datasets.contains(row.dataset) { datasets.append(row.dataset) }
                var entry = entries[key] ?? Entry(key: key, order: order)
                if entries[key] == nil { order += 1 }
                if let previous = entry.rows[row.dataset] {
                    guard Self.value(previous.row, metric) == Self.value(row, metric),
                        previous.row.comparison?.deltas[metric] == row.comparison?.deltas[metric]
                    else {
                        throw VLSAEError.file(
                            path,
                            "dataset \(row.dataset), \(row.variant ?? row.method): "
                                + "\(metric) differs from the same column in \(previous.path)")
                    }
                } else {
                    entry.rows[row.dataset] = (row, path)
                }
                entries[key] = entry
            }
        }
        guard !entries.isEmpty else { throw VLSAEError.usage("no result rows to tabulate") }
        // Baselines first, then everything else, each in order of first appearance.
        let ordered = entries.values.sorted {
            let b0 = $0.rows.values.first!.row.alignment == nil
            let b1 = $1.rows.values.first!.row.alignment == nil
            return b0 != b1 ? b0 : $0.order < $1.order
        }
        let baselineCount = ordered.filter { $0.rows.values.first!.row.alignment == nil }.count
        // With several checkpoints in one table, headers carry a hash prefix as well as the footnote.
        let checkpoints = Set(ordered.map(\.key.checkpoint).filter { !$0.isEmpty })
        var columns: [Column] = []
        var note = 0
        for entry in ordered {
            let sample = entry.rows[datasets.first { entry.rows[$0] != nil }!]!.row
            if sample.alignment == nil {
                var header =
                    baselineCount > 1 ? "\(sample.method) (\(sample.model)/\(sample.pretrained))" : sample.method
                // Imported numbers were computed by another tool: the header says which.
                if let format = sample.imported?.format { header += " [\(format)]" }
                columns.append(Column(header: header, isBaseline: true, isOracle: false, footnote: nil))
            } else {
                note += 1
                let oracle = entry.rows.values.contains { $0.row.alignment?.oracle == true }
                let tag = checkpoints.count > 1 ? " @\(entry.key.checkpoint.prefix(8))" : ""
                let header = "\(sample.method) [\(note)]\(tag)" + (oracle ? " ORACLE" : "")
                let text = Self.footnote(
                    entry.key.variant, rows: datasets.compactMap { entry.rows[$0]?.row },
                    metric: metric)
                columns.append(
                    Column(header: header, isBaseline: false, isOracle: oracle, footnote: "[\(note)] " + text))
            }
        }
        var cells: [[String]] = datasets.map { d in
            ordered.map { e in e.rows[d].map { Self.cell($0.row, metric: metric) } ?? "-" }
        }
        cells.append(
            ordered.map { e in
                let rows = datasets.compactMap { e.rows[$0]?.row }
                guard rows.count == datasets.count else { return "-" }
                let values = rows.compactMap { Self.value($0, metric) }
                guard values.count == rows.count else { return "-" }
                let mean = values.reduce(0, +) / Double(values.count)
                if rows[0].alignment == nil { return Self.percent(mean) }
                let deltas = rows.compactMap { $0.comparison?.deltas[metric] }
                guard deltas.count == rows.count else { return Self.percent(mean) }
                return "\(Self.percent(mean)) (\(Self.signed(deltas.reduce(0, +) / Double(deltas.count))))"
            })
        self.datasets = datasets
        self.columns = columns
        self.cells = cells
        var legend = [
            "Cells: \(metric) in % (one decimal); enhanced columns add (difference to the baseline "
                + "in percentage points [paired-bootstrap interval]) on the same images; average = unweighted "
                + "mean over datasets of the metric and of the difference, without interval."
        ]
        if columns.contains(where: \.isOracle) {
            legend.append(
                "ORACLE: alpha chosen on the evaluation images themselves; an upper bound, "
                    + "not a held-out estimate.")
        }
        self.legend = legend
    }

    static func value(_ row: ResultRow, _ metric: String) -> Double? {
        switch metric {
        case "acc1": return row.metrics.acc1
        case "acc5": return row.metrics.acc5
        default: return row.metrics.meanPerClassRecall
        }
    }

    static func cell(_ row: ResultRow, metric: String) -> String {
        guard let v = value(row, metric) else { return "-" }
        guard row.alignment != nil, let c = row.comparison, let d = c.deltas[metric] else { return percent(v) }
        guard let ci = c.intervals[metric] else { return "\(percent(v)) (\(signed(d)))" }
        return "\(percent(v)) (\(signed(d)) [\(signed(ci.low)), \(signed(ci.high))])"
    }

    /// 100·x with one decimal.
    public static func percent(_ x: Double) -> String {
        let s = String(format: "%.1f", 100 * x)
        return s == "-0.0" ? "0.0" : s
    }

    /// 100·x with one decimal and an explicit sign; zero prints as 0.0.
    public static func signed(_ x: Double) -> String {
        let s = String(format: "%+.1f", 100 * x)
        return s == "+0.0" || s == "-0.0" ? "0.0" : s
    }

    static func footnote(_ variant: String, rows: [ResultRow], metric: String) -> String {
        let first = rows[0]
        var parts = ["\(first.method): \(variant)"]
        if let a = first.alignment {
            parts.append("alpha: " + alphaDescription(a, rows: rows))
        }
        if let c = first.checkpoint {
            parts.append(
                "checkpoint \(c.sha256.prefix(12)) (\(c.arch), k=\(first.alignment?.k ?? c.k) of \(c.k), "
                    + "hidden ratio \(c.hiddenRatio), \(c.path))")
        }
        parts.append("model \(first.model)/\(first.pretrained)")
        if let ci = first.comparison?.intervals[metric] {
            parts.append(
                "\(Int((ci.level * 100).rounded()))% paired bootstrap, \(ci.resamples) resamples, seed \(ci.seed)")
        }
        return parts.joined(separator: "; ")
    }

    static func alphaDescription(_ a: AlignmentRecord, rows: [ResultRow]) -> String {
        func alphas(_ f: (AlignmentRecord) -> String) -> String {
            rows.map { "\($0.dataset)=\($0.alignment.map(f) ?? "?")" }.joined(separator: ", ")
        }
        let grid = (a.alphaGrid ?? []).map(number).joined(separator: ";")
        let single: (AlignmentRecord) -> String = { $0.alpha.map(number) ?? "?" }
        switch (a.alphaProtocol, a.selection) {
        case ("none", _): return "none (concept similarity alone, diagnostic)"
        case ("fixed", _): return "fixed \(single(a))"
        case ("table", _): return "table \(a.alphaTable?.path ?? "?") (\(alphas(single)))"
        case ("oracle", _): return "ORACLE, best of {\(grid)} on the evaluation set (\(alphas(single)))"
        case ("validated", "kfold"?):
            let k = a.folds?.count ?? 0
            return
                "validated by \(k)-fold cross-validation on the evaluation set, seed \(a.foldSeed.map(String.init) ?? "?"), "
                + "grid {\(grid)} (per-fold alpha: \(alphas { ($0.folds ?? []).map { number($0.alpha) }.joined(separator: ";") }))"
        case ("validated", _):
            return "validated on \(a.validation?.path ?? "?"), grid {\(grid)} (\(alphas(single)))"
        default: return "\(a.alphaProtocol) (\(alphas(single)))"
        }
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : "\(v)"
    }

    // MARK: Rendering

    /// The table in `format`, ending in a newline: a Markdown pipe table with footnote paragraphs, CSV with one
    /// "footnote" row per note, or a LaTeX booktabs `tabular` followed by footnote paragraphs. The average row is last.
    public func render(_ format: Format) -> String {
        let footnotes = columns.compactMap(\.footnote) + legend
        let header = ["dataset"] + columns.map(\.header)
        let body = zip(datasets + ["average"], cells).map { [$0] + $1 }
        switch format {
        case .markdown:
            var lines = [row(header), "|" + ([" --- "] + columns.map { _ in " ---: " }).joined(separator: "|") + "|"]
            lines += body.map(row)
            // Blank lines keep each footnote its own paragraph when rendered.
            for f in footnotes { lines += ["", f] }
            return lines.joined(separator: "\n") + "\n"
        case .csv:
            let width = header.count
            var lines = [header] + body
            lines += footnotes.map { ["footnote", $0] + Array(repeating: "", count: max(0, width - 2)) }
            return lines.map { $0.map(csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
        case .latex:
            var lines = ["\\begin{tabular}{l" + String(repeating: "r", count: columns.count) + "}", "\\toprule"]
            lines.append(header.map(latex).joined(separator: " & ") + " \\\\")
            lines.append("\\midrule")
            for (i, r) in body.enumerated() {
                if i == body.count - 1 { lines.append("\\midrule") }
                lines.append(r.map(latex).joined(separator: " & ") + " \\\\")
            }
            lines += ["\\bottomrule", "\\end{tabular}"]
            lines += footnotes.map { "{\\footnotesize \(latex($0))\\par}" }
            return lines.joined(separator: "\n") + "\n"
        }
    }

    private func row(_ fields: [String]) -> String {
        "| " + fields.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
    }

    private func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    private func latex(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "\\": out += "\\textbackslash{}"
            case "&", "%", "$", "#", "_", "{", "}": out += "\\\(ch)"
            case "~": out += "\\textasciitilde{}"
            case "^": out += "\\textasciicircum{}"
            default: out.append(ch)
            }
        }
        return out
    }
}
