import Foundation
import VLSAECore
import VLSAEReport
import VLSAETestSupport
import XCTest

final class SchemaTests: XCTestCase {
    private let digest = String(repeating: "ab", count: 32)

    private func interval(_ lo: Double, _ hi: Double) -> ConfidenceInterval {
        ConfidenceInterval(low: lo, high: hi, level: 0.95, resamples: 1000, seed: 7)
    }

    /// A document using every field, optional extension objects included.
    private func fullDocument() -> ResultDocument {
        let baseline = ResultRow(
            dataset: "cifar10", model: "ViT-B-32", pretrained: "laion2b_s34b_b79k",
            metrics: MetricValues(acc1: 0.9356, acc5: 0.998, meanPerClassRecall: 0.9355), method: "cosine",
            intervals: ["acc1": interval(0.93, 0.94)], perClassRecall: [0.9, nil, 1.0],
            nImages: 10000, nClasses: 10, nTemplates: 18, templateLevel: true,
            classnamesSha256: digest, templatesSha256: digest)
        var aligned = baseline
        aligned.method = "vlsae-hidden-cosine"
        aligned.perClassRecall = nil
        aligned.metrics = MetricValues(acc1: 0.5, acc5: nil, meanPerClassRecall: 0.5)
        aligned.variant = "representation=hidden,text=average-first,k=128,alpha=validated:0;0.5,folds=2"
        aligned.alignment = AlignmentRecord(
            score: "cosine+concept", representation: "hidden", text: "average-first", k: 128, trainedK: 256,
            alpha: nil, alphaProtocol: "validated", oracle: false, alphaGrid: [0, 0.5], selection: "kfold",
            folds: [
                FoldRecord(fold: 0, nImages: 5000, alpha: 0.5, selectionAcc1: 0.6, heldOutAcc1: 0.5),
                FoldRecord(fold: 1, nImages: 5000, alpha: 0, selectionAcc1: 0.55, heldOutAcc1: 0.5),
            ],
            foldSeed: 3, validation: FileDigest(path: "val.json", sha256: digest))
        aligned.checkpoint = CheckpointRecord(
            path: "ckpt.pth", sha256: digest, arch: "vlsae", inputDim: 512,
            hiddenDim: 4096, hiddenRatio: 8, k: 256)
        aligned.comparison = ComparisonRecord(
            baseline: "cosine", deltas: ["acc1": 0.0023], intervals: ["acc1": interval(-0.001, 0.005)],
            mcnemarP: 0.21, flips: FlipCounts(gained: 40, lost: 17),
            perClassRecallDelta: [0.1, nil, -0.2])
        return ResultDocument(
            tool: ToolRecord(version: "0.1.0", gitCommit: "unknown"), seeds: ["bootstrap": UInt64.max],
            inputs: [FileDigest(path: "a.npy", sha256: digest, role: "image_embeddings")],
            results: [baseline, aligned],
            provenance: RunProvenance(command: ["vlsae", "eval"], kernelPath: "portable", threads: 1))
    }

    private func errors(_ text: String) throws -> [String] {
        try SchemaLocations.loadValidator().validate(try JSON.parse(Data(text.utf8)))
    }

    func testFullDocumentIsValidAndRoundTrips() throws {
        let doc = fullDocument()
        let data = try doc.encoded()
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertEqual(try errors(text), [])
        XCTAssertTrue(text.contains("\"acc5\" : null"), "undefined acc5 is an explicit null")
        XCTAssertTrue(text.contains("18446744073709551615"), "64-bit seeds are written exactly")
        XCTAssertTrue(text.hasSuffix("}\n"))
        let path = try temporaryFolder("schema").path("r.json")
        try doc.write(to: path)
        XCTAssertEqual(try ResultDocument.read(from: path), doc)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), data)
    }

    func testEncodingIsCanonical() throws {
        let a = try fullDocument().encoded()
        let b = try fullDocument().encoded()
        XCTAssertEqual(a, b)
        // Keys sorted at every level: "inputs" before "provenance" before "results" before "schema_version".
        let text = String(decoding: a, as: UTF8.self)
        let order = ["\"inputs\"", "\"provenance\"", "\"results\"", "\"schema_version\"", "\"seeds\"", "\"tool\""]
        let positions = order.map { text.range(of: $0)!.lowerBound }
        XCTAssertEqual(positions, positions.sorted())
    }

    func testNonFiniteMetricIsRefusedNotWritten() {
        var doc = fullDocument()
        doc.results[0].metrics.acc1 = .nan
        XCTAssertThrowsError(try doc.encoded())
    }

    func testValidatorRejectsViolations() throws {
        let good = String(decoding: try fullDocument().encoded(), as: UTF8.self)
        func mutated(_ from: String, _ to: String) -> String {
            XCTAssertTrue(good.contains(from), "fixture lacks \(from)")
            return good.replacingOccurrences(of: from, with: to)
        }
        let cases: [(String, String)] = [
            (mutated("\"n_images\" : 10000,", ""), "missing required key n_images"),
            (mutated("\"acc1\" : 0.9356", "\"acc1\" : \"0.9\""), "expected type number"),
            (mutated("\"acc1\" : 0.9356", "\"acc1\" : 1.5"), "maximum"),
            (mutated("\"n_classes\" : 10", "\"n_classes\" : 1"), "minimum"),
            (mutated("\"n_images\" : 10000", "\"n_images\" : 10000.5"), "expected type integer"),
            (mutated("\"task\" : \"zeroshot_classification\"", "\"task\" : \"retrieval\""), "allowed values"),
            (mutated("\"schema_version\" : 2", "\"schema_version\" : 3"), "constant"),
            (mutated("\"kernel_path\" : \"portable\"", "\"kernel_path\" : \"sse9\""), "allowed values"),
            (mutated("\"numerics\" : \"deterministic\"", "\"numerics\" : \"fast\""), "allowed values"),
            (mutated("\"git_commit\" : \"unknown\"", "\"git_commit\" : \"HEAD\""), "does not match"),
            (mutated("\"template_level\" : true", "\"template_level\" : true, \"extra\" : 1"), "unexpected key extra"),
            (mutated("\"representation\" : \"hidden\"", "\"representation\" : \"both\""), "allowed values"),
            (mutated("\"template_level\" : true", "\"template_level\" : null"), "expected type boolean"),
        ]
        for (text, expected) in cases {
            let errs = try errors(text)
            XCTAssertTrue(
                errs.contains { $0.contains(expected) }, "expected an error containing \"\(expected)\", got \(errs)")
        }
        XCTAssertTrue(
            try errors(mutated("\"results\" : [", "\"results\" : [], \"x\" : [")).contains {
                $0.contains("fewer than 1")
            })
        XCTAssertThrowsError(try JSON.parse(Data(mutated("0.9356", "NaN").utf8)), "NaN is not JSON")
    }

    func testSchemaUsesOnlyKeywordsTheValidatorKnows() throws {
        // Validate the schema against itself-as-data would be circular; instead walk it and make
        // sure every object key in a schema position is supported (unsupported ones are reported).
        let v = try SchemaLocations.loadValidator()
        XCTAssertEqual(
            v.validate(try JSON.parse(try fullDocument().encoded())).filter { $0.contains("unsupported") }, [])
    }

    /// The real CLI's output on the committed evaluation fixtures validates against the schema.
    func testCLIOutputValidates() throws {
        let vlsae = try VLSAEExecutable.locate()
        let fixtures = SchemaLocations.repoRoot.appendingPathComponent("Tests/VLSAEEvalTests/Fixtures")
        let out = try temporaryFolder("cli").path("r.json")
        let r = try vlsae.run([
            "eval", "--data", fixtures.appendingPathComponent("eval7/manifest.json").path,
            fixtures.appendingPathComponent("eval3/manifest_classifier.json").path,
            "--out", out, "--per-class", "--seed", "5",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSON.parse(try Data(contentsOf: URL(fileURLWithPath: out)))
        XCTAssertEqual(try SchemaLocations.loadValidator().validate(json), [])
        guard case .array(let rows)? = json["results"] else { return XCTFail("no results") }
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(rows[1]["metrics"]?["acc5"], .null)
    }
}
