import Foundation
import VLSAECore
import VLSAEJobs
import VLSAETestSupport
import XCTest

/// A sweep submitted to a real Slurm: `scripts/slurm-local.sh up` brings up a single-node cluster
/// on this host (installing the Debian packages when missing), `vlsae sweep submit` sends a 3-shard
/// sweep as a job array plus a merge job, and the merged `sweep.json` must be the bytes of a
/// one-machine `vlsae sweep run`, although the shards ran at other thread counts. Skips, saying
/// why, where Slurm cannot be installed or started.
final class SlurmSweepTests: XCTestCase {
    private var startedCluster = false

    private static let script = SchemaLocations.repoRoot.appendingPathComponent("scripts/slurm-local.sh").path

    /// Runs `scripts/slurm-local.sh <action>` with its output in a file of `folder` (no pipe that
    /// the daemons it starts could hold open), returning the exit status and the output.
    private static func cluster(_ action: String, log folder: TemporaryFolder) throws -> (status: Int32, output: String)
    {
        let log = folder.path("slurm-local-\(action).log")
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        defer { try? handle.close() }
        let script = Process()
        script.executableURL = URL(fileURLWithPath: "/bin/bash")
        script.arguments = [SchemaLocations.repoRoot.appendingPathComponent("scripts/slurm-local.sh").path, action]
        (script.standardInput, script.standardOutput, script.standardError) = (FileHandle.nullDevice, handle, handle)
        try script.run()
        script.waitUntilExit()
        return (script.terminationStatus, try String(contentsOfFile: log, encoding: .utf8))
    }

    func testSubmittedSweepMergesToTheOneMachineBytes() throws {
        let exe = try VLSAEExecutable.locate()
        let logs = try temporaryFolder("slurm-logs")
        let up = try Self.cluster("up", log: logs)
        guard up.status == 0 else {
            throw XCTSkip("Slurm cannot be installed or started here (scripts/slurm-local.sh up): \(up.output)")
        }
        // Stop the cluster only when this test started it (CI starts it itself and stops it after).
        if up.output.contains("slurm-local: started") {
            addTeardownBlock { _ = try? Self.cluster("down", log: logs) }
        }
        let conf = up.output.components(separatedBy: "SLURM_CONF=").last?.prefix { $0 != ")" } ?? ""
        XCTAssertTrue(conf.hasSuffix("/slurm.conf"), up.output)
        let env: [String: String?] = ["SLURM_CONF": String(conf)]
        let slurm = SlurmClient(environment: env)

        let s = try TinySuite.make(in: try temporaryFolder("slurm").url)
        let config = try s.config(
            """
            name: tiny-slurm
            datasets: [tiny6.json, tiny10.json]
            train: {images: train_image.npy, texts: train_text.npy}
            training: {lr: 0.01, epochs: 2, seed: 3, batch_size: 64, warmup_epochs: 0}
            alpha: "fixed:0.5"
            grid: {hidden_ratio: [2, 4], k: [2, 4]}
            """)
        let reference = s.folder.appendingPathComponent("one-machine").path
        let one = try exe.run(["sweep", "run", config, "--out", reference, "--threads", "2", "--quiet"])
        XCTAssertEqual(one.status, 0, one.output)
        let expected = try Data(contentsOf: URL(fileURLWithPath: reference + "/sweep.json"))

        let out = s.folder.appendingPathComponent("submitted").path
        /// Submits the sweep and returns what the submission recorded.
        func submit(threads: Int) throws -> SweepSubmission.Record {
            let r = try exe.run(
                [
                    "sweep", "submit", config, "--out", out, "--shards", "3", "--threads", "\(threads)",
                    "--sbatch", "--time=5", "--sbatch=--comment=vlsae-test",
                ], environment: env)
            XCTAssertEqual(r.status, 0, r.output)
            XCTAssertTrue(r.stdout.contains("cost: "), r.stdout)
            let record = try CanonicalJSON.decode(SweepSubmission.Record.self, from: SweepSubmission.recordPath(out))
            XCTAssertEqual(
                r.stdout.split(separator: "\n").last.map(String.init),
                "submitted array \(record.arrayJob ?? "none") merge \(record.mergeJob)")
            return record
        }
        /// Waits (at most 3 minutes) until `done` holds.
        func wait(_ what: String, until done: () -> Bool) {
            let deadline = Date().addingTimeInterval(180)
            while !done(), Date() < deadline { usleep(200_000) }
            XCTAssertTrue(done(), "still waiting after 3 minutes for \(what)")
        }
        /// Waits until Slurm no longer lists the merge job, then checks the merged sweep.json against the one-machine
        /// run.
        func checkMerged(_ record: SweepSubmission.Record) {
            wait("merge job \(record.mergeJob)") { slurm.jobState(job: record.mergeJob) == nil }
            let log = (try? String(contentsOfFile: "\(out)/slurm/merge-\(record.mergeJob).out", encoding: .utf8)) ?? ""
            XCTAssertEqual(
                try? Data(contentsOf: URL(fileURLWithPath: out + "/sweep.json")), expected,
                "merged sweep.json differs from the one-machine run; merge log:\n\(log)")
        }
        /// The last line of `vlsae sweep status`, split into words.
        func statusTotals() throws -> [Substring]? {
            let r = try exe.run(["sweep", "status", out], environment: env)
            XCTAssertEqual(r.status, 0, r.output)
            return r.stdout.split(separator: "\n").last?.split(separator: " ")
        }
        /// The cell files of shard `i`.
        func cells(_ i: Int) throws -> [SweepCellResult] {
            let folder = "\(out)/shards/\(i)/cells"
            return try FileManager.default.contentsOfDirectory(atPath: folder).map {
                try CanonicalJSON.decode(SweepCellResult.self, from: "\(folder)/\($0)")
            }
        }

        // Three shards, one thread each (the one-machine run used two).
        let first = try submit(threads: 1)
        checkMerged(first)
        XCTAssertEqual(first.shards, 3)
        XCTAssertEqual(first.arrayShards, [0, 1, 2])
        XCTAssertNotNil(first.arrayJob)
        for i in 0..<3 {
            XCTAssertEqual(try cells(i).count, i == 0 ? 2 : 1)
            for cell in try cells(i) {
                XCTAssertEqual(cell.shard, try SweepShard(index: i, count: 3, scheduler: "slurm"))
                XCTAssertEqual(cell.provenance.threads, 1)
            }
        }
        XCTAssertEqual(try statusTotals(), ["all", "4", "4", "0", "0", "0", "0"])

        // Shard 1 loses its cell and cannot write a new one (a file where its cells folder goes): the resubmission
        // runs only shard 1, which fails; its merge job waits on a dependency that can never be met.
        for lost in ["shards/1/cells", "sweep.json", "cells"] {
            try FileManager.default.removeItem(atPath: "\(out)/\(lost)")
        }
        FileManager.default.createFile(atPath: "\(out)/shards/1/cells", contents: Data("in the way\n".utf8))
        let failing = try submit(threads: 2)
        XCTAssertEqual(failing.arrayShards, [1])
        let array = try XCTUnwrap(failing.arrayJob)
        wait("array job \(array)") { slurm.taskStates(job: array)?.isEmpty ?? false }
        XCTAssertEqual(try statusTotals(), ["all", "4", "3", "0", "0", "1", "0"])
        XCTAssertNotNil(slurm.jobState(job: failing.mergeJob), "the merge job waits for a failed array")

        // Fixed and resubmitted: the stale merge job is cancelled, shard 1 runs at two threads, same bytes.
        try FileManager.default.removeItem(atPath: "\(out)/shards/1/cells")
        let fixed = try submit(threads: 2)
        XCTAssertEqual(fixed.arrayShards, [1])
        wait("the stale merge job \(failing.mergeJob) to be cancelled") { slurm.jobState(job: failing.mergeJob) == nil }
        checkMerged(fixed)
        XCTAssertEqual(try cells(1).map(\.provenance.threads), [2])
        XCTAssertEqual(try cells(0).map(\.provenance.threads), [1, 1])
        XCTAssertEqual(try statusTotals(), ["all", "4", "4", "0", "0", "0", "0"])
    }
}
