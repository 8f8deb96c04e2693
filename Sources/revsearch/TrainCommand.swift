import ArgumentParser
import Foundation
import Ops
import InstrumentedRun
import Profiler
import Reversible
import Search
import TensorCore
import Translation
import Verifier

/// `revsearch train`: trains the baseline Transformer, or with `--genotype` the reversible
/// model a search derived, on a parallel corpus, with a live progress line, periodic
/// validation, atomic checkpoints and exact `--resume`.
///
/// A genotype model trains with ordinary backprop (`full`) unless `--backprop` says
/// otherwise: at our scale its stored activations fit easily and full storage skips the
/// extra forward per layer that reconstruction costs. Measured on Fixtures/toy (d = 240,
/// 6 + 6 layers, 4096-token batches, 1 thread): full storage peaks at 0.73 GiB of
/// activations and runs 3100 target tokens/s, reconstruction at 55 MiB and 2600 tokens/s.
/// Reconstruction (or hybrid:K, bounding the Float32 drift of deep stacks) is for models
/// whose activations do not fit: its activation memory stays one layer's, at any depth.
///
/// A genotype model's default depth is 6 + 6 layers: a reversible layer (d = 240 in splits
/// of 120 and 80, one op per node) holds a fraction of a baseline layer's weights, so 6 + 6
/// still has fewer parameters than the baseline's 3 + 3 (1.7 M against 6.1 M with a
/// 2320-piece vocabulary).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a translation model on a parallel corpus (checkpoints, validation, --resume).",
        discussion: """
            Trains the baseline Transformer, or with --genotype G.json the reversible model of a derived \
            architecture (the genotype's block stacked to --layers; d, e, splits, pooling and wrap come from the genotype). \
            With --resume the model, its options and the backprop mode come from RUN/checkpoint.json \
            (--backprop, if given, replaces the mode).
            """
    )

    @Option(help: "Corpus directory holding <split>.<lang>[.gz].") var data: String
    @Option(help: "Source language.") var src: String
    @Option(help: "Target language.") var tgt: String
    @Option(help: "Run directory: vocabulary, checkpoints, logs.") var out: String
    @Option(help: "BPE merges to learn when the run has no vocabulary yet.") var merges = 8000
    @Option(help: "Use this vocabulary file instead of learning one (copied into RUN).") var vocab: String?
    @Option(help: "Genotype JSON of a derived architecture: train that reversible model instead of the baseline.") var genotype: String?
    @Option(help: "Backprop of a genotype model: full (default), reconstruction or hybrid:K. With --resume: replaces the checkpoint's.")
    var backprop: String?
    @Option(help: "Hidden size d of the baseline (default 256); a genotype model takes d from its genotype.") var d: Int?
    @Option(help: "Encoder and decoder layers each (default 3 for the baseline; 6 for a genotype model).") var layers: Int?
    @Option(help: "A genotype model's embedding width e, in place of the genotype's (e.g. the baseline's d, for a comparison).") var e: Int?
    @Option(help: "A genotype model's op wrapper, in place of the genotype's: post-norm, LayerNorm(H + o(H)), or pre-norm, o(LayerNorm(H)).")
    var wrap: String?
    // Options that shape the model or the optimisation are optional so that a resumed run
    // can tell one given (which must match the checkpoint) from one left at its default.
    @Option(help: "Attention heads (default 4).") var heads: Int?
    @Option(help: "Dropout (default 0.2, which suits a corpus the size of Multi30k).") var dropout: Double?
    @Option(help: "Tokens per batch, sentences x longest side (default 4096).") var maxTokens: Int?
    @Option(help: "Peak learning rate (default 1e-3).") var lr: Double?
    @Option(help: "Warm-up steps (default 800).") var warmup: Int?
    @Option(help: "Stop after this many updates.") var maxSteps = 100_000
    @Option(help: "Stop after this many minutes (0: no limit).") var maxMinutes = 0.0
    @Option(help: "Validate every N updates.") var validateEvery = 500
    @Option(help: "Checkpoint every N updates.") var checkpointEvery = 500
    @Option(help: "Seed of the weights, data order and dropout (default 1).") var seed: UInt64?
    @Flag(help: "Continue from RUN/checkpoint.json exactly where it stopped.") var resume = false
    @Option(help: "Attach the memory profiler to every N-th step and write its figures to this directory.") var profile: String?
    @Option(help: "With --profile: which steps (every N-th).") var profileEvery = 100
    @Option(help: "OpenBLAS threads.") var threads = 2

    func validate() throws {
        try OptionRanges.merges(merges)
        try OptionRanges.width("d", d)
        try OptionRanges.width("e", e)
        try OptionRanges.layers("layers", layers)
        try OptionRanges.width("heads", heads)
        try OptionRanges.dropout(dropout)
        if let maxTokens { try OptionRanges.tokens("max-tokens", maxTokens) }
        if let lr { try OptionRanges.rate("lr", lr) }
        if let warmup { try OptionRanges.steps("warmup", warmup, from: 0) }
        try OptionRanges.steps("max-steps", maxSteps)
        try OptionRanges.minutes(maxMinutes)
        try OptionRanges.steps("validate-every", validateEvery)
        try OptionRanges.steps("checkpoint-every", checkpointEvery)
        try OptionRanges.steps("profile-every", profileEvery)
        try OptionRanges.threads(threads)
        if genotype == nil && !resume && (d ?? 256) % (heads ?? 4) != 0 {
            throw ValidationError("--heads \(heads ?? 4): must divide the baseline's width d = \(d ?? 256)")
        }
        if let backprop, BackpropMode(backprop) == nil {
            throw ValidationError("--backprop: unknown mode '\(backprop)' (expected full, reconstruction or hybrid:K)")
        }
        if let genotype, let d { throw ValidationError("--d \(d): a genotype model takes d from its genotype (\(genotype))") }
        if let e, genotype == nil && !resume { throw ValidationError("--e \(e): the embedding width of a genotype model (--genotype); the baseline's is d") }
        if let wrap {
            guard OpWrap(rawValue: wrap) != nil else { throw ValidationError("--wrap: expected post-norm or pre-norm, found \"\(wrap)\"") }
            if genotype == nil && !resume { throw ValidationError("--wrap \(wrap): the op wrapper of a genotype model (--genotype); the baseline has none") }
        }
        if backprop != nil && genotype == nil && !resume {
            throw ValidationError("--backprop applies to a genotype model (--genotype, or --resume of one)")
        }
    }

    func run() throws {
        BLAS.threads = threads
        var s = TrainingRun.Settings(data: data, source: src, target: tgt, out: out)
        s.merges = merges
        s.vocabulary = vocab
        s.genotype = genotype
        s.backprop = backprop.flatMap { BackpropMode($0) }
        s.modelWidth = d
        s.layers = layers
        s.embeddingWidth = e
        s.wrap = wrap.flatMap(OpWrap.init(rawValue:))
        s.heads = heads
        s.dropout = dropout
        s.maxTokens = maxTokens
        s.learningRate = lr
        s.warmup = warmup
        s.seed = seed
        s.maxSteps = maxSteps
        s.maxMinutes = maxMinutes
        s.validateEvery = validateEvery
        s.checkpointEvery = checkpointEvery
        s.resume = resume
        s.profile = profile
        s.profileEvery = profileEvery
        s.communicator = Processes.communicator
        let printer = ProgressPrinter()
        let outcome = try TrainingRun(s).run(observer: printer)
        printer.progress.end()
        print("done: \(outcome.steps) updates in \(duration(outcome.seconds)); \(describe(outcome.validation)); checkpoint \(outcome.checkpoint)")
        if let line = outcome.communication.summary { print(line) }
        if let profile, !outcome.profiled.isEmpty {
            print("profiled \(outcome.profiled.count) steps: \(profile)/profile.json, \(profile)/peak-memory-per-step.svg")
        }
    }
}
