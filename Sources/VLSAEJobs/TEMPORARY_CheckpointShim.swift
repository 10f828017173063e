// TEMPORARY (align branch): stands in for the `model` branch's Checkpoint.swift (same names and
// signature: `Checkpoint.load(path:topK:)` → `LoadedCheckpoint`) until it is merged; reads
// official-name state dicts (VL-SAE only) with k from the caller or 256. Delete when merging `model`.
import VLSAECore
import VLSAEFormats
import VLSAEModel

struct LoadedCheckpoint {
    var model: SAEModel
    var path: String
    var sha256: String
    var topKSource: String
}

enum Checkpoint {
    static func load(path: String, topK: Int? = nil) throws -> LoadedCheckpoint {
        var byName: [String: Tensor] = [:]
        for t in try TensorFile.readAll(path: path) { byName[t.name] = t.tensor }
        guard let enc = byName["encoder"], enc.shape.count == 2 else {
            throw VLSAEError.file(path, "not a VL-SAE state dict (no 2-D \"encoder\")")
        }
        let h = enc.shape[0], d = enc.shape[1]
        guard d > 0, h % d == 0 else { throw VLSAEError.file(path, "hidden size \(h) is not a multiple of \(d)") }
        let k = topK ?? min(256, h)
        let config = SAEConfig(arch: .vlsae, inputDim: d, hiddenRatio: h / d, topK: k)
        let model = try SAEModel(config: config, tensors: byName.mapValues(\.floats))
        return LoadedCheckpoint(model: model, path: path, sha256: try SHA256.hex(fileAt: path),
                                topKSource: topK == nil ? "default (released checkpoints)" : "caller")
    }
}
