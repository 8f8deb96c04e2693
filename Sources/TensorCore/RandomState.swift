import RealModule

/// Seeded generator (SplitMix64) for weight initialisation and test data: the same seed
/// gives the same numbers on every machine, which checkpoints and the verifier rely on.
public struct RandomState: RandomNumberGenerator, Sendable, Codable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return RandomState.mix(state)
    }

    /// SplitMix64's finaliser: a bijective mix of 64 bits. Also the counter-based hash
    /// behind dropout masks (`mix(key ^ index)`), which needs no stored state to replay.
    @inlinable
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Standard normal (Box-Muller).
    public mutating func normal() -> Double {
        let u1 = max(uniform(), 0x1.0p-60)
        let u2 = uniform()
        return (-2 * Double.log(u1)).squareRoot() * Double.cos(2 * Double.pi * u2)
    }
}

extension Tensor {
    /// Normal(mean, std) entries from `rng`.
    public convenience init(
        randomNormal shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType,
        rng: inout RandomState, category: MemoryCategory? = nil
    ) {
        if Runtime.current.isShapeOnly { self.init(uninitialized: shape, dtype: dtype, category: category); return }
        let values = (0..<shape.reduce(1, *)).map { _ in mean + std * rng.normal() }
        self.init(shape: shape, scalars: values, dtype: dtype, category: category)
    }

    /// Uniform(low, high) entries from `rng`.
    public convenience init(
        randomUniform shape: [Int], low: Double, high: Double, dtype: DType,
        rng: inout RandomState, category: MemoryCategory? = nil
    ) {
        if Runtime.current.isShapeOnly { self.init(uninitialized: shape, dtype: dtype, category: category); return }
        let values = (0..<shape.reduce(1, *)).map { _ in low + (high - low) * rng.uniform() }
        self.init(shape: shape, scalars: values, dtype: dtype, category: category)
    }
}
