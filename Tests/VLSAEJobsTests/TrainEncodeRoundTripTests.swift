import Foundation
import VLSAECore
import VLSAEFormats
import VLSAEJobs
import VLSAEModel
import VLSAETestSupport
import XCTest

/// `vlsae train` then `vlsae encode`, through files only: the checkpoint written by training must
/// be readable as plain tensors under the official names, and the activations and reconstructions
/// written by encode must agree with a decoder applied by hand to those tensors.
final class TrainEncodeRoundTripTests: XCTestCase {
    private var folder: TemporaryFolder!

    override func setUpWithError() throws { folder = try temporaryFolder("roundtrip") }

    private func path(_ name: String) -> String { folder.path(name) }

    private func roundTrip(images: String, texts: String, k: Int, ratio: Int) throws {
        let train = fastRecipe(epochs: 3, seed: 5)
        let ckpt = path("sae.safetensors")
        let trained = try TrainJob.run(
            .init(
                images: images, texts: texts, topK: k,
                hiddenRatio: ratio, train: train, progress: false))
        try trained.write(to: ckpt)
        let summary = trained.summary
        XCTAssertEqual(summary.epochs.count, 3)

        let z = path("z.npy")
        let rec = path("rec.npy")
        try EncodeJob.run(.init(checkpoint: ckpt, input: images)).write(to: z)
        try EncodeJob.run(.init(checkpoint: ckpt, input: images, reconstruct: .image)).write(to: rec)

        let x = try TensorFile.load(images).matrix(name: images)
        let codes = try TensorFile.load(z).matrix(name: z)
        let reconstruction = try TensorFile.load(rec).matrix(name: rec)
        let weight = try TensorFile.load(ckpt + ":vision_decoder.weight")  // d × h, as nn.Linear stores it
        let bias = try TensorFile.load(ckpt + ":vision_decoder.bias")
        let d = x.cols
        let h = d * ratio
        XCTAssertEqual(weight.shape, [d, h])
        XCTAssertEqual(try TensorFile.load(ckpt + ":encoder").shape, [h, d])
        XCTAssertEqual(codes.rows, x.rows)
        XCTAssertEqual(codes.cols, h)
        XCTAssertEqual(reconstruction.rows, x.rows)
        XCTAssertEqual(reconstruction.cols, d)

        let w = weight.floats
        let b = bias.floats
        for r in 0..<x.rows {
            let row = Array(codes.row(r))
            let active = row.enumerated().filter { $0.element != 0 }
            XCTAssertLessThanOrEqual(active.count, k, "row \(r) keeps more than k units")
            XCTAssertTrue(active.allSatisfy { $0.element > 0 && $0.element <= 2 }, "distance activations lie in (0, 2]")
            // Decoder by hand, in double: x̂ = W z + b.
            for j in 0..<d {
                var s = Double(b[j])
                for (i, v) in active { s += Double(w[j * h + i]) * Double(v) }
                XCTAssertEqual(Double(reconstruction[r, j]), s, accuracy: 1e-5 * max(1, abs(s)))
            }
        }
    }

    func testRoundTripOnSyntheticPairs() throws {
        // Low-rank paired data with a per-modality offset, written as one .npy of shape 2 × N × d.
        var rng = SeededRandom(seed: 11)
        let n = 300
        let d = 24
        let rank = 6
        let basis = (0..<(rank * d)).map { _ in Float(rng.nextGaussian()) }
        var both = [Float]()
        var coefficients = [[Float]]()
        for _ in 0..<n { coefficients.append((0..<rank).map { _ in Float(rng.nextGaussian()) }) }
        for modality in 0..<2 {
            for c in coefficients {
                for j in 0..<d {
                    var v: Float = modality == 0 ? 0.5 : -0.5
                    for q in 0..<rank { v += c[q] * basis[q * d + j] }
                    both.append(v + 0.05 * Float(rng.nextGaussian()))
                }
            }
        }
        let file = path("pairs.npy")
        try NpyFormat.write(Tensor(shape: [2, n, d], floats: both), to: file)
        try roundTrip(images: file + "[0]", texts: file + "[1]", k: 8, ratio: 4)
    }

    func testRoundTripOnRealCLIPPairs() throws {
        let coco = try SharedData.coco500Features()
        try roundTrip(images: coco + "[0]", texts: coco + "[1]", k: 16, ratio: 2)
    }
}
