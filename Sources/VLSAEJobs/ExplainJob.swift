import Foundation
import VLSAECore
import VLSAEData
import VLSAEEval
import VLSAEModel
import VLSAEReport

/// `vlsae explain`: why an alignment row of a result document gained or lost images against its
/// cosine baseline. It re-derives the row from what the document records (manifests, checkpoint,
/// planted codes and α table by path and SHA-256, the variant string, the fold seed), refuses to
/// go on when a file's SHA-256 or a re-derived accuracy or flip count differs from the document,
/// and then, for every flipped image, splits the concept term cos(f(v), f(t_c)) of the true and
/// the rival class into its per-unit terms. Computes only: the caller writes the document.
public enum ExplainJob {
    /// What `vlsae explain` passes.
    @MemberwiseInit
    public struct Options: Sendable {
        /// The result document (`vlsae eval --out`).
        public var resultPath: String
        /// The canonical variant string of the row to explain (`--row`), as the result records it.
        public var variant: String
        /// Only this dataset (`--dataset`); nil: every dataset the row was scored on.
        public var dataset: String? = nil
        /// Terms listed per class logit (`--limit`, at least 1); the rest are summed.
        public var limit: Int = 20
        /// Worker threads of the autoencoder (speed only).
        public var threads: Int = 1
        /// Whether to print progress lines to standard error.
        public var progress: Bool = true
    }

    /// Re-derives the row on every dataset and explains its flips.
    /// - Throws: a usage error for a bad limit or an unknown row or dataset; `VLSAEError.file` for
    ///   a file whose SHA-256 differs from the result's or a re-derived figure that differs.
    public static func run(_ o: Options) throws -> ExplainDocument {
        guard o.limit >= 1 else { throw VLSAEError.usage("--limit must be at least 1, got \(o.limit)") }
        guard o.threads >= 1 else { throw VLSAEError.usage("--threads must be at least 1, got \(o.threads)") }
        let bytes = try readFile(o.resultPath)
        let resultDigest = FileDigest(of: bytes, path: o.resultPath)
        let doc = try ResultDocument.read(from: o.resultPath)
        let rows = doc.results.filter { $0.variant == o.variant && (o.dataset == nil || $0.dataset == o.dataset) }
        guard let first = rows.first else {
            let known = Set(doc.results.compactMap { $0.alignment?.score == "concept-only" ? nil : $0.variant })
                .subtracting([Alignment.baselineVariant]).sorted()
            let scope = o.dataset.map { " on dataset \($0)" } ?? ""
            throw VLSAEError.usage(
                "\(o.resultPath) has no row \"\(o.variant)\"\(scope); alignment rows: "
                    + (known.isEmpty ? "none" : known.joined(separator: " | ")))
        }
        guard let record = first.alignment, record.score == "cosine+concept" else {
            throw VLSAEError.usage(
                "row \"\(o.variant)\" is not an aligned cosine+concept row; explain compares such a row with its baseline"
            )
        }
        let spec = try AlignmentSpec(parsing: o.variant)
        let recorded = Dictionary(doc.inputs.map { ($0.path, $0.sha256) }, uniquingKeysWith: { a, _ in a })
        func verify(_ files: [FileDigest]) throws {
            for f in files {
                guard let sha = recorded[f.path] else {
                    throw VLSAEError.file(
                        f.path, "read while re-deriving the row, but \(o.resultPath) does not record it")
                }
                guard sha == f.sha256 else {
                    throw VLSAEError.file(
                        f.path,
                        "SHA-256 \(f.sha256) differs from \(sha) recorded in \(o.resultPath): not the file the result was computed from"
                    )
                }
            }
        }
        var model: SAEModel?
        if let c = first.checkpoint {
            if o.progress { Progress.note("loading autoencoder \(c.path)") }
            let loaded = try Checkpoint.load(path: c.path, topK: record.trainedK)
            guard loaded.sha256 == c.sha256 else {
                throw VLSAEError.file(
                    c.path, "SHA-256 \(loaded.sha256) differs from \(c.sha256) recorded in \(o.resultPath)")
            }
            var m = loaded.model
            m.threads = o.threads
            model = m
        }
        let manifests = try manifestsByName(doc)
        var datasets: [ExplainDataset] = []
        for row in rows {
            guard let path = manifests[row.dataset] else {
                throw VLSAEError.file(o.resultPath, "records no manifest of dataset \(row.dataset)")
            }
            if o.progress { Progress.note("\(row.dataset): re-deriving from \(path)") }
            let dataset = try ZeroShotDataset.load(manifestPath: path)
            try verify(dataset.inputs)
            var validation: ZeroShotDataset?
            if let v = spec.validation {
                validation = try ZeroShotDataset.load(manifestPath: v)
                try verify(validation!.inputs)
            }
            let baseRow = doc.results.first { $0.dataset == row.dataset && $0.alignment == nil }
            datasets.append(
                try explain(
                    row, spec: spec, dataset: dataset, validation: validation, baseline: baseRow, model: model,
                    seed: row.alignment?.foldSeed ?? doc.seeds["folds"] ?? 0, limit: o.limit,
                    threads: o.threads, resultPath: o.resultPath, verify: verify))
        }
        return ExplainDocument(
            tool: ToolIdentity.record(), result: resultDigest, variant: o.variant, method: first.method,
            baseline: Alignment.baselineVariant, checkpoint: first.checkpoint, limit: o.limit, datasets: datasets)
    }

    /// The manifests the document records (role `manifest`), by the dataset name each declares.
    static func manifestsByName(_ doc: ResultDocument) throws -> [String: String] {
        var out: [String: String] = [:]
        for f in doc.inputs where f.role == "manifest" {
            let m = try Manifest.load(path: f.path)
            if out[m.name] == nil { out[m.name] = f.path }
        }
        return out
    }

    static func explain(
        _ row: ResultRow, spec: AlignmentSpec, dataset: ZeroShotDataset, validation: ZeroShotDataset?,
        baseline: ResultRow?, model: SAEModel?, seed: UInt64, limit: Int, threads: Int, resultPath: String,
        verify: ([FileDigest]) throws -> Void
    ) throws -> ExplainDataset {
        let base = ZeroShot.predict(
            images: dataset.images, labels: dataset.labels, classifier: ZeroShotClassifier(dataset: dataset),
            threads: threads)
        if spec.representation == .planted, let manifest = dataset.inputs.first(where: { $0.role == "manifest" }) {
            // Checked before the codes are parsed, so a changed file is reported as changed.
            let folder = (manifest.path as NSString).deletingLastPathComponent
            try verify(
                try [
                    PlantedConcepts.imageConceptsFile, PlantedConcepts.imageWeightsFile,
                    PlantedConcepts.classConceptsFile,
                ]
                .map {
                    let path = folder.isEmpty ? $0 : (folder as NSString).appendingPathComponent($0)
                    return FileDigest(path: path, sha256: try SHA256.hex(fileAt: path))
                })
        }
        var plantedRead: [FileDigest] = []
        let planted: (ZeroShotDataset) throws -> PlantedConcepts = {
            let p = try PlantedConcepts.load(besideManifestOf: $0)
            plantedRead += p.inputs
            return p
        }
        let out = try Alignment.evaluate(
            spec, dataset: dataset, map: model, planted: planted, validation: validation,
            validationSource: spec.validation, seed: seed)
        try verify(plantedRead)
        let baseMetrics = Metrics.compute(base)
        let aligned = Metrics.compute(out.enhanced)
        let n = dataset.count
        var gained = 0
        var lost = 0
        for i in 0..<n {
            if base.trueRank[i] != 0 && out.enhanced.trueRank[i] == 0 { gained += 1 }
            if base.trueRank[i] == 0 && out.enhanced.trueRank[i] != 0 { lost += 1 }
        }
        func differs(_ what: String, _ now: String, _ then: String) -> VLSAEError {
            .file(resultPath, "dataset \(dataset.name): re-derived \(what) \(now) differs from the recorded \(then)")
        }
        if let baseline, baseline.metrics.acc1 != baseMetrics.acc1 {
            throw differs("baseline acc1", "\(baseMetrics.acc1)", "\(baseline.metrics.acc1)")
        }
        guard row.metrics.acc1 == aligned.acc1 else {
            throw differs("acc1 of \(row.variant ?? "")", "\(aligned.acc1)", "\(row.metrics.acc1)")
        }
        if let flips = row.comparison?.flips, flips.gained != gained || flips.lost != lost {
            throw differs("flips", "+\(gained)/−\(lost)", "+\(flips.gained)/−\(flips.lost)")
        }

        // The α of every image: one α, or under k-fold the α of the image's fold.
        let alphaOf: (Int) -> Double
        if let a = out.alpha.alpha {
            alphaOf = { _ in a }
        } else if let folds = out.alpha.folds {
            let assignment = AlphaSelection.foldAssignment(count: n, folds: folds.count, seed: seed)
            alphaOf = { folds[assignment[$0]].alpha }
        } else {
            alphaOf = { _ in 0 }
        }
        let scorer = try Alignment.scorer(spec, dataset: dataset, map: model, planted: planted)
        var flips: [FlippedImage] = []
        for i in 0..<n {
            let wasRight = base.trueRank[i] == 0
            let isRight = out.enhanced.trueRank[i] == 0
            guard wasRight != isRight else { continue }
            let label = dataset.labels[i]
            let rival = isRight ? base.top1[i] : out.enhanced.top1[i]
            let alpha = alphaOf(i)
            let s = scorer.similarities(i..<(i + 1))
            let terms = scorer.conceptTerms(image: i, classes: [label, rival])
            func logit(_ c: Int, _ t: [ConceptTerm]) -> ClassLogit {
                let cosine = s.cosine.values[c]
                let concept = s.concept.values[c]
                let ranked = t.sorted { ($0.contribution, -$0.unit) > ($1.contribution, -$1.unit) }
                let listed = ranked.prefix(limit)
                let rest = ranked.dropFirst(limit).reduce(0.0) { $0 + Double($1.contribution) }
                return ClassLogit(
                    classIndex: c, classname: dataset.classnames[c], cosine: cosine, concept: concept,
                    logit: cosine + Float(alpha) * concept, termCount: t.count,
                    terms: listed.map(ConceptTermRecord.init),
                    restSum: rest)
            }
            flips.append(
                FlippedImage(
                    image: i, direction: isRight ? "gained" : "lost", label: label,
                    baselinePrediction: base.top1[i], alignedPrediction: out.enhanced.top1[i], alpha: alpha,
                    trueClass: logit(label, terms[0]), rivalClass: logit(rival, terms[1])))
        }
        let baseRight = base.trueRank.map { $0 == 0 }
        let alignedRight = out.enhanced.trueRank.map { $0 == 0 }
        // One pass per class over the labels: C · N comparisons, small beside the scoring itself.
        let classes = (0..<dataset.numClasses).map {
            ClassDelta(
                index: $0, classname: dataset.classnames[$0], labels: dataset.labels, baselineRight: baseRight,
                alignedRight: alignedRight)
        }
        return ExplainDataset(
            dataset: dataset.name, nImages: n, nClasses: dataset.numClasses, baselineAcc1: baseMetrics.acc1,
            alignedAcc1: aligned.acc1, gained: gained, lost: lost, flips: flips, classes: classes)
    }

    /// The Markdown summary (`explain.md`): per dataset the flip counts, the classes that gained
    /// and lost most, and the first flipped images of each direction with their largest terms.
    public static func markdown(_ d: ExplainDocument, imagesPerDirection: Int = 10, termsPerClass: Int = 3) -> String {
        var out = "# Why `\(d.variant)` flipped images\n\n"
        out += "Result `\(d.result.path)` (SHA-256 `\(d.result.sha256)`), method \(d.method), compared with the "
        out += "\(d.baseline) baseline"
        if let c = d.checkpoint { out += "; checkpoint `\(c.path)` (SHA-256 `\(c.sha256)`)" }
        out +=
            ". Every input's SHA-256 and the row's accuracy and flip counts were re-derived and match the result.\n\n"
        out += "The aligned logit is cos(v, t_c) + α · cos(f(v), f(t_c)); a term is f̂(v)_u · f̂(t_c)_u of one unit u, "
        out += "and the terms of a class sum to its concept similarity. `explain.json` lists every flipped image "
        out += "with up to \(d.limit) terms per class.\n"
        func f(_ x: Float) -> String { String(format: "%.4f", Double(x)) }
        for ds in d.datasets {
            out += "\n## \(ds.dataset)\n\n"
            out += String(
                format: "%d images, %d classes: baseline %.2f %%, aligned %.2f %%; %d gained, %d lost.\n",
                ds.nImages, ds.nClasses, 100 * ds.baselineAcc1, 100 * ds.alignedAcc1, ds.gained, ds.lost)
            let moved = ds.classes.filter { $0.gained + $0.lost > 0 }
            if !moved.isEmpty {
                out += "\n| class | images | baseline right | aligned right | gained | lost | Δ recall |\n"
                out += "|---|---|---|---|---|---|---|\n"
                let ranked = moved.sorted {
                    ($0.deltaRecall, -$0.classIndex) > ($1.deltaRecall, -$1.classIndex)
                }
                let shown = ranked.count <= 20 ? ranked : Array(ranked.prefix(10) + ranked.suffix(10))
                for c in shown {
                    out += "| \(c.classname) (\(c.classIndex)) | \(c.nImages) | \(c.baselineCorrect) | "
                    out += "\(c.alignedCorrect) | \(c.gained) | \(c.lost) | "
                    out += String(format: "%+.1f pp", 100 * c.deltaRecall) + " |\n"
                }
                if shown.count < ranked.count {
                    out +=
                        "\n(the 10 classes that gained most and the 10 that lost most of \(ranked.count) that moved)\n"
                }
            }
            for direction in ["gained", "lost"] {
                let images = ds.flips.filter { $0.direction == direction }
                guard !images.isEmpty else { continue }
                out += "\n### \(direction) (\(images.count); the first \(min(imagesPerDirection, images.count)))\n\n"
                out += "| image | true class: cos, concept, logit, top terms (unit: term) "
                out += "| rival class: cos, concept, logit, top terms | α |\n|---|---|---|---|\n"
                for im in images.prefix(imagesPerDirection) {
                    func cell(_ l: ClassLogit) -> String {
                        let t = l.terms.prefix(termsPerClass).map { "\($0.unit): \(f($0.contribution))" }
                        return "\(l.classname): \(f(l.cosine)), \(f(l.concept)), \(f(l.logit)); "
                            + (t.isEmpty ? "no shared unit" : t.joined(separator: ", "))
                    }
                    out +=
                        "| \(im.image) | \(cell(im.trueClass)) | \(cell(im.rivalClass)) | \(AlphaFormat.string(im.alpha)) |\n"
                }
            }
        }
        return out
    }
}
