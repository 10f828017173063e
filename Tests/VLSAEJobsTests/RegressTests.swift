import Foundation
import VLSAECore
import VLSAEJobs
import VLSAEReport
import VLSAETestSupport
import XCTest

/// `vlsae regress` on hand-made result documents: every outcome (0, 1, 2) and the rules behind it.
final class RegressTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = try temporaryFolder("regress").url
    }

    private func row(
        _ dataset: String, _ method: String, acc1: Double, acc5: Double? = 0.9, mpcr: Double = 0.6,
        interval: (Double, Double)? = nil, delta: Double? = nil, deltaInterval: (Double, Double)? = nil,
        nImages: Int = 1000, templates: String = "t1"
    ) -> ResultRow {
        let iv = interval ?? (acc1 - 0.02, acc1 + 0.02)
        var comparison: ComparisonRecord? = nil
        if let delta {
            let di = deltaInterval ?? (delta - 0.01, delta + 0.01)
            comparison = ComparisonRecord(
                baseline: "cosine", deltas: ["acc1": delta, "acc5": 0, "mean_per_class_recall": delta],
                intervals: ["acc1": ConfidenceInterval(low: di.0, high: di.1, level: 0.95, resamples: 1000, seed: 0)],
                mcnemarP: 0.3, flips: FlipCounts(gained: 5, lost: 3))
        }
        return ResultRow(
            dataset: dataset, model: "ViT-B-32", pretrained: "x",
            metrics: MetricValues(acc1: acc1, acc5: acc5, meanPerClassRecall: mpcr), method: method,
            intervals: ["acc1": ConfidenceInterval(low: iv.0, high: iv.1, level: 0.95, resamples: 1000, seed: 0)],
            nImages: nImages, nClasses: 10, nTemplates: 2, templateLevel: true,
            classnamesSha256: "c1", templatesSha256: templates, comparison: comparison)
    }

    private let inputs = [
        FileDigest(path: "a/manifest.json", sha256: String(repeating: "a", count: 64), role: "manifest"),
        FileDigest(path: "a/images.npy", sha256: String(repeating: "b", count: 64), role: "image_embeddings"),
    ]

    private func baselineRows() -> [ResultRow] {
        [
            row("cifar10", "cosine", acc1: 0.900), row("cifar10", "cosine+concept", acc1: 0.905, delta: 0.005),
            row("dtd", "cosine", acc1: 0.560, acc5: 0.85),
        ]
    }

    /// Writes a document; `variants` adds the "variant" key that alignment rows carry.
    private func write(
        _ name: String, rows: [ResultRow], inputs: [FileDigest]? = nil,
        variants: [Int: String] = [1: "representation=hidden,text=average-first,k=256,alpha=fixed:1"]
    ) throws -> String {
        let doc = ResultDocument(
            tool: ToolRecord(version: "0.1.0", gitCommit: "unknown"), seeds: ["bootstrap": 0],
            inputs: inputs ?? self.inputs, results: rows,
            provenance: RunProvenance(command: ["vlsae", "eval"], kernelPath: "portable", threads: 1))
        var object = try JSONSerialization.jsonObject(with: try doc.encoded()) as! [String: Any]
        var results = object["results"] as! [[String: Any]]
        for (i, v) in variants where i < results.count { results[i]["variant"] = v }
        object["results"] = results
        return try writeObject(object, name)
    }

    /// The JSON object in the file at `path`.
    private func readObject(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    /// Writes `object` as sorted-key JSON to `name` in the test folder; returns its path.
    private func writeObject(_ object: [String: Any], _ name: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testIdenticalAndWithinTolerancePass() throws {
        let golden = try write("golden.json", rows: baselineRows())
        let same = RegressJob.run(baseline: golden, candidate: try write("same.json", rows: baselineRows()))
        XCTAssertEqual(same.outcome, .pass)
        XCTAssertEqual(same.outcome.rawValue, 0)
        XCTAssertEqual(same.rowsCompared, 3)
        XCTAssertTrue(same.lines.allSatisfy { $0.status == .same })

        var rows = baselineRows()
        rows[0].metrics.acc1 = 0.896  // −0.004 ≤ default 0.005
        rows[2].metrics.acc1 = 0.570  // +0.010: an improvement
        let r = RegressJob.run(baseline: golden, candidate: try write("near.json", rows: rows))
        XCTAssertEqual(r.outcome, .pass, r.text())
        let changed = r.lines.filter { $0.status != .same }
        XCTAssertEqual(changed.map(\.status), [.withinTolerance, .improved])
        XCTAssertEqual(changed[0].change, -0.004, accuracy: 1e-12)
        XCTAssertTrue(r.text().contains("cifar10 | cosine | -"))
        XCTAssertTrue(r.text().hasSuffix("all within tolerance"))
    }

    /// Rewrites a document into schema 1 (command at the top, no provenance): what older versions
    /// wrote, computed through OpenBLAS.
    private func asSchema1(_ path: String, name: String) throws -> String {
        var object = try readObject(path)
        object["schema_version"] = 1
        object["command"] = (object["provenance"] as! [String: Any])["command"]
        object["provenance"] = nil
        return try writeObject(object, name)
    }

    func testOtherNumericsAreComparedWithinToleranceAndSaidSo() throws {
        let golden = try write("golden.json", rows: baselineRows())
        var rows = baselineRows()
        rows[0].metrics.acc1 = 0.898
        let old = try asSchema1(try write("cand.json", rows: rows), name: "old.json")
        XCTAssertEqual(try ResultDocument.read(from: old).provenance.numerics, "unrecorded")
        let r = RegressJob.run(baseline: golden, candidate: old)
        XCTAssertEqual(r.outcome, .pass, r.text())
        XCTAssertTrue(r.text().contains("numerics differ (baseline deterministic, candidate unrecorded)"), r.text())
        XCTAssertTrue(r.text().contains("within tolerance"), r.text())
        // The same inputs but other numerics can never be byte-identical: --exact says not comparable.
        let exact = RegressJob.run(baseline: golden, candidate: old, exact: true)
        XCTAssertEqual(exact.outcome, .incomparable, exact.text())
        // Different inputs stay not comparable, whatever the numerics.
        let otherInputs = try asSchema1(
            try write("other.json", rows: rows, inputs: [inputs[0]]), name: "old-other.json")
        XCTAssertEqual(RegressJob.run(baseline: golden, candidate: otherInputs).outcome, .incomparable)
        // A schema this version does not know is refused, not read loosely.
        var object = try readObject(golden)
        object["schema_version"] = 99
        let future = try writeObject(object, "future.json")
        let f = RegressJob.run(baseline: golden, candidate: future)
        XCTAssertEqual(f.outcome, .incomparable)
        XCTAssertTrue(f.text().contains("schema_version 99"), f.text())
    }

    func testExactRequiresEveryRowByteForByte() throws {
        let golden = try write("golden.json", rows: baselineRows())
        let same = RegressJob.run(
            baseline: golden, candidate: try write("same.json", rows: baselineRows()), exact: true)
        XCTAssertEqual(same.outcome, .pass, same.text())
        XCTAssertTrue(same.text().hasSuffix("3 rows reproduced byte for byte"), same.text())
        // An interval bound moved in the last bits: no tolerance check sees it, --exact does.
        var rows = baselineRows()
        rows[2].intervals["acc1"]!.high = rows[2].intervals["acc1"]!.high.nextUp
        let moved = try write("moved.json", rows: rows)
        XCTAssertEqual(RegressJob.run(baseline: golden, candidate: moved).outcome, .pass)
        let r = RegressJob.run(baseline: golden, candidate: moved, exact: true)
        XCTAssertEqual(r.outcome, .regression, r.text())
        XCTAssertEqual(r.mismatches, ["row dtd | cosine | - differs at intervals.acc1.high"])
        XCTAssertTrue(r.text().contains("NOT REPRODUCED: 1 of 3 rows"), r.text())
    }

    func testDropBeyondToleranceIsARegression() throws {
        let golden = try write("golden.json", rows: baselineRows())
        var rows = baselineRows()
        rows[1].metrics.acc1 = 0.895
        rows[1].comparison!.deltas["acc1"] = -0.005  // the alignment's gain vanished: Δ dropped by 0.010
        let cand = try write("worse.json", rows: rows)
        let r = RegressJob.run(baseline: golden, candidate: cand)
        XCTAssertEqual(r.outcome, .regression)
        XCTAssertEqual(r.outcome.rawValue, 1)
        XCTAssertEqual(r.regressions.map(\.metric), ["acc1", "delta_acc1"])
        XCTAssertTrue(
            r.regressions.allSatisfy {
                $0.row == "cifar10 | cosine+concept | representation=hidden,text=average-first,k=256,alpha=fixed:1"
            })
        // A looser tolerance lets the same drop through; a zero one catches a 0.001 change.
        var loose = RegressJob.Tolerances()
        try loose.apply(["acc1=0.02,delta_acc1=0.02"])
        XCTAssertEqual(RegressJob.run(baseline: golden, candidate: cand, tolerances: loose).outcome, .pass)
        var strict = RegressJob.Tolerances()
        try strict.apply(["all=0"])
        var tiny = baselineRows()
        tiny[2].metrics.meanPerClassRecall -= 0.001
        let t = RegressJob.run(baseline: golden, candidate: try write("tiny.json", rows: tiny), tolerances: strict)
        XCTAssertEqual(t.outcome, .regression)
        XCTAssertEqual(t.regressions.map(\.metric), ["mean_per_class_recall"])
        XCTAssertEqual(RegressJob.run(baseline: golden, candidate: try write("tiny2.json", rows: tiny)).outcome, .pass)
    }

    func testRequireOverlapFlagsDisjointIntervals() throws {
        let golden = try write("golden.json", rows: baselineRows())
        var rows = baselineRows()
        // Within the 0.005 tolerance, but the candidate's interval lies wholly below the golden one.
        rows[2].metrics.acc1 = 0.556
        rows[2].intervals["acc1"] = ConfidenceInterval(low: 0.50, high: 0.538, level: 0.95, resamples: 1000, seed: 0)
        let cand = try write("shifted.json", rows: rows)
        XCTAssertEqual(RegressJob.run(baseline: golden, candidate: cand).outcome, .pass)
        let r = RegressJob.run(baseline: golden, candidate: cand, requireOverlap: true)
        XCTAssertEqual(r.outcome, .regression)
        XCTAssertEqual(r.regressions.map(\.metric), ["acc1 interval"])
        XCTAssertEqual(r.regressions[0].status, .disjointWorse)
        // Overlapping intervals pass.
        rows[2].intervals["acc1"] = ConfidenceInterval(low: 0.50, high: 0.545, level: 0.95, resamples: 1000, seed: 0)
        XCTAssertEqual(
            RegressJob.run(baseline: golden, candidate: try write("touch.json", rows: rows), requireOverlap: true)
                .outcome, .pass)
        // A disjoint delta interval above the golden one is reported but is not a regression.
        var up = baselineRows()
        up[1].comparison!.intervals["acc1"] = ConfidenceInterval(
            low: 0.02, high: 0.03, level: 0.95, resamples: 1000, seed: 0)
        let u = RegressJob.run(baseline: golden, candidate: try write("up.json", rows: up), requireOverlap: true)
        XCTAssertEqual(u.outcome, .pass)
        XCTAssertEqual(u.lines.filter { $0.status == .disjointBetter }.map(\.metric), ["delta_acc1 interval"])
    }

    func testIncomparableFilesAreExitTwoWithTheDifferencesListed() throws {
        let golden = try write("golden.json", rows: baselineRows())
        // Changed input content (same path).
        var changed = inputs
        changed[1].sha256 = String(repeating: "c", count: 64)
        let a = RegressJob.run(
            baseline: golden, candidate: try write("inputs.json", rows: baselineRows(), inputs: changed))
        XCTAssertEqual(a.outcome, .incomparable)
        XCTAssertEqual(a.outcome.rawValue, 2)
        XCTAssertEqual(
            a.incomparable,
            ["input image_embeddings a/images.npy: sha256 bbbbbbbbbbbb… in baseline, cccccccccccc… in candidate"])
        // Same content under another path is comparable.
        var moved = inputs
        moved[0].path = "elsewhere/manifest.json"
        XCTAssertEqual(
            RegressJob.run(baseline: golden, candidate: try write("moved.json", rows: baselineRows(), inputs: moved))
                .outcome, .pass)
        // Templates changed in one row, and a row missing.
        var rows = baselineRows()
        rows[0].templatesSha256 = "t2"
        rows.remove(at: 2)
        let b = RegressJob.run(baseline: golden, candidate: try write("rows.json", rows: rows))
        XCTAssertEqual(b.outcome, .incomparable)
        XCTAssertEqual(b.incomparable.count, 2, b.text())
        XCTAssertTrue(b.incomparable[0].contains("cifar10 | cosine | -: templates differ"))
        XCTAssertTrue(b.incomparable[1].contains("dtd | cosine | - is missing from the candidate"))
        // A different variant string is a different row: missing, plus a new row listed.
        let c = RegressJob.run(
            baseline: golden,
            candidate: try write("variant.json", rows: baselineRows(), variants: [1: "representation=reconstruction"]))
        XCTAssertEqual(c.outcome, .incomparable)
        XCTAssertEqual(c.newRows, ["cifar10 | cosine+concept | representation=reconstruction"])
        // Unreadable or malformed files.
        let missing = RegressJob.run(baseline: golden, candidate: dir.appendingPathComponent("nope.json").path)
        XCTAssertEqual(missing.outcome, .incomparable)
        XCTAssertTrue(missing.incomparable[0].contains("nope.json: no such file"))
        let bad = dir.appendingPathComponent("bad.json").path
        try Data("{\"schema_version\": 2, \"inputs\": []}".utf8).write(to: URL(fileURLWithPath: bad))
        XCTAssertTrue(
            RegressJob.run(baseline: golden, candidate: bad).incomparable[0].contains("missing key \"results\""))
        // Image counts differ.
        var fewer = baselineRows()
        fewer[0].nImages = 999
        XCTAssertTrue(
            RegressJob.run(baseline: golden, candidate: try write("n.json", rows: fewer)).incomparable[0].contains(
                "1000 images in baseline, 999"))
    }

    func testToleranceParsing() throws {
        var t = RegressJob.Tolerances()
        XCTAssertEqual(t.values["acc1"], RegressJob.defaultTolerance)
        try t.apply(["acc1=0.002", "delta_acc1=0.01,acc5=0"])
        XCTAssertEqual(t.values["acc1"], 0.002)
        XCTAssertEqual(t.values["delta_acc1"], 0.01)
        XCTAssertEqual(t.values["acc5"], 0)
        XCTAssertEqual(t.values["mean_per_class_recall"], RegressJob.defaultTolerance)
        XCTAssertThrowsError(try t.apply(["top1=0.1"]))
        XCTAssertThrowsError(try t.apply(["acc1=-1"]))
        XCTAssertThrowsError(try t.apply(["acc1"]))
    }
}

/// The built `vlsae regress` returns the documented exit statuses.
final class RegressCommandTests: XCTestCase {
    func testExitStatuses() throws {
        let vlsae = try VLSAEExecutable.locate()
        let dir = try temporaryFolder("regress-cli").url
        func doc(_ acc1: Double, sha: String = String(repeating: "a", count: 64)) throws -> String {
            let d = ResultDocument(
                tool: ToolRecord(version: "0.1.0", gitCommit: "unknown"), seeds: [:],
                inputs: [FileDigest(path: "m.json", sha256: sha, role: "manifest")],
                results: [
                    ResultRow(
                        dataset: "d", model: "m", pretrained: "p",
                        metrics: MetricValues(acc1: acc1, acc5: nil, meanPerClassRecall: acc1),
                        method: "cosine", intervals: [:], nImages: 10, nClasses: 2, nTemplates: 1,
                        templateLevel: true, classnamesSha256: "c", templatesSha256: "t")
                ],
                provenance: RunProvenance(command: ["vlsae"], kernelPath: "portable", threads: 1))
            let path = dir.appendingPathComponent("\(acc1)-\(sha.prefix(1)).json").path
            try d.write(to: path)
            return path
        }
        func status(_ args: [String]) throws -> (Int32, String) {
            let r = try vlsae.run(["regress"] + args)
            return (r.status, r.output)
        }
        let golden = try doc(0.8)
        XCTAssertEqual(try status(["--baseline", golden, "--candidate", try doc(0.8)]).0, 0)
        let worse = try status(["--baseline", golden, "--candidate", try doc(0.7)])
        XCTAssertEqual(worse.0, 1, worse.1)
        XCTAssertTrue(worse.1.contains("REGRESSION"), worse.1)
        XCTAssertEqual(
            try status([
                "--baseline", golden, "--candidate", try doc(0.7), "--tolerance", "acc1=0.2",
                "mean_per_class_recall=0.2",
            ]).0, 0)
        let other = try status([
            "--baseline", golden, "--candidate", try doc(0.8, sha: String(repeating: "b", count: 64)),
        ])
        XCTAssertEqual(other.0, 2, other.1)
        XCTAssertTrue(other.1.contains("NOT COMPARABLE"), other.1)
        XCTAssertEqual(
            try status(["--baseline", golden, "--candidate", dir.appendingPathComponent("absent.json").path]).0, 2)
        XCTAssertEqual(try status(["--baseline", golden, "--candidate", golden, "--tolerance", "bogus=1"]).0, 64)
    }
}
