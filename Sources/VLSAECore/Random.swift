/// A small, fully specified PRNG (xoshiro256**, seeded through SplitMix64) so that every
/// random choice is reproducible from a recorded seed on any platform and Swift version.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    // Visible to inlinable code so that hot loops (the bootstrap's 10⁸ draws) inline next().
    @usableFromInline var s: (UInt64, UInt64, UInt64, UInt64)

    /// The generator whose four state words are the first four SplitMix64 outputs from `seed`: the same seed gives the
    /// same stream on every platform.
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// A generator for an independent stream, e.g. one per fold or per bootstrap.
    public func derived(_ stream: UInt64) -> SeededRandom {
        var copy = self
        let base = copy.next()
        return SeededRandom(seed: base ^ (stream &* 0xD1B5_4A32_D192_ED03))
    }

    /// The next 64 random bits (xoshiro256**).
    @inlinable
    public mutating func next() -> UInt64 {
        @inline(__always) func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform integer in [0, n) without modulo bias (Lemire's method).
    @inlinable
    public mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let t = (0 &- bound) % bound
            while m.low < t { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// Standard normal deviate (Box–Muller; one value per call, deterministic). log and cos are
    /// PortableMath's, so the stream has the same bits on every platform.
    public mutating func nextGaussian() -> Double {
        var u1 = nextDouble()
        while u1 <= 0 { u1 = nextDouble() }
        let u2 = nextDouble()
        return (-2 * PortableMath.log(u1)).squareRoot() * PortableMath.cos(2 * Double.pi * u2)
    }

    /// Fisher–Yates permutation of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, nextInt(below: i + 1)) }
        return p
    }
}
