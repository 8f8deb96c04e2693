import TensorCore

extension PrimitiveCatalog {
    /// relu, gelu, sigmoid, softmax (plain, masked, causal, fully masked rows).
    static var activationCases: [GradCheckCase] {
        var rows: [GradCheckCase] = []
        let shapes: [([Int], GradCheckMode)] = [([2, 3], .jacobian), ([1, 1], .jacobian), ([4, 7, 16], .directional)]
        // Roundings: relu 1, sigmoid 1/(1+e^-x) 3, gelu's tanh form about 8 (forward and
        // derivative); softmax a row sum of n (forward) and a row dot product (backward).
        for (shape, mode) in shapes {
            let n = shape.last!
            rows.append(GradCheckCase(op: "relu", shape: describe(("x", shape)), mode: mode, roundings: 2,
                                      inputs: { [variableAwayFromZero(shape, &$0)] }, function: { relu($0[0]) }))
            rows.append(GradCheckCase(op: "gelu", shape: describe(("x", shape)), mode: mode, roundings: 10,
                                      inputs: { [variable(shape, &$0)] }, function: { gelu($0[0]) }))
            rows.append(GradCheckCase(op: "sigmoid", shape: describe(("x", shape)), mode: mode, roundings: 5,
                                      inputs: { [variable(shape, &$0, std: 3)] }, function: { sigmoid($0[0]) }))
            rows.append(GradCheckCase(op: "softmax", shape: describe(("x", shape)), mode: mode, roundings: n + 4,
                                      inputs: { [variable(shape, &$0)] }, function: { softmax($0[0]) }))
        }
        // Masks are built in the input's dtype, so the Float32 instance gets a Float32 mask.
        // A causal mask [T, T] over scores [B, h, T, T].
        rows.append(GradCheckCase(op: "softmax", shape: describe(("x", [2, 2, 4, 4]), ("mask", [4, 4])) + " causal", mode: .jacobian,
                                  roundings: 8, inputs: { [variable([2, 2, 4, 4], &$0)] },
                                  function: { softmax($0[0], additiveMask: maskTensor(rows: 4, columns: 4, dtype: $0[0].dtype) { t, j in j <= t }) }))
        // A padding mask [B, 1, 1, T] whose second sentence has one real position.
        rows.append(GradCheckCase(op: "softmax", shape: describe(("x", [2, 2, 3, 3]), ("mask", [2, 1, 1, 3])) + " padding", mode: .jacobian,
                                  roundings: 7, inputs: { [variable([2, 2, 3, 3], &$0)] },
                                  function: { x in
                                      let padding = Tensor(shape: [2, 1, 1, 3], scalars: [0, 0, 0, 0, -Double.infinity, -Double.infinity],
                                                           dtype: x[0].dtype)
                                      return softmax(x[0], additiveMask: padding)
                                  }))
        // Every entry of the second row masked: zeros out, zero gradient, no NaN.
        rows.append(GradCheckCase(op: "softmax", shape: describe(("x", [2, 3]), ("mask", [2, 3])) + " fully masked row", mode: .jacobian,
                                  roundings: 7, inputs: { [variable([2, 3], &$0)] },
                                  function: { x in
                                      let fullyMasked = Tensor(shape: [2, 3], scalars: [0, 0, 0, -Double.infinity, -Double.infinity, -Double.infinity],
                                                               dtype: x[0].dtype)
                                      return softmax(x[0], additiveMask: fullyMasked)
                                  }))
        rows.append(GradCheckCase(op: "softmax", shape: describe(("x", [8, 12, 12]), ("mask", [12, 12])) + " causal", mode: .directional,
                                  roundings: 16, inputs: { [variable([8, 12, 12], &$0)] },
                                  function: { softmax($0[0], additiveMask: maskTensor(rows: 12, columns: 12, dtype: $0[0].dtype) { t, j in j <= t }) }))
        return rows
    }
}

/// [rows, columns]: 0 where `visible`, -inf elsewhere.
func maskTensor(rows: Int, columns: Int, dtype: DType, visible: (Int, Int) -> Bool) -> Tensor {
    var values: [Double] = []
    for t in 0..<rows { for j in 0..<columns { values.append(visible(t, j) ? 0 : -.infinity) } }
    return Tensor(shape: [rows, columns], scalars: values, dtype: dtype)
}
