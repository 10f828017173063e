import Foundation

/// Builds small ZIP archives byte by byte (stored members, no compression), for tests that need a
/// hostile archive the zipfile module would refuse to write: one member listed many times, two
/// members with one name, a damaged CRC. Written from the format (PKWARE APPNOTE 6.3.x, sections
/// 4.3.7, 4.3.12 and 4.3.16) with its own CRC-32, independent of the reader under test.
public struct ZipBuilder {
    /// One member: its name, its bytes, and the CRC-32 to record (nil: the true one).
    public struct Member {
        /// The member's path in the archive.
        public var name: String
        /// The member's bytes, stored as they are.
        public var data: Data
        /// The CRC-32 recorded for it; nil records the true CRC.
        public var recordedCRC: UInt32?
        /// A member named `name` holding `data`.
        public init(name: String, data: Data, recordedCRC: UInt32? = nil) {
            self.name = name
            self.data = data
            self.recordedCRC = recordedCRC
        }
    }

    /// The members, in order.
    public var members: [Member] = []
    /// Extra central-directory records, each naming a member and the local header it points to (by member index):
    /// several records for one member's bytes make an overlapping archive.
    public var extraRecords: [(name: String, member: Int)] = []

    /// An empty archive.
    public init() {}

    /// A torch.save-like archive: `archive/data.pkl` holding `pickle`, `archive/byteorder`, and `archive/data/<key>`
    /// for each storage.
    public static func torch(pickle: Data, storages: [String: Data] = [:]) -> Data {
        var z = ZipBuilder()
        z.members.append(Member(name: "archive/data.pkl", data: pickle))
        z.members.append(Member(name: "archive/byteorder", data: Data("little".utf8)))
        for key in storages.keys.sorted() {
            z.members.append(Member(name: "archive/data/\(key)", data: storages[key]!))
        }
        return z.bytes()
    }

    /// The archive's bytes: local headers with data, the central directory, the end record.
    public func bytes() -> Data {
        var out = Data()
        var central = Data()
        var offsets: [Int] = []
        var count = 0
        func record(_ name: String, _ m: Member, at offset: Int) {
            let nameBytes = Array(name.utf8)
            central.append(le32(0x0201_4B50))
            central.append(le16(20))
            central.append(le16(20))
            central.append(le16(0))
            central.append(le16(0))  // stored
            central.append(le32(0))  // time, date
            central.append(le32(m.recordedCRC ?? Self.crc32(m.data)))
            central.append(le32(UInt32(m.data.count)))
            central.append(le32(UInt32(m.data.count)))
            central.append(le16(UInt16(nameBytes.count)))
            central.append(Data(count: 8))  // extra, comment, disk, internal attributes
            central.append(le32(0))  // external attributes
            central.append(le32(UInt32(offset)))
            central.append(contentsOf: nameBytes)
            count += 1
        }
        for m in members {
            offsets.append(out.count)
            let nameBytes = Array(m.name.utf8)
            out.append(le32(0x0403_4B50))
            out.append(le16(20))
            out.append(le16(0))
            out.append(le16(0))
            out.append(le32(0))
            out.append(le32(m.recordedCRC ?? Self.crc32(m.data)))
            out.append(le32(UInt32(m.data.count)))
            out.append(le32(UInt32(m.data.count)))
            out.append(le16(UInt16(nameBytes.count)))
            out.append(le16(0))
            out.append(contentsOf: nameBytes)
            out.append(m.data)
        }
        for (m, offset) in zip(members, offsets) { record(m.name, m, at: offset) }
        for extra in extraRecords { record(extra.name, members[extra.member], at: offsets[extra.member]) }
        let centralOffset = out.count
        out.append(central)
        out.append(le32(0x0605_4B50))
        out.append(Data(count: 4))  // disk numbers
        out.append(le16(UInt16(count)))
        out.append(le16(UInt16(count)))
        out.append(le32(UInt32(central.count)))
        out.append(le32(UInt32(centralOffset)))
        out.append(le16(0))
        return out
    }

    /// CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320), bit by bit.
    public static func crc32(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    private func le16(_ v: UInt16) -> Data { withUnsafeBytes(of: v.littleEndian) { Data($0) } }
    private func le32(_ v: UInt32) -> Data { withUnsafeBytes(of: v.littleEndian) { Data($0) } }
}
