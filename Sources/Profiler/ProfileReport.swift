import TensorCore

/// One measured run (a mode at a depth, or one training step): what `revsearch profile
/// --json` writes per run.
public struct ProfileRun: Sendable, Codable {
    public struct Layer: Sendable, Codable {
        public let name: String
        public let peakActivationBytes: Int
        enum CodingKeys: String, CodingKey { case name, peakActivationBytes = "peak_activation_bytes" }
    }

    public struct PeakLocation: Sendable, Codable {
        public let layer: String
        public let scope: String
        public let phase: StepPhase
    }

    public var mode: String
    public var depth: Int
    public let peakActivationBytes: Int
    public let peakTotalBytes: Int
    /// The most the caching allocator held from the system (blocks in use, rounded up to
    /// their size class, and free ones): what a process's heap needs, and what
    /// `--memory-budget` caps.
    public let peakReservedBytes: Int
    /// Live bytes per category at the moment of the total peak: they add up to it.
    public let bytesByCategoryAtPeakTotal: [String: Int]
    /// Each category's own maximum, reached at different moments: they do not add up to
    /// the total peak (a step's activations and gradients peak at different times).
    public let categoryMaximaBytes: [String: Int]
    /// The profiler's own memory at the end of the window (event log, tracked allocations),
    /// which no category counts.
    public let profilerOwnBytes: Int
    /// Where live activation memory reached its peak.
    public let peakActivationAt: PeakLocation
    public let layers: [Layer]
    /// Call sites holding memory at the total peak (only when stacks were captured).
    public let callSites: [CallSite]?

    enum CodingKeys: String, CodingKey {
        case mode, depth, layers
        case peakActivationBytes = "peak_activation_bytes", peakTotalBytes = "peak_total_bytes", peakReservedBytes = "peak_reserved_bytes"
        case bytesByCategoryAtPeakTotal = "bytes_by_category_at_peak_total", categoryMaximaBytes = "category_maxima_bytes"
        case profilerOwnBytes = "profiler_own_bytes", peakActivationAt = "peak_activation_at"
        case callSites = "call_sites"
    }
}

/// Bytes alive at the peak that were allocated from one call stack.
public struct CallSite: Sendable, Codable {
    public let bytes: Int
    public let allocations: Int
    /// Demangled frames, innermost first.
    public let frames: [String]
}

extension MemoryProfiler {
    /// The current window's figures as a run record.
    public func run(mode: String, depth: Int, topCallSites: Int? = nil) -> ProfileRun {
        let layer = peakActivationScope.isEmpty ? "" : MemoryProfiler.layerName(ofPath: peakActivationScope)
        return ProfileRun(
            mode: mode, depth: depth, peakActivationBytes: peakActivation, peakTotalBytes: peakTotal, peakReservedBytes: peakReserved,
            bytesByCategoryAtPeakTotal: Dictionary(uniqueKeysWithValues: MemoryCategory.allCases.map { ($0.rawValue, atPeakTotal[$0] ?? 0) }),
            categoryMaximaBytes: Dictionary(uniqueKeysWithValues: MemoryCategory.allCases.map { ($0.rawValue, peak[$0] ?? 0) }),
            profilerOwnBytes: ownBytes,
            peakActivationAt: .init(layer: layer, scope: peakActivationScope, phase: peakActivationPhase),
            layers: layerOrder.map { .init(name: $0, peakActivationBytes: layerPeak[$0] ?? 0) },
            callSites: topCallSites.map { callSites(top: $0) })
    }

    /// Allocations alive at the total peak, grouped by call stack, largest first.
    public func callSites(top: Int) -> [CallSite] {
        var groups: [CallStack: (bytes: Int, count: Int)] = [:]
        for allocation in liveAllocations(afterEvent: peakTotalEvent) {
            guard let stack = allocation.stack else { continue }
            groups[stack, default: (0, 0)].bytes += allocation.bytes
            groups[stack, default: (0, 0)].count += 1
        }
        return groups.sorted { $0.value.bytes > $1.value.bytes }.prefix(top).map {
            CallSite(bytes: $0.value.bytes, allocations: $0.value.count, frames: Self.meaningfulFrames($0.key.symbols))
        }
    }

    /// Folded stacks of the memory alive at the total peak (`outer;...;inner bytes` per line),
    /// the format flamegraph.pl and speedscope read.
    public func foldedStacksAtPeak() -> String {
        var lines: [String: Int] = [:]
        for allocation in liveAllocations(afterEvent: peakTotalEvent) {
            let frames = allocation.stack.map { Self.meaningfulFrames($0.symbols) } ?? ["(no stack) \(allocation.scope.path)"]
            let key = frames.reversed().map { $0.replacingOccurrences(of: ";", with: ",") }.joined(separator: ";")
            lines[key, default: 0] += allocation.bytes
        }
        return lines.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "\n") + "\n"
    }

    /// The program's entry frame: C's `main`, SwiftPM's renamed `<module>_main` of an
    /// executable, or a Swift `$main`. Frames outside it are the C start-up (`_start`,
    /// `__libc_start_main`).
    static func isProgramEntry(_ frame: String) -> Bool {
        frame == "main" || frame.hasSuffix("$main") || frame.hasSuffix("$main() -> ()")
            || (frame.hasSuffix("_main") && !frame.hasPrefix("_") && !frame.contains(" "))
    }

    /// Frames up to the program's entry, without the allocator's own frames and the C start-up.
    package static func meaningfulFrames(_ symbols: [String]) -> [String] {
        var frames = symbols
        while let first = frames.first, first.contains("Tensor.init(uninitialized") || first.contains("Buffer.init")
            || first.contains("Runtime.allocate") {
            frames.removeFirst()
        }
        if let entry = frames.firstIndex(where: isProgramEntry) {
            frames = Array(frames[...entry])
        }
        return frames.map { String($0.prefix(200)) }
    }
}

extension CallSite {
    /// Frames with argument lists dropped, for one-line terminal reports
    /// ("closure in TensorCore.linear", "Ops.ConvolutionOp.init").
    public var shortFrames: [String] { frames.map(CallSite.shortName) }

    static func shortName(_ symbol: String) -> String {
        var name = symbol
        var prefix = ""
        if name.hasPrefix("closure") || name.hasPrefix("partial apply") || name.hasPrefix("implicit closure") {
            prefix = name.hasPrefix("partial apply") ? "partial apply in " : "closure in "
            if let range = name.range(of: ") in ", options: .backwards) ?? name.range(of: " in ", options: .backwards) {
                name = String(name[range.upperBound...])
            }
        }
        if let range = name.range(of: " of ", options: []), name.hasPrefix("function signature specialization") || name.hasPrefix("generic specialization") {
            name = String(name[range.upperBound...])
        }
        if let paren = name.firstIndex(of: "(") { name = String(name[..<paren]) }
        return prefix + name
    }
}
