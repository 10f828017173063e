import Foundation
import VLSAECore
import VLSAEFormats
import VLSAEModel
import VLSAETestSupport
import XCTest

final class CheckpointTests: XCTestCase {
    var dir: TemporaryFolder!

    override func setUpWithError() throws { dir = try temporaryFolder("ckpt") }

    func path(_ name: String) -> String { dir.path(name) }

    func testRoundTripKeepsWeightsConfigAndSummaryForEveryArch() throws {
        let (xi, xt) = syntheticPairs(rows: 40, d: 16, seed: 9)
        let t = trainConfig(epochs: 2, batchSize: 16, seed: 3)
        for arch in SAEArch.allCases {
            let cfg = SAEConfig(arch: arch, inputDim: 16, hiddenRatio: 4, topK: 5)
            let (model, summary) = try Trainer.train(images: xi, texts: xt, model: cfg, train: t, progress: false)
            let p = path("\(arch.rawValue).safetensors")
            try Checkpoint.save(model, summary: summary, to: p)
            let loaded = try Checkpoint.load(path: p)
            XCTAssertEqual(loaded.model.config, cfg)
            XCTAssertEqual(loaded.model.parameters, model.parameters)
            XCTAssertEqual(loaded.summary, summary)
            XCTAssertEqual(loaded.topKSource, "metadata")
            XCTAssertEqual(loaded.sha256, try SHA256.hex(fileAt: p))
            XCTAssertEqual(loaded.metadata["format"], Checkpoint.formatTag)
            // Tensor names and shapes are the official state-dict ones.
            let (tensors, _) = try SafetensorsFormat.read(try readFile(p), path: p)
            let shapes = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor.shape) })
            switch arch {
            case .vlsae:
                XCTAssertEqual(
                    shapes,
                    [
                        "encoder": [64, 16], "vision_decoder.weight": [16, 64], "vision_decoder.bias": [16],
                        "text_decoder.weight": [16, 64], "text_decoder.bias": [16],
                    ])
            case .saeD:
                XCTAssertEqual(shapes["v_encoder.weight"], [64, 16])
                XCTAssertEqual(shapes["t_encoder.bias"], [64])
                XCTAssertEqual(shapes["text_decoder.0.weight"], [16, 64])
                XCTAssertEqual(shapes.count, 8)
            case .saeV:
                XCTAssertEqual(
                    shapes,
                    [
                        "encoder.weight": [64, 16], "encoder.bias": [64],
                        "decoder.0.weight": [16, 64], "decoder.0.bias": [16],
                    ])
            }
            // A caller's k overrides the file's.
            XCTAssertEqual(try Checkpoint.load(path: p, topK: 3).model.config.topK, 3)
            // Same model, same bytes.
            try Checkpoint.save(model, summary: summary, to: path("again.safetensors"))
            XCTAssertEqual(try readFile(p), try readFile(path("again.safetensors")))
        }
    }

    func testWarmStartContinuesFromTheCheckpoint() throws {
        let (xi, xt) = syntheticPairs(rows: 60, d: 16, seed: 10)
        let t = trainConfig(epochs: 3, batchSize: 16, lr: 1e-2, seed: 4)
        let cfg = SAEConfig(inputDim: 16, hiddenRatio: 4, topK: 5)
        let first = try Trainer.train(images: xi, texts: xt, model: cfg, train: t, progress: false)
        try Checkpoint.save(first.model, summary: first.summary, to: path("a.safetensors"))
        let loaded = try Checkpoint.load(path: path("a.safetensors"))
        var reports: [EpochReport] = []
        let second = try Trainer.train(
            images: xi, texts: xt, model: cfg, train: t, initial: loaded.model,
            initialization: "a.safetensors", progress: false
        ) { reports.append($0) }
        XCTAssertEqual(second.summary.initialization, "a.safetensors")
        // Same seed, same split: the warm start begins where the first run's best weights were.
        XCTAssertLessThan(reports[0].validation.loss, first.summary.epochs[0].validation.loss)
        XCTAssertLessThanOrEqual(second.summary.bestValLoss, first.summary.bestValLoss + 1e-12)
        XCTAssertThrowsError(
            try Trainer.train(
                images: xi, texts: xt, model: SAEConfig(inputDim: 16, hiddenRatio: 2, topK: 5),
                train: t, initial: loaded.model, progress: false))
    }

    func write(_ tensors: [String: ([Int], [Float])], metadata: [String: String] = [:], _ name: String) throws -> String
    {
        let p = path(name)
        try SafetensorsFormat.write(
            tensors.map { NamedTensor(name: $0.key, tensor: Tensor(shape: $0.value.0, floats: $0.value.1)) },
            metadata: metadata, to: p)
        return p
    }

    func official(_ d: Int = 4, _ h: Int = 8) -> [String: ([Int], [Float])] {
        let m = try! SAEModel(config: SAEConfig(inputDim: d, hiddenRatio: h / d, topK: 2), seed: 1)
        var out: [String: ([Int], [Float])] = [:]
        for t in m.officialTensors() { out[t.name] = (t.shape, t.values) }
        return out
    }

    func assertFileError(_ p: String, contains parts: [String], topK: Int? = nil, line: UInt = #line) {
        XCTAssertThrowsError(try Checkpoint.load(path: p, topK: topK), line: line) { error in
            guard case VLSAEError.file(let file, let message) = error else {
                return XCTFail("not a file error: \(error)", line: line)
            }
            XCTAssertEqual(file, p, line: line)
            for part in parts { XCTAssertTrue(message.contains(part), "\"\(message)\" lacks \"\(part)\"", line: line) }
        }
    }

    func testBadCheckpointsAreRejectedWithTheFileAndProblem() throws {
        var t = official()
        t["text_decoder.bias"] = nil
        assertFileError(try write(t, "missing.safetensors"), contains: ["missing", "text_decoder.bias"])

        t = official()
        t["vision_decoder.weight"] = ([8, 4], t["vision_decoder.weight"]!.1)
        assertFileError(
            try write(t, "transposed.safetensors"), contains: ["vision_decoder.weight", "(8, 4)", "(4, 8)"])

        t = official()
        var w = t["encoder"]!.1
        w[5] = .nan
        t["encoder"] = ([8, 4], w)
        assertFileError(try write(t, "nan.safetensors"), contains: ["encoder", "non-finite"])

        t = official()
        var b = t["text_decoder.bias"]!.1
        b[0] = .infinity
        t["text_decoder.bias"] = ([4], b)
        assertFileError(try write(t, "inf.safetensors"), contains: ["text_decoder.bias", "non-finite"])

        let cfg = String(
            decoding: try JSONEncoder().encode(SAEConfig(inputDim: 8, hiddenRatio: 2, topK: 2)), as: UTF8.self)
        assertFileError(
            try write(official(), metadata: ["config": cfg], "meta.safetensors"), contains: ["metadata says", "d=8"])

        assertFileError(
            try write(["weights": ([2, 2], [1, 2, 3, 4])], "other.safetensors"), contains: ["not a VL-SAE", "weights"])
        t = official()
        t["encoder"] = ([6, 4], Array(repeating: 0.1, count: 24))
        assertFileError(try write(t, "ratio.safetensors"), contains: ["not a multiple"])
        assertFileError(try write(official(), "k.safetensors"), contains: ["top-k 9"], topK: 9)
        assertFileError(path("absent.safetensors"), contains: ["no such file"])
        // Without metadata (a bare state dict) k defaults to the released 256, capped at h.
        XCTAssertEqual(
            try Checkpoint.load(path: try write(official(), "bare.safetensors")).topKSource,
            "default (released checkpoints)")
    }

    /// A `torch.save(state_dict)` file with the official keys (Fixtures/make_model_fixtures.py)
    /// loads and encodes as torch did.
    func testOfficialPthStateDictLoads() throws {
        let fx = try ModelFixtures.load()
        let p = ModelFixtures.folder.path("vlsae_small.pth")
        let loaded: LoadedCheckpoint
        do { loaded = try Checkpoint.load(path: p, topK: 8) } catch let VLSAEError.file(_, msg)
            where msg.contains("not implemented")
        {
            throw XCTSkip("torch .pth reading is not available in this build: \(msg)")
        }
        XCTAssertEqual(loaded.model.config, SAEConfig(arch: .vlsae, inputDim: 16, hiddenRatio: 4, topK: 8))
        XCTAssertEqual(loaded.topKSource, "caller")
        let z = loaded.model.encode(fx.matrix("vl.images"))
        assertClose(z.dense().values, fx.values("vl.z_image"), rtol: 1e-5, ".pth encode")
        assertSameSupport(z.dense().values, fx.values("vl.z_image"), ".pth encode")
        XCTAssertEqual(try Checkpoint.load(path: p).model.config.topK, 64, "no k given: 256 capped at h")
    }
}
