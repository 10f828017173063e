import ArgumentParser
import Foundation

/// The default of every `--threads`: all cores. Results do not depend on the thread count.
let defaultThreads = max(1, ProcessInfo.processInfo.activeProcessorCount)

/// `--threads`, for every command that computes in parallel.
struct ThreadsOption: ParsableArguments {
    @Option(help: "Worker threads (default: every core; results and checkpoints do not depend on it).")
    var threads: Int = defaultThreads

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }
}

/// `--seed`, for every command that draws random numbers; what it seeds is in each command's help.
struct SeedOption: ParsableArguments {
    @Option(help: "Seed of the command's random choices (recorded; the same seed gives the same bytes).")
    var seed: UInt64 = 0
}

/// `--quiet`, for every command that reports progress on standard error.
struct ProgressOption: ParsableArguments {
    @Flag(help: "No progress output.")
    var quiet = false

    var enabled: Bool { !quiet }
}

/// The command line as recorded in result provenance, program name first.
var recordedCommandLine: [String] { ["vlsae"] + CommandLine.arguments.dropFirst() }
