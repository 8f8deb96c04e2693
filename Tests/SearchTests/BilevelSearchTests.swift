import Foundation
import Reversible
import Search
import TensorCore
import Testing
import Translation

@Suite struct BilevelSearchTests {
    static func pairs(_ n: Int) -> [TokenizedPair] {
        var rng = RandomState(seed: 11)
        return (0..<n).map { _ in
            let s = (0..<(2 + Int(rng.next() % 4))).map { _ in Int32(3 + rng.next() % 17) }
            return TokenizedPair(source: s, target: s.reversed())
        }
    }

    /// `smooth`: only ops without kinks (no ReLU, no max pooling), so that DARTS' finite-
    /// difference Hessian-vector product is accurate to O(eps²) and can be compared tightly.
    static func search(order: BilevelSearch.Order, dropout: Double = 0, dtype: DType = .float64, smooth: Bool = false,
                       hessianStep: Double = 0.01, alphaEntropyWeight: Double = 0, alphaLearningRate: Double = 3e-4,
                       alphaWarmup: Int = 0) throws -> BilevelSearch {
        let config = ModelConfig(sourceVocabulary: 20, targetVocabulary: 20, embeddingWidth: 8, modelWidth: 12, splits: 2,
                                 encoderLayers: 2, decoderLayers: 2, heads: 2, pooling: smooth ? .mean : .max, dropout: dropout, dtype: dtype,
                                 encoderOps: smooth ? ["glu", "self_attn", "zero", "identity"] : ["conv3", "self_attn", "ffn", "zero", "identity"],
                                 decoderOps: smooth ? ["glu", "self_attn", "dynconv3", "zero"] : ["conv3", "self_attn", "glu", "zero"])
        var options = BilevelSearch.Options()
        options.order = order
        options.maxTokens = 24
        options.thetaWarmup = 1
        options.thetaPeakLearningRate = 0.05
        options.hessianStep = hessianStep
        options.alphaEntropyWeight = alphaEntropyWeight
        options.alphaLearningRate = alphaLearningRate
        options.alphaWarmup = alphaWarmup
        return try BilevelSearch(model: try ReversibleTransformer(config), pairs: pairs(24), options: options)
    }

    /// The second-order alpha gradient against central differences of the unrolled
    /// objective f(alpha) = L_val(theta - eta grad_theta L_train(theta, alpha), alpha), in Float64.
    /// With a small Hessian step the formula is checked to 1e-6 relative; with DARTS' step
    /// (0.01 / ||v||) the finite-difference Hessian-vector product is itself approximate, its
    /// error O(step²): measured here 0.3-0.9%, the test allows 3%.
    @Test(arguments: [(1e-4, 1e-6), (0.01, 0.03)])
    func secondOrderGradientMatchesFiniteDifferencesOfTheUnrolledObjective(hessianStep: Double, rtol: Double) throws {
        let search = try Self.search(order: .second, smooth: true, hessianStep: hessianStep)
        let train = TokenBatcher.batch(Array(Self.pairs(24).prefix(3)))
        let validation = TokenBatcher.batch(Array(Self.pairs(24).suffix(3)))
        let eta = search.thetaOptimizer.learningRate
        let (_, gradients) = search.unrolledAlphaGradient(train: train, validation: validation, key: 7)
        let alphas = search.alphas.map(\.tensor), thetas = search.weights.map(\.tensor)
        let savedTheta = thetas.map(\.scalars), savedAlpha = alphas.map(\.scalars)
        func setAll(_ tensors: [Tensor], _ values: [[Double]]) {
            for (t, v) in zip(tensors, values) { for i in 0..<t.count { t.pointer(Double.self)[i] = v[i] } }
        }
        func unrolled() -> Double {
            for p in search.model.parameters { p.tensor.grad = nil }
            search.model.trainingStep(train, mode: .full, dropoutKey: 0, labelSmoothing: 0.1)
            for t in thetas { if let g = t.grad { for i in 0..<t.count { t.pointer(Double.self)[i] -= eta * g.scalars[i] } } }
            let loss = search.model.evaluateLoss(validation, dropoutKey: 0, training: false)
            setAll(thetas, savedTheta)
            return loss
        }
        var rng = RandomState(seed: 3)
        for _ in 0..<2 {
            let u = alphas.map { a in (0..<a.count).map { _ in rng.normal() } }
            let analytic = zip(gradients, u).reduce(0.0) { $0 + zip($1.0.scalars, $1.1).reduce(0) { $0 + $1.0 * $1.1 } }
            let h = 1e-5
            setAll(alphas, zip(savedAlpha, u).map { zip($0, $1).map { $0 + h * $1 } })
            let plus = unrolled()
            setAll(alphas, zip(savedAlpha, u).map { zip($0, $1).map { $0 - h * $1 } })
            let minus = unrolled()
            setAll(alphas, savedAlpha)
            let numeric = (plus - minus) / (2 * h)
            #expect(abs(analytic - numeric) <= 1e-7 + rtol * abs(numeric), "analytic \(analytic), numeric \(numeric)")
        }
    }

    @Test func entropyGradientMatchesFiniteDifferences() {
        let alpha = [0.3, -1.2, 0.05, 2.0, -0.4]
        let (entropy, gradient) = BilevelSearch.entropy(ofSoftmax: alpha)
        func h(_ a: [Double]) -> Double { BilevelSearch.entropy(ofSoftmax: a).entropy }
        #expect(abs(h(Array(repeating: 0.7, count: 5)) - log(5.0)) < 1e-12, "uniform: log n")
        for i in alpha.indices {
            var up = alpha, down = alpha
            up[i] += 1e-6
            down[i] -= 1e-6
            let numeric = (h(up) - h(down)) / 2e-6
            #expect(abs(gradient[i] - numeric) < 1e-8, "component \(i): \(gradient[i]) vs \(numeric)")
        }
        #expect(entropy > 0 && entropy < log(5.0))
    }

    /// The entropy term sharpens softmax(alpha): the same search with lambda > 0 ends with
    /// lower mean entropy per node than DARTS' objective alone.
    @Test func theEntropyTermSharpensEveryNode() throws {
        func meanEntropy(_ weight: Double) throws -> Double {
            let search = try Self.search(order: .first, alphaEntropyWeight: weight, alphaLearningRate: 0.05)
            for _ in 0..<8 { search.step() }
            let entropies = search.alphas.map { BilevelSearch.entropy(ofSoftmax: $0.tensor.scalars).entropy / log(Double($0.tensor.count)) }
            return entropies.reduce(0, +) / Double(entropies.count)
        }
        let (plain, sharpened) = (try meanEntropy(0), try meanEntropy(1))
        #expect(sharpened < plain - 0.01, "mean normalised entropy \(sharpened) with lambda 1 against \(plain) without")
    }

    /// In alpha's warm-up theta trains and alpha stays where it started; L_val is still
    /// measured, the same figure an alpha step on that batch reports; after the warm-up alpha
    /// moves as Adam's first update would move it.
    @Test func alphaWarmupTrainsThetaOnlyAndStillMeasuresTheValidationLoss() throws {
        let warm = try Self.search(order: .first, dropout: 0.1, alphaLearningRate: 0.05, alphaWarmup: 2)
        let plain = try Self.search(order: .first, dropout: 0.1, alphaLearningRate: 0.05)
        let alphas = warm.alphas.map(\.tensor.scalars), thetas = warm.weights.map(\.tensor.scalars)
        let (first, reference) = (warm.step(), plain.step())
        #expect(first.validationLoss == reference.validationLoss, "\(first.validationLoss) vs \(reference.validationLoss)")
        warm.step()
        #expect(warm.alphas.map(\.tensor.scalars) == alphas, "alpha moved in its warm-up")
        #expect(warm.weights.map(\.tensor.scalars) != thetas, "theta did not train in alpha's warm-up")
        #expect(warm.alphaOptimizer.step == 0 && warm.alphaUpdates(afterStep: 2) == 0)
        let before = warm.alphas.map(\.tensor.scalars)
        warm.step()
        #expect(warm.alphaOptimizer.step == 1 && warm.alphaUpdates(afterStep: 3) == 1)
        // Adam's first update moves every coordinate with a gradient by about the learning rate.
        let moved = zip(warm.alphas.map(\.tensor.scalars).joined(), before.joined()).map { abs($0 - $1) }
        #expect(moved.contains { $0 > 0.04 && $0 < 0.06 }, "largest alpha movement \(moved.max() ?? 0)")
    }

    @Test(arguments: [BilevelSearch.Order.first, .second])
    func searchStepsMoveAlphaAndDeriveAGenotype(order: BilevelSearch.Order) throws {
        let search = try Self.search(order: order, dropout: 0.1, dtype: .float32)
        let before = search.alphas.map(\.tensor.scalars)
        var losses: [Double] = []
        for _ in 0..<6 { losses.append(search.step().trainLoss) }
        #expect(losses.allSatisfy { $0.isFinite })
        #expect(search.alphas.map(\.tensor.scalars) != before, "alphas are updated")
        let genotype = Genotype.derive(from: search.model)
        #expect(genotype.encoder.count == 2 && genotype.encoder.allSatisfy { $0.count == 2 })
        #expect(!genotype.encoder.joined().contains("zero") && !genotype.decoder.joined().contains("zero"), "zero is never chosen")
        let config = genotype.modelConfig(base: search.model.config, encoderLayers: 5, decoderLayers: 3)
        #expect(config.encoderGenotype?[4] == genotype.encoder[0], "the block is stacked")
        _ = try ReversibleTransformer(config)
    }

    @Test func genotypeFilesRoundTripAndBadOnesNameTheProblem() throws {
        let genotype = Genotype(splits: 2, blockLayers: 1, modelWidth: 24, embeddingWidth: 8, pooling: .max, wrap: nil,
                                encoder: [["conv3", "ffn"]], decoder: [["self_attn", "glu"]], weights: nil)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("g-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try genotype.save(to: path)
        #expect(try Genotype.load(path) == genotype)
        try #"{"version": 1, "splits": 2, "block_layers": 1, "model_width": 24, "embedding_width": 8, "pooling": "max", "encoder": [["conv3"]], "decoder": [["glu", "ffn"]]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        do { _ = try Genotype.load(path); Issue.record("accepted a bad genotype") } catch {
            #expect("\(error)".contains("encoder[0] has 1 nodes, splits is 2"), "\(error)")
        }
    }
}
