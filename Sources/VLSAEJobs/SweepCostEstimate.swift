import Foundation
import VLSAECore
import VLSAEFormats
import VLSAEModel

/// What a sweep will cost before it is submitted: the trainings to run (cells that share a
/// checkpoint inside a shard train once) × each one's training time from the config (pairs,
/// epochs, input and hidden width), scaled from one measured training rate. Evaluation is not
/// counted; it is small beside training at paper scale.
public struct SweepCostEstimate: Equatable, Sendable {
    /// The measured rate every estimate is scaled from: README "Performance", train step at d 512, hidden 4096,
    /// k 256, batch 512 on 2 threads: 9,481 pairs/s.
    public static let referencePairsPerSecond = 9481.0
    /// Input width of the reference measurement.
    public static let referenceInputDim = 512
    /// Hidden width of the reference measurement.
    public static let referenceHiddenDim = 4096
    /// Threads of the reference measurement.
    public static let referenceThreads = 2

    /// One training the submission runs.
    public struct Training: Equatable, Sendable {
        /// The shard that runs it.
        public var shard: Int
        /// The checkpoint identity hash.
        public var checkpointHash: String
        /// Pairs in the training split.
        public var trainRows: Int
        /// Epochs requested (patience may stop earlier).
        public var epochs: Int
        /// Input width d.
        public var inputDim: Int
        /// Hidden width, hidden ratio × d.
        public var hiddenDim: Int
        /// Estimated CPU-seconds: one pair-epoch costs d·hidden / (512·4096) reference pair-epochs.
        public var cpuSeconds: Double
    }

    /// Cells to run.
    public var cells: Int
    /// Trainings to run, shard by shard.
    public var trainings: [Training]
    /// Threads per shard.
    public var threads: Int

    /// Total estimated CPU-seconds of training.
    public var cpuSeconds: Double { trainings.reduce(0) { $0 + $1.cpuSeconds } }
    /// Estimated wall-clock seconds of the slowest shard at `threads` threads (linear scaling assumed).
    public var longestShardSeconds: Double {
        Dictionary(grouping: trainings, by: \.shard).values.map { $0.reduce(0) { $0 + $1.cpuSeconds } }.max()
            .map { $0 / Double(threads) } ?? 0
    }

    /// The cost of running `cells` of `plan` (each tagged with its shard) at `threads` threads, reading the shape of
    /// each training file the cells use (once per distinct address).
    static func estimate(
        cells: [(shard: Int, cell: SweepPlannedCell)], config: SweepConfig, threads: Int
    ) throws -> SweepCostEstimate {
        var shapes: [String: (rows: Int, dim: Int)] = [:]
        var seen = Set<String>()
        var trainings: [Training] = []
        for (shard, cell) in cells where seen.insert("\(shard) \(cell.checkpointHash)").inserted {
            let address = try config.resolveAddress(cell.spec.train.images)
            if shapes[address] == nil {
                let shape = try TensorFile.shape(TensorAddress(parsing: address))
                guard shape.count == 2 else {
                    throw VLSAEError.file(address, "training embeddings must be N × d, got shape \(shape)")
                }
                shapes[address] = (shape[0], shape[1])
            }
            let (rows, dim) = shapes[address]!
            let trainRows = Trainer.split(rows: rows, valRatio: config.fixedTraining.valRatio, seed: cell.spec.seed)
                .train.count
            let hidden = cell.spec.hiddenRatio * dim
            let relative =
                Double(dim) * Double(hidden) / (Double(referenceInputDim) * Double(referenceHiddenDim))
            let cpu =
                Double(cell.spec.epochs) * Double(trainRows) * relative * Double(referenceThreads)
                / referencePairsPerSecond
            trainings.append(
                Training(
                    shard: shard, checkpointHash: cell.checkpointHash, trainRows: trainRows, epochs: cell.spec.epochs,
                    inputDim: dim, hiddenDim: hidden, cpuSeconds: cpu))
        }
        return SweepCostEstimate(cells: cells.count, trainings: trainings, threads: threads)
    }

    /// The lines printed before submitting.
    public var lines: [String] {
        var out = [
            "cost: \(cells) cells, \(trainings.count) trainings (cells sharing a checkpoint in a shard train once)"
        ]
        var kinds: [String: (n: Int, seconds: Double)] = [:]
        var order: [String] = []
        for t in trainings {
            let key = "\(t.trainRows) pairs × \(t.epochs) epochs, d \(t.inputDim), hidden \(t.hiddenDim)"
            if kinds[key] == nil { order.append(key) }
            kinds[key, default: (0, t.cpuSeconds)].n += 1
        }
        for k in order {
            out.append("  \(kinds[k]!.n) × (\(k)): ≈ \(Self.duration(kinds[k]!.seconds)) CPU each")
        }
        out.append(
            "  total ≈ \(Self.duration(cpuSeconds)) CPU (\(String(format: "%.2f", cpuSeconds / 3600)) CPU-hours); slowest shard ≈ \(Self.duration(longestShardSeconds)) at \(threads) thread\(threads == 1 ? "" : "s")"
        )
        out.append(
            "  (training only, scaled by d·hidden from the measured \(Int(Self.referencePairsPerSecond)) pairs/s at d \(Self.referenceInputDim), hidden \(Self.referenceHiddenDim), \(Self.referenceThreads) threads; README \"Performance\")"
        )
        return out
    }

    /// Seconds as "12 s", "3.4 min" or "5.6 h".
    static func duration(_ s: Double) -> String {
        if s < 60 { return String(format: "%.1f s", s) }
        if s < 3600 { return String(format: "%.1f min", s / 60) }
        return String(format: "%.1f h", s / 3600)
    }
}
