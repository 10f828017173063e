import Foundation
import VLSAECore
import VLSAEData
import VLSAEFormats

/// The ground-truth concept codes of a synthetic zero-shot set (`vlsae synth` writes them beside
/// the set's manifest): f for `representation=planted`, the positive control that shows what a
/// perfect autoencoder would give (README: "The planted-concepts ceiling").
///
/// - an image's code is the exact non-negative mix of concepts it was generated from (its class's
///   concepts and its distractors): `image_concepts.npy` (N × W integers, −1 padding) and
///   `image_concept_weights.npy` (N × W float32, 0 at padding);
/// - a class's code gives weight 1 to each of its defining concepts (`class_concepts.npy`, C × m):
///   the class meaning is their unweighted sum, and the prompt templates add no concept, so
///   averaging over templates first or after gives the same code.
///
/// Codes are sparse and stay sparse: the concept similarity is accumulated over shared concepts
/// only, as one fused multiply-add chain per (image, class) in ascending concept order — the bits
/// a dense GEMM over every concept would give, without an N × K allocation.
public struct PlantedConcepts: Sendable {
    /// Image codes: concepts per image, −1 where a row holds fewer than W.
    public static let imageConceptsFile = "image_concepts.npy"
    /// Image codes: the weight of each entry of `imageConceptsFile`.
    public static let imageWeightsFile = "image_concept_weights.npy"
    /// Class codes: the defining concepts of every class.
    public static let classConceptsFile = "class_concepts.npy"

    /// One non-zero entry of a unit-normalised code.
    public struct Entry: Sendable, Equatable {
        /// The concept's index in the planted dictionary.
        public var concept: Int
        /// Its weight after L2 normalisation of the code.
        public var weight: Float
    }

    /// N unit-normalised image codes, entries in ascending concept order.
    public let images: [[Entry]]
    /// C unit-normalised class codes, entries in ascending concept order.
    public let classes: [[Entry]]
    /// W, the most concepts one image code holds (the width of the files).
    public let width: Int
    /// The three files read, with roles `planted_image_concepts`, `planted_image_concept_weights`,
    /// `planted_class_concepts`.
    public let inputs: [FileDigest]
    /// For each concept, the classes whose code holds it and the class weight, in class order.
    private let classesByConcept: [Int: [(cls: Int, weight: Float)]]

    /// Codes from arrays in memory. `source` names the data in messages.
    /// - Throws: `VLSAEError.file` for a shape that does not fit N images and C classes, a
    ///   negative or repeated concept, a padding entry with a non-zero weight, a negative or
    ///   non-finite weight, or an image or class without any concept.
    public init(
        imageConcepts: Tensor, imageWeights: Tensor, classConcepts: Tensor, images n: Int, classes c: Int,
        source: String, inputs: [FileDigest] = []
    ) throws {
        func fail(_ file: String, _ message: String) -> VLSAEError { .file("\(source)/\(file)", message) }
        guard imageConcepts.shape.count == 2, imageConcepts.shape[0] == n, !imageConcepts.dtype.isFloatingPoint
        else {
            throw fail(
                Self.imageConceptsFile,
                "expected \(n) × W integers (one row per image), found \(imageConcepts.dtype.rawValue) "
                    + imageConcepts.shapeDescription)
        }
        guard imageWeights.shape == imageConcepts.shape, imageWeights.dtype.isFloatingPoint else {
            throw fail(
                Self.imageWeightsFile,
                "expected floating-point values of shape \(imageConcepts.shapeDescription), found "
                    + "\(imageWeights.dtype.rawValue) \(imageWeights.shapeDescription)")
        }
        guard classConcepts.shape.count == 2, classConcepts.shape[0] == c, classConcepts.shape[1] >= 1,
            !classConcepts.dtype.isFloatingPoint
        else {
            throw fail(
                Self.classConceptsFile,
                "expected \(c) × m integers (one row per class), found \(classConcepts.dtype.rawValue) "
                    + classConcepts.shapeDescription)
        }
        let w = imageConcepts.shape[1]
        let ids = imageConcepts.storageIntegers
        let weights = imageWeights.floats
        var imageCodes: [[Entry]] = []
        imageCodes.reserveCapacity(n)
        for i in 0..<n {
            var row: [(Int, Float)] = []
            for j in 0..<w {
                let id = ids[i * w + j]
                let v = weights[i * w + j]
                guard v.isFinite, v >= 0 else {
                    throw fail(Self.imageWeightsFile, "weight \(v) of image \(i) is negative or not finite")
                }
                if id == -1 {
                    guard v == 0 else {
                        throw fail(Self.imageWeightsFile, "image \(i) has weight \(v) at a padding entry (−1)")
                    }
                    continue
                }
                guard Self.isIndex(id) else {
                    throw fail(
                        Self.imageConceptsFile, "concept \(id) of image \(i) is not an index (≥ 0, or −1 for none)")
                }
                row.append((Int(id), v))
            }
            imageCodes.append(try Self.normalized(row) { fail(Self.imageConceptsFile, "image \(i) \($0)") })
        }
        let m = classConcepts.shape[1]
        let cids = classConcepts.storageIntegers
        let classCodes: [[Entry]] = try (0..<c).map { k in
            let row = try cids[(k * m)..<((k + 1) * m)].map { id -> (Int, Float) in
                guard Self.isIndex(id) else {
                    throw fail(Self.classConceptsFile, "concept \(id) of class \(k) is not an index (≥ 0)")
                }
                return (Int(id), 1)
            }
            return try Self.normalized(row) { fail(Self.classConceptsFile, "class \(k) \($0)") }
        }
        var index: [Int: [(cls: Int, weight: Float)]] = [:]
        for (k, code) in classCodes.enumerated() {
            for e in code { index[e.concept, default: []].append((k, e.weight)) }
        }
        images = imageCodes
        classes = classCodes
        width = w
        self.inputs = inputs
        classesByConcept = index
    }

    /// The codes of `dataset`, read from the three files in its manifest's folder.
    /// - Throws: `VLSAEError.file` naming a missing or malformed file; a usage error when the
    ///   dataset was built without a manifest.
    public static func load(besideManifestOf dataset: ZeroShotDataset) throws -> PlantedConcepts {
        guard let manifest = dataset.inputs.first(where: { $0.role == "manifest" }) else {
            throw VLSAEError.usage(
                "dataset \(dataset.name) has no manifest, so representation=planted finds no concept codes")
        }
        let folder = (manifest.path as NSString).deletingLastPathComponent
        func read(_ file: String, role: String) throws -> (Tensor, FileDigest) {
            let path = folder.isEmpty ? file : (folder as NSString).appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: path) else {
                throw VLSAEError.file(
                    path,
                    "missing: representation=planted needs the planted concept codes a `vlsae synth` suite writes beside "
                        + "each manifest (\(imageConceptsFile), \(imageWeightsFile), \(classConceptsFile))")
            }
            let (t, d) = try TensorFile.loadWithDigest(TensorAddress(path: path))
            return (t, d.recorded(role: role))
        }
        let (ids, idDigest) = try read(imageConceptsFile, role: "planted_image_concepts")
        let (ws, wDigest) = try read(imageWeightsFile, role: "planted_image_concept_weights")
        let (cls, cDigest) = try read(classConceptsFile, role: "planted_class_concepts")
        return try PlantedConcepts(
            imageConcepts: ids, imageWeights: ws, classConcepts: cls, images: dataset.count,
            classes: dataset.numClasses, source: folder.isEmpty ? "." : folder,
            inputs: [idDigest, wDigest, cDigest])
    }

    /// cos(code(image i), code(class c)) for images `range` and every class: range.count × C.
    /// Each value is one fused multiply-add chain over the shared concepts in ascending order.
    public func similarities(_ range: Range<Int>) -> Matrix {
        let c = classes.count
        var out = Matrix(rows: range.count, cols: c)
        out.values.withUnsafeMutableBufferPointer { o in
            for (r, i) in range.enumerated() {
                for e in images[i] {
                    guard let hits = classesByConcept[e.concept] else { continue }
                    for h in hits { o[r * c + h.cls] = o[r * c + h.cls].addingProduct(e.weight, h.weight) }
                }
            }
        }
        return out
    }

    /// Whether a stored id names a concept: non-negative and small enough for any index.
    private static func isIndex(_ id: Int64) -> Bool { id >= 0 && id <= Int64(Int32.max) }

    /// Entries sorted by concept, scaled to unit L2 norm (sum of squares in double, as
    /// `Matrix.normalizeRows`); zero-weight entries are dropped.
    private static func normalized(_ row: [(Int, Float)], fail: (String) -> VLSAEError) throws -> [Entry] {
        let sorted = row.filter { $0.1 > 0 }.sorted { $0.0 < $1.0 }
        for j in sorted.indices.dropFirst() where sorted[j].0 == sorted[j - 1].0 {
            throw fail("names concept \(sorted[j].0) twice")
        }
        var s = 0.0
        for (_, v) in sorted { s += Double(v) * Double(v) }
        guard s > 0 else { throw fail("has no concept with a positive weight") }
        let inv = Float(1 / s.squareRoot())
        return sorted.map { Entry(concept: $0.0, weight: $0.1 * inv) }
    }
}

extension Tensor {
    /// The values of an integer tensor as stored (callers check the dtype first).
    fileprivate var storageIntegers: [Int64] {
        switch storage {
        case .integer(let i): return i
        case .float(let f): return f.map { Int64($0) }
        }
    }
}
