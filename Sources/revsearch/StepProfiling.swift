import Foundation
import Profiler
import Reversible
import TensorCore
import Verifier

/// One profiled training step per (mode, depth): shared by `revsearch profile` and the
/// `profile` probe scenario.
struct StepProfiling {
    var batch = 8
    var length = 16
    var stacks = false
    var top = 8
    var checkMalloc = false
    var out: String?

    /// Builds the model with the profiler attached (so parameters are counted), then
    /// measures one training step.
    func profileStep(_ config: ModelConfig, mode: BackpropMode, depth: Int) throws -> (run: ProfileRun, malloc: ProfileCommand.MallocComparison?) {
        let runtime = Runtime.current
        // The heap comparison runs the profiler without its event log, whose own growth would
        // otherwise show up in the heap's figure.
        let profiler = MemoryProfiler(recordsEvents: !checkMalloc)
        let heap = checkMalloc ? MallocStatistics() : nil
        runtime.attach(profiler)
        if let heap { runtime.attach(heap) }
        runtime.captureStacks = stacks
        defer {
            runtime.detach(profiler)
            if let heap { runtime.detach(heap) }
            runtime.captureStacks = false
        }
        let network = try ReversibleTransformer(config)
        let data = SyntheticBatch.make(config: config, batchSize: batch, sourceLength: length, targetLength: length, seed: 5)
        profiler.resetPeaks()
        heap?.reset()
        let before = profiler.liveTotal
        network.trainingStep(data, mode: mode, dropoutKey: 9)
        let run = profiler.run(mode: mode.description, depth: depth, topCallSites: stacks ? top : nil)
        if let out, profiler.recordsEvents {
            let name = "\(mode.description.replacingOccurrences(of: ":", with: "-"))-depth\(depth)"
            try AtomicFile.write(profiler.chromeTrace(name: "revsearch \(mode) depth \(depth)"), to: "\(out)/trace-\(name).json")
            if stacks { try AtomicFile.write(Data(profiler.foldedStacksAtPeak().utf8), to: "\(out)/peak-stacks-\(name).folded") }
        }
        if stacks, let sites = run.callSites {
            print("call sites holding memory at the peak, \(mode) depth \(depth):")
            for site in sites {
                print("  \(SVGChart.bytesText(Double(site.bytes))) in \(site.allocations) buffers: " + site.shortFrames.prefix(5).joined(separator: " <- "))
            }
        }
        let comparison = heap.map {
            ProfileCommand.MallocComparison(mode: mode.description, depth: depth, profilerStepPeakBytes: profiler.peakTotal - before,
                             mallocStepPeakBytes: $0.peakAboveBaseline)
        }
        return (run, comparison)
    }

}
