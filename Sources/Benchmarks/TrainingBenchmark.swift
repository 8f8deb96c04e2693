import Foundation
import InstrumentedRun
import TensorCore
import Translation

/// What `revsearch bench train` measures: `Trainer` steps (forward, backward, clipping,
/// Adam) of the baseline Transformer on the first batches of the seeded order `revsearch
/// train` would use; step times and target tokens per second. The batches can be written
/// out (`BatchesFile`) so another implementation (benchmarks/torch_baseline.py) trains the
/// same model on exactly the same batches.
package struct TrainingBenchmark {
    /// The baseline as `revsearch train` builds it by default (d 256, 3 + 3 layers, 4 heads,
    /// dropout 0.2), stated here rather than read from the command so the figure keeps
    /// meaning the same model.
    package static func modelConfig(vocabulary: Int) -> TransformerBaseline.Config {
        TransformerBaseline.Config(vocabulary: vocabulary, modelWidth: 256, encoderLayers: 3, decoderLayers: 3, heads: 4,
                                   dropout: 0.2, seed: 1)
    }

    /// `revsearch train`'s default training options (4096-token batches, peak learning rate
    /// 1e-3 after 800 warm-up steps, seed 1).
    package static var trainingOptions: TrainingOptions {
        var options = TrainingOptions()
        options.maxTokens = 4096
        options.peakLearningRate = 1e-3
        options.warmupSteps = 800
        options.seed = 1
        return options
    }

    package let config: TransformerBaseline.Config
    package let trainer: Trainer
    package let batches: [[TokenizedPair]]
    package let untimedSteps: Int
    package var parameterCount: Int { trainer.model.parameters.map(\.tensor.count).reduce(0, +) }

    /// Reads the corpus, learns (or loads) the vocabulary and takes the first
    /// `untimedSteps + steps` batches of the first epoch.
    package init(data: String, source: String, target: String, vocabulary path: String?, merges: Int, untimedSteps: Int, steps: Int) throws {
        let train = try CorpusReader.load(directory: data, split: "train", source: source, target: target)
        let vocabulary = try path.map(BytePairEncoding.load) ?? BytePairEncoding.learn(train.source + train.target, merges: merges)
        let pairs = try RunVocabulary.pairs(train, vocabulary, place: "\(data)/train.{\(source),\(target)}", minimum: 1, purpose: "the benchmark")
        let options = Self.trainingOptions
        config = Self.modelConfig(vocabulary: vocabulary.count)
        trainer = Trainer(model: TransformerBaseline(config), training: pairs, validation: [], options: options)
        let total = untimedSteps + steps
        let order = trainer.batcher.batches(epoch: 0)
        guard order.count >= total else {
            throw InputError("\(data): the training split makes \(order.count) batches of \(options.maxTokens) tokens; "
                             + "--warmup-steps + --steps (\(total)) must fit in one epoch")
        }
        batches = order.prefix(total).map { indices in indices.map { pairs[$0] } }
        self.untimedSteps = untimedSteps
    }

    /// Runs every batch; the timed steps' seconds and target tokens.
    package func run() -> [(seconds: Double, tokens: Int)] {
        var timed: [(seconds: Double, tokens: Int)] = []
        for step in batches.indices {
            var tokens = 0
            let t = seconds { tokens = trainer.trainStep().tokens }
            if step >= untimedSteps { timed.append((t, tokens)) }
        }
        return timed
    }

    /// The batches file: what `benchmarks/torch_baseline.py` reads. Token ids without BOS/EOS
    /// (the trainer's decoder input is [bos] + target, its labels target + [eos], both padded
    /// with `pad`); model and training settings as run here.
    package func writeBatches(threads: Int, to path: String) throws {
        let options = trainer.options, optimizer = trainer.optimizer
        let file = BatchesFile(
            format: "revsearch-train-batches-1", vocabulary: config.vocabulary,
            pad: Int(BytePairEncoding.pad), bos: Int(BytePairEncoding.bos), eos: Int(BytePairEncoding.eos),
            parameters: parameterCount,
            model: .init(modelWidth: config.modelWidth, encoderLayers: config.encoderLayers, decoderLayers: config.decoderLayers,
                         heads: config.heads, feedForwardWidth: 4 * config.modelWidth, dropout: config.dropout),
            training: .init(labelSmoothing: options.labelSmoothing, clipNorm: options.clipNorm, peakLearningRate: options.peakLearningRate,
                            learningRateWarmupSteps: options.warmupSteps, beta1: optimizer.beta1, beta2: optimizer.beta2,
                            epsilon: optimizer.epsilon, maxTokens: options.maxTokens),
            threads: threads, untimedSteps: untimedSteps, timedSteps: batches.count - untimedSteps,
            batches: batches.map { .init(source: $0.map { $0.source.map(Int.init) }, target: $0.map { $0.target.map(Int.init) }) })
        try AtomicFile.writeJSON(file, to: path)
    }
}

/// The JSON `revsearch bench train --batches-out` writes.
package struct BatchesFile: Encodable {
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
