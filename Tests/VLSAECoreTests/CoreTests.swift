import CKernels
import Foundation
import VLSAECore
import VLSAETestSupport
import XCTest

final class BLASTests: XCTestCase {
    /// The product in double, one rounding per element at the end: the independent reference.
    private func naive(_ a: Matrix, _ b: Matrix, transA: Bool, transB: Bool) -> [Double] {
        GEMMTests.elementwise(
            a, b, transA: transA, transB: transB, initial: { _, _ in 0.0 }, step: { $0 + Double($1) * Double($2) })
    }

    func testMatmulAllTransposeCombinationsAgreeWithNaiveProduct() {
        var rng = SeededRandom(seed: 7)
        func random(_ r: Int, _ c: Int) -> Matrix {
            Matrix(rows: r, cols: c, values: (0..<(r * c)).map { _ in Float(rng.nextGaussian()) })
        }
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = ta ? random(13, 9) : random(9, 13)
            let b = tb ? random(5, 13) : random(13, 5)
            let c = GEMM.matmul(a, b, transA: ta, transB: tb)
            XCTAssertEqual(c.rows, 9)
            XCTAssertEqual(c.cols, 5)
            for (x, y) in zip(c.values, naive(a, b, transA: ta, transB: tb)) {
                XCTAssertEqual(Double(x), y, accuracy: 1e-4 * max(1, abs(y)))
            }
        }
    }

    func testGemmAccumulatesIntoC() {
        let a = Matrix([[1, 2], [3, 4]])
        let b = Matrix([[5, 6], [7, 8]])
        var c = Matrix([[1, 1], [1, 1]])
        GEMM.gemm(a, b, into: &c, accumulate: true)
        XCTAssertEqual(c.values, [20, 23, 44, 51])
        GEMM.gemm(a, b, into: &c)
        XCTAssertEqual(c.values, [19, 22, 43, 50])
    }
}

final class MatrixTests: XCTestCase {
    func testNormalizedRowsHaveUnitNormAndZeroRowsStayZero() {
        let m = Matrix([[3, 4], [0, 0], [1e-20, 0]]).normalizedRows()
        XCTAssertEqual(m.values[0], 0.6, accuracy: 1e-7)
        XCTAssertEqual(m.values[1], 0.8, accuracy: 1e-7)
        XCTAssertEqual(Array(m.row(1)), [0, 0])
        XCTAssertEqual(m.values[4], 1, accuracy: 1e-6)
    }

    func testGatherTransposeAndNonFiniteRow() {
        var m = Matrix([[1, 2, 3], [4, 5, 6]])
        XCTAssertEqual(m.gatherRows([1, 0, 1]).values, [4, 5, 6, 1, 2, 3, 4, 5, 6])
        XCTAssertEqual(m.transposed.values, [1, 4, 2, 5, 3, 6])
        XCTAssertNil(m.firstNonFiniteRow())
        m[1, 2] = .nan
        XCTAssertEqual(m.firstNonFiniteRow(), 1)
    }
}

final class RandomTests: XCTestCase {
    func testSameSeedSameStreamDifferentSeedDifferentStream() {
        var a = SeededRandom(seed: 42)
        var b = SeededRandom(seed: 42)
        var c = SeededRandom(seed: 43)
        let xa = (0..<8).map { _ in a.next() }
        let xb = (0..<8).map { _ in b.next() }
        let xc = (0..<8).map { _ in c.next() }
        XCTAssertEqual(xa, xb)
        XCTAssertNotEqual(xa, xc)
    }

    func testUniformIntegersAreUnbiasedAndInRange() {
        var r = SeededRandom(seed: 1)
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<60_000 { counts[r.nextInt(below: 6)] += 1 }
        // Each cell expects 10 000 with sd ≈ 91; 5 sd is a generous bound.
        for c in counts { XCTAssertEqual(Double(c), 10_000, accuracy: 460) }
    }

    func testGaussianMomentsAndPermutation() {
        var r = SeededRandom(seed: 3)
        let xs = (0..<40_000).map { _ in r.nextGaussian() }
        let mean = xs.reduce(0, +) / Double(xs.count)
        let variance = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)
        XCTAssertEqual(mean, 0, accuracy: 0.02)
        XCTAssertEqual(variance, 1, accuracy: 0.03)
        let p = r.permutation(100)
        XCTAssertEqual(p.sorted(), Array(0..<100))
        XCTAssertNotEqual(p, Array(0..<100))
    }
}

final class FileTests: XCTestCase {
    func testAtomicWriteReplacesAndLeavesNoTemporaryFiles() throws {
        let dir = try temporaryFolder("core")
        let path = dir.path("sub/out.json")
        try AtomicFile.write("first", to: path)
        try AtomicFile.write("second", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "second")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path("sub")), ["out.json"])
    }

    func testReadFileNamesMissingFile() {
        XCTAssertThrowsError(try readFile("/nonexistent/x.npy")) { error in
            XCTAssertEqual("\(error)", "/nonexistent/x.npy: no such file")
        }
    }

    func testSHA256KnownVectors() throws {
        // FIPS 180-4 examples.
        XCTAssertEqual(SHA256.hex(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            SHA256.hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // One million "a" (FIPS 180-2 appendix B.3), fed in uneven pieces across block boundaries.
        var h = SHA256()
        let a = [UInt8](repeating: 0x61, count: 1_000_000)
        var offset = 0
        for size in [1, 63, 64, 65, 127, 1000, 4096, 200_000] + [Int](repeating: 100_000, count: 8) {
            let end = min(a.count, offset + size)
            h.update(a[offset..<end])
            offset = end
        }
        h.update(a[offset...])
        XCTAssertEqual(
            h.finalize().map { String(format: "%02x", $0) }.joined(),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testSHA256BlockPathsAgree() throws {
        // Every kernel path this CPU runs (SHA extensions on avx2/avx512 where present, C on portable)
        // against the portable compression, over random blocks.
        var rng = SeededRandom(seed: 11)
        let data = (0..<(64 * 257)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let initial: [UInt32] = [
            0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
        ]
        for blocks in [1, 2, 3, 17, 257] {
            var portable = initial
            try KernelPath.with(.portable) {
                XCTAssertEqual(vlsae_sha256_uses_extensions(), 0)
                vlsae_sha256_blocks(&portable, data, Int64(blocks))
            }
            for path in KernelPath.supported {
                var state = initial
                let ext = try KernelPath.with(path) { () -> Int32 in
                    vlsae_sha256_blocks(&state, data, Int64(blocks))
                    return vlsae_sha256_uses_extensions()
                }
                XCTAssertEqual(state, portable, "\(blocks) block(s), path \(path), extensions used: \(ext)")
            }
        }
    }
}
