/// x [..., f] -> `parts` tensors [..., f/parts], split along the last (feature) dimension:
/// the X_1..X_n of a reversible layer. One tape entry for all parts.
public func split(_ x: Tensor, parts: Int) -> [Tensor] {
    let f = x.shape.last ?? 0
    precondition(parts > 0 && f % parts == 0, "cannot split \(x.shape) into \(parts) equal parts along the last dimension")
    return split(x, sizes: Array(repeating: f / parts, count: parts))
}

/// x [..., f] -> tensors [..., sizes[i]] with sum(sizes) == f.
public func split(_ x: Tensor, sizes: [Int]) -> [Tensor] {
    let f = x.shape.last ?? 0
    precondition(sizes.reduce(0, +) == f && sizes.allSatisfy { $0 >= 0 }, "sizes \(sizes) do not split \(x.shape)")
    let lead = Array(x.shape.dropLast())
    let rows = lead.reduce(1, *)
    var outputs: [Tensor] = []
    var offset = 0
    for size in sizes {
        let part = Tensor(uninitialized: lead + [size], dtype: x.dtype)
        if part.holdsValues { copyColumns(from: x.buffer.raw, fromWidth: f, fromOffset: offset, to: part.buffer.raw, toWidth: size, toOffset: 0,
                    columns: size, rows: rows, elementSize: x.dtype.size) }
        outputs.append(part)
        offset += size
    }
    record(outputs, inputs: [x]) { grads in
        // The gradient of a split is the concatenation of its parts' gradients (zeros for
        // a part no gradient reached).
        let dx = Tensor(zeros: x.shape, dtype: x.dtype)
        var offset = 0
        for (size, grad) in zip(sizes, grads) {
            if let grad, dx.holdsValues {
                copyColumns(from: grad.buffer.raw, fromWidth: size, fromOffset: 0, to: dx.buffer.raw, toWidth: f, toOffset: offset,
                            columns: size, rows: rows, elementSize: x.dtype.size)
            }
            offset += size
        }
        return [dx]
    }
    return outputs
}

/// Tensors [..., f_i] with equal leading dimensions -> [..., sum f_i].
public func concat(_ xs: [Tensor]) -> Tensor {
    precondition(!xs.isEmpty, "concat of no tensors")
    let lead = Array(xs[0].shape.dropLast())
    precondition(xs.allSatisfy { Array($0.shape.dropLast()) == lead && $0.dtype == xs[0].dtype },
                 "concat needs equal leading dimensions and dtypes, got \(xs.map(\.shape))")
    let sizes = xs.map { $0.shape.last ?? 0 }
    let f = sizes.reduce(0, +)
    let rows = lead.reduce(1, *)
    let y = Tensor(uninitialized: lead + [f], dtype: xs[0].dtype)
    var offset = 0
    for (x, size) in zip(xs, sizes) where y.holdsValues {
        copyColumns(from: x.buffer.raw, fromWidth: size, fromOffset: 0, to: y.buffer.raw, toWidth: f, toOffset: offset,
                    columns: size, rows: rows, elementSize: y.dtype.size)
        offset += size
    }
    record(y, inputs: xs) { dy in
        Runtime.current.withTape(nil) { split(dy, sizes: sizes) }.enumerated().map { i, g in xs[i].requiresGrad ? g : nil }
    }
    return y
}

/// Copies a block of `columns` columns per row between row-major matrices of widths
/// `fromWidth` and `toWidth`.
private func copyColumns(
    from source: UnsafeMutableRawPointer, fromWidth: Int, fromOffset: Int,
    to target: UnsafeMutableRawPointer, toWidth: Int, toOffset: Int, columns: Int, rows: Int, elementSize: Int
) {
    let bytes = columns * elementSize
    if bytes == 0 { return }
    for r in 0..<rows {
        (target + (r * toWidth + toOffset) * elementSize).copyMemory(from: source + (r * fromWidth + fromOffset) * elementSize, byteCount: bytes)
    }
}
