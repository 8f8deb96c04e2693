import Foundation
import Profiler
import Reversible
import TensorCore
import Verifier

/// One profiled training step of a reversible model on a synthetic batch, per (mode,
/// depth): what `revsearch profile` and the `profile` probe measure.
public struct StepProfiling {
    /// Sentences in the synthetic batch.
    public var batch = 8
    /// Source and target length of every sentence.
    public var length = 16
    /// Capture call stacks (libunwind): call sites and folded stacks at the peak.
    public var stacks = false
    /// Call sites listed per run.
    public var top = 8
    /// Also measure the C heap's peak (mallinfo2) to compare with the profiler's.
    public var checkMalloc = false
    /// Where Chrome traces and folded stacks go (none without it).
    public var out: String?

    /// A profiling of one step of `batch` sentences of `length` tokens.
    public init(batch: Int = 8, length: Int = 16, stacks: Bool = false, top: Int = 8, checkMalloc: Bool = false, out: String? = nil) {
        self.batch = batch; self.length = length; self.stacks = stacks; self.top = top; self.checkMalloc = checkMalloc; self.out = out
    }

    /// Builds the model with the profiler attached (so parameters are counted), then
    /// measures one training step.
    public func profileStep(_ config: ModelConfig, mode: BackpropMode, depth: Int) throws -> (run: ProfileRun, malloc: MallocComparison?) {
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
            MallocComparison(mode: mode.description, depth: depth, profilerStepPeakBytes: profiler.peakTotal - before,
                             mallocStepPeakBytes: MallocStatistics.isAvailable ? $0.peakAboveBaseline : nil)
        }
        return (run, comparison)
    }
}

/// The step's peak above its start as the profiler and as the C heap saw it.
public struct MallocComparison: Encodable, Sendable {
    /// The backprop mode profiled.
    public let mode: String
    /// Encoder (and decoder) layers.
    public let depth: Int
    /// The profiler's peak of tensor bytes above the step's start.
    public let profilerStepPeakBytes: Int
    /// The C heap's peak above the step's start (mallinfo2), read at every tensor
    /// allocation and free; nil where mallinfo2 is unavailable (it reports 0 under Valgrind).
    public let mallocStepPeakBytes: Int?
    enum CodingKeys: String, CodingKey {
        case mode, depth
        case profilerStepPeakBytes = "profiler_step_peak_bytes", mallocStepPeakBytes = "malloc_step_peak_bytes"
    }
}
