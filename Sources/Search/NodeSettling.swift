import Foundation
import Reversible

/// How settled one searched node is: the op the derivation picks (the largest
/// softmax(alpha) other than `zero`), the runner-up, the margin between their weights and
/// the entropy of softmax(alpha) over the node's ops, normalised by log(ops) (1: uniform, 0:
/// one op holds all the weight). A search whose margins keep moving has not settled, and
/// its genotype says little.
public struct NodeSettling: Sendable, Equatable {
    public let node: String
    public let chosen: String
    public let runnerUp: String
    public let margin: Double
    public let normalizedEntropy: Double

    /// Every searched node of `model`, in derivation order (`encoder.layer1.split1`, ...).
    public static func of(_ model: ReversibleTransformer) -> [NodeSettling] {
        model.searchedNodes.compactMap { name, function in
            function.weights.map { settling(node: name, ops: function.opNames, weights: $0) }
        }
    }

    /// The figures of one node's ops and weights (softmax(alpha)).
    public static func settling(node: String, ops: [String], weights: [Double]) -> NodeSettling {
        let ranked = zip(ops, weights).filter { $0.0 != "zero" }.sorted { $0.1 > $1.1 }
        let entropy = -weights.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
        return NodeSettling(node: node, chosen: ranked.first?.0 ?? "", runnerUp: ranked.dropFirst().first?.0 ?? "",
                            margin: ranked.count > 1 ? ranked[0].1 - ranked[1].1 : 1,
                            normalizedEntropy: weights.count > 1 ? entropy / log(Double(weights.count)) : 0)
    }
}
