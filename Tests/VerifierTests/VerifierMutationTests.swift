import Ops
import Reversible
import TensorCore
import Testing
import Verifier

/// Each trap of DESIGN.md section 3, injected on purpose, must make the verifier fail;
/// without a fault the same check passes. A verifier that cannot fail proves nothing.
@Suite struct VerifierMutationTests {
    static func setup(_ faults: InjectedFaults, dtype: DType = .float64, dropout: Double = 0.1, wrap: OpWrap = .postNorm,
                      mixture: Mixture = .plain) -> VerificationSetup {
        let model = ModelConfig(sourceVocabulary: 20, targetVocabulary: 20, embeddingWidth: 8, modelWidth: 24, splits: 2,
                                encoderLayers: 2, decoderLayers: 2, heads: 2, pooling: .max, wrap: wrap, mixture: mixture,
                                dropout: dropout, dtype: dtype)
        var setup = VerificationSetup(model: model, modes: [.reconstruction])
        setup.faults = faults
        return setup
    }

    /// Both wrappers with plain mixtures, and the normalised mixture (whose layer norm sits
    /// between every op and alpha) under pre-norm, the wrapper it was built for.
    @Test(arguments: [DType.float64, .float32], [(OpWrap.postNorm, Mixture.plain), (.preNorm, .plain), (.preNorm, .normalised)])
    func faultFreeModelPasses(_ dtype: DType, _ shape: (wrap: OpWrap, mixture: Mixture)) throws {
        let report = try Verification.run(Self.setup([], dtype: dtype, wrap: shape.wrap, mixture: shape.mixture))
        #expect(report.passed, "act \(report.maxActivationRelError ?? .nan) grad \(report.maxGradRelError) fd \(report.fdMaxFraction)")
        if dtype == .float64 {
            #expect(report.maxGradRelError <= 1e-10)
            #expect((report.maxActivationRelError ?? 1) <= 1e-10)
        } else {
            #expect(report.steps.allSatisfy { $0.float64Reference?.exact == true })
        }
        #expect(report.causality?.passed == true && (report.causality?.positionsChecked ?? 0) > 0)
        let tensors = report.steps[0].parameters.count
        #expect(report.fdTensors == tensors && report.finiteDifferences.allSatisfy(\.passed))
        #expect(report.steps[0].parameters.contains { $0.kind == "alpha" && $0.gradientNorm > 0 }, "alphas get gradients")
        #expect(report.padding.allSatisfy(\.passed) && report.padding.count == 1)
    }

    @Test func signFlippedInverseIsCaught() throws {
        let report = try Verification.run(Self.setup(.signFlippedInverse))
        #expect(!report.passed)
        #expect(report.steps.contains { $0.layers.contains { !$0.passed } }, "reconstructed inputs differ from the stored ones")
    }

    @Test(arguments: Mixture.allCases)
    func droppedAlphaGradientIsCaught(_ mixture: Mixture) throws {
        let report = try Verification.run(Self.setup(.alphaGradientDropped, wrap: mixture == .plain ? .postNorm : .preNorm, mixture: mixture))
        #expect(!report.passed)
        let parameters = report.steps[0].parameters
        #expect(parameters.filter { $0.kind == "alpha" }.allSatisfy { !$0.passed })
        #expect(parameters.filter { $0.kind != "alpha" }.allSatisfy { $0.passed }, "only alpha is wrong")
        #expect(report.finiteDifferences.contains { $0.tensor.hasSuffix(".alpha") && !$0.passed })
    }

    @Test func unreplayedDropoutIsCaught() throws {
        let report = try Verification.run(Self.setup(.dropoutNotReplayed))
        #expect(!report.passed)
        #expect(report.maxGradRelError > 1e-6)
    }

    @Test func causalMaskOffByOneIsCaught() throws {
        let report = try Verification.run(Self.setup(.causalMaskOffByOne))
        #expect(!report.passed)
        #expect(report.causality?.passed == false && (report.causality?.maxLeak ?? 0) > 0)
    }

    @Test func hybridModeMatchesFullStorage() throws {
        var setup = Self.setup([])
        setup.model.encoderLayers = 3
        setup.model.decoderLayers = 3
        setup.modes = [.hybrid(every: 2)]
        let report = try Verification.run(setup)
        #expect(report.passed, "act \(report.maxActivationRelError ?? .nan) grad \(report.maxGradRelError)")
    }
}
