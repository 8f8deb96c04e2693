import ArgumentParser
import Foundation
import Ops
import Profiler
import Reversible
import Search
import TensorCore

/// `revsearch search`: DARTS over the reversible super-network on a parallel corpus, with
/// the memory profiler, the verifier and a memory budget attachable, atomic checkpoints,
/// exact `--resume`, the derived genotype and an HTML report in RUN.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search an architecture (bilevel DARTS over the reversible super-network); writes RUN/genotype.json and RUN/report.html."
    )

    @Option(help: "Corpus directory holding <split>.<lang>[.gz] (the train split is halved: theta's and alpha's).") var data: String
    @Option(help: "Source language.") var src: String
    @Option(help: "Target language.") var tgt: String
    @Option(help: "Run directory: vocabulary, checkpoint, logs, genotype, report.") var out: String
    @Option(help: "Alpha gradient: 1 (first order) or 2 (DARTS' unrolled second order).") var order = 1
    @Option(help: "Backprop: reconstruction, full or hybrid:K.") var mode = "reconstruction"
    @Flag(help: "Record every step's peak memory per layer with the memory profiler.") var profile = false
    @Option(help: "Every N steps, verify reconstruction against full-storage gradients on the current batch and weights (0: never); the check runs a full-storage step, which needs full storage's memory.") var verifyEvery = 0
    @Option(help: "Cap on live tensor memory (e.g. 2GiB, 512MiB); going over stops the run with an error naming the layer.") var memoryBudget: String?
    @Flag(help: "Continue RUN from its checkpoint exactly where it stopped.") var resume = false
    @Option(help: "Hidden size d (must divide by n and n + 1; each split by the heads).") var d = 240
    @Option(help: "Factorised embedding width e.") var e = 64
    @Option(help: "n: encoder splits (decoder n + 1, the last fixed to cross_attn).") var splits = 2
    @Option(help: "s: searched layers in the encoder and in the decoder each.") var layers = 2
    @Option(help: "Attention heads (and dynamic-convolution heads) per split.") var heads = 4
    @Option(help: "Pooling of a node's inputs: max or mean.") var pooling = "max"
    @Option(help: "Dropout.") var dropout = 0.1
    @Option(help: "Tokens per batch (sentences x longest side), each half.") var maxTokens = 2048
    @Option(help: "Stop after this many search steps (one alpha and one theta update each).") var maxSteps = 1000
    @Option(help: "Stop after this many minutes (0: no limit).") var maxMinutes = 0.0
    @Option(help: "Checkpoint every N steps.") var checkpointEvery = 100
    @Option(help: "Theta's peak learning rate.") var lr = 1e-3
    @Option(help: "Theta's warm-up steps.") var warmup = 400
    @Option(help: "Alpha's learning rate (fixed).") var alphaLr = 3e-4
    @Option(help: "BPE merges to learn when the run has no vocabulary yet.") var merges = 8000
    @Option(help: "Use this vocabulary file instead of learning one.") var vocab: String?
    @Option(help: "Seed of the weights, the halves, the data order and dropout.") var seed: UInt64 = 1
    @Option(help: "OpenBLAS threads.") var threads = 2
    @Option(help: "Inject a deliberate fault into the super-network, to watch --verify-every stop the run: \(InjectedFaults.named.map(\.0).joined(separator: ", ")).")
    var fault: [String] = []

    func validate() throws {
        try OptionRanges.whole("order", order, 1...2)
        try OptionRanges.steps("verify-every", verifyEvery, from: 0)
        try OptionRanges.width("d", d)
        try OptionRanges.width("e", e)
        try OptionRanges.whole("splits", splits, 2...64)
        try OptionRanges.layers("layers", layers)
        try OptionRanges.width("heads", heads)
        try OptionRanges.dropout(dropout)
        try OptionRanges.tokens("max-tokens", maxTokens)
        try OptionRanges.steps("max-steps", maxSteps)
        try OptionRanges.minutes(maxMinutes)
        try OptionRanges.steps("checkpoint-every", checkpointEvery)
        try OptionRanges.rate("lr", lr)
        try OptionRanges.steps("warmup", warmup, from: 0)
        try OptionRanges.rate("alpha-lr", alphaLr)
        try OptionRanges.merges(merges)
        try OptionRanges.threads(threads)
    }

    func settings() throws -> SearchRun.Settings {
        guard BackpropMode(mode) != nil else { throw ValidationError("--mode: expected reconstruction, full or hybrid:K, found \"\(mode)\"") }
        guard let pool = Pooling(rawValue: pooling) else { throw ValidationError("--pooling: expected max or mean, found \"\(pooling)\"") }
        var s = SearchRun.Settings(data: data, source: src, target: tgt, out: out)
        if let memoryBudget {
            guard let bytes = MemoryBudget.parseSize(memoryBudget) else {
                throw ValidationError("--memory-budget: expected a size such as 2GiB, 512MiB or 1500000000, found \"\(memoryBudget)\"")
            }
            s.memoryBudget = bytes
        }
        s.model = ModelConfig(embeddingWidth: e, modelWidth: d, splits: splits, encoderLayers: layers, decoderLayers: layers, heads: heads,
                              pooling: pool, dropout: dropout, seed: seed)
        let problems = s.model.validate(registry: .standard)
        guard problems.isEmpty else { throw ValidationError("the super-network cannot be built:\n  " + problems.joined(separator: "\n  ")) }
        s.search.order = order == 2 ? .second : .first
        s.search.mode = mode
        s.search.maxTokens = maxTokens
        s.search.thetaPeakLearningRate = lr
        s.search.thetaWarmup = warmup
        s.search.alphaLearningRate = alphaLr
        s.search.seed = seed
        s.merges = merges
        s.vocabulary = vocab
        s.maxSteps = maxSteps
        s.maxMinutes = maxMinutes
        s.checkpointEvery = checkpointEvery
        s.profile = profile
        s.verifyEvery = verifyEvery
        s.resume = resume
        for name in fault {
            guard let match = InjectedFaults.named.first(where: { $0.0 == name }) else {
                throw ValidationError("--fault: unknown fault '\(name)'; known: \(InjectedFaults.named.map(\.0).joined(separator: ", "))")
            }
            s.faults.insert(match.1)
        }
        return s
    }

    func run() throws {
        BLAS.threads = threads
        let start = Date()
        let outcome = try SearchRun(settings: try settings()).run()
        print("done: \(outcome.steps) search steps in \(duration(Date().timeIntervalSince(start))); train loss \(fixed(outcome.firstLoss, 3)) -> \(fixed(outcome.lastLoss, 3))")
        if let peak = outcome.peakActivationBytes.max() { print("peak activation memory of a step: \(SVGChart.bytesText(Double(peak)))") }
        if let (peak, budget) = outcome.budgetPeak {
            print("peak tensor memory (all categories): \(SVGChart.bytesText(Double(peak))) (\(peak) bytes) of the \(SVGChart.bytesText(Double(budget))) budget")
        }
        if !outcome.verifications.isEmpty {
            let worst = outcome.verifications.map(\.report.maxGradScaledError).max() ?? 0
            print("verified \(outcome.verifications.count) times, all passed; largest gradient error \(sci(worst))")
        }
        print("genotype: \(SearchPaths(run: out).genotype)")
        for (stack, layers) in [("encoder", outcome.genotype.encoder), ("decoder", outcome.genotype.decoder)] {
            print("  \(stack): " + layers.map { "[" + $0.joined(separator: ", ") + "]" }.joined(separator: " "))
        }
        print("report: \(outcome.report)")
    }
}
