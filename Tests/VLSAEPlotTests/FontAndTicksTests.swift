import VLSAEPlot
import XCTest

final class BitmapFontTests: XCTestCase {
    func testEveryPrintableGlyphHasPixelsExceptSpace() {
        for code in BitmapFont.firstCode...BitmapFont.lastCode {
            let glyph = BitmapFont.glyph(code)
            XCTAssertEqual(glyph.rows.count, BitmapFont.glyphRows)
            XCTAssertTrue(glyph.rows.allSatisfy { $0 < 32 }, "glyph \(code) wider than 5 columns")
            XCTAssertLessThanOrEqual(glyph.shift + BitmapFont.glyphRows, BitmapFont.cellRows)
            let lit = glyph.rows.reduce(0) { $0 + $1.nonzeroBitCount }
            if code == 32 {
                XCTAssertEqual(lit, 0, "space must be blank")
            } else {
                XCTAssertGreaterThan(lit, 0, "glyph \(code) (\(Character(UnicodeScalar(code)))) is blank")
            }
        }
    }

    func testGlyphsAreDistinct() {
        // Two printable characters drawn identically would make labels ambiguous.
        var seen: [[UInt8]: UInt8] = [:]
        for code in BitmapFont.firstCode...BitmapFont.lastCode {
            let g = BitmapFont.glyph(code)
            let key = g.rows + [UInt8(g.shift)]
            XCTAssertNil(seen[key], "glyphs \(seen[key] ?? 0) and \(code) are identical")
            seen[key] = code
        }
    }

    func testDescendersHangBelowBaseline() {
        for c in "gjpqy," {
            XCTAssertGreaterThan(BitmapFont.glyph(UInt8(ascii: c.unicodeScalars.first!)).shift, 0, "\(c)")
        }
        XCTAssertEqual(BitmapFont.glyph(UInt8(ascii: "A")).shift, 0)
    }

    func testNonASCIIDrawsAsQuestionMark() {
        XCTAssertEqual(BitmapFont.codes(of: "aé\n"), [UInt8(ascii: "a"), UInt8(ascii: "?"), UInt8(ascii: "?")])
        XCTAssertEqual(BitmapFont.glyph(200), BitmapFont.glyph(UInt8(ascii: "?")))
    }

    func testTextMetrics() {
        XCTAssertEqual(BitmapFont.width(of: "", scale: 3), 0)
        XCTAssertEqual(BitmapFont.width(of: "A"), 5)
        XCTAssertEqual(BitmapFont.width(of: "AB"), 11)
        XCTAssertEqual(BitmapFont.width(of: "AB", scale: 2), 22)
        XCTAssertEqual(BitmapFont.lineHeight(scale: 2), 18)
        XCTAssertEqual(BitmapFont.truncate("short", toWidth: 100), "short")
        let t = BitmapFont.truncate(String(repeating: "x", count: 50), toWidth: 60)
        XCTAssertTrue(t.hasSuffix("..."))
        XCTAssertLessThanOrEqual(BitmapFont.width(of: t), 60)
    }

    /// Drawn text stays inside its measured box, and a scaled glyph has scale² times the pixels.
    func testDrawnTextFitsItsBoxAndScales() {
        let text = "Hgy,|"
        for scale in 1...3 {
            var canvas = Canvas(width: 200, height: 200)
            canvas.drawText(text, x: 10, y: 20, color: .black, scale: scale)
            let box = black(in: canvas)
            let (w, h) = BitmapFont.size(of: text, scale: scale)
            XCTAssertGreaterThanOrEqual(box.minX, 10)
            XCTAssertLessThan(box.maxX, 10 + w)
            XCTAssertGreaterThanOrEqual(box.minY, 20)
            XCTAssertLessThan(box.maxY, 20 + h)
            // '|' is a full-height bar and 'g'/'y'/',' descend into the last rows: the text uses the whole box.
            XCTAssertEqual(box.maxY, 20 + h - 1)
            let glyphPixels = BitmapFont.codes(of: text).reduce(0) { sum, c in
                sum + BitmapFont.glyph(c).rows.reduce(0) { $0 + $1.nonzeroBitCount }
            }
            XCTAssertEqual(box.count, glyphPixels * scale * scale)
        }
    }

    /// Upward text is the horizontal text rotated 90° counter-clockwise: pixel (u, v) of the
    /// horizontal rendering lands at (v, W-1-u).
    func testRotatedTextIsExactRotation() {
        let text = "Accuracy (%)"
        let scale = 2
        let (w, h) = BitmapFont.size(of: text, scale: scale)
        var flat = Canvas(width: w, height: h)
        flat.drawText(text, x: 0, y: 0, color: .black, scale: scale)
        var up = Canvas(width: h, height: w)
        up.drawText(text, x: 0, y: 0, color: .black, scale: scale, direction: .up)
        var mismatches = 0
        for v in 0..<h {
            for u in 0..<w where flat.pixel(x: u, y: v) != up.pixel(x: v, y: w - 1 - u) {
                mismatches += 1
            }
        }
        XCTAssertEqual(mismatches, 0)
        XCTAssertGreaterThan(black(in: up).count, 100)
    }

    func testTextOffCanvasIsClipped() {
        var canvas = Canvas(width: 20, height: 20)
        canvas.drawText("Hello", x: -8, y: -3, color: .black, scale: 2)
        canvas.drawText("Far away", x: 1_000_000, y: -1_000_000, color: .black, scale: 64, direction: .up)
        XCTAssertGreaterThan(black(in: canvas).count, 0)
    }

    private func black(in canvas: Canvas) -> (count: Int, minX: Int, maxX: Int, minY: Int, maxY: Int) {
        var count = 0
        var minX = Int.max
        var maxX = Int.min
        var minY = Int.max
        var maxY = Int.min
        for y in 0..<canvas.height {
            for x in 0..<canvas.width where canvas.pixel(x: x, y: y) == .black {
                count += 1
                minX = min(minX, x)
                maxX = max(maxX, x)
                minY = min(minY, y)
                maxY = max(maxY, y)
            }
        }
        return (count, minX, maxX, minY, maxY)
    }
}

final class NiceTicksTests: XCTestCase {
    func testStepsAreOneTwoFive() {
        XCTAssertEqual(NiceTicks.niceStep(1), 1, accuracy: 1e-15)
        XCTAssertEqual(NiceTicks.niceStep(0.2), 0.2, accuracy: 1e-15)
        XCTAssertEqual(NiceTicks.niceStep(0.21), 0.5, accuracy: 1e-15)
        XCTAssertEqual(NiceTicks.niceStep(0.1714), 0.2, accuracy: 1e-15)
        XCTAssertEqual(NiceTicks.niceStep(3), 5, accuracy: 1e-15)
        XCTAssertEqual(NiceTicks.niceStep(7), 10, accuracy: 1e-15)
        XCTAssertEqual(NiceTicks.niceStep(1234), 2000, accuracy: 1e-9)
        XCTAssertEqual(NiceTicks.niceStep(0.00031), 0.0005, accuracy: 1e-18)
        XCTAssertEqual(NiceTicks.niceStep(.nan), 1)
        XCTAssertEqual(NiceTicks.niceStep(-3), 1)
    }

    func testRangeFromFractionsUsesTwoTenthSteps() {
        let t = NiceTicks.linear(min: 0.013, max: 0.87, targetCount: 6)
        XCTAssertEqual(t.step, 0.2, accuracy: 1e-12)
        let expected = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
        XCTAssertEqual(t.values.count, expected.count)
        for (v, e) in zip(t.values, expected) { XCTAssertEqual(v, e, accuracy: 1e-12) }
        XCTAssertEqual(t.labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        XCTAssertEqual(t.lower, 0, accuracy: 1e-12)
        XCTAssertEqual(t.upper, 1, accuracy: 1e-12)
    }

    func testNegativeRangeAndLabels() {
        let t = NiceTicks.linear(min: -3.7, max: 12.2, targetCount: 6)
        XCTAssertEqual(t.step, 5, accuracy: 1e-12)
        XCTAssertEqual(t.labels, ["-5", "0", "5", "10", "15"])
        let small = NiceTicks.linear(min: -0.031, max: 0.012, targetCount: 5)
        XCTAssertEqual(small.step, 0.02, accuracy: 1e-15)
        XCTAssertEqual(small.labels, ["-0.04", "-0.02", "0.00", "0.02"])
    }

    /// Property check over many ranges from a fixed LCG: ticks are evenly spaced 1-2-5 steps,
    /// the axis covers the data, and the count stays near the target.
    func testTicksCoverRandomRanges() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        for _ in 0..<2000 {
            let magnitude = pow(10, next() * 12 - 6)
            let a = (next() * 2 - 1) * magnitude
            let b = (next() * 2 - 1) * magnitude
            let target = 3 + Int(next() * 6)
            let t = NiceTicks.linear(min: min(a, b), max: max(a, b), targetCount: target)
            let mantissa = t.step / pow(10, log10(t.step).rounded(.down))
            XCTAssertTrue([1.0, 2.0, 5.0, 10.0].contains { abs(mantissa - $0) < 1e-9 }, "step \(t.step)")
            XCTAssertLessThanOrEqual(t.lower, min(a, b) + 1e-8 * t.step)
            XCTAssertGreaterThanOrEqual(t.upper, max(a, b) - 1e-8 * t.step)
            XCTAssertEqual(t.values.first!, t.lower, accuracy: 1e-9 * t.step)
            XCTAssertEqual(t.values.last!, t.upper, accuracy: 1e-9 * t.step)
            for (p, q) in zip(t.values, t.values.dropFirst()) {
                XCTAssertEqual(q - p, t.step, accuracy: 1e-6 * t.step)
            }
            // A 1-2-5 step is at most 2.5× the raw step, so at most ~2.5× fewer intervals, plus
            // one interval at each end from rounding outward.
            XCTAssertGreaterThanOrEqual(t.values.count, 2)
            XCTAssertLessThanOrEqual(t.values.count, target + 2)
            XCTAssertEqual(Set(t.labels).count, t.labels.count, "duplicate labels \(t.labels)")
        }
    }

    func testDegenerateAndInvalidRangesArePadded() {
        let single = NiceTicks.linear(min: 5, max: 5)
        XCTAssertLessThan(single.lower, 5)
        XCTAssertGreaterThan(single.upper, 5)
        XCTAssertGreaterThanOrEqual(single.values.count, 2)
        let zero = NiceTicks.linear(min: 0, max: 0)
        XCTAssertLessThanOrEqual(zero.lower, -1)
        XCTAssertGreaterThanOrEqual(zero.upper, 1)
        let nan = NiceTicks.linear(min: .nan, max: .nan)
        XCTAssertEqual(nan.lower, 0, accuracy: 1e-12)
        XCTAssertEqual(nan.upper, 1, accuracy: 1e-12)
        let reversed = NiceTicks.linear(min: 10, max: 0)
        XCTAssertEqual(reversed.lower, 0, accuracy: 1e-12)
        XCTAssertEqual(reversed.upper, 10, accuracy: 1e-12)
        let huge = NiceTicks.linear(min: -1.7e308, max: 1.7e308)
        XCTAssertTrue(huge.values.allSatisfy(\.isFinite))
        XCTAssertGreaterThanOrEqual(huge.values.count, 2)
        let infinite = NiceTicks.linear(min: -.infinity, max: 3)
        XCTAssertTrue(infinite.values.allSatisfy(\.isFinite))
    }

    func testLabelsHaveNoFloatingPointNoise() {
        XCTAssertEqual(NiceTicks.format(0.6000000000000001, step: 0.2), "0.6")
        XCTAssertEqual(NiceTicks.format(-0.0, step: 1), "0")
        XCTAssertEqual(NiceTicks.format(-1e-17, step: 0.1), "0.0")
        XCTAssertEqual(NiceTicks.format(1.25, step: 0.05), "1.25")
        XCTAssertEqual(NiceTicks.format(40, step: 20), "40")
        XCTAssertEqual(NiceTicks.formatPlain(256), "256")
        XCTAssertEqual(NiceTicks.formatPlain(0.125), "0.125")
    }

    func testLog2TicksAtPowersOfTwo() {
        let t = NiceTicks.logarithmic(min: 16, max: 256, scale: .log2)
        XCTAssertEqual(t.values, [16, 32, 64, 128, 256])
        XCTAssertEqual(t.labels, ["16", "32", "64", "128", "256"])
        // The axis is padded a quarter octave beyond the data.
        XCTAssertEqual(t.lower, 16 / pow(2, 0.25), accuracy: 1e-9)
        XCTAssertEqual(t.upper, 256 * pow(2, 0.25), accuracy: 1e-9)
    }

    func testLog10TicksAddIntermediatesForNarrowRanges() {
        let wide = NiceTicks.logarithmic(min: 1, max: 10_000, scale: .log10)
        XCTAssertEqual(wide.values, [1, 10, 100, 1000, 10_000])
        let narrow = NiceTicks.logarithmic(min: 8, max: 300, scale: .log10)
        XCTAssertEqual(narrow.values, [5, 10, 20, 50, 100, 200, 500])
        let invalid = NiceTicks.logarithmic(min: -5, max: 0, scale: .log10)
        XCTAssertGreaterThanOrEqual(invalid.values.count, 2)
        XCTAssertTrue(invalid.values.allSatisfy { $0 > 0 })
        let sliver = NiceTicks.logarithmic(min: 40, max: 41, scale: .log10)
        XCTAssertGreaterThanOrEqual(sliver.values.count, 2)
        XCTAssertTrue(sliver.values.allSatisfy { $0 >= sliver.lower && $0 <= sliver.upper })
    }
}
