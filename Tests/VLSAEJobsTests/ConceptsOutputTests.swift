import Foundation
import VLSAECore
import VLSAEJobs
import VLSAEPlot
import VLSAEReport
import VLSAETestSupport
import XCTest

#if canImport(FoundationXML)
import FoundationXML
#endif

/// What `vlsae concepts` writes with image paths and captions: montages decoded back (sizes,
/// placeholders for a missing and a corrupt image), `index.html` parsed back (escaping, one row and
/// montage per concept), and the page loaded in headless Chromium (rendered DOM sorted by its
/// script, montages drawn in a screenshot).
final class ConceptsOutputTests: XCTestCase {
    let tool = ToolRecord(version: "0.1.0", gitCommit: "unknown")
    /// Image row 7 has no file and row 31 a corrupt one; the two rows are duplicates in the fixture,
    /// so they sit side by side in several concepts' top images.
    static let missingRow = 7
    static let corruptRow = 31
    static let hostileCaption = "<script>alert(\"x\")</script> & 'more'"

    /// A stand-in photo for image row i: a flat colour that differs per row, sizes varying.
    static func color(ofRow i: Int) -> Color {
        Color(r: UInt8((i * 37) % 200 + 30), g: UInt8((i * 91) % 200 + 30), b: UInt8((i * 53) % 200 + 30))
    }

    /// Writes the stand-in images, `images.txt` and `captions.json` into `dir`; returns the options.
    static func prepare(_ dir: TemporaryFolder) throws -> ConceptsJob.Options {
        let f = ConceptsJobTests.fixtures
        let images = dir.url("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        var paths: [String] = []
        for i in 0..<60 {
            let name = i % 2 == 0 ? "row-\(i).png" : "row & \(i).jpg"
            paths.append("images/" + name)
            if i == missingRow { continue }
            let file = images.appendingPathComponent(name)
            if i == corruptRow {
                try Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10] + Array("JFIF and then nonsense".utf8)).write(to: file)
                continue
            }
            var c = Canvas(width: 60 + i, height: 90 - i / 2, background: color(ofRow: i))
            c.fillRect(PixelRect(x: 0, y: 0, width: 1, height: 1), color: color(ofRow: i))
            try Data(i % 2 == 0 ? try c.pngData() : try c.jpegData(quality: 95)).write(to: file)
        }
        try (paths.joined(separator: "\n") + "\n").write(
            toFile: dir.path("images.txt"), atomically: true, encoding: .utf8)
        var captions = (0..<60).map { "caption of pair \($0)" }
        captions[12] = hostileCaption
        try JSONSerialization.data(withJSONObject: captions).write(to: dir.url("captions.json"))
        return ConceptsJob.Options(
            checkpoint: f.path("small.pth"), images: f.path("small_images.npy"), texts: f.path("small_texts.npy"),
            imagePaths: dir.path("images.txt"), captions: dir.path("captions.json"), top: 5, k: 8)
    }

    private func assertNear(
        _ p: (r: UInt8, g: UInt8, b: UInt8, a: UInt8)?, _ c: Color, _ what: String, line: UInt = #line
    ) {
        guard let p else { return XCTFail("\(what): outside the image", line: line) }
        let d = [abs(Int(p.r) - Int(c.r)), abs(Int(p.g) - Int(c.g)), abs(Int(p.b) - Int(c.b))].max()!
        XCTAssertLessThanOrEqual(d, 10, "\(what): got (\(p.r), \(p.g), \(p.b)), want \(c)", line: line)
    }

    func testMontagesAndDocumentCountPlaceholders() throws {
        let dir = try temporaryFolder("concepts-out")
        let out = dir.path("out")
        let written = try ConceptsJob.run(try Self.prepare(dir), tool: tool).write(to: out)
        let doc = try ConceptsDocument.read(from: out + "/concepts.json")
        XCTAssertEqual(doc, written)
        let bad: Set<Int> = [Self.missingRow, Self.corruptRow]
        let tilesOfBad = doc.concepts.map { $0.topImages.filter { bad.contains($0.index) }.count }
        XCTAssertGreaterThan(tilesOfBad.reduce(0, +), 4)
        XCTAssertEqual(
            doc.montages,
            MontageSummary(
                missingImages: [Self.missingRow], drawn: doc.concepts.filter { !$0.topImages.isEmpty }.count,
                placeholders: tilesOfBad.reduce(0, +),
                unreadableImages: [Self.corruptRow]))
        XCTAssertEqual(doc.inputs.compactMap(\.role).suffix(2), ["image_paths", "captions"])
        XCTAssertEqual(
            doc.concepts[4].topImages.map { $0.path ?? "" }.prefix(2), ["images/row-50.png", "images/row & 7.jpg"])
        XCTAssertEqual(doc.concepts[10].topTexts.first?.caption, Self.hostileCaption)

        let layout = Montage()
        for (e, badTiles) in zip(doc.concepts, tilesOfBad) where !e.topImages.isEmpty {
            XCTAssertEqual(e.montage, "montages/concept-\(e.index).jpg")
            XCTAssertEqual(e.placeholders, badTiles)
            let image = try DecodedImage.decode(
                jpegBytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: out + "/" + e.montage!))))
            let size = layout.size(tiles: e.topImages.count)
            XCTAssertEqual([image.width, image.height], [size.width, size.height], "concept \(e.index)")
            for (t, item) in e.topImages.enumerated() {
                let o = layout.origin(ofTile: t)
                // A placeholder's corner is flat grey (its text is in the middle); a stand-in photo
                // covers the middle of its square whatever its aspect ratio.
                let label = "concept \(e.index), tile \(t) (row \(item.index))"
                if bad.contains(item.index) {
                    assertNear(image.pixel(x: o.x + 6, y: o.y + 6), Montage.placeholderColor, label)
                } else {
                    assertNear(image.pixel(x: o.x + 64, y: o.y + 64), Self.color(ofRow: item.index), label)
                }
            }
        }
        // Concepts without top images get no montage.
        for e in doc.concepts where e.topImages.isEmpty { XCTAssertNil(e.montage) }
        let files = try FileManager.default.contentsOfDirectory(atPath: out + "/montages").sorted()
        XCTAssertEqual(
            files, doc.concepts.compactMap { $0.montage.map { ($0 as NSString).lastPathComponent } }.sorted())
    }

    /// The page is well-formed XML: parse it and check rows, montages, captions and escaping.
    func testPageParsesBackWithEveryConceptEscaped() throws {
        let dir = try temporaryFolder("concepts-html")
        let out = dir.path("out")
        let doc = try ConceptsJob.run(try Self.prepare(dir), tool: tool).write(to: out)
        let data = try Data(contentsOf: URL(fileURLWithPath: out + "/index.html"))
        let html = String(decoding: data, as: UTF8.self)
        XCTAssertFalse(html.contains("<script>alert"), "a caption is never markup")
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;more&#39;"))
        XCTAssertFalse(html.contains("http://") || html.contains("https://"), "no external resources")

        final class Collector: NSObject, XMLParserDelegate {
            var rows: [String] = []
            var images: [String] = []
            var scripts = 0
            var text = ""
            var sortKeys: [String] = []
            func parser(
                _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]
            ) {
                if name == "tr", attributes["class"] == "concept" { rows.append(attributes["id"] ?? "") }
                if name == "img" { images.append(attributes["src"] ?? "") }
                if name == "script" { scripts += 1 }
                if name == "button", let key = attributes["data-sort"] { sortKeys.append(key) }
            }
            func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
        }
        let parser = XMLParser(data: data)
        let collector = Collector()
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "index.html is well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
        XCTAssertEqual(collector.rows, doc.concepts.map { "concept-\($0.index)" })
        XCTAssertEqual(collector.images, doc.concepts.compactMap(\.montage))
        XCTAssertEqual(collector.scripts, 1)
        XCTAssertEqual(collector.sortKeys, ["index", "image-frequency", "text-frequency", "agreement"])
        XCTAssertTrue(collector.text.contains(Self.hostileCaption), "the caption reads back as text")
        XCTAssertTrue(collector.text.contains("caption of pair 37"))
    }

    /// Headless Chromium from Debian's `chromium` package (installed by `make test`) loads the page
    /// from disk: its script sorts the rows (`#sort=agreement`), every montage is an image element,
    /// and a screenshot shows the placeholder tiles, i.e. the montages were loaded and drawn.
    func testChromiumRendersThePage() throws {
        guard
            let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else {
            throw XCTSkip("chromium is not installed (Debian: apt-get install chromium; `make test` installs it)")
        }
        let dir = try temporaryFolder("concepts-browser")
        let out = dir.path("out")
        let doc = try ConceptsJob.run(try Self.prepare(dir), tool: tool).write(to: out)
        let page = URL(fileURLWithPath: out + "/index.html").absoluteString + "#sort=agreement"

        let dom = try runChromium(chromium, ["--dump-dom", page], in: dir)
        XCTAssertTrue(dom.contains("data-sorted-by=\"agreement\""), "the page's script ran")
        let regex = try NSRegularExpression(pattern: "<tr class=\"concept\" id=\"concept-([0-9]+)\"")
        let ids = regex.matches(in: dom, range: NSRange(dom.startIndex..., in: dom)).map {
            Int(dom[Range($0.range(at: 1), in: dom)!])!
        }
        let byIndex = Dictionary(uniqueKeysWithValues: doc.concepts.map { ($0.index, $0) })
        let expected = doc.concepts.sorted { a, b in
            a.agreement! != b.agreement! ? a.agreement! > b.agreement! : a.index < b.index
        }.map(\.index)
        XCTAssertEqual(ids, expected, "rows sorted by agreement, then index")
        XCTAssertEqual(Set(ids), Set(byIndex.keys))
        let montages = dom.components(separatedBy: "<img class=\"montage\" src=\"montages/concept-").count - 1
        XCTAssertEqual(montages, doc.montages?.drawn)

        let shot = dir.path("shot.png")
        _ = try runChromium(
            chromium, ["--screenshot=\(shot)", "--window-size=1400,2400", "--hide-scrollbars", page], in: dir)
        let image = try DecodedImage.decode(pngBytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: shot))))
        var grey = 0
        let g = Montage.placeholderColor
        for y in 0..<image.height {
            for x in 0..<image.width {
                let p = image.pixel(x: x, y: y)!
                if abs(Int(p.r) - Int(g.r)) <= 6, abs(Int(p.g) - Int(g.g)) <= 6, abs(Int(p.b) - Int(g.b)) <= 6 {
                    grey += 1
                }
            }
        }
        XCTAssertGreaterThan(grey, 2000, "placeholder tiles of the montages are on screen")
    }

    /// Runs headless Chromium with its profile and cache inside `dir`, killed after two minutes;
    /// returns standard output. Its temporary files go to a short folder `/tmp/vlsae-cr-XXXXXX`,
    /// removed at teardown: Chromium puts its process-singleton socket there, and a Unix socket path
    /// must stay under 108 bytes, which `dir` (inside `$TMPDIR`) may exceed.
    func runChromium(_ binary: String, _ arguments: [String], in dir: TemporaryFolder) throws -> String {
        struct ChromiumFailed: Error, CustomStringConvertible { var description: String }
        var template = Array("/tmp/vlsae-cr-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw ChromiumFailed(description: "cannot create a short temporary folder")
        }
        let shortTemporary = String(cString: made)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: shortTemporary) }
        let home = dir.url("chromium-home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-crash-reporter", "--disable-breakpad", "--virtual-time-budget=5000",
                "--user-data-dir=\(home.path)/profile",
            ] + arguments
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = home.path
        env["TMPDIR"] = shortTemporary
        env["XDG_CONFIG_HOME"] = home.path + "/config"
        env["XDG_CACHE_HOME"] = home.path + "/cache"
        p.environment = env
        let outURL = home.appendingPathComponent("stdout.txt")
        let errURL = home.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        while p.isRunning {
            if Date() > deadline {
                p.terminate()
                p.waitUntilExit()
                throw ChromiumFailed(description: "chromium \(arguments) did not finish within two minutes")
            }
            usleep(50_000)
        }
        p.waitUntilExit()
        guard p.terminationReason == .exit, p.terminationStatus == 0 else {
            let text = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
            throw ChromiumFailed(
                description: "chromium \(arguments) failed (status \(p.terminationStatus)): \(text.suffix(1500))")
        }
        return String(decoding: try Data(contentsOf: outURL), as: UTF8.self)
    }
}
