import Foundation
import VLSAECore

/// One zero-shot dataset's class names and prompt templates, as CLIP_benchmark uses them.
/// Class index i of the dataset's labels is `classnames[i]`; order is therefore part of the
/// data and duplicates (imagenet1k has two) are kept.
@MemberwiseInit
public struct CatalogEntry: Codable, Sendable, Equatable {
    /// The dataset's name as CLIP_benchmark spells it, e.g. "cifar10"; a built-in entry's file is `<name>.json`.
    public let name: String
    /// The class names, index i for label i.
    public let classnames: [String]
    /// Prompt templates with `{c}` where the class name goes.
    public let templates: [String]
    /// Where the lists were taken from (repository, commit, file), for the result record.
    public let source: String

    /// Identifies the class list in result files: templates changing silently between
    /// CLIP_benchmark releases is a known way numbers stop being comparable.
    public var classnamesSHA256: String { Catalog.listSHA256(classnames) }
    /// `Catalog.listSHA256` of the templates, for the same reason.
    public var templatesSHA256: String { Catalog.listSHA256(templates) }

    /// Every template filled with one class name, in template order.
    public func prompts(forClassname classname: String) -> [String] {
        templates.map { Catalog.fill(template: $0, classname: classname) }
    }

    /// Reads a user-supplied catalog file in the same JSON form as the built-in entries
    /// (`Sources/VLSAEData/Catalog/*.json`), for class names or templates other than those.
    public static func load(path: String) throws -> CatalogEntry {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw VLSAEError.file(path, "cannot read catalog file")
        }
        return try decode(data, origin: path)
    }

    static func decode(_ data: Data, origin: String) throws -> CatalogEntry {
        let entry: CatalogEntry
        do {
            entry = try JSONDecoder().decode(CatalogEntry.self, from: data)
        } catch {
            throw VLSAEError.file(
                origin, "not a catalog entry (expected JSON with name, classnames, templates, source): \(error)")
        }
        try entry.validate(origin: origin)
        return entry
    }

    /// A classifier built from an empty list, or from a template that ignores the class, would
    /// score every class alike without any error; refuse such entries up front.
    func validate(origin: String) throws {
        if classnames.isEmpty { throw VLSAEError.file(origin, "classnames is empty") }
        if templates.isEmpty { throw VLSAEError.file(origin, "templates is empty") }
        if let bad = templates.first(where: { !$0.contains(Catalog.placeholder) }) {
            throw VLSAEError.file(origin, "template \"\(bad)\" has no \(Catalog.placeholder) placeholder")
        }
        // CLIP_benchmark fills templates with Python's str.format(c=...), which would also
        // interpret any other brace; without other braces plain replacement is identical.
        if let bad = templates.first(where: {
            let rest = $0.replacingOccurrences(of: Catalog.placeholder, with: "")
            return rest.contains("{") || rest.contains("}")
        }) {
            throw VLSAEError.file(origin, "template \"\(bad)\" has braces other than \(Catalog.placeholder)")
        }
    }
}

/// The built-in catalog: CLIP_benchmark 1.6.2's class names and templates for 15 datasets, one
/// JSON file per dataset in `Sources/VLSAEData/Catalog/` (provenance and hashes in its README).
/// SwiftPM ships that folder as a resource of this module (`resources: [.copy("Catalog")]`);
/// an entry is read from it only when asked for.
public enum Catalog {
    /// The one placeholder a template holds, replaced by the class name.
    public static let placeholder = "{c}"

    /// Dataset names in the catalog, sorted: the `<name>.json` files of the bundled folder.
    public static var names: [String] { Resources.index.keys.sorted() }

    /// The built-in entry `name`, validated; throws `VLSAEError.usage` (listing the known names) for a name not in the
    /// catalog, and `VLSAEError.file` for an entry that fails validation or is named otherwise inside.
    public static func entry(named name: String) throws -> CatalogEntry {
        guard let url = try Resources.url(named: name) else {
            throw VLSAEError.usage("unknown catalog dataset \"\(name)\"; known: \(names.joined(separator: ", "))")
        }
        let origin = "catalog:\(name)"
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw VLSAEError.file(url.path, "cannot read catalog entry \"\(name)\"")
        }
        let entry = try CatalogEntry.decode(data, origin: origin)
        if entry.name != name { throw VLSAEError.file(origin, "entry is named \"\(entry.name)\"") }
        return entry
    }

    /// Where the JSON of one entry lies in the resource bundle (nil for a name not in the catalog).
    public static func resourceURL(named name: String) throws -> URL? { try Resources.url(named: name) }

    /// The bundled catalog folder, listed once; entries are read on demand.
    private enum Resources {
        /// `Bundle.module` is SwiftPM's accessor for this module's resource bundle. On Linux it
        /// looks for `vlsae-bench_VLSAEData.resources` beside the running executable (the folder
        /// of `/proc/self/exe`, so the working directory does not matter), then in the build
        /// folder it was compiled in, and stops the process if neither exists.
        static let folder: URL? = Bundle.module.url(forResource: "Catalog", withExtension: nil)

        static let index: [String: URL] = {
            guard let folder,
                let files = try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            else { return [:] }
            var out: [String: URL] = [:]
            for url in files where url.pathExtension == "json" {
                out[url.deletingPathExtension().lastPathComponent] = url
            }
            return out
        }()

        static func url(named name: String) throws -> URL? {
            guard let folder else {
                throw VLSAEError.file(Bundle.module.bundlePath, "the resource bundle has no Catalog folder")
            }
            if index.isEmpty { throw VLSAEError.file(folder.path, "no catalog entries (*.json) found") }
            return index[name]
        }
    }

    /// SHA-256 (hex) of the UTF-8 bytes of each string followed by "\n". Newline-terminating
    /// every item keeps ["ab"] and ["a", "b"] apart and makes the value reproducible with
    /// `printf '%s\n' ... | sha256sum`.
    public static func listSHA256(_ list: [String]) -> String {
        var hasher = SHA256()
        for item in list {
            hasher.update(Array(item.utf8))
            hasher.update([UInt8(0x0A)])
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Replaces every `{c}` in the template with the class name; for the templates entries
    /// accept (no other braces) this equals CLIP_benchmark's `template.format(c=classname)`.
    public static func fill(template: String, classname: String) -> String {
        template.replacingOccurrences(of: placeholder, with: classname)
    }
}
