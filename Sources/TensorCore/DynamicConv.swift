/// a [B, T, c], kernels [B, T, h, w] -> [B, T, c]: a depthwise convolution whose kernel is
/// different at every position (Wu et al. 2019's dynamic convolution). Channel ch uses the
/// kernel of head ch / (c / h); out[b,t,ch] = sum_j kernels[b,t,head,j] · a[b, t+j-pad, ch],
/// with zeros outside the sequence.
public func dynamicConv(_ a: Tensor, kernels: Tensor, padding: ConvPadding) -> Tensor {
    precondition(a.rank == 3 && kernels.rank == 4, "dynamicConv expects a [B,T,c] and kernels [B,T,h,w], got \(a.shape), \(kernels.shape)")
    let (b, t, c) = (a.shape[0], a.shape[1], a.shape[2])
    let (h, w) = (kernels.shape[2], kernels.shape[3])
    precondition(kernels.shape[0] == b && kernels.shape[1] == t && c % h == 0,
                 "kernels \(kernels.shape) do not fit input \(a.shape) (heads must divide channels)")
    let geometry = DynamicConvGeometry(batch: b, length: t, channels: c, heads: h, width: w, pad: padding.leftPad(width: w))
    let y = Tensor(zeros: a.shape, dtype: a.dtype)
    if y.holdsValues { switch a.dtype {
    case .float32: dynamicConvForward(a.pointer(Float.self), kernels.pointer(Float.self), y.pointer(Float.self), geometry)
    case .float64: dynamicConvForward(a.pointer(Double.self), kernels.pointer(Double.self), y.pointer(Double.self), geometry)
    } }
    record(y, inputs: [a, kernels]) { dy in
        let da = a.requiresGrad ? Tensor(zeros: a.shape, dtype: a.dtype) : nil
        let dk = kernels.requiresGrad ? Tensor(zeros: kernels.shape, dtype: a.dtype) : nil
        guard dy.holdsValues else { return [da, dk] }
        switch a.dtype {
        case .float32:
            dynamicConvBackward(a.pointer(Float.self), kernels.pointer(Float.self), dy.pointer(Float.self),
                                da?.pointer(Float.self), dk?.pointer(Float.self), geometry)
        case .float64:
            dynamicConvBackward(a.pointer(Double.self), kernels.pointer(Double.self), dy.pointer(Double.self),
                                da?.pointer(Double.self), dk?.pointer(Double.self), geometry)
        }
        return [da, dk]
    }
    return y
}

struct DynamicConvGeometry {
    let batch, length, channels, heads, width, pad: Int
    var perHead: Int { channels / heads }
}

private func dynamicConvForward<S: TensorScalar>(
    _ a: UnsafeMutablePointer<S>, _ k: UnsafeMutablePointer<S>, _ y: UnsafeMutablePointer<S>, _ g: DynamicConvGeometry
) {
    for b in 0..<g.batch {
        for t in 0..<g.length {
            let row = (b &* g.length &+ t) &* g.channels
            let kernelRow = (b &* g.length &+ t) &* g.heads &* g.width
            for j in 0..<g.width {
                let source = t &+ j &- g.pad
                if source < 0 || source >= g.length { continue }
                let sourceRow = (b &* g.length &+ source) &* g.channels
                for head in 0..<g.heads {
                    let weight = k[kernelRow &+ head &* g.width &+ j]
                    let start = head &* g.perHead
                    for ch in start..<(start &+ g.perHead) { y[row &+ ch] += weight * a[sourceRow &+ ch] }
                }
            }
        }
    }
}

private func dynamicConvBackward<S: TensorScalar>(
    _ a: UnsafeMutablePointer<S>, _ k: UnsafeMutablePointer<S>, _ dy: UnsafeMutablePointer<S>,
    _ da: UnsafeMutablePointer<S>?, _ dk: UnsafeMutablePointer<S>?, _ g: DynamicConvGeometry
) {
    for b in 0..<g.batch {
        for t in 0..<g.length {
            let row = (b &* g.length &+ t) &* g.channels
            let kernelRow = (b &* g.length &+ t) &* g.heads &* g.width
            for j in 0..<g.width {
                let source = t &+ j &- g.pad
                if source < 0 || source >= g.length { continue }
                let sourceRow = (b &* g.length &+ source) &* g.channels
                for head in 0..<g.heads {
                    let slot = kernelRow &+ head &* g.width &+ j
                    let weight = k[slot]
                    let start = head &* g.perHead
                    var dot: S = 0
                    for ch in start..<(start &+ g.perHead) {
                        da?[sourceRow &+ ch] += weight * dy[row &+ ch]
                        dot += a[sourceRow &+ ch] * dy[row &+ ch]
                    }
                    dk?[slot] += dot
                }
            }
        }
    }
}
