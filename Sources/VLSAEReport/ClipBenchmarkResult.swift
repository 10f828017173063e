import Foundation
import VLSAECore

/// One CLIP_benchmark result file (`clip_benchmark eval`, `clip_benchmark/cli.py`: `json.dump(dump, f)`), task
/// zeroshot_classification:
///
///     {"dataset": "cifar10", "model": "ViT-B-32", "pretrained": "laion2b_s34b_b79k",
///      "task": "zeroshot_classification", "metrics": {"acc1": 0.93, "acc5": 0.99,
///      "mean_per_class_recall": 0.93}, "language": "en"}
///
/// with `classnames` and `templates` when run with `--dump_classnames` / `--dump_templates`. Python's `json.dump`
/// writes a NaN as the bare token `NaN`, which is not JSON; CLIP_benchmark's metrics code sets `acc5 = NaN` for
/// datasets with fewer than 5 classes (`metrics/zeroshot_classification.py`). `vlsae export-cb` adds the row's
/// `method` and `variant`, keys CLIP_benchmark's `build` command carries along as columns.
public struct ClipBenchmarkResult: Equatable, Sendable {
    /// CLIP_benchmark's task name for the only task read and written.
    public static let task = "zeroshot_classification"
    /// The largest file read: a result with dumped class names and templates is kilobytes to a megabyte.
    public static let maximumBytes = 64 << 20
    /// The deepest nesting read (a result is 3 levels deep).
    public static let maximumDepth = 8

    /// The dataset as CLIP_benchmark names it (e.g. "cifar10", "wds/vtab/cifar10").
    public var dataset: String
    /// The open_clip architecture.
    public var model: String
    /// The open_clip pretrained tag (or checkpoint path).
    public var pretrained: String
    /// The language of class names and templates, e.g. "en".
    public var language: String
    /// Top-1 accuracy in [0, 1].
    public var acc1: Double
    /// Top-5 accuracy in [0, 1]; nil where CLIP_benchmark wrote NaN (fewer than 5 classes).
    public var acc5: Double?
    /// Mean per-class recall (balanced accuracy) in [0, 1].
    public var meanPerClassRecall: Double
    /// The class names, when the file has them (`--dump_classnames`).
    public var classnames: [String]?
    /// The templates, when the file has them (`--dump_templates`).
    public var templates: [String]?
    /// `vlsae`'s method and variant of the row, when `vlsae export-cb` wrote the file.
    public var method: String?
    /// See `method`.
    public var variant: String?
    /// Metrics the file held as a bare NaN, sorted.
    public var nanMetrics: [String]

    /// A result with every field given.
    public init(
        dataset: String, model: String, pretrained: String, language: String, acc1: Double, acc5: Double?,
        meanPerClassRecall: Double, classnames: [String]? = nil, templates: [String]? = nil,
        method: String? = nil, variant: String? = nil, nanMetrics: [String] = []
    ) {
        self.dataset = dataset
        self.model = model
        self.pretrained = pretrained
        self.language = language
        self.acc1 = acc1
        self.acc5 = acc5
        self.meanPerClassRecall = meanPerClassRecall
        self.classnames = classnames
        self.templates = templates
        self.method = method
        self.variant = variant
        self.nanMetrics = nanMetrics
    }

    static let keys: Set<String> = [
        "dataset", "model", "pretrained", "task", "metrics", "language", "classnames", "templates", "method", "variant",
    ]
    static let metricKeys = ["acc1", "acc5", "mean_per_class_recall"]
    /// What a bare `NaN` token becomes before the text is parsed as JSON: a string no real file holds.
    static let nanMarker = "\u{0}NaN"

    /// Parses the bytes of a CLIP_benchmark result read from `path` (which names it in errors), tolerating bare `NaN`
    /// tokens (recorded in `nanMetrics`). Throws `VLSAEError.file` for a file that is too large, too deep, not JSON, of
    /// another task, missing a key, with an unknown key, or with a metric outside [0, 1] (NaN is allowed for acc5
    /// only).
    public static func parse(_ data: Data, path: String) throws -> ClipBenchmarkResult {
        guard data.count <= maximumBytes else {
            throw VLSAEError.file(path, "is \(data.count) bytes; a CLIP_benchmark result is at most \(maximumBytes)")
        }
        let strict = try replacingBareNaN(data, path: path)
        guard let object = (try? JSONSerialization.jsonObject(with: strict)) as? [String: Any] else {
            throw VLSAEError.file(path, "is not a JSON object (CLIP_benchmark result expected)")
        }
        try CanonicalJSON.checkKeys(object.keys, allowed: keys, at: "a CLIP_benchmark result", path: path)
        if let task = object["task"] as? String, task != Self.task {
            throw VLSAEError.file(path, "task is \"\(task)\"; only \(Self.task) results can be imported")
        }
        if let metrics = object["metrics"] as? [String: Any] {
            try CanonicalJSON.checkKeys(
                metrics.keys, allowed: Set(metricKeys), at: "the metrics of a zeroshot_classification result",
                path: path)
        }
        // Values through JSONDecoder, which keeps numbers and booleans apart and parses doubles exactly.
        let raw: Raw
        do { raw = try JSONDecoder().decode(Raw.self, from: strict) } catch let DecodingError.keyNotFound(key, _) {
            throw VLSAEError.file(path, "has no \"\(key.stringValue)\"")
        } catch {
            throw VLSAEError.file(path, "is not a CLIP_benchmark zeroshot_classification result: \(error)")
        }
        guard raw.task == Self.task else {
            throw VLSAEError.file(path, "task is \"\(raw.task)\"; only \(Self.task) results can be imported")
        }
        var nan: [String] = []
        func metric(_ key: String, nanAllowed: Bool) throws -> Double? {
            switch raw.metrics[key] {
            case nil: throw VLSAEError.file(path, "metrics.\(key) is missing")
            case .nan?:
                guard nanAllowed else { throw VLSAEError.file(path, "metrics.\(key) is NaN") }
                nan.append(key)
                return nil
            case .number(let v)?:
                guard v >= 0 && v <= 1 else { throw VLSAEError.file(path, "metrics.\(key) = \(v) is outside [0, 1]") }
                return v
            }
        }
        return ClipBenchmarkResult(
            dataset: raw.dataset, model: raw.model, pretrained: raw.pretrained, language: raw.language,
            acc1: try metric("acc1", nanAllowed: false)!, acc5: try metric("acc5", nanAllowed: true),
            meanPerClassRecall: try metric("mean_per_class_recall", nanAllowed: false)!,
            classnames: raw.classnames, templates: raw.templates, method: raw.method, variant: raw.variant,
            nanMetrics: nan.sorted())
    }

    /// The file's values as decoded; a metric is a number or the NaN marker.
    private struct Raw: Decodable {
        enum Metric: Decodable {
            case number(Double)
            case nan

            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let v = try? c.decode(Double.self) {
                    self = .number(v)
                } else if let s = try? c.decode(String.self), s == ClipBenchmarkResult.nanMarker {
                    self = .nan
                } else {
                    throw DecodingError.dataCorruptedError(in: c, debugDescription: "a metric must be a number or NaN")
                }
            }
        }
        var dataset, model, pretrained, task, language: String
        var metrics: [String: Metric]
        var classnames, templates: [String]?
        var method, variant: String?
    }

    /// The text with every bare `NaN` outside strings replaced by the JSON string `nanMarker`; refuses `Infinity`
    /// (no metric is infinite) and nesting deeper than `maximumDepth`.
    static func replacingBareNaN(_ data: Data, path: String) throws -> Data {
        let bytes = [UInt8](data)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        var i = 0
        var inString = false
        var depth = 0
        let nan = Array("NaN".utf8)
        let marker = Array("\"\\u0000NaN\"".utf8)
        while i < bytes.count {
            let b = bytes[i]
            if inString {
                out.append(b)
                if b == UInt8(ascii: "\\"), i + 1 < bytes.count {
                    out.append(bytes[i + 1])
                    i += 2
                    continue
                }
                if b == UInt8(ascii: "\"") { inString = false }
                i += 1
                continue
            }
            switch b {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                guard depth <= maximumDepth else {
                    throw VLSAEError.file(path, "nests deeper than \(maximumDepth) levels")
                }
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: "N") where Array(bytes[i..<min(i + 3, bytes.count)]) == nan:
                out += marker
                i += 3
                continue
            case UInt8(ascii: "I"):
                throw VLSAEError.file(path, "holds Infinity, which no CLIP_benchmark metric can be")
            default: break
            }
            out.append(b)
            i += 1
        }
        return Data(out)
    }

    /// The bytes CLIP_benchmark writes for this result: `json.dump` of its dict in CLIP_benchmark's key order
    /// (dataset, model, pretrained, task, metrics, language), Python's default separators, NaN for an undefined acc5,
    /// then `method` and `variant` when set. No trailing newline, as `json.dump` writes none.
    public func encoded() -> Data {
        let str = Self.pythonString
        func num(_ v: Double?) -> String { v.map(Self.pythonRepr) ?? "NaN" }
        var parts = [
            "\"dataset\": \(str(dataset))", "\"model\": \(str(model))", "\"pretrained\": \(str(pretrained))",
            "\"task\": \(str(Self.task))",
            "\"metrics\": {\"acc1\": \(num(acc1)), \"acc5\": \(num(acc5)), "
                + "\"mean_per_class_recall\": \(num(meanPerClassRecall))}",
            "\"language\": \(str(language))",
        ]
        if let classnames { parts.append("\"classnames\": [\(classnames.map(str).joined(separator: ", "))]") }
        if let templates { parts.append("\"templates\": [\(templates.map(str).joined(separator: ", "))]") }
        if let method { parts.append("\"method\": \(str(method))") }
        if let variant { parts.append("\"variant\": \(str(variant))") }
        return Data(("{" + parts.joined(separator: ", ") + "}").utf8)
    }

    /// A string as Python's `json.dump` writes it by default (`ensure_ascii=True`): quote and backslash escaped, the
    /// short escapes `\b \f \n \r \t`, every other control character and every non-ASCII character as `\uXXXX`
    /// (UTF-16 code units, so a surrogate pair beyond the BMP).
    static func pythonString(_ s: String) -> String {
        var out = "\""
        for unit in s.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default: out += String(format: "\\u%04x", unit)
            }
        }
        return out + "\""
    }

    /// Python's `repr` of a float: the shortest text that reads back to the same double (Swift's `description` gives
    /// the same digits), with Python's exponent form (`1e-05`, `1e+16`).
    static func pythonRepr(_ v: Double) -> String {
        let s = "\(v)"
        guard let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) else { return s }
        var mantissa = String(s[..<e])
        if mantissa.hasSuffix(".0") { mantissa.removeLast(2) }
        var exponent = String(s[s.index(after: e)...])
        let sign = exponent.hasPrefix("-") ? "-" : "+"
        exponent = String(exponent.drop { $0 == "-" || $0 == "+" })
        if exponent.count < 2 { exponent = "0" + exponent }
        return mantissa + "e" + sign + exponent
    }
}
