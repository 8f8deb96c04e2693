import ArgumentParser
import Benchmarks
import Foundation
import InstrumentedRun
import Profiler
import RunFiles
import TensorCore
import Verifier

/// `revsearch bench budget`: the paper's headline at our scale — the largest hidden size d
/// whose search fits a fixed memory budget, in each backprop mode — and the search step
/// time of the modes at one d where all fit.
///
/// Every probe is a real `revsearch search` child process with `--memory-budget`: it either
/// completes its steps (fits) or stops with the budget's error, exit status 3 (does not
/// fit). Bisection over d in multiples of `granularity` (d must divide by n and n + 1 and
/// each split by the heads) assumes memory grows with d, which it does in every category.
struct BudgetBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget",
        abstract: "Largest d that can search under a memory budget, per backprop mode (child `revsearch search` processes)."
    )

    @Option(help: "Corpus directory.") var data: String
    @Option(help: "Source language.") var src = "en"
    @Option(help: "Target language.") var tgt = "de"
    @Option(help: "Vocabulary file (learn one with `revsearch vocab` first; every probe reuses it).") var vocab: String
    @Option(help: "Memory budget.") var budget = "2GiB"
    @Option(help: "Backprop modes to compare.") var modes = "full,reconstruction"
    @Option(help: "Search steps each probe must complete.") var steps = 3
    @Option(help: "s: searched layers.") var layers = 2
    @Option(help: "Tokens per batch.") var maxTokens = 2048
    @Option(help: "d moves in multiples of this (24: divisible by 2 and 3 splits, 4 heads per split).") var granularity = 24
    @Option(help: "Largest d tried.") var limit = 2400
    @Option(help: "Steps timed per mode at the common d (0: no timing).") var timedSteps = 6
    @Option(help: "OpenBLAS threads.") var threads = 2

    func validate() throws {
        try OptionRanges.whole("steps", steps, 1...1_000_000)
        try OptionRanges.layers("layers", layers)
        try OptionRanges.tokens("max-tokens", maxTokens)
        try OptionRanges.width("granularity", granularity)
        try OptionRanges.width("limit", limit)
        try OptionRanges.whole("timed-steps", timedSteps, 0...1_000_000)
        try OptionRanges.threads(threads)
    }

    func run() throws {
        guard let bytes = MemoryBudget.parseSize(budget) else {
            throw ValidationError("--budget: expected a size such as 2GiB, found \"\(budget)\"")
        }
        let modeList = try parseModes(modes, option: "--modes").map(\.description)
        print("OpenBLAS core: \(BLAS.coreName), threads \(threads); budget \(budget) (\(bytes) bytes), \(steps) search steps per probe, "
              + "s = \(layers), \(maxTokens) tokens per batch")
        let bench = BudgetBenchmark(executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath(), data: data, source: src,
                                    target: tgt, vocabulary: vocab, layers: layers, maxTokens: maxTokens, threads: threads)
        var largest: [String: Int] = [:]
        for mode in modeList {
            let found = try bench.largest(mode: mode, budget: budget, steps: steps, granularity: granularity, limit: limit) { d, probe in
                print("  \(mode) d = \(d): " + (probe.fits ? "fits (peak activation \(probe.peakActivation ?? "?"))" : "over budget"))
                fflush(nil)
            }
            largest[mode] = found.d
            print("\(mode): largest d under \(budget) = \(found.d)" + (found.failure.isEmpty ? "" : "; at d = \(found.over): \(found.failure)"))
        }
        guard timedSteps > 0, let common = largest.values.min(), common > 0 else { return }
        print("search step time at d = \(common) (\(timedSteps) steps, median):")
        var medians: [String: Double] = [:]
        for mode in modeList {
            medians[mode] = try bench.stepTime(d: common, mode: mode, steps: timedSteps)
            print("  \(mode): \(fixed(medians[mode] ?? .nan, 2)) s per step (alpha + theta)")
        }
        if let first = modeList.first, let base = medians[first] {
            for mode in modeList.dropFirst() { print("  \(mode) / \(first) = \(fixed((medians[mode] ?? .nan) / base, 2))") }
        }
    }
}
