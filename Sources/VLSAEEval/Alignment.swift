import Foundation
import VLSAECore
import VLSAEData
import VLSAEModel

// Concept-level alignment for zero-shot classification (Eq. 10 of the VL-SAE paper, Shen et al.,
// NeurIPS 2025, arXiv 2510.21323; the variants are listed in the README's "Concept-level
// alignment, made explicit"):
//
//     logit(v, c) = cos(v, t_c) + α · cos(f(v), f(t_c))
//
// The paper does not publish the evaluation script, so every open choice is a parameter that is
// recorded with the result: what f is, how the class text reaches f, which α and how it was
// chosen, and the inference-time sparsity k′. Logits here are the sum above without
// CLIP_benchmark's factor 100 (a positive scale changes no ranking); the baseline term cos(v, t_c)
// uses exactly the CLIP_benchmark class vector.

/// Which side of the autoencoder an embedding goes through: images through the vision decoder,
/// text through the text decoder (and, for SAE-D, through the text encoder).
public enum ConceptSide: String, Sendable, CaseIterable {
    /// `image` goes through the image (vision) side; `text` through the text side.
    case image, text
}

/// f: the sparse hidden activations, the modality decoder's reconstruction of the input, or the
/// planted ground-truth concept code of a synthetic suite (`PlantedConcepts`, no autoencoder).
public enum ConceptRepresentation: String, Sendable, CaseIterable {
    /// `hidden`: the h sparse activations; `reconstruction`: the side's decoder output, d values;
    /// `planted`: the codes a synthetic suite was generated from, read beside each manifest.
    case hidden, reconstruction, planted

    /// Whether f comes from an autoencoder (hidden, reconstruction) rather than from files.
    public var needsAutoencoder: Bool { self != .planted }
}

/// How the class text reaches f.
public enum TextAggregation: String, Sendable, CaseIterable {
    /// f(t_c) with t_c the CLIP_benchmark class vector (templates averaged first).
    case averageFirst = "average-first"
    /// normalise(mean_t normalise(f(e[c, t]))): f on every template embedding, then averaged.
    case perTemplate = "per-template"
}

/// What alignment needs from a trained autoencoder. Implementations must treat `k` as the number
/// of units kept per row (k ≤ trainedK) without retraining.
public protocol ConceptMap {
    /// d, the embedding dimension the map accepts.
    var inputDim: Int { get }
    /// The k the autoencoder was trained with: the most units an inference-time k′ may keep.
    var trainedK: Int { get }
    /// Hidden activations, rows × h (dense, zeros for inactive units).
    func hidden(_ x: Matrix, side: ConceptSide, k: Int) -> Matrix
    /// The side's decoder applied to the k-sparse code, rows × d.
    func reconstruction(_ x: Matrix, side: ConceptSide, k: Int) -> Matrix
}

extension ConceptMap {
    /// f of `x` on `side`: `hidden(_:side:k:)` (rows × h) or `reconstruction(_:side:k:)` (rows × d), as
    /// `representation` says. `planted` codes are not a function of the embedding (`PlantedConcepts`); asking a map
    /// for them is a programming error.
    public func features(_ x: Matrix, side: ConceptSide, representation: ConceptRepresentation, k: Int) -> Matrix {
        switch representation {
        case .hidden: return hidden(x, side: side, k: k)
        case .reconstruction: return reconstruction(x, side: side, k: k)
        case .planted: preconditionFailure("planted concept codes are read from files, not computed by a ConceptMap")
        }
    }
}

// MARK: - Spec

/// One alignment variant as the user writes it:
///
///     representation=hidden|reconstruction|planted,text=average-first|per-template,
///     alpha=fixed:<a>|table:<file>|validated:<grid>|oracle:<grid>[,k=<k'>][,folds=<n>][,val=<manifest>]
///
/// Keys are separated by `,`, so grid values are separated by `;` (or `|`, which needs shell
/// quoting). `representation` defaults to hidden, `text` to average-first; `alpha` is required.
/// `folds` (default 5) and `val` apply to `validated` only. `planted` takes neither `text` nor `k`
/// (its codes are fixed files, the same for every template).
public struct AlignmentSpec: Equatable, Sendable {
    /// What f is (spec key `representation`, default hidden).
    public var representation: ConceptRepresentation
    /// How class text reaches f (spec key `text`, default average-first).
    public var text: TextAggregation
    /// How α is chosen (spec key `alpha`, required).
    public var alpha: AlphaProtocol
    /// Inference-time sparsity; nil = the checkpoint's trained k.
    public var k: Int?
    /// k-fold count when written explicitly; an explicit `folds` always means k-fold on the
    /// evaluation set, even when --validation offers a manifest for the dataset.
    public var folds: Int?
    /// A validation manifest named in the spec itself (`val=`).
    public var validation: String?

    /// Folds of `validated:` k-fold selection when the spec gives no `folds=`.
    public static let defaultFolds = 5

    /// A spec from its parts, unchecked; `init(parsing:)` applies the rules of the spec syntax.
    public init(
        representation: ConceptRepresentation = .hidden, text: TextAggregation = .averageFirst,
        alpha: AlphaProtocol, k: Int? = nil, folds: Int? = nil, validation: String? = nil
    ) {
        self.representation = representation
        self.text = text
        self.alpha = alpha
        self.k = k
        self.folds = folds
        self.validation = validation
    }

    /// Parses the spec syntax above; throws `VLSAEError.usage` for an unknown or repeated key, a bad value, a missing
    /// `alpha`, or `folds`/`val` given with a protocol other than `validated` or together.
    public init(parsing spec: String) throws {
        func fail(_ message: String) -> VLSAEError { .usage("alignment spec \"\(spec)\": \(message)") }
        var representation = ConceptRepresentation.hidden
        var text = TextAggregation.averageFirst
        var alpha: AlphaProtocol?
        var k: Int?
        var folds: Int?
        var validation: String?
        var seen = Set<String>()
        for part in spec.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingCharacters(in: .whitespaces)
            guard let eq = item.firstIndex(of: "=") else {
                throw fail("\"\(item)\" is not key=value")
            }
            let key = String(item[..<eq])
            let value = String(item[item.index(after: eq)...])
            guard seen.insert(key).inserted else { throw fail("key \"\(key)\" given twice") }
            switch key {
            case "representation":
                guard let r = ConceptRepresentation(rawValue: value) else {
                    throw fail("representation must be hidden, reconstruction or planted, got \"\(value)\"")
                }
                representation = r
            case "text":
                guard let t = TextAggregation(rawValue: value) else {
                    throw fail("text must be average-first or per-template, got \"\(value)\"")
                }
                text = t
            case "alpha":
                do { alpha = try AlphaProtocol(parsing: value) } catch let e as VLSAEError { throw fail("\(e)") }
            case "k":
                guard let v = Int(value), v >= 1 else { throw fail("k must be a positive integer, got \"\(value)\"") }
                k = v
            case "folds":
                guard let v = Int(value), v >= 2 else { throw fail("folds must be an integer ≥ 2, got \"\(value)\"") }
                folds = v
            case "val":
                guard !value.isEmpty else { throw fail("val= needs a manifest path") }
                validation = value
            default:
                throw fail("unknown key \"\(key)\"; keys: representation, text, alpha, k, folds, val")
            }
        }
        guard let alpha else { throw fail("alpha is required, e.g. alpha=fixed:1 or alpha=validated:0;0.5;1") }
        if folds != nil || validation != nil, case .validated = alpha {
        } else if folds != nil || validation != nil {
            throw fail("folds and val apply only to alpha=validated:<grid>")
        }
        if folds != nil && validation != nil {
            throw fail("give either val=<manifest> or folds=<n>, not both")
        }
        if representation == .planted && (seen.contains("text") || seen.contains("k")) {
            throw fail("representation=planted takes neither text= nor k= (its codes are the suite's files)")
        }
        self.init(
            representation: representation, text: text, alpha: alpha, k: k, folds: folds,
            validation: validation)
    }

    /// `folds`, or `defaultFolds` when the spec gives none.
    public var effectiveFolds: Int { folds ?? AlignmentSpec.defaultFolds }

    /// The part of the variant string that does not depend on α (`representation=planted` alone for planted codes).
    func conceptPart(k effectiveK: Int) -> String {
        if representation == .planted { return "representation=planted" }
        return "representation=\(representation.rawValue),text=\(text.rawValue),k=\(effectiveK)"
    }
}

// MARK: - Scoring

/// The two similarity terms of every image–class pair, computed block by block:
/// `cosine = normalise(v) · t_cᵀ` with the CLIP_benchmark class vectors, and
/// `concept = normalise(f(v)) · normalise(f(t_c))ᵀ`, both through the deterministic `GEMM`.
public struct ConceptScorer {
    /// What f is for both the images and the class text.
    public let representation: ConceptRepresentation
    /// How the class text reaches f.
    public let text: TextAggregation
    /// k′, the units kept per row: the spec's k or the map's trained k.
    public let k: Int
    /// The dataset's N labels, in image order.
    public let labels: [Int]
    /// C, the number of classes.
    public let numClasses: Int
    /// C × d, the CLIP_benchmark classifier (unit rows).
    public let classVectors: Matrix
    /// C × m, normalised f(t_c); for planted codes C × 0 (they stay sparse in `planted`).
    public let classConcepts: Matrix
    private let images: Matrix
    /// The autoencoder, or nil for planted codes.
    private let map: ConceptMap?
    /// The planted codes of `representation=planted`, or nil.
    public let planted: PlantedConcepts?
    /// Images scored per block (at least 1); memory only, no value depends on it.
    public let blockRows: Int
    /// What scoring does with degenerate rows and concept codes (`DegenerateRows`).
    public let degenerate: DegenerateRowPolicy
    /// Images counted wrong in every row because their embedding, their class's vector or their
    /// class's concept code is degenerate (`.countWrong` only; empty under `.error`).
    public let countedWrong: [Int]
    private let datasetName: String

    /// Checks and prepares everything that does not depend on the images.
    /// - Throws: a usage error for `planted` (it needs codes, not a map), k′ > trained k or a per-template variant on
    ///   a dataset that only provides an averaged classifier; a mismatch for differing dimensions.
    public init(
        dataset: ZeroShotDataset, map: ConceptMap, representation: ConceptRepresentation,
        text: TextAggregation, k requested: Int?, blockRows: Int = ZeroShot.defaultBlockRows,
        degenerate: DegenerateRowPolicy = .error
    ) throws {
        guard representation.needsAutoencoder else {
            throw VLSAEError.usage(
                "representation=planted reads the suite's concept codes, not an autoencoder "
                    + "(ConceptScorer(dataset:planted:), or Alignment.scorer)")
        }
        let k = requested ?? map.trainedK
        guard k >= 1, k <= map.trainedK else {
            throw VLSAEError.usage(
                "k=\(k) exceeds the checkpoint's trained k = \(map.trainedK); "
                    + "inference-time sparsity can only keep fewer units (1 ≤ k ≤ \(map.trainedK))")
        }
        guard dataset.dimension == map.inputDim else {
            throw VLSAEError.mismatch(
                "dataset \(dataset.name) has embeddings of dimension \(dataset.dimension) "
                    + "but the autoencoder expects \(map.inputDim)")
        }
        let blockRows = max(1, blockRows)
        let classifier = ZeroShotClassifier(dataset: dataset)
        let classVectors = classifier.weights
        var wrong = try DegenerateRows.check(dataset, classifier: classifier, policy: degenerate)
        let classConcepts: Matrix

        switch text {
        case .averageFirst:
            classConcepts = map.features(classVectors, side: .text, representation: representation, k: k)
                .normalizedRows()
        case .perTemplate:
            guard case .perTemplate(let embeddings) = dataset.classText else {
                throw VLSAEError.usage(
                    "dataset \(dataset.name) provides only an averaged classifier (C × d), "
                        + "not per-template text embeddings, so text=per-template is impossible; use text=average-first "
                        + "or a manifest with \"text_embeddings\" (C × T × d)")
            }
            let t = dataset.numTemplates
            // f of every template embedding of a few classes at a time: C·T rows of h activations
            // can be gigabytes (ImageNet: 80 000 × 4096).
            let classesPerChunk = max(1, blockRows * 4 / t)
            var out: Matrix?
            var start = 0
            while start < dataset.numClasses {
                let end = min(dataset.numClasses, start + classesPerChunk)
                let f = map.features(
                    embeddings.rows((start * t)..<(end * t)), side: .text,
                    representation: representation, k: k)
                let avg = ZeroShotClassifier.averageTemplates(f, classes: end - start, templates: t)
                if out == nil { out = Matrix(rows: dataset.numClasses, cols: avg.cols) }
                out!.values.replaceSubrange((start * avg.cols)..<(end * avg.cols), with: avg.values)
                start = end
            }
            classConcepts = out!
        }
        // A zeroed (or broken) autoencoder gives class codes with no direction: every concept
        // similarity of that class is 0 or NaN.
        let badClasses = DegenerateRows.find(in: classConcepts)
        if !badClasses.isEmpty {
            if degenerate == .error {
                throw VLSAEError.mismatch(
                    "dataset \(dataset.name): the autoencoder's concept codes f(t_c) of "
                        + DegenerateRows.describe(badClasses, of: dataset.numClasses, noun: "class")
                        + " are degenerate: " + DegenerateRows.why)
            }
            let bad = Set(badClasses)
            wrong += dataset.labels.indices.filter { bad.contains(dataset.labels[$0]) }
        }
        self.init(
            dataset: dataset, representation: representation, text: text, k: k, map: map, planted: nil,
            blockRows: blockRows, degenerate: degenerate, classVectors: classVectors, classConcepts: classConcepts,
            countedWrong: wrong)
    }

    /// Scores a dataset against its planted concept codes (`representation=planted`): k is the
    /// codes' width W, and the text side is the class code (the same for every template).
    /// - Throws: a mismatch when the codes do not cover the dataset's images and classes.
    public init(
        dataset: ZeroShotDataset, planted: PlantedConcepts, blockRows: Int = ZeroShot.defaultBlockRows,
        degenerate: DegenerateRowPolicy = .error
    ) throws {
        guard planted.images.count == dataset.count, planted.classes.count == dataset.numClasses else {
            throw VLSAEError.mismatch(
                "dataset \(dataset.name): planted codes cover \(planted.images.count) images and "
                    + "\(planted.classes.count) classes, the dataset has \(dataset.count) and \(dataset.numClasses)")
        }
        let classifier = ZeroShotClassifier(dataset: dataset)
        // Planted codes are never empty (every image and class has its concepts); the embeddings
        // and class vectors are checked as for an autoencoder's rows.
        let wrong = try DegenerateRows.check(dataset, classifier: classifier, policy: degenerate)
        self.init(
            dataset: dataset, representation: .planted, text: .averageFirst, k: max(1, planted.width), map: nil,
            planted: planted, blockRows: max(1, blockRows), degenerate: degenerate, classVectors: classifier.weights,
            classConcepts: Matrix(rows: dataset.numClasses, cols: 0), countedWrong: wrong)
    }

    /// Every stored property from the two public initialisers, which check and derive them;
    /// `countedWrong` is deduplicated and sorted here.
    private init(
        dataset: ZeroShotDataset, representation: ConceptRepresentation, text: TextAggregation, k: Int,
        map: ConceptMap?, planted: PlantedConcepts?, blockRows: Int, degenerate: DegenerateRowPolicy,
        classVectors: Matrix, classConcepts: Matrix, countedWrong: [Int]
    ) {
        self.representation = representation
        self.text = text
        self.k = k
        self.labels = dataset.labels
        self.numClasses = dataset.numClasses
        self.images = dataset.images
        self.map = map
        self.planted = planted
        self.blockRows = blockRows
        self.degenerate = degenerate
        self.datasetName = dataset.name
        self.classVectors = classVectors
        self.classConcepts = classConcepts
        self.countedWrong = Array(Set(countedWrong)).sorted()
    }

    /// N, the number of images.
    public var count: Int { images.rows }

    /// Both similarity blocks for images `range` (range.count × C each), and the images of the
    /// range whose concept code f(v) is degenerate (indices into the dataset).
    public func similarities(_ range: Range<Int>) -> (cosine: Matrix, concept: Matrix, degenerateCodes: [Int]) {
        let block = images.rows(range)
        let cosine = GEMM.matmul(block.normalizedRows(), classVectors, transB: true)
        if let planted { return (cosine, planted.similarities(range), []) }
        guard let map else { preconditionFailure("a ConceptScorer has an autoencoder or planted codes") }
        let raw = map.features(block, side: .image, representation: representation, k: k)
        let bad = DegenerateRows.find(in: raw).map { $0 + range.lowerBound }
        let concept = GEMM.matmul(raw.normalizedRows(), classConcepts, transB: true)
        return (cosine, concept, bad)
    }

    /// normalise(f(v)) for images `range` (range.count × m) through the autoencoder; for planted codes, the
    /// codes of `planted.images` instead (this returns range.count × 0).
    public func imageFeatures(_ range: Range<Int>) -> Matrix {
        guard let map else { return Matrix(rows: range.count, cols: 0) }
        return map.features(images.rows(range), side: .image, representation: representation, k: k).normalizedRows()
    }

    /// The terms of cos(f(v_i), f(t_c)) for image `i` and class `c`: every unit where both codes are
    /// non-zero, in ascending unit order. Summed in that order with fused multiply-adds
    /// (`acc = fma(image, class, acc)` from 0) they give exactly `similarities(i..<i+1).concept[0, c]`.
    public func conceptTerms(image i: Int, classes: [Int]) -> [[ConceptTerm]] {
        if let planted {
            return classes.map { c in
                var terms: [ConceptTerm] = []
                var j = 0
                let code = planted.classes[c]
                for e in planted.images[i] {
                    while j < code.count && code[j].concept < e.concept { j += 1 }
                    if j < code.count && code[j].concept == e.concept {
                        terms.append(ConceptTerm(unit: e.concept, image: e.weight, classValue: code[j].weight))
                    }
                }
                return terms
            }
        }
        let f = imageFeatures(i..<(i + 1))
        let m = f.cols
        return classes.map { c in
            (0..<m).compactMap { u in
                let a = f.values[u]
                let b = classConcepts.values[c * m + u]
                return a != 0 && b != 0 ? ConceptTerm(unit: u, image: a, classValue: b) : nil
            }
        }
    }

    /// cos(v, t_c) + α · cos(f(v), f(t_c)) for images `range`, in float32 as used for ranking.
    public func logits(alpha: Double, range: Range<Int>) -> Matrix {
        let s = similarities(range)
        return Self.combine(s.cosine, s.concept, alpha: Float(alpha))
    }

    static func combine(_ cosine: Matrix, _ concept: Matrix, alpha: Float) -> Matrix {
        var out = cosine
        for j in out.values.indices { out.values[j] += alpha * concept.values[j] }
        return out
    }

    /// Ranks of the true class for every α of `alphas` and for the concept similarity alone, from
    /// one pass over the images (f(v) is computed once per block). Ranking semantics are
    /// `ZeroShot.predict`'s: ties are broken by class index, lowest first.
    /// Images whose concept code is degenerate are refused under `.error` (naming the first ones)
    /// and, with `countedWrong`, counted wrong in every row under `.countWrong`.
    public func score(alphas: [Double]) throws -> (combined: [Predictions], conceptOnly: Predictions) {
        let n = count
        let c = numClasses
        var ranks = [[Int]](repeating: [Int](repeating: 0, count: n), count: alphas.count + 1)
        var tops = ranks
        var badCodes: [Int] = []
        var start = 0
        while start < n {
            let range = start..<min(n, start + blockRows)
            let s = similarities(range)
            badCodes += s.degenerateCodes
            let blockLabels = Array(labels[range])
            for a in 0...alphas.count {
                let logits = a < alphas.count ? Self.combine(s.cosine, s.concept, alpha: Float(alphas[a])) : s.concept
                let p = ZeroShot.predict(
                    count: range.count, labels: blockLabels, numClasses: c,
                    blockRows: range.count
                ) { _, out in
                    for j in 0..<(range.count * c) { out[j] = logits.values[j] }
                }
                ranks[a].replaceSubrange(range, with: p.trueRank)
                tops[a].replaceSubrange(range, with: p.top1)
            }
            start = range.upperBound
        }
        if degenerate == .error && !badCodes.isEmpty {
            throw VLSAEError.mismatch(
                "dataset \(datasetName): the autoencoder's concept codes f(v) of image "
                    + DegenerateRows.describe(badCodes, of: n) + " are degenerate: " + DegenerateRows.why)
        }
        let wrong = Array(Set(countedWrong + badCodes)).sorted()
        let all = (0...alphas.count).map {
            Predictions(labels: labels, numClasses: c, trueRank: ranks[$0], top1: tops[$0]).countingWrong(images: wrong)
        }
        return (Array(all.dropLast()), all[alphas.count])
    }
}

/// One term of the concept similarity cos(f(v), f(t_c)) = Σ_u f̂(v)_u · f̂(t_c)_u.
public struct ConceptTerm: Sendable, Equatable {
    /// The unit u: a hidden unit (concept) for `hidden`, an embedding dimension for
    /// `reconstruction`, a planted concept for `planted`.
    public var unit: Int
    /// f̂(v)_u, the image's normalised value.
    public var image: Float
    /// f̂(t_c)_u, the class's normalised value.
    public var classValue: Float
    /// The product f̂(v)_u · f̂(t_c)_u, rounded to float32.
    public var contribution: Float { image * classValue }
}

// MARK: - Evaluation of one spec on one dataset

/// One fold of a k-fold α selection.
public struct FoldChoice: Equatable, Sendable {
    /// 0-based index of the held-out fold.
    public let fold: Int
    /// Images scored with this fold's α (the held-out fold).
    public let nImages: Int
    /// α chosen on the other folds.
    public let alpha: Double
    /// acc1 of that α on the other folds (where it was chosen).
    public let selectionAcc1: Double
    /// acc1 of that α on this fold (where it was applied).
    public let heldOutAcc1: Double
}

/// How α was obtained for one dataset.
public struct AlphaOutcome: Equatable, Sendable {
    /// Where the α was chosen (written as the raw value).
    public enum Selection: String, Sendable {
        /// No selection: `fixed` and `table` give α directly.
        case none
        /// The grid α best on a separate validation manifest.
        case validationManifest = "validation-manifest"
        /// Seeded k-fold on the evaluation set, each fold scored with the α chosen on the others.
        case kFold = "kfold"
        /// The grid α best on the evaluation set itself (`oracle`).
        case evaluationSet = "evaluation-set"
    }
    /// `AlphaProtocol.name` of the spec: "fixed", "table", "validated" or "oracle".
    public var protocolName: String
    /// True when α was picked on the evaluation labels; such a row is reported as `Alignment.oracleMethod`.
    public var isOracle = false
    /// The α applied to every image; nil for k-fold (each fold has its own).
    public var alpha: Double?
    /// Where α was chosen; `.none` for fixed and table.
    public var selection = Selection.none
    /// The α grid of `validated` and `oracle`, as the spec's protocol holds it; nil for fixed and table.
    public var grid: [Double]? = nil
    /// acc1 of each grid α on the data it was chosen on (validation set or, for oracle, the
    /// evaluation set); nil for fixed, table and k-fold.
    public var gridAcc1: [Double]? = nil
    /// One choice per fold for k-fold selection, in fold order; nil otherwise.
    public var folds: [FoldChoice]? = nil
    /// Seed of the k-fold assignment; nil unless `selection` is `.kFold`.
    public var foldSeed: UInt64? = nil
    /// For `table:`: the file (its path as the spec gives it) and its SHA-256.
    public var table: FileDigest? = nil
    /// For a validation manifest: its dataset's inputs (manifest first).
    public var validationInputs: [FileDigest]? = nil
}

/// Everything one alignment spec produced on one dataset.
public struct AlignmentOutcome: Sendable {
    /// The spec as given.
    public let spec: AlignmentSpec
    /// Effective inference-time k.
    public let k: Int
    /// The checkpoint's trained k (k′ ≤ trainedK).
    public let trainedK: Int
    /// Canonical variant of the combined score, e.g.
    /// `representation=hidden,text=average-first,k=256,alpha=validated:0;0.5;1,folds=5`.
    public let variant: String
    /// Canonical variant of the concept-only diagnostic, `concept-only:representation=…,text=…,k=…`.
    public let conceptOnlyVariant: String
    /// Predictions of cos(v, t_c) + α · cos(f(v), f(t_c)) with the α of `alpha`.
    public let enhanced: Predictions
    /// Predictions of the concept similarity cos(f(v), f(t_c)) alone, a diagnostic.
    public let conceptOnly: Predictions
    /// How α was obtained, with what reproduces the choice.
    public let alpha: AlphaOutcome
    /// The planted code files read for `representation=planted` (evaluation and validation set); empty otherwise.
    public var plantedInputs: [FileDigest] = []

    /// "cosine+concept" ("planted-concepts" for planted codes), or "cosine+concept-oracle" when α was picked on
    /// the evaluation set.
    public var method: String {
        if alpha.isOracle { return Alignment.oracleMethod }
        return spec.representation == .planted ? Alignment.plantedMethod : Alignment.combinedMethod
    }
}

/// Scoring of alignment specs and the method names result rows carry.
public enum Alignment {
    /// Method name of the raw-cosine baseline rows.
    public static let baselineMethod = "cosine"
    /// Variant string of the baseline rows.
    public static let baselineVariant = "cosine"
    /// Method name of combined rows whose α was not picked on the evaluation labels.
    public static let combinedMethod = "cosine+concept"
    /// Method name of combined rows whose α was picked on the evaluation set (`oracle:`).
    public static let oracleMethod = "cosine+concept-oracle"
    /// Method name of the concept-similarity-only diagnostic rows.
    public static let conceptOnlyMethod = "concept-only"
    /// Method name of combined rows whose f is the suite's planted concept code (the positive control).
    public static let plantedMethod = "planted-concepts"

    /// The scorer of `spec` on `dataset`: through `map`, or, for `representation=planted`, through the codes
    /// `planted` gives for the dataset.
    public static func scorer(
        _ spec: AlignmentSpec, dataset: ZeroShotDataset, map: ConceptMap?,
        planted: (ZeroShotDataset) throws -> PlantedConcepts, blockRows: Int = ZeroShot.defaultBlockRows,
        degenerate: DegenerateRowPolicy = .error
    ) throws -> ConceptScorer {
        if spec.representation == .planted {
            return try ConceptScorer(
                dataset: dataset, planted: planted(dataset), blockRows: blockRows, degenerate: degenerate)
        }
        guard let map else {
            throw VLSAEError.usage(
                "representation=\(spec.representation.rawValue) needs an autoencoder (--sae); only planted needs none")
        }
        return try ConceptScorer(
            dataset: dataset, map: map, representation: spec.representation,
            text: spec.text, k: spec.k, blockRows: blockRows, degenerate: degenerate)
    }

    /// Scores one spec on one dataset.
    ///
    /// - Parameters:
    ///   - spec: the alignment variant (representation, text side, k, α protocol).
    ///   - dataset: the evaluation set.
    ///   - map: the autoencoder (or any concept map) that gives f; nil only for `representation=planted`.
    ///   - planted: the planted codes of a dataset, for `representation=planted` (default: the files beside its
    ///     manifest, `PlantedConcepts.load(besideManifestOf:)`).
    ///   - validation: a validation dataset for `validated:` (from `val=` or `--validation`); it
    ///     must have the same name and class names. Without one, or when the spec says `folds=`,
    ///     `validated:` runs k-fold on `dataset`, each fold scored with the α chosen on the other folds.
    ///   - validationSource: how the validation set was named, recorded in the variant.
    ///   - alphaTables: α tables already read, by the path the spec gives (others are read here).
    ///   - seed: seed of the k-fold assignment.
    ///   - blockRows: images scored per block (memory only: no value depends on it).
    ///   - degenerate: what to do with degenerate embeddings and concept codes (`DegenerateRows`).
    public static func evaluate(
        _ spec: AlignmentSpec, dataset: ZeroShotDataset, map: ConceptMap?,
        planted: (ZeroShotDataset) throws -> PlantedConcepts = PlantedConcepts.load(besideManifestOf:),
        validation: ZeroShotDataset? = nil, validationSource: String? = nil,
        alphaTables: [String: AlphaTable] = [:],
        seed: UInt64, blockRows: Int = ZeroShot.defaultBlockRows,
        degenerate: DegenerateRowPolicy = .error
    ) throws -> AlignmentOutcome {
        let scorer = try Self.scorer(
            spec, dataset: dataset, map: map, planted: planted, blockRows: blockRows, degenerate: degenerate)
        var plantedInputs = scorer.planted?.inputs ?? []
        let k = scorer.k
        var variant = spec.conceptPart(k: k) + ",alpha=\(spec.alpha.canonical)"
        let conceptOnlyVariant = "concept-only:" + spec.conceptPart(k: k)

        let predictions: Predictions
        let conceptOnly: Predictions
        let outcome: AlphaOutcome
        switch spec.alpha {
        case .fixed(let a):
            let s = try scorer.score(alphas: [a])
            (predictions, conceptOnly) = (s.combined[0], s.conceptOnly)
            outcome = AlphaOutcome(protocolName: "fixed", alpha: a)
        case .table(let path):
            let table = try alphaTables[path] ?? AlphaTable.load(path: path)
            let a = try table.alpha(for: dataset.name)
            let s = try scorer.score(alphas: [a])
            (predictions, conceptOnly) = (s.combined[0], s.conceptOnly)
            outcome = AlphaOutcome(protocolName: "table", alpha: a, table: table.digest)
        case .oracle(let grid):
            let s = try scorer.score(alphas: grid)
            let counts = s.combined.map(correctCount)
            let best = AlphaSelection.best(counts)
            (predictions, conceptOnly) = (s.combined[best], s.conceptOnly)
            outcome = AlphaOutcome(
                protocolName: "oracle", isOracle: true, alpha: grid[best],
                selection: .evaluationSet, grid: grid,
                gridAcc1: counts.map { Double($0) / Double(dataset.count) })
        case .validated(let grid):
            if let validation, spec.folds == nil {
                try checkPairing(validation, dataset)
                let vscorer = try Self.scorer(
                    spec, dataset: validation, map: map, planted: planted, blockRows: blockRows, degenerate: degenerate)
                plantedInputs += vscorer.planted?.inputs ?? []
                let vs = try vscorer.score(alphas: grid)
                let counts = vs.combined.map(correctCount)
                let best = AlphaSelection.best(counts)
                let s = try scorer.score(alphas: [grid[best]])
                (predictions, conceptOnly) = (s.combined[0], s.conceptOnly)
                variant += ",val=\(validationSource ?? validation.inputs.first?.path ?? validation.name)"
                outcome = AlphaOutcome(
                    protocolName: "validated", alpha: grid[best],
                    selection: .validationManifest, grid: grid,
                    gridAcc1: counts.map { Double($0) / Double(validation.count) },
                    validationInputs: validation.inputs)
            } else {
                let folds = spec.effectiveFolds
                guard folds <= dataset.count else {
                    throw VLSAEError.usage(
                        "dataset \(dataset.name) has \(dataset.count) images, fewer than folds=\(folds)")
                }
                let s = try scorer.score(alphas: grid)
                let fold = AlphaSelection.foldAssignment(count: dataset.count, folds: folds, seed: seed)
                let result = kFold(s.combined, fold: fold, folds: folds, grid: grid)
                (predictions, conceptOnly) = (result.predictions, s.conceptOnly)
                variant += ",folds=\(folds)"
                outcome = AlphaOutcome(
                    protocolName: "validated", alpha: nil, selection: .kFold,
                    grid: grid, folds: result.folds, foldSeed: seed)
            }
        }
        return AlignmentOutcome(
            spec: spec, k: k, trainedK: map?.trainedK ?? k, variant: variant,
            conceptOnlyVariant: conceptOnlyVariant, enhanced: predictions,
            conceptOnly: conceptOnly, alpha: outcome, plantedInputs: plantedInputs)
    }

    /// Cross-validated scoring: images of fold f get the ranks of the grid α that has the most
    /// top-1 hits on all other folds (ties → smallest α).
    public static func kFold(_ perAlpha: [Predictions], fold: [Int], folds: Int, grid: [Double])
        -> (predictions: Predictions, folds: [FoldChoice])
    {
        precondition(!perAlpha.isEmpty && perAlpha.count == grid.count)
        let n = fold.count
        // hits[a][f]: top-1 hits of α a inside fold f.
        var hits = [[Int]](repeating: [Int](repeating: 0, count: folds), count: grid.count)
        var size = [Int](repeating: 0, count: folds)
        for i in 0..<n { size[fold[i]] += 1 }
        for (a, p) in perAlpha.enumerated() {
            for i in 0..<n where p.trueRank[i] == 0 { hits[a][fold[i]] += 1 }
        }
        var choice = [Int](repeating: 0, count: folds)
        var records: [FoldChoice] = []
        for f in 0..<folds {
            let outside = hits.map { $0.reduce(0, +) - $0[f] }
            let best = AlphaSelection.best(outside)
            choice[f] = best
            let rest = n - size[f]
            records.append(
                FoldChoice(
                    fold: f, nImages: size[f], alpha: grid[best],
                    selectionAcc1: rest > 0 ? Double(outside[best]) / Double(rest) : 0,
                    heldOutAcc1: size[f] > 0 ? Double(hits[best][f]) / Double(size[f]) : 0))
        }
        let first = perAlpha[0]
        var ranks = [Int](repeating: 0, count: n)
        var top1 = ranks
        for i in 0..<n {
            let p = perAlpha[choice[fold[i]]]
            ranks[i] = p.trueRank[i]
            top1[i] = p.top1[i]
        }
        var combined = Predictions(labels: first.labels, numClasses: first.numClasses, trueRank: ranks, top1: top1)
        combined.countedWrong = first.countedWrong  // the same images for every α
        return (combined, records)
    }

    static func correctCount(_ p: Predictions) -> Int { p.trueRank.lazy.filter { $0 == 0 }.count }

    static func checkPairing(_ validation: ZeroShotDataset, _ dataset: ZeroShotDataset) throws {
        let source = validation.inputs.first?.path ?? validation.name
        guard validation.name == dataset.name else {
            throw VLSAEError.file(source, "validation dataset is \"\(validation.name)\", not \"\(dataset.name)\"")
        }
        guard validation.classnames == dataset.classnames else {
            throw VLSAEError.file(
                source,
                "validation class names differ from those of \(dataset.name) "
                    + "(sha256 \(validation.classnamesSHA256) vs \(dataset.classnamesSHA256))")
        }
        // The same images and labels (the same manifest, a copy, or the same arrays in another
        // file): an α chosen there is chosen on the evaluation labels, an oracle.
        guard validation.images != dataset.images || validation.labels != dataset.labels else {
            throw VLSAEError.usage(
                "validation manifest \(source) holds the evaluation images and labels of \(dataset.name) themselves: "
                    + "an alpha chosen on them is an oracle; give a held-out validation set, or say alpha=oracle:<grid>"
            )
        }
    }
}

// MARK: - The project's autoencoders

extension SAEModel: ConceptMap {
    /// d, the autoencoder's input dimension.
    public var inputDim: Int { config.inputDim }
    /// The checkpoint's top-k.
    public var trainedK: Int { config.topK }

    /// The dense rows × h activations of `encode` on `side`'s modality, keeping at most `k` units per row.
    public func hidden(_ x: Matrix, side: ConceptSide, k: Int) -> Matrix {
        encode(x, modality: side.modality, k: k).dense()
    }

    /// `reconstruct` on `side`'s modality with `k` units kept: rows × d.
    public func reconstruction(_ x: Matrix, side: ConceptSide, k: Int) -> Matrix {
        reconstruct(x, modality: side.modality, k: k)
    }
}

extension ConceptSide {
    var modality: Modality { self == .image ? .image : .text }
}
