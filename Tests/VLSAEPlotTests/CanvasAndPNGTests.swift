import Foundation
import VLSAEPlot
import VLSAETestSupport
import XCTest

final class CanvasTests: XCTestCase {
    /// Sum of "ink" (0…1 per pixel, from the red channel of black-on-white drawing).
    private func ink(_ canvas: Canvas, in rect: PixelRect? = nil) -> Double {
        let r = rect ?? PixelRect(x: 0, y: 0, width: canvas.width, height: canvas.height)
        var total = 0.0
        for y in r.y..<r.maxY {
            for x in r.x..<r.maxX { total += 1 - Double(canvas.pixel(x: x, y: y)!.r) / 255 }
        }
        return total
    }

    func testSizeIsClampedAndBackgroundFilled() {
        let c = Canvas(width: 0, height: -5, background: Color(hex: 0x123456))
        XCTAssertEqual(c.width, 1)
        XCTAssertEqual(c.height, 1)
        XCTAssertEqual(c.pixel(x: 0, y: 0), Color(r: 0x12, g: 0x34, b: 0x56))
        XCTAssertNil(c.pixel(x: 1, y: 0))
        XCTAssertEqual(c.pixels.count, 3)
    }

    func testCrispHorizontalLineCoversOneRow() {
        var c = Canvas(width: 40, height: 20)
        c.drawLine(from: Point(5.5, 10.5), to: Point(30.5, 10.5), color: .black, width: 1)
        for x in 5...30 { XCTAssertEqual(c.pixel(x: x, y: 10), .black, "x=\(x)") }
        XCTAssertEqual(ink(c, in: PixelRect(x: 0, y: 0, width: 40, height: 10)), 0, accuracy: 1e-9)
        XCTAssertEqual(ink(c, in: PixelRect(x: 0, y: 11, width: 40, height: 9)), 0, accuracy: 1e-9)
    }

    /// The ink of an anti-aliased line approximates its area (length × width), whatever its angle.
    func testLineInkMatchesArea() {
        for angle in stride(from: 0.0, to: Double.pi, by: Double.pi / 7) {
            var c = Canvas(width: 200, height: 200)
            let length = 120.0
            let a = Point(100 - cos(angle) * length / 2, 100 - sin(angle) * length / 2)
            let b = Point(100 + cos(angle) * length / 2, 100 + sin(angle) * length / 2)
            c.drawLine(from: a, to: b, color: .black, width: 2)
            // Round ends add a disc of the line's width: area = L·w + π(w/2)².
            let expected = length * 2 + Double.pi
            XCTAssertEqual(ink(c), expected, accuracy: expected * 0.04, "angle \(angle)")
        }
    }

    func testFilledShapeAreas() {
        var c = Canvas(width: 100, height: 100)
        c.fillCircle(center: Point(50, 50), radius: 20, color: .black)
        XCTAssertEqual(ink(c), Double.pi * 400, accuracy: Double.pi * 400 * 0.01)

        var p = Canvas(width: 100, height: 100)
        p.fillPolygon([Point(10, 10), Point(50, 10), Point(10, 70)], color: .black)
        XCTAssertEqual(ink(p), 0.5 * 40 * 60, accuracy: 1200 * 0.02)

        var ring = Canvas(width: 100, height: 100)
        ring.strokeCircle(center: Point(50, 50), radius: 30, color: .black, width: 2)
        XCTAssertEqual(ink(ring), 2 * Double.pi * 30 * 2, accuracy: 377 * 0.03)
        XCTAssertEqual(ring.pixel(x: 50, y: 50), .white)
    }

    func testMarkersAreFilledAndCentred() {
        for shape in MarkerShape.allCases {
            var c = Canvas(width: 40, height: 40)
            c.drawMarker(shape, at: Point(20, 20), size: 12, color: .black, outline: .white)
            XCTAssertEqual(c.pixel(x: 19, y: 19), .black, "\(shape)")
            XCTAssertEqual(c.pixel(x: 20, y: 20), .black, "\(shape)")
            let area = ink(c)
            XCTAssertGreaterThan(area, 60, "\(shape)")
            XCTAssertLessThan(area, 170, "\(shape)")
            XCTAssertEqual(ink(c, in: PixelRect(x: 0, y: 0, width: 40, height: 10)), 0, accuracy: 1e-9)
        }
    }

    func testDashedLineHasGaps() {
        var c = Canvas(width: 120, height: 10)
        c.drawDashedLine(from: Point(0, 5.5), to: Point(100, 5.5), color: .black, width: 1, dash: 6, gap: 4)
        var runs: [Bool] = []
        for x in 0..<100 {
            let on = c.pixel(x: x, y: 5)!.r < 128
            if runs.last != on { runs.append(on) }
        }
        // 100 px with a 10 px period: 10 dashes (at 0, 10, …, 90, each 6 px), the 9 gaps between
        // them and the 4 px after the last dash.
        XCTAssertEqual(runs.filter { $0 }.count, 10)
        XCTAssertEqual(runs.filter { !$0 }.count, 10)
        XCTAssertEqual(runs.first, true)
        // Each dash is 6 px long with round half-pixel ends: 6·1 + π/4 of ink.
        XCTAssertEqual(ink(c), 10 * (6 + Double.pi / 4), accuracy: 3)
    }

    func testClipRestrictsDrawing() {
        var c = Canvas(width: 30, height: 30)
        c.clip = PixelRect(x: 10, y: 10, width: 10, height: 10)
        c.fillRect(PixelRect(x: 0, y: 0, width: 30, height: 30), color: .black)
        c.drawLine(from: Point(0, 5.5), to: Point(30, 5.5), color: .black)
        c.drawText("XXXXXX", x: 0, y: 0, color: .black, scale: 3)
        c.clip = nil
        XCTAssertEqual(ink(c), 100, accuracy: 1e-9)
        XCTAssertEqual(c.pixel(x: 10, y: 10), .black)
        XCTAssertEqual(c.pixel(x: 19, y: 19), .black)
        XCTAssertEqual(c.pixel(x: 9, y: 10), .white)
        XCTAssertEqual(c.pixel(x: 20, y: 19), .white)
    }

    func testInvalidGeometryIsIgnored() {
        var c = Canvas(width: 50, height: 50)
        c.drawLine(from: Point(.nan, 3), to: Point(10, 10), color: .black)
        c.drawLine(from: Point(0, 0), to: Point(.infinity, 10), color: .black)
        c.fillCircle(center: Point(25, 25), radius: .nan, color: .black)
        c.fillCircle(center: Point(25, 25), radius: -3, color: .black)
        c.fillPolygon([Point(0, 0), Point(.nan, 1), Point(3, 3)], color: .black)
        c.drawDashedLine(from: Point(0, 0), to: Point(0, 0), color: .black)
        c.drawMarker(.diamond, at: Point(.nan, .nan), size: 9, color: .black)
        c.fillRect(PixelRect(x: 60, y: 60, width: 10, height: 10), color: .black)
        XCTAssertEqual(c, Canvas(width: 50, height: 50))
    }

    func testHugeCoordinatesAreClipped() {
        var c = Canvas(width: 50, height: 50)
        c.drawLine(from: Point(-1e12, -1e12), to: Point(1e12, 1e12), color: .black, width: 1)
        // The visible part is the main diagonal.
        XCTAssertEqual(c.pixel(x: 25, y: 25), .black)
        XCTAssertEqual(c.pixel(x: 40, y: 10), .white)
        c.drawDashedLine(from: Point(-1e15, 3), to: Point(1e15, 3), color: .black)
        c.fillCircle(center: Point(1e300, 0), radius: 5, color: .black)
    }
}

final class PNGTests: XCTestCase {
    private func sampleCanvas() -> Canvas {
        var c = Canvas(width: 37, height: 23)
        for y in 0..<23 {
            for x in 0..<37 {
                c.setPixel(x: x, y: y, color: Color(r: UInt8(x * 7), g: UInt8(y * 11), b: UInt8((x * y) % 256)))
            }
        }
        return c
    }

    func testRoundTripIsLossless() throws {
        let canvas = sampleCanvas()
        let bytes = try canvas.pngData()
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let image = try DecodedImage.decode(pngBytes: bytes)
        XCTAssertEqual(image.width, 37)
        XCTAssertEqual(image.height, 23)
        XCTAssertEqual(image.rgba.count, 37 * 23 * 4)
        for y in 0..<23 {
            for x in 0..<37 {
                let c = canvas.pixel(x: x, y: y)!
                let p = image.pixel(x: x, y: y)!
                XCTAssertTrue(p.r == c.r && p.g == c.g && p.b == c.b && p.a == 255, "(\(x),\(y))")
            }
        }
    }

    func testEncodingIsDeterministic() throws {
        XCTAssertEqual(try sampleCanvas().pngData(), try sampleCanvas().pngData())
    }

    func testDecodeRejectsGarbage() {
        XCTAssertThrowsError(try DecodedImage.decode(pngBytes: [])) { error in
            guard case PlotError.decode = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try DecodedImage.decode(pngBytes: Array("definitely not a png file".utf8)))
        // A valid PNG cut short must fail cleanly, not crash.
        let bytes = (try? sampleCanvas().pngData()) ?? []
        XCTAssertThrowsError(try DecodedImage.decode(pngBytes: Array(bytes.prefix(bytes.count / 2))))
        XCTAssertThrowsError(try DecodedImage.decode(pngBytes: Array(bytes.prefix(40))))
    }
}
