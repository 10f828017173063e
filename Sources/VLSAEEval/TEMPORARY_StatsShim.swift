// TEMPORARY (eval branch): stands in for the `stats` branch's Statistics.swift with the agreed
// signature so that Metrics.acc1Interval compiles and runs. Delete this file when merging `stats`.
import VLSAECore

public struct ConfidenceInterval: Sendable, Equatable {
    public let low: Double
    public let high: Double
    public let level: Double
    public let resamples: Int
    public let seed: UInt64
}

public enum Bootstrap {
    public static func accuracyInterval(correct: [Bool], resamples: Int, level: Double, seed: UInt64) -> ConfidenceInterval {
        var rng = SeededRandom(seed: seed)
        let n = correct.count
        var means: [Double] = []
        for _ in 0..<resamples {
            var s = 0
            for _ in 0..<n where correct[rng.nextInt(below: n)] { s += 1 }
            means.append(Double(s) / Double(n))
        }
        means.sort()
        let a = (1 - level) / 2
        let lo = means[min(means.count - 1, Int((a * Double(resamples)).rounded(.down)))]
        let hi = means[min(means.count - 1, Int(((1 - a) * Double(resamples)).rounded(.down)))]
        return ConfidenceInterval(low: lo, high: hi, level: level, resamples: resamples, seed: seed)
    }
}
