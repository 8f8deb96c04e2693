import TensorCore

extension PrimitiveCatalog {
    /// log_softmax; cross_entropy with and without label smoothing, with ignored
    /// (padding) positions and with every position ignored.
    static var lossCases: [GradCheckCase] {
        var rows: [GradCheckCase] = []
        for (shape, mode) in [([2, 4], GradCheckMode.jacobian), ([1, 1], .jacobian), ([6, 5, 20], .directional)] {
            rows.append(GradCheckCase(op: "log_softmax", shape: describe(("x", shape)), mode: mode, roundings: shape.last! + 5,
                                      inputs: { [variable(shape, &$0)] }, function: { logSoftmax($0[0]) }))
        }
        let losses: [(String, [Int32], Int, Double, GradCheckMode)] = [
            ("", [2, 3, 1], 4, 0, .jacobian),
            (" smoothing 0.1", [2, 3, 1], 4, 0.1, .jacobian),
            (" smoothing 0.1, 2 of 4 ignored", [3, 0, 0, 1], 5, 0.1, .jacobian),
            (" all ignored", [0, 0], 3, 0.1, .jacobian),
            (" one position", [1], 2, 0.1, .jacobian),
            (" smoothing 0.1, padded", (0..<40).map { Int32($0 % 7 == 6 ? 0 : 1 + $0 % 30) }, 31, 0.1, .directional),
        ]
        for (label, targets, vocabulary, smoothing, mode) in losses {
            // A log-softmax row, the smoothing sum over the vocabulary, the mean over positions.
            rows.append(GradCheckCase(op: "cross_entropy", shape: describe(("logits", [targets.count, vocabulary])) + label, mode: mode,
                                      roundings: 8 + 2 * vocabulary + targets.count,
                                      inputs: { [variable([targets.count, vocabulary], &$0)] },
                                      function: { crossEntropy(logits: $0[0], targets: targets, labelSmoothing: smoothing, ignoreIndex: 0) }))
        }
        return rows
    }
}
