import VLSAECore

/// How many planted concepts a trained SAE found: for each concept, the best cosine with any
/// encoder row and with any decoder column.
///
/// Which space to compare in is a deliberate choice. The generator's concepts live in a shared
/// semantic space (`concepts.npy`); an image is offset·μ_image + M_image·s, so the image
/// decoder's columns point along M_image·c_k (`concepts_image.npy`) and the text decoder's
/// along M_text·c_k (`concepts_text.npy`). Those files hold the maps' images of the concepts
/// *without* the modality offset and the centring (`signal_means.npy`): a decoder that keeps
/// offset − signal mean in its bias matches them directly. A decoder (or the distance-based encoder, whose rows sit near the normalised
/// inputs and so carry the offset) may instead have absorbed the offset into its columns; for
/// that case compare after `projectingOut(offset, from:)` on both sides
/// (`modality_offsets.npy` row 0 = image, row 1 = text).
public struct ConceptRecovery: Codable, Equatable, Sendable {
    /// Fraction of planted concepts with some encoder row at cosine ≥ threshold.
    public var encoderRecovered: Double
    /// Fraction of planted concepts with some decoder column at cosine ≥ threshold (the README's recovery figure).
    public var decoderRecovered: Double
    /// Mean over concepts of the best cosine with any encoder row, in [-1, 1].
    public var encoderMeanBestCosine: Double
    /// Mean over concepts of the best cosine with any decoder column; a random dictionary already scores ≈ 0.41 on
    /// the default suite (main README).
    public var decoderMeanBestCosine: Double
    /// The cosine at which a concept counts as recovered (0.9 by default).
    public var threshold: Double

    /// - Parameters:
    ///   - concepts: K × d planted concepts (in the space chosen for the comparison).
    ///   - encoderRows: h × d encoder weight.
    ///   - decoderColumns: h × d, the decoder weight transposed (PyTorch stores it d × h).
    ///   - threshold: the cosine at which a concept counts as recovered.
    public static func measure(
        concepts: Matrix, encoderRows: Matrix, decoderColumns: Matrix,
        threshold: Double = 0.9
    ) throws -> ConceptRecovery {
        guard concepts.rows > 0 else { throw VLSAEError.mismatch("concept recovery needs at least one concept") }
        for (name, m) in [("encoder rows", encoderRows), ("decoder columns", decoderColumns)] {
            guard m.cols == concepts.cols else {
                throw VLSAEError.mismatch(
                    "concept recovery: \(name) have dimension \(m.cols), concepts \(concepts.cols)")
            }
            guard m.rows > 0 else { throw VLSAEError.mismatch("concept recovery: no \(name)") }
        }
        let enc = bestCosines(concepts, encoderRows)
        let dec = bestCosines(concepts, decoderColumns)
        let k = Double(concepts.rows)
        return ConceptRecovery(
            encoderRecovered: Double(enc.filter { $0 >= threshold }.count) / k,
            decoderRecovered: Double(dec.filter { $0 >= threshold }.count) / k,
            encoderMeanBestCosine: enc.reduce(0, +) / k,
            decoderMeanBestCosine: dec.reduce(0, +) / k,
            threshold: threshold)
    }

    /// For each row of `concepts`, the largest cosine with any row of `candidates` (zero rows
    /// count as cosine 0). Blocked so that K × h never has to fit at once.
    public static func bestCosines(_ concepts: Matrix, _ candidates: Matrix) -> [Double] {
        let c = concepts.normalizedRows()
        let w = candidates.normalizedRows()
        var best = [Double](repeating: -.infinity, count: c.rows)
        let block = 1024
        var start = 0
        while start < c.rows {
            let end = min(start + block, c.rows)
            let sims = GEMM.matmul(c.rows(start..<end), w, transB: true)
            for i in 0..<(end - start) {
                var b = -Float.infinity
                for j in 0..<w.rows { b = max(b, sims[i, j]) }
                best[start + i] = Double(b)
            }
            start = end
        }
        return best
    }

    /// Every row with its component along `direction` removed.
    public static func projectingOut(_ direction: [Float], from m: Matrix) -> Matrix {
        precondition(direction.count == m.cols, "direction has \(direction.count) values, rows \(m.cols)")
        var n2 = 0.0
        for x in direction { n2 += Double(x) * Double(x) }
        guard n2 > 0 else { return m }
        var out = m
        for r in 0..<m.rows {
            var dot = 0.0
            for j in 0..<m.cols { dot += Double(m[r, j]) * Double(direction[j]) }
            let f = Float(dot / n2)
            for j in 0..<m.cols { out[r, j] -= f * direction[j] }
        }
        return out
    }

    /// Recovery in one modality as `vlsae recovery` measures it, in that modality's concept space
    /// (`concepts_image.npy` or `concepts_text.npy`) with the modality offset (`modality_offsets.npy`
    /// row 0 image, row 1 text) projected out of the concepts, the encoder rows and the decoder
    /// columns. The distance-based encoder's rows sit near normalised inputs and so carry the
    /// offset, and a decoder may absorb it into its columns rather than its bias: without the
    /// projection a shared offset inflates every cosine. The decoder columns' common mean
    /// direction is projected out too: every VL-SAE code has k active units with values of at
    /// least ~0.6, so a component shared by all columns cannot be told apart from the bias and
    /// carries no concept.
    ///
    /// - Parameters:
    ///   - concepts: K × d planted concepts of the modality.
    ///   - encoderRows: h × d shared encoder weight.
    ///   - decoderColumns: h × d, the modality decoder's weight transposed.
    ///   - offset: the modality's offset direction (d values).
    ///   - threshold: the cosine at which a concept counts as recovered.
    public static func measure(
        concepts: Matrix, encoderRows: Matrix, decoderColumns: Matrix, offset: [Float],
        threshold: Double = 0.9
    ) throws -> ConceptRecovery {
        let centred = projectingOut(offset, from: decoderColumns)
        return try measure(
            concepts: projectingOut(offset, from: concepts),
            encoderRows: projectingOut(offset, from: encoderRows),
            decoderColumns: projectingOut(meanRow(centred), from: centred),
            threshold: threshold)
    }

    /// The mean of the rows (in float32, summed in row order).
    public static func meanRow(_ m: Matrix) -> [Float] {
        var mean = [Float](repeating: 0, count: m.cols)
        for r in 0..<m.rows { for (j, v) in m.row(r).enumerated() { mean[j] += v / Float(m.rows) } }
        return mean
    }
}
