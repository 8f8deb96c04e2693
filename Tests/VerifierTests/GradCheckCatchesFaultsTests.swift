import Testing
import TensorCore
import Verifier

/// The checker must be able to fail: each case below has a deliberately wrong backward.
@Suite struct GradCheckCatchesFaultsTests {
    /// y = x³ whose recorded backward returns `wrongFactor` · 3x² · dy (in Float32 only
    /// when `float32Only`: a bug in one dtype's branch of a kernel).
    static func cube(_ x: Tensor, wrongFactor: Double, float32Only: Bool = false) -> Tensor {
        let factor = float32Only && x.dtype == .float64 ? 1 : wrongFactor
        let square = x.scalars.map { $0 * $0 }
        let y = Tensor(shape: x.shape, scalars: zip(square, x.scalars).map { $0 * $1 }, dtype: x.dtype)
        recordOperation(outputs: [y], inputs: [x]) { grads in
            let dy = grads[0]!.scalars
            return [Tensor(shape: x.shape, scalars: zip(dy, square).map { factor * 3 * $0 * $1 }, dtype: x.dtype)]
        }
        return y
    }

    static func cubeCase(_ factor: Double, _ mode: GradCheckMode, float32Only: Bool = false) -> GradCheckCase {
        GradCheckCase(op: "cube", shape: "x[3,4]", mode: mode, roundings: 4,
                      inputs: { rng in
                          let t = Tensor(randomNormal: [3, 4], dtype: .float64, rng: &rng)
                          t.requiresGrad = true
                          return [t]
                      },
                      function: { cube($0[0], wrongFactor: factor, float32Only: float32Only) })
    }

    @Test(arguments: [GradCheckMode.jacobian, .directional])
    func correctBackwardPasses(_ mode: GradCheckMode) {
        #expect(GradCheck.run(Self.cubeCase(1, mode)).passed)
    }

    @Test(arguments: [GradCheckMode.jacobian, .directional])
    func wrongBackwardIsRejected(_ mode: GradCheckMode) {
        let result = GradCheck.run(Self.cubeCase(1.01, mode))
        #expect(!result.passed)
        #expect(result.maxAbsError > 1e-5)
    }

    /// A Float32-only backward 0.1% off: Float64 finite differences cannot see it (they run
    /// in Float64); the Float32-against-Float64 comparison must.
    @Test(arguments: [GradCheckMode.jacobian, .directional])
    func float32OnlyBackwardErrorIsRejected(_ mode: GradCheckMode) {
        let result = GradCheck.run(Self.cubeCase(1.001, mode, float32Only: true))
        #expect(result.finiteDifferencesPassed)
        #expect(!result.float32.passed)
        #expect(result.float32.gradientError > result.float32.gradientBound)
        #expect(result.float32.forwardError <= result.float32.forwardBound)
        #expect(!result.passed)
    }

    @Test func missingGradientIsRejected() {
        // A backward that drops its gradient (returns nil) must not look like a zero Jacobian.
        let c = GradCheckCase(op: "dropped", shape: "x[4]", mode: .jacobian, roundings: 2,
                              inputs: { rng in
                                  let t = Tensor(randomNormal: [4], dtype: .float64, rng: &rng)
                                  t.requiresGrad = true
                                  return [t]
                              },
                              function: { x in
                                  let y = scale(x[0].detached(), 2)
                                  recordOperation(outputs: [y], inputs: [x[0]]) { _ in [nil] }
                                  return y
                              })
        #expect(!GradCheck.run(c).passed)
    }
}
