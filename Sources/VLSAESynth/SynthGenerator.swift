import Foundation
import VLSAECore

/// Paired embeddings with the concepts each pair was built from.
public struct SynthPairs: Sendable {
    /// N × d image embeddings, L2-normalised rows.
    public var images: Matrix
    /// N × d caption embeddings, L2-normalised rows; row i describes image i.
    public var texts: Matrix
}

/// A zero-shot set: images, integer labels, and class text embeddings for every template
/// (row c·T + t of `classTexts` is class c under template t).
public struct SynthEvalSet: Sendable {
    /// The specification the set was generated from (name, classes, images).
    public var spec: SynthEvalSetSpec
    /// N × d image embeddings, L2-normalised rows.
    public var images: Matrix
    /// N labels in [0, C), balanced and in a shuffled order.
    public var labels: [Int]
    /// (C·T) × d class text embeddings, L2-normalised rows, class-major.
    public var classTexts: Matrix
    /// T, the number of templates per class.
    public var templateCount: Int
    /// C generated class names (`SynthNames.classnames`), distinct, in label order.
    public var classnames: [String]
    /// The T prompt templates, `{c}` standing for the class name (`SynthNames.templates`).
    public var templates: [String]
    /// The defining concepts of every class (indices into the dictionary).
    public var classConcepts: [[Int]]
    /// The planted concept code of every image: (concept, weight) pairs in ascending concept order, the exact
    /// non-negative mix the image was generated from (its class's concepts and its distractors).
    public var imageCodes: [[(Int, Float)]]
}

/// The planted world: the concept dictionary and the two modality maps. Everything is drawn
/// from `SeededRandom` streams derived from the seed, so a seed fixes every byte.
public struct SynthWorld: Sendable {
    /// The parameters the world was built from (already validated).
    public let parameters: SynthParameters
    /// K × d unit concepts in the shared semantic space (the ground truth dictionary).
    public let concepts: Matrix
    /// K × d concepts as the image map sees them, M_image · c_k (not normalised, no offset):
    /// the directions an image decoder column should find once the offset is in its bias.
    public let imageConcepts: Matrix
    /// K × d concepts as the text map sees them, M_text · c_k: what a text decoder column should find.
    public let textConcepts: Matrix
    /// offset · μ_image and offset · μ_text (d each).
    public let imageOffset: [Float]
    /// offset · μ_text (d), as `imageOffset` for the text modality.
    public let textOffset: [Float]
    /// Mean of M·s/‖s‖ over training-like mixtures, per modality (removed before the offset).
    public private(set) var imageSignalMean: [Float]
    /// The text modality's signal mean, as `imageSignalMean` (d).
    public private(set) var textSignalMean: [Float]
    /// d × d modality maps M = I + distortion · R, row-major.
    let imageMap: Matrix
    let textMap: Matrix
    /// subspaceDim × d bases for each modality's structured noise (rows are directions).
    let imageNoiseBasis: Matrix
    let textNoiseBasis: Matrix
    let spectrum: [Float]
    /// Cumulative concept frequencies for weighted draws.
    let cumulative: [Double]
    /// K concept frequencies, Zipf-distributed with `zipfExponent` over a seeded permutation of ranks, summing to 1.
    public let frequencies: [Double]

    /// Draws the whole world from `parameters.seed`. Throws `VLSAEError.usage` when `validate()` rejects the
    /// parameters.
    public init(parameters p: SynthParameters) throws {
        try p.validate()
        parameters = p
        var rng = SeededRandom(seed: p.seed).derived(1)
        let d = p.dim
        let m = p.subspaceDim
        let k = p.concepts
        spectrum = (0..<m).map { Float(PortableMath.pow(Double($0 + 1), -p.spectrumDecay)) }

        // Gaussian/√d columns are nearly orthonormal in high dimension, which is all the
        // subspace needs; an exact QR would add cost without changing the statistics.
        let basis = SynthWorld.gaussian(rows: m, cols: d, scale: 1 / Double(d).squareRoot(), &rng)
        var coeff = SynthWorld.gaussian(rows: k, cols: m, scale: 1, &rng)
        SynthWorld.scaleColumns(&coeff, spectrum)
        var dict = SynthWorld.gaussian(rows: k, cols: d, scale: p.offSubspace / Double(d).squareRoot(), &rng)
        GEMM.gemm(coeff, basis, into: &dict, accumulate: true)
        dict.normalizeRows()
        concepts = dict

        var ranks = rng.permutation(k)
        var freq = ranks.map { PortableMath.pow(Double($0 + 1), -p.zipfExponent) }
        let total = freq.reduce(0, +)
        freq = freq.map { $0 / total }
        ranks.removeAll()
        frequencies = freq
        var acc = 0.0
        cumulative = freq.map {
            acc += $0
            return acc
        }

        // Offsets: μ = a·u ± b·v with u ⟂ v unit and a² + b² = 1 gives exactly
        // cos(μ_image, μ_text) = a² − b² = offsetCosine.
        let common = SynthWorld.unitVector(d, &rng)
        var own = SynthWorld.unitVector(d, &rng)
        var overlap: Float = 0
        for j in 0..<d { overlap += own[j] * common[j] }
        for j in 0..<d { own[j] -= overlap * common[j] }
        SynthWorld.normalize(&own)
        let a = ((1 + p.offsetCosine) / 2).squareRoot()
        let b = ((1 - p.offsetCosine) / 2).squareRoot()
        var muI = (0..<d).map { Float(a) * common[$0] + Float(b) * own[$0] }
        var muT = (0..<d).map { Float(a) * common[$0] - Float(b) * own[$0] }
        SynthWorld.normalize(&muI)
        SynthWorld.normalize(&muT)
        imageOffset = muI.map { $0 * Float(p.modalityOffset) }
        textOffset = muT.map { $0 * Float(p.modalityOffset) }

        func modalityMap(_ rng: inout SeededRandom) -> Matrix {
            var r = SynthWorld.gaussian(rows: d, cols: d, scale: p.distortion / Double(d).squareRoot(), &rng)
            for i in 0..<d { r[i, i] += 1 }
            return r
        }
        imageMap = modalityMap(&rng)
        textMap = modalityMap(&rng)
        imageNoiseBasis = SynthWorld.gaussian(rows: m, cols: d, scale: 1 / Double(d).squareRoot(), &rng)
        textNoiseBasis = SynthWorld.gaussian(rows: m, cols: d, scale: 1 / Double(d).squareRoot(), &rng)
        imageConcepts = GEMM.matmul(dict, imageMap, transB: true)
        textConcepts = GEMM.matmul(dict, textMap, transB: true)

        // Centre the concept signal: non-negative mixes of popular concepts have a mean whose
        // size and direction depend on which concepts the seed made popular. Removing it (as
        // estimated once from a pilot draw of training-like mixtures) leaves the modality
        // offsets alone to set the cone and the gap, so every seed lands on the same geometry.
        imageSignalMean = [Float](repeating: 0, count: d)
        textSignalMean = imageSignalMean
        var pilotRng = SeededRandom(seed: p.seed).derived(9)
        let pilot = trainMixtures(count: SynthWorld.pilotCount, &pilotRng)
        imageSignalMean = SynthWorld.columnMeans(signal(pilot.image, modality: .image))
        textSignalMean = SynthWorld.columnMeans(signal(pilot.text, modality: .text))
    }

    /// Size of the pilot draw that estimates the signal means.
    static let pilotCount = 4000

    // MARK: - Pairs and eval sets

    /// Training pairs: each image holds activeMin...activeMax concepts drawn by frequency; its
    /// caption names each with probability captionKeep (at least one) plus a few of its own.
    public func trainPairs(count: Int, stream: UInt64 = 2) -> SynthPairs {
        let p = parameters
        var rng = SeededRandom(seed: p.seed).derived(stream)
        let (imageMix, textMix) = trainMixtures(count: count, &rng)
        let images = embed(imageMix, modality: .image, &rng)
        let texts = embed(textMix, modality: .text, &rng)
        return SynthPairs(images: images, texts: texts)
    }

    /// A zero-shot set whose classes are defined by `classConcepts` concepts each. Images hold
    /// their class's concepts (boosted) plus distractors; class texts are the class meaning
    /// plus a per-template direction, through the text map, with per-prompt noise.
    public func evalSet(_ spec: SynthEvalSetSpec, index: Int) -> SynthEvalSet {
        let p = parameters
        var rng = SeededRandom(seed: p.seed).derived(100 + UInt64(index))
        let d = p.dim
        let t = p.templates
        let defining: [[Int]] = (0..<spec.classes).map { _ in
            SynthWorld.distinct(p.classConcepts, below: p.concepts, &rng)
        }
        // Balanced labels in a shuffled order, like the standard test splits.
        let order = rng.permutation(spec.images)
        let labels = order.map { $0 % spec.classes }
        var imageMix: [[(Int, Float)]] = []
        imageMix.reserveCapacity(spec.images)
        for label in labels {
            var mix: [Int: Float] = [:]
            for c in defining[label] { mix[c, default: 0] += Float(p.classBoost + SynthWorld.exponential(0.5, &rng)) }
            let n = p.distractorMin + rng.nextInt(below: p.distractorMax - p.distractorMin + 1)
            for c in drawConcepts(n, excluding: [], &rng) {
                mix[c, default: 0] += Float(SynthWorld.exponential(1, &rng) + 0.2)
            }
            imageMix.append(mix.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
        let images = embed(imageMix, modality: .image, &rng)

        // Template directions are shared by the whole suite (one stream) so that a template
        // means the same thing in every set, as a prompt wording does.
        var trng = SeededRandom(seed: p.seed).derived(3)
        var templateDirections = SynthWorld.gaussian(rows: t, cols: p.subspaceDim, scale: 1, &trng)
        SynthWorld.scaleColumns(&templateDirections, spectrum)
        var tdir = GEMM.matmul(templateDirections, textNoiseBasis)
        tdir.normalizeRows()

        var semantic = Matrix(rows: spec.classes * t, cols: d)
        for c in 0..<spec.classes {
            var meaning = [Float](repeating: 0, count: d)
            for k in defining[c] { for j in 0..<d { meaning[j] += concepts[k, j] } }
            SynthWorld.normalize(&meaning)
            for tt in 0..<t {
                let r = c * t + tt
                for j in 0..<d { semantic[r, j] = meaning[j] + Float(p.templateWeight) * tdir[tt, j] }
            }
        }
        semantic.normalizeRows()
        var mapped = GEMM.matmul(semantic, textMap, transB: true)
        for i in 0..<mapped.rows { for j in 0..<d { mapped.values[i * d + j] -= textSignalMean[j] } }
        let texts = finish(mapped, modality: .text, &rng)
        return SynthEvalSet(
            spec: spec, images: images, labels: labels, classTexts: texts, templateCount: t,
            classnames: SynthNames.classnames(spec.classes, seed: p.seed, stream: 200 + UInt64(index)),
            templates: SynthNames.templates(t), classConcepts: defining, imageCodes: imageMix)
    }

    // MARK: - Mixing

    /// The concept mixes of `count` training pairs (image, caption).
    func trainMixtures(count: Int, _ rng: inout SeededRandom) -> (image: [[(Int, Float)]], text: [[(Int, Float)]]) {
        let p = parameters
        var imageMix: [[(Int, Float)]] = []
        var textMix: [[(Int, Float)]] = []
        imageMix.reserveCapacity(count)
        textMix.reserveCapacity(count)
        for _ in 0..<count {
            let n = p.activeMin + rng.nextInt(below: p.activeMax - p.activeMin + 1)
            let active = drawConcepts(n, excluding: [], &rng)
            let weights = active.map { _ in Float(SynthWorld.exponential(1, &rng) + 0.2) }
            var caption: [(Int, Float)] = []
            for (c, w) in zip(active, weights) where rng.nextDouble() < p.captionKeep { caption.append((c, w)) }
            if caption.isEmpty { caption.append((active[0], weights[0])) }
            let extra = rng.nextInt(below: p.captionExtraMax + 1)
            if extra > 0 {
                for c in drawConcepts(extra, excluding: [], &rng) {
                    caption.append((c, Float(SynthWorld.exponential(1, &rng) + 0.2)))
                }
            }
            imageMix.append(Array(zip(active, weights)))
            textMix.append(caption)
        }
        return (imageMix, textMix)
    }

    /// Mixes are sparse (≈ 4–14 of K concepts), so M·s/‖s‖ is accumulated from the pre-mapped
    /// dictionary rows instead of a dense N×K by K×d product that would be > 99 % zeros.
    func embed(_ mixes: [[(Int, Float)]], modality: Modality, _ rng: inout SeededRandom) -> Matrix {
        var out = signal(mixes, modality: modality)
        let mean = modality == .image ? imageSignalMean : textSignalMean
        let d = parameters.dim
        out.values.withUnsafeMutableBufferPointer { b in
            for i in 0..<mixes.count { for j in 0..<d { b[i * d + j] -= mean[j] } }
        }
        return finish(out, modality: modality, &rng)
    }

    /// M·s/‖s‖ for every mix (no centring, offset or noise).
    func signal(_ mixes: [[(Int, Float)]], modality: Modality) -> Matrix {
        let d = parameters.dim
        let mapped = modality == .image ? imageConcepts : textConcepts
        var out = Matrix(rows: mixes.count, cols: d)
        var plainStore = [Double](repeating: 0, count: d)
        concepts.values.withUnsafeBufferPointer { cb in
            mapped.values.withUnsafeBufferPointer { mb in
                out.values.withUnsafeMutableBufferPointer { ob in
                    plainStore.withUnsafeMutableBufferPointer { pb in
                        let cp = cb.baseAddress!
                        let mp = mb.baseAddress!
                        let op = ob.baseAddress!
                        let plain = pb.baseAddress!
                        for (i, mix) in mixes.enumerated() {
                            plain.update(repeating: 0, count: d)
                            let o = op + i * d
                            for (k, w) in mix {
                                let c = cp + k * d
                                let m = mp + k * d
                                let wd = Double(w)
                                for j in 0..<d {
                                    plain[j] += wd * Double(c[j])
                                    o[j] += w * m[j]
                                }
                            }
                            var n2 = 0.0
                            for j in 0..<d { n2 += plain[j] * plain[j] }
                            let inv = n2 > 0 ? Float(1 / n2.squareRoot()) : 0
                            for j in 0..<d { o[j] *= inv }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Adds the modality's structured noise (unit rows × noise) and offset, then L2-normalises.
    func finish(_ signal: Matrix, modality: Modality, _ rng: inout SeededRandom) -> Matrix {
        let p = parameters
        var z = SynthWorld.gaussian(rows: signal.rows, cols: p.subspaceDim, scale: 1, &rng)
        SynthWorld.scaleColumns(&z, spectrum)
        var noise = GEMM.matmul(z, modality == .image ? imageNoiseBasis : textNoiseBasis)
        noise.normalizeRows()
        let offset = modality == .image ? imageOffset : textOffset
        var out = signal
        let d = p.dim
        let scale = Float(p.noise)
        out.values.withUnsafeMutableBufferPointer { ob in
            noise.values.withUnsafeBufferPointer { nb in
                offset.withUnsafeBufferPointer { fb in
                    let o = ob.baseAddress!
                    let n = nb.baseAddress!
                    let f = fb.baseAddress!
                    for i in 0..<signal.rows {
                        for j in 0..<d { o[i * d + j] += scale * n[i * d + j] + f[j] }
                    }
                }
            }
        }
        out.normalizeRows()
        return out
    }

    /// `n` distinct concepts drawn by frequency (rejection of repeats; n ≪ K).
    func drawConcepts(_ n: Int, excluding: Set<Int>, _ rng: inout SeededRandom) -> [Int] {
        var chosen: [Int] = []
        var seen = excluding
        var attempts = 0
        while chosen.count < n {
            attempts += 1
            let k: Int
            if attempts > 1000 * (n + 1) {
                // Pathological frequency tables: fall back to uniform so generation always ends.
                k = rng.nextInt(below: parameters.concepts)
            } else {
                let u = rng.nextDouble() * (cumulative.last ?? 1)
                var lo = 0
                var hi = cumulative.count - 1
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if cumulative[mid] > u { hi = mid } else { lo = mid + 1 }
                }
                k = lo
            }
            if seen.insert(k).inserted { chosen.append(k) }
        }
        return chosen
    }

    // MARK: - Random helpers

    static func gaussian(rows: Int, cols: Int, scale: Double, _ rng: inout SeededRandom) -> Matrix {
        var values = [Float](repeating: 0, count: rows * cols)
        values.withUnsafeMutableBufferPointer { b in
            for i in 0..<b.count { b[i] = Float(rng.nextGaussian() * scale) }
        }
        return Matrix(rows: rows, cols: cols, values: values)
    }

    static func scaleColumns(_ m: inout Matrix, _ s: [Float]) {
        let c = m.cols
        let rows = m.rows
        m.values.withUnsafeMutableBufferPointer { b in
            for r in 0..<rows { for j in 0..<c { b[r * c + j] *= s[j] } }
        }
    }

    static func columnMeans(_ m: Matrix) -> [Float] {
        var sums = [Double](repeating: 0, count: m.cols)
        m.values.withUnsafeBufferPointer { b in
            for i in 0..<m.rows { for j in 0..<m.cols { sums[j] += Double(b[i * m.cols + j]) } }
        }
        return sums.map { Float($0 / Double(max(m.rows, 1))) }
    }

    static func unitVector(_ d: Int, _ rng: inout SeededRandom) -> [Float] {
        var v = (0..<d).map { _ in Float(rng.nextGaussian()) }
        normalize(&v)
        return v
    }

    static func normalize(_ v: inout [Float]) {
        var s = 0.0
        for x in v { s += Double(x) * Double(x) }
        guard s > 0 else { return }
        let inv = Float(1 / s.squareRoot())
        for i in v.indices { v[i] *= inv }
    }

    static func exponential(_ mean: Double, _ rng: inout SeededRandom) -> Double {
        var u = rng.nextDouble()
        while u <= 0 { u = rng.nextDouble() }
        return -mean * PortableMath.log(u)
    }

    static func distinct(_ n: Int, below k: Int, _ rng: inout SeededRandom) -> [Int] {
        var seen = Set<Int>()
        var out: [Int] = []
        while out.count < n {
            let c = rng.nextInt(below: k)
            if seen.insert(c).inserted { out.append(c) }
        }
        return out
    }
}

/// Deterministic, pronounceable class names and CLIP-style prompt templates.
public enum SynthNames {
    private static let onsets = [
        "b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
        "br", "dr", "gl", "kr", "pl", "st", "tr", "sh", "ch", "th",
    ]
    private static let vowels = ["a", "e", "i", "o", "u", "ai", "ou", "ea"]
    private static let codas = ["", "", "", "n", "r", "l", "s", "k", "m", "x"]

    /// `n` distinct names of 2 or 3 syllables, the same for the same seed and stream (`SynthWorld.evalSet` uses stream
    /// 200 + the set's index).
    public static func classnames(_ n: Int, seed: UInt64, stream: UInt64) -> [String] {
        var rng = SeededRandom(seed: seed).derived(stream)
        var seen = Set<String>()
        var out: [String] = []
        while out.count < n {
            let syllables = 2 + rng.nextInt(below: 2)
            var name = ""
            for s in 0..<syllables {
                name += onsets[rng.nextInt(below: onsets.count)] + vowels[rng.nextInt(below: vowels.count)]
                if s == syllables - 1 { name += codas[rng.nextInt(below: codas.count)] }
            }
            if seen.insert(name).inserted { out.append(name) }
        }
        return out
    }

    private static let base = [
        "a photo of a {c}.", "a blurry photo of a {c}.", "a close-up photo of the {c}.",
        "a drawing of a {c}.", "a photo of the large {c}.", "itap of a {c}.",
        "a photo of the small {c}.", "a bright photo of a {c}.",
    ]

    /// `n` prompt templates with `{c}` for the class name: 8 CLIP-style ones, then numbered "view" variants.
    public static func templates(_ n: Int) -> [String] {
        (0..<n).map { $0 < base.count ? base[$0] : "a photo of a {c}, view \($0 - base.count + 2)." }
    }
}
