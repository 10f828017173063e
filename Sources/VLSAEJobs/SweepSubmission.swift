import Foundation
import VLSAECore

/// `vlsae sweep submit`: a sweep as a Slurm job array of shards plus a merge job that runs after
/// the whole array succeeded.
///
/// Submission folder layout:
///   plan.json                      the resolved plan (status reads it)
///   slurm/array.sbatch             one task per unfinished shard: `vlsae sweep run … --shard auto`
///   slurm/merge.sbatch             `vlsae sweep merge DIR/shards/* --out DIR`
///   slurm/submission.json          the last submission: shard count, threads, job ids
///   slurm/array-<job>_<task>.out, slurm/merge-<job>.out   the jobs' logs
///   shards/<i>/                    shard i's sweep folder
///   sweep.json, sweep.md, cells/ … the merged sweep, once the merge job ran
public struct SweepSubmission: Sendable {
    /// What `prepare(_:)` needs.
    @MemberwiseInit
    public struct Options: Sendable {
        /// Path of the sweep config.
        public var config: String
        /// The submission folder.
        public var out: String
        /// Shards (array tasks) the sweep is split into.
        public var shards: Int
        /// Worker threads of each shard, also its `--cpus-per-task`.
        public var threads: Int = 1
        /// Further sbatch options written into both scripts (`--partition=…`, `--time=…`, `--gres=…`).
        public var sbatch: [String] = []
        /// The `vlsae` the jobs run: an absolute path every node can reach.
        public var executable: String
    }

    /// What a submission submitted, `slurm/submission.json`: a resubmission must use the same shard
    /// count, and `vlsae sweep status` asks Slurm about these jobs.
    @MemberwiseInit
    public struct Record: Codable, Equatable, Sendable {
        /// Shards the sweep is split into.
        public var shards: Int
        /// Threads per shard.
        public var threads: Int
        /// The shards the array ran (the unfinished ones at submission).
        public var arrayShards: [Int]
        /// The array's job id; nil when every shard was already finished.
        public var arrayJob: String?
        /// The merge job's id.
        public var mergeJob: String
    }

    /// The submission folder, absolute.
    public var folder: String
    /// The resolved plan.
    public var plan: SweepPlan
    /// Shards the sweep is split into.
    public var shards: Int
    /// Threads per shard.
    public var threads: Int
    /// Shards with unfinished cells, run by the array.
    public var unfinished: [Int]
    /// The text of `slurm/array.sbatch`.
    public var arrayScript: String
    /// The text of `slurm/merge.sbatch`.
    public var mergeScript: String
    /// The training cost of the unfinished shards.
    public var cost: SweepCostEstimate

    /// `slurm/array.sbatch` in the folder.
    public var arrayScriptPath: String { Self.path(folder, "slurm/array.sbatch") }
    /// `slurm/merge.sbatch` in the folder.
    public var mergeScriptPath: String { Self.path(folder, "slurm/merge.sbatch") }
    /// `slurm/submission.json` in the folder.
    public var recordPath: String { Self.recordPath(folder) }

    /// Where a submission folder's record is.
    public static func recordPath(_ folder: String) -> String { path(folder, "slurm/submission.json") }
    /// Where shard `i`'s sweep folder is in a submission folder.
    public static func shardFolder(_ folder: String, _ i: Int) -> String { path(folder, "shards/\(i)") }

    /// Resolves the plan, finds the shards whose cells are not all finished in `shards/<i>/`, writes
    /// nothing, and returns the scripts and the cost. Throws a usage error for a folder submitted
    /// before with another shard count.
    public static func prepare(_ o: Options) throws -> SweepSubmission {
        guard o.shards >= 1 else { throw VLSAEError.usage("--shards must be at least 1, got \(o.shards)") }
        guard o.threads >= 1 else { throw VLSAEError.usage("--threads must be at least 1, got \(o.threads)") }
        if let bad = o.sbatch.first(where: { $0.contains("\n") || !$0.hasPrefix("-") }) {
            throw VLSAEError.usage("--sbatch \"\(bad)\": give each sbatch option as one argument starting with -")
        }
        let folder = absolute(o.out)
        let configPath = absolute(o.config)
        if let earlier = try? CanonicalJSON.decode(Record.self, from: recordPath(folder)), earlier.shards != o.shards {
            throw VLSAEError.usage(
                "\(folder) was submitted with --shards \(earlier.shards); resubmit with the same count or use another --out"
            )
        }
        let config = try SweepConfig.load(path: configPath)
        let plan = try SweepPlan.make(config)
        var unfinished: [Int] = []
        var todo: [(shard: Int, cell: SweepPlannedCell)] = []
        for i in 0..<o.shards {
            let done = SweepFolder(shardFolder(folder, i)).finishedIDs(of: plan)
            let open = plan.shard(i, of: o.shards).filter { !done.contains($0.id) }
            if !open.isEmpty { unfinished.append(i) }
            todo += open.map { (i, $0) }
        }
        let name = (plan.name ?? ((configPath as NSString).lastPathComponent as NSString).deletingPathExtension)
            .filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        let extra = o.sbatch.map { "#SBATCH \($0)\n" }.joined()
        let slurm = path(folder, "slurm")
        let vlsae = quote(o.executable)
        let array = """
            #!/bin/bash
            # Written by `vlsae sweep submit`: one array task per unfinished shard of \(o.shards) of the sweep
            # \(configPath); task i runs shard i into shards/<i>/.
            #SBATCH --job-name=vlsae-sweep-\(name)
            #SBATCH --array=\(unfinished.map(String.init).joined(separator: ","))
            #SBATCH --cpus-per-task=\(o.threads)
            #SBATCH --output=\(slurm)/array-%A_%a.out
            \(extra)exec \(vlsae) sweep run \(quote(configPath)) --out \(quote(path(folder, "shards")))/"$SLURM_ARRAY_TASK_ID" \\
              --shard auto --shards \(o.shards) --threads \(o.threads)

            """
        let merge = """
            #!/bin/bash
            # Written by `vlsae sweep submit`: joins the shard folders into the sweep's table, after the array.
            #SBATCH --job-name=vlsae-merge-\(name)
            #SBATCH --cpus-per-task=1
            #SBATCH --output=\(slurm)/merge-%j.out
            \(extra)exec \(vlsae) sweep merge \(quote(path(folder, "shards")))/* --out \(quote(folder))

            """
        return SweepSubmission(
            folder: folder, plan: plan, shards: o.shards, threads: o.threads, unfinished: unfinished,
            arrayScript: array, mergeScript: merge,
            cost: try SweepCostEstimate.estimate(cells: todo, config: config, threads: o.threads))
    }

    /// Writes `plan.json` and the scripts, submits the array (unless every shard is finished) and the
    /// merge job after it (`afterok`), writes `slurm/submission.json` and returns it. Refuses while
    /// the previous submission's array still has tasks queued or running; cancels its merge job when
    /// Slurm still holds it (after a failed task its dependency can never be met, so it would wait
    /// forever).
    public func submit(slurm: SlurmClient) throws -> Record {
        if let earlier = try? CanonicalJSON.decode(Record.self, from: recordPath) {
            if let job = earlier.arrayJob, let states = slurm.taskStates(job: job), !states.isEmpty {
                throw VLSAEError.usage(
                    "array job \(job) of \(folder) still has \(states.count) task(s) queued or running; wait for it or scancel \(job)"
                )
            }
            if slurm.jobState(job: earlier.mergeJob) != nil { try slurm.cancel(job: earlier.mergeJob) }
        }
        try AtomicFile.write(try CanonicalJSON.encode(plan), to: Self.path(folder, "plan.json"))
        try AtomicFile.write(Data(arrayScript.utf8), to: arrayScriptPath)
        try AtomicFile.write(Data(mergeScript.utf8), to: mergeScriptPath)
        var arrayJob: String? = nil
        if !unfinished.isEmpty {
            for i in unfinished {
                let shard = Self.shardFolder(folder, i)
                do { try FileManager.default.createDirectory(atPath: shard, withIntermediateDirectories: true) } catch {
                    throw VLSAEError.file(shard, "cannot create folder: \(error.localizedDescription)")
                }
            }
            arrayJob = try slurm.submit(script: arrayScriptPath)
        }
        let mergeJob = try slurm.submit(script: mergeScriptPath, dependency: arrayJob.map { "afterok:\($0)" })
        let record = Record(
            shards: shards, threads: threads, arrayShards: unfinished, arrayJob: arrayJob, mergeJob: mergeJob)
        try AtomicFile.write(try CanonicalJSON.encode(record), to: recordPath)
        return record
    }

    static func path(_ folder: String, _ relative: String) -> String {
        (folder as NSString).appendingPathComponent(relative)
    }

    static func absolute(_ p: String) -> String {
        let full =
            p.hasPrefix("/") ? p : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(p)
        return (full as NSString).standardizingPath
    }

    /// `s` as one word for bash: single-quoted, inner single quotes escaped.
    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
