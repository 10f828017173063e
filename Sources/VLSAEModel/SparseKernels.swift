import VLSAECore

// Fast paths of the upstream top-k for rows of h encoder outputs: exact, but touching each entry about
// twice instead of partitioning all h of them several times.

extension TopK {
    /// What `thresholdAndCandidates` found: the threshold and how many candidates it wrote.
    struct Candidates {
        var count: Int
        /// The (h−k)-th smallest key, i.e. the (k+1)-th largest: the upstream threshold.
        var threshold: Float
    }

    /// The upstream threshold of a row (the (h−k)-th smallest key, 0 < k < h) together with the
    /// entries that can exceed it: `candIndices` receives, ascending, the index of every entry whose key
    /// is above a lower bound of the threshold (all h indices if no bound was found). `scratch` holds h
    /// floats; `key` is not modified.
    ///
    /// Rather than partitioning all h values, a strided sample of 256 gives a lower bound that about
    /// k + 3σ values exceed; one branch-free pass records those candidates and quickselect runs on them
    /// alone. If fewer than k + 1 values exceed the bound (a skewed row), quickselect runs on all h,
    /// so the threshold is always the exact order statistic.
    @inline(__always)
    static func thresholdAndCandidates(
        _ key: UnsafePointer<Float>, h: Int, k: Int, scratch: UnsafeMutablePointer<Float>,
        candIndices: UnsafeMutablePointer<Int32>
    ) -> Candidates {
        let want = k + 1  // rank from the top
        let sampleSize = 256
        if h >= 8 * sampleSize && want * 4 <= h {
            let stride = h / sampleSize
            // A fixed pseudo-random offset inside each stride avoids aliasing with periodic structure.
            var offset = 0
            for s in 0..<sampleSize {
                scratch[s] = key[s * stride + offset]
                offset += 7
                while offset >= stride { offset -= stride }
            }
            let expected = Double(want) * Double(sampleSize) / Double(h)
            let topRank = Int((expected + 3 * expected.squareRoot() + 2).rounded(.up))  // 1-based from the top
            if topRank < sampleSize {
                let bound = kthSmallestBranchless(scratch, count: sampleSize, rank: sampleSize - topRank)
                var n = 0
                var j = 0
                while j < h {
                    // Branch-free: the store always happens and the cursor advances by the comparison,
                    // which is ~10 % true at random positions and would mispredict as a branch.
                    candIndices[n] = Int32(truncatingIfNeeded: j)
                    n &+= Int(unsafeBitCast(key[j] > bound, to: UInt8.self))
                    j &+= 1
                }
                if n >= want {
                    for q in 0..<n { scratch[q] = key[Int(candIndices[q])] }
                    return Candidates(count: n, threshold: kthSmallestBranchless(scratch, count: n, rank: n - want))
                }
            }
        }
        for j in 0..<h {
            scratch[j] = key[j]
            candIndices[j] = Int32(truncatingIfNeeded: j)
        }
        return Candidates(count: h, threshold: kthSmallestBranchless(scratch, count: h, rank: h - want))
    }

    /// `select` for rows that are already non-negative (|a| = a), e.g. ReLU outputs. `scratch` holds
    /// h floats and `candIndices` h indices.
    @inline(__always)
    static func selectNonNegative(
        _ a: UnsafePointer<Float>, h: Int, k: Int, scratch: UnsafeMutablePointer<Float>,
        candIndices: UnsafeMutablePointer<Int32>,
        indices: UnsafeMutablePointer<Int32>, values: UnsafeMutablePointer<Float>
    ) -> Int {
        if k <= 0 || h == 0 { return 0 }
        if k >= h { return keepAll(a, h: h, indices: indices, values: values) }
        let c = thresholdAndCandidates(a, h: h, k: k, scratch: scratch, candIndices: candIndices)
        var n = 0
        for q in 0..<c.count {
            let j = Int(candIndices[q])
            guard a[j] > c.threshold else { continue }
            if n == k { break }
            indices[n] = Int32(truncatingIfNeeded: j)
            values[n] = a[j]
            n += 1
        }
        return n
    }

    /// The value of 0-based `rank` in ascending order; reorders `s`. Same result as `kthSmallest` (for
    /// inputs without NaN),
    /// with a branch-free Lomuto partition: the comparisons at random positions do not mispredict,
    /// which roughly halves the cost on the few hundred candidates of a row. A round whose pivot is the
    /// range's minimum splits off the copies of the pivot, so runs of equal values stay linear.
    @inline(__always)
    static func kthSmallestBranchless(_ s: UnsafeMutablePointer<Float>, count: Int, rank: Int) -> Float {
        var lo = 0
        var hi = count  // the answer lies in s[lo..<hi]
        while hi - lo > 16 {
            let mid = lo + (hi - lo) / 2
            let x = s[lo]
            let y = s[mid]
            let z = s[hi - 1]
            let pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y))
            var store = lo
            var i = lo
            while i < hi {
                let v = s[i]
                s[i] = s[store]
                s[store] = v
                store &+= Int(unsafeBitCast(v < pivot, to: UInt8.self))
                i &+= 1
            }
            if rank < store {
                hi = store
                continue
            }
            if store > lo {
                lo = store
                continue
            }
            // Nothing below the pivot: split the pivot's copies off the front.
            var eq = lo
            i = lo
            while i < hi {
                let v = s[i]
                s[i] = s[eq]
                s[eq] = v
                eq &+= Int(unsafeBitCast(v <= pivot, to: UInt8.self))
                i &+= 1
            }
            // eq == lo only for a NaN pivot, which has no rank: stop rather than loop.
            if rank < eq || eq == lo { return pivot }
            lo = eq
        }
        // Insertion sort of the last few.
        var i = lo + 1
        while i < hi {
            let v = s[i]
            var j = i - 1
            while j >= lo && s[j] > v {
                s[j + 1] = s[j]
                j -= 1
            }
            s[j + 1] = v
            i += 1
        }
        return s[rank]
    }
}
