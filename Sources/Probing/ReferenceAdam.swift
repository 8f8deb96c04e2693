import Foundation

/// Kingma & Ba's Adam written from the paper, on Double arrays, with L2 weight decay added
/// to the gradient as PyTorch's `Adam(weight_decay=)` does: the independent reference the
/// `optimizer` and `search-step` probes hold the project's optimizer and search step to.
/// It shares no code with `Translation.Adam`, so a fault in one is not repeated in the other.
struct ReferenceAdam {
    let learningRate: Double
    let beta1: Double
    let beta2: Double
    let epsilon: Double
    let weightDecay: Double
    private var moments: [String: (m: [Double], v: [Double])] = [:]
    private var steps: [String: Int] = [:]

    init(learningRate: Double, beta1: Double, beta2: Double, epsilon: Double = 1e-8, weightDecay: Double = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// One step of the parameter `name` with gradient `g`, at learning rate `rate` (the
    /// schedule's, or the constant one).
    mutating func update(_ name: String, _ p: inout [Double], gradient g: [Double], rate: Double? = nil) {
        var (m, v) = moments[name] ?? ([Double](repeating: 0, count: p.count), [Double](repeating: 0, count: p.count))
        let t = (steps[name] ?? 0) + 1
        let lr = rate ?? learningRate
        for i in p.indices {
            let gi = g[i] + weightDecay * p[i]
            m[i] = beta1 * m[i] + (1 - beta1) * gi
            v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
            let mHat = m[i] / (1 - pow(beta1, Double(t))), vHat = v[i] / (1 - pow(beta2, Double(t)))
            p[i] -= lr * mHat / (vHat.squareRoot() + epsilon)
        }
        moments[name] = (m, v)
        steps[name] = t
    }
}
