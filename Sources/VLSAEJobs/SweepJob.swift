import Foundation
import VLSAECore
import VLSAEReport

/// What one cell asks of training: the resolved addresses and the full recipe.
public struct SweepTrainingRequest: Sendable {
    /// The cell being trained (architecture, hidden ratio, lr, epochs, seed).
    public var spec: SweepCellSpec
    /// The k to train at (≥ spec.k).
    public var trainedK: Int
    /// The sweep's settings that no axis varies.
    public var fixedTraining: SweepFixedTraining
    /// Tensor addresses resolved against the config's folder.
    public var images: String
    /// Text embeddings' tensor address, resolved against the config's folder.
    public var texts: String
    /// Worker threads: how fast, not what is computed.
    public var threads: Int
    /// Identity hash, stored in the checkpoint so a reused file can be checked.
    public var checkpointHash: String
}

/// The work a sweep delegates: training, measuring and evaluating a checkpoint. `StandardSweepBackend`
/// does it with the model and evaluation stages; tests may substitute their own.
public protocol SweepBackend {
    /// Trains and writes the checkpoint to `path` (a temporary name; the sweep renames it).
    func train(_ request: SweepTrainingRequest, to path: String) throws
    /// Reconstruction quality of the checkpoint at `k` on the training pairs' validation split.
    func measure(checkpoint path: String, request: SweepTrainingRequest, k: Int) throws -> SweepTrainingFacts
    /// Baseline and alignment rows of every manifest, alignment given as a full spec string.
    func evaluate(
        checkpoint path: String, alignment: String, manifests: [String], evaluation: SweepEvaluation,
        threads: Int
    ) throws -> [ResultRow]
    /// Called when a sweep run starts: forget whatever was kept from an earlier run, whose files
    /// may have changed since (the default keeps nothing, so does nothing).
    func startRun()
}

extension SweepBackend {
    /// Keeps nothing, so does nothing.
    public func startRun() {}
}

/// `vlsae sweep`: trains and evaluates every cell of a config, one atomic file per finished cell,
/// resumable and shardable; writes the table and figures once every cell is done.
///
/// Sweep folder layout:
///   plan.json                         the resolved plan (same bytes in every shard)
///   checkpoints/<hash>.safetensors    one per distinct training identity
///   cells/<id>.json                   one per finished cell
///   sweep.json, sweep.md, delta_vs_k.png, fvu_vs_l0.png   when complete
/// Files are written into the work folder `.tmp-<pid>/` and renamed into place; a killed run
/// leaves only that hidden folder, which the next run removes (when its process is gone) and
/// never reads.
public enum SweepJob {
    /// Test hooks called with the temporary path just before it is renamed into place; throwing
    /// from one stops the sweep there, leaving the temporary behind as a kill would.
    public struct Hooks {
        /// Called with the checkpoint's temporary path before it is renamed into `checkpoints/`.
        public var beforeCheckpointRename: ((String) throws -> Void)?
        /// Called with the cell file's temporary path before it is renamed into `cells/`.
        public var beforeCellRename: ((String) throws -> Void)?
        /// Hooks that do nothing unless given.
        public init(
            beforeCheckpointRename: ((String) throws -> Void)? = nil,
            beforeCellRename: ((String) throws -> Void)? = nil
        ) {
            self.beforeCheckpointRename = beforeCheckpointRename
            self.beforeCellRename = beforeCellRename
        }
    }

    /// What `run(_:)` needs; the defaults are the command's.
    @MemberwiseInit
    public struct Options {
        /// Path of the sweep config (JSON or YAML).
        public var config: String
        /// Sweep folder; nil: `sweeps/<config file name without extension>`.
        public var out: String? = nil
        /// The shard this run computes; nil: every cell.
        public var shard: SweepShard? = nil
        /// Worker threads (≥ 1): how fast, not what is computed (recorded in each cell's provenance).
        public var threads: Int = 1
        /// Whether to print progress and ETA lines to standard error.
        public var progress: Bool = true
        /// The tool recorded in `sweep.json`.
        public var tool: ToolRecord
        /// The command line, recorded in each cell's provenance.
        public var command: [String] = ["vlsae", "sweep"]
        /// Does the training, measuring and evaluating; `StandardSweepBackend` unless a test substitutes one.
        public var backend: SweepBackend = StandardSweepBackend()
        /// Test hooks; none by default.
        public var hooks: Hooks = Hooks()
    }

    /// What one run of `run(_:)` did.
    public struct Report {
        /// The sweep folder written.
        public var folder: String
        /// The resolved plan (as written to `plan.json`).
        public var plan: SweepPlan
        /// Cells this run was responsible for (its shard).
        public var assigned: Int
        /// Cells found finished and skipped.
        public var skipped: Int
        /// Cells run now.
        public var ran: Int
        /// Checkpoints trained now (the rest of the cells run reused one).
        public var trained: Int
        /// The table, when every cell of the plan has a result in the folder.
        public var table: SweepTable?
    }

    /// The sweep folder used when `--out` is not given: `sweeps/<config file name without extension>`.
    public static func defaultFolder(config: String) -> String {
        let stem = ((config as NSString).lastPathComponent as NSString).deletingPathExtension
        return "sweeps/\(stem)"
    }

    /// Runs the cells of the options' shard that have no result yet, each into its own file, and writes the table and
    /// figures (`SweepTable.write(to:)`) when every cell of the plan is done. Resumes from whatever an earlier run
    /// finished.
    @discardableResult
    public static func run(_ o: Options) throws -> Report {
        guard o.threads >= 1 else { throw VLSAEError.usage("--threads must be at least 1, got \(o.threads)") }
        let config = try SweepConfig.load(path: o.config)
        let plan = try SweepPlan.make(config)
        o.backend.startRun()
        let folder = o.out ?? defaultFolder(config: o.config)
        let files = SweepFolder(folder)
        try files.prepare()
        let planData = try CanonicalJSON.encode(plan)
        if (try? readFile(files.planPath)) != planData { try files.write(planData, to: files.planPath) }

        let assigned = o.shard.map { plan.shard($0.index, of: $0.count) } ?? plan.cells
        let done = files.finishedIDs(of: plan)
        let todo = assigned.filter { !done.contains($0.id) }
        if o.progress {
            let shardNote = o.shard.map { " (shard \($0): \(assigned.count) of \(plan.cells.count) cells)" } ?? ""
            Progress.note(
                "sweep \(folder): \(plan.cells.count) cells\(shardNote), \(assigned.count - todo.count) already done, \(todo.count) to run"
            )
        }
        let started = Date()
        var trained = 0
        for (n, cell) in todo.enumerated() {
            let cellStart = Date()
            let (result, didTrain) = try runCell(cell, config: config, files: files, options: o)
            if didTrain { trained += 1 }
            if o.progress {
                let elapsed = Date().timeIntervalSince(started)
                let eta = elapsed / Double(n + 1) * Double(todo.count - n - 1)
                Progress.note(
                    "sweep [\(n + 1)/\(todo.count)] cell \(cell.index) \(describe(cell))  "
                        + "\(didTrain ? "trained" : "reused checkpoint"), \(String(format: "%.1f", Date().timeIntervalSince(cellStart)))s  "
                        + summary(result) + "  ETA \(Progress.clock(eta))")
            }
        }

        defer { files.removeWorkFolder() }
        var table: SweepTable? = nil
        let results = try files.results(of: plan)
        if results.count == plan.cells.count {
            let t = try SweepTable(plan: plan, results: results, tool: o.tool)
            try t.write(to: folder)
            table = t
            if o.progress {
                Progress.note("sweep complete: wrote \(folder)/sweep.json, sweep.md, delta_vs_k.png, fvu_vs_l0.png")
            }
        } else if o.progress {
            Progress.note(
                "sweep: \(results.count) of \(plan.cells.count) cells done in \(folder); run the other shards, then `vlsae sweep merge`"
            )
        }
        return Report(
            folder: folder, plan: plan, assigned: assigned.count, skipped: assigned.count - todo.count,
            ran: todo.count, trained: trained, table: table)
    }

    /// Joins the cells of shard folders of one sweep into the table, written to `out` (default:
    /// the first folder), together with copies of cell files it lacks.
    @discardableResult
    public static func merge(folders: [String], out: String? = nil, tool: ToolRecord) throws -> SweepTable {
        guard let first = folders.first else { throw VLSAEError.usage("sweep merge needs at least one folder") }
        let planPath = SweepFolder(first).planPath
        let plan = try CanonicalJSON.decode(SweepPlan.self, from: planPath)
        var results: [String: SweepCellResult] = [:]
        var sources: [String: String] = [:]
        for f in folders {
            let files = SweepFolder(f)
            let other = try CanonicalJSON.decode(SweepPlan.self, from: files.planPath)
            guard other == plan else {
                throw VLSAEError.file(
                    files.planPath,
                    "belongs to another sweep than \(planPath) (plan SHA-256 \(other.sha256.prefix(12)) vs \(plan.sha256.prefix(12)))"
                )
            }
            for (id, r) in try files.results(of: plan) where results[id] == nil {
                results[id] = r
                sources[id] = files.cellPath(id)
            }
        }
        let table = try SweepTable(plan: plan, results: results, tool: tool)
        let target = SweepFolder(out ?? first)
        try target.prepare()
        if (try? readFile(target.planPath)) != (try CanonicalJSON.encode(plan)) {
            try target.write(try CanonicalJSON.encode(plan), to: target.planPath)
        }
        for c in plan.cells where !FileManager.default.fileExists(atPath: target.cellPath(c.id)) {
            try target.write(try readFile(sources[c.id]!), to: target.cellPath(c.id))
        }
        try table.write(to: target.root)
        target.removeWorkFolder()
        return table
    }

    // MARK: One cell

    static func runCell(
        _ cell: SweepPlannedCell, config: SweepConfig, files: SweepFolder,
        options o: Options
    ) throws -> (SweepCellResult, trained: Bool) {
        let request = SweepTrainingRequest(
            spec: cell.spec, trainedK: cell.trainedK, fixedTraining: config.fixedTraining,
            images: try config.resolveAddress(cell.spec.train.images),
            texts: try config.resolveAddress(cell.spec.train.texts),
            threads: o.threads, checkpointHash: cell.checkpointHash)
        let checkpoint = files.checkpointPath(cell.checkpointHash)
        var trained = false
        if !FileManager.default.fileExists(atPath: checkpoint) {
            let tmp = try files.temporary(for: checkpoint)
            try o.backend.train(request, to: tmp)
            try o.hooks.beforeCheckpointRename?(tmp)
            try SweepFolder.rename(tmp, to: checkpoint)
            trained = true
        }
        let facts = try o.backend.measure(checkpoint: checkpoint, request: request, k: cell.spec.k)
        var rows = try o.backend.evaluate(
            checkpoint: checkpoint, alignment: resolvedSpec(cell.alignmentSpec, config),
            manifests: config.datasets.map(config.resolve),
            evaluation: config.evaluation, threads: o.threads)
        // Rows name the checkpoint relative to the sweep folder, so every shard writes the same bytes.
        for i in rows.indices where rows[i].checkpoint != nil { rows[i].checkpoint!.path = cell.checkpointRelativePath }
        var names: [String] = []
        for r in rows where !names.contains(r.dataset) { names.append(r.dataset) }
        let result = SweepCellResult(
            id: cell.id, spec: cell.spec, trainedK: cell.trainedK, inferenceKReuse: cell.inferenceKReuse,
            checkpoint: SweepCheckpointRef(
                hash: cell.checkpointHash, path: cell.checkpointRelativePath,
                sha256: try SHA256.hex(fileAt: checkpoint)),
            training: facts, datasets: try names.map { try SweepDatasetResult.summarize(rows, dataset: $0) },
            rows: rows,
            provenance: .current(command: o.command, threads: o.threads))
        try files.write(
            try CanonicalJSON.encode(result), to: files.cellPath(cell.id), beforeRename: o.hooks.beforeCellRename)
        return (result, trained)
    }

    /// The alignment spec with its file references (α table, validation manifest) resolved
    /// against the config's folder, as evaluation reads them from the working directory.
    static func resolvedSpec(_ spec: String, _ config: SweepConfig) -> String {
        spec.split(separator: ",", omittingEmptySubsequences: false).map { part -> String in
            let item = String(part)
            if item.hasPrefix("alpha=table:") {
                return "alpha=table:" + config.resolve(String(item.dropFirst("alpha=table:".count)))
            }
            if item.hasPrefix("val=") { return "val=" + config.resolve(String(item.dropFirst("val=".count))) }
            return item
        }.joined(separator: ",")
    }

    static func describe(_ c: SweepPlannedCell) -> String {
        "\(c.spec.arch) k=\(c.spec.k)\(c.inferenceKReuse ? "(of \(c.trainedK))" : "") ratio=\(c.spec.hiddenRatio) lr=\(SweepTable.number(c.spec.lr)) epochs=\(c.spec.epochs) seed=\(c.spec.seed)"
    }

    static func summary(_ r: SweepCellResult) -> String {
        var parts = [
            String(
                format: "FVU %@ L0 %.1f dead %.3f", r.training.fvu.map { String(format: "%.4f", $0) } ?? "n/a",
                r.training.l0, r.training.deadFraction)
        ]
        for d in r.datasets {
            parts.append(
                "\(d.dataset) acc1 \(String(format: "%.4f", d.acc1))"
                    + (d.deltaAcc1.map { String(format: " Δ%+.4f", $0) } ?? ""))
        }
        return parts.joined(separator: "; ")
    }
}

/// File layout and atomic-write helpers of a sweep folder.
struct SweepFolder {
    let root: String
    init(_ root: String) { self.root = root }

    var planPath: String { path("plan.json") }
    var cellsFolder: String { path("cells") }
    var checkpointsFolder: String { path("checkpoints") }
    func cellPath(_ id: String) -> String { path("cells/\(id).json") }
    func checkpointPath(_ hash: String) -> String { path("checkpoints/\(hash).safetensors") }
    func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }

    /// This process's scratch folder, `<root>/.tmp-<pid>/`. Every file is written there first
    /// (including the temporaries of writers that make their own, such as checkpoint saving) and
    /// renamed into place, so a killed run leaves nothing but this folder, which the next run
    /// removes and no run ever reads.
    var workFolder: String { path(".tmp-\(getpid())") }

    func temporary(for path: String) throws -> String {
        do { try FileManager.default.createDirectory(atPath: workFolder, withIntermediateDirectories: true) } catch {
            throw VLSAEError.file(workFolder, "cannot create folder: \(error.localizedDescription)")
        }
        return (workFolder as NSString).appendingPathComponent((path as NSString).lastPathComponent)
    }

    static func rename(_ from: String, to: String) throws {
        if Foundation.rename(from, to) != 0 {
            let reason = String(cString: strerror(errno))
            throw VLSAEError.file(to, "cannot move \(from) into place: \(reason)")
        }
    }

    /// Writes `data` to the work folder (plain write, no hidden helper files), then renames it to `path`.
    func write(_ data: Data, to path: String, beforeRename: ((String) throws -> Void)? = nil) throws {
        let tmp = try temporary(for: path)
        guard let f = fopen(tmp, "wb") else {
            throw VLSAEError.file(tmp, "cannot write: \(String(cString: strerror(errno)))")
        }
        let written = data.withUnsafeBytes { fwrite($0.baseAddress, 1, data.count, f) }
        let closed = fclose(f)
        guard written == data.count, closed == 0 else { throw VLSAEError.file(tmp, "cannot write (disk full?)") }
        try beforeRename?(tmp)
        try SweepFolder.rename(tmp, to: path)
    }

    func removeWorkFolder() { try? FileManager.default.removeItem(atPath: workFolder) }

    func prepare() throws {
        for f in [root, cellsFolder, checkpointsFolder] {
            do { try FileManager.default.createDirectory(atPath: f, withIntermediateDirectories: true) } catch {
                throw VLSAEError.file(f, "cannot create folder: \(error.localizedDescription)")
            }
        }
        removeStaleTemporaries()
    }

    /// Removes the work folders of processes that no longer run (a killed sweep); those of a live
    /// process (another shard sharing the folder) are left alone.
    func removeStaleTemporaries() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return }
        for name in names where name.hasPrefix(".tmp-") {
            guard let pid = Int32(name.dropFirst(".tmp-".count)) else { continue }
            if pid == getpid() || (kill(pid, 0) != 0 && errno == ESRCH) {
                try? FileManager.default.removeItem(atPath: path(name))
            }
        }
    }

    /// Ids of the plan's cells that have a result file.
    func finishedIDs(of plan: SweepPlan) -> Set<String> {
        Set(plan.cells.map(\.id).filter { FileManager.default.fileExists(atPath: cellPath($0)) })
    }

    /// The plan's finished cells, each checked to be the cell it claims to be.
    func results(of plan: SweepPlan) throws -> [String: SweepCellResult] {
        var out: [String: SweepCellResult] = [:]
        for c in plan.cells where FileManager.default.fileExists(atPath: cellPath(c.id)) {
            let r = try CanonicalJSON.decode(SweepCellResult.self, from: cellPath(c.id))
            guard r.id == c.id, r.spec == c.spec, r.trainedK == c.trainedK else {
                throw VLSAEError.file(
                    cellPath(c.id),
                    "does not hold cell \(c.id) of this plan (found \(r.id)); delete it to rerun the cell")
            }
            out[c.id] = r
        }
        return out
    }
}
