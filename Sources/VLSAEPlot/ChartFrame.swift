import Foundation
import VLSAECore

/// Where the parts of a rendered chart landed, for callers (and tests) that inspect the image.
public struct ChartLayout: Equatable, Sendable {
    /// The framed data area (frame included).
    public let plotArea: PixelRect
    /// The band above the plot area holding the title.
    public let titleArea: PixelRect
    /// The legend box, nil when the chart has no legend.
    public let legendArea: PixelRect?
}

/// A rendered chart and its layout.
public struct RenderedChart: Equatable, Sendable {
    /// The pixels of the chart.
    public let canvas: Canvas
    /// Where its plot area, title and legend landed.
    public let layout: ChartLayout
}

/// A chart that renders to pixels: `LineChart` and `ScatterChart`.
public protocol Chart {
    /// The chart drawn on a new white canvas of `width` × `height` pixels (each side clamped to 1…`Canvas.maxSide`),
    /// together with where the plot area, title and legend landed.
    func renderWithLayout(width: Int, height: Int) -> RenderedChart
}

extension Chart {
    /// The chart drawn on a new white canvas of `width` × `height` pixels (800 × 500 by default, each side clamped to
    /// 1…`Canvas.maxSide`).
    public func render(width: Int = 800, height: Int = 500) -> Canvas {
        renderWithLayout(width: width, height: height).canvas
    }
}

/// Font sizes (integer scales of the 5×7 font) for the parts of a chart.
@MemberwiseInit
public struct ChartTextScales: Equatable, Sendable {
    /// Scale of the title text (at scale s each glyph pixel is s × s).
    public var title: Int
    /// Scale of the axis labels.
    public var axisLabel: Int
    /// Scale of the tick labels.
    public var tickLabel: Int
    /// Scale of the legend text.
    public var legend: Int
    /// Scale of small annotations such as scatter point labels.
    public var annotation: Int

    /// Sizes that stay readable as the image grows: the 5×7 font is doubled for everything on an
    /// 800×500 figure, and grows with the smaller side beyond that.
    public static func automatic(width: Int, height: Int) -> ChartTextScales {
        let unit = max(1, min(width / 600, height / 380))
        let small = unit == 1 && (width < 500 || height < 320) ? 1 : 2 * unit
        return ChartTextScales(
            title: small + unit, axisLabel: small, tickLabel: small, legend: small,
            annotation: max(1, small - unit))
    }
}

/// One legend row.
struct LegendEntry {
    var name: String
    var color: Color
    var marker: MarkerShape?
    var line: Bool
    var ring: Bool = false
}

/// Layout, axes, grid and legend shared by the chart types.
struct ChartFrame {
    static let margin = 12
    static let tickLength = 5
    /// Gap between the frame and the first/last data position, so markers never sit on the frame.
    static let inset = 12.0

    let width: Int
    let height: Int
    let title: String
    let xLabel: String
    let yLabel: String
    let text: ChartTextScales
    let plotArea: PixelRect
    let titleArea: PixelRect
    /// Multiplier for line widths and marker sizes, so large figures do not look spidery.
    let stroke: Double
    let xMap: AxisMap
    let yMap: AxisMap

    init(
        width: Int, height: Int, title: String, xLabel: String, yLabel: String,
        xScale: AxisScale, xTicks: Ticks, yScale: AxisScale, yTicks: Ticks, text: ChartTextScales
    ) {
        self.width = width
        self.height = height
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.text = text
        stroke = max(1, min(Double(width) / 800, Double(height) / 500))
        let m = ChartFrame.margin
        let titleHeight = title.isEmpty ? 0 : BitmapFont.lineHeight(scale: text.title) + 10
        let top = m + titleHeight
        let yTickWidth = yTicks.labels.map { BitmapFont.width(of: $0, scale: text.tickLabel) }.max() ?? 0
        let yLabelBand = yLabel.isEmpty ? 0 : BitmapFont.lineHeight(scale: text.axisLabel) + 16
        let left = m + yLabelBand + yTickWidth + 6 + ChartFrame.tickLength
        let xLabelBand = xLabel.isEmpty ? 0 : BitmapFont.lineHeight(scale: text.axisLabel) + 8
        let bottom = m + xLabelBand + BitmapFont.lineHeight(scale: text.tickLabel) + 6 + ChartFrame.tickLength
        let lastXLabel = xTicks.labels.last.map { BitmapFont.width(of: $0, scale: text.tickLabel) } ?? 0
        let right = m + max(8, lastXLabel / 2)
        plotArea = PixelRect(
            x: left, y: top, width: max(width - left - right, 16),
            height: max(height - top - bottom, 16))
        titleArea = PixelRect(x: 0, y: 0, width: width, height: max(top - 2, 1))
        let inset = min(ChartFrame.inset, Double(min(plotArea.width, plotArea.height)) / 4)
        xMap = AxisMap(
            scale: xScale, ticks: xTicks, from: Double(plotArea.x) + inset,
            to: Double(plotArea.maxX) - inset)
        yMap = AxisMap(
            scale: yScale, ticks: yTicks, from: Double(plotArea.maxY) - inset,
            to: Double(plotArea.y) + inset)
    }

    /// The inside of the frame: data drawing is clipped to it.
    var dataClip: PixelRect {
        PixelRect(x: plotArea.x + 1, y: plotArea.y + 1, width: plotArea.width - 2, height: plotArea.height - 2)
    }

    func point(_ x: Double, _ y: Double) -> Point? {
        guard let px = xMap.pixel(x), let py = yMap.pixel(y) else { return nil }
        return Point(px, py)
    }

    /// Pixel centre nearest to `p`, so one-pixel lines land crisply on a single row/column.
    static func crisp(_ p: Double) -> Double { p.rounded(.down) + 0.5 }

    func drawGrid(on canvas: inout Canvas) {
        let top = Double(plotArea.y) + 1
        let bottom = Double(plotArea.maxY) - 1
        let left = Double(plotArea.x) + 1
        let right = Double(plotArea.maxX) - 1
        for v in xMap.ticks.values {
            guard let p = xMap.pixel(v) else { continue }
            let x = ChartFrame.crisp(p)
            canvas.drawLine(from: Point(x, top), to: Point(x, bottom), color: .grid)
        }
        for v in yMap.ticks.values {
            guard let p = yMap.pixel(v) else { continue }
            let y = ChartFrame.crisp(p)
            canvas.drawLine(from: Point(left, y), to: Point(right, y), color: .grid)
        }
    }

    /// Dashed horizontal line at data value `y` across the plot area.
    func drawReference(y: Double, on canvas: inout Canvas) {
        guard let p = yMap.pixel(y) else { return }
        let py = ChartFrame.crisp(p)
        guard py > Double(plotArea.y), py < Double(plotArea.maxY) else { return }
        canvas.drawDashedLine(
            from: Point(Double(plotArea.x) + 1, py), to: Point(Double(plotArea.maxX) - 1, py),
            color: Color(hex: 0x666666), width: 1.5 * stroke, dash: 7 * stroke, gap: 5 * stroke)
    }

    /// Frame, ticks, tick labels, axis labels and title.
    func drawAxes(on canvas: inout Canvas) {
        canvas.strokeRect(plotArea, color: .axis)
        let tl = ChartFrame.tickLength
        let tickScale = text.tickLabel
        let capHeight = BitmapFont.glyphRows * tickScale

        // x ticks; labels thinned to every n-th when neighbours would collide.
        let xs = zip(xMap.ticks.values, xMap.ticks.labels).compactMap { v, label in
            xMap.pixel(v).map { (px: $0, label: label) }
        }
        let widest = xs.map { BitmapFont.width(of: $0.label, scale: tickScale) }.max() ?? 0
        var every = 1
        if xs.count > 1 {
            let spacing = abs(xs[1].px - xs[0].px)
            while spacing * Double(every) < Double(widest + 8), every < xs.count { every += 1 }
        }
        for (i, tick) in xs.enumerated() {
            let x = clampInt(tick.px.rounded(.down))
            canvas.fillRect(PixelRect(x: x, y: plotArea.maxY, width: 1, height: tl), color: .axis)
            guard i % every == 0 else { continue }
            let w = BitmapFont.width(of: tick.label, scale: tickScale)
            let lx = min(max(x - w / 2, 0), width - w)
            canvas.drawText(tick.label, x: lx, y: plotArea.maxY + tl + 5, color: .axis, scale: tickScale)
        }

        for (value, label) in zip(yMap.ticks.values, yMap.ticks.labels) {
            guard let py = yMap.pixel(value) else { continue }
            let y = clampInt(py.rounded(.down))
            canvas.fillRect(PixelRect(x: plotArea.x - tl, y: y, width: tl, height: 1), color: .axis)
            let w = BitmapFont.width(of: label, scale: tickScale)
            canvas.drawText(label, x: plotArea.x - tl - 5 - w, y: y - capHeight / 2, color: .axis, scale: tickScale)
        }

        if !xLabel.isEmpty {
            let label = BitmapFont.truncate(xLabel, toWidth: width - 2 * ChartFrame.margin, scale: text.axisLabel)
            let w = BitmapFont.width(of: label, scale: text.axisLabel)
            let x = max(min(plotArea.x + (plotArea.width - w) / 2, width - ChartFrame.margin - w), ChartFrame.margin)
            canvas.drawText(
                label, x: x, y: height - ChartFrame.margin - BitmapFont.lineHeight(scale: text.axisLabel),
                color: .black, scale: text.axisLabel)
        }
        if !yLabel.isEmpty {
            let label = BitmapFont.truncate(yLabel, toWidth: plotArea.height, scale: text.axisLabel)
            let length = BitmapFont.width(of: label, scale: text.axisLabel)
            let y = min(max(plotArea.y + (plotArea.height - length) / 2, 0), max(height - length, 0))
            canvas.drawText(label, x: ChartFrame.margin, y: y, color: .black, scale: text.axisLabel, direction: .up)
        }
        if !title.isEmpty {
            let label = BitmapFont.truncate(title, toWidth: width - 2 * ChartFrame.margin, scale: text.title)
            let w = BitmapFont.width(of: label, scale: text.title)
            let x = max(min(plotArea.x + (plotArea.width - w) / 2, width - ChartFrame.margin - w), ChartFrame.margin)
            canvas.drawText(label, x: x, y: ChartFrame.margin, color: .black, scale: text.title)
        }
    }

    /// A centred message in the plot area (used when there is nothing to plot).
    func drawMessage(_ message: String, on canvas: inout Canvas) {
        let s = text.axisLabel
        let label = BitmapFont.truncate(message, toWidth: plotArea.width - 8, scale: s)
        let w = BitmapFont.width(of: label, scale: s)
        canvas.drawText(
            label, x: plotArea.x + (plotArea.width - w) / 2,
            y: plotArea.y + (plotArea.height - BitmapFont.lineHeight(scale: s)) / 2,
            color: .mutedText, scale: s)
    }

    /// The last steps of every chart: lifts the clip, draws the axes (and "no data to plot" without `hasData`), and
    /// with `showLegend` and data places `legend` in the corner that hides the fewest `obstacles`.
    func finish(
        _ canvas: inout Canvas, hasData: Bool, legend: [LegendEntry], showLegend: Bool, avoiding obstacles: [Point]
    ) -> RenderedChart {
        canvas.clip = nil
        drawAxes(on: &canvas)
        if !hasData { drawMessage("no data to plot", on: &canvas) }
        var legendArea: PixelRect?
        if showLegend, hasData, let rect = placeLegend(legend, avoiding: obstacles) {
            drawLegend(legend, in: rect, on: &canvas)
            legendArea = rect
        }
        return RenderedChart(
            canvas: canvas,
            layout: ChartLayout(plotArea: plotArea, titleArea: titleArea, legendArea: legendArea))
    }

    // MARK: Legend

    static let maxLegendRows = 12

    private var legendRowHeight: Int { max(BitmapFont.lineHeight(scale: text.legend), clampInt(16 * stroke)) + 4 }
    private var swatchWidth: Int { clampInt(30 * stroke) }

    /// Rows actually shown: at most `maxLegendRows`, the last one summarising the rest.
    private func legendRows(_ entries: [LegendEntry]) -> [LegendEntry] {
        guard entries.count > ChartFrame.maxLegendRows else { return entries }
        let shown = Array(entries.prefix(ChartFrame.maxLegendRows - 1))
        return shown + [
            LegendEntry(
                name: "+\(entries.count - shown.count) more", color: .mutedText,
                marker: nil, line: false)
        ]
    }

    /// Picks the inside corner of the plot area that covers the fewest data points.
    func placeLegend(_ entries: [LegendEntry], avoiding obstacles: [Point]) -> PixelRect? {
        let rows = legendRows(entries)
        guard !rows.isEmpty else { return nil }
        let maxText = max(plotArea.width / 2 - swatchWidth - 24, 24)
        let textWidth =
            rows.map {
                BitmapFont.width(
                    of: BitmapFont.truncate(
                        $0.name, toWidth: maxText,
                        scale: text.legend),
                    scale: text.legend)
            }.max() ?? 0
        let w = 8 + swatchWidth + 8 + textWidth + 10
        let h = 6 + rows.count * legendRowHeight + 4
        let pad = 8
        let candidates = [
            PixelRect(x: plotArea.maxX - pad - w, y: plotArea.y + pad, width: w, height: h),
            PixelRect(x: plotArea.x + pad, y: plotArea.y + pad, width: w, height: h),
            PixelRect(x: plotArea.maxX - pad - w, y: plotArea.maxY - pad - h, width: w, height: h),
            PixelRect(x: plotArea.x + pad, y: plotArea.maxY - pad - h, width: w, height: h),
        ]
        var best = candidates[0]
        var bestCount = Int.max
        for rect in candidates {
            let grown = PixelRect(x: rect.x - 6, y: rect.y - 6, width: rect.width + 12, height: rect.height + 12)
            let count = obstacles.reduce(0) { $0 + (grown.contains($1) ? 1 : 0) }
            if count < bestCount {
                best = rect
                bestCount = count
            }
        }
        return best
    }

    func drawLegend(_ entries: [LegendEntry], in rect: PixelRect, on canvas: inout Canvas) {
        let rows = legendRows(entries)
        canvas.fillRect(rect, color: .white)
        canvas.strokeRect(rect, color: Color(hex: 0x999999))
        let maxText = rect.width - 8 - swatchWidth - 8 - 10
        for (i, entry) in rows.enumerated() {
            let rowTop = rect.y + 6 + i * legendRowHeight
            let cy = Double(rowTop) + Double(legendRowHeight - 4) / 2
            let sx = Double(rect.x + 8)
            let center = Point(sx + Double(swatchWidth) / 2, cy)
            if entry.line {
                canvas.drawLine(
                    from: Point(sx, cy), to: Point(sx + Double(swatchWidth), cy),
                    color: entry.color, width: 2 * stroke)
            }
            if let marker = entry.marker {
                canvas.drawMarker(marker, at: center, size: 9 * stroke, color: entry.color, outline: .white)
            }
            if entry.ring {
                canvas.strokeCircle(center: center, radius: 7 * stroke, color: entry.color, width: 1.5 * stroke)
            }
            let label = BitmapFont.truncate(entry.name, toWidth: maxText, scale: text.legend)
            let capHeight = BitmapFont.glyphRows * text.legend
            canvas.drawText(
                label, x: rect.x + 8 + swatchWidth + 8,
                y: clampInt(cy.rounded(.down)) - capHeight / 2, color: .black, scale: text.legend)
        }
    }

    /// Points spaced a few pixels apart along a polyline, for legend placement.
    static func samples(along points: [Point], spacing: Double = 4) -> [Point] {
        guard let first = points.first else { return [] }
        var out = [first]
        for (a, b) in zip(points, points.dropFirst()) {
            let length = ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
            let n = min(clampInt(length / spacing), 2000)
            if n > 0 {
                for k in 1...n {
                    let t = Double(k) / Double(n)
                    out.append(Point(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t))
                }
            } else {
                out.append(b)
            }
        }
        return out
    }

    /// Colour and marker for the i-th series/group: colours cycle through the palette, and the
    /// marker shifts once per palette cycle so that no two of the first 32 series look alike.
    static func style(_ i: Int) -> (Color, MarkerShape) {
        let palette = Color.palette
        let shapes = MarkerShape.allCases
        return (palette[i % palette.count], shapes[(i + i / palette.count) % shapes.count])
    }
}
