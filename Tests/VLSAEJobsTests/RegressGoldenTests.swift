import Foundation
import VLSAECore
import VLSAEJobs
import VLSAEModel
import VLSAEReport
import VLSAETestSupport
import XCTest

/// The harness guards itself: committed golden results must be valid and self-consistent, the
/// small golden must reproduce from scratch, and a worse model or result must be caught.
///
/// Regenerate the small golden (after an intended change) with
///     VLSAE_UPDATE_GOLDEN=1 swift test --filter RegressGoldenTests/testSmallSuiteReproducesGolden
final class RegressGoldenTests: XCTestCase {
    private var goldenFolder: URL { SchemaLocations.repoRoot.appendingPathComponent("Results/golden") }
    private let tool = ToolRecord(version: "0.1.0", gitCommit: "unknown")

    private func goldenFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: goldenFolder.path).filter { $0.hasSuffix(".json") }.sorted()
            .map { goldenFolder.appendingPathComponent($0).path }
    }

    func testCommittedGoldenFilesAreValidAndSelfConsistent() throws {
        let files = try goldenFiles()
        XCTAssertTrue(
            files.contains { $0.hasSuffix(RegressGolden.fileName) },
            "Results/golden/\(RegressGolden.fileName) is committed")
        let validator = try SchemaLocations.loadValidator()
        for path in files {
            let name = (path as NSString).lastPathComponent
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            XCTAssertEqual(validator.validate(try JSON.parse(bytes)), [], "\(name) follows the result schema")
            let doc = try ResultDocument.read(from: path)
            XCTAssertEqual(try doc.encoded(), bytes, "\(name) is in canonical form")
            XCTAssertFalse(doc.results.isEmpty, name)
            for i in doc.inputs {
                XCTAssertTrue(i.sha256.count == 64 && i.sha256.allSatisfy(\.isHexDigit), "\(name): \(i.path)")
            }
            let same = RegressJob.run(
                baseline: path, candidate: path,
                tolerances: {
                    var t = RegressJob.Tolerances()
                    try! t.apply(["all=0"])
                    return t
                }(),
                requireOverlap: true)
            XCTAssertEqual(same.outcome, .pass, "\(name) against itself: \(same.text())")
            XCTAssertTrue(same.lines.allSatisfy { $0.status == .same })

            let baselines = Dictionary(
                doc.results.filter { $0.method == "cosine" }.map { ($0.dataset, $0) }, uniquingKeysWith: { a, _ in a })
            for row in doc.results {
                let where_ = "\(name): \(row.dataset) \(row.method) \(row.variant ?? "")"
                // Accuracies are counts over the images.
                let hits = row.metrics.acc1 * Double(try XCTUnwrap(row.nImages))
                XCTAssertEqual(hits, hits.rounded(), accuracy: 1e-6, where_)
                if let ci = row.intervals["acc1"] {
                    XCTAssertLessThanOrEqual(ci.low, row.metrics.acc1 + 1e-12, where_)
                    XCTAssertGreaterThanOrEqual(ci.high, row.metrics.acc1 - 1e-12, where_)
                }
                guard let cmp = row.comparison else { continue }
                let base = try XCTUnwrap(baselines[row.dataset], "\(where_): no cosine row to compare with")
                XCTAssertEqual(base.classnamesSha256, row.classnamesSha256, where_)
                XCTAssertEqual(base.nImages, row.nImages, where_)
                // The recorded paired delta is this row's acc1 minus the baseline's, and the flips add up.
                XCTAssertEqual(
                    try XCTUnwrap(cmp.deltas["acc1"]), row.metrics.acc1 - base.metrics.acc1, accuracy: 1e-9, where_)
                XCTAssertEqual(
                    Double(cmp.flips.gained - cmp.flips.lost) / Double(try XCTUnwrap(row.nImages)),
                    row.metrics.acc1 - base.metrics.acc1, accuracy: 1e-9, where_)
                XCTAssertTrue((0...1).contains(cmp.mcnemarP), where_)
            }
        }
    }

    func testSmallSuiteReproducesGolden() throws {
        let dir = try temporaryFolder("golden").url
        let doc = try RegressGolden.run(in: dir.path, tool: tool)
        let fresh = dir.appendingPathComponent("result.json").path
        let golden = goldenFolder.appendingPathComponent(RegressGolden.fileName).path
        if ProcessInfo.processInfo.environment["VLSAE_UPDATE_GOLDEN"] == "1" {
            try doc.write(to: golden)
            throw XCTSkip("wrote \(golden)")
        }
        XCTAssertEqual(doc.results.count, 2 * (1 + 2 + 2), "per set: baseline, two variants, two concept-only rows")
        // Same code on any CPU, kernel path or thread count: every row reproduced byte for byte, not
        // just within tolerance.
        let report = RegressJob.run(baseline: golden, candidate: fresh, exact: true)
        XCTAssertEqual(report.outcome, .pass, report.text())
        XCTAssertTrue(
            report.lines.allSatisfy { $0.status == .same }, "values differ from the golden:\n\(report.text())")
        XCTAssertEqual(
            try ResultDocument.read(from: golden).contentEncoded(), try doc.contentEncoded(),
            "the whole document but its provenance")

        // A deliberately worsened checkpoint: the encoder's unit directions shuffled against the
        // decoders, so the concept similarity stops tracking the data. Alignment rows must drop.
        let worse = try RegressGolden.run(
            in: dir.path, tool: tool,
            mutateCheckpoint: { path in
                let loaded = try Checkpoint.load(path: path)
                var tensors = Dictionary(
                    uniqueKeysWithValues: loaded.model.officialTensors().map { ($0.name, $0.values) })
                var encoder = tensors["encoder"]!
                let d = loaded.model.config.inputDim
                var rng = SeededRandom(seed: 1)
                for i in encoder.indices { encoder[i] = Float(rng.nextGaussian()) / Float(d).squareRoot() }
                tensors["encoder"] = encoder
                try Checkpoint.save(try SAEModel(config: loaded.model.config, tensors: tensors), to: path)
            })
        XCTAssertEqual(
            worse.results.filter { $0.method == "cosine" }.map(\.metrics),
            doc.results.filter { $0.method == "cosine" }.map(\.metrics),
            "the baseline does not depend on the checkpoint")
        let r = RegressJob.run(baseline: golden, candidate: fresh)
        XCTAssertEqual(r.outcome, .regression, r.text())
        XCTAssertTrue(r.regressions.contains { $0.metric == "delta_acc1" }, r.text())
        XCTAssertTrue(r.regressions.allSatisfy { !$0.row.contains("| cosine |") }, "only alignment rows regress")
        XCTAssertTrue(r.notes.contains { $0.hasPrefix("checkpoint differs: sae.safetensors") }, r.text())
    }
}
