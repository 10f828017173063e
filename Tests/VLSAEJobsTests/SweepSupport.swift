import Foundation
import VLSAECore
import VLSAEFormats
import VLSAEJobs
import VLSAEReport
import XCTest

/// A tiny planted world written to a temporary folder: `concepts` random unit directions in d
/// dimensions; each class is one concept, images and captions are their concept plus noise plus a
/// per-modality offset. Small enough to train and evaluate a sweep in seconds in debug builds.
struct TinySuite {
    let folder: URL
    let dim: Int
    let datasets: [String]

    static func make(
        in folder: URL, dim: Int = 16, pairs: Int = 240, classes: [Int] = [6, 10],
        imagesPerClass: Int = 12, templates: Int = 2, seed: UInt64 = 7
    ) throws -> TinySuite {
        var rng = SeededRandom(seed: seed)
        let concepts = max(classes.max() ?? 1, 12)
        func unit() -> [Float] {
            var v = (0..<dim).map { _ in Float(rng.nextGaussian()) }
            let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for i in v.indices { v[i] /= n }
            return v
        }
        let directions = (0..<concepts).map { _ in unit() }
        let imageOffset = unit().map { $0 * 0.8 }
        let textOffset = unit().map { $0 * 0.8 }
        func sample(_ c: Int, _ offset: [Float], noise: Float) -> [Float] {
            (0..<dim).map { i in directions[c][i] + offset[i] + noise * Float(rng.nextGaussian()) }
        }
        func write(_ values: [Float], _ shape: [Int], _ name: String) throws {
            try NpyFormat.write(Tensor(shape: shape, floats: values), to: folder.appendingPathComponent(name).path)
        }
        var trainI: [Float] = []
        var trainT: [Float] = []
        for p in 0..<pairs {
            let a = p % concepts
            let b = (p * 7 + 3) % concepts
            let wi = sample(a, imageOffset, noise: 0.25)
            let wt = sample(a, textOffset, noise: 0.25)
            let xi = sample(b, [Float](repeating: 0, count: dim), noise: 0.1)
            trainI += zip(wi, xi).map { $0 + 0.5 * $1 }
            trainT += zip(wt, xi).map { $0 + 0.5 * $1 }
        }
        try write(trainI, [pairs, dim], "train_image.npy")
        try write(trainT, [pairs, dim], "train_text.npy")
        var manifests: [String] = []
        for (s, c) in classes.enumerated() {
            let name = "tiny\(c)"
            var images: [Float] = []
            var labels: [Int64] = []
            var text: [Float] = []
            for k in 0..<c {
                for _ in 0..<imagesPerClass {
                    images += sample(k, imageOffset, noise: 0.9)
                    labels.append(Int64(k))
                }
                for _ in 0..<templates { text += sample(k, textOffset, noise: 0.3) }
            }
            try write(images, [c * imagesPerClass, dim], "\(name)_images.npy")
            try NpyFormat.write(
                Tensor(shape: [labels.count], dtype: .int64, storage: .integer(labels)),
                to: folder.appendingPathComponent("\(name)_labels.npy").path)
            try write(text, [c, templates, dim], "\(name)_text.npy")
            let manifest: [String: Any] = [
                "name": name, "model": "tiny", "pretrained": "seed\(seed)-\(s)",
                "image_embeddings": "\(name)_images.npy", "labels": "\(name)_labels.npy",
                "text_embeddings": "\(name)_text.npy",
                "classnames": (0..<c).map { "class \($0)" },
                "templates": (0..<templates).map { "a photo of a {c} \($0)." },
            ]
            try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys])
                .write(to: folder.appendingPathComponent("\(name).json"))
            manifests.append("\(name).json")
        }
        return TinySuite(folder: folder, dim: dim, datasets: manifests)
    }

    /// Writes a sweep config (YAML) into the suite's folder and returns its path.
    func config(_ body: String, name: String = "sweep.yaml") throws -> String {
        let path = folder.appendingPathComponent(name).path
        try body.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }
}

/// A stand-in for training and evaluation whose numbers are simple functions of the cell, so the
/// orchestration (identity, resume, shards, tables) can be checked exactly and fast.
final class FakeBackend: SweepBackend {
    var trained: [String] = []
    var evaluated: [String] = []

    func train(_ r: SweepTrainingRequest, to path: String) throws {
        trained.append(r.checkpointHash)
        try Data("fake checkpoint \(r.checkpointHash) k=\(r.trainedK)\n".utf8).write(to: URL(fileURLWithPath: path))
    }

    func measure(checkpoint path: String, request r: SweepTrainingRequest, k: Int) throws -> SweepTrainingFacts {
        let fvu = 1.0 / Double(k) + 0.01 * Double(r.spec.hiddenRatio)
        return SweepTrainingFacts(
            fvuImage: fvu, fvuText: fvu * 1.5, l0Image: Double(k), l0Text: Double(k) - 0.5,
            deadFraction: 0.1, valLoss: fvu, measuredK: k, bestEpoch: r.spec.epochs,
            epochsRun: r.spec.epochs, trainRows: 192, valRows: 48)
    }

    func evaluate(
        checkpoint path: String, alignment: String, manifests: [String], evaluation: SweepEvaluation,
        threads: Int
    ) throws -> [ResultRow] {
        evaluated.append(alignment)
        // k′ from the spec's k=, else the trained k written into the fake checkpoint.
        let source = alignment.contains(",k=") ? alignment : (try String(contentsOfFile: path, encoding: .utf8))
        let k = Double(source.components(separatedBy: "k=").last.flatMap { Int($0.prefix { $0.isNumber }) } ?? 0)
        return manifests.enumerated().flatMap { (i, m) -> [ResultRow] in
            let name = ((m as NSString).lastPathComponent as NSString).deletingPathExtension
            let base = 0.5 + 0.1 * Double(i)
            let delta = 0.002 * log2(k) - 0.004
            func row(_ method: String, _ acc: Double, comparison: ComparisonRecord?) -> ResultRow {
                ResultRow(
                    dataset: name, model: "tiny", pretrained: "x",
                    metrics: MetricValues(acc1: acc, acc5: nil, meanPerClassRecall: acc),
                    method: method,
                    intervals: [
                        "acc1": ConfidenceInterval(
                            low: acc - 0.05, high: acc + 0.05, level: 0.95, resamples: 1000, seed: 0)
                    ],
                    nImages: 72, nClasses: 6, nTemplates: 2, templateLevel: true, classnamesSha256: "c",
                    templatesSha256: "t",
                    checkpoint: method == "cosine"
                        ? nil
                        : CheckpointRecord(
                            path: path, sha256: "s", arch: "vlsae", inputDim: 16, hiddenDim: 64, hiddenRatio: 4,
                            k: Int(k)),
                    comparison: comparison)
            }
            let cmp = ComparisonRecord(
                baseline: "cosine", deltas: ["acc1": delta],
                intervals: [
                    "acc1": ConfidenceInterval(
                        low: delta - 0.01, high: delta + 0.01, level: 0.95, resamples: 1000, seed: 0)
                ],
                mcnemarP: 0.5, flips: FlipCounts(gained: 3, lost: 2))
            return [row("cosine", base, comparison: nil), row("cosine+concept", base + delta, comparison: cmp)]
        }
    }
}

/// Thrown by test hooks to stop a sweep the way a kill would (the temporary stays behind).
struct SimulatedKill: Error {}

enum SweepTestFiles {
    /// Every regular file under `folder` (relative path → bytes).
    static func snapshot(_ folder: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let e = FileManager.default.enumerator(atPath: folder)
        while let rel = e?.nextObject() as? String {
            var isDir: ObjCBool = false
            let p = (folder as NSString).appendingPathComponent(rel)
            if FileManager.default.fileExists(atPath: p, isDirectory: &isDir), !isDir.boolValue {
                out[rel] = try Data(contentsOf: URL(fileURLWithPath: p))
            }
        }
        return out
    }
}
