import Foundation
import VLSAEData
import VLSAEFormats
import VLSAEJobs

/// What each fuzz target does with the fuzzer's bytes: call one reader of untrusted files, the way `vlsae` calls it.
/// Any input must give a value or a thrown error, never a crash, a hang or a huge allocation.
public enum FuzzTargets {
    /// `.npy` bytes through `NpyFormat.read`.
    public static func npy(_ data: Data) {
        _ = try? NpyFormat.read(data, path: "fuzz.npy")
    }

    /// Zip and `.npz` bytes: the directory, every member extracted (CRC-checked) and the first array alone, as an
    /// address `x.npz:NAME` reads it, then every array, as `vlsae inspect` reads them.
    public static func npz(_ data: Data) {
        guard let archive = try? ZipArchive(data: data, path: "fuzz.npz") else { return }
        for entry in archive.entries { _ = try? archive.extract(entry) }
        if let first = try? NpzFormat.arrayNames(in: archive).first { _ = try? NpzFormat.array(first, in: archive) }
        _ = try? NpzFormat.read(data, path: "fuzz.npz")
    }

    /// safetensors bytes through `SafetensorsFormat.read` (header JSON, offsets, dtypes).
    public static func safetensors(_ data: Data) {
        _ = try? SafetensorsFormat.read(data, path: "fuzz.safetensors")
    }

    /// A float32 storage of 64 elements (0…63) for bare pickles; made per input (a lazily made global would be
    /// reported as a leak of the first input that touches it).
    static func storage() -> Data {
        Data((0..<64).flatMap { i in withUnsafeBytes(of: Float(i).bitPattern.littleEndian, Array.init) })
    }

    /// `torch.save` bytes: a zip archive goes through `TorchFormat.read` (archive, unpickler, storages, views);
    /// anything else is unpickled as a bare pickle over one storage named "0" and flattened, so that the unpickler
    /// is fuzzed without the zip layer's CRC in the way.
    public static func torch(_ data: Data) {
        if ZipArchive.looksLikeZip(data) {
            _ = try? TorchFormat.read(data, path: "fuzz.pt")
        } else if let root = try? TorchFormat.unpickle(data, storages: ["0": storage()], path: "fuzz.pkl") {
            _ = try? TorchFormat.flatten(root, path: "fuzz.pkl")
        }
    }

    /// Manifest JSON bytes through `Manifest.decode` (the JSON check, unknown keys, decoding).
    public static func manifest(_ data: Data) {
        _ = try? Manifest.decode(data, path: "fuzz.json")
    }

    /// Sweep config text, YAML or JSON, through `SweepConfig.parse` (YAML and JSON checks, Yams, key checks,
    /// validation); bytes that are not UTF-8 are refused before parsing, as `SweepConfig.load` refuses them.
    public static func sweepConfig(_ data: Data) {
        guard let text = String(data: data, encoding: .utf8) else { return }
        _ = try? SweepConfig.parse(text, path: "fuzz.yaml", baseFolder: "/nonexistent")
    }
}
