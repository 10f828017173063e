import ArgumentParser
import Foundation
import VLSAECore

/// Runs a command's work, turning the project's errors into one line on stderr and the documented
/// exit status (1 for a bad file or mismatch, 64 for a bad request). Every command runs in it.
func reportingErrors(_ body: () throws -> Void) throws {
    do { try body() } catch let e as VLSAEError {
        FileHandle.standardError.write(Data("vlsae: error: \(e)\n".utf8))
        if case .usage = e { throw ExitCode(64) }
        throw ExitCode.failure
    }
}
