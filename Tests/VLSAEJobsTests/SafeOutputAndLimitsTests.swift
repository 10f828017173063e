import Foundation
import VLSAECore
import VLSAEFormats
import VLSAEJobs
import VLSAEReport
import VLSAETestSupport
import XCTest

/// Issue 14, output safety, degenerate input, limits and semantics, through the real `vlsae` (exit
/// status, message, files left as they were) and the sweep job. Every hostile input is built here
/// from the tiny suite of SweepSupport.swift.
final class SafeOutputAndLimitsTests: XCTestCase {
    private let tool = ToolRecord(version: "0.1.0", gitCommit: "unknown")

    private func suite() throws -> TinySuite {
        try TinySuite.make(in: try temporaryFolder("hostile").url)
    }

    private func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// Runs `vlsae` in the suite's folder.
    private func vlsae(_ args: [String], _ s: TinySuite) throws -> VLSAEExecutable.Run {
        try VLSAEExecutable.locate().run(args, in: s.folder)
    }

    func testEvalRefusesAnOutputThatIsAnInput() throws {
        let s = try suite()
        for input in ["tiny6.json", "tiny6_images.npy", "./sub/../tiny6_labels.npy"] {
            try FileManager.default.createDirectory(
                at: s.folder.appendingPathComponent("sub"), withIntermediateDirectories: true)
            let path = s.folder.appendingPathComponent(input).standardizedFileURL.path
            let before = try bytes(path)
            let r = try vlsae(["eval", "--data", "tiny6.json", "--out", input, "--quiet"], s)
            XCTAssertEqual(r.status, 64, r.output)
            XCTAssertTrue(r.stderr.contains("is the same file as the input"), r.stderr)
            XCTAssertEqual(try bytes(path), before, "\(input) unchanged")
        }
        // Through a hard link to the embeddings: same device and inode.
        XCTAssertEqual(
            link(
                s.folder.appendingPathComponent("tiny6_text.npy").path,
                s.folder.appendingPathComponent("alias.json").path),
            0)
        let r = try vlsae(["eval", "--data", "tiny6.json", "--out", "alias.json", "--quiet"], s)
        XCTAssertEqual(r.status, 64, r.output)
    }

    func testTrainAndEncodeRefuseAnOutputThatIsAnInput() throws {
        let s = try suite()
        let before = try bytes(s.folder.appendingPathComponent("train_image.npy").path)
        let train = try vlsae(
            ["train", "--pairs", "train_image.npy", "train_text.npy", "--out", "train_image.npy", "--quiet"], s)
        XCTAssertEqual(train.status, 64, train.output)
        XCTAssertEqual(try bytes(s.folder.appendingPathComponent("train_image.npy").path), before)
        let encode = try vlsae(
            ["encode", "--sae", "x.safetensors", "--input", "train_text.npy", "--out", "train_text.npy"], s)
        XCTAssertEqual(encode.status, 64, encode.output)
    }

    func testEvalRefusesAFIFOOutputAndLeavesItAFIFO() throws {
        let s = try suite()
        let fifo = s.folder.appendingPathComponent("out.json").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0)
        let r = try vlsae(["eval", "--data", "tiny6.json", "--out", "out.json", "--quiet"], s)
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(r.stderr.contains("out.json: exists and is a FIFO"), r.stderr)
        var st = stat()
        XCTAssertEqual(lstat(fifo, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO)
        let names = try FileManager.default.contentsOfDirectory(atPath: s.folder.path)
        XCTAssertEqual(names.filter { $0.contains(".tmp-") }, [], "no temporary file left")
    }

    func testTwoManifestsOfOneDatasetAreRefusedUpFront() throws {
        let s = try suite()
        try FileManager.default.copyItem(
            at: s.folder.appendingPathComponent("tiny6.json"), to: s.folder.appendingPathComponent("again.json"))
        let r = try vlsae(["eval", "--data", "tiny6.json", "again.json", "--out", "r.json"], s)
        XCTAssertEqual(r.status, 64, r.output)
        XCTAssertTrue(r.stderr.contains("both describe dataset \"tiny6\""), r.stderr)
        XCTAssertFalse(r.stderr.contains("loading and hashing"), "refused before any dataset is loaded")
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.folder.appendingPathComponent("r.json").path))
    }

    func testLargeOptionValuesAreUsageErrors() throws {
        let s = try suite()
        for (args, expected) in [
            (["eval", "--data", "tiny6.json", "--out", "r.json", "--threads", "100000"], "--threads must be at most"),
            (["eval", "--data", "tiny6.json", "--out", "r.json", "--bootstrap", "2000000000"], "1000...1000000"),
            (
                ["synth", "--out", "suite", "--train-pairs", "1000000000"],
                "--train-pairs × --dim = 512000000000 values"
            ),
            (["synth", "--out", "suite", "--dim", "\(Int.max)"], "more than 9223372036854775807 values"),
        ] {
            let r = try vlsae(args, s)
            XCTAssertEqual(r.status, 64, "\(args): \(r.output)")
            XCTAssertTrue(r.stderr.contains(expected), r.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.folder.appendingPathComponent("suite").path))
    }

    func testSweepGridOfFiftyOneMillionCellsIsAUsageError() throws {
        let s = try suite()
        func list(_ n: Int, _ f: (Int) -> String) -> String { "[" + (0..<n).map(f).joined(separator: ", ") + "]" }
        let config = try s.config(
            """
            datasets: [tiny6.json]
            train: {images: train_image.npy, texts: train_text.npy}
            alpha: "fixed:0.5"
            grid:
              k: \(list(100) { "\($0 + 1)" })
              hidden_ratio: \(list(100) { "\($0 + 1)" })
              lr: \(list(100) { "0.00\($0 + 1)" })
              seed: \(list(51) { "\($0)" })
            """)
        XCTAssertThrowsError(try SweepConfig.load(path: config)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix(config), message)
            XCTAssertTrue(message.contains("51000000 cells"), message)
            XCTAssertTrue(message.contains("limit of 100000"), message)
        }
    }

    func testSweepRefusesACheckpointChangedAfterACellRecordedIt() throws {
        let s = try suite()
        let config = try s.config(
            """
            datasets: [tiny6.json]
            train: {images: train_image.npy, texts: train_text.npy}
            training: {hidden_ratio: 2}
            alpha: "fixed:0.5"
            reuse_k: true
            grid: {k: [4, 8]}
            """)
        let out = s.folder.appendingPathComponent("sweep").path
        let report = try SweepJob.run(
            SweepJob.Options(config: config, out: out, progress: false, tool: tool, backend: FakeBackend()))
        XCTAssertEqual(report.trained, 1, "k=4 and k=8 share one checkpoint")
        let small = report.plan.cells.first { $0.spec.k == 4 }!
        let checkpoint = (out as NSString).appendingPathComponent(small.checkpointRelativePath)
        try FileManager.default.removeItem(atPath: (out as NSString).appendingPathComponent(small.cellRelativePath))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: checkpoint))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("tampered".utf8))
        try handle.close()
        let again = FakeBackend()
        XCTAssertThrowsError(
            try SweepJob.run(SweepJob.Options(config: config, out: out, progress: false, tool: tool, backend: again))
        ) { error in
            XCTAssertTrue("\(error)".contains("changed since cell"), "\(error)")
            XCTAssertTrue("\(error)".hasPrefix(checkpoint), "\(error)")
        }
        XCTAssertEqual(again.evaluated, [], "nothing evaluated with the changed checkpoint")
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: (out as NSString).appendingPathComponent(small.cellRelativePath)))
    }

    func testValidationSetEqualToTheEvaluationSetIsRefused() throws {
        let s = try suite()
        let train = try vlsae(
            [
                "train", "--pairs", "train_image.npy", "train_text.npy", "--out", "sae.safetensors", "--topk", "4",
                "--hidden-ratio", "2", "--epochs", "2", "--batch-size", "64", "--warmup-epochs", "1", "--quiet",
            ], s)
        XCTAssertEqual(train.status, 0, train.output)
        try FileManager.default.copyItem(
            at: s.folder.appendingPathComponent("tiny6.json"), to: s.folder.appendingPathComponent("copy.json"))
        for validation in ["tiny6.json", "copy.json"] {
            let r = try vlsae(
                [
                    "eval", "--data", "tiny6.json", "--sae", "sae.safetensors", "--alignment", "alpha=validated:0;1",
                    "--validation", validation, "--out", "r.json", "--quiet",
                ], s)
            XCTAssertEqual(r.status, 64, r.output)
            XCTAssertTrue(r.stderr.contains("an alpha chosen on them is an oracle"), r.stderr)
        }
        let kfold = try vlsae(
            [
                "eval", "--data", "tiny6.json", "--sae", "sae.safetensors", "--alignment", "alpha=validated:0;1",
                "--out", "r.json", "--quiet",
            ], s)
        XCTAssertEqual(kfold.status, 0, "k-fold on the evaluation set is not an oracle: \(kfold.output)")
    }

    func testZeroImageRowsAreAnErrorOrCountedWrong() throws {
        let s = try suite()
        let path = s.folder.appendingPathComponent("tiny6_images.npy").path
        let images = try TensorFile.load(path)
        var values = images.floats
        let d = images.shape[1]
        for row in [2, 9, 10] { for j in 0..<d { values[row * d + j] = 0 } }
        try NpyFormat.write(Tensor(shape: images.shape, floats: values), to: path)
        let r = try vlsae(["eval", "--data", "tiny6.json", "--out", "r.json", "--quiet"], s)
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(
            r.stderr.contains("tiny6_images.npy: dataset tiny6: image embedding rows 2, 9, 10 (of 72)"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: s.folder.appendingPathComponent("r.json").path))
        let counted = try vlsae(
            ["eval", "--data", "tiny6.json", "--out", "r.json", "--degenerate", "count-wrong", "--quiet"], s)
        XCTAssertEqual(counted.status, 0, counted.output)
        let result = s.folder.appendingPathComponent("r.json").path
        XCTAssertLessThanOrEqual(try ResultDocumentReader.acc1(result), 69.0 / 72.0, "the three zero rows are wrong")
        let row = try ResultDocumentReader.rows(result)[0]
        XCTAssertEqual(row["n_counted_wrong"] as? Int, 3, "the result says how many images were counted wrong")
        XCTAssertEqual(
            try SchemaLocations.loadValidator().validate(
                try JSON.parse(Data(contentsOf: URL(fileURLWithPath: result)))),
            [])
        XCTAssertTrue((try vlsae(["eval", "--help"], s)).stdout.contains("count-wrong"))
    }

    func testNamesWithTerminalEscapesArePrintedEscaped() throws {
        let s = try suite()
        let manifest = s.folder.appendingPathComponent("tiny6.json")
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: manifest)) as! [String: Any]
        object["name"] = "evil\u{1B}]0;pwned\u{07}\u{1B}[2J"
        try JSONSerialization.data(withJSONObject: object).write(to: manifest)
        let r = try vlsae(["eval", "--data", "tiny6.json", "--out", "r.json"], s)
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertFalse(
            r.output.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, "no raw control bytes")
        XCTAssertTrue(r.stdout.contains("evil\\e]0;pwned\\x07\\e[2J"), r.stdout)
        // An error naming a file whose name holds an escape.
        let bad = try vlsae(["eval", "--data", "no\u{1B}[31mfile.json", "--out", "x.json"], s)
        XCTAssertEqual(bad.status, 1, bad.output)
        XCTAssertTrue(bad.stderr.contains("no\\e[31mfile.json"), bad.stderr)
        XCTAssertFalse(bad.stderr.unicodeScalars.contains { $0.value == 0x1B })
        // The parser's own messages quote what was typed.
        let option = try vlsae(["eval", "--data", "tiny6.json", "--out", "x.json", "--bogus\u{1B}[2J"], s)
        XCTAssertEqual(option.status, 64, option.output)
        XCTAssertTrue(option.stderr.contains("--bogus\\e[2J"), option.stderr)
        XCTAssertFalse(option.stderr.unicodeScalars.contains { $0.value == 0x1B })
    }

    func testUnstartableWorkerThreadsAreAnErrorNotAHang() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit"),
            FileManager.default.isExecutableFile(atPath: "/usr/bin/timeout")
        else { throw XCTSkip("prlimit and timeout (util-linux, coreutils) are needed to impose the limits") }
        let s = try suite()
        let binary = try VLSAEExecutable.locate().path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        // 2 GiB of stack per thread in 4 GiB of address space: the second thread cannot start.
        p.arguments = [
            "120", "/usr/bin/prlimit", "--stack=2147483648", "--as=4294967296", binary, "eval", "--data", "tiny6.json",
            "--out", "r.json", "--threads", "2", "--quiet",
        ]
        p.currentDirectoryURL = s.folder
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertNotEqual(p.terminationStatus, 124, "vlsae hung")
        XCTAssertEqual(p.terminationStatus, 1, message)
        XCTAssertTrue(message.contains("cannot start worker thread"), message)
        XCTAssertTrue(message.contains("address-space limit 4294967296 bytes"), message)
    }
}

/// A result's rows and its first row's acc1, read with JSONSerialization (not the project's decoder).
enum ResultDocumentReader {
    static func rows(_ path: String) throws -> [[String: Any]] {
        let object =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        return object["results"] as! [[String: Any]]
    }

    static func acc1(_ path: String) throws -> Double {
        (try rows(path)[0]["metrics"] as! [String: Any])["acc1"] as! Double
    }
}
