import Foundation
import Reversible
import Search
import TensorCore
import Testing
import Translation

/// Derivation by perturbation: a removal drops exactly the op's term from its node, the
/// model is left as it was, and the genotype takes at each node the op whose removal cost
/// the most.
@Suite struct PerturbationDerivationTests {
    static func setup() throws -> (search: BilevelSearch, batches: [Seq2SeqBatch]) {
        let search = try BilevelSearchTests.search(order: .first)
        // A few steps, so that the ops differ from their initialisation and the alphas from 0.
        for _ in 0..<6 { _ = search.step() }
        return (search, search.validationSample(batches: 3))
    }

    static func loss(_ model: ReversibleTransformer, _ batches: [Seq2SeqBatch]) -> Double {
        let tokens = batches.map(\.targetTokens).reduce(0, +)
        return batches.reduce(0) { $0 + model.evaluateLoss($1, dropoutKey: 0, training: false) * Double($1.targetTokens) } / Double(tokens)
    }

    @Test func measuresEveryOpButZeroAndLeavesTheModelAsItWas() throws {
        let (search, batches) = try Self.setup()
        let model = search.model
        let before = Self.loss(model, batches), alphas = model.alphas.map(\.tensor.scalars)
        let measurement = PerturbationDerivation.measure(model, batches: batches, labelSmoothing: 0.1)
        #expect(measurement.baseLoss == before)
        #expect(Self.loss(model, batches) == before)
        #expect(model.alphas.map(\.tensor.scalars) == alphas)
        // encoder: 2 layers x 2 nodes x 4 ops but zero; decoder: 2 x 2 x 3.
        #expect(measurement.removals.count == 2 * 2 * 4 + 2 * 2 * 3)
        #expect(!measurement.removals.contains { $0.op == "zero" })
        #expect(measurement.batches == 3 && measurement.tokens == batches.map(\.targetTokens).reduce(0, +))
        // Every removal changes the loss: each op contributes to its node.
        #expect(measurement.removals.allSatisfy { $0.loss != before })

        let genotype = PerturbationDerivation.genotype(model, measurement)
        let nodes = ["encoder.layer1.split1", "encoder.layer1.split2", "encoder.layer2.split1", "encoder.layer2.split2",
                     "decoder.layer1.split1", "decoder.layer1.split2", "decoder.layer2.split1", "decoder.layer2.split2"]
        for (node, op) in zip(nodes, Array((genotype.encoder + genotype.decoder).joined())) {
            let costliest = measurement.removals.filter { $0.node == node }.max { $0.loss < $1.loss }
            #expect(op == costliest?.op, "\(node)")
        }
        #expect(genotype.problems(registry: .standard).isEmpty)
    }

    /// Removing an op whose weight is negligible leaves the loss where it was; removing
    /// the op that holds nearly all of a node's weight leaves that node computing nothing,
    /// the loss of the same node with `zero` holding the weight instead: the term is dropped
    /// and the others are not scaled up to fill its place.
    @Test func aRemovalDropsTheOpsTermAndNothingElse() throws {
        let (search, batches) = try Self.setup()
        let model = search.model
        let node = model.encoder[0].functions[0]
        let ops = node.opNames
        let (dominant, zero) = (try #require(ops.firstIndex(of: "conv3")), try #require(ops.firstIndex(of: "zero")))
        let alpha = try #require(node.alpha)
        let kept = alpha.scalars
        defer { alpha.assign(kept) }
        alpha.assign(ops.indices.map { $0 == dominant ? 0 : -40 })
        let whole = Self.loss(model, batches)
        let measurement = PerturbationDerivation.measure(model, batches: batches, labelSmoothing: 0.1)
        let removals = measurement.removals.filter { $0.node == "encoder.layer1.split1" }
        for removal in removals where removal.op != "conv3" {
            #expect(abs(removal.loss - whole) < 1e-12 * whole, "\(removal.op): \(removal.loss) vs \(whole)")
        }
        alpha.assign(ops.indices.map { $0 == zero ? 0 : -40 })
        let silent = Self.loss(model, batches)
        let withoutDominant = try #require(removals.first { $0.op == "conv3" })
        #expect(abs(withoutDominant.loss - silent) < 1e-12 * silent, "\(withoutDominant.loss) vs \(silent)")
        #expect(abs(silent - whole) > 1e-4 * whole)
        if withoutDominant.loss > whole { #expect(measurement.chosen(node: "encoder.layer1.split1") == "conv3") }
    }

    /// The sample is a prefix of alpha's shuffled batches: the same for every call, of
    /// several lengths, and the whole half when asked for more than it has.
    @Test func theSampleIsAPrefixOfAlphasShuffledBatches() throws {
        let small = try BilevelSearchTests.search(order: .first)
        let search = try BilevelSearch(model: small.model, pairs: BilevelSearchTests.pairs(240), options: small.options)
        let few = search.validationSample(batches: 8), all = search.validationSample(batches: 10_000)
        #expect(few.count == 8 && all.count > 10)
        #expect(few.map(\.source) == all.prefix(8).map(\.source))
        #expect(Set(few.map(\.targetLength)).count > 1)
        #expect(all.map(\.batchSize).reduce(0, +) == 120)
    }
}
