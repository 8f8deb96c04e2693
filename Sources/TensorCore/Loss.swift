/// log softmax along the last dimension, x [..., n] -> [..., n].
public func logSoftmax(_ x: Tensor) -> Tensor {
    let n = x.shape.last ?? 1
    let y = Tensor(uninitialized: x.shape, dtype: x.dtype)
    if y.holdsValues { switch x.dtype {
    case .float32: logSoftmaxKernel(x.pointer(Float.self), y.pointer(Float.self), x.count, n)
    case .float64: logSoftmaxKernel(x.pointer(Double.self), y.pointer(Double.self), x.count, n)
    } }
    record(y, inputs: [x]) { dy in
        // dx = dy - softmax(x) * sum(dy), softmax = exp(y)
        let dx = Tensor(uninitialized: x.shape, dtype: x.dtype)
        if dx.holdsValues { switch x.dtype {
        case .float32: logSoftmaxBackwardKernel(y.pointer(Float.self), dy.pointer(Float.self), dx.pointer(Float.self), x.count, n)
        case .float64: logSoftmaxBackwardKernel(y.pointer(Double.self), dy.pointer(Double.self), dx.pointer(Double.self), x.count, n)
        } }
        return [dx]
    }
    return y
}

/// Mean label-smoothed negative log-likelihood of `targets` under softmax(logits), fused
/// with the log-softmax. logits [N, V], targets N ids -> rank-0 loss. Per position:
/// (1 - ε)(-log p[target]) + ε · mean_v(-log p[v]) (fairseq's and PyTorch's smoothing);
/// positions whose target is `ignoreIndex` (padding) count for nothing. The mean is over
/// counted positions; with none the loss is 0 and so is the gradient.
public func crossEntropy(logits: Tensor, targets: [Int32], labelSmoothing: Double = 0, ignoreIndex: Int32? = nil) -> Tensor {
    precondition(logits.rank == 2, "crossEntropy expects logits [N, V], got \(logits.shape)")
    let (rows, vocabulary) = (logits.shape[0], logits.shape[1])
    precondition(targets.count == rows, "\(targets.count) targets for \(rows) logit rows")
    for (position, t) in targets.enumerated() where t != ignoreIndex {
        precondition(t >= 0 && Int(t) < vocabulary, "target \(t) at position \(position) is outside the vocabulary [0, \(vocabulary))")
    }
    let counted = targets.filter { $0 != ignoreIndex }.count
    // Per-row log-sum-exp, kept for backward: N numbers instead of an N x V softmax.
    let lse = Tensor(uninitialized: [rows], dtype: logits.dtype)
    var total = 0.0
    if lse.holdsValues { switch logits.dtype {
    case .float32:
        total = crossEntropyKernel(logits.pointer(Float.self), lse.pointer(Float.self), targets, ignoreIndex, rows, vocabulary, labelSmoothing)
    case .float64:
        total = crossEntropyKernel(logits.pointer(Double.self), lse.pointer(Double.self), targets, ignoreIndex, rows, vocabulary, labelSmoothing)
    } }
    let loss = Tensor(scalar: counted > 0 ? total / Double(counted) : 0, dtype: logits.dtype)
    record(loss, inputs: [logits]) { dy in
        let dx = Tensor(zeros: logits.shape, dtype: logits.dtype)
        if counted > 0 && dx.holdsValues {
            let scale = dy.scalarValue / Double(counted)
            switch logits.dtype {
            case .float32:
                crossEntropyBackwardKernel(logits.pointer(Float.self), lse.pointer(Float.self), dx.pointer(Float.self), targets,
                                           ignoreIndex, rows, vocabulary, labelSmoothing, Float(scale))
            case .float64:
                crossEntropyBackwardKernel(logits.pointer(Double.self), lse.pointer(Double.self), dx.pointer(Double.self), targets,
                                           ignoreIndex, rows, vocabulary, labelSmoothing, scale)
            }
        }
        return [dx]
    }
    return loss
}

@inline(__always)
private func logSumExp<S: TensorScalar>(_ x: UnsafeMutablePointer<S>, _ n: Int) -> S {
    var m = -S.infinity
    for j in 0..<n { m = max(m, x[j]) }
    if m == -S.infinity { return m }
    var s: S = 0
    for j in 0..<n { s += S.exp(x[j] - m) }
    return m + S.log(s)
}

private func logSoftmaxKernel<S: TensorScalar>(_ x: UnsafeMutablePointer<S>, _ y: UnsafeMutablePointer<S>, _ count: Int, _ n: Int) {
    var row = 0
    while row < count {
        let lse = logSumExp(x + row, n)
        for j in 0..<n { y[row &+ j] = x[row &+ j] - lse }
        row &+= n
    }
}

private func logSoftmaxBackwardKernel<S: TensorScalar>(
    _ y: UnsafeMutablePointer<S>, _ dy: UnsafeMutablePointer<S>, _ dx: UnsafeMutablePointer<S>, _ count: Int, _ n: Int
) {
    var row = 0
    while row < count {
        var s: S = 0
        for j in 0..<n { s += dy[row &+ j] }
        for j in 0..<n { dx[row &+ j] = dy[row &+ j] - S.exp(y[row &+ j]) * s }
        row &+= n
    }
}

private func crossEntropyKernel<S: TensorScalar>(
    _ x: UnsafeMutablePointer<S>, _ lse: UnsafeMutablePointer<S>, _ targets: [Int32], _ ignore: Int32?,
    _ rows: Int, _ v: Int, _ epsilon: Double
) -> Double {
    var total = 0.0
    for r in 0..<rows {
        let row = x + r &* v
        lse[r] = logSumExp(row, v)
        if targets[r] == ignore { continue }
        let l = Double(lse[r])
        var mean = 0.0
        for j in 0..<v { mean += Double(row[j]) }
        mean /= Double(v)
        total += (1 - epsilon) * (l - Double(row[Int(targets[r])])) + epsilon * (l - mean)
    }
    return total
}

private func crossEntropyBackwardKernel<S: TensorScalar>(
    _ x: UnsafeMutablePointer<S>, _ lse: UnsafeMutablePointer<S>, _ dx: UnsafeMutablePointer<S>, _ targets: [Int32],
    _ ignore: Int32?, _ rows: Int, _ v: Int, _ epsilon: Double, _ scale: S
) {
    // d loss / d x = (softmax(x) - q) · scale, q = (1 - ε) onehot(target) + ε / V
    let uniform = S(epsilon / Double(v)), onTarget = S(1 - epsilon)
    for r in 0..<rows where targets[r] != ignore {
        let base = r &* v
        for j in 0..<v { dx[base &+ j] = (S.exp(x[base &+ j] - lse[r]) - uniform) * scale }
        dx[base &+ Int(targets[r])] -= onTarget * scale
    }
}
