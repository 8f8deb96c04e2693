import Foundation
import Ops
import Reversible
import Testing

/// A checkpoint records its model's config; the wrapper and mixture choices came later, so
/// a config without them must still read (as the post-norm, plain model it was), and a
/// pre-norm one must come back pre-norm (a translation from it would otherwise build the
/// other model), a normalised search normalised (its resume would otherwise change the sum).
@Suite struct ModelConfigCodingTests {
    @Test func configWithoutWrapOrMixtureReadsAsPostNormAndPlain() throws {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(ModelConfig(wrap: .preNorm, mixture: .normalised))) as! [String: Any]
        #expect(object["wrap"] as? String == "pre-norm" && object["mixture"] as? String == "normalised")
        object["wrap"] = nil
        object["mixture"] = nil
        let old = try JSONDecoder().decode(ModelConfig.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old == ModelConfig(wrap: .postNorm, mixture: .plain))
    }

    @Test(arguments: OpWrap.allCases, Mixture.allCases)
    func wrapAndMixtureRoundTrip(_ wrap: OpWrap, _ mixture: Mixture) throws {
        let config = ModelConfig(heads: 2, wrap: wrap, mixture: mixture, encoderGenotype: [["ffn", "self_attn"], ["glu", "conv3"]], seed: 9)
        #expect(try JSONDecoder().decode(ModelConfig.self, from: JSONEncoder().encode(config)) == config)
    }

    @Test func unknownWrapNamesTheValidOnes() throws {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(ModelConfig())) as! [String: Any]
        object["wrap"] = "sandwich"
        #expect {
            _ = try JSONDecoder().decode(ModelConfig.self, from: JSONSerialization.data(withJSONObject: object))
        } throws: { "\($0)".contains("post-norm, pre-norm") }
    }
}
