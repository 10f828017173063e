import Foundation
import VLSAECore
import VLSAEFormats
import XCTest

final class ZipNpzTests: XCTestCase {
    /// Members, methods, sizes, CRCs and contents agree with Python's zipfile/hashlib, for a plain
    /// zip with a tricky comment, a hand-built all-zip64 archive, and a torch.save file.
    func testZipMembersMatchPython() throws {
        XCTAssertEqual(Set(Fixtures.expected.zips.keys), ["mixed.zip", "zip64.zip", "small.pt"])
        for (name, members) in Fixtures.expected.zips {
            let archive = try ZipArchive(data: Fixtures.data(name), path: name)
            XCTAssertEqual(archive.entries.map(\.name), members.map(\.name), name)
            for (entry, m) in zip(archive.entries, members) {
                XCTAssertEqual(Int(entry.method), m.method, "\(name):\(m.name) method")
                XCTAssertEqual(entry.uncompressedSize, m.size, "\(name):\(m.name) size")
                XCTAssertEqual(entry.crc32, m.crc32, "\(name):\(m.name) crc")
                let bytes = try archive.extract(entry)
                XCTAssertEqual(bytes.count, m.size)
                XCTAssertEqual(SHA256.hex(bytes), m.sha256, "\(name):\(m.name) contents")
            }
        }
    }

    /// Junk after the archive comment is tolerated (as Python's zipfile does); the fake
    /// end-of-central-directory signature inside mixed.zip's comment is not mistaken for the real one.
    func testTrailingJunkAfterComment() throws {
        let good = try Fixtures.data("mixed.zip")
        let zip = try ZipArchive(data: good + Data("trailing junk".utf8), path: "j.zip")
        XCTAssertEqual(zip.entries.map(\.name), ["stored.txt", "dir/deflated.bin", "empty"])
        XCTAssertEqual(SHA256.hex(try zip.extract(zip.entries[1])), Fixtures.expected.zips["mixed.zip"]![1].sha256)
    }

    func testZipCRCMismatchIsReported() throws {
        // Flip one byte inside the stored member's data: only the CRC can notice.
        let good = try Fixtures.data("mixed.zip")
        let bad = replacing("line 7 of", with: "line 8 of", in: good)
        let zip = try ZipArchive(data: bad, path: "bad.zip")
        assertFileError(try zip.extract(zip.entries[0]), path: "bad.zip", ["CRC-32 mismatch", "stored.txt"])
        // The deflated member is intact.
        XCTAssertNoThrow(try zip.extract(zip.entries[1]))
    }

    func testTruncatedZipIsReported() throws {
        let good = try Fixtures.data("compressed.npz")
        assertFileError(
            try ZipArchive(data: good.prefix(good.count - 10), path: "cut.npz"), path: "cut.npz",
            ["truncated", "end-of-central-directory"])
        assertFileError(try ZipArchive(data: Data(), path: "empty.zip"), path: "empty.zip", ["truncated"])
        assertFileError(
            try NpzFormat.read(good.prefix(good.count / 2), path: "half.npz"), path: "half.npz", ["truncated"])
    }

    func testUnsupportedMethodAndEncryption() throws {
        let good = try Fixtures.data("mixed.zip")
        let zip = try ZipArchive(data: good, path: "m.zip")
        let e = zip.entries[1]
        // Patch the central-directory method (offset 10 in the record) of the deflated member to bzip2 (12).
        var bzip = good
        let cd = centralRecordOffset(named: "dir/deflated.bin", in: good)
        bzip[cd + 10] = 12
        let z2 = try ZipArchive(data: bzip, path: "bz.zip")
        assertFileError(try z2.extract(z2.entries[1]), path: "bz.zip", ["method 12", "bzip2"])
        var enc = good
        enc[cd + 8] |= 1
        let z3 = try ZipArchive(data: enc, path: "enc.zip")
        assertFileError(try z3.extract(z3.entries[1]), path: "enc.zip", ["encrypted"])
        XCTAssertEqual(e.method, 8)
    }

    func testCorruptCentralDirectoryOffsets() throws {
        let good = try Fixtures.data("mixed.zip")
        let cd = centralRecordOffset(named: "dir/deflated.bin", in: good)
        // Local header offset far past the end.
        var far = good
        far.replaceSubrange((cd + 42)..<(cd + 46), with: [0xF0, 0xFF, 0xFF, 0x7F])
        assertFileError(try ZipArchive(data: far, path: "far.zip"), path: "far.zip", ["local header offset"])
        // Compressed size larger than the file.
        var big = good
        big.replaceSubrange((cd + 20)..<(cd + 24), with: [0x00, 0x00, 0x10, 0x00])
        assertFileError(try ZipArchive(data: big, path: "big.zip"), path: "big.zip", ["compressed size"])
        // Declared uncompressed size smaller than the real one.
        var short = good
        short.replaceSubrange((cd + 24)..<(cd + 28), with: [0x10, 0x00, 0x00, 0x00])
        let z = try ZipArchive(data: short, path: "short.zip")
        assertFileError(try z.extract(z.entries[1]), path: "short.zip", ["more than its declared 16 bytes"])
    }

    func testEveryTruncationAndCorruptionIsSafe() throws {
        for name in ["compressed.npz", "zip64.zip"] {
            let good = try Fixtures.data(name)
            for n in 0..<good.count {
                XCTAssertThrowsError(try readAllMembers(good.prefix(n), path: name), "\(name) cut at \(n)")
            }
        }
        var rng = SeededRandom(seed: 11)
        for name in ["compressed.npz", "plain.npz", "zip64.zip"] {
            let good = try Fixtures.data(name)
            for _ in 0..<300 {
                var bad = good
                bad[rng.nextInt(below: bad.count)] ^= UInt8(1 + rng.nextInt(below: 255))
                do { try readAllMembers(bad, path: name) } catch let e as VLSAEError {
                    guard case .file(let p, _) = e else { return XCTFail("\(e)") }
                    XCTAssertTrue(p.hasPrefix(name))
                }
            }
        }
    }

    func testNpzSavezAndSavezCompressed() throws {
        for name in ["plain.npz", "compressed.npz"] {
            let e = Fixtures.expected.files[name]!
            let arrays = try NpzFormat.read(Fixtures.data(name), path: name)
            XCTAssertEqual(arrays.map(\.name), e.arrays.map(\.name), "archive order")
            for (a, x) in zip(arrays, e.arrays) { assertTensor(a.tensor, matches: x, "\(name):\(x.name)") }
        }
        let methods = try ZipArchive(data: Fixtures.data("compressed.npz"), path: "c").entries.map(\.method)
        XCTAssertEqual(methods, [8, 8, 8], "savez_compressed deflates every member")
    }

    func testNpzMemberErrorsNameTheMember() throws {
        let good = try Fixtures.data("plain.npz")
        // plain.npz is stored, so its header text is visible; make arr_1's dtype unsupported and fix the CRC.
        var bad = replacing("'<i8'", with: "'>i8'", in: good)
        // Recompute the member's CRC so the zip layer passes and the .npy layer must object.
        let entry = try ZipArchive(data: good, path: "p").entry(named: "arr_1.npy")!
        let h = entry.localHeaderOffset
        let start = h + 30 + Int(bad[h + 26]) + Int(bad[h + 27]) << 8 + Int(bad[h + 28]) + Int(bad[h + 29]) << 8
        let crc = ZipArchive.crc32(bad.subdata(in: start..<(start + entry.compressedSize)))
        let crcBytes = withUnsafeBytes(of: crc.littleEndian) { Array($0) }
        bad.replaceSubrange((h + 14)..<(h + 18), with: crcBytes)
        let cd = centralRecordOffset(named: "arr_1.npy", in: bad)
        bad.replaceSubrange((cd + 16)..<(cd + 20), with: crcBytes)
        assertFileError(try NpzFormat.read(bad, path: "p.npz"), path: "p.npz:arr_1.npy", ["'>i8'", "big-endian"])
    }

    private func readAllMembers(_ data: Data, path: String) throws {
        let zip = try ZipArchive(data: data, path: path)
        for e in zip.entries {
            let bytes = try zip.extract(e)
            if e.name.hasSuffix(".npy") { _ = try NpyFormat.read(bytes, path: path + ":" + e.name) }
        }
    }

    private func centralRecordOffset(named name: String, in data: Data) -> Int {
        let bytes = [UInt8](data)
        let sig: [UInt8] = [0x50, 0x4B, 0x01, 0x02]
        let n = Array(name.utf8)
        for i in 0..<(bytes.count - 46) where Array(bytes[i..<(i + 4)]) == sig {
            if Array(bytes[(i + 46)..<min(bytes.count, i + 46 + n.count)]) == n { return i }
        }
        XCTFail("no central record for \(name)")
        return 0
    }
}
