// Binary elementwise operations with broadcasting, and the bias add.

/// a + b, broadcasting.
public func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    let y = binary(a, b, .add)
    record(y, inputs: [a, b]) { dy in
        [a.requiresGrad ? reduce(dy, toShape: a.shape) : nil,
         b.requiresGrad ? reduce(dy, toShape: b.shape) : nil]
    }
    return y
}

/// a - b, broadcasting.
public func sub(_ a: Tensor, _ b: Tensor) -> Tensor {
    let y = binary(a, b, .sub)
    record(y, inputs: [a, b]) { dy in
        [a.requiresGrad ? reduce(dy, toShape: a.shape) : nil,
         b.requiresGrad ? reduce(scale(dy, -1), toShape: b.shape) : nil]
    }
    return y
}

/// a * b (elementwise), broadcasting.
public func mul(_ a: Tensor, _ b: Tensor) -> Tensor {
    let y = binary(a, b, .mul)
    record(y, inputs: [a, b]) { dy in
        [a.requiresGrad ? reduce(binary(dy, b, .mul), toShape: a.shape) : nil,
         b.requiresGrad ? reduce(binary(dy, a, .mul), toShape: b.shape) : nil]
    }
    return y
}

/// x + bias, with `bias` of shape [features] added to every row of x [..., features].
public func addBias(_ x: Tensor, _ bias: Tensor) -> Tensor {
    let features = x.shape.last ?? 1
    precondition(bias.shape == [features], "bias of shape \(bias.shape) for input \(x.shape)")
    let y = Tensor(uninitialized: x.shape, dtype: x.dtype)
    if y.holdsValues { switch x.dtype {
    case .float32: biasKernel(x.pointer(Float.self), bias.pointer(Float.self), y.pointer(Float.self), x.count, features)
    case .float64: biasKernel(x.pointer(Double.self), bias.pointer(Double.self), y.pointer(Double.self), x.count, features)
    } }
    record(y, inputs: [x, bias]) { dy in
        [dy, bias.requiresGrad ? sumRows(dy) : nil]
    }
    return y
}

/// s * x for a constant s.
public func scale(_ x: Tensor, _ s: Double) -> Tensor {
    let y = Tensor(uninitialized: x.shape, dtype: x.dtype)
    if y.holdsValues { switch x.dtype {
    case .float32: scaleKernel(x.pointer(Float.self), Float(s), y.pointer(Float.self), x.count)
    case .float64: scaleKernel(x.pointer(Double.self), s, y.pointer(Double.self), x.count)
    } }
    record(y, inputs: [x]) { dy in [scale(dy, s)] }
    return y
}

/// Sum of all elements, as a rank-0 tensor.
public func sum(_ x: Tensor) -> Tensor {
    var total = 0.0
    if x.holdsValues { switch x.dtype {
    case .float32:
        let p = x.pointer(Float.self)
        var s: Double = 0
        for i in 0..<x.count { s += Double(p[i]) }
        total = s
    case .float64:
        let p = x.pointer(Double.self)
        var s: Double = 0
        for i in 0..<x.count { s += p[i] }
        total = s
    } }
    let y = Tensor(scalar: total, dtype: x.dtype)
    record(y, inputs: [x]) { dy in
        [Tensor(repeating: dy.scalarValue, shape: x.shape, dtype: x.dtype)]
    }
    return y
}

// MARK: - Kernels (not recorded)

enum BinaryOp { case add, sub, mul }

/// Elementwise `op` over the broadcast shape; a flat loop when the shapes are equal.
func binary(_ a: Tensor, _ b: Tensor, _ op: BinaryOp, category: MemoryCategory? = nil) -> Tensor {
    precondition(a.dtype == b.dtype, "dtypes \(a.dtype) and \(b.dtype) differ")
    let shape = a.shape == b.shape ? a.shape : Broadcast.shape(a.shape, b.shape)
    let y = Tensor(uninitialized: shape, dtype: a.dtype, category: category)
    guard y.holdsValues else { return y }
    switch a.dtype {
    case .float32:
        binaryKernel(a.pointer(Float.self), a.shape, b.pointer(Float.self), b.shape, y.pointer(Float.self), shape, op)
    case .float64:
        binaryKernel(a.pointer(Double.self), a.shape, b.pointer(Double.self), b.shape, y.pointer(Double.self), shape, op)
    }
    return y
}

private func binaryKernel<S: TensorScalar>(
    _ a: UnsafeMutablePointer<S>, _ sa: [Int], _ b: UnsafeMutablePointer<S>, _ sb: [Int],
    _ y: UnsafeMutablePointer<S>, _ shape: [Int], _ op: BinaryOp
) {
    if sa == sb {
        let n = shape.reduce(1, *)
        switch op {
        case .add: for i in 0..<n { y[i] = a[i] + b[i] }
        case .sub: for i in 0..<n { y[i] = a[i] - b[i] }
        case .mul: for i in 0..<n { y[i] = a[i] * b[i] }
        }
        return
    }
    // b a single number (a mixed op's weight softmax(alpha)_o), or one number per row (a
    // [B, T, 1] position mask): the common broadcasts, without the general index walk.
    let countB = sb.reduce(1, *), n = shape.reduce(1, *)
    if sa == shape && (countB == 1 || (sb.last == 1 && Array(sb.dropLast()) == Array(shape.dropLast()))) {
        let width = countB == 1 ? n : (shape.last ?? 1)
        var row = 0, start = 0
        while start < n {
            let v = b[row]
            switch op {
            case .add: for i in start..<(start &+ width) { y[i] = a[i] + v }
            case .sub: for i in start..<(start &+ width) { y[i] = a[i] - v }
            case .mul: for i in start..<(start &+ width) { y[i] = a[i] * v }
            }
            row &+= 1
            start &+= width
        }
        return
    }
    let stridesA = Broadcast.strides(of: sa, in: shape), stridesB = Broadcast.strides(of: sb, in: shape)
    switch op {
    case .add: Broadcast.forEach(shape, stridesA, stridesB) { o, i, j in y[o] = a[i] + b[j] }
    case .sub: Broadcast.forEach(shape, stridesA, stridesB) { o, i, j in y[o] = a[i] - b[j] }
    case .mul: Broadcast.forEach(shape, stridesA, stridesB) { o, i, j in y[o] = a[i] * b[j] }
    }
}

/// a + b for equal shapes, unrecorded (gradient accumulation).
func addSameShape(_ a: Tensor, _ b: Tensor, category: MemoryCategory? = nil) -> Tensor {
    precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape) differ")
    return binary(a, b, .add, category: category)
}

private func scaleKernel<S: TensorScalar>(_ x: UnsafeMutablePointer<S>, _ s: S, _ y: UnsafeMutablePointer<S>, _ n: Int) {
    for i in 0..<n { y[i] = s * x[i] }
}

private func biasKernel<S: TensorScalar>(
    _ x: UnsafeMutablePointer<S>, _ b: UnsafeMutablePointer<S>, _ y: UnsafeMutablePointer<S>, _ n: Int, _ f: Int
) {
    var i = 0
    while i < n {
        for j in 0..<f { y[i &+ j] = x[i &+ j] + b[j] }
        i &+= f
    }
}

/// Column sums of x viewed as [rows, features]: the gradient of a bias.
func sumRows(_ x: Tensor) -> Tensor {
    let f = x.shape.last ?? 1
    let out = Tensor(zeros: [f], dtype: x.dtype)
    guard out.holdsValues else { return out }
    switch x.dtype {
    case .float32: sumRowsKernel(x.pointer(Float.self), out.pointer(Float.self), x.count, f)
    case .float64: sumRowsKernel(x.pointer(Double.self), out.pointer(Double.self), x.count, f)
    }
    return out
}

private func sumRowsKernel<S: TensorScalar>(_ x: UnsafeMutablePointer<S>, _ out: UnsafeMutablePointer<S>, _ n: Int, _ f: Int) {
    var i = 0
    while i < n {
        for j in 0..<f { out[j] += x[i &+ j] }
        i &+= f
    }
}
