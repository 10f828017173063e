import Foundation
import XCTest

/// A fresh, empty folder for the files one test writes: `vlsae-<tag>-<UUID>` in the temporary
/// directory (`$TMPDIR`, else `/tmp`). Make it with `XCTestCase.temporaryFolder(_:)`, which removes
/// it when the test ends, passed or failed; `make(_:)` and `remove()` are for the few places that
/// outlive one test (class-level set-up).
public struct TemporaryFolder: Sendable {
    /// The folder (it exists until the test ends or `remove()` is called).
    public let url: URL
    /// `url` as a file-system path.
    public var path: String { url.path }

    /// Creates the folder; whoever calls this removes it (`remove()`).
    public static func make(_ tag: String) throws -> TemporaryFolder {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vlsae-\(tag)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return TemporaryFolder(url: url)
    }

    /// The URL of `name` inside the folder (nothing is created).
    public func url(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// The path of `name` inside the folder (nothing is created).
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Removes the folder and everything in it; a folder already gone is fine.
    public func remove() { try? FileManager.default.removeItem(at: url) }
}

extension XCTestCase {
    /// A fresh folder that is removed at this test's teardown, whatever the outcome.
    public func temporaryFolder(_ tag: String) throws -> TemporaryFolder {
        let folder = try TemporaryFolder.make(tag)
        addTeardownBlock { folder.remove() }
        return folder
    }
}
