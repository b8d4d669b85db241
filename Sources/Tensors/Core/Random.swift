import Foundation

/// The one random generator: xoshiro256** seeded through SplitMix64. Every random choice in a run
/// (initialisation, crops, flips, dropout, splits) draws from a generator derived from the spec's seed.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    /// An independent stream for a named purpose ("init", "crop", …), so adding draws to one purpose
    /// never shifts another's.
    public init(seed: UInt64, stream: String) {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
        for byte in stream.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
        }
        self.init(seed: seed ^ hash)
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// Standard normal (Box–Muller, in Double).
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) * 0x1p-53, .leastNonzeroMagnitude)
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
}

extension Tensor {
    public static func uniform(_ shape: [Int], low: Float, high: Float, using rng: inout RandomGenerator) -> Tensor {
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count { t.pointer[i] = rng.uniform(low, high) }
        return t
    }

    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, using rng: inout RandomGenerator) -> Tensor {
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count { t.pointer[i] = mean + std * rng.normal() }
        return t
    }

    /// Normal values redrawn until they fall in [a, b] (timm's / MONAI's `trunc_normal_`).
    public static func truncatedNormal(_ shape: [Int], std: Float, a: Float = -2, b: Float = 2,
                                       using rng: inout RandomGenerator) -> Tensor {
        let t = Tensor(uninitialized: shape)
        for i in 0..<t.count {
            var v = std * rng.normal()
            while v < a || v > b { v = std * rng.normal() }
            t.pointer[i] = v
        }
        return t
    }

    /// PyTorch's default for Linear and Conv weights: kaiming_uniform(a = √5), i.e. U(±1/√fan_in).
    public static func kaimingUniform(_ shape: [Int], fanIn: Int, using rng: inout RandomGenerator) -> Tensor {
        let bound = 1 / Float(max(fanIn, 1)).squareRoot()
        return uniform(shape, low: -bound, high: bound, using: &rng)
    }
}
