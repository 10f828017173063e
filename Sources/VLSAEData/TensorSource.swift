import Foundation
import VLSAECore
import VLSAEFormats

/// A manifest value naming an array: one tensor address, a glob pattern of `.npy` shards, or an ordered list of shard
/// addresses. Shards are joined along the first axis (clip-retrieval's `img_emb/img_emb_{i}.npy` layout).
public enum TensorSource: Codable, Equatable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// One tensor address (`file.npy`, `x.npz:name`, …), or a glob pattern (`img_emb/img_emb_*.npy`) whose matches are
    /// joined in numeric order; written as a JSON string.
    case address(String)
    /// Tensor addresses joined in the order given; written as a JSON array of strings.
    case shards([String])

    /// A string literal is one address (or pattern).
    public init(stringLiteral value: String) { self = .address(value) }

    /// Decodes a JSON string as `.address` and a non-empty array of strings as `.shards`.
    public init(from decoder: Decoder) throws {
        switch try StringOrList(from: decoder, expected: "a tensor address or an array of tensor addresses (shards)") {
        case .string(let text): self = .address(text)
        case .list(let list):
            guard !list.isEmpty else {
                throw DecodingError.dataCorrupted(
                    DecodingError.Context(
                        codingPath: decoder.codingPath, debugDescription: "the list of shards is empty"))
            }
            self = .shards(list)
        }
    }

    /// Writes the form `init(from:)` reads.
    public func encode(to encoder: Encoder) throws {
        switch self {
        case .address(let a): try StringOrList.string(a).encode(to: encoder)
        case .shards(let list): try StringOrList.list(list).encode(to: encoder)
        }
    }

    /// The address, or the shard addresses joined by ", ".
    public var description: String {
        switch self {
        case .address(let a): return a
        case .shards(let list): return list.joined(separator: ", ")
        }
    }

    /// The tensor addresses this value names, in joining order: the address itself, the pattern's matches in numeric
    /// order (as the pattern writes them, found relative to `folder`), or the list.
    public func addresses(relativeTo folder: String) throws -> [String] {
        switch self {
        case .address(let a) where TensorShards.isPattern(a): return try TensorShards.expand(a, relativeTo: folder)
        case .address(let a): return [a]
        case .shards(let list): return list
        }
    }
}
