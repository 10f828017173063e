import Foundation
import VLSAECore
import VLSAEJobs
import VLSAETestSupport
import XCTest

/// Hostile sweep configs (issue 14): nesting, alias bombs and duplicate keys are refused on libyaml's event stream
/// before Yams builds anything; each message names the file and the line.
final class SweepConfigHostileTests: XCTestCase {
    private func message(_ text: String) -> String {
        do {
            _ = try SweepConfig.parse(text, path: "c.yaml", baseFolder: ".")
            return "(no error)"
        } catch { return "\(error)" }
    }

    /// 10 KB nested 5,000 deep used to overflow the stack in Yams's recursive composer.
    func testDeepNestingIsRefused() {
        XCTAssertEqual(
            message(String(repeating: "- ", count: 5000) + "x\n"), "c.yaml: YAML nested deeper than 64 levels (line 1)")
        XCTAssertTrue(
            message("grid:\n  k: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000))
                .hasPrefix("c.yaml: YAML nested deeper than 64 levels"))
    }

    /// The 342-byte "billion laughs": nine levels of nine aliases each expand to 9⁹ strings (~3.5 GB once built).
    func testAliasBombIsRefused() {
        var bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        let names = Array("abcdefghi").map(String.init)
        for i in 1..<9 {
            let p = names[i - 1]
            bomb += "\(names[i]): &\(names[i]) [" + Array(repeating: "*\(p)", count: 9).joined(separator: ",") + "]\n"
        }
        XCTAssertLessThan(bomb.utf8.count, 400)
        XCTAssertEqual(
            message(bomb),
            "c.yaml: YAML expands to more than 100000 nodes once its aliases are replaced (an alias bomb?) (line 6)")
        // Many cheap aliases are refused by count.
        let many = "a: &x 1\nb: [" + Array(repeating: "*x", count: 1001).joined(separator: ", ") + "]\n"
        XCTAssertTrue(message(many).hasPrefix("c.yaml: more than 1000 YAML aliases"), message(many))
    }

    /// A sequence or mapping as a mapping key crashed Yams (it force-unwraps every key as a string); the 30 bytes
    /// `FuzzSweepConfig` found, and the plainer spellings, are refused.
    func testCollectionKeysAreRefused() {
        let found = "# A 2 ,]\n? !k: [16,2  ;=, 64]\n"
        XCTAssertEqual(
            message(found),
            "c.yaml: a YAML mapping key must be a plain value, not a sequence or a mapping (line 2)")
        XCTAssertTrue(message("? [a, b]\n: 1\n").contains("must be a plain value"))
        XCTAssertTrue(message("{[1]: x}").hasPrefix("c.yaml: not valid JSON"))
        XCTAssertTrue(message("x: &k [1]\ny: {*k : 2}\n").contains("must be a plain value"))
        XCTAssertTrue(message("s: !!set {? {a: 1}}\n").contains("must be a plain value"))
    }

    /// YAML 1.1 base-60 integers that overflow 64 bits trapped in Yams's conversion (`FuzzSweepConfig`'s second
    /// finding); values that fit still read as numbers.
    func testOverflowingBase60IntegersAreRefused() {
        let found = "+2222212222292122222:1"
        XCTAssertEqual(
            message(found + "\n"), "c.yaml: the base-60 number \"\(found)\" does not fit in 64 bits (line 1)")
        // Yams multiplies the place value by 60 once per part, the last included: 11 parts reach 60¹¹ > 2⁶³.
        XCTAssertTrue(message("k: 1" + String(repeating: ":0", count: 10) + "\n").contains("does not fit in 64 bits"))
        XCTAssertFalse(message("k: 1" + String(repeating: ":0", count: 9) + "\n").contains("does not fit"))
        XCTAssertFalse(message("k: 01:30\n").contains("does not fit"))  // octal first, as Yams reads it
        XCTAssertFalse(message("k: \"12:30\"\n").contains("does not fit"))
    }

    /// A key given twice: Yams keeps one silently; which grid runs must not be a guess. Keys of different mappings
    /// may repeat.
    func testDuplicateKeysAreRefused() {
        XCTAssertEqual(
            message("name: a\ngrid:\n  k: [4]\n  k: [8]\n"),
            "c.yaml: duplicate key \"k\": a YAML mapping must name each key once (line 4)")
        XCTAssertTrue(message("{\"name\": \"a\", \"name\": \"b\"}").hasPrefix("c.yaml: duplicate key \"name\""))
        XCTAssertFalse(message("grid: {k: [4]}\ncells: [{k: 4}]\n").contains("duplicate"))
    }
}
