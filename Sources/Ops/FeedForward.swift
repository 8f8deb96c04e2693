import TensorCore

/// glu: (H W_a + b_a) * sigmoid(H W_b + b_b), c -> c.
public final class GatedLinearUnit: CandidateOp {
    let valueWeight, valueBias, gateWeight, gateBias: Tensor

    public init(_ spec: OpSpec, rng: inout RandomState) {
        let c = spec.channels
        valueWeight = .parameter(xavier: [c, c], fanIn: c, fanOut: c, dtype: spec.dtype, rng: &rng)
        valueBias = .parameter(filled: 0, shape: [c], dtype: spec.dtype)
        gateWeight = .parameter(xavier: [c, c], fanIn: c, fanOut: c, dtype: spec.dtype, rng: &rng)
        gateBias = .parameter(filled: 0, shape: [c], dtype: spec.dtype)
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        [("linear_a.weight", valueWeight), ("linear_a.bias", valueBias), ("linear_b.weight", gateWeight), ("linear_b.bias", gateBias)]
    }

    public func forward(_ h: Tensor, _ context: OpContext) -> Tensor {
        mul(linear(h, weight: valueWeight, bias: valueBias), sigmoid(linear(h, weight: gateWeight, bias: gateBias)))
    }

    /// Position by position: the step needs nothing from earlier positions.
    public func decodeStep(_ h: Tensor, _ context: OpContext, cache: inout DecodingCache) -> Tensor { forward(h, context) }
}

/// ffn: ReLU(H W_1 + b_1) W_2 + b_2, c -> 4c -> c.
public final class FeedForward: CandidateOp {
    let inner, innerBias, outer, outerBias: Tensor

    public init(_ spec: OpSpec, rng: inout RandomState) {
        let c = spec.channels
        inner = .parameter(xavier: [4 * c, c], fanIn: c, fanOut: 4 * c, dtype: spec.dtype, rng: &rng)
        innerBias = .parameter(filled: 0, shape: [4 * c], dtype: spec.dtype)
        outer = .parameter(xavier: [c, 4 * c], fanIn: 4 * c, fanOut: c, dtype: spec.dtype, rng: &rng)
        outerBias = .parameter(filled: 0, shape: [c], dtype: spec.dtype)
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        [("fc1.weight", inner), ("fc1.bias", innerBias), ("fc2.weight", outer), ("fc2.bias", outerBias)]
    }

    public func forward(_ h: Tensor, _ context: OpContext) -> Tensor {
        linear(relu(linear(h, weight: inner, bias: innerBias)), weight: outer, bias: outerBias)
    }

    /// Position by position: the step needs nothing from earlier positions.
    public func decodeStep(_ h: Tensor, _ context: OpContext, cache: inout DecodingCache) -> Tensor { forward(h, context) }
}

/// zero: returns zeros (the DARTS "none" edge). Not wrapped.
public final class ZeroOp: CandidateOp {
    public init() {}
    public var parameters: [(name: String, tensor: Tensor)] { [] }
    public func forward(_ h: Tensor, _ context: OpContext) -> Tensor { Tensor(zeros: h.shape, dtype: h.dtype) }
    public func decodeStep(_ h: Tensor, _ context: OpContext, cache: inout DecodingCache) -> Tensor { forward(h, context) }
}

/// identity: returns H. Not wrapped.
public final class IdentityOp: CandidateOp {
    public init() {}
    public var parameters: [(name: String, tensor: Tensor)] { [] }
    public func forward(_ h: Tensor, _ context: OpContext) -> Tensor { h }
    public func decodeStep(_ h: Tensor, _ context: OpContext, cache: inout DecodingCache) -> Tensor { h }
}
