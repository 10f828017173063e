import CKernels
import Foundation
import VLSAECore

/// One parameter tensor of a model, under its official PyTorch state-dict name and shape.
public struct ParameterTensor: Sendable, Equatable {
    /// The state-dict key, e.g. `encoder` or `vision_decoder.0.weight`.
    public let name: String
    /// Shape as in the official state dict (decoder weights d × h).
    public let shape: [Int]
    /// Start of the tensor in `SAEModel.parameters`.
    public let offset: Int
    /// Number of elements, the product of `shape`.
    public let count: Int
    /// Decoder weights are stored transposed (h × d) so a unit's decoder column is contiguous.
    public let storedTransposed: Bool
    /// Initialisation bound b of U(−b, b).
    public let initBound: Float
}

/// Where each encoder and decoder lives in the flat parameter buffer, and which modality uses which.
public struct ParameterLayout: Sendable {
    /// Every parameter tensor in official state-dict (module registration) order, which is also the buffer order.
    public let tensors: [ParameterTensor]
    /// Total number of parameters: the length of `SAEModel.parameters`.
    public let count: Int
    struct Encoder: Sendable {
        let weight: Int
        let bias: Int?
        let distance: Bool
    }
    struct Decoder: Sendable {
        let weightT: Int
        let bias: Int
    }
    let encoders: [Encoder]
    let decoders: [Decoder]
    /// Indexed by modality (0 image, 1 text).
    let encoderFor: [Int]
    let decoderFor: [Int]

    init(_ config: SAEConfig) {
        let d = config.inputDim
        let h = config.hidden
        var tensors: [ParameterTensor] = []
        var offset = 0
        let encBound = Float(1 / Double(d).squareRoot())
        let decBound = Float(1 / Double(h).squareRoot())
        func add(_ name: String, _ shape: [Int], transposed: Bool = false, bound: Float) -> Int {
            let n = shape.reduce(1, *)
            tensors.append(
                ParameterTensor(
                    name: name, shape: shape, offset: offset, count: n,
                    storedTransposed: transposed, initBound: bound))
            offset += n
            return offset - n
        }
        func decoder(_ prefix: String) -> Decoder {
            let w = add(prefix + "weight", [d, h], transposed: true, bound: decBound)
            let b = add(prefix + "bias", [d], bound: decBound)
            return Decoder(weightT: w, bias: b)
        }
        // Tensor order = the official state-dict order (module registration order); it is also the
        // order in which initial values are drawn.
        switch config.arch {
        case .vlsae:
            // kaiming_uniform_(a=√5) on an h×d matrix: bound √(6/((1+5)·d)) = 1/√d.
            let w = add("encoder", [h, d], bound: encBound)
            encoders = [Encoder(weight: w, bias: nil, distance: true)]
            decoders = [decoder("vision_decoder."), decoder("text_decoder.")]
            encoderFor = [0, 0]
            decoderFor = [0, 1]
        case .saeD:
            // nn.Linear(d, h) default init: weight and bias U(−1/√d, 1/√d). Decoders are wrapped in
            // nn.Sequential upstream, hence the ".0." in their keys.
            let vw = add("v_encoder.weight", [h, d], bound: encBound)
            let vb = add("v_encoder.bias", [h], bound: encBound)
            let tw = add("t_encoder.weight", [h, d], bound: encBound)
            let tb = add("t_encoder.bias", [h], bound: encBound)
            encoders = [Encoder(weight: vw, bias: vb, distance: false), Encoder(weight: tw, bias: tb, distance: false)]
            decoders = [decoder("vision_decoder.0."), decoder("text_decoder.0.")]
            encoderFor = [0, 1]
            decoderFor = [0, 1]
        case .saeV:
            let w = add("encoder.weight", [h, d], bound: encBound)
            let b = add("encoder.bias", [h], bound: encBound)
            encoders = [Encoder(weight: w, bias: b, distance: false)]
            decoders = [decoder("decoder.0.")]
            encoderFor = [0, 0]
            decoderFor = [0, 0]
        }
        self.tensors = tensors
        self.count = offset
    }

    /// The tensor with state-dict key `name`, nil when this architecture has none.
    public func tensor(named name: String) -> ParameterTensor? { tensors.first { $0.name == name } }
}

/// Runs `body` over `n` items split into at most `threads` contiguous blocks. Every item is
/// processed by exactly the same arithmetic whatever the split, so per-item results do not
/// depend on the thread count.
@inline(__always)
func forEachBlock(_ n: Int, threads: Int, minBlock: Int = 8, _ body: (Range<Int>) -> Void) {
    guard n > 0 else { return }
    let blocks = max(1, min(threads, (n + minBlock - 1) / minBlock))
    if blocks == 1 {
        body(0..<n)
        return
    }
    DispatchQueue.concurrentPerform(iterations: blocks) { b in
        body((n * b / blocks)..<(n * (b + 1) / blocks))
    }
}

/// Loss of one step: MSE per modality (mean over all elements) and their sum.
public struct StepLoss: Sendable, Equatable {
    /// Mean squared error of the image reconstruction, over all elements.
    public var image: Double
    /// Mean squared error of the text reconstruction, over all elements.
    public var text: Double
    /// image + text, the unweighted training objective.
    public var total: Double { image + text }
}

/// A sparse autoencoder (VL-SAE, SAE_D or SAE_V) with sparse forward and backward passes.
///
/// Only the encoder's dense product (rows × h) is computed densely, by the deterministic GEMM
/// (`GEMM`, `PackedMatrix`: every activation is one fused multiply-add chain in input order, the same
/// bits on every CPU, kernel path and thread count); top-k selection, decoding (gather-accumulate of k
/// decoder columns), and every gradient touch only the k active units of each row.
public struct SAEModel: Sendable {
    /// Architecture, d, h and default k.
    public let config: SAEConfig
    /// Where each tensor lives in `parameters`, derived from `config`.
    public let layout: ParameterLayout
    /// All parameters, contiguous, in `layout` order (decoder weights transposed, h × d).
    public var parameters: [Float]
    /// Worker threads for row-parallel work. Results do not depend on it.
    public var threads: Int = 1

    /// A freshly initialised model. Values are drawn from `SeededRandom(seed:)` tensor by tensor in
    /// state-dict order, each in the official row-major order (decoder weight element (i, j) of the
    /// d × h matrix before (i, j+1)), as `Float(−b + 2b·u)` with u = `nextDouble()`.
    public init(config: SAEConfig, seed: UInt64) throws {
        try config.validate()
        self.config = config
        layout = ParameterLayout(config)
        var rng = SeededRandom(seed: seed)
        var p = [Float](repeating: 0, count: layout.count)
        for t in layout.tensors {
            let b = Double(t.initBound)
            if t.storedTransposed {
                let rows = t.shape[0]
                let cols = t.shape[1]
                for i in 0..<rows {
                    for j in 0..<cols { p[t.offset + j * rows + i] = Float(-b + 2 * b * rng.nextDouble()) }
                }
            } else {
                for i in 0..<t.count { p[t.offset + i] = Float(-b + 2 * b * rng.nextDouble()) }
            }
        }
        parameters = p
    }

    /// A model from named tensors in official layout (state-dict names and shapes).
    public init(config: SAEConfig, tensors: [String: [Float]]) throws {
        try config.validate()
        self.config = config
        layout = ParameterLayout(config)
        var p = [Float](repeating: 0, count: layout.count)
        for t in layout.tensors {
            guard let v = tensors[t.name] else { throw VLSAEError.usage("missing parameter tensor \"\(t.name)\"") }
            guard v.count == t.count else {
                throw VLSAEError.usage("parameter \"\(t.name)\" has \(v.count) values, expected \(t.count)")
            }
            if t.storedTransposed {
                let rows = t.shape[0]
                let cols = t.shape[1]
                for i in 0..<rows { for j in 0..<cols { p[t.offset + j * rows + i] = v[i * cols + j] } }
            } else {
                for i in 0..<t.count { p[t.offset + i] = v[i] }
            }
        }
        parameters = p
    }

    /// Tensors of a flat buffer laid out like `parameters` (the parameters themselves, or
    /// gradients), converted to the official layout.
    public func officialTensors(_ flat: [Float]? = nil) -> [(name: String, shape: [Int], values: [Float])] {
        let src = flat ?? parameters
        precondition(src.count == layout.count)
        return layout.tensors.map { t in
            if t.storedTransposed {
                let rows = t.shape[0]
                let cols = t.shape[1]
                var out = [Float](repeating: 0, count: t.count)
                for j in 0..<cols { for i in 0..<rows { out[i * cols + j] = src[t.offset + j * rows + i] } }
                return (t.name, t.shape, out)
            }
            return (t.name, t.shape, Array(src[t.offset..<(t.offset + t.count)]))
        }
    }

    /// Throws when embeddings of dimension `d` from `source` cannot go through this model.
    public func checkInputDim(_ d: Int, source: String) throws {
        guard d == config.inputDim else {
            throw VLSAEError.mismatch("\(source) has dimension \(d) but the autoencoder expects \(config.inputDim)")
        }
    }

    // MARK: encoder

    /// What an encoder multiplies inputs by: the row-normalised W (distance encoder) or W itself, as h × d
    /// rows and packed once for the product x · Wᵀ of every chunk of rows.
    struct PreparedEncoder {
        var weight: [Float]
        /// `weight` packed as op(B) = Wᵀ (d × h).
        let packed: PackedMatrix
        /// ‖Wᵢ‖ (clamped at 1e-12 as F.normalize does); distance encoder only.
        var norms: [Float]
        let distance: Bool
        let bias: Int?
    }

    func prepare(_ e: Int) -> PreparedEncoder {
        let enc = layout.encoders[e]
        let h = config.hidden
        let d = config.inputDim
        var w = Array(parameters[enc.weight..<(enc.weight + h * d)])
        var norms: [Float] = []
        if enc.distance {
            norms = [Float](repeating: 1, count: h)
            w.withUnsafeMutableBufferPointer { pwb in
                norms.withUnsafeMutableBufferPointer { pnb in
                    let pw = pwb.baseAddress!
                    let pn = pnb.baseAddress!
                    // Rows are independent: the split over threads does not change any value.
                    forEachBlock(h, threads: threads, minBlock: 64) { range in
                        for j in range {
                            let row = pw + j * d
                            let n = max(GEMM.dot(d, row, row).squareRoot(), 1e-12)
                            pn[j] = n
                            GEMM.scale(d, 1 / n, row)
                        }
                    }
                }
            }
        }
        let packed = w.withUnsafeBufferPointer { pw in
            PackedMatrix(pointer: pw.baseAddress!, rows: d, cols: h, ld: d, transposed: true, threads: threads)
        }
        return PreparedEncoder(weight: w, packed: packed, norms: norms, distance: enc.distance, bias: enc.bias)
    }

    /// The encoder pass over `rows` rows: codes, the derivative of each kept activation with
    /// respect to its pre-activation (training), and the matrix the encoder multiplied (x̂ or x).
    struct EncoderPass {
        var codes: SparseCodes
        var deriv: [Float]
        var input: [Float]
    }

    /// Rows per encoder product: chunks are the unit of work shared over the threads, and a chunk's
    /// rows × h block of products stays in the last-level cache until its top-k is taken. Values do not
    /// depend on the chunking: each activation is one chain of the deterministic GEMM over the packed W.
    /// Chunks are small enough that a training batch of 512 still splits over two workers.
    static func encoderChunk(rows: Int) -> Int { rows >= 4096 ? 1024 : (rows >= 2048 ? 512 : 256) }

    func encodePass(
        _ x: UnsafePointer<Float>, rows: Int, prepared pe: PreparedEncoder, k: Int,
        training: Bool
    ) -> EncoderPass {
        let h = config.hidden
        let d = config.inputDim
        let kk = max(0, min(k, h))
        var codes = SparseCodes(rows: rows, hidden: h, k: kk)
        var deriv = [Float](repeating: 0, count: training ? rows * kk : 0)
        var input = [Float](repeating: 0, count: training ? rows * d : 0)
        guard rows > 0 else { return EncoderPass(codes: codes, deriv: deriv, input: input) }
        let biasValues: [Float] = pe.bias.map { Array(parameters[$0..<($0 + h)]) } ?? []
        let distance = pe.distance
        let chunk = SAEModel.encoderChunk(rows: rows)
        let chunks = (rows + chunk - 1) / chunk
        let packed = pe.packed
        biasValues.withUnsafeBufferPointer { pbb in
            codes.indices.withUnsafeMutableBufferPointer { pib in
                codes.values.withUnsafeMutableBufferPointer { pvb in
                    codes.counts.withUnsafeMutableBufferPointer { pnb in
                        deriv.withUnsafeMutableBufferPointer { pdb in
                            input.withUnsafeMutableBufferPointer { pxb in
                                let pb = pbb.baseAddress
                                let pi = pib.baseAddress
                                let pv = pvb.baseAddress
                                let pn = pnb.baseAddress!
                                let pd = pdb.baseAddress
                                let px = pxb.baseAddress
                                forEachBlock(chunks, threads: threads, minBlock: 1) { chunkRange in
                                    let c = UnsafeMutablePointer<Float>.allocate(capacity: min(chunk, rows) * h)
                                    let own = UnsafeMutablePointer<Float>.allocate(capacity: training ? 1 : chunk * d)
                                    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * h)
                                    let candIndices = UnsafeMutablePointer<Int32>.allocate(capacity: h)
                                    defer {
                                        c.deallocate()
                                        own.deallocate()
                                        scratch.deallocate()
                                        candIndices.deallocate()
                                    }
                                    for ci in chunkRange {
                                        let start = ci * chunk
                                        let n = min(chunk, rows - start)
                                        // The rows the encoder multiplies: x̂ (distance encoder) or x.
                                        let a = training ? px! + start * d : own
                                        a.update(from: x + start * d, count: n * d)
                                        if distance {
                                            // F.normalize(x, dim=1): x / max(‖x‖, 1e-12).
                                            for r in 0..<n {
                                                let row = a + r * d
                                                var s: Double = 0
                                                for i in 0..<d {
                                                    let v = Double(row[i])
                                                    s += v * v
                                                }
                                                let norm = max(Float(s.squareRoot()), 1e-12)
                                                for i in 0..<d { row[i] /= norm }
                                            }
                                        }
                                        packed.multiply(a, rows: n, lda: d, into: c, ldc: h)
                                        guard kk > 0, let pi, let pv else { continue }
                                        for r in 0..<n {
                                            let g = start + r
                                            let count = encodeRow(
                                                c + r * h, h: h, k: kk, distance: distance, bias: pb,
                                                scratch: scratch, candIndices: candIndices, dist: scratch + h,
                                                indices: pi + g * kk, values: pv + g * kk,
                                                deriv: training ? pd! + g * kk : nil)
                                            pn[g] = Int32(count)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return EncoderPass(codes: codes, deriv: deriv, input: input)
    }

    /// Activation and top-k of one row of encoder products `c` (overwritten), writing the kept units in
    /// ascending order, their values and (training) da/dpre; returns how many were kept. `scratch` holds h
    /// floats, `candIndices` and `dist` h entries each.
    @inline(__always)
    func encodeRow(
        _ c: UnsafeMutablePointer<Float>, h: Int, k: Int, distance: Bool, bias: UnsafePointer<Float>?,
        scratch: UnsafeMutablePointer<Float>, candIndices: UnsafeMutablePointer<Int32>,
        dist: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>,
        deriv: UnsafeMutablePointer<Float>?
    ) -> Int {
        if !distance {
            // SAE_D / SAE_V: Linear → ReLU, then top-k on the ReLU output (already ≥ 0, so |a| = a).
            for j in 0..<h { c[j] = max(0, c[j] + bias![j]) }
            let n = TopK.selectNonNegative(
                c, h: h, k: k, scratch: scratch, candIndices: candIndices,
                indices: indices, values: values)
            // Kept ReLU outputs are > 0, where ReLU's slope is 1.
            if let deriv { for t in 0..<n { deriv[t] = 1 } }
            return n
        }
        // a = 2 − ‖x̂ − ŵ‖ = 2 − √(2 − 2c) is non-decreasing in c (each float step is monotone), so the
        // upstream threshold on |a| is f(t) for t the (h−k)-th smallest c, and only the entries with
        // c > t can pass it: the transform runs on those few instead of on all h. When t is near −1
        // (k close to h), a can dip below 0 and |a| stops being monotone: fall back to the full form.
        if k < h {
            let cand = TopK.thresholdAndCandidates(c, h: h, k: k, scratch: scratch, candIndices: candIndices)
            let t = cand.threshold
            if t > -0.5 {
                let at = 2 - max(0, 2 - 2 * t).squareRoot()
                // Distances of all candidates first, in a loop free of branches (square roots are the
                // slow part); kept separately because recovering them as 2 − a would lose precision
                // exactly where 1/distance is large.
                let dists = scratch
                for q in 0..<cand.count { dists[q] = max(0, 2 - 2 * c[Int(candIndices[q])]).squareRoot() }
                var n = 0
                for q in 0..<cand.count {
                    let u = dists[q]
                    let a = 2 - u
                    guard c[Int(candIndices[q])] > t, a > at else { continue }
                    if n == k { break }
                    indices[n] = candIndices[q]
                    values[n] = a
                    // da/dc = 1/√(2 − 2c); at c → 1 the distance is 0 and its gradient is taken as 0
                    // (as torch.cdist's backward does).
                    deriv?[n] = u > 0 ? 1 / u : 0
                    n += 1
                }
                return n
            }
        }
        for j in 0..<h {
            dist[j] = max(0, 2 - 2 * c[j]).squareRoot()
            c[j] = 2 - dist[j]
        }
        let n = TopK.select(c, h: h, k: k, scratch: scratch, indices: indices, values: values)
        if let deriv {
            for t in 0..<n {
                let u = dist[Int(indices[t])]
                deriv[t] = u > 0 ? 1 / u : 0
            }
        }
        return n
    }

    /// Hidden activations of rows of `x`. `modality` picks the encoder of SAE_D (VL-SAE and
    /// SAE_V share one). `k` (default: the trained k) may be lowered at inference.
    public func encode(_ x: Matrix, modality: Modality = .image, k: Int? = nil) -> SparseCodes {
        precondition(x.cols == config.inputDim, "encode: input has \(x.cols) columns, model expects \(config.inputDim)")
        let kk = max(0, min(k ?? config.topK, config.hidden))
        if x.rows == 0 { return SparseCodes(rows: 0, hidden: config.hidden, k: kk) }
        let pe = prepare(layout.encoderFor[modality == .image ? 0 : 1])
        return x.values.withUnsafeBufferPointer { px in
            encodePass(px.baseAddress!, rows: x.rows, prepared: pe, k: kk, training: false).codes
        }
    }

    // MARK: decoder

    /// out[r] = bias + Σ over the active units of row r (ascending) of value · decoder column.
    ///
    /// Rows go in blocks of 256 whose codes are regrouped by unit, so that each decoder column is read
    /// once per block while the block's output rows stay in L2; every output element still receives its
    /// terms in ascending unit order, so the values do not depend on the blocking or the thread count.
    func decodeInto(_ codes: SparseCodes, decoder dIndex: Int, out: UnsafeMutablePointer<Float>) {
        let d = config.inputDim
        let h = config.hidden
        let k = codes.k
        let dec = layout.decoders[dIndex]
        let block = 256
        parameters.withUnsafeBufferPointer { ppb in
            codes.indices.withUnsafeBufferPointer { pib in
                codes.values.withUnsafeBufferPointer { pvb in
                    codes.counts.withUnsafeBufferPointer { pnb in
                        let pp = ppb.baseAddress!
                        let bias = pp + dec.bias
                        let wT = pp + dec.weightT
                        let pn = pnb.baseAddress!
                        guard k > 0, let pi = pib.baseAddress, let pv = pvb.baseAddress else {
                            for r in 0..<codes.rows { (out + r * d).update(from: bias, count: d) }
                            return
                        }
                        forEachBlock(codes.rows, threads: threads) { range in
                            let work = UnsafeMutablePointer<Int32>.allocate(capacity: h + 1 + block * k)
                            defer { work.deallocate() }
                            var r = range.lowerBound
                            while r < range.upperBound {
                                let n = min(block, range.upperBound - r)
                                vlsae_decode_block(
                                    Int32(d), Int32(h), Int32(k), Int32(n), bias, wT, pn + r, pi + r * k,
                                    pv + r * k, out + r * d, work)
                                r += n
                            }
                        }
                    }
                }
            }
        }
    }

    /// The `modality` decoder applied to codes: bias + Σ over active units of value · column.
    public func decode(_ codes: SparseCodes, modality: Modality) -> Matrix {
        precondition(
            codes.hidden == config.hidden, "decode: codes have \(codes.hidden) units, model has \(config.hidden)")
        var out = Matrix(rows: codes.rows, cols: config.inputDim)
        if codes.rows == 0 { return out }
        out.values.withUnsafeMutableBufferPointer { po in
            decodeInto(codes, decoder: layout.decoderFor[modality == .image ? 0 : 1], out: po.baseAddress!)
        }
        return out
    }

    /// Decodes the `modality` codes of `x` with the `modality` decoder: x̂, the same shape as `x`. `k` overrides
    /// `config.topK` when given (clamped to [0, h]).
    public func reconstruct(_ x: Matrix, modality: Modality, k: Int? = nil) -> Matrix {
        decode(encode(x, modality: modality, k: k), modality: modality)
    }

    // MARK: training

    /// MSE(recon_image, image) + MSE(recon_text, text) without gradients.
    public func loss(images: Matrix, texts: Matrix) -> StepLoss {
        var l = StepLoss(image: 0, text: 0)
        for (m, x) in [images, texts].enumerated() {
            let recon = reconstruct(x, modality: m == 0 ? .image : .text)
            var s: Double = 0
            for i in 0..<x.values.count {
                let e = Double(recon.values[i] - x.values[i])
                s += e * e
            }
            let mse = x.values.isEmpty ? 0 : s / Double(x.values.count)
            if m == 0 { l.image = mse } else { l.text = mse }
        }
        return l
    }

    /// The loss of one batch of pairs and its gradient with respect to every parameter, written
    /// into `gradients` (laid out like `parameters`; overwritten).
    ///
    /// The top-k mask is treated as a constant, so gradients flow only through kept units. (The
    /// official `sparsify` builds its mask from `torch.maximum`/`torch.where` and leaks a half
    /// gradient to entries exactly tied with the threshold; for untied inputs the two agree.)
    ///
    /// Cost: the encoder product (one GEMM per row chunk over the once-packed W) plus O(B·k·d) for everything else:
    /// decoding gathers the k active decoder columns of each row, and the backward pass visits each
    /// unit once with the rows it is active on, so its encoder row and decoder columns stay in L1 while
    /// dL/dpre, the decoder gradient, the encoder gradient and the normalisation backward are formed
    /// together. No rows × h buffer is kept beyond one chunk of encoder products per thread.
    public func lossAndGradients(images: Matrix, texts: Matrix, gradients g: inout [Float]) -> StepLoss {
        if g.count != layout.count { g = [Float](repeating: 0, count: layout.count) }
        let batch = forwardForTraining(images: images, texts: texts)
        let d = config.inputDim
        g.withUnsafeMutableBufferPointer { pgb in
            let pg = pgb.baseAddress!
            for (i, dec) in layout.decoders.enumerated() {
                (pg + dec.bias).update(from: batch.decoderBiasGradient[i], count: d)
            }
            parameters.withUnsafeBufferPointer { ppb in backward(batch, parameters: ppb.baseAddress!, gradients: pg) }
        }
        return batch.loss
    }

    /// What the backward pass needs from the forward pass of a training batch.
    struct TrainingForward {
        var prepared: [PreparedEncoder]
        /// Per modality (0 image, 1 text).
        var passes: [EncoderPass]
        /// dL/drecon per modality, rows × d.
        var errors: [[Float]]
        /// Per decoder: Σ over its rows of dL/drecon.
        var decoderBiasGradient: [[Float]]
        /// Per modality, the (row·k + slot) entries grouped by unit (`vlsae_group_by_unit`): unit j's are
        /// `unitSlots[unitStarts[j] ..< unitStarts[j+1]]`, in row order.
        var unitStarts: [[Int32]]
        var unitSlots: [[Int32]]
        var loss: StepLoss
    }

    func forwardForTraining(images: Matrix, texts: Matrix) -> TrainingForward {
        let d = config.inputDim
        let h = config.hidden
        let k = config.topK
        precondition(images.cols == d && texts.cols == d, "training batch has the wrong dimension")
        precondition(images.rows > 0 && texts.rows > 0, "training batch is empty")
        let prepared = (0..<layout.encoders.count).map { prepare($0) }
        var passes: [EncoderPass] = []
        var errors: [[Float]] = []
        var loss = StepLoss(image: 0, text: 0)

        for m in 0..<2 {
            let x = m == 0 ? images : texts
            let b = x.rows
            let pass = x.values.withUnsafeBufferPointer { px in
                encodePass(px.baseAddress!, rows: b, prepared: prepared[layout.encoderFor[m]], k: k, training: true)
            }
            // Decode, then turn each row into dL/drecon = 2 (recon − x) / (B·d) for the mean-over-elements
            // MSE, keeping each row's squared error (summed in row order afterwards).
            var e = [Float](repeating: 0, count: b * d)
            var rowSums = [Double](repeating: 0, count: b)
            let scale = Float(2 / Double(max(b * d, 1)))
            x.values.withUnsafeBufferPointer { pxb in
                e.withUnsafeMutableBufferPointer { peb in
                    rowSums.withUnsafeMutableBufferPointer { psb in
                        let px = pxb.baseAddress!
                        let pe = peb.baseAddress!
                        let ps = psb.baseAddress!
                        decodeInto(pass.codes, decoder: layout.decoderFor[m], out: pe)
                        forEachBlock(b, threads: threads) { range in
                            for r in range {
                                let er = pe + r * d
                                let xr = px + r * d
                                var s: Double = 0
                                for i in 0..<d {
                                    let diff = er[i] - xr[i]
                                    s += Double(diff) * Double(diff)
                                    er[i] = scale * diff
                                }
                                ps[r] = s
                            }
                        }
                    }
                }
            }
            let mse = b == 0 ? 0 : rowSums.reduce(0, +) / Double(b * d)
            if m == 0 { loss.image = mse } else { loss.text = mse }
            passes.append(pass)
            errors.append(e)
        }

        var biasGradients = [[Float]](repeating: [Float](repeating: 0, count: d), count: layout.decoders.count)
        for m in 0..<2 {
            let di = layout.decoderFor[m]
            for r in 0..<passes[m].codes.rows { for i in 0..<d { biasGradients[di][i] += errors[m][r * d + i] } }
        }

        // Group the active (row, slot) pairs by unit (counting sort in row order) so that each unit's
        // gradient rows are summed by one thread in a fixed order: no races, no dependence on the
        // thread count, and no rows × h buffer.
        var starts: [[Int32]] = []
        var slots: [[Int32]] = []
        for m in 0..<2 {
            let codes = passes[m].codes
            var start = [Int32](repeating: 0, count: h + 1)
            var list = [Int32](repeating: 0, count: codes.rows * k)
            vlsae_group_by_unit(Int32(h), Int32(k), Int32(codes.rows), codes.counts, codes.indices, &start, &list)
            starts.append(start)
            slots.append(list)
        }
        return TrainingForward(
            prepared: prepared, passes: passes, errors: errors, decoderBiasGradient: biasGradients,
            unitStarts: starts, unitSlots: slots, loss: loss)
    }

    /// The per-unit backward pass: writes the gradient of every per-unit parameter slice (encoder rows,
    /// encoder bias entries, decoder columns) into `pg`. Units are split into contiguous blocks over
    /// `threads` workers; each unit's slices are zeroed and summed by one worker in a fixed order.
    func backward(
        _ batch: TrainingForward, parameters pp: UnsafePointer<Float>, gradients pg: UnsafeMutablePointer<Float>
    ) {
        let d = config.inputDim
        let h = config.hidden
        let k = config.topK
        let lay = layout
        let norms = batch.prepared.map(\.norms)
        withBaseAddresses(batch.errors) { pe in
            withBaseAddresses(batch.passes.map(\.input)) { px in
                withBaseAddresses(batch.passes.map(\.codes.values)) { pv in
                    withBaseAddresses(batch.passes.map(\.deriv)) { pd in
                        withBaseAddresses(batch.unitStarts) { pst in
                            withBaseAddresses(batch.unitSlots) { psl in
                                withBaseAddresses(batch.prepared.map(\.weight)) { pw in
                                    forEachBlock(h, threads: threads, minBlock: 16) { range in
                                        for j in range {
                                            for enc in lay.encoders {
                                                (pg + enc.weight + j * d).update(repeating: 0, count: d)
                                                if let bias = enc.bias { pg[bias + j] = 0 }
                                            }
                                            for dec in lay.decoders {
                                                (pg + dec.weightT + j * d).update(repeating: 0, count: d)
                                            }
                                            for m in 0..<2 {
                                                let start = Int(pst[m]![j])
                                                let end = Int(pst[m]![j + 1])
                                                // Non-empty lists imply non-empty buffers for this modality.
                                                guard start < end else { continue }
                                                let dec = lay.decoders[lay.decoderFor[m]]
                                                let enc = lay.encoders[lay.encoderFor[m]]
                                                vlsae_unit_backward(
                                                    Int32(d), Int32(k), Int32(end - start), psl[m]! + start,
                                                    pe[m]!, px[m]!, pv[m]!, pd[m]!, pp + dec.weightT + j * d,
                                                    pg + dec.weightT + j * d, pg + enc.weight + j * d,
                                                    enc.bias.map { pg + $0 + j })
                                            }
                                            // Back through ŵ = W/‖W‖: dW = (dŵ − ŵ (ŵ·dŵ)) / ‖W‖.
                                            for (ei, enc) in lay.encoders.enumerated() where enc.distance {
                                                let gw = pg + enc.weight + j * d
                                                let w = pw[ei]! + j * d
                                                GEMM.axpy(d, -GEMM.dot(d, w, gw), w, gw)
                                                GEMM.scale(d, 1 / norms[ei][j], gw)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Runs `body` with the base addresses of several arrays (nil for an empty one), each valid for the
/// duration of the call: nested `withUnsafeBufferPointer` for a list whose length is known only at run time.
func withBaseAddresses<T, R>(_ arrays: [[T]], _ body: ([UnsafePointer<T>?]) -> R) -> R {
    guard let first = arrays.first else { return body([]) }
    return first.withUnsafeBufferPointer { p in
        withBaseAddresses(Array(arrays.dropFirst())) { rest in body([p.baseAddress] + rest) }
    }
}
