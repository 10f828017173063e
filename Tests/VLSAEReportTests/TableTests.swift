import Foundation
import VLSAECore
import VLSAEReport
import VLSAETestSupport
import XCTest

/// Report tables against expected text typed by hand from the definitions in Table.swift
/// (percent with one decimal by %.1f, signed differences, "-0.0" printed as "0.0", unweighted
/// average without interval). The numbers of the tiny document below avoid rounding ties except
/// where a rule is being tested.
final class TableTests: XCTestCase {
    static let sha = "41dff216ab19a055db30d71a0d094da9bceabc0a2bc317cb64dc4ba8b80afeb1"

    static func interval(_ lo: Double, _ hi: Double) -> ConfidenceInterval {
        ConfidenceInterval(low: lo, high: hi, level: 0.95, resamples: 1000, seed: 0)
    }

    static func row(
        _ dataset: String, acc1: Double, method: String = "cosine", variant: String = "cosine",
        alignment: AlignmentRecord? = nil, delta: Double? = nil, ci: (Double, Double)? = nil,
        sha: String = TableTests.sha
    ) -> ResultRow {
        var r = ResultRow(
            dataset: dataset, model: "ViT-B-32", pretrained: "laion2b_s34b_b79k",
            metrics: MetricValues(acc1: acc1, acc5: nil, meanPerClassRecall: acc1),
            method: method, variant: variant, intervals: [:], nImages: 100, nClasses: 10,
            nTemplates: 1, templateLevel: true, classnamesSha256: "", templatesSha256: "")
        if let alignment, let delta, let ci {
            r.alignment = alignment
            r.checkpoint = CheckpointRecord(
                path: "ckpt/vl_sae_256_8_best.pth", sha256: sha, arch: "vlsae",
                inputDim: 512, hiddenDim: 4096, hiddenRatio: 8, k: 256)
            r.comparison = ComparisonRecord(
                baseline: "cosine", deltas: ["acc1": delta],
                intervals: ["acc1": interval(ci.0, ci.1)], mcnemarP: 0.5,
                flips: FlipCounts(gained: 3, lost: 1))
        }
        return r
    }

    static func fixed() -> AlignmentRecord {
        AlignmentRecord(
            score: "cosine+concept", representation: "hidden", text: "average-first", k: 256,
            trainedK: 256, alpha: 1, alphaProtocol: "fixed", oracle: false)
    }

    static func oracle(_ alpha: Double) -> AlignmentRecord {
        AlignmentRecord(
            score: "cosine+concept", representation: "hidden", text: "average-first", k: 256,
            trainedK: 256, alpha: alpha, alphaProtocol: "oracle", oracle: true,
            alphaGrid: [0, 0.5, 1], selection: "evaluation-set")
    }

    static let fixedVariant = "representation=hidden,text=average-first,k=256,alpha=fixed:1"
    static let oracleVariant = "representation=hidden,text=average-first,k=256,alpha=oracle:0;0.5;1"

    static func document() -> ResultDocument {
        let rows = [
            row("cifar10", acc1: 0.9356),
            row(
                "cifar10", acc1: 0.9379, method: "cosine+concept", variant: fixedVariant, alignment: fixed(),
                delta: 0.0023, ci: (-0.0007, 0.0052)),
            row(
                "cifar10", acc1: 0.9412, method: "cosine+concept-oracle", variant: oracleVariant,
                alignment: oracle(1), delta: 0.0056, ci: (0.0021, 0.0093)),
            row("dtd", acc1: 0.5601),
            row(
                "dtd", acc1: 0.5538, method: "cosine+concept", variant: fixedVariant, alignment: fixed(),
                delta: -0.0063, ci: (-0.0141, 0.0012)),
            row(
                "dtd", acc1: 0.5640, method: "cosine+concept-oracle", variant: oracleVariant,
                alignment: oracle(0.5), delta: 0.0039, ci: (-0.0004, 0.0081)),
        ]
        return ResultDocument(
            tool: ToolRecord(version: "0.1.0", gitCommit: "unknown"), seeds: ["bootstrap": 0], inputs: [],
            results: rows,
            provenance: RunProvenance(command: ["vlsae"], kernelPath: "portable", threads: 1))
    }

    static let note1 =
        "[1] cosine+concept: representation=hidden,text=average-first,k=256,alpha=fixed:1; "
        + "alpha: fixed 1; checkpoint 41dff216ab19 (vlsae, k=256 of 256, hidden ratio 8, ckpt/vl_sae_256_8_best.pth); "
        + "model ViT-B-32/laion2b_s34b_b79k; 95% paired bootstrap, 1000 resamples, seed 0"
    static let note2 =
        "[2] cosine+concept-oracle: representation=hidden,text=average-first,k=256,alpha=oracle:0;0.5;1; "
        + "alpha: ORACLE, best of {0;0.5;1} on the evaluation set (cifar10=1, dtd=0.5); "
        + "checkpoint 41dff216ab19 (vlsae, k=256 of 256, hidden ratio 8, ckpt/vl_sae_256_8_best.pth); "
        + "model ViT-B-32/laion2b_s34b_b79k; 95% paired bootstrap, 1000 resamples, seed 0"
    static let cells =
        "Cells: acc1 in % (one decimal); enhanced columns add (difference to the baseline in "
        + "percentage points [paired-bootstrap interval]) on the same images; average = unweighted mean over "
        + "datasets of the metric and of the difference, without interval."
    static let oracleNote =
        "ORACLE: alpha chosen on the evaluation images themselves; an upper bound, not a held-out estimate."

    func table() throws -> ReportTable {
        try ReportTable(documents: [("a.json", Self.document())])
    }

    func testMarkdown() throws {
        let expected = """
            | dataset | cosine | cosine+concept [1] | cosine+concept-oracle [2] ORACLE |
            | --- | ---: | ---: | ---: |
            | cifar10 | 93.6 | 93.8 (+0.2 [-0.1, +0.5]) | 94.1 (+0.6 [+0.2, +0.9]) |
            | dtd | 56.0 | 55.4 (-0.6 [-1.4, +0.1]) | 56.4 (+0.4 [0.0, +0.8]) |
            | average | 74.8 | 74.6 (-0.2) | 75.3 (+0.5) |

            \(Self.note1)

            \(Self.note2)

            \(Self.cells)

            \(Self.oracleNote)

            """
        XCTAssertEqual(try table().render(.markdown), expected)
    }

    func testCSV() throws {
        func q(_ s: String) -> String { "\"" + s + "\"" }
        let expected = """
            dataset,cosine,cosine+concept [1],cosine+concept-oracle [2] ORACLE
            cifar10,93.6,"93.8 (+0.2 [-0.1, +0.5])","94.1 (+0.6 [+0.2, +0.9])"
            dtd,56.0,"55.4 (-0.6 [-1.4, +0.1])","56.4 (+0.4 [0.0, +0.8])"
            average,74.8,74.6 (-0.2),75.3 (+0.5)
            footnote,\(q(Self.note1)),,
            footnote,\(q(Self.note2)),,
            footnote,\(q(Self.cells)),,
            footnote,\(q(Self.oracleNote)),,

            """
        XCTAssertEqual(try table().render(.csv), expected)
    }

    func testLaTeX() throws {
        let expected = #"""
            \begin{tabular}{lrrr}
            \toprule
            dataset & cosine & cosine+concept [1] & cosine+concept-oracle [2] ORACLE \\
            \midrule
            cifar10 & 93.6 & 93.8 (+0.2 [-0.1, +0.5]) & 94.1 (+0.6 [+0.2, +0.9]) \\
            dtd & 56.0 & 55.4 (-0.6 [-1.4, +0.1]) & 56.4 (+0.4 [0.0, +0.8]) \\
            \midrule
            average & 74.8 & 74.6 (-0.2) & 75.3 (+0.5) \\
            \bottomrule
            \end{tabular}
            {\footnotesize [1] cosine+concept: representation=hidden,text=average-first,k=256,alpha=fixed:1; alpha: fixed 1; checkpoint 41dff216ab19 (vlsae, k=256 of 256, hidden ratio 8, ckpt/vl\_sae\_256\_8\_best.pth); model ViT-B-32/laion2b\_s34b\_b79k; 95\% paired bootstrap, 1000 resamples, seed 0\par}
            {\footnotesize [2] cosine+concept-oracle: representation=hidden,text=average-first,k=256,alpha=oracle:0;0.5;1; alpha: ORACLE, best of \{0;0.5;1\} on the evaluation set (cifar10=1, dtd=0.5); checkpoint 41dff216ab19 (vlsae, k=256 of 256, hidden ratio 8, ckpt/vl\_sae\_256\_8\_best.pth); model ViT-B-32/laion2b\_s34b\_b79k; 95\% paired bootstrap, 1000 resamples, seed 0\par}
            {\footnotesize Cells: acc1 in \% (one decimal); enhanced columns add (difference to the baseline in percentage points [paired-bootstrap interval]) on the same images; average = unweighted mean over datasets of the metric and of the difference, without interval.\par}
            {\footnotesize ORACLE: alpha chosen on the evaluation images themselves; an upper bound, not a held-out estimate.\par}

            """#
        XCTAssertEqual(try table().render(.latex), expected)
    }

    func testOracleIsLabelledInEveryFormat() throws {
        let t = try table()
        for format in ReportTable.Format.allCases {
            let text = t.render(format)
            // Every line mentioning the oracle column's values or variant also says ORACLE.
            for line in text.split(separator: "\n") where line.contains("oracle") {
                XCTAssertTrue(line.contains("ORACLE"), "\(format): \(line)")
            }
            let header = text.split(separator: "\n").first { $0.hasPrefix("dataset") || $0.hasPrefix("| dataset") }
            XCTAssertTrue(header?.contains("ORACLE") == true, "\(format) header")
        }
    }

    func testTwoCheckpointsGiveSeparateColumnsAndOneBaseline() throws {
        let other = String(repeating: "ab", count: 32)
        var second = Self.document()
        second.results = second.results.filter { $0.alignment == nil || $0.alignment?.oracle == false }.map {
            var r = $0
            if r.alignment != nil {
                r.checkpoint?.sha256 = other
                r.metrics.acc1 += 0.01
            }
            return r
        }
        let t = try ReportTable(documents: [("a.json", Self.document()), ("b.json", second)])
        XCTAssertEqual(
            t.columns.map(\.header),
            [
                "cosine", "cosine+concept [1] @41dff216", "cosine+concept-oracle [2] @41dff216 ORACLE",
                "cosine+concept [3] @abababab",
            ])
        XCTAssertTrue(t.columns[3].footnote!.contains("checkpoint abababababab"))
        XCTAssertEqual(t.cells[0][3], "94.8 (+0.2 [-0.1, +0.5])")
    }

    func testDiagnosticsCanBeLeftOut() throws {
        var doc = Self.document()
        var diag = doc.results[1]
        diag.method = "concept-only"
        diag.variant = "concept-only:representation=hidden,text=average-first,k=256"
        diag.alignment = AlignmentRecord(
            score: "concept-only", representation: "hidden", text: "average-first",
            k: 256, trainedK: 256, alpha: nil, alphaProtocol: "none", oracle: false)
        doc.results.append(diag)
        XCTAssertEqual(try ReportTable(documents: [("a.json", doc)]).columns.last?.header, "concept-only [3]")
        XCTAssertEqual(
            try ReportTable(documents: [("a.json", doc)], diagnostics: false).render(.markdown),
            try table().render(.markdown))
    }

    func testConflictingRowsNameBothFiles() throws {
        var second = Self.document()
        second.results[0].metrics.acc1 = 0.5
        XCTAssertThrowsError(try ReportTable(documents: [("a.json", Self.document()), ("b.json", second)])) {
            guard case VLSAEError.file(let path, let message)? = $0 as? VLSAEError else { return XCTFail("\($0)") }
            XCTAssertEqual(path, "b.json")
            XCTAssertTrue(message.contains("cifar10") && message.contains("a.json"), message)
        }
    }

    func testMissingCellsAndAverage() throws {
        var doc = Self.document()
        doc.results.remove(at: 5)  // dtd oracle
        let t = try ReportTable(documents: [("a.json", doc)])
        XCTAssertEqual(t.cells[1][2], "-")
        XCTAssertEqual(t.cells[2][2], "-")
        XCTAssertEqual(t.cells[2][0], "74.8")
    }

    func testDeterministicBytesThroughJSON() throws {
        let path = try temporaryFolder("table").path("r.json")
        try Self.document().write(to: path)
        let reread = try ResultDocument.read(from: path)
        for format in ReportTable.Format.allCases {
            let a = try ReportTable(documents: [("r.json", reread)]).render(format)
            let b = try ReportTable(documents: [("r.json", Self.document())]).render(format)
            XCTAssertEqual(Data(a.utf8), Data(b.utf8))
        }
    }

    func testRoundingRules() {
        XCTAssertEqual(ReportTable.percent(0.8125), "81.2")  // exact binary tie → even
        XCTAssertEqual(ReportTable.percent(0.81251), "81.3")
        XCTAssertEqual(ReportTable.signed(-0.0004), "0.0")
        XCTAssertEqual(ReportTable.signed(0.0004), "0.0")
        XCTAssertEqual(ReportTable.signed(0.0006), "+0.1")
        XCTAssertEqual(ReportTable.signed(-0.0123), "-1.2")
    }
}
