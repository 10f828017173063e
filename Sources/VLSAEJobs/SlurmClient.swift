import Foundation
import VLSAECore

/// The Slurm commands a sweep uses, run as programs found on `PATH`: `sbatch` to submit and
/// `squeue` to see which array tasks are still queued or running.
public struct SlurmClient: Sendable {
    /// Extra environment for the commands (e.g. `SLURM_CONF` of a cluster whose config is not in
    /// the default place); nil values remove a variable.
    public var environment: [String: String?]

    /// A client using this process's environment, plus `environment`.
    public init(environment: [String: String?] = [:]) { self.environment = environment }

    /// Submits `script` with `sbatch --parsable`, after `dependency` when given (`afterok:<id>`), and
    /// returns the job id. Throws naming the script and sbatch's message when sbatch fails.
    public func submit(script: String, dependency: String? = nil) throws -> String {
        var arguments = ["--parsable"]
        if let dependency { arguments.append("--dependency=\(dependency)") }
        arguments.append(script)
        let r = try run("sbatch", arguments, about: script)
        guard r.status == 0 else {
            throw VLSAEError.file(
                script,
                "sbatch exited with status \(r.status): \(r.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        // --parsable prints "<id>" or "<id>;<cluster>" on a line of its own (warnings may come before it).
        let ids = r.output.split(whereSeparator: \.isNewline).map { $0.prefix { $0 != ";" } }
        guard let id = ids.last(where: { !$0.isEmpty && $0.allSatisfy(\.isNumber) }).map(String.init) else {
            throw VLSAEError.file(script, "sbatch printed no job id: \"\(r.output)\"")
        }
        return id
    }

    /// Cancels `job` with `scancel`; throws naming the job when scancel fails.
    public func cancel(job: String) throws {
        let r = try run("scancel", [job], about: "job \(job)")
        guard r.status == 0 else {
            throw VLSAEError.usage("scancel \(job) exited with status \(r.status): \(r.output)")
        }
    }

    /// The state (`PENDING`, `RUNNING`, …) of each task of array job `job` that Slurm still lists,
    /// by task index; nil when `squeue` cannot be run or fails (no Slurm here: states unknown).
    public func taskStates(job: String) -> [Int: String]? {
        guard
            let r = try? run("squeue", ["--noheader", "--array", "--jobs=\(job)", "--format=%i %T"], about: job),
            r.status == 0
        else { return nil }
        var states: [Int: String] = [:]
        for line in r.output.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: " ")
            guard parts.count == 2 else { continue }
            // One element per line with --array: "<job>_<task>"; a pending range stays "<job>_[1-3]".
            let id = parts[0].split(separator: "_", maxSplits: 1)
            guard id.count == 2 else { continue }
            for task in Self.taskIndices(String(id[1])) { states[task] = String(parts[1]) }
        }
        return states
    }

    /// The state of plain (non-array) job `job` while Slurm lists it (`PENDING`, `RUNNING`, …); nil once it left the
    /// queue, or when squeue cannot be run.
    public func jobState(job: String) -> String? {
        guard let r = try? run("squeue", ["--noheader", "--jobs=\(job)", "--format=%i %T"], about: job), r.status == 0
        else { return nil }
        for line in r.output.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == job { return String(parts[1]) }
        }
        return nil
    }

    /// The task indices squeue writes after `<job>_`: "3", "[1-3]", "[0,2,5-6%2]" (`%` limits how many run at once).
    public static func taskIndices(_ text: String) -> [Int] {
        let body = text.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: "%").first ?? ""
        var out: [Int] = []
        for part in body.split(separator: ",") {
            let ends = part.split(separator: "-").compactMap { Int($0) }
            if ends.count == 1 {
                out.append(ends[0])
            } else if ends.count == 2, ends[0] <= ends[1] {
                out += Array(ends[0]...ends[1])
            }
        }
        return out
    }

    /// Runs `program` (found on `PATH`) to its end: its exit status and all it printed, standard output and error
    /// interleaved in one pipe (one reader, so neither stream can fill up and stall the other).
    private func run(_ program: String, _ arguments: [String], about subject: String) throws -> (
        status: Int32, output: String
    ) {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        child.arguments = [program] + arguments
        child.environment = environment.reduce(into: ProcessInfo.processInfo.environment) { $0[$1.key] = $1.value }
        let pipe = Pipe()
        (child.standardOutput, child.standardError) = (pipe, pipe)
        do { try child.run() } catch {
            throw VLSAEError.file(subject, "cannot run \(program): \(error.localizedDescription)")
        }
        let printed = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        if child.terminationStatus == 127 {
            throw VLSAEError.file(subject, "\(program) is not installed (not found on PATH)")
        }
        return (child.terminationStatus, printed)
    }
}
