import CKernels
import Foundation

/// SHA-256 (FIPS 180-4). Every input file's digest goes into every result, so the digest
/// is computed here without external dependencies and streamed over large files.
public struct SHA256 {
    private var state: [UInt32] = [
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]
    private var buffer: [UInt8] = []
    private var length: UInt64 = 0

    /// A hasher at the FIPS 180-4 initial state, nothing absorbed yet.
    public init() {}

    /// Absorbs `data`; may be called any number of times, in order.
    public mutating func update<D: DataProtocol>(_ data: D) {
        length &+= UInt64(data.count)
        for region in data.regions { region.withUnsafeBytes { absorb($0) } }
    }

    /// Tops up a partial block, compresses whole blocks straight from the input (no copy), keeps the rest.
    private mutating func absorb(_ raw: UnsafeRawBufferPointer) {
        guard var p = raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count > 0 else { return }
        var n = raw.count
        if !buffer.isEmpty {
            let take = min(64 - buffer.count, n)
            buffer.append(contentsOf: UnsafeBufferPointer(start: p, count: take))
            p += take
            n -= take
            guard buffer.count == 64 else { return }
            buffer.withUnsafeBufferPointer { SHA256.compress(&state, $0.baseAddress!, blocks: 1) }
            buffer.removeAll(keepingCapacity: true)
        }
        let blocks = n / 64
        if blocks > 0 { SHA256.compress(&state, p, blocks: blocks) }
        if n > blocks * 64 {
            buffer.append(contentsOf: UnsafeBufferPointer(start: p + blocks * 64, count: n - blocks * 64))
        }
    }

    /// The compression function itself is C (Sources/CKernels/sha256.c), with the x86 SHA extensions
    /// where the CPU has them.
    private static func compress(_ state: inout [UInt32], _ p: UnsafePointer<UInt8>, blocks: Int) {
        state.withUnsafeMutableBufferPointer { vlsae_sha256_blocks($0.baseAddress!, p, Int64(blocks)) }
    }

    /// The 32-byte digest of everything absorbed. Call once: the hasher is spent afterwards.
    public mutating func finalize() -> [UInt8] {
        let bitLength = length &* 8
        var tail: [UInt8] = [0x80]
        while (buffer.count + tail.count) % 64 != 56 { tail.append(0) }
        for i in (0..<8).reversed() { tail.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(i) * 8))) }
        let savedLength = length
        update(tail)
        length = savedLength
        precondition(buffer.isEmpty)
        var out: [UInt8] = []
        for w in state { for s in [24, 16, 8, 0] { out.append(UInt8(truncatingIfNeeded: w >> UInt32(s))) } }
        return out
    }

    /// Lower-case hex SHA-256 of `data` (64 characters).
    public static func hex<D: DataProtocol>(_ data: D) -> String {
        var h = SHA256()
        h.update(data)
        return h.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Hex digest of a file, read in 4 MiB chunks, for files that are hashed and not loaded (a
    /// file that is loaded anyway is hashed over the bytes read: `FileDigest(of:path:)`).
    public static func hex(fileAt path: String) throws -> String {
        let handle = FileHandle(fileDescriptor: try InputFile.openRegular(path), closeOnDealloc: true)
        defer { try? handle.close() }
        var h = SHA256()
        while true {
            let chunk = handle.readData(ofLength: 4 << 20)
            if chunk.isEmpty { break }
            h.update(chunk)
        }
        return h.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
