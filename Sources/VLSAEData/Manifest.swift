import Foundation
import VLSAECore
import VLSAEFormats

/// A list of strings given inline in a manifest, or by the name of a catalog entry.
public enum StringListSource: Codable, Equatable, Sendable {
    /// The strings themselves, written as a JSON array.
    case inline([String])
    /// The name of a built-in catalog entry (`Catalog.entry(named:)`), written as a JSON string.
    case catalog(String)

    /// Decodes a JSON string as `.catalog` and an array of strings as `.inline`; anything else is a decoding error.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let name = try? c.decode(String.self) {
            self = .catalog(name)
        } else if let list = try? c.decode([String].self) {
            self = .inline(list)
        } else {
            throw DecodingError.dataCorruptedError(
                in: c, debugDescription: "expected an array of strings or the name of a catalog entry")
        }
    }

    /// Writes the form `init(from:)` reads: the name as a string, or the list as an array.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .inline(let list): try c.encode(list)
        case .catalog(let name): try c.encode(name)
        }
    }
}

/// A zero-shot dataset described by cached embeddings, as written in a manifest file (JSON):
///
///     {
///       "name": "cifar10", "model": "ViT-B-32", "pretrained": "laion2b_s34b_b79k",
///       "image_embeddings": "cifar10.npz:images",      // N × d
///       "labels": "cifar10.npz:labels",                 // N integers in [0, C)
///       "classnames": "cifar10",                        // C strings, or a catalog entry name
///       "templates": "cifar10",                         // T strings, or a catalog entry name
///       "text_embeddings": "cifar10_text.npy"           // C × T × d, one row per template
///     }
///
/// Instead of `text_embeddings` a manifest may give `classifier` (C × d, already averaged over
/// templates); template-level variants are then unavailable. Array paths are tensor addresses
/// (`file.npy`, `file.npy[0]`, `archive.npz:name`) relative to the manifest's folder.
@MemberwiseInit
public struct Manifest: Codable, Equatable, Sendable {
    /// Dataset name as results report it, e.g. "cifar10" (JSON key `name`).
    public var name: String
    /// CLIP architecture the embeddings came from, e.g. "ViT-B-32"; recorded, not interpreted.
    public var model: String
    /// Pretrained weights tag of `model`, e.g. "laion2b_s34b_b79k"; recorded, not interpreted.
    public var pretrained: String
    /// Tensor address of the N × d image embeddings (`image_embeddings`), relative to the manifest's folder.
    public var imageEmbeddings: String
    /// Tensor address of the N integer labels in [0, C).
    public var labels: String
    /// The C class names in label order, inline or by catalog name.
    public var classnames: StringListSource
    /// The T prompt templates, each with one `{c}`, inline or by catalog name.
    public var templates: StringListSource
    /// Tensor address of the C × T × d per-template text embeddings (`text_embeddings`); nil when `classifier` is
    /// given.
    public var textEmbeddings: String? = nil
    /// Tensor address of a C × d classifier already averaged over templates; nil when `text_embeddings` is given.
    public var classifier: String? = nil

    /// Every key a manifest may have (`read` refuses others).
    enum CodingKeys: CodingKey, CaseIterable {
        case name, model, pretrained, imageEmbeddings, labels, classnames, templates, textEmbeddings, classifier
    }

    /// Reads and decodes a manifest; structural problems name the file.
    public static func load(path: String) throws -> Manifest { try read(path: path).manifest }

    /// Reads, checks and decodes a manifest, with the digest of the bytes read (role "manifest").
    public static func read(path: String) throws -> (manifest: Manifest, digest: FileDigest) {
        let data = try readFile(path)
        // A misspelt key (say "text_embedding") must not silently turn into "absent".
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            try CanonicalJSON.checkKeys(
                object.keys, allowed: CanonicalJSON.keys(of: CodingKeys.self),
                at: "the manifest", path: path)
        }
        let m = try CanonicalJSON.decode(Manifest.self, from: data, path: path)
        switch (m.textEmbeddings, m.classifier) {
        case (nil, nil):
            throw VLSAEError.file(path, "needs one of \"text_embeddings\" (C × T × d) or \"classifier\" (C × d)")
        case (.some, .some):
            throw VLSAEError.file(path, "gives both \"text_embeddings\" and \"classifier\"; keep exactly one")
        default: return (m, FileDigest(of: data, path: path, role: "manifest"))
        }
    }
}

/// A validated zero-shot dataset: images, labels and class text, with the digests of everything
/// it was built from.
public struct ZeroShotDataset: Sendable {
    /// Class text embeddings: one per (class, template) or one per class, already averaged.
    public enum ClassText: Sendable, Equatable {
        /// (C·T) × d, row `c·T + t` is class c filled into template t.
        case perTemplate(Matrix)
        /// C × d, averaged over templates upstream.
        case averaged(Matrix)
    }

    /// Dataset name, from the manifest.
    public let name: String
    /// CLIP architecture, from the manifest.
    public let model: String
    /// Pretrained weights tag, from the manifest.
    public let pretrained: String
    /// N × d, as stored (not normalised).
    public let images: Matrix
    /// N class indices in [0, numClasses), one per image row.
    public let labels: [Int]
    /// The C class names, in label order (never sorted or deduplicated).
    public let classnames: [String]
    /// The T prompt templates, each containing `{c}` once and no other brace.
    public let templates: [String]
    /// The class text embeddings, per template or averaged.
    public let classText: ClassText
    /// Every file read, the manifest first, each with its role (empty when loaded without hashing).
    public let inputs: [FileDigest]

    /// N, the number of images.
    public var count: Int { images.rows }
    /// d, the embedding dimension shared by images and class text.
    public var dimension: Int { images.cols }
    /// C, the number of classes.
    public var numClasses: Int { classnames.count }
    /// T, the number of templates (also known for an averaged classifier).
    public var numTemplates: Int { templates.count }
    /// Whether per-template text embeddings are available (false for a precomputed classifier).
    public var templateLevel: Bool {
        if case .perTemplate = classText { return true }
        return false
    }
    /// `Catalog.listSHA256`: SHA-256 of the UTF-8 bytes of each string followed by "\n", so a
    /// silently changed class-name or template list shows in every result.
    public var classnamesSHA256: String { Catalog.listSHA256(classnames) }
    /// `Catalog.listSHA256` of the templates, recorded beside `classnamesSHA256` for the same reason.
    public var templatesSHA256: String { Catalog.listSHA256(templates) }

    /// Builds a dataset from arrays in memory, applying every rule a manifest must satisfy.
    /// `source` names the manifest in messages; `addresses` names the array for each role.
    public init(
        name: String, model: String, pretrained: String,
        images: Tensor, labels: Tensor, classnames: [String], templates: [String],
        textEmbeddings: Tensor?, classifier: Tensor?,
        source: String = "(in memory)", addresses: [String: String] = [:],
        inputs: [FileDigest] = []
    ) throws {
        func fail(_ role: String, _ message: String) -> VLSAEError {
            let place = addresses[role].map { "\(role) (\($0))" } ?? role
            return VLSAEError.file(source, "\(place): \(message)")
        }
        let c = classnames.count
        let t = templates.count
        guard c >= 2 else { throw fail("classnames", "needs at least 2 classes, found \(c)") }
        guard t >= 1 else { throw fail("templates", "needs at least 1 template, found 0") }

        guard images.dtype.isFloatingPoint else {
            throw fail("image_embeddings", "expected floating-point values, found \(images.dtype.rawValue)")
        }
        guard images.shape.count == 2 else {
            throw fail("image_embeddings", "expected a 2-D array N × d, found shape \(images.shapeDescription)")
        }
        let n = images.shape[0]
        let d = images.shape[1]
        guard n >= 1 else { throw fail("image_embeddings", "holds no images (N = 0)") }
        guard d >= 1 else { throw fail("image_embeddings", "has dimension d = 0") }
        let imageMatrix = Matrix(rows: n, cols: d, values: images.floats)
        if let r = imageMatrix.firstNonFiniteRow() {
            throw fail("image_embeddings", "row \(r) contains NaN or infinity")
        }

        let labelValues: [Int]
        do { labelValues = try labels.integers(name: "labels") } catch let e as VLSAEError {
            throw fail("labels", Self.strip(e, prefix: "labels: "))
        }
        guard labelValues.count == n else {
            throw fail("labels", "holds \(labelValues.count) labels but image_embeddings has \(n) rows")
        }
        if let i = labelValues.firstIndex(where: { $0 < 0 || $0 >= c }) {
            throw fail("labels", "label \(labelValues[i]) at index \(i) is outside [0, \(c)) (C = \(c) classnames)")
        }

        let text: ClassText
        switch (textEmbeddings, classifier) {
        case (let te?, nil):
            guard te.dtype.isFloatingPoint else {
                throw fail("text_embeddings", "expected floating-point values, found \(te.dtype.rawValue)")
            }
            guard te.shape == [c, t, d] else {
                throw fail(
                    "text_embeddings",
                    "expected shape (C, T, d) = (\(c), \(t), \(d)) from \(c) classnames, "
                        + "\(t) templates and image dimension \(d), found \(te.shapeDescription)")
            }
            let m = Matrix(rows: c * t, cols: d, values: te.floats)
            if let r = m.firstNonFiniteRow() {
                throw fail(
                    "text_embeddings",
                    "row [\(r / t), \(r % t)] (class \(r / t), template \(r % t)) contains NaN or infinity")
            }
            text = .perTemplate(m)
        case (nil, let cl?):
            guard cl.dtype.isFloatingPoint else {
                throw fail("classifier", "expected floating-point values, found \(cl.dtype.rawValue)")
            }
            guard cl.shape == [c, d] else {
                throw fail(
                    "classifier",
                    "expected shape (C, d) = (\(c), \(d)) from \(c) classnames and image "
                        + "dimension \(d), found \(cl.shapeDescription)")
            }
            let m = Matrix(rows: c, cols: d, values: cl.floats)
            if let r = m.firstNonFiniteRow() { throw fail("classifier", "row \(r) contains NaN or infinity") }
            text = .averaged(m)
        case (nil, nil):
            throw VLSAEError.file(source, "needs one of \"text_embeddings\" or \"classifier\"")
        case (.some, .some):
            throw VLSAEError.file(source, "gives both \"text_embeddings\" and \"classifier\"; keep exactly one")
        }

        self.name = name
        self.model = model
        self.pretrained = pretrained
        self.images = imageMatrix
        self.labels = labelValues
        self.classnames = classnames
        self.templates = templates
        self.classText = text
        self.inputs = inputs
    }

    private static func strip(_ e: VLSAEError, prefix: String) -> String {
        let s = e.description
        return s.hasPrefix(prefix) ? String(s.dropFirst(prefix.count)) : s
    }

    /// Loads and validates the dataset a manifest describes. Relative array paths are resolved
    /// against the manifest's folder; recorded paths keep the form the working directory sees
    /// (relative when the manifest path was relative). `catalog` resolves named lists. Each file is
    /// read once, also when it holds several of the arrays, and hashed over the bytes read.
    public static func load(
        manifestPath: String,
        catalog: (String) throws -> CatalogEntry = { try Catalog.entry(named: $0) },
        hashInputs: Bool = true
    ) throws -> ZeroShotDataset {
        let (manifest, manifestDigest) = try Manifest.read(path: manifestPath)
        let folder = (manifestPath as NSString).deletingLastPathComponent

        func list(_ source: StringListSource, role: String, pick: (CatalogEntry) -> [String]) throws -> [String] {
            switch source {
            case .inline(let l): return l
            case .catalog(let name):
                do { return pick(try catalog(name)) } catch let e as VLSAEError {
                    throw VLSAEError.file(manifestPath, "\(role): catalog entry \"\(name)\": \(e)")
                }
            }
        }
        let classnames = try list(manifest.classnames, role: "classnames") { $0.classnames }
        let templates = try list(manifest.templates, role: "templates") { $0.templates }

        var addresses: [String: String] = [:]
        var inputs = hashInputs ? [manifestDigest] : []
        var files: [String: (contents: TensorFile.Contents, digest: FileDigest?)] = [:]

        func tensor(_ text: String, role: String) throws -> Tensor {
            addresses[role] = text
            let address: TensorAddress
            do { address = try TensorAddress(parsing: text) } catch let e as VLSAEError {
                throw VLSAEError.file(manifestPath, "\(role): invalid tensor address \"\(text)\": \(e)")
            }
            var resolved = address
            if !address.path.hasPrefix("/") && !folder.isEmpty {
                resolved.path = (folder as NSString).appendingPathComponent(address.path)
            }
            do {
                var file = try files[resolved.path] ?? (TensorFile.read(path: resolved.path), nil)
                let t = try file.contents.tensor(resolved)
                if hashInputs {
                    if file.digest == nil { file.digest = file.contents.digest }
                    inputs.append(file.digest!.recorded(role: role))
                }
                files[resolved.path] = file
                return t
            } catch let e as VLSAEError {
                throw VLSAEError.file(manifestPath, "\(role) (\(text)): \(e)")
            }
        }

        let images = try tensor(manifest.imageEmbeddings, role: "image_embeddings")
        let labels = try tensor(manifest.labels, role: "labels")
        let text = try manifest.textEmbeddings.map { try tensor($0, role: "text_embeddings") }
        let classifier = try manifest.classifier.map { try tensor($0, role: "classifier") }
        return try ZeroShotDataset(
            name: manifest.name, model: manifest.model, pretrained: manifest.pretrained,
            images: images, labels: labels, classnames: classnames, templates: templates,
            textEmbeddings: text, classifier: classifier,
            source: manifestPath, addresses: addresses, inputs: inputs)
    }
}
