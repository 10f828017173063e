import Foundation

/// File output that never leaves a half-written result: data goes to a temporary file in the
/// destination's folder and is renamed into place.
public enum AtomicFile {
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

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }
}

/// Reads a whole file with an error that names it.
public func readFile(_ path: String) throws -> Data {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
        throw VLSAEError.file(path, "no such file")
    }
    if isDir.boolValue { throw VLSAEError.file(path, "is a folder, not a file") }
    do {
        return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
    } catch {
        throw VLSAEError.file(path, "cannot read: \(error.localizedDescription)")
    }
}

/// Deterministic JSON: sorted keys, two-space indentation, no escaped slashes, and a refusal
/// (rather than `NaN`) for non-finite numbers, so the same value always gives the same bytes.
public enum CanonicalJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(value)
        data.append(0x0A)
        return data
    }

    public static func decode<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
        let data = try readFile(path)
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let DecodingError.dataCorrupted(ctx) {
            throw VLSAEError.file(path, "invalid JSON: \(ctx.debugDescription) \(ctx.underlyingError.map { "\($0)" } ?? "")")
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw VLSAEError.file(path, "missing key \"\(key.stringValue)\" at \(pathString(ctx.codingPath))")
        } catch let DecodingError.typeMismatch(_, ctx) {
            throw VLSAEError.file(path, "wrong type at \(pathString(ctx.codingPath + [])) : \(ctx.debugDescription)")
        } catch let DecodingError.valueNotFound(_, ctx) {
            throw VLSAEError.file(path, "null or missing value at \(pathString(ctx.codingPath))")
        } catch {
            throw VLSAEError.file(path, "cannot decode: \(error)")
        }
    }

    private static func pathString(_ path: [CodingKey]) -> String {
        path.isEmpty ? "top level" : path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}
