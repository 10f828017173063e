import Foundation
import VLSAECore
import VLSAEData
import VLSAEEval
import VLSAEFormats
import VLSAEModel
import VLSAEPlot
import VLSAEReport

/// `vlsae concepts`: what each concept of a checkpoint is. `run(_:)` scans the embeddings (the
/// checkpoint's dictionary and a seeded random one of the same shape) and returns the document;
/// `Result.write(to:)` writes the folder: montages (with image paths), `index.html` and, last,
/// `concepts.json`.
public enum ConceptsJob {
    /// What `vlsae concepts` passes.
    @MemberwiseInit
    public struct Options: Sendable {
        /// Checkpoint path (safetensors or an official `.pth`).
        public var checkpoint: String
        /// Tensor address of the N × d image embeddings.
        public var images: String
        /// Tensor address of the M × d text embeddings.
        public var texts: String
        /// A `StringListFile` of N image paths (relative ones are relative to the list's folder).
        public var imagePaths: String? = nil
        /// A `StringListFile` of M captions.
        public var captions: String? = nil
        /// Rows kept per concept and modality (≥ 1).
        public var top: Int = 16
        /// The concepts to list (nil: all); the figures always cover every concept.
        public var concepts: [Int]? = nil
        /// Active units per row, at most the trained k (nil: the trained k).
        public var k: Int? = nil
        /// Seed of the random reference dictionary.
        public var seed: UInt64 = 0
        /// Declares the inputs unpaired even when N = M (no agreement figures).
        public var unpaired: Bool = false
        /// Worker threads (≥ 1): how fast, not what is computed.
        public var threads: Int = 1
        /// Rows encoded per chunk.
        public var chunkRows: Int = ConceptScan.defaultChunkRows
        /// The command line recorded in `provenance`.
        public var command: [String] = []
        /// Show a progress bar on standard error.
        public var progress: Bool = false

    }

    /// Largest `--top` accepted: a montage of 256 tiles is already a poster.
    public static let maxTop = 256

    /// Parses `--concepts`: "all" (nil) or comma-separated unit indices (sorted, duplicates removed).
    public static func concepts(parsing text: String) throws -> [Int]? {
        if text == "all" { return nil }
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        let indices = try items.map { item -> Int in
            guard let i = Int(item.trimmingCharacters(in: .whitespaces)), i >= 0 else {
                throw VLSAEError.usage("--concepts: \"\(item)\" is not a concept index (use \"all\" or i,j,...)")
            }
            return i
        }
        return Array(Set(indices)).sorted()
    }

    /// What `run(_:)` computed; `write(to:)` writes it.
    public struct Result: Sendable {
        /// The document; `write(to:)` adds the montage counts when it draws montages.
        public var document: ConceptsDocument
        /// The image files as paths to open (resolved against the list's folder), when given.
        public var imageFiles: [String]?

        /// Writes `folder/montages/concept-<i>.jpg` for each listed concept with top images (when image
        /// paths are known), `folder/index.html` and, last, `folder/concepts.json`, each atomically;
        /// returns the document as written. Unreadable images become placeholder tiles, counted in the
        /// document.
        public func write(to folder: String, progress: Bool = false) throws -> ConceptsDocument {
            var doc = document
            try makeFolder(folder)
            if let imageFiles {
                let montageFolder = (folder as NSString).appendingPathComponent("montages")
                try makeFolder(montageFolder)
                doc.montages = try ConceptMontages.draw(
                    &doc.concepts, imageFiles: imageFiles, folder: montageFolder, progress: progress)
            }
            try AtomicFile.write(ConceptsPage.html(doc), to: (folder as NSString).appendingPathComponent("index.html"))
            try AtomicFile.write(try doc.encoded(), to: (folder as NSString).appendingPathComponent("concepts.json"))
            return doc
        }

        private func makeFolder(_ path: String) throws {
            do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw VLSAEError.file(path, "cannot create the folder: \(error.localizedDescription)")
            }
        }
    }

    /// Loads the checkpoint, embeddings and lists (hashing each file as it is read), scans both
    /// dictionaries and returns the document; writes nothing.
    public static func run(_ o: Options, tool: ToolRecord) throws -> Result {
        guard o.threads >= 1 else { throw VLSAEError.usage("threads must be at least 1 (got \(o.threads))") }
        guard (1...maxTop).contains(o.top) else {
            throw VLSAEError.usage("--top \(o.top) must be between 1 and \(maxTop)")
        }
        let ckpt = try Checkpoint.load(path: o.checkpoint)
        var model = ckpt.model
        model.threads = o.threads
        let config = model.config
        if let k = o.k, !(1...config.topK).contains(k) {
            throw VLSAEError.usage("--k \(k) must be between 1 and the trained k (\(config.topK))")
        }
        if let bad = o.concepts?.first(where: { $0 >= config.hidden }) {
            throw VLSAEError.usage(
                "--concepts: \(bad) is not a concept of this checkpoint (it has \(config.hidden): 0…\(config.hidden - 1))"
            )
        }
        let (images, imageFile) = try TrainJob.loadMatrixWithDigest(o.images)
        let (texts, textFile) = try TrainJob.loadMatrixWithDigest(o.texts)
        for (x, address) in [(images, o.images), (texts, o.texts)] {
            try model.checkInputDim(x.cols, source: address)
            if let r = x.firstNonFiniteRow() { throw VLSAEError.file(address, "row \(r) holds NaN or infinity") }
        }
        var inputs = [
            ckpt.digest.recorded(role: "sae_checkpoint"), imageFile.recorded(role: "image_embeddings"),
            textFile.recorded(role: "text_embeddings"),
        ]
        var paths: [String]?
        var imageFiles: [String]?
        if let list = o.imagePaths {
            let (listed, files, digest) = try StringListFile.loadPaths(path: list, role: "image_paths")
            try checkCount(listed.count, images.rows, list: list, of: "image paths", rows: "image embeddings")
            paths = listed
            imageFiles = files
            inputs.append(digest)
        }
        var captions: [String]?
        if let list = o.captions {
            let (strings, digest) = try StringListFile.load(path: list, role: "captions")
            try checkCount(strings.count, texts.rows, list: list, of: "captions", rows: "text embeddings")
            captions = strings
            inputs.append(digest)
        }
        let paired = !o.unpaired && images.rows == texts.rows

        // The reference: the training initialisation of the same shape, seeded and recorded.
        var randomModel = try SAEModel(config: config, seed: o.seed)
        randomModel.threads = o.threads
        let total = 2 * (images.rows + texts.rows)
        let bar = Progress("concepts", total: total, enabled: o.progress)
        let trainedScan = ConceptScan(
            model: model, images: images, texts: texts, k: o.k, top: o.top, chunkRows: o.chunkRows,
            onRows: { bar.update($0) })
        let randomScan = ConceptScan(
            model: randomModel, images: images, texts: texts, k: o.k, top: o.top, chunkRows: o.chunkRows,
            onRows: { bar.update(images.rows + texts.rows + $0, status: "random reference") })

        let similarities = trainedScan.similarities()
        let listed = o.concepts ?? Array(0..<config.hidden)
        let entries = listed.map { j -> ConceptEntry in
            let ti = trainedScan.images.ranked(j)
            let tt = trainedScan.texts.ranked(j)
            let topTextRows = Set(tt.map(\.index))
            return ConceptEntry(
                index: j, imageFrequency: trainedScan.images.frequency(j),
                textFrequency: trainedScan.texts.frequency(j),
                topImages: ti.map { TopImage(index: $0.index, activation: $0.activation, path: paths?[$0.index]) },
                topTexts: tt.map { TopText(index: $0.index, activation: $0.activation, caption: captions?[$0.index]) },
                agreement: paired ? ti.filter { topTextRows.contains($0.index) }.count : nil,
                similarity: similarities[j], montage: nil, placeholders: nil)
        }
        let doc = ConceptsDocument(
            schemaVersion: ConceptsDocument.currentSchemaVersion, tool: tool, inputs: inputs,
            checkpoint: ConceptsCheckpoint(
                arch: config.arch, inputDim: config.inputDim, hidden: config.hidden, trainedK: config.topK,
                k: o.k ?? config.topK),
            settings: ConceptsSettings(
                top: o.top, seed: o.seed, denseThreshold: ConceptScan.denseThreshold, paired: paired,
                concepts: o.concepts.map { $0.map(String.init).joined(separator: ",") } ?? "all"),
            nImages: images.rows, nTexts: texts.rows,
            figures: ConceptsFigures(
                trained: trainedScan.figures(similarities), random: randomScan.figures(randomScan.similarities())),
            montages: nil, concepts: entries,
            provenance: RunProvenance.current(command: o.command, threads: o.threads))
        return Result(document: doc, imageFiles: imageFiles)
    }

    private static func checkCount(_ n: Int, _ rows: Int, list: String, of what: String, rows name: String) throws {
        guard n == rows else {
            throw VLSAEError.file(list, "holds \(n) \(what) but the \(name) have \(rows) rows")
        }
    }
}
