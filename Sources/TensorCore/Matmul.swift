// Matrix products through OpenBLAS gemm.

/// op(a) x op(b) over the last two dimensions; leading (batch) dimensions must match,
/// or `b` may be a plain matrix shared by every batch entry.
/// a: [..., m, k] (or [..., k, m] transposed), b: [..., k, n] (or [..., n, k]) -> [..., m, n].
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
    precondition(a.rank >= 2 && b.rank >= 2, "matmul needs matrices, got \(a.shape) and \(b.shape)")
    precondition(a.dtype == b.dtype, "dtypes \(a.dtype) and \(b.dtype) differ")
    let batchShape = Array(a.shape.dropLast(2))
    let sharedB = b.rank == 2
    precondition(sharedB || Array(b.shape.dropLast(2)) == batchShape, "batch dimensions of \(a.shape) and \(b.shape) differ")
    let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
    let (m, k) = transposeA ? (ac, ar) : (ar, ac)
    let (kb, n) = transposeB ? (bc, br) : (br, bc)
    precondition(k == kb, "inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") x \(b.shape)\(transposeB ? "ᵀ" : "")")
    let y = Tensor(uninitialized: batchShape + [m, n], dtype: a.dtype)
    gemmBatched(a, b, y, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, accumulate: false)
    record(y, inputs: [a, b]) { dy in
        // y = A B  =>  dA = dy Bᵀ, dB = Aᵀ dy (with the transposes folded into the flags).
        var da: Tensor?, db: Tensor?
        if a.requiresGrad {
            da = transposeA ? matmulRaw(b, dy, transposeA: transposeB, transposeB: true)
                            : matmulRaw(dy, b, transposeA: false, transposeB: !transposeB)
        }
        if b.requiresGrad {
            let g = transposeB ? matmulRaw(dy, a, transposeA: true, transposeB: transposeA)
                               : matmulRaw(a, dy, transposeA: !transposeA, transposeB: false)
            db = sharedB && a.rank > 2 ? sumLeading(g) : g
        }
        return [da, db]
    }
    return y
}

/// x Wᵀ + bias for x [..., in], weight [out, in] (PyTorch's Linear layout), bias [out].
/// One gemm over all rows of x.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    let inFeatures = x.shape.last ?? 0
    precondition(weight.rank == 2 && weight.shape[1] == inFeatures, "weight \(weight.shape) for input \(x.shape)")
    let rows = x.count / max(inFeatures, 1)
    let outFeatures = weight.shape[0]
    let y = Tensor(uninitialized: Array(x.shape.dropLast()) + [outFeatures], dtype: x.dtype)
    let x2 = Tensor(shape: [rows, inFeatures], dtype: x.dtype, buffer: x.buffer)
    let y2 = Tensor(shape: [rows, outFeatures], dtype: x.dtype, buffer: y.buffer)
    gemmBatched(x2, weight, y2, transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures, accumulate: false)
    if let bias { addBiasInPlace(y, bias) }
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    record(y, inputs: inputs) { dy in
        let dy2 = Tensor(shape: [rows, outFeatures], dtype: dy.dtype, buffer: dy.buffer)
        var grads: [Tensor?] = [nil, nil]
        if x.requiresGrad {
            let dx = matmulRaw(dy2, weight, transposeA: false, transposeB: false)
            grads[0] = Tensor(shape: x.shape, dtype: x.dtype, buffer: dx.buffer)
        }
        if weight.requiresGrad { grads[1] = matmulRaw(dy2, x2, transposeA: true, transposeB: false) }
        if let bias { grads.append(bias.requiresGrad ? sumRows(dy) : nil) }
        return grads
    }
    return y
}

// MARK: - Unrecorded helpers

/// op(a) x op(b) without recording (used by backward closures).
func matmulRaw(_ a: Tensor, _ b: Tensor, transposeA: Bool, transposeB: Bool) -> Tensor {
    Runtime.current.withTape(nil) { matmul(a, b, transposeA: transposeA, transposeB: transposeB) }
}

/// y = op(a) op(b) (+ y when accumulating) for every batch entry.
func gemmBatched(
    _ a: Tensor, _ b: Tensor, _ y: Tensor, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, accumulate: Bool
) {
    let batches = y.count / max(m * n, 1)
    Runtime.current.multiplyAdds &+= batches &* m &* n &* k
    guard y.holdsValues else { return }
    let strideA = a.rank > 2 ? m * k : 0
    let strideB = b.rank > 2 ? k * n : 0
    let lda = a.shape[a.rank - 1], ldb = b.shape[b.rank - 1]
    switch y.dtype {
    case .float32:
        let pa = a.pointer(Float.self), pb = b.pointer(Float.self), py = y.pointer(Float.self)
        for i in 0..<batches {
            Float.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                       a: pa + i * strideA, lda: lda, b: pb + i * strideB, ldb: ldb,
                       beta: accumulate ? 1 : 0, c: py + i * m * n, ldc: n)
        }
    case .float64:
        let pa = a.pointer(Double.self), pb = b.pointer(Double.self), py = y.pointer(Double.self)
        for i in 0..<batches {
            Double.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                        a: pa + i * strideA, lda: lda, b: pb + i * strideB, ldb: ldb,
                        beta: accumulate ? 1 : 0, c: py + i * m * n, ldc: n)
        }
    }
}

/// Sums a [..., r, c] tensor over its leading dimensions to [r, c].
func sumLeading(_ t: Tensor) -> Tensor {
    reduce(t, toShape: Array(t.shape.suffix(2)))
}

/// y += bias on every row, in place on a fresh output.
func addBiasInPlace(_ y: Tensor, _ bias: Tensor) {
    let f = y.shape.last ?? 1
    precondition(bias.shape == [f], "bias of shape \(bias.shape) for output \(y.shape)")
    guard y.holdsValues else { return }
    switch y.dtype {
    case .float32: addRowsInPlace(y.pointer(Float.self), bias.pointer(Float.self), y.count, f)
    case .float64: addRowsInPlace(y.pointer(Double.self), bias.pointer(Double.self), y.count, f)
    }
}

private func addRowsInPlace<S: TensorScalar>(_ y: UnsafeMutablePointer<S>, _ b: UnsafeMutablePointer<S>, _ n: Int, _ f: Int) {
    var i = 0
    while i < n {
        for j in 0..<f { y[i &+ j] += b[j] }
        i &+= f
    }
}
