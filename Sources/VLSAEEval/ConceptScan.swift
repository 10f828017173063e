import Foundation
import VLSAECore
import VLSAEModel

/// How alike one concept's top rows are: the figures `vlsae concepts` reports per concept and
/// averages over concepts.
@MemberwiseInit
public struct ConceptSimilarity: Codable, Equatable, Sendable {
    /// Mean pairwise cosine among the concept's top images (nil with fewer than two).
    public var image: Double?
    /// Mean pairwise cosine among the concept's top texts (nil with fewer than two).
    public var text: Double?
    /// Cosine between the mean of its top images' embeddings and the mean of its top texts'
    /// embeddings (nil when either list is empty).
    public var cross: Double?

}

/// The mean of a per-concept figure over the concepts where it is defined.
public struct ConceptMean: Codable, Equatable, Sendable {
    /// The mean (nil when no concept defines the figure).
    public var mean: Double?
    /// How many concepts it averages.
    public var concepts: Int

    /// The mean of `values`, nil when empty.
    public init(_ values: [Double]) {
        concepts = values.count
        // Summed in concept order, so the same concepts always give the same bits.
        mean = values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }
}

/// Whole-dictionary figures of `vlsae concepts`: for the checkpoint's dictionary and for a random
/// one of the same shape as the reference.
@MemberwiseInit
public struct DictionaryFigures: Codable, Equatable, Sendable {
    /// Fraction of concepts active in no image and no text.
    public var deadFraction: Double
    /// Fraction of concepts active in more than `ConceptScan.denseThreshold` of the images or of the texts.
    public var denseFraction: Double
    /// `ConceptSimilarity.image` averaged over the concepts with at least two top images.
    public var imageSimilarity: ConceptMean
    /// `ConceptSimilarity.text` averaged over the concepts with at least two top texts.
    public var textSimilarity: ConceptMean
    /// `ConceptSimilarity.cross` averaged over the concepts with top images and top texts.
    public var crossSimilarity: ConceptMean

}

/// One dictionary's pass over paired (or unpaired) image and text embeddings: every concept's top
/// rows per modality and its activation frequencies, gathered chunk by chunk so that memory stays
/// O(h × top) beside the inputs, whatever their number of rows. Encoding is `SAEModel.encode` (the
/// deterministic GEMM), and a row's code does not depend on the chunk it is in, so the scan gives the
/// same bits on every kernel path, thread count and chunk size.
public struct ConceptScan: Sendable {
    /// A concept is dense when active in more than this fraction of the rows of a modality: a fixed
    /// cut-off well above the average frequency of a top-k code, k/h (1/16 for the released
    /// checkpoints' 256 of 4096 units). README section "vlsae concepts" states it.
    public static let denseThreshold = 0.1
    /// Rows encoded at a time; each chunk's codes are folded into the top lists and dropped.
    public static let defaultChunkRows = 4096

    /// Top images and image activation counts per concept.
    public var images: TopActivations
    /// Top texts and text activation counts per concept.
    public var texts: TopActivations
    /// The image embeddings scanned (for the similarity figures).
    public let imageEmbeddings: Matrix
    /// The text embeddings scanned.
    public let textEmbeddings: Matrix

    /// Encodes `images` with the image encoder and `texts` with the text encoder (the same one in
    /// VL-SAE and SAE_V) at `k` active units (nil: the trained k), `chunkRows` rows at a time, keeping
    /// the `top` best rows per concept. `onRows` receives the number of rows encoded after each chunk.
    public init(
        model: SAEModel, images: Matrix, texts: Matrix, k: Int?, top: Int,
        chunkRows: Int = ConceptScan.defaultChunkRows, onRows: (Int) -> Void = { _ in }
    ) {
        let h = model.config.hidden
        imageEmbeddings = images
        textEmbeddings = texts
        var done = 0
        func pass(_ x: Matrix, _ modality: Modality) -> TopActivations {
            var tops = TopActivations(concepts: h, capacity: top)
            let step = max(1, chunkRows)
            var start = 0
            while start < x.rows {
                let end = min(x.rows, start + step)
                tops.add(model.encode(x.rows(start..<end), modality: modality, k: k), firstRow: start)
                done += end - start
                onRows(done)
                start = end
            }
            return tops
        }
        self.images = pass(images, .image)
        self.texts = pass(texts, .text)
    }

    /// Number of concepts (the hidden size).
    public var concepts: Int { images.concepts }

    /// The similarity figures of every concept from its top rows, in concept order.
    public func similarities() -> [ConceptSimilarity] {
        (0..<concepts).map { j in
            let ti = images.ranked(j).map(\.index)
            let tt = texts.ranked(j).map(\.index)
            let cross: Double? =
                ti.isEmpty || tt.isEmpty
                ? nil
                : ConceptScan.cosine(
                    ConceptScan.mean(of: ti, in: imageEmbeddings), ConceptScan.mean(of: tt, in: textEmbeddings))
            return ConceptSimilarity(
                image: ConceptScan.meanPairwiseCosine(ti, in: imageEmbeddings),
                text: ConceptScan.meanPairwiseCosine(tt, in: textEmbeddings), cross: cross)
        }
    }

    /// The whole-dictionary figures (dead and dense fractions, mean similarities) from the scan and its
    /// `similarities()`.
    public func figures(_ similarities: [ConceptSimilarity]) -> DictionaryFigures {
        var dead = 0
        var dense = 0
        for j in 0..<concepts {
            if images.activeCounts[j] == 0 && texts.activeCounts[j] == 0 { dead += 1 }
            if images.frequency(j) > ConceptScan.denseThreshold || texts.frequency(j) > ConceptScan.denseThreshold {
                dense += 1
            }
        }
        let h = Double(max(concepts, 1))
        return DictionaryFigures(
            deadFraction: Double(dead) / h, denseFraction: Double(dense) / h,
            imageSimilarity: ConceptMean(similarities.compactMap(\.image)),
            textSimilarity: ConceptMean(similarities.compactMap(\.text)),
            crossSimilarity: ConceptMean(similarities.compactMap(\.cross)))
    }

    /// Mean cosine over the unordered pairs of `rows` of `x`, in double (pairs in row-list order); nil
    /// for fewer than two rows. A zero row has cosine 0 with everything.
    public static func meanPairwiseCosine(_ rows: [Int], in x: Matrix) -> Double? {
        guard rows.count >= 2 else { return nil }
        let d = x.cols
        var v = [Double](repeating: 0, count: rows.count * d)
        var norms = [Double](repeating: 0, count: rows.count)
        x.values.withUnsafeBufferPointer { px in
            v.withUnsafeMutableBufferPointer { pv in
                for (a, r) in rows.enumerated() {
                    var s: Double = 0
                    for i in 0..<d {
                        let e = Double(px[r * d + i])
                        pv[a * d + i] = e
                        s += e * e
                    }
                    norms[a] = s.squareRoot()
                }
            }
        }
        var sum: Double = 0
        v.withUnsafeBufferPointer { pv in
            for a in 0..<rows.count {
                for b in (a + 1)..<rows.count where norms[a] > 0 && norms[b] > 0 {
                    var dot: Double = 0
                    for i in 0..<d { dot += pv[a * d + i] * pv[b * d + i] }
                    sum += dot / (norms[a] * norms[b])
                }
            }
        }
        return sum / Double(rows.count * (rows.count - 1) / 2)
    }

    /// The mean of `rows` of `x`, in double.
    static func mean(of rows: [Int], in x: Matrix) -> [Double] {
        var m = [Double](repeating: 0, count: x.cols)
        for r in rows {
            for (i, v) in x.row(r).enumerated() { m[i] += Double(v) }
        }
        return m.map { $0 / Double(max(rows.count, 1)) }
    }

    /// Cosine of two vectors in double, summed in index order; 0 when either is zero.
    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        var ab: Double = 0
        var aa: Double = 0
        var bb: Double = 0
        for i in 0..<a.count {
            ab += a[i] * b[i]
            aa += a[i] * a[i]
            bb += b[i] * b[i]
        }
        let n = aa.squareRoot() * bb.squareRoot()
        return n > 0 ? ab / n : 0
    }
}
