import Foundation
import VLSAECore
import VLSAEData
import VLSAEFormats
import VLSAEJobs
import VLSAEReport
import VLSAETestSupport
import XCTest

/// The forms other tools write (Fortran-order .npy, CLIP_benchmark's --save_clf d × C classifier, class-name and
/// template text files, clip-retrieval .npy shards) each give the numbers of the plain form. Fixtures and the numpy
/// reference scores: `Fixtures/interop/make_interop_fixtures.py`.
final class InteropTests: XCTestCase {
    private let fixtures = FixtureFolder(bundle: .module).subfolder("interop")
    private let tool = ToolRecord(version: "0.1.0", gitCommit: "unknown")

    private func evaluate(_ manifest: String) throws -> ResultDocument {
        try EvalJob.run(
            EvalJob.Options(
                manifests: [fixtures.path(manifest)], bootstrapResamples: 1000, seed: 3,
                command: ["vlsae", "eval", "(test)"], tool: tool, progress: false))
    }

    private func expected(_ key: String) throws -> [String: Double] {
        let object = try JSONSerialization.jsonObject(with: fixtures.data("expected.json")) as! [String: Any]
        return object[key] as! [String: Double]
    }

    /// Metrics, intervals and counts equal; the plain form also matches numpy's CLIP_benchmark scores.
    private func assertSameNumbers(
        _ manifest: String, as plain: String, reference: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let a = try evaluate(plain).results[0]
        let b = try evaluate(manifest).results[0]
        XCTAssertEqual(b.metrics, a.metrics, manifest, file: file, line: line)
        XCTAssertEqual(b.intervals, a.intervals, manifest, file: file, line: line)
        XCTAssertEqual(b.nImages, a.nImages, manifest, file: file, line: line)
        let e = try expected(reference)
        XCTAssertEqual(a.metrics.acc1, e["acc1"]!, accuracy: 1e-12, file: file, line: line)
        XCTAssertEqual(try XCTUnwrap(a.metrics.acc5), e["acc5"]!, accuracy: 1e-12, file: file, line: line)
        XCTAssertEqual(
            a.metrics.meanPerClassRecall, e["mean_per_class_recall"]!, accuracy: 1e-12, file: file, line: line)
    }

    private func load(_ manifest: String) throws -> ZeroShotDataset {
        try ZeroShotDataset.load(manifestPath: fixtures.path(manifest))
    }

    /// Images, labels, class text and both lists equal after loading.
    private func assertSameContent(
        _ manifest: String, as plain: String, file: StaticString = #filePath, line: UInt = #line
    )
        throws
    {
        let a = try load(plain)
        let b = try load(manifest)
        XCTAssertEqual(b.images, a.images, manifest, file: file, line: line)
        XCTAssertEqual(b.labels, a.labels, manifest, file: file, line: line)
        XCTAssertEqual(b.classText, a.classText, manifest, file: file, line: line)
        XCTAssertEqual(b.classnames, a.classnames, manifest, file: file, line: line)
        XCTAssertEqual(b.templates, a.templates, manifest, file: file, line: line)
    }

    func testFortranOrderGivesTheSameArraysAndNumbers() throws {
        try assertSameContent("fortran.json", as: "plain.json")
        try assertSameNumbers("fortran.json", as: "plain.json", reference: "plain")
    }

    func testSaveClfClassifierIsReadDimFirstAndRecorded() throws {
        XCTAssertEqual(
            try load("save_clf.json").classifierLayout, .dimFirst, "a (d, C) tensor with d ≠ C is inferred dim-first")
        try assertSameContent("save_clf.json", as: "plain_classifier.json")
        XCTAssertEqual(try load("plain_classifier.json").classifierLayout, .classFirst)
        try assertSameNumbers("save_clf.json", as: "plain_classifier.json", reference: "plain")
        try assertSameNumbers("save_clf_declared.json", as: "plain_classifier.json", reference: "plain")
        XCTAssertEqual(try evaluate("save_clf.json").results[0].classifierLayout, "dim-first")
        XCTAssertEqual(try evaluate("plain_classifier.json").results[0].classifierLayout, "class-first")
        XCTAssertNil(try evaluate("plain.json").results[0].classifierLayout)
    }

    func testSquareClassifierNeedsItsLayout() throws {
        XCTAssertThrowsError(try load("square_undeclared.json")) { error in
            XCTAssertTrue("\(error)".contains("classifier_layout"), "\(error)")
            XCTAssertTrue("\(error)".contains("square_undeclared.json"), "\(error)")
        }
        let dimFirst = try evaluate("square_dim_first.json").results[0]
        let classFirst = try evaluate("square_class_first.json").results[0]
        try assertSameContent("square_dim_first.json", as: "square_class_first.json")
        XCTAssertEqual(dimFirst.metrics, classFirst.metrics)
        XCTAssertEqual(dimFirst.classifierLayout, "dim-first")
        XCTAssertEqual(classFirst.classifierLayout, "class-first")
    }

    func testTextFileListsGiveTheSameListsNumbersAndAreHashed() throws {
        let text = try load("text_files.json")
        try assertSameContent("text_files.json", as: "plain.json")
        try assertSameNumbers("text_files.json", as: "plain.json", reference: "plain")
        let row = try evaluate("text_files.json").results[0]
        XCTAssertEqual(row.classnamesSha256, try evaluate("plain.json").results[0].classnamesSha256)
        let roles = text.inputs.map { ($0.path as NSString).lastPathComponent + ":" + ($0.role ?? "") }
        XCTAssertTrue(roles.contains("classnames.txt:classnames"), "\(roles)")
        XCTAssertTrue(roles.contains("zeroshot_classification_templates.txt:templates"), "\(roles)")
        let digest = try XCTUnwrap(text.inputs.first { $0.role == "classnames" })
        XCTAssertEqual(digest.sha256, SHA256.hex(try fixtures.data("classnames.txt")))
    }

    func testTextListParsingFollowsClipBenchmark() throws {
        let data = Data(" cat \r\ndog\n\tbig fish\n".utf8)
        XCTAssertEqual(try TextList.parse(data, path: "x.txt"), ["cat", "dog", "big fish"])
        XCTAssertThrowsError(try TextList.parse(Data("a\n\nb\n".utf8), path: "x.txt")) {
            XCTAssertTrue("\($0)".contains("x.txt") && "\($0)".contains("line 2"), "\($0)")
        }
        XCTAssertThrowsError(try TextList.parse(Data([0xFF, 0xFE, 0x41]), path: "bad.txt"))
    }

    func testShardsInNumericOrderGiveTheSameNumbersAsOneFile() throws {
        for manifest in ["shards_glob.json", "shards_list.json"] {
            try assertSameContent(manifest, as: "plain16.json")
            XCTAssertEqual(try load(manifest).inputs.filter { $0.role == "image_embeddings" }.count, 12, manifest)
            try assertSameNumbers(manifest, as: "plain16.json", reference: "plain16")
        }
        let globbed = try load("shards_glob.json").inputs.filter { $0.role == "image_embeddings" }
        XCTAssertEqual(
            globbed.map { ($0.path as NSString).lastPathComponent }, (0..<12).map { "img_emb_\($0).npy" },
            "numeric order, not string order")
    }

    func testShardPatternsAndOrder() throws {
        XCTAssertTrue(TensorShards.numericOrder("img_emb_2.npy", "img_emb_10.npy"))
        XCTAssertFalse(TensorShards.numericOrder("img_emb_10.npy", "img_emb_2.npy"))
        XCTAssertTrue(TensorShards.numericOrder("a_002.npy", "a_10.npy"))
        XCTAssertTrue(TensorShards.isPattern("img_emb/img_emb_*.npy"))
        XCTAssertFalse(TensorShards.isPattern("img_emb/x.npy[3]"))
        XCTAssertThrowsError(try TensorShards.expand("img_emb/nothing_*.npy", relativeTo: fixtures.url.path)) {
            XCTAssertTrue("\($0)".contains("no file matches"), "\($0)")
        }
    }

    func testManifestAcceptsTheNewKeysAndStillRejectsUnknownOnes() throws {
        let dir = try temporaryFolder("interop-keys")
        var object = try JSONSerialization.jsonObject(with: fixtures.data("save_clf_declared.json")) as! [String: Any]
        object["classifier_layuot"] = "dim-first"
        let path = dir.url.appendingPathComponent("typo.json").path
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Manifest.read(path: path)) {
            XCTAssertTrue("\($0)".contains("classifier_layuot"), "\($0)")
        }
        object.removeValue(forKey: "classifier_layuot")
        object["provenance"] = ["exporter": "x", "modle": "y"]
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Manifest.read(path: path)) { XCTAssertTrue("\($0)".contains("modle"), "\($0)") }
    }
}
