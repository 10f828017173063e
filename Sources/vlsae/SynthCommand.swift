import ArgumentParser
import Foundation
import VLSAECore
import VLSAESynth

/// `vlsae synth`: writes the planted-concept suite and prints its geometry next to real CLIP's.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate the synthetic planted-concept suite (training pairs, zero-shot sets, ground truth).")

    @Option(name: .long, help: "Output folder.") var out: String
    @Option(name: .long, help: "Random seed (every byte of the suite follows from it).") var seed: UInt64 = 0
    @Option(name: .long, help: "Embedding dimension.") var dim: Int = 512
    @Option(name: .long, help: "Number of planted concepts.") var concepts: Int = 1536
    @Option(name: .long, help: "Number of training pairs.") var trainPairs: Int = 30000
    @Option(name: .long, help: "Prompt templates per class.") var templates: Int = 6
    @Option(name: .long, help: "Zero-shot sets as name:classes:images, comma-separated.")
    var evalSets: String = "synth10:10:2000,synth100:100:5000,synth1000:1000:10000"
    @Flag(name: .long, help: "Write embeddings as float32 instead of float16.") var float32 = false
    @Flag(name: .long, help: "Regenerate even when an identical, intact suite is already there.") var force = false

    func run() throws {
        try reportingErrors { try generate() }
    }

    private func generate() throws {
        var p = SynthParameters()
        p.seed = seed
        p.dim = dim
        p.subspaceDim = min(p.subspaceDim, dim)
        p.concepts = concepts
        p.trainPairs = trainPairs
        p.templates = templates
        p.float16 = !float32
        p.evalSets = try evalSets.split(separator: ",").map { item in
            let parts = item.split(separator: ":").map(String.init)
            guard parts.count == 3, let c = Int(parts[1]), let n = Int(parts[2]) else {
                throw VLSAEError.usage("--eval-sets: \"\(item)\" is not name:classes:images")
            }
            return SynthEvalSetSpec(name: parts[0], classes: c, images: n)
        }
        try p.validate()

        let description: SynthSuiteDescription
        if !force, SynthSuite.verify(folder: out, parameters: p) {
            print("synth: \(out) already holds this suite (parameters and SHA-256 of every file match); reusing it")
            description = try SynthSuite.load(folder: out)
        } else {
            let report = try SynthSuite.generate(p, to: out, log: { Progress.note("synth: \($0)") })
            description = report.description
            print(String(format: "synth: wrote %@ (%.1f MB) in %.2f s", out, Double(report.totalBytes) / 1e6, report.seconds))
        }
        print(SynthCommand.table(description))
    }

    static func table(_ d: SynthSuiteDescription) -> String {
        let s = d.statistics, t = d.clipTargets, tol = SynthStatistics.tolerance
        var lines = ["training pairs: \(s.pairs)", "statistic                     synthetic   CLIP (coco500)   tolerance"]
        func row(_ name: String, _ v: Double, _ target: Double, _ tolText: String) {
            lines.append(name.padding(toLength: 30, withPad: " ", startingAt: 0)
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
        lines.append(bad.isEmpty ? "all statistics within tolerance" : "OUTSIDE tolerance: " + bad.joined(separator: "; "))
        lines.append("zero-shot top-1 (plain CLIP rule):")
        for e in d.evalSets {
            lines.append(String(format: "  %-12@ %5d classes %6d images  %5.1f %%", e.name as NSString, e.classes, e.images, 100 * e.zeroShotTop1))
        }
        return lines.joined(separator: "\n")
    }
}
