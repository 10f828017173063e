import Foundation
import VLSAECore

public enum NpzFormat {
    public static func read(_ data: Data, path: String) throws -> [NamedTensor] {
        throw VLSAEError.file(path, ".npz reading is not implemented yet")
    }
}
