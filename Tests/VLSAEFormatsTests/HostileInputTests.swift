import Foundation
import VLSAECore
import VLSAEFormats
import VLSAETestSupport
import XCTest

/// Hostile files for the readers (issue 14), each built here: deep nesting, memory bombs, duplicate names,
/// damaged members that are not asked for, non-regular files. Each must give a `VLSAEError.file` naming the file
/// and the problem, or the right values, never a crash or an allocation the file does not justify.
final class HostileInputTests: XCTestCase {
    // MARK: pickles, assembled opcode by opcode (Python's pickletools names)

    private static func str(_ s: String) -> [UInt8] {
        [0x58] + withUnsafeBytes(of: UInt32(s.utf8.count).littleEndian, Array.init) + Array(s.utf8)  // BINUNICODE
    }
    /// BININT.
    private static func int(_ v: Int32) -> [UInt8] { [0x4A] + withUnsafeBytes(of: v.littleEndian, Array.init) }
    private static func tuple(_ items: [Int32]) -> [UInt8] { [0x28] + items.flatMap(int) + [0x74] }  // MARK … TUPLE

    /// `_rebuild_tensor_v2(storage "0" of `numel` float32, offset 0, size, stride, False, {})`.
    private static func tensor(size: [Int32], stride: [Int32], numel: Int32) -> [UInt8] {
        Array("ctorch._utils\n_rebuild_tensor_v2\n".utf8) + [0x28]
            + [0x28] + str("storage") + Array("ctorch\nFloatStorage\n".utf8) + str("0") + str("cpu") + int(numel)
            + [0x74, 0x51]  // TUPLE, BINPERSID
            + int(0) + tuple(size) + tuple(stride) + [0x89, 0x7D, 0x74, 0x52]  // False, {}, TUPLE, REDUCE
    }

    private static func list(_ items: [[UInt8]]) -> Data {
        Data([0x80, 0x02, 0x5D, 0x28] + items.flatMap { $0 } + [0x65, 0x2E])  // PROTO 2, [], MARK … APPENDS, STOP
    }

    private static func floats(_ values: [Float]) -> Data {
        Data(values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
    }

    // MARK: torch

    /// 15,000 `_rebuild_from_type_v2` wrappers nested in each other's argument tuples (4 bytes a level) used to be
    /// unwrapped by recursion before any depth check saw the tree, and overflowed the stack.
    func testNestedRebuildFromTypeDoesNotRecurse() throws {
        let depth = 15_000
        // PROTO 2, GLOBAL, BINPUT 0
        var pickle: [UInt8] = [0x80, 0x02] + Array("ctorch._tensor\n_rebuild_from_type_v2\n".utf8) + [0x71, 0]
        for _ in 0..<depth { pickle += [0x68, 0, 0x4E] }  // BINGET 0, None
        pickle += [0x29] + [UInt8](repeating: 0x87, count: depth) + [0x52, 0x2E]  // (), TUPLE3 × depth, REDUCE, STOP
        // Unwrapped to the innermost call, which has no arguments left: kept as an opaque object.
        guard case .object(let o) = try TorchFormat.unpickle(Data(pickle), path: "deep.pkl") else {
            return XCTFail("expected an opaque object")
        }
        XCTAssertEqual(o.className, "torch._tensor._rebuild_from_type_v2")
        XCTAssertTrue(o.args.isEmpty)
        // The same pickle in a torch.save archive, the way `vlsae inspect` reads it: no tensors, no crash.
        XCTAssertEqual(try TorchFormat.read(ZipBuilder.torch(pickle: Data(pickle)), path: "deep.pt"), [])
    }

    /// 15,000 nested lists in a whole archive read through `TensorFile` (the route of inspect, eval, encode, train).
    func testDeepListsInATorchArchiveAreRefused() throws {
        let folder = try temporaryFolder("hostile-torch")
        let pickle = Data(
            [0x80, 0x02] + [UInt8](repeating: 0x5D, count: 15_000) + [UInt8](repeating: 0x61, count: 14_999) + [0x2E])
        try ZipBuilder.torch(pickle: pickle).write(to: folder.url("deep.pt"))
        assertFileError(try TensorFile.read(path: folder.path("deep.pt")), path: "deep.pt", ["nested deeper than 1000"])
    }

    /// A one-element storage viewed with stride 0 as 1024 × 1024 tensors: a few are within the file's memory budget
    /// (8× the file plus 16 MiB) and hold the element everywhere; eight are refused before they are materialised
    /// (300 such views once asked for ~19 GB).
    func testStrideZeroViewsAreBoundedByTheFileSize() throws {
        let storage = ["0": Self.floats([2.5])]
        let view = Self.tensor(size: [1024, 1024], stride: [0, 0], numel: 1)
        let three = try TorchFormat.flatten(
            TorchFormat.unpickle(Self.list(Array(repeating: view, count: 3)), storages: storage, path: "ok.pkl"),
            path: "ok.pkl")
        XCTAssertEqual(three.count, 3)
        for t in three {
            XCTAssertEqual(t.tensor.shape, [1024, 1024])
            XCTAssertEqual(Set(t.tensor.floats), [2.5])
        }
        assertFileError(
            try TorchFormat.unpickle(Self.list(Array(repeating: view, count: 8)), storages: storage, path: "bomb.pkl"),
            path: "bomb.pkl", ["stride 0", "bytes"])
        // A view reaching past its storage is refused as before, whatever its strides.
        assertFileError(
            try TorchFormat.unpickle(
                Self.list([Self.tensor(size: [2, 2], stride: [2, 1], numel: 3)]),
                storages: ["0": Self.floats([1, 2, 3])],
                path: "past.pkl"),
            path: "past.pkl", ["reaches element 3", "holds 3"])
    }

    /// One long string memoised and used as the key at every level of a deep tree: the flattened names (all alive at
    /// once on the way down) would grow quadratically with the file; names are capped at 4096 bytes.
    func testLongMemoisedKeysCannotGrowNamesWithoutBound() throws {
        let key = String(repeating: "k", count: 3000)
        // {key: {key: None}} with the key stored once (BINPUT 0) and fetched again (BINGET 0).
        let pickle = Data(
            [0x80, 0x02, 0x7D] + Self.str(key) + [0x71, 0, 0x7D, 0x68, 0, 0x4E, 0x73, 0x73, 0x2E])
        let root = try TorchFormat.unpickle(pickle, path: "names.pkl")
        assertFileError(try TorchFormat.flatten(root, path: "names.pkl"), path: "names.pkl", ["longer than 4096 bytes"])
        // One level of the same key is an ordinary (if odd) name.
        let one = Data([0x80, 0x02, 0x7D] + Self.str(key) + [0x4E, 0x73, 0x2E])
        XCTAssertEqual(try TorchFormat.flatten(TorchFormat.unpickle(one, path: "one.pkl"), path: "one.pkl"), [])
    }

    // MARK: zip and npz

    private static func npy(_ values: [Float]) -> Data {
        NpyFormat.encode(Tensor(shape: [values.count], dtype: .float32, storage: .float(values)))
    }

    /// One member's bytes listed 200 times under different names (a 512 MiB member so listed asked for 100 GiB).
    func testOverlappingMembersAreRefused() throws {
        var z = ZipBuilder()
        z.members = [ZipBuilder.Member(name: "a.npy", data: Self.npy([1, 2, 3]))]
        z.extraRecords = (1..<200).map { (name: "copy\($0).npy", member: 0) }
        assertFileError(try NpzFormat.read(z.bytes(), path: "bomb.npz"), path: "bomb.npz", ["overlap", "own bytes"])
    }

    /// Two members with one name: numpy takes the last, a first-match reader the first; refused instead.
    func testDuplicateMemberNamesAreRefused() throws {
        var z = ZipBuilder()
        z.members = [
            ZipBuilder.Member(name: "x.npy", data: Self.npy([1])),
            ZipBuilder.Member(name: "x.npy", data: Self.npy([2])),
        ]
        assertFileError(
            try ZipArchive(data: z.bytes(), path: "dup.npz"), path: "dup.npz", ["two members", "\"x.npy\""])
        let folder = try temporaryFolder("hostile-npz")
        try z.bytes().write(to: folder.url("dup.npz"))
        assertFileError(try TensorFile.load(folder.path("dup.npz") + ":x"), path: "dup.npz", ["two members"])
    }

    /// Reading one member inflates and CRC-checks that member only: another's bad CRC or broken deflate data does
    /// not stop it, while asking for the damaged one (or for every array, as inspect does) still fails.
    func testOneMemberIsReadWithoutTheOthers() throws {
        var z = ZipBuilder()
        let good = Self.npy([1, -2, 3.5])
        let other = Self.npy([4, 5])
        z.members = [
            ZipBuilder.Member(name: "good.npy", data: good),
            ZipBuilder.Member(name: "bad.npy", data: other, recordedCRC: ZipBuilder.crc32(other) ^ 1),
        ]
        let folder = try temporaryFolder("hostile-npz")
        let path = folder.path("x.npz")
        try z.bytes().write(to: URL(fileURLWithPath: path))
        let contents = try TensorFile.read(path: path)
        XCTAssertEqual(contents.names, ["good", "bad"])
        XCTAssertEqual(try contents.tensor(TensorAddress(parsing: path + ":good")).floats, [1, -2, 3.5])
        assertFileError(try contents.tensor(TensorAddress(parsing: path + ":bad")), path: "x.npz", ["CRC-32 mismatch"])
        assertFileError(try TensorFile.inspect(path: path), path: "x.npz", ["CRC-32 mismatch", "bad.npy"])
    }

    // MARK: safetensors

    /// A header naming one tensor twice: the Rust reader refuses it, Python's json would keep the last; refused.
    func testSafetensorsDuplicateTensorNamesAreRefused() throws {
        let header =
            #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        var data = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { Data($0) }
        data.append(Data(header.utf8))
        data.append(Self.floats([1, 2]))
        assertFileError(
            try SafetensorsFormat.read(data, path: "dup.safetensors"), path: "dup.safetensors",
            ["safetensors header", "duplicate key \"w\""])
    }

    // MARK: files that are not regular files

    /// A FIFO used to be opened (blocking until a writer came, or failing as "You don't have permission"); it is
    /// refused by what it is, before anything waits on it. A folder likewise.
    func testNonRegularFilesAreRefusedByKind() throws {
        let folder = try temporaryFolder("hostile-fifo")
        let fifo = folder.path("pipe.npy")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        assertFileError(try TensorFile.read(path: fifo), path: "pipe.npy", ["not a regular file", "FIFO"])
        assertFileError(try SHA256.hex(fileAt: fifo), path: "pipe.npy", ["not a regular file", "FIFO"])
        assertFileError(try readFile(folder.path), path: folder.path, ["is a folder"])
        assertFileError(try readFile(folder.path("missing.npy")), path: "missing.npy", ["no such file"])
    }

    /// The reader copies the file (no mapping, so a file truncated while read cannot raise SIGBUS) and checks that
    /// what it read is what the size promised. /proc files report size 0 but hold bytes: a file that "grew".
    func testAFileThatChangesWhileReadIsAnError() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/proc/self/status"), "no /proc on this system")
        assertFileError(try readFile("/proc/self/status"), path: "/proc/self/status", ["changed while being read"])
        let folder = try temporaryFolder("hostile-size")
        try Data(count: 100).write(to: folder.url("big.npy"))
        assertFileError(
            try InputFile.read(folder.path("big.npy"), limit: 99), path: "big.npy", ["100 bytes", "99-byte limit"])
    }
}
