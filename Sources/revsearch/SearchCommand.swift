import ArgumentParser
import Foundation
import InstrumentedRun
import Ops
import Profiler
import Reversible
import Search
import TensorCore
import Translation
import Verifier

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
    // The options that shape the model and the search are optional so that a resumed run
    // can tell one given (which must match the checkpoint) from one left at its default.
    @Option(help: "Alpha gradient: 1 (first order) or 2 (DARTS' unrolled second order) (default 1).") var order: Int?
    @Option(help: "Backprop: reconstruction, full or hybrid:K (default reconstruction).") var mode: String?
    @Flag(help: "Record every step's peak memory per layer with the memory profiler.") var profile = false
    @Option(help: "Every N steps, verify reconstruction against full-storage gradients on the current batch and weights (0: never); the check runs a full-storage step, which needs full storage's memory.") var verifyEvery = 0
    @Option(help: "Cap on live tensor memory (e.g. 2GiB, 512MiB); going over stops the run with an error naming the layer.") var memoryBudget: String?
    @Flag(help: "With --memory-budget: start even when a dry run of the first steps predicts the budget will be exceeded (the budget then stops the run at the allocation that goes over).")
    var noPlanCheck = false
    @Flag(help: "Continue RUN from its checkpoint exactly where it stopped.") var resume = false
    @Option(help: "Hidden size d (must divide by n and n + 1; each split by the heads) (default 240).") var d: Int?
    @Option(help: "Factorised embedding width e (default 64).") var e: Int?
    @Option(help: "n: encoder splits (decoder n + 1, the last fixed to cross_attn) (default 2).") var splits: Int?
    @Option(help: "s: searched layers in the encoder and in the decoder each (default 2).") var layers: Int?
    @Option(help: "Attention heads (and dynamic-convolution heads) per split (default 4).") var heads: Int?
    @Option(help: "Pooling of a node's inputs: max or mean (default max).") var pooling: String?
    @Option(help: "How parametric ops are wrapped inside a node: post-norm, LayerNorm(H + o(H)) (DESIGN.md), or pre-norm, o(LayerNorm(H)) (the Reformer's coupling) (default post-norm).") var wrap: String?
    @Option(help: "How a node sums its candidate ops: plain, sum_o softmax(alpha)_o o(H) (DESIGN.md), or normalised, each o(H) layer-normalised first (no gain or bias, as DARTS' search ops end in BatchNorm without affine), so an op cannot win by the scale of its output (default plain).") var mixture: String?
    @Option(help: "Dropout (default 0.1).") var dropout: Double?
    @Option(help: "Tokens per batch (sentences x longest side), each half (default 2048).") var maxTokens: Int?
    @Option(help: "Stop after this many search steps (one alpha and one theta update each).") var maxSteps = 1000
    @Option(help: "Stop after this many minutes (0: no limit).") var maxMinutes = 0.0
    @Option(help: "Checkpoint every N steps.") var checkpointEvery = 100
    @Option(help: "Stop once the derived genotype has not changed for N steps (0: run to --max-steps or --max-minutes).")
    var settleSteps = 0
    @Option(help: "With --settle-steps: also require every node's margin (chosen op's softmax weight over the runner-up's) to be at least this.")
    var settleMargin = 0.0
    @Option(help: "Theta's peak learning rate (default 1e-3).") var lr: Double?
    @Option(help: "Theta's warm-up steps (default 400).") var warmup: Int?
    @Option(help: "Alpha's learning rate, fixed (default 3e-4).") var alphaLr: Double?
    @Option(help: "Weight lambda of an entropy term in alpha's objective: L_val + lambda * the sum over nodes of H(softmax(alpha)) in nats (default 0, DARTS); positive values push each node toward one op.") var alphaEntropy: Double?
    @Option(help: "Steps that update theta only before alpha's first update, so slow-starting ops train before alpha ranks them (default 0, DARTS).") var alphaWarmup: Int?
    @Option(help: "BPE merges to learn when the run has no vocabulary yet.") var merges = 8000
    @Option(help: "Use this vocabulary file instead of learning one.") var vocab: String?
    @Option(help: "Seed of the weights, the halves, the data order and dropout (default 1).") var seed: UInt64?
    @Option(help: "OpenBLAS threads.") var threads = 2
    @Option(help: "Inject a deliberate fault into the super-network, to watch --verify-every stop the run: \(InjectedFaults.named.map(\.0).joined(separator: ", ")).")
    var fault: [String] = []
    @Option(help: "With --fault, in a data-parallel search (mpirun -np N): inject it on this rank only, to watch its verification stop the whole job.")
    var faultRank: Int?

    func validate() throws {
        try OptionRanges.whole("order", order, 1...2)
        try OptionRanges.whole("fault-rank", faultRank, 0...Int(Int32.max))
        if let mode, BackpropMode(mode) == nil { throw ValidationError("--mode: expected reconstruction, full or hybrid:K, found \"\(mode)\"") }
        if let pooling, Pooling(rawValue: pooling) == nil { throw ValidationError("--pooling: expected max or mean, found \"\(pooling)\"") }
        if let wrap, OpWrap(rawValue: wrap) == nil { throw ValidationError("--wrap: expected post-norm or pre-norm, found \"\(wrap)\"") }
        if let mixture, Mixture(rawValue: mixture) == nil { throw ValidationError("--mixture: expected plain or normalised, found \"\(mixture)\"") }
        try OptionRanges.steps("verify-every", verifyEvery, from: 0)
        try OptionRanges.width("d", d)
        try OptionRanges.width("e", e)
        try OptionRanges.whole("splits", splits, 2...64)
        try OptionRanges.layers("layers", layers)
        try OptionRanges.width("heads", heads)
        try OptionRanges.dropout(dropout)
        if let maxTokens { try OptionRanges.tokens("max-tokens", maxTokens) }
        try OptionRanges.steps("max-steps", maxSteps)
        try OptionRanges.minutes(maxMinutes)
        try OptionRanges.steps("checkpoint-every", checkpointEvery)
        try OptionRanges.steps("settle-steps", settleSteps, from: 0)
        try OptionRanges.number("settle-margin", settleMargin, 0...1, "a softmax weight difference in [0, 1]")
        if let lr { try OptionRanges.rate("lr", lr) }
        if let warmup { try OptionRanges.steps("warmup", warmup, from: 0) }
        if let alphaLr { try OptionRanges.rate("alpha-lr", alphaLr) }
        try OptionRanges.number("alpha-entropy", alphaEntropy, 0...1000, "a weight in [0, 1000]")
        if let alphaWarmup { try OptionRanges.steps("alpha-warmup", alphaWarmup, from: 0) }
        try OptionRanges.merges(merges)
        try OptionRanges.threads(threads)
    }

    func settings() throws -> SearchRun.Settings {
        if resume { try checkResumeOptions() }
        var s = SearchRun.Settings(data: data, source: src, target: tgt, out: out)
        // Going over the budget ends the run like any other error: "revsearch: ...", status 3.
        s.budgetExceeded = { ExitStatus.terminate(for: $0) }
        s.communicator = Processes.communicator
        if let memoryBudget {
            guard let bytes = MemoryBudget.parseSize(memoryBudget) else {
                throw ValidationError("--memory-budget: expected a size such as 2GiB, 512MiB or 1500000000, found \"\(memoryBudget)\"")
            }
            s.memoryBudget = bytes
        }
        s.planCheck = !noPlanCheck
        let depth = layers ?? 2
        s.model = ModelConfig(embeddingWidth: e ?? 64, modelWidth: d ?? 240, splits: splits ?? 2, encoderLayers: depth, decoderLayers: depth,
                              heads: heads ?? 4, pooling: pooling.flatMap(Pooling.init(rawValue:)) ?? .max,
                              wrap: wrap.flatMap(OpWrap.init(rawValue:)) ?? .postNorm,
                              mixture: mixture.flatMap(Mixture.init(rawValue:)) ?? .plain, dropout: dropout ?? 0.1, seed: seed ?? 1)
        let problems = s.model.validate(registry: .standard)
        guard problems.isEmpty else { throw ValidationError("the super-network cannot be built:\n  " + problems.joined(separator: "\n  ")) }
        s.search.order = order == 2 ? .second : .first
        s.search.mode = mode.flatMap { BackpropMode($0) } ?? .reconstruction
        s.search.maxTokens = maxTokens ?? 2048
        s.search.thetaPeakLearningRate = lr ?? 1e-3
        s.search.thetaWarmup = warmup ?? 400
        s.search.alphaLearningRate = alphaLr ?? 3e-4
        s.search.alphaEntropyWeight = alphaEntropy ?? 0
        s.search.alphaWarmup = alphaWarmup ?? 0
        s.search.seed = seed ?? 1
        s.merges = merges
        s.vocabulary = vocab
        s.maxSteps = maxSteps
        s.maxMinutes = maxMinutes
        s.checkpointEvery = checkpointEvery
        s.settleSteps = settleSteps
        s.settleMargin = settleMargin
        s.profile = profile
        s.verifyEvery = verifyEvery
        s.resume = resume
        for name in fault {
            guard let match = InjectedFaults.named.first(where: { $0.0 == name }) else {
                throw ValidationError("--fault: unknown fault '\(name)'; known: \(InjectedFaults.named.map(\.0).joined(separator: ", "))")
            }
            if let faultRank, faultRank >= s.communicator.size {
                throw ValidationError("--fault-rank: expected a rank below the job's \(s.communicator.size) processes, found \(faultRank)")
            }
            if faultRank == nil || faultRank == s.communicator.rank { s.faults.insert(match.1) }
        }
        return s
    }

    /// A resumed search keeps the model, options and vocabulary of its checkpoint: an option
    /// given again must match them, or the resume is refused naming what differs (instead
    /// of being silently ignored).
    func checkResumeOptions() throws {
        let path = SearchPaths(run: out).checkpoint
        guard FileManager.default.fileExists(atPath: path) else { return }
        let record = try SearchCheckpoint.load(path)
        let m = record.model, o = record.options
        let given: [(option: String, value: String?, recorded: String)] = [
            ("d", d.map(String.init), String(m.modelWidth)), ("e", e.map(String.init), String(m.embeddingWidth)),
            ("splits", splits.map(String.init), String(m.splits)), ("layers", layers.map(String.init), String(m.encoderLayers)),
            ("heads", heads.map(String.init), String(m.heads)), ("pooling", pooling, m.pooling.rawValue),
            ("wrap", wrap, m.wrap.rawValue), ("mixture", mixture, m.mixture.rawValue),
            ("dropout", dropout.map { "\($0)" }, "\(m.dropout)"), ("seed", seed.map(String.init), String(o.seed)),
            ("order", order.map(String.init), String(o.order.rawValue)), ("mode", mode, o.mode.description),
            ("max-tokens", maxTokens.map(String.init), String(o.maxTokens)), ("lr", lr.map { "\($0)" }, "\(o.thetaPeakLearningRate)"),
            ("warmup", warmup.map(String.init), String(o.thetaWarmup)), ("alpha-lr", alphaLr.map { "\($0)" }, "\(o.alphaLearningRate)"),
            ("alpha-entropy", alphaEntropy.map { "\($0)" }, "\(o.alphaEntropyWeight)"),
            ("alpha-warmup", alphaWarmup.map(String.init), String(o.alphaWarmup)),
        ]
        try ResumeOptions.refuseOtherVocabulary(vocab, run: out)
        try ResumeOptions.refuseDifferences(given, checkpoint: path, kind: "search")
    }

    /// How settled the search ended: the weakest node, the spread of the weights, how often
    /// identity won (DARTS' known collapse), and whether --settle-steps stopped it.
    func settlingSummary(_ outcome: SearchRun.Outcome) -> String {
        guard let weakest = outcome.settling.min(by: { $0.margin < $1.margin }) else { return "settling: no searched nodes" }
        let entropy = outcome.settling.map(\.normalizedEntropy).reduce(0, +) / Double(outcome.settling.count)
        let identity = outcome.settling.filter { $0.chosen == "identity" }.count
        let stop = outcome.settledAt.map { "; settled at step \($0) (genotype unchanged for \(settleSteps) steps, margins at least \(settleMargin))" } ?? ""
        return "settling: smallest margin \(fixed(weakest.margin, 4)) (\(weakest.node): \(weakest.chosen) over \(weakest.runnerUp)), "
            + "mean normalised entropy \(fixed(entropy, 3)), identity chosen at \(identity) of \(outcome.settling.count) nodes\(stop); "
            + "per step in \(SearchPaths(run: out).settling)"
    }

    func run() throws {
        BLAS.threads = threads
        let start = Date()
        let printer = ProgressPrinter()
        let outcome = try SearchRun(try settings()).run(observer: printer)
        printer.progress.end()
        print("done: \(outcome.steps) search steps in \(duration(Date().timeIntervalSince(start))); train loss \(fixed(outcome.firstLoss, 3)) -> \(fixed(outcome.lastLoss, 3))")
        if let line = outcome.communication?.summary { print(line) }
        if let peak = outcome.peakActivationBytes.max() { print("peak activation memory of a step: \(SVGChart.bytesText(Double(peak)))") }
        if let r = outcome.memoryReference {
            print("step \(r.step)'s theta batch, one training step: full storage \(SVGChart.bytesText(Double(r.fullStorageBytes))), "
                  + "\(r.mode) \(SVGChart.bytesText(Double(r.modeBytes))) of activations: \(fixed(r.savingFactor, 2))x less")
        }
        if let (peak, budget) = outcome.budgetPeak {
            print("peak reserved tensor memory (all categories): \(SVGChart.bytesText(Double(peak))) (\(peak) bytes) of the \(SVGChart.bytesText(Double(budget))) budget")
        }
        if !outcome.verifications.isEmpty {
            let worst = outcome.verifications.map(\.report.maxGradScaledError).max() ?? 0
            print("verified \(outcome.verifications.count) times, all passed; largest gradient error \(sci(worst))")
        }
        print(settlingSummary(outcome))
        print("genotype: \(SearchPaths(run: out).genotype)")
        for (stack, layers) in [("encoder", outcome.genotype.encoder), ("decoder", outcome.genotype.decoder)] {
            print("  \(stack): " + layers.map { "[" + $0.joined(separator: ", ") + "]" }.joined(separator: " "))
        }
        print("report: \(outcome.report)")
    }
}
