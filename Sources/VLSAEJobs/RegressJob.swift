import Foundation
import VLSAECore
import VLSAEReport

/// `vlsae regress`: compares a candidate result document with a baseline (golden) one.
///
/// Rows are matched by (dataset, method, variant). The files are comparable only when they were
/// computed from the same data: the same input digests (by role; paths may differ), the same
/// class-name and template lists and image counts per row, and every baseline row present in the
/// candidate. Then each metric may drop by at most its tolerance (absolute, in accuracy units):
/// acc1, acc5, mean_per_class_recall, and the paired deltas of alignment rows (delta_acc1, …).
///
/// Default tolerance 0.005 (half a point) for every metric. Results computed in the same numeric
/// mode from the same inputs are byte-identical on every CPU and thread count, so the slack matters
/// only when the numerics differ (a schema-1 document computed through OpenBLAS, say: such a pair is
/// compared within tolerance and the report says so) or when the checkpoint under test changed.
/// `exact` demands more: every row byte for byte (everything but checkpoint paths), which is how a
/// golden is checked to be reproduced. Exact comparison of documents in different numeric modes is
/// refused as not comparable.
///
/// The autoencoder checkpoint (input role `sae_checkpoint`) is not part of comparability: it is
/// the thing under test (retraining after a code change gives new bytes), so a changed checkpoint
/// is listed as a note and judged by the numbers it produces.
///
/// Exit status: 0 within tolerance, 1 regression, 2 not comparable (or unreadable).
public enum RegressJob {
    /// The tolerance of every metric unless `--tolerance` says otherwise: 0.005 in accuracy units (half a point).
    public static let defaultTolerance = 0.005
    /// The metrics compared, as JSON keys of a row's `metrics`.
    public static let metricNames = ["acc1", "acc5", "mean_per_class_recall"]
    /// Every key `Tolerances` accepts: each metric and its paired delta (`delta_acc1`, …).
    public static var toleranceKeys: [String] { metricNames + metricNames.map { "delta_" + $0 } }
    /// Input roles that are products of the pipeline under test rather than its data.
    public static let modelRoles: Set<String> = ["sae_checkpoint"]

    /// The verdict; its raw value is the exit status of `vlsae regress`.
    public enum Outcome: Int32, Sendable {
        /// Comparable, and no value dropped beyond its tolerance (with `exact`: every row reproduced).
        case pass = 0
        /// A value dropped beyond its tolerance, an interval lies wholly below the baseline's, or (with `exact`) a row
        /// is not byte-identical.
        case regression = 1
        /// The files cannot be compared: unreadable, another schema, other inputs or lists, missing rows, or numerics
        /// that differ under `exact`.
        case incomparable = 2
    }

    /// The largest drop allowed per metric.
    public struct Tolerances: Equatable, Sendable {
        /// Absolute tolerance by key of `RegressJob.toleranceKeys`, in accuracy units.
        public var values: [String: Double]

        /// Every key at `value`.
        public init(default value: Double = RegressJob.defaultTolerance) {
            values = Dictionary(uniqueKeysWithValues: RegressJob.toleranceKeys.map { ($0, value) })
        }

        /// Applies `metric=value` items (comma-separated lists allowed); `all=value` sets every metric.
        public mutating func apply(_ specs: [String]) throws {
            for spec in specs.flatMap({ $0.split(separator: ",").map(String.init) }) {
                let parts = spec.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, let v = Double(parts[1]), v >= 0, v.isFinite else {
                    throw VLSAEError.usage("--tolerance expects metric=value with value ≥ 0, got \"\(spec)\"")
                }
                if parts[0] == "all" {
                    for k in values.keys { values[k] = v }
                } else {
                    guard values[parts[0]] != nil else {
                        throw VLSAEError.usage(
                            "--tolerance: unknown metric \"\(parts[0])\"; known: all, \(RegressJob.toleranceKeys.joined(separator: ", "))"
                        )
                    }
                    values[parts[0]] = v
                }
            }
        }
    }

    /// How one value compares; the raw value is what the report prints.
    public enum Status: String, Sendable {
        /// Bit-identical values.
        case same
        /// Different, but by no more than the tolerance either way.
        case withinTolerance = "within tolerance"
        /// Higher than the baseline by more than the tolerance (not a failure).
        case improved
        /// Lower than the baseline by more than the tolerance.
        case regression
        /// With `requireOverlap`: the candidate's interval lies wholly below the baseline's (a failure).
        case disjointWorse = "interval disjoint (worse)"
        /// With `requireOverlap`: the candidate's interval lies wholly above the baseline's.
        case disjointBetter = "interval disjoint (better)"
    }

    /// One compared value.
    public struct Line: Equatable, Sendable {
        /// The row's key, `dataset | method | variant` (`-` for no variant).
        public var row: String
        /// The metric key (`acc1`, `delta_acc1`, …; `… interval` for an interval check).
        public var metric: String
        /// The baseline's value (an interval's midpoint for an interval check).
        public var baseline: Double
        /// The candidate's value (an interval's midpoint for an interval check).
        public var candidate: Double
        /// The tolerance applied; nil for an interval check.
        public var tolerance: Double?
        /// How the two values compare.
        public var status: Status
        /// Candidate minus baseline: negative is a drop.
        public var change: Double { candidate - baseline }
    }

    /// Everything `run` found, and the verdict.
    public struct Report: Sendable {
        /// The verdict, the exit status as its raw value.
        public var outcome: Outcome
        /// Why the files cannot be compared (empty unless `outcome == .incomparable`).
        public var incomparable: [String]
        /// Every value compared (metrics, paired deltas and, with `requireOverlap`, disjoint intervals).
        public var lines: [Line]
        /// Rows only in the candidate (informational).
        public var newRows: [String]
        /// Informational differences, e.g. a retrained checkpoint.
        public var notes: [String] = []
        /// Rows of the baseline found in the candidate.
        public var rowsCompared: Int
        /// Whether rows were required to be byte-identical, and the rows that were not.
        public var exact = false
        /// With `exact`: each row that differs, with the dotted key of its first difference.
        public var mismatches: [String] = []

        /// The lines that fail: drops beyond tolerance and intervals wholly below the baseline's.
        public var regressions: [Line] { lines.filter { $0.status == .regression || $0.status == .disjointWorse } }

        /// The human-readable report: what differs, then a verdict line.
        public func text(showAll: Bool = false) -> String {
            var out: [String] = []
            if outcome == .incomparable {
                out.append("not comparable:")
                out += incomparable.map { "  - " + $0 }
            }
            let shown = lines.filter { showAll || $0.status != .same }
            if !shown.isEmpty {
                let header = ["row", "metric", "baseline", "candidate", "change", "tolerance", "status"]
                var table = [header]
                for l in shown {
                    table.append([
                        l.row, l.metric, String(format: "%.4f", l.baseline), String(format: "%.4f", l.candidate),
                        String(format: "%+.4f", l.change), l.tolerance.map { String(format: "%.4f", $0) } ?? "-",
                        l.status.rawValue,
                    ])
                }
                let widths = header.indices.map { i in table.map { $0[i].count }.max()! }
                for r in table {
                    out.append(
                        r.indices.map { i in r[i] + String(repeating: " ", count: widths[i] - r[i].count) }
                            .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
                }
            }
            for r in newRows { out.append("new row (not in baseline): \(r)") }
            out += notes.map { "note: " + $0 }
            out += mismatches.map { "not reproduced: " + $0 }
            switch outcome {
            case .pass where exact:
                out.append("OK: \(rowsCompared) rows reproduced byte for byte")
            case .pass:
                out.append(
                    "OK: \(rowsCompared) rows, \(lines.filter { $0.status != .same }.count) values changed, all within tolerance"
                )
            case .regression where !mismatches.isEmpty:
                out.append("NOT REPRODUCED: \(mismatches.count) of \(rowsCompared) rows differ from the baseline")
            case .regression:
                out.append("REGRESSION: \(regressions.count) value(s) beyond tolerance in \(rowsCompared) rows")
            case .incomparable:
                out.append("NOT COMPARABLE: \(incomparable.count) difference(s) in inputs or rows")
            }
            return out.joined(separator: "\n")
        }
    }

    // MARK: Minimal view of a result document (only the keys regress needs)

    struct Interval: Decodable, Equatable {
        var low: Double
        var high: Double
    }
    struct Comparison: Decodable {
        var deltas: [String: Double]?
        var intervals: [String: Interval]?
    }
    struct Row: Decodable {
        var dataset: String
        var method: String
        var variant: String?
        var metrics: [String: Double?]
        var intervals: [String: Interval]?
        var nImages: Int?
        var classnamesSha256: String?
        var templatesSha256: String?
        var comparison: Comparison?
        var key: String { "\(dataset) | \(method) | \(variant ?? "-")" }
    }
    struct Provenance: Decodable { var numerics: String }
    struct Document: Decodable {
        var schemaVersion: Int
        var inputs: [FileDigest]
        var results: [Row]
        /// Every row as written, for exact comparison.
        var rawResults: [RawJSON]
        var provenance: Provenance?
        /// The numeric mode; schema-1 documents did not record it.
        var numerics: String { provenance?.numerics ?? RunProvenance.unrecorded }

        enum CodingKeys: CodingKey { case schemaVersion, inputs, results, provenance }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            schemaVersion = try ResultDocument.decodeSchemaVersion(from: c, forKey: .schemaVersion)
            inputs = try c.decode([FileDigest].self, forKey: .inputs)
            results = try c.decode([Row].self, forKey: .results)
            rawResults = try c.decode([RawJSON].self, forKey: .results)
            provenance = try c.decodeIfPresent(Provenance.self, forKey: .provenance)
        }
    }

    static func load(_ path: String) throws -> Document {
        try CanonicalJSON.decode(Document.self, from: path)
    }

    // MARK: Comparison

    /// Compares the result document at `candidate` with the one at `baseline`. Never throws: an unreadable file is an
    /// `.incomparable` report.
    ///
    /// - Parameters:
    ///   - baseline: path of the golden document.
    ///   - candidate: path of the document under test.
    ///   - tolerances: the largest drop allowed per metric.
    ///   - requireOverlap: also fail when a candidate interval lies wholly below the baseline's.
    ///   - exact: require every row byte for byte (checkpoint paths aside) instead of within tolerance.
    public static func run(
        baseline: String, candidate: String, tolerances: Tolerances = Tolerances(),
        requireOverlap: Bool = false, exact: Bool = false
    ) -> Report {
        let b: Document
        let c: Document
        do { b = try load(baseline) } catch {
            return Report(
                outcome: .incomparable, incomparable: ["baseline \(error)"], lines: [], newRows: [], rowsCompared: 0)
        }
        do { c = try load(candidate) } catch {
            return Report(
                outcome: .incomparable, incomparable: ["candidate \(error)"], lines: [], newRows: [], rowsCompared: 0)
        }
        return compare(b, c, tolerances: tolerances, requireOverlap: requireOverlap, exact: exact)
    }

    static func compare(
        _ b: Document, _ c: Document, tolerances: Tolerances, requireOverlap: Bool,
        exact: Bool = false
    ) -> Report {
        var problems: [String] = []
        var notes: [String] = []

        // Numerics: the same mode gives the same bytes; another mode is compared within tolerance only.
        if b.numerics != c.numerics {
            if exact {
                problems.append(
                    "numerics differ (baseline \(b.numerics), candidate \(c.numerics)): the values cannot be byte-identical; compare without --exact to check them within tolerance"
                )
            } else {
                notes.append(
                    "numerics differ (baseline \(b.numerics), candidate \(c.numerics)): same inputs, other arithmetic, so values are compared within tolerance, not byte for byte"
                )
            }
        }

        // An imported CLIP_benchmark document records no input hashes, image counts or (usually) list hashes: rows are
        // matched by name and compared within tolerance, and only the facts both sides record are checked.
        let imported = [b.numerics, c.numerics].contains(RunProvenance.clipBenchmark)
        if imported {
            notes.append(
                "inputs not compared: a document imported from CLIP_benchmark records no input hashes; rows are matched by dataset, method and variant"
            )
        }
        func differ<T: Equatable>(_ x: T?, _ y: T?) -> Bool { imported ? (x != nil && y != nil && x != y) : x != y }

        // Inputs: the same content per role; paths may differ between machines.
        func isModel(_ f: FileDigest) -> Bool { f.role.map(modelRoles.contains) ?? false }
        let bModel = b.inputs.filter(isModel)
        let cModel = c.inputs.filter(isModel)
        if Set(bModel.map(\.sha256)) != Set(cModel.map(\.sha256)) {
            func list(_ l: [FileDigest]) -> String { l.isEmpty ? "none" : l.map(\.description).joined(separator: ", ") }
            notes.append("checkpoint differs: \(list(bModel)) in baseline, \(list(cModel)) in candidate")
        }
        let bData = b.inputs.filter { !isModel($0) }
        let cData = c.inputs.filter { !isModel($0) }
        let bSet = Set(bData.map { "\($0.role ?? "-")\u{0}\($0.sha256)" })
        let cSet = Set(cData.map { "\($0.role ?? "-")\u{0}\($0.sha256)" })
        var reported = Set<String>()
        for i in bData where !imported && !cSet.contains("\(i.role ?? "-")\u{0}\(i.sha256)") {
            if let other = cData.first(where: { $0.role == i.role && $0.path == i.path }) {
                problems.append(
                    "input \(i.role ?? "-") \(i.path): sha256 \(i.sha256.prefix(12))… in baseline, \(other.sha256.prefix(12))… in candidate"
                )
                reported.insert(other.path + "\u{0}" + (other.role ?? "-"))
            } else {
                problems.append(
                    "input \(i.role ?? "-") \(i.path) (sha256 \(i.sha256.prefix(12))…) is not among the candidate's inputs"
                )
            }
        }
        for i in cData
        where !imported && !bSet.contains("\(i.role ?? "-")\u{0}\(i.sha256)")
            && !reported.contains(i.path + "\u{0}" + (i.role ?? "-"))
        {
            problems.append(
                "candidate input \(i.role ?? "-") \(i.path) (sha256 \(i.sha256.prefix(12))…) is not among the baseline's inputs"
            )
        }

        func index(_ rows: [Row], _ which: String) -> [String: Row] {
            var m: [String: Row] = [:]
            for r in rows {
                if m[r.key] != nil { problems.append("\(which) has two rows for \(r.key)") }
                m[r.key] = r
            }
            return m
        }
        let bRows = index(b.results, "baseline")
        let cRows = index(c.results, "candidate")
        let newRows = c.results.map(\.key).filter { bRows[$0] == nil }
        var lines: [Line] = []
        var compared = 0
        for br in b.results {
            guard let cr = cRows[br.key] else {
                problems.append("row \(br.key) is missing from the candidate")
                continue
            }
            if differ(br.classnamesSha256, cr.classnamesSha256) {
                problems.append(
                    "row \(br.key): class names differ (classnames_sha256 \(br.classnamesSha256?.prefix(12) ?? "none") vs \(cr.classnamesSha256?.prefix(12) ?? "none"))"
                )
            }
            if differ(br.templatesSha256, cr.templatesSha256) {
                problems.append(
                    "row \(br.key): templates differ (templates_sha256 \(br.templatesSha256?.prefix(12) ?? "none") vs \(cr.templatesSha256?.prefix(12) ?? "none"))"
                )
            }
            if differ(br.nImages, cr.nImages) {
                problems.append(
                    "row \(br.key): \(br.nImages.map(String.init) ?? "?") images in baseline, \(cr.nImages.map(String.init) ?? "?") in candidate"
                )
            }
            compared += 1
            func check(_ metric: String, _ bv: Double?, _ cv: Double?, tolerance: Double?) {
                switch (bv, cv) {
                case (nil, nil): return
                case (let x?, let y?):
                    let status: Status
                    if x == y {
                        status = .same
                    } else if let t = tolerance, x - y > t + 1e-12 {
                        status = .regression
                    } else if let t = tolerance, y - x > t + 1e-12 {
                        status = .improved
                    } else {
                        status = .withinTolerance
                    }
                    lines.append(
                        Line(
                            row: br.key, metric: metric, baseline: x, candidate: y, tolerance: tolerance, status: status
                        ))
                default:
                    problems.append(
                        "row \(br.key): \(metric) is \(bv == nil ? "absent" : "present") in baseline but \(cv == nil ? "absent" : "present") in candidate"
                    )
                }
            }
            for m in metricNames {
                check(m, br.metrics[m] ?? nil, cr.metrics[m] ?? nil, tolerance: tolerances.values[m])
                check(
                    "delta_" + m, br.comparison?.deltas?[m], cr.comparison?.deltas?[m],
                    tolerance: tolerances.values["delta_" + m])
            }
            if requireOverlap {
                func overlap(_ name: String, _ bi: Interval?, _ ci: Interval?) {
                    guard let bi, let ci else { return }
                    if ci.high < bi.low || ci.low > bi.high {
                        lines.append(
                            Line(
                                row: br.key, metric: name + " interval",
                                baseline: (bi.low + bi.high) / 2, candidate: (ci.low + ci.high) / 2, tolerance: nil,
                                status: ci.high < bi.low ? .disjointWorse : .disjointBetter))
                    }
                }
                for (k, bi) in (br.intervals ?? [:]).sorted(by: { $0.key < $1.key }) {
                    overlap(k, bi, cr.intervals?[k])
                }
                for (k, bi) in (br.comparison?.intervals ?? [:]).sorted(by: { $0.key < $1.key }) {
                    overlap("delta_" + k, bi, cr.comparison?.intervals?[k])
                }
            }
        }
        var mismatches: [String] = []
        if exact {
            // Every row byte for byte, except where the checkpoint file lies.
            let cRaw = Dictionary(zip(c.results.map(\.key), c.rawResults), uniquingKeysWith: { a, _ in a })
            for (row, raw) in zip(b.results, b.rawResults) {
                guard let other = cRaw[row.key] else { continue }
                if let at = RawJSON.firstDifference(
                    raw.removing(["checkpoint", "path"]), other.removing(["checkpoint", "path"]))
                {
                    mismatches.append("row \(row.key) differs at \(at.isEmpty ? "the top" : at)")
                }
            }
        }
        let outcome: Outcome
        if !problems.isEmpty {
            outcome = .incomparable
        } else if !mismatches.isEmpty
            || lines.contains(where: { $0.status == .regression || $0.status == .disjointWorse })
        {
            outcome = .regression
        } else {
            outcome = .pass
        }
        return Report(
            outcome: outcome, incomparable: problems, lines: lines, newRows: newRows, notes: notes,
            rowsCompared: compared, exact: exact, mismatches: mismatches)
    }
}

/// A JSON value as written, compared exactly (numbers as the doubles they parse to).
indirect enum RawJSON: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([RawJSON])
    case object([String: RawJSON])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([RawJSON].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: RawJSON].self))
        }
    }

    /// The value without the key at `path` (object keys).
    func removing(_ path: [String]) -> RawJSON {
        guard let first = path.first, case .object(var o) = self else { return self }
        if path.count == 1 {
            o[first] = nil
        } else if let inner = o[first] {
            o[first] = inner.removing(Array(path.dropFirst()))
        }
        return .object(o)
    }

    /// The dotted path of the first difference (keys sorted), nil when equal.
    static func firstDifference(_ a: RawJSON, _ b: RawJSON, at prefix: String = "") -> String? {
        if a == b { return nil }
        switch (a, b) {
        case (.object(let x), .object(let y)):
            for key in Set(x.keys).union(y.keys).sorted() {
                let path = prefix.isEmpty ? key : prefix + "." + key
                guard let xv = x[key], let yv = y[key] else { return path }
                if let d = firstDifference(xv, yv, at: path) { return d }
            }
            return prefix
        case (.array(let x), .array(let y)) where x.count == y.count:
            for (i, (xv, yv)) in zip(x, y).enumerated() {
                if let d = firstDifference(xv, yv, at: "\(prefix)[\(i)]") { return d }
            }
            return prefix
        default:
            return prefix
        }
    }
}
