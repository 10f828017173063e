import Foundation
import VLSAECore

/// An 8-bit sRGB colour.
public struct Color: Equatable, Hashable, Sendable {
    /// Red, 0…255.
    public var r: UInt8
    /// Green, 0…255.
    public var g: UInt8
    /// Blue, 0…255.
    public var b: UInt8

    /// A colour from its three channels.
    public init(r: UInt8, g: UInt8, b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// `Color(hex: 0x0072B2)`.
    public init(hex: UInt32) {
        self.init(r: UInt8((hex >> 16) & 0xFF), g: UInt8((hex >> 8) & 0xFF), b: UInt8(hex & 0xFF))
    }

    /// The canvas background, #FFFFFF.
    public static let white = Color(hex: 0xFFFFFF)
    /// Pure black, #000000.
    public static let black = Color(hex: 0x000000)
    /// Axes, frame and tick marks: dark grey #333333.
    public static let axis = Color(hex: 0x333333)
    /// Grid lines: light grey #E6E6E6.
    public static let grid = Color(hex: 0xE6E6E6)
    /// Secondary text such as point labels: grey #555555.
    public static let mutedText = Color(hex: 0x555555)

    /// Okabe–Ito palette, reordered so the colours that read best on white come first; yellow is
    /// last because it is the hardest to see against a white background.
    public static let palette: [Color] = [
        Color(hex: 0x0072B2),  // blue
        Color(hex: 0xD55E00),  // vermillion
        Color(hex: 0x009E73),  // bluish green
        Color(hex: 0xCC79A7),  // reddish purple
        Color(hex: 0xE69F00),  // orange
        Color(hex: 0x56B4E9),  // sky blue
        Color(hex: 0x000000),  // black
        Color(hex: 0xF0E442),  // yellow
    ]
}

/// A point in canvas pixel coordinates (x right, y down). Integer coordinates are pixel corners,
/// so a crisp one-pixel line runs through `n + 0.5`.
public struct Point: Equatable, Sendable {
    /// Pixels from the left edge; `n + 0.5` is the centre of pixel column n.
    public var x: Double
    /// Pixels from the top edge; `n + 0.5` is the centre of pixel row n.
    public var y: Double

    /// A point at fractional pixel coordinates.
    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }

    /// `Point(x, y)`, the same as `Point(x:y:)`.
    public init(_ x: Double, _ y: Double) {
        self.init(x: x, y: y)
    }

    var isFinite: Bool { x.isFinite && y.isFinite }
}

/// An integer pixel rectangle (origin at the top-left corner).
@MemberwiseInit
public struct PixelRect: Equatable, Sendable {
    /// Left edge, the first column inside the rectangle.
    public var x: Int
    /// Top edge, the first row inside the rectangle.
    public var y: Int
    /// Columns covered; 0 or negative covers none.
    public var width: Int
    /// Rows covered; 0 or negative covers none.
    public var height: Int

    /// The first column to the right of the rectangle (exclusive end).
    public var maxX: Int { x + width }
    /// The first row below the rectangle (exclusive end).
    public var maxY: Int { y + height }

    /// True when pixel (px, py) lies inside: x ≤ px < maxX and y ≤ py < maxY.
    public func contains(x px: Int, y py: Int) -> Bool {
        px >= x && px < maxX && py >= y && py < maxY
    }

    func contains(_ p: Point) -> Bool {
        p.x >= Double(x) && p.x < Double(maxX) && p.y >= Double(y) && p.y < Double(maxY)
    }
}

/// Marker shapes; series cycle through them as well as through colours so that charts stay
/// readable in greyscale and for colour-blind readers.
public enum MarkerShape: CaseIterable, Sendable {
    case circle, square, triangle, diamond
}

/// Text direction: `.up` reads bottom-to-top (rotated 90° counter-clockwise), as y-axis labels do.
public enum TextDirection: Sendable {
    case horizontal, up
}

/// An RGB8 pixel buffer with anti-aliased drawing primitives. Everything is clipped to the canvas,
/// and non-finite coordinates are ignored, so callers never have to pre-validate geometry.
public struct Canvas: Equatable, Sendable {
    /// Largest side accepted; bigger requests are clamped rather than allocating gigabytes.
    public static let maxSide = 16384

    /// Pixel columns, 1…`maxSide` (requests outside that range are clamped).
    public let width: Int
    /// Pixel rows, 1…`maxSide` (requests outside that range are clamped).
    public let height: Int
    /// Row-major RGB triples, `width * height * 3` bytes.
    public private(set) var pixels: [UInt8]
    /// When set, drawing only changes pixels inside this rectangle (charts clip data to the plot area).
    public var clip: PixelRect?

    /// A canvas filled with `background`, each side clamped to 1…`maxSide`.
    public init(width: Int, height: Int, background: Color = .white) {
        self.width = min(max(width, 1), Canvas.maxSide)
        self.height = min(max(height, 1), Canvas.maxSide)
        let count = self.width * self.height
        pixels =
            background == .white || background == .black
            ? [UInt8](repeating: background.r, count: count * 3)
            : [UInt8]((0..<count).lazy.flatMap { _ in [background.r, background.g, background.b] })
    }

    // MARK: Pixels

    /// The colour of a pixel, nil outside the canvas.
    public func pixel(x: Int, y: Int) -> Color? {
        guard x >= 0, x < width, y >= 0, y < height else { return nil }
        let i = (y * width + x) * 3
        return Color(r: pixels[i], g: pixels[i + 1], b: pixels[i + 2])
    }

    /// Sets one pixel; ignored outside the canvas or outside `clip`.
    public mutating func setPixel(x: Int, y: Int, color: Color) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        if let clip, !clip.contains(x: x, y: y) { return }
        let i = (y * width + x) * 3
        pixels[i] = color.r
        pixels[i + 1] = color.g
        pixels[i + 2] = color.b
    }

    /// Mixes `color` into the pixel with the given coverage in [0, 1].
    public mutating func blend(x: Int, y: Int, color: Color, alpha: Double) {
        guard x >= 0, x < width, y >= 0, y < height, alpha > 0 else { return }
        if let clip, !clip.contains(x: x, y: y) { return }
        if alpha >= 1 {
            setPixel(x: x, y: y, color: color)
            return
        }
        let i = (y * width + x) * 3
        @inline(__always) func mix(_ dst: UInt8, _ src: UInt8) -> UInt8 {
            UInt8((Double(dst) + (Double(src) - Double(dst)) * alpha).rounded())
        }
        pixels[i] = mix(pixels[i], color.r)
        pixels[i + 1] = mix(pixels[i + 1], color.g)
        pixels[i + 2] = mix(pixels[i + 2], color.b)
    }

    /// Sets every pixel (ignoring `clip`).
    public mutating func fill(_ color: Color) {
        for i in stride(from: 0, to: pixels.count, by: 3) {
            pixels[i] = color.r
            pixels[i + 1] = color.g
            pixels[i + 2] = color.b
        }
    }

    // MARK: Rectangles

    /// Fills the part of `rect` inside the canvas and `clip`, without anti-aliasing.
    public mutating func fillRect(_ rect: PixelRect, color: Color) {
        let x0 = max(rect.x, 0, clip?.x ?? 0)
        let x1 = min(rect.maxX, width, clip?.maxX ?? width)
        let y0 = max(rect.y, 0, clip?.y ?? 0)
        let y1 = min(rect.maxY, height, clip?.maxY ?? height)
        guard x0 < x1, y0 < y1 else { return }
        for y in y0..<y1 {
            for x in x0..<x1 { setPixel(x: x, y: y, color: color) }
        }
    }

    /// Outlines `rect` with a border `lineWidth` pixels thick drawn inside the rectangle.
    public mutating func strokeRect(_ rect: PixelRect, color: Color, lineWidth: Int = 1) {
        let w = max(1, lineWidth)
        fillRect(PixelRect(x: rect.x, y: rect.y, width: rect.width, height: w), color: color)
        fillRect(PixelRect(x: rect.x, y: rect.maxY - w, width: rect.width, height: w), color: color)
        fillRect(PixelRect(x: rect.x, y: rect.y, width: w, height: rect.height), color: color)
        fillRect(PixelRect(x: rect.maxX - w, y: rect.y, width: w, height: rect.height), color: color)
    }

    // MARK: Lines

    /// Anti-aliased line with round ends, coverage from the distance of each pixel centre to the
    /// segment. Round ends make consecutive segments of a polyline join without gaps.
    public mutating func drawLine(from a: Point, to b: Point, color: Color, width lineWidth: Double = 1) {
        guard a.isFinite, b.isFinite, lineWidth.isFinite else { return }
        // Endpoints far off the canvas are clipped first so the loops below stay bounded.
        let limit = Double(Canvas.maxSide) * 2
        if abs(a.x) > limit || abs(a.y) > limit || abs(b.x) > limit || abs(b.y) > limit {
            guard let (ca, cb) = clipSegment(a, b) else { return }
            drawLine(from: ca, to: cb, color: color, width: lineWidth)
            return
        }
        let half = min(max(lineWidth, 0.5), 64) / 2
        let reach = half + 1
        let dx = b.x - a.x
        let dy = b.y - a.y
        let lengthSquared = dx * dx + dy * dy

        func coverage(_ px: Int, _ py: Int) -> Double {
            let cx = Double(px) + 0.5
            let cy = Double(py) + 0.5
            var t = lengthSquared > 0 ? ((cx - a.x) * dx + (cy - a.y) * dy) / lengthSquared : 0
            t = min(max(t, 0), 1)
            let ex = a.x + t * dx - cx
            let ey = a.y + t * dy - cy
            let d = (ex * ex + ey * ey).squareRoot()
            return min(max(half + 0.5 - d, 0), 1)
        }

        let minX = max(clampInt((min(a.x, b.x) - reach).rounded(.down)), 0)
        let maxX = min(clampInt((max(a.x, b.x) + reach).rounded(.up)), width - 1)
        let minY = max(clampInt((min(a.y, b.y) - reach).rounded(.down)), 0)
        let maxY = min(clampInt((max(a.y, b.y) + reach).rounded(.up)), height - 1)
        guard minX <= maxX, minY <= maxY else { return }

        // Walk the major axis and only test a narrow band around the line on the minor axis,
        // so long diagonals cost O(length) rather than O(bounding-box area).
        if abs(dx) >= abs(dy) {
            let slope = dx == 0 ? 0 : dy / dx
            let band = reach * (1 + slope * slope).squareRoot() + 1
            for x in minX...maxX {
                let cx = min(max(Double(x) + 0.5, min(a.x, b.x)), max(a.x, b.x))
                let yc = a.y + (cx - a.x) * slope
                let y0 = max(minY, clampInt((yc - band).rounded(.down)))
                let y1 = min(maxY, clampInt((yc + band).rounded(.up)))
                guard y0 <= y1 else { continue }
                for y in y0...y1 { blend(x: x, y: y, color: color, alpha: coverage(x, y)) }
            }
        } else {
            let slope = dx / dy
            let band = reach * (1 + slope * slope).squareRoot() + 1
            for y in minY...maxY {
                let cy = min(max(Double(y) + 0.5, min(a.y, b.y)), max(a.y, b.y))
                let xc = a.x + (cy - a.y) * slope
                let x0 = max(minX, clampInt((xc - band).rounded(.down)))
                let x1 = min(maxX, clampInt((xc + band).rounded(.up)))
                guard x0 <= x1 else { continue }
                for x in x0...x1 { blend(x: x, y: y, color: color, alpha: coverage(x, y)) }
            }
        }
    }

    /// Liang–Barsky clip of a segment to a box slightly larger than the canvas.
    private func clipSegment(_ a: Point, _ b: Point) -> (Point, Point)? {
        let lo = -8.0
        let hiX = Double(width) + 8
        let hiY = Double(height) + 8
        var t0 = 0.0
        var t1 = 1.0
        let dx = b.x - a.x
        let dy = b.y - a.y
        for (p, q) in [(-dx, a.x - lo), (dx, hiX - a.x), (-dy, a.y - lo), (dy, hiY - a.y)] {
            if p == 0 {
                if q < 0 { return nil }
                continue
            }
            let r = q / p
            if p < 0 { t0 = max(t0, r) } else { t1 = min(t1, r) }
            if t0 > t1 { return nil }
        }
        let ca = Point(a.x + t0 * dx, a.y + t0 * dy)
        let cb = Point(a.x + t1 * dx, a.y + t1 * dy)
        guard ca.isFinite, cb.isFinite else { return nil }
        return (ca, cb)
    }

    /// Joins consecutive points with anti-aliased segments of `lineWidth` pixels; fewer than two points draw nothing.
    public mutating func drawPolyline(_ points: [Point], color: Color, width lineWidth: Double = 1) {
        guard points.count >= 2 else { return }
        for i in 1..<points.count {
            drawLine(from: points[i - 1], to: points[i], color: color, width: lineWidth)
        }
    }

    /// Dashed line: `dash` pixels drawn, `gap` pixels skipped, starting with a dash at `a`.
    public mutating func drawDashedLine(
        from a: Point, to b: Point, color: Color, width lineWidth: Double = 1,
        dash: Double = 6, gap: Double = 4
    ) {
        guard a.isFinite, b.isFinite, dash.isFinite, gap.isFinite else { return }
        let dx = b.x - a.x
        let dy = b.y - a.y
        let length = (dx * dx + dy * dy).squareRoot()
        guard length > 0, length < Double(Canvas.maxSide) * 8 else { return }
        let on = max(dash, 1)
        let period = on + max(gap, 0)
        var s = 0.0
        while s < length {
            let e = min(s + on, length)
            drawLine(
                from: Point(a.x + dx * s / length, a.y + dy * s / length),
                to: Point(a.x + dx * e / length, a.y + dy * e / length), color: color, width: lineWidth)
            s += period
        }
    }

    // MARK: Shapes

    /// A filled disc, anti-aliased at the edge; ignored for a non-finite centre or radius, or a radius ≤ 0.
    public mutating func fillCircle(center: Point, radius: Double, color: Color) {
        guard center.isFinite, radius.isFinite, radius > 0, radius < Double(Canvas.maxSide) else { return }
        forEachPixel(around: center, reach: radius + 1, color: color) { d in
            min(max(radius + 0.5 - d, 0), 1)
        }
    }

    /// A ring of the given stroke width centred on `radius`.
    public mutating func strokeCircle(center: Point, radius: Double, color: Color, width lineWidth: Double = 1) {
        guard center.isFinite, radius.isFinite, radius > 0, radius < Double(Canvas.maxSide) else { return }
        let half = min(max(lineWidth, 0.5), 64) / 2
        forEachPixel(around: center, reach: radius + half + 1, color: color) { d in
            min(max(half + 0.5 - abs(d - radius), 0), 1)
        }
    }

    /// Fills a polygon with 4×4 supersampled coverage (even–odd rule).
    public mutating func fillPolygon(_ vertices: [Point], color: Color) {
        guard vertices.count >= 3, vertices.allSatisfy({ $0.isFinite }) else { return }
        let xs = vertices.map(\.x)
        let ys = vertices.map(\.y)
        guard let lowX = xs.min(), let highX = xs.max(), let lowY = ys.min(), let highY = ys.max(),
            highX - lowX < Double(Canvas.maxSide), highY - lowY < Double(Canvas.maxSide)
        else { return }
        let minX = max(clampInt(lowX.rounded(.down)), 0)
        let maxX = min(clampInt(highX.rounded(.up)), width - 1)
        let minY = max(clampInt(lowY.rounded(.down)), 0)
        let maxY = min(clampInt(highY.rounded(.up)), height - 1)
        guard minX <= maxX, minY <= maxY else { return }
        for py in minY...maxY {
            for px in minX...maxX {
                var inside = 0
                for sy in 0..<4 {
                    for sx in 0..<4 {
                        let p = Point(Double(px) + (Double(sx) + 0.5) / 4, Double(py) + (Double(sy) + 0.5) / 4)
                        if Self.contains(vertices, p) { inside += 1 }
                    }
                }
                blend(x: px, y: py, color: color, alpha: Double(inside) / 16)
            }
        }
    }

    /// Draws a filled marker of the given overall size (pixels across), with an optional outline
    /// that separates overlapping markers.
    public mutating func drawMarker(
        _ shape: MarkerShape, at center: Point, size: Double, color: Color,
        outline: Color? = nil
    ) {
        guard center.isFinite, size.isFinite, size > 0 else { return }
        if let outline {
            fillMarkerShape(shape, at: center, radius: size / 2 + 1.2, color: outline)
        }
        fillMarkerShape(shape, at: center, radius: size / 2, color: color)
    }

    private mutating func fillMarkerShape(_ shape: MarkerShape, at c: Point, radius r: Double, color: Color) {
        switch shape {
        case .circle:
            fillCircle(center: c, radius: r, color: color)
        case .square:
            // Slightly smaller than the circle's radius so all shapes look equally heavy.
            let h = r * 0.85
            fillPolygon(
                [
                    Point(c.x - h, c.y - h), Point(c.x + h, c.y - h), Point(c.x + h, c.y + h),
                    Point(c.x - h, c.y + h),
                ], color: color)
        case .triangle:
            let s = r * 1.25
            fillPolygon(
                [
                    Point(c.x, c.y - s), Point(c.x + s * 0.866, c.y + s * 0.5),
                    Point(c.x - s * 0.866, c.y + s * 0.5),
                ], color: color)
        case .diamond:
            let s = r * 1.2
            fillPolygon(
                [Point(c.x, c.y - s), Point(c.x + s, c.y), Point(c.x, c.y + s), Point(c.x - s, c.y)],
                color: color)
        }
    }

    /// Blends `color` into every pixel near `c` with the coverage computed from the distance of
    /// the pixel centre to `c`.
    private mutating func forEachPixel(
        around c: Point, reach: Double, color: Color,
        _ coverage: (Double) -> Double
    ) {
        let minX = max(clampInt((c.x - reach).rounded(.down)), 0)
        let maxX = min(clampInt((c.x + reach).rounded(.up)), width - 1)
        let minY = max(clampInt((c.y - reach).rounded(.down)), 0)
        let maxY = min(clampInt((c.y + reach).rounded(.up)), height - 1)
        guard minX <= maxX, minY <= maxY else { return }
        for py in minY...maxY {
            for px in minX...maxX {
                let dx = Double(px) + 0.5 - c.x
                let dy = Double(py) + 0.5 - c.y
                blend(x: px, y: py, color: color, alpha: coverage((dx * dx + dy * dy).squareRoot()))
            }
        }
    }

    private static func contains(_ polygon: [Point], _ p: Point) -> Bool {
        var inside = false
        var j = polygon.count - 1
        for i in 0..<polygon.count {
            let a = polygon[i]
            let b = polygon[j]
            if (a.y > p.y) != (b.y > p.y), p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
                inside.toggle()
            }
            j = i
        }
        return inside
    }

    // MARK: Text

    /// Draws `text` with the built-in bitmap font. (`x`, `y`) is the top-left corner of the text's
    /// bounding box as it appears on the canvas, for `.up` text too; `BitmapFont.size(of:scale:)`
    /// gives the unrotated box. Characters outside printable ASCII are drawn as `?`.
    public mutating func drawText(
        _ text: String, x: Int, y: Int, color: Color, scale: Int = 1,
        direction: TextDirection = .horizontal
    ) {
        let s = min(max(scale, 1), 64)
        let codes = BitmapFont.codes(of: text)
        let textWidth = BitmapFont.width(ofCharacters: codes.count, scale: s)
        // Skip text that lies entirely off the canvas (also keeps the loops bounded).
        let (boxW, boxH) =
            direction == .horizontal
            ? (textWidth, BitmapFont.lineHeight(scale: s)) : (BitmapFont.lineHeight(scale: s), textWidth)
        guard x < width, y < height, x + boxW > 0, y + boxH > 0 else { return }
        var pen = 0
        for code in codes {
            let glyph = BitmapFont.glyph(code)
            for row in 0..<BitmapFont.glyphRows {
                let bits = glyph.rows[row]
                guard bits != 0 else { continue }
                for col in 0..<BitmapFont.glyphColumns where bits & (1 << (BitmapFont.glyphColumns - 1 - col)) != 0 {
                    // u runs along the text, v down across it (before rotation).
                    let u = pen + col * s
                    let v = (row + glyph.shift) * s
                    for dy in 0..<s {
                        for dx in 0..<s {
                            switch direction {
                            case .horizontal:
                                setPixel(x: x + u + dx, y: y + v + dy, color: color)
                            case .up:
                                setPixel(x: x + v + dy, y: y + textWidth - 1 - (u + dx), color: color)
                            }
                        }
                    }
                }
            }
            pen += BitmapFont.advance * s
        }
    }
}

/// `Int(v)` that cannot trap: NaN becomes 0 and magnitudes are capped far beyond any canvas.
@inline(__always)
func clampInt(_ v: Double) -> Int {
    guard v.isFinite else { return 0 }
    return Int(min(max(v, -1e12), 1e12))
}
