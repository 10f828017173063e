import Foundation

/// A folder of committed fixtures (each written by a generator script beside it): a test target's
/// own `Fixtures` resource (`resources: [.copy("Fixtures")]` in Package.swift), or a folder of the
/// checkout that another target's tests share.
public struct FixtureFolder: Sendable {
    /// The folder's location.
    public let url: URL

    /// The fixtures in `url`.
    public init(url: URL) { self.url = url }

    /// The `Fixtures` folder bundled with a test target: pass that target's `Bundle.module`. A
    /// bundle without one gives a folder whose reads fail naming the missing path.
    public init(bundle: Bundle, _ name: String = "Fixtures") {
        url =
            bundle.url(forResource: name, withExtension: nil)
            ?? bundle.bundleURL.appendingPathComponent(name)
    }

    /// A folder of the checkout, relative to the repository root (e.g. "Tests/VLSAEEvalTests/Fixtures").
    public static func repository(_ relative: String) -> FixtureFolder {
        FixtureFolder(url: SchemaLocations.repoRoot.appendingPathComponent(relative))
    }

    /// The file or folder at `relative` inside this folder.
    public func url(_ relative: String) -> URL { url.appendingPathComponent(relative) }
    /// `url(relative)` as a file-system path.
    public func path(_ relative: String) -> String { url.appendingPathComponent(relative).path }
    /// The folder at `relative` inside this one, as fixtures of its own.
    public func subfolder(_ relative: String) -> FixtureFolder { FixtureFolder(url: url(relative)) }

    /// The bytes of the file at `relative`; throws naming the path when it cannot be read.
    public func data(_ relative: String) throws -> Data { try Data(contentsOf: url(relative)) }

    /// A JSON fixture decoded as `T`.
    public func decode<T: Decodable>(_ type: T.Type, from relative: String) throws -> T {
        try JSONDecoder().decode(T.self, from: data(relative))
    }

    /// A JSON fixture whose top level is an object, as Foundation values.
    public func jsonObject(_ relative: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: data(relative)) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path(relative)])
        }
        return object
    }
}
