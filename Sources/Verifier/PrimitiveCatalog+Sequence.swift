import TensorCore

extension PrimitiveCatalog {
    /// conv1d: widths 1, 2 (even), 3, 5, 11; centred and causal; with and without bias;
    /// length-1 sequences and kernels wider than the sequence.
    static var sequenceCases: [GradCheckCase] {
        let shapes: [(b: Int, t: Int, cin: Int, cout: Int, w: Int, bias: Bool, mode: GradCheckMode)] = [
            (1, 4, 2, 3, 3, true, .jacobian), (2, 3, 2, 2, 2, false, .jacobian), (1, 1, 2, 2, 3, true, .jacobian),
            (1, 3, 1, 2, 1, true, .jacobian), (1, 4, 2, 2, 11, false, .jacobian), (2, 2, 2, 1, 5, true, .jacobian),
            (3, 9, 12, 12, 5, true, .directional), (2, 4, 8, 8, 11, true, .directional),
        ]
        var rows: [GradCheckCase] = []
        for s in shapes {
            for padding in [ConvPadding.centred, .causal] {
                let label = describe(("x", [s.b, s.t, s.cin]), ("w", [s.cout, s.cin, s.w])) + (s.bias ? " bias" : "")
                    + (padding == .causal ? " causal" : " centred")
                // Output: a sum over cin · w; input gradient over cout · w; weight gradient
                // over b · t.
                rows.append(GradCheckCase(op: "conv1d", shape: label, mode: s.mode,
                                          roundings: 3 + max(s.cin * s.w, s.cout * s.w, s.b * s.t),
                                          inputs: { rng in
                                              var t = [variable([s.b, s.t, s.cin], &rng), variable([s.cout, s.cin, s.w], &rng)]
                                              if s.bias { t.append(variable([s.cout], &rng)) }
                                              return t
                                          },
                                          function: { conv1d($0[0], weight: $0[1], bias: s.bias ? $0[2] : nil, padding: padding) }))
            }
        }
        return rows
    }
}
