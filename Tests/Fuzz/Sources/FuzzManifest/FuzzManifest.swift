import FuzzSupport
import VLSAEData

/// Manifest JSON bytes through `Manifest.decode` (the JSON check, unknown keys, decoding).
@main
enum FuzzManifest {
    static func main() {
        FuzzDriver.run { bytes, count in
            _ = try? Manifest.decode(FuzzDriver.data(bytes, count), path: "fuzz.json")
            return 0
        }
    }
}
