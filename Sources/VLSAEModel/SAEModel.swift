import Foundation
import VLSAECore

/// One parameter tensor of a model, under its official PyTorch state-dict name and shape.
public struct ParameterTensor: Sendable, Equatable {
    public let name: String
    /// Shape as in the official state dict (decoder weights d × h).
    public let shape: [Int]
    /// Start of the tensor in `SAEModel.parameters`.
    public let offset: Int
    public let count: Int
    /// Decoder weights are stored transposed (h × d) so a unit's decoder column is contiguous.
    public let storedTransposed: Bool
    /// Initialisation bound b of U(−b, b).
    public let initBound: Float
}

/// Where each encoder and decoder lives in the flat parameter buffer, and which modality uses which.
public struct ParameterLayout: Sendable {
    public let tensors: [ParameterTensor]
    public let count: Int
    struct Encoder: Sendable { let weight: Int; let bias: Int?; let distance: Bool }
    struct Decoder: Sendable { let weightT: Int; let bias: Int }
    let encoders: [Encoder]
    let decoders: [Decoder]
    /// Indexed by modality (0 image, 1 text).
    let encoderFor: [Int]
    let decoderFor: [Int]

    init(_ config: SAEConfig) {
        let d = config.inputDim, h = config.hidden
        var tensors: [ParameterTensor] = []
        var offset = 0
        let encBound = Float(1 / Double(d).squareRoot()), decBound = Float(1 / Double(h).squareRoot())
        func add(_ name: String, _ shape: [Int], transposed: Bool = false, bound: Float) -> Int {
            let n = shape.reduce(1, *)
            tensors.append(ParameterTensor(name: name, shape: shape, offset: offset, count: n,
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
            encoderFor = [0, 0]; decoderFor = [0, 1]
        case .saeD:
            // nn.Linear(d, h) default init: weight and bias U(−1/√d, 1/√d). Decoders are wrapped in
            // nn.Sequential upstream, hence the ".0." in their keys.
            let vw = add("v_encoder.weight", [h, d], bound: encBound)
            let vb = add("v_encoder.bias", [h], bound: encBound)
            let tw = add("t_encoder.weight", [h, d], bound: encBound)
            let tb = add("t_encoder.bias", [h], bound: encBound)
            encoders = [Encoder(weight: vw, bias: vb, distance: false), Encoder(weight: tw, bias: tb, distance: false)]
            decoders = [decoder("vision_decoder.0."), decoder("text_decoder.0.")]
            encoderFor = [0, 1]; decoderFor = [0, 1]
        case .saeV:
            let w = add("encoder.weight", [h, d], bound: encBound)
            let b = add("encoder.bias", [h], bound: encBound)
            encoders = [Encoder(weight: w, bias: b, distance: false)]
            decoders = [decoder("decoder.0.")]
            encoderFor = [0, 0]; decoderFor = [0, 0]
        }
        self.tensors = tensors
        self.count = offset
    }

    public func tensor(named name: String) -> ParameterTensor? { tensors.first { $0.name == name } }
}

/// Runs `body` over `n` items split into at most `threads` contiguous blocks. Every item is
/// processed by exactly the same arithmetic whatever the split, so per-item results do not
/// depend on the thread count.
@inline(__always)
func forEachBlock(_ n: Int, threads: Int, minBlock: Int = 8, _ body: (Range<Int>) -> Void) {
    guard n > 0 else { return }
    let blocks = max(1, min(threads, (n + minBlock - 1) / minBlock))
    if blocks == 1 { body(0..<n); return }
    DispatchQueue.concurrentPerform(iterations: blocks) { b in
        body((n * b / blocks)..<(n * (b + 1) / blocks))
    }
}

/// Loss of one step: MSE per modality (mean over all elements) and their sum.
public struct StepLoss: Sendable, Equatable {
    public var image: Double
    public var text: Double
    public var total: Double { image + text }
}

/// A sparse autoencoder (VL-SAE, SAE_D or SAE_V) with sparse forward and backward passes.
///
/// Only the encoder's dense product (rows × h) is computed densely, by one sgemm; top-k
/// selection, decoding (gather-accumulate of k decoder columns), and every gradient touch
/// only the k active units of each row.
public struct SAEModel: Sendable {
    public let config: SAEConfig
    public let layout: ParameterLayout
    /// All parameters, contiguous, in `layout` order (decoder weights transposed, h × d).
    public var parameters: [Float]
    /// Worker threads for row-parallel work (and OpenBLAS, set by the trainer).
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
                let rows = t.shape[0], cols = t.shape[1]
                for i in 0..<rows { for j in 0..<cols { p[t.offset + j * rows + i] = Float(-b + 2 * b * rng.nextDouble()) } }
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
                let rows = t.shape[0], cols = t.shape[1]
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
                let rows = t.shape[0], cols = t.shape[1]
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

    /// What an encoder multiplies inputs by: the row-normalised W (distance encoder) or W itself.
    struct PreparedEncoder {
        var weight: [Float]
        /// ‖Wᵢ‖ (clamped at 1e-12 as F.normalize does); distance encoder only.
        var norms: [Float]
        let distance: Bool
        let bias: Int?
    }

    func prepare(_ e: Int) -> PreparedEncoder {
        let enc = layout.encoders[e]
        let h = config.hidden, d = config.inputDim
        var w = Array(parameters[enc.weight..<(enc.weight + h * d)])
        var norms: [Float] = []
        if enc.distance {
            norms = [Float](repeating: 1, count: h)
            w.withUnsafeMutableBufferPointer { pw in
                for j in 0..<h {
                    let row = pw.baseAddress! + j * d
                    let n = max(Kernel.dot(d, row, row).squareRoot(), 1e-12)
                    norms[j] = n
                    Kernel.scale(d, 1 / n, row)
                }
            }
        }
        return PreparedEncoder(weight: w, norms: norms, distance: enc.distance, bias: enc.bias)
    }

    /// The encoder pass over `rows` rows: codes, the derivative of each kept activation with
    /// respect to its pre-activation (training), and the matrix the encoder multiplied (x̂ or x).
    struct EncoderPass {
        var codes: SparseCodes
        var deriv: [Float]
        var input: [Float]
    }

    func encodePass(_ x: UnsafePointer<Float>, rows: Int, prepared pe: PreparedEncoder, k: Int,
                    training: Bool) -> EncoderPass {
        let h = config.hidden, d = config.inputDim
        let kk = max(0, min(k, h))
        var codes = SparseCodes(rows: rows, hidden: h, k: kk)
        var deriv = [Float](repeating: 0, count: training ? rows * kk : 0)
        var input = Array(UnsafeBufferPointer(start: x, count: rows * d))
        if pe.distance {
            // F.normalize(x, dim=1): x / max(‖x‖, 1e-12).
            for r in 0..<rows {
                var s: Double = 0
                for i in 0..<d { let v = Double(input[r * d + i]); s += v * v }
                let n = max(Float(s.squareRoot()), 1e-12)
                for i in 0..<d { input[r * d + i] /= n }
            }
        }
        var c = [Float](repeating: 0, count: rows * h)
        input.withUnsafeBufferPointer { pin in
            pe.weight.withUnsafeBufferPointer { pw in
                c.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(transA: false, transB: true, m: rows, n: h, k: d, alpha: 1,
                               a: pin.baseAddress!, lda: d, b: pw.baseAddress!, ldb: d,
                               beta: 0, c: pc.baseAddress!, ldc: h)
                }
            }
        }
        let bias: [Float]? = pe.bias.map { Array(parameters[$0..<($0 + h)]) }
        let distance = pe.distance
        c.withUnsafeMutableBufferPointer { pcb in
            codes.indices.withUnsafeMutableBufferPointer { pib in
                codes.values.withUnsafeMutableBufferPointer { pvb in
                    codes.counts.withUnsafeMutableBufferPointer { pnb in
                        deriv.withUnsafeMutableBufferPointer { pdb in
                            let pc = pcb.baseAddress!, pi = pib.baseAddress, pv = pvb.baseAddress
                            let pn = pnb.baseAddress, pd = pdb.baseAddress
                            forEachBlock(rows, threads: threads) { range in
                                let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(h, 1))
                                // Distances kept separately: recovering them as 2 − a would lose
                                // precision exactly where 1/distance is large.
                                let dist = UnsafeMutablePointer<Float>.allocate(capacity: distance && training ? h : 1)
                                defer { scratch.deallocate(); dist.deallocate() }
                                for r in range {
                                    let row = pc + r * h
                                    if distance {
                                        // a = 2 − ‖x̂ − ŵ‖ = 2 − √(2 − 2 x̂·ŵ) for unit vectors.
                                        if training {
                                            for j in 0..<h { dist[j] = max(0, 2 - 2 * row[j]).squareRoot(); row[j] = 2 - dist[j] }
                                        } else {
                                            for j in 0..<h { row[j] = 2 - max(0, 2 - 2 * row[j]).squareRoot() }
                                        }
                                    } else {
                                        // SAE_D / SAE_V: Linear → ReLU, then top-k on the ReLU output.
                                        for j in 0..<h { row[j] = max(0, row[j] + bias![j]) }
                                    }
                                    guard kk > 0, let pi = pi, let pv = pv, let pn = pn else { continue }
                                    let n = TopK.select(row, h: h, k: kk, scratch: scratch,
                                                        indices: pi + r * kk, values: pv + r * kk)
                                    pn[r] = Int32(n)
                                    guard training, let pd = pd else { continue }
                                    for t in 0..<n {
                                        if distance {
                                            // da/dc = 1/√(2 − 2c); at c → 1 the distance is 0 and its
                                            // gradient is taken as 0 (as torch.cdist's backward does).
                                            let u = dist[Int(pi[r * kk + t])]
                                            pd[r * kk + t] = u > 0 ? 1 / u : 0
                                        } else {
                                            // Kept ReLU outputs are > 0, where ReLU's slope is 1.
                                            pd[r * kk + t] = 1
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return EncoderPass(codes: codes, deriv: deriv, input: training ? input : [])
    }

    /// Hidden activations of rows of `x`. `modality` picks the encoder of SAE_D (VL-SAE and
    /// SAE_V share one). `k` (default: the trained k) may be lowered at inference.
    public func encode(_ x: Matrix, modality: Modality = .image, k: Int? = nil) -> SparseCodes {
        precondition(x.cols == config.inputDim, "encode: input has \(x.cols) columns, model expects \(config.inputDim)")
        let kk = max(0, min(k ?? config.topK, config.hidden))
        let pe = prepare(layout.encoderFor[modality == .image ? 0 : 1])
        let chunk = max(1, min(4096, (1 << 22) / max(config.hidden, 1)))
        var out = SparseCodes(rows: x.rows, hidden: config.hidden, k: kk)
        var start = 0
        while start < x.rows && x.cols > 0 {
            let n = min(chunk, x.rows - start)
            let pass = x.values.withUnsafeBufferPointer { px in
                encodePass(px.baseAddress! + start * x.cols, rows: n, prepared: pe, k: kk, training: false)
            }
            out.indices.replaceSubrange((start * kk)..<((start + n) * kk), with: pass.codes.indices)
            out.values.replaceSubrange((start * kk)..<((start + n) * kk), with: pass.codes.values)
            out.counts.replaceSubrange(start..<(start + n), with: pass.codes.counts)
            start += n
        }
        return out
    }

    // MARK: decoder

    func decodeInto(_ codes: SparseCodes, decoder dIndex: Int, out: UnsafeMutablePointer<Float>) {
        let d = config.inputDim, k = codes.k
        let dec = layout.decoders[dIndex]
        parameters.withUnsafeBufferPointer { ppb in
            codes.indices.withUnsafeBufferPointer { pib in
                codes.values.withUnsafeBufferPointer { pvb in
                    codes.counts.withUnsafeBufferPointer { pnb in
                        let pp = ppb.baseAddress!
                        let bias = pp + dec.bias, wT = pp + dec.weightT
                        let pi = pib.baseAddress, pv = pvb.baseAddress, pn = pnb.baseAddress!
                        forEachBlock(codes.rows, threads: threads) { range in
                            for r in range {
                                let o = out + r * d
                                for i in 0..<d { o[i] = bias[i] }
                                for t in 0..<Int(pn[r]) {
                                    Kernel.axpy(d, pv![r * k + t], wT + Int(pi![r * k + t]) * d, o)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The `modality` decoder applied to codes: bias + Σ over active units of value · column.
    public func decode(_ codes: SparseCodes, modality: Modality) -> Matrix {
        precondition(codes.hidden == config.hidden, "decode: codes have \(codes.hidden) units, model has \(config.hidden)")
        var out = Matrix(rows: codes.rows, cols: config.inputDim)
        if codes.rows == 0 { return out }
        out.values.withUnsafeMutableBufferPointer { po in
            decodeInto(codes, decoder: layout.decoderFor[modality == .image ? 0 : 1], out: po.baseAddress!)
        }
        return out
    }

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
            for i in 0..<x.values.count { let e = Double(recon.values[i] - x.values[i]); s += e * e }
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
    public func lossAndGradients(images: Matrix, texts: Matrix, gradients g: inout [Float]) -> StepLoss {
        let d = config.inputDim, h = config.hidden, k = config.topK
        precondition(images.cols == d && texts.cols == d, "training batch has the wrong dimension")
        precondition(images.rows > 0 && texts.rows > 0, "training batch is empty")
        if g.count != layout.count { g = [Float](repeating: 0, count: layout.count) } else {
            g.withUnsafeMutableBufferPointer { p in p.update(repeating: 0) }
        }
        let prepared = (0..<layout.encoders.count).map { prepare($0) }
        var passes: [EncoderPass] = []
        var errors: [[Float]] = []
        var dpre: [[Float]] = []
        var loss = StepLoss(image: 0, text: 0)

        for m in 0..<2 {
            let x = m == 0 ? images : texts
            let b = x.rows
            let dec = layout.decoders[layout.decoderFor[m]]
            let pass = x.values.withUnsafeBufferPointer { px in
                encodePass(px.baseAddress!, rows: b, prepared: prepared[layout.encoderFor[m]], k: k, training: true)
            }
            var e = [Float](repeating: 0, count: b * d)
            e.withUnsafeMutableBufferPointer { pe in decodeInto(pass.codes, decoder: layout.decoderFor[m], out: pe.baseAddress!) }
            // dL/drecon = 2 (recon − x) / (B·d) for the mean-over-elements MSE.
            let scale = Float(2 / Double(max(b * d, 1)))
            var rowSums = [Double](repeating: 0, count: b)
            for r in 0..<b {
                var s: Double = 0
                for i in 0..<d {
                    let diff = e[r * d + i] - x.values[r * d + i]
                    s += Double(diff) * Double(diff)
                    e[r * d + i] = scale * diff
                }
                rowSums[r] = s
            }
            let mse = b == 0 ? 0 : rowSums.reduce(0, +) / Double(b * d)
            if m == 0 { loss.image = mse } else { loss.text = mse }
            for r in 0..<b { for i in 0..<d { g[dec.bias + i] += e[r * d + i] } }

            // dL/dpre for each kept unit: (E_r · decoder column j) · da/dpre.
            var dp = [Float](repeating: 0, count: b * k)
            parameters.withUnsafeBufferPointer { ppb in
                e.withUnsafeBufferPointer { peb in
                    dp.withUnsafeMutableBufferPointer { pdb in
                        let wT = ppb.baseAddress! + dec.weightT, pe = peb.baseAddress!, pd = pdb.baseAddress!
                        let codes = pass.codes, deriv = pass.deriv
                        forEachBlock(b, threads: threads) { range in
                            for r in range {
                                for t in 0..<Int(codes.counts[r]) {
                                    let col = wT + Int(codes.indices[r * k + t]) * d
                                    pd[r * k + t] = Kernel.dot(d, pe + r * d, col) * deriv[r * k + t]
                                }
                            }
                        }
                    }
                }
            }
            passes.append(pass)
            errors.append(e)
            dpre.append(dp)
        }

        // Group the active (row, slot) pairs by unit (counting sort in row order) so that each unit's
        // gradient rows are summed by one thread in a fixed order: no races, no dependence on the
        // thread count, and no rows × h buffer.
        var starts: [[Int32]] = []
        var slots: [[Int32]] = []
        for m in 0..<2 {
            let codes = passes[m].codes
            var start = [Int32](repeating: 0, count: h + 1)
            for r in 0..<codes.rows { for t in 0..<Int(codes.counts[r]) { start[Int(codes.indices[r * k + t]) + 1] += 1 } }
            for j in 0..<h { start[j + 1] += start[j] }
            var fill = start
            var list = [Int32](repeating: 0, count: Int(start[h]))
            for r in 0..<codes.rows {
                for t in 0..<Int(codes.counts[r]) {
                    let j = Int(codes.indices[r * k + t])
                    list[Int(fill[j])] = Int32(r * k + t)
                    fill[j] += 1
                }
            }
            starts.append(start)
            slots.append(list)
        }
        let lay = layout
        g.withUnsafeMutableBufferPointer { pgb in
            let pg = pgb.baseAddress!
            forEachBlock(h, threads: threads, minBlock: 16) { range in
                for j in range {
                    for m in 0..<2 {
                        let dec = lay.decoders[lay.decoderFor[m]], enc = lay.encoders[lay.encoderFor[m]]
                        let gD = pg + dec.weightT + j * d, gW = pg + enc.weight + j * d
                        let codes = passes[m].codes
                        errors[m].withUnsafeBufferPointer { pe in
                            passes[m].input.withUnsafeBufferPointer { px in
                                for s in Int(starts[m][j])..<Int(starts[m][j + 1]) {
                                    let slot = Int(slots[m][s]), r = slot / k
                                    let v = codes.values[slot], dz = dpre[m][slot]
                                    Kernel.axpy(d, v, pe.baseAddress! + r * d, gD)
                                    Kernel.axpy(d, dz, px.baseAddress! + r * d, gW)
                                    if let bias = enc.bias { pg[bias + j] += dz }
                                }
                            }
                        }
                    }
                }
            }
            // Back through ŵ = W/‖W‖: dW = (dŵ − ŵ (ŵ·dŵ)) / ‖W‖.
            for (e, enc) in lay.encoders.enumerated() where enc.distance {
                let pe = prepared[e]
                forEachBlock(h, threads: threads, minBlock: 16) { range in
                    pe.weight.withUnsafeBufferPointer { pw in
                        for j in range {
                            let gw = pg + enc.weight + j * d, w = pw.baseAddress! + j * d
                            Kernel.axpy(d, -Kernel.dot(d, w, gw), w, gw)
                            Kernel.scale(d, 1 / pe.norms[j], gw)
                        }
                    }
                }
            }
        }
        return loss
    }
}
