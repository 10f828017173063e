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
                "sbatch exited with status \(r.status): \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        // --parsable prints "<id>" or "<id>;<cluster>".
        let id = r.stdout.split(whereSeparator: { $0 == ";" || $0.isNewline }).first.map(String.init) ?? ""
        guard !id.isEmpty, id.allSatisfy(\.isNumber) else {
            throw VLSAEError.file(script, "sbatch printed no job id: \"\(r.stdout)\"")
        }
        return id
    }

    /// The state (`PENDING`, `RUNNING`, …) of each task of array job `job` that Slurm still lists,
    /// by task index; nil when `squeue` cannot be run or fails (no Slurm here: states unknown).
    public func taskStates(job: String) -> [Int: String]? {
        guard
            let r = try? run("squeue", ["--noheader", "--array", "--jobs=\(job)", "--format=%i %T"], about: job),
            r.status == 0
        else { return nil }
        var states: [Int: String] = [:]
        for line in r.stdout.split(whereSeparator: \.isNewline) {
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
        for line in r.stdout.split(whereSeparator: \.isNewline) {
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

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    private func run(_ program: String, _ arguments: [String], about subject: String) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [program] + arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch {
            throw VLSAEError.file(subject, "cannot run \(program): \(error.localizedDescription)")
        }
        // Both outputs are small; stderr is read after stdout closes, which sbatch and squeue do at exit.
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus == 127 {
            throw VLSAEError.file(subject, "\(program) is not installed (not found on PATH)")
        }
        return Output(
            status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
            stderr: String(decoding: e, as: UTF8.self))
    }
}
