// TEMPORARY (eval branch): stands in for the `catalog` branch's Catalog.swift so that the
// manifest's catalog lookups compile. Delete this file when merging `catalog`.
import VLSAECore

public struct CatalogEntry: Sendable {
    public let name: String
    public let classnames: [String]
    public let templates: [String]
    public let source: String
}

public enum Catalog {
    public static func entry(named name: String) throws -> CatalogEntry {
        throw VLSAEError.usage("no catalog entry named \"\(name)\" (catalog not merged yet)")
    }
}
