import Ops
import TensorCore

/// swish_ffn: Swish(H W_1 + b_1) W_2 + b_2, c -> 2c -> c, with Swish(x) = x sigmoid(x):
/// a candidate op written outside RevSearch, from its public tensor functions only.
public final class SwishFeedForward: CandidateOp {
    let inner, innerBias, outer, outerBias: Tensor

    public init(_ spec: OpSpec, rng: inout RandomState) {
        let c = spec.channels
        inner = .parameter(xavier: [2 * c, c], fanIn: c, fanOut: 2 * c, dtype: spec.dtype, rng: &rng)
        innerBias = .parameter(filled: 0, shape: [2 * c], dtype: spec.dtype)
        outer = .parameter(xavier: [c, 2 * c], fanIn: 2 * c, fanOut: c, dtype: spec.dtype, rng: &rng)
        outerBias = .parameter(filled: 0, shape: [c], dtype: spec.dtype)
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        [("fc1.weight", inner), ("fc1.bias", innerBias), ("fc2.weight", outer), ("fc2.bias", outerBias)]
    }

    public func forward(_ h: Tensor, _ context: OpContext) -> Tensor {
        let preActivation = linear(h, weight: inner, bias: innerBias)
        var hidden = mul(preActivation, sigmoid(preActivation))
        // The dropout key comes from the context: a reconstruction recomputes this op with
        // the same context, so the same mask is drawn again and the rebuilt input is exact.
        if context.dropout > 0 { hidden = dropout(hidden, rate: context.dropout, key: context.key(for: "hidden")) }
        return linear(hidden, weight: outer, bias: outerBias)
    }
    // No `decodeStep`: the op works position by position, and the protocol's default step
    // (rerun over the kept prefix, keep the last position) is right for it.
}

extension OpRegistry {
    /// RevSearch's standard ops plus swish_ffn.
    public static var withSwish: OpRegistry {
        var registry = OpRegistry.standard
        registry.register("swish_ffn") { spec, rng in SwishFeedForward(spec, rng: &rng) }
        return registry
    }
}
