import ArgumentParser
import Foundation
import VLSAECore
import VLSAEJobs
import VLSAESynth

/// `vlsae synth`: writes the planted-concept suite and prints its geometry next to real CLIP's.
struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate the synthetic planted-concept suite (training pairs, zero-shot sets, ground truth).",
        discussion: """
            Every byte of the suite follows from --seed and the other options. A folder that already \
            holds the same suite intact (suite.json's parameters and every file's SHA-256 match) is \
            reused, unless --force.
            """)

    @Option(help: "Output folder.") var out: String
    @OptionGroup var seeding: SeedOption
    @Option(help: "Embedding dimension.") var dim: Int = 512
    @Option(help: "Number of planted concepts.") var concepts: Int = 1536
    @Option(help: "Number of training pairs.") var trainPairs: Int = 30000
    @Option(help: "Prompt templates per class.") var templates: Int = 6
    @Option(help: "Zero-shot sets as name:classes:images, comma-separated.")
    var evalSets: String = "synth10:10:2000,synth100:100:5000,synth1000:1000:10000"
    @Flag(help: "Write embeddings as float32 instead of float16.") var float32 = false
    @Flag(help: "Regenerate even when an identical, intact suite is already there.") var force = false
    @OptionGroup var progress: ProgressOption

    func run() throws {
        try reportingErrors {
            let p = SynthParameters(
                seed: seeding.seed, dim: dim, subspaceDim: min(SynthParameters().subspaceDim, dim), concepts: concepts,
                trainPairs: trainPairs, templates: templates, evalSets: try SynthJob.evalSets(parsing: evalSets),
                float16: !float32)
            let log: ((String) -> Void)? = progress.enabled ? { Progress.note("synth: \($0)") } : nil
            let report = try SynthJob.run(SynthJob.Options(folder: out, parameters: p, force: force, log: log))
            if report.reused {
                print("synth: \(out) already holds this suite (parameters and SHA-256 of every file match); reusing it")
            } else {
                print(
                    String(
                        format: "synth: wrote %@ (%.1f MB) in %.2f s", out, Double(report.totalBytes) / 1e6,
                        report.seconds))
            }
            print(SynthJob.table(report.description))
        }
    }
}
