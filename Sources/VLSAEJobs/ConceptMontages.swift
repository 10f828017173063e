import Foundation
import VLSAECore
import VLSAEPlot

/// The montages of `vlsae concepts`: for each listed concept with top images, a grid of those images
/// (`Montage`, 4 per row, 128-pixel tiles) labelled "#row activation", written as
/// `montages/concept-<i>.jpg`.
enum ConceptMontages {
    /// Largest image file read; a bigger one is drawn as unreadable rather than read whole.
    static let maxImageBytes = 64 * 1024 * 1024
    /// JPEG quality of the montages.
    static let quality = 90

    /// Why an image could not be drawn.
    enum Failure: Error {
        case missing, unreadable
    }

    /// Draws and writes the montage of every entry that has top images, sets its `montage` and
    /// `placeholders`, and returns the counts. Each distinct image file is judged once.
    static func draw(
        _ entries: inout [ConceptEntry], imageFiles: [String], folder: String, progress: Bool
    ) throws -> MontageSummary {
        let layout = Montage()
        var failures: [Int: Failure] = [:]
        var drawn = 0
        var placeholderTiles = 0
        let bar = Progress("montages", total: entries.count, enabled: progress)
        for e in entries.indices {
            defer { bar.update(e + 1) }
            let top = entries[e].topImages
            guard !top.isEmpty else { continue }
            var placeholders = 0
            let tiles = top.map { item -> Montage.Tile in
                let label = String(format: "#%d %.4f", item.index, Double(item.activation))
                // Each distinct image is judged once: a known failure is a placeholder without reading.
                let (tile, failure) =
                    failures[item.index].map { (placeholder($0, label: label), $0) }
                    ?? tile(imageFiles[item.index], label: label, side: layout.tileSide)
                if let failure {
                    failures[item.index] = failure
                    placeholders += 1
                }
                return tile
            }
            let name = "concept-\(entries[e].index).jpg"
            let bytes: [UInt8]
            do { bytes = try layout.render(tiles).jpegData(quality: quality) } catch {
                throw VLSAEError.file((folder as NSString).appendingPathComponent(name), "\(error)")
            }
            try AtomicFile.write(Data(bytes), to: (folder as NSString).appendingPathComponent(name))
            entries[e].montage = "montages/\(name)"
            entries[e].placeholders = placeholders
            drawn += 1
            placeholderTiles += placeholders
        }
        func rows(_ f: Failure) -> [Int] { failures.filter { $0.value == f }.keys.sorted() }
        return MontageSummary(
            missingImages: rows(.missing), drawn: drawn, placeholders: placeholderTiles,
            unreadableImages: rows(.unreadable))
    }

    /// The tile of the image at `path` labelled `label`, or a placeholder and why the image could not be
    /// drawn (also used by `ExplainMontages`).
    static func tile(_ path: String, label: String, side: Int) -> (tile: Montage.Tile, failure: Failure?) {
        switch load(path, minSide: side) {
        case .success(let image): return (Montage.Tile(image: image, label: label), nil)
        case .failure(let why): return (placeholder(why, label: label), why)
        }
    }

    /// The grey tile drawn for an image that is missing or cannot be decoded.
    static func placeholder(_ why: Failure, label: String) -> Montage.Tile {
        Montage.Tile(image: nil, label: label, placeholder: why == .missing ? "missing" : "unreadable")
    }

    /// The image at `path`, decoded at a size no smaller than needed for a tile, or why not.
    static func load(_ path: String, minSide: Int) -> Swift.Result<DecodedImage, Failure> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            return .failure(.missing)
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { return .failure(.unreadable) }
        defer { try? handle.close() }
        // Read at most one byte past the limit, so a huge file is refused without reading it whole.
        guard let data = try? handle.read(upToCount: maxImageBytes + 1), data.count <= maxImageBytes,
            let image = try? DecodedImage.decode(imageBytes: [UInt8](data), minSide: minSide)
        else { return .failure(.unreadable) }
        return .success(image)
    }
}
