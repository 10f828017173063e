import CKernels

/// Elementary functions that return the same bits on every CPU, C library and platform.
///
/// The platform's `exp`, `log`, `cos`, `pow`… (glibc, Apple libm, musl) agree only to within an
/// ulp or so and differ between vendors and versions, so any result computed with them can change
/// in its last bits from one machine to the next. These are written with IEEE-754 basic operations
/// only (`+ − × ÷`, `squareRoot`, conversions and exact scaling by powers of two), evaluated in a
/// fixed order, with constant tables generated once by `scripts/make_portable_math_tables.py`
/// (mpmath, rounded once to nearest; the tables are data, `Sources/CKernels/portable_math_tables.bin`,
/// embedded at compile time). No fused multiply-add is used (exact products are formed with
/// Dekker's splitting), and Swift never contracts `a * b + c` on its own, so the bits are the same
/// on x86-64 and arm64, Linux and macOS, in debug and release builds. Round-to-nearest, the only
/// rounding mode Swift code runs in, is assumed.
///
/// Accuracy, in ulps of the exact result (the spacing of doubles in its binade), is measured
/// against correctly rounded values from mpmath at 200 and 400 bits: the committed fixtures
/// (`Tests/VLSAECoreTests/Fixtures/math/make_math_fixtures.py`, ~2000 arguments per function,
/// checked by `PortableMathTests`) and, once, the same generator with 25 times as many arguments
/// (~48 000 per function). The results are correctly rounded for all of the ~300 000 arguments but
/// three, each within 10⁻⁴ ulp of a rounding midpoint; the maximum errors below are from both
/// runs. Before the final rounding each result carries a relative error below ~2⁻⁶⁵
/// (pow: below 2⁻⁶⁹·|y·log x| + 2⁻⁶⁸), so they are faithfully rounded with room to spare.
///
/// The internal building blocks — an exact product, double-double sums, log in double-double and
/// exp of a double-double — are what make `pow` accurate for large |y·log x|: with log x in plain
/// double the relative error of exp(y·log x) grows with |y·log x| (up to ~745·2⁻⁵³).
public enum PortableMath {
    // MARK: - exp

    /// eˣ. Measured maximum error 0.5000 ulp; correctly rounded for all ~50 000 tested arguments but
    /// one, exp(2⁻⁵³), which lies 2⁻¹⁰⁷ above a midpoint (1 instead of 1 + 2⁻⁵²). The tests hold it
    /// to ≤ 0.501 ulp.
    ///
    /// - Domain: every double. `x > 709.782712893384` overflows to `+inf`; results below
    ///   `2⁻¹⁰²²` are subnormal and still rounded once (no double rounding); from
    ///   `x = −745.1332191019412` (whose exp is just below 2⁻¹⁰⁷⁵) downwards the result is `+0`.
    /// - Special values: `exp(±0) = 1`, `exp(+inf) = +inf`, `exp(−inf) = +0`, NaN → NaN.
    ///   |x| < 2⁻⁵⁴ returns `1 + x` (correctly rounded); subnormal x give 1.
    /// - Method: x = k·ln2/128 + r with k = round(x·128/ln 2) and r reduced in two steps
    ///   (Cody–Waite, ln 2/128 split into 32 + 53 bits, so k·hi is exact), |r| ≤ 0.0028;
    ///   eˣ = 2^(k>>7) · 2^((k&127)/128) · eʳ with the middle factor from a double-double table
    ///   and eʳ − 1 by its degree-6 Taylor polynomial (truncation < 2⁻⁷²); the product of the
    ///   table value and r is exact, so the value before the final rounding is within ~2⁻⁶⁸.
    public static func exp(_ x: Double) -> Double {
        if x.isNaN { return x + x }
        if x > 709.8 { return .infinity }
        if x < -745.2 { return 0 }
        if x.magnitude < 0x1p-54 { return 1 + x }
        let (e, hi, tail) = expCore(x, 0)
        return scaledExp(e, hi, tail)
    }

    // MARK: - log, log1p

    /// Natural logarithm. Measured maximum error 0.5000 ulp, correctly rounded for all ~49 000 tested
    /// arguments; the tests hold it to ≤ 0.501 ulp.
    ///
    /// - Domain: x > 0, including subnormals (log of the smallest subnormal is −744.44…).
    /// - Special values: `log(±0) = −inf`, `log(1) = +0`, `log(+inf) = +inf`; x < 0 (including
    ///   −inf) and NaN give NaN.
    /// - Method: x = 2ᵉ·m with m ∈ [0.705, 1.41); c = j/128 the nearest table point and
    ///   invc = RN(1/c); r = m·invc − 1 exactly (Dekker's product), |r| < 0.0056; then
    ///   log x = e·ln 2 − log(invc) + log1p(r), the first terms and r² in double-double and the
    ///   rest by the Taylor series to r¹⁰. The double-double result is accurate to 2⁻⁶⁹
    ///   relative (measured; the r³ term in double dominates), so only the final rounding remains.
    public static func log(_ x: Double) -> Double {
        if !(x > 0) { return x == 0 ? -.infinity : .nan }
        if x == .infinity { return x }
        return logDD(x, 0).hi
    }

    /// log(1 + x). Measured maximum error 0.5000 ulp, correctly rounded for all ~49 000 tested
    /// arguments; the tests hold it to ≤ 0.501 ulp.
    ///
    /// - Domain: x > −1. Exact near 0: |x| < 2⁻⁶⁰ (subnormals included) returns x, keeping the
    ///   sign of zero.
    /// - Special values: `log1p(−1) = −inf`, x < −1 (including −inf) gives NaN,
    ///   `log1p(+inf) = +inf`, `log1p(±0) = ±0`, NaN → NaN.
    /// - Method: 1 + x is formed exactly as a double-double (two-sum) and its logarithm taken with
    ///   the same double-double algorithm as `log`, so no cancellation is lost near x = 0 or −1.
    public static func log1p(_ x: Double) -> Double {
        if x.isNaN { return x + x }
        if !(x > -1) { return x == -1 ? -.infinity : .nan }
        if x == .infinity { return x }
        if x.magnitude < 0x1p-60 { return x }
        let (sh, sl) = twoSum(1, x)
        return logDD(sh, sl).hi
    }

    // MARK: - sin, cos

    /// Sine on the whole double range. Measured maximum error 0.5000 ulp, correctly rounded for all
    /// ~49 500 tested arguments (up to 1.8·10³⁰⁸, the doubles nearest to multiples of π/2 up to
    /// 2⁶⁰·π/2, and 6381956970095103·2⁷⁹⁷, of all doubles the closest to a multiple of π/2); the
    /// tests hold it to ≤ 0.501 ulp.
    ///
    /// - Special values: `sin(±0) = ±0`; |x| < 2⁻²⁶ returns x (correctly rounded, sign kept,
    ///   subnormals included); `sin(±inf)` and NaN give NaN.
    /// - Method: x = n·π/2 + r with |r| ≤ π/4, r as a double-double: Cody–Waite with π/2 split
    ///   into 33 + 33 + 53 bits for |x| < 2²⁰ (unless r lost too many bits to cancellation), else
    ///   Payne–Hanek with 1280 bits of 2/π in integer arithmetic (x·2/π mod 4 to better than 2⁻¹³⁶,
    ///   then 106 bits of the fraction), so even the worst case (|r| ≈ 2⁻⁶¹) keeps ~70 correct
    ///   bits. Then r = a + δ with a = j/64 from a double-double table of sin a and cos a, and
    ///   sin(a + δ) = sin a·cos δ + cos a·sin δ with the leading product exact and short Taylor
    ///   series in δ (|δ| ≤ 1/128).
    public static func sin(_ x: Double) -> Double {
        if !x.isFinite { return x.isNaN ? x + x : .nan }
        if x.magnitude < 0x1p-26 { return x }
        let (q, rh, rl) = reduceHalfPi(x)
        return quadrantSinCos(q, rh, rl)
    }

    /// Cosine on the whole double range. Measured maximum error 0.5000 ulp, correctly rounded for
    /// all ~49 500 tested arguments (the same as `sin`'s); the tests hold it to ≤ 0.501 ulp.
    /// `cos(2π·u)` for Box–Muller (u ∈ [0, 1)) and `cos(π·t/T)` for the learning-rate schedule take
    /// the Cody–Waite path.
    ///
    /// - Special values: `cos(±0) = 1`; |x| < 2⁻²⁷ returns 1 (correctly rounded); `cos(±inf)` and
    ///   NaN give NaN.
    /// - Method: as `sin`, with cos x = sin(x + π/2) applied to the quadrant.
    public static func cos(_ x: Double) -> Double {
        if !x.isFinite { return x.isNaN ? x + x : .nan }
        if x.magnitude < 0x1p-27 { return 1 }
        let (q, rh, rl) = reduceHalfPi(x)
        return quadrantSinCos(q &+ 1, rh, rl)
    }

    // MARK: - pow

    /// xʸ. Measured maximum error 0.5001 ulp; correctly rounded for all ~54 000 tested argument pairs
    /// (integer powers of Adam's β up to 10⁶, ranks^−s up to 10⁵, x near 1 with |y| up to 6·10¹⁸,
    /// results near overflow and in the subnormal range) but two: pow(DBL_MAX, 0.5), 2⁻¹⁰⁹
    /// relative below a midpoint, and pow(1.0184044727009745, 38820.654753342395) ≈ 2.96·10³⁰⁷.
    /// The tests hold it to ≤ 0.501 ulp. Exact results (2¹⁰, 10², 4^0.5, 2⁻¹⁰⁷⁴…) come out exact.
    ///
    /// - Method: log|x| in double-double (relative error below 2⁻⁶⁹), t = y·log|x| as a
    ///   double-double (exact product), then eᵗ with the low part of t folded into the reduced
    ///   argument. The relative error before the final rounding is below 2⁻⁶⁹·|t| + 2⁻⁶⁸, with
    ///   |t| ≤ 745 for a finite non-zero result: at most ~0.51 ulp in theory, at the edges of the
    ///   range, and 0.5001 ulp measured.
    /// - Special values (C99/IEEE 754 `pow`): `pow(x, ±0) = 1` for every x, NaN included;
    ///   `pow(1, y) = 1` for every y, NaN included; otherwise NaN in either argument gives NaN.
    ///   `pow(±0, y)`: ±inf for odd integer y < 0, +inf for other y < 0, ±0 for odd integer y > 0,
    ///   +0 for other y > 0. `pow(−1, ±inf) = 1`; `pow(x, −inf)` is +inf for |x| < 1 and +0 for
    ///   |x| > 1; `pow(x, +inf)` is +0 for |x| < 1 and +inf for |x| > 1. `pow(−inf, y)`: −0 for odd
    ///   integer y < 0, +0 for other y < 0, −inf for odd integer y > 0, +inf for other y > 0;
    ///   `pow(+inf, y)` is +0 for y < 0 and +inf for y > 0. Finite x < 0 with finite non-integer y
    ///   gives NaN; with integer y the result is |x|ʸ, negated for odd y. Overflow gives ±inf;
    ///   underflow gives subnormals rounded once, then ±0.
    public static func pow(_ x: Double, _ y: Double) -> Double {
        if y == 0 || x == 1 { return 1 }
        if x.isNaN || y.isNaN { return x + y }
        if y.isInfinite {
            if x == -1 { return 1 }
            return (x.magnitude < 1) == (y > 0) ? 0 : .infinity
        }
        // |y| ≥ 2⁵² is an integer; below, truncation through Int64 is exact.
        let yIsInteger = y.magnitude >= 0x1p52 || Double(Int64(y)) == y
        let yIsOdd = yIsInteger && y.magnitude < 0x1p53 && Int64(y) & 1 != 0
        if x == 0 {
            if y < 0 { return yIsOdd ? 1 / x : .infinity }
            return yIsOdd ? x : 0
        }
        if x.isInfinite {
            if x > 0 { return y > 0 ? .infinity : 0 }
            if y > 0 { return yIsOdd ? -.infinity : .infinity }
            return yIsOdd ? -0.0 : 0
        }
        var sign = 1.0
        if x < 0 {
            if !yIsInteger { return .nan }
            if yIsOdd { sign = -1 }
        }
        let ax = x.magnitude
        if ax == 1 { return sign }
        // |log x| ≥ 2⁻⁵⁴ for x ≠ 1, so |y| > 2⁶⁶ means |y·log x| > 4096: certain over/underflow
        // (such y are even integers, so the sign is +).
        if y.magnitude > 0x1p66 { return (ax < 1) == (y > 0) ? 0 : .infinity }
        let (lh, ll) = logDD(ax, 0)
        let (ph, pl) = twoProduct(y, lh)
        let (th, tl) = fastTwoSum(ph, pl + y * ll)
        if th > 709.8 { return sign * .infinity }
        if th < -745.2 { return sign * 0 }
        let (e, hi, tail) = expCore(th, tl)
        return sign * scaledExp(e, hi, tail)
    }

    // MARK: - hypot

    /// √(x² + y²) without undue overflow or underflow. Measured maximum error 0.5000 ulp, correctly
    /// rounded for all ~7 800 tested pairs; the tests hold it to ≤ 0.501 ulp. A subnormal result is
    /// rounded twice (to 53 bits, then to its subnormal precision), so it can be off by up to
    /// 0.75 ulp (tested to ≤ 1 ulp).
    ///
    /// - Special values: ±inf in either argument gives +inf, even with a NaN in the other;
    ///   otherwise NaN gives NaN; `hypot(±0, ±0) = +0`; `hypot(x, ±0) = |x|`.
    /// - Method: both scaled exactly by a power of two so the larger is in [1, 2), the squares
    ///   formed exactly (Dekker) and summed in double-double, then √ with one exact Newton
    ///   correction.
    public static func hypot(_ x: Double, _ y: Double) -> Double {
        var a = x.magnitude
        var b = y.magnitude
        if a.isInfinite || b.isInfinite { return .infinity }
        if a.isNaN || b.isNaN { return x + y }
        if a < b { (a, b) = (b, a) }
        if b == 0 { return a }
        // (b/a)²/2 < 2⁻⁵⁵: √(a² + b²) = a(1 + (b/a)²/2 − …) rounds to a.
        if b < a * 0x1p-27 { return a }
        let ea = Int(a.exponent)
        let down = -ea / 2
        let up = -ea - down
        a = a * pow2(down) * pow2(up)
        b = b * pow2(down) * pow2(up)
        let (a2h, a2l) = twoProduct(a, a)
        let (b2h, b2l) = twoProduct(b, b)
        let (sh, s0) = twoSum(a2h, b2h)
        let sl = s0 + (a2l + b2l)
        let h = sh.squareRoot()
        let (hh, hl) = twoProduct(h, h)
        let r = h + (((sh - hh) - hl) + sl) / (2 * h)
        return r * pow2(-up) * pow2(-down)
    }

    // MARK: - Exact arithmetic

    /// 2ⁿ for −1022 ≤ n ≤ 1023, built from its bits.
    @_transparent static func pow2(_ n: Int) -> Double {
        Double(bitPattern: UInt64(n + 1023) << 52)
    }

    /// x rounded to the nearest integer, ties to even, for |x| < 2⁵¹: adding 1.5·2⁵² leaves no
    /// fraction bits (the same rounding on every platform, and no call to libm's rint).
    @_transparent static func roundToInteger(_ x: Double) -> Double {
        (x + 0x1.8p52) - 0x1.8p52
    }

    /// s + e = a + b exactly (Knuth's two-sum, any a and b).
    @_transparent static func twoSum(_ a: Double, _ b: Double) -> (Double, Double) {
        let s = a + b
        let bb = s - a
        return (s, (a - (s - bb)) + (b - bb))
    }

    /// s + e = a + b exactly when |a| ≥ |b| or a = 0 (Dekker's fast two-sum).
    @_transparent static func fastTwoSum(_ a: Double, _ b: Double) -> (Double, Double) {
        let s = a + b
        return (s, b - (s - a))
    }

    /// hi + lo = a with hi holding the top 26 bits (Veltkamp); |a| < 2⁹⁹⁵.
    @_transparent static func split(_ a: Double) -> (Double, Double) {
        let c = 134_217_729.0 * a  // 2²⁷ + 1
        let hi = c - (c - a)
        return (hi, a - hi)
    }

    /// p + e = a·b exactly (Dekker), barring overflow and underflow of the error term.
    @_transparent static func twoProduct(_ a: Double, _ b: Double) -> (Double, Double) {
        let p = a * b
        let (ah, al) = split(a)
        let (bh, bl) = split(b)
        return (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
    }

    // MARK: - exp core

    /// (e, hi, tail) with e^(x + xl) ≈ 2ᵉ·(hi + tail), hi ∈ [0.997, 2], |tail| < 2⁻¹⁷, for
    /// |x| ≤ 746 and |xl| ≤ 2⁻⁴⁰. Relative error of hi + tail below ~2⁻⁶⁸, so only the final
    /// rounding remains.
    @inline(__always) static func expCore(_ x: Double, _ xl: Double) -> (Int, Double, Double) {
        let kd = roundToInteger(x * invLn2Times128)
        let k = Int(kd)
        // x − kd·hi is exact (kd·hi has ≤ 50 bits and lies within a factor 2 of x, or kd = 0);
        // r = rh + rl, |rl| ≤ ulp(rh)/2, is the reduced argument but for the roundings of kd·lo
        // and xl − kd·lo (|kd·lo| < 2⁻²¹, so below 2⁻⁷³).
        let (rh, rl) = twoSum(x - kd * ln2By128Hi, xl - kd * ln2By128Lo)
        // eʳ − 1 − rh = rl + rh²/2 + rh³/6 + … + rh⁶/720 (truncation < 2⁻⁷², rh·rl < 2⁻⁶⁸).
        let q = rh * rh * (0.5 + rh * (1.0 / 6 + rh * (1.0 / 24 + rh * (1.0 / 120 + rh * (1.0 / 720)))))
        let j = 2 * (k & 127)
        let th = vlsae_pm_exp_table[j]
        let tl = vlsae_pm_exp_table[j + 1]
        // (th + tl)·eʳ = th + th·rh + [th·(rl + q) + tl·(1 + rh)], the leading product exact.
        let (a, ae) = twoProduct(th, rh)
        let (s, se) = fastTwoSum(th, a)
        return (k >> 7, s, se + (ae + (th * (rl + q) + (tl + tl * rh))))
    }

    /// 2ᵉ·(hi + tail) rounded once, including into the subnormal range (e ≥ −1076).
    @inline(__always) static func scaledExp(_ e: Int, _ hi: Double, _ tail: Double) -> Double {
        if e >= -1021 {
            if e <= 1023 { return (hi + tail) * pow2(e) }
            return (hi + tail) * pow2(e - 1) * 2  // e = 1024: overflows exactly when it must
        }
        // The result may be subnormal. Scale so that 2⁻¹⁰²² becomes 1: with y < 1, rounding
        // 1 + y to double rounds y on the subnormal grid, once.
        let (vh, vl) = fastTwoSum(hi, tail)
        let s = pow2(e + 1022)
        let y = vh * s
        let z = vl * s
        if y >= 1 { return y * 0x1p-1022 }
        let h = 1 + y
        let l = ((1 - h) + y) + z
        return ((h + l) - 1) * 0x1p-1022
    }

    // MARK: - log core

    /// log(xh + xl) as (hi, lo) with hi = RN(hi + lo), relative error below ~2⁻⁶⁸, for finite
    /// xh > 0 (subnormal only when xl = 0) and |xl| ≤ ulp(xh).
    static func logDD(_ xh: Double, _ xl: Double) -> (hi: Double, lo: Double) {
        var xh = xh
        var xl = xl
        var e = 0
        if xh < 0x1p-1022 {
            xh *= 0x1p54
            xl *= 0x1p54
            e = -54
        }
        let bits = xh.bitPattern
        let be = Int(bits >> 52) - 1023
        e += be
        var m = Double(bitPattern: (bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)
        var ml = xl == 0 ? 0 : Double(sign: .plus, exponent: -be, significand: xl)
        if m >= 1.41015625 {
            m *= 0.5
            ml *= 0.5
            e += 1
        }
        // m ∈ [0.705, 1.41): table point c = j/128 with j ∈ 90…180.
        let i = 3 * (Int(m * 128 + 0.5) - 90)
        let invc = vlsae_pm_log_table[i]
        let ch = vlsae_pm_log_table[i + 1]
        let cl = vlsae_pm_log_table[i + 2]
        // r = m·invc − 1 exactly as rh + rl (ph ∈ [0.99, 1.01], so ph − 1 is exact).
        let (ph, pl) = twoProduct(m, invc)
        let (rh, rl) = twoSum(ph - 1, pl + ml * invc)
        // log1p(r) = r − r²/2 + r³/3 − … ; r² as a double-double, the cubic and beyond in double.
        let (sh, s0) = twoProduct(rh, rh)
        let sl = s0 + 2 * rh * rl
        let ah = -0.5 * sh
        let al = -0.5 * sl
        let c3 = 1.0 / 3
        let c4 = -1.0 / 4
        let c5 = 1.0 / 5
        let c6 = -1.0 / 6
        let c7 = 1.0 / 7
        let c8 = -1.0 / 8
        let c9 = 1.0 / 9
        let c10 = -1.0 / 10
        let poly = c3 + rh * (c4 + rh * (c5 + rh * (c6 + rh * (c7 + rh * (c8 + rh * (c9 + rh * c10))))))
        let q = (sh * rh) * poly + sh * rl
        let ed = Double(e)
        let (kh, kl) = twoSum(ed * ln2Hi, ch)
        let (h1, l1) = twoSum(kh, rh)
        let (h2, l2) = twoSum(h1, ah)
        let lo = ((ed * ln2Lo + cl) + kl) + (l1 + l2) + ((rl + al) + q)
        let (hi, lo2) = fastTwoSum(h2, lo)
        return (hi, lo2)
    }

    // MARK: - sin/cos core

    /// (q, rh, rl) with x = n·π/2 + rh + rl, q = n mod 4, |rh + rl| ≤ π/4 (+ an ulp), the
    /// reduced argument accurate to ≥ 2⁻⁶⁴ relative.
    static func reduceHalfPi(_ x: Double) -> (Int, Double, Double) {
        let ax = x.magnitude
        if ax <= 0x1.921fb54442d18p-1 { return (0, x, 0) }  // RN(π/4)
        if ax < 0x1p20 {
            let nd = roundToInteger(x * twoOverPi)
            // |n| < 2²⁰: n·part1 and n·part2 are exact, and x − n·part1 is exact (Sterbenz).
            let a = x - nd * piOver2Part1
            let (b, e1) = twoSum(a, -(nd * piOver2Part2))
            let (rh, rl) = twoSum(b, e1 - nd * piOver2Part3)
            // Absolute error ≤ |n|·2⁻¹¹⁷ + 2⁻¹⁰⁶·|r|: keep it only if r lost few bits.
            if rh.magnitude >= nd.magnitude * 0x1p-50 { return (Int(nd) & 3, rh, rl) }
        }
        return payneHanek(x)
    }

    /// The reduction modulo π/2 of any finite |x| ≥ π/4 with the bits of 2/π in integer
    /// arithmetic: x = M·2ᵉ (M < 2⁵³) times the 256 bits of 2/π that matter, giving the quadrant
    /// and the fraction to ≥ 189 bits.
    static func payneHanek(_ x: Double) -> (Int, Double, Double) {
        let bits = x.magnitude.bitPattern
        let ex = Int(bits >> 52) - 1075
        let mant = (bits & 0x000F_FFFF_FFFF_FFFF) | (1 << 52)
        // Words before j0 contribute multiples of 8 to x·2/π.
        let j0 = ex < 67 ? 0 : ((ex - 67) >> 6) + 1
        // v = mant · (w[j0] w[j0+1] w[j0+2] w[j0+3]), little-endian 64-bit limbs.
        var v: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        let w = vlsae_pm_two_over_pi_bits!
        let p3 = mant.multipliedFullWidth(by: w[j0 + 3])
        let p2 = mant.multipliedFullWidth(by: w[j0 + 2])
        let p1 = mant.multipliedFullWidth(by: w[j0 + 1])
        let p0 = mant.multipliedFullWidth(by: w[j0])
        // a + b + carry → (sum, carry out); at most one of the two additions overflows.
        func add(_ a: UInt64, _ b: UInt64, _ carry: UInt64) -> (UInt64, UInt64) {
            let (s, o1) = a.addingReportingOverflow(b)
            let (t, o2) = s.addingReportingOverflow(carry)
            return (t, o1 || o2 ? 1 : 0)
        }
        var carry: UInt64
        v.0 = p3.low
        (v.1, carry) = add(p3.high, p2.low, 0)
        (v.2, carry) = add(p2.high, p1.low, carry)
        (v.3, carry) = add(p1.high, p0.low, carry)
        v.4 = p0.high &+ carry  // v < 2³⁰⁹: no overflow
        let limbs = [v.0, v.1, v.2, v.3, v.4]
        // Bit `point` of v has weight 1 in x·2/π (mod 8).
        let point = 64 * j0 + 256 - ex
        func word(_ low: Int) -> UInt64 {  // bits low ..< low + 64 of v (0 outside 0 ..< 320)
            if low <= -64 || low >= 320 { return 0 }
            if low < 0 { return limbs[0] << UInt64(-low) }
            let i = low >> 6
            let sh = UInt64(low & 63)
            let above: UInt64 = sh != 0 && i + 1 < 5 ? limbs[i + 1] << (64 - sh) : 0
            return (limbs[i] >> sh) | above
        }
        var q = Int(word(point) & 3)
        var f2 = word(point - 64)
        var f1 = word(point - 128)
        var f0 = word(point - 192)
        var negative = false
        if f2 >> 63 != 0 {
            // fraction ≥ ½: take fraction − 1 (negate the 192-bit number) and the next quadrant.
            q += 1
            negative = true
            f0 = ~f0
            f1 = ~f1
            f2 = ~f2
            var o: Bool
            (f0, o) = f0.addingReportingOverflow(1)
            if o {
                (f1, o) = f1.addingReportingOverflow(1)
                if o { f2 &+= 1 }
            }
        }
        // The fraction f = (f2 f1 f0)·2⁻¹⁹² as a double-double (106 leading bits, truncated).
        var shift = 0
        if f2 == 0 {
            f2 = f1
            f1 = f0
            f0 = 0
            shift += 64
        }
        if f2 == 0 {
            f2 = f1
            f1 = f0
            f0 = 0
            shift += 64
        }
        let lz = f2.leadingZeroBitCount
        if lz > 0 {
            f2 = (f2 << UInt64(lz)) | (f1 >> UInt64(64 - lz))
            f1 = (f1 << UInt64(lz)) | (f0 >> UInt64(64 - lz))
        }
        shift += lz
        // f = f2·2^(−64−shift) + f1·2^(−128−shift) + …
        let top = Double(f2 >> 11)  // 53 bits, exact
        let next = Double(((f2 & 0x7FF) << 42) | (f1 >> 22))  // the next 53 bits, exact
        let fh = top * pow2(-53 - shift)
        let fl = next * pow2(-106 - shift)
        let (ph, pl) = twoProduct(fh, piOver2Hi)
        let (rh, rl) = fastTwoSum(ph, pl + (fh * piOver2Lo + fl * piOver2Hi))
        // |x| = q·π/2 ± r; x < 0 reverses both.
        let sh = negative ? -rh : rh
        let sl = negative ? -rl : rl
        return x < 0 ? ((-q) & 3, -sh, -sl) : (q & 3, sh, sl)
    }

    /// sin(q·π/2 + r) for |r| ≤ π/4 + ε, r = rh + rl.
    @inline(__always) static func quadrantSinCos(_ q: Int, _ rh: Double, _ rl: Double) -> Double {
        let negative = rh < 0
        let t = negative ? -rh : rh
        let tl = negative ? -rl : rl
        if q & 1 == 0 {
            let s = sinKernel(t, tl)
            return (q & 2 == 0) != negative ? s : -s
        }
        let c = cosKernel(t, tl)
        return q & 2 == 0 ? c : -c
    }

    /// The shared start of `sinKernel` and `cosKernel` for 0 ≤ t ≤ 0.8: t = a + u with a = j/64 from the table,
    /// |u| ≤ 1/128; sin a = sh + sl and cos a = ch + cl from the table; cm1 ≈ cos u − 1 and sm ≈ sin u − u.
    @inline(__always) static func kernelStep(
        _ t: Double
    ) -> (u: Double, sh: Double, sl: Double, ch: Double, cl: Double, cm1: Double, sm: Double) {
        let j = Int(t * 64 + 0.5)
        let u = t - Double(j) * 0x1p-6  // exact
        let i = 4 * j
        let sh = vlsae_pm_sincos_table[i]
        let sl = vlsae_pm_sincos_table[i + 1]
        let ch = vlsae_pm_sincos_table[i + 2]
        let cl = vlsae_pm_sincos_table[i + 3]
        let u2 = u * u
        let cm1 = u2 * (-0.5 + u2 * (1.0 / 24 - u2 * (1.0 / 720)))  // cos δ − 1
        let sm = u * u2 * (-1.0 / 6 + u2 * (1.0 / 120 - u2 * (1.0 / 5040)))  // sin δ − δ
        return (u, sh, sl, ch, cl, cm1, sm)
    }

    /// sin(t + tl) for 0 ≤ t ≤ 0.8: t = a + u with a = j/64 from the table, |u| ≤ 1/128.
    @inline(__always) static func sinKernel(_ t: Double, _ tl: Double) -> Double {
        let (u, sh, sl, ch, cl, cm1, sm) = kernelStep(t)
        // sin a·cos δ + cos a·sin δ with δ = u + tl, cos δ − 1 ≈ cm1 − u·tl, sin δ − δ ≈ sm:
        // sh + ch·u (exact product) + [sl + cl·u + ch·tl + sin a·(cos δ − 1) + cos a·(sin δ − δ)]
        let (ph, pl) = twoProduct(ch, u)
        let (h, e) = twoSum(sh, ph)
        let lo = ((e + pl) + (sl + (ch * tl + cl * u))) + (sh * (cm1 - u * tl) + ch * sm)
        return h + lo
    }

    /// cos(t + tl) for 0 ≤ t ≤ 0.8, as `sinKernel`.
    @inline(__always) static func cosKernel(_ t: Double, _ tl: Double) -> Double {
        let (u, sh, sl, ch, cl, cm1, sm) = kernelStep(t)
        // cos a·cos δ − sin a·sin δ, as in sinKernel:
        // ch − sh·u (exact product) + [cl − sl·u − sh·tl + cos a·(cos δ − 1) − sin a·(sin δ − δ)]
        let (ph, pl) = twoProduct(sh, u)
        let (h, e) = twoSum(ch, -ph)
        let lo = ((e - pl) + (cl - (sh * tl + sl * u))) + (ch * (cm1 - u * tl) - sh * sm)
        return h + lo
    }
}
