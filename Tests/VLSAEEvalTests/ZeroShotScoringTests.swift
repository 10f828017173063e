import VLSAECore
import VLSAEEval
import XCTest

/// The parallel, vectorised scoring path against a plain sequential reference written out here:
/// logits from one whole-matrix product, then a scalar scan per row. Ranks and top-1 must be
/// equal exactly (no tolerance): the fast path only reorganises work, never the arithmetic.
final class ZeroShotScoringTests: XCTestCase {
    /// The definition: rank = #classes with a strictly greater logit; top-1 = true class at rank 0,
    /// else the first index reached by a sequential strict `>` scan from class 0.
    static func reference(logits: [Float], rows: Int, classes c: Int, labels: [Int]) -> (ranks: [Int], top1: [Int]) {
        var ranks: [Int] = [], top1: [Int] = []
        for i in 0..<rows {
            let row = Array(logits[(i * c)..<((i + 1) * c)])
            let truth = row[labels[i]]
            var greater = 0, best = 0, bestValue = row[0]
            for k in 0..<c {
                if row[k] > truth { greater += 1 }
                if row[k] > bestValue { bestValue = row[k]; best = k }
            }
            ranks.append(greater)
            top1.append(greater == 0 ? labels[i] : best)
        }
        return (ranks, top1)
    }

    func testParallelBlocksMatchSequentialReference() {
        var rng = SeededRandom(seed: 7)
        let n = 613, d = 24, c = 45
        var images = Matrix(rows: n, cols: d), classes = Matrix(rows: c, cols: d)
        for j in 0..<(n * d) { images.values[j] = Float(rng.nextGaussian()) }
        for j in 0..<(c * d) { classes.values[j] = Float(rng.nextGaussian()) }
        // Duplicate class vectors tie exactly; a zero image ties every class at 0; a repeated image
        // row must get repeated results.
        for j in 0..<d { classes.values[30 * d + j] = classes.values[3 * d + j] }
        for j in 0..<d { images.values[5 * d + j] = 0; images.values[9 * d + j] = images.values[8 * d + j] }
        let labels = (0..<n).map { i in i % 4 == 0 ? 30 : rng.nextInt(below: c) }
        let clf = ZeroShotClassifier(classVectors: classes)
        let logits = BLAS.matmul(images.normalizedRows(), clf.weights, transB: true, alpha: ZeroShot.logitScale)
        let ref = Self.reference(logits: logits.values, rows: n, classes: c, labels: labels)
        XCTAssertEqual(ref.ranks[5], 0, "a zero image ties everything, so its true class ranks first")
        XCTAssertTrue(ref.top1.contains(3) || ref.top1.contains(30), "the duplicated class wins somewhere")
        let saved = BLAS.threads
        defer { BLAS.setThreads(saved) }
        for threads in [1, 2, 3] {
            BLAS.setThreads(threads)
            for block in [1, 50, 64, 1024] {
                let p = ZeroShot.predict(images: images, labels: labels, classifier: clf, blockRows: block)
                XCTAssertEqual(p.trueRank, ref.ranks, "threads \(threads), block \(block)")
                XCTAssertEqual(p.top1, ref.top1, "threads \(threads), block \(block)")
            }
        }
    }

    /// Rows long enough for the vector maximum and its tail, with ties, signed zeros, infinities and NaN.
    func testRankingKernelMatchesReferenceOnAwkwardLogits() {
        var rng = SeededRandom(seed: 11)
        let rows = 300
        for c in [1, 2, 16, 17, 33, 40] {
            var logits = [Float](repeating: 0, count: rows * c)
            let specials: [Float] = [0, -0.0, .nan, .infinity, -.infinity, 1, -1]
            for j in 0..<logits.count {
                let u = rng.nextInt(below: 10)
                logits[j] = u < 3 ? specials[rng.nextInt(below: specials.count)] : Float(rng.nextInt(below: 5))
            }
            // Rows that start with NaN, and rows whose only maximum is the last class.
            for j in 0..<c { logits[j] = j == 0 ? .nan : 1 }
            if c > 1 { for j in 0..<c { logits[c + j] = j == c - 1 ? 9 : 0 } }
            let labels = (0..<rows).map { _ in rng.nextInt(below: c) }
            let ref = Self.reference(logits: logits, rows: rows, classes: c, labels: labels)
            let p = ZeroShot.predict(count: rows, labels: labels, numClasses: c, blockRows: 37) { range, out in
                for (r, i) in range.enumerated() { for k in 0..<c { out[r * c + k] = logits[i * c + k] } }
            }
            XCTAssertEqual(p.trueRank, ref.ranks, "classes \(c)")
            XCTAssertEqual(p.top1, ref.top1, "classes \(c)")
            if c > 1 && labels[1] != c - 1 { XCTAssertEqual(p.top1[1], c - 1) }
        }
    }
}
