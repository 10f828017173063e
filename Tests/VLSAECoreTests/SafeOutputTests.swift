import CKernels
import Foundation
import VLSAECore
import VLSAETestSupport
import XCTest

/// `AtomicFile` never replaces what is not a regular file, never writes through a symbolic link,
/// creates its temporary file exclusively, and leaves neither a temporary file nor a damaged old
/// file behind when a write fails (file-size limit, full disk) or the process gets SIGTERM.
/// `CommandFiles` refuses an output that is one of the inputs. Every hostile setup is built here.
final class SafeOutputTests: XCTestCase {
    func contents(_ folder: TemporaryFolder) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    }

    func assertRefused(_ path: String, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try AtomicFile.write("result", to: path), file: file, line: line) { error in
            guard case VLSAEError.file(let p, let message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(p, path, file: file, line: line)
            XCTAssertTrue(message.contains(what), message, file: file, line: line)
        }
    }

    func testRefusesFIFOFolderDeviceAndSymlink() throws {
        let dir = try temporaryFolder("safe-out")
        let fifo = dir.path("fifo.json")
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        assertRefused(fifo, "a FIFO")
        var st = stat()
        XCTAssertEqual(lstat(fifo, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO, "the FIFO is still a FIFO")

        let folder = dir.path("folder.json")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        assertRefused(folder, "a folder")

        assertRefused("/dev/null", "a device node")

        let victim = dir.path("victim.txt")
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        let link = dir.path("link.json")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: victim)
        assertRefused(link, "a symbolic link")
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious")
        XCTAssertEqual(try contents(dir), ["fifo.json", "folder.json", "link.json", "victim.txt"], "no temporary left")
    }

    func testPlantedSymlinkAtTheOldTemporaryNameIsNotFollowed() throws {
        let dir = try temporaryFolder("safe-tmp")
        let victim = dir.path("victim.txt")
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        // The names the previous writer used (".<name>.tmp-<pid>") and a few random-looking ones.
        for name in [".out.json.tmp-\(getpid())", ".out.json.tmp-0", ".out.json.tmp-1"] {
            try FileManager.default.createSymbolicLink(atPath: dir.path(name), withDestinationPath: victim)
        }
        try AtomicFile.write("result", to: dir.path("out.json"))
        XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious")
        XCTAssertEqual(try String(contentsOfFile: dir.path("out.json"), encoding: .utf8), "result")
        XCTAssertEqual(try contents(dir).filter { !$0.hasPrefix(".out.json.tmp-") }, ["out.json", "victim.txt"])
        XCTAssertEqual(try contents(dir).count, 5, "only the planted links besides the two files")
    }

    func testTemporaryNamesAreUnpredictableAndTheModeIsKept() throws {
        let dir = try temporaryFolder("safe-mode")
        let out = dir.path("out.json")
        try AtomicFile.write("one", to: out)
        XCTAssertEqual(chmod(out, 0o600), 0)
        let a = try AtomicFile.Temporary(for: out, in: dir.path)
        let b = try AtomicFile.Temporary(for: out, in: dir.path)
        XCTAssertNotEqual(a.path, b.path)
        XCTAssertFalse(a.path.hasSuffix("-\(getpid())"))
        var st = stat()
        XCTAssertEqual(stat(a.path, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600, "the temporary file has the mode of the file it replaces")
        b.discard()
        try a.write(Data("two".utf8))
        try a.commit()
        XCTAssertEqual(stat(out, &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "two")
        XCTAssertEqual(try contents(dir), ["out.json"])
    }

    func testFileSizeLimitLeavesTheOldFileAndNoTemporary() throws {
        let dir = try temporaryFolder("safe-fsize")
        let out = dir.path("out.bin")
        try AtomicFile.write("old contents", to: out)
        var saved = rlimit()
        XCTAssertEqual(getrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved), 0)
        var limited = saved
        limited.rlim_cur = 4096
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limited), 0)
        defer { _ = setrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved) }
        // Without SIGXFSZ ignored, this write would kill the test process.
        XCTAssertThrowsError(try AtomicFile.write(Data(count: 100_000), to: out)) { error in
            XCTAssertTrue("\(error)".contains("File too large"), "\(error)")
            XCTAssertTrue("\(error)".hasPrefix(out), "\(error)")
        }
        _ = setrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved)
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "old contents")
        XCTAssertEqual(try contents(dir), ["out.bin"])
    }

    /// A full disk: a 64 KiB tmpfs (needs root and mount; skipped with a message otherwise).
    func testFullDiskLeavesTheOldFileAndNoTemporary() throws {
        let dir = try temporaryFolder("safe-enospc")
        let mountPoint = dir.path("small")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint]
        mount.standardError = FileHandle.nullDevice
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else {
            throw XCTSkip("cannot mount a small tmpfs here (needs root); the ENOSPC path is not exercised")
        }
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [mountPoint]
            try? umount.run()
            umount.waitUntilExit()
        }
        let out = (mountPoint as NSString).appendingPathComponent("out.bin")
        try AtomicFile.write(Data(repeating: 7, count: 40_000), to: out)
        XCTAssertThrowsError(try AtomicFile.write(Data(count: 40_000), to: out)) { error in
            XCTAssertTrue("\(error)".contains("No space left on device"), "\(error)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out)), Data(repeating: 7, count: 40_000))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: mountPoint), ["out.bin"])
    }

    /// A process killed by SIGTERM in the middle of a write removes its temporary file: the child
    /// only raises the signal (fork duplicates the registered temporary and the handler).
    func testSIGTERMRemovesTheTemporaryAndKeepsTheOldFile() throws {
        let dir = try temporaryFolder("safe-signal")
        let out = dir.path("out.json")
        try AtomicFile.write("old", to: out)
        let temporary = try AtomicFile.Temporary(for: out, in: dir.path)
        XCTAssertTrue(FileManager.default.fileExists(atPath: temporary.path))
        XCTAssertGreaterThan(vlsae_tempfiles_count(), 0)
        let child = fork()
        if child == 0 {
            raise(SIGTERM)
            _exit(3)  // not reached: SIGTERM ends the process
        }
        XCTAssertGreaterThan(child, 0)
        var status: Int32 = 0
        XCTAssertEqual(waitpid(child, &status, 0), child)
        XCTAssertEqual(status & 0x7f, SIGTERM, "the child died of SIGTERM (status \(status))")
        XCTAssertFalse(FileManager.default.fileExists(atPath: temporary.path), "the handler removed the temporary")
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), "old")
        temporary.discard()
        XCTAssertEqual(try contents(dir), ["out.json"])
    }

    func testOutputThatIsAnInputIsRefused() throws {
        let dir = try temporaryFolder("safe-same")
        let input = dir.path("manifest.json")
        try "{}".write(toFile: input, atomically: false, encoding: .utf8)
        let hard = dir.path("hard.json")
        XCTAssertEqual(link(input, hard), 0)
        let soft = dir.path("soft.json")
        try FileManager.default.createSymbolicLink(atPath: soft, withDestinationPath: input)
        try FileManager.default.createDirectory(atPath: dir.path("sub"), withIntermediateDirectories: false)
        for out in [input, hard, soft, dir.path("sub/../manifest.json")] {
            XCTAssertThrowsError(try CommandFiles(inputs: [input], outputs: [out]).checkOutputsAreNotInputs()) {
                error in
                guard case VLSAEError.usage(let message) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(message.contains("same file as the input \(input)"), message)
            }
        }
        // An output that does not exist yet, named through a symbolic link to the inputs' folder.
        let alias = dir.path("alias")
        try FileManager.default.createSymbolicLink(atPath: alias, withDestinationPath: dir.path("sub"))
        let planned = dir.path("sub/new.json")
        XCTAssertThrowsError(
            try CommandFiles(inputs: [planned], outputs: [alias + "/new.json"]).checkOutputsAreNotInputs())
        XCTAssertNoThrow(try CommandFiles(inputs: [input], outputs: [dir.path("out.json")]).checkOutputsAreNotInputs())
        XCTAssertThrowsError(
            try CommandFiles(inputs: [], outputs: [dir.path("a.json"), dir.path("sub/../a.json")])
                .checkOutputsAreNotInputs())
        XCTAssertEqual(try String(contentsOfFile: input, encoding: .utf8), "{}")
    }
}
