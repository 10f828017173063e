import Foundation

/// How data values map onto an axis.
public enum AxisScale: Equatable, Sendable {
    case linear
    /// Base-2 logarithmic, ticks at powers of two (e.g. SAE widths or k = 16…256).
    case log2
    /// Base-10 logarithmic, ticks at powers of ten (with 2× and 5× when the range is narrow).
    case log10

    /// The value in axis space, nil when it cannot be shown (non-finite, or ≤ 0 on a log axis).
    func transform(_ v: Double) -> Double? {
        guard v.isFinite else { return nil }
        switch self {
        case .linear: return v
        case .log2: return v > 0 ? Foundation.log2(v) : nil
        case .log10: return v > 0 ? Foundation.log10(v) : nil
        }
    }

    func inverse(_ t: Double) -> Double {
        switch self {
        case .linear: return t
        case .log2: return Foundation.pow(2, t)
        case .log10: return Foundation.pow(10, t)
        }
    }
}

/// Tick marks for one axis: the axis spans `lower…upper` in data units and `values` are the
/// tick positions (all inside that span), each with its label.
public struct Ticks: Equatable, Sendable {
    /// Data value at the axis's start (left or bottom end).
    public var lower: Double
    /// Data value at the axis's end (right or top end).
    public var upper: Double
    /// Distance between neighbouring ticks for linear axes; 0 for logarithmic ones.
    public var step: Double
    /// Tick positions in data units, ascending, all within `lower…upper`.
    public var values: [Double]
    /// Tick labels, one per entry of `values`, formatted in one style per axis.
    public var labels: [String]
}

/// "Nice" tick computation: steps of 1, 2 or 5 times a power of ten, with the axis extended
/// outward to whole steps so the first and last ticks sit on the axis ends.
public enum NiceTicks {
    /// The smallest 1-2-5 step that is ≥ `raw` (raw > 0).
    public static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let exponent = (Foundation.log10(raw)).rounded(.down)
        let magnitude = Foundation.pow(10, exponent)
        let fraction = raw / magnitude
        // Tolerance so that e.g. 0.2 (stored as 0.2000000000000000111) stays 0.2, not 0.5.
        let nice: Double
        if fraction <= 1 + 1e-9 {
            nice = 1
        } else if fraction <= 2 + 1e-9 {
            nice = 2
        } else if fraction <= 5 + 1e-9 {
            nice = 5
        } else {
            nice = 10
        }
        return nice * magnitude
    }

    /// Expands a degenerate or invalid range into something drawable: a single value gets ±10 %
    /// of its magnitude (±1 around zero), and non-finite bounds fall back to 0…1.
    public static func padded(min lo: Double, max hi: Double) -> (Double, Double) {
        guard lo.isFinite, hi.isFinite else {
            if lo.isFinite { return padded(min: lo, max: lo) }
            if hi.isFinite { return padded(min: hi, max: hi) }
            return (0, 1)
        }
        var a = Swift.min(lo, hi)
        var b = Swift.max(lo, hi)
        let scale = Swift.max(abs(a), abs(b))
        if b - a <= scale * 1e-12 {
            let delta = scale > 0 ? scale * 0.1 : 1
            a -= delta
            b += delta
        }
        return (a, b)
    }

    /// Linear ticks covering `min…max` with about `targetCount` ticks.
    public static func linear(min lo: Double, max hi: Double, targetCount: Int = 6) -> Ticks {
        let (a, b) = padded(min: lo, max: hi)
        let target = Swift.min(Swift.max(targetCount, 2), 50)
        // Divided before subtracting: b - a overflows for ranges near ±Double.greatestFiniteMagnitude.
        let step = niceStep(b / Double(target - 1) - a / Double(target - 1))
        let first = (a / step + 1e-9).rounded(.down)
        let last = (b / step - 1e-9).rounded(.up)
        guard step.isFinite, first.isFinite, last.isFinite, last - first <= 200,
            (first * step).isFinite, (last * step).isFinite
        else {
            // Ranges near the limits of Double: just label the two ends.
            return Ticks(lower: a, upper: b, step: 0, values: [a, b], labels: [formatPlain(a), formatPlain(b)])
        }
        let values = stride(from: first, through: last, by: 1).map { $0 * step }
        let lower = first * step
        let upper = Swift.max(last * step, lower + step)
        let scientific = needsScientific(maxMagnitude: Swift.max(abs(lower), abs(upper)), step: step)
        return Ticks(
            lower: lower, upper: upper, step: step, values: values,
            labels: values.map { format($0, step: step, scientific: scientific) })
    }

    /// Logarithmic ticks for positive data in `min…max`. The axis spans the data (padded by a
    /// quarter decade/octave each side, so points do not sit on the frame) rather than whole powers.
    public static func logarithmic(min lo: Double, max hi: Double, scale: AxisScale) -> Ticks {
        let base: Double = scale == .log2 ? 2 : 10
        guard scale != .linear, lo.isFinite, hi.isFinite, lo > 0, hi > 0,
            let tl = scale.transform(Swift.min(lo, hi)), let th = scale.transform(Swift.max(lo, hi))
        else {
            return logarithmic(min: 1, max: base, scale: scale == .linear ? .log10 : scale)
        }
        let pad = th - tl < 1e-9 ? 0.5 : 0.25
        let t0 = tl - pad
        let t1 = th + pad
        var exponents = Array(stride(from: t0.rounded(.up), through: t1.rounded(.down), by: 1))
        // Too many powers make unreadable labels: thin to every 2nd, 3rd, … power.
        if exponents.count > 10 {
            let every = Int((Double(exponents.count) / 8).rounded(.up))
            exponents = exponents.enumerated().filter { $0.offset % every == 0 }.map(\.element)
        }
        var values = exponents.map { Foundation.pow(base, $0) }
        if values.count < 3 {
            // A narrow range: add 2× and 5× (base 10) or 1.5× (base 2) intermediate ticks.
            let multipliers: [Double] = base == 10 ? [1, 2, 5] : [1, 1.5]
            let lowPower = (t0).rounded(.down)
            let highPower = (t1).rounded(.up)
            values = stride(from: lowPower, through: highPower, by: 1).flatMap { e in
                multipliers.map { $0 * Foundation.pow(base, e) }
            }.filter { v in
                guard let t = scale.transform(v) else { return false }
                return t >= t0 - 1e-9 && t <= t1 + 1e-9
            }
        }
        if values.count < 2 {
            // Still too few (a sliver of a decade): fall back to linear ticks inside the range.
            let lin = linear(min: scale.inverse(t0), max: scale.inverse(t1), targetCount: 4)
            values = lin.values.filter { v in
                guard let t = scale.transform(v) else { return false }
                return t >= t0 - 1e-9 && t <= t1 + 1e-9
            }
        }
        return Ticks(
            lower: scale.inverse(t0), upper: scale.inverse(t1), step: 0, values: values,
            labels: values.map { formatPlain($0) })
    }

    /// Label for a tick on a linear axis with the given step: just enough decimals to tell
    /// neighbouring ticks apart. `scientific` (default: decided from this value and step) switches
    /// to mantissa-exponent form, which `linear` uses for whole axes of very large or very small
    /// numbers so that all labels on one axis share a style.
    public static func format(_ value: Double, step: Double, scientific: Bool? = nil) -> String {
        guard value.isFinite else { return "" }
        let useScientific = scientific ?? needsScientific(maxMagnitude: abs(value), step: step)
        if useScientific {
            if value == 0 { return "0" }
            guard step.isFinite else { return formatPlain(value) }
            // Enough mantissa digits to reach the step's decimal place.
            let digits =
                step > 0
                ? Int(Foundation.log10(abs(value)).rounded(.down) - Foundation.log10(step).rounded(.down)) : 3
            return cleanNegativeZero(String(format: "%.\(Swift.min(Swift.max(digits, 0), 16))e", value))
        }
        guard step.isFinite else { return formatPlain(value) }
        let decimals = step > 0 ? Swift.max(0, Int(-(Foundation.log10(step) + 1e-9).rounded(.down))) : 2
        return cleanNegativeZero(String(format: "%.\(Swift.min(decimals, 16))f", value))
    }

    static func needsScientific(maxMagnitude: Double, step: Double) -> Bool {
        maxMagnitude >= 1e6 || (step > 0 && step < 1e-4)
    }

    /// Label for a value without a step (log axes, point labels): integers as integers,
    /// otherwise up to four significant digits.
    public static func formatPlain(_ value: Double) -> String {
        guard value.isFinite else { return "" }
        if value == value.rounded(), abs(value) < 1e6 {
            return cleanNegativeZero(String(format: "%.0f", value))
        }
        return cleanNegativeZero(String(format: "%.4g", value))
    }

    private static func cleanNegativeZero(_ s: String) -> String {
        // "-0.0" and friends read as a sign error on a tick label.
        if s.hasPrefix("-"), s.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { return String(s.dropFirst()) }
        return s
    }
}

/// Maps data values on one axis to pixel positions.
struct AxisMap {
    let scale: AxisScale
    let ticks: Ticks
    /// Axis span in transformed units.
    let t0: Double
    let t1: Double
    /// Pixel positions of `ticks.lower` and `ticks.upper`.
    let p0: Double
    let p1: Double

    init(scale: AxisScale, ticks: Ticks, from p0: Double, to p1: Double) {
        self.scale = scale
        self.ticks = ticks
        self.p0 = p0
        self.p1 = p1
        let a = scale.transform(ticks.lower) ?? 0
        let b = scale.transform(ticks.upper) ?? 1
        t0 = a
        t1 = b > a ? b : a + 1
    }

    /// Pixel position of `v`, nil when the value cannot be drawn on this axis.
    func pixel(_ v: Double) -> Double? {
        guard let t = scale.transform(v) else { return nil }
        // Halved so the differences cannot overflow for data near the limits of Double.
        let p = p0 + (t / 2 - t0 / 2) / (t1 / 2 - t0 / 2) * (p1 - p0)
        return p.isFinite ? p : nil
    }

    /// Ticks for data spanning `lo…hi` (already restricted to values valid on `scale`).
    static func ticks(scale: AxisScale, min lo: Double?, max hi: Double?, targetCount: Int) -> Ticks {
        switch scale {
        case .linear:
            guard let lo, let hi else { return NiceTicks.linear(min: 0, max: 1, targetCount: targetCount) }
            return NiceTicks.linear(min: lo, max: hi, targetCount: targetCount)
        case .log2, .log10:
            guard let lo, let hi else {
                return NiceTicks.logarithmic(min: 1, max: scale == .log2 ? 256 : 100, scale: scale)
            }
            return NiceTicks.logarithmic(min: lo, max: hi, scale: scale)
        }
    }
}
