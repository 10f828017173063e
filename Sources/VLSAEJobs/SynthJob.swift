import Foundation
import VLSAECore
import VLSAESynth

/// `vlsae synth`: the planted-concept suite in a folder, reused when the folder already holds this
/// exact suite intact (same parameters, every file's SHA-256 as `suite.json` records it). The suite
/// is the job's output: `SynthSuite.generate` writes it file by file (each atomically, `suite.json`
/// last), so that a suite larger than memory never has to be held whole.
public enum SynthJob {
    /// What `vlsae synth` passes.
    @MemberwiseInit
    public struct Options {
        /// The suite's folder (`--out`).
        public var folder: String
        /// Generator parameters (seed, sizes, zero-shot sets); validated before anything is written.
        public var parameters: SynthParameters
        /// Regenerate even when an identical, intact suite is already there.
        public var force: Bool = false
        /// One line per step, as the suite is generated.
        public var log: ((String) -> Void)? = nil
    }

    /// What `run(_:)` did.
    public struct Report: Sendable {
        /// The suite's `suite.json`: files, SHA-256s, statistics and each zero-shot set's baseline top-1.
        public var description: SynthSuiteDescription
        /// True when the folder already held this suite and nothing was written.
        public var reused: Bool
        /// Bytes written and seconds taken (0 when reused).
        public var totalBytes: Int
        /// Seconds taken generating (0 when reused).
        public var seconds: Double
    }

    /// Generates the suite into `o.folder`, or returns its description untouched when the folder already holds this
    /// exact suite intact and `force` is false.
    public static func run(_ o: Options) throws -> Report {
        try o.parameters.validate()
        if !o.force, SynthSuite.verify(folder: o.folder, parameters: o.parameters) {
            return Report(description: try SynthSuite.load(folder: o.folder), reused: true, totalBytes: 0, seconds: 0)
        }
        let r = try SynthSuite.generate(o.parameters, to: o.folder, log: o.log)
        return Report(description: r.description, reused: false, totalBytes: r.totalBytes, seconds: r.seconds)
    }

    /// Zero-shot sets written as `name:classes:images`, comma-separated (`--eval-sets`).
    public static func evalSets(parsing text: String) throws -> [SynthEvalSetSpec] {
        try text.split(separator: ",").map { item in
            let parts = item.split(separator: ":").map(String.init)
            guard parts.count == 3, let c = Int(parts[1]), let n = Int(parts[2]) else {
                throw VLSAEError.usage("--eval-sets: \"\(item)\" is not name:classes:images")
            }
            return SynthEvalSetSpec(name: parts[0], classes: c, images: n)
        }
    }

    /// The suite's geometry next to real CLIP's, and each zero-shot set's baseline top-1.
    public static func table(_ d: SynthSuiteDescription) -> String {
        let s = d.statistics
        let t = d.clipTargets
        let tol = SynthStatistics.tolerance
        var lines = [
            "training pairs: \(s.pairs)", "statistic                     synthetic   CLIP (coco500)   tolerance",
        ]
        func row(_ name: String, _ v: Double, _ target: Double, _ tolText: String) {
            lines.append(
                name.padding(toLength: 30, withPad: " ", startingAt: 0)
                    + String(format: "%9.3f   %14.3f   %@", v, target, tolText))
        }
        row("matched cosine", s.matchedCosine, t.matchedCosine, String(format: "± %.2f", tol.matched))
        row("unmatched cosine", s.unmatchedCosine, t.unmatchedCosine, String(format: "± %.2f", tol.unmatched))
        row("image–image cosine", s.imageImageCosine, t.imageImageCosine, String(format: "± %.2f of 0.52", tol.within))
        row("text–text cosine", s.textTextCosine, t.textTextCosine, String(format: "± %.2f of 0.52", tol.within))
        row("modality gap", s.modalityGap, t.modalityGap, String(format: "± %.2f", tol.gap))
        row("effective rank, images", s.imageEffectiveRank, t.imageEffectiveRank, "70–140")
        row("effective rank, texts", s.textEffectiveRank, t.textEffectiveRank, "70–140")
        row("image→text R@1 (\(s.retrievalPool))", s.imageToTextR1, t.imageToTextR1, "(not tuned)")
        let bad = s.outsideTolerance()
        lines.append(
            bad.isEmpty ? "all statistics within tolerance" : "OUTSIDE tolerance: " + bad.joined(separator: "; "))
        lines.append("zero-shot top-1 (plain CLIP rule):")
        for e in d.evalSets {
            lines.append(
                String(
                    format: "  %-12@ %5d classes %6d images  %5.1f %%", e.name as NSString, e.classes, e.images,
                    100 * e.zeroShotTop1))
        }
        return lines.joined(separator: "\n")
    }
}
