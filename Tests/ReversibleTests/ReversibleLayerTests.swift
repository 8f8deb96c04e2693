import Ops
import Reversible
import TensorCore
import Testing

@Suite struct ReversibleLayerTests {
    static func layer(splits: Int, causal: Bool = false, ops: [String] = ["conv3", "ffn", "identity"]) throws -> ReversibleLayer {
        var rng = RandomState(seed: 5)
        let spec = OpSpec(channels: 6, modelWidth: 6 * splits, heads: 2, causal: causal, dtype: .float64)
        let nodes = try (0..<splits).map { _ in
            try NodeFunction(opNames: ops, pooling: .mean, spec: spec, registry: .standard, rng: &rng)
        }
        return ReversibleLayer(name: "layer1", functions: nodes)
    }

    /// The inverse rebuilds the input from the output to Float64 rounding, for n = 2..4.
    @Test(arguments: [2, 3, 4])
    func inverseRebuildsTheInput(splits: Int) throws {
        let layer = try Self.layer(splits: splits)
        var rng = RandomState(seed: 9)
        let x = Tensor(randomNormal: [2, 5, 6 * splits], dtype: .float64, rng: &rng)
        let contexts = Array(repeating: OpContext(), count: splits)
        let y = layer.forward(x, contexts)
        let dy = Tensor(randomNormal: y.shape, dtype: .float64, rng: &rng)
        let result = layer.backward(output: y, gradient: dy, contexts)
        let error = zip(result.input.scalars, x.scalars).map { abs($0 - $1) }.max()!
        #expect(error < 1e-12)
        #expect(result.inputSplits.count == splits)
    }

    /// dX and parameter gradients from reconstruction equal those of ordinary backprop.
    @Test(arguments: [2, 3])
    func reconstructionGradientsEqualFullBackprop(splits: Int) throws {
        let layer = try Self.layer(splits: splits)
        var rng = RandomState(seed: 11)
        let x = Tensor(randomNormal: [2, 4, 6 * splits], dtype: .float64, rng: &rng)
        x.requiresGrad = true
        let contexts = Array(repeating: OpContext(), count: splits)
        let tape = Tape()
        let y = tape.recording { layer.forward(x, contexts) }
        let dy = Tensor(randomNormal: y.shape, dtype: .float64, rng: &rng)
        tape.backward(y, seed: dy)
        let fullInputGradient = x.grad!.scalars
        let fullParameterGradients = layer.parameters.map { $0.tensor.grad?.scalars ?? [] }
        for p in layer.parameters { p.tensor.grad = nil }
        let result = layer.backward(output: y.detached(), gradient: dy, contexts)
        let inputError = zip(result.inputGradient.scalars, fullInputGradient).map { abs($0 - $1) }.max()!
        #expect(inputError < 1e-12)
        for (p, full) in zip(layer.parameters, fullParameterGradients) {
            let rebuilt = p.tensor.grad?.scalars ?? []
            #expect(rebuilt.count == full.count, "\(p.name)")
            let error = zip(rebuilt, full).map { abs($0 - $1) }.max() ?? 0
            #expect(error < 1e-12, "\(p.name)")
        }
    }

    /// A normalised mixture is sum_o softmax(alpha)_o LayerNorm(o(H)), no gain or bias, eps
    /// `Mixture.epsilon`: recomputed here from each op's own output, position by position
    /// (zero stays zero); H has standard deviation 3, so identity's output is shrunk.
    @Test func normalisedMixtureWeighsEachOpsNormalisedOutput() throws {
        let spec = OpSpec(channels: 6, modelWidth: 12, heads: 2, causal: false, dtype: .float64, wrap: .preNorm)
        let ops = ["conv3", "ffn", "identity", "zero"]
        func node(_ mixture: Mixture) throws -> NodeFunction {
            var rng = RandomState(seed: 3)
            return try NodeFunction(opNames: ops, pooling: .mean, mixture: mixture, spec: spec, registry: .standard, rng: &rng)
        }
        let normalised = try node(.normalised), plain = try node(.plain)
        var rng = RandomState(seed: 4)
        let h = Tensor(randomNormal: [2, 5, 6], std: 3, dtype: .float64, rng: &rng)
        let weights = try #require(normalised.weights)
        var expected = [Double](repeating: 0, count: h.count), unnormalised = expected
        for (op, weight) in zip(normalised.ops, weights) {
            let out = op.forward(h, OpContext()).scalars
            for row in stride(from: 0, to: out.count, by: 6) {
                let x = out[row..<row + 6]
                let mean = x.reduce(0, +) / 6
                let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 6
                for (j, value) in x.enumerated() {
                    expected[row + j] += weight * (value - mean) / (variance + Mixture.epsilon).squareRoot()
                    unnormalised[row + j] += weight * value
                }
            }
        }
        let mixed = normalised([h], OpContext()).scalars
        #expect(zip(mixed, expected).map { abs($0 - $1) }.max()! < 1e-12)
        #expect(zip(plain([h], OpContext()).scalars, unnormalised).map { abs($0 - $1) }.max()! < 1e-12, "same weights, plain sum")
        #expect(zip(mixed, unnormalised).map { abs($0 - $1) }.max()! > 0.1, "the normaliser changes the sum")
    }

    @Test func modeNamesParse() {
        #expect(BackpropMode("full") == .full)
        #expect(BackpropMode("reconstruction") == .reconstruction)
        #expect(BackpropMode("hybrid:3") == .hybrid(every: 3))
        #expect(BackpropMode("hybrid:0") == nil)
        #expect(BackpropMode("hybrid") == nil)
    }
}
