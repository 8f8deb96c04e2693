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

    @Test func modeNamesParse() {
        #expect(BackpropMode("full") == .full)
        #expect(BackpropMode("reconstruction") == .reconstruction)
        #expect(BackpropMode("hybrid:3") == .hybrid(every: 3))
        #expect(BackpropMode("hybrid:0") == nil)
        #expect(BackpropMode("hybrid") == nil)
    }
}
