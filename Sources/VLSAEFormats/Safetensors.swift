import Foundation
import VLSAECore

public enum SafetensorsFormat {
    public static func read(_ data: Data, path: String) throws -> (tensors: [NamedTensor], metadata: [String: String]) {
        throw VLSAEError.file(path, "safetensors reading is not implemented yet")
    }
}
