import Foundation
import VLSAECore
import VLSAEFormats
import VLSAETestSupport
import XCTest

final class SafetensorsTests: XCTestCase {
    /// A safetensors file from a header text and a data section.
    private func file(_ header: String, _ body: [UInt8]) -> Data {
        var out = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: Array(header.utf8))
        out.append(contentsOf: body)
        return out
    }

    func testReadsLibraryFilesExactlyInFileOrder() throws {
        for name in ["mixed.safetensors", "bf16.safetensors"] {
            let e = Fixtures.expected.files[name]!
            let (tensors, metadata) = try SafetensorsFormat.read(Fixtures.data(name), path: name)
            XCTAssertEqual(tensors.map(\.name), e.arrays.map(\.name), "\(name): data-offset order")
            for (t, x) in zip(tensors, e.arrays) { assertTensor(t.tensor, matches: x, "\(name):\(x.name)") }
            XCTAssertEqual(metadata, e.metadata ?? [:])
        }
    }

    func testRejectsMalformedHeaders() throws {
        let eight = [UInt8](repeating: 0, count: 8)
        let cases: [(String, [UInt8], [String])] = [
            (
                #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                [UInt8](repeating: 0, count: 12), ["overlap", "\"a\"", "\"b\""]
            ),
            (#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, eight, ["run past the end", "\"a\""]),
            (#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, eight, ["begin must be ≤ end"]),
            (#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, eight, ["needs 12 bytes", "span 8"]),
            (#"{"a":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}"#, eight, ["unsupported dtype F8_E4M3"]),
            (#"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, eight, ["unsupported dtype C64"]),
            (#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, eight, ["invalid shape"]),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#, eight, ["[begin, end]"]),
            (#"{"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#, eight, ["entry \"a\""]),
            (#"{"a":{"dtype":"F32","data_offsets":[0,8]}}"#, eight, ["entry \"a\""]),
            (
                #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"n":1}}"#, eight,
                ["__metadata__"]
            ),
            (#"{not json}"#, eight, ["not valid JSON"]),
            (#"[1, 2]"#, eight, ["not a JSON object"]),
            (
                #"{"a":{"dtype":"F32","shape":[1048576,1048576,1048576,1048576],"data_offsets":[0,8]}}"#, eight,
                ["invalid shape"]
            ),
            (#"{"a":{"dtype":"F32","shape":[2305843009213693952],"data_offsets":[0,8]}}"#, eight, ["too many"]),
        ]
        for (header, body, words) in cases {
            assertFileError(
                try SafetensorsFormat.read(file(header, body), path: "bad.safetensors"),
                path: "bad.safetensors", words)
        }
        assertFileError(
            try SafetensorsFormat.read(Data([1, 2, 3]), path: "t.safetensors"), path: "t.safetensors", ["truncated"])
        var long = try Fixtures.data("mixed.safetensors")
        long.replaceSubrange(0..<8, with: [0, 0, 0, 0, 0, 0, 1, 0])
        assertFileError(
            try SafetensorsFormat.read(long, path: "l.safetensors"), path: "l.safetensors", ["header length"])
    }

    func testZeroSizeTensorsAndHolesAreFine() throws {
        let header =
            #"{"e":{"dtype":"F32","shape":[0,3],"data_offsets":[4,4]},"x":{"dtype":"I32","shape":[1],"data_offsets":[4,8]}}"#
        let (t, _) = try SafetensorsFormat.read(file(header, [9, 9, 9, 9, 0xFE, 0xFF, 0xFF, 0xFF]), path: "z")
        XCTAssertEqual(t.map(\.name), ["e", "x"])
        XCTAssertEqual(t[0].tensor.shape, [0, 3])
        XCTAssertEqual(t[1].tensor.storage, .integer([-2]))
    }

    func testEveryTruncationAndCorruptionIsSafe() throws {
        let good = try Fixtures.data("mixed.safetensors")
        for n in 0..<good.count {
            XCTAssertThrowsError(try SafetensorsFormat.read(good.prefix(n), path: "m"), "cut at \(n)")
        }
        var rng = SeededRandom(seed: 5)
        for _ in 0..<400 {
            var bad = good
            bad[rng.nextInt(below: bad.count)] = UInt8(truncatingIfNeeded: rng.next())
            do { _ = try SafetensorsFormat.read(bad, path: "m") } catch let e as VLSAEError {
                guard case .file("m", _) = e else { return XCTFail("\(e)") }
            }
        }
    }

    /// The writer's bytes follow the format spec exactly: sorted names, data in that order,
    /// F32/I64, "__metadata__" first, header space-padded to a multiple of 8.
    func testEncodeIsDeterministicAndSpecShaped() throws {
        let a = NamedTensor(name: "b_ints", tensor: Tensor(shape: [2], dtype: .int64, storage: .integer([-1, 5])))
        let b = NamedTensor(name: "a\"q", tensor: Tensor(shape: [1, 1], floats: [1.5]))
        let bytes = try SafetensorsFormat.encode([a, b], metadata: ["z": "1", "k": "v/w"])
        XCTAssertEqual(bytes, try SafetensorsFormat.encode([b, a], metadata: ["k": "v/w", "z": "1"]))
        let header =
            #"{"__metadata__":{"k":"v/w","z":"1"},"a\"q":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"b_ints":{"dtype":"I64","shape":[2],"data_offsets":[4,20]}}"#
        let padded = header + String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        var expected = Data()
        withUnsafeBytes(of: UInt64(padded.utf8.count).littleEndian) { expected.append(contentsOf: $0) }
        expected.append(contentsOf: Array(padded.utf8))
        expected.append(contentsOf: [0x00, 0x00, 0xC0, 0x3F])  // 1.5f
        expected.append(contentsOf: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 5, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(bytes, expected)
        XCTAssertThrowsError(try SafetensorsFormat.encode([a, a], metadata: [:]))
    }

    func testWriteReadRoundTrip() throws {
        let dir = try temporaryFolder("safetensors").path
        let (original, _) = try SafetensorsFormat.read(Fixtures.data("mixed.safetensors"), path: "mixed")
        let path = dir + "/out.safetensors"
        try SafetensorsFormat.write(original, metadata: ["seed": "3"], to: path)
        let (back, meta) = try SafetensorsFormat.read(Data(contentsOf: URL(fileURLWithPath: path)), path: path)
        XCTAssertEqual(meta, ["seed": "3"])
        XCTAssertEqual(back.map(\.name), original.map(\.name).sorted())
        for t in back {
            let o = original.first { $0.name == t.name }!.tensor
            XCTAssertEqual(t.tensor.shape, o.shape)
            XCTAssertEqual(t.tensor.floats.map(\.bitPattern), o.floats.map(\.bitPattern), t.name)
            if case .integer = o.storage {
                XCTAssertEqual(t.tensor.dtype, .int64)
            } else {
                XCTAssertEqual(t.tensor.dtype, .float32)
            }
        }
        // No temporary file is left beside the result.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.safetensors"])
    }
}
