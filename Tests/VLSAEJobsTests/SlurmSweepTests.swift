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

    private static func cluster(_ action: String) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [script, action]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    override func tearDownWithError() throws {
        // Stop the cluster only when this test started it (CI starts it itself and stops it after).
        if startedCluster { _ = try Self.cluster("down") }
    }

    func testSubmittedSweepMergesToTheOneMachineBytes() throws {
        let exe = try VLSAEExecutable.locate()
        let up = try Self.cluster("up")
        guard up.status == 0 else {
            throw XCTSkip("Slurm cannot be installed or started here (scripts/slurm-local.sh up): \(up.output)")
        }
        startedCluster = up.output.contains("slurm-local: started")
        guard let conf = up.output.split(separator: "SLURM_CONF=").last?.prefix(while: { $0 != ")" }) else {
            return XCTFail("no SLURM_CONF in \(up.output)")
        }
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
        func submit(threads: Int) throws -> (array: String, merge: String) {
            let r = try exe.run(
                [
                    "sweep", "submit", config, "--out", out, "--shards", "3", "--threads", "\(threads)",
                    "--sbatch", "--time=5", "--sbatch=--comment=vlsae-test",
                ], environment: env)
            XCTAssertEqual(r.status, 0, r.output)
            let last = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
            let words = last.split(separator: " ").map(String.init)
            guard words.count == 5, words[0] == "submitted", words[1] == "array", words[3] == "merge" else {
                throw XCTSkip("unexpected last line \"\(last)\" of\n\(r.output)")
            }
            XCTAssertTrue(r.stdout.contains("cost: "), r.stdout)
            return (words[2], words[4])
        }
        /// Waits until Slurm no longer lists the merge job (at most 3 minutes), then returns its log.
        func waitForMerge(_ job: String) throws -> String {
            let deadline = Date().addingTimeInterval(180)
            while slurm.jobState(job: job) != nil {
                guard Date() < deadline else {
                    XCTFail("merge job \(job) still queued after 3 minutes")
                    break
                }
                usleep(200_000)
            }
            return (try? String(contentsOfFile: "\(out)/slurm/merge-\(job).out", encoding: .utf8)) ?? "(no merge log)"
        }

        // Three shards, one thread each (the one-machine run used two).
        let first = try submit(threads: 1)
        let log = try waitForMerge(first.merge)
        XCTAssertEqual(
            try? Data(contentsOf: URL(fileURLWithPath: out + "/sweep.json")), expected,
            "merged sweep.json differs from the one-machine run; merge log:\n\(log)")
        let record = try CanonicalJSON.decode(SweepSubmission.Record.self, from: SweepSubmission.recordPath(out))
        XCTAssertEqual(
            record,
            SweepSubmission.Record(
                shards: 3, threads: 1, arrayShards: [0, 1, 2], arrayJob: first.array, mergeJob: first.merge))
        for i in 0..<3 {
            for name in try FileManager.default.contentsOfDirectory(atPath: "\(out)/shards/\(i)/cells") {
                let cell = try CanonicalJSON.decode(SweepCellResult.self, from: "\(out)/shards/\(i)/cells/\(name)")
                XCTAssertEqual(cell.shard, try SweepShard(index: i, count: 3, scheduler: "slurm"))
                XCTAssertEqual(cell.provenance.threads, 1)
            }
        }
        let status = try exe.run(["sweep", "status", out], environment: env)
        XCTAssertEqual(status.status, 0, status.output)
        XCTAssertTrue(status.stdout.contains("merged (sweep.json)"), status.stdout)
        XCTAssertEqual(
            status.stdout.split(separator: "\n").last?.split(separator: " "), ["all", "4", "4", "0", "0", "0", "0"])

        // Shard 1 lost its cell: a resubmission runs only shard 1, now with two threads, and the merge is the same bytes.
        try FileManager.default.removeItem(atPath: "\(out)/shards/1/cells")
        try FileManager.default.removeItem(atPath: "\(out)/sweep.json")
        try FileManager.default.removeItem(atPath: "\(out)/cells")
        let second = try submit(threads: 2)
        let log2 = try waitForMerge(second.merge)
        XCTAssertEqual(
            try? Data(contentsOf: URL(fileURLWithPath: out + "/sweep.json")), expected,
            "merged sweep.json after the resubmission differs; merge log:\n\(log2)")
        let again = try CanonicalJSON.decode(SweepSubmission.Record.self, from: SweepSubmission.recordPath(out))
        XCTAssertEqual(again.arrayShards, [1])
        let redone = try FileManager.default.contentsOfDirectory(atPath: "\(out)/shards/1/cells")
        XCTAssertEqual(redone.count, 1)
        let cell = try CanonicalJSON.decode(SweepCellResult.self, from: "\(out)/shards/1/cells/\(redone[0])")
        XCTAssertEqual(cell.provenance.threads, 2)
    }
}
