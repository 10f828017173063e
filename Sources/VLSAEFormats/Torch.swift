import Foundation
import VLSAECore

public enum TorchFormat {
    public static func read(_ data: Data, path: String) throws -> [NamedTensor] {
        throw VLSAEError.file(path, "torch .pt/.pth reading is not implemented yet")
    }
}
