import TensorCore

/// A case's Float32 forward and backward against its Float64 forward and backward on the
/// same inputs and cotangent (both hold Float32-representable values). Every other
/// numerical reference runs in Float64, so this is what proves the Float32 branch of each
/// kernel: a bug there makes Float32 differ from Float64 far beyond rounding.
///
/// Bound, per output tensor (the forward output, each input's gradient), on the relative
/// Frobenius error: k · u · max(1, κ). u = 2⁻²⁴ is Float32's unit roundoff; k (the case's
/// `roundings`) is the number of roundings on the longest chain of the computation, so
/// k · u is the worst-case relative error of a backward-stable computation; κ is the
/// condition of the Float64 computation, measured: the relative change of its output under
/// random relative perturbations ±u of every input and of the cotangent, divided by u. κ
/// carries cancellation (a - b with a ≈ b, the mean subtracted in layer norm) that no fixed
/// constant could; a Float32-only bug does not change it, because it is measured in Float64.
public struct Float32Comparison: Sendable, Codable {
    /// Float32's unit roundoff.
    public static let unitRoundoff = 0x1p-24

    public let roundings: Int
    /// ||y₃₂ - y₆₄|| / ||y₆₄||, its measured κ and its bound.
    public let forwardError: Double
    public let forwardCondition: Double
    public let forwardBound: Double
    /// The same for the input gradient closest to (or furthest over) its bound.
    public let gradientError: Double
    public let gradientCondition: Double
    public let gradientBound: Double
    public let passed: Bool

    enum CodingKeys: String, CodingKey {
        case roundings, passed
        case forwardError = "forward_error", forwardCondition = "forward_condition", forwardBound = "forward_bound"
        case gradientError = "gradient_error", gradientCondition = "gradient_condition", gradientBound = "gradient_bound"
    }

    static func measure(double: GradCheckInstance, single: GradCheckInstance, roundings: Int,
                        rng: inout RandomState) -> Float32Comparison {
        let u = unitRoundoff
        let out = GradCheck.evaluate(double)
        let y64 = out.scalars
        let v = (0..<out.count).map { _ in Double(Float(rng.normal())) }
        let g64 = GradCheck.analyticGradients(double, seed: Tensor(shape: out.shape, scalars: v, dtype: .float64))
        let y32 = GradCheck.evaluate(single).scalars
        let g32 = GradCheck.analyticGradients(single, seed: Tensor(shape: out.shape, scalars: v, dtype: .float32))

        // κ: two random-sign perturbations of relative size u, in Float64.
        var forwardCondition = 0.0
        var gradientConditions = [Double](repeating: 0, count: g64.count)
        for _ in 0..<2 {
            let saved = double.inputs.map(\.scalars)
            for x in double.inputs {
                let p = x.pointer(Double.self)
                for i in 0..<x.count where p[i].isFinite { p[i] *= 1 + (rng.next() & 1 == 0 ? u : -u) }
            }
            let vPerturbed = v.map { $0 * (1 + (rng.next() & 1 == 0 ? u : -u)) }
            let y = GradCheck.evaluate(double).scalars
            let g = GradCheck.analyticGradients(double, seed: Tensor(shape: out.shape, scalars: vPerturbed, dtype: .float64))
            for (x, values) in zip(double.inputs, saved) { x.assign(values) }
            forwardCondition = max(forwardCondition, relativeError(y, y64) / u)
            for k in g.indices { gradientConditions[k] = max(gradientConditions[k], relativeError(g[k], g64[k]) / u) }
        }
        let k = Double(roundings)
        let forwardError = relativeError(y32, y64)
        let forwardBound = k * u * max(1, forwardCondition)
        var worst = (error: 0.0, condition: 0.0, bound: k * u, ratio: -1.0)
        for i in g64.indices {
            let error = relativeError(g32[i], g64[i])
            let bound = k * u * max(1, gradientConditions[i])
            let ratio = error.isNaN ? .infinity : error / bound
            if ratio > worst.ratio { worst = (error, gradientConditions[i], bound, ratio) }
        }
        let passed = forwardError <= forwardBound && worst.ratio <= 1
        return Float32Comparison(roundings: roundings, forwardError: forwardError, forwardCondition: forwardCondition,
                                 forwardBound: forwardBound, gradientError: worst.error, gradientCondition: worst.condition,
                                 gradientBound: worst.bound, passed: passed)
    }

    /// ||a - b|| / ||b|| over finite entries (equal infinities agree; any other non-finite
    /// difference is infinite or NaN); for b = 0 exactly, 0 if a is 0 too, else infinity (a
    /// Float32 result where Float64 has an exact zero is never rounding).
    static func relativeError(_ a: [Double], _ b: [Double]) -> Double {
        var diff = 0.0, norm = 0.0
        for i in b.indices {
            if b[i].isFinite { norm += b[i] * b[i] }
            if a[i] == b[i] { continue }
            let d = a[i] - b[i]
            if !d.isFinite { return d.isNaN ? .nan : .infinity }
            diff += d * d
        }
        if norm > 0 { return (diff / norm).squareRoot() }
        return diff == 0 ? 0 : .infinity
    }
}
