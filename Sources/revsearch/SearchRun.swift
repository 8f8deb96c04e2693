import Foundation
import Ops
import Profiler
import Reversible
import Search
import TensorCore
import Translation
import Verifier

/// An instrumented DARTS search, shared by `revsearch search` and the `search` probe: the
/// bilevel loop with the memory profiler, the verifier and the memory budget attached
/// through the allocator hooks and the model's public API (the model core knows none of
/// them), the logs of RUN, checkpoints, derivation and the report.
struct SearchRun {
    struct Settings {
        var data: String
        var source: String
        var target: String
        var out: String
        var merges = 8000
        var vocabulary: String?
        var model = ModelConfig(embeddingWidth: 64, modelWidth: 240, splits: 2, encoderLayers: 2, decoderLayers: 2, heads: 4)
        var search = BilevelSearch.Options()
        var maxSteps = 1000
        var maxMinutes = 0.0
        var checkpointEvery = 100
        var profile = false
        var verifyEvery = 0
        var memoryBudget: Int?
        var resume = false
        /// Deliberate faults in the super-network, to watch `verifyEvery` catch them.
        var faults: InjectedFaults = []
        /// Live progress line on a terminal; a line every `quietSeconds` otherwise.
        var quietSeconds = 30.0
        var printProgress = true
    }

    /// What a finished run leaves for its caller (the probe's metrics).
    struct Outcome {
        var steps: Int
        var genotype: Genotype
        var firstLoss: Double
        var lastLoss: Double
        var verifications: [VerificationRow]
        var peakActivationBytes: [Int]
        var alphaMovement: Double
        var report: String
        /// With a budget: the most tensor memory live at once, and the budget.
        var budgetPeak: (bytes: Int, budget: Int)?
    }

    struct VerificationRow {
        let step: Int
        let report: VerificationReport
    }

    let settings: Settings

    static let checkpointName = "search"

    var paths: SearchPaths { SearchPaths(run: settings.out) }

    func run() throws -> Outcome {
        let start = Date()
        let s = settings
        let directory = try RunDirectory(s.out, kind: "search", checkpointName: SearchRun.checkpointName, resume: s.resume)
        let checkpoint = s.resume ? try SearchCheckpoint.load(paths.checkpoint) : nil
        // The directory's lock is held until the run has written its last file, whichever way it ends.
        defer { withExtendedLifetime(directory) {} }
        directory.sweep(keeping: checkpoint?.weights)
        let corpus = try CorpusReader.load(directory: s.data, split: "train", source: s.source, target: s.target)
        let corpusFingerprint = CorpusFingerprint.pairs(corpus)
        if let recorded = checkpoint?.corpusSHA256, recorded != corpusFingerprint {
            throw CLIError("\(s.data): not the corpus this search was started on (the pairs' SHA-256 differs from the one \(paths.checkpoint) records)")
        }
        let vocabulary = try RunVocabulary.loadOrLearn(run: s.out, corpus: corpus, given: s.vocabulary, merges: s.merges, resuming: s.resume)
        let pairs = try RunVocabulary.pairs(corpus, vocabulary, place: "\(s.data)/train.{\(s.source),\(s.target)}", minimum: 2,
                                            purpose: "a search (one pair for theta's half, one for alpha's)")

        var config = checkpoint?.model ?? s.model
        config.sourceVocabulary = vocabulary.count
        config.targetVocabulary = vocabulary.count
        let options = checkpoint?.options ?? s.search

        // Instruments attach before the model exists, so parameters count against the
        // budget and appear in the profile.
        let runtime = Runtime.current
        let budget = s.memoryBudget.map(MemoryBudget.init(bytes:))
        let profiler = s.profile ? MemoryProfiler(recordsEvents: false) : nil
        if let budget {
            // Going over ends the run like any other error: "revsearch: ...", status 3.
            budget.onExceeded = { ExitStatus.terminate(for: $0) }
            runtime.attach(budget)
        }
        if let profiler { runtime.attach(profiler) }
        defer {
            if let budget { runtime.detach(budget) }
            if let profiler { runtime.detach(profiler) }
        }

        let model: ReversibleTransformer
        do { model = try ReversibleTransformer(config, faults: s.faults) } catch {
            // Options are validated before; a config that cannot be built came from the checkpoint.
            throw s.resume ? CLIError("\(paths.checkpoint): \(error)") : error
        }
        let search = try BilevelSearch(model: model, pairs: pairs, options: options)
        if let checkpoint { try checkpoint.restore(into: search, directory: s.out) }
        let firstStep = search.stepCount
        let nodes = SearchRun.nodes(of: model)
        let kept = s.resume ? firstStep : nil
        let logs = try SearchLogs(paths, nodes: nodes, layers: SearchRun.layerNames(config), keepingStepsThrough: kept)
        let initialAlphas = search.alphas.map(\.tensor.scalars)
        if firstStep == 0 { try logs.alphas(step: 0, nodes: nodes) }
        if s.printProgress {
            let parameters = search.weights.map(\.tensor.count).reduce(0, +)
            print("OpenBLAS core: \(BLAS.coreName), threads \(BLAS.threads); \(pairs.count) pairs (two halves of \(pairs.count / 2)), "
                  + "vocabulary \(vocabulary.count), \(parameters) weights, \(nodes.count) searched nodes, order \(options.order.rawValue), "
                  + "mode \(search.backprop)\(s.resume ? "; resuming at step \(firstStep)" : "")")
            fflush(nil)
        }

        var outcome = Outcome(steps: 0, genotype: Genotype.derive(from: model), firstLoss: .nan, lastLoss: .nan, verifications: [],
                              peakActivationBytes: [], alphaMovement: 0, report: paths.report)
        let progress = ProgressLine(quietSeconds: s.quietSeconds, enabled: s.printProgress)
        while search.stepCount < s.maxSteps {
            if s.maxMinutes > 0 && Date().timeIntervalSince(start) >= s.maxMinutes * 60 { break }
            profiler?.resetPeaks()
            let stepStart = Date()
            let result = search.step()
            let seconds = Date().timeIntervalSince(stepStart)
            let step = search.stepCount
            let finiteWeights = allFinite(search.model.parameters.map(\.tensor))
            guard result.trainLoss.isFinite, result.validationLoss.isFinite, finiteWeights else {
                throw CheckFailed("step \(step): the search diverged (train loss \(result.trainLoss), validation loss \(result.validationLoss)"
                                  + "\(finiteWeights ? "" : ", non-finite weights")); the run stopped without saving this step. "
                                  + (try reportLastGoodStep(search)) + " Lower --lr or --alpha-lr and start again.")
            }
            if outcome.firstLoss.isNaN { outcome.firstLoss = result.trainLoss }
            outcome.lastLoss = result.trainLoss
            var memoryNote = ""
            if let profiler {
                let run = profiler.run(mode: search.backprop.description, depth: config.encoderLayers)
                try logs.memory(step: step, run: run)
                outcome.peakActivationBytes.append(run.peakActivationBytes)
                memoryNote = " | act \(SVGChart.bytesText(Double(run.peakActivationBytes)))"
            }
            try logs.losses(step: step, epoch: search.epoch, result: result, tokensPerSecond: Double(result.tokens) / max(seconds, 1e-9),
                            seconds: Date().timeIntervalSince(start))
            try logs.alphas(step: step, nodes: nodes)
            if s.verifyEvery > 0 && step % s.verifyEvery == 0, let last = search.lastTrainBatch {
                let checked: BackpropMode = search.backprop == .full ? .reconstruction : search.backprop
                let report = try Verification.compare(model, batch: last.batch, batchName: "step \(step)", mode: checked,
                                                      dropoutKey: last.dropoutKey, float64Reference: true, invariances: true,
                                                      faults: s.faults).report
                try logs.verification(step: step, report: report)
                outcome.verifications.append(VerificationRow(step: step, report: report))
                progress.message("step \(step): verified \(checked) against full storage: layer inputs \(sci(report.maxActivationRelError)) "
                                 + "(limit \(sci(report.tolerance.activation))), gradients \(sci(report.maxGradScaledError)) "
                                 + "(limit \(sci(report.tolerance.gradient))\(SearchRun.reference(report))): \(report.passed ? "passed" : "FAILED")")
                if !report.passed {
                    try finish(search, outcome: &outcome, firstStep: firstStep, initialAlphas: initialAlphas, corpus: corpusFingerprint)
                    throw CheckFailed("verification failed at step \(step): \(SearchRun.worst(report)); the run stopped "
                                     + "(checkpoint at step \(step), logs and report in \(s.out))")
                }
            }
            if step % s.checkpointEvery == 0 { try save(search, corpus: corpusFingerprint) }
            let done = step - firstStep
            let elapsed = Date().timeIntervalSince(start)
            let remaining = s.maxMinutes > 0 ? min(s.maxMinutes * 60 - elapsed, elapsed / Double(done) * Double(s.maxSteps - step))
                : elapsed / Double(done) * Double(s.maxSteps - step)
            progress.update("step \(step)/\(s.maxSteps) | epoch \(search.epoch) | train \(fixed(result.trainLoss, 3)) | val \(fixed(result.validationLoss, 3)) "
                            + "| \(Int(Double(result.tokens) / max(seconds, 1e-9))) tok/s | lr \(sci(result.learningRate))\(memoryNote) | ETA \(duration(remaining))")
        }
        progress.end()
        if let budget { outcome.budgetPeak = (budget.peakBytes, budget.budget) }
        try finish(search, outcome: &outcome, firstStep: firstStep, initialAlphas: initialAlphas, corpus: corpusFingerprint)
        return outcome
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
        try genotype.save(to: paths.genotype)
        outcome.genotype = genotype
        outcome.steps = search.stepCount - firstStep
        outcome.alphaMovement = zip(initialAlphas, search.alphas.map(\.tensor.scalars))
            .flatMap { zip($0, $1).map { abs($0 - $1) } }.max() ?? 0
        try SearchReport(paths: paths, genotype: genotype, settings: settings, model: search.model.config, options: search.options).write()
    }

    /// After a divergence: the last good checkpoint restored into `search`, its genotype and
    /// the report (whose logs run up to the diverged step) written; says where they are.
    func reportLastGoodStep(_ search: BilevelSearch) throws -> String {
        guard let record = try? SearchCheckpoint.load(paths.checkpoint) else { return "No checkpoint was written before it." }
        try record.restore(into: search, directory: settings.out)
        let genotype = Genotype.derive(from: search.model)
        try genotype.save(to: paths.genotype)
        try SearchReport(paths: paths, genotype: genotype, settings: settings, model: search.model.config, options: search.options).write()
        return "The last good checkpoint is at step \(record.step) (\(paths.checkpoint)); its genotype and the report are in \(settings.out)."
    }

    /// Commits a checkpoint recording the corpus's fingerprint.
    func save(_ search: BilevelSearch, corpus: String) throws {
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

    /// What the Float64 twin said: whether the algorithm is exact on the batch, and how far
    /// Float32 is from Float64 against its allowance.
    static func reference(_ report: VerificationReport) -> String {
        guard let twin = report.float64Reference else { return "" }
        return "; Float64 twin: reconstruction vs full \(sci(twin.maxGradScaledError))\(twin.exact ? "" : " (NOT EXACT)"), "
            + "Float32 vs Float64 \(sci(max(twin.maxFloat32Error, twin.maxTestedError))) (allowance \(sci(twin.allowance)))"
    }

    /// The largest offending error of a failed verification, named.
    static func worst(_ report: VerificationReport) -> String {
        if let layer = report.layers.filter({ !$0.passed }).max(by: { $0.error.relativeError < $1.error.relativeError }) {
            return "reconstructed input of \(layer.layer) split \(layer.split) off by \(sci(layer.error.relativeError)) relative "
                + "(limit \(sci(report.tolerance.activation)))"
        }
        if let parameter = report.parameters.filter({ !$0.passed }).max(by: { $0.scaledError < $1.scaledError }) {
            var against64 = ""
            if let f32 = parameter.float32Error, let tested = parameter.testedFloat64Error, let allowance = parameter.float32Allowance {
                against64 = "; against Float64: full storage \(sci(f32)), \(report.mode) \(sci(tested)) (allowance \(sci(allowance)))"
            }
            return "gradient of \(parameter.name) off by \(sci(parameter.scaledError)) from full storage "
                + "(limit \(sci(report.tolerance.gradient)))\(against64)\(reference(report))"
        }
        if let twin = report.float64Reference, !twin.exact {
            return "in the Float64 twin \(report.mode) differs from full storage by \(sci(twin.maxGradScaledError)) (gradients) and "
                + "\(sci(twin.maxActivationRelError)) (layer inputs): the algorithm is not exact on this batch"
        }
        if !report.branches.passed {
            return "\(report.branches.flips) ReLU/max-pooling branches replayed against the computation's own, the farthest "
                + "\(sci(report.branches.largestMargin)) from its branch point (limit \(sci(report.branches.limit))), "
                + "\(report.branches.unmatched) calls unmatched"
        }
        if let padding = report.padding, !padding.passed {
            return "padding invariance: sentences alone against together differ by \(sci(padding.maxLogitError)) (logits) and "
                + "\(sci(padding.maxGradientError)) (token-weighted gradients, \(padding.worstTensor)); limit \(sci(padding.limit))"
        }
        if let causality = report.causality, !causality.passed {
            return "decoder causality: changing a later target token moved an earlier position's logits by \(sci(causality.maxLeak)) "
                + "(\(causality.positionsChecked) positions checked)"
        }
        return "loss differs by \(sci(report.lossDifference)) between full storage and \(report.mode)"
    }
}
