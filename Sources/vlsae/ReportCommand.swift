import ArgumentParser
import Foundation
import VLSAECore
import VLSAEJobs
import VLSAEReport

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Paper-style table from one or more result files.",
        discussion: """
            One row per dataset plus an average row; one column per method/variant, baselines first, \
            then the other columns in order of first appearance across the files (rows of several \
            files, e.g. two checkpoints, become separate columns; identical rows are merged, \
            conflicting ones are an error).

            Cells are percentages with one decimal (C printf %.1f of 100·x). A baseline cell is the \
            metric; an enhanced cell is "metric (delta [lo, hi])": the difference to the baseline on the \
            same images and its paired-bootstrap interval, in percentage points with a sign. The \
            average row is the unweighted mean over datasets of the metric and of the difference, \
            without an interval. "-" marks a missing value. Columns whose alpha was chosen on the \
            evaluation set are marked ORACLE. Footnotes give every column's full variant, alpha \
            protocol (with the alpha per dataset or per fold), checkpoint hash prefix and bootstrap \
            settings. The output depends only on the files and their order.
            """)

    @Argument(help: ArgumentHelp("Result file(s) written by vlsae eval.", valueName: "result.json"))
    var results: [String]

    @Option(help: "markdown, csv or latex.")
    var format: String = "markdown"

    @Option(help: "acc1, acc5 or mean_per_class_recall.")
    var metric: String = "acc1"

    @Flag(help: "Leave out the concept-only diagnostic columns.")
    var noDiagnostics = false

    @Option(help: ArgumentHelp("Write the table here (atomically) instead of stdout.", valueName: "file"))
    var out: String?

    func validate() throws {
        if results.isEmpty { throw ValidationError("give at least one result file") }
        if ReportTable.Format(rawValue: format) == nil {
            throw ValidationError("--format must be markdown, csv or latex, got \"\(format)\"")
        }
    }

    func run() throws {
        try reportingErrors {
            try refuseOverwritingInputs(outputs: [out], inputs: results)
            let text = try ReportJob.run(
                results: results, format: ReportTable.Format(rawValue: format) ?? .markdown,
                metric: metric, diagnostics: !noDiagnostics)
            if let out { try AtomicFile.write(text, to: out) } else { show(text, terminator: "") }
        }
    }
}
