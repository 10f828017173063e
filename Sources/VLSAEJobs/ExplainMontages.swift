import Foundation
import VLSAECore
import VLSAEData
import VLSAEPlot

/// The montages of `vlsae explain --image-paths`: for the explained dataset, a grid of the images the
/// row gained and one of those it lost (`Montage`, 4 per row, 128-pixel tiles, at most `maxTiles`
/// each, in image order), each labelled "#image true>rival" (class indices: the true class, then the
/// rival the `FlippedImage` records), written as `montages/<dataset>-gained.jpg` and `-lost.jpg`.
/// Missing or unreadable images are drawn as placeholders, as in `vlsae concepts`.
public enum ExplainMontages {
    /// Most images drawn per montage; the JSON lists every flip.
    public static let maxTiles = 64

    /// What was drawn: the image list's digest and the montages' paths relative to the output folder.
    @MemberwiseInit
    public struct Drawn: Codable, Equatable, Sendable {
        /// The image-path list, with its SHA-256 (role "image_paths").
        public var imagePaths: FileDigest
        /// `montages/<dataset>-gained.jpg` and `-lost.jpg`, for the directions that have flips.
        public var montages: [String]
    }

    /// Draws the montages of `doc`'s one dataset into `folder/montages`, reading image paths from the
    /// `StringListFile` at `list` (one per image of the dataset, relative ones relative to the list's folder).
    /// - Throws: a usage error when `doc` explains more than one dataset; a file error when the list's
    ///   count differs from the dataset's images or a montage cannot be written.
    public static func draw(_ doc: ExplainDocument, imagePaths list: String, folder: String) throws -> Drawn {
        guard doc.datasets.count == 1, let d = doc.datasets.first else {
            throw VLSAEError.usage(
                "--image-paths lists the images of one dataset; the row covers \(doc.datasets.count): "
                    + "name one with --dataset")
        }
        let (listed, files, digest) = try StringListFile.loadPaths(path: list, role: "image_paths")
        guard listed.count == d.nImages else {
            throw VLSAEError.file(
                list, "lists \(listed.count) image paths, but dataset \(d.dataset) has \(d.nImages) images")
        }
        let montageFolder = (folder as NSString).appendingPathComponent("montages")
        try FileManager.default.createDirectory(atPath: montageFolder, withIntermediateDirectories: true)
        let layout = Montage()
        var written: [String] = []
        for direction in ["gained", "lost"] {
            let flips = d.flips.filter { $0.direction == direction }.prefix(maxTiles)
            guard !flips.isEmpty else { continue }
            let tiles = flips.map { f in
                ConceptMontages.tile(
                    files[f.image], label: "#\(f.image) \(f.trueClass.classIndex)>\(f.rivalClass.classIndex)",
                    side: layout.tileSide
                ).tile
            }
            let name = "\(safeFileName(d.dataset))-\(direction).jpg"
            let path = (montageFolder as NSString).appendingPathComponent(name)
            let bytes: [UInt8]
            do { bytes = try layout.render(tiles).jpegData(quality: ConceptMontages.quality) } catch {
                throw VLSAEError.file(path, "\(error)")
            }
            try AtomicFile.write(Data(bytes), to: path)
            written.append("montages/\(name)")
        }
        return Drawn(imagePaths: digest, montages: written)
    }

    /// A dataset name as a file name: letters, digits, `-`, `_` and `.` kept, anything else `_`.
    static func safeFileName(_ name: String) -> String {
        let kept = name.unicodeScalars.map { s -> Character in
            CharacterSet.alphanumerics.contains(s) && s.isASCII || "-_.".unicodeScalars.contains(s) ? Character(s) : "_"
        }
        let out = String(kept)
        return out.isEmpty || out.hasPrefix(".") ? "_" + out : out
    }
}
