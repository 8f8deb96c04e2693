import TensorCore

/// conv{w}: ReLU(Conv1d_w(H) + b), a full c -> c convolution over time; centred in the
/// encoder, causal in the decoder. Padding positions are zeroed first so a sentence's
/// outputs never depend on its padding.
public final class ConvolutionOp: CandidateOp {
    let weight: Tensor   // [c, c, w]
    let bias: Tensor     // [c]
    let causal: Bool

    public init(_ spec: OpSpec, width: Int, rng: inout RandomState) {
        let c = spec.channels
        weight = .parameter(xavier: [c, c, width], fanIn: c * width, fanOut: c * width, dtype: spec.dtype, rng: &rng)
        bias = .parameter(filled: 0, shape: [c], dtype: spec.dtype)
        causal = spec.causal
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        [("conv.weight", weight), ("conv.bias", bias)]
    }

    public func forward(_ h: Tensor, _ context: OpContext) -> Tensor {
        let input = context.positionMask.map { mul(h, $0) } ?? h
        return relu(conv1d(input, weight: weight, bias: bias, padding: causal ? .causal : .centred))
    }

    public func decodeStep(_ h: Tensor, _ context: OpContext, cache: inout DecodingCache) -> Tensor {
        slidingWindowStep(width: weight.shape[2], h, context, cache: &cache)
    }
}

/// dynconv{w} (fairseq's DynamicConv): A = GLU(H W_in) (c -> 2c -> c); at every position
/// and head a kernel softmax_taps(H W_k) (c -> h*w); A convolved depthwise with it, each
/// head's kernel shared by its c/h channels; output A' W_out (c -> c).
public final class DynamicConvolutionOp: CandidateOp {
    let inputProjection: Tensor    // linear1 [2c, c]
    let kernelProjection: Tensor   // weight_linear [h*w, c]
    let outputProjection: Tensor   // linear2 [c, c]
    let heads: Int
    let width: Int
    let causal: Bool

    public init(_ spec: OpSpec, width: Int, rng: inout RandomState) {
        let c = spec.channels
        inputProjection = .parameter(xavier: [2 * c, c], fanIn: c, fanOut: 2 * c, dtype: spec.dtype, rng: &rng)
        kernelProjection = .parameter(xavier: [spec.heads * width, c], fanIn: c, fanOut: spec.heads * width, dtype: spec.dtype, rng: &rng)
        outputProjection = .parameter(xavier: [c, c], fanIn: c, fanOut: c, dtype: spec.dtype, rng: &rng)
        heads = spec.heads
        self.width = width
        causal = spec.causal
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        [("linear1.weight", inputProjection), ("weight_linear.weight", kernelProjection), ("linear2.weight", outputProjection)]
    }

    public func forward(_ h: Tensor, _ context: OpContext) -> Tensor {
        let (b, t) = (h.shape[0], h.shape[1])
        let input = context.positionMask.map { mul(h, $0) } ?? h
        let halves = split(linear(input, weight: inputProjection), parts: 2)
        let gated = mul(halves[0], sigmoid(halves[1]))
        let kernels = softmax(reshape(linear(input, weight: kernelProjection), [b, t, heads, width]))
        let convolved = dynamicConv(gated, kernels: kernels, padding: causal ? .causal : .centred)
        return linear(convolved, weight: outputProjection)
    }

    public func decodeStep(_ h: Tensor, _ context: OpContext, cache: inout DecodingCache) -> Tensor {
        slidingWindowStep(width: width, h, context, cache: &cache)
    }
}
