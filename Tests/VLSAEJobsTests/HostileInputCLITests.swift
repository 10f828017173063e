import Foundation
import VLSAETestSupport
import XCTest

/// Every unreadable input, through the real command line (issue 14): exit status 1 and exactly one line on
/// stderr, `vlsae: error: <file>: <problem>`, never a crash, a hang or a multi-line dump.
final class HostileInputCLITests: XCTestCase {
    func testUnreadableInputsGetOneLineAndExitOne() throws {
        let vlsae = try VLSAEExecutable.locate()
        let folder = try temporaryFolder("hostile-cli")
        func write(_ name: String, _ data: Data) throws -> String {
            try data.write(to: folder.url(name))
            return folder.path(name)
        }
        let fifo = folder.path("pipe.npy")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let deepPickle = Data(
            [0x80, 0x02] + [UInt8](repeating: 0x5D, count: 15_000) + [UInt8](repeating: 0x61, count: 14_999) + [0x2E])
        let deepPt = try write("deep.pt", ZipBuilder.torch(pickle: deepPickle))
        var overlapping = ZipBuilder()
        overlapping.members = [ZipBuilder.Member(name: "a.npy", data: Data(count: 64))]
        overlapping.extraRecords = (1..<200).map { (name: "a\($0).npy", member: 0) }
        let bombNpz = try write("bomb.npz", overlapping.bytes())
        let badHeader = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"w\":{}}"
        let dupSafetensors = try write(
            "dup.safetensors",
            withUnsafeBytes(of: UInt64(badHeader.utf8.count).littleEndian) { Data($0) } + Data(badHeader.utf8)
                + Data(count: 4))
        let deepYAML = try write("deep.yaml", Data((String(repeating: "- ", count: 5000) + "x\n").utf8))
        var bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for (p, c) in zip("abcdefgh", "bcdefghi") {
            bomb += "\(c): &\(c) [" + Array(repeating: "*\(p)", count: 9).joined(separator: ",") + "]\n"
        }
        let bombYAML = try write("bomb.yaml", Data(bomb.utf8))
        let badYAML = try write("bad.yaml", Data("grid: [1, 2\nk: 3\n".utf8))
        let dupManifest = try write(
            "dup.json",
            Data(
                #"{"name": "a", "name": "b", "model": "m", "pretrained": "p", "image_embeddings": "i.npy", "labels": "l.npy", "classnames": ["x", "y"], "templates": ["{c}"], "text_embeddings": "t.npy"}"#
                    .utf8))

        let cases: [(args: [String], file: String, problem: String)] = [
            (["inspect", fifo], fifo, "not a regular file (a FIFO"),
            (["inspect", folder.path], folder.path, "is a folder"),
            (["inspect", folder.path("missing.npy")], folder.path("missing.npy"), "no such file"),
            (["inspect", deepPt], deepPt, "nested deeper than 1000"),
            (["inspect", bombNpz], bombNpz, "overlap"),
            (["inspect", dupSafetensors], dupSafetensors, "duplicate key \"w\""),
            (["sweep", deepYAML, "--out", folder.path("s1")], deepYAML, "nested deeper than 64"),
            (["sweep", bombYAML, "--out", folder.path("s2")], bombYAML, "alias bomb"),
            (["sweep", badYAML, "--out", folder.path("s3")], badYAML, "not valid YAML"),
            (["eval", "--data", dupManifest, "--out", folder.path("r.json")], dupManifest, "duplicate key \"name\""),
            (["eval", "--data", fifo, "--out", folder.path("r.json")], fifo, "not a regular file"),
        ]
        for c in cases {
            let r = try vlsae.run(c.args)
            let label = c.args.joined(separator: " ")
            XCTAssertEqual(r.status, 1, "\(label): \(r.stderr)")
            // Progress lines (eval's "[1/1] … loading and hashing") may come first; the error is the last line, alone.
            let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertEqual(lines.last, "", "\(label): stderr must end with a newline")
            let error = lines.dropLast().last.map(String.init) ?? ""
            XCTAssertEqual(lines.filter { $0.hasPrefix("vlsae: error:") }.count, 1, "\(label): \(r.stderr)")
            XCTAssertTrue(error.hasPrefix("vlsae: error: \(c.file): "), "\(label): \(r.stderr)")
            XCTAssertTrue(error.contains(c.problem), "\(label): \(r.stderr) lacks \(c.problem)")
            XCTAssertTrue(r.stdout.isEmpty, "\(label): \(r.stdout)")
        }
        // Nothing was written beside the inputs.
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertEqual(
            left,
            ["bad.yaml", "bomb.npz", "bomb.yaml", "deep.pt", "deep.yaml", "dup.json", "dup.safetensors", "pipe.npy"])
    }
}
