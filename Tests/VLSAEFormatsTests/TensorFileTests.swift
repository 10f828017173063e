import Foundation
import VLSAECore
import VLSAEFormats
import VLSAETestSupport
import XCTest

final class TensorFileTests: XCTestCase {
    func testAddressParsing() throws {
        XCTAssertEqual(try TensorAddress(parsing: "x.npz:arr_0"), TensorAddress(path: "x.npz", key: "arr_0"))
        XCTAssertEqual(
            try TensorAddress(parsing: "w.safetensors:image_embeddings"),
            TensorAddress(path: "w.safetensors", key: "image_embeddings"))
        XCTAssertEqual(try TensorAddress(parsing: "features.npy[0]"), TensorAddress(path: "features.npy", index: 0))
        XCTAssertEqual(
            try TensorAddress(parsing: "ckpt.pth:vision_decoder.weight"),
            TensorAddress(path: "ckpt.pth", key: "vision_decoder.weight"))
        XCTAssertEqual(
            try TensorAddress(parsing: "ckpt.pth:vision_decoder.weight[3]"),
            TensorAddress(path: "ckpt.pth", key: "vision_decoder.weight", index: 3))
        XCTAssertEqual(
            try TensorAddress(parsing: "/data/run.npy.d/f.npz:a"),
            TensorAddress(path: "/data/run.npy.d/f.npz", key: "a"))
        XCTAssertEqual(try TensorAddress(parsing: "plain.npy"), TensorAddress(path: "plain.npy"))
        XCTAssertEqual(try TensorAddress(parsing: "x.npz:arr_0[12]").description, "x.npz:arr_0[12]")
        for bad in ["features.npy[-1]", "features.npy[x]", "features.npy[]", "x.npz:", ""] {
            XCTAssertThrowsError(try TensorAddress(parsing: bad), bad) { error in
                guard case VLSAEError.usage = error else { return XCTFail("\(bad): \(error)") }
            }
        }
    }

    func testLoadEndToEnd() throws {
        let e = Fixtures.expected.files
        let npy = try TensorFile.load(Fixtures.path("cube.npy"))
        assertTensor(npy, matches: e["cube.npy"]!.arrays[0], "cube.npy")

        let member = try TensorFile.load(Fixtures.path("compressed.npz") + ":labels")
        assertTensor(member, matches: e["compressed.npz"]!.arrays[2], "labels")

        let st = try TensorFile.load(Fixtures.path("mixed.safetensors") + ":image_embeddings")
        assertTensor(
            st, matches: e["mixed.safetensors"]!.arrays.first { $0.name == "image_embeddings" }!, "image_embeddings")

        // [i] slices the first axis: row 1 of the (2, 3, 4) cube is elements 12..<24.
        let row = try TensorFile.load(Fixtures.path("cube.npy") + "[1]")
        XCTAssertEqual(row.shape, [3, 4])
        XCTAssertEqual(row.floats.map(\.bitPattern), Array(e["cube.npy"]!.arrays[0].f32bits![12..<24]))
        let textRow = try TensorFile.load(Fixtures.path("compressed.npz") + ":text_embeddings[2]")
        XCTAssertEqual(textRow.floats.map(\.bitPattern), Array(e["compressed.npz"]!.arrays[1].f32bits![8..<12]))
    }

    /// `shape(_:)` reads only a `.npy` header; its answer is the shape numpy wrote, for every format and slice.
    func testShapeWithoutLoading() throws {
        let e = Fixtures.expected.files
        XCTAssertEqual(
            try TensorFile.shape(TensorAddress(parsing: Fixtures.path("cube.npy"))), e["cube.npy"]!.arrays[0].shape)
        XCTAssertEqual(try TensorFile.shape(TensorAddress(parsing: Fixtures.path("cube.npy") + "[1]")), [3, 4])
        XCTAssertThrowsError(try TensorFile.shape(TensorAddress(parsing: Fixtures.path("cube.npy") + "[2]"))) {
            XCTAssertTrue("\($0)".contains("index [2] is out of range for first axis of length 2"), "\($0)")
        }
        for address in [
            "compressed.npz:labels", "compressed.npz:text_embeddings[2]", "mixed.safetensors:image_embeddings",
        ] {
            let a = try TensorAddress(parsing: Fixtures.path(address))
            XCTAssertEqual(try TensorFile.shape(a), try TensorFile.load(a).shape, address)
        }
    }

    func testLoadErrorsNameFileAndChoices() throws {
        let npz = Fixtures.path("compressed.npz")
        let msg = assertFileError(try TensorFile.load(npz + ":missing"), path: npz, ["no array named \"missing\""])
        for name in ["image_embeddings", "text_embeddings", "labels"] {
            XCTAssertTrue(msg?.contains(name) ?? false, "error lists \(name)")
        }
        assertFileError(try TensorFile.load(npz), path: npz, ["holds 3 arrays", "image_embeddings"])
        assertFileError(try TensorFile.load(Fixtures.path("cube.npy") + "[2]"), path: "cube.npy[2]", ["out of range"])
        assertFileError(
            try TensorFile.load(Fixtures.path("scalar.npy") + "[0]"), path: "scalar.npy[0]", ["0-dimensional"])
        assertFileError(
            try TensorFile.load(Fixtures.path("nothing-here.npy")), path: "nothing-here.npy", ["no such file"])
        assertFileError(try TensorFile.load(Fixtures.path("bigendian.npy")), path: "bigendian.npy", [">f4"])
    }

    func testFormatSniffingForUnknownExtensions() throws {
        let dir = try temporaryFolder("tensorfile").path
        for (source, format) in [("f32.npy", TensorFile.Format.npy), ("plain.npz", .npz), ("small.pt", .torch)] {
            let copy = dir + "/" + source + ".data"
            try Fixtures.data(source).write(to: URL(fileURLWithPath: copy))
            XCTAssertEqual(try TensorFile.format(of: copy, data: Fixtures.data(source)), format, source)
        }
        XCTAssertEqual(try TensorFile.readAll(path: dir + "/plain.npz.data").map(\.name), ["arr_0", "arr_1"])
        assertFileError(
            try TensorFile.format(of: "x.weird", data: Data("hello".utf8)), path: "x.weird", ["unknown file type"])
    }

    func testInspect() throws {
        for name in ["compressed.npz", "mixed.safetensors", "f16.npy"] {
            let e = Fixtures.expected.files[name]!
            let (sha, arrays) = try TensorFile.inspect(path: Fixtures.path(name))
            XCTAssertEqual(sha, e.sha256, "\(name): SHA-256 agrees with hashlib")
            XCTAssertEqual(arrays.map(\.name), e.arrays.map(\.name))
            XCTAssertEqual(arrays.map(\.shape), e.arrays.map(\.shape))
            XCTAssertEqual(arrays.map(\.dtype.rawValue), e.arrays.map(\.dtype))
        }
    }

    /// The real CLIP features the project ships beside the repository: shape, SHA-256, chosen
    /// values, the float64 sum and row norms all agree with numpy.
    func testRealCoco500Features() throws {
        let c = Fixtures.expected.coco500
        let path = try SharedData.coco500Features()
        guard let sha = c.sha256, let shape = c.shape, let picks = c.picks, let bits = c.pick_bits,
            let sum = c.sum_f64, let norms = c.row1_norms_first3
        else {
            throw XCTSkip("expected.json was generated without the coco500 file")
        }
        let (digest, arrays) = try TensorFile.inspect(path: path)
        XCTAssertEqual(digest, sha)
        XCTAssertEqual(arrays, [ArrayInfo(name: "", shape: shape, dtype: .float32)])
        let all = try TensorFile.load(path)
        let f = all.floats
        for (p, b) in zip(picks, bits) {
            XCTAssertEqual(f[(p[0] * shape[1] + p[1]) * shape[2] + p[2]].bitPattern, b, "element \(p)")
        }
        XCTAssertEqual(f.reduce(0.0) { $0 + Double($1) }, sum, accuracy: 1e-6, "float64 sum (summation order only)")
        let captions = try TensorFile.load(path + "[1]")
        XCTAssertEqual(captions.shape, [500, 512])
        for r in 0..<3 {
            let row = captions.floats[(r * 512)..<((r + 1) * 512)]
            XCTAssertEqual(row.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot(), norms[r], accuracy: 1e-9)
        }
    }

    /// The digests every result records, against hashlib.
    func testSHA256AgainstHashlib() throws {
        let e = Fixtures.expected.sha256
        XCTAssertEqual(SHA256.hex(Data()), e["empty"])
        XCTAssertEqual(SHA256.hex(Data("abc".utf8)), e["abc"])
        XCTAssertEqual(SHA256.hex(Data(repeating: UInt8(ascii: "a"), count: 1000)), e["a_x_1000"])
        let pattern = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        XCTAssertEqual(SHA256.hex(pattern), e["pattern_1MiB"])
        // Streaming in uneven pieces gives the same digest.
        var h = SHA256()
        var offset = 0
        for size in [1, 63, 64, 65, 1000, 100_000] {
            h.update(pattern[offset..<(offset + size)])
            offset += size
        }
        h.update(pattern[offset...])
        XCTAssertEqual(h.finalize().map { String(format: "%02x", $0) }.joined(), e["pattern_1MiB"])
        // And from a file.
        let dir = try temporaryFolder("tensorfile").path
        try pattern.write(to: URL(fileURLWithPath: dir + "/p.bin"))
        XCTAssertEqual(try SHA256.hex(fileAt: dir + "/p.bin"), e["pattern_1MiB"])
        XCTAssertEqual(e["abc"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
