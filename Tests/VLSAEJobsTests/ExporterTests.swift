import Foundation
import VLSAECore
import VLSAEPlot
import VLSAEReport
import VLSAETestSupport
import XCTest

/// The exporter (`Datasets/export/export.py`) end to end, offline: open_clip ViT-B-32 with random weights
/// (`--pretrained none`) on an image folder this test draws, checked against open_clip called directly
/// (`Fixtures/exporter/check_export.py`, tolerance 1e-4 of the largest magnitude), then evaluated by `vlsae eval`.
/// Needs `.venv-export` (`make export-setup`); `make test-export` installs it and runs this test.
final class ExporterTests: XCTestCase {
    private var root: URL { SchemaLocations.repoRoot }

    private func python() throws -> String {
        let path = root.appendingPathComponent(".venv-export/bin/python").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
        if ProcessInfo.processInfo.environment["VLSAE_TEST_EXPORT"] == "1" {
            XCTFail(".venv-export is missing although make test-export ran make export-setup")
        }
        throw XCTSkip(
            "the exporter test needs .venv-export: run `make test-export` (make export-setup installs it: "
                + "about 1.5 GB from the package index, 4-6 minutes)")
    }

    /// Runs `executable` with its temporary files (torch keeps a `torchinductor_<user>` cache there) inside `scratch`,
    /// which the test's temporary folder removes.
    private func run(_ executable: String, scratch: URL, _ arguments: [String]) throws -> (
        status: Int32, output: String
    ) {
        let tmp = scratch.appendingPathComponent("python-tmp")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["TMPDIR"] = tmp.path
        p.environment = environment
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Three classes of two small PNGs each (solid colours with a square), and one file that is not an image.
    private func drawImageFolder(_ folder: URL) throws {
        let colours: [(String, Color)] = [
            ("apple", Color(hex: 0xC02020)), ("lake", Color(hex: 0x2050C0)), ("meadow", Color(hex: 0x30A030)),
        ]
        for (c, (name, colour)) in colours.enumerated() {
            let dir = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for i in 0..<2 {
                var canvas = Canvas(width: 20 + 4 * i, height: 16, background: colour)
                canvas.fillRect(PixelRect(x: 2 + 3 * c, y: 3 + 2 * i, width: 6, height: 6), color: .white)
                try Data(canvas.pngData()).write(to: dir.appendingPathComponent("img_\(i).png"))
            }
        }
        try Data("not a png".utf8).write(to: folder.appendingPathComponent("lake/broken.png"))
    }

    func testExportMatchesOpenClipAndEvaluates() throws {
        let python = try python()
        let vlsae = try VLSAEExecutable.locate()
        let dir = try temporaryFolder("exporter").url
        let images = dir.appendingPathComponent("pictures")
        try drawImageFolder(images)
        let templates = dir.appendingPathComponent("templates.txt")
        try Data("a photo of a {c}.\na blurry photo of the {c}.\n".utf8).write(to: templates)
        let out = dir.appendingPathComponent("out")
        let exporter = root.appendingPathComponent("Datasets/export/export.py").path
        let arguments = [
            exporter, "--model", "ViT-B-32", "--pretrained", "none", "--dataset", "imagefolder:" + images.path,
            "--out", out.path, "--templates", templates.path, "--batch-size", "2", "--chunk", "4",
        ]
        let first = try run(python, scratch: dir, arguments)
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(first.output.contains("skipping unreadable image") && first.output.contains("broken.png"))
        let manifest = out.appendingPathComponent("pictures.json")

        // The arrays against open_clip called directly.
        let check = try run(
            python, scratch: dir,
            [
                root.appendingPathComponent("Tests/VLSAEJobsTests/Fixtures/exporter/check_export.py").path,
                manifest.path, images.path, templates.path, root.appendingPathComponent("Datasets/export").path,
            ])
        XCTAssertEqual(check.status, 0, check.output)
        XCTAssertTrue(check.output.contains("\"n_images\": 6"), check.output)

        // Resuming: every shard is complete, so a rerun rewrites nothing but the text embeddings and manifest.
        let shard = out.appendingPathComponent("pictures_shards/img_emb_0.npy")
        let before = try FileManager.default.attributesOfItem(atPath: shard.path)[.modificationDate] as? Date
        let again = try run(python, scratch: dir, arguments)
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertFalse(again.output.contains("skipping unreadable"), "no image is read again")
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: shard.path)[.modificationDate] as? Date, before)
        // Other settings into the same folder are refused rather than mixed.
        let other = try run(python, scratch: dir, arguments.map { $0 == "4" ? "3" : $0 })
        XCTAssertEqual(other.status, 1, other.output)
        XCTAssertTrue(other.output.contains("records other settings"), other.output)

        // vlsae reads the manifest (shards, provenance) and evaluates it.
        let result = dir.appendingPathComponent("result.json").path
        let eval = try vlsae.run(["eval", "--data", manifest.path, "--out", result, "--quiet", "--threads", "1"])
        XCTAssertEqual(eval.status, 0, eval.output)
        let doc = try ResultDocument.read(from: result)
        let row = try XCTUnwrap(doc.results.first)
        XCTAssertEqual(row.dataset, "pictures")
        XCTAssertEqual(row.nImages, 6)
        XCTAssertEqual(row.nClasses, 3)
        XCTAssertEqual(row.nTemplates, 2)
        let provenance = try XCTUnwrap(row.embeddingProvenance)
        XCTAssertEqual(provenance.model, "ViT-B-32")
        XCTAssertEqual(provenance.pretrained, "none")
        XCTAssertEqual(provenance.nImages, 6)
        XCTAssertEqual(provenance.nSkipped, 1)
        XCTAssertEqual(provenance.device, "cpu")
        XCTAssertEqual(provenance.openClipVersion, "3.3.0")
        XCTAssertEqual(provenance.clipBenchmarkVersion, "1.6.2")
        XCTAssertEqual(provenance.classnamesSha256, SHA256.hex(Data("apple\nlake\nmeadow\n".utf8)))
        XCTAssertEqual(doc.inputs.filter { $0.role == "image_embeddings" }.count, 2, "two shards of --chunk 4")
        XCTAssertEqual(
            try SchemaLocations.loadValidator().validate(
                try JSON.parse(Data(contentsOf: URL(fileURLWithPath: result)))),
            [])
    }

    func testUnknownDatasetAndMissingFolderAreClearErrors() throws {
        let python = try python()
        let dir = try temporaryFolder("exporter-errors").url
        let exporter = root.appendingPathComponent("Datasets/export/export.py").path
        let missing = try run(
            python, scratch: dir,
            [
                exporter, "--model", "ViT-B-32", "--pretrained", "none", "--dataset",
                "imagefolder:" + dir.appendingPathComponent("nowhere").path, "--out", dir.path,
            ])
        XCTAssertEqual(missing.status, 1, missing.output)
        XCTAssertTrue(missing.output.contains("no such folder"), missing.output)
        let unknown = try run(
            python, scratch: dir,
            [
                exporter, "--model", "ViT-B-32", "--pretrained", "none", "--dataset", "no_such_dataset",
                "--dataset-root", dir.path, "--out", dir.path,
            ])
        XCTAssertEqual(unknown.status, 1, unknown.output)
        XCTAssertTrue(unknown.output.contains("cannot build CLIP_benchmark dataset 'no_such_dataset'"), unknown.output)
    }
}
