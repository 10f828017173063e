import FuzzSupport
import VLSAEFormats

/// Zip and `.npz` bytes: the archive's directory, every member extracted (CRC-checked) and every array read,
/// as `vlsae inspect` does, and the first array alone, as an address `x.npz:NAME` reads it.
@main
enum FuzzNpz {
    static func main() {
        FuzzDriver.run { bytes, count in
            let data = FuzzDriver.data(bytes, count)
            guard let archive = try? ZipArchive(data: data, path: "fuzz.npz") else { return 0 }
            for entry in archive.entries { _ = try? archive.extract(entry) }
            if let first = try? NpzFormat.arrayNames(in: archive).first {
                _ = try? NpzFormat.array(first, in: archive)
            }
            _ = try? NpzFormat.read(data, path: "fuzz.npz")
            return 0
        }
    }
}
