import VLSAECore
import VLSAEModel
import XCTest

/// The Swift model against a PyTorch reference written independently from the formulas
/// (Fixtures/make_model_fixtures.py): d 16, h 64, k 8, 12 rows; and d 40, h 80, k 20, 16 rows, wide
/// enough for the vectorised decode and backward kernels (a 32-column panel plus a tail, groups of up
/// to four slots per unit and their remainders).
final class ModelParityTests: XCTestCase {
    var fx: ModelFixtures!

    override func setUpWithError() throws { fx = try ModelFixtures.load() }

    func model(_ arch: SAEArch, _ prefix: String, threads: Int = 1, d: Int = 16, ratio: Int = 4, k: Int = 8) throws
        -> SAEModel
    {
        var m = try SAEModel(
            config: SAEConfig(arch: arch, inputDim: d, hiddenRatio: ratio, topK: k),
            tensors: fx.tensors(prefix + ".param."))
        m.threads = threads
        return m
    }

    func checkForwardAndGradients(_ arch: SAEArch, _ prefix: String, d: Int = 16, ratio: Int = 4, k: Int = 8) throws {
        let m = try model(arch, prefix, d: d, ratio: ratio, k: k)
        let xi = fx.matrix(prefix + ".images")
        let xt = fx.matrix(prefix + ".texts")
        let zi = m.encode(xi, modality: .image)
        let zt = m.encode(xt, modality: .text)
        // Activations and reconstructions: 1e-5 relative; active sets identical.
        assertClose(zi.dense().values, fx.values(prefix + ".z_image"), rtol: 1e-5, "\(prefix) image activations")
        assertClose(zt.dense().values, fx.values(prefix + ".z_text"), rtol: 1e-5, "\(prefix) text activations")
        assertSameSupport(zi.dense().values, fx.values(prefix + ".z_image"), "\(prefix) image")
        assertSameSupport(zt.dense().values, fx.values(prefix + ".z_text"), "\(prefix) text")
        assertClose(
            m.decode(zi, modality: .image).values, fx.values(prefix + ".recon_image"), rtol: 1e-5,
            "\(prefix) image recon")
        assertClose(
            m.reconstruct(xt, modality: .text).values, fx.values(prefix + ".recon_text"), rtol: 1e-5,
            "\(prefix) text recon")

        // One step's loss and gradients of every parameter: 1e-5 relative to each tensor's scale.
        var g: [Float] = []
        let loss = m.lossAndGradients(images: xi, texts: xt, gradients: &g)
        let torchLoss = (fx.scalars[prefix + ".loss"] as! NSNumber).doubleValue
        XCTAssertEqual(loss.total, torchLoss, accuracy: 1e-5 * torchLoss)
        XCTAssertEqual(m.loss(images: xi, texts: xt).total, loss.total, accuracy: 1e-6 * loss.total)
        for t in m.officialTensors(g) {
            let expected = fx.values("\(prefix).grad.\(t.name)")
            XCTAssertTrue(expected.contains { $0 != 0 }, "\(t.name): reference gradient is all zero")
            assertClose(t.values, expected, rtol: 1e-5, "\(prefix) gradient of \(t.name)")
        }
    }

    func testVLSAEMatchesTorch() throws { try checkForwardAndGradients(.vlsae, "vl") }
    func testSAEDMatchesTorch() throws { try checkForwardAndGradients(.saeD, "sd") }
    func testVLSAEMatchesTorchAtAVectorisedWidth() throws {
        try checkForwardAndGradients(.vlsae, "vlw", d: 40, ratio: 2, k: 20)
    }
    func testSAEDMatchesTorchAtAVectorisedWidth() throws {
        try checkForwardAndGradients(.saeD, "sdw", d: 40, ratio: 2, k: 20)
    }

    func testSAEVMatchesTorchIncludingRowsWithFewerThanKActive() throws {
        try checkForwardAndGradients(.saeV, "sv")
        let codes = try model(.saeV, "sv").encode(fx.matrix("sv.images"))
        XCTAssertTrue(codes.counts.contains { $0 < 8 }, "fixture should have rows with < k positive units")
        XCTAssertTrue(codes.counts.contains(8))
    }

    func testExactTieAtThresholdDropsBothCopies() throws {
        var tensors = fx.tensors("vl.param.")
        tensors["encoder"] = fx.values("tie.encoder")
        let m = try SAEModel(config: SAEConfig(inputDim: 16, hiddenRatio: 4, topK: 8), tensors: tensors)
        let codes = m.encode(fx.matrix("vl.images"))
        let expected = fx.values("tie.z_image")
        assertSameSupport(codes.dense().values, expected, "tie")
        assertClose(codes.dense().values, expected, rtol: 1e-5, "tie activations")
        XCTAssertEqual(codes.counts[0], 7, "row 0 ties at the threshold and keeps k − 1 units")
        let units = (fx.scalars["tie.units"] as! [NSNumber]).map { Int32($0.intValue) }
        XCTAssertFalse(codes.activeUnits(0).contains(units[0]))
        XCTAssertFalse(codes.activeUnits(0).contains(units[1]))
    }

    func testTopKTieRuleMatchesKthvalue() throws {
        let vals = fx.matrix("ties.values")
        for k in [1, 8, 32, 63] {
            let mask = fx.values("ties.mask.k\(k)")
            for r in 0..<vals.rows {
                let sel = TopK.select(Array(vals.row(r)), k: k)
                var got = [Float](repeating: 0, count: vals.cols)
                for i in sel.indices { got[Int(i)] = 1 }
                XCTAssertEqual(got, Array(mask[(r * vals.cols)..<((r + 1) * vals.cols)]), "row \(r), k \(k)")
                XCTAssertEqual(sel.indices, sel.indices.sorted())
                XCTAssertLessThanOrEqual(sel.indices.count, k)
            }
        }
        XCTAssertEqual(TopK.select([0.5, 0.5, 0.5], k: 1).indices, [], "all tied: nothing kept")
        XCTAssertEqual(TopK.select([3, -4, 1, 2], k: 2).indices, [0, 1], "|a| ranks, sign kept")
        XCTAssertEqual(TopK.select([3, -4, 1, 2], k: 2).values, [3, -4])
    }

    func testGradientsDoNotDependOnThreadCount() throws {
        for (arch, prefix) in [(SAEArch.vlsae, "vl"), (.saeD, "sd"), (.saeV, "sv")] {
            var g1: [Float] = []
            var g2: [Float] = []
            let xi = fx.matrix(prefix + ".images")
            let xt = fx.matrix(prefix + ".texts")
            _ = try model(arch, prefix, threads: 1).lossAndGradients(images: xi, texts: xt, gradients: &g1)
            _ = try model(arch, prefix, threads: 3).lossAndGradients(images: xi, texts: xt, gradients: &g2)
            XCTAssertEqual(g1, g2, prefix)
        }
    }

    /// 20 Adam steps (10 epochs × 2 batches) across the warm-up → cosine boundary, as upstream's loop.
    func checkTrajectory(_ arch: SAEArch, _ prefix: String) throws {
        let cfg = fx.scalars[prefix + ".config"] as! [String: NSNumber]
        let lr = cfg["lr"]!.doubleValue
        let wd = cfg["weight_decay"]!.doubleValue
        let epochs = cfg["epochs"]!.intValue
        let warmup = cfg["warmup"]!.intValue
        let bs = cfg["batch"]!.intValue
        var m = try SAEModel(
            config: SAEConfig(arch: arch, inputDim: 16, hiddenRatio: 4, topK: 8),
            tensors: fx.tensors(prefix + ".init."))
        let start = m.parameters
        let xi = fx.matrix(prefix + ".images")
        let xt = fx.matrix(prefix + ".texts")
        var adam = Adam(count: m.parameters.count, weightDecay: wd)
        var g: [Float] = []
        var losses: [Double] = []
        let torchLRs = fx.doubles(prefix + ".lrs")
        for e in 0..<epochs {
            let rate = LRSchedule.learningRate(epoch: e, base: lr, epochs: epochs, warmupEpochs: warmup)
            XCTAssertEqual(rate, torchLRs[e], accuracy: 1e-15 + 1e-12 * torchLRs[e], "lr epoch \(e)")
            for i in stride(from: 0, to: xi.rows, by: bs) {
                let r = i..<min(i + bs, xi.rows)
                losses.append(m.lossAndGradients(images: xi.rows(r), texts: xt.rows(r), gradients: &g).total)
                adam.update(&m.parameters, gradients: g, lr: rate)
            }
        }
        XCTAssertEqual(adam.step, 20)
        let torchLosses = fx.doubles(prefix + ".losses")
        for (a, b) in zip(losses, torchLosses) { XCTAssertEqual(a, b, accuracy: 1e-4 * b) }
        var moved = 0.0
        for (a, b) in zip(m.parameters, start) { moved = max(moved, Double(abs(a - b))) }
        XCTAssertGreaterThan(moved, 1e-3, "the trajectory must actually move the weights")
        for t in m.officialTensors() {
            assertClose(
                t.values, fx.values("\(prefix).final.\(t.name)"), rtol: 1e-4, "\(prefix) after 20 steps: \(t.name)")
        }
    }

    func testAdamTrajectoryVLSAE() throws { try checkTrajectory(.vlsae, "adam_vl") }
    func testAdamTrajectorySAEDWithWeightDecay() throws { try checkTrajectory(.saeD, "adam_sd") }

    func testScheduleMatchesTorchForOtherShapes() throws {
        for (epochs, warmup) in [(5, 0), (7, 3), (3, 3)] {
            let expected = fx.doubles("schedule.\(epochs).\(warmup)")
            for e in 0..<epochs {
                XCTAssertEqual(
                    LRSchedule.learningRate(epoch: e, base: 1e-3, epochs: epochs, warmupEpochs: warmup),
                    expected[e], accuracy: 1e-15, "epochs \(epochs) warm-up \(warmup) epoch \(e)")
            }
        }
    }
}
