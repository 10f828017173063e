import Foundation
import VLSAECore

/// NumPy `.npz` archives (np.savez, stored; np.savez_compressed, deflated): a ZIP whose
/// members `NAME.npy` are the arrays, returned in archive order under NAME.
public enum NpzFormat {
    /// The arrays of an `.npz` archive read from `path`: each `NAME.npy` member under NAME, in archive order; other
    /// members are skipped, and an archive without any `.npy` member is an error.
    public static func read(_ data: Data, path: String) throws -> [NamedTensor] {
        let archive = try ZipArchive(data: data, path: path)
        return try arrayNames(in: archive).map { NamedTensor(name: $0, tensor: try array($0, in: archive)) }
    }

    /// The array names of an opened archive (each `NAME.npy` member as NAME), in archive order, without reading any
    /// member; throws when there is none.
    public static func arrayNames(in archive: ZipArchive) throws -> [String] {
        // Folders and stray members are not arrays; np.load ignores nothing but np.savez writes none.
        let names = archive.entries.filter { $0.name.hasSuffix(".npy") }.map { String($0.name.dropLast(4)) }
        if names.isEmpty {
            throw VLSAEError.file(
                archive.path, "the archive holds no .npy members (\(archive.entries.count) other entries)")
        }
        return names
    }

    /// The one array `name` of an opened archive: only its member is inflated and CRC-checked, so a large or
    /// damaged member that is not asked for costs nothing.
    public static func array(_ name: String, in archive: ZipArchive) throws -> Tensor {
        guard let entry = archive.entry(named: name + ".npy") else {
            throw VLSAEError.file(archive.path, "no member \"\(name).npy\"")
        }
        return try NpyFormat.read(try archive.extract(entry), path: "\(archive.path):\(entry.name)")
    }
}
