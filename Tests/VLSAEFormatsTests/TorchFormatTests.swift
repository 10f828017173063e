import Foundation
import VLSAECore
import VLSAEFormats
import VLSAETestSupport
import XCTest

/// Fixtures come from Fixtures/torch/make_torch_fixtures.py (torch 2.13.0+cpu). Each `<name>.expected.json`
/// holds torch's own C-order values; float comparisons are exact (tolerance 0) because every stored value is
/// a float32, or a float16/bfloat16 that widens exactly, or a float64 that both sides round once to float32.
enum TorchFixtures {
    static let folder = Fixtures.folder.subfolder("torch")

    static func url(_ name: String) throws -> URL { folder.url(name) }

    static func data(_ name: String) throws -> Data { try folder.data(name) }

    struct Expected {
        let shape: [Int]
        let dtype: String
        let values: [Double]
    }

    /// Keys in file order are not kept by JSON; callers compare names against their own lists.
    static func expected(_ stem: String) throws -> [String: Expected] {
        let json = try JSONSerialization.jsonObject(with: data(stem + ".expected.json")) as! [String: [String: Any]]
        return json.mapValues { entry in
            Expected(
                shape: entry["shape"] as! [Int], dtype: entry["dtype"] as! String,
                values: (entry["values"] as! [NSNumber]).map { $0.doubleValue })
        }
    }

    static func read(_ name: String) throws -> [NamedTensor] {
        try TorchFormat.read(data(name), path: url(name).path)
    }
}

final class TorchFormatTests: XCTestCase {
    private func assertMatches(
        _ tensors: [NamedTensor], _ stem: String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let expected = try TorchFixtures.expected(stem)
        XCTAssertEqual(Set(tensors.map(\.name)), Set(expected.keys), "names", file: file, line: line)
        for nt in tensors {
            guard let e = expected[nt.name] else { continue }
            XCTAssertEqual(nt.tensor.shape, e.shape, "\(nt.name) shape", file: file, line: line)
            XCTAssertEqual(nt.tensor.dtype.rawValue, e.dtype, "\(nt.name) dtype", file: file, line: line)
            switch nt.tensor.storage {
            case .float(let f):
                XCTAssertEqual(f, e.values.map { Float($0) }, "\(nt.name) values", file: file, line: line)
            case .integer(let i):
                XCTAssertEqual(i, e.values.map { Int64($0) }, "\(nt.name) values", file: file, line: line)
            }
        }
    }

    func testOfficialStateDictKeysShapesAndValues() throws {
        let tensors = try TorchFixtures.read("vlsae_state_dict.pth")
        XCTAssertEqual(
            tensors.map(\.name),
            [
                "encoder", "vision_decoder.weight", "vision_decoder.bias",
                "text_decoder.weight", "text_decoder.bias",
            ])
        XCTAssertEqual(tensors.map(\.tensor.shape), [[16, 8], [8, 16], [8], [8, 16], [8]])
        try assertMatches(tensors, "vlsae_state_dict")
    }

    func testAddressesThroughTensorFile() throws {
        let path = try TorchFixtures.url("vlsae_state_dict.pth").path
        let expected = try TorchFixtures.expected("vlsae_state_dict")["vision_decoder.weight"]!
        let row = try TensorFile.load("\(path):vision_decoder.weight[3]")
        XCTAssertEqual(row.shape, [16])
        XCTAssertEqual(row.floats, expected.values[48..<64].map { Float($0) })

        let collector = try TorchFixtures.url("collector.pt").path
        let emb = try TensorFile.load("\(collector):embeddings")
        XCTAssertEqual(emb.shape, [5, 8])
        // The texts list is not a tensor, so the embeddings are the file's only array.
        XCTAssertEqual(try TensorFile.load(collector), emb)
        XCTAssertEqual(try emb.matrix(name: "embeddings").rows, 5)
    }

    func testEveryDtype() throws {
        let tensors = try TorchFixtures.read("dtypes.pt")
        XCTAssertEqual(tensors.map(\.name), ["f16", "bf16", "f32", "f64", "i64", "i32", "u8", "flag"])
        try assertMatches(tensors, "dtypes")
        let byName = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) })
        // Integers wider than float32's 24-bit mantissa survive exactly.
        XCTAssertEqual(byName["i64"]?.storage, .integer([-(1 << 40), 0, 3, 7, -1, 1 << 62]))
        XCTAssertEqual(byName["i32"]?.storage, .integer([Int64(Int32.min), 0, Int64(Int32.max)]))
        XCTAssertEqual(byName["flag"]?.dtype, .bool)
    }

    func testSharedStorageViewsAreGatheredInCOrder() throws {
        let tensors = try TorchFixtures.read("views.pt")
        try assertMatches(tensors, "views")
        let byName = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) })
        // grid[i][j] = (10i + j)/2 − 3, checked here independently of the generator's expectations.
        func g(_ i: Int, _ j: Int) -> Float { Float(10 * i + j) * 0.5 - 3 }
        XCTAssertEqual(byName["stepped"]?.shape, [3, 4])
        XCTAssertEqual(byName["stepped"]?.floats, [1, 3, 5].flatMap { i in [0, 3, 6, 9].map { g(i, $0) } })
        XCTAssertEqual(byName["transposed"]?.floats, (0..<10).flatMap { j in (0..<6).map { g($0, j) } })
        XCTAssertEqual(byName["offset_view"]?.floats, [2, 3].flatMap { i in (1..<5).map { g(i, $0) } })
        XCTAssertEqual(byName["scalar"]?.shape, [])
        XCTAssertEqual(byName["scalar"]?.floats, [g(5, 9)])
        XCTAssertEqual(byName["expanded"]?.floats, Array(repeating: (0..<4).map { g(0, $0) }, count: 3).flatMap { $0 })
    }

    func testCollectorPlainAndNested() throws {
        let collector = try TorchFixtures.read("collector.pt")
        XCTAssertEqual(collector.map(\.name), ["embeddings"])
        try assertMatches(collector, "collector")

        let plain = try TorchFixtures.read("plain.pt")
        XCTAssertEqual(plain.map(\.name), [""])
        XCTAssertEqual(plain[0].tensor.dtype, .float64)
        try assertMatches(plain, "plain")

        let nested = try TorchFixtures.read("nested.pt")
        XCTAssertEqual(nested.map(\.name), ["a.b", "a.c.0", "a.c.1", "tup.0", "again", "7"])
        try assertMatches(nested, "nested")
    }

    func testPickledModuleIsReadWithoutRunningItsClasses() throws {
        // Protocol 2 and protocol 4 pickles; the non-persistent buffer "scratch" is left out like state_dict().
        for name in ["module.pt", "module_p4.pt"] {
            let tensors = try TorchFixtures.read(name)
            XCTAssertEqual(
                tensors.map(\.name),
                [
                    "encoder", "steps", "vision_decoder.weight", "vision_decoder.bias",
                    "text_decoder.weight", "text_decoder.bias",
                ], name)
            try assertMatches(tensors, "module")
        }
        let root = try TorchFormat.readObject(TorchFixtures.data("module.pt"), path: "module.pt")
        guard case .object(let module) = root else { return XCTFail("expected an opaque module, got \(root)") }
        XCTAssertEqual(module.className, "__main__.TinyVLSAE")
    }

    func testObjectTree() throws {
        let root = try TorchFormat.readObject(TorchFixtures.data("collector.pt"), path: "collector.pt")
        guard case .list(let texts)? = root["texts"] else { return XCTFail("texts missing") }
        XCTAssertEqual(texts.items.map(\.string), ["a cat", "two dogs", "a red car", "", "sky"])
        guard case .tensor(let t)? = root["embeddings"] else { return XCTFail("embeddings missing") }
        XCTAssertEqual(t.shape, [5, 8])

        let sd = try TorchFormat.readObject(TorchFixtures.data("vlsae_state_dict.pth"), path: "sd.pth")
        guard case .dict(let d) = sd else { return XCTFail("expected a dict") }
        XCTAssertTrue(d.ordered)
    }

    func testScalarAndContainerOpcodesAtProtocols2To5() throws {
        for p in [2, 4, 5] {
            let root = try TorchFormat.unpickle(TorchFixtures.data("values_p\(p).pkl"), path: "p\(p)")
            guard case .dict(let d) = root else { return XCTFail("p\(p): not a dict") }
            XCTAssertTrue(d.ordered)
            XCTAssertEqual(
                d.entries.compactMap { $0.key.string }, ["ints", "floats", "flags", "text", "raw", "nested"])
            guard case .list(let ints)? = root["ints"] else { return XCTFail("p\(p): ints") }
            let small: [Int64] = [0, 1, -2, 255, 256, 65535, 65536, -(1 << 31), 1 << 31, -(1 << 40), Int64.max]
            XCTAssertEqual(
                ints.items.prefix(11).map { v -> Int64? in
                    if case .int(let i) = v { return i }
                    return nil
                }, small)
            guard case .largeInt(let big) = ints.items[11] else { return XCTFail("p\(p): 2**70") }
            XCTAssertEqual([UInt8](big), [0, 0, 0, 0, 0, 0, 0, 0, 0x40], "2**70 little-endian")
            guard case .tuple(let floats)? = root["floats"] else { return XCTFail("p\(p): floats") }
            let fs = floats.items.map { v -> Double? in
                if case .float(let f) = v { return f }
                return nil
            }
            XCTAssertEqual(fs, [1.5, -0.0, 1e300])
            XCTAssertEqual(fs[1]?.sign, .minus)
            guard case .list(let flags)? = root["flags"] else { return XCTFail("p\(p): flags") }
            XCTAssertEqual(flags.items.count, 3)
            if case .bool(true) = flags.items[0], case .bool(false) = flags.items[1], case .none = flags.items[2] {
            } else {
                XCTFail("p\(p): flags \(flags.items)")
            }
            XCTAssertEqual(root["text"]?.string, "h\u{e9}llo \u{2713}")
            switch root["raw"] {
            case .bytes(let b)?: XCTAssertEqual([UInt8](b), [0, 1, 0x78, 0x79])
            case .object(let o)?:
                XCTAssertEqual(p, 2)
                XCTAssertEqual(o.className, "_codecs.encode")
            default: XCTFail("p\(p): raw")
            }
            guard case .dict(let nested)? = root["nested"], case .list(let k)? = nested.value(forKey: "k") else {
                return XCTFail("p\(p): nested")
            }
            XCTAssertEqual(k.items.count, 1)
            XCTAssertEqual(nested.entries.last?.value.string, "three")
            if case .int(3)? = nested.entries.last?.key {} else { XCTFail("p\(p): int key") }
        }
    }
}
