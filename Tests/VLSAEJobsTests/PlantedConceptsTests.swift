import Foundation
import VLSAECore
import VLSAEData
import VLSAEEval
import VLSAEFormats
import VLSAEJobs
import VLSAEModel
import VLSAEReport
import VLSAESynth
import VLSAETestSupport
import XCTest

/// The planted-concepts positive control (`representation=planted`): the suite's ground-truth
/// codes as f. The committed set (Tests/VLSAEEvalTests/Fixtures/planted) is what `vlsae synth`
/// writes for the parameters below, and `make_planted_fixtures.py` computes its row in float64
/// numpy from those files alone. Ranks must agree exactly (the fixture's smallest margin between
/// the true and any other class is 5.8e-5, far above float32 rounding), similarities to 1e-6.
final class PlantedConceptsTests: XCTestCase {
    struct Reference: Decodable {
        let grid: [Double]
        let baseline_ranks: [Int]
        let concept_only_ranks: [Int]
        let ranks: [[Int]]
        let acc1_counts: [Int]
        let concept_similarity_first_rows: [[Double]]
        let min_margin: Double
    }

    let fixture = FixtureFolder.repository("Tests/VLSAEEvalTests/Fixtures/planted")
    let tool = ToolRecord(version: "0.1.0", gitCommit: "unknown")
    static let grid = "0;0.01;0.02;0.05;0.1;0.2;0.5;1"

    /// The suite the fixture was cut from (`vlsae synth --seed 17 --dim 32 --concepts 64 --templates 3
    /// --train-pairs 2 --eval-sets planted8:8:300`).
    static var parameters: SynthParameters {
        var p = SynthParameters()
        p.seed = 17
        p.dim = 32
        p.subspaceDim = 32  // as `vlsae synth --dim 32` sets it (min of the default and d)
        p.concepts = 64
        p.templates = 3
        p.trainPairs = 2
        p.evalSets = [SynthEvalSetSpec(name: "planted8", classes: 8, images: 300)]
        return p
    }

    func reference() throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: fixture.url("expected.json")))
    }

    /// Same seed, same bytes: the generator writes exactly the committed files, the codes included.
    func testGeneratorWritesTheCommittedCodes() throws {
        let dir = try temporaryFolder("planted-synth")
        _ = try SynthJob.run(SynthJob.Options(folder: dir.path("suite"), parameters: Self.parameters))
        for name in [
            "image_embeddings.npy", "labels.npy", "text_embeddings.npy", "manifest.json",
            PlantedConcepts.imageConceptsFile, PlantedConcepts.imageWeightsFile, PlantedConcepts.classConceptsFile,
        ] {
            XCTAssertEqual(
                try SHA256.hex(fileAt: dir.path("suite/planted8/\(name)")), try SHA256.hex(fileAt: fixture.path(name)),
                name)
        }
    }

    /// The codes are the mixes the images were generated from: every image holds its class's concepts,
    /// with at least the class boost as weight, and at most class concepts + most distractors in all.
    func testCodesHoldEveryImagesClassConcepts() throws {
        let p = Self.parameters
        let world = try SynthWorld(parameters: p)
        let set = world.evalSet(p.evalSets[0], index: 0)
        XCTAssertEqual(set.imageCodes.count, set.labels.count)
        for (code, label) in zip(set.imageCodes, set.labels) {
            let weights = Dictionary(code.map { ($0.0, $0.1) }, uniquingKeysWith: +)
            XCTAssertEqual(weights.count, code.count, "a concept appears twice")
            XCTAssertEqual(code.map(\.0), code.map(\.0).sorted())
            XCTAssertLessThanOrEqual(code.count, p.classConcepts + p.distractorMax)
            for c in set.classConcepts[label] {
                XCTAssertGreaterThanOrEqual(try XCTUnwrap(weights[c]), Float(p.classBoost))
            }
        }
    }

    func testPlantedRowMatchesTheNumpyReference() throws {
        let ref = try reference()
        XCTAssertGreaterThan(ref.min_margin, 1e-5)
        let manifest = fixture.path("manifest.json")
        let doc = try EvalJob.run(
            EvalJob.Options(
                manifests: [manifest], seed: 3, command: ["vlsae", "eval", "(test)"], tool: tool, progress: false,
                alignment: AlignmentOptions(
                    checkpoint: nil,
                    specs: [
                        "representation=planted,alpha=validated:\(Self.grid)",
                        "representation=planted,alpha=oracle:\(Self.grid)",
                    ])))
        XCTAssertEqual(
            doc.results.map(\.method), ["cosine", "planted-concepts", "concept-only", "cosine+concept-oracle"])
        XCTAssertEqual(
            doc.results.map { $0.variant ?? "" },
            [
                "cosine", "representation=planted,alpha=validated:\(Self.grid),folds=5",
                "concept-only:representation=planted", "representation=planted,alpha=oracle:\(Self.grid)",
            ])
        let n = Double(ref.baseline_ranks.count)
        func acc(_ r: [Int]) -> Double { Double(r.filter { $0 == 0 }.count) / n }
        XCTAssertEqual(doc.results[0].metrics.acc1, acc(ref.baseline_ranks))
        XCTAssertEqual(doc.results[2].metrics.acc1, acc(ref.concept_only_ranks))
        let oracle = try XCTUnwrap(doc.results[3].alignment)
        XCTAssertEqual(oracle.selectionAcc1, ref.acc1_counts.map { Double($0) / n })
        // The validated row: each fold scored with the α its other folds choose, on the numpy ranks.
        let perAlpha = ref.ranks.map {
            Predictions(labels: [Int](repeating: 0, count: $0.count), numClasses: 8, trueRank: $0, top1: $0)
        }
        let fold = AlphaSelection.foldAssignment(count: ref.baseline_ranks.count, folds: 5, seed: 3)
        let cv = Alignment.kFold(perAlpha, fold: fold, folds: 5, grid: ref.grid)
        XCTAssertEqual(doc.results[1].metrics.acc1, acc(cv.predictions.trueRank))
        XCTAssertEqual(doc.results[1].alignment?.folds?.map(\.alpha), cv.folds.map(\.alpha))
        // The ceiling is a ceiling here: concept codes lift the baseline by tens of points.
        XCTAssertGreaterThan(doc.results[1].metrics.acc1, doc.results[0].metrics.acc1 + 0.2)

        // No checkpoint cited; the code files recorded with their SHA-256.
        for row in doc.results.dropFirst() { XCTAssertNil(row.checkpoint) }
        for (file, role) in [
            (PlantedConcepts.imageConceptsFile, "planted_image_concepts"),
            (PlantedConcepts.imageWeightsFile, "planted_image_concept_weights"),
            (PlantedConcepts.classConceptsFile, "planted_class_concepts"),
        ] {
            XCTAssertTrue(
                doc.inputs.contains(
                    FileDigest(path: fixture.path(file), sha256: try SHA256.hex(fileAt: fixture.path(file)), role: role)
                ),
                file)
        }
        let out = try temporaryFolder("planted-row").path("r.json")
        try doc.write(to: out)
        XCTAssertEqual(
            try SchemaLocations.loadValidator().validate(
                try JSON.parse(try Data(contentsOf: URL(fileURLWithPath: out)))),
            [])
    }

    func testSimilaritiesMatchTheNumpyReference() throws {
        let ref = try reference()
        let dataset = try ZeroShotDataset.load(manifestPath: fixture.path("manifest.json"))
        let codes = try PlantedConcepts.load(besideManifestOf: dataset)
        let s = codes.similarities(0..<5)
        for i in 0..<5 {
            for c in 0..<8 {
                XCTAssertEqual(Double(s[i, c]), ref.concept_similarity_first_rows[i][c], accuracy: 1e-6)
            }
        }
    }

    func testMalformedCodesAreRefusedNamingTheFile() throws {
        let dataset = try ZeroShotDataset.load(manifestPath: fixture.path("manifest.json"))
        let ids = try TensorFile.load(fixture.path(PlantedConcepts.imageConceptsFile))
        let weights = try TensorFile.load(fixture.path(PlantedConcepts.imageWeightsFile))
        let classes = try TensorFile.load(fixture.path(PlantedConcepts.classConceptsFile))
        func make(_ ids: Tensor, _ w: Tensor, _ c: Tensor, images: Int = 300) throws -> PlantedConcepts {
            try PlantedConcepts(
                imageConcepts: ids, imageWeights: w, classConcepts: c, images: images, classes: dataset.numClasses,
                source: "set")
        }
        XCTAssertNoThrow(try make(ids, weights, classes))
        func expectFile(_ body: @autoclosure () throws -> PlantedConcepts, _ file: String, _ fragment: String) {
            XCTAssertThrowsError(try body()) { e in
                guard case VLSAEError.file(let path, let message) = e else { return XCTFail("\(e)") }
                XCTAssertEqual(path, "set/\(file)")
                XCTAssertTrue(message.contains(fragment), message)
            }
        }
        expectFile(try make(ids, weights, classes, images: 299), PlantedConcepts.imageConceptsFile, "299 × W")
        var negative = weights.floats
        negative[0] = -1
        expectFile(
            try make(ids, Tensor(shape: weights.shape, floats: negative), classes), PlantedConcepts.imageWeightsFile,
            "negative")
        guard case .integer(var raw) = ids.storage else { return XCTFail("integer ids expected") }
        let w = ids.shape[1]
        raw[1] = raw[0]  // the first image names its first concept twice
        expectFile(
            try make(Tensor(shape: ids.shape, dtype: ids.dtype, storage: .integer(raw)), weights, classes),
            PlantedConcepts.imageConceptsFile, "twice")
        raw[1] = -7
        expectFile(
            try make(Tensor(shape: ids.shape, dtype: ids.dtype, storage: .integer(raw)), weights, classes),
            PlantedConcepts.imageConceptsFile, "not an index")
        XCTAssertEqual(w, 10)
    }

    /// Planted codes are not a function of the embedding: a map-based scorer refuses them.
    func testMapScorerRefusesPlanted() throws {
        let dataset = try ZeroShotDataset.load(manifestPath: fixture.path("manifest.json"))
        let model = try SAEModel(config: SAEConfig(arch: .vlsae, inputDim: 32, hiddenRatio: 2, topK: 4), seed: 1)
        XCTAssertThrowsError(
            try ConceptScorer(dataset: dataset, map: model, representation: .planted, text: .averageFirst, k: nil)
        ) { e in
            guard case VLSAEError.usage(let message) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(message.contains("planted"), message)
        }
    }

    /// A dataset without codes beside its manifest: the error names the missing file.
    func testMissingCodesNameTheFile() throws {
        let dir = try temporaryFolder("planted-missing")
        for name in ["manifest.json", "image_embeddings.npy", "labels.npy", "text_embeddings.npy"] {
            try FileManager.default.copyItem(atPath: fixture.path(name), toPath: dir.path(name))
        }
        let dataset = try ZeroShotDataset.load(manifestPath: dir.path("manifest.json"))
        XCTAssertThrowsError(try PlantedConcepts.load(besideManifestOf: dataset)) { e in
            guard case VLSAEError.file(let path, let message) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(path, dir.path(PlantedConcepts.imageConceptsFile))
            XCTAssertTrue(message.contains("missing"), message)
        }
        // Other representations still need an autoencoder.
        XCTAssertThrowsError(
            try EvalJob.run(
                EvalJob.Options(
                    manifests: [dir.path("manifest.json")], command: [], tool: tool, progress: false,
                    alignment: AlignmentOptions(checkpoint: nil, specs: ["alpha=fixed:1"])))
        ) { e in
            guard case VLSAEError.usage(let message) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(message.contains("--sae"), message)
        }
    }
}
