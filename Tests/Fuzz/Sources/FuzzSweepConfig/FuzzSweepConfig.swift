import Foundation
import FuzzSupport
import VLSAEJobs

/// Sweep config text, YAML or JSON, through `SweepConfig.parse` (the YAML and JSON checks, Yams, key checks,
/// validation); bytes that are not UTF-8 are refused before parsing, as `SweepConfig.load` refuses them.
@main
enum FuzzSweepConfig {
    static func main() {
        FuzzDriver.run { bytes, count in
            guard let text = String(bytes: FuzzDriver.data(bytes, count), encoding: .utf8) else { return 0 }
            _ = try? SweepConfig.parse(text, path: "fuzz.yaml", baseFolder: "/nonexistent")
            return 0
        }
    }
}
