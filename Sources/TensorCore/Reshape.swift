/// x viewed with another shape of the same element count (one dimension may be -1).
/// Shares x's memory: no copy, no allocation.
public func reshape(_ x: Tensor, _ shape: [Int]) -> Tensor {
    var resolved = shape
    if let free = shape.firstIndex(of: -1) {
        let known = shape.enumerated().filter { $0.offset != free }.map(\.element).reduce(1, *)
        precondition(known > 0 && x.count % known == 0, "cannot reshape \(x.shape) to \(shape)")
        resolved[free] = x.count / known
    }
    precondition(resolved.reduce(1, *) == x.count && resolved.allSatisfy { $0 >= 0 }, "cannot reshape \(x.shape) to \(shape)")
    let y = Tensor(shape: resolved, dtype: x.dtype, buffer: x.buffer)
    record(y, inputs: [x]) { dy in [Tensor(shape: x.shape, dtype: dy.dtype, buffer: dy.buffer)] }
    return y
}

/// x with axes `dim0` and `dim1` swapped (a materialised copy), any rank.
public func transpose(_ x: Tensor, _ dim0: Int, _ dim1: Int) -> Tensor {
    precondition(dim0 >= 0 && dim0 < x.rank && dim1 >= 0 && dim1 < x.rank, "axes \(dim0), \(dim1) out of range for \(x.shape)")
    if dim0 == dim1 { return x }
    var shape = x.shape
    shape.swapAt(dim0, dim1)
    let y = Tensor(uninitialized: shape, dtype: x.dtype)
    swapAxes(x, into: y, dim0, dim1)
    record(y, inputs: [x]) { dy in
        let dx = Tensor(uninitialized: x.shape, dtype: x.dtype)
        swapAxes(dy, into: dx, dim0, dim1)
        return [dx]
    }
    return y
}

/// Writes x with axes a and b swapped into y, viewing both as [outer, A, middle, B, inner].
private func swapAxes(_ x: Tensor, into y: Tensor, _ dim0: Int, _ dim1: Int) {
    guard y.holdsValues else { return }
    let (a, b) = (min(dim0, dim1), max(dim0, dim1))
    let s = x.shape
    let outer = s[..<a].reduce(1, *), middle = s[(a + 1)..<b].reduce(1, *), inner = s[(b + 1)...].reduce(1, *)
    let geometry = (outer: outer, sizeA: s[a], middle: middle, sizeB: s[b], inner: inner)
    switch x.dtype {
    case .float32: swapKernel(x.pointer(Float.self), y.pointer(Float.self), geometry)
    case .float64: swapKernel(x.pointer(Double.self), y.pointer(Double.self), geometry)
    }
}

private func swapKernel<S: TensorScalar>(
    _ x: UnsafeMutablePointer<S>, _ y: UnsafeMutablePointer<S>,
    _ g: (outer: Int, sizeA: Int, middle: Int, sizeB: Int, inner: Int)
) {
    // x[o, i, m, j, r] -> y[o, j, m, i, r]
    for o in 0..<g.outer {
        for i in 0..<g.sizeA {
            for m in 0..<g.middle {
                for j in 0..<g.sizeB {
                    let source = ((((o &* g.sizeA &+ i) &* g.middle &+ m) &* g.sizeB &+ j) &* g.inner)
                    let target = ((((o &* g.sizeB &+ j) &* g.middle &+ m) &* g.sizeA &+ i) &* g.inner)
                    (y + target).update(from: x + source, count: g.inner)
                }
            }
        }
    }
}
