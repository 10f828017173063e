import Foundation
import VLSAECore
import VLSAEJobs
import VLSAEReport
import VLSAESynth
import VLSAETestSupport
import XCTest

/// The promise behind every result file: the same inputs, seeds and version give the same bytes on
/// every CPU and at every thread count. This runs the whole small golden pipeline (synth → train →
/// eval with two alignment variants) under every kernel path this CPU runs (`VLSAE_ISA`) at 1, 2
/// and 3 threads, and requires byte-identical suite files, checkpoint and result (the result's
/// `provenance` section aside, which names the path and thread count). Independence from OpenBLAS's
/// kernel choice follows from the design: no recorded number goes through OpenBLAS.
final class ReproducibilityTests: XCTestCase {
    private let tool = ToolRecord(version: "0.1.0", gitCommit: "unknown")

    func testSmallPipelineIsByteIdenticalOnEveryKernelPathAndThreadCount() throws {
        let original = KernelPath.active
        defer { try? KernelPath.use(original) }
        var reference: (label: String, files: [String: Data], result: Data)?
        let paths = KernelPath.supported
        XCTAssertTrue(paths.contains(.portable), "the portable path runs everywhere")
        for path in paths {
            try KernelPath.use(path)
            for threads in [1, 2, 3] {
                let label = "\(path.rawValue), \(threads) thread(s)"
                let dir = try temporaryFolder("repro").url
                let doc = try RegressGolden.run(in: dir.path, tool: tool, threads: threads)
                XCTAssertEqual(doc.provenance.kernelPath, path.rawValue, label)
                XCTAssertEqual(doc.provenance.threads, threads, label)
                XCTAssertEqual(doc.provenance.numerics, "deterministic", label)
                // Everything the pipeline wrote except the result file itself (its provenance differs).
                var files = try SweepTestFiles.snapshot(dir.path)
                files["result.json"] = nil
                XCTAssertNotNil(files["sae.safetensors"], label)
                XCTAssertNotNil(files["suite/suite.json"], label)
                let result = try doc.contentEncoded()
                if let ref = reference {
                    XCTAssertEqual(Set(files.keys), Set(ref.files.keys), "\(label) vs \(ref.label)")
                    for (name, bytes) in files.sorted(by: { $0.key < $1.key }) where ref.files[name] != bytes {
                        XCTFail("\(name) differs between \(ref.label) and \(label)")
                    }
                    XCTAssertEqual(result, ref.result, "result differs between \(ref.label) and \(label)")
                } else {
                    reference = (label, files, result)
                }
            }
        }
    }

    /// `VLSAE_ISA` is honoured by the executable, recorded in the result, and a path the CPU cannot
    /// run (or a misspelling) is a usage error, not a silent fallback.
    func testExecutableHonoursVLSAEISA() throws {
        let vlsae = try VLSAEExecutable.locate()
        let dir = try temporaryFolder("isa").url
        let suite = dir.appendingPathComponent("suite").path
        var p = RegressGolden.synthParameters
        p.trainPairs = 200
        _ = try SynthSuite.generate(p, to: suite)
        func run(_ isa: String?, _ out: String) throws -> (Int32, String) {
            let r = try vlsae.run(
                ["eval", "--data", "\(suite)/small10/manifest.json", "--out", out, "--threads", "2"],
                environment: ["VLSAE_ISA": isa])
            return (r.status, r.output)
        }
        var contents: [Data] = []
        for path in KernelPath.supported {
            let out = dir.appendingPathComponent("\(path.rawValue).json").path
            let (status, text) = try run(path.rawValue, out)
            XCTAssertEqual(status, 0, text)
            let doc = try ResultDocument.read(from: out)
            XCTAssertEqual(doc.provenance.kernelPath, path.rawValue)
            XCTAssertEqual(doc.provenance.threads, 2)
            contents.append(try doc.contentEncoded())
        }
        XCTAssertEqual(Set(contents).count, 1, "the same result on every path")
        let bad = try run("avx9000", dir.appendingPathComponent("bad.json").path)
        XCTAssertEqual(bad.0, 64, bad.1)
        XCTAssertTrue(bad.1.contains("VLSAE_ISA"), bad.1)
        if let missing = KernelPath.allCases.first(where: { !KernelPath.supported.contains($0) }) {
            let r = try run(missing.rawValue, dir.appendingPathComponent("missing.json").path)
            XCTAssertEqual(r.0, 64, r.1)
        }
    }
}
