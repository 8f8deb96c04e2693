import TensorCore

extension PrimitiveCatalog {
    /// split, concat, max_pool, mean_pool, reshape, transpose.
    static var structuralCases: [GradCheckCase] {
        var rows: [GradCheckCase] = []
        for (shape, parts, mode) in [([2, 4], 2, GradCheckMode.jacobian), ([2, 1, 6], 3, .jacobian), ([3, 5, 24], 3, .directional)] {
            // Weighted sum of the parts, so each part's gradient differs.
            rows.append(GradCheckCase(op: "split", shape: describe(("x", shape)) + " into \(parts)", mode: mode, roundings: 2,
                                      inputs: { [variable(shape, &$0)] },
                                      function: { x in
                                          let pieces = split(x[0], parts: parts)
                                          return concat(pieces.enumerated().map { scale($0.element, Double($0.offset + 1)) })
                                      }))
            let widths = (0..<parts).map { $0 + 1 }
            let lead = Array(shape.dropLast())
            rows.append(GradCheckCase(op: "concat", shape: widths.map { describe(("x", lead + [$0])) }.joined(separator: " "), mode: mode,
                                      roundings: 1,
                                      inputs: { rng in widths.map { variable(lead + [$0], &rng) } },
                                      function: { concat($0) }))
        }
        for (count, shape, mode) in [(2, [2, 3], GradCheckMode.jacobian), (3, [1, 4], .jacobian), (3, [4, 6, 10], .directional)] {
            let label = Array(repeating: describe(("x", shape)), count: count).joined(separator: " ")
            rows.append(GradCheckCase(op: "max_pool", shape: label, mode: mode, roundings: 1,
                                      inputs: { separatedInputs(count, shape, &$0) }, function: { elementwiseMax($0) }))
            rows.append(GradCheckCase(op: "mean_pool", shape: label, mode: mode, roundings: 2 + count,
                                      inputs: { rng in (0..<count).map { _ in variable(shape, &rng) } }, function: { elementwiseMean($0) }))
        }
        for (shape, target, mode) in [([2, 6], [3, -1], GradCheckMode.jacobian), ([4, 5, 6], [20, 6], .directional)] {
            rows.append(GradCheckCase(op: "reshape", shape: describe(("x", shape)) + " -> \(target)", mode: mode, roundings: 2,
                                      inputs: { [variable(shape, &$0)] },
                                      function: { x in
                                          let y = reshape(x[0], target)
                                          return mul(y, constantRamp(y.shape, dtype: y.dtype))
                                      }))
        }
        for (shape, a, b, mode) in [([2, 3], 0, 1, GradCheckMode.jacobian), ([2, 3, 2, 2], 1, 2, .jacobian), ([2, 1, 3], 0, 2, .jacobian),
                                     ([3, 4, 5, 6], 1, 3, .directional)] {
            rows.append(GradCheckCase(op: "transpose", shape: describe(("x", shape)) + " axes \(a),\(b)", mode: mode, roundings: 2,
                                      inputs: { [variable(shape, &$0)] },
                                      function: { x in
                                          let y = transpose(x[0], a, b)
                                          return mul(y, constantRamp(y.shape, dtype: y.dtype))
                                      }))
        }
        return rows
    }
}

/// `count` tensors whose values at every position differ by at least 0.1, so no central
/// difference of width 2e-6 changes which one is the maximum.
private func separatedInputs(_ count: Int, _ shape: [Int], _ rng: inout RandomState) -> [Tensor] {
    let n = shape.reduce(1, *)
    var columns: [[Double]] = Array(repeating: [], count: count)
    for _ in 0..<n {
        var values = (0..<count).map { Double($0) * 0.3 + 0.1 * rng.uniform() }
        values.shuffle(using: &rng)
        for k in 0..<count { columns[k].append(values[k]) }
    }
    return columns.map { Tensor(shape: shape, scalars: $0, dtype: .float64, requiresGrad: true) }
}

/// 1, 2, 3, ... in `shape`: makes the gradient of a layout op position-dependent, so a
/// wrong permutation in backward shows.
private func constantRamp(_ shape: [Int], dtype: DType) -> Tensor {
    Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { Double($0 + 1) }, dtype: dtype)
}
