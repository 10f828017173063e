import Foundation

/// A file with its SHA-256: what every result records about every file it read, from the moment
/// the file is read (`FileDigest(of:path:)` over the bytes a reader already holds) through result
/// documents, sweep plans and recovery figures to `vlsae regress`, which compares them by role.
///
/// Written to JSON as `{"path", "role", "sha256"}` (`role` absent when nil). The size is known
/// when the file was read here and is never written: result documents keep the keys they always
/// had, and two digests are equal when path, SHA-256 and role are (equal content has equal size).
public struct FileDigest: Codable, Hashable, Sendable, CustomStringConvertible {
    /// As the user gave it, or resolved from a manifest or config (relative to the working
    /// directory or to the config's folder, as the record says).
    public var path: String
    /// Lower-case hex SHA-256 of the file's bytes.
    public var sha256: String
    /// Bytes, when the file was read by this process; nil for a digest read back from a document.
    public var size: Int? = nil
    /// What the file was used for: manifest, image_embeddings, labels, text_embeddings, classifier,
    /// sae_checkpoint, alpha_table, validation_<role>, train_images, train_texts; nil where the
    /// place of the record says it (an α table, a recovery's checkpoint).
    public var role: String?

    enum CodingKeys: CodingKey { case path, sha256, role }  // `size` stays out of every document

    /// A digest as recorded: `sha256` in lower-case hex, `size` in bytes when known.
    public init(path: String, sha256: String, size: Int? = nil, role: String? = nil) {
        self.path = path
        self.sha256 = sha256
        self.size = size
        self.role = role
    }

    /// The digest of bytes already read from `path`: hashing while reading, not a second read.
    public init<D: DataProtocol>(of data: D, path: String, role: String? = nil) {
        self.init(path: path, sha256: SHA256.hex(data), size: data.count, role: role)
    }

    /// The same content recorded under another path or role.
    public func recorded(as path: String? = nil, role: String?) -> FileDigest {
        FileDigest(path: path ?? self.path, sha256: sha256, size: size, role: role)
    }

    /// Equal when path, SHA-256 and role are; `size` is ignored (it is never written, so a digest read back from a
    /// document equals the one recorded).
    public static func == (a: FileDigest, b: FileDigest) -> Bool {
        a.path == b.path && a.sha256 == b.sha256 && a.role == b.role
    }

    /// Hashes path, SHA-256 and role, consistently with `==`.
    public func hash(into h: inout Hasher) {
        h.combine(path)
        h.combine(sha256)
        h.combine(role)
    }

    /// `path (sha256 prefix…)`, for messages.
    public var description: String { "\(path) (\(sha256.prefix(12))…)" }
}
