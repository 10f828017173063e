import Foundation
import VLSAECore
import VLSAEJobs
import VLSAEReport
import VLSAETestSupport
import XCTest

/// `vlsae sweep submit --dry-run` and `vlsae sweep status` without a cluster: the scripts, the
/// pass-through of sbatch options, which shards a resubmission runs, the cost estimate and the
/// per-shard counts. The real submission is `SlurmSweepTests`.
final class SweepSubmitTests: XCTestCase {
    private let tool = ToolRecord(version: "0.1.0", gitCommit: "unknown")

    /// 2 hidden ratios × 3 k = 6 cells; 3 shards of 2 cells each.
    private let yaml = """
        name: tiny-submit
        datasets: [tiny6.json]
        train: {images: train_image.npy, texts: train_text.npy}
        training: {lr: 0.01, epochs: 3, seed: 1, batch_size: 64, warmup_epochs: 0}
        alpha: "fixed:0.5"
        grid: {hidden_ratio: [2, 4], k: [2, 4, 8]}
        """

    func testDryRunPrintsTheScriptsWithPassedThroughOptionsAndWritesNothing() throws {
        let exe = try VLSAEExecutable.locate()
        let s = try TinySuite.make(in: try temporaryFolder("submit").url)
        let config = try s.config(yaml)
        let out = s.folder.appendingPathComponent("sub").path
        let r = try exe.run([
            "sweep", "submit", config, "--out", out, "--shards", "3", "--threads", "2",
            "--sbatch", "--time=20", "--sbatch=--partition=cpu", "--sbatch", "--gres=gpu:1", "--dry-run",
        ])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a dry run writes nothing")
        let text = r.stdout
        // The scripts name the binary by its real path (.build/debug is a link).
        let binary = URL(fileURLWithPath: exe.path).resolvingSymlinksInPath().path
        XCTAssertTrue(text.contains("6 cells in 3 shards; to run: shard 0, 1, 2"), text)
        for line in [
            "#SBATCH --array=0,1,2", "#SBATCH --cpus-per-task=2", "#SBATCH --time=20", "#SBATCH --partition=cpu",
            "#SBATCH --gres=gpu:1", "#SBATCH --output=\(out)/slurm/array-%A_%a.out",
            "exec '\(binary)' sweep run '\(config)' --out '\(out)/shards'/\"$SLURM_ARRAY_TASK_ID\" \\",
            "  --shard auto --shards 3 --threads 2",
            "exec '\(binary)' sweep merge '\(out)/shards'/* --out '\(out)'",
        ] {
            XCTAssertTrue(text.split(separator: "\n").contains(Substring(line)), "missing line \(line) in\n\(text)")
        }
        // The options go into both scripts, before the command.
        XCTAssertEqual(text.components(separatedBy: "#SBATCH --time=20\n").count, 3)
        XCTAssertEqual(text.split(separator: "\n").last, "dry run: nothing submitted")
        // 6 trainings (no reuse_k), each 192 training pairs × 3 epochs.
        XCTAssertTrue(text.contains("cost: 6 cells, 6 trainings"), text)
        XCTAssertTrue(text.contains("3 × (192 pairs × 3 epochs, d 16, hidden 32)"), text)
        XCTAssertTrue(text.contains("3 × (192 pairs × 3 epochs, d 16, hidden 64)"), text)

        // The parser's default would take "--time=20" for a flag of its own; other values are refused.
        let bad = try exe.run([
            "sweep", "submit", config, "--out", out, "--shards", "3", "--sbatch", "time=20", "--dry-run",
        ])
        XCTAssertEqual(bad.status, 64, bad.output)
        XCTAssertTrue(
            bad.stderr.contains("--sbatch \"time=20\": give each sbatch option as one argument starting with -"),
            bad.stderr)
    }

    func testCostIsTrainingsTimesTrainingTimeFromTheConfig() throws {
        let s = try TinySuite.make(in: try temporaryFolder("submit-cost").url)
        let config = try s.config(yaml.replacingOccurrences(of: "grid:", with: "reuse_k: true\ngrid:"))
        let sub = try SweepSubmission.prepare(
            SweepSubmission.Options(
                config: config, out: s.folder.appendingPathComponent("sub").path, shards: 2, threads: 2,
                sbatch: [], executable: "/opt/vlsae"))
        // Shard 0 holds cells 0, 2, 4 (ratio 2 k 2, ratio 2 k 8, ratio 4 k 4), shard 1 cells 1, 3, 5: with reuse_k each
        // shard trains ratio 2 and ratio 4 once, at k 8.
        let c = sub.cost
        XCTAssertEqual(c.cells, 6)
        XCTAssertEqual(c.trainings.map(\.shard), [0, 0, 1, 1])
        XCTAssertEqual(c.trainings.map(\.hiddenDim), [32, 64, 32, 64])
        // 240 pairs, validation ratio 0.2: 192 training pairs; one pair-epoch at d·h costs d·h / (512·4096) of the
        // measured 2 threads / 9481 pairs/s.
        func seconds(_ h: Double) -> Double { 3 * 192 * (16 * h) / (512 * 4096) * 2 / 9481 }
        XCTAssertEqual(c.trainings[0].cpuSeconds, seconds(32), accuracy: 1e-15)
        XCTAssertEqual(c.trainings[1].cpuSeconds, seconds(64), accuracy: 1e-15)
        XCTAssertEqual(c.cpuSeconds, 2 * (seconds(32) + seconds(64)), accuracy: 1e-15)
        XCTAssertEqual(c.longestShardSeconds, (seconds(32) + seconds(64)) / 2, accuracy: 1e-15)
    }

    func testResubmissionRunsOnlyUnfinishedShardsAndStatusCountsCells() throws {
        let s = try TinySuite.make(in: try temporaryFolder("submit-resume").url)
        let config = try s.config(yaml)
        let out = s.folder.appendingPathComponent("sub").path
        func prepare(shards: Int = 3) throws -> SweepSubmission {
            try SweepSubmission.prepare(
                SweepSubmission.Options(
                    config: config, out: out, shards: shards, threads: 1, sbatch: [], executable: "/opt/vlsae"))
        }
        XCTAssertEqual(try prepare().unfinished, [0, 1, 2])
        // Shard 1 finished, shard 2 half done (its second cell killed before it was written).
        try SweepJob.run(
            SweepJob.Options(
                config: config, out: out + "/shards/1", shard: try SweepShard(parsing: "1/3"), progress: false,
                tool: tool, backend: FakeBackend()))
        var n = 0
        let hooks = SweepJob.Hooks(beforeCellRename: { _ in
            n += 1
            if n == 2 { throw SimulatedKill() }
        })
        XCTAssertThrowsError(
            try SweepJob.run(
                SweepJob.Options(
                    config: config, out: out + "/shards/2", shard: try SweepShard(parsing: "2/3"), progress: false,
                    tool: tool, backend: FakeBackend(), hooks: hooks)))
        let again = try prepare()
        XCTAssertEqual(again.unfinished, [0, 2])
        XCTAssertTrue(again.arrayScript.contains("#SBATCH --array=0,2\n"), again.arrayScript)
        XCTAssertEqual(again.cost.cells, 3, "2 cells of shard 0 and 1 of shard 2")

        // What a submission of that array leaves: the plan and the record. Task 0 runs, task 2 left the queue.
        try AtomicFile.write(try CanonicalJSON.encode(again.plan), to: out + "/plan.json")
        let record = SweepSubmission.Record(shards: 3, threads: 1, arrayShards: [0, 2], arrayJob: "41", mergeJob: "42")
        try AtomicFile.write(try CanonicalJSON.encode(record), to: SweepSubmission.recordPath(out))
        let status = try SweepStatus.read(folder: out, states: { $0 == "41" ? [0: "RUNNING"] : nil })
        XCTAssertEqual(status.shards.map(\.cells), [2, 2, 2])
        XCTAssertEqual(status.shards.map(\.done), [0, 2, 1])
        XCTAssertEqual(status.shards.map(\.running), [2, 0, 0])
        XCTAssertEqual(status.shards.map(\.failed), [0, 0, 1])
        XCTAssertEqual(status.shards.map(\.task), ["41_0", nil, "41_2"])
        XCTAssertEqual(status.shards.map(\.state), ["RUNNING", nil, "ended"])
        XCTAssertFalse(status.merged)
        XCTAssertEqual(status.lines.last?.split(separator: " "), ["all", "6", "3", "2", "0", "1", "0"])
        let queued = try SweepStatus.read(folder: out, states: { _ in [0: "PENDING", 2: "PENDING"] })
        XCTAssertEqual(queued.shards.map(\.queued), [2, 0, 1])
        let unknown = try SweepStatus.read(folder: out, states: { _ in nil })
        XCTAssertEqual(unknown.shards.map(\.unknown), [2, 0, 1])
        XCTAssertEqual(unknown.shards.map(\.state), ["unknown", nil, "unknown"])

        // The shard count is fixed once submitted.
        XCTAssertThrowsError(try prepare(shards: 2)) {
            XCTAssertTrue("\($0)".contains("was submitted with --shards 3"), "\($0)")
        }
    }

    func testSqueueTaskRanges() {
        XCTAssertEqual(SlurmClient.taskIndices("3"), [3])
        XCTAssertEqual(SlurmClient.taskIndices("[1-3]"), [1, 2, 3])
        XCTAssertEqual(SlurmClient.taskIndices("[0,2,5-6%2]"), [0, 2, 5, 6])
    }
}
