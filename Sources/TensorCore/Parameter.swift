/// Constructors of trainable weights: allocated as `.parameter`, with `requiresGrad` set.
extension Tensor {
    /// Xavier/Glorot uniform, U(-b, b) with b = sqrt(6 / (fanIn + fanOut)) (PyTorch's
    /// xavier_uniform_, which fairseq uses for Transformer projections).
    public static func parameter(
        xavier shape: [Int], fanIn: Int, fanOut: Int, dtype: DType, rng: inout RandomState
    ) -> Tensor {
        let bound = (6.0 / Double(fanIn + fanOut)).squareRoot()
        return parameter(uniform: shape, bound: bound, dtype: dtype, rng: &rng)
    }

    /// U(-bound, bound).
    public static func parameter(uniform shape: [Int], bound: Double, dtype: DType, rng: inout RandomState) -> Tensor {
        let t = Tensor(randomUniform: shape, low: -bound, high: bound, dtype: dtype, rng: &rng, category: .parameter)
        t.requiresGrad = true
        return t
    }

    /// Normal(0, std).
    public static func parameter(normal shape: [Int], std: Double, dtype: DType, rng: inout RandomState) -> Tensor {
        let t = Tensor(randomNormal: shape, std: std, dtype: dtype, rng: &rng, category: .parameter)
        t.requiresGrad = true
        return t
    }

    /// Every entry `value` (zeros for biases, ones for layer-norm gains).
    public static func parameter(filled value: Double, shape: [Int], dtype: DType) -> Tensor {
        let t = Tensor(repeating: value, shape: shape, dtype: dtype, category: .parameter)
        t.requiresGrad = true
        return t
    }
}

/// Copies the values of `source` into `target`, parameter by parameter (converting dtype:
/// Float32 values widen exactly): a model's twin in another dtype holds the same weights.
public func copyValues(of source: [(name: String, tensor: Tensor)], into target: [(name: String, tensor: Tensor)]) {
    precondition(source.map(\.name) == target.map(\.name), "copyValues needs the same parameters in the same order")
    for (to, from) in zip(target, source) { to.tensor.assign(from.tensor.scalars) }
}
