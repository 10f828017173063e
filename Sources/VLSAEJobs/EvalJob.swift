import Foundation
import VLSAECore
import VLSAEData
import VLSAEEval
import VLSAEReport

/// Who produced a result: name, version and the git commit of the executable's checkout.
public enum ToolIdentity {
    public static let name = "vlsae"
    public static let version = "0.1.0"

    /// The commit the running executable was built from: `git rev-parse HEAD` run in the
    /// executable's folder (a SwiftPM build lives in `.build/` inside the checkout). "unknown" when
    /// the executable is not inside a git checkout or git is unavailable. Uncommitted changes are
    /// not detected.
    public static func gitCommit(executablePath: String? = nil) -> String {
        let exe = executablePath ?? currentExecutablePath()
        guard let exe else { return "unknown" }
        let folder = URL(fileURLWithPath: exe).resolvingSymlinksInPath().deletingLastPathComponent().path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", folder, "rev-parse", "HEAD"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return "unknown" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
              text.count == 40, text.allSatisfy(\.isHexDigit) else { return "unknown" }
        return text
    }

    public static func record(executablePath: String? = nil) -> ToolRecord {
        ToolRecord(name: name, version: version, gitCommit: gitCommit(executablePath: executablePath))
    }

    private static func currentExecutablePath() -> String? {
        #if os(Linux)
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        #endif
        return Bundle.main.executablePath
    }
}

/// Baseline zero-shot evaluation of one or more manifests into one result document.
public enum EvalJob {
    public struct Options: Sendable {
        public var manifests: [String]
        public var output: String
        public var bootstrapResamples: Int
        public var seed: UInt64
        public var level: Double
        public var perClass: Bool
        /// Worker threads: how fast, not what is computed (recorded in the provenance only).
        public var threads: Int
        /// Recorded verbatim in the document's provenance.
        public var command: [String]
        public var tool: ToolRecord
        public var progress: Bool
        /// Concept-level alignment rows to add after each baseline row (nil: baseline only).
        public var alignment: AlignmentOptions?

        public init(manifests: [String], output: String, bootstrapResamples: Int = 1000, seed: UInt64 = 0,
                    level: Double = 0.95, perClass: Bool = false, threads: Int = 1,
                    command: [String], tool: ToolRecord, progress: Bool = true, alignment: AlignmentOptions? = nil) {
            self.manifests = manifests
            self.output = output
            self.bootstrapResamples = bootstrapResamples
            self.seed = seed
            self.level = level
            self.perClass = perClass
            self.threads = threads
            self.command = command
            self.tool = tool
            self.progress = progress
            self.alignment = alignment
        }
    }

    /// The smallest bootstrap worth reporting: fewer resamples make the 2.5 % tails noise.
    public static let minimumResamples = 1000

    /// Evaluates every manifest, then writes the document in one atomic step (nothing is written
    /// when any dataset fails). Returns the document written.
    @discardableResult
    public static func run(_ options: Options) throws -> ResultDocument {
        guard !options.manifests.isEmpty else { throw VLSAEError.usage("no manifest given (--data)") }
        guard options.bootstrapResamples >= minimumResamples else {
            throw VLSAEError.usage("--bootstrap must be at least \(minimumResamples), got \(options.bootstrapResamples)")
        }
        guard options.threads >= 1 else { throw VLSAEError.usage("--threads must be at least 1, got \(options.threads)") }
        var rows: [ResultRow] = []
        var inputs: [InputRecord] = []
        var seen = Set<InputRecord>()
        let alignment = try options.alignment.map { try prepareAlignment($0, threads: options.threads, progress: options.progress) }
        var names = Set<String>()
        for (i, path) in options.manifests.enumerated() {
            let note = "[\(i + 1)/\(options.manifests.count)] \(path)"
            if options.progress { Progress.note("\(note): loading and hashing") }
            let t0 = Date()
            let dataset = try ZeroShotDataset.load(manifestPath: path)
            if options.progress {
                Progress.note("\(note): \(dataset.name), \(dataset.count) images × \(dataset.numClasses) classes, "
                              + "d = \(dataset.dimension), loaded in \(seconds(since: t0))")
            }
            let t1 = Date()
            rows.append(try evaluate(dataset, options: options))
            let baselineAcc1 = rows[rows.count - 1].metrics.acc1
            names.insert(dataset.name)
            if options.progress { Progress.note("\(note): scored and bootstrapped in \(seconds(since: t1))") }
            if let alignment {
                let t2 = Date()
                rows += try alignmentRows(dataset, baseline: rows[rows.count - 1], context: alignment, options: options)
                if options.progress {
                    Progress.note("\(note): \(alignment.specs.count) alignment variant(s) in \(seconds(since: t2))")
                }
            }
            for f in dataset.inputs {
                let r = InputRecord(path: f.path, sha256: f.sha256, role: f.role)
                if seen.insert(r).inserted { inputs.append(r) }
            }
            if options.progress {
                Progress.note("\(note): baseline acc1 \(format(baselineAcc1))")
            }
        }
        var seeds = ["bootstrap": options.seed]
        if let alignment {
            try checkValidationPairing(alignment, datasetNames: names)
            for r in alignment.inputs where seen.insert(r).inserted { inputs.append(r) }
            if rows.contains(where: { $0.alignment?.selection == "kfold" }) { seeds["folds"] = options.seed }
        }
        let doc = ResultDocument(tool: options.tool, seeds: seeds, inputs: inputs, results: rows,
                                 provenance: .current(command: options.command, threads: options.threads))
        try doc.write(to: options.output)
        return doc
    }

    /// The baseline (cosine) row for one dataset.
    public static func evaluate(_ dataset: ZeroShotDataset, options: Options) throws -> ResultRow {
        let classifier = ZeroShotClassifier(dataset: dataset)
        let predictions = ZeroShot.predict(images: dataset.images, labels: dataset.labels, classifier: classifier,
                                           threads: options.threads)
        let m = Metrics.compute(predictions)
        let ci = try Metrics.acc1Interval(predictions, resamples: options.bootstrapResamples, level: options.level,
                                      seed: options.seed)
        return ResultRow(
            dataset: dataset.name, model: dataset.model, pretrained: dataset.pretrained,
            metrics: MetricValues(acc1: m.acc1, acc5: m.acc5, meanPerClassRecall: m.meanPerClassRecall),
            method: Alignment.baselineMethod, variant: Alignment.baselineVariant,
            intervals: ["acc1": IntervalRecord(ci)],
            perClassRecall: options.perClass ? m.perClassRecall : nil,
            nImages: m.nImages, nClasses: m.nClasses, nTemplates: dataset.numTemplates,
            templateLevel: dataset.templateLevel,
            classnamesSha256: dataset.classnamesSHA256, templatesSha256: dataset.templatesSHA256)
    }

    /// A short fixed-width table of the rows, for the terminal.
    public static func table(_ doc: ResultDocument) -> String {
        var lines = [pad("dataset", 20) + pad("method", 22) + pad("images", 9) + pad("classes", 8)
                     + pad("acc1", 8) + pad("95% CI", 18) + pad("acc5", 8) + "mpcr"]
        for r in doc.results {
            let ci = r.intervals["acc1"].map { "[\(format($0.low)), \(format($0.high))]" } ?? "-"
            lines.append(pad(r.dataset, 20) + pad(r.method, 22) + pad(String(r.nImages), 9)
                         + pad(String(r.nClasses), 8) + pad(format(r.metrics.acc1), 8) + pad(ci, 18)
                         + pad(r.metrics.acc5.map(format) ?? "n/a", 8) + format(r.metrics.meanPerClassRecall))
        }
        return lines.joined(separator: "\n")
    }

    private static func seconds(since t: Date) -> String { String(format: "%.2f s", Date().timeIntervalSince(t)) }
    private static func format(_ x: Double) -> String { String(format: "%.4f", x) }
    private static func pad(_ s: String, _ w: Int) -> String {
        s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count)
    }
}

extension IntervalRecord {
    /// The on-disk record of an interval computed by the evaluator (the report stage does not
    /// depend on VLSAEEval, so the two types meet here).
    init(_ ci: ConfidenceInterval) {
        self.init(low: ci.low, high: ci.high, level: ci.level, resamples: ci.resamples, seed: ci.seed)
    }
}
