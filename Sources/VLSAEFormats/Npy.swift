import Foundation
import VLSAECore

public enum NpyFormat {
    public static func read(_ data: Data, path: String) throws -> Tensor {
        throw VLSAEError.file(path, ".npy reading is not implemented yet")
    }
}
