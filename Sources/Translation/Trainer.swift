import Foundation
import Reversible
import TensorCore

/// Training hyper-parameters (DESIGN.md section 5's theta settings).
public struct TrainingOptions: Codable, Sendable {
    public var maxTokens = 4096
    public var peakLearningRate = 7e-4
    public var warmupSteps = 1000
    public var labelSmoothing = 0.1
    /// Largest global gradient norm (0: no clipping).
    public var clipNorm = 1.0
    public var maxSteps = 100_000
    /// Wall-clock budget in minutes (0: none).
    public var maxMinutes = 0.0
    public var validateEvery = 500
    public var checkpointEvery = 500
    public var seed: UInt64 = 1

    public init() {}

    enum CodingKeys: String, CodingKey {
        case maxTokens = "max_tokens", peakLearningRate = "peak_learning_rate", warmupSteps = "warmup_steps"
        case labelSmoothing = "label_smoothing", clipNorm = "clip_norm", maxSteps = "max_steps", maxMinutes = "max_minutes"
        case validateEvery = "validate_every", checkpointEvery = "checkpoint_every", seed
    }
}

/// The training loop for any `TranslationModel`: token-count batches in a seeded order, one
/// Adam update per batch, periodic validation and checkpoints. Everything that varies between steps (batch order,
/// dropout masks) derives from (seed, step, epoch), so a run resumed from a checkpoint
/// computes exactly the losses an uninterrupted run would.
public final class Trainer {
    public let model: any TranslationModel
    public let optimizer: Adam
    public let options: TrainingOptions
    public let batcher: TokenBatcher
    public let validation: [TokenizedPair]
    public let schedule: InverseSquareRootSchedule
    public private(set) var step = 0
    public private(set) var epoch = 0
    public private(set) var batchIndex = 0
    /// Training loss of every step run by this trainer, in order.
    public private(set) var losses: [Double] = []
    private var epochBatches: [[Int]] = []
    /// Sums the gradients of the processes a data-parallel training spans (nothing on one).
    public let reduction: GradientReduction

    /// A training on `communicator`'s processes: each computes its share of every batch (the
    /// batches themselves do not depend on how many processes there are).
    public init(model: any TranslationModel, training: [TokenizedPair], validation: [TokenizedPair], options: TrainingOptions,
                communicator: Communicator = SingleProcess()) {
        self.model = model
        self.options = options
        reduction = GradientReduction(communicator)
        self.validation = validation
        batcher = TokenBatcher(pairs: training, maxTokens: options.maxTokens, seed: options.seed)
        schedule = InverseSquareRootSchedule(peak: options.peakLearningRate, warmup: options.warmupSteps)
        optimizer = Adam(learningRate: schedule.rate(atStep: 1), beta1: 0.9, beta2: 0.98)
    }

    /// Continues from a checkpoint's weights, optimizer moments and data position.
    public func resume(from checkpoint: Checkpoint, directory: String) throws {
        try checkpoint.restore(directory: directory, into: model.parameters, optimizer: optimizer)
        step = checkpoint.step
        epoch = checkpoint.epoch
        batchIndex = checkpoint.batchIndex
        epochBatches = []
    }

    /// One update on the next batch; returns its loss and its target tokens (of the global
    /// batch, whose share this process computed).
    @discardableResult
    public func trainStep() -> (loss: Double, tokens: Int) {
        if epochBatches.isEmpty { epochBatches = batcher.batches(epoch: epoch) }
        if batchIndex >= epochBatches.count {
            epoch += 1
            batchIndex = 0
            epochBatches = batcher.batches(epoch: epoch)
        }
        let communicator = reduction.communicator
        let share = batcher.share(epochBatches[batchIndex], rank: communicator.rank, of: communicator.size)
        batchIndex += 1
        step += 1
        let parameters = model.parameters
        for p in parameters { p.tensor.grad = nil }
        let key = RandomState.mix(options.seed ^ UInt64(step) &* 0x9E37_79B9)
        let localLoss = share.batch.map { model.trainingStep($0, dropoutKey: key, labelSmoothing: options.labelSmoothing) } ?? 0
        let loss = reduction.reduce(parameters, loss: localLoss, weight: share.weight)
        if options.clipNorm > 0 { clipGradientNorm(parameters, maxNorm: options.clipNorm) }
        optimizer.learningRate = schedule.rate(atStep: step)
        optimizer.update(parameters)
        for p in parameters { p.tensor.grad = nil }
        losses.append(loss)
        return (loss, share.globalTokens)
    }

    /// Mean loss per target token over the validation pairs (no dropout). The processes of a
    /// data-parallel training take every N-th batch each and sum what they measured.
    public func validationLoss(deadline: Date? = nil) -> ValidationLoss {
        let batcher = TokenBatcher(pairs: validation, maxTokens: options.maxTokens, seed: 0)
        let batches = batcher.batches(epoch: 0)
        let communicator = reduction.communicator
        var sums = [0.0, 0.0, 0.0]  // loss x tokens, tokens, batches measured
        for (i, indices) in batches.enumerated() where i % communicator.size == communicator.rank {
            if let deadline, Date() >= deadline { break }
            let batch = batcher.batch(indices)
            sums[0] += model.evaluateLoss(batch, labelSmoothing: 0) * Double(batch.targetTokens)
            sums[1] += Double(batch.targetTokens)
            sums[2] += 1
        }
        if communicator.size > 1 { sums.withUnsafeMutableBufferPointer { communicator.sum($0) } }
        return ValidationLoss(value: sums[1] > 0 ? sums[0] / sums[1] : nil, batches: Int(sums[2]), of: batches.count)
    }

    /// The checkpoint record of the current state.
    public func checkpoint(vocabulary: String, name: String) -> Checkpoint {
        Checkpoint(model: model.architecture, options: options, step: step, epoch: epoch, batchIndex: batchIndex,
                   vocabulary: vocabulary, name: name)
    }
}

/// A validation loss and how much of the validation split it covers: a run's time limit
/// can stop it partway, and a partial figure must say so.
public struct ValidationLoss: Sendable {
    /// Per-token loss over the batches measured; nil when none was.
    public let value: Double?
    public let batches: Int
    public let of: Int
    public var complete: Bool { batches == of }
}
