import Foundation
import Ops
import Profiler
import Reversible
import Search
import TensorCore
import Translation
import Verifier

/// What a profile or a memory plan runs.
public enum ProfiledStep: Sendable, Equatable {
    /// Forward and backward of the super-network on one batch (`revsearch profile`).
    case training
    /// Search steps as `revsearch search` takes them: alpha's step then theta's, Adam on both,
    /// theta's gradient clipped; the peak is the largest over the steps.
    case search(steps: Int)
    /// Forward and backward of the same-size baseline Transformer (full storage: it has no
    /// other mode).
    case baseline
}

/// One profiled step of a model, per (mode, depth): what `revsearch profile` and `revsearch
/// plan` measure and the `profile` and `dry-run` probes compare. With `shapeOnly` the same
/// code runs as a dry run (`Runtime.shapeOnly`): the allocator hooks fire as in the real
/// step, no kernel runs, and the profiler's figures are the plan's prediction.
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
    /// Which step to run.
    public var step = ProfiledStep.training
    /// Run it shape-only: a prediction, not a measurement.
    public var shapeOnly = false
    /// A search step's options (its `mode` is the one profiled); with `pairs` nil, the search
    /// batches `batch` synthetic pairs of `length` tokens at a time.
    public var search = BilevelSearch.Options()
    /// A search's corpus, tokenized (nil: synthetic pairs).
    public var pairs: [TokenizedPair]?
    /// Where the super-network's ops come from.
    public var registry = OpRegistry.standard
    /// With `.search`: the process whose share of each batch the steps compute (a plan of
    /// one rank of a data-parallel search; `PlannedProcess` sums nothing).
    public var process: Communicator = SingleProcess()

    /// A profiling of one step of `batch` sentences of `length` tokens.
    public init(batch: Int = 8, length: Int = 16, stacks: Bool = false, top: Int = 8, checkMalloc: Bool = false, out: String? = nil) {
        self.batch = batch; self.length = length; self.stacks = stacks; self.top = top; self.checkMalloc = checkMalloc; self.out = out
    }

    /// One profiled step: the profiler's run record, the heap comparison (with
    /// `checkMalloc`), the step's gemm multiply-adds (the measure of its arithmetic a mode's
    /// recomputation adds to) and its seconds.
    public struct Measured {
        public let run: ProfileRun
        public let malloc: MallocComparison?
        public let multiplyAdds: Int
        public let seconds: Double
    }

    /// Builds the model with the profiler attached (so parameters are counted), then
    /// measures the step, from an empty cache as a new process starts: a cache of its own (with
    /// `shapeOnly`, the dry run's), so the profiler follows that cache from its start.
    public func profileStep(_ config: ModelConfig, mode: BackpropMode, depth: Int) throws -> Measured {
        let runtime = Runtime.current
        return try shapeOnly ? runtime.shapeOnly { try measure(config, mode: mode, depth: depth) }
                             : runtime.withNewCache { try measure(config, mode: mode, depth: depth) }
    }

    private func measure(_ config: ModelConfig, mode: BackpropMode, depth: Int) throws -> Measured {
        let runtime = Runtime.current
        // No event log for the heap comparison (its own growth would show up in the heap's
        // figure), nor for a dry run unless a trace or stacks are asked for (a plan needs the
        // peaks only, and the log is most of its cost).
        let profiler = MemoryProfiler(recordsEvents: !checkMalloc && (!shapeOnly || out != nil || stacks))
        let heap = checkMalloc && !shapeOnly ? MallocStatistics() : nil
        runtime.attach(profiler)
        if let heap { runtime.attach(heap) }
        runtime.captureStacks = stacks
        defer {
            runtime.detach(profiler)
            if let heap { runtime.detach(heap) }
            runtime.captureStacks = false
        }
        let started = try runStep(config, mode: mode, profiler: profiler, heap: heap)
        let label = step == .baseline ? "baseline" : mode.description
        let run = profiler.run(mode: label, depth: depth, topCallSites: stacks ? top : nil)
        if let out, profiler.recordsEvents {
            let name = "\(label.replacingOccurrences(of: ":", with: "-"))-depth\(depth)"
            try AtomicFile.write(profiler.chromeTrace(name: "revsearch \(label) depth \(depth)"), to: "\(out)/trace-\(name).json")
            if stacks { try AtomicFile.write(Data(profiler.foldedStacksAtPeak().utf8), to: "\(out)/peak-stacks-\(name).folded") }
        }
        if stacks, let sites = run.callSites {
            print("call sites holding memory at the peak, \(label) depth \(depth):")
            for site in sites {
                print("  \(SVGChart.bytesText(Double(site.bytes))) in \(site.allocations) buffers: " + site.shortFrames.prefix(5).joined(separator: " <- "))
            }
        }
        let comparison = heap.map {
            MallocComparison(mode: label, depth: depth, profilerStepPeakBytes: profiler.peakReserved - started.reservedBefore,
                             mallocStepPeakBytes: MallocStatistics.isAvailable ? $0.peakAboveBaseline : nil)
        }
        return Measured(run: run, malloc: comparison, multiplyAdds: runtime.multiplyAdds - started.multiplyAdds, seconds: started.seconds)
    }

    /// Builds the model, resets the peaks, runs the step; returns what was live and the
    /// multiply-add count when the step began, and the step's seconds (the step alone: not
    /// the model's construction, nor its teardown when this returns).
    private func runStep(_ config: ModelConfig, mode: BackpropMode, profiler: MemoryProfiler, heap: MallocStatistics?) throws
        -> (reservedBefore: Int, multiplyAdds: Int, seconds: Double) {
        let runtime = Runtime.current
        var start = (reservedBefore: 0, multiplyAdds: 0, time: Date())
        func begin() {
            profiler.resetPeaks()
            heap?.reset()
            start = (profiler.reservedTotal, runtime.multiplyAdds, Date())
        }
        func end() -> (reservedBefore: Int, multiplyAdds: Int, seconds: Double) {
            (start.reservedBefore, start.multiplyAdds, Date().timeIntervalSince(start.time))
        }
        let data = { SyntheticBatch.make(config: config, batchSize: batch, sourceLength: length, targetLength: length, seed: 5) }
        switch step {
        case .training:
            let network = try ReversibleTransformer(config, registry: registry)
            let batch = data()
            begin()
            network.trainingStep(batch, mode: mode, dropoutKey: 9)
            return end()
        case .baseline:
            let baseline = TransformerBaseline(matching: config)
            let batch = data()
            begin()
            _ = baseline.trainingStep(batch, dropoutKey: 9, labelSmoothing: 0.1)
            return end()
        case .search(let steps):
            var options = search
            options.mode = mode
            if pairs == nil { options.maxTokens = StepProfiling.syntheticMaxTokens(batch: batch, length: length) }
            let searched = try BilevelSearch(model: try ReversibleTransformer(config, registry: registry),
                                             pairs: pairs ?? StepProfiling.syntheticPairs(config, batch: batch, length: length), options: options,
                                             communicator: process)
            begin()
            for _ in 0..<steps { searched.step() }
            return end()
        }
    }

    /// Seeded pairs of exactly `length` tokens, two batches' worth for each half: with
    /// `syntheticMaxTokens`, every batch of a search holds `batch` sentences of that length.
    public static func syntheticPairs(_ config: ModelConfig, batch: Int, length: Int) -> [TokenizedPair] {
        var rng = RandomState(seed: 5)
        func sentence(_ vocabulary: Int) -> [Int32] { (0..<length).map { _ in Int32(3 + Int(rng.next() % UInt64(max(vocabulary - 3, 1)))) } }
        return (0..<(4 * batch)).map { _ in TokenizedPair(source: sentence(config.sourceVocabulary), target: sentence(config.targetVocabulary)) }
    }

    /// Tokens per batch that make a search batch `batch` synthetic pairs of `length` (the
    /// batcher counts a pair as its longer side, the target with its end-of-sentence token).
    public static func syntheticMaxTokens(batch: Int, length: Int) -> Int { batch * (length + 1) }
}

/// The step's peak above its start as the profiler and as the C heap saw it.
public struct MallocComparison: Encodable, Sendable {
    /// The backprop mode profiled.
    public let mode: String
    /// Encoder (and decoder) layers.
    public let depth: Int
    /// The profiler's peak of reserved bytes (the cache's blocks) above the step's start.
    public let profilerStepPeakBytes: Int
    /// The C heap's peak above the step's start (mallinfo2), read at every tensor
    /// allocation and free; nil where mallinfo2 is unavailable (it reports 0 under Valgrind).
    public let mallocStepPeakBytes: Int?
    enum CodingKeys: String, CodingKey {
        case mode, depth
        case profilerStepPeakBytes = "profiler_step_peak_bytes", mallocStepPeakBytes = "malloc_step_peak_bytes"
    }
}
