import Reversible
import Search
import TensorCore
import Translation
import Verifier

/// `revsearch verify --second-order`: DARTS' second-order alpha gradient (the finite-
/// difference Hessian-vector product of `BilevelSearch.unrolledAlphaGradient`) against
/// central differences of the unrolled objective it differentiates,
///     f(α) = L_val(θ - η ∇_θ L_train(θ, α), α),
/// per alpha tensor with the finite-difference rule of `FiniteDifferenceCheck`, in Float64.
/// The model keeps the preset's shape with the kink-free candidate ops (GLU, attention,
/// dynamic convolution, zero, identity) and mean pooling: the Hessian-vector product is a
/// finite difference over θ itself, exact to O(step²) only where the gradient is smooth,
/// so a ReLU crossing inside it would be measured as an error of the formula.
package enum SecondOrderCheck {
    package static func run(_ base: ModelConfig, seed: UInt64, hessianStep: Double = 1e-4) throws -> [FiniteDifferenceCheck.Direction] {
        var config = base
        config.dtype = .float64
        config.dropout = 0
        config.pooling = .mean
        config.encoderOps = ["glu", "self_attn", "dynconv3", "zero", "identity"]
        config.decoderOps = ["glu", "self_attn", "dynconv3", "zero"]
        var rng = RandomState(seed: seed ^ 0x2d)
        let vocabulary = config.sourceVocabulary
        let pairs = (0..<12).map { _ -> TokenizedPair in
            let source = (0..<(2 + Int(rng.next() % 5))).map { _ in Int32(3 + Int(rng.next() % UInt64(max(vocabulary - 3, 1)))) }
            return TokenizedPair(source: source, target: source.reversed())
        }
        var options = BilevelSearch.Options()
        options.order = .second
        options.mode = .full
        options.thetaWarmup = 1
        options.thetaPeakLearningRate = 0.05
        options.hessianStep = hessianStep
        let search = try BilevelSearch(model: try ReversibleTransformer(config), pairs: pairs, options: options)
        let train = TokenBatcher.batch(Array(pairs.prefix(6))), validation = TokenBatcher.batch(Array(pairs.suffix(6)))
        let eta = search.thetaOptimizer.learningRate
        let (_, gradients) = search.unrolledAlphaGradient(train: train, validation: validation, key: 7)
        let thetas = search.weights.map(\.tensor)
        let saved = thetas.map(\.scalars)
        func unrolled() -> Double {
            for p in search.model.parameters { p.tensor.grad = nil }
            search.model.trainingStep(train, mode: .full, dropoutKey: 7 ^ 3, labelSmoothing: options.labelSmoothing)
            for t in thetas {
                guard let g = t.grad?.scalars else { continue }
                let p = t.pointer(Double.self)
                for i in 0..<t.count { p[i] -= eta * g[i] }
            }
            let loss = search.model.evaluateLoss(validation, dropoutKey: 7 ^ 1, training: true, labelSmoothing: options.labelSmoothing)
            for (t, values) in zip(thetas, saved) { t.assign(values) }
            return loss
        }
        defer { for p in search.model.parameters { p.tensor.grad = nil } }
        return FiniteDifferenceCheck.run(parameters: search.alphas, gradients: gradients.map(\.scalars), seed: seed, loss: unrolled)
    }
}
