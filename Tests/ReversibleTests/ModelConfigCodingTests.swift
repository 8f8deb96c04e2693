import Foundation
import Ops
import Reversible
import Testing

/// A checkpoint records its model's config; the wrapper choice came later, so a config
/// without it must still read (as the post-norm model it was), and a pre-norm one must
/// come back pre-norm (a translation from it would otherwise build the other model).
@Suite struct ModelConfigCodingTests {
    @Test func configWithoutWrapReadsAsPostNorm() throws {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(ModelConfig(wrap: .preNorm))) as! [String: Any]
        #expect(object["wrap"] as? String == "pre-norm")
        object["wrap"] = nil
        let old = try JSONDecoder().decode(ModelConfig.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old == ModelConfig(wrap: .postNorm))
    }

    @Test(arguments: OpWrap.allCases)
    func wrapRoundTrips(_ wrap: OpWrap) throws {
        let config = ModelConfig(heads: 2, wrap: wrap, encoderGenotype: [["ffn", "self_attn"], ["glu", "conv3"]], seed: 9)
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
