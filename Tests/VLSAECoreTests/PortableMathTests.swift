import Foundation
import VLSAECore
import VLSAETestSupport
import XCTest

/// PortableMath against correctly rounded references from mpmath
/// (Fixtures/math/make_math_fixtures.py; the file format is described there).
final class PortableMathTests: XCTestCase {
    struct Case {
        var args: [Double]
        var expected: [(value: Double, frac: Double)]
    }

    /// A folder of larger fixtures written by `make_math_fixtures.py --scale N --out DIR`, if set.
    static let external = ProcessInfo.processInfo.environment["PORTABLE_MATH_FIXTURES"]

    static func load(_ name: String) throws -> [Case] {
        let folder: URL
        if let external {
            folder = URL(fileURLWithPath: external)
        } else {
            folder = FixtureFolder(bundle: .module).url("math")
        }
        let data = try Data(contentsOf: folder.appendingPathComponent("\(name).bin"))
        let bytes = [UInt8](data)
        func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
        XCTAssertEqual(Array(bytes[0..<8]), Array("VLSAEMF1".utf8), "\(name): bad magic")
        let arity = u32(8)
        let outputs = u32(12)
        let size = 8 * arity + 12 * outputs
        XCTAssertEqual((bytes.count - 16) % size, 0, "\(name): truncated")
        var cases: [Case] = []
        var at = 16
        while at + size <= bytes.count {
            let args = (0..<arity).map { Double(bitPattern: u64(at + 8 * $0)) }
            var p = at + 8 * arity
            var expected: [(Double, Double)] = []
            for _ in 0..<outputs {
                let v = Double(bitPattern: u64(p))
                let f = Float(bitPattern: UInt32(u32(p + 8)))
                expected.append((v, Double(f)))
                p += 12
            }
            cases.append(Case(args: args, expected: expected))
            at += size
        }
        return cases
    }

    /// |c − exact| in ulps of the exact value hi + frac·ulp (the spacing of its binade).
    static func ulpError(_ c: Double, _ hi: Double, _ frac: Double) -> Double {
        guard c.isFinite else { return .infinity }
        var q = hi == 0 ? -1074 : max(Int(hi.exponent) - 52, -1074)
        // hi a power of two reached by rounding up in magnitude: the exact value is in the binade below.
        if hi.isNormal && hi.significandBitPattern == 0 && frac != 0 && (frac < 0) == (hi > 0) { q = max(q - 1, -1074) }
        let ulp = Double(sign: .plus, exponent: q, significand: 1)
        return abs((c - hi) / ulp - frac)
    }

    struct Summary: CustomStringConvertible {
        var name: String
        var measured = 0, correctlyRounded = 0, specials = 0
        var maxError = 0.0
        var worst: [Double] = []
        var misrounded: [(args: [Double], got: Double)] = []
        var description: String {
            let pct = measured == 0 ? 100 : 100 * Double(correctlyRounded) / Double(measured)
            let args = worst.map { "\($0) (0x\(String($0.bitPattern, radix: 16)))" }.joined(separator: ", ")
            return "\(name): \(measured) values, max error \(String(format: "%.4f", maxError)) ulp at \(args), "
                + "\(String(format: "%.2f", pct)) % correctly rounded (\(misrounded.count) not); "
                + "\(specials) special values exact"
        }
    }

    /// Checks one output of a fixture: specials bit-exact, the rest within `bound` ulps, and — so
    /// that a platform computing different bits is caught even within the bound — exactly the
    /// `misrounded` cases (argument bits → result bits) differ from the correctly rounded value.
    func check(
        _ name: String, _ cases: [Case], output: Int = 0, bound: Double, subnormalBound: Double? = nil,
        misrounded expectedMisrounded: [[UInt64]]? = nil, _ f: ([Double]) -> Double
    ) -> Summary {
        var s = Summary(name: name)
        for c in cases {
            let (hi, frac) = c.expected[output]
            let got = f(c.args)
            let label = "\(name)(\(c.args.map { "\($0)" }.joined(separator: ", ")))"
            if hi.isNaN {
                XCTAssertTrue(got.isNaN, "\(label) = \(got), expected NaN")
                s.specials += 1
                continue
            }
            if hi.isInfinite || (hi == 0 && frac == 0) {
                XCTAssertEqual(got.bitPattern, hi.bitPattern, "\(label) = \(got), expected \(hi)")
                s.specials += 1
                continue
            }
            let err = Self.ulpError(got, hi, frac)
            let limit = (subnormalBound != nil && abs(hi) < 0x1p-1022) ? subnormalBound! : bound
            XCTAssertLessThanOrEqual(
                err, limit,
                "\(label) = \(got) (0x\(String(got.bitPattern, radix: 16))), "
                    + "expected \(hi) with frac \(frac)")
            s.measured += 1
            if got.bitPattern == hi.bitPattern { s.correctlyRounded += 1 } else { s.misrounded.append((c.args, got)) }
            if err > s.maxError {
                s.maxError = err
                s.worst = c.args
            }
        }
        print(s)
        if let expectedMisrounded, Self.external == nil {
            let got = s.misrounded.map { $0.args.map(\.bitPattern) + [$0.got.bitPattern] }
            let listing = got.map { "[" + $0.map { "0x" + String($0, radix: 16) }.joined(separator: ", ") + "]" }
            XCTAssertEqual(
                got, expectedMisrounded,
                "\(name): the results that are not correctly rounded changed; "
                    + "now [\(listing.joined(separator: ", "))]")
        }
        return s
    }

    func testExp() throws {
        // exp(2⁻⁵³) = 1 + 2⁻⁵³ + 2⁻¹⁰⁷ is 2⁻¹⁰⁷ above a midpoint: 1 instead of 1 + 2⁻⁵² (0.5000 ulp).
        let s = check(
            "exp", try Self.load("exp"), bound: 0.501,
            misrounded: [[0x3ca0_0000_0000_0000, 0x3ff0_0000_0000_0000]]
        ) { PortableMath.exp($0[0]) }
        XCTAssertGreaterThan(s.measured, 1900)
    }

    func testLog() throws {
        let s = check("log", try Self.load("log"), bound: 0.501, misrounded: []) { PortableMath.log($0[0]) }
        XCTAssertGreaterThan(s.measured, 1900)
    }

    func testLog1p() throws {
        let s = check("log1p", try Self.load("log1p"), bound: 0.501, misrounded: []) { PortableMath.log1p($0[0]) }
        XCTAssertGreaterThan(s.measured, 1900)
    }

    func testSinAndCos() throws {
        let cases = try Self.load("sincos")
        let s = check("sin", cases, output: 0, bound: 0.501, misrounded: []) { PortableMath.sin($0[0]) }
        let c = check("cos", cases, output: 1, bound: 0.501, misrounded: []) { PortableMath.cos($0[0]) }
        XCTAssertGreaterThan(s.measured, 1900)
        XCTAssertGreaterThan(c.measured, 1900)
        for k in cases where k.args[0].isFinite {
            let x = k.args[0]
            XCTAssertEqual(PortableMath.sin(-x).bitPattern, (-PortableMath.sin(x)).bitPattern, "sin is odd at \(x)")
            XCTAssertEqual(PortableMath.cos(-x).bitPattern, PortableMath.cos(x).bitPattern, "cos is even at \(x)")
        }
    }

    func testPow() throws {
        // √DBL_MAX is 2⁻¹⁰⁹ relative below a midpoint: 2⁵¹² instead of its predecessor (0.5000 ulp).
        let s = check(
            "pow", try Self.load("pow"), bound: 0.501,
            misrounded: [[0x7fef_ffff_ffff_ffff, 0x3fe0_0000_0000_0000, 0x5ff0_0000_0000_0000]]
        ) {
            PortableMath.pow($0[0], $0[1])
        }
        XCTAssertGreaterThan(s.measured, 2300)
    }

    func testHypot() throws {
        let s = check("hypot", try Self.load("hypot"), bound: 0.501, subnormalBound: 1, misrounded: []) {
            PortableMath.hypot($0[0], $0[1])
        }
        XCTAssertGreaterThan(s.measured, 300)
        XCTAssertEqual(PortableMath.hypot(3, 4), 5)
    }

    /// The Gaussian stream is Box–Muller over the uniform stream with PortableMath's log and cos,
    /// recomputed here from a second generator with the same seed.
    func testGaussianIsBoxMullerWithPortableMath() {
        for seed: UInt64 in [0, 1, 42] {
            var gaussian = SeededRandom(seed: seed)
            var uniform = SeededRandom(seed: seed)
            for i in 0..<20_000 {
                var u1 = uniform.nextDouble()
                while u1 <= 0 { u1 = uniform.nextDouble() }
                let u2 = uniform.nextDouble()
                let expected = (-2 * PortableMath.log(u1)).squareRoot() * PortableMath.cos(2 * Double.pi * u2)
                let got = gaussian.nextGaussian()
                if got.bitPattern != expected.bitPattern {
                    XCTFail("seed \(seed), draw \(i): \(got) ≠ \(expected)")
                    return
                }
            }
        }
    }
}
