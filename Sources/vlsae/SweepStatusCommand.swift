import ArgumentParser
import Foundation
import VLSAEJobs

struct SweepStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Cells done, running, queued and failed per shard of a sweep submitted with `sweep submit`.",
        discussion: """
            Counts each shard's finished cell files and asks Slurm (squeue) about the last \\
            submission's array tasks: unfinished cells of a running task are running, of a pending \\
            task queued, of a task no longer in the queue failed (resubmit to rerun them). Without \\
            Slurm the states are unknown.
            """)

    @Argument(help: ArgumentHelp("Submission folder (the --out of `sweep submit`).", valueName: "folder"))
    var folder: String

    func run() throws {
        try reportingErrors {
            let slurm = SlurmClient()
            let status = try SweepStatus.read(folder: folder, states: slurm.taskStates(job:))
            for line in status.lines { show(line) }
        }
    }
}
