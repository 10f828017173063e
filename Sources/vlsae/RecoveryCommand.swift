import ArgumentParser
import Foundation
import VLSAECore
import VLSAEJobs
import VLSAESynth

struct RecoveryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery",
        abstract: "Concept recovery of a VL-SAE checkpoint against a synthetic suite's planted concepts.",
        discussion: """
            For each planted concept: the best cosine with any encoder row and with any decoder column, \
            per modality, in that modality's concept space with the modality offset projected out. \
            Reports the fraction of concepts matched at cosine ≥ --threshold and the mean best cosine.
            """)

    @Option(help: ArgumentHelp("VL-SAE checkpoint.", valueName: "checkpoint"))
    var sae: String

    @Option(help: ArgumentHelp("Suite folder written by vlsae synth.", valueName: "folder"))
    var suite: String

    @Option(help: "Cosine at which a concept counts as recovered.")
    var threshold: Double = 0.9

    @Option(help: ArgumentHelp("Also write the figures as JSON (atomically).", valueName: "file.json"))
    var out: String?

    func run() throws {
        try reportingErrors {
            try refuseOverwritingInputs(
                outputs: [out], inputs: [sae, (suite as NSString).appendingPathComponent(SynthSuite.descriptionFile)])
            let doc = try RecoveryJob.run(
                checkpoint: sae, suite: suite, threshold: threshold,
                command: recordedCommandLine)
            if let out { try AtomicFile.write(try CanonicalJSON.encode(doc), to: out) }
            show(RecoveryJob.markdown(doc), terminator: "")
        }
    }
}
