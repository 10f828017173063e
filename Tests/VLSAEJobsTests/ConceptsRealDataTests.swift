import Foundation
import VLSAECore
import VLSAEFormats
import VLSAEJobs
import VLSAEPlot
import VLSAETestSupport
import XCTest

/// `vlsae concepts` on 500 real CLIP pairs (`../shared/data/coco500-clip`) with an official-layout
/// `.pth` (d 512, h 512): the executable writes `concepts.json`, montages and the page, and every
/// concept's top images and texts equal numpy's (Fixtures/concepts/make_concepts_fixtures.py).
/// coco500 ships embeddings only, so the montages show stand-in images (one flat colour per row).
final class ConceptsRealDataTests: XCTestCase {
    func testCoco500TopRowsMatchNumpyAndTheFolderIsComplete() throws {
        let coco = try SharedData.coco500Features()
        let fixtures = ConceptsJobTests.fixtures
        let vlsae = try VLSAEExecutable.locate()
        let dir = try temporaryFolder("concepts-coco")
        try FileManager.default.createDirectory(at: dir.url("images"), withIntermediateDirectories: true)
        var paths: [String] = []
        for i in 0..<500 {
            let name = "images/\(i).png"
            paths.append(name)
            let c = Canvas(width: 24, height: 24, background: Color(r: UInt8(i % 256), g: UInt8((i * 7) % 256), b: 90))
            try Data(try c.pngData()).write(to: dir.url(name))
        }
        try (paths.joined(separator: "\n") + "\n").write(
            toFile: dir.path("images.txt"), atomically: true, encoding: .utf8)
        try ((0..<500).map { "MSCOCO caption of pair \($0)" }.joined(separator: "\n") + "\n").write(
            toFile: dir.path("captions.txt"), atomically: true, encoding: .utf8)
        let out = dir.path("out")
        let run = try vlsae.run([
            "concepts", "--sae", fixtures.path("coco500.pth"), "--k", "16", "--images", coco + "[0]",
            "--texts", coco + "[1]", "--image-paths", dir.path("images.txt"), "--captions", dir.path("captions.txt"),
            "--out", out, "--threads", "2", "--quiet",
        ])
        XCTAssertEqual(run.status, 0, run.output)
        let doc = try ConceptsDocument.read(from: out + "/concepts.json")
        XCTAssertEqual(doc.nImages, 500)
        XCTAssertEqual(doc.checkpoint.hidden, 512)
        XCTAssertEqual(doc.checkpoint.arch.rawValue, "vlsae")
        XCTAssertEqual(doc.settings.top, 16)
        XCTAssertEqual(doc.inputs.first?.sha256, try SHA256.hex(fileAt: fixtures.path("coco500.pth")))

        let indices = try TensorFile.load(fixtures.path("coco500_expected_indices.npy")).floats.map { Int($0) }
        let activations = try TensorFile.load(fixtures.path("coco500_expected_activations.npy")).floats
        var compared = 0
        for e in doc.concepts {
            for (m, got) in [
                e.topImages.map { ($0.index, $0.activation) }, e.topTexts.map { ($0.index, $0.activation) },
            ]
            .enumerated() {
                let base = (m * 512 + e.index) * 16
                let want = (0..<16).map { (indices[base + $0], activations[base + $0]) }.filter { $0.0 >= 0 }
                XCTAssertEqual(got.map(\.0), want.map(\.0), "concept \(e.index), \(m == 0 ? "images" : "texts")")
                for (g, w) in zip(got, want) { XCTAssertEqual(g.1, w.1, accuracy: 1e-5, "concept \(e.index)") }
                compared += got.count
            }
        }
        XCTAssertGreaterThan(compared, 4000)
        // Every concept with top images has its montage; all stand-ins were readable.
        let withImages = doc.concepts.filter { !$0.topImages.isEmpty }
        XCTAssertEqual(doc.montages?.drawn, withImages.count)
        XCTAssertEqual(doc.montages?.placeholders, 0)
        for e in withImages.prefix(20) {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: out + "/" + e.montage!)))
            let image = try DecodedImage.decode(jpegBytes: bytes)
            XCTAssertEqual(image.width, Montage().size(tiles: e.topImages.count).width)
        }
        let html = try String(contentsOfFile: out + "/index.html", encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "<tr class=\"concept\"").count - 1, 512)
        XCTAssertTrue(html.contains("MSCOCO caption of pair"))
    }
}
