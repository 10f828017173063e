import Benchmark
import Foundation
import VLSAECore
import VLSAEEval
import VLSAEFormats
import VLSAEModel

// The suites of `make bench`, the same workloads as Benchmarks/reference/torch_reference.py:
//   train_step  one Adam step of VL-SAE, d 512, h 4096, k 256, a batch of 512 image–text pairs
//   encode      10,000 × 512 embeddings → sparse codes (h 4096, k 256)
//   zeroshot    100,000 × 512 image embeddings scored against 1000 classes (acc@1, acc@5)
//   load_f16    a 1,000,000 × 512 float16 .npy read into a float32 matrix
//   sgemm       the encoder's dense product alone, (512 × 512) · (512 × 4096), for GFLOP/s (OpenBLAS)
//   gemm        the same product by our deterministic GEMM (VLSAECore.GEMM), packing included
//
// Every benchmark runs in its own process (the benchmark tool spawns one per benchmark), so its peak
// resident memory is its own, as in the reference. Throughput is derived from the wall-clock samples by
// scripts/bench.sh (Benchmarks/compare.py), with the items per iteration given below.
//
// Environment: VLSAE_BENCH_THREADS (default 2), VLSAE_BENCH_REPEAT (default 5 measured iterations after
// one warm-up), VLSAE_BENCH_NPY (the float16 file for load_f16; bench.sh creates it once for both sides).

let env = ProcessInfo.processInfo.environment
let threads = max(1, Int(env["VLSAE_BENCH_THREADS"] ?? "") ?? 2)
let repeats = max(1, Int(env["VLSAE_BENCH_REPEAT"] ?? "") ?? 5)
let d = 512
let h = 4096
let k = 256

/// Peak resident memory of the whole process (getrusage ru_maxrss, in bytes), the measure the reference
/// reports, setup included; the tool's own `.peakMemoryResident` only samples the measured region.
let maxRSS = BenchmarkMetric.custom("maxrss_bytes", polarity: .prefersSmaller, useScalingFactor: false)

func recordMaxRSS(_ benchmark: Benchmark) {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    benchmark.measurement(maxRSS, Int(usage.ru_maxrss) * 1024)
}

/// `items` and `flops` (the encoder product's FLOPs per iteration) document the workload; scripts/bench.sh
/// (Benchmarks/compare.py) holds the same numbers to turn wall-clock samples into throughput and GFLOP/s.
func configuration(items: Int, flops: Double = 0) -> Benchmark.Configuration {
    .init(
        metrics: [.throughput, .wallClock, .peakMemoryResident, maxRSS],
        timeUnits: .microseconds,
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(600),
        maxIterations: repeats)
}

/// Standard-normal float32 values from the project's seeded generator (the reference uses torch.randn).
func gaussian(_ count: Int, seed: UInt64) -> [Float] {
    var rng = SeededRandom(seed: seed)
    return (0..<count).map { _ in Float(rng.nextGaussian()) }
}

final class TrainState {
    var model: SAEModel
    var adam: Adam
    var grads: [Float] = []
    let images: Matrix, texts: Matrix
    init() throws {
        model = try SAEModel(config: .released(inputDim: d), seed: 0)
        model.threads = threads
        adam = Adam(count: model.parameters.count)
        images = Matrix(rows: 512, cols: d, values: gaussian(512 * d, seed: 1))
        texts = Matrix(rows: 512, cols: d, values: gaussian(512 * d, seed: 2))
    }
}

final class EncodeState {
    let model: SAEModel
    let x: Matrix
    init(rows: Int) throws {
        var m = try SAEModel(config: .released(inputDim: d), seed: 0)
        m.threads = threads
        model = m
        x = Matrix(rows: rows, cols: d, values: gaussian(rows * d, seed: 3))
    }
}

struct ZeroShotState {
    let images: Matrix
    let labels: [Int]
    let classifier: ZeroShotClassifier
}

struct GemmState {
    let a: [Float], b: [Float]
    var c: [Float]
}

struct DeterministicGemmState {
    let a: Matrix, b: Matrix
    var c: Matrix
}

let benchmarks: @Sendable () -> Void = {
    BLAS.setThreads(threads)

    // Two rows (image and caption) per pair go through the encoder product: 2 · 2·d·h FLOPs per pair.
    Benchmark("train_step", configuration: configuration(items: 512, flops: Double(512 * 2 * 2 * d * h))) {
        benchmark, s in
        let state: TrainState = s
        for _ in benchmark.scaledIterations {
            let loss = state.model.lossAndGradients(images: state.images, texts: state.texts, gradients: &state.grads)
            state.adam.update(&state.model.parameters, gradients: state.grads, lr: 1e-3, threads: threads)
            blackHole(loss)
        }
        recordMaxRSS(benchmark)
    } setup: {
        try TrainState()
    }

    Benchmark("encode", configuration: configuration(items: 10_000, flops: Double(10_000 * 2 * d * h))) {
        benchmark, s in
        let state: EncodeState = s
        for _ in benchmark.scaledIterations {
            blackHole(state.model.encode(state.x, k: k))
        }
        recordMaxRSS(benchmark)
    } setup: {
        try EncodeState(rows: 10_000)
    }

    Benchmark("zeroshot", configuration: configuration(items: 100_000, flops: Double(100_000 * 2 * d * 1000))) {
        benchmark, s in
        let state: ZeroShotState = s
        for _ in benchmark.scaledIterations {
            let p = ZeroShot.predict(
                images: state.images, labels: state.labels, classifier: state.classifier,
                threads: threads)
            var top1 = 0
            var top5 = 0
            for r in p.trueRank {
                if r < 1 { top1 += 1 }
                if r < 5 { top5 += 1 }
            }
            blackHole((top1, top5))
        }
        recordMaxRSS(benchmark)
    } setup: {
        let n = 100_000
        let images = Matrix(rows: n, cols: d, values: gaussian(n * d, seed: 4))
        var rng = SeededRandom(seed: 5)
        let labels = (0..<n).map { _ in rng.nextInt(below: 1000) }
        let classes = Matrix(rows: 1000, cols: d, values: gaussian(1000 * d, seed: 6))
        return ZeroShotState(images: images, labels: labels, classifier: ZeroShotClassifier(classVectors: classes))
    }

    Benchmark("load_f16", configuration: configuration(items: 1_000_000)) { benchmark, path in
        for _ in benchmark.scaledIterations {
            do {
                let m = try TensorFile.load(path).matrix(name: path)
                precondition(m.rows == 1_000_000 && m.cols == d, "load_f16: \(path) is not 1,000,000 × 512")
                blackHole(m)
            } catch {
                fatalError("load_f16: \(error)")
            }
        }
        recordMaxRSS(benchmark)
    } setup: { () -> String in
        guard let path = env["VLSAE_BENCH_NPY"], FileManager.default.fileExists(atPath: path) else {
            throw VLSAEError.usage(
                "load_f16 needs VLSAE_BENCH_NPY naming a 1,000,000 × 512 float16 .npy (scripts/bench.sh makes one)")
        }
        return path
    }

    // The encoder's product on one training half-batch: x̂ (512 × 512) · Ŵᵀ (512 × 4096).
    Benchmark("sgemm", configuration: configuration(items: 1, flops: Double(20 * 2 * 512 * d * h))) { benchmark, s in
        var state: GemmState = s
        for _ in benchmark.scaledIterations {
            state.a.withUnsafeBufferPointer { pa in
                state.b.withUnsafeBufferPointer { pb in
                    state.c.withUnsafeMutableBufferPointer { pc in
                        // 20 products per iteration so that one sample is long enough to time well.
                        for _ in 0..<20 {
                            BLAS.sgemm(
                                transA: false, transB: true, m: 512, n: h, k: d, alpha: 1,
                                a: pa.baseAddress!, lda: d, b: pb.baseAddress!, ldb: d,
                                beta: 0, c: pc.baseAddress!, ldc: h)
                        }
                    }
                }
            }
            blackHole(state.c[0])
        }
        recordMaxRSS(benchmark)
    } setup: {
        GemmState(a: gaussian(512 * d, seed: 7), b: gaussian(h * d, seed: 8), c: [Float](repeating: 0, count: 512 * h))
    }

    // The same product by the deterministic GEMM, B packed within every call as sgemm does.
    Benchmark("gemm", configuration: configuration(items: 1, flops: Double(20 * 2 * 512 * d * h))) { benchmark, s in
        var state: DeterministicGemmState = s
        for _ in benchmark.scaledIterations {
            for _ in 0..<20 {
                GEMM.gemm(state.a, state.b, into: &state.c, transB: true, threads: threads)
            }
            blackHole(state.c.values[0])
        }
        recordMaxRSS(benchmark)
    } setup: {
        DeterministicGemmState(
            a: Matrix(rows: 512, cols: d, values: gaussian(512 * d, seed: 7)),
            b: Matrix(rows: h, cols: d, values: gaussian(h * d, seed: 8)),
            c: Matrix(rows: 512, cols: h))
    }
}
