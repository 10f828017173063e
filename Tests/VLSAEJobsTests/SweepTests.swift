import Foundation
import VLSAECore
import VLSAEJobs
import VLSAEPlot
import VLSAEReport
import VLSAETestSupport
import XCTest

/// Orchestration of `vlsae sweep` with a stand-in backend (exact, fast): config parsing, cell
/// identity, resume after a kill, shards, k reuse, table and figures.
final class SweepTests: XCTestCase {
    private let tool = ToolRecord(version: "0.1.0", gitCommit: "unknown")

    private func suite() throws -> TinySuite {
        try TinySuite.make(in: try temporaryFolder("sweep").url)
    }

    private let gridYAML = """
        name: tiny
        datasets: [tiny6.json, tiny10.json]
        train: {images: train_image.npy, texts: train_text.npy}
        training: {arch: vlsae, hidden_ratio: 4, lr: 1e-3, epochs: 2, seed: 3, batch_size: 64, warmup_epochs: 1}
        alpha: "fixed:0.5"
        evaluation: {bootstrap: 1000, seed: 5}
        grid:
          k: [4, 8]
          hidden_ratio: [2, 4, 8]
        """

    private func options(
        _ config: String, out: String, backend: SweepBackend, shard: SweepShard? = nil,
        threads: Int = 1, hooks: SweepJob.Hooks = SweepJob.Hooks()
    ) -> SweepJob.Options {
        SweepJob.Options(
            config: config, out: out, shard: shard, threads: threads, progress: false, tool: tool,
            backend: backend, hooks: hooks)
    }

    // MARK: Config and plan

    func testYAMLAndJSONConfigsGiveTheSamePlanInCanonicalOrder() throws {
        let s = try suite()
        let yaml = try s.config(gridYAML)
        let json = try s.config(
            """
            {"name": "tiny", "datasets": ["tiny6.json", "tiny10.json"],
             "train": {"images": "train_image.npy", "texts": "train_text.npy"},
             "training": {"arch": "vlsae", "hidden_ratio": 4, "lr": 0.001, "epochs": 2, "seed": 3, "batch_size": 64, "warmup_epochs": 1},
             "alpha": "fixed:0.5", "evaluation": {"bootstrap": 1000, "seed": 5},
             "grid": {"hidden_ratio": [2, 4, 8], "k": [4, 8]}}
            """, name: "sweep.json")
        let a = try SweepPlan.make(try SweepConfig.load(path: yaml))
        let b = try SweepPlan.make(try SweepConfig.load(path: json))
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.cells.count, 6)
        // hidden_ratio is nested outside k: k varies fastest.
        XCTAssertEqual(a.cells.map(\.spec.hiddenRatio), [2, 2, 4, 4, 8, 8])
        XCTAssertEqual(a.cells.map(\.spec.k), [4, 8, 4, 8, 4, 8])
        XCTAssertEqual(a.cells.map(\.index), Array(0..<6))
        XCTAssertEqual(Set(a.cells.map(\.id)).count, 6)
        XCTAssertEqual(
            Set(a.cells.map(\.checkpointHash)).count, 6, "without reuse_k every cell trains its own checkpoint")
        XCTAssertEqual(a.cells[0].spec.lr, 1e-3)
        XCTAssertEqual(a.cells[0].spec.epochs, 2)
        XCTAssertEqual(a.cells[0].alignmentSpec, "representation=hidden,text=average-first,alpha=fixed:0.5")
        XCTAssertEqual(a.datasets.map(\.manifest), ["tiny6.json", "tiny10.json"])
        XCTAssertEqual(a.datasets[0].inputs.map(\.role), ["manifest", "image_embeddings", "labels", "text_embeddings"])
        XCTAssertEqual(
            a.datasets[0].inputs[1].sha256,
            try SHA256.hex(fileAt: s.folder.appendingPathComponent("tiny6_images.npy").path))
        XCTAssertEqual(a.trainInputs.map(\.role), ["train_images", "train_texts"])
    }

    func testIdentityFollowsContentAndTrainingRecipe() throws {
        let s = try suite()
        let base = try SweepPlan.make(try SweepConfig.load(path: try s.config(gridYAML)))
        // Same file reached through another relative path: same identities.
        try FileManager.default.createDirectory(
            at: s.folder.appendingPathComponent("sub"), withIntermediateDirectories: true)
        let moved = gridYAML.replacingOccurrences(
            of: "datasets: [tiny6.json, tiny10.json]", with: "datasets: [../tiny6.json, ../tiny10.json]"
        )
        .replacingOccurrences(of: "train_image.npy", with: "../train_image.npy").replacingOccurrences(
            of: "train_text.npy", with: "../train_text.npy")
        let viaSub = try SweepPlan.make(try SweepConfig.load(path: try s.config(moved, name: "sub/sweep.yaml")))
        XCTAssertEqual(viaSub.cells.map(\.checkpointHash), base.cells.map(\.checkpointHash))
        // A fixed training setting changes every checkpoint and every cell.
        let other = try SweepPlan.make(
            try SweepConfig.load(
                path: try s.config(
                    gridYAML.replacingOccurrences(of: "batch_size: 64", with: "batch_size: 32"), name: "b.yaml")))
        XCTAssertTrue(
            zip(other.cells, base.cells).allSatisfy { $0.checkpointHash != $1.checkpointHash && $0.id != $1.id })
        // α changes the cell but not its checkpoint.
        let alpha = try SweepPlan.make(
            try SweepConfig.load(
                path: try s.config(
                    gridYAML.replacingOccurrences(of: "fixed:0.5", with: "fixed:1"), name: "c.yaml")))
        XCTAssertEqual(alpha.cells.map(\.checkpointHash), base.cells.map(\.checkpointHash))
        XCTAssertTrue(zip(alpha.cells, base.cells).allSatisfy { $0.id != $1.id })
        // Changed training data: new checkpoints.
        var data = try Data(contentsOf: s.folder.appendingPathComponent("train_text.npy"))
        data[data.count - 1] ^= 0x01
        try data.write(to: s.folder.appendingPathComponent("train_text.npy"))
        let changed = try SweepPlan.make(try SweepConfig.load(path: try s.config(gridYAML)))
        XCTAssertTrue(zip(changed.cells, base.cells).allSatisfy { $0.checkpointHash != $1.checkpointHash })
    }

    func testConfigErrorsNameTheFileAndProblem() throws {
        let s = try suite()
        func message(_ body: String) -> String {
            do {
                _ = try SweepConfig.load(path: try s.config(body, name: "bad.yaml"))
                return "no error"
            } catch { return "\(error)" }
        }
        let bad = s.folder.appendingPathComponent("bad.yaml").path
        XCTAssertTrue(
            message(gridYAML.replacingOccurrences(of: "hidden_ratio: [2, 4, 8]", with: "hiden_ratio: [2]"))
                .contains("\(bad): unknown key \"hiden_ratio\" in grid"))
        XCTAssertTrue(message(gridYAML + "\ncells: [{k: 4}]").contains("either \"grid\""))
        XCTAssertTrue(
            message(gridYAML.replacingOccurrences(of: "k: [4, 8]", with: "k: [4, 4]")).contains("same configuration"))
        XCTAssertTrue(
            message(
                gridYAML.replacingOccurrences(
                    of: "alpha: \"fixed:0.5\"", with: "alignment: \"representation=hidden,alpha=fixed:1\"")
            )
            .contains("must not set alpha"))
        XCTAssertTrue(message(gridYAML.replacingOccurrences(of: "k: [4, 8]", with: "k: four")).contains("wrong type"))
        XCTAssertTrue(message("- just\n- a list\n").contains("must be a mapping"))
        XCTAssertTrue(
            message(gridYAML.replacingOccurrences(of: "bootstrap: 1000", with: "bootstrap: 10")).contains(
                "must be in 1000...1000000"))
        XCTAssertTrue(
            message(gridYAML.replacingOccurrences(of: "bootstrap: 1000", with: "bootstrap: 2000000000")).contains(
                "must be in 1000...1000000, got 2000000000"))
        XCTAssertThrowsError(try SweepShard(parsing: "2/2"))
        XCTAssertThrowsError(try SweepShard(parsing: "1-2"))
        XCTAssertEqual(try SweepShard(parsing: "1/3"), try SweepShard(index: 1, count: 3))
    }

    func testExplicitCellListAndReuseKPlan() throws {
        let s = try suite()
        let path = try s.config(
            """
            datasets: tiny6.json
            train: {images: train_image.npy, texts: train_text.npy}
            training: {hidden_ratio: 4, epochs: 1, warmup_epochs: 0}
            reuse_k: true
            cells:
              - {k: 8}
              - {k: 2}
              - {k: 4}
              - {k: 4, seed: 1}
            """)
        let plan = try SweepPlan.make(try SweepConfig.load(path: path))
        XCTAssertEqual(plan.cells.map(\.spec.k), [8, 2, 4, 4])
        XCTAssertEqual(plan.cells.map(\.trainedK), [8, 8, 8, 4], "seed 1 is its own group, trained at its own k")
        XCTAssertEqual(plan.cells.map(\.inferenceKReuse), [false, true, true, false])
        XCTAssertEqual(Set(plan.cells.prefix(3).map(\.checkpointHash)).count, 1)
        XCTAssertNotEqual(plan.cells[3].checkpointHash, plan.cells[2].checkpointHash)
        XCTAssertEqual(plan.cells[1].alignmentSpec, "representation=hidden,text=average-first,alpha=fixed:1,k=2")
        XCTAssertEqual(plan.shard(0, of: 2).map(\.index), [0, 2])
        XCTAssertEqual(plan.shard(1, of: 2).map(\.index), [1, 3])

        let backend = FakeBackend()
        let out = s.folder.appendingPathComponent("reuse").path
        let report = try SweepJob.run(options(path, out: out, backend: backend))
        XCTAssertEqual(report.trained, 2, "one checkpoint for k ∈ {8, 2, 4}, one for seed 1")
        XCTAssertEqual(backend.trained.count, 2)
        let table = try XCTUnwrap(report.table)
        XCTAssertEqual(table.cells.map(\.inferenceKReuse), [false, true, true, false])
        XCTAssertEqual(table.cells.map(\.training.measuredK), [8, 2, 4, 4])
        XCTAssertEqual(table.cells[0].checkpoint.path, table.cells[1].checkpoint.path)
        XCTAssertTrue(table.markdown().contains("| 2 ↺ | 8 |"))
    }

    func testCommittedExampleConfigsParse() throws {
        let folder = SchemaLocations.repoRoot.appendingPathComponent("Datasets/sweeps")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertTrue(files.contains("k-by-ratio.yaml"))
        var counts: [String: Int] = [:]
        for f in files where f.hasSuffix(".yaml") || f.hasSuffix(".json") {
            let config = try SweepConfig.load(path: folder.appendingPathComponent(f).path)
            counts[f] = try config.expand().count
        }
        XCTAssertEqual(counts["k-by-ratio.yaml"], 6)
        XCTAssertEqual(counts["k-reuse.yaml"], 8)
        XCTAssertEqual(counts["variants.json"], 5)
    }

    func testAlphaTableIsResolvedAndPartOfTheCellIdentity() throws {
        let s = try suite()
        try FileManager.default.createDirectory(
            at: s.folder.appendingPathComponent("sweeps"), withIntermediateDirectories: true)
        try #"{"tiny6": 0.5, "tiny10": 1}"#.write(
            to: s.folder.appendingPathComponent("alphas.json"), atomically: false, encoding: .utf8)
        let body = """
            datasets: [../tiny6.json]
            train: {images: ../train_image.npy, texts: ../train_text.npy}
            training: {k: 4, hidden_ratio: 2, epochs: 1, warmup_epochs: 0}
            alpha: "table:../alphas.json"
            """
        let config = try s.config(body, name: "sweeps/table.yaml")
        let before = try SweepPlan.make(try SweepConfig.load(path: config))
        let backend = FakeBackend()
        try SweepJob.run(options(config, out: s.folder.appendingPathComponent("t").path, backend: backend))
        // Evaluation reads files from the working directory: the table path is resolved against the config.
        XCTAssertEqual(
            backend.evaluated,
            ["representation=hidden,text=average-first,alpha=table:\(s.folder.path)/sweeps/../alphas.json"])
        // The recorded spec stays as written.
        XCTAssertEqual(
            before.cells[0].alignmentSpec, "representation=hidden,text=average-first,alpha=table:../alphas.json")
        try #"{"tiny6": 0.25, "tiny10": 1}"#.write(
            to: s.folder.appendingPathComponent("alphas.json"), atomically: false, encoding: .utf8)
        let after = try SweepPlan.make(try SweepConfig.load(path: config))
        XCTAssertNotEqual(after.cells[0].id, before.cells[0].id, "editing the α table invalidates the cell")
        XCTAssertEqual(after.cells[0].checkpointHash, before.cells[0].checkpointHash, "but not its checkpoint")
    }

    // MARK: Resume, kill, shards

    func testKilledSweepResumesToTheSameTable() throws {
        let s = try suite()
        let config = try s.config(gridYAML)
        let reference = s.folder.appendingPathComponent("reference").path
        let full = FakeBackend()
        try SweepJob.run(options(config, out: reference, backend: full))
        XCTAssertEqual(full.trained.count, 6)

        for stage in ["checkpoint", "cell"] {
            let out = s.folder.appendingPathComponent("killed-\(stage)").path
            var calls = 0
            var hooks = SweepJob.Hooks()
            let kill: (String) throws -> Void = { tmp in
                calls += 1
                XCTAssertTrue(
                    FileManager.default.fileExists(atPath: tmp), "the temporary is complete before the rename")
                if calls == 3 { throw SimulatedKill() }
            }
            if stage == "checkpoint" { hooks.beforeCheckpointRename = kill } else { hooks.beforeCellRename = kill }
            let first = FakeBackend()
            XCTAssertThrowsError(try SweepJob.run(options(config, out: out, backend: first, hooks: hooks))) {
                XCTAssertTrue($0 is SimulatedKill)
            }
            let cells = try FileManager.default.contentsOfDirectory(atPath: out + "/cells")
            XCTAssertEqual(cells.filter { !$0.hasPrefix(".") }.count, 2, "two cells finished before the kill")
            let hidden = try
                (FileManager.default.contentsOfDirectory(atPath: out + "/cells")
                + FileManager.default.contentsOfDirectory(atPath: out + "/checkpoints")).filter { $0.hasPrefix(".") }
            XCTAssertEqual(hidden, [], "nothing partial next to the results")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: out + "/.tmp-\(getpid())")
            XCTAssertEqual(
                leftovers.count, 1, "the killed cell left only its temporary in the work folder: \(leftovers)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/sweep.json"))

            let second = FakeBackend()
            let report = try SweepJob.run(options(config, out: out, backend: second))
            XCTAssertEqual(report.skipped, 2)
            XCTAssertEqual(report.ran, 4)
            // The checkpoint of the cell killed after its cell temp was written is reused, not retrained.
            XCTAssertEqual(second.trained.count, stage == "checkpoint" ? 4 : 3)
            var a = try SweepTestFiles.snapshot(reference)
            var b = try SweepTestFiles.snapshot(out)
            XCTAssertEqual(Set(a.keys), Set(b.keys), "no temporaries left, nothing missing")
            XCTAssertEqual(
                a.removeValue(forKey: "sweep.json"), b.removeValue(forKey: "sweep.json"), "sweep.json byte-identical")
            XCTAssertEqual(a, b, "cells, checkpoints, plan, markdown and figures byte-identical")

            // A third run finds everything done.
            let third = FakeBackend()
            let again = try SweepJob.run(options(config, out: out, backend: third))
            XCTAssertEqual(again.ran, 0)
            XCTAssertTrue(third.trained.isEmpty && third.evaluated.isEmpty)
        }
    }

    func testShardsMergeToTheSingleRunTable() throws {
        let s = try suite()
        let config = try s.config(gridYAML)
        let single = s.folder.appendingPathComponent("single").path
        try SweepJob.run(options(config, out: single, backend: FakeBackend()))
        let f0 = s.folder.appendingPathComponent("shard0").path
        let f1 = s.folder.appendingPathComponent("shard1").path
        let r0 = try SweepJob.run(
            options(config, out: f0, backend: FakeBackend(), shard: try SweepShard(parsing: "0/2")))
        let r1 = try SweepJob.run(
            options(config, out: f1, backend: FakeBackend(), shard: try SweepShard(parsing: "1/2")))
        XCTAssertEqual(r0.ran, 3)
        XCTAssertEqual(r1.ran, 3)
        XCTAssertNil(r0.table)
        XCTAssertNil(r1.table)
        let merged = s.folder.appendingPathComponent("merged").path
        try SweepJob.merge(folders: [f0, f1], out: merged, tool: tool)
        for file in ["sweep.json", "sweep.md", "delta_vs_k.png", "fvu_vs_l0.png", "plan.json"] {
            XCTAssertEqual(
                try Data(contentsOf: URL(fileURLWithPath: "\(merged)/\(file)")),
                try Data(contentsOf: URL(fileURLWithPath: "\(single)/\(file)")), file)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: merged + "/cells").count, 6)
        // A missing shard is named, not silently dropped.
        XCTAssertThrowsError(
            try SweepJob.merge(folders: [f0], out: s.folder.appendingPathComponent("m2").path, tool: tool)
        ) {
            XCTAssertTrue("\($0)".contains("3 of 6 cells have no result"), "\($0)")
        }
        // The thread count is a run fact, not part of the sweep: a shard run with 3 threads merges into
        // the same table, and records its threads in its own cell files only.
        let f2 = s.folder.appendingPathComponent("shard1-3threads").path
        try SweepJob.run(
            options(config, out: f2, backend: FakeBackend(), shard: try SweepShard(parsing: "1/2"), threads: 3))
        let m4 = s.folder.appendingPathComponent("m4").path
        try SweepJob.merge(folders: [f0, f2], out: m4, tool: tool)
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: "\(m4)/sweep.json")),
            try Data(contentsOf: URL(fileURLWithPath: "\(single)/sweep.json")))
        let cellFile = try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: f2 + "/cells").first)
        let cell = try CanonicalJSON.decode(SweepCellResult.self, from: "\(f2)/cells/\(cellFile)")
        XCTAssertEqual(cell.provenance.threads, 3)
        XCTAssertEqual(cell.provenance.numerics, "deterministic")
        // Folders of another sweep are refused.
        let other = try s.config(gridYAML.replacingOccurrences(of: "seed: 3", with: "seed: 4"), name: "other.yaml")
        let fo = s.folder.appendingPathComponent("other").path
        try SweepJob.run(options(other, out: fo, backend: FakeBackend(), shard: try SweepShard(parsing: "1/2")))
        XCTAssertThrowsError(
            try SweepJob.merge(folders: [f0, fo], out: s.folder.appendingPathComponent("m3").path, tool: tool)
        ) {
            XCTAssertTrue("\($0)".contains("belongs to another sweep"), "\($0)")
        }
    }

    // MARK: Table and figures

    func testTableAndFigures() throws {
        let s = try suite()
        let out = s.folder.appendingPathComponent("fig").path
        let report = try SweepJob.run(options(try s.config(gridYAML), out: out, backend: FakeBackend()))
        let table = try XCTUnwrap(report.table)
        XCTAssertEqual(try SweepTable.read(from: out + "/sweep.json"), table)
        XCTAssertEqual(table.cells.count, 6)
        let c = table.cells[3]
        XCTAssertEqual(c.spec.k, 8)
        XCTAssertEqual(c.spec.hiddenRatio, 4)
        XCTAssertEqual(c.training.fvuImage!, 1.0 / 8 + 0.04, accuracy: 1e-12)
        XCTAssertEqual(c.datasets.map(\.dataset), ["tiny6", "tiny10"])
        XCTAssertEqual(c.datasets[0].deltaAcc1!, 0.002, accuracy: 1e-12)
        XCTAssertEqual(c.datasets[0].baselineAcc1!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(c.checkpoint.path, "checkpoints/\(c.checkpoint.hash).safetensors")
        let cellFile = try CanonicalJSON.decode(SweepCellResult.self, from: "\(out)/cells/\(c.id).json")
        XCTAssertEqual(
            cellFile.rows.compactMap(\.checkpoint).map(\.path), Array(repeating: c.checkpoint.path, count: 2),
            "rows name the checkpoint relative to the sweep folder")
        let md = try String(contentsOfFile: out + "/sweep.md", encoding: .utf8)
        XCTAssertEqual(
            md.components(separatedBy: "\n").filter { $0.hasPrefix("| ") }.count, 1 + 12,
            "header + 6 cells × 2 datasets")

        // Δacc1 vs k: one series per dataset × hidden ratio, k on the x axis, interval bars in points.
        let series = table.deltaSeries()
        XCTAssertEqual(
            series.map(\.name),
            [
                "tiny6 ratio=2", "tiny10 ratio=2", "tiny6 ratio=4", "tiny10 ratio=4",
                "tiny6 ratio=8", "tiny10 ratio=8",
            ])
        XCTAssertEqual(series[0].points.map(\.x), [4, 8])
        XCTAssertEqual(series[0].points[1].y, 0.2, accuracy: 1e-9)
        XCTAssertEqual(series[0].points[1].low!, -0.8, accuracy: 1e-9)
        let pts = table.fvuPoints()
        XCTAssertEqual(pts.count, 6)
        XCTAssertEqual(pts[0].x, 3.75, accuracy: 1e-12)
        XCTAssertEqual(pts[0].y, 1.25 * (0.25 + 0.02), accuracy: 1e-12)

        for (file, layout) in [
            (
                "delta_vs_k.png",
                table.deltaChart().renderWithLayout(width: SweepTable.figureWidth, height: SweepTable.figureHeight)
                    .layout
            ),
            (
                "fvu_vs_l0.png",
                table.fvuChart().renderWithLayout(width: SweepTable.figureWidth, height: SweepTable.figureHeight).layout
            ),
        ] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(file)")))
            let image = try DecodedImage.decode(pngBytes: bytes)
            XCTAssertEqual(image.width, SweepTable.figureWidth, file)
            XCTAssertEqual(image.height, SweepTable.figureHeight, file)
            // Coloured (non-grey) pixels inside the plot area: data was drawn.
            let area = layout.plotArea
            var coloured = 0
            for y in area.y..<area.maxY {
                for x in area.x..<area.maxX {
                    let p = image.pixel(x: x, y: y)!
                    if max(p.r, p.g, p.b) - min(p.r, p.g, p.b) > 40 { coloured += 1 }
                }
            }
            XCTAssertGreaterThan(coloured, 200, "\(file): plot area looks blank")
        }
    }
}
