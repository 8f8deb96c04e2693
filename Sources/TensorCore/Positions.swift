/// Time-axis pieces for incremental decoding: a cache grows one position at a time and
/// beam search reorders it by hypothesis. Built from reshape, split and concat, so they
/// are recorded like any op when a tape is active.

/// Tensors [B, T_i, ...] with equal batch and trailing dimensions -> [B, sum T_i, ...].
public func concatPositions(_ xs: [Tensor]) -> Tensor {
    precondition(!xs.isEmpty && xs.allSatisfy { $0.rank >= 2 && $0.shape[0] == xs[0].shape[0] && $0.shape.dropFirst(2) == xs[0].shape.dropFirst(2) },
                 "concatPositions needs [B, T, ...] tensors with equal B and trailing dimensions, got \(xs.map(\.shape))")
    if xs.count == 1 { return xs[0] }
    let b = xs[0].shape[0]
    let joined = concat(xs.map { reshape($0, [b, $0.count / max(b, 1)]) })
    return reshape(joined, [b, xs.map { $0.shape[1] }.reduce(0, +)] + Array(xs[0].shape.dropFirst(2)))
}

/// x [B, T, ...] -> its last `count` positions [B, count, ...].
public func lastPositions(_ x: Tensor, _ count: Int) -> Tensor {
    let (b, t) = (x.shape[0], x.shape[1])
    precondition(count >= 0 && count <= t, "cannot take the last \(count) of \(t) positions")
    if count == t { return x }
    let step = x.count / max(b * t, 1)
    let parts = split(reshape(x, [b, t * step]), sizes: [(t - count) * step, count * step])
    return reshape(parts[1], [b, count] + Array(x.shape.dropFirst(2)))
}

/// A [B, ...] tensor's rows `rows` (a row may repeat), copied, unrecorded: beam search
/// repeats a sentence once per hypothesis and reorders caches by parent hypothesis.
public func gatherRows(_ t: Tensor, _ rows: [Int]) -> Tensor {
    let rowBytes = t.count / max(t.shape[0], 1) * t.dtype.size
    let out = Tensor(uninitialized: [rows.count] + Array(t.shape.dropFirst()), dtype: t.dtype)
    for (i, r) in rows.enumerated() where out.holdsValues {
        precondition(r >= 0 && r < t.shape[0], "row \(r) of a tensor with \(t.shape[0]) rows")
        (out.buffer.raw + i * rowBytes).copyMemory(from: t.buffer.raw + r * rowBytes, byteCount: rowBytes)
    }
    return out
}
