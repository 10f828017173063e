import ArgumentParser
import Foundation
import VLSAEJobs

struct SweepSubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a sweep to Slurm: a job array of shards, then a merge job after it.",
        discussion: """
            Writes <out>/slurm/array.sbatch (one array task per shard with unfinished cells, each \\
            running `vlsae sweep run <config> --out <out>/shards/<i> --shard auto --shards <n>` with \\
            --cpus-per-task = --threads) and <out>/slurm/merge.sbatch (`vlsae sweep merge \\
            <out>/shards/* --out <out>`), prints the estimated training cost, submits the array with \\
            sbatch and the merge with --dependency=afterok:<array id>, and prints as its last line \\
            `submitted array <id> merge <id>`. Submitting again runs only the shards whose cells are \\
            not all finished. The scripts call this vlsae by its absolute path, so it must be on a \\
            file system the nodes share, as must the config, its inputs and <out>.
            """)

    @Argument(help: ArgumentHelp("Sweep config (JSON or YAML).", valueName: "config")) var config: String
    @Option(help: ArgumentHelp("Submission folder (shared by the nodes).", valueName: "folder")) var out: String
    @Option(help: ArgumentHelp("Shards, one array task each.", valueName: "n")) var shards: Int
    @Option(help: "Worker threads per shard, also its --cpus-per-task (results do not depend on it).") var threads = 1
    @Option(
        parsing: .unconditionalSingleValue,
        help: ArgumentHelp(
            "An sbatch option for both jobs, e.g. --sbatch --partition=cpu --sbatch=--time=60 (repeatable).",
            valueName: "option"))
    var sbatch: [String] = []
    @Flag(help: "Print the scripts and the cost; submit nothing.")
    var dryRun = false

    func validate() throws {
        if shards < 1 { throw ValidationError("--shards must be at least 1, got \(shards)") }
        if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        try reportingErrors {
            let executable =
                Bundle.main.executableURL?.resolvingSymlinksInPath().path ?? CommandLine.arguments[0]
            let submission = try SweepSubmission.prepare(
                SweepSubmission.Options(
                    config: config, out: out, shards: shards, threads: threads, sbatch: sbatch,
                    executable: executable))
            let finished = submission.shards - submission.unfinished.count
            show(
                "sweep \(submission.plan.name ?? config): \(submission.plan.cells.count) cells in \(shards) shards; "
                    + (submission.unfinished.isEmpty
                        ? "every shard is finished, only the merge runs"
                        : "to run: shard \(submission.unfinished.map(String.init).joined(separator: ", "))"
                            + (finished > 0 ? " (\(finished) finished)" : "")))
            for line in submission.cost.lines { show(line) }
            if dryRun {
                show("# \(submission.arrayScriptPath)\n\(submission.arrayScript)")
                show("# \(submission.mergeScriptPath)\n\(submission.mergeScript)")
                show("dry run: nothing submitted")
                return
            }
            let record = try submission.submit(slurm: SlurmClient())
            show("submitted array \(record.arrayJob ?? "none") merge \(record.mergeJob)")
        }
    }
}
