import ArgumentParser
import Foundation
import InstrumentedRun
import Profiler
import Reversible
import TensorCore
import Verifier

/// `revsearch profile`: one training step of the same model and batch per backprop mode and
/// depth, with the memory profiler attached through the allocator hooks.
struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Peak activation memory per layer, full storage vs reconstruction, across depths."
    )

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Backprop modes, comma-separated.") var modes = "full,reconstruction,hybrid:2"
    @Option(help: "Depths (layers in the encoder and in the decoder each), comma-separated.") var depths = "2,4,8,16"
    @Option(help: "float32 or float64.") var dtype = "float32"
    @Option(help: "Sentences in the synthetic batch.") var batch = 8
    @Option(help: "Source and target length of the batch.") var length = 16
    @Option(name: .customLong("json"), help: "Write the runs as JSON to this path (-: standard output).") var jsonPath: String?
    @Option(help: "Directory for the SVG charts, Chrome traces and folded stacks.") var out: String?
    @Flag(help: "Capture call stacks (libunwind): call sites and folded stacks at the peak.") var stacks = false
    @Option(help: "Call sites listed per run.") var top = 8
    @Flag(help: "Also measure the C heap's peak (mallinfo2) and compare it with the profiler's (no traces then).") var checkMalloc = false

    struct Output: Encodable {
        let runs: [ProfileRun]
        let mallocComparison: [MallocComparison]?
        enum CodingKeys: String, CodingKey { case runs, mallocComparison = "malloc_comparison" }
    }

    func validate() throws {
        try OptionRanges.whole("top", top, 0...10_000)
        try OptionRanges.syntheticBatch(batch: batch, length: length)
    }

    func run() throws {
        var model = try modelOptions.resolve()
        guard let type = DType(name: dtype) else { throw ValidationError("--dtype: expected float32 or float64, got '\(dtype)'") }
        model.dtype = type
        let modeList = try parseModes(modes, option: "--modes")
        let depthList = try parsePositiveInts(depths, option: "--depths")
        if let out { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) }
        print("OpenBLAS core: \(BLAS.coreName); model d=\(model.modelWidth), n=\(model.splits), \(model.dtype), batch \(batch)x\(length)")

        var runs: [ProfileRun] = [], comparisons: [MallocComparison] = []
        var table = TextTable("depth", "mode", "peak activation", "peak total", "activation at total peak", "activation peak at", "phase",
                              "profiler's own")
        for depth in depthList {
            for mode in modeList {
                var config = model
                config.encoderLayers = depth
                config.decoderLayers = depth
                let measured = try StepProfiling(batch: batch, length: length, stacks: stacks, top: top, checkMalloc: checkMalloc, out: out)
                    .profileStep(config, mode: mode, depth: depth)
                runs.append(measured.run)
                if let comparison = measured.malloc { comparisons.append(comparison) }
                table.add(String(depth), mode.description, SVGChart.bytesText(Double(measured.run.peakActivationBytes)),
                          SVGChart.bytesText(Double(measured.run.peakTotalBytes)),
                          SVGChart.bytesText(Double(measured.run.bytesByCategoryAtPeakTotal[MemoryCategory.activation.rawValue] ?? 0)),
                          measured.run.peakActivationAt.layer, measured.run.peakActivationAt.phase.rawValue,
                          SVGChart.bytesText(Double(measured.run.profilerOwnBytes)))
            }
        }
        print(table.rendered)
        printSavings(runs, depths: depthList)
        if checkMalloc { printMallocComparison(comparisons) }
        if let out { try writeCharts(runs, depths: depthList, modes: modeList, to: out) }
        if let jsonPath { try AtomicFile.writeJSON(Output(runs: runs, mallocComparison: checkMalloc ? comparisons : nil), to: jsonPath) }
    }

    func printSavings(_ runs: [ProfileRun], depths: [Int]) {
        for depth in depths {
            guard let full = runs.first(where: { $0.depth == depth && $0.mode == "full" }) else { continue }
            let others = runs.filter { $0.depth == depth && $0.mode != "full" }
            let text = others.map { "full / \($0.mode) = \(fixed(Double(full.peakActivationBytes) / Double(max($0.peakActivationBytes, 1)), 2))x" }
            if !text.isEmpty { print("depth \(depth): peak activation saving " + text.joined(separator: ", ")) }
        }
    }

    func printMallocComparison(_ comparisons: [MallocComparison]) {
        var table = TextTable("depth", "mode", "profiler step peak", "malloc step peak", "malloc - profiler", "relative")
        for c in comparisons {
            guard let heap = c.mallocStepPeakBytes else {
                table.add(String(c.depth), c.mode, String(c.profilerStepPeakBytes), "unavailable", "-", "-")
                continue
            }
            let difference = heap - c.profilerStepPeakBytes
            table.add(String(c.depth), c.mode, String(c.profilerStepPeakBytes), String(heap), String(difference),
                      fixed(100 * Double(difference) / Double(max(c.profilerStepPeakBytes, 1)), 2) + "%")
        }
        print("\nIndependent check: peak above the pre-step baseline, profiler vs glibc mallinfo2 (uordblks + hblkhd), the heap read "
              + "at every tensor allocation and free (a buffer OpenBLAS holds only inside a kernel is between two reads)")
        if comparisons.contains(where: { $0.mallocStepPeakBytes == nil }) {
            print("mallinfo2 reports 0 bytes in use: another allocator answers it (Valgrind's tools replace glibc's); the check is unavailable")
        }
        print(table.rendered)
    }

    func writeCharts(_ runs: [ProfileRun], depths: [Int], modes: [BackpropMode], to directory: String) throws {
        for depth in depths {
            let atDepth = runs.filter { $0.depth == depth }
            guard let first = atDepth.first else { continue }
            let layers = first.layers.map(\.name)
            let series = atDepth.map { run in
                (name: run.mode, values: layers.map { name in Double(run.layers.first { $0.name == name }?.peakActivationBytes ?? 0) })
            }
            let stepPeaks = atDepth.map { "\($0.mode) \(SVGChart.bytesText(Double($0.peakActivationBytes)))" }.joined(separator: ", ")
            let svg = SVGChart.groupedBars(title: "Peak activation memory per layer, depth \(depth) (one training step)",
                                           categories: layers, series: series, valueLabel: "peak activation bytes",
                                           note: "Each bar is its layer's own peak; they fall at different moments and do not add up to "
                                               + "the step's peak activation (\(stepPeaks)).")
            try AtomicFile.write(Data(svg.utf8), to: "\(directory)/peak-activation-per-layer-depth\(depth).svg")
        }
        let series = modes.map { mode in
            (name: mode.description, values: depths.map { d in Double(runs.first { $0.depth == d && $0.mode == mode.description }?.peakActivationBytes ?? 0) })
        }
        let svg = SVGChart.lines(title: "Peak activation memory of a training step vs depth", x: depths.map(Double.init), series: series,
                                 xLabel: "depth (layers in the encoder and in the decoder each)", valueLabel: "peak activation bytes")
        try AtomicFile.write(Data(svg.utf8), to: "\(directory)/peak-activation-vs-depth.svg")
        print("wrote charts, traces\(stacks ? " and folded stacks" : "") to \(directory)")
    }
}
