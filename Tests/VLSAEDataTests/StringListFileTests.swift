import Foundation
import VLSAECore
import VLSAEData
import VLSAETestSupport
import XCTest

/// The two forms of `--image-paths` / `--captions` lists, and the errors that name the file.
final class StringListFileTests: XCTestCase {
    func testLinesAndJSONArrays() throws {
        let dir = try temporaryFolder("lists")
        let text = dir.path("captions.txt")
        try Data("a dog\r\n  two spaces \n\nlast".utf8).write(to: URL(fileURLWithPath: text))
        let (lines, digest) = try StringListFile.load(path: text, role: "captions")
        XCTAssertEqual(lines, ["a dog", "  two spaces ", "", "last"])
        XCTAssertEqual(digest.role, "captions")
        XCTAssertEqual(digest.sha256, try SHA256.hex(fileAt: text))
        try Data("one\ntwo\n".utf8).write(to: URL(fileURLWithPath: text))
        XCTAssertEqual(try StringListFile.load(path: text, role: "captions").strings, ["one", "two"], "final newline")
        try Data().write(to: URL(fileURLWithPath: text))
        XCTAssertEqual(try StringListFile.load(path: text, role: "captions").strings, [])

        let json = dir.path("paths.json")
        try Data(#"["a/b.jpg", "c \"d\".png", "é\n"]"#.utf8).write(to: URL(fileURLWithPath: json))
        XCTAssertEqual(
            try StringListFile.load(path: json, role: "image_paths").strings, ["a/b.jpg", "c \"d\".png", "é\n"])
    }

    func testErrorsNameTheFile() throws {
        let dir = try temporaryFolder("lists-bad")
        func expect(_ bytes: [UInt8], _ name: String, _ message: String, line: UInt = #line) throws {
            let path = dir.path(name)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try StringListFile.load(path: path, role: "captions"), line: line) { e in
                guard case VLSAEError.file(let p, let m) = e else { return XCTFail("\(e)", line: line) }
                XCTAssertEqual(p, path, line: line)
                XCTAssertTrue(m.contains(message), m, line: line)
            }
        }
        try expect(Array(#"{"a": 1}"#.utf8), "object.json", "expected a JSON array of strings")
        try expect(Array(#"["a", 2]"#.utf8), "number.json", "item 1 is not a string")
        try expect(Array("[\"a\"".utf8), "broken.json", "not valid JSON")
        try expect([0x61, 0xFF, 0xFE, 0x0A], "latin.txt", "not UTF-8")
        XCTAssertThrowsError(try StringListFile.load(path: dir.path("absent.txt"), role: "captions")) { e in
            XCTAssertTrue("\(e)".contains("no such file"), "\(e)")
        }
    }
}
