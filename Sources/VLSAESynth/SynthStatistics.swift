import Foundation
import VLSAECore

/// The geometry of a paired embedding set, in the terms used to describe real CLIP features
/// (Liang et al., "Mind the Gap", NeurIPS 2022). Rows are L2-normalised before measuring.
public struct SynthStatistics: Codable, Equatable, Sendable {
    /// N, the number of pairs measured.
    public var pairs: Int
    /// Mean cosine of row i of images with row i of texts.
    public var matchedCosine: Double
    /// Mean cosine over all i ≠ j image–text pairs.
    public var unmatchedCosine: Double
    /// Mean cosine over i ≠ j within each modality.
    public var imageImageCosine: Double
    /// Mean cosine over i ≠ j among the texts (`imageImageCosine` is the same for images).
    public var textTextCosine: Double
    /// ‖mean(images) − mean(texts)‖.
    public var modalityGap: Double
    /// exp(entropy of the normalised eigenvalues of the centred covariance), i.e. of the
    /// squared singular values of the centred embeddings.
    public var imageEffectiveRank: Double
    /// The same effective rank for the texts.
    public var textEffectiveRank: Double
    /// Image→text top-1 retrieval among the first `retrievalPool` pairs.
    public var imageToTextR1: Double
    /// Pairs in the retrieval pool: min(N, the requested pool).
    public var retrievalPool: Int

    /// Real CLIP ViT-B/32 on 500 MSCOCO pairs (shared/data/coco500-clip/README.md).
    public static let clipTargets = SynthStatistics(
        pairs: 500, matchedCosine: 0.310, unmatchedCosine: 0.162, imageImageCosine: 0.531, textTextCosine: 0.515,
        modalityGap: 0.851, imageEffectiveRank: 104.6, textEffectiveRank: 96.9, imageToTextR1: 0.552, retrievalPool: 500
    )

    /// Tolerances the synthetic defaults are held to.
    public static let tolerance = (matched: 0.03, unmatched: 0.03, within: 0.05, gap: 0.08, rank: 70.0...140.0)

    /// The statistics that are off their CLIP target by more than the tolerance (empty: all fine).
    public func outsideTolerance() -> [String] {
        let t = SynthStatistics.clipTargets
        let tol = SynthStatistics.tolerance
        var bad: [String] = []
        func check(_ name: String, _ v: Double, _ target: Double, _ eps: Double) {
            if !(abs(v - target) <= eps) {
                bad.append(String(format: "%@ %.3f (target %.3f ± %.3f)", name, v, target, eps))
            }
        }
        check("matched cosine", matchedCosine, t.matchedCosine, tol.matched)
        check("unmatched cosine", unmatchedCosine, t.unmatchedCosine, tol.unmatched)
        check("image-image cosine", imageImageCosine, 0.52, tol.within)
        check("text-text cosine", textTextCosine, 0.52, tol.within)
        check("modality gap", modalityGap, t.modalityGap, tol.gap)
        for (name, r) in [("image effective rank", imageEffectiveRank), ("text effective rank", textEffectiveRank)]
        where !tol.rank.contains(r) {
            bad.append(String(format: "%@ %.1f (target %.0f–%.0f)", name, r, tol.rank.lowerBound, tol.rank.upperBound))
        }
        return bad
    }

    /// Measures paired N × d sets, row i of `images` with row i of `texts`; throws `VLSAEError.mismatch` for unpaired
    /// shapes, fewer than 2 pairs or a non-finite row. The image→text retrieval uses only the first `retrievalPool`
    /// pairs, since it needs a pool × pool similarity matrix.
    public static func measure(images: Matrix, texts: Matrix, retrievalPool: Int = 500) throws -> SynthStatistics {
        guard images.rows == texts.rows, images.cols == texts.cols else {
            throw VLSAEError.mismatch(
                "statistics need paired rows: images \(images.rows)×\(images.cols), texts \(texts.rows)×\(texts.cols)")
        }
        let n = images.rows
        let d = images.cols
        guard n >= 2, d >= 1 else { throw VLSAEError.mismatch("statistics need at least 2 pairs (got \(n))") }
        if let r = images.firstNonFiniteRow() { throw VLSAEError.mismatch("image row \(r) is not finite") }
        if let r = texts.firstNonFiniteRow() { throw VLSAEError.mismatch("text row \(r) is not finite") }
        let x = images.normalizedRows()
        let y = texts.normalizedRows()

        // Off-diagonal means follow from column sums: Σ_{i≠j} a_i·b_j = (Σa)·(Σb) − Σ a_i·b_i,
        // so no n×n similarity matrix is needed for them.
        var sx = [Double](repeating: 0, count: d)
        var sy = sx
        var diag = 0.0
        var selfX = 0.0
        var selfY = 0.0
        x.values.withUnsafeBufferPointer { xb in
            y.values.withUnsafeBufferPointer { yb in
                for i in 0..<n {
                    var dot = 0.0
                    var nx = 0.0
                    var ny = 0.0
                    for j in 0..<d {
                        let a = Double(xb[i * d + j])
                        let b = Double(yb[i * d + j])
                        sx[j] += a
                        sy[j] += b
                        dot += a * b
                        nx += a * a
                        ny += b * b
                    }
                    diag += dot
                    selfX += nx
                    selfY += ny
                }
            }
        }
        var sxy = 0.0
        var sxx = 0.0
        var syy = 0.0
        var gap2 = 0.0
        for j in 0..<d {
            sxy += sx[j] * sy[j]
            sxx += sx[j] * sx[j]
            syy += sy[j] * sy[j]
            let g = (sx[j] - sy[j]) / Double(n)
            gap2 += g * g
        }
        let off = Double(n) * Double(n - 1)

        let pool = min(max(retrievalPool, 1), n)
        let sims = GEMM.matmul(x.rows(0..<pool), y.rows(0..<pool), transB: true)
        var hits = 0
        for i in 0..<pool {
            var best = 0
            for j in 1..<pool where sims[i, j] > sims[i, best] { best = j }
            if best == i { hits += 1 }
        }

        return SynthStatistics(
            pairs: n, matchedCosine: diag / Double(n), unmatchedCosine: (sxy - diag) / off,
            imageImageCosine: (sxx - selfX) / off, textTextCosine: (syy - selfY) / off,
            modalityGap: gap2.squareRoot(),
            imageEffectiveRank: try effectiveRank(x), textEffectiveRank: try effectiveRank(y),
            imageToTextR1: Double(hits) / Double(pool), retrievalPool: pool)
    }

    /// exp(H(p)) with p the eigenvalues of X_cᵀX_c normalised to sum 1 (X_c = column-centred X).
    public static func effectiveRank(_ x: Matrix) throws -> Double {
        let n = x.rows
        let d = x.cols
        var mean = [Double](repeating: 0, count: d)
        var centred = x
        centred.values.withUnsafeMutableBufferPointer { b in
            for i in 0..<n { for j in 0..<d { mean[j] += Double(b[i * d + j]) } }
            for j in 0..<d { mean[j] /= Double(n) }
            for i in 0..<n { for j in 0..<d { b[i * d + j] = Float(Double(b[i * d + j]) - mean[j]) } }
        }
        let cov = GEMM.matmul(centred, centred, transA: true)
        let eig = try SymmetricEigen.eigenvalues(cov.values.map(Double.init), n: d)
        return entropyRank(eig)
    }

    /// exp of the Shannon entropy of the (clipped non-negative) spectrum normalised to sum 1.
    public static func entropyRank(_ eigenvalues: [Double]) -> Double {
        let pos = eigenvalues.map { max($0, 0) }
        let total = pos.reduce(0, +)
        guard total > 0 else { return 0 }
        var h = 0.0
        for v in pos where v > 0 {
            let p = v / total
            h -= p * PortableMath.log(p)
        }
        return PortableMath.exp(h)
    }
}

/// Eigenvalues of a real symmetric matrix: Householder reduction to tridiagonal form followed by
/// the implicit QL algorithm with Wilkinson-style shifts. Double precision throughout, every sum in a
/// fixed order and no library call, so the eigenvalues (and the statistics in `suite.json`) are the
/// same bits on every CPU.
public enum SymmetricEigen {
    /// Eigenvalues in ascending order of the symmetric `n`×`n` row-major matrix `a` (only the
    /// upper triangle is read).
    public static func eigenvalues(_ a: [Double], n: Int) throws -> [Double] {
        precondition(a.count == n * n, "eigenvalues: \(a.count) values for \(n)×\(n)")
        if n == 0 { return [] }
        if n == 1 { return [a[0]] }
        var m = a
        var diag = [Double](repeating: 0, count: n)
        var off = [Double](repeating: 0, count: n)
        var v = [Double](repeating: 0, count: n)
        var p = v
        var w = v
        m.withUnsafeMutableBufferPointer { mb in
            let A = mb.baseAddress!
            for k in 0..<(n - 2) {
                diag[k] = A[k * n + k]
                let len = n - k - 1
                var norm2 = 0.0
                for j in (k + 1)..<n { norm2 += A[k * n + j] * A[k * n + j] }
                let norm = norm2.squareRoot()
                if norm == 0 {
                    off[k] = 0
                    continue
                }
                let x0 = A[k * n + k + 1]
                let alpha = x0 > 0 ? -norm : norm
                for j in (k + 1)..<n { v[j] = A[k * n + j] }
                v[k + 1] -= alpha
                var vn2 = 0.0
                for j in (k + 1)..<n { vn2 += v[j] * v[j] }
                off[k] = alpha
                let inv = 1 / vn2.squareRoot()
                for j in (k + 1)..<n { v[j] *= inv }
                let sub = A + (k + 1) * n + (k + 1)
                v.withUnsafeMutableBufferPointer { vb in
                    p.withUnsafeMutableBufferPointer { pb in
                        w.withUnsafeMutableBufferPointer { wb in
                            let vv = vb.baseAddress! + k + 1
                            let pp = pb.baseAddress! + k + 1
                            let ww = wb.baseAddress! + k + 1
                            // The trailing block is kept whole (both triangles, exactly symmetric: the update
                            // of (i, j) and (j, i) adds the same two products), so p = A v reads rows.
                            for i in 0..<len {
                                let row = sub + i * n
                                var s = 0.0
                                for j in 0..<len { s += row[j] * vv[j] }
                                pp[i] = s
                            }
                            var kk = 0.0
                            for j in 0..<len { kk += vv[j] * pp[j] }
                            // H A H = A − v wᵀ − w vᵀ with w = 2p − 2(vᵀp)v, H = I − 2vvᵀ.
                            for j in 0..<len { ww[j] = 2 * pp[j] - 2 * kk * vv[j] }
                            for i in 0..<len {
                                let row = sub + i * n
                                let vi = vv[i]
                                let wi = ww[i]
                                for j in 0..<len { row[j] -= vi * ww[j] + wi * vv[j] }
                            }
                        }
                    }
                }
            }
            diag[n - 2] = A[(n - 2) * n + n - 2]
            diag[n - 1] = A[(n - 1) * n + n - 1]
            off[n - 2] = A[(n - 2) * n + n - 1]
            off[n - 1] = 0
        }
        try tridiagonalQL(&diag, &off)
        return diag.sorted()
    }

    /// Implicit QL on a symmetric tridiagonal matrix: `d` the diagonal, `e[i]` the coupling of
    /// i and i+1 (e[n−1] ignored). On return `d` holds the eigenvalues (unordered).
    static func tridiagonalQL(_ d: inout [Double], _ e: inout [Double]) throws {
        let n = d.count
        if n > 0 { e[n - 1] = 0 }
        for l in 0..<n {
            var iterations = 0
            while true {
                var m = l
                while m < n - 1 {
                    let dd = abs(d[m]) + abs(d[m + 1])
                    if abs(e[m]) <= Double.ulpOfOne * dd { break }
                    m += 1
                }
                if m == l { break }
                iterations += 1
                if iterations > 200 {
                    throw VLSAEError.mismatch("eigenvalue iteration did not converge (QL, row \(l))")
                }
                var g = (d[l + 1] - d[l]) / (2 * e[l])
                var r = PortableMath.hypot(g, 1)
                g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r))
                var s = 1.0
                var c = 1.0
                var pp = 0.0
                var i = m - 1
                var deflated = false
                while i >= l {
                    let f = s * e[i]
                    let b = c * e[i]
                    r = PortableMath.hypot(f, g)
                    e[i + 1] = r
                    if r == 0 {
                        d[i + 1] -= pp
                        e[m] = 0
                        deflated = true
                        break
                    }
                    s = f / r
                    c = g / r
                    g = d[i + 1] - pp
                    r = (d[i] - g) * s + 2 * c * b
                    pp = s * r
                    d[i + 1] = g + pp
                    g = c * r - b
                    i -= 1
                }
                if deflated { continue }
                d[l] -= pp
                e[l] = g
                e[m] = 0
            }
        }
    }
}
