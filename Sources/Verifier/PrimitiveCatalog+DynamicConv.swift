import TensorCore

extension PrimitiveCatalog {
    /// The per-position depthwise convolution of dynconv, centred and causal.
    static var dynamicConvCases: [GradCheckCase] {
        let shapes: [(b: Int, t: Int, c: Int, h: Int, w: Int, mode: GradCheckMode)] = [
            (1, 3, 2, 1, 3, .jacobian), (2, 4, 4, 2, 2, .jacobian), (1, 1, 2, 2, 3, .jacobian),
            (1, 2, 2, 1, 7, .jacobian), (2, 9, 12, 3, 7, .directional), (2, 6, 8, 2, 15, .directional),
        ]
        var rows: [GradCheckCase] = []
        for s in shapes {
            for alignment in [ConvPadding.centred, .causal] {
                let label = describe(("a", [s.b, s.t, s.c]), ("k", [s.b, s.t, s.h, s.w])) + (alignment == .causal ? " causal" : " centred")
                // Output: a sum over w; kernel gradient: over the c / h channels of a head.
                rows.append(GradCheckCase(op: "dynamic_conv", shape: label, mode: s.mode, roundings: 3 + max(s.w, s.c / s.h),
                                          inputs: { [variable([s.b, s.t, s.c], &$0), variable([s.b, s.t, s.h, s.w], &$0)] },
                                          function: { dynamicConv($0[0], kernels: $0[1], padding: alignment) }))
            }
        }
        return rows
    }
}
