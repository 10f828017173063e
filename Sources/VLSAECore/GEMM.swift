import CKernels
import Dispatch

/// Deterministic dense products: the same bits on every CPU, kernel path (`KernelPath`) and thread count.
///
/// **Arithmetic contract.** C (m × n) = op(A) (m × k) · op(B) (k × n), row-major, op = identity or
/// transpose. Every output element is one fused multiply-add chain over p = 0, 1, …, k − 1 in ascending
/// order:
///
///     acc = 0                      (or acc = C[i, j] when accumulating)
///     acc = fma(a[i, p], b[p, j], acc)   for p = 0 ..< k       (Float.addingProduct: one rounding)
///     C[i, j] = alpha · acc        when not accumulating and alpha ≠ 1 (one rounded multiply), else acc
///
/// Kernels vectorise across output columns (one lane per output element), never across k, and block
/// over m, n and k only in ways that keep each chain intact (a partial sum stored and reloaded as a
/// Float is exact). Hence a row of C depends only on its row of op(A) and on op(B): not on the path, not
/// on the other rows it is computed with, not on chunking or threads. Work is split over `threads`
/// workers (`DispatchQueue.concurrentPerform`) in contiguous blocks: of columns when C is wide enough (each
/// worker then packs only its own part of B), else of rows; with a `PackedMatrix`, of rows.
///
/// **Level 1.** `dot(n, x, y)`: sixteen partial chains, lane l = fma(x[i], y[i], lane l) over the i ≡ l
/// (mod 16) in ascending order from 0, then s[l] = s[l] + s[l + w] for w = 8, 4, 2, 1 (l < w), giving
/// s[0]. `axpy`: y[i] = fma(a, x[i], y[i]). `scale`: x[i] = x[i] · a.
public enum GEMM {
    /// op(A) · op(B), scaled by alpha (one rounded multiply of each finished chain when alpha ≠ 1).
    public static func matmul(
        _ a: Matrix, _ b: Matrix, transA: Bool = false, transB: Bool = false, alpha: Float = 1,
        threads: Int = 1
    ) -> Matrix {
        let m = transA ? a.cols : a.rows
        let n = transB ? b.rows : b.cols
        var c = Matrix(rows: m, cols: n)
        product(a, b, into: &c, transA: transA, transB: transB, alpha: alpha, accumulate: false, threads: threads)
        return c
    }

    /// C ← op(A) · op(B), or C ← C + op(A) · op(B) with every chain starting from the element of C when
    /// `accumulate` is set.
    public static func gemm(
        _ a: Matrix, _ b: Matrix, into c: inout Matrix, transA: Bool = false, transB: Bool = false,
        accumulate: Bool = false, threads: Int = 1
    ) {
        product(a, b, into: &c, transA: transA, transB: transB, alpha: 1, accumulate: accumulate, threads: threads)
    }

    private static func product(
        _ a: Matrix, _ b: Matrix, into c: inout Matrix, transA: Bool, transB: Bool,
        alpha: Float, accumulate: Bool, threads: Int
    ) {
        let m = transA ? a.cols : a.rows
        let k = transA ? a.rows : a.cols
        let kb = transB ? b.cols : b.rows
        let n = transB ? b.rows : b.cols
        precondition(k == kb, "matmul inner dimensions \(k) and \(kb) differ")
        precondition(c.rows == m && c.cols == n, "gemm: C is \(c.rows)×\(c.cols), the product \(m)×\(n)")
        guard m > 0, n > 0 else { return }
        let ldc = c.cols
        a.values.withUnsafeBufferPointer { pa in
            b.values.withUnsafeBufferPointer { pb in
                c.values.withUnsafeMutableBufferPointer { pc in
                    let c0 = pc.baseAddress!
                    // One worker's share: rows [r0, r1) × columns [j0, j1), B panels packed as they are used.
                    let run = { (r0: Int, r1: Int, j0: Int, j1: Int) in
                        // k = 0 (A and B empty): the kernel writes alpha · 0 and reads nothing.
                        let a0 = pa.baseAddress.map { transA ? $0 + r0 : $0 + r0 * a.cols }
                        let b0 = pb.baseAddress.map { transB ? $0 + j0 * b.cols : $0 + j0 }
                        let status = vlsae_gemm(
                            transA ? 1 : 0, transB ? 1 : 0, Int64(r1 - r0), Int64(j1 - j0), Int64(k),
                            alpha, a0, Int64(a.cols), b0, Int64(b.cols), accumulate ? 1 : 0,
                            c0 + r0 * ldc + j0, Int64(ldc))
                        precondition(status == 0, "gemm: out of memory")
                    }
                    let workers = k == 0 ? 1 : max(1, threads)
                    if workers == 1 {
                        run(0, m, 0, n)
                    } else if n >= 64 * workers {
                        // Columns in whole 32-wide panels: each worker packs only its own part of B.
                        DispatchQueue.concurrentPerform(iterations: workers) { i in
                            run(0, m, n * i / workers / 32 * 32, i == workers - 1 ? n : n * (i + 1) / workers / 32 * 32)
                        }
                    } else {
                        let blocks = blockCount(rows: m, threads: workers)
                        DispatchQueue.concurrentPerform(iterations: blocks) { i in
                            run(m * i / blocks, m * (i + 1) / blocks, 0, n)
                        }
                    }
                }
            }
        }
    }

    /// Contiguous row blocks for `threads` workers: at least 16 rows each.
    static func blockCount(rows: Int, threads: Int) -> Int { max(1, min(max(1, threads), (rows + 15) / 16)) }

    // MARK: level 1

    /// Σ x[i]·y[i] in the fixed association of the contract (sixteen fused chains, then a fixed tree).
    public static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        vlsae_dot(Int64(n), x, y)
    }

    /// Σ x[i]·y[i] over two equally long arrays (a precondition), in the same fixed association as `dot(_:_:_:)`; 0 for
    /// empty arrays.
    public static func dot(_ x: [Float], _ y: [Float]) -> Float {
        precondition(x.count == y.count, "dot: lengths \(x.count) and \(y.count) differ")
        return x.withUnsafeBufferPointer { px in
            y.withUnsafeBufferPointer { py in
                guard let bx = px.baseAddress, let by = py.baseAddress else { return 0 }
                return vlsae_dot(Int64(x.count), bx, by)
            }
        }
    }

    /// y[i] ← fma(a, x[i], y[i]).
    public static func axpy(_ n: Int, _ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        vlsae_axpy(Int64(n), a, x, y)
    }

    /// x[i] ← x[i] · a.
    public static func scale(_ n: Int, _ a: Float, _ x: UnsafeMutablePointer<Float>) {
        vlsae_scale(Int64(n), a, x)
    }
}

/// op(B) packed once into the column panels of one kernel path, for many products with it (an encoder
/// weight multiplied by every chunk of rows, a zero-shot classifier by every block of images).
///
/// The packed layout belongs to the path that was active when it was packed (`path`); products with it
/// always run on that path, so the layout can never be read by another path's kernels. Results are the
/// same bits as `GEMM.matmul` (see the contract there). Immutable once packed: concurrent products
/// with one pack are safe.
public struct PackedMatrix: @unchecked Sendable {
    final class Storage {
        let pointer: OpaquePointer
        init(_ pointer: OpaquePointer) { self.pointer = pointer }
        deinit { vlsae_packed_b_free(pointer) }
    }

    let storage: Storage
    /// k: the rows of op(B), the length of every chain.
    public let rows: Int
    /// n: the columns of op(B) and of every product.
    public let cols: Int

    /// Packs op(B) = `b` (k × n), or its transpose when `transposed` (b is n × k; e.g. a weight W whose
    /// rows are output units, multiplied as x · Wᵀ), for the active kernel path; panels are shared out over
    /// `threads` workers.
    public init(_ b: Matrix, transposed: Bool = false, threads: Int = 1) {
        let (k, n) = transposed ? (b.cols, b.rows) : (b.rows, b.cols)
        // An empty matrix packs to an empty pack without reading its (nil) base address.
        storage = b.values.withUnsafeBufferPointer { pb in
            Self.pack(pointer: pb.baseAddress, rows: k, cols: n, ld: b.cols, transposed: transposed, threads: threads)
        }
        rows = k
        cols = n
    }

    /// Packs op(B) (k × n) from a raw row-major buffer with leading dimension `ld`: B is k × n, or n × k
    /// when `transposed`.
    public init(pointer: UnsafePointer<Float>, rows k: Int, cols n: Int, ld: Int, transposed: Bool, threads: Int = 1) {
        storage = Self.pack(pointer: pointer, rows: k, cols: n, ld: ld, transposed: transposed, threads: threads)
        rows = k
        cols = n
    }

    private static func pack(
        pointer: UnsafePointer<Float>?, rows k: Int, cols n: Int, ld: Int, transposed: Bool,
        threads: Int
    ) -> Storage {
        precondition(k >= 0 && n >= 0, "negative matrix shape")
        guard let p = vlsae_packed_b_create(vlsae_path_active(), Int64(k), Int64(n)) else {
            preconditionFailure("PackedMatrix: out of memory packing \(k)×\(n)")
        }
        let storage = Storage(p)
        let panels = Int(vlsae_packed_b_panels(p))
        let workers = max(1, min(threads, panels / 16))
        let trans: Int32 = transposed ? 1 : 0
        if workers == 1 {
            vlsae_packed_b_fill(p, trans, pointer, Int64(ld), 0, Int64(panels))
        } else {
            DispatchQueue.concurrentPerform(iterations: workers) { i in
                let first = panels * i / workers
                let end = panels * (i + 1) / workers
                vlsae_packed_b_fill(p, trans, pointer, Int64(ld), Int64(first), Int64(end - first))
            }
        }
        return storage
    }

    /// The kernel path the layout was packed for (and every product with it runs on).
    public var path: KernelPath { KernelPath(code: vlsae_packed_b_path(storage.pointer)) ?? .portable }

    /// Bytes of packed panels held.
    public var bytes: Int { Int(vlsae_packed_b_bytes(storage.pointer)) }

    /// C (m × cols, leading dimension ldc) = op(A) · op(B) by the contract, op(A) m × rows: A is m × rows
    /// with leading dimension lda, or rows × m when `transA` (nil only when rows is 0). `accumulate`: every
    /// chain starts from the element of C (alpha must then be 1). Rows of C are split over `threads`
    /// workers; single-threaded calls on disjoint rows from several threads are safe too. The hot-loop
    /// entry point.
    public func multiply(
        _ a: UnsafePointer<Float>?, rows m: Int, lda: Int, transA: Bool = false,
        into c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, accumulate: Bool = false,
        threads: Int = 1
    ) {
        precondition(!accumulate || alpha == 1, "PackedMatrix.multiply: accumulate needs alpha 1")
        guard m > 0, cols > 0 else { return }
        let blocks = GEMM.blockCount(rows: m, threads: threads)
        let pk = storage.pointer
        let run = { (start: Int, end: Int) in
            let a0 = a.map { transA ? $0 + start : $0 + start * lda }
            let status = withExtendedLifetime(storage) {
                vlsae_gemm_packed(
                    transA ? 1 : 0, Int64(end - start), a0, Int64(lda), pk, alpha, accumulate ? 1 : 0,
                    c + start * ldc, Int64(ldc))
            }
            precondition(status == 0, "gemm: out of memory")
        }
        if blocks == 1 {
            run(0, m)
        } else {
            DispatchQueue.concurrentPerform(iterations: blocks) { b in run(m * b / blocks, m * (b + 1) / blocks) }
        }
    }

    /// op(A) · op(B) for a matrix A (m × rows, or rows × m when `transA`), scaled by alpha.
    public func multiply(_ a: Matrix, transA: Bool = false, alpha: Float = 1, threads: Int = 1) -> Matrix {
        let m = transA ? a.cols : a.rows
        let k = transA ? a.rows : a.cols
        precondition(k == rows, "PackedMatrix.multiply: A has \(k) inner columns, the pack \(rows) rows")
        var c = Matrix(rows: m, cols: cols)
        guard m > 0, cols > 0 else { return c }
        a.values.withUnsafeBufferPointer { pa in
            c.values.withUnsafeMutableBufferPointer { pc in
                multiply(
                    pa.baseAddress, rows: m, lda: a.cols, transA: transA, into: pc.baseAddress!, ldc: cols,
                    alpha: alpha, threads: threads)
            }
        }
        return c
    }
}
