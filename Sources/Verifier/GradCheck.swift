import TensorCore

/// Tolerances of a gradient check; the defaults are torch.autograd.gradcheck's.
public struct GradCheckTolerance: Sendable, Codable {
    public var eps = 1e-6
    public var atol = 1e-5
    public var rtol = 1e-3
    public init() {}
    public init(eps: Double, atol: Double, rtol: Double) {
        self.eps = eps; self.atol = atol; self.rtol = rtol
    }

    /// An analytic value `a` passes against a numeric `n` when |a - n| <= atol + rtol |n|
    /// (times `fraction`).
    public func accepts(analytic a: Double, numeric n: Double, within fraction: Double = 1) -> Bool {
        abs(a - n) <= fraction * (atol + rtol * abs(n))
    }

    /// The relative error reported next to the absolute one: |a - n| / (|n| + atol), so an
    /// entry whose true value is zero reports its error against atol rather than infinity.
    public func relativeError(analytic a: Double, numeric n: Double) -> Double {
        abs(a - n) / (abs(n) + atol)
    }
}

/// How a case is checked: every Jacobian entry (tiny shapes), or random directional
/// derivatives <v, J u> against <Jᵀ v, u> (larger shapes, as JAX's check_grads).
public enum GradCheckMode: String, Sendable, Codable, ListedCases {
    case jacobian
    case directional
}

/// A case's inputs in one dtype and the function over them.
public struct GradCheckInstance {
    /// Those with `requiresGrad` are the ones differentiated.
    public let inputs: [Tensor]
    public let function: ([Tensor]) -> Tensor

    public init(inputs: [Tensor], function: @escaping ([Tensor]) -> Tensor) {
        self.inputs = inputs; self.function = function
    }
}

/// One row of a gradient-check table: an operation, inputs of one shape, a mode.
public struct GradCheckCase {
    public let op: String
    /// Human-readable shape, e.g. "x[2,3,4] w[5,4]".
    public let shape: String
    public let mode: GradCheckMode
    /// Random (u, v) pairs drawn in directional mode.
    public let directions: Int
    /// k of the Float32 bound k·u·κ: the roundings on the longest chain of the forward or
    /// the backward (a sum of n terms is n roundings), so k·u is the worst-case relative
    /// error of a backward-stable computation of condition 1 (Higham's γ_k).
    public let roundings: Int
    /// The same inputs (bit for bit: Float32-representable values) in the given dtype,
    /// drawn from the generator passed in, and the function over them.
    public let instantiate: (DType, inout RandomState) -> GradCheckInstance

    /// A primitive: `inputs` draws Float64 tensors, rounded to Float32 values so both
    /// dtypes start from identical numbers; `function` must follow its inputs' dtype.
    public init(
        op: String, shape: String, mode: GradCheckMode, directions: Int = 4, roundings: Int,
        inputs: @escaping (inout RandomState) -> [Tensor], function: @escaping ([Tensor]) -> Tensor
    ) {
        self.init(op: op, shape: shape, mode: mode, directions: directions, roundings: roundings) { dtype, rng in
            let drawn = inputs(&rng).map { $0.roundedThroughFloat32() }
            return GradCheckInstance(inputs: dtype == .float64 ? drawn : drawn.map { $0.converted(keepingGradFlag: dtype) },
                                     function: function)
        }
    }

    /// A composite (an op owning its weights): `instantiate` builds it in either dtype with
    /// identical values, its weights among the returned inputs so the check perturbs them.
    public init(op: String, shape: String, mode: GradCheckMode, directions: Int = 4, roundings: Int,
                instantiate: @escaping (DType, inout RandomState) -> GradCheckInstance) {
        self.op = op; self.shape = shape; self.mode = mode; self.directions = directions
        self.roundings = roundings; self.instantiate = instantiate
    }
}

/// The outcome of one case.
public struct GradCheckResult: Sendable, Codable {
    public let op: String
    public let shape: String
    public let mode: GradCheckMode
    /// Jacobian entries or directional derivatives compared.
    public let comparisons: Int
    public let maxAbsError: Double
    public let maxRelError: Double
    /// Float64 backward within tolerance of the finite differences.
    public let finiteDifferencesPassed: Bool
    /// Float32 forward and backward against Float64 on the same inputs.
    public let float32: Float32Comparison
    public let passed: Bool

    enum CodingKeys: String, CodingKey {
        case op, shape, mode, comparisons, passed, float32
        case maxAbsError = "max_abs_error"
        case maxRelError = "max_rel_error"
        case finiteDifferencesPassed = "finite_differences_passed"
    }
}

/// Central finite differences in Float64 against the tape's backward, and the Float32
/// kernels against the Float64 ones on the same inputs.
public enum GradCheck {
    public static func run(_ c: GradCheckCase, tolerance: GradCheckTolerance = .init(), seed: UInt64 = 0) -> GradCheckResult {
        var rng = RandomState(seed: seed ^ UInt64(truncatingIfNeeded: c.op.hashValueStable &+ c.shape.hashValueStable))
        var drawing = rng
        let instance = c.instantiate(.float64, &drawing)
        precondition(instance.inputs.allSatisfy { $0.dtype == .float64 }, "\(c.op): a Float64 instance with other inputs")
        var single = rng
        let single32 = c.instantiate(.float32, &single)
        rng = drawing
        let pairs: [(analytic: Double, numeric: Double)]
        switch c.mode {
        case .jacobian: pairs = jacobianPairs(instance, tolerance.eps)
        case .directional: pairs = directionalPairs(instance, c.directions, tolerance, &rng)
        }
        // Directions redrawn at kinks must still leave at least half of those asked for.
        let enough = c.mode == .jacobian ? !pairs.isEmpty : 2 * pairs.count >= c.directions
        var maxAbs = 0.0, maxRel = 0.0, fdPassed = enough
        for (a, n) in pairs {
            let absError = abs(a - n)
            // NaN must fail, and must show in the figures.
            if absError.isNaN { maxAbs = .nan; maxRel = .nan; fdPassed = false; continue }
            maxAbs = max(maxAbs, absError)
            maxRel = max(maxRel, tolerance.relativeError(analytic: a, numeric: n))
            if !tolerance.accepts(analytic: a, numeric: n) { fdPassed = false }
        }
        let float32 = Float32Comparison.measure(double: instance, single: single32, roundings: c.roundings, rng: &rng)
        return GradCheckResult(op: c.op, shape: c.shape, mode: c.mode, comparisons: pairs.count,
                               maxAbsError: maxAbs, maxRelError: maxRel, finiteDifferencesPassed: fdPassed,
                               float32: float32, passed: fdPassed && float32.passed)
    }

    /// Gradients of <seed, f(inputs)> with respect to the inputs needing them (zeros when
    /// none arrived).
    static func analyticGradients(_ c: GradCheckInstance, seed: Tensor) -> [[Double]] {
        let inputs = c.inputs
        for x in inputs { x.grad = nil }
        let tape = Tape()
        let y = tape.recording { c.function(inputs) }
        precondition(y.shape == seed.shape, "output shape \(y.shape) changed between calls")
        if y.requiresGrad { tape.backward(y, seed: seed) }
        defer { for x in inputs { x.grad = nil } }
        return inputs.filter(\.requiresGrad).map { x in x.grad?.scalars ?? [Double](repeating: 0, count: x.count) }
    }

    static func evaluate(_ c: GradCheckInstance) -> Tensor {
        c.function(c.inputs)
    }

    private static func jacobianPairs(_ c: GradCheckInstance, _ eps: Double) -> [(Double, Double)] {
        let out = evaluate(c)
        let outputCount = out.count
        // Analytic Jacobian, one output row at a time: rows[o][input][element].
        var rows: [[[Double]]] = []
        for o in 0..<outputCount {
            var oneHot = [Double](repeating: 0, count: outputCount)
            oneHot[o] = 1
            rows.append(analyticGradients(c, seed: Tensor(shape: out.shape, scalars: oneHot, dtype: .float64)))
        }
        var pairs: [(Double, Double)] = []
        for (slot, x) in c.inputs.filter(\.requiresGrad).enumerated() {
            let p = x.pointer(Double.self)
            for j in 0..<x.count {
                let saved = p[j]
                p[j] = saved + eps
                let plus = evaluate(c).scalars
                p[j] = saved - eps
                let minus = evaluate(c).scalars
                p[j] = saved
                for o in 0..<outputCount {
                    pairs.append((rows[o][slot][j], (plus[o] - minus[o]) / (2 * eps)))
                }
            }
        }
        return pairs
    }

    private static func directionalPairs(
        _ c: GradCheckInstance, _ directions: Int, _ tolerance: GradCheckTolerance, _ rng: inout RandomState
    ) -> [(Double, Double)] {
        let eps = tolerance.eps
        let differentiable = c.inputs.filter(\.requiresGrad)
        let outShape = evaluate(c).shape
        let outputCount = outShape.reduce(1, *)
        var pairs: [(Double, Double)] = []
        // A direction whose step crosses a kink (a ReLU inside a composite changing sign)
        // is redrawn: the central differences at eps and eps / 2 then disagree by a part of
        // the slope's jump, where for a smooth function they agree to O(eps²·f''').
        var attempts = 0
        while pairs.count < directions && attempts < 4 * directions {
            attempts += 1
            let v = (0..<outputCount).map { _ in rng.normal() }
            let u = differentiable.map { x in (0..<x.count).map { _ in rng.normal() } }
            let grads = analyticGradients(c, seed: Tensor(shape: outShape, scalars: v, dtype: .float64))
            var analytic = 0.0
            for (g, d) in zip(grads, u) { for i in 0..<g.count { analytic += g[i] * d[i] } }
            let saved = differentiable.map(\.scalars)
            func shifted(_ step: Double) -> Double {
                for (k, x) in differentiable.enumerated() {
                    let p = x.pointer(Double.self)
                    for i in 0..<x.count { p[i] = saved[k][i] + step * u[k][i] }
                }
                let y = evaluate(c).scalars
                return zip(v, y).reduce(0) { $0 + $1.0 * $1.1 }
            }
            let numeric = (shifted(eps) - shifted(-eps)) / (2 * eps)
            let half = (shifted(eps / 2) - shifted(-eps / 2)) / eps
            for (k, x) in differentiable.enumerated() {
                let p = x.pointer(Double.self)
                for i in 0..<x.count { p[i] = saved[k][i] }
            }
            if !tolerance.accepts(analytic: half, numeric: numeric, within: 0.25) { continue }
            pairs.append((analytic, numeric))
        }
        return pairs
    }
}

extension Tensor {
    /// A Float64 copy whose values are exactly representable in Float32 (same grad flag).
    func roundedThroughFloat32() -> Tensor {
        guard dtype == .float64 else { return self }
        return Tensor(shape: shape, scalars: scalars.map { Double(Float($0)) }, dtype: .float64, requiresGrad: requiresGrad)
    }

    /// A copy in `dtype` that keeps whether the check differentiates it.
    func converted(keepingGradFlag dtype: DType) -> Tensor {
        let copy = converted(to: dtype)
        copy.requiresGrad = requiresGrad
        return copy
    }
}

extension String {
    /// FNV-1a: a seed derived from a case's name that is the same in every process
    /// (Swift's `hashValue` is randomised per run).
    var hashValueStable: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return h
    }
}
