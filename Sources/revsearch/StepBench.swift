import ArgumentParser
import Benchmarks
import Foundation
import InstrumentedRun
import Reversible
import Search
import TensorCore
import Verifier

/// `revsearch bench step`: the time of one training step (forward + backward) of the same
/// model and batch in each backprop mode, interleaved, medians; the ratio to full storage.
struct StepBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Training-step time per backprop mode (reconstruction vs full), medians of interleaved runs."
    )

    @OptionGroup var model: ModelOptions
    @Option(help: "Layers in the encoder and in the decoder each.") var depth = 6
    @Option(help: "Modes, comma-separated; the first is the reference of the ratios.") var modes = "full,reconstruction"
    @Option(help: "Sentences per batch.") var batch = 16
    @Option(help: "Source and target length.") var length = 16
    @Option(help: "Timed steps per mode (after one warm-up step).") var repeats = 5
    @Flag(help: "Compare the caching allocator on and off instead of modes (the first mode): step time and page faults per step.")
    var cache = false
    @Option(help: "With --cache or --dry-run: the step timed, training (forward and backward) or search (alpha and theta steps with Adam).")
    var step = "training"
    @Flag(help: "Time the shape-only dry run `revsearch plan` runs against the real step, per mode (both with the profiler attached).")
    var dryRun = false

    func validate() throws {
        try OptionRanges.layers("depth", depth)
        try OptionRanges.whole("repeats", repeats, 1...100_000)
        try OptionRanges.syntheticBatch(batch: batch, length: length)
        guard ["training", "search"].contains(step) else { throw ValidationError("--step: expected training or search, found \"\(step)\"") }
    }

    func run() throws {
        var config = try model.resolve()
        config.encoderLayers = depth
        config.decoderLayers = depth
        let modeList = try parseModes(modes, option: "--modes")
        let setup = try StepBenchmark.setup(config, batch: batch, length: length)
        print("OpenBLAS core: \(BLAS.coreName), threads: \(BLAS.threads)")
        print("model: d=\(config.modelWidth), n=\(config.splits), depth \(depth)+\(depth), \(config.dtype), \(setup.parameterCount) parameters; batch \(batch)x\(length) tokens")
        if cache { return try compareCaching(config, setup: setup, mode: modeList[0]) }
        if dryRun { return try compareDryRun(config, modes: modeList) }
        let times = StepBenchmark.modes(setup, modes: modeList, repeats: repeats)
        var table = TextTable("mode", "median step s", "min s", "vs \(modeList[0])")
        let reference = median(times[0])
        for (i, mode) in modeList.enumerated() {
            table.add(mode.description, fixed(median(times[i]), 3), fixed(times[i].min()!, 3), fixed(median(times[i]) / reference, 3) + "x")
        }
        print(table.rendered)
    }

    /// The caching allocator's effect on one kind of step: time and minor page faults, on
    /// vs off, medians of interleaved steps.
    func compareCaching(_ config: ModelConfig, setup: StepBenchmark.Setup, mode: BackpropMode) throws {
        let body: () -> Void
        if step == "search" {
            var options = BilevelSearch.Options()
            options.mode = mode
            options.maxTokens = StepProfiling.syntheticMaxTokens(batch: batch, length: length)
            let search = try BilevelSearch(model: setup.network, pairs: StepProfiling.syntheticPairs(config, batch: batch, length: length), options: options)
            body = { search.step() }
        } else {
            body = { setup.network.zeroGradients(); setup.network.trainingStep(setup.batch, mode: mode, dropoutKey: 1) }
        }
        let (times, faults) = StepBenchmark.caching(repeats: repeats, step: body)
        print("\(step) step, \(mode), caching allocator on vs off (\(repeats) interleaved steps each after a warm-up step, medians):")
        var table = TextTable("allocator", "median step s", "min s", "minor page faults per step", "vs no cache")
        for (i, name) in ["caching", "no cache (malloc/free)"].enumerated() {
            table.add(name, fixed(median(times[i]), 3), fixed(times[i].min() ?? .nan, 3), String(Int(median(faults[i].map(Double.init)))),
                      fixed(median(times[i]) / median(times[1]), 3) + "x")
        }
        print(table.rendered)
    }

    /// The dry run's cost: the step's seconds (model built before and torn down after the
    /// timing, profiler attached)
    /// real and shape-only, interleaved, medians; the fraction is what a plan pays per step.
    func compareDryRun(_ config: ModelConfig, modes: [BackpropMode]) throws {
        var profiling = StepProfiling(batch: batch, length: length)
        profiling.step = step == "search" ? .search(steps: 1) : .training
        var table = TextTable("mode", "real step s", "dry run s", "dry / real")
        for mode in modes {
            var real: [Double] = [], dry: [Double] = []
            for _ in 0..<repeats {
                profiling.shapeOnly = false
                real.append(try profiling.profileStep(config, mode: mode, depth: depth).seconds)
                profiling.shapeOnly = true
                dry.append(try profiling.profileStep(config, mode: mode, depth: depth).seconds)
            }
            table.add(mode.description, fixed(median(real), 4), fixed(median(dry), 4), fixed(100 * median(dry) / median(real), 2) + "%")
        }
        print("\(step) step, real vs shape-only dry run (\(repeats) interleaved runs each, medians):")
        print(table.rendered)
    }
}
