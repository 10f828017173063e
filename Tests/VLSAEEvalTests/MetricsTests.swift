import VLSAEEval
import XCTest

final class MetricsTests: XCTestCase {
    func testHandComputedMetrics() {
        // 6 classes, class 5 without images. Ranks: 0 = correct, 1–4 = top-5 only, ≥5 = neither.
        let labels = [0, 0, 0, 1, 2, 2, 3, 4]
        let ranks = [0, 2, 0, 5, 0, 0, 4, 1]
        let p = Predictions(labels: labels, numClasses: 6, trueRank: ranks, top1: [0, 3, 0, 0, 2, 2, 1, 0])
        let m = Metrics.compute(p)
        XCTAssertEqual(m.acc1, 4.0 / 8, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(m.acc5), 7.0 / 8, accuracy: 1e-12)
        // Recalls: class 0: 2/3, class 1: 0, class 2: 1, class 3: 0, class 4: 0; class 5 absent.
        XCTAssertEqual(m.perClassRecall.count, 6)
        let want: [Double?] = [2.0 / 3, 0, 1, 0, 0, nil]
        for (g, w) in zip(m.perClassRecall, want) {
            if let w { XCTAssertEqual(try XCTUnwrap(g), w, accuracy: 1e-12) } else { XCTAssertNil(g) }
        }
        XCTAssertEqual(m.meanPerClassRecall, (2.0 / 3 + 1) / 5, accuracy: 1e-12, "absent classes are not averaged")
        XCTAssertEqual(m.nImages, 8)
        XCTAssertEqual(m.nClasses, 6)
    }

    func testAcc5UndefinedBelowFiveClasses() {
        let p = Predictions(labels: [0, 1, 2, 3], numClasses: 4, trueRank: [0, 1, 0, 3], top1: [0, 0, 2, 0])
        XCTAssertNil(Metrics.compute(p).acc5)
        XCTAssertNil(Metrics.topK(p, k: 5))
        XCTAssertEqual(try XCTUnwrap(Metrics.topK(p, k: 2)), 0.75, accuracy: 1e-12)
    }

    func testBootstrapIntervalIsSeededAndBracketsAcc1() throws {
        let n = 200
        let ranks = (0..<n).map { $0 % 3 == 0 ? 1 : 0 }  // acc1 = 133/200
        let p = Predictions(
            labels: Array(repeating: 0, count: n), numClasses: 10, trueRank: ranks,
            top1: ranks.map { $0 == 0 ? 0 : 1 })
        let a = try Metrics.acc1Interval(p, resamples: 1000, level: 0.95, seed: 42)
        let b = try Metrics.acc1Interval(p, resamples: 1000, level: 0.95, seed: 42)
        XCTAssertEqual(a, b, "same seed, same interval")
        XCTAssertEqual(a.seed, 42)
        XCTAssertEqual(a.resamples, 1000)
        XCTAssertEqual(a.level, 0.95)
        let acc1 = Metrics.compute(p).acc1
        XCTAssertLessThan(a.low, acc1)
        XCTAssertGreaterThan(a.high, acc1)
        // Normal approximation: half-width ≈ 1.96·√(p(1−p)/n) ≈ 0.065; allow generous slack.
        let half = 1.96 * (acc1 * (1 - acc1) / Double(n)).squareRoot()
        XCTAssertEqual(a.high - a.low, 2 * half, accuracy: 0.03)
    }
}
