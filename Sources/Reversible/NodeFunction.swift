import Foundation
import Ops
import TensorCore

/// How G_k combines its n-1 inputs into H_k (DESIGN.md section 2).
public enum Pooling: String, Sendable, Codable, ListedCases {
    case max, mean
}

/// How a searched node sums its ops. `plain` is DESIGN.md's mixed op, sum_o softmax(alpha)_o
/// o(H). `normalised` layer-normalises every op's output (no gain, no bias) before alpha
/// weighs it, as DARTS' search ops end in BatchNorm without affine: otherwise an op whose
/// output is simply larger can win the weight by scale, not by what it computes (README,
/// "Search", measures what it changed). A derived node has one op, so it is the same under both.
public enum Mixture: String, Sendable, Codable, ListedCases {
    case plain, normalised

    /// The normaliser's epsilon, in units of a pre-norm op's input (LayerNorm(H): variance 1
    /// a position): an output with variance v is scaled by 1 / sqrt(v + 1), so one larger than
    /// its input is brought to unit scale and none is amplified. LayerNorm's usual 1e-5 lets
    /// a position where a ReLU op's output is nearly constant be scaled up to 316 times, and
    /// the verifier measured what that does to Float32: at d 24, 4 of 6 seeds failed
    /// (gradients 1.2e-4 from the Float64 twin against an allowance of 2.9e-5).
    public static let epsilon = 1.0
}

/// One node G_k of a reversible layer: H = Pool(inputs), then either the mixed op
/// sum_o softmax(alpha)_o * o(H) (search) or a single op (derived model).
public final class NodeFunction {
    public let opNames: [String]
    public let ops: [CandidateOp]
    /// Architecture weights, one per op; nil for a derived node with a single op.
    public let alpha: Tensor?
    public let pooling: Pooling
    /// A mixed node's gain 1 and bias 0 of `Mixture.normalised` (constants, not weights).
    let normaliser: (gain: Tensor, bias: Tensor)?
    /// An op left out of the mixed sum, its term dropped and the other ops' weights
    /// unchanged: what the trained super-network loses without it (a derivation by
    /// perturbation sets it, one op at a time). nil in search and training.
    public var removedOp: Int?

    /// Builds the node's ops through `registry`. A node with several op names is mixed
    /// and gets alpha ~ 1e-3 * N(0, 1) (DARTS' initialisation).
    public init(opNames: [String], pooling: Pooling, mixture: Mixture = .plain, spec: OpSpec, registry: OpRegistry,
                rng: inout RandomState) throws {
        precondition(!opNames.isEmpty, "a node needs at least one op")
        self.opNames = opNames
        self.pooling = pooling
        var made: [CandidateOp] = []
        for name in opNames { made.append(try registry.make(name, spec: spec, rng: &rng)) }
        ops = made
        alpha = opNames.count > 1 ? Tensor.parameter(normal: [opNames.count], std: 1e-3, dtype: spec.dtype, rng: &rng) : nil
        normaliser = alpha != nil && mixture == .normalised
            ? (Tensor(repeating: 1, shape: [spec.channels], dtype: spec.dtype, category: .parameter),
               Tensor(zeros: [spec.channels], dtype: spec.dtype, category: .parameter))
            : nil
    }

    /// Named parameters: `<op>.<param>` for every op, then `alpha`.
    public var parameters: [(name: String, tensor: Tensor)] {
        var all: [(name: String, tensor: Tensor)] = []
        for (name, op) in zip(opNames, ops) {
            all += op.parameters.map { (name: "\(name).\($0.name)", tensor: $0.tensor) }
        }
        if let alpha { all.append((name: "alpha", tensor: alpha)) }
        return all
    }

    /// G_k(inputs), reading alpha through `alpha` (the identity but for an injected fault).
    public func callAsFunction(_ inputs: [Tensor], _ context: OpContext, alpha view: (Tensor) -> Tensor = { $0 }) -> Tensor {
        combine(inputs, context, alpha: view) { i, h, opContext in ops[i].forward(h, opContext) }
    }

    /// One step of incremental decoding of G_k: `caches` holds one cache per op.
    public func decodeStep(_ inputs: [Tensor], _ context: OpContext, caches: inout [DecodingCache]) -> Tensor {
        combine(inputs, context, alpha: { $0 }) { i, h, opContext in ops[i].decodeStep(h, opContext, cache: &caches[i]) }
    }

    /// Pools the inputs into H and sums softmax(alpha)_i * run(i, H) over the ops but
    /// `removedOp` (one op: run(0, H)), each op under its scope and its own dropout key; a
    /// normalised mixture layer-normalises each run(i, H) first (zero stays zero).
    func combine(_ inputs: [Tensor], _ context: OpContext, alpha view: (Tensor) -> Tensor,
                 _ run: (Int, Tensor, OpContext) -> Tensor) -> Tensor {
        let h: Tensor
        if inputs.count == 1 {
            h = inputs[0]
        } else {
            h = pooling == .max ? elementwiseMax(inputs) : elementwiseMean(inputs)
        }
        func applied(_ i: Int, weight: Tensor?) -> Tensor {
            withScope(opNames[i]) {
                var out = run(i, h, context.with(dropoutKey: context.key(for: opNames[i])))
                if let normaliser { out = layerNorm(out, gamma: normaliser.gain, beta: normaliser.bias, eps: Mixture.epsilon) }
                return weight.map { mul(out, $0) } ?? out
            }
        }
        guard let alpha else { return applied(0, weight: nil) }
        // softmax(alpha) is computed inside the block, from the alpha leaf, so a local
        // tape that recomputes this node sends alpha its gradient.
        let weights = split(softmax(view(alpha)), parts: ops.count)
        var total: Tensor?
        for i in ops.indices where i != removedOp {
            let out = applied(i, weight: weights[i])
            total = total.map { add($0, out) } ?? out
        }
        return total!
    }

    /// softmax(alpha) as plain numbers (for reports and derivation).
    public var weights: [Double]? {
        guard let alpha else { return nil }
        let a = alpha.scalars
        let m = a.max()!
        let e = a.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}
