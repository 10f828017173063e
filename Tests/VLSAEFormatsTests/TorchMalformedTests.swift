import Foundation
import VLSAECore
import VLSAEFormats
import XCTest

/// Bad input must give VLSAEError.file naming the file and the problem, and must never run pickled code.
final class TorchMalformedTests: XCTestCase {
    private func expectFileError(
        _ body: @autoclosure () throws -> Any, path: String, contains needle: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            _ = try body()
            XCTFail("expected an error containing \"\(needle)\"", file: file, line: line)
        } catch let VLSAEError.file(p, message) {
            XCTAssertEqual(p, path, file: file, line: line)
            XCTAssertTrue(message.contains(needle), "\"\(message)\" lacks \"\(needle)\"", file: file, line: line)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }

    private func fixture(_ name: String, contains needle: String, file: StaticString = #filePath, line: UInt = #line)
        throws
    {
        let path = try TorchFixtures.url(name).path
        expectFileError(
            try TorchFormat.read(TorchFixtures.data(name), path: path), path: path, contains: needle,
            file: file, line: line)
    }

    func testMalformedArchives() throws {
        try fixture("truncated_zip.pt", contains: "zip")
        try fixture("truncated_pickle.pt", contains: "truncated")
        try fixture("big_endian.pt", contains: "big-endian")
        try fixture("missing_blob.pt", contains: "missing storage blob data/1")
        try fixture("short_blob.pt", contains: "holds 508 bytes")
        try fixture("protocol0.pt", contains: "opcode 0x70")
        expectFileError(
            try TorchFormat.read(Data([0x80, 0x02, 0x8A, 0x0A]), path: "legacy.pt"), path: "legacy.pt",
            contains: "legacy")
        expectFileError(try TorchFormat.read(Data("hello".utf8), path: "x.pt"), path: "x.pt", contains: "zip")
    }

    func testOsSystemIsNeverCalled() throws {
        let marker = FileManager.default.currentDirectoryPath + "/PWND"
        try? FileManager.default.removeItem(atPath: marker)
        try fixture("os_system.pt", contains: "os.system")
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))

        // The raw pickle reads as inert data: the call is recorded, not made.
        let evil = Data(
            [0x80, 0x02] + Array("cos\nsystem\n".utf8) + [0x58, 10, 0, 0, 0] + Array("touch PWND".utf8)
                + [0x85, 0x52, 0x2E])
        guard case .object(let o) = try TorchFormat.unpickle(evil, path: "evil.pkl") else {
            return XCTFail("not opaque")
        }
        XCTAssertEqual(o.className, "os.system")
        XCTAssertEqual(o.args.first?.string, "touch PWND")
        XCTAssertEqual(try TorchFormat.flatten(.object(o), path: "evil.pkl"), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
    }

    // MARK: hand-assembled pickles

    private static let proto: [UInt8] = [0x80, 0x02]
    private static let stop: [UInt8] = [0x2E]

    private func unpickleError(
        _ body: [UInt8], storages: [String: Data] = [:], contains needle: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        expectFileError(
            try TorchFormat.unpickle(Data(Self.proto + body + Self.stop), storages: storages, path: "t.pkl"),
            path: "t.pkl", contains: needle, file: file, line: line)
    }

    func testVMErrors() {
        unpickleError([0xFF], contains: "opcode 0xFF")
        unpickleError([0x85], contains: "stack underflow")  // TUPLE1 on an empty stack
        unpickleError([0x4B, 1, 0x28, 0x85], contains: "stack underflow")  // TUPLE1 reaching below a MARK
        unpickleError([0x68, 5], contains: "memo key 5")  // BINGET of nothing
        unpickleError([0x4B, 1, 0x51], contains: "persistent id")  // BINPERSID of an int
        unpickleError([0x58, 0xFF, 0xFF, 0, 0, 0x61], contains: "truncated")
        unpickleError([0x4B], contains: "truncated")
        unpickleError([0x65], contains: "MARK")  // APPENDS without MARK
        expectFileError(
            try TorchFormat.unpickle(Data(Self.proto + [0x4E]), path: "t.pkl"), path: "t.pkl",
            contains: "truncated")  // no STOP
        expectFileError(
            try TorchFormat.unpickle(Data([0x80, 0x09, 0x4E, 0x2E]), path: "t.pkl"), path: "t.pkl",
            contains: "protocol 9")
        unpickleError([0x4B, 1, 0x4B, 2, 0x52], contains: "not a class")  // REDUCE on an int
    }

    func testCyclesAndDeepNestingAreRejectedWithoutCrashing() {
        // A list appended to itself.
        unpickleError([0x5D, 0x71, 0, 0x68, 0, 0x61], contains: "cycle")
        // 5000 directly nested lists.
        unpickleError(
            Array(repeating: 0x5D, count: 5000) + Array(repeating: 0x61, count: 4999), contains: "deeper than")
        // A 100 000-long chain grown at its tail through the memo (so no container's own depth looks large).
        var chain: [UInt8] = [0x5D, 0x71, 0, 0x68, 0]  // root, memo 0, root on the stack
        for _ in 0..<100_000 { chain += [0x5D, 0x71, 1, 0x61, 0x30, 0x68, 1] }  // new list → memo 1, append, pop, get
        unpickleError(chain + [0x30, 0x68, 0], contains: "deeper than")
        // The same chain left unreachable is released iteratively and an empty list comes back.
        guard
            case .list(let l)? = try? TorchFormat.unpickle(
                Data(Self.proto + chain + [0x30, 0x5D] + Self.stop), path: "t")
        else { return XCTFail("expected a list") }
        XCTAssertEqual(l.items.count, 0)
    }

    // A tensor over a 12-element float32 storage holding 0…11.
    private func tensorPickle(offset: UInt8, size: [UInt8], stride: [UInt8], numel: UInt8 = 12) -> [UInt8] {
        func str(_ s: String) -> [UInt8] { [0x58, UInt8(s.utf8.count), 0, 0, 0] + Array(s.utf8) }
        func tuple(_ xs: [UInt8]) -> [UInt8] { [0x28] + xs.flatMap { [0x4B, $0] } + [0x74] }
        return Array("ctorch._utils\n_rebuild_tensor_v2\n".utf8) + [0x28]
            + [0x28] + str("storage") + Array("ctorch\nFloatStorage\n".utf8) + str("0") + str("cpu") + [
                0x4B, numel, 0x74, 0x51,
            ]
            + [0x4B, offset] + tuple(size) + tuple(stride) + [0x89] + [0x7D] + [0x74, 0x52]
    }

    private let blob = [
        "0": Data(
            (0..<12).flatMap { i -> [UInt8] in
                withUnsafeBytes(of: Float(i).bitPattern.littleEndian, Array.init)
            })
    ]

    func testStridedTensorFromRawPickle() throws {
        // offset 1, size (2, 3), stride (1, 4): element [i][j] = storage[1 + i + 4j].
        let root = try TorchFormat.unpickle(
            Data(Self.proto + tensorPickle(offset: 1, size: [2, 3], stride: [1, 4]) + Self.stop),
            storages: blob, path: "t.pkl")
        guard case .tensor(let t) = root else { return XCTFail("not a tensor") }
        XCTAssertEqual(t.shape, [2, 3])
        XCTAssertEqual(t.floats, [1, 5, 9, 2, 6, 10])
        XCTAssertEqual(try TorchFormat.flatten(root, path: "t.pkl").map(\.name), [""])

        // One blob named twice with different element counts: each view is checked against its own count.
        let twice =
            tensorPickle(offset: 0, size: [2], stride: [1], numel: 2) + tensorPickle(offset: 0, size: [12], stride: [1])
        let pair = try TorchFormat.unpickle(
            Data(Self.proto + twice + [0x86] + Self.stop), storages: blob, path: "t.pkl")
        XCTAssertEqual(
            try TorchFormat.flatten(pair, path: "t.pkl").map(\.tensor.floats), [[0, 1], (0..<12).map(Float.init)])
    }

    func testStorageBoundsAreChecked() {
        // Last element 3 + 1·1 + 4·2 = 12, past the storage's last index 11.
        unpickleError(
            tensorPickle(offset: 3, size: [2, 3], stride: [1, 4]), storages: blob, contains: "reaches element 12")
        // Claims more elements than the blob holds.
        unpickleError(
            tensorPickle(offset: 0, size: [2], stride: [1], numel: 13), storages: blob, contains: "holds 48 bytes")
        unpickleError(
            tensorPickle(offset: 0, size: [2], stride: [1]), storages: [:], contains: "missing storage blob data/0")
        unpickleError(tensorPickle(offset: 13, size: [0], stride: [1]), storages: blob, contains: "offset")
    }
}

/// Random corruption of real pickles must end in a value or a VLSAEError.file, never a crash or another error.
final class TorchFuzzTests: XCTestCase {
    func testCorruptedPicklesFailCleanly() throws {
        var sources: [(pickle: Data, blobs: [String: Data])] = []
        for name in ["vlsae_state_dict.pth", "views.pt", "module.pt", "nested.pt"] {
            let zip = try ZipArchive(data: TorchFixtures.data(name), path: name)
            var blobs: [String: Data] = [:]
            var pickle = Data()
            for e in zip.entries {
                if e.name.hasSuffix("/data.pkl") { pickle = try zip.extract(e) }
                if let r = e.name.range(of: "/data/") { blobs[String(e.name[r.upperBound...])] = try zip.extract(e) }
            }
            sources.append((pickle, blobs))
        }
        var rng = SeededRandom(seed: 0x70_7263_68)  // recorded: every run corrupts the same bytes
        var failures = 0
        var successes = 0
        for trial in 0..<1000 {
            let (pickle, blobs) = sources[trial % sources.count]
            var bytes = [UInt8](pickle)
            switch rng.nextInt(below: 3) {
            case 0: bytes = Array(bytes.prefix(rng.nextInt(below: bytes.count)))
            case 1:
                for _ in 0...rng.nextInt(below: 3) {
                    bytes[rng.nextInt(below: bytes.count)] = UInt8(rng.nextInt(below: 256))
                }
            default:
                let at = rng.nextInt(below: bytes.count)
                bytes[at] = [0x28, 0x2E, 0x52, 0x51, 0x62, 0x68, 0x71, 0x4B, 0x61, 0x75][rng.nextInt(below: 10)]
            }
            do {
                let root = try TorchFormat.unpickle(Data(bytes), storages: blobs, path: "fuzz")
                _ = try TorchFormat.flatten(root, path: "fuzz")
                successes += 1
            } catch VLSAEError.file(let path, _) {
                XCTAssertEqual(path, "fuzz")
                failures += 1
            } catch {
                XCTFail("trial \(trial): unexpected error \(error)")
            }
        }
        XCTAssertGreaterThan(failures, 650, "most corruptions must be detected")
        _ = successes
    }
}
