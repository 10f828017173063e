import Foundation
import VLSAECore

/// One array inside a file, with its name in that file ("" for a bare array).
@MemberwiseInit
public struct NamedTensor: Sendable, Equatable {
    /// The array's name in its file: the `.npz` member without `.npy`, the safetensors key, the dotted path in a torch
    /// object tree; "" for a bare `.npy` array.
    public let name: String
    /// The array's values and shape.
    public let tensor: Tensor
}

/// One array's description, without its values.
@MemberwiseInit
public struct ArrayInfo: Sendable, Equatable {
    /// The array's name in its file, as in `NamedTensor.name`.
    public let name: String
    /// Dimensions, outermost first; empty for a scalar.
    public let shape: [Int]
    /// The element type stored in the file.
    public let dtype: DType
}

/// A reference to an array: a file, optionally a member inside a container, optionally an index
/// along the first axis.
///
///     features.npy            the array in a .npy file
///     features.npy[0]         its first slice along axis 0
///     x.npz:arr_0             a member of an .npz archive
///     w.safetensors:image_embeddings
///     dump.pt:embeddings      a tensor inside a torch.save'd object (dotted path for nesting)
///     ckpt.pth:vision_decoder.weight[3]
///
/// The file part ends at the first known extension (.npy .npz .safetensors .pt .pth .bin) that is
/// followed by `:`, `[` or the end of the string.
public struct TensorAddress: Sendable, Equatable, CustomStringConvertible {
    /// The file, as given or resolved; a relative path is relative to the working directory until
    /// `resolved(relativeTo:)`.
    public var path: String
    /// The member after `:`, nil for the file's only array.
    public var key: String?
    /// The index in `[...]` along the first axis, nil for the whole array.
    public var index: Int?

    /// The file extensions that end the file part of an address, lower case with the dot.
    public static let extensions = [".npy", ".npz", ".safetensors", ".pt", ".pth", ".bin"]

    /// An address from its parts, unchecked.
    public init(path: String, key: String? = nil, index: Int? = nil) {
        self.path = path
        self.key = key
        self.index = index
    }

    /// Parses `file[:key][[index]]` (see the type's description); throws `VLSAEError.usage` for an empty address, an
    /// empty key or an index that is not a non-negative integer.
    public init(parsing text: String) throws {
        var rest = text
        var index: Int? = nil
        if rest.hasSuffix("]"), let open = rest.lastIndex(of: "[") {
            let inner = rest[rest.index(after: open)..<rest.index(before: rest.endIndex)]
            guard let i = Int(inner), i >= 0 else {
                throw VLSAEError.usage("\(text): the index in [...] must be a non-negative integer")
            }
            index = i
            rest = String(rest[..<open])
        }
        var path = rest
        var key: String? = nil
        let lower = rest.lowercased()
        var best: String.Index? = nil
        for ext in TensorAddress.extensions {
            var searchStart = lower.startIndex
            while let r = lower.range(of: ext, range: searchStart..<lower.endIndex) {
                let end = r.upperBound
                if end == lower.endIndex || lower[end] == ":" {
                    if best == nil || end < best! { best = end }
                    break
                }
                searchStart = r.upperBound
            }
        }
        if let end = best, end != rest.endIndex {
            path = String(rest[..<end])
            key = String(rest[rest.index(after: end)...])
            if key!.isEmpty { throw VLSAEError.usage("\(text): empty array name after ':'") }
        }
        guard !path.isEmpty else { throw VLSAEError.usage("empty tensor address") }
        self.init(path: path, key: key, index: index)
    }

    /// The same address with a relative path resolved against `folder`.
    public func resolved(relativeTo folder: String) -> TensorAddress {
        var copy = self
        if !path.hasPrefix("/") { copy.path = URL(fileURLWithPath: folder).appendingPathComponent(path).path }
        return copy
    }

    /// The address as it would be written: `path[:key][[index]]`.
    public var description: String {
        path + (key.map { ":" + $0 } ?? "") + (index.map { "[\($0)]" } ?? "")
    }
}

/// Reads tensors from any supported file, dispatching on the extension (or magic bytes).
public enum TensorFile {
    /// The container a file holds, chosen by `format(of:data:)`.
    public enum Format: String, Sendable { case npy, npz, safetensors, torch }

    /// The format of the file at `path`: by extension (`.npy`, `.npz`, `.safetensors`, `.pt`/`.pth`/`.bin`), otherwise
    /// by sniffing `data` (a zip with a `data.pkl` member is torch, any other zip `.npz`); throws `VLSAEError.file`
    /// when neither decides.
    public static func format(of path: String, data: Data) throws -> Format {
        let lower = path.lowercased()
        if lower.hasSuffix(".npy") { return .npy }
        if lower.hasSuffix(".npz") { return .npz }
        if lower.hasSuffix(".safetensors") { return .safetensors }
        if lower.hasSuffix(".pt") || lower.hasSuffix(".pth") || lower.hasSuffix(".bin") { return .torch }
        // Unknown extension: sniff.
        if data.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) { return .npy }
        // Both .npz and torch.save files are zips; torch's members live under "<name>/data.pkl".
        if ZipArchive.looksLikeZip(data), let zip = try? ZipArchive(data: data, path: path) {
            return zip.entries.contains { $0.name.hasSuffix("data.pkl") } ? .torch : .npz
        }
        throw VLSAEError.file(path, "unknown file type (expected .npy, .npz, .safetensors, .pt or .pth)")
    }

    /// Every array in the file, in file order.
    public static func readAll(path: String) throws -> [NamedTensor] { try read(path: path).arrays }

    /// Reads the file once: its arrays, and (when asked for) the SHA-256 of the very bytes they were
    /// parsed from, without reading the file again.
    public static func read(path: String) throws -> Contents {
        let data = try readFile(path)
        return Contents(path: path, bytes: data, arrays: try arrays(in: data, path: path))
    }

    /// Every array in bytes already read from `path`.
    public static func arrays(in data: Data, path: String) throws -> [NamedTensor] {
        switch try format(of: path, data: data) {
        case .npy: return [NamedTensor(name: "", tensor: try NpyFormat.read(data, path: path))]
        case .npz: return try NpzFormat.read(data, path: path)
        case .safetensors: return try SafetensorsFormat.read(data, path: path).tensors
        case .torch: return try TorchFormat.read(data, path: path)
        }
    }

    /// A file read by `read(path:)`.
    public struct Contents: Sendable {
        /// The file that was read, as given.
        public let path: String
        /// The file's bytes as read (memory-mapped), kept for `digest`.
        let bytes: Data
        /// Every array in the file, in file order.
        public let arrays: [NamedTensor]

        /// Path, SHA-256 and size of the file (no role: the caller knows what it is for), hashed
        /// over the bytes the arrays came from.
        public var digest: FileDigest { FileDigest(of: bytes, path: path) }

        /// The array `address` names in this file (its key and index; its path is this file's).
        public func tensor(_ address: TensorAddress) throws -> Tensor {
            let all = arrays
            let tensor: Tensor
            if let key = address.key {
                guard let hit = all.first(where: { $0.name == key }) else {
                    let names = all.map { $0.name.isEmpty ? "(unnamed)" : $0.name }.prefix(20).joined(separator: ", ")
                    throw VLSAEError.file(address.path, "no array named \"\(key)\"; it holds: \(names)")
                }
                tensor = hit.tensor
            } else if all.count == 1 {
                tensor = all[0].tensor
            } else {
                let names = all.map { $0.name }.prefix(20).joined(separator: ", ")
                throw VLSAEError.file(
                    address.path, "holds \(all.count) arrays; name one with \(address.path):NAME (one of: \(names))")
            }
            guard let i = address.index else { return tensor }
            do { return try tensor.slice(i) } catch let VLSAEError.usage(msg) {
                throw VLSAEError.file(address.description, msg)
            }
        }
    }

    /// The array an address names.
    public static func load(_ address: TensorAddress) throws -> Tensor { try read(path: address.path).tensor(address) }

    /// The array the address text names, parsed as by `TensorAddress(parsing:)`.
    public static func load(_ address: String) throws -> Tensor { try load(TensorAddress(parsing: address)) }

    /// The array an address names, with the digest of its file (read once, hashed while read).
    public static func loadWithDigest(_ address: TensorAddress) throws -> (tensor: Tensor, digest: FileDigest) {
        let contents = try read(path: address.path)
        return (try contents.tensor(address), contents.digest)
    }

    /// What a file holds, for `vlsae inspect`: its SHA-256 and each array's name, shape and type.
    public static func inspect(path: String) throws -> (sha256: String, arrays: [ArrayInfo]) {
        let contents = try read(path: path)
        return (
            contents.digest.sha256,
            contents.arrays.map { ArrayInfo(name: $0.name, shape: $0.tensor.shape, dtype: $0.tensor.dtype) }
        )
    }
}
