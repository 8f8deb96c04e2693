/// How a convolution over time aligns its w taps around output position t.
public enum ConvPadding: Sendable {
    /// Taps t-(w-1)/2 ... t+w-1-(w-1)/2 (encoder).
    case centred
    /// Taps t-w+1 ... t: the output at t never sees a later input (decoder).
    case causal

    /// How many inputs before t the first tap reaches.
    func leftPad(width: Int) -> Int { self == .causal ? width - 1 : (width - 1) / 2 }
}

/// 1-D convolution over time, x [B, T, cin], weight [cout, cin, w] (PyTorch's Conv1d
/// layout), bias [cout] -> [B, T, cout], zeros outside the sequence (any width, also wider
/// than T). One gemm over im2col columns [B*T, cin*w] whose column ci*w + tap matches the
/// weight's flattened [cout, cin*w] layout. The columns are workspace: backward rebuilds
/// them from x, so the tape keeps x rather than a w-times larger copy.
public func conv1d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, padding: ConvPadding) -> Tensor {
    precondition(x.rank == 3 && weight.rank == 3 && weight.shape[1] == x.shape[2],
                 "conv1d expects x [B,T,cin] and weight [cout,cin,w], got \(x.shape) and \(weight.shape)")
    let (b, t, cin) = (x.shape[0], x.shape[1], x.shape[2])
    let (cout, w) = (weight.shape[0], weight.shape[2])
    let pad = padding.leftPad(width: w)
    let weight2 = Tensor(shape: [cout, cin * w], dtype: weight.dtype, buffer: weight.buffer)
    let y = Tensor(uninitialized: [b, t, cout], dtype: x.dtype)
    do {
        let columns = im2col(x, width: w, pad: pad)
        gemmBatched(columns, weight2, Tensor(shape: [b * t, cout], dtype: y.dtype, buffer: y.buffer),
                    transposeA: false, transposeB: true, m: b * t, n: cout, k: cin * w, accumulate: false)
    }
    if let bias { addBiasInPlace(y, bias) }
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    record(y, inputs: inputs) { dy in
        let dy2 = Tensor(shape: [b * t, cout], dtype: dy.dtype, buffer: dy.buffer)
        var grads: [Tensor?] = [nil, nil]
        if x.requiresGrad {
            let dcolumns = Tensor(uninitialized: [b * t, cin * w], dtype: x.dtype, category: .workspace)
            gemmBatched(dy2, weight2, dcolumns, transposeA: false, transposeB: false, m: b * t, n: cin * w, k: cout, accumulate: false)
            grads[0] = col2im(dcolumns, shape: x.shape, width: w, pad: pad)
        }
        if weight.requiresGrad {
            let columns = im2col(x, width: w, pad: pad)
            let dweight = Tensor(uninitialized: weight.shape, dtype: weight.dtype)
            gemmBatched(dy2, columns, Tensor(shape: [cout, cin * w], dtype: weight.dtype, buffer: dweight.buffer),
                        transposeA: true, transposeB: false, m: cout, n: cin * w, k: b * t, accumulate: false)
            grads[1] = dweight
        }
        if let bias { grads.append(bias.requiresGrad ? sumRows(dy) : nil) }
        return grads
    }
    return y
}

/// x [B, T, c] -> columns [B*T, c*w]: column ci*w + j of row (b, t) is x[b, t+j-pad, ci].
private func im2col(_ x: Tensor, width w: Int, pad: Int) -> Tensor {
    let columns = Tensor(zeros: [x.shape[0] * x.shape[1], x.shape[2] * w], dtype: x.dtype, category: .workspace)
    guard columns.holdsValues else { return columns }
    switch x.dtype {
    case .float32: columnsKernel(x.pointer(Float.self), columns.pointer(Float.self), x.shape, w, pad, gather: true)
    case .float64: columnsKernel(x.pointer(Double.self), columns.pointer(Double.self), x.shape, w, pad, gather: true)
    }
    return columns
}

/// The adjoint of im2col: scatter-adds columns back onto a [B, T, c] gradient.
private func col2im(_ columns: Tensor, shape: [Int], width w: Int, pad: Int) -> Tensor {
    let dx = Tensor(zeros: shape, dtype: columns.dtype)
    guard dx.holdsValues else { return dx }
    switch columns.dtype {
    case .float32: columnsKernel(dx.pointer(Float.self), columns.pointer(Float.self), shape, w, pad, gather: false)
    case .float64: columnsKernel(dx.pointer(Double.self), columns.pointer(Double.self), shape, w, pad, gather: false)
    }
    return dx
}

/// Walks every (row, tap, channel) pairing of a [B, T, c] tensor with its columns: copies
/// x into the columns (`gather`), or adds the columns back into x (the adjoint).
private func columnsKernel<S: TensorScalar>(
    _ x: UnsafeMutablePointer<S>, _ columns: UnsafeMutablePointer<S>, _ shape: [Int], _ w: Int, _ pad: Int, gather: Bool
) {
    let (b, t, c) = (shape[0], shape[1], shape[2])
    for batch in 0..<b {
        for time in 0..<t {
            let row = (batch &* t &+ time) &* c &* w
            for j in 0..<w {
                let source = time &+ j &- pad
                if source < 0 || source >= t { continue }
                let input = (batch &* t &+ source) &* c
                if gather {
                    for ci in 0..<c { columns[row &+ ci &* w &+ j] = x[input &+ ci] }
                } else {
                    for ci in 0..<c { x[input &+ ci] += columns[row &+ ci &* w &+ j] }
                }
            }
        }
    }
}
