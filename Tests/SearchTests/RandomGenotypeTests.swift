import Ops
import Search
import Testing

/// Random architectures from a search's space: the same shape and wrapper, each node's op one the
/// search weighed there, never zero, one draw per seed.
@Suite struct RandomGenotypeTests {
    static let template = Genotype(
        splits: 2, blockLayers: 2, modelWidth: 24, embeddingWidth: 8, pooling: .max, wrap: .preNorm,
        encoder: [["conv3", "ffn"], ["glu", "identity"]], decoder: [["ffn", "conv3"], ["self_attn", "glu"]],
        weights: ["encoder.layer1.split1": ["conv3": 0.5, "ffn": 0.3, "zero": 0.2], "encoder.layer1.split2": ["ffn": 0.6, "glu": 0.4]])

    @Test func sameShapeOpsFromTheSearchSpaceNeverZero() {
        let drawn = (1...40).map { Genotype.random(like: Self.template, seed: UInt64($0)) }
        for g in drawn {
            #expect(g.splits == 2 && g.blockLayers == 2 && g.modelWidth == 24 && g.embeddingWidth == 8 && g.pooling == .max && g.wrap == .preNorm)
            #expect(g.encoder.map(\.count) == [2, 2] && g.decoder.map(\.count) == [2, 2])
            #expect(["conv3", "ffn"].contains(g.encoder[0][0]) && ["ffn", "glu"].contains(g.encoder[0][1]))
            #expect(!(g.encoder + g.decoder).joined().contains("zero"))
            #expect(g.problems(registry: .standard).isEmpty, "\(g.problems(registry: .standard))")
        }
        // Nodes without recorded weights draw from the whole registry: 40 draws see several ops.
        #expect(Set(drawn.map { $0.decoder[1][0] }).count >= 4)
        #expect(Genotype.random(like: Self.template, seed: 3) == Genotype.random(like: Self.template, seed: 3))
        #expect(Set(drawn.map(\.encoder)).count > 1)
    }

    /// A genotype file without `weights` (written by hand from a search's op lists) draws
    /// the same architectures as the search's own file, which records every candidate's
    /// weight in the dictionary's unordered keys: the comparison's random rows must not
    /// change with which of the two it is given.
    @Test func recordedWeightsOrNotTheSameDraw() {
        let registry = OpRegistry.standard
        var recorded = Self.template
        recorded.weights = [:]
        for (stack, layers) in [("encoder", recorded.encoder), ("decoder", recorded.decoder)] {
            for i in layers.indices {
                for k in layers[i].indices {
                    let ops = registry.candidates(decoder: stack == "decoder").reversed()
                    recorded.weights!["\(stack).layer\(i + 1).split\(k + 1)"] = Dictionary(uniqueKeysWithValues: ops.map { ($0, 1.0 / Double(ops.count)) })
                }
            }
        }
        var bare = Self.template
        bare.weights = nil
        for seed in UInt64(1)...20 {
            #expect(Genotype.random(like: recorded, seed: seed) == Genotype.random(like: bare, seed: seed))
        }
    }
}
