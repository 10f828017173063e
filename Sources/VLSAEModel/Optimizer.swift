import Foundation

/// Adam as `torch.optim.Adam` (single-tensor CPU path, amsgrad off, maximize off), fused over one
/// contiguous buffer holding every parameter.
///
/// Per step t (from 1): g ← g + λ·θ (L2 weight decay, added to the gradient as torch does);
/// m ← m + (1−β₁)(g − m) (torch's lerp); v ← β₂ v + (1−β₂) g²;
/// θ ← θ − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε). Scalars are formed in double as in Python.
public struct Adam: Sendable {
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var eps: Double = 1e-8
    public var weightDecay: Double = 0
    public private(set) var step: Int = 0
    public private(set) var m: [Float]
    public private(set) var v: [Float]

    public init(count: Int, weightDecay: Double = 0) {
        self.weightDecay = weightDecay
        m = [Float](repeating: 0, count: count)
        v = [Float](repeating: 0, count: count)
    }

    public mutating func update(_ params: inout [Float], gradients g: [Float], lr: Double, threads: Int = 1) {
        precondition(params.count == g.count && g.count == m.count, "Adam: buffer sizes differ")
        step += 1
        let bc1 = 1 - pow(beta1, Double(step))
        let bc2Sqrt = (1 - pow(beta2, Double(step))).squareRoot()
        let stepSize = Float(lr / bc1)
        let b1w = Float(1 - beta1), b2 = Float(beta2), b2w = Float(1 - beta2)
        let e = Float(eps), wd = Float(weightDecay), inv = Float(bc2Sqrt)
        let decay = weightDecay != 0
        let n = params.count
        params.withUnsafeMutableBufferPointer { ppb in
            m.withUnsafeMutableBufferPointer { pmb in
                v.withUnsafeMutableBufferPointer { pvb in
                    g.withUnsafeBufferPointer { pgb in
                        let pp = ppb.baseAddress!, pm = pmb.baseAddress!, pv = pvb.baseAddress!, pg = pgb.baseAddress!
                        forEachBlock(n, threads: threads, minBlock: 1 << 16) { range in
                            // A plain while loop over locals: this pass touches every parameter each
                            // step and dominates small-batch training in debug builds.
                            var i = range.lowerBound
                            let end = range.upperBound
                            while i < end {
                                let p = pp[i]
                                var gi = pg[i]
                                if decay { gi += wd * p }
                                let m1 = pm[i] + b1w * (gi - pm[i])
                                let v1 = pv[i] * b2 + b2w * gi * gi
                                pm[i] = m1
                                pv[i] = v1
                                pp[i] = p - stepSize * (m1 / (v1.squareRoot() / inv + e))
                                i += 1
                            }
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
    public static func learningRate(epoch e: Int, base: Double, epochs: Int, warmupEpochs w: Int) -> Double {
        if e < w { return base * Double(e + 1) / Double(w) }
        let tMax = epochs - w
        guard tMax > 0 else { return base }
        let t = min(e - w + 1, tMax)
        return base * (1 + cos(Double.pi * Double(t) / Double(tMax))) / 2
    }
}
