import ArgumentParser
import Benchmarks
import Foundation
import InstrumentedRun
import TensorCore
import Translation
import Verifier

/// `revsearch bench train`: training throughput of the baseline Transformer on real batches.
/// It runs `Trainer` steps (forward, backward, clipping, Adam) on the first batches of the
/// seeded order `revsearch train` would use, and reports the median step time and target
/// tokens per second. `--batches-out` writes those batches' token ids with the model and
/// training settings, so another implementation (benchmarks/torch_baseline.py) can train
/// the same model on exactly the same batches and the two figures compare like with like.
struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training-step time and target tokens/s of the baseline on a corpus's first batches (medians)."
    )

    @Option(help: "Corpus directory holding <split>.<lang>[.gz].") var data: String
    @Option(help: "Source language.") var src: String
    @Option(help: "Target language.") var tgt: String
    @Option(help: "Timed steps.") var steps = 30
    @Option(help: "Untimed steps before the timed ones (first allocations, thread start-up).") var warmupSteps = 3
    @Option(help: "OpenBLAS threads.") var threads = 2
    @Option(help: "Write the batches' token ids and the model settings here (JSON).") var batchesOut: String?
    @Option(help: "Load this BPE vocabulary (vocab.json) instead of learning one.") var vocab: String?
    @Option(help: "BPE merges to learn when no --vocab is given.") var merges = 8000

    func validate() throws {
        try OptionRanges.whole("steps", steps, 1...1_000_000)
        try OptionRanges.whole("warmup-steps", warmupSteps, 0...1_000_000)
        try OptionRanges.threads(threads)
        try OptionRanges.merges(merges)
    }

    func run() throws {
        BLAS.threads = threads
        let bench = try TrainingBenchmark(data: data, source: src, target: tgt, vocabulary: vocab, merges: merges,
                                          untimedSteps: warmupSteps, steps: steps)
        if let batchesOut { try bench.writeBatches(threads: threads, to: batchesOut) }
        let config = bench.config
        print("OpenBLAS core: \(BLAS.coreName), threads: \(BLAS.threads)")
        print("model: baseline d=\(config.modelWidth), \(config.encoderLayers)+\(config.decoderLayers) layers, \(config.heads) heads, "
              + "dropout \(config.dropout); vocabulary \(config.vocabulary); parameters: \(bench.parameterCount)")
        let timed = bench.run()
        let losses = bench.trainer.losses
        print("steps: \(steps) timed after \(warmupSteps) untimed; \(timed.map(\.tokens).reduce(0, +)) target tokens; "
              + "loss first \(fixed(losses.first ?? .nan, 4)), last \(fixed(losses.last ?? .nan, 4))")
        print("median step time (s): \(fixed(median(timed.map(\.seconds)), 4))")
        print("target tokens/s (median of steps): \(fixed(median(timed.map { Double($0.tokens) / $0.seconds }), 1))")
    }
}
