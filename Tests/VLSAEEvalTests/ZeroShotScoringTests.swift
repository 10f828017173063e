import VLSAECore
import VLSAEEval
import XCTest

/// The parallel, vectorised scoring path against a plain sequential reference written out here:
/// logits from one whole-matrix product, then a scalar scan per row. Ranks and top-1 must be
/// equal exactly (no tolerance): the fast path only reorganises work, never the arithmetic.
final class ZeroShotScoringTests: XCTestCase {
    /// The definition: rank = #classes with a strictly greater logit + #lower-indexed classes with
    /// an equal one (ties broken by class index, lowest first), all classes for a NaN true logit;
    /// top-1 = the true class at rank 0, else the first index reached by a sequential strict `>` scan
    /// from class 0.
    static func reference(logits: [Float], rows: Int, classes c: Int, labels: [Int]) -> (ranks: [Int], top1: [Int]) {
        var ranks: [Int] = []
        var top1: [Int] = []
        for i in 0..<rows {
            let row = Array(logits[(i * c)..<((i + 1) * c)])
            let truth = row[labels[i]]
            var greater = 0
            var best = 0
            var bestValue = row[0]
            for k in 0..<c {
                if row[k] > truth || (k < labels[i] && row[k] == truth) { greater += 1 }
                if row[k] > bestValue {
                    bestValue = row[k]
                    best = k
                }
            }
            ranks.append(truth.isNaN ? c : greater)
            top1.append(truth.isNaN || greater > 0 ? best : labels[i])
        }
        return (ranks, top1)
    }

    /// Vectors of ±1 entries on 1, 4 or 16 coordinates have norms 1, 2 or 4, so normalisation and
    /// every dot product are exact in float whatever the summation order: the reference computes the
    /// logits in double without the GEMM.
    static func dyadicRows(_ rows: Int, _ d: Int, _ rng: inout SeededRandom) -> Matrix {
        var m = Matrix(rows: rows, cols: d)
        for r in 0..<rows {
            let nonzero = [1, 4, 16][rng.nextInt(below: 3)]
            for j in rng.permutation(d).prefix(nonzero) { m.values[r * d + j] = rng.nextInt(below: 2) == 0 ? 1 : -1 }
        }
        return m
    }

    /// `images` Gaussian image rows and `classes` Gaussian class vectors of dimension `dim`, with
    /// uniform random labels, all drawn from one `SeededRandom(seed:)` stream in that order.
    static func gaussianProblem(
        seed: UInt64, images n: Int, dim d: Int, classes c: Int
    ) -> (images: Matrix, labels: [Int], classifier: ZeroShotClassifier) {
        var rng = SeededRandom(seed: seed)
        var images = Matrix(rows: n, cols: d)
        var classes = Matrix(rows: c, cols: d)
        for j in 0..<(n * d) { images.values[j] = Float(rng.nextGaussian()) }
        for j in 0..<(c * d) { classes.values[j] = Float(rng.nextGaussian()) }
        let labels = (0..<n).map { _ in rng.nextInt(below: c) }
        return (images, labels, ZeroShotClassifier(classVectors: classes))
    }

    func testParallelBlocksMatchSequentialReference() {
        var rng = SeededRandom(seed: 7)
        let n = 613
        let d = 24
        let c = 45
        var images = Self.dyadicRows(n, d, &rng)
        let classes = Self.dyadicRows(c, d, &rng)
        for j in 0..<d { images.values[5 * d + j] = 0 }  // a zero image ties every class at 0
        var labels = (0..<n).map { _ in rng.nextInt(below: c) }
        labels[5] = 7
        var logits = [Float](repeating: 0, count: n * c)
        for i in 0..<n {
            let ni = (0..<d).reduce(0.0) { $0 + Double(images.values[i * d + $1] * images.values[i * d + $1]) }
                .squareRoot()
            for k in 0..<c {
                let nk = (0..<d).reduce(0.0) { $0 + Double(classes.values[k * d + $1] * classes.values[k * d + $1]) }
                    .squareRoot()
                let dot = (0..<d).reduce(0.0) { $0 + Double(images.values[i * d + $1] * classes.values[k * d + $1]) }
                logits[i * c + k] = ni == 0 ? 0 : ZeroShot.logitScale * Float(dot / (ni * nk))
            }
        }
        let ref = Self.reference(logits: logits, rows: n, classes: c, labels: labels)
        XCTAssertEqual(ref.ranks[5], labels[5], "a zero image ties everything: every lower class ranks first")
        let tiedAtTop = (0..<n).filter { i in
            let row = logits[(i * c)..<((i + 1) * c)]
            return row.filter { $0 == row.max()! }.count > 1
        }
        XCTAssertGreaterThan(tiedAtTop.count, 50, "the data must exercise the tie rule")
        let clf = ZeroShotClassifier(classVectors: classes)
        for threads in [1, 2, 3] {
            for block in [1, 50, 64, 1024] {
                let p = ZeroShot.predict(
                    images: images, labels: labels, classifier: clf, blockRows: block, threads: threads)
                XCTAssertEqual(p.trueRank, ref.ranks, "threads \(threads), block \(block)")
                XCTAssertEqual(p.top1, ref.top1, "threads \(threads), block \(block)")
            }
        }
    }

    /// Every logit is one deterministic GEMM chain, so general (non-exact) data gives the same ranks for
    /// any thread count, block size and kernel path.
    func testResultsDoNotDependOnThreadCountBlockOrPath() throws {
        let (images, labels, clf) = Self.gaussianProblem(seed: 3, images: 900, dim: 96, classes: 120)
        let one = ZeroShot.predict(images: images, labels: labels, classifier: clf, blockRows: 1024)
        let saved = KernelPath.active
        defer { try? KernelPath.use(saved) }
        for path in KernelPath.supported {
            try KernelPath.use(path)
            for block in [64, 1024] {
                for threads in [1, 2, 3] {
                    XCTAssertEqual(
                        ZeroShot.predict(
                            images: images, labels: labels, classifier: clf, blockRows: block,
                            threads: threads), one,
                        "path \(path), threads \(threads), block \(block)")
                }
            }
        }
    }

    /// Each logit is 100 · (the fma chain of the normalised image row and the class vector) exactly.
    func testLogitsAreTheFmaChain() {
        let n = 60
        let d = 33
        let c = 21
        let (images, labels, clf) = Self.gaussianProblem(seed: 4, images: n, dim: d, classes: c)
        let unit = images.normalizedRows()
        var logits = [Float](repeating: 0, count: n * c)
        for i in 0..<n {
            for k in 0..<c {
                var acc: Float = 0
                for j in 0..<d { acc = acc.addingProduct(unit.values[i * d + j], clf.weights.values[k * d + j]) }
                logits[i * c + k] = ZeroShot.logitScale * acc
            }
        }
        let ref = Self.reference(logits: logits, rows: n, classes: c, labels: labels)
        let p = ZeroShot.predict(images: images, labels: labels, classifier: clf, blockRows: 7, threads: 2)
        XCTAssertEqual(p.trueRank, ref.ranks)
        XCTAssertEqual(p.top1, ref.top1)
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
