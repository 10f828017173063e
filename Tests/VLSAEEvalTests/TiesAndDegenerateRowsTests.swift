import VLSAECore
import VLSAEData
import VLSAEEval
import VLSAEFormats
import XCTest

/// Ties between classes go to the lowest class index, never to the label, in every row (baseline,
/// cosine+concept, concept-only) and at top-1 and top-5; degenerate rows (zero, subnormal norm,
/// non-finite) are refused or, on request, counted wrong. Every input is built here by hand, so
/// each expected rank follows from the rule alone.
final class TiesAndDegenerateRowsTests: XCTestCase {
    /// f(x) = x on both sides (hidden and reconstruction), or zero everywhere (a zeroed autoencoder).
    struct IdentityMap: ConceptMap {
        var inputDim: Int
        var trainedK: Int { 1 }
        var zero = false
        func hidden(_ x: Matrix, side: ConceptSide, k: Int) -> Matrix {
            zero ? Matrix(rows: x.rows, cols: x.cols) : x
        }
        func reconstruction(_ x: Matrix, side: ConceptSide, k: Int) -> Matrix { hidden(x, side: side, k: k) }
    }

    /// A dataset of `images` (rows) against `classes` (one template per class).
    static func dataset(images: [[Float]], labels: [Int], classes: [[Float]]) throws -> ZeroShotDataset {
        let d = images[0].count
        return try ZeroShotDataset(
            name: "ties", model: "m", pretrained: "p",
            images: Tensor(shape: [images.count, d], floats: images.flatMap { $0 }),
            labels: Tensor(shape: [labels.count], dtype: .int64, storage: .integer(labels.map { Int64($0) })),
            classnames: classes.indices.map { "c\($0)" }, templates: ["a photo of a {c}."],
            textEmbeddings: Tensor(shape: [classes.count, 1, d], floats: classes.flatMap { $0 }), classifier: nil,
            inputs: [
                FileDigest(
                    path: "img.npy", sha256: String(repeating: "0", count: 64), size: 0, role: "image_embeddings"),
                FileDigest(
                    path: "text.npy", sha256: String(repeating: "0", count: 64), size: 0, role: "text_embeddings"),
            ])
    }

    func testTopFiveTiesGoToTheLowerClasses() {
        // Six classes tie at the top; the true class is the 5th, 6th or 1st of them.
        let row: [Float] = [3, 3, 3, 3, 3, 3, 1]
        let labels = [4, 5, 0, 6]
        let p = ZeroShot.predict(count: 4, labels: labels, numClasses: 7) { range, out in
            for (r, _) in range.enumerated() { for c in 0..<7 { out[r * 7 + c] = row[c] } }
        }
        XCTAssertEqual(p.trueRank, [4, 5, 0, 6])
        XCTAssertEqual(p.correct(topK: 5), [true, false, true, false])
        XCTAssertEqual(p.correct(topK: 1), [false, false, true, false])
        XCTAssertEqual(p.top1, [0, 0, 0, 0])
        XCTAssertEqual(Metrics.compute(p).acc5, 0.5)
    }

    /// Classes 0–5 share one vector, class 6 another; every image equals the shared vector, so the
    /// baseline, every cosine+concept row and the concept-only row tie classes 0–5 exactly.
    func testTiesInEveryRowOfAnAlignedEvaluation() throws {
        let shared: [Float] = [1, 0, 0, 0]
        let classes = Array(repeating: shared, count: 6) + [[0, 1, 0, 0]]
        let labels = [0, 1, 4, 5, 3]
        let ds = try Self.dataset(
            images: Array(repeating: shared, count: labels.count), labels: labels, classes: classes)
        let expected = [0, 1, 4, 5, 3]
        let base = ZeroShot.predict(images: ds.images, labels: ds.labels, classifier: ZeroShotClassifier(dataset: ds))
        XCTAssertEqual(base.trueRank, expected, "baseline")
        XCTAssertEqual(base.correct(topK: 5), [true, true, true, false, true], "baseline top-5")
        XCTAssertEqual(base.top1, [0, 0, 0, 0, 0])
        for representation in [ConceptRepresentation.hidden, .reconstruction] {
            let scorer = try ConceptScorer(
                dataset: ds, map: IdentityMap(inputDim: 4), representation: representation, text: .averageFirst, k: nil)
            let s = try scorer.score(alphas: [0, 0.5, 2])
            for (a, p) in s.combined.enumerated() {
                XCTAssertEqual(p.trueRank, expected, "cosine+concept α index \(a), \(representation)")
                XCTAssertEqual(p.top1, [0, 0, 0, 0, 0])
            }
            XCTAssertEqual(s.conceptOnly.trueRank, expected, "concept-only, \(representation)")
            XCTAssertEqual(s.conceptOnly.correct(topK: 1), [true, false, false, false, false])
        }
    }

    func testDegenerateRowDetection() {
        let tiny = Float.leastNormalMagnitude / 4  // a subnormal: its row's norm is below the normal range
        let m = Matrix([[1, 0], [0, 0], [tiny, 0], [.nan, 1], [1e-30, 0], [.infinity, 0], [-1, 1]])
        XCTAssertEqual(DegenerateRows.find(in: m), [1, 2, 3, 5], "1e-30 is small but normal: its cosine is defined")
        XCTAssertEqual(
            DegenerateRows.describe(Array(0..<8), of: 20), "rows 0, 1, 2, 3, 4 and 3 more (of 20)")
    }

    func testZeroAndSubnormalImagesAreAnErrorNamingTheRows() throws {
        let tiny = Float.leastNormalMagnitude / 2
        let images: [[Float]] = [[1, 0], [0, 0], [0, 1], [tiny, tiny], [1, 1]]
        let ds = try Self.dataset(images: images, labels: [0, 0, 1, 1, 0], classes: [[1, 0], [0, 1]])
        let clf = ZeroShotClassifier(dataset: ds)
        XCTAssertThrowsError(try DegenerateRows.check(ds, classifier: clf, policy: .error)) { error in
            guard case VLSAEError.file(let path, let message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "img.npy")
            XCTAssertTrue(message.contains("rows 1, 3 (of 5)"), message)
            XCTAssertTrue(message.contains("--degenerate count-wrong"), message)
        }
        let wrong = try DegenerateRows.check(ds, classifier: clf, policy: .countWrong)
        XCTAssertEqual(wrong, [1, 3])
        let p = ZeroShot.predict(images: ds.images, labels: ds.labels, classifier: clf).countingWrong(images: wrong)
        // Without the rule, the zero row 1 (label 0) would tie at 0 and count as correct.
        XCTAssertEqual(p.correct(topK: 1), [true, false, true, false, true])
        XCTAssertEqual(p.trueRank[1], 2)
        XCTAssertEqual(p.countedWrong, 2)
        XCTAssertNotEqual(p.top1[1], 0, "a row counted wrong does not predict its label")
    }

    func testAllZeroImagesNoLongerScorePerfectly() throws {
        let ds = try Self.dataset(
            images: Array(repeating: [0, 0], count: 4), labels: [0, 1, 1, 1], classes: [[1, 0], [0, 1]])
        let clf = ZeroShotClassifier(dataset: ds)
        XCTAssertThrowsError(try DegenerateRows.check(ds, classifier: clf, policy: .error))
        // Even unchecked, ties no longer favour the label: only the class-0 image is "right".
        let raw = ZeroShot.predict(images: ds.images, labels: ds.labels, classifier: clf)
        XCTAssertEqual(Metrics.compute(raw).acc1, 0.25)
        let counted = raw.countingWrong(images: try DegenerateRows.check(ds, classifier: clf, policy: .countWrong))
        XCTAssertEqual(Metrics.compute(counted).acc1, 0)
    }

    func testZeroClassifierRowIsAnErrorOrCountsItsImagesWrong() throws {
        let ds = try Self.dataset(
            images: [[1, 0], [0, 1], [1, 1]], labels: [0, 1, 1], classes: [[1, 0], [0, 0]])
        let clf = ZeroShotClassifier(dataset: ds)
        XCTAssertThrowsError(try DegenerateRows.check(ds, classifier: clf, policy: .error)) { error in
            guard case VLSAEError.file(let path, let message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "text.npy")
            XCTAssertTrue(message.contains("text embedding row 1 (of 2)"), message)
        }
        XCTAssertEqual(try DegenerateRows.check(ds, classifier: clf, policy: .countWrong), [1, 2])
    }

    func testZeroedAutoencoderConceptCodesAreAnError() throws {
        let ds = try Self.dataset(images: [[1, 0], [0, 1]], labels: [0, 1], classes: [[1, 0], [0, 1]])
        let zero = IdentityMap(inputDim: 2, zero: true)
        XCTAssertThrowsError(
            try ConceptScorer(dataset: ds, map: zero, representation: .hidden, text: .averageFirst, k: nil)
        ) { error in
            XCTAssertTrue("\(error)".contains("concept codes f(t_c) of classes 0, 1 (of 2)"), "\(error)")
        }
        // Counted wrong instead: every image, in the combined and the concept-only rows.
        let scorer = try ConceptScorer(
            dataset: ds, map: zero, representation: .hidden, text: .averageFirst, k: nil, degenerate: .countWrong)
        let s = try scorer.score(alphas: [1])
        XCTAssertEqual(
            Metrics.compute(s.conceptOnly).acc1, 0, "a zeroed checkpoint's concept-only row scored 1.0 before")
        XCTAssertEqual(Metrics.compute(s.combined[0]).acc1, 0)
    }

    func testZeroImageConceptCodeIsAnErrorNamingTheImage() throws {
        // f zeroes exactly the rows whose first coordinate is 2 (images only: class codes stay fine).
        struct Partial: ConceptMap {
            var inputDim: Int { 2 }
            var trainedK: Int { 1 }
            func hidden(_ x: Matrix, side: ConceptSide, k: Int) -> Matrix {
                var out = x
                for r in 0..<x.rows where side == .image && x[r, 0] == 2 { out.values[r * 2] = 0 }
                return out
            }
            func reconstruction(_ x: Matrix, side: ConceptSide, k: Int) -> Matrix { hidden(x, side: side, k: k) }
        }
        let ds = try Self.dataset(
            images: [[1, 0], [2, 0], [0, 1]], labels: [0, 0, 1], classes: [[1, 0], [0, 1]])
        let scorer = try ConceptScorer(
            dataset: ds, map: Partial(), representation: .hidden, text: .averageFirst, k: nil)
        XCTAssertThrowsError(try scorer.score(alphas: [1])) { error in
            XCTAssertTrue("\(error)".contains("f(v) of image row 1 (of 3)"), "\(error)")
        }
        let counting = try ConceptScorer(
            dataset: ds, map: Partial(), representation: .hidden, text: .averageFirst, k: nil, degenerate: .countWrong)
        XCTAssertEqual(try counting.score(alphas: [1]).conceptOnly.correct(topK: 1), [true, false, true])
    }
}
