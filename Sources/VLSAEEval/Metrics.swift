import VLSAECore

/// Single-label classification metrics with CLIP_benchmark's names and meanings.
public struct ClassificationMetrics: Sendable, Equatable {
    /// Fraction of images whose true class has the largest logit.
    public let acc1: Double
    /// Fraction with the true class among the 5 largest; nil (JSON null) when C < 5.
    public let acc5: Double?
    /// Mean recall over the classes present in the labels (sklearn's balanced accuracy).
    public let meanPerClassRecall: Double
    /// Recall of each class; nil for a class with no images.
    public let perClassRecall: [Double?]
    /// N, the number of images scored.
    public let nImages: Int
    /// C, the number of classes of the dataset (also those without images).
    public let nClasses: Int
}

/// Computes `ClassificationMetrics` from `Predictions`.
public enum Metrics {
    /// acc1, acc5 (nil when C < 5), mean per-class recall and per-class recall of `p`, which must hold at least one
    /// image.
    public static func compute(_ p: Predictions) -> ClassificationMetrics {
        let n = p.count
        precondition(n > 0, "metrics need at least one image")
        var support = [Int](repeating: 0, count: p.numClasses)
        var hits = [Int](repeating: 0, count: p.numClasses)
        var top1 = 0
        var top5 = 0
        for i in 0..<n {
            let label = p.labels[i]
            support[label] += 1
            if p.trueRank[i] == 0 {
                top1 += 1
                hits[label] += 1
            }
            if p.trueRank[i] < 5 { top5 += 1 }
        }
        let perClass: [Double?] = (0..<p.numClasses).map { c in
            support[c] > 0 ? Double(hits[c]) / Double(support[c]) : nil
        }
        let present = perClass.compactMap { $0 }
        return ClassificationMetrics(
            acc1: Double(top1) / Double(n),
            acc5: p.numClasses >= 5 ? Double(top5) / Double(n) : nil,
            meanPerClassRecall: present.reduce(0, +) / Double(present.count),
            perClassRecall: perClass, nImages: n, nClasses: p.numClasses)
    }

    /// Top-k accuracy, nil when there are fewer than k classes (undefined, as in CLIP_benchmark).
    public static func topK(_ p: Predictions, k: Int) -> Double? {
        guard p.numClasses >= k, p.count > 0 else { return nil }
        return Double(p.trueRank.lazy.filter { $0 < k }.count) / Double(p.count)
    }

    /// Seeded percentile-bootstrap interval for top-1 accuracy (images resampled with replacement).
    public static func acc1Interval(
        _ p: Predictions, resamples: Int = 1000, level: Double = 0.95,
        seed: UInt64
    ) throws -> ConfidenceInterval {
        try Bootstrap.accuracyInterval(correct: p.correct(topK: 1), resamples: resamples, level: level, seed: seed)
    }
}
