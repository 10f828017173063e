import Foundation
import VLSAECore
import VLSAEJobs
import VLSAEReport
import VLSAETestSupport
import XCTest

/// `vlsae export-cb` / `import-cb` against files written by Python's json exactly as CLIP_benchmark writes them
/// (`Fixtures/clip_benchmark/make_cb_fixtures.py`), and the round trip eval → export-cb → import-cb.
final class ClipBenchmarkTests: XCTestCase {
    private let fixtures = FixtureFolder(bundle: .module).subfolder("clip_benchmark")
    private let tool = ToolRecord(version: "0.1.0", gitCommit: "unknown")

    private func importCB(_ files: [String]) throws -> ResultDocument {
        try ClipBenchmarkJob.importResults(files: files, command: ["vlsae", "import-cb"], tool: tool)
    }

    func testImportReadsClipBenchmarkFilesAndFlagsNaN() throws {
        let cifar = fixtures.path("cifar10_laion2b_s34b_b79k_ViT-B-32_en_zeroshot_classification.json")
        let pcam = fixtures.path("pcam_openai_ViT-B-32_en_zeroshot_classification.json")
        let three = fixtures.path("three_dumped.json")
        let doc = try importCB([cifar, pcam, three])
        XCTAssertEqual(doc.results.map(\.dataset), ["cifar10", "vtab/pcam", "three"], "wds/ dropped as CB does")
        XCTAssertEqual(
            doc.results[0].metrics, MetricValues(acc1: 0.9355, acc5: 0.9981, meanPerClassRecall: 0.9355000000000001))
        XCTAssertEqual(
            doc.results[1].metrics,
            MetricValues(acc1: 0.62054443359375, acc5: nil, meanPerClassRecall: 0.6204954441389612))
        XCTAssertEqual(
            doc.results[1].imported, ImportRecord(format: "clip_benchmark", path: pcam, nanMetrics: ["acc5"]))
        XCTAssertEqual(doc.results[0].imported?.nanMetrics, [])
        for row in doc.results {
            XCTAssertEqual(row.method, "cosine")
            XCTAssertEqual(row.variant, "cosine")
            XCTAssertEqual(row.intervals, [:])
            XCTAssertNil(row.nImages)
        }
        XCTAssertEqual(doc.results[2].nClasses, 3)
        XCTAssertEqual(doc.results[2].nTemplates, 2)
        XCTAssertEqual(doc.results[2].classnamesSha256, SHA256.hex(Data("cat\ndog\nbird\n".utf8)))
        XCTAssertNil(doc.results[0].classnamesSha256)
        XCTAssertEqual(doc.inputs, [], "no input hashes: the numbers were computed elsewhere")
        XCTAssertEqual(doc.provenance.numerics, "clip_benchmark")
        XCTAssertEqual(try SchemaLocations.loadValidator().validate(try JSON.parse(doc.encoded())), [])
    }

    func testExportWritesWhatClipBenchmarkWrites() throws {
        let files = try ClipBenchmarkJob.export(result: fixtures.path("result.json"))
        let expected = try FileManager.default.contentsOfDirectory(atPath: fixtures.path("expected_export")).sorted()
        XCTAssertEqual(files.map(\.name).sorted(), expected)
        for file in files {
            XCTAssertEqual(
                String(decoding: file.bytes, as: UTF8.self),
                String(decoding: try fixtures.data("expected_export/" + file.name), as: UTF8.self), file.name)
        }
    }

    func testRoundTripThroughTheCommandLine() throws {
        let vlsae = try VLSAEExecutable.locate()
        let dir = try temporaryFolder("cb-roundtrip").url
        let evalFixtures = FixtureFolder.repository("Tests/VLSAEEvalTests/Fixtures")
        let result = dir.appendingPathComponent("eval.json").path
        // 5 classes (acc5 defined) and 3 classes (acc5 undefined: CB's NaN).
        let eval = try vlsae.run([
            "eval", "--data", FixtureFolder(bundle: .module).path("interop/plain.json"),
            evalFixtures.path("eval3/manifest.json"), "--out", result, "--quiet", "--threads", "1",
        ])
        XCTAssertEqual(eval.status, 0, eval.output)
        let cb = dir.appendingPathComponent("cb").path
        let export = try vlsae.run(["export-cb", result, "--out", cb])
        XCTAssertEqual(export.status, 0, export.output)
        let written = export.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(written.count, 2)
        XCTAssertTrue(
            try String(contentsOfFile: written[1], encoding: .utf8).contains("\"acc5\": NaN"), "CB's NaN for acc5")
        let back = dir.appendingPathComponent("back.json").path
        let imp = try vlsae.run(["import-cb"] + written + ["--out", back])
        XCTAssertEqual(imp.status, 0, imp.output)

        let original = try ResultDocument.read(from: result)
        let imported = try ResultDocument.read(from: back)
        XCTAssertEqual(imported.results.map(\.metrics), original.results.map(\.metrics), "metrics equal")
        XCTAssertNil(imported.results[1].metrics.acc5)
        XCTAssertEqual(imported.results.map { $0.imported?.nanMetrics ?? ["?"] }, [[], ["acc5"]])
        XCTAssertEqual(imported.results.map(\.dataset), original.results.map(\.dataset))
        XCTAssertEqual(
            try SchemaLocations.loadValidator().validate(try JSON.parse(Data(contentsOf: URL(fileURLWithPath: back)))),
            [])

        // regress reads it: the evaluation reproduces the imported numbers (within tolerance, never byte for byte).
        let regress = try vlsae.run(["regress", "--baseline", back, "--candidate", result])
        XCTAssertEqual(regress.status, 0, regress.output)
        XCTAssertTrue(regress.output.contains("no input hashes"), regress.output)
        let exact = try vlsae.run(["regress", "--exact", "--baseline", back, "--candidate", result])
        XCTAssertEqual(exact.status, 2, exact.output)
        // report reads it, in a column of its own beside the evaluation's baseline.
        let report = try vlsae.run(["report", back, result])
        XCTAssertEqual(report.status, 0, report.output)
        XCTAssertTrue(report.stdout.contains("cosine (ViT-B-32/none) [clip_benchmark] |"), report.stdout)
    }

    func testHostileAndForeignFilesAreRefusedByName() throws {
        let dir = try temporaryFolder("cb-hostile").url
        func attempt(_ text: String) -> String {
            let path = dir.appendingPathComponent("x.json").path
            FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
            do {
                _ = try importCB([path])
                return "accepted"
            } catch {
                XCTAssertTrue("\(error)".contains(path), "\(error)")
                return "\(error)"
            }
        }
        func result(
            task: String = "zeroshot_classification", acc1: String = "0.5", acc5: String = "1", extra: String = ""
        )
            -> String
        {
            #"{"dataset": "d", "model": "m", "pretrained": "p", "language": "en", "task": ""# + task + #"", "#
                + extra + #""metrics": {"acc1": "# + acc1 + #", "acc5": "# + acc5 + #", "mean_per_class_recall": 0.5}}"#
        }
        XCTAssertEqual(attempt(result(acc5: "NaN")), "accepted")
        XCTAssertTrue(attempt(result(task: "zeroshot_retrieval")).contains("only zeroshot"))
        XCTAssertTrue(attempt(result(acc1: "NaN")).contains("acc1 is NaN"))
        XCTAssertTrue(attempt(result(acc5: "Infinity")).contains("Infinity"))
        XCTAssertTrue(attempt(result(acc1: "1.5")).contains("outside [0, 1]"))
        XCTAssertTrue(attempt(result(acc1: "true")).contains("not a CLIP_benchmark"))
        XCTAssertTrue(attempt(result(extra: #""extra": 1, "#)).contains("extra"))
        XCTAssertTrue(attempt(String(repeating: "[", count: 5000)).contains("deeper"))
        XCTAssertTrue(attempt("{\"dataset\": \"NaN").contains("not a JSON object"))
        // "NaN" inside a string is text, not a number.
        XCTAssertEqual(attempt(result().replacingOccurrences(of: #""d""#, with: #""NaN \"NaN\"""#)), "accepted")
    }
}
