import TensorCore

extension PrimitiveCatalog {
    /// relu, gelu, sigmoid, softmax (plain, masked, causal, fully masked rows).
    static var activationCases: [GradCheckCase] {
        var rows: [GradCheckCase] = []
        let shapes: [([Int], GradCheckMode)] = [([2, 3], .jacobian), ([1, 1], .jacobian), ([4, 7, 16], .directional)]
        for (shape, mode) in shapes {
            rows.append(GradCheckCase(op: "relu", shape: describe(("x", shape)), mode: mode,
                                      inputs: { [variableAwayFromZero(shape, &$0)] }, function: { relu($0[0]) }))
            rows.append(GradCheckCase(op: "gelu", shape: describe(("x", shape)), mode: mode,
                                      inputs: { [variable(shape, &$0)] }, function: { gelu($0[0]) }))
            rows.append(GradCheckCase(op: "sigmoid", shape: describe(("x", shape)), mode: mode,
                                      inputs: { [variable(shape, &$0, std: 3)] }, function: { sigmoid($0[0]) }))
            rows.append(GradCheckCase(op: "softmax", shape: describe(("x", shape)), mode: mode,
                                      inputs: { [variable(shape, &$0)] }, function: { softmax($0[0]) }))
        }
        // A causal mask [T, T] over scores [B, h, T, T].
        let causal = maskTensor(rows: 4, columns: 4) { t, j in j <= t }
        rows.append(GradCheckCase(op: "softmax", shape: describe(("x", [2, 2, 4, 4]), ("mask", [4, 4])) + " causal", mode: .jacobian,
                                  inputs: { [variable([2, 2, 4, 4], &$0)] }, function: { softmax($0[0], additiveMask: causal) }))
        // A padding mask [B, 1, 1, T] whose second sentence has one real position.
        let padding = Tensor(shape: [2, 1, 1, 3], scalars: [0, 0, 0, 0, -Double.infinity, -Double.infinity], dtype: .float64)
        rows.append(GradCheckCase(op: "softmax", shape: describe(("x", [2, 2, 3, 3]), ("mask", [2, 1, 1, 3])) + " padding", mode: .jacobian,
                                  inputs: { [variable([2, 2, 3, 3], &$0)] }, function: { softmax($0[0], additiveMask: padding) }))
        // Every entry of the second row masked: zeros out, zero gradient, no NaN.
        let fullyMasked = Tensor(shape: [2, 3], scalars: [0, 0, 0, -Double.infinity, -Double.infinity, -Double.infinity], dtype: .float64)
        rows.append(GradCheckCase(op: "softmax", shape: describe(("x", [2, 3]), ("mask", [2, 3])) + " fully masked row", mode: .jacobian,
                                  inputs: { [variable([2, 3], &$0)] }, function: { softmax($0[0], additiveMask: fullyMasked) }))
        rows.append(GradCheckCase(op: "softmax", shape: describe(("x", [8, 12, 12]), ("mask", [12, 12])) + " causal", mode: .directional,
                                  inputs: { [variable([8, 12, 12], &$0)] },
                                  function: { softmax($0[0], additiveMask: maskTensor(rows: 12, columns: 12) { t, j in j <= t }) }))
        return rows
    }
}

/// [rows, columns]: 0 where `visible`, -inf elsewhere.
func maskTensor(rows: Int, columns: Int, visible: (Int, Int) -> Bool) -> Tensor {
    var values: [Double] = []
    for t in 0..<rows { for j in 0..<columns { values.append(visible(t, j) ? 0 : -.infinity) } }
    return Tensor(shape: [rows, columns], scalars: values, dtype: .float64)
}
