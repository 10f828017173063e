import Foundation
import VLSAECore

// How the weight α of the concept similarity is chosen (README: "Concept-level alignment, made
// explicit", key `alpha`). The VL-SAE paper (arXiv 2510.21323) gives one α per dataset (its
// appendix table A6) without saying how they were found; reusing them, or picking α on the
// test images, makes a gain look better than a held-out estimate would. Each protocol is named in
// every result row, and the one that looks at the evaluation labels is always called "oracle".

/// The α protocol of one alignment spec.
public enum AlphaProtocol: Equatable, Sendable {
    /// The same α for every dataset.
    case fixed(Double)
    /// α per dataset from a JSON object `{"dataset": alpha}` (e.g. the paper's table A6).
    case table(String)
    /// The grid α with the best acc1 on held-out data: a validation manifest, else k-fold.
    case validated([Double])
    /// The grid α with the best acc1 on the evaluation set itself: an upper bound, never an
    /// estimate of what the method achieves on unseen data.
    case oracle([Double])

    /// "fixed", "table", "validated" or "oracle".
    public var name: String {
        switch self {
        case .fixed: return "fixed"
        case .table: return "table"
        case .validated: return "validated"
        case .oracle: return "oracle"
        }
    }

    /// True only for `oracle`, the protocol that looks at the evaluation labels.
    public var isOracle: Bool {
        if case .oracle = self { return true }
        return false
    }

    /// The grid of `validated` and `oracle` (sorted and deduplicated by `init(parsing:)`); nil for `fixed` and `table`.
    public var grid: [Double]? {
        switch self {
        case .validated(let g), .oracle(let g): return g
        default: return nil
        }
    }

    /// The canonical text of the protocol, as it appears in a variant string.
    public var canonical: String {
        switch self {
        case .fixed(let a): return "fixed:\(AlphaFormat.string(a))"
        case .table(let path): return "table:\(path)"
        case .validated(let g): return "validated:" + g.map(AlphaFormat.string).joined(separator: ";")
        case .oracle(let g): return "oracle:" + g.map(AlphaFormat.string).joined(separator: ";")
        }
    }

    /// Parses `fixed:<a>`, `table:<file>`, `validated:<grid>`, `oracle:<grid>`. A grid is a list
    /// of numbers separated by `;` (or `|`); it is sorted ascending and duplicates dropped, so that
    /// "ties go to the smallest α" is the same as "the first best in grid order".
    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":") else {
            throw VLSAEError.usage(
                "alpha \"\(text)\": expected fixed:<a>, table:<file>, validated:<grid> or oracle:<grid>")
        }
        let kind = String(text[..<colon])
        let rest = String(text[text.index(after: colon)...])
        switch kind {
        case "fixed":
            self = .fixed(try AlphaFormat.parse(rest, context: "alpha \"\(text)\""))
        case "table":
            guard !rest.isEmpty else { throw VLSAEError.usage("alpha \"\(text)\": table: needs a file name") }
            self = .table(rest)
        case "validated", "oracle":
            let parts = rest.split(whereSeparator: { $0 == ";" || $0 == "|" }).map(String.init)
            guard !parts.isEmpty else {
                throw VLSAEError.usage(
                    "alpha \"\(text)\": \(kind): needs a grid of values separated by ';', e.g. \(kind):0;0.5;1")
            }
            let values = try parts.map { try AlphaFormat.parse($0, context: "alpha \"\(text)\"") }
            let grid = Array(Set(values)).sorted()
            self = kind == "oracle" ? .oracle(grid) : .validated(grid)
        default:
            throw VLSAEError.usage(
                "alpha \"\(text)\": unknown protocol \"\(kind)\"; use fixed, table, validated or oracle")
        }
    }
}

/// Numbers in specs and variant strings: parsed strictly, printed in the shortest form that
/// reads back to the same double ("1" rather than "1.0"), so equal specs give equal strings.
public enum AlphaFormat {
    /// Parses a finite number (surrounding spaces allowed), mapping −0 to 0; `context` starts the `VLSAEError.usage`
    /// message on failure.
    public static func parse(_ text: String, context: String) throws -> Double {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard let v = Double(t), v.isFinite else {
            throw VLSAEError.usage("\(context): \"\(text)\" is not a finite number")
        }
        return v == 0 ? 0 : v  // -0 and 0 are one α
    }

    /// `v` as an integer ("1") when it is integral and below 10¹⁵ in magnitude, otherwise Swift's shortest round-trip
    /// form ("0.5").
    public static func string(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}

/// A per-dataset α table: a JSON object mapping dataset names to numbers.
public struct AlphaTable: Sendable, Equatable {
    /// The file as read (no role), hashed over the bytes parsed.
    public let digest: FileDigest
    /// α by dataset name, as the file gives them.
    public let alphas: [String: Double]

    /// Reads the JSON object at `path`; throws `VLSAEError.file` unless it maps names to numbers.
    public static func load(path: String) throws -> AlphaTable {
        let data = try readFile(path)
        try JSONInput.check(data, path: path)
        let alphas: [String: Double]
        do { alphas = try JSONDecoder().decode([String: Double].self, from: data) } catch let
            DecodingError.typeMismatch(_, ctx)
        {
            let key = ctx.codingPath.first?.stringValue
            throw VLSAEError.file(
                path,
                key.map { "α table entry \"\($0)\" is not a number" }
                    ?? "α table must be a JSON object {\"dataset\": alpha, ...}")
        } catch {
            throw VLSAEError.file(path, "α table must be a JSON object {\"dataset\": alpha, ...}: \(error)")
        }
        return AlphaTable(digest: FileDigest(of: data, path: path), alphas: alphas)
    }

    /// The α for `dataset`; throws `VLSAEError.file` naming the table when it has no entry for it.
    public func alpha(for dataset: String) throws -> Double {
        guard let a = alphas[dataset] else {
            let known = alphas.keys.sorted().joined(separator: ", ")
            throw VLSAEError.file(
                digest.path,
                "α table has no entry for dataset \"\(dataset)\" (entries: \(known.isEmpty ? "none" : known))")
        }
        return a
    }
}

/// Choosing α from a grid by top-1 accuracy.
public enum AlphaSelection {
    /// The index of the largest count; ties go to the lowest index (= smallest α of a sorted grid).
    public static func best(_ correctCounts: [Int]) -> Int {
        var best = 0
        for i in correctCounts.indices where correctCounts[i] > correctCounts[best] { best = i }
        return best
    }

    /// Fold of every image: a seeded permutation dealt round-robin, so fold sizes differ by at
    /// most one. `SeededRandom(seed:).permutation(n)`; image `perm[j]` goes to fold `j % folds`.
    public static func foldAssignment(count n: Int, folds: Int, seed: UInt64) -> [Int] {
        var rng = SeededRandom(seed: seed)
        let perm = rng.permutation(n)
        var fold = [Int](repeating: 0, count: n)
        for (j, i) in perm.enumerated() { fold[i] = j % folds }
        return fold
    }
}
