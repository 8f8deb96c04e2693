import ArgumentParser
import Benchmarks
import Profiler
import Reversible
import TensorCore
import Verifier

/// `revsearch bench profiler`: the cost of observing. One training step of the same model
/// and batch with no observer, with the memory profiler, and with the profiler capturing
/// call stacks; interleaved, medians, ratios to no observer.
struct ProfilerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiler",
        abstract: "Training-step time with no observer, with the profiler, and with call stacks."
    )

    @OptionGroup var model: ModelOptions
    @Option(help: "Layers in the encoder and in the decoder each.") var depth = 4
    @Option(help: "Backprop mode.") var mode = "reconstruction"
    @Option(help: "Sentences per batch.") var batch = 16
    @Option(help: "Source and target length.") var length = 16
    @Option(help: "Timed steps per configuration (after one warm-up round).") var repeats = 7

    func validate() throws {
        try OptionRanges.layers("depth", depth)
        try OptionRanges.whole("repeats", repeats, 1...100_000)
        try OptionRanges.syntheticBatch(batch: batch, length: length)
    }

    func run() throws {
        var config = try model.resolve()
        config.encoderLayers = depth
        config.decoderLayers = depth
        let backprop = try parseModes(mode, option: "--mode")[0]
        let setup = try StepBenchmark.setup(config, batch: batch, length: length)
        print("OpenBLAS core: \(BLAS.coreName), threads: \(BLAS.threads); d=\(config.modelWidth), depth \(depth)+\(depth), \(backprop), batch \(batch)x\(length)")
        let configurations = StepBenchmark.observerConfigurations
        let (times, allocations) = StepBenchmark.observers(setup, mode: backprop, repeats: repeats)
        var table = TextTable("configuration", "median step s", "min s", "vs no observer")
        let reference = median(times[0])
        for (i, name) in configurations.enumerated() {
            table.add(name, fixed(median(times[i]), 4), fixed(times[i].min()!, 4), fixed(median(times[i]) / reference, 3) + "x")
        }
        print(table.rendered)
        print("about \(allocations) allocations per step")
    }
}
