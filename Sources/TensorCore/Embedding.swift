/// Row lookup: table [V, e], `ids` (row-major, `shape` of them) -> [shape..., e].
/// Backward scatter-adds into a zero table gradient (ids may repeat).
public func embedding(_ table: Tensor, ids: [Int32], shape: [Int]) -> Tensor {
    precondition(table.rank == 2, "embedding table must be [V, e], got \(table.shape)")
    let (vocabulary, e) = (table.shape[0], table.shape[1])
    precondition(ids.count == shape.reduce(1, *), "\(ids.count) ids for shape \(shape)")
    for (position, id) in ids.enumerated() {
        precondition(id >= 0 && Int(id) < vocabulary, "id \(id) at position \(position) is outside the vocabulary [0, \(vocabulary))")
    }
    let y = Tensor(uninitialized: shape + [e], dtype: table.dtype)
    let bytes = e * table.dtype.size
    for (i, id) in ids.enumerated() where y.holdsValues {
        (y.buffer.raw + i * bytes).copyMemory(from: table.buffer.raw + Int(id) * bytes, byteCount: bytes)
    }
    record(y, inputs: [table]) { dy in
        let dtable = Tensor(zeros: table.shape, dtype: table.dtype)
        guard dtable.holdsValues else { return [dtable] }
        switch table.dtype {
        case .float32: scatterAdd(dy.pointer(Float.self), dtable.pointer(Float.self), ids, e)
        case .float64: scatterAdd(dy.pointer(Double.self), dtable.pointer(Double.self), ids, e)
        }
        return [dtable]
    }
    return y
}

private func scatterAdd<S: TensorScalar>(_ dy: UnsafeMutablePointer<S>, _ dtable: UnsafeMutablePointer<S>, _ ids: [Int32], _ e: Int) {
    for (i, id) in ids.enumerated() {
        let source = i &* e, target = Int(id) &* e
        for j in 0..<e { dtable[target &+ j] += dy[source &+ j] }
    }
}
