import ArgumentParser
import VLSAEJobs

// Temporary root registered on the `synth` branch; the `eval` helper owns the real one and
// only needs to add SynthCommand.self to its subcommands.
struct VLSAE: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "vlsae", subcommands: [SynthCommand.self])
}

VLSAE.main()
