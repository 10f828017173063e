import Foundation
import VLSAECore
import VLSAEData
import VLSAEEval
import VLSAEFormats
import VLSAEModel
import VLSAETestSupport
import XCTest

/// Alignment on real CLIP geometry (coco500-clip: 500 COCO images, their 500 captions as classes,
/// one "template"), with a seeded, untrained VL-SAE. There is no reference for the enhanced
/// numbers here; the test pins the protocol invariants on real data: α = 0 reproduces the
/// CLIP_benchmark ranks exactly, the oracle equals the best grid accuracy, every per-fold α lies in
/// the grid and k-fold never beats the oracle. Skips when ../shared is absent.
final class AlignmentRealDataTests: XCTestCase {
    func testProtocolInvariantsOnCoco500() throws {
        let features = try SharedData.coco500Features()
        let images = try TensorFile.load(features + "[0]")
        let captions = try TensorFile.load(features + "[1]")
        let labels = Tensor(shape: [500], dtype: .int64, storage: .integer((0..<500).map { Int64($0) }))
        let ds = try ZeroShotDataset(
            name: "coco500", model: "openai-clip", pretrained: "openai", images: images,
            labels: labels, classnames: (0..<500).map { "caption \($0)" }, templates: ["{c}"],
            textEmbeddings: nil, classifier: captions)
        let model = try SAEModel(config: SAEConfig(arch: .vlsae, inputDim: 512, hiddenRatio: 2, topK: 64), seed: 7)
        let grid = [0.0, 0.1, 0.3, 1.0]
        let base = ZeroShot.predict(images: ds.images, labels: ds.labels, classifier: ZeroShotClassifier(dataset: ds))
        XCTAssertEqual(Metrics.compute(base).acc1, 0.552, accuracy: 1e-9, "README: image→caption R@1 = 0.552")

        for representation in ConceptRepresentation.allCases where representation.needsAutoencoder {
            let scorer = try ConceptScorer(
                dataset: ds, map: model, representation: representation,
                text: .averageFirst, k: 32, blockRows: 128)
            let s = try scorer.score(alphas: grid)
            XCTAssertEqual(s.combined[0].trueRank, base.trueRank, "α = 0 is the baseline (\(representation))")
            let acc = s.combined.map { Metrics.compute($0).acc1 }
            let oracle = try Alignment.evaluate(
                AlignmentSpec(representation: representation, alpha: .oracle(grid), k: 32),
                dataset: ds, map: model, seed: 0, blockRows: 128)
            XCTAssertEqual(Metrics.compute(oracle.enhanced).acc1, acc.max()!)
            XCTAssertEqual(oracle.alpha.alpha, grid[acc.firstIndex(of: acc.max()!)!], "ties → smallest α")
            let cv = try Alignment.evaluate(
                AlignmentSpec(representation: representation, alpha: .validated(grid), k: 32),
                dataset: ds, map: model, seed: 3, blockRows: 128)
            XCTAssertEqual(cv.alpha.folds?.count, 5)
            XCTAssertTrue(cv.alpha.folds!.allSatisfy { grid.contains($0.alpha) })
            XCTAssertEqual(cv.alpha.folds!.map(\.nImages).reduce(0, +), 500)
            XCTAssertLessThanOrEqual(Metrics.compute(cv.enhanced).acc1, acc.max()!)
            print(
                "coco500 \(representation) k=32: acc1 per α \(zip(grid, acc).map { "\($0)=\($1)" }), "
                    + "concept-only \(Metrics.compute(s.conceptOnly).acc1), k-fold \(Metrics.compute(cv.enhanced).acc1)"
            )
        }
    }
}
