import VLSAECore

/// One zero-shot set of the synthetic suite.
@MemberwiseInit
public struct SynthEvalSetSpec: Codable, Equatable, Sendable {
    /// The set's folder and manifest name in the suite (letters, digits, `-`, `_`; unique within a suite), e.g.
    /// "synth10".
    public var name: String
    /// C, the number of classes (at least 2), each defined by `SynthParameters.classConcepts` concepts.
    public var classes: Int
    /// N, the number of images (at least 1); labels are balanced, class sizes differing by at most one.
    public var images: Int
}

/// Every knob of the planted-concept generator ("planted-concepts-v1"). The defaults are tuned
/// so that the generated training pairs land on the geometry of real CLIP ViT-B/32 embeddings
/// (see `SynthStatistics.clipTargets`) and the zero-shot sets have realistic accuracies.
///
/// The generative model, per modality m ∈ {image, text}:
///
///     s      = Σ_k w_k · c_k                       sparse, non-negative mix of unit concepts
///     x_m    = normalise( offset · μ_m + M_m · s/‖s‖ − E[M_m · s/‖s‖] + noise · n̂_m )
///
/// (the expectation estimated once per world from a pilot draw of training-like mixes),
/// with M_m = I + distortion · R_m (R_m Gaussian/√d, one per modality), μ_m a unit offset per
/// modality (cos(μ_image, μ_text) = offsetCosine) and n̂_m a unit vector drawn from a
/// modality-specific low-rank subspace with the same decaying spectrum as the concepts.
/// Concepts are c_k = normalise(B·(σ ⊙ z_k) + offSubspace · g_k/√d): mostly inside an
/// m-dimensional subspace with spectrum σ_j = (j+1)^(−spectrumDecay).
@MemberwiseInit
public struct SynthParameters: Codable, Equatable, Sendable {
    /// Seed of every `SeededRandom` stream of the world, pairs and sets (`--seed`): with the other knobs it fixes every
    /// byte.
    public var seed: UInt64 = 0
    /// d, the embedding dimension (`--dim`; 512, as CLIP ViT-B/32).
    public var dim: Int = 512
    /// Dimension of the subspace the concepts (and the modality noise) mostly live in.
    public var subspaceDim: Int = 160
    /// K, the number of planted concepts (`--concepts`): rows of `concepts.npy`.
    public var concepts: Int = 1536
    /// Exponent of the concept subspace's spectrum σ_j = (j+1)^(−spectrumDecay): larger concentrates concepts in fewer
    /// directions and lowers the effective rank.
    public var spectrumDecay: Double = 0.45
    /// Weight of each concept's isotropic Gaussian part g_k/√d (expected length 1), which takes it off the subspace;
    /// 0 keeps the concepts inside it.
    public var offSubspace: Double = 0.15
    /// Concept frequencies follow Zipf's law with this exponent (heavy-tailed usage).
    public var zipfExponent: Double = 1.0
    /// Fewest concepts active in one training image (at least 1).
    public var activeMin: Int = 4
    /// Most concepts active in one training image (at most `concepts`); the count is uniform in
    /// `activeMin...activeMax`.
    public var activeMax: Int = 12
    /// Probability that a concept of the image is also named by its caption.
    public var captionKeep: Double = 0.65
    /// Up to this many extra concepts only the caption mentions.
    public var captionExtraMax: Int = 2
    /// Length of the modality offset relative to the unit-norm concept signal.
    public var modalityOffset: Double = 1.5
    /// cos(μ_image, μ_text), the cosine between the two unit modality offsets, in [-1, 1].
    public var offsetCosine: Double = 0.3
    /// Scale of the Gaussian part R of each modality map M = I + distortion · R (0: both modalities see the concepts
    /// identically).
    public var distortion: Double = 0.5
    /// Weight of the unit structured-noise vector n̂_m added to every embedding before normalisation, relative to the
    /// unit-norm concept signal.
    public var noise: Double = 0.95
    /// Training pairs written to `train_image.npy` and `train_text.npy` (`--train-pairs`; at least 2).
    public var trainPairs: Int = 30000
    /// T, prompt templates per class (`--templates`): the middle axis of each set's C × T × d `text_embeddings.npy`.
    public var templates: Int = 6
    /// Length of each template's own direction added to the class meaning.
    public var templateWeight: Double = 0.3
    /// Concepts that define each zero-shot class (recorded in the set's `class_concepts.npy`, C × `classConcepts`).
    public var classConcepts: Int = 2
    /// Extra weight of a class's defining concepts in its images (lower is harder).
    public var classBoost: Double = 0.9
    /// Fewest distractor concepts added to an evaluation image beside its class's concepts.
    public var distractorMin: Int = 3
    /// Most distractor concepts added to an evaluation image; the count is uniform in `distractorMin...distractorMax`.
    public var distractorMax: Int = 8
    /// The zero-shot sets (`--eval-sets name:classes:images,…`); the default gives synth10, synth100 and synth1000.
    public var evalSets: [SynthEvalSetSpec] = [
        SynthEvalSetSpec(name: "synth10", classes: 10, images: 2000),
        SynthEvalSetSpec(name: "synth100", classes: 100, images: 5000),
        SynthEvalSetSpec(name: "synth1000", classes: 1000, images: 10000),
    ]
    /// Write embeddings as float16 (`<f2`) to keep the suite small; the dictionary stays float32.
    public var float16: Bool = true

    /// A small suite for tests and smoke runs: same geometry, fewer rows.
    public static func small(seed: UInt64 = 0) -> SynthParameters {
        SynthParameters(
            seed: seed, trainPairs: 3000,
            evalSets: [
                SynthEvalSetSpec(name: "synth10", classes: 10, images: 500),
                SynthEvalSetSpec(name: "synth100", classes: 100, images: 1000),
            ])
    }

    /// Rejects parameter sets the generator cannot honour, with a message naming the knob.
    public func validate() throws {
        func need(_ ok: Bool, _ message: String) throws { if !ok { throw VLSAEError.usage("synth: \(message)") } }
        try need(dim >= 2, "--dim must be at least 2 (got \(dim))")
        try need(
            subspaceDim >= 1 && subspaceDim <= dim, "subspace dimension must be in 1...\(dim) (got \(subspaceDim))")
        try need(concepts >= 2, "--concepts must be at least 2 (got \(concepts))")
        try need(
            activeMin >= 1 && activeMax >= activeMin,
            "active concepts per pair need 1 ≤ min ≤ max (got \(activeMin)...\(activeMax))")
        try need(activeMax <= concepts, "at most \(concepts) concepts can be active (got \(activeMax))")
        try need(
            distractorMin >= 0 && distractorMax >= distractorMin && distractorMax + classConcepts <= concepts,
            "distractors need 0 ≤ min ≤ max and max + class concepts ≤ concepts")
        try need(classConcepts >= 1 && classConcepts <= concepts, "class concepts must be in 1...\(concepts)")
        try need(captionKeep >= 0 && captionKeep <= 1, "caption keep probability must be in [0, 1]")
        try need(
            captionExtraMax >= 0 && captionExtraMax <= concepts, "caption extra concepts must be in 0...\(concepts)")
        try need(offsetCosine >= -1 && offsetCosine <= 1, "offset cosine must be in [-1, 1]")
        try need(templates >= 1, "--templates must be at least 1 (got \(templates))")
        try need(trainPairs >= 2, "--train-pairs must be at least 2 (got \(trainPairs))")
        for v in [
            spectrumDecay, offSubspace, zipfExponent, modalityOffset, distortion, noise, templateWeight, classBoost,
        ] {
            try need(v.isFinite && v >= 0, "scale parameters must be finite and non-negative (got \(v))")
        }
        var names = Set<String>()
        for s in evalSets {
            try need(
                !s.name.isEmpty && s.name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" },
                "eval set name \"\(s.name)\" must be letters, digits, - or _")
            try need(names.insert(s.name).inserted, "eval set name \"\(s.name)\" is used twice")
            try need(s.classes >= 2 && s.images >= 1, "eval set \(s.name) needs ≥ 2 classes and ≥ 1 image")
        }
    }
}
