import Foundation
import VLSAECore
import VLSAEData
import VLSAEFormats
import VLSAETestSupport
import XCTest

final class CatalogTests: XCTestCase {
    /// Class counts as documented by each dataset (caltech101: CLIP_benchmark's 102-name list,
    /// i.e. 101 categories plus background). Typed here, not read from the catalog.
    static let documentedClassCounts: [String: Int] = [
        "cifar10": 10, "cifar100": 100, "imagenet1k": 1000, "cars": 196, "dtd": 47,
        "eurosat": 10, "mnist": 10, "pets": 37, "flowers": 102, "caltech101": 102,
        "food101": 101, "sun397": 397, "stl10": 10, "gtsrb": 43, "fgvc_aircraft": 100,
    ]

    /// The one copy in the checkout; the build copies it into VLSAEData's resource bundle.
    static let catalogDir = SchemaLocations.repoRoot.appendingPathComponent("Sources/VLSAEData/Catalog")

    func catalogFiles() throws -> [String: URL] {
        let urls = try FileManager.default.contentsOfDirectory(at: Self.catalogDir, includingPropertiesForKeys: nil)
        var out: [String: URL] = [:]
        for url in urls where url.pathExtension == "json" {
            out[url.deletingPathExtension().lastPathComponent] = url
        }
        return out
    }

    func testEveryDocumentedDatasetParsesWithItsClassCount() throws {
        for (name, count) in Self.documentedClassCounts {
            let entry = try Catalog.entry(named: name)
            XCTAssertEqual(entry.name, name)
            XCTAssertEqual(entry.classnames.count, count, name)
            XCTAssertFalse(entry.templates.isEmpty, name)
            XCTAssertTrue(entry.source.contains("LAION-AI/CLIP_benchmark@"), name)
        }
        XCTAssertEqual(Set(Catalog.names), Set(Self.documentedClassCounts.keys))
        XCTAssertEqual(Catalog.names, Catalog.names.sorted())
    }

    func testTemplatesHavePlaceholderAndClassnamesAreNonEmpty() throws {
        for name in Catalog.names {
            let entry = try Catalog.entry(named: name)
            for template in entry.templates {
                XCTAssertTrue(template.contains("{c}"), "\(name): \(template)")
            }
            XCTAssertFalse(entry.classnames.contains(""), name)
        }
    }

    /// Every entry loads from the resource bundle, and the bundle holds exactly the committed files,
    /// byte for byte (the build copies Sources/VLSAEData/Catalog; nothing else may feed it).
    func testEveryEntryLoadsFromTheBundledCopyOfTheCommittedFiles() throws {
        let files = try catalogFiles()
        XCTAssertEqual(files.count, 15)
        XCTAssertEqual(Set(files.keys), Set(Catalog.names))
        for (name, url) in files {
            let bundled = try XCTUnwrap(try Catalog.resourceURL(named: name), name)
            XCTAssertNotEqual(
                bundled.standardizedFileURL.path, url.standardizedFileURL.path, "\(name): read from the bundle")
            XCTAssertEqual(try Data(contentsOf: bundled), try Data(contentsOf: url), name)
            let entry = try Catalog.entry(named: name)
            XCTAssertEqual(entry, try CatalogEntry.load(path: url.path), name)
            XCTAssertEqual(entry.name, name)
        }
    }

    /// The README table is written by scripts/make_catalog.py with Python's hashlib.
    func testHashesMatchTheReadmeTableComputedByHashlib() throws {
        let readme = try String(contentsOf: Self.catalogDir.appendingPathComponent("README.md"), encoding: .utf8)
        var rows: [String: [String]] = [:]
        for line in readme.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 5, cells[3].hasPrefix("`") else { continue }
            rows[cells[0]] = cells.map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "`")) }
        }
        XCTAssertEqual(Set(rows.keys), Set(Catalog.names))
        for name in Catalog.names {
            let entry = try Catalog.entry(named: name)
            guard let row = rows[name] else { continue }
            XCTAssertEqual(row[1], String(entry.classnames.count), name)
            XCTAssertEqual(row[2], String(entry.templates.count), name)
            XCTAssertEqual(entry.classnamesSHA256, row[3], name)
            XCTAssertEqual(entry.templatesSHA256, row[4], name)
        }
    }

    func testListSHA256AgainstHashlib() {
        // hashlib.sha256(b"".join(s.encode() + b"\n" for s in list)).hexdigest()
        XCTAssertEqual(Catalog.listSHA256([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(
            Catalog.listSHA256(["a", "b"]), "911169ddaaf146aff539f58c26c489af3b892dff0fe283c1c264c65ae5aa59a2")
        XCTAssertEqual(Catalog.listSHA256(["ab"]), "a63d8014dba891345b30174df2b2a57efbb65b4f9f09b98f245d1b3192277ece")
        XCTAssertEqual(
            Catalog.listSHA256(["café", "", "a photo of a {c}."]),
            "1309cb29da253e7cbdc1793b6dbce2d80372bdeb418cee2a4d798a1a3d5c8c4a")
    }

    /// Spot checks typed from the sources named in the README (order matters: it is the label).
    func testListsFollowCLIPBenchmarkConventions() throws {
        let cifar10 = try Catalog.entry(named: "cifar10")
        XCTAssertEqual(cifar10.classnames.first, "airplane")
        XCTAssertEqual(cifar10.classnames.last, "truck")
        XCTAssertEqual(cifar10.templates.count, 18)
        // CIFAR-100 keeps torchvision's underscores.
        XCTAssertTrue(try Catalog.entry(named: "cifar100").classnames.contains("aquarium_fish"))
        // Food-101: torchvision sorts by code point, then builder.py replaces "_".
        let food = try Catalog.entry(named: "food101").classnames
        XCTAssertEqual(food.firstIndex(of: "cheese plate").map { $0 + 1 }, food.firstIndex(of: "cheesecake"))
        XCTAssertEqual(food.first, "apple pie")
        let sun = try Catalog.entry(named: "sun397").classnames
        XCTAssertEqual(sun.first, "abbey")
        XCTAssertTrue(sun.contains("apartment building outdoor"))
        let mnist = try Catalog.entry(named: "mnist")
        XCTAssertEqual(mnist.templates, ["a photo of the number: \"{c}\"."])
        XCTAssertEqual(mnist.classnames, (0...9).map(String.init))
        XCTAssertEqual(try Catalog.entry(named: "imagenet1k").templates.count, 80)
        XCTAssertEqual(try Catalog.entry(named: "cars").classnames.first, "AM General Hummer SUV 2000")
    }

    func testFillReplacesEveryPlaceholder() throws {
        XCTAssertEqual(
            Catalog.fill(template: "a photo of the number: \"{c}\".", classname: "7"),
            "a photo of the number: \"7\".")
        XCTAssertEqual(Catalog.fill(template: "{c} or {c}?", classname: "cat"), "cat or cat?")
        // The class name is inserted literally, as str.format does with its argument.
        XCTAssertEqual(Catalog.fill(template: "a {c}.", classname: "{c}"), "a {c}.")
        let pets = try Catalog.entry(named: "pets")
        XCTAssertEqual(pets.prompts(forClassname: "Abyssinian"), ["a photo of a Abyssinian, a type of pet."])
    }

    func testUnknownNameIsUsageErrorListingKnownNames() throws {
        // Names that are not entries, including files of the bundled folder that are not JSON
        // entries and paths that would leave it.
        for name in ["cifar11", "README", "README.md", "cifar10.json", "../Catalog/cifar10", "", "CIFAR10"] {
            XCTAssertNil(try Catalog.resourceURL(named: name), name)
            XCTAssertThrowsError(try Catalog.entry(named: name)) { error in
                guard case VLSAEError.usage(let message)? = error as? VLSAEError else {
                    return XCTFail("expected VLSAEError.usage, got \(error)")
                }
                XCTAssertTrue(message.hasPrefix("unknown catalog dataset \"\(name)\"; known: "), message)
                XCTAssertTrue(message.hasSuffix(Catalog.names.joined(separator: ", ")), message)
            }
        }
    }

    /// The built `vlsae`, started from `/`, finds the bundle beside itself: a manifest naming
    /// catalog lists evaluates and records their hashes; an unknown name fails naming the manifest.
    func testBuiltExecutableFindsTheCatalogFromAnyWorkingDirectory() throws {
        let vlsae = try VLSAEExecutable.locate()
        let dir = try temporaryFolder("catalog-cli")
        let d = 4
        try NpyFormat.write(
            Tensor(shape: [20, d], floats: (0..<(20 * d)).map { Float(($0 * 7) % 11) - 5 }), to: dir.path("i.npy"))
        try NpyFormat.write(
            Tensor(shape: [20], dtype: .int64, storage: .integer((0..<20).map { Int64($0 % 10) })),
            to: dir.path("l.npy"))
        try NpyFormat.write(
            Tensor(shape: [10, d], floats: (0..<(10 * d)).map { Float(($0 * 5) % 13) - 6 }), to: dir.path("c.npy"))
        func manifest(_ name: String, classnames: String) throws -> String {
            let text =
                #"{"name": "c10", "model": "m", "pretrained": "p", "image_embeddings": "i.npy", "labels": "l.npy", "#
                + #""classifier": "c.npy", "classnames": "\#(classnames)", "templates": "cifar10"}"#
            try text.write(toFile: dir.path(name), atomically: false, encoding: .utf8)
            return dir.path(name)
        }
        func run(_ manifest: String, out: String) throws -> (Int32, String) {
            let r = try vlsae.run(["eval", "--data", manifest, "--out", out], in: URL(fileURLWithPath: "/"))
            return (r.status, r.output)
        }
        let (status, output) = try run(try manifest("m.json", classnames: "cifar10"), out: dir.path("r.json"))
        XCTAssertEqual(status, 0, output)
        let result = try JSON.parse(try Data(contentsOf: dir.url("r.json")))
        guard case .array(let rows)? = result["results"], let row = rows.first else { return XCTFail("no results") }
        let cifar10 = try Catalog.entry(named: "cifar10")
        XCTAssertEqual(row["classnames_sha256"], .string(cifar10.classnamesSHA256))
        XCTAssertEqual(row["templates_sha256"], .string(cifar10.templatesSHA256))
        XCTAssertEqual(cifar10.classnamesSHA256, "2ce042b1e0b48db4bb214408e6414ba18b2731c24af244f2d6c112fddf31af00")

        let (badStatus, badOutput) = try run(
            try manifest("bad.json", classnames: "cifar11"), out: dir.path("bad-r.json"))
        XCTAssertEqual(badStatus, 1, badOutput)  // a bad manifest: the error names the file
        XCTAssertTrue(
            badOutput.contains("unknown catalog dataset \"cifar11\"; known: caltech101, cars, cifar10"), badOutput)
    }

    func testLoadRejectsBadFilesNamingThem() throws {
        let dir = try temporaryFolder("catalog").url
        let cases: [(String, String, String)] = [
            ("not-json.json", "{\"name\": ", "not a catalog entry"),
            ("no-placeholder.json", #"{"name":"x","classnames":["a"],"templates":["a photo"],"source":"s"}"#, "no {c}"),
            ("other-brace.json", #"{"name":"x","classnames":["a"],"templates":["{c} {d}"],"source":"s"}"#, "braces"),
            (
                "no-classes.json", #"{"name":"x","classnames":[],"templates":["{c}"],"source":"s"}"#,
                "classnames is empty"
            ),
        ]
        for (file, text, expected) in cases {
            let path = dir.appendingPathComponent(file).path
            try text.write(toFile: path, atomically: false, encoding: .utf8)
            XCTAssertThrowsError(try CatalogEntry.load(path: path)) { error in
                guard case VLSAEError.file(let p, let message)? = error as? VLSAEError else {
                    return XCTFail("expected VLSAEError.file, got \(error)")
                }
                XCTAssertEqual(p, path)
                XCTAssertTrue(message.contains(expected), "\(file): \(message)")
            }
        }
        let missing = dir.appendingPathComponent("missing.json").path
        XCTAssertThrowsError(try CatalogEntry.load(path: missing)) { error in
            XCTAssertEqual(error as? VLSAEError, .file(missing, "no such file"))
        }
    }
}
