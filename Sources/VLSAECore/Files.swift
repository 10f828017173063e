import CKernels
import Foundation

/// File output that never leaves a half-written result, never replaces what is not a regular
/// file, and never writes through a symbolic link.
///
/// Data goes to a temporary file created exclusively (`O_CREAT | O_EXCL | O_NOFOLLOW`, a random
/// name, the mode of the file it replaces) in the destination's folder, is fsynced and renamed
/// into place. The temporary file is removed on every failure: a failed write (disk full, or
/// `EFBIG` past a file-size limit, since `SIGXFSZ` is ignored), and SIGINT, SIGTERM or SIGHUP,
/// whose handler removes every registered temporary file before the process dies of the signal
/// (`Sources/CKernels/tempfiles.c`). The old file survives intact until the rename.
public enum AtomicFile {
    /// Writes `data` to `path` through a temporary file in the same folder (created if missing), fsynced and renamed
    /// into place; throws `VLSAEError.file` naming `path`, leaving no temporary file behind. An existing `path` that
    /// is not a regular file (a folder, FIFO, device node or symbolic link) is refused.
    public static func write(_ data: Data, to path: String) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw VLSAEError.file(path, "cannot create folder \(folder): \(error.localizedDescription)")
        }
        let temporary = try Temporary(for: path, in: folder)
        try temporary.write(data)
        try temporary.commit()
    }

    /// Writes `text` as UTF-8, atomically as `write(_:to:)` with `Data` does.
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    /// Renames the finished file `from` (for example a temporary written by another writer) to
    /// `path`, after the same check `write(_:to:)` makes: an existing `path` must be a regular file.
    public static func moveIntoPlace(_ from: String, to path: String) throws {
        _ = try replaceableMode(path)
        if rename(from, path) != 0 {
            throw VLSAEError.file(path, "cannot move \(from) into place: \(String(cString: strerror(errno)))")
        }
    }

    /// The permission bits of the regular file at `path`, nil when nothing is there; throws when
    /// something other than a regular file is (an output never replaces one).
    static func replaceableMode(_ path: String) throws -> mode_t? {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT { return nil }
            throw VLSAEError.file(path, "cannot examine the output: \(String(cString: strerror(errno)))")
        }
        let kind = st.st_mode & S_IFMT
        guard kind == S_IFREG else {
            let what: String
            switch kind {
            case S_IFDIR: what = "a folder"
            case S_IFLNK: what = "a symbolic link (outputs are never written through one)"
            case S_IFIFO: what = "a FIFO"
            case S_IFCHR, S_IFBLK: what = "a device node"
            case S_IFSOCK: what = "a socket"
            default: what = "not a regular file"
            }
            throw VLSAEError.file(path, "exists and is \(what); refusing to replace it with an output file")
        }
        return st.st_mode & 0o7777
    }

    /// A temporary file on its way to `destination`: created exclusively, registered for removal on
    /// SIGINT/SIGTERM/SIGHUP, removed by `discard()` or moved into place by `commit()`. Writers that
    /// need a step between writing and renaming (a sweep's resumable cells) use it directly.
    public final class Temporary {
        /// Where `commit()` moves the file.
        public let destination: String
        /// The temporary file's path.
        public let path: String
        private var slot: Int32
        private var fd: Int32

        /// Creates an empty temporary file for `destination` in `folder` (which must exist and be on
        /// the same file system), with the mode of the regular file it will replace, else 0666 less
        /// the umask. Refuses a `destination` that exists and is not a regular file.
        public init(for destination: String, in folder: String) throws {
            let mode = try AtomicFile.replaceableMode(destination)
            vlsae_tempfiles_install()
            let base = (destination as NSString).lastPathComponent
            var rng = SystemRandomNumberGenerator()
            var attempt = 0
            while true {
                let name = ".\(base).tmp-" + String(rng.next(), radix: 16)
                let candidate = (folder as NSString).appendingPathComponent(name)
                let slot = vlsae_tempfiles_register(candidate)
                let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode ?? 0o666)
                if fd >= 0 {
                    if let mode, fchmod(fd, mode) != 0 {
                        let reason = String(cString: strerror(errno))
                        close(fd)
                        unlink(candidate)
                        vlsae_tempfiles_unregister(slot)
                        throw VLSAEError.file(destination, "cannot set the mode of \(candidate): \(reason)")
                    }
                    (self.destination, self.path, self.slot, self.fd) = (destination, candidate, slot, fd)
                    return
                }
                let code = errno
                vlsae_tempfiles_unregister(slot)
                attempt += 1
                if code != EEXIST || attempt >= 16 {
                    throw VLSAEError.file(
                        destination, "cannot create temporary file \(candidate): \(String(cString: strerror(code)))")
                }
            }
        }

        deinit {
            if fd >= 0 { close(fd) }
        }

        /// Writes `data`, fsyncs and closes the file; on failure (disk full, file-size limit) removes
        /// it and throws naming the destination and the reason.
        public func write(_ data: Data) throws {
            var failure: String? = nil
            data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                var offset = 0
                while offset < raw.count {
                    let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        failure = String(cString: strerror(errno))
                        return
                    }
                    offset += n
                }
            }
            if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
            if close(fd) != 0 && failure == nil { failure = String(cString: strerror(errno)) }
            fd = -1
            if let failure {
                discard()
                throw VLSAEError.file(destination, "cannot write (\(failure)); the previous file, if any, is unchanged")
            }
        }

        /// Renames the written file to `destination` (checked again: an existing one must be a
        /// regular file); on failure removes it.
        public func commit() throws {
            do {
                try AtomicFile.moveIntoPlace(path, to: destination)
            } catch {
                discard()
                throw error
            }
            vlsae_tempfiles_unregister(slot)
            slot = -1
        }

        /// Removes the temporary file (nothing else is touched).
        public func discard() {
            if fd >= 0 {
                close(fd)
                fd = -1
            }
            unlink(path)
            vlsae_tempfiles_unregister(slot)
            slot = -1
        }
    }
}

/// Reads a whole file with an error that names it (regular files only, copied into memory: `InputFile`).
public func readFile(_ path: String) throws -> Data { try InputFile.read(path) }

/// Deterministic JSON: sorted keys, two-space indentation, no escaped slashes, and a refusal
/// (rather than `NaN`) for non-finite numbers, so the same value always gives the same bytes.
///
/// Keys are the snake_case of the property names (`nImages` → `n_images`, `planSha256` →
/// `plan_sha256`), by Foundation's `.convertToSnakeCase` / `.convertFromSnakeCase`; so a record
/// type needs a `CodingKeys` enum only to leave a property out. Two things to know when writing one:
/// the strategy applies to `CodingKeys` raw values too (write them in camelCase), and it leaves the
/// keys of `[String: T]` dictionaries alone (dataset names, file names and metric names stay as
/// they are). The few files whose keys are the property names themselves (`suite.json`) use
/// `.propertyNames`.
public enum CanonicalJSON {
    /// How property names become JSON keys.
    public enum Keys: Sendable {
        /// JSON keys are the snake_case of the property names (every result, sweep and manifest file).
        case snakeCase
        /// JSON keys are the property names as declared (`suite.json`).
        case propertyNames
    }

    /// A `JSONEncoder` for canonical output: pretty-printed, sorted keys, unescaped slashes, keys by `keys`.
    public static func encoder(keys: Keys = .snakeCase) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if keys == .snakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
        return encoder
    }

    /// The `JSONDecoder` that reads what `encoder(keys:)` writes.
    public static func decoder(keys: Keys = .snakeCase) -> JSONDecoder {
        let decoder = JSONDecoder()
        if keys == .snakeCase { decoder.keyDecodingStrategy = .convertFromSnakeCase }
        return decoder
    }

    /// The canonical bytes of `value`, ending with a newline; throws for a non-finite floating-point number.
    public static func encode<T: Encodable>(_ value: T, keys: Keys = .snakeCase) throws -> Data {
        var data = try encoder(keys: keys).encode(value)
        data.append(0x0A)
        return data
    }

    /// Reads the file at `path` and decodes it; errors name the file and the key path as the file spells it.
    public static func decode<T: Decodable>(_ type: T.Type, from path: String, keys: Keys = .snakeCase) throws -> T {
        try decode(type, from: try readFile(path), path: path, keys: keys)
    }

    /// Decodes `data` read from `path`; errors name the file and the key path as the file spells it.
    public static func decode<T: Decodable>(
        _ type: T.Type, from data: Data, path: String,
        keys: Keys = .snakeCase
    ) throws -> T {
        func name(_ key: CodingKey) -> String { keys == .snakeCase ? snakeCase(key.stringValue) : key.stringValue }
        try JSONInput.check(data, path: path)
        do {
            return try decoder(keys: keys).decode(type, from: data)
        } catch let DecodingError.dataCorrupted(ctx) {
            throw VLSAEError.file(
                path, "invalid JSON: \(ctx.debugDescription) \(ctx.underlyingError.map { "\($0)" } ?? "")")
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw VLSAEError.file(path, "missing key \"\(name(key))\" at \(keyPath(ctx.codingPath, keys: keys))")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw VLSAEError.file(path, "wrong type at \(keyPath(ctx.codingPath, keys: keys)): \(ctx.debugDescription)")
        } catch let DecodingError.valueNotFound(_, ctx) {
            throw VLSAEError.file(path, "null or missing value at \(keyPath(ctx.codingPath, keys: keys))")
        } catch {
            throw VLSAEError.file(path, "cannot decode: \(error)")
        }
    }

    /// A coding path as the file spells it, e.g. `.results[3].n_images`; "top level" when empty.
    public static func keyPath(_ path: [CodingKey], keys: Keys = .snakeCase) -> String {
        if path.isEmpty { return "top level" }
        return path.map { key in
            key.intValue.map { "[\($0)]" } ?? "." + (keys == .snakeCase ? snakeCase(key.stringValue) : key.stringValue)
        }.joined()
    }

    /// The JSON key `.convertToSnakeCase` writes for a property name (asked of the encoder itself,
    /// so that messages and key checks can never disagree with the files).
    public static func snakeCase(_ propertyName: String) -> String {
        struct One: Encodable {
            let key: String
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: AnyCodingKey.self)
                try c.encodeNil(forKey: AnyCodingKey(key))
            }
        }
        guard let data = try? encoder().encode(One(key: propertyName)),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let key = object.keys.first
        else { return propertyName }
        return key
    }

    /// Refuses keys outside `allowed` (a misspelt key must not silently read as "absent").
    public static func checkKeys<S: Sequence>(
        _ found: S, allowed: Set<String>, at place: String,
        path: String
    ) throws where S.Element == String {
        let unknown = found.filter { !allowed.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw VLSAEError.file(
                path,
                "unknown key\(unknown.count > 1 ? "s" : "") \(unknown.map { "\"\($0)\"" }.joined(separator: ", ")) "
                    + "in \(place); allowed: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    /// The snake_case JSON keys of a `CodingKeys` enum.
    public static func keys<K: CodingKey & CaseIterable>(of _: K.Type) -> Set<String> {
        Set(K.allCases.map { snakeCase($0.stringValue) })
    }
}

/// A coding key made at run time (dynamic keys, key checks).
public struct AnyCodingKey: CodingKey {
    /// The key as written.
    public var stringValue: String
    /// Always nil: these keys are never integer indices.
    public var intValue: Int? { nil }
    /// A key spelled `string`.
    public init(_ string: String) { stringValue = string }
    /// A key spelled `stringValue`.
    public init(stringValue: String) { self.stringValue = stringValue }
    /// Always nil: integer keys are not supported.
    public init?(intValue: Int) { nil }
}
