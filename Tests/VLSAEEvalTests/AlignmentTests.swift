import Foundation
import VLSAECore
import VLSAEData
import VLSAEEval
import VLSAEFormats
import VLSAEModel
import VLSAETestSupport
import XCTest

/// Concept-level alignment against an independent float64 numpy computation
/// (Fixtures/align/make_align_fixtures.py). Tolerances: logits and concept similarities to 1e-5
/// absolute (float32 sgemm vs float64; the fixture stores 9 decimals); ranks, accuracies and the
/// α chosen by every protocol exactly (the generator guarantees every logit differs from the true
/// class's by more than 2e-5 and every top-k threshold is separated by as much).
final class AlignmentTests: XCTestCase {
    // MARK: Fixture

    struct Variant: Decodable {
        let representation: String
        let text: String
        let k: Int
        let logits: [[Double]]
        let concept: [[Double]]
        let ranks: [[Int]]
        let acc1_counts: [Int]
        let acc5_counts: [Int]
        let concept_only_ranks: [Int]
        let validation_acc1_counts: [Int]
        let validation_alpha: Double
        let oracle_alpha: Double
        let kfold: KFold
    }
    struct KFold: Decodable {
        let folds: Int
        let seed: UInt64
        let fold: [Int]
        let alphas: [Double]
        let acc1_count: Int
    }
    struct Split: Decodable {
        let images: [[Float]]
        let labels: [Int]
        let text: [[Float]]?
    }
    struct Fixture: Decodable {
        let d: Int
        let hidden_ratio: Int
        let k: Int
        let classes: Int
        let templates: Int
        let model: [String: AnyArray]
        let eval: Split
        let validation: Split
        let grid: [Double]
        let logits_alpha: Double
        let variants: [Variant]
    }
    /// A 1-D or 2-D float array from JSON, flattened row-major.
    struct AnyArray: Decodable {
        let values: [Float]
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let m = try? c.decode([[Float]].self) {
                values = m.flatMap { $0 }
            } else {
                values = try c.decode([Float].self)
            }
        }
    }

    static let fixture: Fixture = {
        try! EvalFixtures.folder.decode(Fixture.self, from: "align/align.json")
    }()

    static func dataset(_ split: Split, text: [[Float]]?, averaged: Bool = false) throws -> ZeroShotDataset {
        let f = fixture
        let n = split.images.count
        let images = Tensor(shape: [n, f.d], floats: split.images.flatMap { $0 })
        let labels = Tensor(shape: [n], dtype: .int64, storage: .integer(split.labels.map { Int64($0) }))
        let rows = (text ?? f.eval.text!)
        let textTensor = Tensor(shape: [f.classes, f.templates, f.d], floats: rows.flatMap { $0 })
        var classifier: Tensor?
        if averaged {
            let w = ZeroShotClassifier(templateEmbeddings: Matrix(rows), classes: f.classes, templates: f.templates)
                .weights
            classifier = Tensor(shape: [f.classes, f.d], floats: w.values)
        }
        return try ZeroShotDataset(
            name: "toy", model: "toy-clip", pretrained: "fixture", images: images, labels: labels,
            classnames: (0..<f.classes).map { "class\($0)" }, templates: (0..<f.templates).map { "t\($0)" },
            textEmbeddings: averaged ? nil : textTensor, classifier: classifier)
    }

    static let evalSet = try! dataset(fixture.eval, text: nil)
    static let validationSet = try! dataset(fixture.validation, text: nil)
    /// The project's VL-SAE with the fixture's weights (official tensor names and layouts).
    static let model: ConceptMap = try! SAEModel(
        config: SAEConfig(arch: .vlsae, inputDim: fixture.d, hiddenRatio: fixture.hidden_ratio, topK: fixture.k),
        tensors: fixture.model.mapValues(\.values))

    func spec(_ v: Variant, _ alpha: AlphaProtocol) -> AlignmentSpec {
        AlignmentSpec(
            representation: ConceptRepresentation(rawValue: v.representation)!,
            text: TextAggregation(rawValue: v.text)!, alpha: alpha, k: v.k)
    }

    // MARK: Logits and accuracies of every variant

    func testLogitsAndConceptSimilarityMatchNumpy() throws {
        let f = Self.fixture
        XCTAssertEqual(f.variants.count, 8)
        for v in f.variants {
            let scorer = try ConceptScorer(
                dataset: Self.evalSet, map: Self.model,
                representation: ConceptRepresentation(rawValue: v.representation)!,
                text: TextAggregation(rawValue: v.text)!, k: v.k, blockRows: 7)
            let n = Self.evalSet.count
            let logits = scorer.logits(alpha: f.logits_alpha, range: 0..<n)
            let concept = scorer.similarities(0..<n).concept
            var worst = 0.0
            var worstConcept = 0.0
            for i in 0..<n {
                for c in 0..<f.classes {
                    worst = max(worst, abs(Double(logits[i, c]) - v.logits[i][c]))
                    worstConcept = max(worstConcept, abs(Double(concept[i, c]) - v.concept[i][c]))
                }
            }
            XCTAssertLessThan(worst, 1e-5, "logits \(v.representation) \(v.text) k=\(v.k)")
            XCTAssertLessThan(worstConcept, 1e-5, "concept \(v.representation) \(v.text) k=\(v.k)")
        }
    }

    func testRanksAndAccuraciesForEveryAlphaExactly() throws {
        let f = Self.fixture
        for v in f.variants {
            let scorer = try ConceptScorer(
                dataset: Self.evalSet, map: Self.model,
                representation: ConceptRepresentation(rawValue: v.representation)!,
                text: TextAggregation(rawValue: v.text)!, k: v.k, blockRows: 10)
            let s = try scorer.score(alphas: f.grid)
            let name = "\(v.representation) \(v.text) k=\(v.k)"
            for (a, p) in s.combined.enumerated() {
                XCTAssertEqual(p.trueRank, v.ranks[a], "\(name) α=\(f.grid[a])")
                let m = Metrics.compute(p)
                XCTAssertEqual(m.acc1, Double(v.acc1_counts[a]) / Double(p.count), "\(name) α=\(f.grid[a])")
                XCTAssertEqual(m.acc5, Double(v.acc5_counts[a]) / Double(p.count), "\(name) α=\(f.grid[a])")
            }
            XCTAssertEqual(s.conceptOnly.trueRank, v.concept_only_ranks, "concept-only \(name)")
        }
    }

    func testAlphaZeroIsTheCLIPBenchmarkBaseline() throws {
        let baseline = ZeroShot.predict(
            images: Self.evalSet.images, labels: Self.evalSet.labels,
            classifier: ZeroShotClassifier(dataset: Self.evalSet))
        let v = Self.fixture.variants[0]
        let out = try Alignment.evaluate(spec(v, .fixed(0)), dataset: Self.evalSet, map: Self.model, seed: 0)
        XCTAssertEqual(out.enhanced.trueRank, baseline.trueRank)
        XCTAssertEqual(baseline.trueRank, v.ranks[0])
    }

    // MARK: α protocols

    func testFixedAndTableProtocols() throws {
        let v = Self.fixture.variants[4]  // reconstruction, average-first, k = 6
        let fixed = try Alignment.evaluate(spec(v, .fixed(0.5)), dataset: Self.evalSet, map: Self.model, seed: 0)
        XCTAssertEqual(fixed.enhanced.trueRank, v.ranks[2])
        XCTAssertEqual(fixed.alpha.alpha, 0.5)
        XCTAssertFalse(fixed.alpha.isOracle)
        XCTAssertEqual(fixed.variant, "representation=reconstruction,text=average-first,k=6,alpha=fixed:0.5")
        XCTAssertEqual(fixed.method, "cosine+concept")

        let tablePath = EvalFixtures.folder.path("align/data/alpha_table.json")
        let table = try Alignment.evaluate(spec(v, .table(tablePath)), dataset: Self.evalSet, map: Self.model, seed: 0)
        XCTAssertEqual(table.alpha.alpha, 0.5)  // {"toy": 0.5}
        XCTAssertEqual(table.enhanced.trueRank, v.ranks[2])
        XCTAssertEqual(table.alpha.table?.sha256.count, 64)
    }

    func testTableWithoutTheDatasetNamesFileAndDataset() throws {
        let path = try temporaryFolder("align-table").path("a6.json")
        try Data(#"{"cifar10": 1.0, "dtd": 0.5}"#.utf8).write(to: URL(fileURLWithPath: path))
        let v = Self.fixture.variants[0]
        XCTAssertThrowsError(
            try Alignment.evaluate(spec(v, .table(path)), dataset: Self.evalSet, map: Self.model, seed: 0)
        ) {
            guard case VLSAEError.file(let file, let message)? = $0 as? VLSAEError else { return XCTFail("\($0)") }
            XCTAssertEqual(file, path)
            XCTAssertTrue(message.contains("\"toy\""), message)
            XCTAssertTrue(message.contains("cifar10, dtd"), message)
        }
        try Data(#"{"toy": "big"}"#.utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try AlphaTable.load(path: path)) {
            XCTAssertEqual($0 as? VLSAEError, .file(path, "α table entry \"toy\" is not a number"))
        }
        try Data("[1, 2]".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try AlphaTable.load(path: path)) {
            guard case VLSAEError.file(path, _)? = $0 as? VLSAEError else { return XCTFail("\($0)") }
        }
    }

    func testValidatedWithValidationSetPicksTheNumpyAlpha() throws {
        for v in Self.fixture.variants {
            let out = try Alignment.evaluate(
                spec(v, .validated(Self.fixture.grid)), dataset: Self.evalSet,
                map: Self.model, validation: Self.validationSet,
                validationSource: "val.json", seed: 0)
            let name = "\(v.representation) \(v.text) k=\(v.k)"
            XCTAssertEqual(out.alpha.alpha, v.validation_alpha, name)
            XCTAssertEqual(out.alpha.selection, .validationManifest)
            XCTAssertEqual(out.alpha.gridAcc1, v.validation_acc1_counts.map { Double($0) / 36 }, name)
            let applied = Self.fixture.grid.firstIndex(of: v.validation_alpha)!
            XCTAssertEqual(out.enhanced.trueRank, v.ranks[applied], name)
            XCTAssertTrue(out.variant.hasSuffix(",val=val.json"), out.variant)
            XCTAssertFalse(out.alpha.isOracle)
        }
    }

    func testKFoldMatchesNumpyFoldsAndPerFoldAlphas() throws {
        for v in Self.fixture.variants {
            var s = spec(v, .validated(Self.fixture.grid))
            s.folds = v.kfold.folds
            XCTAssertEqual(
                AlphaSelection.foldAssignment(count: 48, folds: v.kfold.folds, seed: v.kfold.seed), v.kfold.fold)
            let out = try Alignment.evaluate(s, dataset: Self.evalSet, map: Self.model, seed: v.kfold.seed)
            let name = "\(v.representation) \(v.text) k=\(v.k)"
            XCTAssertNil(out.alpha.alpha, name)
            XCTAssertEqual(out.alpha.selection, .kFold)
            XCTAssertEqual(out.alpha.foldSeed, v.kfold.seed)
            XCTAssertEqual(out.alpha.folds?.map(\.alpha), v.kfold.alphas, name)
            XCTAssertEqual(out.alpha.folds?.map(\.nImages), [12, 12, 12, 12])
            XCTAssertEqual(Metrics.compute(out.enhanced).acc1, Double(v.kfold.acc1_count) / 48, name)
            XCTAssertTrue(out.variant.hasSuffix(",alpha=validated:0;0.25;0.5;1;2,folds=4"), out.variant)
        }
    }

    func testOracleIsBestOnTheEvaluationSetAndLabelled() throws {
        for v in Self.fixture.variants {
            let oracle = try Alignment.evaluate(
                spec(v, .oracle(Self.fixture.grid)), dataset: Self.evalSet,
                map: Self.model, seed: 0)
            var ks = spec(v, .validated(Self.fixture.grid))
            ks.folds = 4
            let kfold = try Alignment.evaluate(ks, dataset: Self.evalSet, map: Self.model, seed: 11)
            let held = try Alignment.evaluate(
                spec(v, .validated(Self.fixture.grid)), dataset: Self.evalSet,
                map: Self.model, validation: Self.validationSet, seed: 0)
            XCTAssertEqual(oracle.alpha.alpha, v.oracle_alpha)
            XCTAssertEqual(Metrics.compute(oracle.enhanced).acc1, Double(v.acc1_counts.max()!) / 48)
            XCTAssertGreaterThanOrEqual(Metrics.compute(oracle.enhanced).acc1, Metrics.compute(kfold.enhanced).acc1)
            XCTAssertGreaterThanOrEqual(Metrics.compute(oracle.enhanced).acc1, Metrics.compute(held.enhanced).acc1)
            XCTAssertTrue(oracle.alpha.isOracle)
            XCTAssertEqual(oracle.alpha.selection, .evaluationSet)
            XCTAssertTrue(oracle.method.contains("oracle"))
            XCTAssertTrue(oracle.variant.contains("oracle"))
        }
    }

    /// Hand-made ranks: α = 1 wins on folds 0–1, α = 2 on fold 2, so every fold's α is known.
    func testKFoldOnCraftedRanks() {
        // 6 images, fold = i % 3. Correct (rank 0) marks per α:
        //   α=0: image 0 only; α=1: images 0, 1, 2, 3; α=2: images 4, 5 and 2.
        let grid = [0.0, 1.0, 2.0]
        func p(_ correct: [Int]) -> Predictions {
            Predictions(
                labels: [0, 0, 0, 0, 0, 0], numClasses: 2,
                trueRank: (0..<6).map { correct.contains($0) ? 0 : 1 },
                top1: (0..<6).map { correct.contains($0) ? 0 : 1 })
        }
        let perAlpha = [p([0]), p([0, 1, 2, 3]), p([2, 4, 5])]
        let fold = [0, 1, 2, 0, 1, 2]
        let r = Alignment.kFold(perAlpha, fold: fold, folds: 3, grid: grid)
        // Fold 0 held out (images 0, 3): outside hits α0: 0, α1: 2 (1, 2), α2: 3 (2, 4, 5) → α=2.
        // Fold 1 (images 1, 4): outside α0: 1, α1: 3 (0, 2, 3), α2: 2 (2, 5) → α=1.
        // Fold 2 (images 2, 5): outside α0: 1, α1: 3 (0, 1, 3), α2: 1 (4) → α=1.
        XCTAssertEqual(r.folds.map(\.alpha), [2, 1, 1])
        // Image 0: α2 wrong; 3: α2 wrong; 1: α1 right; 4: α1 wrong; 2: α1 right; 5: α1 wrong.
        XCTAssertEqual(r.predictions.trueRank, [1, 0, 0, 1, 1, 1])
        XCTAssertEqual(r.folds.map(\.heldOutAcc1), [0, 0.5, 0.5])
        XCTAssertEqual(r.folds[0].selectionAcc1, 0.75)
        // Ties go to the smallest α.
        XCTAssertEqual(AlphaSelection.best([3, 5, 5, 1]), 1)
        XCTAssertEqual(AlphaSelection.best([2, 2]), 0)
    }

    // MARK: Errors

    func testPerTemplateNeedsTemplateEmbeddings() throws {
        let averaged = try Self.dataset(Self.fixture.eval, text: nil, averaged: true)
        let v = Self.fixture.variants[2]
        XCTAssertEqual(v.text, "per-template")
        XCTAssertThrowsError(try Alignment.evaluate(spec(v, .fixed(1)), dataset: averaged, map: Self.model, seed: 0)) {
            XCTAssertTrue("\($0)".contains("provides only an averaged classifier"), "\($0)")
        }
        // average-first works on an averaged classifier, with the same ranks.
        let ok = try Alignment.evaluate(
            spec(Self.fixture.variants[0], .fixed(0.5)), dataset: averaged,
            map: Self.model, seed: 0)
        XCTAssertEqual(ok.enhanced.trueRank, Self.fixture.variants[0].ranks[2])
    }

    func testInferenceKAboveTrainedKIsRefused() {
        var s = spec(Self.fixture.variants[0], .fixed(1))
        s.k = 7
        XCTAssertThrowsError(try Alignment.evaluate(s, dataset: Self.evalSet, map: Self.model, seed: 0)) {
            XCTAssertTrue("\($0)".contains("exceeds the checkpoint's trained k = 6"), "\($0)")
        }
    }

    func testValidationSetMustMatchDataset() throws {
        let other = try ZeroShotDataset(
            name: "other", model: "m", pretrained: "p",
            images: Tensor(shape: [2, 8], floats: [Float](repeating: 1, count: 16)),
            labels: Tensor(shape: [2], dtype: .int64, storage: .integer([0, 1].map { Int64($0) })),
            classnames: (0..<6).map { "class\($0)" }, templates: ["a", "b", "c"],
            textEmbeddings: Tensor(shape: [6, 3, 8], floats: Self.fixture.eval.text!.flatMap { $0 }),
            classifier: nil)
        XCTAssertThrowsError(
            try Alignment.evaluate(
                spec(Self.fixture.variants[0], .validated([0, 1])),
                dataset: Self.evalSet, map: Self.model, validation: other, seed: 0)
        ) {
            XCTAssertTrue("\($0)".contains("validation dataset is \"other\", not \"toy\""), "\($0)")
        }
    }

    // MARK: Spec parsing

    func testSpecParsingDefaultsAndCanonicalGrid() throws {
        let s = try AlignmentSpec(parsing: "alpha=validated:1;0|0.5;1")
        XCTAssertEqual(s.representation, .hidden)
        XCTAssertEqual(s.text, .averageFirst)
        XCTAssertEqual(s.alpha, .validated([0, 0.5, 1]))
        XCTAssertEqual(s.alpha.canonical, "validated:0;0.5;1")
        XCTAssertNil(s.folds)
        XCTAssertEqual(s.effectiveFolds, 5)
        XCTAssertNil(s.k)
        let t = try AlignmentSpec(parsing: "text=per-template,representation=reconstruction,alpha=oracle:2;0.25,k=3")
        XCTAssertEqual(
            t, AlignmentSpec(representation: .reconstruction, text: .perTemplate, alpha: .oracle([0.25, 2]), k: 3))
        XCTAssertEqual(try AlignmentSpec(parsing: "alpha=fixed:1.0").alpha.canonical, "fixed:1")
        XCTAssertEqual(try AlignmentSpec(parsing: "alpha=validated:0;1,val=v.json").validation, "v.json")
    }

    func testSpecErrors() {
        let bad: [(String, String)] = [
            ("representation=hidden", "alpha is required"),
            ("alpha=fixed:x", "is not a finite number"),
            ("alpha=fixed:1,k=0", "k must be a positive integer"),
            ("alpha=fixed:1,folds=3", "folds and val apply only to alpha=validated"),
            ("alpha=validated:0;1,folds=1", "folds must be an integer ≥ 2"),
            ("alpha=validated:0;1,folds=3,val=a.json", "either val=<manifest> or folds=<n>"),
            ("alpha=oracle:", "needs a grid"),
            ("alpha=guess:1", "unknown protocol \"guess\""),
            ("alpha=fixed:1,text=mean", "text must be average-first or per-template"),
            ("alpha=fixed:1,alpha=fixed:2", "given twice"),
            ("alpha=fixed:1,colour=red", "unknown key \"colour\""),
            ("alpha=fixed:1,hidden", "is not key=value"),
        ]
        for (spec, expected) in bad {
            XCTAssertThrowsError(try AlignmentSpec(parsing: spec), spec) {
                XCTAssertTrue("\($0)".contains(expected), "\(spec): \($0)")
                XCTAssertTrue("\($0)".contains(spec), "\(spec): error should quote the spec: \($0)")
            }
        }
    }
}
