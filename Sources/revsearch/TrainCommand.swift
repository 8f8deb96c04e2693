import ArgumentParser
import Foundation
import Profiler
import Reversible
import Search
import TensorCore
import Translation

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
            architecture (the genotype's block stacked to --layers; d, e, splits and pooling come from the genotype). \
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
        if backprop != nil && genotype == nil && !resume {
            throw ValidationError("--backprop applies to a genotype model (--genotype, or --resume of one)")
        }
    }

    func run() throws {
        BLAS.threads = threads
        let start = Date()
        // A bad genotype fails before the corpus is read and the vocabulary learned.
        let derived = resume ? nil : try genotype.map { try DerivedModel.load($0, heads: heads ?? 4) }
        let directory = try RunDirectory(out, kind: "training", checkpointName: "checkpoint", resume: resume)
        // The directory's lock is held until the run has written its last file, whichever way it ends.
        defer { withExtendedLifetime(directory) {} }
        let train = try CorpusReader.load(directory: data, split: "train", source: src, target: tgt)
        let valid = try CorpusReader.load(directory: data, split: "val", source: src, target: tgt)
        let corpus = CorpusFingerprint.pairs(train)
        let vocabulary = try RunVocabulary.loadOrLearn(run: out, corpus: train, given: vocab, merges: merges, resuming: resume)
        var options = TrainingOptions()
        options.maxTokens = maxTokens ?? 4096
        options.peakLearningRate = lr ?? 1e-3
        options.warmupSteps = warmup ?? 800
        options.maxSteps = maxSteps
        options.maxMinutes = maxMinutes
        options.validateEvery = validateEvery
        options.checkpointEvery = checkpointEvery
        options.seed = seed ?? 1
        let checkpointPath = "\(out)/checkpoint.json"
        var checkpoint: Checkpoint?
        if resume {
            let record = try Checkpoint.load(checkpointPath)
            if let recorded = record.corpusSHA256, recorded != corpus {
                throw CLIError("\(data): not the corpus this training was started on (the training pairs' SHA-256 differs from the one \(checkpointPath) records)")
            }
            try checkResumeOptions(record, path: checkpointPath)
            // The schedule of stops, checks and checkpoints is the command line's; the rest the run's.
            options = record.options
            options.maxSteps = maxSteps
            options.maxMinutes = maxMinutes
            options.validateEvery = validateEvery
            options.checkpointEvery = checkpointEvery
            checkpoint = record
        }
        directory.sweep(keeping: checkpoint?.weights)
        let architecture = try self.architecture(vocabulary: vocabulary.count, genotype: derived, resuming: checkpoint)
        let model: any TranslationModel
        // Only a hand-edited checkpoint can hold an unbuildable config: fresh ones are validated above.
        do { model = try architecture.build() } catch { throw CLIError("\(checkpointPath): \(error)") }
        let trainer = Trainer(model: model,
                              training: try RunVocabulary.pairs(train, vocabulary, place: "\(data)/train.{\(src),\(tgt)}", minimum: 1, purpose: "training"),
                              validation: try RunVocabulary.pairs(valid, vocabulary, place: "\(data)/val.{\(src),\(tgt)}", minimum: 1, purpose: "validation"),
                              options: options)
        if let checkpoint { try trainer.resume(from: checkpoint, directory: out) }
        let parameterCount = trainer.model.parameters.map(\.tensor.count).reduce(0, +)
        print("OpenBLAS core: \(BLAS.coreName), threads \(BLAS.threads); \(train.count) training pairs, vocabulary \(vocabulary.count); "
              + "\(architecture), \(parameterCount) parameters\(resume ? "; resuming at step \(trainer.step)" : "")")
        // A resumed run drops the rows logged after its checkpoint: they are computed again.
        let log = try CSVLog("\(out)/train.csv", header: "step,epoch,loss,learning_rate,tokens_per_second,validation_loss,seconds",
                             keepingStepsThrough: resume ? trainer.step : nil)
        var profiled: [ProfileRun] = []
        var windowTokens = 0, windowStart = Date(), lastLine = Date.distantPast
        let interactive = isatty(STDOUT_FILENO) != 0
        let firstStep = trainer.step
        // --max-minutes bounds the whole run, validations included.
        let deadline = options.maxMinutes > 0 ? start.addingTimeInterval(options.maxMinutes * 60) : nil
        while trainer.step < options.maxSteps {
            if let deadline, Date() >= deadline { break }
            let profiler = profile != nil && (trainer.step + 1) % profileEvery == 0 ? MemoryProfiler(recordsEvents: false) : nil
            if let profiler { Runtime.current.attach(profiler) }
            let (loss, tokens) = trainer.trainStep()
            guard loss.isFinite, allFinite(trainer.model.parameters.map(\.tensor)) else {
                let last = (try? Checkpoint.load(checkpointPath)).map { "The last good checkpoint is at step \($0.step) (\(checkpointPath))." }
                    ?? "No checkpoint was written before it."
                throw CheckFailed("step \(trainer.step): the training diverged (loss \(loss)\(loss.isFinite ? ", non-finite weights" : "")); "
                                  + "the run stopped without saving this step. \(last) Lower --lr and start again.")
            }
            if let profiler {
                Runtime.current.detach(profiler)
                profiled.append(profiler.run(mode: "step \(trainer.step)", depth: architecture.encoderLayers))
            }
            windowTokens += tokens
            let elapsed = Date().timeIntervalSince(windowStart)
            let rate = Double(windowTokens) / max(elapsed, 1e-9)
            var validation = ""
            if trainer.step % options.validateEvery == 0 {
                let v = trainer.validationLoss(deadline: deadline)
                // Only a whole-split figure goes in the log; a partial one is printed as such.
                if v.complete, let value = v.value { validation = String(format: "%.4f", value) }
                print("\(interactive ? "\n" : "")step \(trainer.step): \(describe(v))")
            }
            try log.append([String(trainer.step), String(trainer.epoch), String(loss), String(trainer.optimizer.learningRate), String(Int(rate)),
                            validation, String(Int(Date().timeIntervalSince(start)))])
            if trainer.step % options.checkpointEvery == 0 { try save(trainer, corpus: corpus) }
            if Date().timeIntervalSince(lastLine) >= (interactive ? 0.5 : 30) {
                let done = trainer.step - firstStep
                let perStep = Date().timeIntervalSince(start) / Double(max(done, 1))
                let remaining = options.maxMinutes > 0
                    ? options.maxMinutes * 60 - Date().timeIntervalSince(start)
                    : Double(options.maxSteps - trainer.step) * perStep
                let line = "step \(trainer.step) | epoch \(trainer.epoch) | loss \(fixed(loss, 3)) | \(Int(rate)) tok/s | lr \(sci(trainer.optimizer.learningRate)) | ETA \(duration(remaining))"
                if interactive { print("\r\(line)   ", terminator: "") } else { print(line) }
                fflush(nil)
                lastLine = Date()
                windowTokens = 0
                windowStart = Date()
            }
        }
        try save(trainer, corpus: corpus)
        let v = trainer.validationLoss(deadline: deadline)
        print("\(interactive ? "\n" : "")done: \(trainer.step) updates in \(duration(Date().timeIntervalSince(start))); \(describe(v)); checkpoint \(checkpointPath)")
        if let profile { try writeProfile(profiled, to: profile) }
    }

    /// "validation loss 3.1416 (perplexity 23.14)", with the share of the split measured
    /// when the time limit cut it short.
    func describe(_ v: ValidationLoss) -> String {
        guard let value = v.value else { return "validation loss not measured: --max-minutes reached before its first batch" }
        let figure = "validation loss \(fixed(value, 4)) (perplexity \(fixed(exp(value), 2)))"
        return v.complete ? figure : "\(figure) over \(v.batches) of \(v.of) validation batches: --max-minutes reached"
    }

    /// The model to train: the checkpoint's when resuming (with `--backprop`, if given, in
    /// place of its mode), else the genotype's, else the baseline.
    func architecture(vocabulary: Int, genotype derived: Genotype?, resuming checkpoint: Checkpoint?) throws -> ModelArchitecture {
        let mode = backprop.flatMap { BackpropMode($0) }
        if let checkpoint {
            guard let mode else { return checkpoint.model }
            guard case .reversible(var setup) = checkpoint.model else {
                throw ValidationError("--backprop applies to a genotype model; \(out)/checkpoint.json holds the baseline")
            }
            setup.backprop = mode
            return .reversible(setup)
        }
        if let derived, let genotype {
            return .reversible(try DerivedModel.setup(derived, path: genotype, layers: layers ?? 6, heads: heads ?? 4, dropout: dropout ?? 0.2,
                                                      vocabulary: vocabulary, seed: seed ?? 1, backprop: mode ?? .full))
        }
        return .baseline(.init(vocabulary: vocabulary, modelWidth: d ?? 256, encoderLayers: layers ?? 3, decoderLayers: layers ?? 3,
                               heads: heads ?? 4, dropout: dropout ?? 0.2, seed: seed ?? 1))
    }

    /// A resumed training keeps the model and optimisation of its checkpoint: an option given
    /// again must match them, or the resume is refused naming what differs.
    func checkResumeOptions(_ record: Checkpoint, path: String) throws {
        if let genotype { throw CLIError("\(path): --genotype \(genotype) with --resume: the run keeps the model it was started with; drop --genotype") }
        try ResumeOptions.refuseOtherVocabulary(vocab, run: out)
        let o = record.options
        var given: [(option: String, value: String?, recorded: String)] = [
            ("max-tokens", maxTokens.map(String.init), String(o.maxTokens)), ("lr", lr.map { "\($0)" }, "\(o.peakLearningRate)"),
            ("warmup", warmup.map(String.init), String(o.warmupSteps)), ("seed", seed.map(String.init), String(o.seed)),
        ]
        let (width, depth, headCount, rate) = switch record.model {
        case .baseline(let c): (c.modelWidth, c.encoderLayers, c.heads, c.dropout)
        case .reversible(let setup): (setup.config.modelWidth, setup.config.encoderLayers, setup.config.heads, setup.config.dropout)
        }
        given += [("d", d.map(String.init), String(width)), ("layers", layers.map(String.init), String(depth)),
                  ("heads", heads.map(String.init), String(headCount)), ("dropout", dropout.map { "\($0)" }, "\(rate)")]
        try ResumeOptions.refuseDifferences(given, checkpoint: path, kind: "training")
    }

    /// Commits a checkpoint recording the training corpus's fingerprint.
    func save(_ trainer: Trainer, corpus: String) throws {
        var checkpoint = trainer.checkpoint(vocabulary: "vocab.json", name: "checkpoint")
        checkpoint.corpusSHA256 = corpus
        try checkpoint.save(directory: out, name: "checkpoint", parameters: trainer.model.parameters, optimizer: trainer.optimizer)
    }

    func writeProfile(_ runs: [ProfileRun], to directory: String) throws {
        try AtomicFile.writeJSON(["runs": runs], to: "\(directory)/profile.json")
        guard !runs.isEmpty else { return }
        let steps = runs.compactMap { Double($0.mode.dropFirst(5)) }
        let svg = SVGChart.lines(title: "Training: peak memory of sampled steps", x: steps,
                                 series: [("activation", runs.map { Double($0.peakActivationBytes) }), ("total", runs.map { Double($0.peakTotalBytes) })],
                                 xLabel: "step", valueLabel: "peak bytes")
        try AtomicFile.write(Data(svg.utf8), to: "\(directory)/peak-memory-per-step.svg")
        print("profiled \(runs.count) steps: \(directory)/profile.json, \(directory)/peak-memory-per-step.svg")
    }
}

/// "1h02m", "3m05s", "12s"
func duration(_ seconds: Double) -> String {
    let s = max(Int(seconds), 0)
    if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
    if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
    return "\(s)s"
}
