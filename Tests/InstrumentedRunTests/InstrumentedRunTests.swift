import Foundation
import InstrumentedRun
import Ops
import Reversible
import Search
import TensorCore
import Testing
import Translation

/// An instrumented search and training run from code, as a user's package runs them: a
/// custom op in the search space, the profiler and the verifier attached, the run's files
/// written, progress collected by an observer.
@Suite struct InstrumentedRunTests {
    /// H -> sigmoid(H W) * s: a small parametric op a user might add.
    final class ScaledSigmoid: CandidateOp {
        let weight: Tensor
        let gain: Tensor

        init(_ spec: OpSpec, rng: inout RandomState) {
            weight = .parameter(xavier: [spec.channels, spec.channels], fanIn: spec.channels, fanOut: spec.channels, dtype: spec.dtype, rng: &rng)
            gain = .parameter(filled: 0.5, shape: [spec.channels], dtype: spec.dtype)
        }

        var parameters: [(name: String, tensor: Tensor)] { [("linear.weight", weight), ("gain", gain)] }

        func forward(_ h: Tensor, _ context: OpContext) -> Tensor {
            mul(sigmoid(linear(h, weight: weight)), gain)
        }
    }

    final class Events: RunObserver {
        var all: [RunEvent] = []
        func observe(_ event: RunEvent) { all.append(event) }
    }

    static let toy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/toy").path

    static var registry: OpRegistry {
        var registry = OpRegistry.standard
        registry.register("scaled_sigmoid") { spec, rng in ScaledSigmoid(spec, rng: &rng) }
        return registry
    }

    static func directory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("instrumented-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    @Test func aSearchWithAUserOpThenTrainingItsGenotype() throws {
        let root = try Self.directory()
        var search = SearchRun.Settings(data: Self.toy, source: "en", target: "de", out: "\(root)/search")
        search.registry = Self.registry
        search.model = ModelConfig(embeddingWidth: 8, modelWidth: 24, splits: 2, encoderLayers: 2, decoderLayers: 2, heads: 2,
                                   encoderOps: ["scaled_sigmoid", "conv3", "self_attn"], decoderOps: ["scaled_sigmoid", "ffn", "self_attn"])
        search.search.maxTokens = 96
        search.search.thetaWarmup = 2
        search.merges = 60
        search.maxSteps = 4
        search.verifyEvery = 2
        search.profile = true
        let events = Events()
        let outcome = try SearchRun(search).run(observer: events)

        guard case .started(_, let resumed) = events.all.first else { Issue.record("no start event"); return }
        #expect(resumed == nil)
        let steps = events.all.compactMap { if case .searchStep(let e) = $0 { e } else { nil } }
        #expect(steps.map(\.step) == [1, 2, 3, 4])
        #expect(steps.allSatisfy { $0.trainLoss.isFinite && ($0.peakActivationBytes ?? 0) > 0 })
        let verified = events.all.compactMap { if case .verified(let step, let report) = $0 { (step, report.passed) } else { nil } }
        #expect(verified.map(\.0) == [2, 4] && verified.allSatisfy(\.1))
        #expect(outcome.steps == 4 && outcome.verifications.count == 2)
        let alphas = try String(contentsOfFile: "\(root)/search/alphas.csv", encoding: .utf8)
        #expect(alphas.contains(",scaled_sigmoid,"))
        for file in ["genotype.json", "report.html", "memory.csv", "verification.csv", "search.json"] {
            #expect(FileManager.default.fileExists(atPath: "\(root)/search/\(file)"), "missing \(file)")
        }

        // The derived genotype trains with the same registry (it may hold scaled_sigmoid).
        var training = TrainingRun.Settings(data: Self.toy, source: "en", target: "de", out: "\(root)/train")
        training.registry = Self.registry
        training.genotype = "\(root)/search/genotype.json"
        training.vocabulary = "\(root)/search/vocab.json"
        training.layers = 2
        training.heads = 2
        training.embeddingWidth = 12
        training.maxTokens = 200
        training.maxSteps = 3
        training.validateEvery = 2
        training.checkpointEvery = 2
        let trainingEvents = Events()
        let trained = try TrainingRun(training).run(observer: trainingEvents)
        let trainingSteps = trainingEvents.all.compactMap { if case .trainingStep(let e) = $0 { e.step } else { nil } }
        #expect(trainingSteps == [1, 2, 3])
        let validated = trainingEvents.all.compactMap { if case .validated(let step, let loss) = $0 { (step, loss.complete) } else { nil } }
        #expect(validated.map(\.0) == [2] && validated.allSatisfy(\.1))
        #expect(trained.steps == 3 && trained.validation.complete && (trained.validation.value ?? .nan).isFinite)
        #expect(FileManager.default.fileExists(atPath: trained.checkpoint))
        guard case .reversible(let setup) = try Checkpoint.load(trained.checkpoint).model else { Issue.record("not a genotype model"); return }
        #expect(setup.config.embeddingWidth == 12 && setup.config.modelWidth == 24)
    }

    /// With alpha's learning rate so small that no choice can change, `settleSteps` stops the
    /// search exactly that many steps in; settling.csv holds every node at every step, step 0
    /// included, with margins and entropies in [0, 1].
    @Test func aSettledSearchStops() throws {
        let root = try Self.directory()
        var search = SearchRun.Settings(data: Self.toy, source: "en", target: "de", out: "\(root)/search")
        search.model = ModelConfig(embeddingWidth: 8, modelWidth: 24, splits: 2, encoderLayers: 1, decoderLayers: 1, heads: 2,
                                   encoderOps: ["conv3", "ffn", "identity"], decoderOps: ["conv3", "ffn", "zero"])
        search.search.maxTokens = 96
        search.search.alphaLearningRate = 1e-12
        search.merges = 60
        search.maxSteps = 20
        search.settleSteps = 3
        let events = Events()
        let outcome = try SearchRun(search).run(observer: events)
        #expect(outcome.settledAt == 3 && outcome.steps == 3)
        let stable = events.all.compactMap { if case .searchStep(let e) = $0 { e.stableSteps } else { nil } }
        #expect(stable == [1, 2, 3])
        let rows = try String(contentsOfFile: "\(root)/search/settling.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        let nodes = outcome.settling.count
        #expect(nodes == 4 && rows.count == 4 * nodes, "\(rows.count) rows for \(nodes) nodes")
        #expect(outcome.settling.allSatisfy { (0...1).contains($0.margin) && (0...1).contains($0.normalizedEntropy) && $0.chosen != "zero" })
    }
}
