import Foundation
import Ops
import Profiler
import Reversible
import Search
import Translation

/// A search refused before it starts: its memory plan predicts more than `--memory-budget`.
/// The CLI ends with the budget's status (3), as when a running search goes over.
public struct PlannedOverBudget: Error, CustomStringConvertible {
    public let description: String
}

extension SearchRun {
    /// Steps a search's plan dry-runs: the first batches of the run, where a search that
    /// cannot fit fails today. Later batches may be longer; the budget still stops the run
    /// at the allocation that goes over them.
    static let plannedSteps = 3

    /// A dry run of this search's first steps, as `search` would take them: the same
    /// super-network, options, op registry and batches from `pairs`.
    public static func planProfiling(options: BilevelSearch.Options, pairs: [TokenizedPair], registry: OpRegistry, steps: Int) -> StepProfiling {
        var profiling = StepProfiling()
        profiling.step = .search(steps: steps)
        profiling.search = options
        profiling.pairs = pairs
        profiling.registry = registry
        return profiling
    }

    /// The corpus and vocabulary of these settings as the search reads them, for a plan
    /// outside a run: the settings must name a vocabulary file (learning one is the search's
    /// work, not a plan's). Returns the model with the vocabulary's size and the pairs.
    public func planInputs() throws -> (config: ModelConfig, pairs: [TokenizedPair]) {
        let s = settings
        guard let file = s.vocabulary else { throw InputError("a plan of a corpus needs --vocab (learn one with `revsearch vocab`)", usage: true) }
        let corpus = try CorpusReader.load(directory: s.data, split: "train", source: s.source, target: s.target)
        let vocabulary = try BytePairEncoding.load(file)
        let pairs = try RunVocabulary.pairs(corpus, vocabulary, place: "\(s.data)/train.{\(s.source),\(s.target)}", minimum: 2,
                                            purpose: "a search (one pair for theta's half, one for alpha's)")
        var config = s.model
        config.sourceVocabulary = vocabulary.count
        config.targetVocabulary = vocabulary.count
        return (config, pairs)
    }

    /// Throws `PlannedOverBudget` when the dry run of the first steps in the search's mode
    /// goes over `budget`, naming the predicted peak and the modes that would fit. In a
    /// data-parallel search each process plans its own share of the batches.
    func refuseIfPlannedOverBudget(config: ModelConfig, options: BilevelSearch.Options, pairs: [TokenizedPair], budget: Int) throws {
        let steps = min(SearchRun.plannedSteps, max(settings.maxSteps, 1))
        var profiling = SearchRun.planProfiling(options: options, pairs: pairs, registry: settings.registry, steps: steps)
        let communicator = settings.communicator
        if communicator.size > 1 { profiling.process = PlannedProcess(rank: communicator.rank, of: communicator.size) }
        guard let own = try MemoryPlan.entries(profiling, config: config, modes: [options.mode], budget: budget).first, own.fits == false else { return }
        let others = BackpropMode.planned(depth: config.encoderLayers).filter { $0 != options.mode }
        let fitting = try MemoryPlan.entries(profiling, config: config, modes: others, budget: budget).filter { $0.fits == true }
        let advice = fitting.isEmpty ? "no backprop mode fits at this d; lower --d or --max-tokens"
            : "modes that fit: " + fitting.map { "\($0.run.mode) (\(SVGChart.bytesText(Double($0.run.peakReservedBytes))))" }.joined(separator: ", ")
        let peak = own.run.peakReservedBytes
        let place = own.run.peakActivationAt.layer.isEmpty ? "outside the layers" : "in layer \(own.run.peakActivationAt.layer)"
        let share = communicator.size > 1 ? " (rank \(communicator.rank)'s share of their batches)" : ""
        let predicted = "a dry run of the first \(steps) search steps\(share) in mode \(options.mode) predicts a peak of "
            + "\(SVGChart.bytesText(Double(peak))) reserved (\(peak) bytes; activations peak \(place))"
        throw PlannedOverBudget(description: "memory budget of \(SVGChart.bytesText(Double(budget))) (\(budget) bytes) would be exceeded: "
                                + predicted + "; " + advice + " (or --no-plan-check to run until the budget stops it)")
    }
}
