import Foundation
import VLSAECore
import VLSAEEval
import VLSAETestSupport
import XCTest

/// Reference values come from Fixtures/stats/make_stats_fixtures.py (numpy, scipy, scikit-learn,
/// mpmath); the simulation tests check behaviour against known population values.
final class StatisticsTests: XCTestCase {
    // MARK: Fixtures

    private struct McNemarFixture: Decodable {
        struct Case: Decodable {
            let b: Int
            let c: Int
            let scipy_binomtest: Double
            let statsmodels_exact: Double
            let mpmath: Double
        }
        let cases: [Case]
    }

    private struct QuantileFixture: Decodable {
        struct Case: Decodable {
            let name: String
            let sorted: [Double]
            let q: [Double]
            let quantile: [Double]
        }
        let levels: [Double]
        let cases: [Case]
    }

    private struct MetricsFixture: Decodable {
        struct Resample: Decodable {
            let indices: [Int]
            let classes_present: Int
            let base: [String: Double]
            let enhanced: [String: Double]
        }
        struct Case: Decodable {
            let name: String
            let num_classes: Int
            let labels: [Int]
            let base_rank: [Int]
            let enhanced_rank: [Int]
            let resamples: [Resample]
        }
        let cases: [Case]
    }

    private func fixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        try EvalFixtures.folder.decode(T.self, from: "stats/\(name)")
    }

    // MARK: McNemar

    /// scipy.stats.binomtest(min(b,c), b+c, 0.5).pvalue to 1e-9 relative; where scipy
    /// underflows to 0 the result must be 0 or below 1e-300.
    func testMcNemarMatchesScipyBinomtest() throws {
        let cases = try fixture("mcnemar.json", as: McNemarFixture.self).cases
        XCTAssertGreaterThanOrEqual(cases.count, 20)
        for k in cases {
            let p = McNemar.exactPValue(b: k.b, c: k.c)
            if k.scipy_binomtest == 0 {
                XCTAssertLessThan(p, 1e-300, "b=\(k.b) c=\(k.c)")
            } else {
                XCTAssertEqual(p, k.scipy_binomtest, accuracy: 1e-9 * k.scipy_binomtest, "b=\(k.b) c=\(k.c)")
            }
            // statsmodels' exact convention is the same number.
            XCTAssertEqual(k.statsmodels_exact, k.scipy_binomtest, accuracy: 1e-14 * k.scipy_binomtest)
            XCTAssertEqual(McNemar.exactPValue(b: k.c, c: k.b), p, "p must be symmetric in b and c")
        }
    }

    /// Against a 50-digit evaluation the log-space tail keeps 1e-11 relative even at n = 10⁶.
    func testMcNemarAgainstHighPrecisionReference() throws {
        let cases = try fixture("mcnemar.json", as: McNemarFixture.self).cases
        var worst = 0.0
        for k in cases where k.mpmath > 0 {
            let p = McNemar.exactPValue(b: k.b, c: k.c)
            let rel = abs(p - k.mpmath) / k.mpmath
            worst = max(worst, rel)
            XCTAssertLessThanOrEqual(rel, 1e-11, "b=\(k.b) c=\(k.c): \(p) vs \(k.mpmath)")
        }
        print("McNemar worst relative error vs mpmath: \(worst)")
        XCTAssertGreaterThan(worst, 0, "some case should exercise rounding")
    }

    func testMcNemarSmallCasesByHand() {
        XCTAssertEqual(McNemar.exactPValue(b: 0, c: 0), 1)
        // n = 5, k = 0: 2 · 2⁻⁵.
        XCTAssertEqual(McNemar.exactPValue(b: 0, c: 5), 0.0625)
        // n = 4, k = 1: 2 · (1 + 4)/16.
        XCTAssertEqual(McNemar.exactPValue(b: 3, c: 1), 0.625, accuracy: 1e-15)
        XCTAssertEqual(McNemar.exactPValue(b: 4, c: 4), 1)
    }

    func testFlipCount() throws {
        let base: [Bool] = [true, true, false, false, true, false, false]
        let enhanced: [Bool] = [true, false, true, false, false, true, true]
        let flips = try Flips.count(baseCorrect: base, enhancedCorrect: enhanced)
        XCTAssertEqual(flips.wrongToRight, 3)
        XCTAssertEqual(flips.rightToWrong, 2)
        XCTAssertThrowsError(try Flips.count(baseCorrect: [true], enhancedCorrect: [])) { error in
            guard case VLSAEError.mismatch = error else { return XCTFail("expected .mismatch, got \(error)") }
        }
    }

    // MARK: Percentiles

    /// The percentile rule is numpy's default np.quantile, bit for bit.
    func testQuantileMatchesNumpyLinear() throws {
        let fixture = try fixture("quantile.json", as: QuantileFixture.self)
        for c in fixture.cases {
            for (q, expected) in zip(c.q, c.quantile) {
                let got = Bootstrap.quantile(sorted: c.sorted, q)
                XCTAssertEqual(got.bitPattern, expected.bitPattern, "\(c.name) q=\(q): \(got) vs numpy \(expected)")
            }
        }
        XCTAssertTrue(Bootstrap.quantile(sorted: [], 0.5).isNaN)
        XCTAssertTrue(Bootstrap.quantile(sorted: [1, 2], 1.5).isNaN)
        XCTAssertTrue(Bootstrap.quantile(sorted: [1, 2], -0.1).isNaN)
    }

    /// An interval's ends are np.quantile at (1−level)/2 and 1−(1−level)/2, whatever the order
    /// of the replicates.
    func testPercentileIntervalEndsAreNumpyQuantiles() throws {
        let fixture = try fixture("quantile.json", as: QuantileFixture.self)
        var rng = SeededRandom(seed: 3)
        for c in fixture.cases where c.name != "lerp_branches" {
            let shuffled = rng.permutation(c.sorted.count).map { c.sorted[$0] }
            for level in fixture.levels {
                let tail = (1 - level) / 2
                let lowIndex = try XCTUnwrap(c.q.firstIndex(of: tail))
                let highIndex = try XCTUnwrap(c.q.firstIndex(of: 1 - tail))
                let ci = try Bootstrap.percentileInterval(replicates: shuffled, level: level, seed: 9)
                XCTAssertEqual(ci.low, c.quantile[lowIndex], "\(c.name) level \(level)")
                XCTAssertEqual(ci.high, c.quantile[highIndex], "\(c.name) level \(level)")
                XCTAssertEqual(ci.resamples, c.sorted.count)
                XCTAssertEqual(ci.level, level)
                XCTAssertEqual(ci.seed, 9)
            }
        }
    }

    // MARK: Metrics on a resample

    /// acc1, acc5 and mean-per-class recall on fixed multisets (identity included) equal
    /// scikit-learn's accuracy_score, top_k_accuracy_score and balanced_accuracy_score (1e-12).
    func testMetricsOnMultisetMatchSklearn() throws {
        let cases = try fixture("metrics.json", as: MetricsFixture.self).cases
        var sawMissingClass = false
        for c in cases {
            let sample = try PairedSample(
                labels: c.labels, numClasses: c.num_classes, baseRank: c.base_rank, enhancedRank: c.enhanced_rank)
            XCTAssertEqual(sample.availableMetrics.contains(.acc5), c.num_classes >= 5)
            for (r, resample) in c.resamples.enumerated() {
                sawMissingClass = sawMissingClass || resample.classes_present < c.num_classes
                let got = try sample.metrics(resampledAt: resample.indices)
                for (method, expected, actual) in [
                    ("base", resample.base, got.base), ("enhanced", resample.enhanced, got.enhanced),
                ] {
                    XCTAssertEqual(Set(actual.keys.map(\.rawValue)), Set(expected.keys), "\(c.name)#\(r) \(method)")
                    for (key, value) in expected {
                        let metric = try XCTUnwrap(PairedComparison.Metric(rawValue: key))
                        let mine = try XCTUnwrap(actual[metric])
                        XCTAssertEqual(mine, value, accuracy: 1e-12, "\(c.name)#\(r) \(method) \(key)")
                    }
                }
            }
            // nil means every image once, i.e. the first (identity) multiset.
            let full = try sample.metrics()
            let identity = try sample.metrics(resampledAt: c.resamples[0].indices)
            XCTAssertEqual(full.base, identity.base)
            XCTAssertEqual(full.enhanced, identity.enhanced)
            // The comparison's point estimates are the full-sample metrics.
            let comparison = try Bootstrap.paired(sample, resamples: 20, seed: 1)
            XCTAssertEqual(comparison.base, full.base)
            XCTAssertEqual(comparison.enhanced, full.enhanced)
            for (metric, delta) in comparison.delta {
                XCTAssertEqual(delta, full.enhanced[metric]! - full.base[metric]!)
            }
        }
        XCTAssertTrue(sawMissingClass, "fixture should include a resample that misses a class")
        let sample = try PairedSample(labels: [0, 1], numClasses: 2, baseRank: [0, 1], enhancedRank: [0, 0])
        XCTAssertThrowsError(try sample.metrics(resampledAt: [0, 2]))
        XCTAssertThrowsError(try sample.metrics(resampledAt: []))
    }

    // MARK: Behaviour of the intervals

    /// Per-image correctness with P(base) = 0.70, P(enhanced) = 0.73, strongly correlated.
    private func simulatedPair(n: Int, classes: Int, seed: UInt64) throws -> (PairedSample, [Bool]) {
        var rng = SeededRandom(seed: seed)
        var labels = [Int]()
        var baseRank = [Int]()
        var enhancedRank = [Int]()
        var baseCorrect = [Bool]()
        for _ in 0..<n {
            let u = rng.nextDouble()
            let base = u < 0.70
            let enhanced = rng.nextDouble() < 0.8 ? u < 0.73 : rng.nextDouble() < 0.73
            labels.append(rng.nextInt(below: classes))
            baseRank.append(base ? 0 : 1 + rng.nextInt(below: classes - 1))
            enhancedRank.append(enhanced ? 0 : 1 + rng.nextInt(below: classes - 1))
            baseCorrect.append(base)
        }
        let sample = try PairedSample(
            labels: labels, numClasses: classes, baseRank: baseRank, enhancedRank: enhancedRank)
        return (sample, baseCorrect)
    }

    /// Over 200 simulated data sets of 300 images, the 95 % intervals cover the true values
    /// (acc = 0.70, Δacc1 = Δ mean-per-class recall = 0.03) in 92–98 % of cases.
    func testCoverageOfNominal95PercentIntervals() throws {
        let trials = 200
        var coveredAccuracy = 0
        var coveredDelta = 0
        var coveredRecallDelta = 0
        for t in 0..<trials {
            let (sample, baseCorrect) = try simulatedPair(n: 300, classes: 6, seed: 10_000 + UInt64(t))
            let single = try Bootstrap.accuracyInterval(correct: baseCorrect, resamples: 300, seed: UInt64(t))
            if single.contains(0.70) { coveredAccuracy += 1 }
            let paired = try Bootstrap.paired(sample, resamples: 300, seed: UInt64(t))
            if try XCTUnwrap(paired.intervals[.acc1]).contains(0.03) { coveredDelta += 1 }
            if try XCTUnwrap(paired.intervals[.meanPerClassRecall]).contains(0.03) { coveredRecallDelta += 1 }
        }
        for (name, covered) in [
            ("accuracy", coveredAccuracy), ("Δacc1", coveredDelta), ("Δrecall", coveredRecallDelta),
        ] {
            let rate = Double(covered) / Double(trials)
            print("coverage \(name): \(rate)")
            XCTAssertTrue((0.92...0.98).contains(rate), "\(name) coverage \(rate)")
        }
    }

    /// Interval widths agree with the normal approximation: 2·1.96·sd with sd² = p(1−p)/n for an
    /// accuracy and (p₁₀ + p₀₁ − (p₀₁ − p₁₀)²)/n for a paired difference (within 10 %).
    func testWidthsMatchNormalApproximation() throws {
        let n = 4000
        let (sample, baseCorrect) = try simulatedPair(n: n, classes: 10, seed: 77)
        let acc = Double(baseCorrect.filter { $0 }.count) / Double(n)
        let single = try Bootstrap.accuracyInterval(correct: baseCorrect, resamples: 1000, seed: 5)
        let expectedSingle = 2 * 1.959964 * (acc * (1 - acc) / Double(n)).squareRoot()
        XCTAssertEqual(single.width, expectedSingle, accuracy: 0.1 * expectedSingle)
        XCTAssertTrue(single.contains(acc))

        let paired = try Bootstrap.paired(sample, resamples: 1000, seed: 5)
        let up = Double(paired.wrongToRight) / Double(n)
        let down = Double(paired.rightToWrong) / Double(n)
        let expectedPaired = 2 * 1.959964 * ((up + down - (up - down) * (up - down)) / Double(n)).squareRoot()
        let delta = try XCTUnwrap(paired.intervals[.acc1])
        XCTAssertEqual(delta.width, expectedPaired, accuracy: 0.1 * expectedPaired)
        XCTAssertEqual(try XCTUnwrap(paired.delta[.acc1]), up - down, accuracy: 1e-12)
        // Pairing matters: the difference is far tighter than two independent intervals.
        let baseWidth = try XCTUnwrap(paired.baseIntervals[.acc1]).width
        XCTAssertLessThan(delta.width, baseWidth)
    }

    /// The paired bootstrap draws the same resamples as accuracyInterval with the same seed, so
    /// its per-method acc1 intervals are exactly the single-method intervals.
    func testPairedUsesTheDocumentedIndexStream() throws {
        let (sample, baseCorrect) = try simulatedPair(n: 257, classes: 8, seed: 4)
        let enhancedCorrect = sample.enhancedRank.map { $0 == 0 }
        let paired = try Bootstrap.paired(sample, resamples: 300, level: 0.9, seed: 42)
        XCTAssertEqual(
            paired.baseIntervals[.acc1],
            try Bootstrap.accuracyInterval(correct: baseCorrect, resamples: 300, level: 0.9, seed: 42))
        XCTAssertEqual(
            paired.enhancedIntervals[.acc1],
            try Bootstrap.accuracyInterval(correct: enhancedCorrect, resamples: 300, level: 0.9, seed: 42))
        let flips = try Flips.count(baseCorrect: baseCorrect, enhancedCorrect: enhancedCorrect)
        XCTAssertEqual(paired.wrongToRight, flips.wrongToRight)
        XCTAssertEqual(paired.rightToWrong, flips.rightToWrong)
        XCTAssertEqual(paired.mcnemarP, McNemar.exactPValue(b: flips.wrongToRight, c: flips.rightToWrong))
        XCTAssertEqual(Set(paired.intervals.keys), [.acc1, .acc5, .meanPerClassRecall])
    }

    /// Replicating the documented stream by hand gives the same interval.
    func testAccuracyIntervalFollowsTheDocumentedRecipe() throws {
        let correct = (0..<50).map { $0 % 3 != 0 }
        var rng = SeededRandom(seed: 11)
        var replicates = [Double]()
        for _ in 0..<200 {
            var hits = 0
            for _ in 0..<correct.count {
                if correct[rng.nextInt(below: correct.count)] { hits += 1 }
            }
            replicates.append(Double(hits) / 50)
        }
        replicates.sort()
        let ci = try Bootstrap.accuracyInterval(correct: correct, resamples: 200, seed: 11)
        XCTAssertEqual(ci.low, Bootstrap.quantile(sorted: replicates, 0.025000000000000022))
        XCTAssertEqual(ci.high, Bootstrap.quantile(sorted: replicates, 1 - (1 - 0.95) / 2))
        XCTAssertEqual(ci, ConfidenceInterval(low: ci.low, high: ci.high, level: 0.95, resamples: 200, seed: 11))
    }

    func testDeterminism() throws {
        let (sample, baseCorrect) = try simulatedPair(n: 200, classes: 5, seed: 8)
        let a = try Bootstrap.accuracyInterval(correct: baseCorrect, resamples: 200, seed: 1)
        XCTAssertEqual(a, try Bootstrap.accuracyInterval(correct: baseCorrect, resamples: 200, seed: 1))
        let b = try Bootstrap.accuracyInterval(correct: baseCorrect, resamples: 200, seed: 2)
        XCTAssertNotEqual([a.low, a.high], [b.low, b.high])
        XCTAssertEqual(b.seed, 2)

        let p = try Bootstrap.paired(sample, resamples: 200, seed: 1)
        XCTAssertEqual(p, try Bootstrap.paired(sample, resamples: 200, seed: 1))
        let q = try Bootstrap.paired(sample, resamples: 200, seed: 2)
        XCTAssertNotEqual(p.intervals, q.intervals)
        XCTAssertEqual(p.delta, q.delta, "point estimates do not depend on the seed")
    }

    // MARK: Degenerate input

    func testDegenerateInputs() throws {
        let all = try Bootstrap.accuracyInterval(correct: Array(repeating: true, count: 30), resamples: 50, seed: 0)
        XCTAssertEqual([all.low, all.high], [1, 1])
        let none = try Bootstrap.accuracyInterval(correct: Array(repeating: false, count: 30), resamples: 50, seed: 0)
        XCTAssertEqual([none.low, none.high], [0, 0])
        let one = try Bootstrap.accuracyInterval(correct: [true], resamples: 10, seed: 0)
        XCTAssertEqual([one.low, one.high], [1, 1])
        let single = try Bootstrap.accuracyInterval(correct: [false, true], resamples: 1, seed: 0)
        XCTAssertEqual(single.low, single.high)

        func assertUsageError(_ body: @autoclosure () throws -> some Any, _ line: UInt = #line) {
            XCTAssertThrowsError(try body(), line: line) { error in
                guard case VLSAEError.usage = error else { return XCTFail("expected .usage, got \(error)", line: line) }
            }
        }
        assertUsageError(try Bootstrap.accuracyInterval(correct: [], seed: 0))
        assertUsageError(try Bootstrap.accuracyInterval(correct: [true], resamples: 0, seed: 0))
        assertUsageError(try Bootstrap.accuracyInterval(correct: [true], level: 1, seed: 0))
        assertUsageError(try Bootstrap.accuracyInterval(correct: [true], level: .nan, seed: 0))
        assertUsageError(try Bootstrap.percentileInterval(replicates: [], level: 0.95, seed: 0))
        assertUsageError(try PairedSample(labels: [], numClasses: 3, baseRank: [], enhancedRank: []))
        assertUsageError(try PairedSample(labels: [3], numClasses: 3, baseRank: [0], enhancedRank: [0]))
        assertUsageError(try PairedSample(labels: [0], numClasses: 3, baseRank: [0], enhancedRank: [3]))
        assertUsageError(try PairedSample(labels: [0], numClasses: 3, baseRank: [-1], enhancedRank: [0]))
        XCTAssertThrowsError(try PairedSample(labels: [0, 1], numClasses: 3, baseRank: [0], enhancedRank: [0, 0])) {
            error in
            guard case VLSAEError.mismatch = error else { return XCTFail("expected .mismatch, got \(error)") }
        }

        // Identical methods: every difference is exactly zero and McNemar finds nothing.
        let same = try PairedSample(
            labels: [0, 1, 2, 1], numClasses: 3, baseRank: [0, 2, 1, 0], enhancedRank: [0, 2, 1, 0])
        let cmp = try Bootstrap.paired(same, resamples: 100, seed: 3)
        XCTAssertNil(cmp.delta[.acc5], "acc5 is undefined with fewer than 5 classes")
        XCTAssertNil(cmp.intervals[.acc5])
        for metric in [PairedComparison.Metric.acc1, .meanPerClassRecall] {
            XCTAssertEqual(cmp.delta[metric], 0)
            XCTAssertEqual(cmp.intervals[metric]?.low, 0)
            XCTAssertEqual(cmp.intervals[metric]?.high, 0)
        }
        XCTAssertEqual(cmp.mcnemarP, 1)

        // One image: every resample is that image.
        let lone = try PairedSample(labels: [4], numClasses: 6, baseRank: [3], enhancedRank: [0])
        let loneCmp = try Bootstrap.paired(lone, resamples: 10, seed: 0)
        XCTAssertEqual(loneCmp.intervals[.acc1]?.low, 1)
        XCTAssertEqual(loneCmp.intervals[.acc1]?.high, 1)
        XCTAssertEqual(loneCmp.intervals[.acc5]?.low, 0)
        XCTAssertEqual(loneCmp.base[.acc5], 1)
    }

    // MARK: Serialisation

    func testCodableUsesCLIPBenchmarkMetricNames() throws {
        let sample = try PairedSample(
            labels: [0, 1, 2, 3, 4, 0], numClasses: 5,
            baseRank: [0, 1, 5 - 1, 0, 2, 0], enhancedRank: [0, 0, 0, 1, 0, 3])
        let cmp = try Bootstrap.paired(sample, resamples: 30, seed: UInt64.max)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(cmp)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let delta = try XCTUnwrap(object["delta"] as? [String: Any])
        XCTAssertEqual(Set(delta.keys), ["acc1", "acc5", "mean_per_class_recall"])
        let decoded = try JSONDecoder().decode(PairedComparison.self, from: data)
        XCTAssertEqual(decoded, cmp)
        XCTAssertEqual(decoded.intervals[.acc1]?.seed, UInt64.max)
    }
}
