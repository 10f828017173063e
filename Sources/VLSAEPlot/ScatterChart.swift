import Foundation
import VLSAECore

/// One point of a scatter chart, e.g. one trained SAE at (L0, FVU).
@MemberwiseInit
public struct ScatterPoint: Equatable, Sendable {
    /// Position along the x axis, in data units; non-finite (or ≤ 0 on a log axis) hides the point.
    public var x: Double
    /// Position along the y axis, in data units; non-finite (or ≤ 0 on a log axis) hides the point.
    public var y: Double
    /// Short text drawn beside the point (e.g. "k=32"); nil for none.
    public var label: String? = nil
    /// Points of one group share a colour and marker and one legend entry.
    public var group: String
}

/// Which direction of an axis is better, for the Pareto front.
public enum Objective: Equatable, Sendable {
    case minimize, maximize
}

/// A scatter of points in groups with their Pareto front, e.g. FVU against L0 where lower is
/// better on both axes.
///
/// The front is the set of points no other point beats: a point is dominated when another is at
/// least as good on both axes and strictly better on one. It is drawn as the step line bounding
/// the region the front dominates, with its points ringed.
@MemberwiseInit
public struct ScatterChart: Chart, Equatable, Sendable {
    /// Text centred above the plot area, truncated to the image width.
    public var title: String
    /// Text under the x axis.
    public var xLabel: String
    /// Text along the y axis, read bottom to top.
    public var yLabel: String
    /// The points, in any order; groups take colours and markers in the order they first appear among the drawable
    /// points.
    public var points: [ScatterPoint]
    /// How x values map onto the axis.
    public var xScale: AxisScale = .linear
    /// How y values map onto the axis.
    public var yScale: AxisScale = .linear
    /// Whether smaller or larger x is better, for the Pareto front.
    public var xObjective: Objective = .minimize
    /// Whether smaller or larger y is better, for the Pareto front.
    public var yObjective: Objective = .minimize
    /// Whether to draw the front (`paretoFront(_:x:y:)` of the drawable points) as a step line with its points ringed.
    public var showParetoFront: Bool = true
    /// Whether to draw the legend (one row per group, plus "Pareto front") in the inside corner of the plot area that
    /// covers the fewest points.
    public var showLegend: Bool = true
    /// nil: chosen from the image size (`ChartTextScales.automatic`).
    public var textScales: ChartTextScales? = nil

    /// Indices of the non-dominated points, ordered by increasing x (ties by better y, then
    /// index). Points with a non-finite coordinate take no part. Exact duplicates do not dominate
    /// each other, so both stay on the front.
    public static func paretoFront(
        _ points: [ScatterPoint], x: Objective = .minimize,
        y: Objective = .minimize
    ) -> [Int] {
        paretoFront(points, x: x, y: y, include: { _ in true })
    }

    static func paretoFront(
        _ points: [ScatterPoint], x: Objective, y: Objective,
        include: (ScatterPoint) -> Bool
    ) -> [Int] {
        // Turn both objectives into "smaller is better".
        let sx: Double = x == .minimize ? 1 : -1
        let sy: Double = y == .minimize ? 1 : -1
        let candidates = points.indices.filter { points[$0].x.isFinite && points[$0].y.isFinite && include(points[$0]) }
        let front = candidates.filter { i in
            let a = points[i]
            return !candidates.contains { j in
                let b = points[j]
                let noWorse = sx * b.x <= sx * a.x && sy * b.y <= sy * a.y
                let better = sx * b.x < sx * a.x || sy * b.y < sy * a.y
                return noWorse && better
            }
        }
        return front.sorted { i, j in
            let a = points[i]
            let b = points[j]
            if a.x != b.x { return a.x < b.x }
            if a.y != b.y { return sy * a.y < sy * b.y }
            return i < j
        }
    }

    /// Corner points of the step line through `front` (points sorted by increasing x): the
    /// boundary of the region the front dominates. Each front point's y holds over the x values
    /// it still beats, so with x minimised the line goes across then vertically to the next
    /// point; with x maximised, vertically then across.
    static func stepPath(_ front: [Point], xObjective: Objective) -> [Point] {
        guard var previous = front.first else { return [] }
        var path = [previous]
        for p in front.dropFirst() {
            path.append(xObjective == .minimize ? Point(p.x, previous.y) : Point(previous.x, p.y))
            path.append(p)
            previous = p
        }
        return path
    }

    /// As `render(width:height:)`, together with where the plot area, title and legend landed.
    public func renderWithLayout(width: Int = 800, height: Int = 500) -> RenderedChart {
        var canvas = Canvas(width: width, height: height)
        let w = canvas.width
        let h = canvas.height
        let drawable: (ScatterPoint) -> Bool = { xScale.transform($0.x) != nil && yScale.transform($0.y) != nil }
        let visible = points.filter(drawable)
        var groups: [String] = []
        for p in visible where !groups.contains(p.group) { groups.append(p.group) }

        let text = textScales ?? .automatic(width: w, height: h)
        let targetX = max(3, min(8, w / 110))
        let targetY = max(4, min(8, h / 65))
        let xTicks = AxisMap.ticks(
            scale: xScale, min: visible.map(\.x).min(), max: visible.map(\.x).max(),
            targetCount: targetX)
        let yTicks = AxisMap.ticks(
            scale: yScale, min: visible.map(\.y).min(), max: visible.map(\.y).max(),
            targetCount: targetY)
        let frame = ChartFrame(
            width: w, height: h, title: title, xLabel: xLabel, yLabel: yLabel,
            xScale: xScale, xTicks: xTicks, yScale: yScale, yTicks: yTicks, text: text)
        frame.drawGrid(on: &canvas)
        canvas.clip = frame.dataClip

        var obstacles: [Point] = []
        let frontColor = Color(hex: 0x222222)
        let front =
            showParetoFront
            ? ScatterChart.paretoFront(points, x: xObjective, y: yObjective, include: drawable) : []
        let frontPixels = front.compactMap { frame.point(points[$0].x, points[$0].y) }
        if frontPixels.count > 1 {
            let path = ScatterChart.stepPath(frontPixels, xObjective: xObjective)
            canvas.drawPolyline(path, color: frontColor, width: 1.5 * frame.stroke)
            obstacles += ChartFrame.samples(along: path)
        }

        let groupIndex = Dictionary(
            groups.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        for p in visible {
            guard let pixel = frame.point(p.x, p.y), let g = groupIndex[p.group] else { continue }
            let (color, marker) = ChartFrame.style(g)
            canvas.drawMarker(marker, at: pixel, size: 9 * frame.stroke, color: color, outline: .white)
            obstacles.append(pixel)
        }
        for pixel in frontPixels {
            canvas.strokeCircle(center: pixel, radius: 8 * frame.stroke, color: frontColor, width: 1.5 * frame.stroke)
        }

        // Point labels beside their markers, flipped to the left near the right edge.
        let labelScale = text.annotation
        for p in visible {
            guard let label = p.label, !label.isEmpty, let pixel = frame.point(p.x, p.y) else { continue }
            let shown = BitmapFont.truncate(label, toWidth: 120 * labelScale, scale: labelScale)
            let lw = BitmapFont.width(of: shown, scale: labelScale)
            let offset = clampInt(11 * frame.stroke)
            var lx = clampInt(pixel.x) + offset
            if lx + lw > frame.plotArea.maxX - 2 { lx = clampInt(pixel.x) - offset - lw }
            let ly = clampInt(pixel.y) - offset - BitmapFont.glyphRows * labelScale / 2
            canvas.drawText(shown, x: lx, y: max(ly, frame.plotArea.y + 2), color: .mutedText, scale: labelScale)
        }

        var legend = groups.enumerated().map { i, name -> LegendEntry in
            let (color, marker) = ChartFrame.style(i)
            return LegendEntry(name: name, color: color, marker: marker, line: false)
        }
        if !front.isEmpty {
            legend.append(LegendEntry(name: "Pareto front", color: frontColor, marker: nil, line: true, ring: true))
        }
        return frame.finish(
            &canvas, hasData: !visible.isEmpty, legend: legend, showLegend: showLegend, avoiding: obstacles)
    }
}
