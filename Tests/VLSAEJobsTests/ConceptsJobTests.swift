import Foundation
import VLSAECore
import VLSAEEval
import VLSAEFormats
import VLSAEJobs
import VLSAEReport
import VLSAETestSupport
import XCTest

/// `vlsae concepts` against an independent numpy computation of the official encoder
/// (Fixtures/concepts/make_concepts_fixtures.py), its input checks, and its reproducibility.
final class ConceptsJobTests: XCTestCase {
    static let fixtures = FixtureFolder.repository("Tests/VLSAEJobsTests/Fixtures/concepts")
    let tool = ToolRecord(version: "0.1.0", gitCommit: "unknown")

    /// small_expected.json, written by numpy in the layout of concepts.json.
    private struct Expected: Decodable {
        var k, top: Int
        var concepts: [ConceptEntry]
        var figures: DictionaryFigures
    }

    private func smallOptions(chunkRows: Int = 4096, threads: Int = 1) -> ConceptsJob.Options {
        let f = Self.fixtures
        return ConceptsJob.Options(
            checkpoint: f.path("small.pth"), images: f.path("small_images.npy"), texts: f.path("small_texts.npy"),
            top: 5, k: 8, threads: threads, chunkRows: chunkRows)
    }

    /// Float32 activations against numpy's float64: 1e-5. The numpy ranking is the reference; rows
    /// whose activations the fixture shows as equal (the duplicated rows) must come lower index first.
    func testTopRowsFrequenciesAndFiguresMatchNumpy() throws {
        let expected = try CanonicalJSON.decoder().decode(
            Expected.self, from: Self.fixtures.data("small_expected.json"))
        var o = smallOptions()
        o.top = expected.top
        o.k = expected.k
        let doc = try ConceptsJob.run(o, tool: tool).document
        XCTAssertEqual(doc.concepts.count, 64)
        XCTAssertEqual(doc.checkpoint.hidden, 64)
        XCTAssertEqual(doc.checkpoint.k, 8)
        XCTAssertTrue(doc.settings.paired)
        var ties = 0
        for (got, want) in zip(doc.concepts, expected.concepts) {
            let label = "concept \(want.index)"
            XCTAssertEqual(got.index, want.index)
            XCTAssertEqual(got.topImages.map(\.index), want.topImages.map(\.index), label + " images")
            XCTAssertEqual(got.topTexts.map(\.index), want.topTexts.map(\.index), label + " texts")
            for (g, w) in zip(got.topImages, want.topImages) {
                XCTAssertEqual(g.activation, w.activation, accuracy: 1e-5, label)
            }
            for (g, w) in zip(got.topTexts, want.topTexts) {
                XCTAssertEqual(g.activation, w.activation, accuracy: 1e-5, label)
            }
            let lists: [[(index: Int, activation: Float)]] = [
                got.topImages.map { ($0.index, $0.activation) }, got.topTexts.map { ($0.index, $0.activation) },
            ]
            for list in lists where list.count > 1 {
                for i in 1..<list.count where list[i].activation == list[i - 1].activation {
                    XCTAssertLessThan(list[i - 1].index, list[i].index, label + ": a tie goes to the lower index")
                    ties += 1
                }
            }
            XCTAssertEqual(got.imageFrequency, want.imageFrequency, accuracy: 1e-12, label)
            XCTAssertEqual(got.textFrequency, want.textFrequency, accuracy: 1e-12, label)
            XCTAssertEqual(got.agreement, want.agreement, label)
            for (g, w) in [
                (got.similarity.image, want.similarity.image), (got.similarity.text, want.similarity.text),
                (got.similarity.cross, want.similarity.cross),
            ] {
                XCTAssertEqual(g == nil, w == nil, label)
                if let g, let w { XCTAssertEqual(g, w, accuracy: 1e-9, label) }
            }
        }
        XCTAssertGreaterThan(ties, 5, "the duplicated rows tie in several concepts, lower index first")
        let f = doc.figures.trained
        let w = expected.figures
        XCTAssertEqual(f.deadFraction, w.deadFraction, accuracy: 1e-12)
        XCTAssertEqual(f.denseFraction, w.denseFraction, accuracy: 1e-12)
        for (g, e) in [
            (f.imageSimilarity, w.imageSimilarity), (f.textSimilarity, w.textSimilarity),
            (f.crossSimilarity, w.crossSimilarity),
        ] {
            XCTAssertEqual(g.concepts, e.concepts)
            XCTAssertEqual(g.mean!, e.mean!, accuracy: 1e-9)
        }
        XCTAssertEqual(doc.inputs.map { $0.role ?? "" }, ["sae_checkpoint", "image_embeddings", "text_embeddings"])
        XCTAssertEqual(
            doc.inputs[0].sha256, try SHA256.hex(fileAt: Self.fixtures.path("small.pth")), "checkpoint digest recorded")
    }

    /// The random reference is the training initialisation of the same shape with the recorded seed:
    /// the same seed gives the same figures, another seed others.
    func testRandomReferenceIsSeeded() throws {
        var o = smallOptions()
        let a = try ConceptsJob.run(o, tool: tool).document
        let b = try ConceptsJob.run(o, tool: tool).document
        o.seed = 1
        let c = try ConceptsJob.run(o, tool: tool).document
        XCTAssertEqual(a.figures.random, b.figures.random)
        XCTAssertEqual(c.settings.seed, 1)
        XCTAssertNotEqual(a.figures.random, c.figures.random)
        XCTAssertEqual(a.figures.trained, c.figures.trained)
        XCTAssertNotEqual(a.figures.random, a.figures.trained)
    }

    func testSelectionUnpairedAndChunking() throws {
        var o = smallOptions()
        let all = try ConceptsJob.run(o, tool: tool).document
        o.concepts = try ConceptsJob.concepts(parsing: "40,3,3")
        o.unpaired = true
        o.chunkRows = 7
        let some = try ConceptsJob.run(o, tool: tool).document
        XCTAssertEqual(some.concepts.map(\.index), [3, 40])
        XCTAssertEqual(some.settings.concepts, "3,40")
        XCTAssertFalse(some.settings.paired)
        XCTAssertNil(some.concepts[0].agreement)
        XCTAssertEqual(some.concepts[0].topImages, all.concepts[3].topImages, "chunks of 7 rows: same result")
        XCTAssertEqual(some.concepts[1].topTexts, all.concepts[40].topTexts)
        XCTAssertEqual(some.figures, all.figures, "figures cover every concept whatever is listed")
        XCTAssertNil(try ConceptsJob.concepts(parsing: "all"))
    }

    func testBadRequestsAndFilesAreNamed() throws {
        let dir = try temporaryFolder("concepts-bad")
        func usage(_ edit: (inout ConceptsJob.Options) -> Void, _ needle: String, line: UInt = #line) {
            var o = smallOptions()
            edit(&o)
            XCTAssertThrowsError(try ConceptsJob.run(o, tool: tool), line: line) { e in
                guard case VLSAEError.usage(let m) = e else { return XCTFail("\(e) is not a usage error", line: line) }
                XCTAssertTrue(m.contains(needle), m, line: line)
            }
        }
        usage({ $0.concepts = [64] }, "64 is not a concept")
        usage({ $0.top = 0 }, "--top 0")
        usage({ $0.k = 65 }, "--k 65")
        XCTAssertThrowsError(try ConceptsJob.concepts(parsing: "1,x")) { e in
            XCTAssertTrue("\(e)".contains("\"x\""), "\(e)")
        }
        // A list with the wrong number of entries names the list file.
        let captions = dir.path("captions.txt")
        try "one\ntwo\n".write(toFile: captions, atomically: true, encoding: .utf8)
        var o = smallOptions()
        o.captions = captions
        XCTAssertThrowsError(try ConceptsJob.run(o, tool: tool)) { e in
            XCTAssertEqual(e as? VLSAEError, .file(captions, "holds 2 captions but the text embeddings have 60 rows"))
        }
        // Embeddings of the wrong width.
        let wide = dir.path("wide.npy")
        try NpyFormat.write(Tensor(shape: [3, 5], floats: Array(repeating: 1, count: 15)), to: wide)
        o = smallOptions()
        o.texts = wide
        XCTAssertThrowsError(try ConceptsJob.run(o, tool: tool)) { e in
            XCTAssertTrue("\(e)".contains("dimension 5"), "\(e)")
        }
    }

    /// The executable: a usage error exits 64, a bad file 1 naming it, and a good run writes the folder
    /// without image paths (no montages) with the job's document.
    func testExecutableExitStatusAndOutput() throws {
        let vlsae = try VLSAEExecutable.locate()
        let dir = try temporaryFolder("concepts-cli")
        let f = Self.fixtures
        let base = [
            "concepts", "--sae", f.path("small.pth"), "--images", f.path("small_images.npy"), "--texts",
            f.path("small_texts.npy"), "--k", "8", "--top", "5", "--quiet",
        ]
        let usage = try vlsae.run(base + ["--concepts", "1,x", "--out", dir.path("a")])
        XCTAssertEqual(usage.status, 64, usage.output)
        let missing = try vlsae.run(base + ["--captions", dir.path("none.txt"), "--out", dir.path("b")])
        XCTAssertEqual(missing.status, 1, missing.output)
        XCTAssertTrue(missing.stderr.contains(dir.path("none.txt")), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("b/concepts.json")))
        let ok = try vlsae.run(base + ["--out", dir.path("c"), "--threads", "2"])
        XCTAssertEqual(ok.status, 0, ok.output)
        let doc = try ConceptsDocument.read(from: dir.path("c/concepts.json"))
        XCTAssertNil(doc.montages)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("c/montages")))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.path("c/index.html")))
        XCTAssertEqual(doc.provenance.threads, 2)
        XCTAssertEqual(doc.provenance.command.first, "vlsae")
        var o = smallOptions()
        o.threads = 2
        XCTAssertEqual(try doc.contentEncoded(), try ConceptsJob.run(o, tool: doc.tool).document.contentEncoded())
    }

    /// The promise of ReproducibilityTests for this command: the same bytes (provenance aside) on
    /// every kernel path this CPU runs, at 1 and 3 threads and in chunks of 4096 or 97 rows. On the real CLIP
    /// pairs (d 512, h 512) when present, so the GEMM runs its vector kernels on full tiles; else on the
    /// small fixture.
    func testSameBytesOnEveryKernelPathThreadCountAndChunkSize() throws {
        var o = smallOptions()
        if let coco = try? SharedData.coco500Features() {
            o = ConceptsJob.Options(
                checkpoint: Self.fixtures.path("coco500.pth"), images: coco + "[0]", texts: coco + "[1]", k: 16)
        }
        let original = KernelPath.active
        defer { try? KernelPath.use(original) }
        var reference: (label: String, bytes: Data)?
        for path in KernelPath.supported {
            try KernelPath.use(path)
            for (threads, chunk) in [(1, 4096), (3, 97)] {
                let label = "\(path.rawValue), \(threads) thread(s), chunks of \(chunk)"
                o.threads = threads
                o.chunkRows = chunk
                let doc = try ConceptsJob.run(o, tool: tool).document
                XCTAssertEqual(doc.provenance.kernelPath, path.rawValue, label)
                XCTAssertEqual(doc.provenance.threads, threads, label)
                let bytes = try doc.contentEncoded()
                if let ref = reference {
                    XCTAssertEqual(bytes, ref.bytes, "\(label) differs from \(ref.label)")
                } else {
                    reference = (label, bytes)
                }
            }
        }
    }
}
