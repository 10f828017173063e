import Foundation
import VLSAECore
import XCTest

/// `JSONInput.check`: RFC 8259 syntax, a depth limit and duplicate keys, decided before Foundation decodes.
final class JSONInputTests: XCTestCase {
    private func problem(_ text: String, maxDepth: Int = JSONInput.maxDepth) -> String? {
        do {
            try JSONInput.check(Data(text.utf8), path: "t.json", maxDepth: maxDepth)
            return nil
        } catch let VLSAEError.file(path, message) {
            XCTAssertEqual(path, "t.json")
            return message
        } catch { return "unexpected \(error)" }
    }

    /// Accepted and refused texts as RFC 8259 (section 2 to 7) and Python's `json.loads` decide them; Python keeps
    /// the last of two equal keys, which is the one difference, and refused here on purpose.
    func testSyntaxAgreesWithTheRFC() {
        let valid = [
            "{}", "[]", "0", "-0.5e+10", "\"a\\u00e9\\n\"", "true", " null ", "{\"a\": [1, 2.5, {\"b\": null}]}",
            "\u{FEFF}{\"bom\": 1}", "[\"\\ud83d\\ude00\"]", "{\"a\": 1, \"A\": 2}", "[[], {}, \"\", 1E3]",
        ]
        for text in valid { XCTAssertNil(problem(text), text) }
        let invalid = [
            "", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "+1", "1e", "'a'", "{a: 1}", "[1 2]", "nul",
            "\"tab\there\"", "\"\\x\"", "\"\\u12\"", "{\"a\" 1}", "[1]]", "NaN", "[Infinity]", "{} {}", "\"open",
        ]
        for text in invalid { XCTAssertEqual(problem(text)?.hasPrefix("not valid JSON"), true, text) }
    }

    /// Duplicate keys are compared after escapes are resolved, per object (not across objects); the message names the
    /// key and its line.
    func testDuplicateKeysAreRefused() {
        XCTAssertEqual(
            problem("{\n  \"name\": \"a\",\n  \"name\": \"b\"\n}"),
            "duplicate key \"name\": a JSON object must name each key once (line 3, column 3)")
        XCTAssertNotNil(problem(#"{"a": 1, "\u0061": 2}"#))
        XCTAssertNotNil(problem(#"[{"x": {"k": 1, "k": 1}}]"#))
        XCTAssertNil(problem(#"[{"k": 1}, {"k": 2}, {"o": {"k": 3}}]"#))
    }

    /// Nesting beyond the limit is refused at the bracket that crosses it, without recursion: 200,000 levels (a few
    /// hundred kilobytes) would overflow a recursive parser's stack.
    func testDepthIsLimitedIteratively() {
        XCTAssertNil(problem(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)))
        XCTAssertEqual(
            problem(String(repeating: "[", count: 65) + String(repeating: "]", count: 65)),
            "JSON nested deeper than 64 levels (line 1, column 65)")
        XCTAssertNotNil(
            problem(String(repeating: "{\"a\":", count: 200_000) + "1" + String(repeating: "}", count: 200_000)))
        XCTAssertNil(problem("[[[1]]]", maxDepth: 3))
        XCTAssertNotNil(problem("[[[[1]]]]", maxDepth: 3))
    }

    /// `CanonicalJSON.decode`, which every result, plan and cell file goes through, runs the check first.
    func testCanonicalDecodeRunsTheCheck() {
        struct One: Decodable { var a: Int }
        XCTAssertThrowsError(try CanonicalJSON.decode(One.self, from: Data(#"{"a": 1, "a": 2}"#.utf8), path: "d.json"))
        {
            XCTAssertEqual(
                $0 as? VLSAEError,
                .file("d.json", "duplicate key \"a\": a JSON object must name each key once (line 1, column 10)"))
        }
    }
}
