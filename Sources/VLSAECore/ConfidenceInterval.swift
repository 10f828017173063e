/// A two-sided percentile-bootstrap confidence interval together with what is needed to
/// reproduce it. Computed by VLSAEEval (`Bootstrap`) and written as it is into result documents
/// (`{"high", "level", "low", "resamples", "seed"}`).
@MemberwiseInit
public struct ConfidenceInterval: Codable, Equatable, Sendable {
    /// Lower end, the `(1 − level)/2` quantile of the bootstrap replicates.
    public var low: Double
    /// Upper end, the `1 − (1 − level)/2` quantile of the bootstrap replicates.
    public var high: Double
    /// Nominal coverage, e.g. 0.95.
    public var level: Double
    /// Number of bootstrap replicates.
    public var resamples: Int
    /// Seed of the `SeededRandom` stream that drew the resamples.
    public var seed: UInt64

    /// Whether `value` lies in the closed interval `[low, high]`.
    public func contains(_ value: Double) -> Bool { low <= value && value <= high }

    /// `high − low`.
    public var width: Double { high - low }
}
