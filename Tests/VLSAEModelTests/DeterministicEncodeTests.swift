import CKernels
import Foundation
import VLSAECore
import VLSAEModel
import XCTest

/// The encoder product and the level-1 kernels of the model go through the deterministic GEMM, so codes,
/// losses and gradients are the same bits for every kernel path this CPU runs and every thread count.
final class DeterministicEncodeTests: XCTestCase {
    override func tearDown() {
        _ = vlsae_path_configure(getenv("VLSAE_ISA"))
        super.tearDown()
    }

    func gaussian(_ rows: Int, _ cols: Int, seed: UInt64) -> Matrix {
        var rng = SeededRandom(seed: seed)
        return Matrix(rows: rows, cols: cols, values: (0..<(rows * cols)).map { _ in Float(rng.nextGaussian()) })
    }

    /// d 40 and h 360 are not multiples of any tile width; 1100 rows span several encoder chunks.
    func testEncodeIsIdenticalOnEveryPathAndThreadCount() throws {
        for arch in [SAEArch.vlsae, .saeD] {
            var model = try SAEModel(config: SAEConfig(arch: arch, inputDim: 40, hiddenRatio: 9, topK: 12), seed: 31)
            let x = gaussian(1100, 40, seed: 32)
            model.threads = 1
            let reference = try KernelPath.with(.portable) { model.encode(x) }
            let referenceText = try KernelPath.with(.portable) { model.encode(x, modality: .text) }
            for path in KernelPath.supported {
                for threads in [1, 2, 3] {
                    model.threads = threads
                    try KernelPath.with(path) {
                        XCTAssertEqual(model.encode(x), reference, "\(arch), path \(path), \(threads) threads")
                        XCTAssertEqual(
                            model.encode(x, modality: .text), referenceText,
                            "\(arch) text, path \(path), \(threads) threads")
                    }
                }
            }
            // A row encoded alone is the same row of the batch.
            for r in [0, 257, 1099] {
                XCTAssertEqual(
                    model.encode(x.rows(r..<(r + 1))), reference.rows(r..<(r + 1)), "\(arch), row \(r) alone")
            }
        }
    }

    func testTrainingStepIsIdenticalOnEveryPathAndThreadCount() throws {
        var model = try SAEModel(config: SAEConfig(arch: .vlsae, inputDim: 40, hiddenRatio: 9, topK: 12), seed: 33)
        let images = gaussian(300, 40, seed: 34)
        let texts = gaussian(300, 40, seed: 35)
        func step(_ path: KernelPath, threads: Int) throws -> (StepLoss, [Float], [Float]) {
            model.threads = threads
            return try KernelPath.with(path) {
                var g: [Float] = []
                let loss = model.lossAndGradients(images: images, texts: texts, gradients: &g)
                var params = model.parameters
                var adam = Adam(count: params.count)
                adam.update(&params, gradients: g, lr: 1e-3, threads: threads)
                return (loss, g, params)
            }
        }
        let reference = try step(.portable, threads: 1)
        for path in KernelPath.supported {
            for threads in [1, 2, 3] {
                let r = try step(path, threads: threads)
                XCTAssertEqual(r.0, reference.0, "loss, path \(path), \(threads) threads")
                XCTAssertEqual(r.1, reference.1, "gradients, path \(path), \(threads) threads")
                XCTAssertEqual(r.2, reference.2, "Adam step, path \(path), \(threads) threads")
            }
        }
    }

    /// SAE_V activations are ReLU(x · Wᵀ + b): each kept value must be exactly that of a scalar fma chain
    /// over the input in order (the GEMM contract), and the kept units the top k of those values.
    func testSAEVActivationsAreTheFmaChainExactly() throws {
        let d = 37
        let h = 37 * 8
        let k = 20
        let model = try SAEModel(config: SAEConfig(arch: .saeV, inputDim: d, hiddenRatio: 8, topK: k), seed: 36)
        let t = Dictionary(uniqueKeysWithValues: model.officialTensors().map { ($0.name, $0.values) })
        let w = t["encoder.weight"]!
        let b = t["encoder.bias"]!
        let x = gaussian(50, d, seed: 37)
        for path in KernelPath.supported {
            let codes = try KernelPath.with(path) { model.encode(x) }
            for r in 0..<x.rows {
                var a = [Float](repeating: 0, count: h)
                for j in 0..<h {
                    var acc: Float = 0
                    for p in 0..<d { acc = acc.addingProduct(x.values[r * d + p], w[j * d + p]) }
                    a[j] = max(0, acc + b[j])
                }
                let want = TopK.select(a, k: k)
                XCTAssertEqual(Array(codes.activeUnits(r)), want.indices, "path \(path), row \(r)")
                XCTAssertEqual(
                    Array(codes.activeValues(r)).map(\.bitPattern), want.values.map(\.bitPattern),
                    "path \(path), row \(r)")
            }
        }
    }
}
