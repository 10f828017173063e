import CZlib
import Foundation
import VLSAECore

/// A read-only ZIP archive held in memory (usually a memory-mapped file): the container of
/// `.npz` files and of `torch.save` checkpoints. Only what those writers emit is supported:
/// single-disk archives, stored (0) and deflated (8) members, Zip64 for large members.
/// Every size and offset read from the file is checked before it is used.
public struct ZipArchive: Sendable {
    /// One member as the central directory describes it.
    public struct Entry: Sendable, Equatable {
        /// The member's path inside the archive, e.g. `arr_0.npy` or `archive/data.pkl`.
        public let name: String
        /// 0 = stored, 8 = deflate.
        public let method: UInt16
        /// Bytes of the member as stored (equal to `uncompressedSize` for method 0); Zip64 sizes resolved.
        public let compressedSize: Int
        /// Bytes of the member once extracted.
        public let uncompressedSize: Int
        /// CRC-32 of the extracted bytes, as recorded in the central directory.
        public let crc32: UInt32
        /// Offset in bytes of the member's local header from the start of the archive.
        public let localHeaderOffset: Int
        /// General-purpose bit flags from the central directory (bit 0: encrypted).
        public let flags: UInt16
        /// Offset in bytes of the member's data (after its local header), checked to lie inside the archive.
        public let dataOffset: Int
    }

    /// The file the archive was read from, for error messages.
    public let path: String
    /// Every member, in central-directory order.
    public let entries: [Entry]
    /// Where each name is in `entries` (names are unique: `checkDistinct`), so that looking members up one by one
    /// is not quadratic in a large directory.
    private let entryIndex: [String: Int]
    private let data: Data

    private static let eocdSignature: UInt32 = 0x0605_4B50
    private static let eocd64LocatorSignature: UInt32 = 0x0706_4B50
    private static let eocd64Signature: UInt32 = 0x0606_4B50
    private static let centralSignature: UInt32 = 0x0201_4B50
    private static let localSignature: UInt32 = 0x0403_4B50

    /// True when `data` starts like a ZIP file (a local header or an empty archive's EOCD).
    public static func looksLikeZip(_ data: Data) -> Bool {
        guard data.count >= 4 else { return false }
        let b = Array(data.prefix(4))
        return b[0] == 0x50 && b[1] == 0x4B && ((b[2] == 3 && b[3] == 4) || (b[2] == 5 && b[3] == 6))
    }

    /// Parses the central directory of `data` (the bytes of the file at `path`, which names it in errors); throws
    /// `VLSAEError.file` for a truncated, multi-disk or otherwise malformed archive. Members are read only on
    /// extraction.
    public init(data: Data, path: String) throws {
        // Re-base so that offsets from the file are offsets into `data` whatever slice we got.
        self.data = data.startIndex == 0 ? data : Data(data)
        self.path = path
        let r = ZipByteReader(data: self.data, path: path)
        let size = self.data.count

        // The end-of-central-directory record is 22 bytes plus a comment of at most 65535.
        guard size >= 22 else {
            throw VLSAEError.file(
                path,
                "not a zip archive or truncated: \(size) bytes is shorter than the 22-byte end-of-central-directory record"
            )
        }
        var eocd: Int? = nil
        var fallback: Int? = nil
        let lowest = max(0, size - 22 - 0xFFFF)
        var pos = size - 22
        while pos >= lowest {
            if try r.u32(pos) == ZipArchive.eocdSignature {
                // A real record's comment ends exactly at the end of the file; this rejects
                // signature bytes that happen to appear inside the comment or member data.
                // Some writers leave junk after the comment, so a record whose comment merely
                // fits is kept as a fallback, as Python's zipfile does.
                let commentLength = Int(try r.u16(pos + 20))
                if pos + 22 + commentLength == size {
                    eocd = pos
                    break
                }
                if fallback == nil && pos + 22 + commentLength < size { fallback = pos }
            }
            pos -= 1
        }
        guard let eocdOffset = eocd ?? fallback else {
            throw VLSAEError.file(path, "not a zip archive or truncated: end-of-central-directory record not found")
        }

        var diskNumber = UInt32(try r.u16(eocdOffset + 4))
        var centralDisk = UInt32(try r.u16(eocdOffset + 6))
        var entryCount = UInt64(try r.u16(eocdOffset + 10))
        var centralSize = UInt64(try r.u32(eocdOffset + 12))
        var centralOffset = UInt64(try r.u32(eocdOffset + 16))

        let needsZip64 = entryCount == 0xFFFF || centralSize == 0xFFFF_FFFF || centralOffset == 0xFFFF_FFFF
        let locatorOffset = eocdOffset - 20
        if locatorOffset >= 0, try r.u32(locatorOffset) == ZipArchive.eocd64LocatorSignature {
            let recordOffset = try r.offset(try r.u64(locatorOffset + 8), what: "zip64 end-of-central-directory offset")
            guard recordOffset + 56 <= locatorOffset else {
                throw VLSAEError.file(
                    path, "corrupt zip: zip64 end-of-central-directory record at \(recordOffset) overlaps its locator")
            }
            guard try r.u32(recordOffset) == ZipArchive.eocd64Signature else {
                throw VLSAEError.file(
                    path, "corrupt zip: no zip64 end-of-central-directory record at offset \(recordOffset)")
            }
            diskNumber = try r.u32(recordOffset + 16)
            centralDisk = try r.u32(recordOffset + 20)
            entryCount = try r.u64(recordOffset + 32)
            centralSize = try r.u64(recordOffset + 40)
            centralOffset = try r.u64(recordOffset + 48)
        } else if needsZip64 {
            throw VLSAEError.file(
                path, "corrupt zip: sizes need zip64 but the zip64 end-of-central-directory locator is missing")
        }
        guard diskNumber == 0 && centralDisk == 0 else {
            throw VLSAEError.file(path, "multi-disk (spanned) zip archives are not supported")
        }
        let cdStart = try r.offset(centralOffset, what: "central directory offset")
        let cdSize = try r.offset(centralSize, what: "central directory size")
        guard cdStart <= size, cdSize <= size - cdStart else {
            throw VLSAEError.file(
                path,
                "truncated zip: central directory (\(cdSize) bytes at offset \(cdStart)) extends past the end of the \(size)-byte file"
            )
        }
        // Each central header is at least 46 bytes, which bounds a lying entry count.
        guard entryCount <= UInt64(cdSize / 46) else {
            throw VLSAEError.file(
                path, "corrupt zip: \(entryCount) entries cannot fit in a \(cdSize)-byte central directory")
        }

        var entries: [Entry] = []
        entries.reserveCapacity(Int(entryCount))
        var p = cdStart
        let cdEnd = cdStart + cdSize
        for i in 0..<Int(entryCount) {
            guard p + 46 <= cdEnd else {
                throw VLSAEError.file(path, "corrupt zip: central directory entry \(i) runs past the directory's end")
            }
            guard try r.u32(p) == ZipArchive.centralSignature else {
                throw VLSAEError.file(
                    path, "corrupt zip: bad central directory signature for entry \(i) at offset \(p)")
            }
            let flags = try r.u16(p + 8)
            let method = try r.u16(p + 10)
            let crc = try r.u32(p + 16)
            var compressed = UInt64(try r.u32(p + 20))
            var uncompressed = UInt64(try r.u32(p + 24))
            let nameLength = Int(try r.u16(p + 28))
            let extraLength = Int(try r.u16(p + 30))
            let commentLength = Int(try r.u16(p + 32))
            var localOffset = UInt64(try r.u32(p + 42))
            let recordEnd = p + 46 + nameLength + extraLength + commentLength
            guard recordEnd <= cdEnd else {
                throw VLSAEError.file(path, "corrupt zip: central directory entry \(i) runs past the directory's end")
            }
            let nameBytes = try r.bytes(p + 46, nameLength)
            let name = String(bytes: nameBytes, encoding: .utf8) ?? String(decoding: nameBytes, as: UTF8.self)

            // Zip64 extra field: holds, in this order, exactly those values whose 32-bit slot is saturated.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = try r.u16(e)
                let len = Int(try r.u16(e + 2))
                let body = e + 4
                guard body + len <= extraEnd else {
                    throw VLSAEError.file(path, "corrupt zip: extra field of \"\(name)\" runs past its end")
                }
                if id == 0x0001 {
                    var q = body
                    func next() throws -> UInt64 {
                        guard q + 8 <= body + len else {
                            throw VLSAEError.file(path, "corrupt zip: zip64 extra field of \"\(name)\" is too short")
                        }
                        defer { q += 8 }
                        return try r.u64(q)
                    }
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try next() }
                    if compressed == 0xFFFF_FFFF { compressed = try next() }
                    if localOffset == 0xFFFF_FFFF { localOffset = try next() }
                }
                e = body + len
            }

            let compressedSize = try r.offset(compressed, what: "compressed size of \"\(name)\"")
            let localHeader = try r.offset(localOffset, what: "local header offset of \"\(name)\"")
            entries.append(
                Entry(
                    name: name, method: method, compressedSize: compressedSize,
                    uncompressedSize: try r.size(uncompressed, what: "uncompressed size of \"\(name)\""),
                    crc32: crc, localHeaderOffset: localHeader, flags: flags,
                    dataOffset: try Self.dataOffset(
                        localHeader: localHeader, compressedSize: compressedSize, name: name, reader: r)))
            p = recordEnd
        }
        try Self.checkDistinct(entries, path: path)
        self.entries = entries
        entryIndex = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.name, $0) })
    }

    /// Where a member's data starts, after its local header; throws unless header and data lie inside the file.
    private static func dataOffset(localHeader h: Int, compressedSize: Int, name: String, reader r: ZipByteReader)
        throws -> Int
    {
        let size = r.data.count
        let what = "zip member \"\(name)\""
        guard size >= 30, h <= size - 30 else {
            throw VLSAEError.file(
                r.path, "truncated zip: local header of \(what) at offset \(h) is past the end of the file")
        }
        guard try r.u32(h) == ZipArchive.localSignature else {
            throw VLSAEError.file(r.path, "corrupt zip: bad local header signature for \(what) at offset \(h)")
        }
        let start = h + 30 + Int(try r.u16(h + 26)) + Int(try r.u16(h + 28))
        guard start <= size, compressedSize <= size - start else {
            throw VLSAEError.file(
                r.path,
                "truncated zip: \(what) needs \(compressedSize) bytes at offset \(start) but the file has \(size) bytes"
            )
        }
        return start
    }

    /// Refuses two members with one name (readers disagree on which one counts: Python's zipfile, and so numpy,
    /// takes the last) and members whose bytes overlap (one compressed stream listed many times is a zip bomb:
    /// the archive would inflate to many times what it holds).
    private static func checkDistinct(_ entries: [Entry], path: String) throws {
        var names = Set<String>()
        for e in entries where !names.insert(e.name).inserted {
            throw VLSAEError.file(path, "corrupt zip: two members are named \"\(e.name)\"; refusing to pick one")
        }
        let spans = entries.sorted { $0.localHeaderOffset < $1.localHeaderOffset }
        for (a, b) in zip(spans, spans.dropFirst()) where b.localHeaderOffset < a.dataOffset + a.compressedSize {
            throw VLSAEError.file(
                path,
                "corrupt zip: members \"\(a.name)\" and \"\(b.name)\" overlap (bytes \(a.localHeaderOffset)–"
                    + "\(a.dataOffset + a.compressedSize) and from \(b.localHeaderOffset)); each member must have its own bytes"
            )
        }
    }

    /// The entry with this exact name.
    public func entry(named name: String) -> Entry? { entryIndex[name].map { entries[$0] } }

    /// The member's bytes, decompressed and CRC-checked.
    public func extract(_ entry: Entry) throws -> Data {
        let r = ZipByteReader(data: data, path: path)
        let what = "zip member \"\(entry.name)\""
        if entry.flags & 0x1 != 0 {
            throw VLSAEError.file(path, "\(what) is encrypted; encrypted zip members are not supported")
        }
        guard entry.method == 0 || entry.method == 8 else {
            throw VLSAEError.file(
                path,
                "\(what) uses compression method \(entry.method) (\(Self.methodName(entry.method))); only stored (0) and deflate (8) are supported"
            )
        }
        // An entry made by this archive was checked on opening; this keeps any other Entry value in bounds.
        let start = try Self.dataOffset(
            localHeader: entry.localHeaderOffset, compressedSize: entry.compressedSize, name: entry.name, reader: r)
        guard start == entry.dataOffset else {
            throw VLSAEError.file(path, "\(what) does not belong to this archive (its data offset differs)")
        }
        let out: Data
        if entry.method == 0 {
            guard entry.compressedSize == entry.uncompressedSize else {
                throw VLSAEError.file(
                    path,
                    "corrupt zip: stored \(what) has compressed size \(entry.compressedSize) ≠ uncompressed size \(entry.uncompressedSize)"
                )
            }
            out = data.subdata(in: start..<(start + entry.compressedSize))
        } else {
            out = try inflate(start: start, count: entry.compressedSize, expected: entry.uncompressedSize, what: what)
        }
        let actual = Self.crc32(out)
        guard actual == entry.crc32 else {
            throw VLSAEError.file(
                path,
                "corrupt zip: CRC-32 mismatch for \(what) (stored \(String(format: "%08x", entry.crc32)), computed \(String(format: "%08x", actual)))"
            )
        }
        return out
    }

    /// zlib's CRC-32, fed in chunks because its length argument is 32-bit.
    public static func crc32(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { raw -> UInt32 in
            guard let base = raw.bindMemory(to: Bytef.self).baseAddress else { return 0 }
            var crc = CZlib.crc32(0, nil, 0)
            var off = 0
            while off < raw.count {
                let n = min(raw.count - off, 1 << 30)
                crc = CZlib.crc32(crc, base + off, uInt(n))
                off += n
            }
            return UInt32(truncatingIfNeeded: crc)
        }
    }

    private static func methodName(_ m: UInt16) -> String {
        switch m {
        case 1: return "shrink"
        case 6: return "implode"
        case 9: return "deflate64"
        case 12: return "bzip2"
        case 14: return "lzma"
        case 93: return "zstd"
        case 95: return "xz"
        case 99: return "AES-encrypted"
        default: return "unknown"
        }
    }

    /// Raw deflate (no zlib header), as ZIP stores it.
    private func inflate(start: Int, count: Int, expected: Int, what: String) throws -> Data {
        // Deflate cannot expand data by more than ~1032:1; a larger declared size is a lie
        // that would otherwise make us allocate whatever the file asks for.
        let (ratioLimit, overflow) = count.multipliedReportingOverflow(by: 1032)
        guard overflow || expected <= ratioLimit + 4096 else {
            throw VLSAEError.file(
                path, "corrupt zip: \(what) claims \(expected) bytes from only \(count) compressed bytes")
        }
        var out = Data(count: expected)
        var stream = z_stream()
        var status = inflateInit2_(&stream, -MAX_WBITS, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw VLSAEError.file(path, "cannot start zlib inflate for \(what) (status \(status))")
        }
        defer { inflateEnd(&stream) }
        let spare = UnsafeMutablePointer<Bytef>.allocate(capacity: 1)
        defer { spare.deallocate() }
        let produced: Int = try data.withUnsafeBytes { (src: UnsafeRawBufferPointer) -> Int in
            try out.withUnsafeMutableBytes { (dst: UnsafeMutableRawBufferPointer) -> Int in
                guard let inBase = src.bindMemory(to: Bytef.self).baseAddress.map({ $0 + start }) else { return 0 }
                let outBase = dst.bindMemory(to: Bytef.self).baseAddress
                let chunk = 1 << 30
                var inUsed = 0
                var outUsed = 0
                while true {
                    stream.next_in = UnsafeMutablePointer(mutating: inBase + inUsed)
                    stream.avail_in = uInt(min(count - inUsed, chunk))
                    if outUsed < expected, let ob = outBase {
                        stream.next_out = ob + outUsed
                        stream.avail_out = uInt(min(expected - outUsed, chunk))
                    } else {
                        // Output is full: one spare byte lets zlib reveal data longer than declared.
                        stream.next_out = spare
                        stream.avail_out = 1
                    }
                    let availIn = stream.avail_in
                    let availOut = stream.avail_out
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    let consumed = Int(availIn - stream.avail_in)
                    let wrote = Int(availOut - stream.avail_out)
                    inUsed += consumed
                    if outUsed >= expected && wrote > 0 {
                        throw VLSAEError.file(
                            path, "corrupt zip: \(what) inflates to more than its declared \(expected) bytes")
                    }
                    outUsed += wrote
                    switch status {
                    case Z_STREAM_END:
                        return outUsed
                    case Z_DATA_ERROR, Z_NEED_DICT:
                        let msg = stream.msg.map { String(cString: $0) } ?? "invalid data"
                        throw VLSAEError.file(path, "corrupt zip: deflate data of \(what) is invalid (\(msg))")
                    case Z_MEM_ERROR:
                        throw VLSAEError.file(path, "out of memory inflating \(what)")
                    case Z_OK, Z_BUF_ERROR:
                        if consumed == 0 && wrote == 0 {
                            if inUsed >= count {
                                throw VLSAEError.file(
                                    path,
                                    "truncated zip: deflate data of \(what) ends early (\(outUsed) of \(expected) bytes)"
                                )
                            }
                            throw VLSAEError.file(path, "corrupt zip: inflating \(what) made no progress")
                        }
                    default:
                        throw VLSAEError.file(path, "zlib inflate failed for \(what) (status \(status))")
                    }
                }
            }
        }
        guard produced == expected else {
            throw VLSAEError.file(path, "corrupt zip: \(what) inflates to \(produced) bytes, declared \(expected)")
        }
        return out
    }
}

/// Bounds-checked little-endian reads from a zero-based Data.
private struct ZipByteReader {
    let data: Data
    let path: String

    private func check(_ offset: Int, _ n: Int) throws {
        guard offset >= 0, n >= 0, offset <= data.count, n <= data.count - offset else {
            throw VLSAEError.file(
                path, "truncated: needs \(n) bytes at offset \(offset) but the file has \(data.count) bytes")
        }
    }

    func u16(_ o: Int) throws -> UInt16 {
        try check(o, 2)
        return data.withUnsafeBytes { UInt16(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt16.self)) }
    }

    func u32(_ o: Int) throws -> UInt32 {
        try check(o, 4)
        return data.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
    }

    func u64(_ o: Int) throws -> UInt64 {
        try check(o, 8)
        return data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
    }

    func bytes(_ o: Int, _ n: Int) throws -> [UInt8] {
        try check(o, n)
        return [UInt8](data[o..<(o + n)])
    }

    /// A declared (uncompressed) size, which may exceed the file but must fit an Int.
    func size(_ v: UInt64, what: String) throws -> Int {
        guard v <= UInt64(Int.max) else {
            throw VLSAEError.file(path, "corrupt: \(what) (\(v)) is too large")
        }
        return Int(v)
    }

    /// A 64-bit size or offset from the file as an Int no larger than the file itself.
    func offset(_ v: UInt64, what: String) throws -> Int {
        guard v <= UInt64(data.count) else {
            throw VLSAEError.file(
                path, "truncated or corrupt: \(what) (\(v)) exceeds the file size (\(data.count) bytes)")
        }
        return Int(v)
    }
}
