import Ops
import Reversible
import TensorCore
import Testing
import Verifier

/// Padding invariance fails for an op that lets another sentence, or padding, into a
/// sentence's outputs, and passes for the standard ops.
@Suite struct PaddingInvarianceTests {
    /// A user op mixing positions with a constant averaging matrix: across the batch (every
    /// sentence sees the others) or across time without the padding mask.
    final class MixingOp: CandidateOp {
        let acrossBatch: Bool
        init(acrossBatch: Bool) { self.acrossBatch = acrossBatch }
        var parameters: [(name: String, tensor: Tensor)] { [] }

        func forward(_ h: Tensor, _ context: OpContext) -> Tensor {
            let (b, t, c) = (h.shape[0], h.shape[1], h.shape[2])
            if acrossBatch {
                let average = Tensor(repeating: 1 / Double(b), shape: [b, b], dtype: h.dtype)
                return add(h, reshape(matmul(average, reshape(h, [b, t * c])), [b, t, c]))
            }
            let average = Tensor(repeating: 1 / Double(t), shape: [t, t], dtype: h.dtype)
            return add(h, transpose(matmul(transpose(h, 1, 2), average), 1, 2))
        }
    }

    static func result(extra: String?) throws -> PaddingInvariance.Result {
        var registry = OpRegistry.standard
        registry.register("batch_mix", wrapped: false) { _, _ in MixingOp(acrossBatch: true) }
        registry.register("time_mix", wrapped: false) { _, _ in MixingOp(acrossBatch: false) }
        let ops = ["ffn", "self_attn"] + (extra.map { [$0] } ?? [])
        let config = ModelConfig(sourceVocabulary: 20, targetVocabulary: 20, embeddingWidth: 8, modelWidth: 24, splits: 2,
                                 encoderLayers: 2, decoderLayers: 2, heads: 2, dropout: 0, dtype: .float64,
                                 encoderOps: ops, decoderOps: ops)
        let model = try ReversibleTransformer(config, registry: registry)
        let batch = SyntheticBatch.make(config: config, batchSize: 4, sourceLength: 6, targetLength: 5, seed: 3)
        return PaddingInvariance.run(model, batch: batch, mode: .reconstruction, limit: 1e-10, floorFraction: 1e-3)
    }

    @Test func standardOpsAreInvariant() throws {
        let r = try Self.result(extra: nil)
        #expect(r.passed, "logits \(r.maxLogitError), gradients \(r.maxGradientError)")
    }

    @Test(arguments: ["batch_mix", "time_mix"])
    func mixingOpIsCaught(_ op: String) throws {
        let r = try Self.result(extra: op)
        #expect(!r.passed)
        #expect(r.maxLogitError > 1e-6 && r.maxGradientError > 1e-6, "logits \(r.maxLogitError), gradients \(r.maxGradientError)")
    }
}
