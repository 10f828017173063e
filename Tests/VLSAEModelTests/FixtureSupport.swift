import Foundation
import VLSAECore
import VLSAEModel
import VLSAETestSupport
import XCTest

/// Reads the blobs written by Fixtures/make_model_fixtures.py (little-endian float32 + a JSON index).
struct ModelFixtures {
    let floats: [Float]
    let index: [String: (offset: Int, shape: [Int])]
    let scalars: [String: Any]

    static func load() throws -> ModelFixtures {
        let data = try folder.data("model_fixtures.bin")
        var floats = [Float](repeating: 0, count: data.count / 4)
        _ = floats.withUnsafeMutableBytes { data.copyBytes(to: $0) }
        let json = try folder.jsonObject("model_fixtures.json")
        var index: [String: (Int, [Int])] = [:]
        for (name, v) in json["tensors"] as! [String: [String: Any]] {
            index[name] = (v["offset"] as! Int, v["shape"] as! [Int])
        }
        return ModelFixtures(floats: floats, index: index, scalars: json["scalars"] as! [String: Any])
    }

    /// This target's bundled `Fixtures` folder.
    static let folder = FixtureFolder(bundle: .module)

    func values(_ name: String) -> [Float] {
        guard let e = index[name] else {
            XCTFail("fixture \(name) missing")
            return []
        }
        let n = e.shape.reduce(1, *)
        return Array(floats[e.offset..<(e.offset + n)])
    }

    func matrix(_ name: String) -> Matrix {
        let e = index[name]!
        return Matrix(rows: e.shape[0], cols: e.shape.count > 1 ? e.shape[1] : 1, values: values(name))
    }

    /// Official-layout parameters under `prefix` (e.g. "vl.param.").
    func tensors(_ prefix: String) -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for name in index.keys where name.hasPrefix(prefix) { out[String(name.dropFirst(prefix.count))] = values(name) }
        return out
    }

    func doubles(_ key: String) -> [Double] { (scalars[key] as! [NSNumber]).map { $0.doubleValue } }
}

/// max |actual − expected| ≤ rtol · max |expected| (relative to the tensor's scale, so entries
/// that are exactly zero in both do not blow up the comparison).
func assertClose(
    _ actual: [Float], _ expected: [Float], rtol: Double, _ what: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "\(what): sizes differ", file: file, line: line)
    guard actual.count == expected.count else { return }
    var maxDiff = 0.0
    var scale = 0.0
    for i in 0..<actual.count {
        maxDiff = max(maxDiff, abs(Double(actual[i]) - Double(expected[i])))
        scale = max(scale, abs(Double(expected[i])))
    }
    XCTAssertLessThanOrEqual(
        maxDiff, rtol * max(scale, 1e-30),
        "\(what): max diff \(maxDiff) vs scale \(scale)", file: file, line: line)
}

func assertSameSupport(
    _ actual: [Float], _ expected: [Float], _ what: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    let a = actual.map { $0 != 0 }
    let e = expected.map { $0 != 0 }
    XCTAssertEqual(a, e, "\(what): active sets differ", file: file, line: line)
}

/// A short training recipe for these tests: `TrainConfig()` with the epochs, warm-up, batch size,
/// learning rate (the default unless given) and seed set; every other field keeps its default.
func trainConfig(
    epochs: Int, warmupEpochs: Int = 1, batchSize: Int, lr: Double = TrainConfig().lr, seed: UInt64
) -> TrainConfig {
    TrainConfig(lr: lr, batchSize: batchSize, epochs: epochs, warmupEpochs: warmupEpochs, seed: seed)
}
