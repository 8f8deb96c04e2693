import ArgumentParser
import Benchmarks
import Foundation
import Reversible
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

    func validate() throws {
        try OptionRanges.layers("depth", depth)
        try OptionRanges.whole("repeats", repeats, 1...100_000)
        try OptionRanges.syntheticBatch(batch: batch, length: length)
    }

    func run() throws {
        var config = try model.resolve()
        config.encoderLayers = depth
        config.decoderLayers = depth
        let modeList = try parseModes(modes, option: "--modes")
        let setup = try StepBenchmark.setup(config, batch: batch, length: length)
        print("OpenBLAS core: \(BLAS.coreName), threads: \(BLAS.threads)")
        print("model: d=\(config.modelWidth), n=\(config.splits), depth \(depth)+\(depth), \(config.dtype), \(setup.parameterCount) parameters; batch \(batch)x\(length) tokens")
        let times = StepBenchmark.modes(setup, modes: modeList, repeats: repeats)
        var table = TextTable("mode", "median step s", "min s", "vs \(modeList[0])")
        let reference = median(times[0])
        for (i, mode) in modeList.enumerated() {
            table.add(mode.description, fixed(median(times[i]), 3), fixed(times[i].min()!, 3), fixed(median(times[i]) / reference, 3) + "x")
        }
        print(table.rendered)
    }
}
