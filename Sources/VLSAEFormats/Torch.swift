import CKernels
import Foundation
import VLSAECore

/// Reads files written by `torch.save` (the zip format of PyTorch ≥ 1.6) without executing any pickled code.
///
/// The archive holds `<prefix>/data.pkl` (the object tree), `<prefix>/data/<key>` (one raw little-endian blob
/// per storage), `<prefix>/byteorder` and `<prefix>/version`. Tensors are views into storages: a storage
/// offset plus sizes and strides, which may be non-contiguous (transposes, stepped slices) and shared.
public enum TorchFormat {
    /// Every tensor in the file, named by its path in the object tree: dict keys and list/tuple indices joined
    /// with "." (`vision_decoder.weight`, `embeddings`, `layers.0.bias`); a bare tensor is named "".
    /// A pickled `nn.Module` is named like its `state_dict()`. Non-tensor leaves are ignored.
    public static func read(_ data: Data, path: String) throws -> [NamedTensor] {
        let (root, unknown) = try load(data, path: path)
        let named = try flatten(root, path: path)
        if named.isEmpty, !unknown.isEmpty {
            throw VLSAEError.file(
                path,
                "no tensors found; the pickle refers to classes or functions that this "
                    + "reader never runs: \(unknown.prefix(10).joined(separator: ", "))")
        }
        return named
    }

    /// The unpickled object tree of a torch.save archive, with tensors materialised.
    public static func readObject(_ data: Data, path: String) throws -> PickleValue {
        try load(data, path: path).root
    }

    /// Unpickles raw pickle bytes; `storages` maps persistent-id keys to blobs as an archive's `data/<key>`.
    public static func unpickle(_ pickle: Data, storages: [String: Data] = [:], path: String) throws -> PickleValue {
        let host = StorageHost(path: path, fileSize: storages.values.reduce(pickle.count) { $0 + $1.count }) {
            storages[$0]
        }
        return try unpickle(pickle, host: host, path: path).root
    }

    /// The named tensors of an object tree (see `read`).
    public static func flatten(_ root: PickleValue, path: String) throws -> [NamedTensor] {
        var flattener = Flattener(path: path)
        try flattener.walk(root, "")
        return flattener.out
    }

    // MARK: archive

    private static func load(_ data: Data, path: String) throws -> (root: PickleValue, unknown: [String]) {
        guard ZipArchive.looksLikeZip(data) else {
            if data.first == 0x80 {
                throw VLSAEError.file(
                    path,
                    "a legacy (pre-1.6, non-zip) torch file; re-save it with torch.save "
                        + "in PyTorch 1.6 or later")
            }
            throw VLSAEError.file(path, "not a torch.save file (expected a zip archive)")
        }
        let zip = try ZipArchive(data: data, path: path)
        let pickles = zip.entries.filter {
            $0.name.hasSuffix("/data.pkl") && $0.name.split(separator: "/", omittingEmptySubsequences: false).count == 2
        }
        guard let pkl = pickles.first else {
            if zip.entries.contains(where: { $0.name.hasSuffix("constants.pkl") || $0.name.contains("/code/") }) {
                throw VLSAEError.file(path, "a TorchScript archive (torch.jit.save), not a torch.save file")
            }
            throw VLSAEError.file(path, "not a torch.save archive: no <name>/data.pkl record")
        }
        guard pickles.count == 1 else {
            throw VLSAEError.file(path, "holds \(pickles.count) data.pkl records; expected one")
        }
        let prefix = String(pkl.name.dropLast("/data.pkl".count))
        if let order = zip.entry(named: prefix + "/byteorder") {
            let text = String(decoding: try zip.extract(order), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard text == "little" else {
                throw VLSAEError.file(
                    path,
                    text == "big"
                        ? "saved on a big-endian machine (byteorder \"big\"); only little-endian files are supported"
                        : "unknown byteorder record \"\(text.prefix(20))\"")
            }
        }
        let host = StorageHost(path: path, fileSize: data.count) { key in
            guard let entry = zip.entry(named: prefix + "/data/" + key) else { return nil }
            return try zip.extract(entry)
        }
        return try unpickle(try zip.extract(pkl), host: host, path: path)
    }

    private static func unpickle(_ pickle: Data, host: StorageHost, path: String) throws -> (
        root: PickleValue, unknown: [String]
    ) {
        let vm = Unpickler(pickle, host: host)
        do {
            return (try vm.load(), vm.unknownGlobals)
        } catch let e as PickleError {
            throw VLSAEError.file(path, "data.pkl: " + e.message)
        } catch let e as VLSAEError {
            throw e
        } catch {
            throw VLSAEError.file(path, "data.pkl: \(error)")
        }
    }
}

/// Resolves persistent ids to storages and rebuilds tensors from them.
final class StorageHost: TorchPickleHost {
    private let path: String
    private let fetch: (String) throws -> Data?
    private var blobs: [String: Data] = [:]
    private var decoded: [String: Tensor.Storage] = [:]
    /// Bytes of decoded storages and materialised tensors so far, and the most a file of this size may ask for.
    private var materialised = 0
    private let materialisedLimit: Int

    /// Memory a file's tensors may take: `expansion` times the file's size plus `slack` bytes. Storages are decoded
    /// to 4- or 8-byte elements (×2 for float16, ×8 for uint8 read as int64 would be the worst, but a real file's
    /// views, a transpose beside its original, stay within a few times the file); a view that repeats elements
    /// (stride 0) can otherwise turn a tiny storage into gigabytes.
    static let expansion = 8
    /// See `expansion`.
    static let slack = 16 << 20

    init(path: String, fileSize: Int, fetch: @escaping (String) throws -> Data?) {
        self.path = path
        self.fetch = fetch
        let (scaled, overflow) = fileSize.multipliedReportingOverflow(by: Self.expansion)
        materialisedLimit = overflow ? Int.max : scaled.addingReportingOverflow(Self.slack).partialValue
    }

    /// Counts `bytes` more of decoded memory against the limit.
    private func charge(_ bytes: Int, for what: String) throws {
        let (total, overflow) = materialised.addingReportingOverflow(bytes)
        guard !overflow, total <= materialisedLimit else {
            throw PickleError(
                message: "\(what) would bring the tensors read from this file to more than \(materialisedLimit) bytes "
                    + "in memory (\(Self.expansion)× the file plus \(Self.slack >> 20) MiB); views that repeat "
                    + "storage elements (stride 0) cannot be expanded that far")
        }
        materialised = total
    }

    func storage(persistentID pid: PickleValue) throws -> PickleValue {
        // ('storage', torch.<Type>Storage, key, location, numel)
        guard case .tuple(let t) = pid, t.items.count == 5, t.items[0].string == "storage" else {
            throw PickleError(message: "persistent id is not ('storage', type, key, location, numel)")
        }
        guard case .global(let typeName) = t.items[1] else {
            throw PickleError(message: "persistent id names no storage type")
        }
        guard let dtype = TorchGlobals.storageTypes[typeName] else {
            throw PickleError(message: "unsupported storage type \(typeName)")
        }
        let key: String
        switch t.items[2] {
        case .string(let s): key = s
        case .int(let i): key = String(i)
        default: throw PickleError(message: "persistent id has no storage key")
        }
        guard !key.isEmpty, !key.contains("/") else {
            throw PickleError(message: "bad storage key \"\(key.prefix(40))\"")
        }
        guard case .int(let n) = t.items[4], n >= 0, n < Int64(Int.max / 8) else {
            throw PickleError(message: "storage \(key) has no valid element count")
        }
        let count = Int(n)
        let blob: Data
        if let cached = blobs[key] {
            blob = cached
        } else {
            do {
                guard let b = try fetch(key) else { throw PickleError(message: "missing storage blob data/\(key)") }
                blob = b
            } catch let e as VLSAEError {
                throw PickleError(message: "storage data/\(key): \(e)")
            }
            blobs[key] = blob
        }
        guard blob.count >= count * dtype.byteSize else {
            throw PickleError(
                message: "storage data/\(key) holds \(blob.count) bytes, but \(count) \(dtype.rawValue) "
                    + "elements need \(count * dtype.byteSize)")
        }
        return .storage(TorchStorageRef(dtype: dtype, key: key, location: t.items[3].string ?? "", count: count))
    }

    /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`
    /// (or the legacy 4-argument `_rebuild_tensor`): gathers the strided view into a C-order tensor.
    func rebuildTensor(args: [PickleValue]) throws -> Tensor {
        guard args.count >= 4, case .storage(let s) = args[0] else {
            throw PickleError(message: "tensor rebuild without (storage, offset, size, stride)")
        }
        guard case .int(let off) = args[1], off >= 0, off <= Int64(s.count) else {
            throw PickleError(message: "bad storage offset for storage \(s.key)")
        }
        let offset = Int(off)
        let shape = try ints(args[2], what: "size")
        let strides = try ints(args[3], what: "stride")
        guard shape.count == strides.count, shape.count <= 64 else {
            throw PickleError(message: "size \(shape) and stride \(strides) do not match")
        }
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw PickleError(message: "size \(shape) overflows") }
            count = p
        }
        if count > 0 {
            // The furthest element the view reaches must lie inside the storage.
            var last = offset
            for (d, st) in zip(shape, strides) {
                let (step, o1) = (d - 1).multipliedReportingOverflow(by: st)
                let (sum, o2) = last.addingReportingOverflow(step)
                guard !o1, !o2 else { throw PickleError(message: "stride \(strides) overflows") }
                last = sum
            }
            guard last < s.count else {
                throw PickleError(
                    message: "tensor of size \(shape), stride \(strides), offset \(offset) reaches element "
                        + "\(last) but storage \(s.key) holds \(s.count)")
            }
            // Stride-0 views may repeat elements; cap what a tiny storage can expand to.
            guard count <= max(s.count, 1 << 24) else {
                throw PickleError(
                    message: "tensor of size \(shape) is too large for storage \(s.key) of \(s.count) elements")
            }
        }
        let source = try decode(s)
        try charge(
            count.multipliedReportingOverflow(by: s.dtype.isFloatingPoint ? 4 : 8).partialValue,
            for: "a tensor of size \(shape) from storage \(s.key)")
        switch source {
        case .float(let f):
            return Tensor(shape: shape, dtype: s.dtype, storage: .float(gather(f, offset, shape, strides, count)))
        case .integer(let i):
            return Tensor(shape: shape, dtype: s.dtype, storage: .integer(gather(i, offset, shape, strides, count)))
        }
    }

    private func ints(_ v: PickleValue, what: String) throws -> [Int] {
        guard case .tuple(let t) = v else {
            throw PickleError(message: "tensor \(what) is a \(v.typeDescription), not a tuple")
        }
        return try t.items.map {
            guard case .int(let i) = $0, i >= 0, i <= Int64(Int32.max) else {
                throw PickleError(message: "tensor \(what) has a negative or non-integer entry")
            }
            return Int(i)
        }
    }

    private func decode(_ s: TorchStorageRef) throws -> Tensor.Storage {
        // Keyed by dtype too, and decoding the whole blob: a hostile file may name one blob with different
        // types or counts, and every count was checked against the blob's size.
        let cacheKey = s.key + "/" + s.dtype.rawValue
        if let d = decoded[cacheKey] { return d }
        guard let blob = blobs[s.key] else { throw PickleError(message: "storage \(s.key) was never loaded") }
        let n = blob.count / s.dtype.byteSize
        try charge(n * (s.dtype.isFloatingPoint ? 4 : 8), for: "decoding storage \(s.key) as \(s.dtype.rawValue)")
        let result: Tensor.Storage = blob.withUnsafeBytes { raw -> Tensor.Storage in
            // Plain loops over typed values: closures per element are far too slow for 10⁷-element
            // checkpoints in debug builds.
            func load<T: FixedWidthInteger>(_: T.Type) -> [T] {
                [T](unsafeUninitializedCapacity: n) { buffer, initialized in
                    for i in 0..<n {
                        buffer[i] = T(
                            littleEndian: raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
                    }
                    initialized = n
                }
            }
            func floats<T: FixedWidthInteger>(_ bits: [T], _ convert: (T) -> Float) -> [Float] {
                [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
                    bits.withUnsafeBufferPointer { src in for i in 0..<n { buffer[i] = convert(src[i]) } }
                    initialized = n
                }
            }
            switch s.dtype {
            case .float32:
                #if _endian(little)
                return .float(
                    [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
                        if n > 0 {
                            UnsafeMutableRawBufferPointer(buffer).copyMemory(
                                from: UnsafeRawBufferPointer(rebasing: raw[0..<(n * 4)]))
                        }
                        initialized = n
                    })
                #else
                return .float(floats(load(UInt32.self)) { Float(bitPattern: $0) })
                #endif
            case .float64: return .float(floats(load(UInt64.self)) { Float(Double(bitPattern: $0)) })
            case .float16:
                #if _endian(little)
                return .float(
                    [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
                        if n > 0 { vlsae_half_to_float(raw.baseAddress!, buffer.baseAddress!, Int64(n)) }
                        initialized = n
                    })
                #else
                return .float(floats(load(UInt16.self)) { HalfFloat.float(fromHalf: $0) })
                #endif
            case .bfloat16: return .float(floats(load(UInt16.self)) { HalfFloat.float(fromBFloat16: $0) })
            case .int64: return .integer(load(Int64.self))
            case .int32: return .integer(load(Int32.self).map { Int64($0) })
            case .uint8: return .integer(load(UInt8.self).map { Int64($0) })
            case .bool: return .integer(load(UInt8.self).map { $0 != 0 ? 1 : 0 })
            }
        }
        decoded[cacheKey] = result
        return result
    }

    /// Copies a strided view into C order; the caller has bounds-checked every reachable index.
    private func gather<T>(_ src: [T], _ offset: Int, _ shape: [Int], _ strides: [Int], _ count: Int) -> [T] {
        if count == 0 { return [] }
        if shape.isEmpty { return [src[offset]] }
        var expected = 1
        var contiguous = true
        for d in (0..<shape.count).reversed() where shape[d] != 1 {
            if strides[d] != expected {
                contiguous = false
                break
            }
            expected *= shape[d]
        }
        if contiguous { return offset == 0 && count == src.count ? src : Array(src[offset..<(offset + count)]) }
        var out: [T] = []
        out.reserveCapacity(count)
        let last = shape.count - 1
        var index = [Int](repeating: 0, count: shape.count)
        var base = offset
        while true {
            var p = base
            for _ in 0..<shape[last] {
                out.append(src[p])
                p += strides[last]
            }
            var d = last - 1
            while d >= 0 {
                index[d] += 1
                base += strides[d]
                if index[d] < shape[d] { break }
                base -= strides[d] * shape[d]
                index[d] = 0
                d -= 1
            }
            if d < 0 { return out }
        }
    }
}

/// Turns an object tree into named tensors. Depth is bounded by Unpickler.maxDepth; shared sub-trees are
/// revisited under each name, so a visit budget stops a small file from naming exponentially many paths.
private struct Flattener {
    let path: String
    var out: [NamedTensor] = []
    var budget = 1_000_000

    init(path: String) { self.path = path }

    /// The longest name a path may build up (bytes): one long string memoised and used as the key of every level
    /// of a deep tree would otherwise make names, all alive at once on the way down, quadratic in the file's size.
    static let maxNameLength = 4096

    func join(_ prefix: String, _ key: String) throws -> String {
        guard prefix.utf8.count + key.utf8.count < Self.maxNameLength else {
            throw VLSAEError.file(path, "a tensor's path in the object tree is longer than \(Self.maxNameLength) bytes")
        }
        return prefix.isEmpty ? key : prefix + "." + key
    }

    static func keyName(_ v: PickleValue) -> String? {
        switch v {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return b ? "True" : "False"
        default: return nil
        }
    }

    mutating func walk(_ v: PickleValue, _ name: String) throws {
        budget -= 1
        guard budget >= 0 else { throw VLSAEError.file(path, "the object tree is too large to enumerate") }
        switch v {
        case .tensor(let t): out.append(NamedTensor(name: name, tensor: t))
        case .dict(let d):
            for (k, value) in d.entries {
                if let key = Flattener.keyName(k) { try walk(value, try join(name, key)) }
            }
        case .list(let l):
            for (i, item) in l.items.enumerated() { try walk(item, try join(name, String(i))) }
        case .tuple(let t):
            for (i, item) in t.items.enumerated() { try walk(item, try join(name, String(i))) }
        case .object(let o):
            if let state = o.state, case .dict(let d) = state, d.value(forKey: "_parameters") != nil {
                try walkModule(d, name)
                return
            }
            for (i, a) in o.args.enumerated() { try walk(a, try join(name, String(i))) }
            if let state = o.state {
                // BUILD state may be (dict, slots); both name attributes.
                if case .tuple(let t) = state, t.items.count == 2 {
                    for part in t.items { try walk(part, name) }
                } else {
                    try walk(state, name)
                }
            }
            for (i, item) in o.listItems.enumerated() { try walk(item, try join(name, String(i))) }
            for (k, value) in o.dictItems {
                if let key = Flattener.keyName(k) { try walk(value, try join(name, key)) }
            }
        default: break
        }
    }

    /// A pickled nn.Module: names follow `state_dict()` (parameters, persistent buffers, then submodules).
    mutating func walkModule(_ state: PickleDict, _ prefix: String) throws {
        budget -= 1
        guard budget >= 0 else { throw VLSAEError.file(path, "the object tree is too large to enumerate") }
        var transient = Set<String>()
        if case .object(let set)? = state.value(forKey: "_non_persistent_buffers_set") {
            // Protocol 2 pickles a set as set([names]); protocol 4+ as EMPTY_SET + ADDITEMS.
            var names = set.listItems
            switch set.args.first {
            case .list(let l)?: names += l.items
            case .tuple(let t)?: names += t.items
            default: break
            }
            transient = Set(names.compactMap { $0.string })
        }
        for group in ["_parameters", "_buffers"] {
            guard case .dict(let d)? = state.value(forKey: group) else { continue }
            for (k, v) in d.entries {
                guard let key = Flattener.keyName(k), case .tensor(let t) = v else { continue }
                if group == "_buffers", transient.contains(key) { continue }
                out.append(NamedTensor(name: try join(prefix, key), tensor: t))
            }
        }
        guard case .dict(let modules)? = state.value(forKey: "_modules") else { return }
        for (k, v) in modules.entries {
            guard let key = Flattener.keyName(k) else { continue }
            try walk(v, try join(prefix, key))
        }
    }
}
