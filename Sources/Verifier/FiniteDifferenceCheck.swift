import Foundation
import Reversible
import TensorCore

/// The whole model's loss differentiated numerically in Float64 along random unit
/// directions, against the gradient the mode under test produces: <g, u> vs
/// (L(θ + εu) - L(θ - εu)) / 2ε, with torch.autograd.gradcheck's tolerances. Directions
/// cover all parameters, the alphas alone and the embeddings alone, so a small but wrong
/// gradient (alpha's) is not drowned by the large ones.
public enum FiniteDifferenceCheck {
    public struct Direction: Sendable, Codable {
        public let over: String
        public let analytic: Double
        public let numeric: Double
        public let absError: Double
        public let relError: Double
        public let passed: Bool

        enum CodingKeys: String, CodingKey {
            case over, analytic, numeric, passed
            case absError = "abs_error", relError = "rel_error"
        }
    }

    static func run(_ setup: VerificationSetup, batch: Seq2SeqBatch, dropoutKey: UInt64,
                    tolerance: GradCheckTolerance = .init()) throws -> [Direction] {
        var config = setup.model
        config.dtype = .float64
        // A Float64 twin: same seed, so the same weights up to Float32 rounding.
        let model = try ReversibleTransformer(config, registry: setup.registry, faults: setup.faults)
        model.zeroGradients()
        model.trainingStep(batch, mode: setup.mode, dropoutKey: dropoutKey)
        let parameters = model.parameters
        let groups: [(String, (String) -> Bool)] = [
            ("all parameters", { _ in true }),
            ("alphas", { $0.hasSuffix(".alpha") }),
            ("embeddings", { $0.hasSuffix("embedding.weight") }),
        ]
        var rng = RandomState(seed: setup.seed ^ 0xfd)
        var directions: [Direction] = []
        for (label, selects) in groups {
            let chosen = parameters.filter { selects($0.name) }.map(\.tensor)
            if chosen.isEmpty { continue }
            var u = chosen.map { t in (0..<t.count).map { _ in rng.normal() } }
            let norm = u.joined().reduce(0) { $0 + $1 * $1 }.squareRoot()
            u = u.map { $0.map { $0 / norm } }
            var analytic = 0.0
            for (t, d) in zip(chosen, u) {
                let g = t.grad?.scalars ?? []
                for i in 0..<g.count { analytic += g[i] * d[i] }
            }
            let saved = chosen.map(\.scalars)
            func loss(at step: Double) -> Double {
                for (k, t) in chosen.enumerated() {
                    let p = t.pointer(Double.self)
                    for i in 0..<t.count { p[i] = saved[k][i] + step * u[k][i] }
                }
                return model.evaluateLoss(batch, dropoutKey: dropoutKey, training: true)
            }
            let numeric = (loss(at: tolerance.eps) - loss(at: -tolerance.eps)) / (2 * tolerance.eps)
            _ = loss(at: 0)
            directions.append(Direction(
                over: label, analytic: analytic, numeric: numeric, absError: abs(analytic - numeric),
                relError: tolerance.relativeError(analytic: analytic, numeric: numeric),
                passed: tolerance.accepts(analytic: analytic, numeric: numeric)))
        }
        return directions
    }
}

/// Decoder causality: changing the target token at position p must leave the logits of
/// every earlier position exactly as they were.
public enum CausalityCheck {
    public struct Result: Sendable, Codable {
        /// Largest change of an earlier position's logits.
        public let maxLeak: Double
        public let positionsChecked: Int
        public let passed: Bool

        public init(maxLeak: Double, positionsChecked: Int, passed: Bool) {
            self.maxLeak = maxLeak; self.positionsChecked = positionsChecked; self.passed = passed
        }

        enum CodingKeys: String, CodingKey {
            case maxLeak = "max_leak", positionsChecked = "positions_checked", passed
        }
    }

    static func run(_ model: ReversibleTransformer, batch: Seq2SeqBatch) -> Result {
        let reference = model.decoderLogits(batch).scalars
        let (t, v) = (batch.targetLength, model.config.targetVocabulary)
        var maxLeak = 0.0, checked = 0
        for p in 1..<max(t, 1) {
            var inputs = (0..<batch.batchSize).map { Array(batch.targetInput[($0 * t)..<($0 * t + batch.targetLengths[$0])]) }
            var changed = false
            for b in 0..<batch.batchSize where p < inputs[b].count {
                inputs[b][p] = inputs[b][p] == 3 ? 4 : 3
                changed = true
            }
            if !changed { continue }
            let outputs = (0..<batch.batchSize).map { Array(batch.targetOutput[($0 * t)..<($0 * t + batch.targetLengths[$0])]) }
            let sources = (0..<batch.batchSize).map { Array(batch.source[($0 * batch.sourceLength)..<($0 * batch.sourceLength + batch.sourceLengths[$0])]) }
            let perturbed = model.decoderLogits(Seq2SeqBatch(source: sources, targetInput: inputs, targetOutput: outputs, padID: batch.padID)).scalars
            for b in 0..<batch.batchSize {
                for position in 0..<min(p, batch.targetLengths[b]) {
                    let base = (b * t + position) * v
                    for i in base..<(base + v) { maxLeak = max(maxLeak, abs(perturbed[i] - reference[i])) }
                    checked += 1
                }
            }
        }
        return Result(maxLeak: maxLeak, positionsChecked: checked, passed: maxLeak == 0)
    }
}
