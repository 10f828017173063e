import Foundation
import FuzzSupport
import VLSAEFormats

/// `torch.save` bytes: a zip archive goes through `TorchFormat.read` (archive, unpickler, storages, views);
/// anything else is unpickled as a bare pickle over one small float32 storage named "0", so that the
/// unpickler is fuzzed without the zip layer in the way.
@main
enum FuzzTorch {
    static let storage = Data(
        (0..<64).flatMap { i in withUnsafeBytes(of: Float(i).bitPattern.littleEndian, Array.init) })

    static func main() {
        FuzzDriver.run { bytes, count in
            let data = FuzzDriver.data(bytes, count)
            if ZipArchive.looksLikeZip(data) {
                _ = try? TorchFormat.read(data, path: "fuzz.pt")
            } else if let root = try? TorchFormat.unpickle(data, storages: ["0": FuzzTorch.storage], path: "fuzz.pkl") {
                _ = try? TorchFormat.flatten(root, path: "fuzz.pkl")
            }
            return 0
        }
    }
}
