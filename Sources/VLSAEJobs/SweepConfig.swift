import Foundation
import VLSAECore
import VLSAEFormats
import VLSAEModel
import Yams

// A sweep config (JSON or YAML) names the datasets, the training pairs, fixed settings and the
// axes to vary. Every cell of the sweep is one fully resolved `SweepCellSpec`.
//
//     datasets: [synth10.json, synth100.json]           # manifests, relative to this file
//     train: {images: train_image.npy, texts: train_text.npy}
//     training: {arch: vlsae, k: 64, hidden_ratio: 8, lr: 0.001, epochs: 10, seed: 0,
//                batch_size: 512, warmup_epochs: 2, val_ratio: 0.2, patience: 10, weight_decay: 0}
//     alignment: "representation=hidden,text=average-first"
//     alpha: "fixed:1"
//     evaluation: {bootstrap: 1000, seed: 0, level: 0.95}
//     reuse_k: true
//     grid: {k: [16, 32, 64], hidden_ratio: [4, 8]}      # cartesian product, or
//     cells: [{k: 16}, {k: 64, lr: 0.0005}]              # an explicit list (overrides per cell)

/// One source of training pairs: tensor addresses of the image and text embeddings (row i of each
/// is a pair), relative to the config file.
public struct SweepPairs: Codable, Hashable, Sendable {
    /// Tensor address of the image embeddings, N × d (key `images`).
    public var images: String
    /// Tensor address of the text embeddings, N × d, row i captioning image row i (key `texts`).
    public var texts: String
}

/// The part of `TrainConfig` that no axis varies, with its defaults (the released checkpoints'
/// recipe); lr, epochs and seed are axes.
public struct SweepFixedTraining: Codable, Hashable, Sendable {
    /// Rows per optimiser step (`batch_size`; default 512).
    public var batchSize = recipe.batchSize
    /// Warm-up epochs at the start of the learning-rate schedule (`warmup_epochs`; default 2); must not exceed any
    /// cell's epochs.
    public var warmupEpochs = recipe.warmupEpochs
    /// Fraction of the pairs held out by the seeded split for validation and checkpoint selection (`val_ratio`; default
    /// 0.2, the 80/20 split).
    public var valRatio = recipe.valRatio
    /// Epochs without a better validation loss after which training stops (`patience`; default 10).
    public var patience = recipe.patience
    /// Adam weight decay (`weight_decay`; default 0, none).
    public var weightDecay = recipe.weightDecay
    /// Whether the training rows (pairs kept together) are reshuffled each epoch (`shuffle`; default true).
    public var shuffle = recipe.shuffle

    private static let recipe = TrainConfig()

    /// The released recipe: every setting at `TrainConfig`'s default.
    public init() {}

    /// The training recipe of a cell: these settings with the cell's axes.
    func trainConfig(lr: Double, epochs: Int, seed: UInt64) -> TrainConfig {
        TrainConfig(
            lr: lr, batchSize: batchSize, epochs: epochs, warmupEpochs: warmupEpochs, valRatio: valRatio,
            patience: patience, weightDecay: weightDecay, seed: seed, shuffle: shuffle)
    }
}

/// Bootstrap settings of every evaluation in the sweep.
public struct SweepEvaluation: Codable, Hashable, Sendable {
    /// Paired-bootstrap resamples per interval (`bootstrap`); `EvalJob.minimumResamples` to `EvalJob.maximumResamples`.
    public var bootstrap: Int = 1000
    /// Seed of the bootstrap resamples and of the k-fold split of `validated` α protocols.
    public var seed: UInt64 = 0
    /// Confidence level of the intervals, in (0, 1).
    public var level: Double = 0.95
    /// 1000 resamples, seed 0, level 0.95.
    public init() {}
}

/// One point of the sweep, before defaults are filled in: every field optional.
public struct SweepPoint: Codable, Equatable, Sendable {
    /// Architecture: `vlsae`, `sae-d` or `sae-v`; nil: the `training` default, else `vlsae`.
    public var arch: String?
    /// Active units per row; nil: the `training` default, else 256.
    public var k: Int?
    /// Hidden units per input dimension (`hidden_ratio`); nil: the `training` default, else 8.
    public var hiddenRatio: Int?
    /// Adam learning rate; nil: the `training` default, else 1e-3.
    public var lr: Double?
    /// Training epochs; nil: the `training` default, else 10.
    public var epochs: Int?
    /// Training seed (split, initial weights, shuffling); nil: the `training` default, else 0.
    public var seed: UInt64?
    /// Alignment variant without α and k (`representation=…,text=…`); nil: the config's `alignment`.
    public var alignment: String?
    /// α protocol (`fixed:<a>`, `table:<file>`, `validated:<grid>`, `oracle:<grid>`); nil: the config's `alpha`.
    public var alpha: String?
    /// Training pairs; nil: the config's `train`.
    public var train: SweepPairs?

    /// A point that sets nothing: every field takes its default.
    public init() {}
}

/// The axes of a cartesian grid: each a list of values (absent = the default alone).
public struct SweepGrid: Codable, Equatable, Sendable {
    /// Architectures to cross (`vlsae`, `sae-d`, `sae-v`); nil: not varied.
    public var arch: [String]?
    /// Values of k to cross; nil: not varied.
    public var k: [Int]?
    /// Hidden ratios to cross (`hidden_ratio`); nil: not varied.
    public var hiddenRatio: [Int]?
    /// Learning rates to cross; nil: not varied.
    public var lr: [Double]?
    /// Epoch counts to cross; nil: not varied.
    public var epochs: [Int]?
    /// Training seeds to cross; nil: not varied.
    public var seed: [UInt64]?
    /// Alignment variants to cross (without α and k); nil: not varied.
    public var alignment: [String]?
    /// α protocols to cross; nil: not varied.
    public var alpha: [String]?
    /// Sources of training pairs to cross; nil: not varied.
    public var train: [SweepPairs]?

    /// A grid that varies nothing: one cell of defaults.
    public init() {}
}

/// A fully resolved cell: what is trained and how it is evaluated.
public struct SweepCellSpec: Codable, Hashable, Sendable {
    /// Architecture: `vlsae`, `sae-d` or `sae-v`.
    public var arch: String
    /// The sparsity the cell is evaluated at (k′ when the checkpoint is reused at a larger k).
    public var k: Int
    /// Hidden units per input dimension (hidden = hiddenRatio × d).
    public var hiddenRatio: Int
    /// Adam learning rate (> 0).
    public var lr: Double
    /// Training epochs (≥ 1, ≥ the warm-up epochs).
    public var epochs: Int
    /// Training seed: the validation split, initial weights and per-epoch shuffles derive from it.
    public var seed: UInt64
    /// Alignment variant without α and k: "representation=…,text=…".
    public var alignment: String
    /// α protocol: fixed:<a> | table:<file> | validated:<grid> | oracle:<grid>.
    public var alpha: String
    /// Training pairs, as written in the config (relative to its folder).
    public var train: SweepPairs
}

/// A parsed sweep config. Relative paths are relative to `baseFolder` (the config's folder).
public struct SweepConfig: Decodable, Equatable, Sendable {
    /// Sweep name, carried into `plan.json` and `sweep.json`; nil when the file gives none.
    public var name: String?
    /// Manifest paths as written (relative to `baseFolder`); a single string in the file is a one-element list.
    /// Non-empty, no duplicates.
    public var datasets: [String]
    /// Training pairs of every cell that names none; nil when each cell or grid value names its own.
    public var train: SweepPairs?
    /// The axis defaults given under `training` in the file.
    public var training: SweepPoint
    /// The settings no axis varies, also given under `training` in the file.
    public var fixedTraining: SweepFixedTraining
    /// Default alignment variant without α and k; `defaultAlignment` when the file gives none.
    public var alignment: String
    /// Default α protocol; `defaultAlpha` when the file gives none.
    public var alpha: String
    /// Bootstrap settings shared by every cell (`evaluation`; defaults when absent).
    public var evaluation: SweepEvaluation
    /// With `reuse_k: true`, cells that differ only in k (and alignment or α) share one checkpoint trained at their
    /// largest k and are evaluated at k′ = their own k; default false.
    public var reuseK: Bool
    /// Axes to cross (cartesian product); nil with `cells` nil means one cell of defaults. Exclusive with `cells`.
    public var grid: SweepGrid?
    /// An explicit list of cells, each overriding the defaults; exclusive with `grid`.
    public var cells: [SweepPoint]?

    /// Not part of the config's identity: where relative paths start.
    public var baseFolder: String = "."

    /// Every key but `baseFolder`, which is no part of the file.
    enum CodingKeys: CodingKey {
        case name, datasets, train, training, fixedTraining, alignment, alpha, evaluation, reuseK, grid, cells
    }

    /// The alignment variant when the config names none: sparse hidden activations, f applied to the averaged class
    /// vector.
    public static let defaultAlignment = "representation=hidden,text=average-first"
    /// The α protocol when the config names none: α = 1 on every dataset.
    public static let defaultAlpha = "fixed:1"
    static let defaultArch = "vlsae"
    static let defaultK = 256
    static let defaultHiddenRatio = 8
    static let defaultLR = 1e-3
    static let defaultEpochs = 10

    // MARK: Loading

    /// The largest config file read (16 MiB); a real one is a few kilobytes.
    static let maxFileSize = 16 << 20

    /// Reads a config file, JSON or YAML (by extension; `.json` is JSON, anything else is tried as
    /// YAML, of which JSON is a subset). Unknown keys are errors, so a misspelt axis cannot
    /// silently fall back to its default.
    public static func load(path: String) throws -> SweepConfig {
        let data = try InputFile.read(path, limit: maxFileSize)
        guard let text = String(data: data, encoding: .utf8) else {
            throw VLSAEError.file(path, "not UTF-8 text")
        }
        return try parse(text, path: path, baseFolder: (path as NSString).deletingLastPathComponent)
    }

    /// Parses config text: JSON when it starts with `{`, YAML otherwise. `path` names the file in error messages and
    /// `baseFolder` becomes `baseFolder`. Unknown keys are errors; the result is validated (`validate()`), its usage
    /// errors reported as errors of the file.
    public static func parse(_ text: String, path: String, baseFolder: String) throws -> SweepConfig {
        let raw: Any?
        if text.drop(while: { $0.isWhitespace }).first == "{" {
            try JSONInput.check(Data(text.utf8), path: path)
            do { raw = try JSONSerialization.jsonObject(with: Data(text.utf8)) } catch {
                throw VLSAEError.file(path, "not valid JSON: \(error.localizedDescription)")
            }
        } else {
            try YAMLInput.check(text, path: path)
            do { raw = try Yams.load(yaml: text) } catch {
                // Yams adds the offending line and a caret below it; errors are one line.
                let first = "\(error)".split(separator: "\n", omittingEmptySubsequences: true).first ?? ""
                throw VLSAEError.file(path, "not valid YAML: \(first)")
            }
        }
        guard let top = raw as? [String: Any] else {
            throw VLSAEError.file(path, "the config must be a mapping (keys datasets, train, training, grid, …)")
        }
        try checkKeys(
            top,
            allowed: [
                "name", "datasets", "train", "training", "alignment", "alpha",
                "evaluation", "reuse_k", "grid", "cells",
            ], at: "top level", path: path)
        // `training` mixes axis defaults and fixed settings in the file; they are split here.
        var trainingRaw = top["training"] as? [String: Any] ?? [:]
        if top["training"] != nil && !(top["training"] is [String: Any]) {
            throw VLSAEError.file(path, "\"training\" must be a mapping")
        }
        let pointKeys: Set<String> = ["arch", "k", "hidden_ratio", "lr", "epochs", "seed"]
        let fixedKeys: Set<String> = [
            "batch_size", "warmup_epochs", "val_ratio", "patience", "weight_decay", "shuffle",
        ]
        try checkKeys(trainingRaw, allowed: pointKeys.union(fixedKeys), at: "training", path: path)
        var fixedRaw: [String: Any] = [:]
        for key in fixedKeys { if let v = trainingRaw.removeValue(forKey: key) { fixedRaw[key] = v } }
        if let t = top["train"] as? [String: Any] {
            try checkKeys(t, allowed: ["images", "texts"], at: "train", path: path)
        }
        if let e = top["evaluation"] as? [String: Any] {
            try checkKeys(e, allowed: ["bootstrap", "seed", "level"], at: "evaluation", path: path)
        }
        let axisKeys: Set<String> = pointKeys.union(["alignment", "alpha", "train"])
        if let g = top["grid"] as? [String: Any] { try checkKeys(g, allowed: axisKeys, at: "grid", path: path) }
        if let list = top["cells"] as? [Any] {
            for (i, c) in list.enumerated() {
                guard let m = c as? [String: Any] else { throw VLSAEError.file(path, "cells[\(i)] must be a mapping") }
                try checkKeys(m, allowed: axisKeys, at: "cells[\(i)]", path: path)
            }
        }
        // Defaults go into the mapping itself (also for keys given as null), so that it decodes as it stands.
        var normalized = top.filter { !($0.value is NSNull) }
        if let one = top["datasets"] as? String { normalized["datasets"] = [one] }
        normalized["training"] = trainingRaw
        normalized["fixed_training"] = try withDefaults(fixedRaw, SweepFixedTraining())
        if let e = top["evaluation"] as? [String: Any] {
            normalized["evaluation"] = try withDefaults(e, SweepEvaluation())
        }
        let defaults: [String: Any] = [
            "alignment": defaultAlignment, "alpha": defaultAlpha, "reuse_k": false,
            "evaluation": try withDefaults([:], SweepEvaluation()),
        ]
        normalized.merge(defaults) { given, _ in given }
        let json: Data
        do { json = try JSONSerialization.data(withJSONObject: jsonSafe(normalized)) } catch {
            throw VLSAEError.file(path, "cannot read the config's values: \(error)")
        }
        var config = try CanonicalJSON.decode(SweepConfig.self, from: json, path: path)
        config.baseFolder = baseFolder.isEmpty ? "." : baseFolder
        do { try config.validate() } catch let VLSAEError.usage(message) {
            throw VLSAEError.file(path, message)
        }
        return config
    }

    /// `given` with every key of `defaults` (as JSON) that it lacks.
    private static func withDefaults<T: Encodable>(_ given: [String: Any], _ defaults: T) throws -> [String: Any] {
        let all = try JSONSerialization.jsonObject(with: CanonicalJSON.encode(defaults)) as? [String: Any] ?? [:]
        return given.filter { !($0.value is NSNull) }.merging(all) { given, _ in given }
    }

    private static func checkKeys(_ map: [String: Any], allowed: Set<String>, at place: String, path: String) throws {
        try CanonicalJSON.checkKeys(map.keys, allowed: allowed, at: place, path: path)
    }

    /// YAML scalars arrive as Int/Double/Bool/String; dates and other types are refused by
    /// JSONSerialization, so they are turned into strings (and then fail type checks clearly).
    private static func jsonSafe(_ value: Any) -> Any {
        switch value {
        case let m as [String: Any]: return m.mapValues(jsonSafe)
        case let a as [Any]: return a.map(jsonSafe)
        case let s as String:
            // YAML 1.1 reads 1e-3 (no dot) as a string; numbers in exponent form are meant as numbers.
            if s.range(of: #"^[-+]?[0-9]+(\.[0-9]*)?[eE][-+]?[0-9]+$"#, options: .regularExpression) != nil,
                let d = Double(s)
            {
                return d
            }
            return s
        case is Int, is Double, is Bool, is NSNull: return value
        case let u as UInt64: return u
        default: return "\(value)"
        }
    }

    // MARK: Validation and expansion

    /// Checks what decoding cannot: datasets non-empty and distinct, `grid` and `cells` not both given and no empty
    /// axis, bootstrap within `EvalJob.minimumResamples`...`maximumResamples`, level in (0, 1), and every expanded cell distinct, with a known
    /// arch, k, hidden ratio and epochs ≥ 1, lr > 0, warm-up ≤ epochs and no `alpha=` or `k=` in its alignment (those
    /// are axes). Throws `VLSAEError.usage`.
    public func validate() throws {
        guard !datasets.isEmpty else { throw VLSAEError.usage("\"datasets\" lists no manifest") }
        guard Set(datasets).count == datasets.count else {
            throw VLSAEError.usage("\"datasets\" lists a manifest twice")
        }
        if grid != nil && cells != nil {
            throw VLSAEError.usage("give either \"grid\" (cartesian product) or \"cells\" (explicit list), not both")
        }
        guard evaluation.bootstrap >= EvalJob.minimumResamples, evaluation.bootstrap <= EvalJob.maximumResamples else {
            throw VLSAEError.usage(
                "evaluation.bootstrap must be in \(EvalJob.minimumResamples)...\(EvalJob.maximumResamples), "
                    + "got \(evaluation.bootstrap)")
        }
        guard evaluation.level > 0 && evaluation.level < 1 else {
            throw VLSAEError.usage("evaluation.level must be in (0, 1), got \(evaluation.level)")
        }
        if let g = grid {
            let axes: [(String, Int?)] = [
                ("arch", g.arch?.count), ("k", g.k?.count), ("hidden_ratio", g.hiddenRatio?.count),
                ("lr", g.lr?.count), ("epochs", g.epochs?.count), ("seed", g.seed?.count),
                ("alignment", g.alignment?.count), ("alpha", g.alpha?.count),
                ("train", g.train?.count),
            ]
            for (name, n) in axes where n == 0 { throw VLSAEError.usage("grid axis \"\(name)\" is an empty list") }
        }
        if let c = cells, c.isEmpty { throw VLSAEError.usage("\"cells\" is an empty list") }
        let specs = try expand()
        var seen: [SweepCellSpec: Int] = [:]
        for (i, s) in specs.enumerated() {
            if let j = seen[s] { throw VLSAEError.usage("cells \(j) and \(i) are the same configuration") }
            seen[s] = i
            guard ["vlsae", "sae-d", "sae-v"].contains(s.arch) else {
                throw VLSAEError.usage("cell \(i): arch must be vlsae, sae-d or sae-v, got \"\(s.arch)\"")
            }
            guard s.k >= 1 else { throw VLSAEError.usage("cell \(i): k must be at least 1, got \(s.k)") }
            guard s.hiddenRatio >= 1 else {
                throw VLSAEError.usage("cell \(i): hidden_ratio must be at least 1, got \(s.hiddenRatio)")
            }
            guard s.lr > 0, s.lr.isFinite else { throw VLSAEError.usage("cell \(i): lr must be positive, got \(s.lr)") }
            guard s.epochs >= 1 else { throw VLSAEError.usage("cell \(i): epochs must be at least 1, got \(s.epochs)") }
            guard fixedTraining.warmupEpochs <= s.epochs else {
                throw VLSAEError.usage(
                    "cell \(i): warmup_epochs \(fixedTraining.warmupEpochs) exceeds epochs \(s.epochs)")
            }
            for forbidden in ["alpha=", "k="]
            where s.alignment.split(separator: ",").contains(where: {
                $0.trimmingCharacters(in: .whitespaces).hasPrefix(forbidden)
            }) {
                throw VLSAEError.usage(
                    "cell \(i): alignment \"\(s.alignment)\" must not set \(forbidden.dropLast()); use the \(forbidden.dropLast()) axis"
                )
            }
        }
    }

    /// The most cells one sweep may have (each trains or evaluates an autoencoder; a larger grid is
    /// almost certainly a mistake, and its plan alone would not fit in memory).
    public static let maximumCells = 100_000

    /// The cells in canonical order: the explicit list as written, or the grid expanded with the
    /// axes nested train › arch › hidden_ratio › lr › epochs › seed › k › alignment › alpha
    /// (the last varies fastest), so cells that share a checkpoint are adjacent.
    /// Refuses a grid or cell list larger than `maximumCells` (checked multiplication of the axes).
    public func expand() throws -> [SweepCellSpec] {
        func resolve(_ p: SweepPoint) throws -> SweepCellSpec {
            guard let pairs = p.train ?? train else {
                throw VLSAEError.usage("no training pairs: give \"train\": {images: …, texts: …}")
            }
            return SweepCellSpec(
                arch: p.arch ?? training.arch ?? SweepConfig.defaultArch,
                k: p.k ?? training.k ?? SweepConfig.defaultK,
                hiddenRatio: p.hiddenRatio ?? training.hiddenRatio ?? SweepConfig.defaultHiddenRatio,
                lr: p.lr ?? training.lr ?? SweepConfig.defaultLR,
                epochs: p.epochs ?? training.epochs ?? SweepConfig.defaultEpochs,
                seed: p.seed ?? training.seed ?? 0,
                alignment: p.alignment ?? alignment, alpha: p.alpha ?? alpha, train: pairs)
        }
        if let cells {
            guard cells.count <= SweepConfig.maximumCells else {
                throw VLSAEError.usage(
                    "the sweep lists \(cells.count) cells, more than the limit of \(SweepConfig.maximumCells)")
            }
            return try cells.map(resolve)
        }
        let g = grid ?? SweepGrid()
        // The grid's size is the product of its axes' lengths, checked before a single cell is built.
        let lengths = [
            g.train?.count, g.arch?.count, g.hiddenRatio?.count, g.lr?.count, g.epochs?.count, g.seed?.count,
            g.k?.count, g.alignment?.count, g.alpha?.count,
        ].map { $0 ?? 1 }
        var total: Int? = 1
        for n in lengths {
            guard let sofar = total else { break }
            let (product, overflow) = sofar.multipliedReportingOverflow(by: n)
            total = overflow ? nil : product
        }
        guard let total, total <= SweepConfig.maximumCells else {
            throw VLSAEError.usage(
                "the sweep grid has \(total.map(String.init) ?? "more than \(Int.max)") cells (axes of "
                    + "\(lengths.map(String.init).joined(separator: " × "))), more than the limit of "
                    + "\(SweepConfig.maximumCells); split it into several sweeps")
        }
        func axis<T>(_ values: [T]?) -> [T?] { values.map { $0.map(Optional.some) } ?? [nil] }
        var points: [SweepPoint] = []
        for tr in axis(g.train) {
            for ar in axis(g.arch) {
                for hr in axis(g.hiddenRatio) {
                    for lr in axis(g.lr) {
                        for ep in axis(g.epochs) {
                            for sd in axis(g.seed) {
                                for k in axis(g.k) {
                                    for al in axis(g.alignment) {
                                        for a in axis(g.alpha) {
                                            var p = SweepPoint()
                                            p.train = tr
                                            p.arch = ar
                                            p.hiddenRatio = hr
                                            p.lr = lr
                                            p.epochs = ep
                                            p.seed = sd
                                            p.k = k
                                            p.alignment = al
                                            p.alpha = a
                                            points.append(p)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return try points.map(resolve)
    }

    /// Resolves a path written in the config against the config's folder.
    public func resolve(_ path: String) -> String {
        if path.hasPrefix("/") || baseFolder == "." || baseFolder.isEmpty { return path }
        return (baseFolder as NSString).appendingPathComponent(path)
    }

    /// Resolves the file part of a tensor address against the config's folder.
    public func resolveAddress(_ address: String) throws -> String {
        var a = try TensorAddress(parsing: address)
        a.path = resolve(a.path)
        return a.description
    }
}
