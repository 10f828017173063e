import Foundation
import VLSAECore

/// One point of a line series, with an optional interval (e.g. a 95 % confidence interval).
@MemberwiseInit
public struct LinePoint: Equatable, Sendable {
    /// Position along the x axis, in data units.
    public var x: Double
    /// Position along the y axis, in data units; the marker and the line pass through it.
    public var y: Double
    /// Lower end of the whisker, in y data units; nil or non-finite for none.
    public var low: Double? = nil
    /// Upper end of the whisker, in y data units; nil or non-finite for none.
    public var high: Double? = nil
}

/// One named line: its points joined left to right by x, with a colour and marker of its own (the series' index picks
/// them).
@MemberwiseInit
public struct LineSeries: Equatable, Sendable {
    /// Legend text, truncated to the legend's width.
    public var name: String
    /// The points in any order; they are drawn sorted by x, and undrawable points are skipped.
    public var points: [LinePoint]
}

/// Lines with markers and interval whiskers, e.g. accuracy change against k.
///
/// Points with a non-finite x or y (or x ≤ 0 on a log axis) are skipped; a non-finite interval
/// end drops just the whisker. Series are drawn in the order given, later ones on top.
@MemberwiseInit
public struct LineChart: Chart, Equatable, Sendable {
    /// Text centred above the plot area, truncated to the image width.
    public var title: String
    /// Text under the x axis.
    public var xLabel: String
    /// Text along the y axis, read bottom to top.
    public var yLabel: String
    /// The lines, drawn in order, later ones on top, each with the next colour and marker.
    public var series: [LineSeries]
    /// How x values map onto the axis; on a log scale points with x ≤ 0 are skipped.
    public var xScale: AxisScale = .linear
    /// How y values map onto the axis; on a log scale points with y ≤ 0 are skipped.
    public var yScale: AxisScale = .linear
    /// A dashed horizontal line at this y (e.g. 0 for "no change"); nil for none. It is always
    /// kept inside the y range so the reader can see which side of it the data lies on.
    public var referenceY: Double? = 0
    /// Horizontal pixel offset between neighbouring series when any series has intervals, so
    /// whiskers at shared x values do not hide each other (the total spread is capped at 24 px);
    /// 0 draws every series at its exact x.
    public var dodge: Double = 4
    /// Whether to draw the legend (one row per series) in the inside corner of the plot area that covers the fewest
    /// points.
    public var showLegend: Bool = true
    /// nil: chosen from the image size (`ChartTextScales.automatic`).
    public var textScales: ChartTextScales? = nil

    /// As `render(width:height:)`, together with where the plot area, title and legend landed.
    public func renderWithLayout(width: Int = 800, height: Int = 500) -> RenderedChart {
        var canvas = Canvas(width: width, height: height)
        let w = canvas.width
        let h = canvas.height

        // Drawable points per series, sorted by x so lines run left to right.
        let drawable: [[LinePoint]] = series.map { s in
            s.points.filter { xScale.transform($0.x) != nil && yScale.transform($0.y) != nil }
                .enumerated().sorted { ($0.element.x, $0.offset) < ($1.element.x, $1.offset) }.map(\.element)
        }
        func usable(_ v: Double?) -> Double? {
            guard let v, yScale.transform(v) != nil else { return nil }
            return v
        }
        let xs = drawable.flatMap { $0.map(\.x) }
        var ys = drawable.flatMap { $0.flatMap { [$0.y, usable($0.low), usable($0.high)].compactMap { $0 } } }
        let hasData = !xs.isEmpty
        if let r = usable(referenceY), hasData { ys.append(r) }

        let text = textScales ?? .automatic(width: w, height: h)
        let targetX = max(3, min(8, w / 110))
        let targetY = max(4, min(8, h / 65))
        let xTicks = AxisMap.ticks(scale: xScale, min: xs.min(), max: xs.max(), targetCount: targetX)
        let yTicks = AxisMap.ticks(scale: yScale, min: ys.min(), max: ys.max(), targetCount: targetY)
        let frame = ChartFrame(
            width: w, height: h, title: title, xLabel: xLabel, yLabel: yLabel,
            xScale: xScale, xTicks: xTicks, yScale: yScale, yTicks: yTicks, text: text)

        frame.drawGrid(on: &canvas)
        canvas.clip = frame.dataClip
        if hasData, let r = usable(referenceY) { frame.drawReference(y: r, on: &canvas) }

        var obstacles: [Point] = []
        var legend: [LegendEntry] = []
        let n = drawable.count
        let capHalf = 4 * frame.stroke
        let whisker = 1.5 * frame.stroke
        // Dodging only matters for whiskers, and the whole spread is capped so that many series
        // do not push points far from their x.
        let hasIntervals = drawable.contains { $0.contains { usable($0.low) != nil || usable($0.high) != nil } }
        let dodgeStep = n > 1 && hasIntervals && dodge > 0 ? min(dodge, 24 / Double(n - 1)) * frame.stroke : 0
        var placed: [[(Point, LinePoint)]] = []
        for (i, points) in drawable.enumerated() {
            let shift = (Double(i) - Double(n - 1) / 2) * dodgeStep
            placed.append(
                points.compactMap { p in
                    frame.point(p.x, p.y).map { (Point($0.x + shift, $0.y), p) }
                })
        }
        // Whiskers first, then lines, then markers, so markers stay visible on top of both.
        for (i, points) in placed.enumerated() {
            let (color, _) = ChartFrame.style(i)
            for (pixel, p) in points {
                // A one-sided interval still gets its whisker, from the point to that end.
                let low = usable(p.low)
                let high = usable(p.high)
                guard low != nil || high != nil,
                    let rawLow = frame.yMap.pixel(low ?? p.y), let rawHigh = frame.yMap.pixel(high ?? p.y)
                else { continue }
                // On pixel centres, so whiskers and caps are crisp.
                let x = ChartFrame.crisp(pixel.x)
                let pl = ChartFrame.crisp(rawLow)
                let ph = ChartFrame.crisp(rawHigh)
                canvas.drawLine(from: Point(x, pl), to: Point(x, ph), color: color, width: whisker)
                if low != nil {
                    canvas.drawLine(
                        from: Point(x - capHalf, pl), to: Point(x + capHalf, pl), color: color, width: whisker)
                }
                if high != nil {
                    canvas.drawLine(
                        from: Point(x - capHalf, ph), to: Point(x + capHalf, ph), color: color, width: whisker)
                }
                obstacles += ChartFrame.samples(along: [Point(x, pl), Point(x, ph)])
            }
        }
        for (i, points) in placed.enumerated() {
            let (color, _) = ChartFrame.style(i)
            let path = points.map(\.0)
            canvas.drawPolyline(path, color: color, width: 2 * frame.stroke)
            obstacles += ChartFrame.samples(along: path)
        }
        for (i, points) in placed.enumerated() {
            let (color, marker) = ChartFrame.style(i)
            for (pixel, _) in points {
                canvas.drawMarker(marker, at: pixel, size: 9 * frame.stroke, color: color, outline: .white)
            }
            legend.append(LegendEntry(name: series[i].name, color: color, marker: marker, line: true))
        }

        return frame.finish(
            &canvas, hasData: hasData, legend: legend, showLegend: showLegend, avoiding: obstacles)
    }
}
