import CustomOp
import Ops
import Reversible
import TensorCore
import Testing
import Verifier

/// The checks a user's CI runs on an op of their own.
@Suite struct SwishFeedForwardTests {
    /// Gradients against Float64 finite differences, and Float32 against Float64 within the
    /// a-priori rounding bound, in the op's encoder (centred) and decoder (causal) forms.
    @Test func gradcheck() throws {
        let cases = try CandidateOpCatalog.cases(registry: .withSwish).filter { $0.op == "op:swish_ffn" }
        let report = GradCheckReport.run(cases)
        #expect(report.ops.count == 2)
        for row in report.ops {
            let passed = row.passed
            #expect(passed, "\(row.op) \(row.shape): finite-difference error \(row.maxRelError), Float32 \(row.float32.gradientError) of \(row.float32.gradientBound)")
        }
    }

    /// A reversible model holding the op in both stacks: reconstruction and hybrid:1 against
    /// full storage (layer inputs, gradients, a Float64 twin, finite differences, causality,
    /// padding invariance), dropout on.
    @Test func reconstructionMatchesFullStorage() throws {
        let model = ModelConfig(sourceVocabulary: 40, targetVocabulary: 40, embeddingWidth: 8, modelWidth: 24, splits: 2,
                                encoderLayers: 2, decoderLayers: 2, heads: 2, dropout: 0.1,
                                encoderGenotype: [["swish_ffn", "conv3"], ["self_attn", "swish_ffn"]],
                                decoderGenotype: [["swish_ffn", "self_attn"], ["conv3", "swish_ffn"]])
        var setup = VerificationSetup(model: model, modes: [.reconstruction, .hybrid(every: 1)])
        setup.registry = .withSwish
        let summary = try Verification.run(setup)
        let passed = summary.passed
        #expect(passed, "\(summary.text(verbose: false))")
    }
}
