import Foundation
import VLSAECore
import VLSAEFormats

/// A model read from disk, with what the file said about itself.
public struct LoadedCheckpoint: Sendable {
    /// The model, its config from the file's metadata or, for files without it, recognised from key names and shapes.
    public var model: SAEModel
    /// The training summary stored by `Checkpoint.save`; nil for official `.pth` files and checkpoints saved without
    /// one.
    public var summary: TrainSummary?
    /// The safetensors `__metadata__` strings (`format`, `arch`, `config`, `summary`); empty for `.pth` files.
    public var metadata: [String: String]
    /// The file as the caller named it.
    public var path: String
    /// Lower-case hex SHA-256 of the file's bytes, hashed over the bytes the model was parsed from.
    public var sha256: String
    /// Where k came from: "metadata", "caller" or "default (released checkpoints)".
    public var topKSource: String

    /// The file and its SHA-256 (hashed over the bytes the model was read from), without a role.
    public var digest: FileDigest { FileDigest(path: path, sha256: sha256) }
}

/// Checkpoints as safetensors with the official state-dict names and shapes (so that the tensors
/// line up one-for-one with upstream `.pth` files), plus the config and training summary as JSON
/// strings in `__metadata__`. Loading also accepts the official `.pth` state dicts.
public enum Checkpoint {
    /// The `format` value `save` writes into every checkpoint's `__metadata__`, naming this layout (official tensor
    /// names plus JSON `config` and `summary`); recorded for readers, not checked by `load`.
    public static let formatTag = "vlsae-bench-sae/1"

    static func json<T: Encodable>(_ value: T) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // A validation FVU can be NaN (constant data); keep it rather than failing the save.
        enc.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try enc.encode(value), as: UTF8.self)
    }

    /// Writes `model` as safetensors to `path` (atomically) with `format`, `arch`, `config` and, when given, `summary`
    /// in `__metadata__`. The bytes depend only on the weights, config and summary, so the same training gives the same
    /// SHA-256.
    public static func save(_ model: SAEModel, summary: TrainSummary? = nil, to path: String) throws {
        var meta = ["format": formatTag, "arch": model.config.arch.officialName, "config": try json(model.config)]
        if let summary { meta["summary"] = try json(summary) }
        let tensors = model.officialTensors().map {
            NamedTensor(name: $0.name, tensor: Tensor(shape: $0.shape, floats: $0.values))
        }
        try SafetensorsFormat.write(tensors, metadata: meta, to: path)
    }

    /// Lower-case hex SHA-256 of the file at `path`, read in chunks.
    public static func sha256(path: String) throws -> String { try SHA256.hex(fileAt: path) }

    /// Reads a checkpoint written by `save` or an official `torch.save(model.state_dict())` file.
    /// For files without our metadata, the architecture is recognised from the key names, d and h
    /// from the shapes, and k is `topK` or, if not given, 256 as in the released checkpoints.
    /// An explicit `topK` overrides the file's.
    public static func load(path: String, topK: Int? = nil) throws -> LoadedCheckpoint {
        let data = try readFile(path)
        var named: [NamedTensor]
        var meta: [String: String] = [:]
        if try TensorFile.format(of: path, data: data) == .safetensors {
            (named, meta) = try SafetensorsFormat.read(data, path: path)
        } else {
            named = try TensorFile.arrays(in: data, path: path)
        }
        // nn.DataParallel saves every key under "module.".
        if !named.isEmpty, named.allSatisfy({ $0.name.hasPrefix("module.") }) {
            named = named.map { NamedTensor(name: String($0.name.dropFirst(7)), tensor: $0.tensor) }
        }
        var byName: [String: Tensor] = [:]
        for t in named { byName[t.name] = t.tensor }
        let found = named.map { $0.name }.joined(separator: ", ")

        var stored: SAEConfig? = nil
        if let c = meta["config"] {
            do { stored = try JSONDecoder().decode(SAEConfig.self, from: Data(c.utf8)) } catch {
                throw VLSAEError.file(path, "metadata \"config\" is not a valid autoencoder config: \(error)")
            }
        }
        let arch: SAEArch
        if let stored {
            arch = stored.arch
        } else if byName["encoder"] != nil && byName["vision_decoder.weight"] != nil {
            arch = .vlsae
        } else if byName["v_encoder.weight"] != nil {
            arch = .saeD
        } else if byName["encoder.weight"] != nil && byName["decoder.0.weight"] != nil {
            arch = .saeV
        } else {
            throw VLSAEError.file(
                path,
                "not a VL-SAE / SAE_D / SAE_V state dict: expected keys such as \"encoder\" and \"vision_decoder.weight\"; found: \(found.isEmpty ? "no tensors" : found)"
            )
        }
        let encoderKey = arch == .vlsae ? "encoder" : arch == .saeD ? "v_encoder.weight" : "encoder.weight"
        guard let enc = byName[encoderKey] else {
            throw VLSAEError.file(path, "missing tensor \"\(encoderKey)\"; found: \(found)")
        }
        guard enc.shape.count == 2, enc.shape[0] > 0, enc.shape[1] > 0 else {
            throw VLSAEError.file(
                path, "\"\(encoderKey)\" must be a 2-D h × d matrix, found shape \(enc.shapeDescription)")
        }
        let h = enc.shape[0]
        let d = enc.shape[1]
        guard h % d == 0 else {
            throw VLSAEError.file(
                path, "hidden size \(h) (rows of \"\(encoderKey)\") is not a multiple of the input dimension \(d)")
        }
        if let stored, stored.inputDim != d || stored.hidden != h {
            throw VLSAEError.file(
                path, "metadata says d=\(stored.inputDim), h=\(stored.hidden) but \"\(encoderKey)\" is \(h) × \(d)")
        }
        let k: Int
        let source: String
        if let topK {
            k = topK
            source = "caller"
        } else if let stored {
            k = stored.topK
            source = "metadata"
        } else {
            k = min(256, h)
            source = "default (released checkpoints)"
        }
        guard k >= 1 && k <= h else { throw VLSAEError.file(path, "top-k \(k) is outside 1…\(h) (hidden size)") }
        let config = SAEConfig(arch: arch, inputDim: d, hiddenRatio: h / d, topK: k)

        var values: [String: [Float]] = [:]
        var missing: [String] = []
        for spec in ParameterLayout(config).tensors {
            guard let t = byName[spec.name] else {
                missing.append(spec.name)
                continue
            }
            guard t.dtype.isFloatingPoint else {
                throw VLSAEError.file(
                    path, "\"\(spec.name)\" holds \(t.dtype.rawValue) values; expected floating point")
            }
            guard t.shape == spec.shape else {
                throw VLSAEError.file(
                    path,
                    "\"\(spec.name)\" has shape \(t.shapeDescription), expected (\(spec.shape.map(String.init).joined(separator: ", "))) for d=\(d), h=\(h)"
                )
            }
            let f = t.floats
            if let bad = f.firstIndex(where: { !$0.isFinite }) {
                throw VLSAEError.file(
                    path, "\"\(spec.name)\" holds a non-finite value (\(f[bad])) at flat index \(bad)")
            }
            values[spec.name] = f
        }
        guard missing.isEmpty else {
            throw VLSAEError.file(
                path,
                "missing tensor\(missing.count > 1 ? "s" : "") \(missing.map { "\"\($0)\"" }.joined(separator: ", ")) for \(arch.officialName); found: \(found)"
            )
        }
        let model = try SAEModel(config: config, tensors: values)
        var summary: TrainSummary? = nil
        if let s = meta["summary"] {
            let dec = JSONDecoder()
            dec.nonConformingFloatDecodingStrategy = .convertFromString(
                positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            summary = try? dec.decode(TrainSummary.self, from: Data(s.utf8))
        }
        return LoadedCheckpoint(
            model: model, summary: summary, metadata: meta, path: path,
            sha256: SHA256.hex(data), topKSource: source)
    }
}
