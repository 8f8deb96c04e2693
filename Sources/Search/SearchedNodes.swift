import Reversible

/// The one naming of a model's searched nodes (`encoder.layer1.split1`, ...) that settling.csv,
/// genotype weights, derivation and perturbation share: they join each other's figures by
/// these names, so a second spelling would join nothing.
extension ReversibleTransformer {
    /// The name of split `k` of layer `i` (both from 0) in the stack called `stack`.
    static func nodeName(_ stack: String, layer i: Int, split k: Int) -> String {
        "\(stack).layer\(i + 1).split\(k + 1)"
    }

    /// Every mixed node (one with alpha), encoder first, in layer and split order.
    var searchedNodes: [(name: String, function: NodeFunction)] {
        func stack(_ name: String, _ layers: [ReversibleLayer]) -> [(name: String, function: NodeFunction)] {
            layers.enumerated().flatMap { i, layer in
                layer.functions.enumerated().compactMap { k, function in
                    function.alpha == nil ? nil : (name: Self.nodeName(name, layer: i, split: k), function: function)
                }
            }
        }
        return stack("encoder", encoder) + stack("decoder", decoder)
    }
}
