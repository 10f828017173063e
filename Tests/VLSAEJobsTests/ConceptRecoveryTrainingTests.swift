import Foundation
import VLSAECore
import VLSAEJobs
import VLSAEModel
import VLSAESynth
import VLSAETestSupport
import XCTest

/// Training checked against ground truth: a VL-SAE trained on a small planted suite whose concepts
/// are identifiable (near-orthogonal, equally frequent, few per pair, no structured noise) must
/// find most of them, and an untrained one must not. The default suite is a much harder problem
/// (1536 concepts crowded into an effective rank of ≈ 100, Zipf-rare tails, noise as large as the
/// signal), so it cannot serve as this check; these suites isolate the trainer and the measure.
final class ConceptRecoveryTrainingTests: XCTestCase {
    /// The planted-concepts generator with every difficulty knob turned off except the sparse,
    /// non-negative mixing itself: 48 unit concepts spread over all of d = 64, uniform usage,
    /// 2–4 concepts per pair, captions naming exactly the image's concepts.
    static func identifiableParameters(seed: UInt64 = 3) -> SynthParameters {
        SynthParameters(
            seed: seed, dim: 64, subspaceDim: 64, concepts: 48, spectrumDecay: 0, offSubspace: 0, zipfExponent: 0,
            activeMin: 2, activeMax: 4, captionKeep: 1, captionExtraMax: 0, modalityOffset: 0, distortion: 0, noise: 0,
            trainPairs: 4000, distractorMin: 1, distractorMax: 3,
            evalSets: [SynthEvalSetSpec(name: "synth4", classes: 4, images: 40)], float16: false)
    }

    /// Enough optimiser steps matter more than epochs: batch 64 gives 50 steps per epoch here,
    /// 600 in all (the released recipe's batch 512 would give 84, and recovers far less).
    static func recipe() -> TrainConfig { fastRecipe(epochs: 12, seed: 11) }

    static func weights(_ model: SAEModel) -> (encoder: Matrix, image: Matrix, text: Matrix) {
        var named: [String: Matrix] = [:]
        for t in model.officialTensors() where t.shape.count == 2 {
            named[t.name] = Matrix(rows: t.shape[0], cols: t.shape[1], values: t.values)
        }
        // Decoder weights are d × h as nn.Linear stores them; a unit's direction is a column.
        return (named["encoder"]!, named["vision_decoder.weight"]!.transposed, named["text_decoder.weight"]!.transposed)
    }

    /// Measured (training seeds 11, 12, 13): decoder columns ≥ 0.9 for 91.7–97.9 % of the concepts
    /// (every concept ≥ 0.8), encoder rows ≥ 0.9 for 64.6–68.8 %; an untrained model 0 %. The bounds
    /// below (80 %, 50 %) leave room for floating-point drift across BLAS builds, not for a broken
    /// trainer: the released recipe's batch 512 (7 steps per epoch) on the same data, lr and epochs
    /// recovers 12.5 % (image) and 16.7 % (text), and 0 % at its lr 1e-3.
    func testTrainedVLSAERecoversIdentifiablePlantedConcepts() throws {
        let p = Self.identifiableParameters()
        let world = try SynthWorld(parameters: p)
        let pairs = world.trainPairs(count: p.trainPairs)
        let config = SAEConfig(arch: .vlsae, inputDim: p.dim, hiddenRatio: 2, topK: 4)

        let untrained = Self.weights(try SAEModel(config: config, seed: 1))
        let chance = try ConceptRecovery.measure(
            concepts: world.imageConcepts, encoderRows: untrained.encoder,
            decoderColumns: untrained.image)

        let start = Date()
        let (model, summary) = try Trainer.train(
            images: pairs.images, texts: pairs.texts, model: config,
            train: Self.recipe(), progress: false)
        let seconds = Date().timeIntervalSince(start)
        let w = Self.weights(model)
        let image = try ConceptRecovery.measure(
            concepts: world.imageConcepts, encoderRows: w.encoder, decoderColumns: w.image)
        let text = try ConceptRecovery.measure(
            concepts: world.textConcepts, encoderRows: w.encoder, decoderColumns: w.text)
        print(
            String(
                format:
                    "identifiable suite: trained in %.1f s, val FVU %.3f; image dec %.3f (mean %.3f) enc %.3f (mean %.3f); text dec %.3f (mean %.3f); untrained dec %.3f (mean %.3f)",
                seconds, summary.epochs.last!.validation.image.fvu,
                image.decoderRecovered, image.decoderMeanBestCosine, image.encoderRecovered,
                image.encoderMeanBestCosine,
                text.decoderRecovered, text.decoderMeanBestCosine, chance.decoderRecovered, chance.decoderMeanBestCosine
            ))

        // Random directions in d = 64 sit near cosine 0.3–0.4 to their best match, never 0.9.
        XCTAssertEqual(chance.decoderRecovered, 0, "an untrained decoder must not count as recovering concepts")
        XCTAssertLessThan(chance.decoderMeanBestCosine, 0.6)
        XCTAssertGreaterThanOrEqual(image.decoderRecovered, 0.8, "image decoder columns at cosine ≥ 0.9")
        XCTAssertGreaterThanOrEqual(text.decoderRecovered, 0.8, "text decoder columns at cosine ≥ 0.9")
        XCTAssertGreaterThan(image.decoderMeanBestCosine, 0.9)
        XCTAssertGreaterThan(text.decoderMeanBestCosine, 0.9)
        XCTAssertGreaterThanOrEqual(image.encoderRecovered, 0.5, "distance-encoder rows at cosine ≥ 0.9")
    }

    /// The same identifiable mixing, now with the default suite's modality offsets (length 1.5,
    /// cosine 0.3) and modality maps (distortion 0.5), end to end through files: `vlsae synth`'s
    /// generator → `vlsae train` → `vlsae recovery`, which compares each decoder in its own
    /// modality's concept space with the offset projected out.
    /// Measured (training seeds 11, 12, 13): decoder columns ≥ 0.9 for 77–92 % (image) and 75–85 %
    /// (text); encoder rows mostly below 0.9 (2–12 %), since a distance encoder's rows only have to
    /// rank units inside the offset cone. Asserted: ≥ 60 % per modality.
    func testRecoveryJobFindsConceptsThroughOffsetAndDistortion() throws {
        let folder = try temporaryFolder("recovery").url
        var p = Self.identifiableParameters(seed: 4)
        let defaults = SynthParameters()
        p.modalityOffset = defaults.modalityOffset
        p.offsetCosine = defaults.offsetCosine
        p.distortion = defaults.distortion
        try SynthSuite.generate(p, to: folder.path)
        let ckpt = folder.appendingPathComponent("sae.safetensors").path
        // The offset cone crowds the encoder's unit directions, so this suite needs more units (h = 4d).
        try TrainJob.run(
            .init(
                images: folder.appendingPathComponent("train_image.npy").path,
                texts: folder.appendingPathComponent("train_text.npy").path,
                arch: .vlsae, topK: 4, hiddenRatio: 4, train: Self.recipe(), progress: false)
        )
        .write(to: ckpt)
        let doc = try RecoveryJob.run(checkpoint: ckpt, suite: folder.path)
        print("offset + distortion suite:\n" + RecoveryJob.markdown(doc))
        XCTAssertEqual(doc.results.map(\.modality), ["image", "text"])
        for r in doc.results {
            XCTAssertEqual(r.concepts, p.concepts)
            XCTAssertGreaterThanOrEqual(r.decoderRecovered, 0.6, "\(r.modality) decoder columns at cosine ≥ 0.9")
            XCTAssertGreaterThan(r.decoderMeanBestCosine, 0.85)
        }
    }
}
