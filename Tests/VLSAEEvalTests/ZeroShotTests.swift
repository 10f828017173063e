import Foundation
import VLSAECore
import VLSAEData
import VLSAEEval
import VLSAETestSupport
import XCTest

/// Expected values from Fixtures/make_eval_fixtures.py (numpy float64 + sklearn).
struct ExpectedMetrics: Decodable {
    let acc1: Double
    let acc5: Double?
    let mean_per_class_recall: Double
    let per_class_recall: [Double?]
    let n_images: Int
    let n_classes: Int
    let n_templates: Int
    let top1: [Int]
    let classnames_sha256: String
    let templates_sha256: String
}

enum EvalFixtures {
    /// This target's bundled `Fixtures` folder (written by Fixtures/make_eval_fixtures.py).
    static let folder = FixtureFolder(bundle: .module)
    static func manifest(_ set: String, classifier: Bool = false) -> String {
        folder.path("\(set)/\(classifier ? "manifest_classifier" : "manifest").json")
    }
    static func expected(_ set: String) throws -> ExpectedMetrics {
        try folder.decode(ExpectedMetrics.self, from: "\(set)/expected.json")
    }
}

final class ZeroShotTests: XCTestCase {
    /// Tolerance for metrics: exact counts divided by N, so only double rounding differs.
    let tol = 1e-6

    private func check(_ set: String, classifier: Bool) throws {
        let e = try EvalFixtures.expected(set)
        let ds = try ZeroShotDataset.load(manifestPath: EvalFixtures.manifest(set, classifier: classifier))
        XCTAssertEqual(ds.templateLevel, !classifier)
        let p = ZeroShot.predict(images: ds.images, labels: ds.labels, classifier: ZeroShotClassifier(dataset: ds))
        XCTAssertEqual(p.top1, e.top1, "\(set) top-1 predictions")
        let m = Metrics.compute(p)
        XCTAssertEqual(m.acc1, e.acc1, accuracy: tol, set)
        if let a5 = e.acc5 {
            XCTAssertEqual(try XCTUnwrap(m.acc5), a5, accuracy: tol, set)
        } else {
            XCTAssertNil(m.acc5, set)
        }
        XCTAssertEqual(m.meanPerClassRecall, e.mean_per_class_recall, accuracy: tol, set)
        XCTAssertEqual(m.perClassRecall.count, e.per_class_recall.count)
        for (got, want) in zip(m.perClassRecall, e.per_class_recall) {
            if let want { XCTAssertEqual(try XCTUnwrap(got), want, accuracy: tol, set) } else { XCTAssertNil(got, set) }
        }
        XCTAssertEqual(m.nImages, e.n_images)
        XCTAssertEqual(m.nClasses, e.n_classes)
        XCTAssertEqual(ds.numTemplates, e.n_templates)
    }

    func testSevenClassFixtureMatchesNumpyAndSklearn() throws {
        try check("eval7", classifier: false)
        try check("eval7", classifier: true)
        // The fixture has an absent class and unequal class sizes, so these metrics must differ.
        let e = try EvalFixtures.expected("eval7")
        XCTAssertNil(e.per_class_recall[6])
        XCTAssertNotEqual(e.acc1, e.mean_per_class_recall, accuracy: 0.01)
    }

    func testThreeClassFixtureHasNoAcc5() throws {
        try check("eval3", classifier: false)
        try check("eval3", classifier: true)
    }

    func testTemplateAveragingNormalisesBeforeAndAfter() {
        // Class 0: templates (3, 4) and (0, 2) → unit (0.6, 0.8), (0, 1) → mean (0.3, 0.9) → /√0.9.
        // Class 1: (−5, 0) and (0, −0.5) → (−1, 0), (0, −1) → (−0.5, −0.5) → (−1/√2, −1/√2).
        let e = Matrix([[3, 4], [0, 2], [-5, 0], [0, -0.5]])
        let c = ZeroShotClassifier(templateEmbeddings: e, classes: 2, templates: 2)
        let n0 = Float((0.9 as Double).squareRoot())
        XCTAssertEqual(c.weights[0, 0], 0.3 / n0, accuracy: 1e-6)
        XCTAssertEqual(c.weights[0, 1], 0.9 / n0, accuracy: 1e-6)
        XCTAssertEqual(c.weights[1, 0], -Float(0.5).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(c.weights[1, 1], -Float(0.5).squareRoot(), accuracy: 1e-6)
        // Averaging raw (unnormalised) vectors would give (−2.5, −0.25) for class 1: a different direction.
        let raw = ZeroShotClassifier(classVectors: Matrix([[1.5, 3], [-2.5, -0.25]]))
        XCTAssertGreaterThan(abs(raw.weights[1, 0] - c.weights[1, 0]), 0.1)
    }

    func testLogitsAreScaledCosines() {
        // Image (2, 0) against unit classes (1, 0) and (0.6, 0.8): logits 100 and 60 → ranks by cosine.
        let clf = ZeroShotClassifier(classVectors: Matrix([[1, 0], [3, 4], [0, -1]]))
        let p = ZeroShot.predict(images: Matrix([[2, 0], [0.1, 0.3], [0, -7]]), labels: [1, 1, 1], classifier: clf)
        XCTAssertEqual(p.trueRank, [1, 0, 2])
        XCTAssertEqual(p.top1, [0, 1, 2])
    }

    func testTiesAreBrokenByClassIndexNeverByTheLabel() {
        // Hand-made logits: rows 0 and 1 tie classes 0 and 1 at the top; row 3 ties everything.
        let table: [[Float]] = [[5, 5, 1], [5, 5, 1], [2, 9, 9], [1, 1, 1]]
        let labels = [1, 0, 0, 2]
        let p = ZeroShot.predict(count: 4, labels: labels, numClasses: 3, blockRows: 3) { range, out in
            for (r, i) in range.enumerated() { for c in 0..<3 { out[r * 3 + c] = table[i][c] } }
        }
        XCTAssertEqual(p.trueRank, [1, 0, 2, 2])
        XCTAssertEqual(p.top1, [0, 0, 1, 0], "top-1 is the lowest-indexed maximum, whatever the label")
        XCTAssertEqual(p.correct(topK: 1), [false, true, false, false])
        XCTAssertEqual(p.correct(topK: 2), [true, true, false, false])
        XCTAssertEqual(p.correct(topK: 3), [true, true, true, true])
    }

    func testBlockSizeDoesNotChangeResults() throws {
        let ds = try ZeroShotDataset.load(manifestPath: EvalFixtures.manifest("eval7"))
        let clf = ZeroShotClassifier(dataset: ds)
        let whole = ZeroShot.predict(images: ds.images, labels: ds.labels, classifier: clf, blockRows: 1000)
        for b in [1, 7, 59, 60] {
            XCTAssertEqual(
                ZeroShot.predict(images: ds.images, labels: ds.labels, classifier: clf, blockRows: b), whole,
                "block \(b)")
        }
    }

    /// Real CLIP embeddings: 500 COCO images against their 500 captions as classes.
    func testCoco500RetrievalAsZeroShot() throws {
        let features = try SharedData.coco500Features()
        let dir = try temporaryFolder("coco")
        let manifest: [String: Any] = [
            "name": "coco500", "model": "openai-clip", "pretrained": "openai",
            "image_embeddings": features + "[0]", "classifier": features + "[1]",
            "labels": EvalFixtures.folder.path("coco500_labels.npy"),
            "classnames": (0..<500).map { "caption \($0)" }, "templates": ["{c}"],
        ]
        let path = dir.path("coco500.json")
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: path))
        let ds = try ZeroShotDataset.load(manifestPath: path)
        let p = ZeroShot.predict(images: ds.images, labels: ds.labels, classifier: ZeroShotClassifier(dataset: ds))
        let m = Metrics.compute(p)
        // 276 of 500 (coco500-clip README: image→caption R@1 = 0.552).
        XCTAssertEqual(m.acc1, 0.552, accuracy: 1e-9)
        XCTAssertEqual(m.meanPerClassRecall, 0.552, accuracy: 1e-9, "one image per class")
    }
}
