import CKernels
import Foundation
import VLSAECore
import XCTest

/// The deterministic GEMM and level-1 kernels against references written out here, one scalar operation
/// at a time, from the documented contract: each output element is one fused multiply-add chain in
/// ascending k (`Float.addingProduct` rounds once), then one multiply by alpha. The comparisons are of
/// bit patterns, on every kernel path this CPU runs.
final class GEMMTests: XCTestCase {
    override func tearDown() {
        // Tests switch the process-wide path; leave the one the environment chose.
        _ = vlsae_path_configure(getenv("VLSAE_ISA"))
        super.tearDown()
    }

    /// Values of mixed magnitude and sign (so that rounding differs with the order), some exact zeros.
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { i in
            if i % 23 == 5 { return 0 }
            return Float(rng.nextGaussian()) * Float([1, 0.001, 37, 1e-5][i % 4])
        }
    }

    static func matrix(_ rows: Int, _ cols: Int, seed: UInt64) -> Matrix {
        Matrix(rows: rows, cols: cols, values: values(rows * cols, seed: seed))
    }

    /// op(A)·op(B) element by element with k ascending: `initial(i, j)` seeds each element's accumulator and
    /// `step(acc, a, b)` adds one product, so one loop serves as the bit-exact contract (`reference`) and as a
    /// product in double (`BLASTests`).
    static func elementwise<T>(
        _ a: Matrix, _ b: Matrix, transA: Bool, transB: Bool, initial: (Int, Int) -> T, step: (T, Float, Float) -> T
    ) -> [T] {
        let m = transA ? a.cols : a.rows
        let k = transA ? a.rows : a.cols
        let n = transB ? b.rows : b.cols
        var out: [T] = []
        out.reserveCapacity(m * n)
        for i in 0..<m {
            for j in 0..<n {
                var acc = initial(i, j)
                for p in 0..<k {
                    let x = transA ? a.values[p * a.cols + i] : a.values[i * a.cols + p]
                    let y = transB ? b.values[j * b.cols + p] : b.values[p * b.cols + j]
                    acc = step(acc, x, y)
                }
                out.append(acc)
            }
        }
        return out
    }

    /// The contract, spelled out: acc = start; acc = fma(a(i, p), b(p, j), acc) for p ascending; then alpha · acc.
    static func reference(
        _ a: Matrix, _ b: Matrix, transA: Bool, transB: Bool, alpha: Float = 1,
        start: Matrix? = nil
    ) -> [Float] {
        let acc = elementwise(
            a, b, transA: transA, transB: transB,
            initial: { i, j in start.map { $0.values[i * $0.cols + j] } ?? 0 },
            step: { $0.addingProduct($1, $2) })
        return start == nil && alpha != 1 ? acc.map { alpha * $0 } : acc
    }

    static func operands(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, seed: UInt64) -> (Matrix, Matrix) {
        (
            transA ? matrix(k, m, seed: seed) : matrix(m, k, seed: seed),
            transB ? matrix(n, k, seed: seed + 1) : matrix(k, n, seed: seed + 1)
        )
    }

    func assertBits(
        _ got: [Float], _ want: [Float], _ message: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(got.count, want.count, message, file: file, line: line)
        guard got.count == want.count else { return }
        if let i = (0..<got.count).first(where: { got[$0].bitPattern != want[$0].bitPattern }) {
            let bad = (0..<got.count).filter { got[$0].bitPattern != want[$0].bitPattern }.count
            XCTFail(
                "\(message): \(bad) of \(got.count) differ, first at \(i): \(got[i]) vs \(want[i])", file: file,
                line: line)
        }
    }

    /// m, n, k: zero, one, odd, around the tile sizes (6 and 12 rows, 16 and 32 columns), beyond one
    /// row block (144) and one k pass (512).
    static let shapes: [(Int, Int, Int)] = [
        (0, 5, 3), (5, 0, 3), (5, 3, 0), (1, 1, 1), (1, 33, 7), (7, 1, 19), (13, 47, 29), (6, 16, 64), (12, 32, 513),
        (11, 31, 17), (25, 70, 1030), (150, 40, 24), (37, 100, 3), (2, 65, 2),
    ]

    func testMatchesTheFmaChainOnEveryPath() throws {
        for path in KernelPath.supported {
            try KernelPath.with(path) {
                for (si, (m, n, k)) in Self.shapes.enumerated() {
                    for (transA, transB) in [(false, false), (false, true), (true, false), (true, true)] {
                        let what = "path \(path), \(m)×\(n)×\(k), transA \(transA), transB \(transB)"
                        let (a, b) = Self.operands(
                            m: m, n: n, k: k, transA: transA, transB: transB, seed: UInt64(100 + si))
                        assertBits(
                            GEMM.matmul(a, b, transA: transA, transB: transB).values,
                            Self.reference(a, b, transA: transA, transB: transB), what)
                        assertBits(
                            GEMM.matmul(a, b, transA: transA, transB: transB, alpha: 0.37).values,
                            Self.reference(a, b, transA: transA, transB: transB, alpha: 0.37), what + ", alpha 0.37")
                        let start = Self.matrix(m, n, seed: UInt64(200 + si))
                        var c = start
                        GEMM.gemm(a, b, into: &c, transA: transA, transB: transB, accumulate: true)
                        assertBits(
                            c.values, Self.reference(a, b, transA: transA, transB: transB, start: start),
                            what + ", accumulate")
                        // Overwriting ignores what C held.
                        GEMM.gemm(a, b, into: &c, transA: transA, transB: transB)
                        assertBits(c.values, Self.reference(a, b, transA: transA, transB: transB), what + ", overwrite")
                    }
                }
            }
        }
    }

    /// More rows than one block of rows packed at once without a packed B (1020), and with one (144).
    func testManyRows() throws {
        let (a, b) = Self.operands(m: 1100, n: 35, k: 9, transA: false, transB: true, seed: 7)
        let want = Self.reference(a, b, transA: false, transB: true)
        for path in KernelPath.supported {
            try KernelPath.with(path) {
                assertBits(GEMM.matmul(a, b, transB: true).values, want, "path \(path), single call")
                assertBits(PackedMatrix(b, transposed: true).multiply(a).values, want, "path \(path), packed")
            }
        }
    }

    func testPackedMatrixMatchesTheContractAndKeepsItsPath() throws {
        let (a, b) = Self.operands(m: 29, n: 45, k: 70, transA: false, transB: true, seed: 9)
        let want = Self.reference(a, b, transA: false, transB: true, alpha: 100)
        for path in KernelPath.supported {
            let packed = try KernelPath.with(path) { PackedMatrix(b, transposed: true) }
            XCTAssertEqual(packed.path, path)
            XCTAssertEqual(packed.rows, 70)
            XCTAssertEqual(packed.cols, 45)
            // Used under every other active path, the pack still runs on its own layout's path.
            for active in KernelPath.supported {
                try KernelPath.with(active) {
                    assertBits(packed.multiply(a, alpha: 100).values, want, "packed for \(path), used under \(active)")
                }
            }
            // The raw entry point with transposed A and accumulation.
            let at = a.transposed
            let start = Self.matrix(29, 45, seed: 10)
            var c = start
            c.values.withUnsafeMutableBufferPointer { pc in
                at.values.withUnsafeBufferPointer { pa in
                    packed.multiply(
                        pa.baseAddress!, rows: 29, lda: at.cols, transA: true, into: pc.baseAddress!, ldc: 45,
                        accumulate: true)
                }
            }
            assertBits(
                c.values, Self.reference(at, b, transA: true, transB: true, start: start), "packed \(path), accumulate")
        }
        // An untransposed pack.
        let bt = b.transposed
        assertBits(
            PackedMatrix(bt).multiply(a).values, Self.reference(a, bt, transA: false, transB: false),
            "untransposed pack")
    }

    /// Narrow C (rows split over the workers) and wide C (columns split), every transpose combination.
    func testThreadCountsGiveIdenticalResults() throws {
        for (m, n, k) in [(301, 77, 130), (45, 1100, 60)] {
            for (transA, transB) in [(false, false), (false, true), (true, false), (true, true)] {
                let (a, b) = Self.operands(m: m, n: n, k: k, transA: transA, transB: transB, seed: 11)
                for path in KernelPath.supported {
                    try KernelPath.with(path) {
                        let what = "path \(path), \(m)×\(n)×\(k), transA \(transA), transB \(transB)"
                        let one = GEMM.matmul(a, b, transA: transA, transB: transB, alpha: 0.5)
                        for threads in [2, 3] {
                            assertBits(
                                GEMM.matmul(a, b, transA: transA, transB: transB, alpha: 0.5, threads: threads).values,
                                one.values, "\(what), \(threads) threads")
                            assertBits(
                                PackedMatrix(b, transposed: transB, threads: threads)
                                    .multiply(a, transA: transA, alpha: 0.5, threads: threads).values,
                                one.values, "\(what), packed, \(threads) threads")
                            var c = Self.matrix(m, n, seed: 12)
                            var c1 = c
                            GEMM.gemm(
                                a, b, into: &c, transA: transA, transB: transB, accumulate: true, threads: threads)
                            GEMM.gemm(a, b, into: &c1, transA: transA, transB: transB, accumulate: true)
                            assertBits(c.values, c1.values, "\(what), accumulate, \(threads) threads")
                        }
                    }
                }
            }
        }
    }

    /// A row computed alone, inside a 1000-row batch, and in chunks of several sizes is the same.
    func testARowDoesNotDependOnItsBatch() throws {
        let d = 96
        let h = 200
        let x = Self.matrix(1000, d, seed: 13)
        let w = Self.matrix(h, d, seed: 14)
        for path in KernelPath.supported {
            try KernelPath.with(path) {
                let whole = GEMM.matmul(x, w, transB: true)
                for r in [0, 1, 5, 499, 998, 999] {
                    let alone = GEMM.matmul(x.rows(r..<(r + 1)), w, transB: true)
                    assertBits(alone.values, Array(whole.row(r)), "path \(path), row \(r) alone")
                }
                let packed = PackedMatrix(w, transposed: true)
                for chunk in [1, 7, 144, 333, 1000] {
                    var out = [Float](repeating: .nan, count: 1000 * h)
                    x.values.withUnsafeBufferPointer { px in
                        out.withUnsafeMutableBufferPointer { po in
                            var start = 0
                            while start < 1000 {
                                let n = min(chunk, 1000 - start)
                                packed.multiply(
                                    px.baseAddress! + start * d, rows: n, lda: d, into: po.baseAddress! + start * h,
                                    ldc: h)
                                start += n
                            }
                        }
                    }
                    assertBits(out, whole.values, "path \(path), chunks of \(chunk)")
                }
            }
        }
    }

    /// Against a float64 product: the float32 chain is within a few ulps of the sum of |terms|.
    func testCloseToTheDoubleProduct() {
        let m = 40
        let n = 53
        let k = 300
        let a = Self.matrix(m, k, seed: 15)
        let b = Self.matrix(k, n, seed: 16)
        let c = GEMM.matmul(a, b)
        for i in 0..<m {
            for j in 0..<n {
                var exact = 0.0
                var magnitude = 0.0
                for p in 0..<k {
                    let t = Double(a.values[i * k + p]) * Double(b.values[p * n + j])
                    exact += t
                    magnitude += abs(t)
                }
                XCTAssertEqual(
                    Double(c.values[i * n + j]), exact, accuracy: Double(k) * 6e-8 * magnitude + 1e-30,
                    "(\(i), \(j))")
            }
        }
    }

    // MARK: level 1

    static func referenceDot(_ x: [Float], _ y: [Float]) -> Float {
        var s = [Float](repeating: 0, count: 16)
        for i in 0..<x.count { s[i % 16] = s[i % 16].addingProduct(x[i], y[i]) }
        for w in [8, 4, 2, 1] { for l in 0..<w { s[l] = s[l] + s[l + w] } }
        return s[0]
    }

    func testLevelOneKernelsOnEveryPath() throws {
        for n in [0, 1, 7, 8, 15, 16, 17, 31, 33, 100, 512, 1000] {
            let x = Self.values(n, seed: UInt64(300 + n))
            let y = Self.values(n, seed: UInt64(400 + n))
            let a: Float = -0.731
            let dot = Self.referenceDot(x, y)
            let axpy = (0..<n).map { y[$0].addingProduct(a, x[$0]) }
            let scaled = x.map { $0 * a }
            for path in KernelPath.supported {
                try KernelPath.with(path) {
                    XCTAssertEqual(GEMM.dot(x, y).bitPattern, dot.bitPattern, "dot, n \(n), path \(path)")
                    var yy = y
                    var xx = x
                    yy.withUnsafeMutableBufferPointer { py in
                        x.withUnsafeBufferPointer { px in
                            if let bx = px.baseAddress, let by = py.baseAddress { GEMM.axpy(n, a, bx, by) }
                        }
                    }
                    xx.withUnsafeMutableBufferPointer { px in if let b = px.baseAddress { GEMM.scale(n, a, b) } }
                    assertBits(yy, axpy, "axpy, n \(n), path \(path)")
                    assertBits(xx, scaled, "scale, n \(n), path \(path)")
                }
            }
        }
    }

    /// Partial sums that underflow to −0 must keep their sign through the tail of a dot product: a lane
    /// past the end is left alone (adding a +0 product would turn it into +0).
    func testDotKeepsNegativeZeroLanes() throws {
        let x = [Float](repeating: -1e-30, count: 19)
        let y = [Float](repeating: 1e-20, count: 19)
        let want = Self.referenceDot(x, y)  // every product rounds to −0, so every lane and the sum are −0
        XCTAssertEqual(want.bitPattern, (-0.0 as Float).bitPattern)
        for path in KernelPath.supported {
            try KernelPath.with(path) { XCTAssertEqual(GEMM.dot(x, y).bitPattern, want.bitPattern, "path \(path)") }
        }
    }

    // MARK: path selection

    func testPathSelection() throws {
        let supported = KernelPath.supported
        XCTAssertEqual(supported.first, .portable)
        XCTAssertTrue(supported.contains(KernelPath.best))
        XCTAssertEqual(KernelPath.best, supported.last)
        for path in supported {
            try KernelPath.use(path)
            XCTAssertEqual(KernelPath.active, path)
        }
        for path in KernelPath.allCases where !supported.contains(path) {
            let before = KernelPath.active
            XCTAssertThrowsError(try KernelPath.use(path))
            XCTAssertEqual(KernelPath.active, before, "an unsupported path changes nothing")
        }
        XCTAssertNil(vlsae_path_name(7))
        XCTAssertEqual(vlsae_path_set(7), -1)
    }

    /// VLSAE_ISA values as the start-up reads them: honoured, unknown, unsupported, unset.
    func testEnvironmentValues() {
        let best = KernelPath.best
        func configure(_ value: String?) -> KernelPath {
            let code = vlsae_path_configure(value)
            XCTAssertEqual(String(cString: vlsae_path_name(code)), KernelPath.active.rawValue)
            return KernelPath.active
        }
        XCTAssertEqual(configure("portable"), .portable)
        XCTAssertNil(KernelPath.environmentError())
        XCTAssertEqual(configure("AVX2"), KernelPath.supported.contains(.avx2) ? .avx2 : best, "case does not matter")

        XCTAssertEqual(configure("sse9"), best, "an unknown value falls back to the best path")
        let message = KernelPath.environmentError() ?? ""
        XCTAssertTrue(message.contains("VLSAE_ISA=sse9"), message)
        for path in KernelPath.supported { XCTAssertTrue(message.contains(path.rawValue), message) }

        for path in KernelPath.allCases where !KernelPath.supported.contains(path) {
            XCTAssertEqual(configure(path.rawValue), best)
            XCTAssertTrue(KernelPath.environmentError()?.contains("cannot run the \(path.rawValue) path") ?? false)
        }

        XCTAssertEqual(configure(nil), best)
        XCTAssertNil(KernelPath.environmentError())
        XCTAssertEqual(configure(""), best)
        XCTAssertNil(KernelPath.environmentError())
    }

    /// Concurrent calls on one path agree.
    func testConcurrentUse() {
        let x = Self.values(1000, seed: 20)
        let want = Self.referenceDot(x, x)
        var got = [UInt32](repeating: 0, count: 16)
        got.withUnsafeMutableBufferPointer { pg in
            let p = pg.baseAddress!
            DispatchQueue.concurrentPerform(iterations: 16) { i in p[i] = GEMM.dot(x, x).bitPattern }
        }
        XCTAssertEqual(Set(got), [want.bitPattern])
    }
}
