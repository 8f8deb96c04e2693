import Foundation
import TensorCore

/// Multi-head scaled dot-product attention with Q, K, V, O projections (no biases).
/// self_attn: keys and values from H (causal in the decoder). cross_attn: keys and values
/// from the encoder output (d -> c), queries from H.
public final class MultiHeadAttention: CandidateOp {
    let query, key, value, out: Tensor
    let heads: Int
    let causal: Bool
    let cross: Bool
    /// How many later positions a query sees: 0 (an injected fault sets 1).
    let reach: Int

    public init(_ spec: OpSpec, cross: Bool, rng: inout RandomState) {
        let c = spec.channels, kv = cross ? spec.modelWidth : spec.channels
        query = .parameter(xavier: [c, c], fanIn: c, fanOut: c, dtype: spec.dtype, rng: &rng)
        key = .parameter(xavier: [c, kv], fanIn: kv, fanOut: c, dtype: spec.dtype, rng: &rng)
        value = .parameter(xavier: [c, kv], fanIn: kv, fanOut: c, dtype: spec.dtype, rng: &rng)
        out = .parameter(xavier: [c, c], fanIn: c, fanOut: c, dtype: spec.dtype, rng: &rng)
        heads = spec.heads
        causal = spec.causal && !cross
        self.cross = cross
        reach = spec.faults.contains(.causalMaskOffByOne) ? 1 : 0
    }

    public var parameters: [(name: String, tensor: Tensor)] {
        [("q_proj.weight", query), ("k_proj.weight", key), ("v_proj.weight", value), ("out_proj.weight", out)]
    }

    public func forward(_ h: Tensor, _ context: OpContext) -> Tensor {
        guard let source = cross ? context.memory : h else {
            preconditionFailure("cross_attn needs the encoder output in its context")
        }
        var mask = cross ? context.memoryMask : context.keyMask
        if causal {
            let causalMask = causalAttentionMask(length: h.shape[1], dtype: h.dtype, reach: reach)
            mask = mask.map { add($0, causalMask) } ?? causalMask
        }
        return attend(h, keys: linear(source, weight: key), values: linear(source, weight: value), mask: mask)
    }

    /// Keeps the projected keys and values: self-attention appends the new position's,
    /// cross-attention projects the encoder output once. A new query sees every cached key.
    public func decodeStep(_ h: Tensor, _ context: OpContext, cache: inout DecodingCache) -> Tensor {
        if cross {
            if cache["key"] == nil {
                guard let memory = context.memory else { preconditionFailure("cross_attn needs the encoder output in its context") }
                cache["key"] = linear(memory, weight: key)
                cache["value"] = linear(memory, weight: value)
            }
        } else {
            cache["key"] = concatPositions((cache["key"].map { [$0] } ?? []) + [linear(h, weight: key)])
            cache["value"] = concatPositions((cache["value"].map { [$0] } ?? []) + [linear(h, weight: value)])
        }
        return attend(h, keys: cache["key"]!, values: cache["value"]!, mask: cross ? context.memoryMask : nil)
    }

    /// Queries from h [B, T, c] over projected keys and values [B, S, c], under an
    /// additive mask broadcast to [B, heads, T, S].
    func attend(_ h: Tensor, keys: Tensor, values: Tensor, mask: Tensor?) -> Tensor {
        let (b, t, c) = (h.shape[0], h.shape[1], h.shape[2])
        let s = keys.shape[1]
        let dh = c / heads
        // [B, L, c] -> [B, heads, L, dh]
        func split(_ x: Tensor, _ length: Int) -> Tensor {
            transpose(reshape(x, [b, length, heads, dh]), 1, 2)
        }
        let q = split(linear(h, weight: query), t)
        let scores = scale(matmul(q, split(keys, s), transposeB: true), 1 / Double(dh).squareRoot())   // [B, h, T, S]
        let weights = softmax(scores, additiveMask: mask)
        let attended = transpose(matmul(weights, split(values, s)), 1, 2)   // [B, T, heads, dh]
        return linear(reshape(attended, [b, t, c]), weight: out)
    }
}

/// [T, T]: 0 where query t may see key j (j <= t + reach), -inf elsewhere.
func causalAttentionMask(length: Int, dtype: DType, reach: Int = 0) -> Tensor {
    var values = [Double](repeating: 0, count: length * length)
    for t in 0..<length {
        for j in 0..<length where j > t + reach { values[t * length + j] = -.infinity }
    }
    return Tensor(shape: [length, length], scalars: values, dtype: dtype)
}
