import Foundation
import TensorCore

/// Adam (Kingma & Ba) with optional L2 weight decay added to the gradient, as PyTorch's
/// `Adam(weight_decay=)` does. Moments are allocated as `optimizer_state`, lazily, in the
/// parameters' dtype; updates run in place on the parameters.
public final class Adam {
    public var learningRate: Double
    public let beta1: Double
    public let beta2: Double
    public let epsilon: Double
    public let weightDecay: Double
    public private(set) var step = 0
    /// First and second moments by parameter name.
    public private(set) var moments: [String: (m: Tensor, v: Tensor)] = [:]

    public init(learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.98, epsilon: Double = 1e-8, weightDecay: Double = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// One update of every parameter that has a gradient.
    public func update(_ parameters: [(name: String, tensor: Tensor)]) {
        step += 1
        let correction1 = 1 - pow(beta1, Double(step)), correction2 = 1 - pow(beta2, Double(step))
        let stepSize = learningRate / correction1
        Runtime.current.withPhase(.update) {
            for (name, p) in parameters {
                guard let g = p.grad else { continue }
                let state = moments[name] ?? (Tensor(zeros: p.shape, dtype: p.dtype, category: .optimizerState),
                                               Tensor(zeros: p.shape, dtype: p.dtype, category: .optimizerState))
                moments[name] = state
                guard p.holdsValues && g.holdsValues else { continue }
                switch p.dtype {
                case .float32:
                    adamKernel(p.pointer(Float.self), g.pointer(Float.self), state.m.pointer(Float.self), state.v.pointer(Float.self),
                               p.count, Float(beta1), Float(beta2), Float(stepSize), Float(correction2.squareRoot()), Float(epsilon), Float(weightDecay))
                case .float64:
                    adamKernel(p.pointer(Double.self), g.pointer(Double.self), state.m.pointer(Double.self), state.v.pointer(Double.self),
                               p.count, beta1, beta2, stepSize, correction2.squareRoot(), epsilon, weightDecay)
                }
            }
        }
    }

    /// Restores a saved state (checkpoints).
    public func restore(step: Int, moments: [String: (m: Tensor, v: Tensor)]) {
        self.step = step
        self.moments = moments
    }
}

private func adamKernel<S: TensorScalar>(
    _ p: UnsafeMutablePointer<S>, _ g: UnsafeMutablePointer<S>, _ m: UnsafeMutablePointer<S>, _ v: UnsafeMutablePointer<S>,
    _ n: Int, _ beta1: S, _ beta2: S, _ stepSize: S, _ sqrtCorrection2: S, _ epsilon: S, _ decay: S
) {
    for i in 0..<n {
        let grad = g[i] + decay * p[i]
        m[i] = beta1 * m[i] + (1 - beta1) * grad
        v[i] = beta2 * v[i] + (1 - beta2) * grad * grad
        p[i] -= stepSize * m[i] / (v[i].squareRoot() / sqrtCorrection2 + epsilon)
    }
}

/// The Transformer's learning-rate schedule: linear warm-up to `peak`, then decay with the
/// inverse square root of the step.
public struct InverseSquareRootSchedule: Sendable, Codable {
    public let peak: Double
    public let warmup: Int

    public init(peak: Double, warmup: Int) { self.peak = peak; self.warmup = warmup }

    public func rate(atStep step: Int) -> Double {
        let s = Double(max(step, 1)), w = Double(max(warmup, 1))
        return peak * min(s / w, (w / s).squareRoot())
    }
}

/// Scales all gradients so their global L2 norm is at most `maxNorm`; returns the norm before.
/// A shape-only dry run has no norm to compare: it takes the branch that allocates (every
/// gradient scaled into a fresh tensor), so a memory plan never predicts less than a run uses.
@discardableResult
public func clipGradientNorm(_ parameters: [(name: String, tensor: Tensor)], maxNorm: Double) -> Double {
    var total = 0.0, shapeOnly = false
    for (_, p) in parameters {
        guard let g = p.grad else { continue }
        guard g.holdsValues else { shapeOnly = true; continue }
        switch g.dtype {
        case .float32: let q = g.pointer(Float.self); for i in 0..<g.count { total += Double(q[i]) * Double(q[i]) }
        case .float64: let q = g.pointer(Double.self); for i in 0..<g.count { total += q[i] * q[i] }
        }
    }
    let norm = total.squareRoot()
    if maxNorm > 0 && (norm > maxNorm || shapeOnly) {
        let factor = shapeOnly ? 1 : maxNorm / norm
        for (_, p) in parameters {
            guard let g = p.grad else { continue }
            p.grad = Runtime.current.withTape(nil) { Runtime.current.withCategory(.gradient) { scale(g, factor) } }
        }
    }
    return norm
}
