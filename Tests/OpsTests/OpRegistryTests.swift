import Ops
import Reversible
import TensorCore
import Verifier
import Testing

/// A candidate op defined here, outside the core modules: out = H * scale (one parameter).
final class ScaledIdentity: CandidateOp {
    let factor: Tensor
    init(_ spec: OpSpec) { factor = .parameter(filled: 0.5, shape: [spec.channels], dtype: spec.dtype) }
    var parameters: [(name: String, tensor: Tensor)] { [("factor", factor)] }
    func forward(_ h: Tensor, _ context: OpContext) -> Tensor { mul(h, factor) }
}

/// A plugin with a bug: it returns [B, T, 2c] (its two halves concatenated, never projected back).
final class DoublingOp: CandidateOp {
    var parameters: [(name: String, tensor: Tensor)] { [] }
    func forward(_ h: Tensor, _ context: OpContext) -> Tensor { concat([h, h]) }
}

@Suite struct OpRegistryTests {
    /// A wrong plugin is an error naming it and both shapes, at build time, in the registry
    /// and in a model built from it: never a trap inside a layer.
    @Test func anOpReturningTheWrongShapeIsAnErrorNamingIt() throws {
        var registry = OpRegistry.standard
        registry.register("doubling", wrapped: true) { _, _ in DoublingOp() }
        var rng = RandomState(seed: 4)
        let spec = OpSpec(channels: 8, modelWidth: 16, heads: 2, causal: false, dtype: .float32)
        do { _ = try registry.make("doubling", spec: spec, rng: &rng); Issue.record("built a wrong op") } catch {
            #expect("\(error)" == "op 'doubling': given h [2, 3, 8] it returned [2, 3, 16]; a candidate op must return its input's shape [B, T, c] and dtype")
        }
        var config = ModelConfig(sourceVocabulary: 20, targetVocabulary: 20, embeddingWidth: 8, modelWidth: 24, splits: 2,
                                 encoderLayers: 1, decoderLayers: 1, heads: 2)
        config.encoderOps = ["conv3", "doubling"]
        #expect(throws: OpError.self) { _ = try ReversibleTransformer(config, registry: registry) }
        #expect(throws: OpError.self) { _ = try CandidateOpCatalog.cases(registry: registry) }
    }

    @Test func standardRegistryHoldsTheFourteenOps() {
        let registry = OpRegistry.standard
        #expect(registry.names == ["conv3", "conv5", "conv7", "conv11", "dynconv3", "dynconv7", "dynconv11", "dynconv15",
                                   "self_attn", "cross_attn", "glu", "ffn", "zero", "identity"])
        #expect(registry.candidates(decoder: false).count == 13)
        #expect(registry.candidates(decoder: true).count == 14)
    }

    @Test func parameterCountsMatchTheDesignTable() throws {
        let (c, d, h) = (16, 32, 2)
        let spec = OpSpec(channels: c, modelWidth: d, heads: h, causal: false, dtype: .float64)
        var rng = RandomState(seed: 1)
        let registry = OpRegistry.standard
        let expected: [String: Int] = [
            "conv3": 3 * c * c + c, "conv11": 11 * c * c + c, "dynconv7": 2 * c * c + c * h * 7 + c * c,
            "self_attn": 4 * c * c, "cross_attn": 2 * c * c + 2 * d * c, "glu": 2 * c * c + 2 * c,
            "ffn": 8 * c * c + 5 * c, "zero": 0, "identity": 0,
        ]
        for (name, count) in expected {
            let op = try registry.make(name, spec: spec, rng: &rng)
            let norm = registry.entries[name]!.wrapped ? 2 * c : 0
            #expect(op.parameters.map(\.tensor.count).reduce(0, +) == count + norm, "\(name)")
        }
    }

    @Test func everyOpMapsTheSplitWidthToItself() throws {
        let spec = OpSpec(channels: 8, modelWidth: 16, heads: 2, causal: true, dtype: .float32)
        var rng = RandomState(seed: 2)
        let h = Tensor(randomNormal: [2, 5, 8], dtype: .float32, rng: &rng)
        let memory = Tensor(randomNormal: [2, 4, 16], dtype: .float32, rng: &rng)
        for name in OpRegistry.standard.names {
            let op = try OpRegistry.standard.make(name, spec: spec, rng: &rng)
            let out = op.forward(h, OpContext(memory: memory))
            #expect(out.shape == [2, 5, 8], "\(name)")
            #expect(out.scalars.allSatisfy { $0.isFinite }, "\(name)")
        }
    }

    @Test func unknownOpNamesTheRegisteredOnes() {
        var rng = RandomState(seed: 3)
        let spec = OpSpec(channels: 8, modelWidth: 16, heads: 2, causal: false, dtype: .float32)
        #expect(throws: OpError.self) { _ = try OpRegistry.standard.make("conv4", spec: spec, rng: &rng) }
    }

    @Test func anOpRegisteredOutsideTheCoreRunsInALayer() throws {
        var registry = OpRegistry.standard
        registry.register("scaled_identity") { spec, _ in ScaledIdentity(spec) }
        var config = ModelConfig(sourceVocabulary: 12, targetVocabulary: 12, embeddingWidth: 4, modelWidth: 12, splits: 2,
                                 encoderLayers: 1, decoderLayers: 1, heads: 2, dropout: 0, dtype: .float64)
        config.encoderOps = ["scaled_identity", "conv3"]
        config.decoderOps = ["scaled_identity", "self_attn"]
        let model = try ReversibleTransformer(config, registry: registry)
        let names = model.parameters.map(\.name)
        #expect(names.contains("encoder.layer1.split1.scaled_identity.factor"))
        #expect(names.contains("encoder.layer1.split1.scaled_identity.norm.weight"), "wrapped as LayerNorm(H + o(H))")
        let batch = Seq2SeqBatch(source: [[3, 4, 5]], targetInput: [[1, 6, 7]], targetOutput: [[6, 7, 2]], padID: 0)
        model.trainingStep(batch, mode: .reconstruction, dropoutKey: 1)
        let factor = model.parameters.first { $0.name == "encoder.layer1.split1.scaled_identity.factor" }!.tensor
        #expect(factor.grad != nil && factor.grad!.scalars.contains { $0 != 0 }, "the plugin's weight gets a gradient")
    }
}
