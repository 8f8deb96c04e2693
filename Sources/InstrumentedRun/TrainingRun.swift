import Foundation
import Ops
import Profiler
import Reversible
import Search
import TensorCore
import Translation

/// An instrumented training of the baseline Transformer or of a derived reversible model
/// (`revsearch train` is option parsing around it): the run directory locked, the corpus
/// read and fingerprinted, the vocabulary learned or reused, checkpoints committed
/// atomically, exact resume, periodic validation, a divergence stopped at its step, and the
/// memory profiler attached to sampled steps through the allocator hooks.
public struct TrainingRun {
    /// What to train, how long, and which instruments to attach.
    public struct Settings {
        /// Corpus directory holding <split>.<lang>[.gz] (train and val splits).
        public var data: String
        /// The source language (file suffix).
        public var source: String
        /// The target language (file suffix).
        public var target: String
        /// Run directory: vocabulary, checkpoints, train.csv, profile.
        public var out: String
        /// BPE merges to learn when the run has no vocabulary yet.
        public var merges = 8000
        /// A vocabulary file to use instead of learning one (copied into the run).
        public var vocabulary: String?
        /// A derived genotype: train that reversible model instead of the baseline.
        public var genotype: String?
        /// A genotype model's backprop (default full); on resume, replaces the checkpoint's.
        public var backprop: BackpropMode?
        // The options that shape the model or the optimisation are optional: nil is the
        // default on a fresh run and the checkpoint's value on a resume, where a value given
        // must match the checkpoint's.
        /// The baseline's width (default 256).
        public var modelWidth: Int?
        /// Encoder and decoder layers each (default 3 for the baseline, 6 for a genotype model).
        public var layers: Int?
        /// A genotype model's embedding width e (default: the genotype's).
        public var embeddingWidth: Int?
        /// A genotype model's op wrapper (default: the genotype's).
        public var wrap: OpWrap?
        /// Attention heads (default 4).
        public var heads: Int?
        /// Dropout (default 0.2).
        public var dropout: Double?
        /// Tokens per batch, sentences x longest side (default 4096).
        public var maxTokens: Int?
        /// Peak learning rate (default 1e-3).
        public var learningRate: Double?
        /// Warm-up steps (default 800).
        public var warmup: Int?
        /// Seed of the weights, data order and dropout (default 1).
        public var seed: UInt64?
        /// Stop after this many updates.
        public var maxSteps = 100_000
        /// Bounds the whole run, validations included (0: no limit).
        public var maxMinutes = 0.0
        /// Measure the validation loss every N updates.
        public var validateEvery = 500
        /// Commit a checkpoint every N updates (and at the end).
        public var checkpointEvery = 500
        /// Continue from the run's checkpoint exactly where it stopped.
        public var resume = false
        /// Attach the memory profiler to every `profileEvery`-th step and write its figures here.
        public var profile: String?
        /// With `profile`: which steps (every N-th).
        public var profileEvery = 100
        /// Where a genotype's ops come from: the standard ones plus any a user registers.
        public var registry = OpRegistry.standard
        /// The processes the training spans (`mpirun -np N`): each computes its share of every
        /// batch; rank 0 alone writes the run's files.
        public var communicator: Communicator = SingleProcess()

        /// Settings with the defaults of `revsearch train`.
        public init(data: String, source: String, target: String, out: String) {
            self.data = data; self.source = source; self.target = target; self.out = out
        }
    }

    /// What a finished training leaves for its caller.
    public struct Outcome {
        /// Updates done in all (a resumed run counts from the start).
        public let steps: Int
        /// This session's wall-clock time.
        public let seconds: Double
        /// The final validation loss (partial if the time limit cut it short).
        public let validation: ValidationLoss
        /// The checkpoint JSON's path.
        public let checkpoint: String
        /// The sampled steps' memory profiles (with `profile`).
        public let profiled: [ProfileRun]
        /// How the steps' time split into computing and summing gradients over processes.
        public let communication: Communication
    }

    /// What this run trains.
    public let settings: Settings

    /// A training with these settings; `run` runs it.
    public init(_ settings: Settings) { self.settings = settings }

    /// The run's checkpoint JSON.
    public var checkpointPath: String { "\(settings.out)/checkpoint.json" }

    /// Runs the training to its update or time limit, reporting to `observer`. Throws
    /// `InputError` for input it cannot use and `CheckFailed` for a divergence (the last good
    /// checkpoint kept).
    public func run(observer: RunObserver? = nil) throws -> Outcome {
        let s = settings
        let start = Date()
        // A bad genotype fails before the corpus is read and the vocabulary learned.
        let derived = s.resume ? nil : try s.genotype.map { try DerivedModel.load($0, heads: s.heads ?? 4, registry: s.registry) }
        let communicator = s.communicator
        let directory = try RunDirectory.forRank(s.out, kind: "training", checkpointName: "checkpoint", resume: s.resume, communicator)
        // The directory's lock is held until the run has written its last file, whichever way it ends.
        defer { withExtendedLifetime(directory) {} }
        let train = try CorpusReader.load(directory: s.data, split: "train", source: s.source, target: s.target)
        let valid = try CorpusReader.load(directory: s.data, split: "val", source: s.source, target: s.target)
        let corpus = CorpusFingerprint.pairs(train)
        // Rank 0 learns or copies the vocabulary; the others read what it wrote.
        let vocabulary = try communicator.rankZeroFirst {
            try RunVocabulary.loadOrLearn(run: s.out, corpus: train, given: s.vocabulary, merges: s.merges, resuming: s.resume, communicator: communicator)
        }
        var options = TrainingOptions()
        options.maxTokens = s.maxTokens ?? 4096
        options.peakLearningRate = s.learningRate ?? 1e-3
        options.warmupSteps = s.warmup ?? 800
        options.seed = s.seed ?? 1
        var checkpoint: Checkpoint?
        if s.resume {
            let record = try Checkpoint.load(checkpointPath)
            if let recorded = record.corpusSHA256, recorded != corpus {
                throw InputError("\(s.data): not the corpus this training was started on (the training pairs' SHA-256 differs from the one \(checkpointPath) records)")
            }
            try checkResumeOptions(record)
            options = record.options
            checkpoint = record
        }
        // The schedule of stops, checks and checkpoints is the caller's; the rest the run's.
        options.maxSteps = s.maxSteps
        options.maxMinutes = s.maxMinutes
        options.validateEvery = s.validateEvery
        options.checkpointEvery = s.checkpointEvery
        directory?.sweep(keeping: checkpoint?.weights)
        let architecture = try self.architecture(vocabulary: vocabulary.count, genotype: derived, resuming: checkpoint)
        let model: any TranslationModel
        // Only a hand-edited checkpoint can hold an unbuildable config: fresh ones are validated above.
        do { model = try architecture.build(registry: s.registry) } catch { throw InputError("\(checkpointPath): \(error)") }
        let trainer = Trainer(model: model,
                              training: try RunVocabulary.pairs(train, vocabulary, place: "\(s.data)/train.{\(s.source),\(s.target)}", minimum: 1, purpose: "training"),
                              validation: try RunVocabulary.pairs(valid, vocabulary, place: "\(s.data)/val.{\(s.source),\(s.target)}", minimum: 1, purpose: "validation"),
                              options: options, communicator: communicator)
        if let checkpoint { try trainer.resume(from: checkpoint, directory: s.out) }
        let parameterCount = trainer.model.parameters.map(\.tensor.count).reduce(0, +)
        observer?.observe(.started(summary: "OpenBLAS core: \(BLAS.coreName), threads \(BLAS.threads); \(train.count) training pairs, "
                                   + "vocabulary \(vocabulary.count); \(architecture), \(parameterCount) parameters",
                                   resumedAtStep: s.resume ? trainer.step : nil))
        // A resumed run drops the rows logged after its checkpoint: they are computed again.
        let log = communicator.writesFiles
            ? try CSVLog("\(s.out)/train.csv", header: "step,epoch,loss,learning_rate,tokens_per_second,validation_loss,seconds",
                         keepingStepsThrough: s.resume ? trainer.step : nil) : nil
        var profiled: [ProfileRun] = []
        var stepSeconds = 0.0
        let firstStep = trainer.step
        let deadline = options.maxMinutes > 0 ? start.addingTimeInterval(options.maxMinutes * 60) : nil
        while trainer.step < options.maxSteps {
            if let deadline, communicator.any(Date() >= deadline) { break }
            let profiler = s.profile != nil && (trainer.step + 1) % s.profileEvery == 0 ? MemoryProfiler(recordsEvents: false) : nil
            if let profiler { Runtime.current.attach(profiler) }
            let stepStart = Date()
            let (loss, tokens) = trainer.trainStep()
            let seconds = Date().timeIntervalSince(stepStart)
            stepSeconds += seconds
            // Every process decides together (the weights are equal on all; a lone stop would leave the others waiting).
            if communicator.any(!(loss.isFinite && allFinite(trainer.model.parameters.map(\.tensor)))) {
                let last = (try? Checkpoint.load(checkpointPath)).map { "The last good checkpoint is at step \($0.step) (\(checkpointPath))." }
                    ?? "No checkpoint was written before it."
                throw CheckFailed("step \(trainer.step): the training diverged (loss \(loss)\(loss.isFinite ? ", non-finite weights" : "")); "
                                  + "the run stopped without saving this step. \(last) Lower --lr and start again.")
            }
            if let profiler {
                Runtime.current.detach(profiler)
                profiled.append(profiler.run(mode: "step \(trainer.step)", depth: architecture.encoderLayers))
            }
            let rate = Double(tokens) / max(seconds, 1e-9)
            var validation = ""
            if trainer.step % options.validateEvery == 0 {
                let v = trainer.validationLoss(deadline: deadline)
                // Only a whole-split figure goes in the log; a partial one is reported as such.
                if v.complete, let value = v.value { validation = String(format: "%.4f", value) }
                observer?.observe(.validated(step: trainer.step, loss: v))
            }
            try log?.append([String(trainer.step), String(trainer.epoch), String(loss), String(trainer.optimizer.learningRate), String(Int(rate)),
                            validation, String(Int(Date().timeIntervalSince(start)))])
            if trainer.step % options.checkpointEvery == 0 { try save(trainer, corpus: corpus) }
            let elapsed = Date().timeIntervalSince(start)
            let perStep = elapsed / Double(max(trainer.step - firstStep, 1))
            let remaining = Double(options.maxSteps - trainer.step) * perStep
            observer?.observe(.trainingStep(TrainingStepEvent(step: trainer.step, maxSteps: options.maxSteps, epoch: trainer.epoch, loss: loss,
                                                              tokensPerSecond: rate, learningRate: trainer.optimizer.learningRate,
                                                              secondsRemaining: deadline.map { min(remaining, $0.timeIntervalSinceNow) } ?? remaining)))
        }
        try save(trainer, corpus: corpus)
        let validation = trainer.validationLoss(deadline: deadline)
        if let directory = s.profile, communicator.writesFiles { try writeProfile(profiled, to: directory) }
        return Outcome(steps: trainer.step, seconds: Date().timeIntervalSince(start), validation: validation, checkpoint: checkpointPath,
                       profiled: profiled, communication: Communication(trainer.reduction, stepSeconds: stepSeconds))
    }

    /// The model to train: the checkpoint's when resuming (with `backprop`, if given, in
    /// place of its mode), else the genotype's, else the baseline.
    func architecture(vocabulary: Int, genotype derived: Genotype?, resuming checkpoint: Checkpoint?) throws -> ModelArchitecture {
        let s = settings
        if let checkpoint {
            guard let mode = s.backprop else { return checkpoint.model }
            guard case .reversible(var setup) = checkpoint.model else {
                throw InputError("--backprop applies to a genotype model; \(checkpointPath) holds the baseline", usage: true)
            }
            setup.backprop = mode
            return .reversible(setup)
        }
        if let derived, let path = s.genotype {
            return .reversible(try DerivedModel.setup(derived, path: path, layers: s.layers ?? 6, heads: s.heads ?? 4, dropout: s.dropout ?? 0.2,
                                                      vocabulary: vocabulary, seed: s.seed ?? 1, backprop: s.backprop ?? .full,
                                                      embeddingWidth: s.embeddingWidth, wrap: s.wrap, registry: s.registry))
        }
        return .baseline(.init(vocabulary: vocabulary, modelWidth: s.modelWidth ?? 256, encoderLayers: s.layers ?? 3, decoderLayers: s.layers ?? 3,
                               heads: s.heads ?? 4, dropout: s.dropout ?? 0.2, seed: s.seed ?? 1))
    }

    /// A resumed training keeps the model and optimisation of its checkpoint: an option given
    /// again must match them, or the resume is refused naming what differs.
    func checkResumeOptions(_ record: Checkpoint) throws {
        let s = settings
        if let genotype = s.genotype {
            throw InputError("\(checkpointPath): --genotype \(genotype) with --resume: the run keeps the model it was started with; drop --genotype")
        }
        try ResumeOptions.refuseOtherVocabulary(s.vocabulary, run: s.out)
        let o = record.options
        var given: [(option: String, value: String?, recorded: String)] = [
            ("max-tokens", s.maxTokens.map(String.init), String(o.maxTokens)), ("lr", s.learningRate.map { "\($0)" }, "\(o.peakLearningRate)"),
            ("warmup", s.warmup.map(String.init), String(o.warmupSteps)), ("seed", s.seed.map(String.init), String(o.seed)),
        ]
        let (width, embedding, depth, headCount, rate, wrap) = switch record.model {
        case .baseline(let c): (c.modelWidth, c.modelWidth, c.encoderLayers, c.heads, c.dropout, "none (a baseline)")
        case .reversible(let setup): (setup.config.modelWidth, setup.config.embeddingWidth, setup.config.encoderLayers, setup.config.heads,
                                      setup.config.dropout, setup.config.wrap.rawValue)
        }
        given += [("d", s.modelWidth.map(String.init), String(width)), ("e", s.embeddingWidth.map(String.init), String(embedding)),
                  ("layers", s.layers.map(String.init), String(depth)),
                  ("heads", s.heads.map(String.init), String(headCount)), ("dropout", s.dropout.map { "\($0)" }, "\(rate)"),
                  ("wrap", s.wrap?.rawValue, wrap)]
        try ResumeOptions.refuseDifferences(given, checkpoint: checkpointPath, kind: "training")
    }

    /// Commits a checkpoint recording the training corpus's fingerprint (rank 0 alone).
    func save(_ trainer: Trainer, corpus: String) throws {
        guard settings.communicator.writesFiles else { return }
        var checkpoint = trainer.checkpoint(vocabulary: "vocab.json", name: "checkpoint")
        checkpoint.corpusSHA256 = corpus
        try checkpoint.save(directory: settings.out, name: "checkpoint", parameters: trainer.model.parameters, optimizer: trainer.optimizer)
    }

    func writeProfile(_ runs: [ProfileRun], to directory: String) throws {
        try AtomicFile.writeJSON(["runs": runs], to: "\(directory)/profile.json")
        guard !runs.isEmpty else { return }
        let steps = runs.compactMap { Double($0.mode.dropFirst(5)) }
        let svg = SVGChart.lines(title: "Training: peak memory of sampled steps", x: steps,
                                 series: [("activation", runs.map { Double($0.peakActivationBytes) }), ("total", runs.map { Double($0.peakTotalBytes) })],
                                 xLabel: "step", valueLabel: "peak bytes")
        try AtomicFile.write(Data(svg.utf8), to: "\(directory)/peak-memory-per-step.svg")
    }
}
