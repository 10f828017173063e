import Foundation
import VLSAECore
import VLSAEJobs
import VLSAEReport
import VLSAETestSupport
import XCTest

final class EvalJobTests: XCTestCase {
    /// The committed fixtures of VLSAEEvalTests (see make_eval_fixtures.py there).
    private var fixtures: URL { FixtureFolder.repository("Tests/VLSAEEvalTests/Fixtures").url }
    private let tool = ToolRecord(version: "0.1.0", gitCommit: "unknown")

    private func expected(_ set: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(
            with: Data(contentsOf: fixtures.appendingPathComponent("\(set)/expected.json"))) as! [String: Any]
    }

    private func options(_ manifests: [String], perClass: Bool = true, seed: UInt64 = 11) -> EvalJob.Options {
        EvalJob.Options(
            manifests: manifests, seed: seed, perClass: perClass,
            command: ["vlsae", "eval", "(test)"], tool: tool, progress: false)
    }

    /// Evaluates, then writes the document as `vlsae eval` does.
    @discardableResult
    private func run(_ options: EvalJob.Options, to out: String) throws -> ResultDocument {
        let doc = try EvalJob.run(options)
        try doc.write(to: out)
        return doc
    }

    func testEndToEndValuesSchemaAndDeterminism() throws {
        let dir = try temporaryFolder("evaljob").url
        let cwd = FileManager.default.currentDirectoryPath
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        _ = FileManager.default.changeCurrentDirectoryPath(fixtures.path)
        let manifests = ["eval7/manifest.json", "eval7/manifest_classifier.json", "eval3/manifest.json"]
        let out1 = dir.appendingPathComponent("a.json").path
        let out2 = dir.appendingPathComponent("b.json").path
        let doc = try run(options(manifests), to: out1)
        try run(options(manifests), to: out2)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: out1))
        XCTAssertEqual(bytes, try Data(contentsOf: URL(fileURLWithPath: out2)), "same inputs ⇒ byte-identical result")
        XCTAssertEqual(try ResultDocument.read(from: out1), doc)

        XCTAssertEqual(try SchemaLocations.loadValidator().validate(try JSON.parse(bytes)), [])

        XCTAssertEqual(doc.results.map(\.dataset), ["eval7", "eval7-classifier", "eval3"])
        XCTAssertEqual(doc.seeds, ["bootstrap": 11])
        XCTAssertEqual(doc.tool, tool)
        for (row, set) in zip(doc.results, ["eval7", "eval7", "eval3"]) {
            let e = try expected(set)
            XCTAssertEqual(row.metrics.acc1, e["acc1"] as! Double, accuracy: 1e-6, row.dataset)
            if let a5 = e["acc5"] as? Double {
                XCTAssertEqual(try XCTUnwrap(row.metrics.acc5), a5, accuracy: 1e-6)
            } else {
                XCTAssertNil(row.metrics.acc5)
            }
            XCTAssertEqual(row.metrics.meanPerClassRecall, e["mean_per_class_recall"] as! Double, accuracy: 1e-6)
            let want = e["per_class_recall"] as! [Any]
            let got = try XCTUnwrap(row.perClassRecall)
            XCTAssertEqual(got.count, want.count)
            for (g, w) in zip(got, want) {
                if let w = w as? Double { XCTAssertEqual(try XCTUnwrap(g), w, accuracy: 1e-6) } else { XCTAssertNil(g) }
            }
            XCTAssertEqual(row.nImages, e["n_images"] as? Int)
            XCTAssertEqual(row.nClasses, e["n_classes"] as? Int)
            XCTAssertEqual(row.nTemplates, e["n_templates"] as? Int)
            XCTAssertEqual(row.classnamesSha256, e["classnames_sha256"] as? String)
            XCTAssertEqual(row.templatesSha256, e["templates_sha256"] as? String)
            XCTAssertEqual(row.method, "cosine")
            XCTAssertEqual(row.task, "zeroshot_classification")
            XCTAssertEqual(row.language, "en")
            let ci = try XCTUnwrap(row.intervals["acc1"])
            XCTAssertEqual(ci.seed, 11)
            XCTAssertEqual(ci.resamples, 1000)
            XCTAssertEqual(ci.level, 0.95)
            XCTAssertLessThanOrEqual(ci.low, row.metrics.acc1)
            XCTAssertGreaterThanOrEqual(ci.high, row.metrics.acc1)
        }
        XCTAssertEqual(doc.results.map(\.templateLevel), [true, false, true])

        // Inputs: every file once per role, paths as the working directory sees them, digests from hashlib.
        let e7 = try expected("eval7")["sha256"] as! [String: String]
        let byPath = Dictionary(grouping: doc.inputs, by: \.path)
        XCTAssertEqual(byPath["eval7/images.npy"]?.map(\.role), ["image_embeddings"], "shared files are listed once")
        XCTAssertEqual(byPath["eval7/images.npy"]?.first?.sha256, e7["images.npy"])
        XCTAssertEqual(byPath["eval7/classifier.npy"]?.first?.sha256, e7["classifier.npy"])
        XCTAssertEqual(byPath["eval7/manifest_classifier.json"]?.first?.role, "manifest")
        XCTAssertEqual(doc.inputs.count, 4 + 2 + 4)  // eval7: 4, eval7-classifier: manifest + classifier, eval3: 4

        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertFalse(text.contains("NaN"))
        XCTAssertTrue(text.contains("\"acc5\" : null"))
    }

    func testPerClassIsOptInAndSeedChangesOnlyTheInterval() throws {
        let dir = try temporaryFolder("evaljob").url
        let m = fixtures.appendingPathComponent("eval7/manifest.json").path
        let a = try run(options([m], perClass: false, seed: 1), to: dir.appendingPathComponent("a.json").path)
        let b = try run(options([m], perClass: false, seed: 2), to: dir.appendingPathComponent("b.json").path)
        XCTAssertNil(a.results[0].perClassRecall)
        XCTAssertFalse(
            String(decoding: try Data(contentsOf: dir.appendingPathComponent("a.json")), as: UTF8.self).contains(
                "\"per_class_recall\""))
        XCTAssertEqual(a.results[0].metrics, b.results[0].metrics)
        XCTAssertEqual(b.results[0].intervals["acc1"]?.seed, 2)
        XCTAssertNotEqual(a.results[0].intervals["acc1"], b.results[0].intervals["acc1"])
    }

    func testFailureWritesNothingAndNamesTheFile() throws {
        let dir = try temporaryFolder("evaljob").url
        let out = dir.appendingPathComponent("r.json").path
        try Data("previous\n".utf8).write(to: URL(fileURLWithPath: out))
        let bad = dir.appendingPathComponent("bad.json").path
        try Data(
            """
            {"name": "bad", "model": "m", "pretrained": "p", "image_embeddings": "\(fixtures.path)/eval7/images.npy",
             "labels": "\(fixtures.path)/eval3/labels.npy", "classnames": ["a", "b", "c"], "templates": ["{c}"],
             "classifier": "\(fixtures.path)/eval3/classifier.npy"}
            """.utf8
        ).write(to: URL(fileURLWithPath: bad))
        let good = fixtures.appendingPathComponent("eval3/manifest.json").path
        XCTAssertThrowsError(try run(options([good, bad]), to: out)) { error in
            let m = "\(error)"
            XCTAssertTrue(
                m.contains(bad) && m.contains("labels") && m.contains("30 labels") && m.contains("60 rows"), m)
        }
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "previous\n", "the old result is untouched")
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["bad.json", "r.json"],
            "no temporary left")
    }

    func testTooFewResamplesIsAUsageError() throws {
        var o = options([fixtures.appendingPathComponent("eval3/manifest.json").path])
        o.bootstrapResamples = 999
        XCTAssertThrowsError(try EvalJob.run(o)) {
            XCTAssertEqual($0 as? VLSAEError, .usage("--bootstrap must be in 1000...1000000, got 999"))
        }
        o.bootstrapResamples = 2_000_000_000
        XCTAssertThrowsError(try EvalJob.run(o)) {
            XCTAssertEqual($0 as? VLSAEError, .usage("--bootstrap must be in 1000...1000000, got 2000000000"))
        }
    }

    func testGitCommitIsResolvedOrUnknown() {
        XCTAssertEqual(ToolIdentity.gitCommit(executablePath: "/nonexistent-folder/vlsae"), "unknown")
        let here = ToolIdentity.gitCommit(executablePath: #filePath)
        XCTAssertTrue(here == "unknown" || (here.count == 40 && here.allSatisfy(\.isHexDigit)), here)
    }

    /// The CLI's exit statuses: 0 on success, 1 for a bad file, 64 for a bad request.
    func testCLIExitCodes() throws {
        let vlsae = try VLSAEExecutable.locate()
        let dir = try temporaryFolder("evaljob").url
        func run(_ args: [String]) throws -> (Int32, String, String) {
            let r = try vlsae.run(args)
            return (r.status, r.stdout, r.stderr)
        }
        let out = dir.appendingPathComponent("r.json").path
        let ok = try run(["eval", "--data", fixtures.appendingPathComponent("eval3/manifest.json").path, "--out", out])
        XCTAssertEqual(ok.0, 0, ok.2)
        XCTAssertTrue(ok.1.contains("eval3"), ok.1)
        let missing = dir.appendingPathComponent("missing.json").path
        let bad = try run(["eval", "--data", missing, "--out", dir.appendingPathComponent("x.json").path])
        XCTAssertEqual(bad.0, 1)
        XCTAssertTrue(bad.2.contains(missing), bad.2)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.json").path))
        XCTAssertEqual(try run(["eval", "--out", out]).0, 64, "no --data")
        XCTAssertEqual(try run(["eval", "--data", missing, "--out", out, "--bootstrap", "10"]).0, 64)
        let help = try run(["eval", "--help"])
        XCTAssertTrue(help.1.contains("archive.npz:name"), "help documents tensor addresses")
        let inspect = try run(["inspect", fixtures.appendingPathComponent("eval3/text.npy").path])
        XCTAssertEqual(inspect.0, 0, inspect.2)
        XCTAssertTrue(inspect.1.contains("(3, 2, 16)") && inspect.1.contains("float32"), inspect.1)
        let eSha = try expected("eval3")["sha256"] as! [String: String]
        XCTAssertTrue(inspect.1.contains(eSha["text.npy"]!), inspect.1)
        XCTAssertEqual(try run(["inspect", missing]).0, 1)
    }
}
