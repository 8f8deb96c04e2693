/// Elementwise maximum of same-shaped tensors: the max pooling H_k = Pool(inputs) of a
/// reversible layer's node. The gradient goes to the first input holding the maximum.
public func elementwiseMax(_ xs: [Tensor]) -> Tensor {
    precondition(!xs.isEmpty && xs.allSatisfy { $0.shape == xs[0].shape && $0.dtype == xs[0].dtype },
                 "elementwiseMax needs tensors of one shape and dtype, got \(xs.map(\.shape))")
    if xs.count == 1 { return xs[0] }
    if let branches = Runtime.current.branches {
        // One mask holds each element's 1: the sum of products adds exact zeros only.
        let terms = zip(xs, branches.maxMasks(xs)).map { mul($0, $1) }
        return terms.dropFirst().reduce(terms[0], add)
    }
    let y = Tensor(uninitialized: xs[0].shape, dtype: xs[0].dtype)
    // Which input won at each element: needed by backward, one byte each.
    var winners = [UInt8](repeating: 0, count: y.holdsValues ? y.count : 0)
    if y.holdsValues { switch y.dtype {
    case .float32: maxKernel(xs.map { $0.pointer(Float.self) }, y.pointer(Float.self), &winners)
    case .float64: maxKernel(xs.map { $0.pointer(Double.self) }, y.pointer(Double.self), &winners)
    } }
    record(y, inputs: xs) { dy in
        xs.indices.map { i -> Tensor? in
            guard xs[i].requiresGrad else { return nil }
            let dx = Tensor(zeros: y.shape, dtype: y.dtype)
            guard dx.holdsValues else { return dx }
            switch y.dtype {
            case .float32: routeKernel(dy.pointer(Float.self), dx.pointer(Float.self), winners, UInt8(i))
            case .float64: routeKernel(dy.pointer(Double.self), dx.pointer(Double.self), winners, UInt8(i))
            }
            return dx
        }
    }
    return y
}

/// Elementwise mean of same-shaped tensors (mean pooling).
public func elementwiseMean(_ xs: [Tensor]) -> Tensor {
    precondition(!xs.isEmpty && xs.allSatisfy { $0.shape == xs[0].shape && $0.dtype == xs[0].dtype },
                 "elementwiseMean needs tensors of one shape and dtype, got \(xs.map(\.shape))")
    if xs.count == 1 { return xs[0] }
    let y = Tensor(zeros: xs[0].shape, dtype: xs[0].dtype)
    let inv = 1 / Double(xs.count)
    if y.holdsValues { switch y.dtype {
    case .float32: meanKernel(xs.map { $0.pointer(Float.self) }, y.pointer(Float.self), y.count, Float(inv))
    case .float64: meanKernel(xs.map { $0.pointer(Double.self) }, y.pointer(Double.self), y.count, inv)
    } }
    record(y, inputs: xs) { dy in
        let share = scale(dy, inv)
        return xs.map { $0.requiresGrad ? share : nil }
    }
    return y
}

private func maxKernel<S: TensorScalar>(_ xs: [UnsafeMutablePointer<S>], _ y: UnsafeMutablePointer<S>, _ winners: inout [UInt8]) {
    precondition(xs.count <= 255, "at most 255 pooled tensors")
    for i in 0..<winners.count {
        var best = xs[0][i], winner: UInt8 = 0
        for k in 1..<xs.count where xs[k][i] > best {
            best = xs[k][i]
            winner = UInt8(k)
        }
        y[i] = best
        winners[i] = winner
    }
}

private func routeKernel<S: TensorScalar>(_ dy: UnsafeMutablePointer<S>, _ dx: UnsafeMutablePointer<S>, _ winners: [UInt8], _ k: UInt8) {
    for i in 0..<winners.count where winners[i] == k { dx[i] = dy[i] }
}

private func meanKernel<S: TensorScalar>(_ xs: [UnsafeMutablePointer<S>], _ y: UnsafeMutablePointer<S>, _ n: Int, _ inv: S) {
    for x in xs {
        for i in 0..<n { y[i] += x[i] }
    }
    for i in 0..<n { y[i] *= inv }
}
