import Foundation
import VLSAECore
import VLSAEJobs
import VLSAEReport
import XCTest

/// End to end: the small golden pipeline (synthetic suite, training, evaluation with alignment) writes the
/// same checkpoint and result bytes on every kernel path this CPU runs.
final class KernelPathJobTests: XCTestCase {
    func testSmallPipelineIsByteIdenticalOnEveryPath() throws {
        let tool = ToolRecord(version: "0.1.0", gitCommit: "unknown")
        var first: (path: KernelPath, checkpoint: Data, result: Data)?
        for path in KernelPath.supported {
            let dir = try SweepTestFiles.tempDir(self, "paths-\(path.rawValue)")
            _ = try KernelPath.with(path) { try RegressGolden.run(in: dir.path, tool: tool) }
            let checkpoint = try Data(contentsOf: dir.appendingPathComponent("sae.safetensors"))
            let result = try Data(contentsOf: dir.appendingPathComponent("result.json"))
            guard let f = first else { first = (path, checkpoint, result); continue }
            XCTAssertEqual(checkpoint, f.checkpoint, "checkpoint on \(path) differs from \(f.path)")
            XCTAssertEqual(result, f.result, "result document on \(path) differs from \(f.path)")
        }
    }
}
