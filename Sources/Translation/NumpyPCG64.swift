/// numpy's `np.random.default_rng(seed)` (PCG64 seeded through a SeedSequence) and the
/// bounded integers its `integers(0, n)` and `choice(n, replace=True)` draw, bit for bit.
/// sacreBLEU's paired bootstrap resampling picks its resamples with
/// `default_rng(seed).choice(...)`; reproducing its p-values exactly needs the same stream,
/// not merely a good generator.
public struct NumpyPCG64: Sendable {
    /// PCG64's 128-bit LCG multiplier.
    private static let multiplier = UInt128(2_549_297_995_355_413_924) << 64 | UInt128(4_865_540_595_714_422_341)
    private var state: UInt128
    private let increment: UInt128
    /// numpy hands out 32-bit draws in pairs: the low half of a 64-bit output first, then
    /// the high half, kept here.
    private var pendingHalf: UInt32?

    /// `default_rng(seed)`.
    public init(seed: UInt64) {
        var words: [UInt32] = []
        var rest = seed
        repeat {
            words.append(UInt32(truncatingIfNeeded: rest))
            rest >>= 32
        } while rest > 0
        self.init(entropy: words)
    }

    /// `default_rng(None)`: 128 bits of fresh entropy, as numpy draws for it.
    public static func unseeded() -> NumpyPCG64 {
        var system = SystemRandomNumberGenerator()
        return NumpyPCG64(entropy: (0..<4).map { _ in UInt32.random(in: .min ... .max, using: &system) })
    }

    /// Seeded from entropy words, lowest first (numpy's reading of a seed integer).
    init(entropy: [UInt32]) {
        let words = SeedSequence.state(pool: SeedSequence.pool(entropy), count: 4)
        let initialState = UInt128(words[0]) << 64 | UInt128(words[1])
        increment = (UInt128(words[2]) << 64 | UInt128(words[3])) << 1 | 1
        state = 0
        step()
        state &+= initialState
        step()
    }

    private mutating func step() { state = state &* Self.multiplier &+ increment }

    /// The next 64-bit output: PCG's XSL-RR (the halves xor-ed, rotated by the top 6 bits).
    public mutating func next64() -> UInt64 {
        step()
        let folded = UInt64(truncatingIfNeeded: state >> 64) ^ UInt64(truncatingIfNeeded: state)
        let rotation = UInt64(truncatingIfNeeded: state >> 122)
        return folded &>> rotation | folded &<< (64 &- rotation)
    }

    public mutating func next32() -> UInt32 {
        if let half = pendingHalf {
            pendingHalf = nil
            return half
        }
        let next = next64()
        pendingHalf = UInt32(truncatingIfNeeded: next >> 32)
        return UInt32(truncatingIfNeeded: next)
    }

    /// A uniform integer in 0..<bound (bound ≥ 1), as numpy's `random_bounded_uint64_fill`
    /// draws it: nothing for bound 1; Lemire's method on 32-bit draws when bound - 1 fits in
    /// 32 bits (a plain 32-bit draw for bound 2^32), on 64-bit draws otherwise.
    public mutating func integer(below bound: UInt64) -> UInt64 {
        let range = bound &- 1
        if range == 0 { return 0 }
        if range < UInt64(UInt32.max) { return UInt64(lemire32(UInt32(bound))) }
        if range == UInt64(UInt32.max) { return UInt64(next32()) }
        return lemire64(bound)
    }

    /// Lemire's multiply-and-reject: the high half of draw · bound, redrawn while the low half
    /// falls below 2^32 mod bound.
    private mutating func lemire32(_ bound: UInt32) -> UInt32 {
        var product = UInt64(next32()) * UInt64(bound)
        if UInt32(truncatingIfNeeded: product) < bound {
            let threshold = (UInt32.max - (bound - 1)) % bound
            while UInt32(truncatingIfNeeded: product) < threshold { product = UInt64(next32()) * UInt64(bound) }
        }
        return UInt32(product >> 32)
    }

    private mutating func lemire64(_ bound: UInt64) -> UInt64 {
        var product = next64().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (UInt64.max - (bound - 1)) % bound
            while product.low < threshold { product = next64().multipliedFullWidth(by: bound) }
        }
        return product.high
    }
}

/// numpy's SeedSequence with its default pool of four 32-bit words: hashes the entropy into
/// the pool, mixes every word into every other, then hashes the pool out into a state.
private enum SeedSequence {
    static let poolSize = 4
    static let initA: UInt32 = 0x43b0_d7e5, multiplierA: UInt32 = 0x931e_8875
    static let initB: UInt32 = 0x8b51_f9dd, multiplierB: UInt32 = 0x58f3_8ded
    static let mixLeft: UInt32 = 0xca01_f9dd, mixRight: UInt32 = 0x4973_f715

    static func pool(_ entropy: [UInt32]) -> [UInt32] {
        var hashConstant = initA
        func hashmix(_ value: UInt32) -> UInt32 {
            var value = value ^ hashConstant
            hashConstant &*= multiplierA
            value &*= hashConstant
            return value ^ value >> 16
        }
        func mix(_ x: UInt32, _ y: UInt32) -> UInt32 {
            let result = mixLeft &* x &- mixRight &* y
            return result ^ result >> 16
        }
        var pool = (0..<poolSize).map { hashmix($0 < entropy.count ? entropy[$0] : 0) }
        for source in 0..<poolSize {
            for destination in 0..<poolSize where source != destination {
                pool[destination] = mix(pool[destination], hashmix(pool[source]))
            }
        }
        for source in entropy.indices.dropFirst(poolSize) {
            for destination in 0..<poolSize { pool[destination] = mix(pool[destination], hashmix(entropy[source])) }
        }
        return pool
    }

    /// `generate_state(count, np.uint64)`: 2·count 32-bit words, paired little-endian.
    static func state(pool: [UInt32], count: Int) -> [UInt64] {
        var hashConstant = initB
        let words = (0..<(2 * count)).map { i -> UInt32 in
            var value = pool[i % pool.count] ^ hashConstant
            hashConstant &*= multiplierB
            value &*= hashConstant
            return value ^ value >> 16
        }
        return (0..<count).map { UInt64(words[2 * $0]) | UInt64(words[2 * $0 + 1]) << 32 }
    }
}
