import Foundation
import VLSAECore

/// NumPy `.npz` archives (np.savez, stored; np.savez_compressed, deflated): a ZIP whose
/// members `NAME.npy` are the arrays, returned in archive order under NAME.
public enum NpzFormat {
    /// The arrays of an `.npz` archive read from `path`: each `NAME.npy` member under NAME, in archive order; other
    /// members are skipped, and an archive without any `.npy` member is an error.
    public static func read(_ data: Data, path: String) throws -> [NamedTensor] {
        let archive = try ZipArchive(data: data, path: path)
        var out: [NamedTensor] = []
        for entry in archive.entries {
            // Folders and stray members are not arrays; np.load ignores nothing but np.savez writes none.
            guard entry.name.hasSuffix(".npy") else { continue }
            let name = String(entry.name.dropLast(4))
            let bytes = try archive.extract(entry)
            out.append(NamedTensor(name: name, tensor: try NpyFormat.read(bytes, path: "\(path):\(entry.name)")))
        }
        if out.isEmpty {
            throw VLSAEError.file(path, "the archive holds no .npy members (\(archive.entries.count) other entries)")
        }
        return out
    }
}
