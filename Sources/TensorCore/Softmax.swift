/// softmax(x + mask) along the last dimension. x [..., n]; `additiveMask` broadcasts
/// against x (e.g. a causal [T, T] or a padding [B, 1, 1, T] mask) and may hold -inf.
/// A row with every entry -inf yields zeros (and passes zero gradient) instead of NaN.
public func softmax(_ x: Tensor, additiveMask: Tensor? = nil) -> Tensor {
    let logits = additiveMask.map { binary(x, $0, .add, category: .workspace) } ?? x
    precondition(logits.shape == x.shape, "mask \(additiveMask!.shape) would broadcast x \(x.shape) to \(logits.shape)")
    let n = x.shape.last ?? 1
    let y = Tensor(uninitialized: x.shape, dtype: x.dtype)
    if y.holdsValues { switch x.dtype {
    case .float32: softmaxKernel(logits.pointer(Float.self), y.pointer(Float.self), x.count, n)
    case .float64: softmaxKernel(logits.pointer(Double.self), y.pointer(Double.self), x.count, n)
    } }
    var inputs = [x]
    if let additiveMask { inputs.append(additiveMask) }
    record(y, inputs: inputs) { dy in
        // dx = y * (dy - sum(dy * y)) per row; the mask was added, so it gets the same.
        let dx = Tensor(uninitialized: x.shape, dtype: x.dtype)
        if dx.holdsValues { switch x.dtype {
        case .float32: softmaxBackwardKernel(y.pointer(Float.self), dy.pointer(Float.self), dx.pointer(Float.self), x.count, n)
        case .float64: softmaxBackwardKernel(y.pointer(Double.self), dy.pointer(Double.self), dx.pointer(Double.self), x.count, n)
        } }
        var grads: [Tensor?] = [x.requiresGrad ? dx : nil]
        if let additiveMask { grads.append(additiveMask.requiresGrad ? reduce(dx, toShape: additiveMask.shape) : nil) }
        return grads
    }
    return y
}

private func softmaxKernel<S: TensorScalar>(_ x: UnsafeMutablePointer<S>, _ y: UnsafeMutablePointer<S>, _ count: Int, _ n: Int) {
    var row = 0
    while row < count {
        var m = -S.infinity
        for j in 0..<n { m = max(m, x[row &+ j]) }
        if m == -S.infinity {
            for j in 0..<n { y[row &+ j] = 0 }
        } else {
            var s: S = 0
            for j in 0..<n {
                let e = S.exp(x[row &+ j] - m)
                y[row &+ j] = e
                s += e
            }
            let inv = 1 / s
            for j in 0..<n { y[row &+ j] *= inv }
        }
        row &+= n
    }
}

private func softmaxBackwardKernel<S: TensorScalar>(
    _ y: UnsafeMutablePointer<S>, _ dy: UnsafeMutablePointer<S>, _ dx: UnsafeMutablePointer<S>, _ count: Int, _ n: Int
) {
    var row = 0
    while row < count {
        var dot: S = 0
        for j in 0..<n { dot += dy[row &+ j] * y[row &+ j] }
        for j in 0..<n { dx[row &+ j] = y[row &+ j] * (dy[row &+ j] - dot) }
        row &+= n
    }
}
