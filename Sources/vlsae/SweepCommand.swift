import ArgumentParser
import Foundation
import VLSAECore
import VLSAEJobs

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract:
            "Train and evaluate a grid of autoencoders (resumable, shardable); merge shard folders; submit to Slurm.",
        subcommands: [
            SweepRunCommand.self, SweepMergeCommand.self, SweepSubmitCommand.self, SweepStatusCommand.self,
        ],
        defaultSubcommand: SweepRunCommand.self)
}

struct SweepRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the cells of a sweep config (`vlsae sweep <config>` is short for `vlsae sweep run <config>`).",
        discussion: """
            The config (JSON or YAML; paths relative to it) names the datasets, the training pairs, \
            fixed training settings and the axes to vary:
              datasets: [synth10.json, synth100.json]
              train: {images: train_image.npy, texts: train_text.npy}
              training: {arch: vlsae, k: 64, hidden_ratio: 8, lr: 0.001, epochs: 10, seed: 0,
                         batch_size: 512, warmup_epochs: 2, val_ratio: 0.2, patience: 10, weight_decay: 0}
              alignment: "representation=hidden,text=average-first"
              alpha: "fixed:1"
              evaluation: {bootstrap: 1000, seed: 0, level: 0.95}
              reuse_k: true        # train once per group at the largest k, evaluate smaller k' via k=
              grid: {k: [16, 32, 64], hidden_ratio: [4, 8]}     # or  cells: [{k: 16}, {k: 64, lr: 0.0005}]
            Axes: arch, k, hidden_ratio, lr, epochs, seed, alignment, alpha, train.

            Each finished cell is written atomically to <out>/cells/<id>.json, checkpoints to \
            <out>/checkpoints/<hash>.safetensors (hash: SHA-256 of the canonical training config and \
            input digests; an existing one is reused). A rerun skips finished cells; a killed run \
            leaves only its hidden work folder .tmp-<pid>, removed on the next run. With --shard i/n only the cells \
            whose canonical index ≡ i (mod n) run; --shard auto reads i and n from the array job \
            that started the run (Slurm SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, Kubernetes Indexed \
            Job JOB_COMPLETION_INDEX with --shards N, AWS Batch AWS_BATCH_JOB_ARRAY_INDEX/\
            AWS_BATCH_JOB_ARRAY_SIZE, SGE SGE_TASK_ID/SGE_TASK_LAST from 1) and records it in each \
            cell file. When all cells are present the folder gets \
            sweep.json, sweep.md, delta_vs_k.png and fvu_vs_l0.png.
            """)

    @Argument(help: ArgumentHelp("Sweep config (JSON or YAML).", valueName: "config"))
    var config: String

    @Option(help: ArgumentHelp("Sweep folder (default: sweeps/<config name>).", valueName: "folder"))
    var out: String?

    @Option(
        help: ArgumentHelp(
            "Run only shard i of n (cells with index mod n = i); auto: i and n from the array job's environment.",
            valueName: "i/n|auto"))
    var shard: String?

    @Option(
        help: ArgumentHelp(
            "With --shard auto: the shard count (needed on Kubernetes; overrides the scheduler's count).",
            valueName: "n"))
    var shards: Int?

    @OptionGroup var parallel: ThreadsOption
    @OptionGroup var progress: ProgressOption

    func validate() throws {
        if let shard, shard != "auto" {
            do { _ = try SweepShard(parsing: shard) } catch { throw ValidationError("\(error)") }
        }
        if let shards {
            guard shard == "auto" else { throw ValidationError("--shards goes with --shard auto") }
            if shards < 1 { throw ValidationError("--shards must be at least 1, got \(shards)") }
        }
    }

    func run() throws {
        try reportingErrors(threads: parallel.threads) {
            let assigned =
                shard == "auto"
                ? try ArrayScheduler.shard(environment: ProcessInfo.processInfo.environment, shards: shards)
                : try shard.map(SweepShard.init(parsing:))
            let report = try SweepJob.run(
                SweepJob.Options(
                    config: config, out: out, shard: assigned,
                    threads: parallel.threads,
                    progress: progress.enabled, tool: ToolIdentity.record(), command: recordedCommandLine))
            if let table = report.table { show(table.markdown()) }
        }
    }
}

struct SweepMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the cells of shard folders of one sweep into its table (same bytes as a single run).")

    @Argument(help: ArgumentHelp("Shard folders of the same sweep.", valueName: "folder"))
    var folders: [String]

    @Option(help: ArgumentHelp("Folder for the merged table (default: the first folder).", valueName: "folder"))
    var out: String?

    func validate() throws {
        if folders.isEmpty { throw ValidationError("give at least one sweep folder") }
    }

    func run() throws {
        try reportingErrors {
            let table = try SweepJob.merge(folders: folders, out: out, tool: ToolIdentity.record())
            show(table.markdown())
            Progress.note("wrote \(out ?? folders[0])/sweep.json")
        }
    }
}
