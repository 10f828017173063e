import ArgumentParser
import Foundation
import VLSAECore
import VLSAEJobs

struct RegressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regress",
        abstract:
            "Compare a result file with a golden one; exit 0 within tolerance, 1 on a regression, 2 when not comparable.",
        discussion: """
            Rows are matched by (dataset, method, variant). The files are comparable when their inputs \
            have the same SHA-256s per role (paths may differ), each matched row has the same class \
            names, templates and image count, and every baseline row exists in the candidate \
            (candidate-only rows are listed, not fatal).

            Tolerances are the largest allowed absolute drop per metric: acc1, acc5, \
            mean_per_class_recall, and delta_acc1, delta_acc5, delta_mean_per_class_recall (the paired \
            difference of alignment rows to their baseline). Default \(RegressJob.defaultTolerance) \
            each; `--tolerance all=0` demands identical numbers. With --require-overlap, a bootstrap \
            interval of the candidate lying wholly below the baseline's also counts as a regression.

            Results computed in the same numeric mode from the same inputs are byte-identical on every \
            CPU and thread count. Documents in different numeric modes (e.g. a schema-1 result computed \
            through OpenBLAS) are compared within tolerance, and the report says so. --exact requires \
            every row to be reproduced byte for byte (checkpoint paths aside): exit 1 when one differs, 2 \
            when the numeric modes differ.
            """)

    @Option(help: ArgumentHelp("Golden result file.", valueName: "file.json"))
    var baseline: String

    @Option(help: ArgumentHelp("New result file.", valueName: "file.json"))
    var candidate: String

    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "metric=max-drop (repeatable, or comma-separated); `all=` sets every metric.", valueName: "metric=value"))
    var tolerance: [String] = []

    @Flag(help: "Fail when a candidate interval lies wholly below the baseline's.")
    var requireOverlap = false

    @Flag(help: "Require every row to be byte-identical to the baseline's (a golden reproduced).")
    var exact = false

    @Flag(help: "List unchanged values too.")
    var all = false

    func validate() throws {
        var t = RegressJob.Tolerances()
        do { try t.apply(tolerance) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        var t = RegressJob.Tolerances()
        try t.apply(tolerance)
        let report = RegressJob.run(
            baseline: baseline, candidate: candidate, tolerances: t, requireOverlap: requireOverlap,
            exact: exact)
        show(report.text(showAll: all))
        if report.outcome != .pass { throw ExitCode(report.outcome.rawValue) }
    }
}
