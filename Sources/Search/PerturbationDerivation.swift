import Foundation
import Reversible
import TensorCore
import Translation

/// Derivation by perturbation (after Wang et al., "Rethinking Architecture Selection in
/// Differentiable NAS", ICLR 2021): a node gets the op whose removal from the trained
/// super-network raises the loss on alpha's data the most, instead of the op with the largest
/// softmax(alpha). Alpha's magnitude says how much of an op the mixture uses, not how much the
/// super-network needs it: an op that cuts the loss early can hold the largest weight while
/// others carry what it cannot (an `ffn` has no view of earlier target words; a convolution
/// beside it in the mixture does). Removing op o drops its term from the node's sum and
/// leaves the other ops' weights as they are (the paper's mask, not a renormalised softmax,
/// which would scale the others up and blur what o itself contributed); no fine-tuning between
/// nodes (the one-shot form: every node is measured on the same trained super-network).
public enum PerturbationDerivation {
    /// The loss without one op of one node, next to the super-network's own.
    public struct Removal: Sendable, Equatable {
        /// `stack.layerI.splitK`, as in settling.csv.
        public let node: String
        public let op: String
        /// softmax(alpha) of the op before removal.
        public let weight: Double
        /// Mean loss per target token over the batches with the op removed.
        public let loss: Double
    }

    /// What `measure` found: the super-network's loss and one removal per op of every searched node.
    public struct Measurement: Sendable {
        public let baseLoss: Double
        public let removals: [Removal]
        public let batches: Int
        public let tokens: Int

        /// The op of `node` whose removal raised the loss most (never `zero`, which the
        /// derivation never picks); nil for a node not measured.
        public func chosen(node: String) -> String? {
            removals.filter { $0.node == node && $0.op != "zero" }.max { $0.loss < $1.loss }?.op
        }
    }

    /// Removes, one at a time, every op but `zero` of every searched node of `model` and
    /// measures the token-weighted mean loss of `batches` (no dropout, the search's label
    /// smoothing); the model is left as it was. `progress` hears each finished removal.
    public static func measure(_ model: ReversibleTransformer, batches: [Seq2SeqBatch], labelSmoothing: Double,
                               progress: (Removal, _ done: Int, _ total: Int) -> Void = { _, _, _ in }) -> Measurement {
        let tokens = batches.map(\.targetTokens).reduce(0, +)
        func loss() -> Double {
            batches.reduce(0) { sum, batch in
                sum + model.evaluateLoss(batch, dropoutKey: 0, training: false, labelSmoothing: labelSmoothing) * Double(batch.targetTokens)
            } / Double(max(tokens, 1))
        }
        let base = loss()
        let nodes = model.searchedNodes
        let total = nodes.map { $0.function.opNames.filter { $0 != "zero" }.count }.reduce(0, +)
        var removals: [Removal] = []
        for (name, function) in nodes {
            guard let weights = function.weights else { continue }
            for (i, op) in function.opNames.enumerated() where op != "zero" {
                function.removedOp = i
                defer { function.removedOp = nil }
                removals.append(Removal(node: name, op: op, weight: weights[i], loss: loss()))
                progress(removals[removals.count - 1], removals.count, total)
            }
        }
        return Measurement(baseLoss: base, removals: removals, batches: batches.count, tokens: tokens)
    }

    /// The genotype `measurement` picks: at each node the op whose removal cost the most.
    public static func genotype(_ model: ReversibleTransformer, _ measurement: Measurement) -> Genotype {
        Genotype.derive(from: model) { node, ops, _ in measurement.chosen(node: node) ?? ops[0] }
    }
}
