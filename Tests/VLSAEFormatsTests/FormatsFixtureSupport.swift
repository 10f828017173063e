import Foundation
import VLSAECore
import VLSAEFormats
import VLSAETestSupport
import XCTest

/// What Fixtures/make_fixtures.py recorded with numpy, safetensors, torch and hashlib.
struct FormatsExpected: Decodable {
    struct ArrayExpectation: Decodable {
        let name: String
        let shape: [Int]
        let dtype: String
        /// float32 bit patterns of the values (after numpy's own conversion to float32).
        let f32bits: [UInt32]?
        /// Integer values as decimal strings (int64-exact).
        let ints: [String]?
    }

    struct FileExpectation: Decodable {
        let sha256: String
        let arrays: [ArrayExpectation]
        let metadata: [String: String]?
    }

    struct ZipMember: Decodable {
        let name: String
        let method: Int
        let size: Int
        let crc32: UInt32
        let sha256: String
    }

    /// Facts numpy measured on ../shared/data/coco500-clip/features_clip.npy (empty when the
    /// generator ran without it).
    struct Coco: Decodable {
        let sha256: String?
        let shape: [Int]?
        let dtype: String?
        let picks: [[Int]]?
        let pick_bits: [UInt32]?
        let sum_f64: Double?
        let row1_norms_first3: [Double]?
    }

    let coco500: Coco
    let files: [String: FileExpectation]
    let rejects: [String: String]
    let zips: [String: [ZipMember]]
    let sha256: [String: String]
}

enum Fixtures {
    /// This target's bundled `Fixtures` folder (written by Fixtures/make_fixtures.py).
    static let folder = FixtureFolder(bundle: .module)

    static func path(_ name: String) -> String { folder.path(name) }

    static func data(_ name: String) throws -> Data { try folder.data(name) }

    static let expected: FormatsExpected = {
        do {
            return try folder.decode(FormatsExpected.self, from: "expected.json")
        } catch {
            fatalError("cannot read Fixtures/expected.json: \(error)")
        }
    }()
}

/// Asserts a tensor equals numpy's values exactly: same shape, dtype, and bit-identical float32
/// values (any NaN matches any NaN) or identical integers.
func assertTensor(
    _ tensor: Tensor, matches e: FormatsExpected.ArrayExpectation, _ label: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(tensor.shape, e.shape, "\(label): shape", file: file, line: line)
    XCTAssertEqual(tensor.dtype.rawValue, e.dtype, "\(label): dtype", file: file, line: line)
    switch tensor.storage {
    case .float(let values):
        guard let bits = e.f32bits else {
            return XCTFail("\(label): expected integer storage, got float", file: file, line: line)
        }
        XCTAssertEqual(values.count, bits.count, "\(label): element count", file: file, line: line)
        for (i, (v, b)) in zip(values, bits).enumerated() {
            let want = Float(bitPattern: b)
            if want.isNaN {
                XCTAssertTrue(v.isNaN, "\(label)[\(i)]: expected NaN, got \(v)", file: file, line: line)
            } else {
                XCTAssertEqual(v.bitPattern, b, "\(label)[\(i)]: got \(v), expected \(want)", file: file, line: line)
            }
        }
    case .integer(let values):
        guard let ints = e.ints else {
            return XCTFail("\(label): expected float storage, got integer", file: file, line: line)
        }
        XCTAssertEqual(values, ints.map { Int64($0)! }, "\(label): values", file: file, line: line)
    }
}

/// Asserts `body` throws `VLSAEError.file` whose path contains `path` and whose text contains
/// every one of `words` (case-insensitive); returns the message.
@discardableResult
func assertFileError<T>(
    _ body: @autoclosure () throws -> T, path: String, _ words: [String],
    file: StaticString = #filePath, line: UInt = #line
) -> String? {
    do {
        _ = try body()
        XCTFail("expected an error mentioning \(words) for \(path)", file: file, line: line)
        return nil
    } catch let VLSAEError.file(p, message) {
        XCTAssertTrue(p.contains(path), "error names \(p), expected \(path)", file: file, line: line)
        for w in words {
            XCTAssertTrue(
                message.lowercased().contains(w.lowercased()),
                "message \"\(message)\" lacks \"\(w)\"", file: file, line: line)
        }
        return message
    } catch {
        XCTFail("expected VLSAEError.file, got \(error)", file: file, line: line)
        return nil
    }
}

/// Replaces the first occurrence of `old` in `data` with `new` (same length unless `resize`).
func replacing(_ old: String, with new: String, in data: Data) -> Data {
    let bytes = [UInt8](data)
    let o = Array(old.utf8)
    let n = Array(new.utf8)
    for i in 0...(bytes.count - o.count) where Array(bytes[i..<(i + o.count)]) == o {
        return Data(bytes[..<i] + n + bytes[(i + o.count)...])
    }
    XCTFail("\"\(old)\" not found")
    return data
}
