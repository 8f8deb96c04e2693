/// Layer normalisation over the last dimension (biased variance, as PyTorch):
/// x [..., n], gamma [n], beta [n] -> [..., n].
public func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Double = 1e-5) -> Tensor {
    let n = x.shape.last ?? 1
    precondition(gamma.shape == [n] && beta.shape == [n], "layerNorm gain \(gamma.shape) / bias \(beta.shape) for input \(x.shape)")
    let rows = x.count / max(n, 1)
    let y = Tensor(uninitialized: x.shape, dtype: x.dtype)
    // Per-row mean and 1/std, kept for backward (2 numbers a row).
    let stats = Tensor(uninitialized: [rows, 2], dtype: x.dtype)
    if y.holdsValues { switch x.dtype {
    case .float32:
        layerNormKernel(x.pointer(Float.self), gamma.pointer(Float.self), beta.pointer(Float.self), y.pointer(Float.self),
                        stats.pointer(Float.self), rows, n, Float(eps))
    case .float64:
        layerNormKernel(x.pointer(Double.self), gamma.pointer(Double.self), beta.pointer(Double.self), y.pointer(Double.self),
                        stats.pointer(Double.self), rows, n, eps)
    } }
    record(y, inputs: [x, gamma, beta]) { dy in
        let dx = Tensor(uninitialized: x.shape, dtype: x.dtype)
        let dgamma = Tensor(zeros: [n], dtype: x.dtype), dbeta = Tensor(zeros: [n], dtype: x.dtype)
        if dx.holdsValues { switch x.dtype {
        case .float32:
            layerNormBackwardKernel(x.pointer(Float.self), gamma.pointer(Float.self), stats.pointer(Float.self), dy.pointer(Float.self),
                                    dx.pointer(Float.self), dgamma.pointer(Float.self), dbeta.pointer(Float.self), rows, n)
        case .float64:
            layerNormBackwardKernel(x.pointer(Double.self), gamma.pointer(Double.self), stats.pointer(Double.self), dy.pointer(Double.self),
                                    dx.pointer(Double.self), dgamma.pointer(Double.self), dbeta.pointer(Double.self), rows, n)
        } }
        return [x.requiresGrad ? dx : nil, gamma.requiresGrad ? dgamma : nil, beta.requiresGrad ? dbeta : nil]
    }
    return y
}

private func layerNormKernel<S: TensorScalar>(
    _ x: UnsafeMutablePointer<S>, _ gamma: UnsafeMutablePointer<S>, _ beta: UnsafeMutablePointer<S>, _ y: UnsafeMutablePointer<S>,
    _ stats: UnsafeMutablePointer<S>, _ rows: Int, _ n: Int, _ eps: S
) {
    let inv = 1 / S(n)
    for r in 0..<rows {
        let base = r &* n
        var mean: S = 0
        for j in 0..<n { mean += x[base &+ j] }
        mean *= inv
        var variance: S = 0
        for j in 0..<n {
            let d = x[base &+ j] - mean
            variance += d * d
        }
        let rstd = 1 / S.sqrt(variance * inv + eps)
        stats[2 &* r] = mean
        stats[2 &* r &+ 1] = rstd
        for j in 0..<n { y[base &+ j] = (x[base &+ j] - mean) * rstd * gamma[j] + beta[j] }
    }
}

private func layerNormBackwardKernel<S: TensorScalar>(
    _ x: UnsafeMutablePointer<S>, _ gamma: UnsafeMutablePointer<S>, _ stats: UnsafeMutablePointer<S>, _ dy: UnsafeMutablePointer<S>,
    _ dx: UnsafeMutablePointer<S>, _ dgamma: UnsafeMutablePointer<S>, _ dbeta: UnsafeMutablePointer<S>, _ rows: Int, _ n: Int
) {
    // With x̂ = (x - mean) rstd and g = dy * gamma:
    // dx = rstd * (g - mean(g) - x̂ * mean(g * x̂))
    let inv = 1 / S(n)
    for r in 0..<rows {
        let base = r &* n
        let mean = stats[2 &* r], rstd = stats[2 &* r &+ 1]
        var meanG: S = 0, meanGX: S = 0
        for j in 0..<n {
            let xhat = (x[base &+ j] - mean) * rstd
            let g = dy[base &+ j] * gamma[j]
            meanG += g
            meanGX += g * xhat
            dgamma[j] += dy[base &+ j] * xhat
            dbeta[j] += dy[base &+ j]
        }
        meanG *= inv
        meanGX *= inv
        for j in 0..<n {
            let xhat = (x[base &+ j] - mean) * rstd
            dx[base &+ j] = rstd * (dy[base &+ j] * gamma[j] - meanG - xhat * meanGX)
        }
    }
}
