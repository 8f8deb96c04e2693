import RealModule

// Elementwise nonlinearities; each backward uses the forward's input or output.

/// x -> max(x, 0), any shape.
public func relu(_ x: Tensor) -> Tensor {
    if let branches = Runtime.current.branches { return mul(x, branches.reluMask(x)) }
    let y = unary(x, .relu)
    record(y, inputs: [x]) { dy in [unaryBackward(x, y, dy, .relu)] }
    return y
}

/// x -> 0.5 x (1 + erf(x / sqrt 2)), the exact GELU (PyTorch's default), any shape.
public func gelu(_ x: Tensor) -> Tensor {
    let y = unary(x, .gelu)
    record(y, inputs: [x]) { dy in [unaryBackward(x, y, dy, .gelu)] }
    return y
}

/// x -> 1 / (1 + exp(-x)), any shape.
public func sigmoid(_ x: Tensor) -> Tensor {
    let y = unary(x, .sigmoid)
    record(y, inputs: [x]) { dy in [unaryBackward(x, y, dy, .sigmoid)] }
    return y
}

enum UnaryOp { case relu, gelu, sigmoid }

func unary(_ x: Tensor, _ op: UnaryOp) -> Tensor {
    let y = Tensor(uninitialized: x.shape, dtype: x.dtype)
    guard y.holdsValues else { return y }
    switch x.dtype {
    case .float32: unaryKernel(x.pointer(Float.self), y.pointer(Float.self), x.count, op)
    case .float64: unaryKernel(x.pointer(Double.self), y.pointer(Double.self), x.count, op)
    }
    return y
}

private func unaryKernel<S: TensorScalar>(_ x: UnsafeMutablePointer<S>, _ y: UnsafeMutablePointer<S>, _ n: Int, _ op: UnaryOp) {
    switch op {
    case .relu:
        for i in 0..<n { y[i] = x[i] > 0 ? x[i] : 0 }
    case .gelu:
        let invSqrt2 = 1 / S.sqrt(2)
        for i in 0..<n { y[i] = x[i] * (1 + S.erf(x[i] * invSqrt2)) / 2 }
    case .sigmoid:
        for i in 0..<n { y[i] = 1 / (1 + S.exp(-x[i])) }
    }
}

/// dx from dy, the forward's input x and output y.
func unaryBackward(_ x: Tensor, _ y: Tensor, _ dy: Tensor, _ op: UnaryOp) -> Tensor {
    let dx = Tensor(uninitialized: x.shape, dtype: x.dtype)
    guard dx.holdsValues else { return dx }
    switch x.dtype {
    case .float32: unaryBackwardKernel(x.pointer(Float.self), y.pointer(Float.self), dy.pointer(Float.self), dx.pointer(Float.self), x.count, op)
    case .float64: unaryBackwardKernel(x.pointer(Double.self), y.pointer(Double.self), dy.pointer(Double.self), dx.pointer(Double.self), x.count, op)
    }
    return dx
}

private func unaryBackwardKernel<S: TensorScalar>(
    _ x: UnsafeMutablePointer<S>, _ y: UnsafeMutablePointer<S>, _ dy: UnsafeMutablePointer<S>, _ dx: UnsafeMutablePointer<S>,
    _ n: Int, _ op: UnaryOp
) {
    switch op {
    case .relu:
        for i in 0..<n { dx[i] = x[i] > 0 ? dy[i] : 0 }
    case .gelu:
        // d/dx [x Φ(x)] = Φ(x) + x φ(x)
        let invSqrt2 = 1 / S.sqrt(2), invSqrt2Pi = 1 / S.sqrt(2 * S.pi)
        for i in 0..<n {
            let cdf = (1 + S.erf(x[i] * invSqrt2)) / 2
            let pdf = S.exp(-x[i] * x[i] / 2) * invSqrt2Pi
            dx[i] = dy[i] * (cdf + x[i] * pdf)
        }
    case .sigmoid:
        // σ'(x) = σ(x) σ(-x): 1 - y cancels once y rounds near 1 (a relative error of
        // u / (1 - y) in Float32, 1e-6 at x = 3), σ(-x) does not.
        for i in 0..<n { dx[i] = dy[i] * y[i] / (1 + S.exp(x[i])) }
    }
}
