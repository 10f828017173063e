import Dispatch
import VLSAECore
import VLSAEData

/// Class vectors for zero-shot classification, built the CLIP_benchmark way: each template
/// embedding L2-normalised, averaged over templates, the average L2-normalised again.
public struct ZeroShotClassifier: Sendable, Equatable {
    /// C × d, unit rows (a zero vector stays zero).
    public let weights: Matrix

    /// C, the number of classes.
    public var numClasses: Int { weights.rows }
    /// d, the embedding dimension.
    public var dimension: Int { weights.cols }

    /// From class vectors that are already averaged over templates (C × d); rows are normalised.
    public init(classVectors: Matrix) {
        weights = classVectors.normalizedRows()
    }

    /// From per-template embeddings, (C·T) × d with row `c·T + t` = class c in template t.
    public init(templateEmbeddings: Matrix, classes: Int, templates: Int) {
        weights = ZeroShotClassifier.averageTemplates(templateEmbeddings, classes: classes, templates: templates)
    }

    /// The classifier of a dataset: templates averaged when it has per-template embeddings, its classifier rows
    /// normalised otherwise.
    public init(dataset: ZeroShotDataset) {
        switch dataset.classText {
        case .perTemplate(let m):
            self.init(templateEmbeddings: m, classes: dataset.numClasses, templates: dataset.numTemplates)
        case .averaged(let m):
            self.init(classVectors: m)
        }
    }

    /// normalise(mean_t normalise(e[c, t])) for every class; the mean is accumulated in double.
    /// Public so that variants (e.g. a transform applied per template before averaging) reuse it.
    public static func averageTemplates(_ embeddings: Matrix, classes: Int, templates: Int) -> Matrix {
        precondition(embeddings.rows == classes * templates, "expected \(classes)·\(templates) template rows")
        let unit = embeddings.normalizedRows()
        let d = embeddings.cols
        var out = Matrix(rows: classes, cols: d)
        var acc = [Double](repeating: 0, count: d)
        for c in 0..<classes {
            for j in 0..<d { acc[j] = 0 }
            for t in 0..<templates {
                let base = (c * templates + t) * d
                for j in 0..<d { acc[j] += Double(unit.values[base + j]) }
            }
            for j in 0..<d { out.values[c * d + j] = Float(acc[j] / Double(templates)) }
        }
        out.normalizeRows()
        return out
    }
}

/// Per-image outcome of a zero-shot scoring pass; the logits themselves are not kept.
///
/// `trueRank[i]` is the true class's position when the classes are sorted by logit, largest first,
/// ties broken by class index (lowest first): the number of classes whose logit is strictly
/// greater, plus the number of lower-indexed classes whose logit is equal. Image i is correct at k
/// exactly when `trueRank[i] < k`; a tie never favours the label. A NaN true logit ranks last
/// (`numClasses`). `top1[i]` is the true class when `trueRank[i] == 0`, otherwise the
/// lowest-indexed class with the largest logit, so top-1 predictions agree with top-1 correctness.
public struct Predictions: Sendable, Equatable {
    /// True class of each image, in [0, numClasses).
    public let labels: [Int]
    /// C, the number of classes scored.
    public let numClasses: Int
    /// Number of classes that beat the true class, per image (0 = correct at top-1).
    public let trueRank: [Int]
    /// Predicted class per image, consistent with `trueRank` (see the type's description).
    public let top1: [Int]
    /// Images counted wrong because of degenerate rows (`--degenerate count-wrong`; 0 otherwise).
    public internal(set) var countedWrong = 0

    /// Outcomes as given; the three arrays must have equal length.
    public init(labels: [Int], numClasses: Int, trueRank: [Int], top1: [Int]) {
        precondition(labels.count == trueRank.count && labels.count == top1.count)
        self.labels = labels
        self.numClasses = numClasses
        self.trueRank = trueRank
        self.top1 = top1
    }

    /// N, the number of images scored.
    public var count: Int { labels.count }

    /// Whether each image is correct within the top k (k ≥ 1).
    public func correct(topK k: Int) -> [Bool] { trueRank.map { $0 < k } }
}

/// Scores are what a scoring pass produces; the name the alignment work uses for them.
public typealias Scores = Predictions

/// Baseline zero-shot scoring: logits from image embeddings and a `ZeroShotClassifier`, ranked as CLIP_benchmark ranks
/// them.
public enum ZeroShot {
    /// CLIP_benchmark's fixed logit scale. It does not change rankings except through float32
    /// rounding, and is kept so that logits are the same numbers CLIP_benchmark would rank.
    public static let logitScale: Float = 100

    /// Images per block: 1024 × C floats of logits at a time rather than N × C.
    public static let defaultBlockRows = 1024

    /// Baseline cosine scoring: logits = 100 · normalise(image) · classifierᵀ, block by block.
    ///
    /// The classifier is packed once and every block's logits come from the deterministic GEMM
    /// (`PackedMatrix`): each logit is 100 · (one fused multiply-add chain over the dimensions in order),
    /// the same bits on every CPU, kernel path, thread count and block size. Blocks are shared out over
    /// `threads` workers, each normalising its rows into its own buffer.
    public static func predict(
        images: Matrix, labels: [Int], classifier: ZeroShotClassifier,
        blockRows: Int = defaultBlockRows, threads: Int = 1
    ) -> Predictions {
        precondition(images.cols == classifier.dimension, "image and class dimensions differ")
        let n = images.rows
        let d = images.cols
        let c = classifier.numClasses
        checkLabels(labels, count: n, numClasses: c)
        let step = max(1, blockRows)
        let blocks = (n + step - 1) / step
        let workers = max(1, min(threads, blocks))
        var ranks = [Int](repeating: 0, count: n)
        var top1 = [Int](repeating: 0, count: n)
        guard n > 0 else { return Predictions(labels: labels, numClasses: c, trueRank: ranks, top1: top1) }
        let packed = PackedMatrix(classifier.weights, transposed: true, threads: workers)
        images.values.withUnsafeBufferPointer { px in
            labels.withUnsafeBufferPointer { pl in
                ranks.withUnsafeMutableBufferPointer { pr in
                    top1.withUnsafeMutableBufferPointer { pt in
                        let x = px.baseAddress
                        let lab = pl.baseAddress!
                        let rk = pr.baseAddress!
                        let t1 = pt.baseAddress!
                        let rowsPerBlock = min(step, n)
                        DispatchQueue.concurrentPerform(iterations: workers) { worker in
                            let a = UnsafeMutablePointer<Float>.allocate(capacity: max(1, rowsPerBlock * d))
                            let out = UnsafeMutablePointer<Float>.allocate(capacity: rowsPerBlock * c)
                            defer {
                                a.deallocate()
                                out.deallocate()
                            }
                            var b = worker
                            while b < blocks {
                                let start = b * step
                                let m = min(step, n - start)
                                if d > 0 { normalizeRows(x! + start * d, into: a, rows: m, cols: d) }
                                // d = 0: every chain is empty and the kernel writes 100 · 0.
                                packed.multiply(a, rows: m, lda: d, into: out, ldc: c, alpha: logitScale)
                                rankRows(
                                    out, rows: m, numClasses: c, labels: lab + start,
                                    ranks: rk + start, top1: t1 + start)
                                b += workers
                            }
                        }
                    }
                }
            }
        }
        return Predictions(labels: labels, numClasses: c, trueRank: ranks, top1: top1)
    }

    /// Generic scoring driver: `logits(range, out)` fills `out` (range.count × numClasses,
    /// row-major) with the logits of images `range`; only ranks are kept. Alignment variants
    /// plug their own logits in here and get identical ranking semantics.
    public static func predict(
        count: Int, labels: [Int], numClasses: Int,
        blockRows: Int = defaultBlockRows,
        logits: (Range<Int>, UnsafeMutableBufferPointer<Float>) throws -> Void
    ) rethrows -> Predictions {
        checkLabels(labels, count: count, numClasses: numClasses)
        let step = max(1, blockRows)
        var ranks = [Int](repeating: 0, count: count)
        var top1 = [Int](repeating: 0, count: count)
        var buffer = [Float](repeating: 0, count: min(step, max(count, 1)) * numClasses)
        try labels.withUnsafeBufferPointer { pl in
            try ranks.withUnsafeMutableBufferPointer { pr in
                try top1.withUnsafeMutableBufferPointer { pt in
                    try buffer.withUnsafeMutableBufferPointer { buf in
                        var start = 0
                        while start < count {
                            let range = start..<min(count, start + step)
                            let out = UnsafeMutableBufferPointer(rebasing: buf[0..<(range.count * numClasses)])
                            try logits(range, out)
                            rankRows(
                                buf.baseAddress!, rows: range.count, numClasses: numClasses,
                                labels: pl.baseAddress! + start, ranks: pr.baseAddress! + start,
                                top1: pt.baseAddress! + start)
                            start = range.upperBound
                        }
                    }
                }
            }
        }
        return Predictions(labels: labels, numClasses: numClasses, trueRank: ranks, top1: top1)
    }

    private static func checkLabels(_ labels: [Int], count: Int, numClasses: Int) {
        precondition(labels.count == count, "one label per image")
        precondition(numClasses >= 1)
        precondition(labels.allSatisfy { $0 >= 0 && $0 < numClasses }, "labels must lie in [0, numClasses)")
    }

    /// `Matrix.normalizeRows` (double-accumulated norm, rows scaled by Float(1/‖x‖), zero or NaN
    /// norms left unscaled) fused with the copy out of the source, so the values are identical.
    @inline(__always)
    private static func normalizeRows(
        _ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>,
        rows: Int, cols: Int
    ) {
        for r in 0..<rows {
            let s = src + r * cols
            let o = dst + r * cols
            var acc: Double = 0
            for j in 0..<cols {
                let v = Double(s[j])
                acc += v * v
            }
            let norm = acc.squareRoot()
            if norm > 0 {
                let inv = Float(1 / norm)
                for j in 0..<cols { o[j] = s[j] * inv }
            } else {
                o.update(from: s, count: cols)
            }
        }
    }

    /// Ranks each logit row: the count of classes strictly above the true class plus the
    /// lower-indexed classes tied with it, and the top-1 class (the true class at rank 0, else the
    /// lowest-indexed maximum, as a sequential `v > best` scan from class 0 would pick it). Both come from one 16-wide pass that
    /// also counts the logits equal to the true one; only when another class ties (the count
    /// exceeds 1) are the classes below the label scanned. The maximum is kept lane-wise with the
    /// same strict comparison, which gives the sequential result: NaN logits never win, and a NaN
    /// at class 0 wins everything, as it does sequentially.
    @inline(__always)
    private static func rankRows(
        _ logits: UnsafePointer<Float>, rows: Int, numClasses c: Int,
        labels: UnsafePointer<Int>, ranks: UnsafeMutablePointer<Int>,
        top1: UnsafeMutablePointer<Int>
    ) {
        let one = SIMD8<Int32>(repeating: 1)
        let zero = SIMD8<Int32>(repeating: 0)
        for r in 0..<rows {
            let row = logits + r &* c
            let label = labels[r]
            let truth = row[label]
            var best = row[0]
            var greater = 0
            var equal = 0
            var j = 0
            if c >= 16 {
                let raw = UnsafeRawPointer(row)
                let t = SIMD8<Float>(repeating: truth)
                var m0 = SIMD8<Float>(repeating: best)
                var m1 = m0
                var n0 = zero
                var n1 = zero
                var e0 = zero
                var e1 = zero
                while j &+ 16 <= c {
                    let v0 = raw.loadUnaligned(fromByteOffset: j &* 4, as: SIMD8<Float>.self)
                    let v1 = raw.loadUnaligned(fromByteOffset: (j &+ 8) &* 4, as: SIMD8<Float>.self)
                    n0 &+= zero.replacing(with: one, where: v0 .> t)
                    n1 &+= zero.replacing(with: one, where: v1 .> t)
                    e0 &+= zero.replacing(with: one, where: v0 .== t)
                    e1 &+= zero.replacing(with: one, where: v1 .== t)
                    m0.replace(with: v0, where: v0 .> m0)
                    m1.replace(with: v1, where: v1 .> m1)
                    j &+= 16
                }
                greater = Int((n0 &+ n1).wrappedSum())
                equal = Int((e0 &+ e1).wrappedSum())
                m0.replace(with: m1, where: m1 .> m0)
                for l in 0..<8 where m0[l] > best { best = m0[l] }
            }
            while j < c {
                let v = row[j]
                if v > truth { greater &+= 1 }
                if v == truth { equal &+= 1 }
                if v > best { best = v }
                j &+= 1
            }
            var rank = greater
            if truth.isNaN {
                rank = c
            } else if equal > 1 {
                var k = 0
                while k < label {
                    if row[k] == truth { rank &+= 1 }
                    k &+= 1
                }
            }
            ranks[r] = rank
            top1[r] = rank == 0 ? label : firstIndex(of: best, in: row, count: c)
        }
    }

    /// The first class whose logit equals `best`; 0 when none does (a NaN maximum).
    @inline(__always)
    private static func firstIndex(of best: Float, in row: UnsafePointer<Float>, count c: Int) -> Int {
        var k = 0
        while k < c {
            if row[k] == best { return k }
            k &+= 1
        }
        return 0
    }
}
