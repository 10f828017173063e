import Foundation
import VLSAEPlot
import XCTest

/// libjpeg through CJPEG: encode, decode back, refuse damaged data; the montage's layout, resizing
/// and placeholders read back from the encoded JPEG.
final class JPEGAndMontageTests: XCTestCase {
    /// A canvas of four flat quadrants (red, green, blue, white), which JPEG keeps close to exact
    /// away from the edges.
    private func quadrants(width: Int = 64, height: Int = 48) -> Canvas {
        var c = Canvas(width: width, height: height)
        c.fillRect(PixelRect(x: 0, y: 0, width: width / 2, height: height / 2), color: Color(hex: 0xFF0000))
        c.fillRect(PixelRect(x: width / 2, y: 0, width: width / 2, height: height / 2), color: Color(hex: 0x00FF00))
        c.fillRect(PixelRect(x: 0, y: height / 2, width: width / 2, height: height / 2), color: Color(hex: 0x0000FF))
        return c
    }

    private func assertNear(
        _ p: (r: UInt8, g: UInt8, b: UInt8, a: UInt8)?, _ c: Color, tolerance: Int = 12, _ what: String,
        line: UInt = #line
    ) {
        guard let p else { return XCTFail("\(what): outside the image", line: line) }
        let d = [abs(Int(p.r) - Int(c.r)), abs(Int(p.g) - Int(c.g)), abs(Int(p.b) - Int(c.b))].max()!
        XCTAssertLessThanOrEqual(d, tolerance, "\(what): got (\(p.r), \(p.g), \(p.b)), want \(c)", line: line)
    }

    func testJPEGRoundTripKeepsSizeAndColours() throws {
        let bytes = try quadrants().jpegData(quality: 95)
        XCTAssertEqual(ImageFormat.sniff(bytes), .jpeg)
        let image = try DecodedImage.decode(imageBytes: bytes)
        XCTAssertEqual(image.width, 64)
        XCTAssertEqual(image.height, 48)
        assertNear(image.pixel(x: 8, y: 8), Color(hex: 0xFF0000), "red quadrant")
        assertNear(image.pixel(x: 56, y: 8), Color(hex: 0x00FF00), "green quadrant")
        assertNear(image.pixel(x: 8, y: 40), Color(hex: 0x0000FF), "blue quadrant")
        assertNear(image.pixel(x: 56, y: 40), .white, "white quadrant")
        XCTAssertEqual(image.pixel(x: 0, y: 0)?.a, 255)
        // The same pixels give the same bytes.
        XCTAssertEqual(try quadrants().jpegData(quality: 95), bytes)
    }

    func testJPEGDecodeScalesDownButNotBelowMinSide() throws {
        let bytes = try quadrants(width: 400, height: 300).jpegData()
        let full = try DecodedImage.decode(jpegBytes: bytes)
        XCTAssertEqual([full.width, full.height], [400, 300])
        // 300 / 2 = 150 ≥ 128 but 300 / 4 = 75 < 128: halved.
        let half = try DecodedImage.decode(jpegBytes: bytes, minSide: 128)
        XCTAssertEqual([half.width, half.height], [200, 150])
        let eighth = try DecodedImage.decode(jpegBytes: bytes, minSide: 16)
        XCTAssertEqual([eighth.width, eighth.height], [50, 38])
    }

    func testDamagedOrForeignBytesAreRefused() throws {
        let bytes = try quadrants(width: 256, height: 256).jpegData()
        XCTAssertThrowsError(try DecodedImage.decode(jpegBytes: Array(bytes.prefix(bytes.count / 2)))) { e in
            XCTAssertTrue("\(e)".contains("damaged") || "\(e)".contains("JPEG"), "\(e)")
        }
        XCTAssertThrowsError(try DecodedImage.decode(jpegBytes: [0xFF, 0xD8, 0xFF, 0x00, 0x01]))
        XCTAssertThrowsError(try DecodedImage.decode(imageBytes: Array("not an image at all".utf8))) { e in
            XCTAssertTrue("\(e)".contains("neither a JPEG nor a PNG"), "\(e)")
        }
        XCTAssertThrowsError(try DecodedImage.decode(jpegBytes: []))
        // A PNG goes through libpng.
        let png = try DecodedImage.decode(imageBytes: try quadrants().pngData())
        XCTAssertEqual(png.pixel(x: 8, y: 8)?.r, 255)
    }

    func testMontageLayoutResizingLabelsAndPlaceholders() throws {
        let photo = try DecodedImage.decode(pngBytes: try quadrants(width: 200, height: 100).pngData())
        let layout = Montage(tileSide: 64, columns: 2)
        let tiles = [
            Montage.Tile(image: photo, label: "#3 0.9000"),
            Montage.Tile(image: nil, label: "#7 0.8000", placeholder: "missing"),
            Montage.Tile(image: photo, label: "#9 0.7000"),
        ]
        let canvas = layout.render(tiles)
        let (w, h) = layout.size(tiles: 3)
        XCTAssertEqual(w, 4 + 2 * (64 + 4))
        XCTAssertEqual(h, 4 + 2 * (64 + Montage.labelHeight + 4))
        let image = try DecodedImage.decode(jpegBytes: try canvas.jpegData(quality: 95))
        XCTAssertEqual([image.width, image.height], [w, h])
        // Tile 0: the 200×100 image fits as 64×32, centred vertically (rows 16..<48 of the square).
        let t0 = layout.origin(ofTile: 0)
        assertNear(image.pixel(x: t0.x + 8, y: t0.y + 16 + 6), Color(hex: 0xFF0000), "resized red quadrant")
        assertNear(image.pixel(x: t0.x + 56, y: t0.y + 48 - 6), .white, "resized white quadrant")
        assertNear(image.pixel(x: t0.x + 32, y: t0.y + 4), Montage.tileBackground, "letterbox above the image")
        // Tile 1: the placeholder's flat grey, away from its text.
        let t1 = layout.origin(ofTile: 1)
        XCTAssertEqual(t1.x, 4 + 64 + 4)
        assertNear(image.pixel(x: t1.x + 6, y: t1.y + 6), Montage.placeholderColor, "placeholder corner")
        assertNear(image.pixel(x: t1.x + 58, y: t1.y + 58), Montage.placeholderColor, "placeholder corner")
        // The label row under each tile holds dark text pixels.
        let labelRow = (t0.y + 64 + 2)..<(t0.y + 64 + Montage.labelHeight - 2)
        var dark = 0
        for y in labelRow {
            for x in t0.x..<(t0.x + 64) {
                guard let p = image.pixel(x: x, y: y) else { continue }
                let sum: Int = Int(p.r) + Int(p.g) + Int(p.b)
                if sum < 200 { dark += 1 }
            }
        }
        XCTAssertGreaterThan(dark, 20, "label text drawn")
        // Tile 2 starts the second row.
        XCTAssertEqual(layout.origin(ofTile: 2).y, 4 + 64 + Montage.labelHeight + 4)
    }
}
