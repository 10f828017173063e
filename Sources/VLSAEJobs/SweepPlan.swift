import Foundation
import VLSAECore
import VLSAEData
import VLSAEFormats
import VLSAEReport

/// A tensor address reduced to what identifies its content: the file's SHA-256 plus the key and
/// index inside it, so the same data reached through another relative path is the same input.
public struct SweepContentAddress: Codable, Hashable, Sendable {
    /// SHA-256 (hex) of the whole file.
    public var sha256: String
    /// Array inside the file (`.npz` member, safetensors tensor, torch path); nil for a `.npy` file.
    public var key: String?
    /// Slice along the first axis (`[i]` in the address); nil: the whole array.
    public var index: Int?
}

/// Everything a trained checkpoint depends on. Its canonical JSON's SHA-256 names the checkpoint
/// file, so a checkpoint is reused exactly when training would redo the same computation. The
/// thread count is not part of it (training gives the same bytes for any count); the numeric mode is
/// (format 1 checkpoints were trained through OpenBLAS and are never reused).
public struct SweepCheckpointIdentity: Codable, Hashable, Sendable {
    /// Version tag of this identity; bumped when equal fields no longer mean equal bytes, so older checkpoints are
    /// never reused.
    public var format = "vlsae-sweep-checkpoint/2"
    /// The numeric mode training runs in (`RunProvenance.deterministic`).
    public var numerics = RunProvenance.deterministic
    /// Architecture: `vlsae`, `sae-d` or `sae-v`.
    public var arch: String
    /// Hidden units per input dimension.
    public var hiddenRatio: Int
    /// The k the checkpoint is trained at (the largest k of its reuse group with `reuse_k`).
    public var k: Int
    /// Adam learning rate.
    public var lr: Double
    /// Training epochs.
    public var epochs: Int
    /// Training seed.
    public var seed: UInt64
    /// The sweep's settings that no axis varies.
    public var fixedTraining: SweepFixedTraining
    /// Content of the image embeddings trained on.
    public var images: SweepContentAddress
    /// Content of the text embeddings trained on.
    public var texts: SweepContentAddress

    /// SHA-256 (hex) of the canonical JSON: the checkpoint's file name, `checkpoints/<hash>.safetensors`.
    public var hash: String { SHA256.hex((try? CanonicalJSON.encode(self)) ?? Data()) }
}

/// One dataset as the sweep sees it: the manifest as written in the config and the digests of the
/// manifest and every array file it names.
public struct SweepDatasetInput: Codable, Hashable, Sendable {
    /// The manifest path as written in the config (relative to the config's folder).
    public var manifest: String
    /// Digests of the manifest (role `manifest`) and of every array file it names (`image_embeddings`, `labels`,
    /// `text_embeddings`, `classifier`), paths relative to the config's folder.
    public var inputs: [FileDigest]
}

/// Everything a cell's result depends on; its hash (first 16 hex digits) is the cell id.
struct SweepCellIdentity: Codable {
    var format = "vlsae-sweep-cell/1"
    var checkpoint: String
    var k: Int
    var alignment: String
    var alpha: String
    /// SHA-256 of an α table file (`table:<file>`), so editing the table invalidates the cell.
    var alphaTableSha256: String?
    var datasets: [SweepDatasetInput]
    var evaluation: SweepEvaluation
}

/// A cell placed in the sweep: its canonical position, identity and checkpoint.
public struct SweepPlannedCell: Codable, Equatable, Sendable {
    /// Position in the canonical order of `SweepConfig.expand()`, from 0; shard i of n runs the cells whose index mod n
    /// is i.
    public var index: Int
    /// The cell id: the first 16 hex digits of the SHA-256 of everything the result depends on (checkpoint identity, k,
    /// alignment, α protocol and α table, datasets, evaluation settings). Names `cells/<id>.json`.
    public var id: String
    /// The resolved cell.
    public var spec: SweepCellSpec
    /// The k the checkpoint is trained at; `spec.k` is the k the cell is evaluated at.
    public var trainedK: Int
    /// True when the cell evaluates a checkpoint trained at a larger k at inference-time k′ = spec.k.
    public var inferenceKReuse: Bool
    /// `SweepCheckpointIdentity.hash` of the checkpoint the cell evaluates; cells sharing it share one training.
    public var checkpointHash: String
    /// The full alignment spec handed to evaluation (variant, α protocol and, with reuse, k).
    public var alignmentSpec: String

    /// Where the cell's checkpoint lives inside a sweep folder.
    public var checkpointRelativePath: String { "checkpoints/\(checkpointHash).safetensors" }
    /// Where the cell's result file lives inside a sweep folder.
    public var cellRelativePath: String { "cells/\(id).json" }
}

/// The resolved sweep: every cell with its identity, plus the digests of every input. Written as
/// `plan.json` into the sweep folder; every shard of one sweep writes the same bytes, whatever its
/// thread count or CPU.
public struct SweepPlan: Codable, Equatable, Sendable {
    /// Version tag of the plan file.
    public var format = "vlsae-sweep-plan/2"
    /// The config's name; nil when it gives none.
    public var name: String?
    /// Whether cells that differ only in k share a checkpoint trained at their largest k (`reuse_k`).
    public var reuseK: Bool
    /// Bootstrap settings of every evaluation.
    public var evaluation: SweepEvaluation
    /// Each manifest of the config with its input digests, in config order.
    public var datasets: [SweepDatasetInput]
    /// Training pair files (config-relative address → digest).
    public var trainInputs: [FileDigest]
    /// Every cell in canonical order.
    public var cells: [SweepPlannedCell]

    /// SHA-256 (hex) of the plan's canonical JSON; `sweep.json` records it as `plan_sha256`, and shards merge only when
    /// their plans are equal.
    public var sha256: String { SHA256.hex((try? CanonicalJSON.encode(self)) ?? Data()) }

    /// Hashes the inputs and resolves every cell of `config`.
    public static func make(_ config: SweepConfig) throws -> SweepPlan {
        let specs = try config.expand()
        var digests: [String: String] = [:]
        func digest(_ resolvedPath: String) throws -> String {
            if let d = digests[resolvedPath] { return d }
            let d = try SHA256.hex(fileAt: resolvedPath)
            digests[resolvedPath] = d
            return d
        }
        func content(_ address: String) throws -> SweepContentAddress {
            let a = try TensorAddress(parsing: address)
            return SweepContentAddress(sha256: try digest(config.resolve(a.path)), key: a.key, index: a.index)
        }

        var datasets: [SweepDatasetInput] = []
        for manifest in config.datasets {
            datasets.append(
                SweepDatasetInput(
                    manifest: manifest,
                    inputs: try datasetInputs(
                        manifest, resolve: config.resolve, digest: digest)))
        }
        var trainInputs: [FileDigest] = []
        var seenTrain = Set<String>()
        for s in specs {
            for (address, role) in [(s.train.images, "train_images"), (s.train.texts, "train_texts")] {
                let path = try TensorAddress(parsing: address).path
                if seenTrain.insert(role + "\u{0}" + path).inserted {
                    trainInputs.append(FileDigest(path: path, sha256: try digest(config.resolve(path)), role: role))
                }
            }
        }

        // With reuse_k, cells that differ only in k share one checkpoint trained at their largest k.
        struct GroupKey: Hashable { var spec: SweepCellSpec }
        func groupKey(_ s: SweepCellSpec) -> GroupKey {
            var g = s
            g.k = 0
            g.alignment = ""
            g.alpha = ""
            return GroupKey(spec: g)
        }
        var maxK: [GroupKey: Int] = [:]
        for s in specs { maxK[groupKey(s), default: 0] = max(maxK[groupKey(s), default: 0], s.k) }

        var cells: [SweepPlannedCell] = []
        var ids = Set<String>()
        for (i, s) in specs.enumerated() {
            let trainedK = config.reuseK ? maxK[groupKey(s)]! : s.k
            let identity = SweepCheckpointIdentity(
                arch: s.arch, hiddenRatio: s.hiddenRatio, k: trainedK, lr: s.lr, epochs: s.epochs, seed: s.seed,
                fixedTraining: config.fixedTraining, images: try content(s.train.images),
                texts: try content(s.train.texts))
            var alignmentSpec = s.alignment.isEmpty ? "alpha=\(s.alpha)" : "\(s.alignment),alpha=\(s.alpha)"
            if config.reuseK { alignmentSpec += ",k=\(s.k)" }
            var tableDigest: String? = nil
            if s.alpha.hasPrefix("table:") {
                let file = String(s.alpha.dropFirst("table:".count))
                tableDigest = try digest(config.resolve(file))
            }
            let cellIdentity = SweepCellIdentity(
                checkpoint: identity.hash, k: s.k, alignment: s.alignment,
                alpha: s.alpha, alphaTableSha256: tableDigest, datasets: datasets,
                evaluation: config.evaluation)
            let id = String(SHA256.hex(try CanonicalJSON.encode(cellIdentity)).prefix(16))
            guard ids.insert(id).inserted else {
                throw VLSAEError.usage("cell \(i) repeats an earlier cell's training and evaluation")
            }
            cells.append(
                SweepPlannedCell(
                    index: i, id: id, spec: s, trainedK: trainedK,
                    inferenceKReuse: s.k < trainedK, checkpointHash: identity.hash,
                    alignmentSpec: alignmentSpec))
        }
        return SweepPlan(
            name: config.name, reuseK: config.reuseK, evaluation: config.evaluation,
            datasets: datasets, trainInputs: trainInputs, cells: cells)
    }

    /// The manifest and the files it names, hashed, without loading the arrays. Paths are recorded
    /// relative to the config's folder (as the config writes them), so the plan is the same from
    /// any working directory.
    static func datasetInputs(
        _ manifest: String, resolve: (String) -> String,
        digest: (String) throws -> String
    ) throws -> [FileDigest] {
        let manifestPath = resolve(manifest)
        let (m, manifestFile) = try Manifest.read(path: manifestPath)
        let folder = (manifest as NSString).deletingLastPathComponent
        var records = [manifestFile.recorded(as: manifest, role: "manifest")]
        let named: [(TensorSource?, String)] = [
            (m.imageEmbeddings, "image_embeddings"), (m.labels, "labels"),
            (m.textEmbeddings.map(TensorSource.address), "text_embeddings"),
            (m.classifier.map(TensorSource.address), "classifier"),
        ]
        for (list, role) in [(m.classnames, "classnames"), (m.templates, "templates")] {
            guard case .textFile(let file) = list else { continue }
            let path = file.hasPrefix("/") || folder.isEmpty ? file : (folder as NSString).appendingPathComponent(file)
            records.append(FileDigest(path: path, sha256: try digest(resolve(path)), role: role))
        }
        let addresses = try named.flatMap { source, role in
            try (source?.addresses(relativeTo: resolve(folder.isEmpty ? "." : folder)) ?? []).map { ($0, role) }
        }
        for (address, role) in addresses {
            let a: TensorAddress
            do { a = try TensorAddress(parsing: address) } catch let e as VLSAEError {
                throw VLSAEError.file(manifestPath, "\(role): invalid tensor address \"\(address)\": \(e)")
            }
            let path =
                a.path.hasPrefix("/") || folder.isEmpty ? a.path : (folder as NSString).appendingPathComponent(a.path)
            records.append(FileDigest(path: path, sha256: try digest(resolve(path)), role: role))
        }
        return records
    }

    /// Cells of shard `index` of `count`: canonical index mod count.
    public func shard(_ index: Int, of count: Int) -> [SweepPlannedCell] {
        cells.filter { $0.index % count == index }
    }
}

/// `i/n` as given to `--shard`, or read from a scheduler's array index by `--shard auto`.
/// Recorded in each cell the shard computed (`shard` in `cells/<id>.json`): a run fact, like the
/// thread count, that never reaches `sweep.json`.
public struct SweepShard: Codable, Equatable, Sendable, CustomStringConvertible {
    /// Which shard, from 0.
    public var index: Int
    /// How many shards the sweep is split into (≥ 1).
    public var count: Int
    /// The `ArrayScheduler.name` whose variables gave the shard; nil for `--shard i/n`.
    public var scheduler: String?

    /// Throws a usage error unless 0 ≤ `index` < `count`.
    public init(index: Int, count: Int, scheduler: String? = nil) throws {
        guard count >= 1, index >= 0, index < count else {
            throw VLSAEError.usage("--shard \(index)/\(count): need 0 ≤ i < n")
        }
        self.index = index
        self.count = count
        self.scheduler = scheduler
    }

    /// Parses `i/n` (e.g. `0/4`); throws a usage error on any other text or an out-of-range index.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw VLSAEError.usage("--shard must be i/n (e.g. 0/4) or auto, got \"\(text)\"")
        }
        try self.init(index: i, count: n)
    }

    /// `i/n`, as `--shard` takes it, followed by the scheduler that gave it, if any.
    public var description: String { "\(index)/\(count)" + (scheduler.map { " from \($0)" } ?? "") }
}
