import ArgumentParser
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

    /// The baseline as `revsearch train` builds it by default (d 256, 3 + 3 layers, 4 heads,
    /// dropout 0.2), stated here rather than read from the command so the figure keeps
    /// meaning the same model.
    static func modelConfig(vocabulary: Int) -> TransformerBaseline.Config {
        TransformerBaseline.Config(vocabulary: vocabulary, modelWidth: 256, encoderLayers: 3, decoderLayers: 3, heads: 4,
                                   dropout: 0.2, seed: 1)
    }

    /// `revsearch train`'s default training options (4096-token batches, peak learning rate
    /// 1e-3 after 800 warm-up steps, seed 1).
    static var trainingOptions: TrainingOptions {
        var options = TrainingOptions()
        options.maxTokens = 4096
        options.peakLearningRate = 1e-3
        options.warmupSteps = 800
        options.seed = 1
        return options
    }

    func validate() throws {
        try OptionRanges.whole("steps", steps, 1...1_000_000)
        try OptionRanges.whole("warmup-steps", warmupSteps, 0...1_000_000)
        try OptionRanges.threads(threads)
        try OptionRanges.merges(merges)
    }

    func run() throws {
        BLAS.threads = threads
        let train = try CorpusReader.load(directory: data, split: "train", source: src, target: tgt)
        let vocabulary = try vocab.map(BytePairEncoding.load) ?? BytePairEncoding.learn(train.source + train.target, merges: merges)
        let pairs = try RunVocabulary.pairs(train, vocabulary, place: "\(data)/train.{\(src),\(tgt)}", minimum: 1, purpose: "the benchmark")
        let options = Self.trainingOptions
        let config = Self.modelConfig(vocabulary: vocabulary.count)
        let model = TransformerBaseline(config)
        let trainer = Trainer(model: model, training: pairs, validation: [], options: options)
        let total = warmupSteps + steps
        let order = trainer.batcher.batches(epoch: 0)
        guard order.count >= total else {
            throw InputError("\(data): the training split makes \(order.count) batches of \(options.maxTokens) tokens; "
                           + "--warmup-steps + --steps (\(total)) must fit in one epoch")
        }
        let batches = order.prefix(total).map { indices in indices.map { pairs[$0] } }
        let parameterCount = model.parameters.map(\.tensor.count).reduce(0, +)
        if let batchesOut {
            try writeBatches(batches, config: config, options: options, optimizer: trainer.optimizer, parameters: parameterCount, to: batchesOut)
        }
        print("OpenBLAS core: \(BLAS.coreName), threads: \(BLAS.threads)")
        print("model: baseline d=\(config.modelWidth), \(config.encoderLayers)+\(config.decoderLayers) layers, \(config.heads) heads, "
              + "dropout \(config.dropout); vocabulary \(vocabulary.count); parameters: \(parameterCount)")
        var times: [Double] = [], rates: [Double] = []
        var targetTokens = 0
        for step in 0..<total {
            var tokens = 0
            let t = seconds { tokens = trainer.trainStep().tokens }
            if step >= warmupSteps {
                times.append(t)
                rates.append(Double(tokens) / t)
                targetTokens += tokens
            }
        }
        print("steps: \(steps) timed after \(warmupSteps) untimed; \(targetTokens) target tokens; loss first \(fixed(trainer.losses[0], 4)), last \(fixed(trainer.losses.last!, 4))")
        print("median step time (s): \(fixed(median(times), 4))")
        print("target tokens/s (median of steps): \(fixed(median(rates), 1))")
    }

    /// The batches file: what `benchmarks/torch_baseline.py` reads. Token ids without BOS/EOS
    /// (the trainer's decoder input is [bos] + target, its labels target + [eos], both padded
    /// with `pad`); model and training settings as run here.
    func writeBatches(_ batches: [[TokenizedPair]], config: TransformerBaseline.Config, options: TrainingOptions, optimizer: Adam,
                      parameters: Int, to path: String) throws {
        let file = BatchesFile(
            format: "revsearch-train-batches-1", vocabulary: config.vocabulary,
            pad: Int(BytePairEncoding.pad), bos: Int(BytePairEncoding.bos), eos: Int(BytePairEncoding.eos),
            parameters: parameters,
            model: .init(modelWidth: config.modelWidth, encoderLayers: config.encoderLayers, decoderLayers: config.decoderLayers,
                         heads: config.heads, feedForwardWidth: 4 * config.modelWidth, dropout: config.dropout),
            training: .init(labelSmoothing: options.labelSmoothing, clipNorm: options.clipNorm, peakLearningRate: options.peakLearningRate,
                            learningRateWarmupSteps: options.warmupSteps, beta1: optimizer.beta1, beta2: optimizer.beta2,
                            epsilon: optimizer.epsilon, maxTokens: options.maxTokens),
            threads: threads, untimedSteps: warmupSteps, timedSteps: steps,
            batches: batches.map { .init(source: $0.map { $0.source.map(Int.init) }, target: $0.map { $0.target.map(Int.init) }) })
        try AtomicFile.writeJSON(file, to: path)
    }
}

/// The JSON `revsearch bench train --batches-out` writes.
struct BatchesFile: Encodable {
    struct Model: Encodable {
        let modelWidth, encoderLayers, decoderLayers, heads, feedForwardWidth: Int
        let dropout: Double
        enum CodingKeys: String, CodingKey {
            case modelWidth = "d", encoderLayers = "encoder_layers", decoderLayers = "decoder_layers", heads
            case feedForwardWidth = "ffn", dropout
        }
    }

    struct Training: Encodable {
        let labelSmoothing, clipNorm, peakLearningRate: Double
        let learningRateWarmupSteps: Int
        let beta1, beta2, epsilon: Double
        let maxTokens: Int
        enum CodingKeys: String, CodingKey {
            case labelSmoothing = "label_smoothing", clipNorm = "clip_norm", peakLearningRate = "peak_learning_rate"
            case learningRateWarmupSteps = "learning_rate_warmup_steps", beta1, beta2, epsilon, maxTokens = "max_tokens"
        }
    }

    struct Batch: Encodable {
        let source: [[Int]]
        let target: [[Int]]
    }

    let format: String
    let vocabulary, pad, bos, eos, parameters: Int
    let model: Model
    let training: Training
    let threads, untimedSteps, timedSteps: Int
    let batches: [Batch]

    enum CodingKeys: String, CodingKey {
        case format, vocabulary, pad, bos, eos, parameters, model, training, threads
        case untimedSteps = "untimed_steps", timedSteps = "timed_steps", batches
    }
}
