import Foundation

/// File output that never leaves a half-written result: data goes to a temporary file in the
/// destination's folder and is renamed into place.
public enum AtomicFile {
    /// Writes `data` to `path` through a temporary file in the same folder (created if missing), fsynced and renamed
    /// into place; throws `VLSAEError.file` naming `path`, leaving no temporary file behind.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw VLSAEError.file(path, "cannot create folder \(dir.path): \(error.localizedDescription)")
        }
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        // Plain POSIX I/O: Foundation's own atomic writing stages data in TemporaryDirectory.*
        // folders that it does not always remove.
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            throw VLSAEError.file(path, "cannot write temporary file \(tmp.path): \(String(cString: strerror(errno)))")
        }
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
        if let failure {
            unlink(tmp.path)
            throw VLSAEError.file(path, "cannot write temporary file \(tmp.path): \(failure)")
        }
        if rename(tmp.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(tmp.path)
            throw VLSAEError.file(path, "cannot move result into place: \(reason)")
        }
    }

    /// Writes `text` as UTF-8, atomically as `write(_:to:)` with `Data` does.
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
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
