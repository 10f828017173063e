import Foundation
import XCTest

/// Places in the checkout the tests read from, found from this source file (no bundle needed).
public enum SchemaLocations {
    /// The repository root: the nearest folder above this file that holds `Package.swift`.
    public static let repoRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    /// `Results/schema/result.schema.json`, the schema every result document follows.
    public static var schemaPath: String { repoRoot.appendingPathComponent("Results/schema/result.schema.json").path }

    /// A validator for the committed result schema.
    public static func loadValidator() throws -> SchemaValidator {
        SchemaValidator(root: try JSON.parse(try Data(contentsOf: URL(fileURLWithPath: schemaPath))))
    }
}

/// Data shared between checkouts and kept out of the repository: `../shared/data/` beside it.
/// Tests that need it skip (XCTSkip) with a message when it is absent.
public enum SharedData {
    /// The shared folder: `$VLSAE_SHARED_DIR`, else the first folder named `shared` found beside
    /// the repository or one of its ancestors.
    public static var folder: URL? {
        if let env = ProcessInfo.processInfo.environment["VLSAE_SHARED_DIR"], !env.isEmpty {
            return URL(fileURLWithPath: env)
        }
        var dir = SchemaLocations.repoRoot
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("shared")
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDir), isDir.boolValue {
                return candidate
            }
            dir.deleteLastPathComponent()
        }
        return nil
    }

    /// The path of `relative` inside the shared folder, or XCTSkip saying what is missing.
    public static func file(_ relative: String) throws -> String {
        guard let folder else {
            throw XCTSkip(
                "shared folder not found (set VLSAE_SHARED_DIR, or keep ../shared beside the repository); needs \(relative)"
            )
        }
        let path = folder.appendingPathComponent(relative).path
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("\(path) is absent (set VLSAE_SHARED_DIR to the shared folder)")
        }
        return path
    }

    /// 500 real OpenAI CLIP ViT-B/32 COCO image–caption pairs, 2 × 500 × 512 (row 0 images, row 1
    /// captions): `data/coco500-clip/features_clip.npy`, described by its README there.
    public static func coco500Features() throws -> String { try file("data/coco500-clip/features_clip.npy") }
}
