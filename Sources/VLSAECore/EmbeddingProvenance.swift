/// Where a manifest's embeddings came from, as the exporter (`Datasets/export/export.py`) records it under the
/// manifest's `provenance` key; `vlsae eval` copies it into each row of that dataset (`embedding_provenance`).
/// The list hashes use the rule of `Catalog.listSHA256` (VLSAEData), so they can be checked against the manifest's
/// class names and templates.
@MemberwiseInit
public struct EmbeddingProvenance: Codable, Equatable, Sendable {
    /// The program that wrote the embeddings, e.g. "Datasets/export/export.py".
    public var exporter: String
    /// What was exported: a CLIP_benchmark dataset name or `imagefolder:DIR`.
    public var dataset: String
    /// The dataset split, e.g. "test"; nil for an image folder.
    public var split: String? = nil
    /// The open_clip architecture, e.g. "ViT-B-32".
    public var model: String
    /// The open_clip pretrained tag, or "none" for random weights.
    public var pretrained: String
    /// `open_clip.__version__` of the exporting environment.
    public var openClipVersion: String
    /// `torch.__version__` of the exporting environment.
    public var torchVersion: String
    /// The installed clip_benchmark version (its datasets and template lists), as pip reports it.
    public var clipBenchmarkVersion: String
    /// The device the model ran on: "cpu" or "cuda".
    public var device: String
    /// Images embedded (rows of the image embeddings).
    public var nImages: Int
    /// Images that could not be read and were left out (their paths are in the exporter's log).
    public var nSkipped: Int
    /// List hash of the class names the text embeddings were computed from.
    public var classnamesSha256: String
    /// List hash of the templates the text embeddings were computed from.
    public var templatesSha256: String

    /// Every key the object may have (a manifest with another key is refused).
    public enum CodingKeys: CodingKey, CaseIterable {
        case exporter, dataset, split, model, pretrained, openClipVersion, torchVersion, clipBenchmarkVersion
        case device, nImages, nSkipped, classnamesSha256, templatesSha256
    }
}
