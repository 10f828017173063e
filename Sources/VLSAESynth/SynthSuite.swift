import Foundation
import VLSAECore
import VLSAEData
import VLSAEEval
import VLSAEFormats

/// `suite.json`: everything needed to know what a suite folder holds and whether it is intact.
/// Its keys are the property names as declared (`CanonicalJSON.Keys.propertyNames`: `evalSets`,
/// `trainImage`, …), unlike the snake_case of every other file: suites are reused by their bytes.
public struct SynthSuiteDescription: Codable, Equatable, Sendable {
    /// One file of the suite, keyed in `files` by its path relative to the suite folder.
    public struct FileEntry: Codable, Equatable, Sendable {
        /// Hex SHA-256 of the file's bytes; `SynthSuite.check(folder:parameters:)` compares it.
        public var sha256: String
        /// File size in bytes.
        public var bytes: Int
        /// NumPy dtype of the array (`<f2` or `<f4` for embeddings, `<f4` for the dictionaries, `<i8` for labels and
        /// class concepts), or "json" for a manifest.
        public var dtype: String
        /// Array shape, e.g. [N, d] for images or [C, T, d] for class texts; [] for a manifest.
        public var shape: [Int]
    }
    /// One zero-shot set of the suite.
    public struct EvalEntry: Codable, Equatable, Sendable {
        /// The set's name, also its folder and its manifest's `name`.
        public var name: String
        /// Path of the set's manifest relative to the suite folder, e.g. "synth10/manifest.json".
        public var manifest: String
        /// C, the number of classes.
        public var classes: Int
        /// N, the number of images.
        public var images: Int
        /// T, templates per class.
        public var templates: Int
        /// Plain CLIP zero-shot top-1 of the generated set (fraction).
        public var zeroShotTop1: Double
    }
    /// Always "vlsae-synth-suite".
    public var format: String
    /// Version of the `suite.json` layout: 1.
    public var version: Int
    /// The generator that wrote the suite: `SynthSuite.generatorName`.
    public var generator: String
    /// The seed the suite was generated with (also `parameters.seed`).
    public var seed: UInt64
    /// Every knob the suite was generated with; a suite is reused only when they are equal.
    public var parameters: SynthParameters
    /// Every file of the suite by relative path (arrays and manifests), each with its SHA-256.
    public var files: [String: FileEntry]
    /// The zero-shot sets, in `parameters.evalSets` order.
    public var evalSets: [EvalEntry]
    /// Relative path of the training images, N × d ("train_image.npy").
    public var trainImage: String
    /// Relative path of the training captions, N × d, row i paired with image i ("train_text.npy").
    public var trainText: String
    /// Relative path of the K × d planted concepts in the shared semantic space ("concepts.npy", float32).
    public var concepts: String
    /// Relative path of the K × d concepts through the image map, M_image · c_k ("concepts_image.npy").
    public var imageConcepts: String
    /// Relative path of the K × d concepts through the text map, M_text · c_k ("concepts_text.npy").
    public var textConcepts: String
    /// Relative path of the 2 × d modality offsets, row 0 image, row 1 text ("modality_offsets.npy").
    public var modalityOffsets: String
    /// Row 0 image, row 1 text: the centring removed from M·s/‖s‖ (a decoder's bias should
    /// learn offset − signal mean, up to the final normalisation).
    public var signalMeans: String
    /// Statistics of the training pairs next to `SynthStatistics.clipTargets`.
    public var statistics: SynthStatistics
    /// Real CLIP ViT-B/32's figures (`SynthStatistics.clipTargets`), stored beside `statistics` for comparison.
    public var clipTargets: SynthStatistics
}

/// Writing, reading and verifying a suite folder; see `SynthSuiteDescription` for its `suite.json`.
public enum SynthSuite {
    /// The description's file name in the suite folder; written last, so a folder with it is complete.
    public static let descriptionFile = "suite.json"
    /// `generator` of every suite this version writes and reads; also part of each set manifest's `pretrained`.
    public static let generatorName = "planted-concepts-v1"

    /// What `generate(_:to:log:)` did.
    public struct Report: Sendable {
        /// The `suite.json` content it wrote.
        public var description: SynthSuiteDescription
        /// Wall-clock seconds the generation took (not part of the suite).
        public var seconds: Double
        /// Bytes written: every listed file plus `suite.json`.
        public var totalBytes: Int
    }

    /// Generates the whole suite into `folder` (created if needed). Every file is written
    /// atomically; `suite.json` goes last, so a folder with a valid `suite.json` is complete.
    @discardableResult
    public static func generate(_ p: SynthParameters, to folder: String, log: ((String) -> Void)? = nil) throws
        -> Report
    {
        let start = Date()
        try p.validate()
        func note(_ message: String) {
            log?(String(format: "%6.2f s  ", Date().timeIntervalSince(start)) + message)
        }
        note("dictionary: \(p.concepts) concepts in d = \(p.dim)")
        let world = try SynthWorld(parameters: p)
        var files: [String: SynthSuiteDescription.FileEntry] = [:]
        let embedDType = p.float16 ? "<f2" : "<f4"

        func store(_ name: String, _ data: Data, dtype: String, shape: [Int]) throws {
            let path = (folder as NSString).appendingPathComponent(name)
            try AtomicFile.write(data, to: path)
            files[name] = .init(sha256: SHA256.hex(data), bytes: data.count, dtype: dtype, shape: shape)
        }
        func embeddings(_ values: [Float], shape: [Int]) -> Data {
            NpyFormat.encode(Tensor(shape: shape, floats: values), halfPrecision: p.float16)
        }
        func float32(_ values: [Float], shape: [Int]) -> Data { NpyFormat.encode(Tensor(shape: shape, floats: values)) }
        func int64(_ values: [Int], shape: [Int]) -> Data {
            NpyFormat.encode(Tensor(shape: shape, dtype: .int64, storage: .integer(values.map(Int64.init))))
        }
        // Measure what a reader will get back from the files.
        func onDisk(_ m: Matrix) -> Matrix {
            p.float16 ? Matrix(rows: m.rows, cols: m.cols, values: HalfFloat.roundedThroughHalf(m.values)) : m
        }

        let d = p.dim
        try store(
            "concepts.npy", float32(world.concepts.values, shape: [p.concepts, d]),
            dtype: "<f4", shape: [p.concepts, d])
        try store(
            "concepts_image.npy", float32(world.imageConcepts.values, shape: [p.concepts, d]),
            dtype: "<f4", shape: [p.concepts, d])
        try store(
            "concepts_text.npy", float32(world.textConcepts.values, shape: [p.concepts, d]),
            dtype: "<f4", shape: [p.concepts, d])
        try store(
            "modality_offsets.npy", float32(world.imageOffset + world.textOffset, shape: [2, d]),
            dtype: "<f4", shape: [2, d])
        try store(
            "signal_means.npy", float32(world.imageSignalMean + world.textSignalMean, shape: [2, d]),
            dtype: "<f4", shape: [2, d])

        note("train pairs: \(p.trainPairs)")
        let pairs = world.trainPairs(count: p.trainPairs)
        try store(
            "train_image.npy", embeddings(pairs.images.values, shape: [p.trainPairs, d]),
            dtype: embedDType, shape: [p.trainPairs, d])
        try store(
            "train_text.npy", embeddings(pairs.texts.values, shape: [p.trainPairs, d]),
            dtype: embedDType, shape: [p.trainPairs, d])
        note("statistics of the training pairs")
        let stats = try SynthStatistics.measure(images: onDisk(pairs.images), texts: onDisk(pairs.texts))

        var evalEntries: [SynthSuiteDescription.EvalEntry] = []
        for (i, spec) in p.evalSets.enumerated() {
            note("eval set \(spec.name): \(spec.classes) classes, \(spec.images) images")
            let set = world.evalSet(spec, index: i)
            let dir = spec.name
            try store(
                "\(dir)/image_embeddings.npy", embeddings(set.images.values, shape: [spec.images, d]),
                dtype: embedDType, shape: [spec.images, d])
            try store(
                "\(dir)/labels.npy", int64(set.labels, shape: [spec.images]),
                dtype: "<i8", shape: [spec.images])
            try store(
                "\(dir)/text_embeddings.npy",
                embeddings(set.classTexts.values, shape: [spec.classes, set.templateCount, d]),
                dtype: embedDType, shape: [spec.classes, set.templateCount, d])
            // Ground truth beside the manifest, not in it: manifests admit only their own keys.
            try store(
                "\(dir)/\(PlantedConcepts.classConceptsFile)",
                int64(
                    set.classConcepts.flatMap { $0 },
                    shape: [spec.classes, p.classConcepts]),
                dtype: "<i8", shape: [spec.classes, p.classConcepts])
            // Each image's planted code (`PlantedConcepts`, the f of `representation=planted`):
            // W = class concepts + most distractors columns, padded with concept −1 and weight 0.
            let width = p.classConcepts + p.distractorMax
            var codeIDs = [Int](repeating: -1, count: spec.images * width)
            var codeWeights = [Float](repeating: 0, count: spec.images * width)
            for (i, code) in set.imageCodes.enumerated() {
                for (j, (concept, weight)) in code.enumerated() {
                    codeIDs[i * width + j] = concept
                    codeWeights[i * width + j] = weight
                }
            }
            try store(
                "\(dir)/\(PlantedConcepts.imageConceptsFile)", int64(codeIDs, shape: [spec.images, width]),
                dtype: "<i8", shape: [spec.images, width])
            try store(
                "\(dir)/\(PlantedConcepts.imageWeightsFile)", float32(codeWeights, shape: [spec.images, width]),
                dtype: "<f4", shape: [spec.images, width])
            // The same manifest type (and so the same JSON) that real embedding sets use.
            let manifest = Manifest(
                name: spec.name, model: "synthetic", pretrained: "\(generatorName), seed \(p.seed)",
                imageEmbeddings: "image_embeddings.npy", labels: "labels.npy",
                classnames: .inline(set.classnames), templates: .inline(set.templates),
                textEmbeddings: "text_embeddings.npy")
            let manifestData = try CanonicalJSON.encode(manifest)
            try store("\(dir)/manifest.json", manifestData, dtype: "json", shape: [])
            let top1 = SynthSuite.top1(
                images: onDisk(set.images), labels: set.labels,
                classTexts: onDisk(set.classTexts), templates: set.templateCount)
            evalEntries.append(
                .init(
                    name: spec.name, manifest: "\(dir)/manifest.json", classes: spec.classes,
                    images: spec.images, templates: set.templateCount, zeroShotTop1: top1))
        }

        note("done")
        let description = SynthSuiteDescription(
            format: "vlsae-synth-suite", version: 1, generator: generatorName, seed: p.seed, parameters: p,
            files: files, evalSets: evalEntries, trainImage: "train_image.npy", trainText: "train_text.npy",
            concepts: "concepts.npy", imageConcepts: "concepts_image.npy", textConcepts: "concepts_text.npy",
            modalityOffsets: "modality_offsets.npy", signalMeans: "signal_means.npy", statistics: stats,
            clipTargets: SynthStatistics.clipTargets)
        let descData = try CanonicalJSON.encode(description, keys: .propertyNames)
        try AtomicFile.write(descData, to: (folder as NSString).appendingPathComponent(descriptionFile))
        let total = files.values.reduce(0) { $0 + $1.bytes } + descData.count
        return Report(description: description, seconds: Date().timeIntervalSince(start), totalBytes: total)
    }

    /// Baseline zero-shot top-1 of a generated set, by the project's own CLIP_benchmark evaluator.
    /// `classTexts` holds C·T rows ordered class-major (row c·T + t).
    public static func top1(images: Matrix, labels: [Int], classTexts: Matrix, templates: Int) -> Double {
        let classifier = ZeroShotClassifier(
            templateEmbeddings: classTexts, classes: classTexts.rows / templates,
            templates: templates)
        return Metrics.topK(ZeroShot.predict(images: images, labels: labels, classifier: classifier), k: 1) ?? 0
    }

    /// Reads `suite.json` of `folder`.
    public static func load(folder: String) throws -> SynthSuiteDescription { try read(folder: folder).description }

    /// Reads `suite.json` of `folder`, with the digest of the bytes read.
    public static func read(folder: String) throws -> (description: SynthSuiteDescription, digest: FileDigest) {
        let path = (folder as NSString).appendingPathComponent(descriptionFile)
        let data = try readFile(path)
        return (
            try CanonicalJSON.decode(SynthSuiteDescription.self, from: data, path: path, keys: .propertyNames),
            FileDigest(of: data, path: path)
        )
    }

    /// True when `folder` holds a suite whose every listed file exists with its recorded SHA-256.
    public static func verify(folder: String) -> Bool {
        (try? check(folder: folder, parameters: nil)) == nil
    }

    /// True when `folder` holds an intact suite generated with exactly `parameters` (so it can
    /// be reused instead of regenerated).
    public static func verify(folder: String, parameters: SynthParameters) -> Bool {
        (try? check(folder: folder, parameters: parameters)) == nil
    }

    /// The first reason `folder` is not an intact suite (matching `parameters` when given), or nil.
    public static func check(folder: String, parameters: SynthParameters?) throws -> String? {
        let desc: SynthSuiteDescription
        do { desc = try load(folder: folder) } catch { return "\(error)" }
        guard desc.format == "vlsae-synth-suite", desc.generator == generatorName else {
            return "\(descriptionFile): not a \(generatorName) suite"
        }
        if let p = parameters, p != desc.parameters { return "\(descriptionFile): generated with other parameters" }
        var required = [
            desc.trainImage, desc.trainText, desc.concepts, desc.imageConcepts, desc.textConcepts,
            desc.modalityOffsets, desc.signalMeans,
        ]
        required += desc.evalSets.map(\.manifest)
        // Suites written before the planted codes existed lack them: regenerated, not reused.
        for set in desc.evalSets {
            let folder = (set.manifest as NSString).deletingLastPathComponent
            required += [PlantedConcepts.imageConceptsFile, PlantedConcepts.imageWeightsFile].map {
                folder.isEmpty ? $0 : "\(folder)/\($0)"
            }
        }
        for name in required where desc.files[name] == nil { return "\(descriptionFile): \(name) is not listed" }
        for (name, entry) in desc.files.sorted(by: { $0.key < $1.key }) {
            let path = (folder as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: path) else { return "\(path): missing" }
            let digest: String
            do { digest = try SHA256.hex(fileAt: path) } catch { return "\(error)" }
            if digest != entry.sha256 { return "\(path): SHA-256 \(digest) differs from recorded \(entry.sha256)" }
        }
        return nil
    }
}
