import Foundation
import VLSAECore
import VLSAEData
import VLSAEEval
import VLSAEFormats
import VLSAEJobs
import VLSAEPlot
import VLSAEReport
import VLSAETestSupport
import XCTest

/// `vlsae explain` on the committed alignment fixtures (Tests/VLSAEEvalTests/Fixtures/align, whose
/// numpy reference gives every image's rank under each variant and α) and on the planted fixture:
/// every flipped image listed, the terms summing to the concept term, the inputs verified.
final class ExplainJobTests: XCTestCase {
    let align = FixtureFolder.repository("Tests/VLSAEEvalTests/Fixtures/align")
    let planted = FixtureFolder.repository("Tests/VLSAEEvalTests/Fixtures/planted")
    let tool = ToolRecord(version: "0.1.0", gitCommit: "unknown")
    static let fixedHidden = "representation=hidden,text=average-first,k=6,alpha=fixed:0.5"
    static let foldsReconstruction =
        "representation=reconstruction,text=per-template,k=6,alpha=validated:0;0.25;0.5;1;2,folds=4"

    /// Copies the alignment fixture into a temporary folder, evaluates two variants there and returns
    /// the folder (the result is `r.json`, paths in it relative to the folder, as the CLI records them).
    func evaluatedCopy() throws -> TemporaryFolder {
        let dir = try temporaryFolder("explain")
        for name in ["eval.json", "eval_images.npy", "eval_labels.npy", "text.npy", "sae.safetensors"] {
            try FileManager.default.copyItem(atPath: align.path("data/\(name)"), toPath: dir.path(name))
        }
        try inside(dir) {
            let doc = try EvalJob.run(
                EvalJob.Options(
                    manifests: ["eval.json"], seed: 11, command: ["vlsae", "eval", "(test)"], tool: tool,
                    progress: false,
                    alignment: AlignmentOptions(
                        checkpoint: "sae.safetensors", checkpointK: 6,
                        specs: [
                            "alpha=fixed:0.5",
                            "representation=reconstruction,text=per-template,alpha=validated:0;0.25;0.5;1;2,folds=4",
                        ])))
            try doc.write(to: "r.json")
        }
        return dir
    }

    func inside<T>(_ dir: TemporaryFolder, _ body: () throws -> T) throws -> T {
        let cwd = FileManager.default.currentDirectoryPath
        defer { _ = FileManager.default.changeCurrentDirectoryPath(cwd) }
        _ = FileManager.default.changeCurrentDirectoryPath(dir.path(""))
        return try body()
    }

    func explain(_ dir: TemporaryFolder, _ variant: String, limit: Int = 100_000) throws -> ExplainDocument {
        try inside(dir) {
            try ExplainJob.run(
                ExplainJob.Options(resultPath: "r.json", variant: variant, limit: limit, progress: false))
        }
    }

    /// The terms of every listed class logit: all terms (limit large) summed in ascending unit order with
    /// fused multiply-adds give the concept term exactly, summed in double within 1e-6; the logit is
    /// cosine + α · concept; the true class wins a gain and loses a loss.
    func checkSums(_ d: ExplainDataset, complete: Bool) {
        for im in d.flips {
            for l in [im.trueClass, im.rivalClass] {
                let listed = l.terms.reduce(0.0) { $0 + Double($1.contribution) }
                XCTAssertEqual(listed + l.restSum, Double(l.concept), accuracy: 1e-6, "image \(im.image)")
                XCTAssertEqual(
                    l.terms.map(\.contribution), l.terms.map(\.contribution).sorted(by: >), "largest first")
                for t in l.terms { XCTAssertEqual(t.contribution, t.imageValue * t.classValue) }
                if complete {
                    XCTAssertEqual(l.terms.count, l.termCount)
                    let exact = l.terms.sorted { $0.unit < $1.unit }.reduce(Float(0)) {
                        $0.addingProduct($1.imageValue, $1.classValue)
                    }
                    XCTAssertEqual(exact, l.concept, "image \(im.image): fma chain in unit order")
                }
                XCTAssertEqual(l.logit, l.cosine + Float(im.alpha) * l.concept)
            }
            if im.direction == "gained" {
                XCTAssertGreaterThanOrEqual(im.trueClass.logit, im.rivalClass.logit)
                XCTAssertEqual(im.alignedPrediction, im.label)
                XCTAssertEqual(im.rivalClass.classIndex, im.baselinePrediction)
            } else {
                XCTAssertGreaterThan(im.rivalClass.logit, im.trueClass.logit)
                XCTAssertEqual(im.baselinePrediction, im.label)
                XCTAssertEqual(im.rivalClass.classIndex, im.alignedPrediction)
            }
        }
        XCTAssertEqual(d.classes.reduce(0) { $0 + $1.gained }, d.gained)
        XCTAssertEqual(d.classes.reduce(0) { $0 + $1.lost }, d.lost)
        XCTAssertEqual(d.flips.count, d.gained + d.lost)
    }

    func testEveryFlippedImageListedAndTermsSumToTheConceptTerm() throws {
        let ref = try JSONDecoder().decode(
            AlignJobTests.Reference.self, from: Data(contentsOf: align.url("align.json")))
        let numpy = try XCTUnwrap(
            ref.variants.first { $0.representation == "hidden" && $0.text == "average-first" && $0.k == 6 })
        let base = numpy.ranks[0]
        let aligned = numpy.ranks[ref.grid.firstIndex(of: 0.5)!]
        let dir = try evaluatedCopy()
        let doc = try explain(dir, Self.fixedHidden)
        XCTAssertEqual(doc.datasets.count, 1)
        let d = doc.datasets[0]
        let expected = (0..<base.count).filter { (base[$0] == 0) != (aligned[$0] == 0) }
        XCTAssertFalse(expected.isEmpty, "the fixture must flip images")
        XCTAssertEqual(d.flips.map(\.image), expected)
        XCTAssertEqual(d.flips.map(\.direction), expected.map { aligned[$0] == 0 ? "gained" : "lost" })
        checkSums(d, complete: true)
        let labels = try TensorFile.load(dir.path("eval_labels.npy")).integers(name: "labels")
        for c in d.classes {
            let mine = labels.indices.filter { labels[$0] == c.classIndex }
            XCTAssertEqual(c.nImages, mine.count)
            XCTAssertEqual(c.baselineCorrect, mine.filter { base[$0] == 0 }.count)
            XCTAssertEqual(c.alignedCorrect, mine.filter { aligned[$0] == 0 }.count)
            XCTAssertEqual(c.deltaRecall, Double(c.alignedCorrect - c.baselineCorrect) / Double(c.nImages))
        }
        XCTAssertEqual(doc.checkpoint?.path, "sae.safetensors")
        XCTAssertEqual(doc.result.sha256, try SHA256.hex(fileAt: dir.path("r.json")))

        // A short list keeps every image and moves the remaining terms into rest_sum.
        let short = try explain(dir, Self.fixedHidden, limit: 1)
        XCTAssertEqual(short.datasets[0].flips.map(\.image), expected)
        checkSums(short.datasets[0], complete: false)
        XCTAssertTrue(short.datasets[0].flips.allSatisfy { $0.trueClass.terms.count <= 1 })
        let md = ExplainJob.markdown(short)
        XCTAssertTrue(md.contains("\(d.gained) gained, \(d.lost) lost"), md)
    }

    func testKFoldRowUsesEachFoldsAlpha() throws {
        let dir = try evaluatedCopy()
        let result = try ResultDocument.read(from: dir.path("r.json"))
        let row = try XCTUnwrap(result.results.first { $0.variant == Self.foldsReconstruction })
        let doc = try explain(dir, Self.foldsReconstruction)
        let d = doc.datasets[0]
        XCTAssertEqual(d.gained, row.comparison?.flips.gained)
        XCTAssertEqual(d.lost, row.comparison?.flips.lost)
        let fold = AlphaSelection.foldAssignment(count: d.nImages, folds: 4, seed: 11)
        let alphas = try XCTUnwrap(row.alignment?.folds).map(\.alpha)
        for im in d.flips { XCTAssertEqual(im.alpha, alphas[fold[im.image]]) }
        checkSums(d, complete: true)
    }

    func testPlantedRowIsExplainedInPlantedConcepts() throws {
        let dir = try temporaryFolder("explain-planted")
        for name in [
            "manifest.json", "image_embeddings.npy", "labels.npy", "text_embeddings.npy",
            PlantedConcepts.imageConceptsFile, PlantedConcepts.imageWeightsFile, PlantedConcepts.classConceptsFile,
        ] {
            try FileManager.default.copyItem(atPath: planted.path(name), toPath: dir.path(name))
        }
        let variant = "representation=planted,alpha=fixed:0.1"
        try inside(dir) {
            try EvalJob.run(
                EvalJob.Options(
                    manifests: ["manifest.json"], command: [], tool: tool, progress: false,
                    alignment: AlignmentOptions(checkpoint: nil, specs: [variant]))
            ).write(to: "r.json")
        }
        let doc = try explain(dir, variant)
        XCTAssertNil(doc.checkpoint)
        XCTAssertEqual(doc.method, "planted-concepts")
        let d = doc.datasets[0]
        XCTAssertGreaterThan(d.gained, 0)
        checkSums(d, complete: true)
        // The units are planted concepts: a gained image's true-class terms are its class's concepts.
        let flat = try TensorFile.load(dir.path(PlantedConcepts.classConceptsFile)).slice(0).integers(name: "c")
        XCTAssertEqual(flat.count, 2)
        let all = try TensorFile.load(dir.path(PlantedConcepts.classConceptsFile))
        let classConcepts = try (0..<all.shape[0]).map { try all.slice($0).integers(name: "class concepts") }
        for im in d.flips where im.direction == "gained" {
            XCTAssertEqual(Set(im.trueClass.terms.map(\.unit)), Set(classConcepts[im.label]))
        }

        // A changed code file is refused before anything is explained.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir.path(PlantedConcepts.imageWeightsFile)))
        bytes[bytes.count - 1] ^= 1
        try bytes.write(to: URL(fileURLWithPath: dir.path(PlantedConcepts.imageWeightsFile)))
        XCTAssertThrowsError(try explain(dir, variant)) { e in
            guard case VLSAEError.file(let path, let message) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(path.hasSuffix(PlantedConcepts.imageWeightsFile), path)
            XCTAssertTrue(message.contains("SHA-256"), message)
        }
    }

    func testChangedInputsAndUnknownRowsAreRefused() throws {
        let dir = try evaluatedCopy()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir.path("eval_images.npy")))
        bytes[bytes.count - 1] ^= 1
        try bytes.write(to: URL(fileURLWithPath: dir.path("eval_images.npy")))
        XCTAssertThrowsError(try explain(dir, Self.fixedHidden)) { e in
            guard case VLSAEError.file(let path, let message) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(path, "eval_images.npy")
            XCTAssertTrue(message.contains("SHA-256"), message)
        }
        XCTAssertThrowsError(try explain(dir, "representation=hidden,alpha=fixed:7")) { e in
            guard case VLSAEError.usage(let message) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(message.contains(Self.fixedHidden), message)
        }
        XCTAssertThrowsError(try explain(dir, "concept-only:representation=hidden,text=average-first,k=6")) { e in
            guard case VLSAEError.usage(let message) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(message.contains("not an aligned"), message)
        }
    }

    func testCommandWritesJsonAndMarkdown() throws {
        let dir = try evaluatedCopy()
        let vlsae = try VLSAEExecutable.locate()
        let folder = URL(fileURLWithPath: dir.path(""))
        let run = try vlsae.run(
            ["explain", "r.json", "--row", Self.fixedHidden, "--limit", "3", "--out", "ex", "--quiet"], in: folder)
        XCTAssertEqual(run.status, 0, run.stderr)
        let json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path("ex/explain.json"))))
            as? [String: Any]
        XCTAssertEqual(json?["limit"] as? Int, 3)
        XCTAssertNotNil(json?["datasets"] as? [[String: Any]])
        let md = try String(contentsOfFile: dir.path("ex/explain.md"), encoding: .utf8)
        XCTAssertTrue(md.hasPrefix("# Why `\(Self.fixedHidden)` flipped images"), md)
        let bad = try vlsae.run(
            ["explain", "r.json", "--row", Self.fixedHidden, "--limit", "0", "--out", "ex"], in: folder)
        XCTAssertEqual(bad.status, 64, bad.stderr)
    }

    /// `--image-paths`: the gained and lost montages hold the flipped images in image order, a drawn
    /// image in its own colour and a missing one as the placeholder grey; a list of the wrong length
    /// is refused.
    func testImagePathsDrawMontagesOfTheFlippedImages() throws {
        let dir = try evaluatedCopy()
        let vlsae = try VLSAEExecutable.locate()
        let folder = URL(fileURLWithPath: dir.path(""))
        let n = try ZeroShotDataset.load(manifestPath: dir.path("eval.json")).count
        // Even images exist (solid red PNGs in pictures/), odd ones are missing.
        try FileManager.default.createDirectory(atPath: dir.path("pictures"), withIntermediateDirectories: true)
        let red = Color(r: 220, g: 20, b: 20)
        let png = Data(try Canvas(width: 40, height: 30, background: red).pngData())
        for i in stride(from: 0, to: n, by: 2) {
            try png.write(to: URL(fileURLWithPath: dir.path("pictures/\(i).png")))
        }
        let list = (0..<n).map { "pictures/\($0).png" }.joined(separator: "\n") + "\n"
        try Data(list.utf8).write(to: URL(fileURLWithPath: dir.path("images.txt")))
        let run = try vlsae.run(
            ["explain", "r.json", "--row", Self.fixedHidden, "--image-paths", "images.txt", "--out", "ex", "--quiet"],
            in: folder)
        XCTAssertEqual(run.status, 0, run.stderr)
        let doc = try CanonicalJSON.decode(ExplainDocument.self, from: dir.path("ex/explain.json"))
        let d = try XCTUnwrap(doc.datasets.first)
        let drawn = try XCTUnwrap(doc.montages)
        XCTAssertEqual(drawn.imagePaths.sha256, SHA256.hex(Data(list.utf8)))
        let layout = Montage()
        var checked = 0
        for direction in ["gained", "lost"] {
            let flips = Array(d.flips.filter { $0.direction == direction }.prefix(ExplainMontages.maxTiles))
            let name = "montages/\(d.dataset)-\(direction).jpg"
            guard !flips.isEmpty else {
                XCTAssertFalse(drawn.montages.contains(name))
                continue
            }
            XCTAssertTrue(drawn.montages.contains(name), "\(drawn.montages)")
            let image = try DecodedImage.decode(
                jpegBytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.path("ex/\(name)")))))
            let size = layout.size(tiles: flips.count)
            XCTAssertEqual([image.width, image.height], [size.width, size.height])
            for (t, f) in flips.enumerated() {
                let o = layout.origin(ofTile: t)
                let p = 4 * ((o.y + layout.tileSide / 2) * image.width + o.x + layout.tileSide / 2)
                let want = f.image % 2 == 0 ? red : Montage.placeholderColor
                for (got, expected) in zip(image.rgba[p..<(p + 3)], [want.r, want.g, want.b]) {
                    XCTAssertEqual(
                        Double(got), Double(expected), accuracy: 24, "\(direction) tile \(t) image \(f.image)")
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 0, "the fixture row flips no image")
        try Data("pictures/0.png\n".utf8).write(to: URL(fileURLWithPath: dir.path("short.txt")))
        let short = try vlsae.run(
            ["explain", "r.json", "--row", Self.fixedHidden, "--image-paths", "short.txt", "--out", "ex2"], in: folder)
        XCTAssertEqual(short.status, 1, short.stderr)
        XCTAssertTrue(short.stderr.contains("short.txt"), short.stderr)
    }
}
