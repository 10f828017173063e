import Foundation
import VLSAECore

/// A grid of images, each resized to fit a square tile and labelled underneath (the top images of a
/// concept, labelled with their activations). An image that could not be read is drawn as a
/// placeholder: a flat `Montage.placeholderColor` tile saying why.
public struct Montage: Sendable {
    /// One cell of the grid.
    @MemberwiseInit
    public struct Tile: Sendable {
        /// The image, or nil for a placeholder.
        public var image: DecodedImage?
        /// Text under the tile (printable ASCII; anything else is drawn as `?`).
        public var label: String
        /// Drawn in a placeholder, e.g. "missing" or "unreadable".
        public var placeholder: String = "missing"

    }

    /// Fill of a placeholder tile, #C8C8C8.
    public static let placeholderColor = Color(hex: 0xC8C8C8)
    /// Behind a resized image that does not fill its square, #F2F2F2.
    public static let tileBackground = Color(hex: 0xF2F2F2)
    /// Space around and between tiles, in pixels.
    public static let gap = 4

    /// Side of each square tile in pixels.
    public let tileSide: Int
    /// Tiles per row of the grid.
    public let columns: Int

    /// A layout of `columns` tiles per row (at least 1), each `tileSide` pixels square (16…1024).
    public init(tileSide: Int = 128, columns: Int = 4) {
        self.tileSide = min(max(tileSide, 16), 1024)
        self.columns = max(columns, 1)
    }

    /// Height of a label row: one line of the bitmap font and 2 pixels above and below.
    public static var labelHeight: Int { BitmapFont.lineHeight() + 4 }

    /// The top-left pixel of tile `i`'s square (its label lies below the square).
    public func origin(ofTile i: Int) -> (x: Int, y: Int) {
        let g = Montage.gap
        return (g + (i % columns) * (tileSide + g), g + (i / columns) * (tileSide + Montage.labelHeight + g))
    }

    /// The canvas size for `count` tiles: a single row when there are fewer than `columns`.
    public func size(tiles count: Int) -> (width: Int, height: Int) {
        let n = max(count, 1)
        let cols = min(columns, n)
        let rows = (n + columns - 1) / columns
        let g = Montage.gap
        return (g + cols * (tileSide + g), g + rows * (tileSide + Montage.labelHeight + g))
    }

    /// Draws the tiles left to right, top to bottom, on a white canvas.
    public func render(_ tiles: [Tile]) -> Canvas {
        let (w, h) = size(tiles: tiles.count)
        var canvas = Canvas(width: w, height: h)
        for (i, tile) in tiles.enumerated() {
            let (x, y) = origin(ofTile: i)
            let square = PixelRect(x: x, y: y, width: tileSide, height: tileSide)
            if let image = tile.image {
                canvas.fillRect(square, color: Montage.tileBackground)
                canvas.drawResized(image, fittingIn: square)
            } else {
                canvas.fillRect(square, color: Montage.placeholderColor)
                let text = BitmapFont.truncate(tile.placeholder, toWidth: tileSide - 8)
                let (tw, th) = BitmapFont.size(of: text)
                canvas.drawText(text, x: x + (tileSide - tw) / 2, y: y + (tileSide - th) / 2, color: .axis)
            }
            let label = BitmapFont.truncate(tile.label, toWidth: tileSide)
            canvas.drawText(
                label, x: x + (tileSide - BitmapFont.width(of: label)) / 2, y: y + tileSide + 2, color: .black)
        }
        return canvas
    }
}

extension Canvas {
    /// Draws `image` scaled to the largest size that fits `rect` with its aspect ratio kept, centred,
    /// each output pixel the mean of the source pixels it covers (a box filter, so shrinking does not
    /// alias) composited over the canvas by the image's alpha.
    public mutating func drawResized(_ image: DecodedImage, fittingIn rect: PixelRect) {
        guard image.width > 0, image.height > 0, rect.width > 0, rect.height > 0 else { return }
        let scale = min(Double(rect.width) / Double(image.width), Double(rect.height) / Double(image.height))
        let outW = min(rect.width, max(1, Int((Double(image.width) * scale).rounded())))
        let outH = min(rect.height, max(1, Int((Double(image.height) * scale).rounded())))
        let left = rect.x + (rect.width - outW) / 2
        let top = rect.y + (rect.height - outH) / 2
        for oy in 0..<outH {
            // Source rows [y0, y1) covered by output row oy (at least one).
            let y0 = oy * image.height / outH
            let y1 = max(y0 + 1, (oy + 1) * image.height / outH)
            for ox in 0..<outW {
                let x0 = ox * image.width / outW
                let x1 = max(x0 + 1, (ox + 1) * image.width / outW)
                var sum = (r: 0, g: 0, b: 0, a: 0)
                for sy in y0..<y1 {
                    for sx in x0..<x1 {
                        let i = (sy * image.width + sx) * 4
                        let a = Int(image.rgba[i + 3])
                        sum.r += Int(image.rgba[i]) * a
                        sum.g += Int(image.rgba[i + 1]) * a
                        sum.b += Int(image.rgba[i + 2]) * a
                        sum.a += a
                    }
                }
                let n = (y1 - y0) * (x1 - x0)
                guard sum.a > 0 else { continue }
                let color = Color(
                    r: UInt8((sum.r + sum.a / 2) / sum.a), g: UInt8((sum.g + sum.a / 2) / sum.a),
                    b: UInt8((sum.b + sum.a / 2) / sum.a))
                blend(x: left + ox, y: top + oy, color: color, alpha: Double(sum.a) / Double(255 * n))
            }
        }
    }
}
