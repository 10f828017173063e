import Foundation
import VLSAECore
import VLSAEData
import VLSAEFormats
import VLSAETestSupport
import XCTest

final class ManifestTests: XCTestCase {
    // MARK: helpers

    private func floats(_ shape: [Int], _ f: (Int) -> Float = { Float($0 % 7) + 1 }) -> Tensor {
        Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map(f))
    }
    private func ints(_ v: [Int64]) -> Tensor { Tensor(shape: [v.count], dtype: .int64, storage: .integer(v)) }

    /// A valid dataset (N=4, C=3, T=2, d=5) with one part replaced.
    private func make(
        images: Tensor? = nil, labels: Tensor? = nil, classnames: [String] = ["a", "b", "c"],
        templates: [String] = ["{c}", "a {c}"], text: Tensor?? = nil, classifier: Tensor? = nil
    ) throws -> ZeroShotDataset {
        try ZeroShotDataset(
            name: "t", model: "m", pretrained: "p",
            images: images ?? floats([4, 5]), labels: labels ?? ints([0, 1, 2, 1]),
            classnames: classnames, templates: templates,
            textEmbeddings: text ?? (classifier == nil ? floats([3, 2, 5]) : nil), classifier: classifier,
            source: "m.json",
            addresses: [
                "image_embeddings": "img.npy", "labels": "lab.npy", "text_embeddings": "txt.npy",
                "classifier": "cls.npy",
            ])
    }

    private func message(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "(no error)"
        } catch { return "\(error)" }
    }

    private func assertFails(
        _ body: @autoclosure () throws -> Any, contains parts: [String],
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let m = message(body)
        for p in parts { XCTAssertTrue(m.contains(p), "message \"\(m)\" lacks \"\(p)\"", file: file, line: line) }
    }

    // MARK: validation rules

    func testValidDatasetShapes() throws {
        let ds = try make()
        XCTAssertEqual(ds.count, 4)
        XCTAssertEqual(ds.dimension, 5)
        XCTAssertEqual(ds.numClasses, 3)
        XCTAssertEqual(ds.numTemplates, 2)
        XCTAssertTrue(ds.templateLevel)
        XCTAssertEqual(ds.labels, [0, 1, 2, 1])
        guard case .perTemplate(let m) = ds.classText else { return XCTFail("expected per-template text") }
        XCTAssertEqual(m.rows, 6)
        XCTAssertFalse(try make(classifier: floats([3, 5])).templateLevel)
    }

    func testDimensionMismatchNamesManifestAndFile() {
        assertFails(
            try make(text: floats([3, 2, 4])),
            contains: ["m.json", "text_embeddings (txt.npy)", "(3, 2, 5)", "(3, 2, 4)"])
        assertFails(
            try make(classifier: floats([3, 6])), contains: ["m.json", "classifier (cls.npy)", "(3, 5)", "(3, 6)"])
    }

    func testTextEmbeddingCountsMustMatchClassnamesAndTemplates() {
        assertFails(try make(text: floats([4, 2, 5])), contains: ["text_embeddings", "3 classnames", "2 templates"])
        assertFails(try make(templates: ["{c}"]), contains: ["text_embeddings", "(3, 1, 5)", "(3, 2, 5)"])
        assertFails(try make(text: floats([6, 5])), contains: ["text_embeddings", "(6, 5)"])
        assertFails(try make(classifier: floats([2, 5])), contains: ["classifier", "(2, 5)"])
    }

    func testLabelsOutOfRangeNameFirstBadIndex() {
        assertFails(
            try make(labels: ints([0, 3, 1, 5])),
            contains: ["m.json", "labels (lab.npy)", "label 3 at index 1", "[0, 3)"])
        assertFails(try make(labels: ints([0, 1, -1, 2])), contains: ["label -1 at index 2"])
    }

    func testLabelCountMustMatchImages() {
        assertFails(try make(labels: ints([0, 1, 2])), contains: ["labels (lab.npy)", "3 labels", "4 rows"])
    }

    func testNonIntegerLabelsRejected() {
        assertFails(
            try make(labels: Tensor(shape: [4], floats: [0, 1, 1.5, 2])), contains: ["labels (lab.npy)", "element 2"])
    }

    func testAtLeastOneImageAndTwoClasses() {
        assertFails(
            try make(images: floats([0, 5]), labels: ints([])), contains: ["image_embeddings (img.npy)", "N = 0"])
        assertFails(
            try make(labels: ints([0, 0, 0, 0]), classnames: ["a"], text: floats([1, 2, 5])),
            contains: ["at least 2 classes", "found 1"])
        assertFails(try make(templates: []), contains: ["at least 1 template"])
    }

    func testNonFiniteValuesNameRowAndFile() {
        assertFails(
            try make(images: floats([4, 5]) { $0 == 13 ? .nan : 1 }),
            contains: ["m.json", "image_embeddings (img.npy)", "row 2", "NaN"])
        assertFails(
            try make(text: floats([3, 2, 5]) { $0 == 17 ? .infinity : 1 }),
            contains: ["text_embeddings (txt.npy)", "class 1, template 1"])
        assertFails(
            try make(classifier: floats([3, 5]) { $0 == 14 ? -.infinity : 1 }),
            contains: ["classifier (cls.npy)", "row 2"])
    }

    func testImagesMustBeTwoDimensionalFloats() {
        assertFails(try make(images: floats([4, 5, 1])), contains: ["image_embeddings (img.npy)", "2-D"])
        assertFails(
            try make(images: Tensor(shape: [4, 5], dtype: .int64, storage: .integer(Array(repeating: 1, count: 20)))),
            contains: ["image_embeddings", "floating-point"])
    }

    func testExactlyOneOfTextEmbeddingsOrClassifier() {
        assertFails(
            try make(text: .some(floats([3, 2, 5])), classifier: floats([3, 5])), contains: ["m.json", "both"])
        assertFails(try make(text: .some(nil)), contains: ["m.json", "text_embeddings", "classifier"])
    }

    // MARK: list hashes

    func testListHashIsSHA256OfLinesWithNewlines() {
        // Reference digests from `printf 'a\nb\n' | sha256sum` etc.
        XCTAssertEqual(
            Catalog.listSHA256(["a", "b"]), "911169ddaaf146aff539f58c26c489af3b892dff0fe283c1c264c65ae5aa59a2")
        XCTAssertEqual(Catalog.listSHA256(["café"]), "7b49b9e063bd91a4f9252b413261f5557b9c570aa61516989499f64a62dbcdd6")
        XCTAssertEqual(Catalog.listSHA256([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertNotEqual(Catalog.listSHA256(["ab"]), Catalog.listSHA256(["a", "b"]))
    }

    // MARK: manifest files

    private func write(_ json: String, in dir: URL, name: String = "m.json") throws -> String {
        let p = dir.appendingPathComponent(name).path
        try json.write(toFile: p, atomically: false, encoding: .utf8)
        return p
    }

    private let base = """
        "name": "x", "model": "m", "pretrained": "p", "image_embeddings": "img.npy", "labels": "lab.npy",
        "classnames": ["a", "b"], "templates": ["{c}"]
        """

    func testManifestDecodesInlineAndCatalogLists() throws {
        let dir = try temporaryFolder("manifest").url
        let p = try write("{\(base), \"text_embeddings\": \"t.npz:arr_0\"}", in: dir)
        let m = try Manifest.load(path: p)
        XCTAssertEqual(m.classnames, .inline(["a", "b"]))
        XCTAssertEqual(m.textEmbeddings, "t.npz:arr_0")
        XCTAssertNil(m.classifier)
        let q = try write(
            """
            {"name": "x", "model": "m", "pretrained": "p", "image_embeddings": "i.npy", "labels": "l.npy",
             "classnames": "cifar10", "templates": "cifar10", "classifier": "c.npy"}
            """, in: dir, name: "q.json")
        let mq = try Manifest.load(path: q)
        XCTAssertEqual(mq.classnames, .catalog("cifar10"))
        XCTAssertEqual(mq.templates, .catalog("cifar10"))
    }

    func testManifestStructuralErrorsNameTheFile() throws {
        let dir = try temporaryFolder("manifest").url
        let neither = try write("{\(base)}", in: dir, name: "neither.json")
        assertFails(try Manifest.load(path: neither), contains: ["neither.json", "text_embeddings", "classifier"])
        let both = try write(
            "{\(base), \"text_embeddings\": \"t.npy\", \"classifier\": \"c.npy\"}", in: dir, name: "both.json")
        assertFails(try Manifest.load(path: both), contains: ["both.json", "both"])
        let typo = try write("{\(base), \"text_embedding\": \"t.npy\"}", in: dir, name: "typo.json")
        assertFails(try Manifest.load(path: typo), contains: ["typo.json", "unknown key", "text_embedding"])
        let missing = try write("{\"name\": \"x\"}", in: dir, name: "missing.json")
        assertFails(try Manifest.load(path: missing), contains: ["missing.json", "model"])
        let badList = try write(
            "{\(base.replacingOccurrences(of: "[\"a\", \"b\"]", with: "[1, 2]")), \"classifier\": \"c.npy\"}",
            in: dir, name: "badlist.json")
        assertFails(try Manifest.load(path: badList), contains: ["badlist.json"])
        assertFails(
            try Manifest.load(path: dir.appendingPathComponent("absent.json").path),
            contains: ["absent.json", "no such file"])
    }

    func testMissingArrayFileNamesManifestAndArrayFile() throws {
        let dir = try temporaryFolder("manifest").url
        let p = try write("{\(base), \"classifier\": \"c.npy\"}", in: dir)
        let m = message { try ZeroShotDataset.load(manifestPath: p) }
        XCTAssertTrue(
            m.contains(p) && m.contains("image_embeddings (img.npy)") && m.contains("img.npy: no such file"), m)
    }

    func testUnknownCatalogEntryNamesManifest() throws {
        let dir = try temporaryFolder("manifest").url
        let p = try write(
            """
            {"name": "x", "model": "m", "pretrained": "p", "image_embeddings": "i.npy", "labels": "l.npy",
             "classnames": "no-such-dataset", "templates": ["{c}"], "classifier": "c.npy"}
            """, in: dir)
        let m = message { try ZeroShotDataset.load(manifestPath: p) }
        XCTAssertTrue(m.contains(p) && m.contains("classnames") && m.contains("no-such-dataset"), m)
    }

    func testCatalogNamedListsResolveAndAreHashed() throws {
        let dir = try temporaryFolder("manifest").url
        let entry = try Catalog.entry(named: "cifar10")
        let c = entry.classnames.count
        try NpyFormat.write(floats([4, 3]), to: dir.appendingPathComponent("i.npy").path)
        try NpyFormat.write(ints([0, 9, 3, 3]), to: dir.appendingPathComponent("l.npy").path)
        try NpyFormat.write(floats([c, 3]), to: dir.appendingPathComponent("c.npy").path)
        let p = try write(
            """
            {"name": "x", "model": "m", "pretrained": "p", "image_embeddings": "i.npy", "labels": "l.npy",
             "classnames": "cifar10", "templates": "cifar10", "classifier": "c.npy"}
            """, in: dir)
        let ds = try ZeroShotDataset.load(manifestPath: p)
        XCTAssertEqual(ds.classnames, entry.classnames)
        XCTAssertEqual(ds.templates, entry.templates)
        XCTAssertEqual(ds.numClasses, 10)
        XCTAssertEqual(ds.classnamesSHA256, entry.classnamesSHA256)
        XCTAssertEqual(ds.templatesSHA256, entry.templatesSHA256)
        // The same lists given inline hash identically.
        XCTAssertEqual(ds.classnamesSHA256, Catalog.listSHA256(Array(entry.classnames)))
    }

    /// The committed fixtures (written by Tests/VLSAEEvalTests/Fixtures/make_eval_fixtures.py).
    private var fixtures: URL { FixtureFolder.repository("Tests/VLSAEEvalTests/Fixtures").url }

    func testLoadRecordsInputsWithDigestsAndRelativePaths() throws {
        let manifest = fixtures.appendingPathComponent("eval7/manifest.json").path
        let expected =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: fixtures.appendingPathComponent("eval7/expected.json"))) as! [String: Any]
        let digests = expected["sha256"] as! [String: String]
        let ds = try ZeroShotDataset.load(manifestPath: manifest)
        XCTAssertEqual(ds.inputs.map(\.role), ["manifest", "image_embeddings", "labels", "text_embeddings"])
        let folder = fixtures.appendingPathComponent("eval7").path
        XCTAssertEqual(
            ds.inputs.map(\.path), [manifest, folder + "/images.npy", folder + "/labels.npy", folder + "/text.npy"])
        for f in ds.inputs {
            XCTAssertEqual(f.sha256, digests[(f.path as NSString).lastPathComponent], f.path)
        }
        XCTAssertEqual(ds.classnamesSHA256, expected["classnames_sha256"] as? String)
        XCTAssertEqual(ds.templatesSHA256, expected["templates_sha256"] as? String)
        XCTAssertEqual(ds.count, 60)
        XCTAssertEqual(ds.numClasses, 7)
        XCTAssertEqual(ds.numTemplates, 3)
    }

    func testRelativeManifestPathGivesRelativeInputPaths() throws {
        let cwd = FileManager.default.currentDirectoryPath
        defer { _ = FileManager.default.changeCurrentDirectoryPath(cwd) }
        _ = FileManager.default.changeCurrentDirectoryPath(fixtures.path)
        let ds = try ZeroShotDataset.load(manifestPath: "eval3/manifest_classifier.json")
        XCTAssertEqual(
            ds.inputs.map(\.path),
            ["eval3/manifest_classifier.json", "eval3/images.npy", "eval3/labels.npy", "eval3/classifier.npy"])
        XCTAssertFalse(ds.templateLevel)
    }
}

/// Hostile manifests (issue 14): duplicate keys and deep nesting are refused before decoding.
final class ManifestHostileInputTests: XCTestCase {
    func testDuplicateKeysAndDeepNestingAreRefused() throws {
        let folder = try temporaryFolder("manifest-hostile")
        let base = """
            "name": "a", "model": "m", "pretrained": "p", "image_embeddings": "i.npy", "labels": "l.npy",
            "classnames": ["x", "y"], "templates": ["{c}"], "text_embeddings": "t.npy"
            """
        let path = folder.path("m.json")
        try "{\(base)}".write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertEqual(try Manifest.load(path: path).name, "a")
        // Python's json keeps the second name, Foundation one of them: which dataset this is must not be a guess.
        try "{\(base), \"name\": \"b\"}".write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try Manifest.load(path: path)) {
            XCTAssertTrue("\($0)".hasPrefix("\(path): duplicate key \"name\""), "\($0)")
        }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        try "{\(base), \"classnames\": \(deep)}".replacingOccurrences(of: "\"classnames\": [\"x\", \"y\"], ", with: "")
            .write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try Manifest.load(path: path)) {
            XCTAssertTrue("\($0)".hasPrefix("\(path): JSON nested deeper than 64 levels"), "\($0)")
        }
    }
}
