/// Inverted dropout, x -> x · mask / (1 - rate), any shape. Whether element i is kept is a
/// pure function of (key, i) — a counter-based hash, no stored mask and no generator
/// state — so backward, and any recomputation given the same key (backprop with
/// reconstruction re-runs every layer), replays exactly the same mask.
public func dropout(_ x: Tensor, rate: Double, key: UInt64) -> Tensor {
    precondition((0..<1).contains(rate), "dropout rate must be in [0, 1), got \(rate)")
    if rate == 0 { return x }
    let y = Tensor(uninitialized: x.shape, dtype: x.dtype)
    applyDropout(x, y, rate: rate, key: key)
    record(y, inputs: [x]) { dy in
        let dx = Tensor(uninitialized: x.shape, dtype: x.dtype)
        applyDropout(dy, dx, rate: rate, key: key)
        return [dx]
    }
    return y
}

/// Whether element `index` survives dropout at `rate` under `key`.
@inline(__always)
public func dropoutKeeps(key: UInt64, index: Int, rate: Double) -> Bool {
    let bits = RandomState.mix(key ^ RandomState.mix(UInt64(truncatingIfNeeded: index) &+ 0x632B_E59B_D9B4_E019))
    return Double(bits >> 11) * 0x1.0p-53 >= rate
}

private func applyDropout(_ x: Tensor, _ y: Tensor, rate: Double, key: UInt64) {
    switch x.dtype {
    case .float32: dropoutKernel(x.pointer(Float.self), y.pointer(Float.self), x.count, rate, key)
    case .float64: dropoutKernel(x.pointer(Double.self), y.pointer(Double.self), x.count, rate, key)
    }
}

private func dropoutKernel<S: TensorScalar>(_ x: UnsafeMutablePointer<S>, _ y: UnsafeMutablePointer<S>, _ n: Int, _ rate: Double, _ key: UInt64) {
    let scale = S(1 / (1 - rate))
    for i in 0..<n { y[i] = dropoutKeeps(key: key, index: i, rate: rate) ? x[i] * scale : 0 }
}
