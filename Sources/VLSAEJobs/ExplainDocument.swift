import VLSAECore
import VLSAEEval
import VLSAEReport

/// What `vlsae explain` writes as `explain.json` (snake_case keys, `CanonicalJSON`): for one
/// alignment row of a result document, every image the row and its baseline disagree on, with the
/// concepts that moved the logit, and a per-class table of gains and losses.
public struct ExplainDocument: Codable, Equatable, Sendable {
    /// The `vlsae` that re-derived the rows.
    public var tool: ToolRecord
    /// The result document explained, with the SHA-256 of its bytes.
    public var result: FileDigest
    /// The explained row's canonical variant string (as in the result).
    public var variant: String
    /// The explained row's method (`cosine+concept`, `planted-concepts`, …).
    public var method: String
    /// The variant the row was compared with: the cosine baseline.
    public var baseline: String
    /// The autoencoder the row cites (nil for planted codes), its SHA-256 verified before use.
    public var checkpoint: CheckpointRecord?
    /// At most this many terms are listed per class logit; the rest are summed in `rest_sum`.
    public var limit: Int
    /// One entry per dataset the row was scored on (or the one `--dataset` names), in result order.
    public var datasets: [ExplainDataset]
    /// With `--image-paths`: the image list (with its SHA-256) and the montages drawn from it, paths
    /// relative to the output folder (`ExplainMontages`); nil otherwise.
    public var montages: ExplainMontages.Drawn? = nil
}

/// The explanation of one dataset's row.
public struct ExplainDataset: Codable, Equatable, Sendable {
    /// The dataset's name.
    public var dataset: String
    /// N, images scored.
    public var nImages: Int
    /// C, the number of classes.
    public var nClasses: Int
    /// Top-1 accuracy of the baseline, re-derived and equal to the result's.
    public var baselineAcc1: Double
    /// Top-1 accuracy of the aligned row, re-derived and equal to the result's.
    public var alignedAcc1: Double
    /// Images the aligned row got right and the baseline wrong (= the result's `flips.gained`).
    public var gained: Int
    /// Images the baseline got right and the aligned row wrong (= the result's `flips.lost`).
    public var lost: Int
    /// Every flipped image, in image order.
    public var flips: [FlippedImage]
    /// Every class, in label order.
    public var classes: [ClassDelta]
}

/// One image whose top-1 outcome the alignment changed.
public struct FlippedImage: Codable, Equatable, Sendable {
    /// Row index of the image in the dataset's image embeddings.
    public var image: Int
    /// "gained" (aligned right, baseline wrong) or "lost" (baseline right, aligned wrong).
    public var direction: String
    /// The true class.
    public var label: Int
    /// The baseline's top-1 class.
    public var baselinePrediction: Int
    /// The aligned row's top-1 class.
    public var alignedPrediction: Int
    /// The α the image was scored with (its fold's α under k-fold selection).
    public var alpha: Double
    /// The logit of the true class.
    public var trueClass: ClassLogit
    /// The logit of the other side's choice: the baseline's wrong class for a gain, the aligned
    /// row's wrong class for a loss.
    public var rivalClass: ClassLogit
}

/// One class's aligned logit, cos(v, t_c) + α · cos(f(v), f(t_c)), and the concept terms of its second part.
public struct ClassLogit: Codable, Equatable, Sendable {
    /// The class index.
    public var classIndex: Int
    /// The class name.
    public var classname: String
    /// cos(v, t_c), float32 as ranked.
    public var cosine: Float
    /// cos(f(v), f(t_c)), float32 as ranked.
    public var concept: Float
    /// cosine + α · concept, float32 as ranked.
    public var logit: Float
    /// Number of units where both codes are non-zero.
    public var termCount: Int
    /// The `limit` largest terms, largest contribution first (ties: lower unit first).
    public var terms: [ConceptTermRecord]
    /// Sum (in double) of the terms not listed; listed contributions + rest_sum = concept up to float rounding.
    public var restSum: Double
}

/// One term f̂(v)_u · f̂(t_c)_u of the concept similarity, as `explain.json` writes it.
public struct ConceptTermRecord: Codable, Equatable, Sendable {
    /// The unit: a hidden unit for `representation=hidden`, a planted concept for `planted`, an
    /// embedding dimension for `reconstruction`.
    public let unit: Int
    /// f̂(v)_u, the image's normalised value.
    public let imageValue: Float
    /// f̂(t_c)_u, the class's normalised value.
    public let classValue: Float
    /// Their product (float32).
    public let contribution: Float

    /// The record of `term`, its contribution included.
    public init(_ term: ConceptTerm) {
        (unit, imageValue, classValue, contribution) = (term.unit, term.image, term.classValue, term.contribution)
    }
}

/// One class's top-1 outcome under the baseline and the aligned row.
public struct ClassDelta: Codable, Equatable, Sendable {
    /// The class index.
    public let classIndex: Int
    /// The class name.
    public let classname: String
    /// Images of the class.
    public let nImages: Int
    /// Of them, right under the baseline.
    public let baselineCorrect: Int
    /// Of them, right under the aligned row.
    public let alignedCorrect: Int
    /// Wrong under the baseline, right aligned.
    public let gained: Int
    /// Right under the baseline, wrong aligned.
    public let lost: Int
    /// (aligned_correct − baseline_correct) / n_images; 0 for a class without images.
    public let deltaRecall: Double

    /// The row of class `index` from the per-image outcomes of the whole dataset.
    public init(index: Int, classname: String, labels: [Int], baselineRight: [Bool], alignedRight: [Bool]) {
        classIndex = index
        self.classname = classname
        let mine = labels.indices.filter { labels[$0] == index }
        nImages = mine.count
        baselineCorrect = mine.filter { baselineRight[$0] }.count
        alignedCorrect = mine.filter { alignedRight[$0] }.count
        gained = mine.filter { alignedRight[$0] && !baselineRight[$0] }.count
        lost = mine.filter { baselineRight[$0] && !alignedRight[$0] }.count
        deltaRecall = nImages > 0 ? Double(alignedCorrect - baselineCorrect) / Double(nImages) : 0
    }
}
