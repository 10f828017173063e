import CKernels
import Foundation
import VLSAECore

/// Adam as `torch.optim.Adam` (single-tensor CPU path, amsgrad off, maximize off), fused over one
/// contiguous buffer holding every parameter.
///
/// Per step t (from 1): g ← g + λ·θ (L2 weight decay, added to the gradient as torch does);
/// m ← m + (1−β₁)(g − m) (torch's lerp); v ← β₂ v + (1−β₂) g²;
/// θ ← θ − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε). Scalars are formed in double as in Python,
/// with β^t from `PortableMath.pow` (faithfully rounded, the same bits on every platform).
public struct Adam: Sendable {
    /// β₁, decay of the first-moment average (torch default 0.9).
    public var beta1: Double = 0.9
    /// β₂, decay of the second-moment average (torch default 0.999).
    public var beta2: Double = 0.999
    /// ε added to the bias-corrected √v (torch default 1e-8).
    public var eps: Double = 1e-8
    /// λ of L2 weight decay, added to the gradient as λ·θ; 0 turns it off.
    public var weightDecay: Double = 0
    /// Number of updates taken so far; the next `update` uses t = step + 1 in its bias corrections.
    public private(set) var step: Int = 0
    /// First-moment estimates, one per parameter, in the parameter buffer's order.
    public private(set) var m: [Float]
    /// Second-moment estimates, one per parameter, in the parameter buffer's order.
    public private(set) var v: [Float]

    /// An optimiser for a buffer of `count` parameters, moments zero and no step taken.
    public init(count: Int, weightDecay: Double = 0) {
        self.weightDecay = weightDecay
        m = [Float](repeating: 0, count: count)
        v = [Float](repeating: 0, count: count)
    }

    /// Counts one more step and returns its scalars, formed in double as in Python.
    private mutating func beginStep(lr: Double) -> vlsae_adam_step {
        step += 1
        let bc1 = 1 - PortableMath.pow(beta1, Double(step))
        let bc2Sqrt = (1 - PortableMath.pow(beta2, Double(step))).squareRoot()
        return vlsae_adam_step(
            step_size: Float(lr / bc1), one_minus_beta1: Float(1 - beta1), beta2: Float(beta2),
            one_minus_beta2: Float(1 - beta2), eps: Float(eps), weight_decay: Float(weightDecay),
            bias_correction2_sqrt: Float(bc2Sqrt))
    }

    /// One step over every parameter (elementwise, so the split over threads does not change any value).
    public mutating func update(_ params: inout [Float], gradients g: [Float], lr: Double, threads: Int = 1) {
        precondition(params.count == g.count && g.count == m.count, "Adam: buffer sizes differ")
        var s = beginStep(lr: lr)
        let n = params.count
        params.withUnsafeMutableBufferPointer { ppb in
            m.withUnsafeMutableBufferPointer { pmb in
                v.withUnsafeMutableBufferPointer { pvb in
                    g.withUnsafeBufferPointer { pgb in
                        let pp = ppb.baseAddress!
                        let pm = pmb.baseAddress!
                        let pv = pvb.baseAddress!
                        let pg = pgb.baseAddress!
                        forEachBlock(n, threads: threads, minBlock: 1 << 16) { range in
                            let i = range.lowerBound
                            vlsae_adam(Int64(range.count), pp + i, pg + i, pm + i, pv + i, &s)
                        }
                    }
                }
            }
        }
    }
}

/// The upstream learning-rate schedule (train.py), one value per epoch e = 0, 1, …:
/// warm-up lr·(e+1)/W for e < W; afterwards `CosineAnnealingLR(T_max = epochs − W)` stepped once
/// at the start of each later epoch. Because warm-up ends exactly at lr, torch's recursive cosine
/// form equals the closed form lr·(1 + cos(π·t/T))/2 with t = e − W + 1: the first post-warm-up
/// epoch is already one cosine step in, and the last epoch (t = T) runs at learning rate 0.
public enum LRSchedule {
    /// The learning rate of 0-based epoch `e` for base rate `base`, `epochs` epochs in all and `w` warm-up epochs (see
    /// the type's description); `base` itself when no epoch follows the warm-up.
    public static func learningRate(epoch e: Int, base: Double, epochs: Int, warmupEpochs w: Int) -> Double {
        if e < w { return base * Double(e + 1) / Double(w) }
        let tMax = epochs - w
        guard tMax > 0 else { return base }
        let t = min(e - w + 1, tMax)
        return base * (1 + PortableMath.cos(Double.pi * Double(t) / Double(tMax))) / 2
    }
}
