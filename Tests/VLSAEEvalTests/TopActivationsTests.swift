import Foundation
import VLSAECore
import VLSAEEval
import VLSAEModel
import XCTest

/// The bounded per-concept heaps against sorting every activation: same rows, same order, ties to the
/// lower row, whatever the chunking.
final class TopActivationsTests: XCTestCase {
    /// Random sparse codes with few distinct values, so ties are frequent.
    private func randomCodes(rows: Int, hidden: Int, k: Int, seed: UInt64) -> SparseCodes {
        var rng = SeededRandom(seed: seed)
        var codes = SparseCodes(rows: rows, hidden: hidden, k: k)
        for r in 0..<rows {
            var units = Set<Int>()
            let n = Int(rng.nextDouble() * Double(k + 1))
            while units.count < n { units.insert(Int(rng.nextDouble() * Double(hidden))) }
            for (t, u) in units.sorted().enumerated() {
                codes.indices[r * k + t] = Int32(u)
                // Values 0 (skipped as inactive), 0.25, 0.5, 0.75, 1.
                codes.values[r * k + t] = Float(Int(rng.nextDouble() * 5)) / 4
            }
            codes.counts[r] = Int32(units.count)
        }
        return codes
    }

    func testHeapsEqualAFullSortWithTiesToTheLowerRow() {
        let (rows, hidden, k, top) = (300, 12, 5, 7)
        let codes = randomCodes(rows: rows, hidden: hidden, k: k, seed: 17)
        let dense = codes.dense()
        for chunk in [1, 7, 64, 300] {
            var tops = TopActivations(concepts: hidden, capacity: top)
            var start = 0
            while start < rows {
                let end = min(rows, start + chunk)
                tops.add(codes.rows(start..<end), firstRow: start)
                start = end
            }
            XCTAssertEqual(tops.rowsSeen, rows)
            for j in 0..<hidden {
                let active = (0..<rows).filter { dense[$0, j] != 0 }
                let expected = active.sorted { a, b in
                    dense[a, j] != dense[b, j] ? dense[a, j] > dense[b, j] : a < b
                }.prefix(top).map { RankedActivation(index: $0, activation: dense[$0, j]) }
                XCTAssertEqual(tops.ranked(j), Array(expected), "concept \(j), chunk \(chunk)")
                XCTAssertEqual(tops.activeCounts[j], active.count, "concept \(j)")
                XCTAssertEqual(tops.frequency(j), Double(active.count) / Double(rows))
            }
        }
    }

    func testEqualActivationsKeepTheLowerRows() {
        // Ten rows all activating unit 0 at 0.5: the five kept are rows 0…4, in order.
        var codes = SparseCodes(rows: 10, hidden: 2, k: 1)
        for r in 0..<10 {
            codes.values[r] = 0.5
            codes.counts[r] = 1
        }
        var tops = TopActivations(concepts: 2, capacity: 5)
        tops.add(codes.rows(5..<10), firstRow: 5)
        tops.add(codes.rows(0..<5), firstRow: 0)
        XCTAssertEqual(tops.ranked(0).map(\.index), [0, 1, 2, 3, 4])
        XCTAssertEqual(tops.ranked(1), [])
        XCTAssertTrue(
            RankedActivation(index: 3, activation: 0.5).ranksAbove(RankedActivation(index: 4, activation: 0.5)))
        XCTAssertFalse(
            RankedActivation(index: 3, activation: 0.4).ranksAbove(RankedActivation(index: 4, activation: 0.5)))
    }

    func testMeanPairwiseCosine() {
        let x = Matrix([[1, 0], [0, 2], [3, 3]])
        // cos(e1, e2) = 0, cos(e1, d) = cos(e2, d) = 1/√2.
        XCTAssertEqual(ConceptScan.meanPairwiseCosine([0, 1, 2], in: x)!, (2 / 2.0.squareRoot()) / 3, accuracy: 1e-15)
        XCTAssertNil(ConceptScan.meanPairwiseCosine([1], in: x))
        XCTAssertEqual(ConceptMean([]).mean, nil)
        XCTAssertEqual(ConceptMean([1, 2]).mean, 1.5)
    }
}
