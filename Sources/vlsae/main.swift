import ArgumentParser
import Foundation
import VLSAECore
import VLSAEJobs

/// The root command: every stage of the harness is a subcommand.
struct VLSAE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vlsae",
        abstract: "Zero-shot evaluation and concept alignment for vision-language sparse autoencoders.",
        discussion: """
            VLSAE Bench scores zero-shot classification from precomputed CLIP-style embeddings and \
            writes reproducible JSON results (input SHA-256s, seeds, confidence intervals).

            Arrays are named by tensor addresses:
              features.npy              the array in a .npy file
              features.npy[0]           its slice 0 along the first axis
              x.npz:arr_0               a member of an .npz archive
              w.safetensors:image_embeddings
              dump.pt:embeddings        a tensor in a torch.save'd object (dotted path)
            The file part ends at the first known extension (.npy .npz .safetensors .pt .pth .bin) \
            followed by ':', '[' or the end. Paths inside a manifest are relative to its folder.

            Errors name the file at fault and exit with status 1 (usage errors: 64).

            Results are byte-identical on every CPU and at every --threads: the arithmetic is the \
            project's own, in a fixed order. VLSAE_ISA=portable|avx2|avx512 forces a kernel path \
            (default: the best this CPU runs); the path used is recorded in each result's provenance.
            """,
        version: ToolIdentity.version,
        subcommands: [
            EvalCommand.self, ReportCommand.self, InspectCommand.self, TrainCommand.self, EncodeCommand.self,
            SynthCommand.self, RecoveryCommand.self, SweepCommand.self, RegressCommand.self, ExportCBCommand.self,
            ImportCBCommand.self, ConceptsCommand.self, ExplainCommand.self,
        ]
    )
}

// A VLSAE_ISA that names no path, or one this CPU cannot run, is refused: whoever forces a path
// (to verify a result on the portable one, say) must not silently get another.
if let problem = KernelPath.environmentError() {
    FileHandle.standardError.write(Data("vlsae: error: \(TerminalText.escaped(problem))\n".utf8))
    exit(64)
}
// The worker pool and Foundation's subprocess helpers wait forever for a thread they cannot
// create: check first that threads can be started at all, so a tight limit is an error, not a hang.
do { try Parallelism.ensureThreads(1) } catch {
    FileHandle.standardError.write(Data("vlsae: error: \(TerminalText.escaped("\(error)"))\n".utf8))
    exit(1)
}
// As `VLSAE.main()`, except that the parser's own messages, which quote what was typed (an unknown
// option, a bad value), have their control characters escaped like every other message.
do {
    var command = try VLSAE.parseAsRoot()
    try command.run()
} catch {
    let code = VLSAE.exitCode(for: error)
    let message = VLSAE.fullMessage(for: error)
    if code == .success {
        if !message.isEmpty { print(message) }
    } else if !message.isEmpty {
        FileHandle.standardError.write(Data((TerminalText.escaped(message) + "\n").utf8))
    }
    exit(code.rawValue)
}
