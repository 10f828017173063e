import VLSAECore
import VLSAEModel
import XCTest

/// The fast paths of the encoder (top-k threshold found on a sampled candidate set, the distance
/// transform applied to candidates only, fixed row chunks per worker) against the plain definition:
/// dense products through BLAS.matmul, the activation on every entry, and `TopK.select` on whole rows.
/// The parity fixtures use h = 64, below the size where the sampled path engages; these use h = 4096.
final class SparsePathTests: XCTestCase {
    func gaussian(_ rows: Int, _ cols: Int, seed: UInt64, scale: Double = 1) -> Matrix {
        var rng = SeededRandom(seed: seed)
        return Matrix(
            rows: rows, cols: cols, values: (0..<(rows * cols)).map { _ in Float(rng.nextGaussian() * scale) })
    }

    /// Codes by the definition: a = activation(x̂ · ŵᵀ) (or ReLU(x · Wᵀ + b)), then TopK.select per row.
    func referenceCodes(_ m: SAEModel, _ x: Matrix, k: Int) -> [(indices: [Int32], values: [Float])] {
        let d = m.config.inputDim
        let h = m.config.hidden
        let t = Dictionary(uniqueKeysWithValues: m.officialTensors().map { ($0.name, $0.values) })
        let distance = m.config.arch == .vlsae
        let w = Matrix(rows: h, cols: d, values: t[distance ? "encoder" : "encoder.weight"]!)
        let c =
            distance
            ? GEMM.matmul(x.normalizedRows(), w.normalizedRows(), transB: true) : GEMM.matmul(x, w, transB: true)
        return (0..<x.rows).map { r in
            var row = Array(c.row(r))
            for j in 0..<h {
                row[j] = distance ? 2 - max(0, 2 - 2 * row[j]).squareRoot() : max(0, row[j] + t["encoder.bias"]![j])
            }
            return TopK.select(row, k: k)
        }
    }

    func assertMatchesReference(
        _ m: SAEModel, _ x: Matrix, k: Int, _ what: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let codes = m.encode(x, k: k)
        let expected = referenceCodes(m, x, k: k)
        var mismatched = 0
        for r in 0..<x.rows {
            let units = Array(codes.activeUnits(r))
            let vals = Array(codes.activeValues(r))
            // BLAS.matmul and the model's chunked products may round the last bit differently, which can
            // swap a unit sitting exactly at the threshold; anything more is a bug.
            if units != expected[r].indices {
                mismatched += 1
                continue
            }
            for (a, b) in zip(vals, expected[r].values) {
                XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), "\(what) row \(r)", file: file, line: line)
            }
        }
        XCTAssertLessThanOrEqual(
            mismatched, x.rows / 20, "\(what): \(mismatched) of \(x.rows) rows select other units",
            file: file, line: line)
        XCTAssertTrue(codes.counts.allSatisfy { Int($0) <= k }, what, file: file, line: line)
    }

    func testVLSAEEncodeMatchesDefinitionAtReleasedSize() throws {
        // h = 4096 and k = 256 as the released checkpoints; d kept small so the test stays fast in debug.
        let m = try SAEModel(config: SAEConfig(inputDim: 16, hiddenRatio: 256, topK: 256), seed: 11)
        let x = gaussian(40, 16, seed: 12)
        assertMatchesReference(m, x, k: 256, "k 256")
        assertMatchesReference(m, x, k: 32, "k 32")
        // k close to h: the threshold lies near cosine −1, where the candidate shortcut is not used.
        assertMatchesReference(m, x, k: 4000, "k 4000")
        let codes = m.encode(x)
        XCTAssertEqual(codes.counts.max(), 256)
    }

    func testMassTiesFallBackToTheFullSelectionAndDropTiedUnits() throws {
        // 4048 identical encoder rows and 48 random ones (fewer than k + 1): the sampled bound lands on
        // the tied value, too few entries exceed it, and the full selection runs; the tied units sit at
        // the threshold and are all dropped, as upstream's strict comparison does.
        let d = 16
        let h = 4096
        let base = gaussian(1, d, seed: 20)
        let random = gaussian(48, d, seed: 21)
        var w = [Float]()
        for j in 0..<h { w += j % 43 == 0 && j / 43 < 48 ? Array(random.row(j / 43)) : Array(base.row(0)) }
        let zeros = [Float](repeating: 0, count: d * h)
        let m = try SAEModel(
            config: SAEConfig(inputDim: d, hiddenRatio: 256, topK: 64),
            tensors: [
                "encoder": w, "vision_decoder.weight": zeros, "vision_decoder.bias": [Float](repeating: 0, count: d),
                "text_decoder.weight": zeros, "text_decoder.bias": [Float](repeating: 0, count: d),
            ])
        let x = gaussian(12, d, seed: 22)
        assertMatchesReference(m, x, k: 64, "mass ties")
        let codes = m.encode(x)
        XCTAssertTrue(codes.counts.allSatisfy { $0 < 64 }, "the tied block holds the threshold in every row")
        for r in 0..<x.rows {
            XCTAssertTrue(
                codes.activeUnits(r).allSatisfy { $0 % 43 == 0 && $0 / 43 < 48 }, "row \(r) keeps only untied units")
        }
    }

    func testSAEVReLUPathMatchesDefinition() throws {
        let m = try SAEModel(config: SAEConfig(arch: .saeV, inputDim: 16, hiddenRatio: 256, topK: 256), seed: 14)
        let x = gaussian(30, 16, seed: 15)
        assertMatchesReference(m, x, k: 256, "SAE_V")
        // Most ReLU outputs are zero for these inputs: rows with fewer than k positive units keep them all.
        let sparse = gaussian(10, 16, seed: 16, scale: 0.01)
        assertMatchesReference(m, sparse, k: 3000, "SAE_V, more than the positive units")
    }

    func testEncodeDoesNotDependOnThreadCountAcrossChunks() throws {
        // 700 rows span several encoder chunks whatever the split over workers.
        var m1 = try SAEModel(config: SAEConfig(inputDim: 16, hiddenRatio: 16, topK: 12), seed: 17)
        var m3 = m1
        m1.threads = 1
        m3.threads = 3
        let x = gaussian(700, 16, seed: 18)
        XCTAssertEqual(m1.encode(x), m3.encode(x))
        var g1: [Float] = []
        var g3: [Float] = []
        let l1 = m1.lossAndGradients(images: x.rows(0..<600), texts: x.rows(100..<700), gradients: &g1)
        let l3 = m3.lossAndGradients(images: x.rows(0..<600), texts: x.rows(100..<700), gradients: &g3)
        XCTAssertEqual(l1, l3)
        XCTAssertEqual(g1, g3)
    }
}
