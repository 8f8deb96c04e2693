import TensorCore

extension PrimitiveCatalog {
    /// layer_norm, embedding, dropout (linear for a fixed key, so it checks exactly).
    static var normalizationCases: [GradCheckCase] {
        var rows: [GradCheckCase] = []
        for (shape, mode) in [([2, 5], GradCheckMode.jacobian), ([1, 1, 3], .jacobian), ([3, 7, 32], .directional)] {
            let n = shape.last!
            // Mean and variance are sums of n; the backward two more row sums, and gamma's
            // and beta's gradients a sum over the rows.
            rows.append(GradCheckCase(op: "layer_norm", shape: describe(("x", shape), ("gamma", [n]), ("beta", [n])), mode: mode,
                                      roundings: 10 + max(4 * n, shape.reduce(1, *) / n),
                                      inputs: { [variable(shape, &$0), variable([n], &$0), variable([n], &$0)] },
                                      function: { layerNorm($0[0], gamma: $0[1], beta: $0[2]) }))
        }
        let lookups: [([Int32], [Int], Int, Int, GradCheckMode)] = [
            ([0, 2, 2, 1], [2, 2], 3, 4, .jacobian),    // a repeated id accumulates
            ([4], [1, 1], 5, 2, .jacobian),            // a length-1 sequence
            (Array((0..<30).map { Int32($0 % 11) }), [3, 10], 11, 16, .directional),
        ]
        for (ids, shape, vocabulary, width, mode) in lookups {
            rows.append(GradCheckCase(op: "embedding", shape: describe(("table", [vocabulary, width]), ("ids", shape)), mode: mode,
                                      roundings: 1 + ids.count,
                                      inputs: { [variable([vocabulary, width], &$0)] },
                                      function: { embedding($0[0], ids: ids, shape: shape) }))
        }
        for (shape, rate, mode) in [([3, 4], 0.3, GradCheckMode.jacobian), ([1, 1], 0.5, .jacobian), ([4, 9, 16], 0.1, .directional)] {
            rows.append(GradCheckCase(op: "dropout", shape: describe(("x", shape)) + " p=\(rate)", mode: mode, roundings: 2,
                                      inputs: { [variable(shape, &$0)] }, function: { dropout($0[0], rate: rate, key: 42) }))
        }
        return rows
    }
}
