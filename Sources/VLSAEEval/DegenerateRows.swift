import VLSAECore
import VLSAEData

/// What scoring does with a degenerate row (`--degenerate`).
public enum DegenerateRowPolicy: String, CaseIterable, Sendable {
    /// Refuse the dataset, naming the first offending rows (the default).
    case error
    /// Count every image whose own row, whose true class's row or whose concept code is
    /// degenerate as wrong at every k.
    case countWrong = "count-wrong"
}

/// Rows no cosine can be computed from: an L2 norm (accumulated in double) that is zero, below the
/// smallest normal float (its reciprocal overflows to infinity) or not finite (a NaN or infinite
/// value). Every logit of such a row is 0 or NaN, which ranks nothing, so scoring refuses such
/// rows (or counts them wrong) instead of letting ties decide.
public enum DegenerateRows {
    /// How many offending rows a message lists before "and n more".
    public static let listed = 5

    /// Whether a row with this sum of squares (accumulated in double) is degenerate.
    @inline(__always)
    public static func isDegenerate(sumOfSquares s: Double) -> Bool {
        !s.isFinite || s.squareRoot() < Double(Float.leastNormalMagnitude)
    }

    /// The indices of the degenerate rows of `m`, ascending.
    public static func find(in m: Matrix) -> [Int] {
        var out: [Int] = []
        let c = m.cols
        m.values.withUnsafeBufferPointer { buf in
            for r in 0..<m.rows {
                var s: Double = 0
                for j in 0..<c {
                    let v = Double(buf[r * c + j])
                    s += v * v
                }
                if isDegenerate(sumOfSquares: s) { out.append(r) }
            }
        }
        return out
    }

    /// "rows 0, 3, 7 (of 10)" with at most `listed` indices, then "and n more".
    public static func describe(_ rows: [Int], of total: Int, noun: String = "row") -> String {
        let shown = rows.prefix(listed).map(String.init).joined(separator: ", ")
        let more = rows.count > listed ? " and \(rows.count - listed) more" : ""
        let plural = noun.hasSuffix("s") ? noun + "es" : noun + "s"
        return "\(rows.count == 1 ? noun : plural) \(shown)\(more) (of \(total))"
    }

    /// The message's common tail: what is wrong and how to count such rows instead.
    public static let why =
        "zero, subnormal or non-finite norm: no cosine is defined (use --degenerate count-wrong to count "
        + "the images concerned as wrong)"

    /// Checks the embeddings of `dataset` and its classifier: image rows, per-template text rows
    /// (or classifier rows) and the class vectors built from them. Under `.error` throws naming the
    /// file and the first offending rows; under `.countWrong` returns the images to count wrong
    /// (degenerate image rows, and every image of a class whose vector is degenerate), ascending.
    public static func check(
        _ dataset: ZeroShotDataset, classifier: ZeroShotClassifier, policy: DegenerateRowPolicy
    ) throws -> [Int] {
        func file(_ role: String) -> String {
            dataset.inputs.first(where: { $0.role == role })?.path ?? "dataset \(dataset.name) (\(role))"
        }
        let images = find(in: dataset.images)
        var classes = Set(find(in: classifier.weights))
        var classProblem: (String, String)? = nil
        switch dataset.classText {
        case .perTemplate(let m):
            let rows = find(in: m)
            let t = max(1, dataset.numTemplates)
            for r in rows { classes.insert(r / t) }
            if !rows.isEmpty {
                classProblem = (
                    file("text_embeddings"),
                    "text embedding \(describe(rows, of: m.rows)) (row = class · \(t) + template)"
                )
            }
        case .averaged(let m):
            let rows = find(in: m)
            if !rows.isEmpty { classProblem = (file("classifier"), "classifier \(describe(rows, of: m.rows))") }
        }
        if classProblem == nil, let first = classes.min() {
            classProblem = (
                file(dataset.templateLevel ? "text_embeddings" : "classifier"),
                "the class vectors of \(describe(classes.sorted(), of: dataset.numClasses, noun: "class")) "
                    + "average to a degenerate vector (first: class \(first))"
            )
        }
        if policy == .error {
            if !images.isEmpty {
                throw VLSAEError.file(
                    file("image_embeddings"),
                    "dataset \(dataset.name): image embedding \(describe(images, of: dataset.count)) "
                        + "are degenerate: " + why)
            }
            if let (path, what) = classProblem {
                throw VLSAEError.file(path, "dataset \(dataset.name): \(what) degenerate: " + why)
            }
            return []
        }
        var wrong = Set(images)
        if !classes.isEmpty {
            for (i, label) in dataset.labels.enumerated() where classes.contains(label) { wrong.insert(i) }
        }
        return wrong.sorted()
    }
}

extension Predictions {
    /// These predictions with `images` counted wrong at every k: true rank C, and a top-1 class
    /// other than the label (the lowest-indexed one), so top-1 predictions still agree with top-1
    /// correctness.
    public func countingWrong(images: [Int]) -> Predictions {
        guard !images.isEmpty else { return self }
        var ranks = trueRank
        var tops = top1
        for i in images {
            ranks[i] = numClasses
            if tops[i] == labels[i] { tops[i] = labels[i] == 0 && numClasses > 1 ? 1 : 0 }
        }
        var out = Predictions(labels: labels, numClasses: numClasses, trueRank: ranks, top1: tops)
        out.countedWrong = Set(images).count
        return out
    }
}
