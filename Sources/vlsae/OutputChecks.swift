import Foundation
import VLSAECore
import VLSAEFormats

/// The file a tensor address reads (`x.npz:images` → `x.npz`); the text itself when it does not
/// parse (the job then reports the address).
func addressedFile(_ address: String) -> String {
    (try? TensorAddress(parsing: address))?.path ?? address
}

/// Refuses outputs that are the same file as an input (`CommandFiles`); every command that writes
/// calls it with what it knows before its work, and again with the inputs its job recorded.
func refuseOverwritingInputs(outputs: [String?], inputs: [String?]) throws {
    try CommandFiles(inputs: inputs.compactMap { $0 }, outputs: outputs.compactMap { $0 })
        .checkOutputsAreNotInputs()
}
