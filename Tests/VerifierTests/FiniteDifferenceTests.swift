import Reversible
import TensorCore
import Testing
import Verifier

/// Per-tensor finite differences see a 1% error in any single tensor's gradient: scaled,
/// missing, or orthogonal to the true gradient.
@Suite struct FiniteDifferenceTests {
    static let config = ModelConfig(sourceVocabulary: 20, targetVocabulary: 20, embeddingWidth: 8, modelWidth: 24, splits: 2,
                                    encoderLayers: 2, decoderLayers: 2, heads: 2, pooling: .max, dropout: 0.1, dtype: .float64)

    /// The check on the tensors `names` after `corrupt` has changed their computed gradients.
    static func check(_ corrupt: (Tensor, inout RandomState) -> Void) throws -> [String: Bool] {
        let model = try ReversibleTransformer(config)
        let batch = SyntheticBatch.make(config: config, batchSize: 3, sourceLength: 7, targetLength: 6, seed: 4)
        model.zeroGradients()
        model.trainingStep(batch, mode: .reconstruction, dropoutKey: 9)
        var rng = RandomState(seed: 11)
        let chosen = ["encoder.layer1.split1.ffn.fc1.bias", "decoder.layer2.split3.cross_attn.v_proj.weight",
                      "encoder.layer2.split2.alpha", "decoder.output_norm.weight"]
        for (name, tensor) in model.parameters where chosen.contains(name) { corrupt(tensor, &rng) }
        let rows = FiniteDifferenceCheck.run(model, batch: batch, dropoutKey: 9, seed: 3, only: { chosen.contains($0) })
        var verdict: [String: Bool] = [:]
        for name in chosen { verdict[name] = rows.filter { $0.tensor == name }.allSatisfy(\.passed) && rows.contains { $0.tensor == name } }
        return verdict
    }

    static func modify(_ tensor: Tensor, _ change: ([Double], inout RandomState) -> [Double], _ rng: inout RandomState) {
        let g = tensor.grad!.scalars
        tensor.grad = Tensor(shape: tensor.shape, scalars: change(g, &rng), dtype: .float64)
    }

    @Test func exactGradientsPass() throws {
        #expect(try Self.check { _, _ in }.values.allSatisfy { $0 })
    }

    @Test func onePercentScaleIsCaught() throws {
        #expect(try Self.check { t, rng in Self.modify(t, { g, _ in g.map { $0 * 1.01 } }, &rng) }.values.allSatisfy { !$0 })
    }

    @Test func missingGradientIsCaught() throws {
        #expect(try Self.check { t, rng in Self.modify(t, { g, _ in g.map { _ in 0 } }, &rng) }.values.allSatisfy { !$0 })
    }

    /// An error of 1% of the gradient's norm, orthogonal to it: invisible along ĝ, seen by
    /// the random directions.
    @Test func onePercentOrthogonalErrorIsCaught() throws {
        let verdict = try Self.check { t, rng in
            Self.modify(t, { g, rng in
                let norm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
                var e = g.map { _ in rng.normal() }
                let along = zip(e, g).reduce(0) { $0 + $1.0 * $1.1 } / (norm * norm)
                e = zip(e, g).map { $0 - along * $1 }
                let eNorm = e.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return zip(g, e).map { $0 + 0.01 * norm * $1 / eNorm }
            }, &rng)
        }
        #expect(verdict.values.allSatisfy { !$0 }, "\(verdict)")
    }
}
