/// Inverted dropout, x -> x · mask / (1 - rate), any shape. Whether element i is kept is a
/// pure function of (key, i) — a counter-based hash, no stored mask and no generator
/// state — so backward, and any recomputation given the same key (backprop with
/// reconstruction re-runs every layer), replays exactly the same mask. Under
/// `Runtime.batchRows` (rows `first ..< first + count` of a larger batch, x batch-major) the
/// indices are those the same elements have in the larger batch.
public func dropout(_ x: Tensor, rate: Double, key: UInt64) -> Tensor {
    precondition((0..<1).contains(rate), "dropout rate must be in [0, 1), got \(rate)")
    if rate == 0 { return x }
    let offset = Runtime.current.batchRows.map { $0.first * (x.count / max($0.count, 1)) } ?? 0
    let y = Tensor(uninitialized: x.shape, dtype: x.dtype)
    applyDropout(x, y, rate: rate, key: key, offset: offset)
    record(y, inputs: [x]) { dy in
        let dx = Tensor(uninitialized: x.shape, dtype: x.dtype)
        applyDropout(dy, dx, rate: rate, key: key, offset: offset)
        return [dx]
    }
    return y
}

/// Whether element `index` survives dropout at `rate` under `key`: the index-th output of
/// SplitMix64 seeded with `key`, compared with rate · 2^64.
@inline(__always)
public func dropoutKeeps(key: UInt64, index: Int, rate: Double) -> Bool {
    RandomState.mix(key &+ UInt64(truncatingIfNeeded: index + 1) &* 0x9E37_79B9_7F4A_7C15) >= dropoutThreshold(rate)
}

@inline(__always)
func dropoutThreshold(_ rate: Double) -> UInt64 {
    rate <= 0 ? 0 : UInt64(min(rate * 0x1.0p64, 0x1.0p64 - 1))
}

private func applyDropout(_ x: Tensor, _ y: Tensor, rate: Double, key: UInt64, offset: Int) {
    guard y.holdsValues else { return }
    switch x.dtype {
    case .float32: dropoutKernel(x.pointer(Float.self), y.pointer(Float.self), x.count, rate, key, offset)
    case .float64: dropoutKernel(x.pointer(Double.self), y.pointer(Double.self), x.count, rate, key, offset)
    }
}

/// Element i is kept iff `dropoutKeeps(key: key, index: offset + i, rate: rate)`.
private func dropoutKernel<S: TensorScalar>(_ x: UnsafeMutablePointer<S>, _ y: UnsafeMutablePointer<S>, _ n: Int, _ rate: Double, _ key: UInt64,
                                            _ offset: Int) {
    let scale = S(1 / (1 - rate))
    let threshold = dropoutThreshold(rate)
    var state = key &+ UInt64(truncatingIfNeeded: offset) &* 0x9E37_79B9_7F4A_7C15
    for i in 0..<n {
        state &+= 0x9E37_79B9_7F4A_7C15
        y[i] = RandomState.mix(state) >= threshold ? x[i] * scale : 0
    }
}
