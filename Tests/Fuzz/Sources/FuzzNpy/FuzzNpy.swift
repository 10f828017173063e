import FuzzSupport
import VLSAEFormats

/// `.npy` bytes through `NpyFormat.read`: any input gives a tensor or a `VLSAEError`, never a crash.
@main
enum FuzzNpy {
    static func main() {
        FuzzDriver.run { bytes, count in
            _ = try? NpyFormat.read(FuzzDriver.data(bytes, count), path: "fuzz.npy")
            return 0
        }
    }
}
