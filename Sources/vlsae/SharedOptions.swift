import ArgumentParser
import Foundation
import VLSAECore

/// The default of every `--threads`: all cores. Results do not depend on the thread count.
let defaultThreads = max(1, ProcessInfo.processInfo.activeProcessorCount)

/// `--threads`, for every command that computes in parallel.
struct ThreadsOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Worker threads (default: every core; at most 4 × the cores, at least 64; results and checkpoints "
                + "do not depend on it)."))
    var threads: Int = defaultThreads

    func validate() throws {
        do { try Parallelism.checkThreads(threads) } catch { throw ValidationError("\(error)") }
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
