import Foundation
import VLSAECore
import VLSAEData
import VLSAEFormats
import VLSAESynth
import VLSAETestSupport
import XCTest

final class SynthFormatTests: XCTestCase {
    /// Rounding to binary16 agrees bit for bit with numpy's astype(float16), ties and
    /// subnormals included.
    func testFloat16BitsMatchNumpy() {
        XCTAssertEqual(SynthFixtures.halfInputs.count, SynthFixtures.halfBits.count)
        for (x, bits) in zip(SynthFixtures.halfInputs, SynthFixtures.halfBits) {
            XCTAssertEqual(HalfFloat.bits(fromFloat: x), bits, "float16 of \(x)")
        }
        XCTAssertTrue(HalfFloat.float(fromHalf: HalfFloat.bits(fromFloat: .nan)).isNaN)
    }

    /// Decoding is exact: every finite half round-trips through Float and back.
    func testFloat16DecodeRoundTrips() {
        for h in UInt16(0)...UInt16.max where (h >> 10) & 0x1F != 0x1F {
            let f = HalfFloat.float(fromHalf: h)
            XCTAssertEqual(Double(f), Double(NpyTestReader.half(h)), "decode of \(h)")
            XCTAssertEqual(HalfFloat.bits(fromFloat: f), h, "round trip of \(h)")
        }
    }

    func testNpyHeadersMatchNumpyBytes() {
        func hex(_ d: Data, upTo n: Int) -> String { d.prefix(n).map { String(format: "%02x", $0) }.joined() }
        let f2 = NpyFormat.encode(Tensor(shape: [3, 2], floats: [Float](repeating: 0, count: 6)), halfPrecision: true)
        XCTAssertEqual(hex(f2, upTo: SynthFixtures.headerF2x3x2.count / 2), SynthFixtures.headerF2x3x2)
        XCTAssertEqual(f2.count, SynthFixtures.headerF2x3x2.count / 2 + 12)
        let i8 = NpyFormat.encode(Tensor(shape: [5], dtype: .int64, storage: .integer([0, 0, 0, 0, 0])))
        XCTAssertEqual(hex(i8, upTo: SynthFixtures.headerI8x5.count / 2), SynthFixtures.headerI8x5)
        let f4 = NpyFormat.encode(Tensor(shape: [2, 3, 4], floats: [Float](repeating: 0, count: 24)))
        XCTAssertEqual(hex(f4, upTo: SynthFixtures.headerF4x2x3x4.count / 2), SynthFixtures.headerF4x2x3x4)
    }
}

final class SynthStatisticsTests: XCTestCase {
    /// Eigenvalues against numpy.linalg.eigvalsh, to 1e-10 relative to the spectral radius.
    func testEigenvaluesMatchNumpy() throws {
        for (a, expected, n) in [
            (SynthFixtures.symmetricA, SynthFixtures.eigenA, 12),
            (SynthFixtures.symmetricB, SynthFixtures.eigenB, 9),
        ] {
            let got = try SymmetricEigen.eigenvalues(a, n: n)
            let scale = expected.map(abs).max()!
            for (g, e) in zip(got, expected) { XCTAssertEqual(g, e, accuracy: 1e-10 * scale) }
        }
        XCTAssertEqual(try SymmetricEigen.eigenvalues([4], n: 1), [4])
        let two = try SymmetricEigen.eigenvalues([2, 1, 1, 2], n: 2)
        XCTAssertEqual(two[0], 1, accuracy: 1e-12)
        XCTAssertEqual(two[1], 3, accuracy: 1e-12)
        XCTAssertEqual(try SymmetricEigen.eigenvalues([Double](repeating: 0, count: 16), n: 4), [0, 0, 0, 0])
    }

    /// Every statistic against numpy float64 on a 40×16 fixture (tolerance 1e-5: float32 inputs
    /// and float32 BLAS products).
    func testStatisticsMatchNumpyFixture() throws {
        let n = SynthFixtures.statsRows
        let d = SynthFixtures.statsCols
        let x = Matrix(rows: n, cols: d, values: SynthFixtures.statsImages)
        let y = Matrix(rows: n, cols: d, values: SynthFixtures.statsTexts)
        let s = try SynthStatistics.measure(images: x, texts: y, retrievalPool: n)
        XCTAssertEqual(s.matchedCosine, SynthFixtures.matched, accuracy: 1e-5)
        XCTAssertEqual(s.unmatchedCosine, SynthFixtures.unmatched, accuracy: 1e-5)
        XCTAssertEqual(s.imageImageCosine, SynthFixtures.imageImage, accuracy: 1e-5)
        XCTAssertEqual(s.textTextCosine, SynthFixtures.textText, accuracy: 1e-5)
        XCTAssertEqual(s.modalityGap, SynthFixtures.gap, accuracy: 1e-5)
        XCTAssertEqual(s.imageEffectiveRank, SynthFixtures.imageRank, accuracy: 1e-3)
        XCTAssertEqual(s.textEffectiveRank, SynthFixtures.textRank, accuracy: 1e-3)
        XCTAssertEqual(s.imageToTextR1, SynthFixtures.r1All, accuracy: 1e-12)
        let pooled = try SynthStatistics.measure(images: x, texts: y, retrievalPool: 25)
        XCTAssertEqual(pooled.imageToTextR1, SynthFixtures.r1Pool25, accuracy: 1e-12)
        XCTAssertEqual(pooled.retrievalPool, 25)
    }

    func testStatisticsRejectBadInput() {
        let a = Matrix(rows: 3, cols: 4, repeating: 1)
        XCTAssertThrowsError(try SynthStatistics.measure(images: a, texts: Matrix(rows: 2, cols: 4, repeating: 1)))
        var bad = a
        bad[1, 2] = .nan
        XCTAssertThrowsError(try SynthStatistics.measure(images: bad, texts: a))
    }

    /// The real CLIP file: values from its README (numpy, float64), within 0.002 (0.2 for ranks).
    func testStatisticsOnRealCoco500() throws {
        let path = try SharedData.coco500Features()
        let arr = try NpyTestReader.read(path)
        XCTAssertEqual(arr.shape, [2, 500, 512])
        let half = 500 * 512
        let x = Matrix(rows: 500, cols: 512, values: Array(arr.floats[0..<half]))
        let y = Matrix(rows: 500, cols: 512, values: Array(arr.floats[half...]))
        let s = try SynthStatistics.measure(images: x, texts: y, retrievalPool: 500)
        XCTAssertEqual(s.matchedCosine, 0.310, accuracy: 0.002)
        XCTAssertEqual(s.unmatchedCosine, 0.162, accuracy: 0.002)
        XCTAssertEqual(s.imageImageCosine, 0.531, accuracy: 0.002)
        XCTAssertEqual(s.textTextCosine, 0.515, accuracy: 0.002)
        XCTAssertEqual(s.modalityGap, 0.851, accuracy: 0.002)
        XCTAssertEqual(s.imageEffectiveRank, 104.6, accuracy: 0.2)
        XCTAssertEqual(s.textEffectiveRank, 96.9, accuracy: 0.2)
        XCTAssertEqual(s.imageToTextR1, 0.552, accuracy: 1e-9)
        XCTAssertTrue(s.outsideTolerance().isEmpty, "real CLIP must pass its own tolerances: \(s.outsideTolerance())")
    }
}

final class SynthGeneratorTests: XCTestCase {
    /// The default geometry, on a smaller draw, lands within the stated tolerances of real CLIP:
    /// matched ±0.03, unmatched ±0.03, within-modality ±0.05 of 0.52, gap ±0.08, rank 70–140.
    func testDefaultGeometryMatchesClip() throws {
        // Not only the default seed: the signal is centred so every seed gives this geometry.
        for seed: UInt64 in [0, 7] {
            let world = try SynthWorld(parameters: .small(seed: seed))
            let pairs = world.trainPairs(count: 2000)
            let s = try SynthStatistics.measure(images: pairs.images, texts: pairs.texts)
            XCTAssertEqual(s.outsideTolerance(), [], "seed \(seed) statistics: \(s)")
            // Retrieval is not tuned, but it must be far from both chance (1/500) and perfect.
            XCTAssertGreaterThan(s.imageToTextR1, 0.2)
            XCTAssertLessThan(s.imageToTextR1, 0.9)
            // Every row is unit length, like CLIP output.
            for r in pairs.images.rowNorms() + pairs.texts.rowNorms() { XCTAssertEqual(r, 1, accuracy: 1e-5) }
        }
    }

    /// Plain zero-shot accuracy in realistic ranges: neither chance nor saturated.
    func testZeroShotDifficultyIsRealistic() throws {
        let world = try SynthWorld(parameters: .small(seed: 3))
        for (i, spec, range) in [
            (0, SynthEvalSetSpec(name: "synth10", classes: 10, images: 800), 0.75...0.97),
            (1, SynthEvalSetSpec(name: "synth100", classes: 100, images: 1500), 0.45...0.75),
            (2, SynthEvalSetSpec(name: "synth1000", classes: 1000, images: 3000), 0.25...0.55),
        ] {
            let set = world.evalSet(spec, index: i)
            XCTAssertEqual(set.classTexts.rows, spec.classes * set.templateCount)
            XCTAssertGreaterThanOrEqual(set.templateCount, 4)
            XCTAssertEqual(set.labels.count, spec.images)
            XCTAssertTrue(set.labels.allSatisfy { (0..<spec.classes).contains($0) })
            XCTAssertEqual(Set(set.classnames).count, spec.classes)
            XCTAssertTrue(set.templates.allSatisfy { $0.contains("{c}") })
            let top1 = SynthSuite.top1(
                images: set.images, labels: set.labels,
                classTexts: set.classTexts, templates: set.templateCount)
            XCTAssertTrue(range.contains(top1), "\(spec.name) top-1 \(top1) outside \(range)")
        }
    }

    func testSameSeedSameBytesOtherSeedOtherBytes() throws {
        var p = SynthParameters.small(seed: 11)
        p.concepts = 256
        let a = try SynthWorld(parameters: p).trainPairs(count: 50)
        let b = try SynthWorld(parameters: p).trainPairs(count: 50)
        XCTAssertEqual(a.images, b.images)
        XCTAssertEqual(a.texts, b.texts)
        // The kernel path (VLSAE_ISA) does not reach the bytes: generation is the same arithmetic on every CPU.
        for path in KernelPath.supported {
            let other = try KernelPath.with(path) { try SynthWorld(parameters: p).trainPairs(count: 50) }
            XCTAssertEqual(a.images, other.images, path.rawValue)
            XCTAssertEqual(a.texts, other.texts, path.rawValue)
        }
        p.seed = 12
        let c = try SynthWorld(parameters: p).trainPairs(count: 50)
        XCTAssertNotEqual(a.images, c.images)
    }

    func testConceptsAreUnitAndNotOrthogonal() throws {
        var p = SynthParameters()
        p.concepts = 512
        let w = try SynthWorld(parameters: p)
        for r in w.concepts.rowNorms() { XCTAssertEqual(r, 1, accuracy: 1e-5) }
        // Concepts share a ~160-dimensional subspace, so they overlap more than random unit
        // vectors in 512 dimensions would (|cos| ≈ 0.035).
        let g = GEMM.matmul(w.concepts, w.concepts, transB: true)
        var sum = 0.0
        for i in 0..<512 { for j in 0..<512 where i != j { sum += Double(abs(g[i, j])) } }
        XCTAssertGreaterThan(sum / Double(512 * 511), 0.05)
    }

    func testInvalidParametersAreRejected() {
        var p = SynthParameters()
        p.activeMin = 5
        p.activeMax = 3
        XCTAssertThrowsError(try SynthWorld(parameters: p))
        p = SynthParameters()
        p.dim = 64
        p.subspaceDim = 128
        XCTAssertThrowsError(try p.validate())
        p = SynthParameters()
        p.evalSets = [.init(name: "a/b", classes: 3, images: 3)]
        XCTAssertThrowsError(try p.validate())
        p = SynthParameters()
        p.noise = -.infinity
        XCTAssertThrowsError(try p.validate())
    }
}

final class SynthSuiteTests: XCTestCase {
    func tiny(seed: UInt64 = 5) -> SynthParameters {
        SynthParameters(
            seed: seed, dim: 64, subspaceDim: 24, concepts: 128, trainPairs: 300, templates: 4,
            evalSets: [
                .init(name: "synth10", classes: 10, images: 60), .init(name: "synth20", classes: 20, images: 80),
            ])
    }

    func testWriteReadVerify() throws {
        let dir = try temporaryFolder("synth").path
        let p = tiny()
        let report = try SynthSuite.generate(p, to: dir)
        XCTAssertTrue(SynthSuite.verify(folder: dir))
        XCTAssertTrue(SynthSuite.verify(folder: dir, parameters: p))
        var other = p
        other.seed = 6
        XCTAssertFalse(SynthSuite.verify(folder: dir, parameters: other))

        // Files as a reader sees them: shapes, dtypes, labels in range, data equal to the
        // regenerated (float16-rounded) embeddings.
        let world = try SynthWorld(parameters: p)
        let pairs = world.trainPairs(count: p.trainPairs)
        let img = try NpyTestReader.read(dir + "/train_image.npy")
        XCTAssertEqual(img.descr, "<f2")
        XCTAssertEqual(img.shape, [300, 64])
        XCTAssertEqual(img.floats, HalfFloat.roundedThroughHalf(pairs.images.values))
        let concepts = try NpyTestReader.read(dir + "/concepts.npy")
        XCTAssertEqual(concepts.descr, "<f4")
        XCTAssertEqual(concepts.floats, world.concepts.values)
        XCTAssertEqual(try NpyTestReader.read(dir + "/modality_offsets.npy").shape, [2, 64])
        XCTAssertEqual(
            try NpyTestReader.read(dir + "/signal_means.npy").floats, world.imageSignalMean + world.textSignalMean)

        let manifestPath = dir + "/synth20/manifest.json"
        let json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifestPath)))
            as! [String: Any]
        for key in [
            "name", "model", "pretrained", "image_embeddings", "labels", "classnames", "templates", "text_embeddings",
        ] {
            XCTAssertNotNil(json[key], "manifest key \(key)")
        }
        XCTAssertEqual(json["model"] as? String, "synthetic")
        XCTAssertEqual(json["pretrained"] as? String, "planted-concepts-v1, seed 5")
        XCTAssertEqual((json["classnames"] as? [String])?.count, 20)
        let text = try NpyTestReader.read(dir + "/synth20/" + (json["text_embeddings"] as! String))
        XCTAssertEqual(text.shape, [20, 4, 64])
        let labels = try NpyTestReader.read(dir + "/synth20/" + (json["labels"] as! String))
        XCTAssertEqual(labels.descr, "<i8")
        XCTAssertEqual(labels.shape, [80])
        XCTAssertTrue(labels.ints.allSatisfy { (0..<20).contains($0) })

        let classConcepts = try NpyTestReader.read(dir + "/synth20/class_concepts.npy")
        XCTAssertEqual(classConcepts.shape, [20, p.classConcepts])
        XCTAssertEqual(
            classConcepts.ints.map(Int.init), world.evalSet(p.evalSets[1], index: 1).classConcepts.flatMap { $0 })

        // The project's own manifest loader accepts the set (float16 arrays, relative paths).
        let dataset = try ZeroShotDataset.load(manifestPath: manifestPath)
        XCTAssertEqual(dataset.count, 80)
        XCTAssertEqual(dataset.dimension, 64)
        XCTAssertEqual(dataset.numClasses, 20)
        XCTAssertEqual(dataset.numTemplates, 4)
        XCTAssertTrue(dataset.templateLevel)
        XCTAssertEqual(dataset.labels.map(Int64.init), labels.ints)
        XCTAssertEqual(
            try TensorFile.load(dir + "/train_text.npy").floats,
            try NpyTestReader.read(dir + "/train_text.npy").floats)

        // Recorded hashes are the files' hashes; the same parameters give the same bytes.
        let desc = try SynthSuite.load(folder: dir)
        XCTAssertEqual(desc.files["train_text.npy"]?.sha256, try SHA256.hex(fileAt: dir + "/train_text.npy"))
        XCTAssertEqual(desc.statistics, report.description.statistics)
        let dir2 = dir + "-again"
        defer { try? FileManager.default.removeItem(atPath: dir2) }
        try SynthSuite.generate(p, to: dir2)
        XCTAssertEqual(try SynthSuite.load(folder: dir2), desc)

        // A changed byte or a missing file is caught.
        let victim = dir + "/synth10/image_embeddings.npy"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: victim))
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: victim))
        XCTAssertFalse(SynthSuite.verify(folder: dir))
        XCTAssertNotNil(try SynthSuite.check(folder: dir, parameters: nil))
        try FileManager.default.removeItem(atPath: dir2 + "/concepts_text.npy")
        XCTAssertFalse(SynthSuite.verify(folder: dir2))
        XCTAssertFalse(SynthSuite.verify(folder: dir + "-does-not-exist"))
    }
}

final class ConceptRecoveryTests: XCTestCase {
    func randomMatrix(_ rows: Int, _ cols: Int, seed: UInt64) -> Matrix {
        var rng = SeededRandom(seed: seed)
        return Matrix(rows: rows, cols: cols, values: (0..<(rows * cols)).map { _ in Float(rng.nextGaussian()) })
    }

    func testExactCopyIsFullyRecovered() throws {
        let c = randomMatrix(64, 128, seed: 1).normalizedRows()
        // Scaled and permuted copies: cosine ignores scale and order.
        var rng = SeededRandom(seed: 9)
        let perm = rng.permutation(64)
        var dec = c.gatherRows(perm)
        for i in dec.values.indices { dec.values[i] *= 3 }
        let r = try ConceptRecovery.measure(concepts: c, encoderRows: c, decoderColumns: dec)
        XCTAssertEqual(r.encoderRecovered, 1)
        XCTAssertEqual(r.decoderRecovered, 1)
        XCTAssertEqual(r.encoderMeanBestCosine, 1, accuracy: 1e-5)
        XCTAssertEqual(r.decoderMeanBestCosine, 1, accuracy: 1e-5)
        XCTAssertEqual(r.threshold, 0.9)
    }

    /// Random dictionaries in 512 dimensions: best cosine of 256 concepts over 2048 rows is
    /// about 0.17 (extreme of ~N(0, 1/512)), far below 0.9.
    func testRandomDictionaryRecoversNothing() throws {
        let c = randomMatrix(256, 512, seed: 2)
        let w = randomMatrix(2048, 512, seed: 3)
        let r = try ConceptRecovery.measure(concepts: c, encoderRows: w, decoderColumns: w)
        XCTAssertEqual(r.encoderRecovered, 0)
        XCTAssertEqual(r.decoderRecovered, 0)
        XCTAssertGreaterThan(r.encoderMeanBestCosine, 0.1)
        XCTAssertLessThan(r.encoderMeanBestCosine, 0.25)
    }

    /// Noisy copies: concept + ε·g with g ~ N(0, I/d) has cosine ≈ 1/√(1+ε²): ε = 0.2 gives
    /// ≈ 0.98 (recovered), ε = 1 gives ≈ 0.71 (not). Half of each → exactly 0.5.
    func testNoisyCopiesGiveExpectedFraction() throws {
        let k = 200
        let d = 512
        let c = randomMatrix(k, d, seed: 4).normalizedRows()
        let g = randomMatrix(k, d, seed: 5)
        var noisy = c
        for i in 0..<k {
            let eps: Float = i % 2 == 0 ? 0.2 : 1.0
            for j in 0..<d { noisy[i, j] += eps * g[i, j] / Float(d).squareRoot() }
        }
        var rng = SeededRandom(seed: 6)
        let shuffled = noisy.gatherRows(rng.permutation(k))
        let r = try ConceptRecovery.measure(concepts: c, encoderRows: shuffled, decoderColumns: c)
        XCTAssertEqual(r.encoderRecovered, 0.5)
        XCTAssertEqual(r.decoderRecovered, 1)
        let close: Double = 1 / 1.04.squareRoot()
        let far: Double = 1 / 2.0.squareRoot()
        let expectedMean = (close + far) / 2
        XCTAssertEqual(r.encoderMeanBestCosine, expectedMean, accuracy: 0.01)
        let strict = try ConceptRecovery.measure(concepts: c, encoderRows: shuffled, decoderColumns: c, threshold: 0.99)
        XCTAssertEqual(strict.encoderRecovered, 0)
    }

    /// The comparison space matters: the image map M = I + 0.5·R turns c_k into M·c_k with
    /// cos(c_k, M·c_k) ≈ 1/√(1 + 0.5²) ≈ 0.89, just under the 0.9 threshold. A perfect image
    /// decoder (columns M·c_k, any order and scale) is fully recovered against
    /// `imageConcepts`, but mostly missed against the shared-space `concepts`.
    func testGeneratorSpacesAreNotInterchangeable() throws {
        var p = SynthParameters()
        p.concepts = 300
        let world = try SynthWorld(parameters: p)
        var rng = SeededRandom(seed: 1)
        var decoder = world.imageConcepts.gatherRows(rng.permutation(300))
        for i in decoder.values.indices { decoder.values[i] *= 0.25 }
        let right = try ConceptRecovery.measure(
            concepts: world.imageConcepts, encoderRows: decoder, decoderColumns: decoder)
        XCTAssertEqual(right.decoderRecovered, 1)
        let wrong = try ConceptRecovery.measure(concepts: world.concepts, encoderRows: decoder, decoderColumns: decoder)
        XCTAssertLessThan(wrong.decoderRecovered, 0.6)
        XCTAssertEqual(wrong.decoderMeanBestCosine, 1 / 1.25.squareRoot(), accuracy: 0.02)
        // The text map is a different distortion: image-space columns are not text concepts.
        let cross = try ConceptRecovery.measure(
            concepts: world.textConcepts, encoderRows: decoder, decoderColumns: decoder)
        XCTAssertLessThan(cross.decoderRecovered, 0.2)
    }

    func testProjectingOutAndMismatch() throws {
        let m = randomMatrix(10, 32, seed: 8)
        let dir = Array(randomMatrix(1, 32, seed: 9).values)
        let p = ConceptRecovery.projectingOut(dir, from: m)
        for r in 0..<10 {
            var dot = 0.0
            for j in 0..<32 { dot += Double(p[r, j]) * Double(dir[j]) }
            XCTAssertEqual(dot, 0, accuracy: 1e-4)
        }
        XCTAssertThrowsError(
            try ConceptRecovery.measure(concepts: m, encoderRows: randomMatrix(4, 16, seed: 1), decoderColumns: m))
    }
}
