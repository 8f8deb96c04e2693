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

    /// An analytic value `a` passes against a numeric `n` when |a - n| <= atol + rtol |n|.
    public func accepts(analytic a: Double, numeric n: Double) -> Bool {
        abs(a - n) <= atol + rtol * abs(n)
    }

    /// The relative error reported next to the absolute one: |a - n| / (|n| + atol), so an
    /// entry whose true value is zero reports its error against atol rather than infinity.
    public func relativeError(analytic a: Double, numeric n: Double) -> Double {
        abs(a - n) / (abs(n) + atol)
    }
}

/// How a case is checked: every Jacobian entry (tiny shapes), or random directional
/// derivatives <v, J u> against <Jᵀ v, u> (larger shapes, as JAX's check_grads).
public enum GradCheckMode: String, Sendable, Codable {
    case jacobian
    case directional
}

/// One row of a gradient-check table: an operation, inputs of one shape, a mode.
public struct GradCheckCase {
    public let op: String
    /// Human-readable shape, e.g. "x[2,3,4] w[5,4]".
    public let shape: String
    public let mode: GradCheckMode
    /// Random (u, v) pairs drawn in directional mode.
    public let directions: Int
    /// Float64 inputs; those with `requiresGrad` are the ones differentiated.
    public let makeInputs: (inout RandomState) -> [Tensor]
    public let function: ([Tensor]) -> Tensor

    public init(
        op: String, shape: String, mode: GradCheckMode, directions: Int = 4,
        inputs: @escaping (inout RandomState) -> [Tensor], function: @escaping ([Tensor]) -> Tensor
    ) {
        self.op = op; self.shape = shape; self.mode = mode; self.directions = directions
        self.makeInputs = inputs; self.function = function
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
    public let passed: Bool

    enum CodingKeys: String, CodingKey {
        case op, shape, mode, comparisons, passed
        case maxAbsError = "max_abs_error"
        case maxRelError = "max_rel_error"
    }
}

/// Central finite differences in Float64 against the tape's backward.
public enum GradCheck {
    public static func run(_ c: GradCheckCase, tolerance: GradCheckTolerance = .init(), seed: UInt64 = 0) -> GradCheckResult {
        var rng = RandomState(seed: seed ^ UInt64(truncatingIfNeeded: c.op.hashValueStable &+ c.shape.hashValueStable))
        let inputs = c.makeInputs(&rng)
        precondition(inputs.allSatisfy { $0.dtype == .float64 }, "gradient checks run in Float64")
        let pairs: [(analytic: Double, numeric: Double)]
        switch c.mode {
        case .jacobian: pairs = jacobianPairs(c, inputs, tolerance.eps)
        case .directional: pairs = directionalPairs(c, inputs, tolerance.eps, &rng)
        }
        var maxAbs = 0.0, maxRel = 0.0, passed = !pairs.isEmpty
        for (a, n) in pairs {
            let absError = abs(a - n)
            // NaN must fail, and must show in the figures.
            if absError.isNaN { maxAbs = .nan; maxRel = .nan; passed = false; continue }
            maxAbs = max(maxAbs, absError)
            maxRel = max(maxRel, tolerance.relativeError(analytic: a, numeric: n))
            if !tolerance.accepts(analytic: a, numeric: n) { passed = false }
        }
        return GradCheckResult(op: c.op, shape: c.shape, mode: c.mode, comparisons: pairs.count,
                               maxAbsError: maxAbs, maxRelError: maxRel, passed: passed)
    }

    /// Gradients of <seed, f(inputs)> with respect to the inputs needing them (zeros when
    /// none arrived).
    static func analyticGradients(_ c: GradCheckCase, _ inputs: [Tensor], seed: Tensor) -> [[Double]] {
        for x in inputs { x.grad = nil }
        let tape = Tape()
        let y = tape.recording { c.function(inputs) }
        precondition(y.shape == seed.shape, "\(c.op): output shape \(y.shape) changed between calls")
        if y.requiresGrad { tape.backward(y, seed: seed) }
        defer { for x in inputs { x.grad = nil } }
        return inputs.filter(\.requiresGrad).map { x in x.grad?.scalars ?? [Double](repeating: 0, count: x.count) }
    }

    static func evaluate(_ c: GradCheckCase, _ inputs: [Tensor]) -> [Double] {
        c.function(inputs).scalars
    }

    private static func jacobianPairs(_ c: GradCheckCase, _ inputs: [Tensor], _ eps: Double) -> [(Double, Double)] {
        let outputCount = evaluate(c, inputs).count
        let outShape = c.function(inputs).shape
        // Analytic Jacobian, one output row at a time: rows[o][input][element].
        var rows: [[[Double]]] = []
        for o in 0..<outputCount {
            var oneHot = [Double](repeating: 0, count: outputCount)
            oneHot[o] = 1
            rows.append(analyticGradients(c, inputs, seed: Tensor(shape: outShape, scalars: oneHot, dtype: .float64)))
        }
        var pairs: [(Double, Double)] = []
        for (slot, x) in inputs.filter(\.requiresGrad).enumerated() {
            let p = x.pointer(Double.self)
            for j in 0..<x.count {
                let saved = p[j]
                p[j] = saved + eps
                let plus = evaluate(c, inputs)
                p[j] = saved - eps
                let minus = evaluate(c, inputs)
                p[j] = saved
                for o in 0..<outputCount {
                    pairs.append((rows[o][slot][j], (plus[o] - minus[o]) / (2 * eps)))
                }
            }
        }
        return pairs
    }

    private static func directionalPairs(
        _ c: GradCheckCase, _ inputs: [Tensor], _ eps: Double, _ rng: inout RandomState
    ) -> [(Double, Double)] {
        let differentiable = inputs.filter(\.requiresGrad)
        let outShape = c.function(inputs).shape
        let outputCount = outShape.reduce(1, *)
        var pairs: [(Double, Double)] = []
        for _ in 0..<c.directions {
            let v = (0..<outputCount).map { _ in rng.normal() }
            let u = differentiable.map { x in (0..<x.count).map { _ in rng.normal() } }
            let grads = analyticGradients(c, inputs, seed: Tensor(shape: outShape, scalars: v, dtype: .float64))
            var analytic = 0.0
            for (g, d) in zip(grads, u) { for i in 0..<g.count { analytic += g[i] * d[i] } }
            let saved = differentiable.map(\.scalars)
            func shifted(_ step: Double) -> Double {
                for (k, x) in differentiable.enumerated() {
                    let p = x.pointer(Double.self)
                    for i in 0..<x.count { p[i] = saved[k][i] + step * u[k][i] }
                }
                let y = evaluate(c, inputs)
                return zip(v, y).reduce(0) { $0 + $1.0 * $1.1 }
            }
            let numeric = (shifted(eps) - shifted(-eps)) / (2 * eps)
            for (k, x) in differentiable.enumerated() {
                let p = x.pointer(Double.self)
                for i in 0..<x.count { p[i] = saved[k][i] }
            }
            pairs.append((analytic, numeric))
        }
        return pairs
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
