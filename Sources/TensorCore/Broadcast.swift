/// NumPy broadcasting: shapes are aligned on the right; a dimension of 1 (or a missing
/// one) stretches to the other's size.
enum Broadcast {
    /// The broadcast shape of `a` and `b`, or a precondition failure naming both.
    static func shape(_ a: [Int], _ b: [Int]) -> [Int] {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            precondition(da == db || da == 1 || db == 1, "shapes \(a) and \(b) do not broadcast")
            out[i] = max(da, db)
        }
        return out
    }

    /// Element strides of `shape` seen through `outShape`: 0 where it is broadcast.
    static func strides(of shape: [Int], in outShape: [Int]) -> [Int] {
        let offset = outShape.count - shape.count
        var strides = [Int](repeating: 0, count: outShape.count)
        var running = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i + offset] = shape[i] == 1 ? 0 : running
            running *= shape[i]
        }
        return strides
    }

    /// Calls `body(outIndex, aIndex, bIndex)` for every element of the broadcast shape,
    /// in row-major order.
    @inline(__always)
    static func forEach(_ outShape: [Int], _ sa: [Int], _ sb: [Int], _ body: (Int, Int, Int) -> Void) {
        let rank = outShape.count
        let total = outShape.reduce(1, *)
        if total == 0 { return }
        if rank == 0 { body(0, 0, 0); return }
        var index = [Int](repeating: 0, count: rank)
        var ia = 0, ib = 0
        let inner = outShape[rank - 1], innerA = sa[rank - 1], innerB = sb[rank - 1]
        var o = 0
        while o < total {
            var a = ia, b = ib
            for _ in 0..<inner {
                body(o, a, b)
                o &+= 1; a &+= innerA; b &+= innerB
            }
            // Advance the outer multi-index (dimensions 0..<rank-1).
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                ia += sa[d]; ib += sb[d]
                if index[d] < outShape[d] { break }
                ia -= sa[d] * outShape[d]; ib -= sb[d] * outShape[d]
                index[d] = 0
                d -= 1
            }
        }
    }
}

/// Sums `t` down to `shape` (the inverse of broadcasting it up): the gradient of a
/// broadcast operand.
func reduce(_ t: Tensor, toShape shape: [Int], category: MemoryCategory? = nil) -> Tensor {
    if t.shape == shape { return t }
    let out = Tensor(zeros: shape, dtype: t.dtype, category: category)
    let so = Broadcast.strides(of: shape, in: t.shape)
    let unit = [Int](repeating: 0, count: t.rank)
    guard out.holdsValues else { return out }
    switch t.dtype {
    case .float32: reduceKernel(t.pointer(Float.self), out.pointer(Float.self), t.shape, so, unit)
    case .float64: reduceKernel(t.pointer(Double.self), out.pointer(Double.self), t.shape, so, unit)
    }
    return out
}

private func reduceKernel<S: TensorScalar>(
    _ src: UnsafeMutablePointer<S>, _ dst: UnsafeMutablePointer<S>, _ shape: [Int], _ so: [Int], _ unit: [Int]
) {
    if so.allSatisfy({ $0 == 0 }) {
        // Down to one number (the gradient of a broadcast scalar).
        var total: S = 0
        for i in 0..<shape.reduce(1, *) { total += src[i] }
        dst[0] = total
        return
    }
    Broadcast.forEach(shape, so, unit) { i, o, _ in dst[o] += src[i] }
}
