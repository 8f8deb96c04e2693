import Foundation
import InstrumentedRun
import Reversible
import RunFiles
import Search
import TensorCore
import Translation

extension ProbeScenarios {
    /// Search steps replayed from first principles. A Float64 super-network searches
    /// (first order, the backprop mode given) on seeded random pairs; a second instance
    /// built from the same config replays each step on the same two batches and dropout
    /// keys with full storage and `ReferenceAdam`: alpha descends the gradient of L_val at
    /// the old weights (Adam with alpha's learning rate and weight decay), then theta the
    /// gradient of L_train at the new alpha, clipped to the global norm and scaled by the
    /// inverse-square-root schedule written out here. The metrics are the largest
    /// differences of alpha and theta over their largest movement: rounding alone when the
    /// step is right, whatever the step order, gradient, clipping, schedule or optimizer
    /// gets wrong otherwise (a doubled alpha gradient, which Adam's scale invariance
    /// nearly hides, moves alpha by ~1e-4 of its step through the weight decay). With
    /// `alpha_entropy_weight`, alpha's replayed gradient adds lambda times the entropy's
    /// gradient taken by central differences.
    /// The gradient of H(softmax(alpha)) by five-point central differences (error of order
    /// h^4, 1e-12 at h = 1e-3), independent of the search's closed form.
    static func entropyGradientByDifferences(_ alpha: [Double]) -> [Double] {
        func entropy(_ a: [Double]) -> Double {
            let top = a.max() ?? 0
            let e = a.map { exp($0 - top) }
            let total = e.reduce(0, +)
            return -e.reduce(0) { $0 + ($1 / total) * log($1 / total) }
        }
        let h = 1e-3
        return alpha.indices.map { i in
            func at(_ offset: Double) -> Double {
                var moved = alpha
                moved[i] += offset * h
                return entropy(moved)
            }
            return (-at(2) + 8 * at(1) - 8 * at(-1) + at(-2)) / (12 * h)
        }
    }

    static func searchStep(_ parameters: inout JSONObjectReader) throws -> [String: Double] {
        var config = try parameters.preset("preset", default: "tiny")
        config.dtype = .float64
        let steps = try parameters.int("steps", in: 1...1000) ?? 3
        var options = BilevelSearch.Options()
        options.mode = try parameters.backprop("mode") ?? .reconstruction
        options.maxTokens = 64
        options.thetaWarmup = 2
        // The probe sets it so that clipping acts in some steps and not in others.
        options.clipNorm = try parameters.number("clip_norm", in: Double.leastNonzeroMagnitude...Double.greatestFiniteMagnitude, expected: "a positive norm") ?? 2
        options.alphaEntropyWeight = try parameters.number("alpha_entropy_weight", in: 0...1000, expected: "a weight in [0, 1000]") ?? 0
        // Alpha starts at 1e-3 N(0, 1), where the entropy's gradient all but vanishes: scaled,
        // the term moves alpha as much as L_val does.
        let alphaScale = try parameters.number("alpha_scale", in: 0...1e6, expected: "a factor in [0, 1e6]") ?? 1

        var rng = RandomState(seed: 23)
        let pairs = (0..<48).map { _ in
            TokenizedPair(source: (0..<(3 + Int(rng.next() % 6))).map { _ in Int32(3 + Int(rng.next() % UInt64(config.sourceVocabulary - 3))) },
                          target: (0..<(3 + Int(rng.next() % 6))).map { _ in Int32(3 + Int(rng.next() % UInt64(config.targetVocabulary - 3))) })
        }
        let search = try BilevelSearch(model: try ReversibleTransformer(config), pairs: pairs, options: options)
        let replica = try ReversibleTransformer(config)
        let alphaNames = Set(replica.alphas.map(\.name))
        for (_, alpha) in search.model.alphas { alpha.assign(alpha.scalars.map { $0 * alphaScale }) }
        var values = Dictionary(uniqueKeysWithValues: search.model.parameters.map { ($0.name, $0.tensor.scalars) })
        let initial = values
        var alphaAdam = ReferenceAdam(learningRate: options.alphaLearningRate, beta1: 0.9, beta2: 0.98, weightDecay: options.alphaWeightDecay)
        var thetaAdam = ReferenceAdam(learningRate: options.thetaPeakLearningRate, beta1: 0.9, beta2: 0.98)

        func gradients(_ batch: (batch: Seq2SeqBatch, dropoutKey: UInt64)) -> [String: [Double]] {
            for (name, tensor) in replica.parameters {
                tensor.assign(values[name] ?? [])
                tensor.grad = nil
            }
            replica.trainingStep(batch.batch, mode: .full, dropoutKey: batch.dropoutKey, labelSmoothing: options.labelSmoothing)
            return Dictionary(uniqueKeysWithValues: replica.parameters.map { ($0.name, $0.tensor.grad?.scalars ?? [Double](repeating: 0, count: $0.tensor.count)) })
        }
        var clippedSteps = 0
        for step in 1...steps {
            search.step()
            guard let validation = search.lastValidationBatch, let train = search.lastTrainBatch else {
                throw InputError("\(parameters.file): the search step left no batches to replay")
            }
            for (name, g) in gradients(validation) where alphaNames.contains(name) {
                let term = entropyGradientByDifferences(values[name] ?? [])
                alphaAdam.update(name, &values[name, default: []], gradient: zip(g, term).map { $0 + options.alphaEntropyWeight * $1 })
            }
            let thetaGradients = gradients(train).filter { !alphaNames.contains($0.key) }
            let norm = thetaGradients.values.joined().reduce(0) { $0 + $1 * $1 }.squareRoot()
            let clip = norm > options.clipNorm ? options.clipNorm / norm : 1
            if clip < 1 { clippedSteps += 1 }
            let (s, w) = (Double(step), Double(options.thetaWarmup))
            let rate = options.thetaPeakLearningRate * min(s / w, (w / s).squareRoot())
            for (name, g) in thetaGradients { thetaAdam.update(name, &values[name, default: []], gradient: g.map { $0 * clip }, rate: rate) }
        }

        var worst = (alpha: 0.0, theta: 0.0), moved = (alpha: 0.0, theta: 0.0)
        for (name, tensor) in search.model.parameters {
            let got = tensor.scalars, want = values[name] ?? [], start = initial[name] ?? []
            let difference = zip(got, want).map { abs($0 - $1) }.max() ?? 0
            let movement = zip(want, start).map { abs($0 - $1) }.max() ?? 0
            if alphaNames.contains(name) {
                worst.alpha = max(worst.alpha, difference); moved.alpha = max(moved.alpha, movement)
            } else {
                worst.theta = max(worst.theta, difference); moved.theta = max(moved.theta, movement)
            }
        }
        return ["alpha_relative_difference": worst.alpha / moved.alpha, "theta_relative_difference": worst.theta / moved.theta,
                "alpha_movement": moved.alpha, "theta_movement": moved.theta, "steps": Double(steps), "clipped_steps": Double(clippedSteps)]
    }
}
