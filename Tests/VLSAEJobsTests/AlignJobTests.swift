import Foundation
import VLSAECore
import VLSAEEval
import VLSAEJobs
import VLSAEReport
import VLSAETestSupport
import XCTest

/// `vlsae eval --sae … --alignment …` end to end on the committed alignment fixtures
/// (Tests/VLSAEEvalTests/Fixtures/align, from make_align_fixtures.py): accuracies and chosen α's
/// against the numpy reference exactly, checkpoint and table hashes against hashlib, flips
/// recounted from the reference ranks, schema validity, oracle labelling and determinism.
final class AlignJobTests: XCTestCase {
    struct Reference: Decodable {
        struct Variant: Decodable {
            let representation: String
            let text: String
            let k: Int
            let ranks: [[Int]]
            let acc1_counts: [Int]
            let concept_only_ranks: [Int]
            let validation_alpha: Double
            let oracle_alpha: Double
        }
        let grid: [Double]
        let variants: [Variant]
    }

    let folder = FixtureFolder.repository("Tests/VLSAEEvalTests/Fixtures/align").url
    var data: URL { folder.appendingPathComponent("data") }
    let tool = ToolRecord(version: "0.1.0", gitCommit: "unknown")

    func reference() throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: folder.appendingPathComponent("align.json")))
    }

    func variant(_ r: Reference, _ rep: String, _ text: String, _ k: Int) -> Reference.Variant {
        r.variants.first { $0.representation == rep && $0.text == text && $0.k == k }!
    }

    func tempFile(_ name: String) throws -> String { try temporaryFolder("align-job").path(name) }

    func run(
        _ specs: [String], manifest: String = "eval.json", validation: [String] = [], out: String,
        perClass: Bool = false, checkpoint: String = "sae.safetensors"
    ) throws -> ResultDocument {
        let cwd = FileManager.default.currentDirectoryPath
        defer { _ = FileManager.default.changeCurrentDirectoryPath(cwd) }
        _ = FileManager.default.changeCurrentDirectoryPath(data.path)
        let doc = try EvalJob.run(
            EvalJob.Options(
                manifests: [manifest], seed: 11, perClass: perClass, command: ["vlsae", "eval", "(test)"],
                tool: tool, progress: false,
                alignment: AlignmentOptions(
                    checkpoint: checkpoint, checkpointK: 6, specs: specs,
                    validation: validation)))
        try doc.write(to: out)
        return doc
    }

    static let specs = [
        "alpha=fixed:0.5",
        "representation=reconstruction,text=per-template,alpha=validated:2;1;0.5;0.25;0",
        "representation=reconstruction,alpha=oracle:0;0.25;0.5;1;2",
        "text=per-template,k=3,alpha=validated:0;0.25;0.5;1;2,folds=4",
        "alpha=table:alpha_table.json",
    ]

    func testRowsMatchTheNumpyReference() throws {
        let ref = try reference()
        let out = try tempFile("r.json")
        let doc = try run(Self.specs, validation: ["val.json"], out: out, perClass: true)
        let expected =
            try JSONSerialization.jsonObject(with: Data(contentsOf: data.appendingPathComponent("expected.json")))
            as! [String: String]
        let rows = doc.results
        XCTAssertEqual(
            rows.map(\.method),
            [
                "cosine",
                "cosine+concept", "concept-only",
                "cosine+concept", "concept-only",
                "cosine+concept-oracle", "concept-only",
                "cosine+concept", "concept-only",
                "cosine+concept",  // table: same concept-only variant as the first spec, not repeated
            ])
        XCTAssertEqual(
            rows.map { $0.variant ?? "" },
            [
                "cosine",
                "representation=hidden,text=average-first,k=6,alpha=fixed:0.5",
                "concept-only:representation=hidden,text=average-first,k=6",
                "representation=reconstruction,text=per-template,k=6,alpha=validated:0;0.25;0.5;1;2,val=val.json",
                "concept-only:representation=reconstruction,text=per-template,k=6",
                "representation=reconstruction,text=average-first,k=6,alpha=oracle:0;0.25;0.5;1;2",
                "concept-only:representation=reconstruction,text=average-first,k=6",
                "representation=hidden,text=per-template,k=3,alpha=validated:0;0.25;0.5;1;2,folds=4",
                "concept-only:representation=hidden,text=per-template,k=3",
                "representation=hidden,text=average-first,k=6,alpha=table:alpha_table.json",
            ])
        let n = 48.0
        let hiddenAvg = variant(ref, "hidden", "average-first", 6)
        let reconPer = variant(ref, "reconstruction", "per-template", 6)
        let reconAvg = variant(ref, "reconstruction", "average-first", 6)
        let hiddenPer3 = variant(ref, "hidden", "per-template", 3)
        XCTAssertEqual(rows[0].metrics.acc1, Double(hiddenAvg.acc1_counts[0]) / n)
        XCTAssertEqual(rows[1].metrics.acc1, Double(hiddenAvg.acc1_counts[2]) / n)  // α = 0.5
        XCTAssertEqual(rows[2].metrics.acc1, Double(hiddenAvg.concept_only_ranks.filter { $0 == 0 }.count) / n)
        let valIndex = ref.grid.firstIndex(of: reconPer.validation_alpha)!
        XCTAssertEqual(rows[3].alignment?.alpha, reconPer.validation_alpha)
        XCTAssertEqual(rows[3].alignment?.selection, "validation-manifest")
        XCTAssertEqual(rows[3].alignment?.validation?.path, "val.json")
        XCTAssertEqual(rows[3].metrics.acc1, Double(reconPer.acc1_counts[valIndex]) / n)
        XCTAssertEqual(rows[5].alignment?.alpha, reconAvg.oracle_alpha)
        XCTAssertEqual(rows[5].metrics.acc1, Double(reconAvg.acc1_counts.max()!) / n)
        XCTAssertEqual(rows[7].alignment?.folds?.count, 4)
        XCTAssertEqual(rows[7].alignment?.foldSeed, 11)
        XCTAssertNil(rows[7].alignment?.alpha)
        XCTAssertEqual(rows[9].alignment?.alpha, 0.5)
        XCTAssertEqual(
            rows[9].alignment?.alphaTable, FileDigest(path: "alpha_table.json", sha256: expected["alpha_table_sha256"]!)
        )
        XCTAssertEqual(rows[9].metrics, rows[1].metrics)
        XCTAssertEqual(Set(doc.seeds.keys), ["bootstrap", "folds"])
        XCTAssertTrue(hiddenPer3.acc1_counts.count == 5)

        // Every enhanced row: checkpoint identity, paired statistics consistent with the reference ranks.
        let base = hiddenAvg.ranks[0]
        for row in rows.dropFirst() {
            XCTAssertEqual(
                row.checkpoint,
                CheckpointRecord(
                    path: "sae.safetensors", sha256: expected["sae_sha256"]!,
                    arch: "vlsae", inputDim: 8, hiddenDim: 32, hiddenRatio: 4, k: 6))
            let c = try XCTUnwrap(row.comparison)
            XCTAssertEqual(c.baseline, "cosine")
            XCTAssertEqual(c.deltas["acc1"]!, row.metrics.acc1 - rows[0].metrics.acc1, accuracy: 1e-12)
            XCTAssertEqual(
                c.deltas["mean_per_class_recall"]!, row.metrics.meanPerClassRecall - rows[0].metrics.meanPerClassRecall,
                accuracy: 1e-12)
            XCTAssertEqual(Set(c.intervals.keys), ["acc1", "acc5", "mean_per_class_recall"])
            for (_, ci) in c.intervals {
                XCTAssertEqual(ci.seed, 11)
                XCTAssertEqual(ci.resamples, 1000)
            }
            XCTAssertEqual(c.mcnemarP, McNemar.exactPValue(b: c.flips.gained, c: c.flips.lost))
            XCTAssertEqual(c.perClassRecallDelta?.count, 6)
        }
        // Flips recounted from the numpy ranks for the fixed-α row.
        let enhanced = hiddenAvg.ranks[2]
        let gained = zip(base, enhanced).filter { $0 != 0 && $1 == 0 }.count
        let lost = zip(base, enhanced).filter { $0 == 0 && $1 != 0 }.count
        XCTAssertEqual(rows[1].comparison?.flips, FlipCounts(gained: gained, lost: lost))
        XCTAssertTrue(
            doc.inputs.contains(
                FileDigest(path: "sae.safetensors", sha256: expected["sae_sha256"]!, role: "sae_checkpoint")))
        XCTAssertTrue(doc.inputs.contains { $0.role == "validation_manifest" && $0.path == "val.json" })

        XCTAssertEqual(
            try SchemaLocations.loadValidator().validate(
                try JSON.parse(try Data(contentsOf: URL(fileURLWithPath: out)))), [])
    }

    func testOracleNeverUnlabelledAndOutputDeterministic() throws {
        let a = try tempFile("a.json")
        let b = try tempFile("b.json")
        let doc = try run(Self.specs, out: a)
        _ = try run(Self.specs, out: b)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: b)))
        for row in doc.results {
            let oracle = row.alignment?.oracle == true
            XCTAssertEqual(row.method.contains("oracle"), oracle, row.method)
            XCTAssertEqual((row.variant ?? "").contains("oracle"), oracle, row.variant ?? "")
            if oracle { XCTAssertEqual(row.alignment?.selection, "evaluation-set") }
        }
        XCTAssertEqual(doc.results.filter { $0.alignment?.oracle == true }.count, 1)
        let table = try ReportTable(documents: [(a, doc)])
        for format in ReportTable.Format.allCases {
            let text = table.render(format)
            for line in text.split(separator: "\n") where line.lowercased().contains("oracle") {
                XCTAssertTrue(line.contains("ORACLE"), "\(format): \(line)")
            }
            XCTAssertEqual(text, try ReportTable(documents: [(a, ResultDocument.read(from: b))]).render(format))
        }
    }

    /// The official torch.save state dict gives the same rows; only the checkpoint record differs.
    func testOfficialPthCheckpointGivesTheSameRows() throws {
        let expected =
            try JSONSerialization.jsonObject(with: Data(contentsOf: data.appendingPathComponent("expected.json")))
            as! [String: String]
        let a = try run(Self.specs, out: try tempFile("a.json"))
        let b = try run(Self.specs, out: try tempFile("b.json"), checkpoint: "sae.pth")
        XCTAssertEqual(b.results.count, a.results.count)
        for (x, y) in zip(a.results, b.results) {
            var y = y
            if y.checkpoint != nil {
                XCTAssertEqual(y.checkpoint?.sha256, expected["sae_pth_sha256"])
                XCTAssertEqual(y.checkpoint?.path, "sae.pth")
                y.checkpoint = x.checkpoint
            }
            XCTAssertEqual(x, y)
        }
    }

    func testErrorsNameTheProblem() throws {
        let out = try tempFile("e.json")
        func message(_ body: () throws -> Void) -> String {
            do {
                try body()
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(
            message { _ = try run(["text=per-template,alpha=fixed:1"], manifest: "averaged.json", out: out) }
                .contains("provides only an averaged classifier"))
        XCTAssertTrue(message { _ = try run(["alpha=fixed:1,k=7"], out: out) }.contains("exceeds the trained k = 6"))
        XCTAssertTrue(
            message { _ = try run(["alpha=fixed:1"], validation: ["averaged.json", "val.json"], out: out) }
                .contains("second validation manifest for dataset \"toy\""))
        let table = try tempFile("a6.json")
        try Data(#"{"cifar10": 1}"#.utf8).write(to: URL(fileURLWithPath: table))
        let m = message { _ = try run(["alpha=table:\(table)"], out: out) }
        XCTAssertTrue(m.hasPrefix(table) && m.contains("no entry for dataset \"toy\""), m)
        XCTAssertTrue(
            message { _ = try run(["alpha=sometimes"], out: out) }.contains("alignment spec \"alpha=sometimes\""))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing is written when a run fails")
    }

    /// The real CLI: eval with alignment, then report in every format (deterministic, oracle
    /// labelled); a bad spec exits 64 with the spec quoted. Skips when the executable is not built.
    func testCommandLine() throws {
        let executable = try VLSAEExecutable.locate()
        func vlsae(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
            let r = try executable.run(args, in: data)
            return (r.status, r.stdout, r.stderr)
        }
        let result = try tempFile("cli.json")
        let eval = try vlsae([
            "eval", "--data", "eval.json", "--sae", "sae.safetensors", "--sae-k", "6",
            "--alignment", "alpha=fixed:0.5", "--alignment", "alpha=oracle:0;1", "--out", result,
        ])
        XCTAssertEqual(eval.status, 0, eval.err)
        for format in ["markdown", "csv", "latex"] {
            let a = try vlsae(["report", result, "--format", format])
            let b = try vlsae(["report", result, "--format", format])
            XCTAssertEqual(a.status, 0, a.err)
            XCTAssertEqual(a.out, b.out)
            XCTAssertTrue(a.out.contains("ORACLE"), format)
            for line in a.out.split(separator: "\n") where line.lowercased().contains("oracle") {
                XCTAssertTrue(line.contains("ORACLE"), "\(format): \(line)")
            }
        }
        let bad = try vlsae([
            "eval", "--data", "eval.json", "--sae", "sae.safetensors", "--alignment", "alpha=maybe:1",
            "--out", try tempFile("bad.json"),
        ])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.err.contains("alignment spec \"alpha=maybe:1\""), bad.err)
    }
}
