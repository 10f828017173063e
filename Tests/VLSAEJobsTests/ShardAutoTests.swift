import Foundation
import VLSAECore
import VLSAEJobs
import VLSAETestSupport
import XCTest

/// `vlsae sweep run --shard auto`: the built binary, run with each scheduler's array variables set
/// as that scheduler sets them, computes the right shard and records the scheduler in the cell.
final class ShardAutoTests: XCTestCase {
    /// Every variable of every scheduler, removed from the inherited environment so that only the
    /// crafted ones are seen (the tests may themselves run inside an array job).
    private let schedulerVariables = [
        "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX",
        "AWS_BATCH_JOB_ARRAY_SIZE", "SGE_TASK_ID", "SGE_TASK_LAST",
    ]

    private func environment(_ set: [String: String]) -> [String: String?] {
        var env: [String: String?] = [:]
        for v in schedulerVariables { env[v] = .some(nil) }
        for (k, v) in set { env[k] = v }
        return env
    }

    func testEachSchedulersVariablesGiveTheShardAndAreRecorded() throws {
        let exe = try VLSAEExecutable.locate()
        let s = try TinySuite.make(in: try temporaryFolder("shard-auto").url)
        let config = try s.config(
            """
            datasets: [tiny6.json]
            train: {images: train_image.npy, texts: train_text.npy}
            training: {hidden_ratio: 2, lr: 0.01, epochs: 2, seed: 1, batch_size: 64, warmup_epochs: 0}
            alpha: "fixed:0.5"
            grid: {k: [2, 4]}
            """)
        let plan = try SweepPlan.make(try SweepConfig.load(path: config))
        XCTAssertEqual(plan.cells.count, 2)
        let cases: [(name: String, env: [String: String], extra: [String], shard: Int)] = [
            ("slurm", ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2"], [], 1),
            ("kubernetes", ["JOB_COMPLETION_INDEX": "0"], ["--shards", "2", "--threads", "2"], 0),
            ("aws-batch", ["AWS_BATCH_JOB_ARRAY_INDEX": "1", "AWS_BATCH_JOB_ARRAY_SIZE": "2"], [], 1),
            // SGE numbers tasks from 1 (qsub -t 1-2): task 1 is shard 0.
            ("sge", ["SGE_TASK_ID": "1", "SGE_TASK_LAST": "2"], [], 0),
        ]
        for c in cases {
            let out = s.folder.appendingPathComponent(c.name).path
            let r = try exe.run(
                ["sweep", "run", config, "--out", out, "--shard", "auto", "--quiet"]
                    + (c.extra.contains("--threads") ? c.extra : c.extra + ["--threads", "1"]),
                environment: environment(c.env))
            XCTAssertEqual(r.status, 0, "\(c.name): \(r.output)")
            let cells = (try? FileManager.default.contentsOfDirectory(atPath: out + "/cells")) ?? []
            XCTAssertEqual(cells, ["\(plan.cells[c.shard].id).json"], c.name)
            let cell = try CanonicalJSON.decode(
                SweepCellResult.self, from: "\(out)/cells/\(try XCTUnwrap(cells.first))")
            XCTAssertEqual(cell.shard, try SweepShard(index: c.shard, count: 2, scheduler: c.name), c.name)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/sweep.json"), c.name)
            // The scheduler is a run fact: the cell file records it, the plan does not.
            XCTAssertFalse(try String(contentsOfFile: out + "/plan.json", encoding: .utf8).contains(c.name), c.name)
        }

        // Shards from two schedulers at 2 and 1 threads merge into the bytes of a one-machine run at 3 threads.
        let single = s.folder.appendingPathComponent("single").path
        let one = try exe.run(
            ["sweep", "run", config, "--out", single, "--threads", "3", "--quiet"], environment: environment([:]))
        XCTAssertEqual(one.status, 0, one.output)
        let merged = s.folder.appendingPathComponent("merged").path
        let merge = try exe.run(
            [
                "sweep", "merge", s.folder.appendingPathComponent("kubernetes").path,
                s.folder.appendingPathComponent("slurm").path, "--out", merged,
            ])
        XCTAssertEqual(merge.status, 0, merge.output)
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: merged + "/sweep.json")),
            try Data(contentsOf: URL(fileURLWithPath: single + "/sweep.json")))

        // Errors: exit 64, naming the variables at fault.
        let failures: [([String: String], [String], String)] = [
            (
                [:], [],
                "no scheduler set its array index (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX, SGE_TASK_ID are all unset)"
            ),
            (
                ["JOB_COMPLETION_INDEX": "1"], [],
                "kubernetes sets only JOB_COMPLETION_INDEX; give the shard count with --shards N"
            ),
            (
                ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "2"], [],
                "SLURM_ARRAY_TASK_ID=2 gives shard 2 of 2"
            ),
            (
                ["SGE_TASK_ID": "0", "SGE_TASK_LAST": "2"], [],
                "SGE_TASK_ID=0 gives shard -1 of 2 (sge numbers tasks from 1)"
            ),
            (
                ["AWS_BATCH_JOB_ARRAY_INDEX": "x", "AWS_BATCH_JOB_ARRAY_SIZE": "2"], [],
                "AWS_BATCH_JOB_ARRAY_INDEX=\"x\" is not an integer"
            ),
            (
                ["AWS_BATCH_JOB_ARRAY_INDEX": "0"], [],
                "AWS_BATCH_JOB_ARRAY_INDEX is set but AWS_BATCH_JOB_ARRAY_SIZE is not"
            ),
            (
                ["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "2", "SGE_TASK_ID": "1", "SGE_TASK_LAST": "2"],
                [],
                "several schedulers set an array index (SLURM_ARRAY_TASK_ID, SGE_TASK_ID)"
            ),
        ]
        for (env, extra, message) in failures {
            let out = s.folder.appendingPathComponent("fail").path
            let r = try exe.run(
                ["sweep", "run", config, "--out", out, "--shard", "auto", "--quiet"] + extra,
                environment: environment(env))
            XCTAssertEqual(r.status, 64, "\(env): \(r.output)")
            XCTAssertTrue(r.stderr.contains(message), "\(env): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing is written before the shard is known")
        }
        let usage = try exe.run(
            ["sweep", "run", config, "--shard", "0/2", "--shards", "2"], environment: environment([:]))
        XCTAssertEqual(usage.status, 64)
        XCTAssertTrue(usage.stderr.contains("--shards goes with --shard auto"), usage.stderr)
    }

    /// `--shards` overrides the scheduler's count: a resubmitted Slurm array of shards 0 and 2 of 3
    /// has SLURM_ARRAY_TASK_COUNT=2, but task 2 is shard 2 of 3.
    func testShardsOverridesTheSchedulersCount() throws {
        let shard = try ArrayScheduler.shard(
            environment: ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "2"], shards: 3)
        XCTAssertEqual(shard, try SweepShard(index: 2, count: 3, scheduler: "slurm"))
        XCTAssertEqual(
            try ArrayScheduler.all().map(\.name), ["slurm", "kubernetes", "aws-batch", "sge"])
    }
}
