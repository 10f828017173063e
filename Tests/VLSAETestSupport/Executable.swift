import Foundation
import XCTest

/// The built `vlsae` executable, for tests of the real command line (exit status, messages, files).
public struct VLSAEExecutable: Sendable {
    /// Where the executable is.
    public let path: String

    /// What one run printed and returned.
    public struct Run: Sendable {
        /// The exit status (0 success, 1 a bad file, 2 not comparable, 64 a bad request).
        public let status: Int32
        /// What it printed on standard output.
        public let stdout: String
        /// What it printed on standard error.
        public let stderr: String
        /// Both streams, for failure messages and searches that do not care which one.
        public var output: String { stdout + stderr }
    }

    /// `$VLSAE_BIN`, else `.build/debug/vlsae`, else `.build/release/vlsae` of this checkout. The calling
    /// test is skipped (with a message saying how to build it) when none exists.
    public static func locate() throws -> VLSAEExecutable {
        let root = SchemaLocations.repoRoot
        let candidates =
            [ProcessInfo.processInfo.environment["VLSAE_BIN"]].compactMap { $0 }
            + [".build/debug/vlsae", ".build/release/vlsae"].map { root.appendingPathComponent($0).path }
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("vlsae executable not built (swift build --product vlsae)")
        }
        return VLSAEExecutable(path: path)
    }

    /// Runs `vlsae` with `arguments` in `folder` (default: the test's working directory), the
    /// environment given on top of this process's (a nil value removes a variable), and waits.
    public func run(
        _ arguments: [String], in folder: URL? = nil,
        environment: [String: String?] = [:]
    ) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        if let folder { p.currentDirectoryURL = folder }
        if !environment.isEmpty {
            var env = ProcessInfo.processInfo.environment
            for (key, value) in environment { env[key] = value }
            p.environment = env
        }
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // stderr is drained on another thread while stdout is read here: a child that fills one pipe's
        // buffer while the other is being read would otherwise block forever.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let done = DispatchSemaphore(value: 0)
        let errHandle = err.fileHandleForReading
        DispatchQueue.global().async {
            errBox.data = errHandle.readDataToEndOfFile()
            done.signal()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        let e = errBox.data
        p.waitUntilExit()
        return Run(
            status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
            stderr: String(decoding: e, as: UTF8.self))
    }
}
