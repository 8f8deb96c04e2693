import Foundation
import Ops
import Profiler
import Reversible
import Search
import TensorCore
import Translation
import Verifier

/// An instrumented DARTS search (`revsearch search` is option parsing around it): the
/// bilevel loop over a reversible super-network whose ops come from an `OpRegistry` (a
/// user's own included), with the memory profiler, the verifier and the memory budget
/// attached through the allocator hooks and the model's public API (the model core knows
/// none of them); the run's CSV logs, atomic checkpoints, exact resume, the derived genotype
/// and the HTML report in RUN; progress reported to a `RunObserver`.
public struct SearchRun {
    /// What to search, how long, and which instruments to attach.
    public struct Settings {
        /// Corpus directory holding <split>.<lang>[.gz]; the train split is halved (theta's, alpha's).
        public var data: String
        /// The source language (file suffix).
        public var source: String
        /// The target language (file suffix).
        public var target: String
        /// Run directory: vocabulary, checkpoint, logs, genotype, report.
        public var out: String
        /// BPE merges to learn when the run has no vocabulary yet.
        public var merges = 8000
        /// A vocabulary file to use instead of learning one.
        public var vocabulary: String?
        /// The super-network; its vocabularies are set from the run's vocabulary. On resume,
        /// the checkpoint's model is used.
        public var model = ModelConfig(embeddingWidth: 64, modelWidth: 240, splits: 2, encoderLayers: 2, decoderLayers: 2, heads: 4)
        /// Bilevel search options: order, backprop mode, batch size, learning rates, seed.
        public var search = BilevelSearch.Options()
        /// Where the super-network's ops come from: the standard ones plus any a user registers
        /// (name them in `model.encoderOps`/`decoderOps`, or leave "all").
        public var registry = OpRegistry.standard
        /// Stop after this many search steps.
        public var maxSteps = 1000
        /// Stop after this many minutes (0: no limit).
        public var maxMinutes = 0.0
        /// Stop once the derived genotype has not changed for this many steps (0: run to the
        /// step or time limit) and every node's margin is at least `settleMargin`.
        public var settleSteps = 0
        /// The smallest margin (softmax weight of the chosen op over the runner-up) a settled
        /// search needs at every node: a choice that does not change while two ops stay tied
        /// is not a settled one.
        public var settleMargin = 0.0
        /// Commit a checkpoint every N steps (and at the end).
        public var checkpointEvery = 100
        /// Record every step's peak memory per layer (RUN/memory.csv).
        public var profile = false
        /// Every N steps, verify the backprop mode against full storage on the step's batch (0: never).
        public var verifyEvery = 0
        /// Cap on live tensor bytes; going over calls `budgetExceeded` (default: MemoryBudget's,
        /// which prints the violation and exits with status 3).
        public var memoryBudget: Int?
        /// With `memoryBudget`: refuse to start when a dry run of the first steps predicts the
        /// budget will be exceeded (`PlannedOverBudget`), instead of failing at step 1.
        public var planCheck = true
        /// Called before the allocation that would go over `memoryBudget`; must not return.
        public var budgetExceeded: ((MemoryBudget.Violation) -> Never)?
        /// Continue from the run's checkpoint exactly where it stopped.
        public var resume = false
        /// Deliberate faults in the super-network, to watch `verifyEvery` catch them.
        package var faults: InjectedFaults = []
        /// The processes the search spans (`mpirun -np N`): each computes its share of every
        /// batch and verifies its own share; rank 0 alone writes the run's files.
        public var communicator: Communicator = SingleProcess()

        /// Settings with the defaults of `revsearch search`.
        public init(data: String, source: String, target: String, out: String) {
            self.data = data; self.source = source; self.target = target; self.out = out
        }
    }

    /// What a finished run leaves for its caller.
    public struct Outcome {
        /// Steps taken in this session (a resumed run counts from its checkpoint).
        public var steps: Int
        /// The derived architecture (also in RUN/genotype.json).
        public var genotype: Genotype
        /// Theta's loss at the first and last step of this session.
        public var firstLoss: Double
        /// See `firstLoss`.
        public var lastLoss: Double
        /// Every verification of this session.
        public var verifications: [VerificationRow]
        /// With the profiler: each step's peak activation bytes.
        public var peakActivationBytes: [Int]
        /// The largest change of any alpha entry over the run.
        public var alphaMovement: Double
        /// The HTML report's path.
        public var report: String
        /// With a budget: the most tensor memory the cache held at once, and the budget.
        public var budgetPeak: (bytes: Int, budget: Int)?
        /// With `settleSteps`: the step at which the genotype had been unchanged that long (with
        /// every margin at least `settleMargin`).
        public var settledAt: Int?
        /// Every searched node's settling at the end (also in RUN/settling.csv, per step).
        public var settling: [NodeSettling] = []
        /// With the profiler, no budget and a mode other than full: step 1's theta batch in
        /// full storage and in the search's mode (also in RUN/memory-reference.json).
        public var memoryReference: MemoryReference?
        /// How the steps' time split into computing and summing gradients over processes.
        public var communication: Communication?
    }

    /// A verification and the step it ran at.
    public struct VerificationRow {
        /// The search step the verification checked.
        public let step: Int
        /// Its layer inputs and gradients against full storage, with limits.
        public let report: VerificationReport
    }

    /// What this run searches.
    public let settings: Settings

    /// A search with these settings; `run` runs it.
    public init(_ settings: Settings) { self.settings = settings }

    static let checkpointName = "search"

    /// The run's files.
    public var paths: SearchPaths { SearchPaths(run: settings.out) }

    /// Runs the search to its step or time limit, reporting to `observer`. Throws
    /// `InputError` for input it cannot use and `CheckFailed` for a failed verification or a
    /// divergence (after writing the checkpoint, genotype and report of the last good step).
    public func run(observer: RunObserver? = nil) throws -> Outcome {
        let start = Date()
        let s = settings
        let communicator = s.communicator
        let directory = try RunDirectory.forRank(s.out, kind: "search", checkpointName: SearchRun.checkpointName, resume: s.resume, communicator)
        let checkpoint = s.resume ? try SearchCheckpoint.load(paths.checkpoint) : nil
        // The directory's lock is held until the run has written its last file, whichever way it ends.
        defer { withExtendedLifetime(directory) {} }
        directory?.sweep(keeping: checkpoint?.weights)
        let corpus = try CorpusReader.load(directory: s.data, split: "train", source: s.source, target: s.target)
        let corpusFingerprint = CorpusFingerprint.pairs(corpus)
        if let recorded = checkpoint?.corpusSHA256, recorded != corpusFingerprint {
            throw InputError("\(s.data): not the corpus this search was started on (the pairs' SHA-256 differs from the one \(paths.checkpoint) records)")
        }
        // Rank 0 learns or copies the vocabulary; the others read what it wrote.
        let vocabulary = try communicator.rankZeroFirst {
            try RunVocabulary.loadOrLearn(run: s.out, corpus: corpus, given: s.vocabulary, merges: s.merges, resuming: s.resume, communicator: communicator)
        }
        let pairs = try RunVocabulary.pairs(corpus, vocabulary, place: "\(s.data)/train.{\(s.source),\(s.target)}", minimum: 2,
                                            purpose: "a search (one pair for theta's half, one for alpha's)")

        var config = checkpoint?.model ?? s.model
        config.sourceVocabulary = vocabulary.count
        config.targetVocabulary = vocabulary.count
        let options = checkpoint?.options ?? s.search

        // The plan's dry run comes before any instrument is attached: it allocates nothing,
        // but the budget and the profiler would hear of its tensors.
        if let budget = s.memoryBudget, s.planCheck {
            try refuseIfPlannedOverBudget(config: config, options: options, pairs: pairs, budget: budget)
        }
        // Instruments attach before the model exists, so parameters count against the
        // budget and appear in the profile.
        let runtime = Runtime.current
        let budget = s.memoryBudget.map(MemoryBudget.init(bytes:))
        let profiler = s.profile ? MemoryProfiler(recordsEvents: false) : nil
        if let budget {
            if let handler = s.budgetExceeded { budget.onExceeded = handler }
            runtime.attach(budget)
        }
        if let profiler { runtime.attach(profiler) }
        defer {
            if let budget { runtime.detach(budget) }
            if let profiler { runtime.detach(profiler) }
        }

        let model: ReversibleTransformer
        do { model = try ReversibleTransformer(config, registry: s.registry, faults: s.faults) } catch {
            throw s.resume ? InputError("\(paths.checkpoint): \(error)") : error
        }
        let search = try BilevelSearch(model: model, pairs: pairs, options: options, communicator: communicator)
        if let checkpoint { try checkpoint.restore(into: search, directory: s.out) }
        let firstStep = search.stepCount
        let nodes = SearchRun.nodes(of: model)
        let kept = s.resume ? firstStep : nil
        let logs = communicator.writesFiles ? try SearchLogs(paths, nodes: nodes, layers: SearchRun.layerNames(config), processes: communicator.size,
                                                                 keepingStepsThrough: kept) : nil
        let initialAlphas = search.alphas.map(\.tensor.scalars)
        if firstStep == 0 { try logs?.alphas(step: 0, nodes: nodes) }
        // The last step a node's chosen op changed: what `settleSteps` counts from.
        var chosen = NodeSettling.of(model).map(\.chosen)
        if firstStep == 0 { try logs?.settling(step: 0, nodes: NodeSettling.of(model)) }
        // Rank 0 reads it after dropping the rows past the checkpoint (building `logs`); the others take rank 0's.
        var lastChange = s.resume ? communicator.fromRankZero(communicator.writesFiles ? SearchLogs.choices(paths).lastChange : 0) : 0
        let parameters = search.weights.map(\.tensor.count).reduce(0, +)
        observer?.observe(.started(summary: "OpenBLAS core: \(BLAS.coreName), threads \(BLAS.threads); \(pairs.count) pairs (two halves of \(pairs.count / 2)), "
                                   + "vocabulary \(vocabulary.count), \(parameters) weights, \(nodes.count) searched nodes, order \(options.order.rawValue), "
                                   + "mode \(search.backprop)", resumedAtStep: s.resume ? firstStep : nil))

        var outcome = Outcome(steps: 0, genotype: Genotype.derive(from: model), firstLoss: .nan, lastLoss: .nan, verifications: [],
                              peakActivationBytes: [], alphaMovement: 0, report: paths.report)
        var stepSeconds = 0.0
        while search.stepCount < s.maxSteps {
            if s.maxMinutes > 0 && communicator.any(Date().timeIntervalSince(start) >= s.maxMinutes * 60) { break }
            profiler?.resetPeaks()
            let stepStart = Date(), sumsBefore = search.reduction.seconds
            let result = search.step()
            let seconds = Date().timeIntervalSince(stepStart)
            stepSeconds += seconds
            let step = search.stepCount
            let finiteWeights = allFinite(search.model.parameters.map(\.tensor))
            if communicator.any(!(result.trainLoss.isFinite && result.validationLoss.isFinite && finiteWeights)) {
                let lastGood = try reportLastGoodStep(search)
                // Rank 0 writes the last good step's genotype and report before any rank ends the job.
                communicator.barrier()
                throw CheckFailed("step \(step): the search diverged (train loss \(result.trainLoss), validation loss \(result.validationLoss)"
                                  + "\(finiteWeights ? "" : ", non-finite weights")); the run stopped without saving this step. "
                                  + lastGood + " Lower --lr or --alpha-lr and start again.")
            }
            if outcome.firstLoss.isNaN { outcome.firstLoss = result.trainLoss }
            outcome.lastLoss = result.trainLoss
            var peakActivation: Int?
            var peaks = [-1.0, -1, -1]
            if let profiler {
                let run = profiler.run(mode: search.backprop.description, depth: config.encoderLayers)
                peaks = [Double(run.peakActivationBytes), Double(run.peakTotalBytes), Double(run.peakReservedBytes)]
                try logs?.memory(step: step, run: run)
                outcome.peakActivationBytes.append(run.peakActivationBytes)
                peakActivation = run.peakActivationBytes
                // Full storage could not fit a budget the search's mode fits: no reference under one.
                if step == 1, communicator.writesFiles, s.memoryBudget == nil, search.backprop != .full, let last = search.lastTrainBatch {
                    let reference = MemoryReference.measure(model, batch: last.batch, dropoutKey: last.dropoutKey, mode: search.backprop)
                    try AtomicFile.writeJSON(reference, to: paths.memoryReference)
                    outcome.memoryReference = reference
                }
            }
            if communicator.size > 1 {
                // Every rank gathers; rank 0 alone has logs to write them to.
                let figures = communicator.gather([seconds, search.reduction.seconds - sumsBefore] + peaks)
                try logs?.ranks(step: step, figures)
            }
            try logs?.losses(step: step, epoch: search.epoch, result: result, tokensPerSecond: Double(result.tokens) / max(seconds, 1e-9),
                            seconds: Date().timeIntervalSince(start))
            try logs?.alphas(step: step, nodes: nodes)
            let settling = NodeSettling.of(model)
            try logs?.settling(step: step, nodes: settling)
            if settling.map(\.chosen) != chosen { lastChange = step }
            chosen = settling.map(\.chosen)
            let smallestMargin = settling.map(\.margin).min() ?? 1
            if s.verifyEvery > 0 && step % s.verifyEvery == 0 {
                // Every process verifies its own share of the batch (one without rows, nothing).
                var report: VerificationReport?
                if let last = search.lastTrainBatch {
                    let checked: BackpropMode = search.backprop == .full ? .reconstruction : search.backprop
                    report = try Verification.compare(model, batch: last.batch, batchName: "step \(step)", mode: checked,
                                                      dropoutKey: last.dropoutKey, float64Reference: true, invariances: true)
                }
                if let report {
                    try logs?.verification(step: step, report: report)
                    outcome.verifications.append(VerificationRow(step: step, report: report))
                    observer?.observe(.verified(step: step, report: report))
                }
                let failed = communicator.gather([report?.passed == false ? 1 : 0]).enumerated().filter { $0.element[0] > 0 }.map(\.offset)
                if !failed.isEmpty {
                    try stopAfterFailedVerification(search, report: report, failedRanks: failed, step: step, outcome: &outcome, firstStep: firstStep,
                                                    initialAlphas: initialAlphas, corpus: corpusFingerprint)
                }
            }
            if step % s.checkpointEvery == 0 { try save(search, corpus: corpusFingerprint) }
            let done = step - firstStep
            let elapsed = Date().timeIntervalSince(start)
            let remaining = s.maxMinutes > 0 ? min(s.maxMinutes * 60 - elapsed, elapsed / Double(done) * Double(s.maxSteps - step))
                : elapsed / Double(done) * Double(s.maxSteps - step)
            observer?.observe(.searchStep(SearchStepEvent(step: step, maxSteps: s.maxSteps, epoch: search.epoch, trainLoss: result.trainLoss,
                                                          validationLoss: result.validationLoss, tokensPerSecond: Double(result.tokens) / max(seconds, 1e-9),
                                                          learningRate: result.learningRate, peakActivationBytes: peakActivation,
                                                          smallestMargin: smallestMargin, stableSteps: step - lastChange,
                                                          secondsRemaining: remaining)))
            if s.settleSteps > 0 && communicator.any(step - lastChange >= s.settleSteps && smallestMargin >= s.settleMargin) {
                outcome.settledAt = step
                break
            }
        }
        if let budget { outcome.budgetPeak = (budget.peakBytes, budget.budget) }
        outcome.communication = Communication(search.reduction, stepSeconds: stepSeconds)
        try finish(search, outcome: &outcome, firstStep: firstStep, initialAlphas: initialAlphas, corpus: corpusFingerprint)
        return outcome
    }

    /// Ends the run after a failed verification: rank 0 commits the checkpoint, the logs and
    /// the report, then each failing process reports its failure (which ends the job); the
    /// others wait for that end.
    func stopAfterFailedVerification(_ search: BilevelSearch, report: VerificationReport?, failedRanks: [Int], step: Int, outcome: inout Outcome,
                                     firstStep: Int, initialAlphas: [[Double]], corpus: String) throws -> Never {
        let communicator = settings.communicator
        try finish(search, outcome: &outcome, firstStep: firstStep, initialAlphas: initialAlphas, corpus: corpus)
        communicator.barrier()
        let place = communicator.size > 1 ? " on rank \(communicator.rank) of \(communicator.size)" : ""
        if let report, !report.passed {
            throw CheckFailed("verification failed at step \(step)\(place): \(report.worstFailure); the run stopped "
                              + "(checkpoint at step \(step), logs and report in \(settings.out))")
        }
        // A failing process ends the job when it reports; until then this one has nothing to do.
        communicator.barrier()
        throw CheckFailed("verification failed at step \(step) on rank\(failedRanks.count > 1 ? "s" : "") "
                          + "\(failedRanks.map(String.init).joined(separator: ", ")) of \(communicator.size)")
    }

    /// Checkpoint, genotype and report: what every ending (limit reached, verification
    /// failure) leaves in RUN.
    func finish(_ search: BilevelSearch, outcome: inout Outcome, firstStep: Int, initialAlphas: [[Double]], corpus: String) throws {
        try save(search, corpus: corpus)
        let genotype = Genotype.derive(from: search.model)
        let wrong = genotype.disagreements(with: search.model)
        guard wrong.isEmpty else {
            throw CheckFailed("the derived genotype disagrees with the alphas at \(wrong.count) nodes: \(wrong.joined(separator: "; "))")
        }
        if settings.communicator.writesFiles { try genotype.save(to: paths.genotype) }
        outcome.genotype = genotype
        outcome.settling = NodeSettling.of(search.model)
        outcome.steps = search.stepCount - firstStep
        outcome.alphaMovement = zip(initialAlphas, search.alphas.map(\.tensor.scalars))
            .flatMap { zip($0, $1).map { abs($0 - $1) } }.max() ?? 0
        guard settings.communicator.writesFiles else { return }
        try SearchReport(paths: paths, genotype: genotype, settings: settings, model: search.model.config, options: search.options).write()
    }

    /// After a divergence: the last good checkpoint restored into `search`, its genotype and
    /// the report (whose logs run up to the diverged step) written; says where they are.
    func reportLastGoodStep(_ search: BilevelSearch) throws -> String {
        guard settings.communicator.writesFiles else { return "Rank 0 reports the last good checkpoint." }
        guard let record = try? SearchCheckpoint.load(paths.checkpoint) else { return "No checkpoint was written before it." }
        try record.restore(into: search, directory: settings.out)
        let genotype = Genotype.derive(from: search.model)
        try genotype.save(to: paths.genotype)
        try SearchReport(paths: paths, genotype: genotype, settings: settings, model: search.model.config, options: search.options).write()
        return "The last good checkpoint is at step \(record.step) (\(paths.checkpoint)); its genotype and the report are in \(settings.out)."
    }

    /// Commits a checkpoint recording the corpus's fingerprint (rank 0 alone).
    func save(_ search: BilevelSearch, corpus: String) throws {
        guard settings.communicator.writesFiles else { return }
        var checkpoint = SearchCheckpoint(of: search, vocabulary: "vocab.json", name: SearchRun.checkpointName)
        checkpoint.corpusSHA256 = corpus
        try checkpoint.save(search, directory: settings.out, name: SearchRun.checkpointName)
    }

    /// Every searched node with its op names and live softmax(alpha).
    static func nodes(of model: ReversibleTransformer) -> [SearchLogs.Node] {
        func stack(_ name: String, _ layers: [ReversibleLayer]) -> [SearchLogs.Node] {
            layers.flatMap { layer in
                layer.functions.enumerated().compactMap { k, node in
                    node.alpha == nil ? nil : SearchLogs.Node(name: "\(name).\(layer.name).split\(k + 1)", function: node)
                }
            }
        }
        return stack("encoder", model.encoder) + stack("decoder", model.decoder)
    }

    static func layerNames(_ config: ModelConfig) -> [String] {
        ["encoder.embedding"] + (1...config.encoderLayers).map { "encoder.layer\($0)" }
            + ["decoder.embedding"] + (1...config.decoderLayers).map { "decoder.layer\($0)" } + ["decoder.output"]
    }
}
