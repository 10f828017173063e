import FuzzSupport
import VLSAEFormats

/// safetensors bytes through `SafetensorsFormat.read` (header JSON, offsets, dtypes).
@main
enum FuzzSafetensors {
    static func main() {
        FuzzDriver.run { bytes, count in
            _ = try? SafetensorsFormat.read(FuzzDriver.data(bytes, count), path: "fuzz.safetensors")
            return 0
        }
    }
}
