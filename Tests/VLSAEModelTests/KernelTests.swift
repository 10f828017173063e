import CKernels
import VLSAECore
import VLSAEModel
import XCTest

/// The C kernels (Sources/CKernels) against plain Swift loops that spell out the documented arithmetic
/// one element at a time. The kernels reorder the work for the caches (unit-major blocks, groups of
/// slots) and vectorise it, but promise the same operations in the same order per element, so the
/// comparisons are exact (dot products excepted: their summation order is the kernel's own); and the
/// builds of every kernel path this CPU runs (portable, AVX2, AVX-512) must agree bit for bit.
final class KernelTests: XCTestCase {
    /// Codes with every row count from 0 to k (ascending unit indices), over more rows than one block.
    func codes(rows: Int, hidden h: Int, k: Int, seed: UInt64) -> SparseCodes {
        var rng = SeededRandom(seed: seed)
        var z = SparseCodes(rows: rows, hidden: h, k: k)
        for r in 0..<rows {
            let n = r % (k + 1)
            let units = rng.permutation(h).prefix(n).sorted()
            for (t, j) in units.enumerated() {
                z.indices[r * k + t] = Int32(j)
                z.values[r * k + t] = Float(rng.nextGaussian())
            }
            z.counts[r] = Int32(n)
        }
        return z
    }

    func testDecodeEqualsTheRowByRowSumExactly() throws {
        // d 70 = four 16-wide vector steps and a 6-column tail; 300 rows = two blocks, the last partial.
        let d = 70
        let k = 9
        var model = try SAEModel(config: SAEConfig(arch: .vlsae, inputDim: d, hiddenRatio: 3, topK: k), seed: 4)
        let hidden = model.config.hidden
        let z = codes(rows: 300, hidden: hidden, k: k, seed: 5)
        let tensors = Dictionary(uniqueKeysWithValues: model.officialTensors().map { ($0.name, $0.values) })
        let w = tensors["vision_decoder.weight"]!
        let b = tensors["vision_decoder.bias"]!  // d × h, official layout
        var expected = [Float](repeating: 0, count: z.rows * d)
        for r in 0..<z.rows {
            for i in 0..<d {
                var o = b[i]
                for t in 0..<Int(z.counts[r]) {
                    let j = Int(z.indices[r * k + t])
                    o = o + z.values[r * k + t] * w[i * hidden + j]
                }
                expected[r * d + i] = o
            }
        }
        for threads in [1, 2] {
            model.threads = threads
            let out = model.decode(z, modality: .image)
            XCTAssertEqual(out.values, expected, "decode with \(threads) thread(s) differs from the row-by-row sum")
        }
    }

    func testDecodeBuildsAgree() throws {
        let d = 70
        let h = 96
        let k = 7
        let rows = 130
        var rng = SeededRandom(seed: 6)
        let wT = (0..<(h * d)).map { _ in Float(rng.nextGaussian()) }
        let bias = (0..<d).map { _ in Float(rng.nextGaussian()) }
        let z = codes(rows: rows, hidden: h, k: k, seed: 7)
        func decode(_ path: KernelPath) throws -> [Float] {
            var work = [Int32](repeating: 0, count: h + 1 + rows * k)
            var out = [Float](repeating: 0, count: rows * d)
            try KernelPath.with(path) {
                vlsae_decode_block(
                    Int32(d), Int32(h), Int32(k), Int32(rows), bias, wT, z.counts, z.indices, z.values,
                    &out, &work)
            }
            return out
        }
        let portable = try decode(.portable)
        for path in KernelPath.supported { XCTAssertEqual(try decode(path), portable, "path \(path)") }
    }

    func testUnitBackwardBuildsAgreeAndMatchTheSlotBySlotSums() throws {
        // 11 slots: two groups of four and a remainder of three; d 70 has a vector tail.
        let d = 70
        let k = 5
        let rows = 40
        var rng = SeededRandom(seed: 8)
        func gaussians(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.nextGaussian()) } }
        let e = gaussians(rows * d)
        let x = gaussians(rows * d)
        let values = gaussians(rows * k)
        let deriv = gaussians(rows * k)
        let col = gaussians(d)
        let slots: [Int32] = [0, 7, 13, 41, 52, 66, 90, 121, 150, 177, 199]
        let startDec = gaussians(d)
        let startEnc = gaussians(d)
        var results: [([Float], [Float], Float)] = []
        let paths = [KernelPath.portable] + KernelPath.supported
        for path in paths {
            var gDec = startDec
            var gEnc = startEnc
            var gBias: Float = 0.25
            try KernelPath.with(path) {
                vlsae_unit_backward(
                    Int32(d), Int32(k), Int32(slots.count), slots, e, x, values, deriv, col,
                    &gDec, &gEnc, &gBias)
            }
            results.append((gDec, gEnc, gBias))
        }
        for (i, path) in paths.enumerated().dropFirst() {
            XCTAssertEqual(results[i].0, results[0].0, "path \(path)")
            XCTAssertEqual(results[i].1, results[0].1, "path \(path)")
            XCTAssertEqual(results[i].2, results[0].2, "path \(path)")
        }
        // The accumulations are exact in slot order; the dot products only up to their summation order,
        // so the reference (in double) is compared with a tolerance.
        var refDec = startDec.map(Double.init)
        var refEnc = startEnc.map(Double.init)
        var refBias = 0.25
        for slot in slots.map(Int.init) {
            let r = slot / k
            var dot = 0.0
            for i in 0..<d { dot += Double(e[r * d + i]) * Double(col[i]) }
            let dz = dot * Double(deriv[slot])
            for i in 0..<d {
                refDec[i] += Double(values[slot]) * Double(e[r * d + i])
                refEnc[i] += dz * Double(x[r * d + i])
            }
            refBias += dz
        }
        for i in 0..<d {
            XCTAssertEqual(
                Double(results[0].0[i]), refDec[i], accuracy: 1e-5 * max(1, abs(refDec[i])), "decoder gradient [\(i)]")
            XCTAssertEqual(
                Double(results[0].1[i]), refEnc[i], accuracy: 1e-4 * max(1, abs(refEnc[i])), "encoder gradient [\(i)]")
        }
        XCTAssertEqual(Double(results[0].2), refBias, accuracy: 1e-4 * max(1, abs(refBias)))
    }

    func testAdamEqualsTheTorchFormulaElementByElement() {
        // 1037 parameters: whole 8-wide vectors and a tail; with and without weight decay, three steps.
        let n = 1037
        for weightDecay in [0.0, 0.01] {
            var rng = SeededRandom(seed: 9)
            var params = (0..<n).map { _ in Float(rng.nextGaussian()) }
            var adam = Adam(count: n, weightDecay: weightDecay)
            var p = params
            var m = [Float](repeating: 0, count: n)
            var v = m
            for step in 1...3 {
                let g = (0..<n).map { _ in Float(rng.nextGaussian()) * 0.1 }
                let lr = 1e-3 * Double(step)
                adam.update(&params, gradients: g, lr: lr, threads: 2)
                // torch.optim.Adam's single-tensor step, scalars in double as Python forms them.
                let stepSize = Float(lr / (1 - pow(0.9, Double(step))))
                let bc2 = Float((1 - pow(0.999, Double(step))).squareRoot())
                for i in 0..<n {
                    var gi = g[i]
                    if weightDecay != 0 { gi = gi + Float(weightDecay) * p[i] }
                    m[i] = m[i] + Float(1 - 0.9) * (gi - m[i])
                    v[i] = v[i] * Float(0.999) + Float(1 - 0.999) * gi * gi
                    p[i] = p[i] - stepSize * (m[i] / (v[i].squareRoot() / bc2 + Float(1e-8)))
                }
                XCTAssertEqual(params, p, "step \(step), weight decay \(weightDecay)")
                XCTAssertEqual(adam.m, m)
                XCTAssertEqual(adam.v, v)
            }
        }
    }

    func testAdamBuildsAgree() throws {
        let n = 1037
        var rng = SeededRandom(seed: 10)
        let g = (0..<n).map { _ in Float(rng.nextGaussian()) }
        let p0 = (0..<n).map { _ in Float(rng.nextGaussian()) }
        var s = vlsae_adam_step(
            step_size: 1e-3, one_minus_beta1: 0.1, beta2: 0.999, one_minus_beta2: 0.001, eps: 1e-8,
            weight_decay: 0.01, bias_correction2_sqrt: 0.0316)
        func step(_ path: KernelPath) throws -> ([Float], [Float], [Float]) {
            var p = p0
            var m = g.map { $0 * 0.5 }
            var v = g.map { $0 * $0 }
            try KernelPath.with(path) { vlsae_adam(Int64(n), &p, g, &m, &v, &s) }
            return (p, m, v)
        }
        let portable = try step(.portable)
        XCTAssertNotEqual(portable.0, p0)
        for path in KernelPath.supported {
            let r = try step(path)
            XCTAssertEqual(r.0, portable.0, "path \(path)")
            XCTAssertEqual(r.1, portable.1, "path \(path)")
            XCTAssertEqual(r.2, portable.2, "path \(path)")
        }
    }
}
