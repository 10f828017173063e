import CKernels
import Foundation
import VLSAECore
import VLSAEFormats
import VLSAETestSupport
import XCTest

final class NpyTests: XCTestCase {
    /// Every .npy fixture numpy wrote reads back bit-exactly (half subnormals, ±inf, NaN, -0,
    /// int64 extremes, bool, scalar, 3-D, empty, versions 1.0/2.0/3.0, a hand-typed header).
    func testReadsEveryNumpyFixtureExactly() throws {
        let npys = Fixtures.expected.files.filter { $0.key.hasSuffix(".npy") }
        XCTAssertGreaterThanOrEqual(npys.count, 15)
        for (name, e) in npys.sorted(by: { $0.key < $1.key }) {
            let tensor = try NpyFormat.read(Fixtures.data(name), path: name)
            assertTensor(tensor, matches: e.arrays[0], name)
        }
    }

    func testHalfConversionCoversSubnormalsAndSpecials() throws {
        let t = try NpyFormat.read(Fixtures.data("f16.npy"), path: "f16.npy")
        let v = t.floats
        XCTAssertEqual(v[0].bitPattern, 0)
        XCTAssertEqual(v[1].bitPattern, 0x8000_0000, "-0 keeps its sign")
        XCTAssertEqual(v[4], 65504)
        XCTAssertEqual(v[6], .infinity)
        XCTAssertEqual(v[7], -.infinity)
        XCTAssertTrue(v[8].isNaN)
        XCTAssertEqual(v[10], Float(sign: .plus, exponent: -24, significand: 1), "smallest subnormal is 2^-24")
        XCTAssertEqual(v[11], -3 * Float(sign: .plus, exponent: -24, significand: 1))
    }

    /// A .npy built in memory with every float16 bit pattern, repeated past the size at which
    /// the reader converts in parallel chunks; each value must equal Swift's own Float16 → Float.
    func testEveryHalfBitPatternSerialAndParallel() throws {
        let reference = (0...0xFFFF).map { Float(Float16(bitPattern: UInt16($0))) }
        for repeats in [1, 66] {  // 65536 elements (serial) and 4.3 M (parallel, > 4 Mi)
            let n = 65536 * repeats
            var header = "{'descr': '<f2', 'fortran_order': False, 'shape': (\(n),), }"
            header += String(repeating: " ", count: 64 - (10 + header.utf8.count + 1) % 64) + "\n"
            var file = Data(
                [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
            file.append(contentsOf: Array(header.utf8))
            var body = [UInt8](repeating: 0, count: 2 * n)
            for i in 0..<n {
                body[2 * i] = UInt8(i & 0xFF)
                body[2 * i + 1] = UInt8((i >> 8) & 0xFF)
            }
            file.append(contentsOf: body)
            let t = try NpyFormat.read(file, path: "all-halves.npy")
            XCTAssertEqual(t.shape, [n])
            guard case .float(let v) = t.storage else { return XCTFail("float storage expected") }
            var mismatches = 0
            for i in 0..<n {
                let want = reference[i & 0xFFFF]
                if !(v[i].bitPattern == want.bitPattern || (v[i].isNaN && want.isNaN)) { mismatches += 1 }
            }
            XCTAssertEqual(mismatches, 0, "\(repeats)× all patterns")
            // The lead's scalar HalfFloat agrees too (two independent conversions).
            if repeats == 1 {
                for i in 0..<65536 where !want(HalfFloat.float(fromHalf: UInt16(i)), equals: reference[i]) {
                    XCTFail("HalfFloat differs at 0x\(String(i, radix: 16))")
                }
            }
        }
    }

    private func want(_ a: Float, equals b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

    /// Every kernel path this CPU runs (F16C eight at a time, AVX-512 sixteen at a time, portable C) gives
    /// the same bits for every bit pattern at every position of a vector and of the tail, NaNs included
    /// (each comes back quiet with its sign and payload), from aligned and odd-byte-aligned sources.
    func testHalfConversionPathsAgree() throws {
        let n = 65536 + 21
        let bits = (0..<n).map { UInt16(truncatingIfNeeded: $0 * 7919) }  // every pattern, shuffled, plus a tail
        for start in [0, 1] {
            var bytes = [UInt8](repeating: 0, count: start + 2 * n)
            for (i, b) in bits.enumerated() {
                bytes[start + 2 * i] = UInt8(b & 0xFF)
                bytes[start + 2 * i + 1] = UInt8(b >> 8)
            }
            func convert(_ path: KernelPath, count: Int) throws -> [Float] {
                var out = [Float](repeating: 0, count: count)
                try KernelPath.with(path) {
                    bytes.withUnsafeBytes { raw in vlsae_half_to_float(raw.baseAddress! + start, &out, Int64(count)) }
                }
                return out
            }
            for count in [n, 1, 7, 8, 9, 15, 16, 17, 33] {
                let portable = try convert(.portable, count: count)
                for (i, f) in portable.enumerated() where !want(f, equals: HalfFloat.float(fromHalf: bits[i])) {
                    XCTFail("portable conversion differs from HalfFloat at 0x\(String(bits[i], radix: 16))")
                    break
                }
                for path in KernelPath.supported where path != .portable {
                    let out = try convert(path, count: count)
                    let mismatches = zip(out, portable).filter { $0.bitPattern != $1.bitPattern }.count
                    XCTAssertEqual(mismatches, 0, "source offset \(start), \(count) values, path \(path)")
                }
            }
        }
    }

    /// Data slices that do not start at index 0 (as from a container) read the same.
    func testReadsFromOffsetDataSlices() throws {
        let good = try Fixtures.data("cube.npy")
        let padded = Data([7, 7, 7]) + good + Data([9])
        let slice = padded[3..<(padded.count - 1)]
        XCTAssertEqual(try NpyFormat.read(slice, path: "s"), try NpyFormat.read(good, path: "g"))
        let zipBytes = try Fixtures.data("compressed.npz")
        let zpad = Data([1, 2]) + zipBytes
        XCTAssertEqual(try NpzFormat.read(zpad[2...], path: "z"), try NpzFormat.read(zipBytes, path: "z"))
        let st = try Fixtures.data("mixed.safetensors")
        let spad = Data([0]) + st
        XCTAssertEqual(
            try SafetensorsFormat.read(spad[1...], path: "t").tensors, try SafetensorsFormat.read(st, path: "t").tensors
        )
    }

    func testAllVersionsAgree() throws {
        let v1 = try NpyFormat.read(Fixtures.data("v1.npy"), path: "v1.npy")
        let v2 = try NpyFormat.read(Fixtures.data("v2.npy"), path: "v2.npy")
        let v3 = try NpyFormat.read(Fixtures.data("v3.npy"), path: "v3.npy")
        XCTAssertEqual(v1, v2)
        XCTAssertEqual(v1, v3)
        XCTAssertEqual(v1.shape, [3, 2])
    }

    func testScalarAndEmpty() throws {
        let s = try NpyFormat.read(Fixtures.data("scalar.npy"), path: "scalar.npy")
        XCTAssertEqual(s.shape, [])
        XCTAssertEqual(s.floats, [3.25])
        let e = try NpyFormat.read(Fixtures.data("empty.npy"), path: "empty.npy")
        XCTAssertEqual(e.shape, [0, 5])
        XCTAssertEqual(e.floats, [])
    }

    func testRejectsUnsupportedKindsByName() throws {
        XCTAssertEqual(
            Set(Fixtures.expected.rejects.keys),
            ["bigendian.npy", "complex.npy", "object.npy", "structured.npy", "unicode.npy"])
        for (name, word) in Fixtures.expected.rejects {
            assertFileError(try NpyFormat.read(Fixtures.data(name), path: name), path: name, [word])
        }
        assertFileError(
            try NpyFormat.read(Fixtures.data("bigendian.npy"), path: "b.npy"), path: "b.npy", ["big-endian"])
        // Fortran order is read (expected.json lists it among the arrays), no longer refused.
        XCTAssertEqual(try NpyFormat.read(Fixtures.data("fortran.npy"), path: "f.npy").floats, [0, 1, 2, 3, 4, 5])
    }

    func testTruncatedAndOverlongData() throws {
        let good = try Fixtures.data("f32.npy")  // (2, 3) float32 = 24 bytes of data
        assertFileError(
            try NpyFormat.read(good.dropLast(1), path: "t.npy"), path: "t.npy",
            ["truncated: expected 24 bytes of data", "found 23"])
        assertFileError(try NpyFormat.read(good + Data([0]), path: "t.npy"), path: "t.npy", ["found 25"])
    }

    func testMalformedHeaders() throws {
        let good = try Fixtures.data("f32.npy")
        var badMagic = good
        badMagic[1] = UInt8(ascii: "X")
        assertFileError(try NpyFormat.read(badMagic, path: "m.npy"), path: "m.npy", ["magic"])

        var longHeader = good
        longHeader[8] = 0xFF
        longHeader[9] = 0xFF
        assertFileError(try NpyFormat.read(longHeader, path: "h.npy"), path: "h.npy", ["header length 65535"])

        var version = good
        version[6] = 4
        assertFileError(try NpyFormat.read(version, path: "v.npy"), path: "v.npy", ["version 4.0"])

        // A shape that lies about the data is caught by the length check.
        let lying = replacing("(2, 3)", with: "(3, 3)", in: good)
        assertFileError(
            try NpyFormat.read(lying, path: "l.npy"), path: "l.npy", ["truncated: expected 36 bytes", "found 24"])

        // Replacements keep the header length by eating into numpy's space padding.
        let pad = String(repeating: " ", count: 30)
        let overflow = replacing(
            "(2, 3), }" + pad, with: "(2**62, 9), }".padding(toLength: 39, withPad: " ", startingAt: 0), in: good)
        assertFileError(try NpyFormat.read(overflow, path: "o.npy"), path: "o.npy", ["malformed"])
        let huge = replacing(
            "(2, 3), }" + pad, with: "(4611686018427387904, 4,)}".padding(toLength: 39, withPad: " ", startingAt: 0),
            in: good)
        assertFileError(try NpyFormat.read(huge, path: "o.npy"), path: "o.npy", ["too large"])
        let negative = replacing("(2, 3)", with: "(-2, 3)", in: good)
        assertFileError(try NpyFormat.read(negative, path: "n.npy"), path: "n.npy", ["-2"])
        let notBool = replacing("False", with: "Flase", in: good)
        assertFileError(try NpyFormat.read(notBool, path: "b.npy"), path: "b.npy", ["malformed"])
        let noDescr = replacing("'descr'", with: "'descx'", in: good)
        assertFileError(try NpyFormat.read(noDescr, path: "d.npy"), path: "d.npy", ["no 'descr'"])
        let parenthesised = replacing("(2, 3)", with: "(6)   ", in: good)
        assertFileError(try NpyFormat.read(parenthesised, path: "p.npy"), path: "p.npy", ["not a tuple"])
    }

    /// No prefix of a valid file may crash the reader or be accepted.
    func testEveryTruncationThrows() throws {
        for name in ["f16.npy", "v2.npy", "handheader.npy"] {
            let good = try Fixtures.data(name)
            for n in 0..<good.count {
                XCTAssertThrowsError(try NpyFormat.read(good.prefix(n), path: name), "\(name) cut at \(n)") { error in
                    guard case VLSAEError.file(let p, _) = error else { return XCTFail("\(error)") }
                    XCTAssertEqual(p, name)
                }
            }
        }
    }

    /// Single-byte corruption anywhere either still parses or throws VLSAEError; never crashes.
    func testRandomCorruptionNeverCrashes() throws {
        var rng = SeededRandom(seed: 7)
        for name in ["f16.npy", "i64.npy", "v3.npy"] {
            let good = try Fixtures.data(name)
            for _ in 0..<300 {
                var bad = good
                bad[rng.nextInt(below: bad.count)] = UInt8(truncatingIfNeeded: rng.next())
                do { _ = try NpyFormat.read(bad, path: name) } catch let e as VLSAEError {
                    guard case .file = e else { return XCTFail("\(e)") }
                }
            }
        }
    }

    /// Our writer lays the header out byte for byte as numpy's write_array(version=(1, 0)).
    func testEncodeMatchesNumpyBytes() throws {
        let numpyBytes = try Fixtures.data("v1.npy")
        let t = try NpyFormat.read(numpyBytes, path: "v1.npy")
        XCTAssertEqual(NpyFormat.encode(t), numpyBytes)
        // np.save of a 1-D float32 and a 0-D float32 as well.
        let scalarBytes = try Fixtures.data("scalar.npy")
        XCTAssertEqual(NpyFormat.encode(try NpyFormat.read(scalarBytes, path: "s")), scalarBytes)
        let i64Bytes = try Fixtures.data("i64.npy")
        XCTAssertEqual(NpyFormat.encode(try NpyFormat.read(i64Bytes, path: "i")), i64Bytes)
    }

    func testWriteRoundTripAndDataAlignment() throws {
        let dir = try temporaryFolder("npy").path
        let floats = Tensor(shape: [2, 2, 3], floats: (0..<12).map { Float($0) * 0.5 - 2 })
        let ints = Tensor(shape: [4], dtype: .int64, storage: .integer([Int64.min, -1, 0, Int64.max]))
        // Half input is written as float32 and keeps its values exactly.
        let half = try NpyFormat.read(Fixtures.data("f16.npy"), path: "f16.npy")
        for (i, t) in [floats, ints, half].enumerated() {
            let path = dir + "/t\(i).npy"
            try NpyFormat.write(t, to: path)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            XCTAssertEqual((10 + headerLength) % 64, 0, "data starts 64-byte aligned")
            XCTAssertEqual(bytes[10 + headerLength - 1], UInt8(ascii: "\n"))
            let back = try NpyFormat.read(bytes, path: path)
            XCTAssertEqual(back.shape, t.shape)
            switch (back.storage, t.storage) {
            case (.float(let a), .float(let b)): XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern))
            case (.integer(let a), .integer(let b)): XCTAssertEqual(a, b)
            default: XCTFail("storage kind changed")
            }
            if case .integer = t.storage {
                XCTAssertEqual(back.dtype, .int64)
            } else {
                XCTAssertEqual(back.dtype, .float32)
            }
        }
    }
}
