import VLSAECore
import VLSAEData

/// Class vectors for zero-shot classification, built the CLIP_benchmark way: each template
/// embedding L2-normalised, averaged over templates, the average L2-normalised again.
public struct ZeroShotClassifier: Sendable, Equatable {
    /// C × d, unit rows (a zero vector stays zero).
    public let weights: Matrix

    public var numClasses: Int { weights.rows }
    public var dimension: Int { weights.cols }

    /// From class vectors that are already averaged over templates (C × d); rows are normalised.
    public init(classVectors: Matrix) {
        weights = classVectors.normalizedRows()
    }

    /// From per-template embeddings, (C·T) × d with row `c·T + t` = class c in template t.
    public init(templateEmbeddings: Matrix, classes: Int, templates: Int) {
        weights = ZeroShotClassifier.averageTemplates(templateEmbeddings, classes: classes, templates: templates)
    }

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
/// `trueRank[i]` is the number of classes whose logit is strictly greater than the true class's
/// logit, so image i is correct at k exactly when `trueRank[i] < k`: ties favour the true class.
/// `top1[i]` is the true class when `trueRank[i] == 0`, otherwise the lowest-indexed class with
/// the largest logit, so top-1 predictions agree with top-1 correctness.
public struct Predictions: Sendable, Equatable {
    public let labels: [Int]
    public let numClasses: Int
    public let trueRank: [Int]
    public let top1: [Int]

    public init(labels: [Int], numClasses: Int, trueRank: [Int], top1: [Int]) {
        precondition(labels.count == trueRank.count && labels.count == top1.count)
        self.labels = labels
        self.numClasses = numClasses
        self.trueRank = trueRank
        self.top1 = top1
    }

    public var count: Int { labels.count }

    /// Whether each image is correct within the top k (k ≥ 1).
    public func correct(topK k: Int) -> [Bool] { trueRank.map { $0 < k } }
}

/// Scores are what a scoring pass produces; the name the alignment work uses for them.
public typealias Scores = Predictions

public enum ZeroShot {
    /// CLIP_benchmark's fixed logit scale. It does not change rankings except through float32
    /// rounding, and is kept so that logits are the same numbers CLIP_benchmark would rank.
    public static let logitScale: Float = 100

    /// Images per block: 1024 × C floats of logits at a time rather than N × C.
    public static let defaultBlockRows = 1024

    /// Baseline cosine scoring: logits = 100 · normalise(image) · classifierᵀ, block by block.
    public static func predict(images: Matrix, labels: [Int], classifier: ZeroShotClassifier,
                               blockRows: Int = defaultBlockRows) -> Predictions {
        precondition(images.cols == classifier.dimension, "image and class dimensions differ")
        let w = classifier.weights
        return predict(count: images.rows, labels: labels, numClasses: classifier.numClasses,
                       blockRows: blockRows) { range, logits in
            let block = images.rows(range).normalizedRows()
            block.values.withUnsafeBufferPointer { pa in
                w.values.withUnsafeBufferPointer { pw in
                    BLAS.sgemm(transA: false, transB: true, m: range.count, n: w.rows, k: w.cols,
                               alpha: logitScale, a: pa.baseAddress!, lda: block.cols,
                               b: pw.baseAddress!, ldb: w.cols, beta: 0,
                               c: logits.baseAddress!, ldc: w.rows)
                }
            }
        }
    }

    /// Generic scoring driver: `logits(range, out)` fills `out` (range.count × numClasses,
    /// row-major) with the logits of images `range`; only ranks are kept. Alignment variants
    /// plug their own logits in here and get identical ranking semantics.
    public static func predict(count: Int, labels: [Int], numClasses: Int,
                               blockRows: Int = defaultBlockRows,
                               logits: (Range<Int>, UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows -> Predictions {
        precondition(labels.count == count, "one label per image")
        precondition(numClasses >= 1)
        precondition(labels.allSatisfy { $0 >= 0 && $0 < numClasses }, "labels must lie in [0, numClasses)")
        let step = max(1, blockRows)
        var ranks = [Int](repeating: 0, count: count)
        var top1 = [Int](repeating: 0, count: count)
        var buffer = [Float](repeating: 0, count: min(step, max(count, 1)) * numClasses)
        var start = 0
        while start < count {
            let range = start..<min(count, start + step)
            try buffer.withUnsafeMutableBufferPointer { buf in
                let out = UnsafeMutableBufferPointer(rebasing: buf[0..<(range.count * numClasses)])
                try logits(range, out)
                for (r, i) in range.enumerated() {
                    let row = r * numClasses
                    let truth = buf[row + labels[i]]
                    var greater = 0
                    var best = 0
                    var bestValue = buf[row]
                    for c in 0..<numClasses {
                        let v = buf[row + c]
                        if v > truth { greater += 1 }
                        if v > bestValue { bestValue = v; best = c }
                    }
                    ranks[i] = greater
                    top1[i] = greater == 0 ? labels[i] : best
                }
            }
            start = range.upperBound
        }
        return Predictions(labels: labels, numClasses: numClasses, trueRank: ranks, top1: top1)
    }
}
