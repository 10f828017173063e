import Foundation
import VLSAECore
import VLSAEFormats
import VLSAEJobs
import VLSAEModel
import VLSAEReport
import VLSAETestSupport
import XCTest

/// Tiny sweeps with real training and evaluation (d = 16, 240 pairs, 2 epochs): interrupted and
/// sharded runs must give byte-identical tables, and the stored numbers must be the model's.
final class SweepRealTests: XCTestCase {
    private let tool = ToolRecord(version: "0.1.0", gitCommit: "unknown")

    private let yaml = """
        name: tiny-real
        datasets: [tiny6.json, tiny10.json]
        train: {images: train_image.npy, texts: train_text.npy}
        training: {arch: vlsae, lr: 0.01, epochs: 2, seed: 3, batch_size: 64, warmup_epochs: 0}
        alignment: "representation=hidden,text=average-first"
        alpha: "fixed:0.5"
        evaluation: {bootstrap: 1000, seed: 5}
        grid:
          hidden_ratio: [2, 4]
          k: [2, 4]
        """

    private func options(
        _ config: String, out: String, shard: SweepShard? = nil,
        hooks: SweepJob.Hooks = SweepJob.Hooks()
    ) -> SweepJob.Options {
        SweepJob.Options(config: config, out: out, shard: shard, progress: false, tool: tool, hooks: hooks)
    }

    func testKilledAndShardedRealSweepsMatchASingleRun() throws {
        let s = try TinySuite.make(in: try temporaryFolder("sweep-real").url)
        let config = try s.config(yaml)
        let single = s.folder.appendingPathComponent("single").path
        let report = try SweepJob.run(options(config, out: single))
        XCTAssertEqual(report.trained, 4)
        let table = try XCTUnwrap(report.table)
        let reference = try Data(contentsOf: URL(fileURLWithPath: single + "/sweep.json"))

        // Killed after the third checkpoint's temporary was complete, before its rename.
        let killed = s.folder.appendingPathComponent("killed").path
        var n = 0
        let hooks = SweepJob.Hooks(beforeCheckpointRename: { _ in
            n += 1
            if n == 3 { throw SimulatedKill() }
        })
        XCTAssertThrowsError(try SweepJob.run(options(config, out: killed, hooks: hooks)))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: killed + "/checkpoints").count, 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: killed + "/.tmp-\(getpid())").count, 1)
        let resumed = try SweepJob.run(options(config, out: killed))
        XCTAssertEqual(resumed.skipped, 2)
        XCTAssertEqual(resumed.trained, 2)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: killed + "/sweep.json")), reference)
        XCTAssertEqual(
            try SweepTestFiles.snapshot(killed).keys.sorted(), try SweepTestFiles.snapshot(single).keys.sorted())

        // Two shards, merged.
        let f0 = s.folder.appendingPathComponent("s0").path
        let f1 = s.folder.appendingPathComponent("s1").path
        try SweepJob.run(options(config, out: f0, shard: try SweepShard(parsing: "0/2")))
        try SweepJob.run(options(config, out: f1, shard: try SweepShard(parsing: "1/2")))
        try SweepJob.merge(folders: [f0, f1], out: f0, tool: tool)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: f0 + "/sweep.json")), reference)

        // A file in the checkpoint's place that is not that training's result is refused, by name.
        let foreign = single + "/" + table.cells[0].checkpoint.path
        try Checkpoint.save(
            try SAEModel(config: SAEConfig(arch: .vlsae, inputDim: 16, hiddenRatio: 2, topK: 2), seed: 9), to: foreign)
        try FileManager.default.removeItem(atPath: single + "/cells/\(table.cells[0].id).json")
        XCTAssertThrowsError(try SweepJob.run(options(config, out: single))) {
            XCTAssertTrue("\($0)".hasPrefix("\(foreign): is not the checkpoint of training identity"), "\($0)")
        }

        // The table's numbers are the checkpoint's: recompute FVU/L0 of one cell independently.
        let cell = table.cells[3]
        XCTAssertEqual(cell.spec.hiddenRatio, 4)
        XCTAssertEqual(cell.spec.k, 4)
        let loaded = try Checkpoint.load(path: single + "/" + cell.checkpoint.path)
        XCTAssertEqual(loaded.sha256, cell.checkpoint.sha256)
        XCTAssertEqual(loaded.model.config, SAEConfig(arch: .vlsae, inputDim: 16, hiddenRatio: 4, topK: 4))
        XCTAssertEqual(loaded.summary?.train.lr, 0.01)
        XCTAssertEqual(loaded.summary?.train.batchSize, 64)
        XCTAssertEqual(loaded.summary?.epochsRun, 2)
        XCTAssertEqual(cell.training.trainRows, 192)
        XCTAssertEqual(cell.training.valRows, 48)
        XCTAssertEqual(cell.training.l0Image, 4, accuracy: 1e-9, "top-k keeps exactly k units on generic data")
        let images = try SweepRealTests.load(s.folder.appendingPathComponent("train_image.npy").path)
        let valRows = Trainer.split(rows: 240, valRatio: 0.2, seed: 3).validation
        let x = images.gatherRows(valRows)
        let recon = loaded.model.reconstruct(x, modality: .image)
        var sse = 0.0
        var sst = 0.0
        for c in 0..<x.cols {
            let mean = (0..<x.rows).reduce(0.0) { $0 + Double(x[$1, c]) } / Double(x.rows)
            for r in 0..<x.rows {
                sse += pow(Double(recon[r, c]) - Double(x[r, c]), 2)
                sst += pow(Double(x[r, c]) - mean, 2)
            }
        }
        XCTAssertEqual(try XCTUnwrap(cell.training.fvuImage), sse / sst, accuracy: 1e-9)
        // Every dataset is evaluated; acc1 is a fraction of the images.
        XCTAssertEqual(cell.datasets.map(\.dataset), ["tiny6", "tiny10"])
        XCTAssertEqual(cell.datasets.map(\.nImages), [72, 120])
        for d in cell.datasets {
            XCTAssertEqual((d.acc1 * Double(d.nImages)).rounded(), d.acc1 * Double(d.nImages), accuracy: 1e-9)
            XCTAssertEqual(d.method, "cosine+concept")
            XCTAssertEqual(d.variant, "representation=hidden,text=average-first,k=4,alpha=fixed:0.5")
            // Δacc1 is the paired difference to the same dataset's cosine row, inside its interval.
            let delta = try XCTUnwrap(d.deltaAcc1)
            let ci = try XCTUnwrap(d.deltaAcc1Interval)
            XCTAssertEqual(delta, d.acc1 - (try XCTUnwrap(d.baselineAcc1)), accuracy: 1e-12)
            XCTAssertTrue(ci.low <= delta + 1e-12 && delta <= ci.high + 1e-12)
            XCTAssertEqual(ci.resamples, 1000)
            XCTAssertEqual(ci.seed, 5)
        }
        // The baseline does not depend on the cell.
        for c in table.cells {
            XCTAssertEqual(c.datasets.map(\.baselineAcc1), cell.datasets.map(\.baselineAcc1))
        }
    }

    static func load(_ path: String) throws -> Matrix {
        try TensorFile.load(path).matrix(name: path)
    }
}

/// The built `vlsae sweep`, killed with SIGKILL mid-run and run again, ends with the table of an
/// uninterrupted run.
final class SweepCommandTests: XCTestCase {
    func testSIGKILLedSweepResumes() throws {
        let exe = try VLSAEExecutable.locate().path
        let s = try TinySuite.make(in: try temporaryFolder("sweep-kill").url)
        let config = try s.config(
            """
            datasets: [tiny6.json, tiny10.json]
            train: {images: train_image.npy, texts: train_text.npy}
            training: {lr: 0.01, epochs: 2, seed: 1, batch_size: 64, warmup_epochs: 0}
            alpha: "fixed:0.5"
            grid: {hidden_ratio: [2, 4, 8], k: [2, 4]}
            """)
        func sweep(_ out: String) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: exe)
            p.arguments = ["sweep", config, "--out", out, "--quiet"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        let reference = s.folder.appendingPathComponent("reference").path
        let r = try sweep(reference)
        r.waitUntilExit()
        XCTAssertEqual(r.terminationStatus, 0)

        let out = s.folder.appendingPathComponent("killed").path
        let p = try sweep(out)
        // Kill as soon as the first checkpoint or cell file (or its temporary) shows up.
        let deadline = Date().addingTimeInterval(30)
        func started() -> Bool {
            ["cells", "checkpoints"].contains {
                !((try? FileManager.default.contentsOfDirectory(atPath: "\(out)/\($0)")) ?? []).isEmpty
            }
        }
        while !started() && p.isRunning && Date() < deadline { usleep(1000) }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal, "the sweep was still running when killed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/sweep.json"))

        let again = try sweep(out)
        again.waitUntilExit()
        XCTAssertEqual(again.terminationStatus, 0)
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: out + "/sweep.json")),
            try Data(contentsOf: URL(fileURLWithPath: reference + "/sweep.json")))
        let names = try SweepTestFiles.snapshot(out).keys.sorted()
        XCTAssertEqual(names, try SweepTestFiles.snapshot(reference).keys.sorted(), "no temporaries left behind")
    }
}
