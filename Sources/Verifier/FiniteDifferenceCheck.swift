import Foundation
import Reversible
import TensorCore

/// The whole model's loss differentiated numerically in Float64, one parameter tensor at a
/// time, against the gradient the mode under test produces. Per tensor: the direction of
/// its own gradient ĝ (a scaled gradient, a missing term along g) and two random unit
/// directions confined to it (an error orthogonal to g; a gradient that is zero where it
/// should not be: a 1% error orthogonal to g escapes one random direction with
/// probability P(|N(0,1)| < 0.1) = 8%, both 0.6%). Central differences D(h) and D(h/2) give the Richardson value
/// (4 D(h/2) - D(h)) / 3 and a truncation estimate |D(h) - D(h/2)| / 3; the rounding
/// estimate is 64 u₆₄ max(|L|, 1) / h. A direction passes when
///     |analytic - numeric| <= ρ · S + truncation + rounding,
/// S = ||g_t|| along ĝ and ||g_t|| / √n_t along a random unit direction (the size of a
/// random projection of g_t), ρ = 1e-3: a 1% error of one tensor's gradient is ten times
/// over. A step is used only when truncation, rounding and the kink estimate
/// |L(h) - 2L(0) + L(-h)| / 2h (exactly the central difference's error when a ReLU's kink
/// lies inside the step) each stay under ρ·S / 8; otherwise the next step of
/// `stepFactors` is tried, a random direction that none resolves is redrawn, and a tensor
/// left without a resolved direction fails.
public enum FiniteDifferenceCheck {
    public static let relativeTolerance = 1e-3
    /// Steps tried in turn, times max(1, rms θ_t): small first (fewer kinks inside), then
    /// larger for tensors whose tiny gradient drowns in rounding, then smaller again.
    static let stepFactors = [1e-5, 1e-6, 1e-4, 1e-7]

    public struct Direction: Sendable, Codable {
        public let tensor: String
        /// "gradient" or "random".
        public let along: String
        public let analytic: Double
        public let numeric: Double
        public let step: Double
        public let truncation: Double
        public let rounding: Double
        /// ρ · S + truncation + rounding.
        public let allowed: Double
        public let error: Double
        public let passed: Bool

        enum CodingKeys: String, CodingKey {
            case tensor, along, analytic, numeric, step, truncation, rounding, allowed, error, passed
        }

        /// |analytic - numeric| / allowed: under 1 passes.
        public var fraction: Double { allowed > 0 ? error / allowed : (error == 0 ? 0 : .infinity) }
    }

    /// Every tensor of `model` (Float64), whose gradients of the batch's loss under `mode`
    /// have just been computed into `grad`. `only` restricts the tensors (by name).
    public static func run(_ model: ReversibleTransformer, batch: Seq2SeqBatch, dropoutKey: UInt64, seed: UInt64,
                           only: ((String) -> Bool)? = nil) -> [Direction] {
        run(parameters: model.parameters, gradients: gradients(of: model.parameters), seed: seed, only: only) {
            model.evaluateLoss(batch, dropoutKey: dropoutKey, training: true)
        }
    }

    /// The tensors' accumulated gradients (zeros where none arrived).
    public static func gradients(of parameters: [(name: String, tensor: Tensor)]) -> [[Double]] {
        parameters.map { $0.tensor.grad?.scalars ?? [Double](repeating: 0, count: $0.tensor.count) }
    }

    /// Every Float64 tensor of `parameters` against `gradients` (the analytic gradient of
    /// `loss`, evaluated at the tensors' current values, one array per tensor); `center`, when
    /// given, is the loss at the current point.
    public static func run(parameters: [(name: String, tensor: Tensor)], gradients: [[Double]], seed: UInt64,
                           only: ((String) -> Bool)? = nil, center given: Double? = nil, loss evaluate: () -> Double) -> [Direction] {
        precondition(parameters.allSatisfy { $0.tensor.dtype == .float64 }, "finite differences run in Float64")
        let center = given ?? evaluate()
        let rounding = 64 * Double.ulpOfOne / 2 * max(abs(center), 1)
        var rng = RandomState(seed: seed ^ 0xfd)
        var rows: [Direction] = []
        for ((name, tensor), g) in zip(parameters, gradients) where only?(name) ?? true {
            let gNorm = norm(g)
            let theta = tensor.scalars
            let stepScale = max(1, norm(theta) / Double(theta.count).squareRoot())
            let p = tensor.pointer(Double.self)
            func loss(_ u: [Double], _ h: Double) -> Double {
                for i in theta.indices { p[i] = theta[i] + h * u[i] }
                return evaluate()
            }
            /// The first resolved estimate along u, or nil.
            func measure(_ u: [Double], along: String, scale: Double) -> Direction? {
                let analytic = zip(g, u).reduce(0) { $0 + $1.0 * $1.1 }
                let budget = relativeTolerance * scale / 8
                for factor in stepFactors {
                    let h = factor * stepScale
                    let (plus, minus) = (loss(u, h), loss(u, -h))
                    let wide = (plus - minus) / (2 * h)
                    let narrow = (loss(u, h / 2) - loss(u, -h / 2)) / h
                    let truncation = abs(wide - narrow) / 3
                    // Half the second difference over h: a smooth f gives h·f''/2; a ReLU
                    // whose kink lies within the step gives the central difference's error.
                    let kink = abs(plus - 2 * center + minus) / (2 * h)
                    let roundingError = 2 * rounding / h
                    if scale == 0 || (truncation <= budget && kink <= budget && roundingError <= budget) {
                        let numeric = (4 * narrow - wide) / 3
                        let allowed = relativeTolerance * scale + truncation + roundingError
                        let error = abs(analytic - numeric)
                        return Direction(tensor: name, along: along, analytic: analytic, numeric: numeric, step: h,
                                         truncation: truncation, rounding: roundingError, allowed: allowed, error: error,
                                         passed: error <= allowed)
                    }
                }
                return nil
            }
            defer { for i in theta.indices { p[i] = theta[i] } }
            var resolved = 0
            if gNorm > 0, let row = measure(g.map { $0 / gNorm }, along: "gradient", scale: gNorm) {
                rows.append(row)
                resolved += 1
            }
            var randomRows = 0, attempts = 0
            while randomRows < 2 && attempts < 4 {
                attempts += 1
                var u = (0..<theta.count).map { _ in rng.normal() }
                let uNorm = norm(u)
                u = u.map { $0 / uNorm }
                if let row = measure(u, along: "random", scale: gNorm / Double(theta.count).squareRoot()) {
                    rows.append(row)
                    randomRows += 1
                }
            }
            resolved += randomRows
            if resolved == 0 {
                rows.append(Direction(tensor: name, along: "unresolved", analytic: gNorm, numeric: .nan, step: stepScale * stepFactors[0],
                                      truncation: .nan, rounding: 2 * rounding / (stepScale * stepFactors[0]), allowed: 0, error: .nan,
                                      passed: false))
            }
        }
        return rows
    }

    static func norm(_ values: [Double]) -> Double {
        values.reduce(0) { $0 + $1 * $1 }.squareRoot()
    }
}
