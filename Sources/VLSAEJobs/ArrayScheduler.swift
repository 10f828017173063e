import Foundation
import VLSAECore

/// A batch scheduler that starts one copy of a job per array index and tells each copy its index
/// in environment variables: one entry of `Resources/array-schedulers.json` (Slurm job arrays,
/// Kubernetes Indexed Jobs, AWS Batch array jobs, SGE/UGE task arrays). `--shard auto` reads
/// the shard from whichever one set its index variable.
public struct ArrayScheduler: Codable, Equatable, Sendable {
    /// The name recorded in each cell's `shard.scheduler`: `slurm`, `kubernetes`, `aws-batch`, `sge`.
    public var name: String
    /// The variable holding this task's index (e.g. `SLURM_ARRAY_TASK_ID`).
    public var indexVariable: String
    /// The variable holding how many tasks the array has (SGE: the last index, which with `-t 1-N`
    /// is N); nil when the scheduler sets none (Kubernetes), so `--shards N` must say.
    public var countVariable: String?
    /// The index of the first task: 0, or 1 for SGE (`-t 1-N`); shard = index − firstIndex.
    public var firstIndex: Int

    /// The built-in table, read from the module's resource bundle.
    public static func all() throws -> [ArrayScheduler] {
        // `Bundle.module` looks for `vlsae-bench_VLSAEJobs.resources` beside the running executable
        // (as the catalog of VLSAEData does); the table is data, so it stays a JSON file.
        guard let url = Bundle.module.url(forResource: "array-schedulers", withExtension: "json") else {
            throw VLSAEError.file(Bundle.module.bundlePath, "the resource bundle has no array-schedulers.json")
        }
        return try CanonicalJSON.decode([ArrayScheduler].self, from: url.path)
    }

    /// The shard this task computes, from the one scheduler whose index variable is set in
    /// `environment`. `shards` (`--shards N`) gives the count for a scheduler that sets none and
    /// overrides the scheduler's count otherwise: a resubmitted Slurm array holds only the shards
    /// still unfinished, so its own count is not the sweep's. Throws a usage error naming the
    /// variables when no scheduler, or more than one, set its index, or a value is not a valid
    /// shard.
    public static func shard(environment: [String: String], shards: Int?) throws -> SweepShard {
        let table = try all()
        let present = table.filter { environment[$0.indexVariable] != nil }
        guard let s = present.first else {
            throw VLSAEError.usage(
                "--shard auto: no scheduler set its array index (\(table.map(\.indexVariable).joined(separator: ", ")) are all unset); run inside an array job or give --shard i/n"
            )
        }
        guard present.count == 1 else {
            throw VLSAEError.usage(
                "--shard auto: several schedulers set an array index (\(present.map(\.indexVariable).joined(separator: ", "))); give --shard i/n"
            )
        }
        let raw = environment[s.indexVariable]!
        guard let id = Int(raw.trimmingCharacters(in: .whitespaces)) else {
            throw VLSAEError.usage("--shard auto: \(s.indexVariable)=\"\(raw)\" is not an integer")
        }
        let count: Int
        if let shards {
            count = shards
        } else if let v = s.countVariable {
            guard let text = environment[v] else {
                throw VLSAEError.usage("--shard auto: \(s.indexVariable) is set but \(v) is not; give --shards N")
            }
            guard let n = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw VLSAEError.usage("--shard auto: \(v)=\"\(text)\" is not an integer")
            }
            count = n
        } else {
            throw VLSAEError.usage(
                "--shard auto: \(s.name) sets only \(s.indexVariable); give the shard count with --shards N")
        }
        let index = id - s.firstIndex
        guard count >= 1, index >= 0, index < count else {
            throw VLSAEError.usage(
                "--shard auto: \(s.indexVariable)=\(id) gives shard \(index) of \(count) (\(s.name) numbers tasks from \(s.firstIndex)); need 0 ≤ shard < count"
            )
        }
        return try SweepShard(index: index, count: count, scheduler: s.name)
    }
}
