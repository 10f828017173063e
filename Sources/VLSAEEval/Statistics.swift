// Uncertainty for zero-shot results: percentile-bootstrap intervals for an accuracy and for the
// paired difference between two methods scored on the same images, and McNemar's exact test on
// the images whose correctness flips.
//
// Every random choice comes from one `SeededRandom(seed:)` stream whose use is specified below,
// so an interval is reproducible from the numbers stored in it (`resamples`, `level`, `seed`).

import Foundation
import VLSAECore

// `ConfidenceInterval` (low, high, level, resamples, seed) is in VLSAECore: result documents
// record it as it is.

// MARK: - Bootstrap

/// Percentile bootstrap over images.
///
/// **Resampling stream.** A bootstrap with `resamples` replicates over `n` images creates one
/// generator `SeededRandom(seed: seed)` and, for replicate `r = 0, 1, …, resamples − 1` in turn,
/// draws `n` indices `rng.nextInt(below: n)` (with replacement). Nothing else consumes the
/// stream. Hence `accuracyInterval` and `paired` with the same `seed` and the same number of
/// images see exactly the same resamples, and both methods of a paired comparison are always
/// scored on the same resampled images.
///
/// **Percentiles.** The interval ends are `quantile(sorted:_:)` of the sorted replicate
/// statistics at `q = (1 − level)/2` and `q = 1 − (1 − level)/2`; that function is numpy's
/// default (`method="linear"`) quantile, reproduced to the last bit.
public enum Bootstrap {
    /// Quantile `q ∈ [0, 1]` of an ascending array by linear interpolation between order
    /// statistics: numpy's `np.quantile(x, q)` with the default `method="linear"` (R type 7).
    ///
    /// With `h = (n − 1)·q`, `j = ⌊h⌋` and `g = h − j` the result is
    /// `x[j] + g·(x[j+1] − x[j])`; like numpy, it is evaluated as `x[j+1] − (1 − g)·(x[j+1] − x[j])`
    /// when `g ≥ 0.5` (which keeps it exact at the upper end), and `h ≥ n − 1` gives `x[n−1]`.
    ///
    /// - Returns: NaN when `sorted` is empty or `q` is not in `[0, 1]`.
    /// - Precondition: `sorted` is in ascending order (not checked).
    public static func quantile(sorted: [Double], _ q: Double) -> Double {
        let n = sorted.count
        guard n > 0, q >= 0, q <= 1 else { return .nan }
        let h = Double(n - 1) * q
        if h >= Double(n - 1) { return sorted[n - 1] }
        let j = Int(h.rounded(.down))
        let g = h - Double(j)
        let a = sorted[j]
        let b = sorted[j + 1]
        let d = b - a
        return g >= 0.5 ? b - d * (1 - g) : a + d * g
    }

    /// The percentile interval of a set of replicate statistics (in any order).
    ///
    /// - Throws: `VLSAEError.usage` when `replicates` is empty or `level` is not in (0, 1).
    public static func percentileInterval(
        replicates: [Double], level: Double, seed: UInt64
    ) throws -> ConfidenceInterval {
        try checkLevel(level)
        guard !replicates.isEmpty else {
            throw VLSAEError.usage("bootstrap interval needs at least one replicate")
        }
        let sorted = replicates.sorted()
        let tail = (1 - level) / 2
        return ConfidenceInterval(
            low: quantile(sorted: sorted, tail), high: quantile(sorted: sorted, 1 - tail),
            level: level, resamples: replicates.count, seed: seed)
    }

    /// Percentile-bootstrap interval for an accuracy, the mean of per-image 0/1 correctness.
    ///
    /// Each replicate is `(number of correct images among n resampled indices) / n`; the
    /// stream and the percentile rule are described on `Bootstrap`. Cost is `n·resamples`
    /// generator draws and no allocation per replicate (100 000 images × 1 000 resamples took
    /// about 0.4 s of CPU in an optimised build on x86-64; `paired` about twice that).
    ///
    /// - Throws: `VLSAEError.usage` when `correct` is empty, `resamples < 1` or `level` is not
    ///   in (0, 1).
    public static func accuracyInterval(
        correct: [Bool], resamples: Int = 1000, level: Double = 0.95, seed: UInt64
    ) throws -> ConfidenceInterval {
        try checkLevel(level)
        try checkResamples(resamples)
        let n = correct.count
        guard n > 0 else { throw VLSAEError.usage("cannot bootstrap an accuracy over zero images") }
        let hit = correct.map { $0 ? 1 : 0 }
        var rng = SeededRandom(seed: seed)
        var replicates = [Double](repeating: 0, count: resamples)
        hit.withUnsafeBufferPointer { hit in
            for r in 0..<resamples {
                var hits = 0
                for _ in 0..<n { hits &+= hit[rng.nextInt(below: n)] }
                replicates[r] = Double(hits) / Double(n)
            }
        }
        return try percentileInterval(replicates: replicates, level: level, seed: seed)
    }

    /// Paired percentile bootstrap of two methods scored on the same images.
    ///
    /// One resampling loop draws each replicate's image multiset once and scores both methods
    /// on it, so `acc1`, `acc5` and `mean_per_class_recall` of the base and the enhanced method,
    /// and their differences, all come from the same resamples. Per-class recall is recomputed
    /// for every replicate from that replicate's class counts (classes that drew no image are
    /// left out of the mean, as in `PairedSample.metrics`).
    ///
    /// The returned point estimates are those of the full sample; the intervals are percentile
    /// intervals of the replicates (see `Bootstrap`). Also returned: the acc1 flip counts and
    /// McNemar's exact p-value for them.
    ///
    /// - Throws: `VLSAEError.usage` when `resamples < 1` or `level` is not in (0, 1).
    public static func paired(
        _ sample: PairedSample, resamples: Int = 1000, level: Double = 0.95, seed: UInt64
    ) throws -> PairedComparison {
        try checkLevel(level)
        try checkResamples(resamples)
        let n = sample.count
        let classes = sample.numClasses
        let metrics = sample.availableMetrics
        let hasAcc5 = metrics.contains(.acc5)

        // Bit 0: base top-1, bit 1: base top-5, bit 2: enhanced top-1, bit 3: enhanced top-5.
        let flags: [UInt8] = (0..<n).map { i in
            let b = sample.baseRank[i]
            let e = sample.enhancedRank[i]
            return (b == 0 ? 1 : 0) | (b < 5 ? 2 : 0) | (e == 0 ? 4 : 0) | (e < 5 ? 8 : 0)
        }
        var baseReplicates = [PairedComparison.Metric: [Double]]()
        var enhancedReplicates = [PairedComparison.Metric: [Double]]()
        var deltaReplicates = [PairedComparison.Metric: [Double]]()
        for m in metrics {
            baseReplicates[m] = [Double](repeating: 0, count: resamples)
            enhancedReplicates[m] = [Double](repeating: 0, count: resamples)
            deltaReplicates[m] = [Double](repeating: 0, count: resamples)
        }
        func record(_ m: PairedComparison.Metric, _ r: Int, _ base: Double, _ enhanced: Double) {
            baseReplicates[m]![r] = base
            enhancedReplicates[m]![r] = enhanced
            deltaReplicates[m]![r] = enhanced - base
        }

        var rng = SeededRandom(seed: seed)
        var classCount = [Int](repeating: 0, count: classes)
        var baseClassHits = [Int](repeating: 0, count: classes)
        var enhancedClassHits = [Int](repeating: 0, count: classes)
        let dn = Double(n)
        for r in 0..<resamples {
            var b1 = 0
            var b5 = 0
            var e1 = 0
            var e5 = 0
            classCount.withUnsafeMutableBufferPointer { count in
                baseClassHits.withUnsafeMutableBufferPointer { bHits in
                    enhancedClassHits.withUnsafeMutableBufferPointer { eHits in
                        flags.withUnsafeBufferPointer { flags in
                            sample.labels.withUnsafeBufferPointer { labels in
                                for c in 0..<classes {
                                    count[c] = 0
                                    bHits[c] = 0
                                    eHits[c] = 0
                                }
                                for _ in 0..<n {
                                    let i = rng.nextInt(below: n)
                                    let f = Int(flags[i])
                                    let y = labels[i]
                                    let base1 = f & 1
                                    let enh1 = (f >> 2) & 1
                                    b1 &+= base1
                                    b5 &+= (f >> 1) & 1
                                    e1 &+= enh1
                                    e5 &+= (f >> 3) & 1
                                    count[y] &+= 1
                                    bHits[y] &+= base1
                                    eHits[y] &+= enh1
                                }
                            }
                        }
                    }
                }
            }
            record(.acc1, r, Double(b1) / dn, Double(e1) / dn)
            if hasAcc5 { record(.acc5, r, Double(b5) / dn, Double(e5) / dn) }
            let recall = meanPerClassRecall(
                count: classCount, baseHits: baseClassHits, enhancedHits: enhancedClassHits)
            record(.meanPerClassRecall, r, recall.base, recall.enhanced)
        }

        let point = sample.fullSampleMetrics()
        var delta = [PairedComparison.Metric: Double]()
        var intervals = [PairedComparison.Metric: ConfidenceInterval]()
        var baseIntervals = [PairedComparison.Metric: ConfidenceInterval]()
        var enhancedIntervals = [PairedComparison.Metric: ConfidenceInterval]()
        for m in metrics {
            delta[m] = point.enhanced[m]! - point.base[m]!
            intervals[m] = try percentileInterval(replicates: deltaReplicates[m]!, level: level, seed: seed)
            baseIntervals[m] = try percentileInterval(replicates: baseReplicates[m]!, level: level, seed: seed)
            enhancedIntervals[m] = try percentileInterval(
                replicates: enhancedReplicates[m]!, level: level, seed: seed)
        }
        var wrongToRight = 0
        var rightToWrong = 0
        for f in flags {
            if f & 5 == 4 { wrongToRight += 1 } else if f & 5 == 1 { rightToWrong += 1 }
        }
        return PairedComparison(
            base: point.base, enhanced: point.enhanced, delta: delta, intervals: intervals,
            baseIntervals: baseIntervals, enhancedIntervals: enhancedIntervals,
            wrongToRight: wrongToRight, rightToWrong: rightToWrong,
            mcnemarP: McNemar.exactPValue(b: wrongToRight, c: rightToWrong))
    }

    /// Mean over the classes with at least one image of (hits / images); the sum runs in class
    /// order so the full-sample value and the replicates are computed the same way.
    static func meanPerClassRecall(
        count: [Int], baseHits: [Int], enhancedHits: [Int]
    ) -> (base: Double, enhanced: Double) {
        var present = 0
        var base = 0.0
        var enhanced = 0.0
        for c in count.indices where count[c] > 0 {
            present += 1
            base += Double(baseHits[c]) / Double(count[c])
            enhanced += Double(enhancedHits[c]) / Double(count[c])
        }
        // `present` is at least 1: a PairedSample has at least one image.
        return (base / Double(present), enhanced / Double(present))
    }

    private static func checkLevel(_ level: Double) throws {
        guard level > 0, level < 1 else {
            throw VLSAEError.usage("confidence level must be in (0, 1), got \(level)")
        }
    }

    private static func checkResamples(_ resamples: Int) throws {
        guard resamples >= 1 else {
            throw VLSAEError.usage("bootstrap resamples must be at least 1, got \(resamples)")
        }
    }
}

// MARK: - Paired samples

/// Two methods scored on the same images: for each image its true class and the rank that
/// each method gives the true class (0 = top-1, 4 = still inside the top 5).
public struct PairedSample: Sendable, Equatable {
    /// True class of each image, in [0, numClasses).
    public let labels: [Int]
    /// C, the number of classes.
    public let numClasses: Int
    /// The base method's rank of the true class for each image, in [0, numClasses).
    public let baseRank: [Int]
    /// The enhanced method's rank of the true class for each image, aligned with `baseRank`.
    public let enhancedRank: [Int]

    /// - Throws: `VLSAEError.mismatch` when the three arrays differ in length, and
    ///   `VLSAEError.usage` when there are no images or classes, or a label or a rank lies
    ///   outside `0..<numClasses` (the message names the first offending image).
    public init(labels: [Int], numClasses: Int, baseRank: [Int], enhancedRank: [Int]) throws {
        guard labels.count == baseRank.count, labels.count == enhancedRank.count else {
            throw VLSAEError.mismatch(
                "paired sample: \(labels.count) labels but \(baseRank.count) base ranks and "
                    + "\(enhancedRank.count) enhanced ranks")
        }
        guard !labels.isEmpty else { throw VLSAEError.usage("paired sample has no images") }
        guard numClasses >= 1 else {
            throw VLSAEError.usage("paired sample needs at least one class, got \(numClasses)")
        }
        let valid = 0..<numClasses
        for i in labels.indices {
            guard valid.contains(labels[i]) else {
                throw VLSAEError.usage(
                    "paired sample: image \(i) has label \(labels[i]) outside 0..<\(numClasses)")
            }
            guard valid.contains(baseRank[i]), valid.contains(enhancedRank[i]) else {
                throw VLSAEError.usage(
                    "paired sample: image \(i) has ranks \(baseRank[i]) (base) and "
                        + "\(enhancedRank[i]) (enhanced); ranks must lie in 0..<\(numClasses)")
            }
        }
        self.labels = labels
        self.numClasses = numClasses
        self.baseRank = baseRank
        self.enhancedRank = enhancedRank
    }

    /// Number of images.
    public var count: Int { labels.count }

    /// `acc1`, `mean_per_class_recall`, and `acc5` when there are at least 5 classes (with
    /// fewer, top-5 accuracy is trivially 1 and CLIP_benchmark reports it as undefined).
    public var availableMetrics: [PairedComparison.Metric] {
        numClasses >= 5 ? [.acc1, .acc5, .meanPerClassRecall] : [.acc1, .meanPerClassRecall]
    }

    /// The metrics of both methods on the multiset of images `indices` (repeats count as many
    /// times as they occur); `nil` means every image once.
    ///
    /// `acc1`/`acc5` are the fractions of the multiset whose true-class rank is `< 1`/`< 5`;
    /// `mean_per_class_recall` is the mean, over the classes that occur in the multiset, of the
    /// fraction of that class's images ranked first, i.e. scikit-learn's
    /// `balanced_accuracy_score` on the multiset.
    ///
    /// - Throws: `VLSAEError.usage` when `indices` is empty or holds an index outside
    ///   `0..<count`.
    public func metrics(resampledAt indices: [Int]? = nil) throws -> (
        base: [PairedComparison.Metric: Double], enhanced: [PairedComparison.Metric: Double]
    ) {
        let chosen = indices ?? Array(0..<count)
        guard !chosen.isEmpty else { throw VLSAEError.usage("cannot score an empty resample") }
        if let bad = chosen.first(where: { !(0..<count).contains($0) }) {
            throw VLSAEError.usage("resample index \(bad) outside 0..<\(count)")
        }
        return metrics(of: chosen)
    }

    /// Full-sample metrics (cannot fail: the sample is non-empty and validated).
    func fullSampleMetrics() -> (
        base: [PairedComparison.Metric: Double], enhanced: [PairedComparison.Metric: Double]
    ) {
        metrics(of: Array(0..<count))
    }

    private func metrics(of chosen: [Int]) -> (
        base: [PairedComparison.Metric: Double], enhanced: [PairedComparison.Metric: Double]
    ) {
        var b1 = 0
        var b5 = 0
        var e1 = 0
        var e5 = 0
        var classCount = [Int](repeating: 0, count: numClasses)
        var baseHits = classCount
        var enhancedHits = classCount
        for i in chosen {
            let y = labels[i]
            let base1 = baseRank[i] == 0 ? 1 : 0
            let enh1 = enhancedRank[i] == 0 ? 1 : 0
            b1 += base1
            e1 += enh1
            b5 += baseRank[i] < 5 ? 1 : 0
            e5 += enhancedRank[i] < 5 ? 1 : 0
            classCount[y] += 1
            baseHits[y] += base1
            enhancedHits[y] += enh1
        }
        let m = Double(chosen.count)
        let recall = Bootstrap.meanPerClassRecall(
            count: classCount, baseHits: baseHits, enhancedHits: enhancedHits)
        var base: [PairedComparison.Metric: Double] = [
            .acc1: Double(b1) / m, .meanPerClassRecall: recall.base,
        ]
        var enhanced: [PairedComparison.Metric: Double] = [
            .acc1: Double(e1) / m, .meanPerClassRecall: recall.enhanced,
        ]
        if numClasses >= 5 {
            base[.acc5] = Double(b5) / m
            enhanced[.acc5] = Double(e5) / m
        }
        return (base, enhanced)
    }
}

/// The result of `Bootstrap.paired`: point estimates on the full sample, percentile intervals
/// from the shared resamples, and the acc1 flips with McNemar's exact p-value.
public struct PairedComparison: Codable, Equatable, Sendable {
    /// Metric names as CLIP_benchmark writes them.
    public enum Metric: String, Codable, CodingKeyRepresentable, CaseIterable, Sendable {
        case acc1
        case acc5
        case meanPerClassRecall = "mean_per_class_recall"
    }

    /// Full-sample metrics of the base method.
    public var base: [Metric: Double]
    /// Full-sample metrics of the enhanced method.
    public var enhanced: [Metric: Double]
    /// `enhanced − base` on the full sample.
    public var delta: [Metric: Double]
    /// Percentile intervals of `enhanced − base` over the paired resamples.
    public var intervals: [Metric: ConfidenceInterval]
    /// Percentile intervals of each method's metric over the same resamples.
    public var baseIntervals: [Metric: ConfidenceInterval]
    /// Percentile intervals of the enhanced method's metric over the same resamples.
    public var enhancedIntervals: [Metric: ConfidenceInterval]
    /// Images wrong at top-1 for the base method and right for the enhanced one.
    public var wrongToRight: Int
    /// Images right at top-1 for the base method and wrong for the enhanced one.
    public var rightToWrong: Int
    /// `McNemar.exactPValue(b: wrongToRight, c: rightToWrong)`.
    public var mcnemarP: Double
}

// MARK: - Flips and McNemar's test

/// Images whose correctness differs between two methods (the discordant pairs).
public enum Flips {
    /// - Throws: `VLSAEError.mismatch` when the arrays differ in length.
    public static func count(
        baseCorrect: [Bool], enhancedCorrect: [Bool]
    ) throws -> (wrongToRight: Int, rightToWrong: Int) {
        guard baseCorrect.count == enhancedCorrect.count else {
            throw VLSAEError.mismatch(
                "flip count: \(baseCorrect.count) base results but \(enhancedCorrect.count) enhanced results")
        }
        var wrongToRight = 0
        var rightToWrong = 0
        for (b, e) in zip(baseCorrect, enhancedCorrect) where b != e {
            if e { wrongToRight += 1 } else { rightToWrong += 1 }
        }
        return (wrongToRight, rightToWrong)
    }
}

/// McNemar's test for two classifiers on the same images.
public enum McNemar {
    /// Exact two-sided McNemar p-value for `b` wrong→right and `c` right→wrong images.
    ///
    /// Under the null hypothesis each discordant image is equally likely to flip either way, so
    /// with `n = b + c` and `k = min(b, c)` the p-value is
    /// `min(1, 2·P(X ≤ k))`, `X ~ Binomial(n, 1/2)`, and 1 when `n = 0`. This is statsmodels'
    /// `mcnemar(table, exact=True)` and, because the null distribution is symmetric,
    /// scipy's `binomtest(k, n, 0.5).pvalue`.
    ///
    /// The tail is evaluated in log space as `P(X = k)·Σ_{i≤k} P(X = i)/P(X = k)`, with
    /// `log P(X = k)` from Loader's saddle-point form (Stirling-series remainders and a
    /// cancellation-free deviance) and the ratios by the recurrence
    /// `P(X = i − 1)/P(X = i) = i/(n − i + 1)`; this keeps about 13 significant digits for
    /// `n` in the millions, where `lgamma` differences lose 5 or more. A p-value below the
    /// smallest positive double is returned as 0. log, log1p and exp are PortableMath's, so the
    /// p-value has the same bits on every platform.
    ///
    /// - Precondition: `b ≥ 0` and `c ≥ 0`.
    public static func exactPValue(b: Int, c: Int) -> Double {
        precondition(b >= 0 && c >= 0, "McNemar counts must be non-negative (b = \(b), c = \(c))")
        let n = b + c
        let k = min(b, c)
        // 2k + 1 ≥ n: the lower tail holds at least half the mass, so the doubled tail is ≥ 1.
        if 2 * k + 1 >= n { return 1 }
        var sum = 1.0
        var term = 1.0
        var i = k
        while i > 0 {
            term *= Double(i) / Double(n - i + 1)
            sum += term
            if term < sum * 0x1p-60 { break }
            i -= 1
        }
        let logTail = Binomial.logHalfPMF(k, n) + PortableMath.log(sum)
        return min(1, 2 * PortableMath.exp(logTail))
    }
}

/// log P(X = k) for X ~ Binomial(n, 1/2), accurate to a few ulps of the result's magnitude.
enum Binomial {
    static func logHalfPMF(_ k: Int, _ n: Int) -> Double {
        precondition(0 <= k && k <= n)
        let logHalf = -PortableMath.log(2.0)
        if k == 0 || k == n { return Double(n) * logHalf }
        let nd = Double(n)
        let kd = Double(k)
        let half = nd / 2
        // Loader (2000): log C(n,k) p^k q^(n−k) = stirlerr(n) − stirlerr(k) − stirlerr(n−k)
        //   − bd0(k, np) − bd0(n−k, nq) − ½·log(2π·k·(n−k)/n).
        let lc =
            stirlingError(nd) - stirlingError(kd) - stirlingError(nd - kd)
            - deviance(kd, half) - deviance(nd - kd, half)
        let lf = PortableMath.log(2 * Double.pi) + PortableMath.log(kd) + PortableMath.log1p(-kd / nd)
        return lc - 0.5 * lf
    }

    /// `log(x!) − [½·log(2πx) + x·log(x) − x]` for integer `x ≥ 1`.
    static func stirlingError(_ x: Double) -> Double {
        if x <= 15 {
            // x! is exact in a double up to 18!, and the difference is ~1/(12x) so the
            // absolute error stays near 1e-15.
            var factorial = 1.0
            var i = 2.0
            while i <= x {
                factorial *= i
                i += 1
            }
            return PortableMath.log(factorial) - (x + 0.5) * PortableMath.log(x) + x
                - 0.5 * PortableMath.log(2 * Double.pi)
        }
        // Asymptotic series 1/(12x) − 1/(360x³) + 1/(1260x⁵) − 1/(1680x⁷) + 1/(1188x⁹);
        // for x > 15 the omitted terms are below 1e-17.
        let s0 = 1.0 / 12
        let s1 = 1.0 / 360
        let s2 = 1.0 / 1260
        let s3 = 1.0 / 1680
        let s4 = 1.0 / 1188
        let xx = x * x
        return (s0 - (s1 - (s2 - (s3 - s4 / xx) / xx) / xx) / xx) / x
    }

    /// `x·log(x/m) + m − x` without the cancellation of the direct form when `x ≈ m`.
    static func deviance(_ x: Double, _ m: Double) -> Double {
        if abs(x - m) < 0.1 * (x + m) {
            // With v = (x − m)/(x + m), log(x/m) = 2·artanh(v) = 2(v + v³/3 + v⁵/5 + …),
            // and the expression becomes (x − m)·v + 2x·Σ_{j≥1} v^(2j+1)/(2j+1).
            let v = (x - m) / (x + m)
            var s = (x - m) * v
            var power = 2 * x * v
            let v2 = v * v
            var j = 1
            while j < 1000 {
                power *= v2
                let next = s + power / Double(2 * j + 1)
                if next == s { return s }
                s = next
                j += 1
            }
            return s
        }
        return x * PortableMath.log(x / m) + m - x
    }
}
