import TensorCore

extension PrimitiveCatalog {
    /// add / sub / mul with broadcasting, bias, scale, sum, matmul, linear.
    static var arithmeticCases: [GradCheckCase] {
        var rows: [GradCheckCase] = []
        let broadcastPairs: [([Int], [Int], GradCheckMode)] = [
            ([2, 3], [2, 3], .jacobian),
            ([2, 3], [3], .jacobian),
            ([2, 1, 3], [4, 1], .jacobian),
            ([1], [2, 2], .jacobian),
            ([3, 5, 8], [3, 5, 8], .directional),
            ([3, 5, 8], [1, 5, 1], .directional),
        ]
        let binaries: [(String, (Tensor, Tensor) -> Tensor)] = [("add", add), ("sub", sub), ("mul", mul)]
        for (name, op) in binaries {
            for (sa, sb, mode) in broadcastPairs {
                // Forward one rounding; backward reduces the broadcast operand's gradient.
                let (na, nb) = (sa.reduce(1, *), sb.reduce(1, *))
                rows.append(GradCheckCase(op: name, shape: describe(("a", sa), ("b", sb)), mode: mode,
                                          roundings: 2 + max(na, nb) / min(na, nb),
                                          inputs: { [variable(sa, &$0), variable(sb, &$0)] },
                                          function: { op($0[0], $0[1]) }))
            }
        }
        for (x, mode) in [([3, 4], GradCheckMode.jacobian), ([1, 1], .jacobian), ([2, 7, 16], .directional)] {
            let f = x.last!
            rows.append(GradCheckCase(op: "bias", shape: describe(("x", x), ("b", [f])), mode: mode,
                                      roundings: 2 + x.reduce(1, *) / f,
                                      inputs: { [variable(x, &$0), variable([f], &$0)] },
                                      function: { addBias($0[0], $0[1]) }))
        }
        rows.append(GradCheckCase(op: "scale", shape: describe(("x", [2, 3])), mode: .jacobian, roundings: 2,
                                  inputs: { [variable([2, 3], &$0)] }, function: { scale($0[0], -0.7) }))
        rows.append(GradCheckCase(op: "sum", shape: describe(("x", [2, 3])), mode: .jacobian, roundings: 7,
                                  inputs: { [variable([2, 3], &$0)] }, function: { sum($0[0]) }))
        let products: [([Int], [Int], Bool, Bool, GradCheckMode)] = [
            ([2, 3], [3, 4], false, false, .jacobian),
            ([3, 2], [3, 4], true, false, .jacobian),
            ([2, 3], [4, 3], false, true, .jacobian),
            ([3, 2], [4, 3], true, true, .jacobian),
            ([2, 2, 3], [2, 3, 2], false, false, .jacobian),
            ([2, 2, 3], [3, 2], false, false, .jacobian),
            ([1, 1], [1, 1], false, false, .jacobian),
            ([4, 16, 24], [4, 16, 24], false, true, .directional),
            ([64, 48], [48, 32], false, false, .directional),
        ]
        for (sa, sb, ta, tb, mode) in products {
            let label = describe(("a", sa), ("b", sb)) + (ta ? " aᵀ" : "") + (tb ? " bᵀ" : "")
            // The longest dot product: K forward, N for a's gradient, M (times the batch when
            // b is shared) for b's.
            let inner = ta ? sa[sa.count - 2] : sa[sa.count - 1]
            let n = tb ? sb[sb.count - 2] : sb[sb.count - 1]
            let rowsOfA = sa.reduce(1, *) / inner
            rows.append(GradCheckCase(op: "matmul", shape: label, mode: mode, roundings: 2 + max(inner, n, rowsOfA),
                                      inputs: { [variable(sa, &$0), variable(sb, &$0)] },
                                      function: { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }))
        }
        let linears: [([Int], Int, Bool, GradCheckMode)] = [
            ([2, 3], 4, true, .jacobian), ([2, 2, 3], 2, false, .jacobian), ([1, 1], 1, true, .jacobian),
            ([4, 9, 32], 24, true, .directional),
        ]
        for (x, out, hasBias, mode) in linears {
            let inF = x.last!
            let label = describe(("x", x), ("w", [out, inF])) + (hasBias ? " b[\(out)]" : "")
            rows.append(GradCheckCase(op: "linear", shape: label, mode: mode,
                                      roundings: 3 + max(inF, out, x.reduce(1, *) / inF),
                                      inputs: { rng in
                                          var t = [variable(x, &rng), variable([out, inF], &rng)]
                                          if hasBias { t.append(variable([out], &rng)) }
                                          return t
                                      },
                                      function: { linear($0[0], weight: $0[1], bias: hasBias ? $0[2] : nil) }))
        }
        return rows
    }
}
