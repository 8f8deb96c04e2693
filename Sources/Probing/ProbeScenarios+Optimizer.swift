import Foundation
import RunFiles
import TensorCore
import Translation

extension ProbeScenarios {
    /// The project's Adam against `ReferenceAdam`, over several steps of random gradients whose
    /// scale changes from step to step. The parameters' largest relative difference is the
    /// metric: rounding alone in Float64, Float32's rounding in Float32.
    static func optimizer(_ parameters: inout JSONObjectReader) throws -> [String: Double] {
        let dtypeName = try parameters.string("dtype") ?? "float64"
        guard let dtype = DType(name: dtypeName) else { throw parameters.error("dtype", "expected float32 or float64, found \"\(dtypeName)\"") }
        let steps = try parameters.int("steps", in: 1...10_000) ?? 6
        let (lr, beta1, beta2, epsilon) = (3e-3, 0.9, 0.98, 1e-8)
        let decay = try parameters.number("weight_decay", in: 0...1, expected: "a weight decay in [0, 1]") ?? 1e-3
        var rng = RandomState(seed: 17)
        let n = 64
        let initial = (0..<n).map { _ in rng.normal() }
        let tensor = Tensor(shape: [n], scalars: initial, dtype: dtype)
        let adam = Adam(learningRate: lr, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: decay)
        var p = tensor.scalars
        var reference = ReferenceAdam(learningRate: lr, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: decay)
        for t in 1...steps {
            let scale = pow(10, Double(t % 3) - 1)
            let g = (0..<n).map { _ in scale * rng.normal() }
            tensor.grad = Tensor(shape: [n], scalars: g, dtype: dtype)
            adam.update([("p", tensor)])
            reference.update("p", &p, gradient: dtype == .float32 ? g.map { Double(Float($0)) } : g)
        }
        let got = tensor.scalars
        let difference = zip(got, p).map { abs($0 - $1) }.max() ?? .nan
        let movement = zip(p, initial).map { abs($0 - $1) }.max() ?? .nan
        return ["max_abs_difference": difference, "max_movement": movement,
                "relative_difference": difference / movement]
    }
}
