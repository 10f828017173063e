import Foundation
import VLSAEReport

/// Who produced a result: name, version and the git commit of the executable's checkout.
public enum ToolIdentity {
    /// The tool's name, as `tool.name` in every document.
    public static let name = "vlsae"
    /// The tool's version, as `tool.version` in every document.
    public static let version = "0.1.0"

    /// The commit the running executable was built from: `git rev-parse HEAD` run in the
    /// executable's folder (a SwiftPM build lives in `.build/` inside the checkout). "unknown" when
    /// the executable is not inside a git checkout or git is unavailable. Uncommitted changes are
    /// not detected.
    public static func gitCommit(executablePath: String? = nil) -> String {
        let exe = executablePath ?? currentExecutablePath()
        guard let exe else { return "unknown" }
        let folder = URL(fileURLWithPath: exe).resolvingSymlinksInPath().deletingLastPathComponent().path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", folder, "rev-parse", "HEAD"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return "unknown" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
            text.count == 40, text.allSatisfy(\.isHexDigit)
        else { return "unknown" }
        return text
    }

    /// The `ToolRecord` documents carry: name, version and `gitCommit(executablePath:)`.
    public static func record(executablePath: String? = nil) -> ToolRecord {
        ToolRecord(name: name, version: version, gitCommit: gitCommit(executablePath: executablePath))
    }

    private static func currentExecutablePath() -> String? {
        #if os(Linux)
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        #endif
        return Bundle.main.executablePath
    }
}
