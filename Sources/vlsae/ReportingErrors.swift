import ArgumentParser
import Foundation
import VLSAECore

/// Runs a command's work, turning the project's errors into one line on stderr and the documented
/// exit status (1 for a bad file, mismatch or resource limit, 64 for a bad request). Every command
/// runs in it. It first checks that worker threads can be created (`threads`: the command's
/// `--threads`, 1 for commands without it), so a process limit gives an error, never a hang.
func reportingErrors(threads: Int = 1, _ body: () throws -> Void) throws {
    do {
        try Parallelism.ensureThreads(threads)
        try body()
    } catch let e as VLSAEError {
        FileHandle.standardError.write(Data("vlsae: error: \(TerminalText.escaped("\(e)"))\n".utf8))
        if case .usage = e { throw ExitCode(64) }
        throw ExitCode.failure
    }
}

/// Prints `text` on standard output with control characters escaped (`TerminalText`): tables and
/// messages carry dataset names, class names and paths from files. Every command prints through it.
func show(_ text: String, terminator: String = "\n") {
    print(TerminalText.escaped(text), terminator: terminator)
}
