// TEMPORARY (eval branch): stands in for `TensorFile.inspect(path:)` from the `formats` branch.
// Delete this file when merging `formats`.
import VLSAECore
import VLSAEFormats

struct ArrayInfo {
    let name: String
    let shape: [Int]
    let dtype: String
}

extension TensorFile {
    static func inspect(path: String) throws -> (sha256: String, arrays: [ArrayInfo]) {
        let all = try readAll(path: path)
        return (try SHA256.hex(fileAt: path),
                all.map { ArrayInfo(name: $0.name, shape: $0.tensor.shape, dtype: $0.tensor.dtype.rawValue) })
    }
}
