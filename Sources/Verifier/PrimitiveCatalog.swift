import TensorCore

/// The gradient-check table of every primitive: one row per (op, shape, mode). Adding a
/// primitive adds rows here (or in a `PrimitiveCatalog+*.swift` file beside this one);
/// `revsearch gradcheck`, the tests and the gradient-check probe all read this table.
public enum PrimitiveCatalog {
    public static var cases: [GradCheckCase] {
        arithmeticCases + activationCases + normalizationCases + lossCases + sequenceCases + dynamicConvCases
            + structuralCases
    }

    /// The distinct op names in the table, in table order.
    public static var ops: [String] {
        var seen = Set<String>()
        return cases.map(\.op).filter { seen.insert($0).inserted }
    }
}

// MARK: - Input builders shared by the table files

/// A Float64 input that the check differentiates.
func variable(_ shape: [Int], _ rng: inout RandomState, std: Double = 1) -> Tensor {
    let t = Tensor(randomNormal: shape, std: std, dtype: .float64, rng: &rng)
    t.requiresGrad = true
    return t
}

/// A Float64 input held constant (masks, fixed operands).
func constant(_ shape: [Int], _ rng: inout RandomState, std: Double = 1) -> Tensor {
    Tensor(randomNormal: shape, std: std, dtype: .float64, rng: &rng)
}

/// A differentiable input whose entries keep at least `margin` away from zero, so a
/// central difference of width 2 eps never straddles a kink (ReLU at 0).
func variableAwayFromZero(_ shape: [Int], _ rng: inout RandomState, margin: Double = 0.05) -> Tensor {
    let values = (0..<shape.reduce(1, *)).map { _ -> Double in
        let v = rng.normal()
        return v >= 0 ? v + margin : v - margin
    }
    return Tensor(shape: shape, scalars: values, dtype: .float64, requiresGrad: true)
}

/// "x[2,3] w[4,3]" from labelled shapes.
func describe(_ parts: (String, [Int])...) -> String {
    parts.map { "\($0.0)[\($0.1.map(String.init).joined(separator: ","))]" }.joined(separator: " ")
}
