import Foundation
import Reversible
import TensorCore
import Translation

/// DARTS' bilevel optimisation (DESIGN.md section 5) of a reversible super-network: the
/// weights theta descend L_train on one half of the training data, the architecture weights
/// alpha descend L_val on the other half, one step each in turn. First order uses
/// grad_alpha L_val(theta); second order DARTS' unrolled step with a finite-difference
/// Hessian-vector product.
public final class BilevelSearch {
    public enum Order: Int, Sendable, Codable, ListedCases { case first = 1, second = 2 }

    public struct Options: Sendable, Codable {
        public var order = Order.first
        public var mode = BackpropMode.reconstruction
        public var maxTokens = 2048
        public var thetaPeakLearningRate = 1e-3
        public var thetaWarmup = 400
        public var alphaLearningRate = 3e-4
        public var alphaWeightDecay = 1e-3
        public var labelSmoothing = 0.1
        public var clipNorm = 1.0
        /// The finite-difference step of the Hessian-vector product, over ||v|| (DARTS: 0.01).
        public var hessianStep = 0.01
        /// lambda of an entropy term alpha's objective adds: L_val + lambda * sum over nodes of
        /// H(softmax(alpha)) in nats. Positive values push every node toward one op, as
        /// DARTS variants do against a search that never decides; 0 (the default) is DARTS.
        public var alphaEntropyWeight = 0.0
        /// Steps that update theta only, before alpha's first update: ops that start slowly
        /// (attention, convolutions) train before alpha ranks them, against DARTS' bias toward
        /// the ops that cut the loss fastest early (the weight warm-up of ProxylessNAS and
        /// DARTS+). These steps still measure L_val, forward only; 0 (the default) is DARTS.
        public var alphaWarmup = 0
        public var seed: UInt64 = 1
        public init() {}

        enum CodingKeys: String, CodingKey {
            case order, mode, seed
            case maxTokens = "max_tokens", thetaPeakLearningRate = "theta_peak_learning_rate", thetaWarmup = "theta_warmup"
            case alphaLearningRate = "alpha_learning_rate", alphaWeightDecay = "alpha_weight_decay"
            case labelSmoothing = "label_smoothing", clipNorm = "clip_norm", hessianStep = "hessian_step"
            case alphaEntropyWeight = "alpha_entropy_weight", alphaWarmup = "alpha_warmup"
        }

        /// Checkpoints written before the entropy term or the alpha warm-up have neither: both were 0.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            order = try c.decode(Order.self, forKey: .order)
            mode = try c.decode(BackpropMode.self, forKey: .mode)
            maxTokens = try c.decode(Int.self, forKey: .maxTokens)
            thetaPeakLearningRate = try c.decode(Double.self, forKey: .thetaPeakLearningRate)
            thetaWarmup = try c.decode(Int.self, forKey: .thetaWarmup)
            alphaLearningRate = try c.decode(Double.self, forKey: .alphaLearningRate)
            alphaWeightDecay = try c.decode(Double.self, forKey: .alphaWeightDecay)
            labelSmoothing = try c.decode(Double.self, forKey: .labelSmoothing)
            clipNorm = try c.decode(Double.self, forKey: .clipNorm)
            hessianStep = try c.decode(Double.self, forKey: .hessianStep)
            alphaEntropyWeight = try c.decodeIfPresent(Double.self, forKey: .alphaEntropyWeight) ?? 0
            alphaWarmup = try c.decodeIfPresent(Int.self, forKey: .alphaWarmup) ?? 0
            seed = try c.decode(UInt64.self, forKey: .seed)
        }
    }

    /// H(softmax(alpha)) in nats and its gradient with respect to alpha:
    /// dH/dalpha_j = -p_j (log p_j + H).
    public static func entropy(ofSoftmax alpha: [Double]) -> (entropy: Double, gradient: [Double]) {
        guard let top = alpha.max() else { return (0, []) }
        let e = alpha.map { Foundation.exp($0 - top) }
        let total = e.reduce(0, +)
        let logP = e.map { Foundation.log($0 / total) }
        let p = e.map { $0 / total }
        let h = -zip(p, logP).reduce(0) { $0 + $1.0 * $1.1 }
        return (h, zip(p, logP).map { -$0 * ($1 + h) })
    }

    public let model: ReversibleTransformer
    public let options: Options
    public let backprop: BackpropMode
    public let thetaOptimizer: Adam
    public let alphaOptimizer: Adam
    let trainHalf: TokenBatcher
    let validationHalf: TokenBatcher
    let schedule: InverseSquareRootSchedule
    public private(set) var stepCount = 0
    public private(set) var epoch = 0
    public private(set) var batchIndex = 0
    private var trainBatches: [[Int]] = []
    private var validationBatches: [[Int]] = []
    /// Sums the gradients of the processes a data-parallel search spans (nothing on one).
    public let reduction: GradientReduction

    /// Splits `pairs` into two disjoint halves by a seeded shuffle: theta's and alpha's. On
    /// `communicator`'s processes, each computes its share of every batch (the batches do
    /// not depend on how many processes there are).
    public init(model: ReversibleTransformer, pairs: [TokenizedPair], options: Options, communicator: Communicator = SingleProcess()) throws {
        self.model = model
        self.options = options
        reduction = GradientReduction(communicator)
        weights = model.parameters.filter { !$0.name.hasSuffix(".alpha") }
        backprop = options.mode
        var rng = RandomState(seed: options.seed ^ 0xda75)
        let order = pairs.indices.shuffled(using: &rng)
        let half = order.count / 2
        trainHalf = TokenBatcher(pairs: order[..<half].map { pairs[$0] }, maxTokens: options.maxTokens, seed: options.seed)
        validationHalf = TokenBatcher(pairs: order[half...].map { pairs[$0] }, maxTokens: options.maxTokens, seed: options.seed ^ 1)
        schedule = InverseSquareRootSchedule(peak: options.thetaPeakLearningRate, warmup: options.thetaWarmup)
        thetaOptimizer = Adam(learningRate: schedule.rate(atStep: 1), beta1: 0.9, beta2: 0.98)
        alphaOptimizer = Adam(learningRate: options.alphaLearningRate, beta1: 0.9, beta2: 0.98, weightDecay: options.alphaWeightDecay)
    }

    /// Theta: every weight but the alphas (listed once).
    public let weights: [(name: String, tensor: Tensor)]
    public var alphas: [(name: String, tensor: Tensor)] { model.alphas }

    /// This process's shares of the next pair of batches (one from each half), advancing the data position.
    func nextBatches() -> (train: BatchShare, validation: BatchShare) {
        if trainBatches.isEmpty || validationBatches.isEmpty { trainBatches = trainHalf.batches(epoch: epoch); validationBatches = validationHalf.batches(epoch: epoch) }
        if batchIndex >= min(trainBatches.count, validationBatches.count) {
            epoch += 1
            batchIndex = 0
            trainBatches = trainHalf.batches(epoch: epoch)
            validationBatches = validationHalf.batches(epoch: epoch)
        }
        defer { batchIndex += 1 }
        let (rank, size) = (reduction.communicator.rank, reduction.communicator.size)
        return (trainHalf.share(trainBatches[batchIndex], rank: rank, of: size),
                validationHalf.share(validationBatches[batchIndex], rank: rank, of: size))
    }

    /// The first `count` of alpha's epoch-0 batches (batches are shuffled, so a sample of
    /// every length): the data a derivation measures the trained super-network on, the same
    /// for every derivation of the search. Fewer when the half has fewer.
    public func validationSample(batches count: Int) -> [Seq2SeqBatch] {
        validationHalf.batches(epoch: 0).prefix(max(count, 0)).map(validationHalf.batch)
    }

    /// What one search step did.
    public struct StepResult: Sendable {
        /// L_train on theta's batch (before theta's update) and L_val on alpha's.
        public let trainLoss: Double
        public let validationLoss: Double
        /// Target tokens of the two batches.
        public let tokens: Int
        /// Theta's learning rate in this step.
        public let learningRate: Double
    }

    /// The theta batch of the last step (this process's share; nil if it had no rows), and
    /// the dropout key it ran with: what a verifier checks "on the current batch and weights".
    public private(set) var lastTrainBatch: (batch: Seq2SeqBatch, dropoutKey: UInt64)?
    /// Alpha's batch of the last step and its dropout key: with `lastTrainBatch`, all a
    /// replay of the step needs besides the weights before it.
    public private(set) var lastValidationBatch: (batch: Seq2SeqBatch, dropoutKey: UInt64)?

    /// Continues after `step` steps, at data position (`epoch`, `batchIndex`): the batch
    /// order and every dropout key derive from the seed, the epoch and the step, so nothing
    /// else needs saving for a resumed search to repeat an uninterrupted one.
    public func resume(step: Int, epoch: Int, batchIndex: Int) {
        stepCount = step
        self.epoch = epoch
        self.batchIndex = batchIndex
        trainBatches = []
        validationBatches = []
    }

    /// Alpha's updates after `step` search steps (none in the warm-up): what its Adam's bias
    /// correction counts, so a resumed search restores it.
    public func alphaUpdates(afterStep step: Int) -> Int { max(step - options.alphaWarmup, 0) }

    /// One alpha step then one theta step (DARTS' order); in alpha's warm-up, L_val measured
    /// and theta's step alone.
    @discardableResult
    public func step() -> StepResult {
        let (train, validation) = nextBatches()
        stepCount += 1
        let key = RandomState.mix(options.seed ^ UInt64(stepCount) &* 0x9E37_79B9)
        thetaOptimizer.learningRate = schedule.rate(atStep: stepCount)
        let validationLoss = stepCount > options.alphaWarmup ? alphaStep(train: train, validation: validation, key: key)
            : reduction.reduce([], loss: validation.batch.map {
                model.evaluateLoss($0, dropoutKey: key ^ 1, training: true, labelSmoothing: options.labelSmoothing)
            } ?? 0, weight: validation.weight)
        // Theta.
        zero()
        let thetas = weights
        let trainLoss = gradients(train, dropoutKey: key ^ 2, summing: thetas)
        if options.clipNorm > 0 { clipGradientNorm(thetas, maxNorm: options.clipNorm) }
        thetaOptimizer.update(thetas)
        zero()
        lastTrainBatch = train.batch.map { ($0, key ^ 2) }
        lastValidationBatch = validation.batch.map { ($0, key ^ 1) }
        return StepResult(trainLoss: trainLoss, validationLoss: validationLoss, tokens: train.globalTokens + validation.globalTokens,
                          learningRate: thetaOptimizer.learningRate)
    }

    /// Alpha's update on `validation` (first or second order, plus the entropy term): returns L_val.
    private func alphaStep(train: BatchShare, validation: BatchShare, key: UInt64) -> Double {
        let validationLoss: Double
        let alphaGradients: [Tensor]
        switch options.order {
        case .first:
            zero()
            validationLoss = gradients(validation, dropoutKey: key ^ 1, summing: alphas)
            alphaGradients = alphas.map { $0.tensor.grad ?? Tensor(zeros: $0.tensor.shape, dtype: $0.tensor.dtype, category: .gradient) }
        case .second:
            (validationLoss, alphaGradients) = unrolledAlphaGradient(train: train, validation: validation, key: key)
        }
        zero()
        for (alpha, gradient) in zip(alphas, alphaGradients) {
            alpha.tensor.grad = options.alphaEntropyWeight > 0 ? withEntropyTerm(gradient, alpha: alpha.tensor) : gradient
        }
        alphaOptimizer.update(alphas)
        return validationLoss
    }

    func zero() { for p in model.parameters { p.tensor.grad = nil } }

    /// Forward and backward of this process's share, then the gradients of `parameters`
    /// summed over the processes: returns the global batch's loss.
    @discardableResult
    func gradients(_ share: BatchShare, dropoutKey: UInt64, summing parameters: [(name: String, tensor: Tensor)]) -> Double {
        let loss = share.batch.map { model.trainingStep($0, mode: backprop, dropoutKey: dropoutKey, labelSmoothing: options.labelSmoothing) } ?? 0
        return reduction.reduce(parameters, loss: loss, weight: share.weight)
    }

    /// `gradient` plus lambda * dH(softmax(alpha))/dalpha.
    private func withEntropyTerm(_ gradient: Tensor, alpha: Tensor) -> Tensor {
        let term = BilevelSearch.entropy(ofSoftmax: alpha.scalars).gradient
        let sum = zip(gradient.scalars, term).map { $0 + options.alphaEntropyWeight * $1 }
        return Tensor(shape: gradient.shape, scalars: sum, dtype: gradient.dtype, category: .gradient)
    }

    /// DARTS' second-order alpha gradient:
    /// grad_alpha L_val(theta') - eta [grad_alpha L_train(theta+) - grad_alpha L_train(theta-)] / (2 eps),
    /// theta' = theta - eta grad_theta L_train(theta), theta+- = theta +- eps grad_theta' L_val(theta'),
    /// eps = hessianStep / ||grad_theta' L_val(theta')|| (DARTS: 0.01); eta is theta's current learning rate.
    /// The batches are whole, one process's: a data-parallel search's steps pass their shares.
    public func unrolledAlphaGradient(train: Seq2SeqBatch, validation: Seq2SeqBatch, key: UInt64) -> (loss: Double, gradients: [Tensor]) {
        unrolledAlphaGradient(train: BatchShare(whole: train), validation: BatchShare(whole: validation), key: key)
    }

    /// The same on this process's shares: every gradient is summed over the processes
    /// before it is used, so each process holds the global batch's figures.
    func unrolledAlphaGradient(train: BatchShare, validation: BatchShare, key: UInt64) -> (loss: Double, gradients: [Tensor]) {
        let eta = thetaOptimizer.learningRate
        let thetas = weights.map(\.tensor)
        let saved = thetas.map { $0.converted(to: $0.dtype, category: .workspace) }
        func alphaGradients() -> [Tensor] {
            alphas.map { $0.tensor.grad?.converted(to: $0.tensor.dtype, category: .gradient) ?? Tensor(zeros: $0.tensor.shape, dtype: $0.tensor.dtype, category: .gradient) }
        }
        // theta' = theta - eta grad_theta L_train(theta)
        zero()
        gradients(train, dropoutKey: key ^ 3, summing: weights)
        for t in thetas { if let g = t.grad { axpy(t, -eta, g) } }
        // At theta': grad_alpha L_val and v = grad_theta' L_val.
        zero()
        let loss = gradients(validation, dropoutKey: key ^ 1, summing: model.parameters)
        let direct = alphaGradients()
        let v = thetas.map { $0.grad?.converted(to: $0.dtype, category: .workspace) }
        let norm = v.compactMap { $0?.scalars }.joined().reduce(0) { $0 + $1 * $1 }.squareRoot()
        let eps = options.hessianStep / max(norm, 1e-12)
        func gradientAt(_ sign: Double) -> [Tensor] {
            restore(thetas, from: saved)
            for (t, d) in zip(thetas, v) { if let d { axpy(t, sign * eps, d) } }
            zero()
            gradients(train, dropoutKey: key ^ 3, summing: alphas)
            return alphaGradients()
        }
        let plus = gradientAt(1), minus = gradientAt(-1)
        restore(thetas, from: saved)
        zero()
        let unrolled = zip(direct, zip(plus, minus)).map { d, pm -> Tensor in
            let out = d.converted(to: d.dtype, category: .gradient)
            axpy(out, -eta / (2 * eps), pm.0)
            axpy(out, eta / (2 * eps), pm.1)
            return out
        }
        return (loss, unrolled)
    }
}

/// Copies the saved values back into the weights, in place (nothing to copy in a shape-only dry run).
func restore(_ thetas: [Tensor], from saved: [Tensor]) {
    for (t, s) in zip(thetas, saved) where t.holdsValues && s.holdsValues {
        t.buffer.raw.copyMemory(from: s.buffer.raw, byteCount: t.count * t.dtype.size)
    }
}

/// y += a x, in place (weights and gradient buffers the search owns).
func axpy(_ y: Tensor, _ a: Double, _ x: Tensor) {
    precondition(y.shape == x.shape && y.dtype == x.dtype)
    guard y.holdsValues && x.holdsValues else { return }
    switch y.dtype {
    case .float32:
        let (py, px) = (y.pointer(Float.self), x.pointer(Float.self))
        for i in 0..<y.count { py[i] += Float(a) * px[i] }
    case .float64:
        let (py, px) = (y.pointer(Double.self), x.pointer(Double.self))
        for i in 0..<y.count { py[i] += a * px[i] }
    }
}
