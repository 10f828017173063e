import Foundation
import VLSAECore

/// The three autoencoders of the official code (ssfgunner/VL-SAE, cvlms/sae_trainer/sae_model.py).
///
/// What that code does, as checked there: only VL_SAE normalises its input (F.normalize on the
/// embeddings and on the encoder rows, then 2 − cdist); SAE_D and SAE_V feed raw embeddings to
/// nn.Linear(d, h) (with bias), apply ReLU, and sparsify the ReLU output with the same
/// kthvalue(h − k) / strictly-above rule (so rows with fewer than k positive units keep fewer
/// than k). None of them adds a non-linearity after the top-k. Decoders of SAE_D / SAE_V are
/// nn.Sequential(nn.Linear(h, d)), hence state-dict keys like `vision_decoder.0.weight`; SAE_V
/// decodes both modalities with its single `decoder`. Losses are unweighted sums of two MSEs.
public enum SAEArch: String, Codable, Sendable, CaseIterable {
    /// VL_SAE: one bias-free, distance-based encoder shared by both modalities, two affine decoders.
    case vlsae
    /// SAE_D: a Linear(d, h) + ReLU + top-k encoder and a decoder per modality.
    case saeD = "sae-d"
    /// SAE_V: one Linear(d, h) + ReLU + top-k encoder and one decoder for both modalities.
    case saeV = "sae-v"

    /// The class name upstream uses in checkpoint file names (`--model_type`).
    public var officialName: String {
        switch self {
        case .vlsae: return "VL_SAE"
        case .saeD: return "SAE_D"
        case .saeV: return "SAE_V"
        }
    }
}

/// Shape and sparsity of an autoencoder: input dimension d, hidden size h = d · hiddenRatio, top-k.
@MemberwiseInit
public struct SAEConfig: Codable, Equatable, Sendable {
    /// Which autoencoder, JSON `"vlsae"`, `"sae-d"` or `"sae-v"`.
    public var arch: SAEArch = .vlsae
    /// d, the embedding dimension of both modalities.
    public var inputDim: Int
    /// h / d; 8 in the released checkpoints.
    public var hiddenRatio: Int
    /// k, the number of units kept per row by top-k (a row may keep fewer; see `SparseCodes`).
    public var topK: Int

    /// h = d · hiddenRatio, the number of hidden units (concepts).
    public var hidden: Int { inputDim * hiddenRatio }

    /// Released checkpoints: k = 256, hidden ratio 8.
    public static func released(inputDim: Int, arch: SAEArch = .vlsae) -> SAEConfig {
        SAEConfig(arch: arch, inputDim: inputDim, hiddenRatio: 8, topK: 256)
    }

    /// Throws `VLSAEError.usage` unless d ≥ 1, hiddenRatio ≥ 1, 1 ≤ k ≤ h and the encoder (d · h weights) fits in 2³¹
    /// elements.
    public func validate() throws {
        guard inputDim >= 1 else { throw VLSAEError.usage("input dimension must be at least 1 (got \(inputDim))") }
        guard hiddenRatio >= 1 else { throw VLSAEError.usage("hidden ratio must be at least 1 (got \(hiddenRatio))") }
        guard inputDim <= (1 << 20), hiddenRatio <= (1 << 10), inputDim * inputDim * hiddenRatio <= (1 << 31) else {
            throw VLSAEError.usage("hidden size \(inputDim)×\(hiddenRatio) is too large")
        }
        guard topK >= 1 && topK <= hidden else {
            throw VLSAEError.usage("top-k must be between 1 and the hidden size \(hidden) (got \(topK))")
        }
    }
}
