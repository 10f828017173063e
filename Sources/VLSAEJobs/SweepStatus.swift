import Foundation
import VLSAECore

/// `vlsae sweep status DIR`: the cells of a submitted sweep, shard by shard: done (a result file
/// in `shards/<i>/cells/` or the merged `cells/`), running or queued (the shard's array task is in
/// Slurm's queue), failed (the task left the queue with cells unfinished), or not submitted.
public struct SweepStatus: Equatable, Sendable {
    /// One shard's line.
    public struct Shard: Equatable, Sendable {
        /// Shard index, from 0.
        public var index: Int
        /// The shard's array task, `<job>_<i>`, when the last submission ran it.
        public var task: String?
        /// Slurm's state of that task while it is listed (`PENDING`, `RUNNING`, …), `ended` once it left the queue,
        /// `unknown` when Slurm cannot be asked; nil when the last submission did not run the shard.
        public var state: String?
        /// Cells of the shard.
        public var cells: Int
        /// Cells with a result file.
        public var done: Int
        /// Unfinished cells of a running task.
        public var running: Int
        /// Unfinished cells of a task still waiting in the queue.
        public var queued: Int
        /// Unfinished cells of a task that left the queue: it failed, was cancelled or ran out of time.
        public var failed: Int
        /// Unfinished cells no submission ran, or whose task Slurm could not be asked about.
        public var unknown: Int
    }

    /// The submission folder.
    public var folder: String
    /// The last submission.
    public var record: SweepSubmission.Record
    /// Every shard, in order.
    public var shards: [Shard]
    /// Whether the merged `sweep.json` is there.
    public var merged: Bool

    /// Reads the folder's plan and submission record and the shards' finished cells; `states` gives
    /// the queued tasks of the last array (`SlurmClient.taskStates(job:)`; nil: Slurm cannot be asked).
    public static func read(folder: String, states: (String) -> [Int: String]?) throws -> SweepStatus {
        let record = try CanonicalJSON.decode(SweepSubmission.Record.self, from: SweepSubmission.recordPath(folder))
        let plan = try CanonicalJSON.decode(SweepPlan.self, from: SweepFolder(folder).planPath)
        let queue = record.arrayJob.flatMap(states)
        let mergedDone = SweepFolder(folder).finishedIDs(of: plan)
        var shards: [Shard] = []
        for i in 0..<record.shards {
            let cells = plan.shard(i, of: record.shards)
            let done = SweepFolder(SweepSubmission.shardFolder(folder, i)).finishedIDs(of: plan).union(mergedDone)
            let open = cells.filter { !done.contains($0.id) }.count
            let submitted = record.arrayShards.contains(i)
            let state = submitted ? queue?[i] : nil
            var s = Shard(
                index: i, task: submitted ? record.arrayJob.map { "\($0)_\(i)" } : nil,
                state: submitted ? (queue == nil ? "unknown" : state ?? "ended") : nil,
                cells: cells.count, done: cells.count - open, running: 0, queued: 0, failed: 0, unknown: 0)
            switch (submitted, queue, state) {
            case (true, .some, "RUNNING"?), (true, .some, "COMPLETING"?): s.running = open
            case (true, .some, .some): s.queued = open
            case (true, .some, nil): s.failed = open
            default: s.unknown = open
            }
            shards.append(s)
        }
        return SweepStatus(
            folder: folder, record: record, shards: shards,
            merged: FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("sweep.json")))
    }

    /// The table `vlsae sweep status` prints, one line per shard and a total.
    public var lines: [String] {
        var out = [
            "sweep \(folder): \(shards.count) shards, array job \(record.arrayJob ?? "none"), merge job \(record.mergeJob)\(merged ? ", merged (sweep.json)" : "")",
            "shard  task          state       cells  done  running  queued  failed  unknown",
        ]
        func line(_ a: String, _ b: String, _ c: String, _ n: [Int]) -> String {
            a.padding(toLength: 7, withPad: " ", startingAt: 0) + b.padding(toLength: 14, withPad: " ", startingAt: 0)
                + c.padding(toLength: 10, withPad: " ", startingAt: 0)
                + zip(n, [7, 6, 9, 8, 8, 9]).map { String(repeating: " ", count: max(0, $1 - "\($0)".count)) + "\($0)" }
                .joined()
        }
        for s in shards {
            out.append(
                line(
                    "\(s.index)", s.task ?? "-", s.state ?? "-",
                    [s.cells, s.done, s.running, s.queued, s.failed, s.unknown]))
        }
        func sum(_ k: KeyPath<Shard, Int>) -> Int { shards.reduce(0) { $0 + $1[keyPath: k] } }
        out.append(
            line(
                "all", "", "",
                [sum(\.cells), sum(\.done), sum(\.running), sum(\.queued), sum(\.failed), sum(\.unknown)]))
        return out
    }
}
