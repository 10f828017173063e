import Foundation
import VLSAEPlot
import XCTest

/// Helpers that look at decoded chart images the way a reader would: is there ink where the
/// data, text and legend should be, and in which colours.
private struct ImageProbe {
    let image: DecodedImage

    func count(in rect: PixelRect, where predicate: (UInt8, UInt8, UInt8) -> Bool) -> Int {
        var n = 0
        for y in max(rect.y, 0)..<min(rect.maxY, image.height) {
            for x in max(rect.x, 0)..<min(rect.maxX, image.width) {
                let p = image.pixel(x: x, y: y)!
                if predicate(p.r, p.g, p.b) { n += 1 }
            }
        }
        return n
    }

    func nonWhite(in rect: PixelRect) -> Int {
        count(in: rect) { r, g, b in r < 250 || g < 250 || b < 250 }
    }

    func dark(in rect: PixelRect) -> Int {
        count(in: rect) { r, g, b in Int(r) + Int(g) + Int(b) < 200 }
    }

    func exact(_ c: Color, in rect: PixelRect) -> Int {
        count(in: rect) { r, g, b in r == c.r && g == c.g && b == c.b }
    }

    /// Pixels inside `rect` that are neither background, grid nor frame (grey) — i.e. data.
    func coloured(in rect: PixelRect) -> Int {
        count(in: rect) { r, g, b in max(r, g, b) - min(r, g, b) > 40 }
    }
}

private func inner(_ r: PixelRect) -> PixelRect {
    PixelRect(x: r.x + 2, y: r.y + 2, width: r.width - 4, height: r.height - 4)
}

/// Writes the figure under $VLSAE_PLOT_SAMPLES (when set) so a person can look at it.
private func saveSample(_ canvas: Canvas, _ name: String) {
    guard let dir = ProcessInfo.processInfo.environment["VLSAE_PLOT_SAMPLES"] else { return }
    try? Data(canvas.pngData()).write(to: URL(fileURLWithPath: dir).appendingPathComponent(name))
}

final class LineChartTests: XCTestCase {
    static func accuracyChart() -> LineChart {
        let ks: [Double] = [16, 32, 64, 128, 256]
        func series(_ name: String, _ deltas: [Double], _ halfWidth: Double) -> LineSeries {
            LineSeries(
                name: name,
                points: zip(ks, deltas).map { k, d in
                    LinePoint(x: k, y: d, low: d - halfWidth, high: d + halfWidth)
                })
        }
        return LineChart(
            title: "Zero-shot accuracy change vs k", xLabel: "k (active latents)",
            yLabel: "Accuracy change (points)",
            series: [
                series("VL-SAE", [-4.1, -2.5, -1.2, -0.4, -0.1], 0.6),
                series("TopK SAE", [-6.3, -3.9, -2.0, -0.9, -0.3], 0.8),
                series("ReLU SAE", [-8.0, -5.2, -3.1, -1.5, 0.2], 1.0),
            ],
            xScale: .log2)
    }

    func testRenderEncodeDecode() throws {
        let rendered = Self.accuracyChart().renderWithLayout(width: 800, height: 500)
        saveSample(rendered.canvas, "line.png")
        if ProcessInfo.processInfo.environment["VLSAE_PLOT_SAMPLES"] != nil {
            saveSample(Self.accuracyChart().render(width: 1600, height: 1000), "line-large.png")
            saveSample(Self.accuracyChart().render(width: 400, height: 260), "line-small.png")
        }
        let image = try DecodedImage.decode(pngBytes: try rendered.canvas.pngData())
        XCTAssertEqual(image.width, 800)
        XCTAssertEqual(image.height, 500)
        let probe = ImageProbe(image: image)
        let layout = rendered.layout

        // Plot area sits inside the image with room for labels on the left and below.
        XCTAssertGreaterThan(layout.plotArea.x, 30)
        XCTAssertLessThan(layout.plotArea.maxY, 470)
        XCTAssertGreaterThan(layout.plotArea.width, 500)
        XCTAssertGreaterThan(layout.plotArea.height, 300)

        let plot = inner(layout.plotArea)
        XCTAssertGreaterThan(probe.coloured(in: plot), 1500, "lines, whiskers and markers")
        // The three series colours appear as exact (fully covered) pixels.
        for c in Color.palette.prefix(3) {
            XCTAssertGreaterThan(probe.exact(c, in: plot), 150, "series colour \(c)")
        }
        XCTAssertEqual(probe.exact(Color.palette[3], in: plot), 0, "only three series were drawn")
        XCTAssertGreaterThan(probe.dark(in: layout.titleArea), 200, "title text")

        // Tick labels below the frame and the rotated y label to its left.
        let below = PixelRect(
            x: layout.plotArea.x, y: layout.plotArea.maxY + 6, width: layout.plotArea.width,
            height: 500 - layout.plotArea.maxY - 6)
        XCTAssertGreaterThan(probe.dark(in: below), 300)
        let left = PixelRect(x: 0, y: layout.plotArea.y, width: layout.plotArea.x - 6, height: layout.plotArea.height)
        XCTAssertGreaterThan(probe.dark(in: left), 300)

        // Legend inside the plot area, with text in it.
        let legend = try XCTUnwrap(layout.legendArea)
        XCTAssertGreaterThanOrEqual(legend.x, layout.plotArea.x)
        XCTAssertLessThanOrEqual(legend.maxX, layout.plotArea.maxX)
        XCTAssertGreaterThanOrEqual(legend.y, layout.plotArea.y)
        XCTAssertLessThanOrEqual(legend.maxY, layout.plotArea.maxY)
        XCTAssertGreaterThan(probe.exact(.black, in: legend), 100)
    }

    func testSameInputGivesIdenticalBytes() throws {
        let a = try Self.accuracyChart().render().pngData()
        let b = try Self.accuracyChart().render().pngData()
        XCTAssertEqual(a, b)
        var changed = Self.accuracyChart()
        changed.series[0].points[2].y += 0.5
        XCTAssertNotEqual(try changed.render().pngData(), a)
    }

    func testWhiskersExtendTheSeriesVertically() {
        func extent(_ withIntervals: Bool) -> (Int, Int) {
            let points = [
                LinePoint(x: 1, y: 0),
                LinePoint(
                    x: 2, y: 1, low: withIntervals ? -1 : nil,
                    high: withIntervals ? 3 : nil),
                LinePoint(x: 3, y: 2),
            ]
            // A second, invisible-range series fixes the y range so both renders share a mapping.
            let chart = LineChart(
                title: "", xLabel: "", yLabel: "",
                series: [
                    LineSeries(name: "a", points: points),
                    LineSeries(
                        name: "range",
                        points: [
                            LinePoint(x: 1, y: -1),
                            LinePoint(x: 1, y: 3),
                        ]),
                ],
                referenceY: nil, dodge: 0, showLegend: false)
            let canvas = chart.render(width: 400, height: 300)
            saveSample(canvas, "whiskers-\(withIntervals).png")
            var count = 0
            var rows = Set<Int>()
            for y in 0..<300 {
                // Blue-dominant pixels: series "a" (Okabe-Ito blue), anti-aliased edges included.
                for x in 0..<400 {
                    let p = canvas.pixel(x: x, y: y)!
                    guard Int(p.b) - Int(p.r) > 60 else { continue }
                    count += 1
                    rows.insert(y)
                }
            }
            return (count, rows.count)
        }
        let plain = extent(false)
        let whiskered = extent(true)
        XCTAssertGreaterThan(whiskered.0, plain.0 + 100)
        XCTAssertGreaterThan(whiskered.1, plain.1 + 50)
    }

    func testReferenceLineIsDrawnAndKeptInRange() throws {
        let series = [LineSeries(name: "s", points: [LinePoint(x: 1, y: 5), LinePoint(x: 2, y: 6)])]
        let grey = Color(hex: 0x666666)
        let with = LineChart(title: "t", xLabel: "x", yLabel: "y", series: series, referenceY: 0)
            .renderWithLayout(width: 600, height: 400)
        let without = LineChart(title: "t", xLabel: "x", yLabel: "y", series: series, referenceY: nil)
            .renderWithLayout(width: 600, height: 400)
        func greyRows(_ r: RenderedChart) -> [Int: Int] {
            var rows: [Int: Int] = [:]
            let a = inner(r.layout.plotArea)
            for y in a.y..<a.maxY {
                for x in a.x..<a.maxX where r.canvas.pixel(x: x, y: y) == grey { rows[y, default: 0] += 1 }
            }
            return rows
        }
        let rows = greyRows(with)
        XCTAssertTrue(greyRows(without).isEmpty)
        // One dashed row: many grey pixels, but well under the full width (gaps).
        let (row, n) = try XCTUnwrap(rows.max { $0.value < $1.value })
        XCTAssertGreaterThan(n, with.layout.plotArea.width / 3)
        XCTAssertLessThan(n, with.layout.plotArea.width - 20)
        // y = 0 is below the data (5…6), so the line sits in the lower part of the plot.
        XCTAssertGreaterThan(row, with.layout.plotArea.y + with.layout.plotArea.height / 2)
    }

    func testBadInputRendersWithoutCrashing() throws {
        let charts: [LineChart] = [
            LineChart(title: "empty", xLabel: "x", yLabel: "y", series: []),
            LineChart(title: "no points", xLabel: "x", yLabel: "y", series: [LineSeries(name: "s", points: [])]),
            LineChart(
                title: "NaN", xLabel: "x", yLabel: "y",
                series: [
                    LineSeries(
                        name: "s",
                        points: [
                            LinePoint(x: .nan, y: 1), LinePoint(x: 1, y: .nan),
                            LinePoint(x: 2, y: 3, low: .nan, high: .infinity),
                            LinePoint(x: 3, y: 4, low: 5, high: 3), LinePoint(x: 4, y: 3),
                        ])
                ]),
            LineChart(
                title: "flat", xLabel: "x", yLabel: "y",
                series: [
                    LineSeries(
                        name: "s",
                        points: [
                            LinePoint(x: 7, y: 0.5), LinePoint(x: 7, y: 0.5),
                        ])
                ], referenceY: nil),
            LineChart(
                title: "log with non-positive x", xLabel: "k", yLabel: "y",
                series: [
                    LineSeries(
                        name: "s",
                        points: [
                            LinePoint(x: 0, y: 1), LinePoint(x: -4, y: 2), LinePoint(x: 64, y: 3),
                        ])
                ], xScale: .log2),
            LineChart(
                title: "huge", xLabel: "x", yLabel: "y",
                series: [
                    LineSeries(
                        name: "s",
                        points: [
                            LinePoint(x: -1.7e308, y: 1.7e308), LinePoint(x: 1.7e308, y: -1.7e308),
                        ])
                ]),
            LineChart(
                title: String(repeating: "very long title ", count: 40), xLabel: String(repeating: "x", count: 500),
                yLabel: String(repeating: "y", count: 500),
                series: (0..<40).map { i in
                    LineSeries(
                        name: "series number \(i) é",
                        points: [
                            LinePoint(x: Double(i), y: Double(i * i))
                        ])
                }),
        ]
        for (i, chart) in charts.enumerated() {
            for (w, h) in [(400, 250), (120, 80), (1, 1), (0, -3)] {
                let rendered = chart.renderWithLayout(width: w, height: h)
                let image = try DecodedImage.decode(pngBytes: try rendered.canvas.pngData())
                XCTAssertEqual(image.width, max(w, 1))
                XCTAssertEqual(image.height, max(h, 1))
            }
            if ProcessInfo.processInfo.environment["VLSAE_PLOT_SAMPLES"] != nil {
                saveSample(chart.render(), "line-edge-\(i).png")
            }
        }
        // The empty chart still shows its frame and says why it is empty.
        let empty = charts[0].renderWithLayout(width: 400, height: 250)
        let probe = ImageProbe(image: try DecodedImage.decode(pngBytes: try empty.canvas.pngData()))
        XCTAssertGreaterThan(probe.nonWhite(in: inner(empty.layout.plotArea)), 100, "'no data' message")
        XCTAssertNil(empty.layout.legendArea)
        // NaN points are skipped, the valid ones still drawn.
        let nan = charts[2].renderWithLayout(width: 400, height: 250)
        XCTAssertGreaterThan(
            ImageProbe(image: try DecodedImage.decode(pngBytes: try nan.canvas.pngData()))
                .exact(Color.palette[0], in: inner(nan.layout.plotArea)), 50)
    }
}

final class ScatterChartTests: XCTestCase {
    func testParetoFrontOnHandMadeSet() {
        // (x, y); lower is better on both. Dominated: B by A, E by D, F by A and C, H by G.
        let pts: [(Double, Double)] = [
            (1, 9),  // 0 A  front
            (2, 9.5),  // 1 B  dominated by A
            (3, 5),  // 2 C  front
            (5, 2),  // 3 D  front
            (6, 2),  // 4 E  dominated by D (same y, larger x)
            (4, 7),  // 5 F  dominated by C
            (8, 1),  // 6 G  front
            (9, 1.5),  // 7 H  dominated by G
            (.nan, 0),  // 8 never on the front
        ]
        let points = pts.enumerated().map { ScatterPoint(x: $0.element.0, y: $0.element.1, group: "g\($0.offset % 2)") }
        XCTAssertEqual(ScatterChart.paretoFront(points), [0, 2, 3, 6])
        // Higher y better: A has the lowest x, B the highest y; everything else is beaten by one of them.
        XCTAssertEqual(ScatterChart.paretoFront(points, x: .minimize, y: .maximize), [0, 1])
        XCTAssertEqual(ScatterChart.paretoFront(points, x: .maximize, y: .minimize), [6, 7])
        // B has the highest y and H the highest x; F beats C, and E beats D.
        XCTAssertEqual(ScatterChart.paretoFront(points, x: .maximize, y: .maximize), [1, 5, 4, 7])
    }

    /// Brute-force check against the definition on random sets with ties.
    func testParetoFrontMatchesDefinition() {
        var state: UInt64 = 42
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double((state >> 33) % 20)
        }
        for _ in 0..<200 {
            let points = (0..<15).map { _ in ScatterPoint(x: next(), y: next(), group: "g") }
            for xo in [Objective.minimize, .maximize] {
                for yo in [Objective.minimize, .maximize] {
                    let front = Set(ScatterChart.paretoFront(points, x: xo, y: yo))
                    func better(_ a: Double, _ b: Double, _ o: Objective) -> Bool { o == .minimize ? a < b : a > b }
                    for (i, p) in points.enumerated() {
                        let dominated = points.contains { q in
                            !better(p.x, q.x, xo) && !better(p.y, q.y, yo)
                                && (better(q.x, p.x, xo) || better(q.y, p.y, yo))
                        }
                        XCTAssertEqual(front.contains(i), !dominated)
                    }
                }
            }
        }
    }

    func testDuplicatesStayOnTheFront() {
        let points = [
            ScatterPoint(x: 1, y: 1, group: "a"), ScatterPoint(x: 1, y: 1, group: "b"),
            ScatterPoint(x: 2, y: 2, group: "a"),
        ]
        XCTAssertEqual(ScatterChart.paretoFront(points), [0, 1])
        XCTAssertEqual(ScatterChart.paretoFront([]), [])
    }

    static func sweepChart() -> ScatterChart {
        var points: [ScatterPoint] = []
        let ks: [Double] = [16, 32, 64, 128, 256]
        for (g, (name, base)) in [("VL-SAE", 0.30), ("TopK SAE", 0.36), ("ReLU SAE", 0.45)].enumerated() {
            for (i, k) in ks.enumerated() {
                let l0 = k * (1 + 0.1 * Double(g))
                let fvu = base * pow(0.72, Double(i)) + 0.01 * Double(g)
                points.append(ScatterPoint(x: l0, y: fvu, label: "k=\(Int(k))", group: name))
            }
        }
        return ScatterChart(
            title: "Reconstruction vs sparsity", xLabel: "L0 (active latents per token)",
            yLabel: "FVU", points: points, xScale: .log2)
    }

    func testRenderEncodeDecode() throws {
        let rendered = Self.sweepChart().renderWithLayout(width: 800, height: 500)
        saveSample(rendered.canvas, "scatter.png")
        if ProcessInfo.processInfo.environment["VLSAE_PLOT_SAMPLES"] != nil {
            var accuracy = Self.sweepChart()
            accuracy.yObjective = .maximize
            accuracy.yLabel = "Accuracy"
            accuracy.points = accuracy.points.map { p in
                ScatterPoint(x: p.x, y: 1 - p.y, label: p.label, group: p.group)
            }
            saveSample(accuracy.render(), "scatter-max.png")
        }
        let image = try DecodedImage.decode(pngBytes: try rendered.canvas.pngData())
        XCTAssertEqual(image.width, 800)
        XCTAssertEqual(image.height, 500)
        let probe = ImageProbe(image: image)
        let plot = inner(rendered.layout.plotArea)
        XCTAssertGreaterThan(probe.coloured(in: plot), 500)
        for c in Color.palette.prefix(3) {
            XCTAssertGreaterThan(probe.exact(c, in: plot), 40, "group colour \(c)")
        }
        // The front line and rings are near-black.
        XCTAssertGreaterThan(probe.exact(Color(hex: 0x222222), in: plot), 100)
        XCTAssertGreaterThan(probe.dark(in: rendered.layout.titleArea), 200)
        let legend = try XCTUnwrap(rendered.layout.legendArea)
        XCTAssertGreaterThan(probe.exact(.black, in: legend), 100)
        XCTAssertEqual(try Self.sweepChart().render().pngData(), try rendered.canvas.pngData())
    }

    func testFrontCanBeHidden() {
        var chart = Self.sweepChart()
        chart.showParetoFront = false
        let canvas = chart.render(width: 600, height: 400)
        var dark = 0
        let area = chart.renderWithLayout(width: 600, height: 400).layout.plotArea
        for y in inner(area).y..<inner(area).maxY {
            for x in inner(area).x..<inner(area).maxX where canvas.pixel(x: x, y: y) == Color(hex: 0x222222) {
                dark += 1
            }
        }
        XCTAssertEqual(dark, 0)
    }

    func testBadInputRendersWithoutCrashing() throws {
        let charts = [
            ScatterChart(title: "empty", xLabel: "x", yLabel: "y", points: []),
            ScatterChart(
                title: "NaN", xLabel: "x", yLabel: "y",
                points: [
                    ScatterPoint(x: .nan, y: 1, group: "a"), ScatterPoint(x: 1, y: .infinity, group: "a"),
                    ScatterPoint(x: 2, y: 2, label: "", group: "b"),
                ]),
            ScatterChart(
                title: "single", xLabel: "x", yLabel: "y", points: [ScatterPoint(x: 3, y: 3, group: "a")],
                xScale: .log10),
            ScatterChart(
                title: "non-positive on log", xLabel: "x", yLabel: "y",
                points: [
                    ScatterPoint(x: 0, y: 1, group: "a"), ScatterPoint(x: -1, y: 2, group: "a"),
                ], xScale: .log2),
        ]
        for (i, chart) in charts.enumerated() {
            for (w, h) in [(400, 250), (60, 40), (1, 1)] {
                let image = try DecodedImage.decode(pngBytes: try chart.render(width: w, height: h).pngData())
                XCTAssertEqual(image.width, w)
                XCTAssertEqual(image.height, h)
            }
            if ProcessInfo.processInfo.environment["VLSAE_PLOT_SAMPLES"] != nil {
                saveSample(chart.render(), "scatter-edge-\(i).png")
            }
        }
    }
}
