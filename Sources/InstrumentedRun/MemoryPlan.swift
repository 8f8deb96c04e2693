import Foundation
import Profiler
import Reversible

/// A memory plan: for each backprop mode, the peak a step would reach, predicted by a
/// shape-only dry run (`StepProfiling` with `shapeOnly`), with the arithmetic it costs, and
/// which mode to pick for a budget. Dry runs take a fraction of a real step, so a plan can
/// afford a bisection over widths where real child processes take minutes.
public struct MemoryPlan {
    /// One mode's prediction.
    public struct Entry {
        /// The dry run's profile: the same fields `revsearch profile --json` writes.
        public let run: ProfileRun
        /// Gemm multiply-adds of the planned step(s), counted in the dry run.
        public let multiplyAdds: Int
        /// Multiply-adds over full storage's, minus one: the recomputation's share of time.
        public let recomputedFraction: Double
        /// Whether the peak reserved is within the budget (nil without a budget): what
        /// `--memory-budget` caps.
        public let fits: Bool?
    }

    /// The largest width that fits one mode, found by bisection over dry runs.
    public struct Largest: Encodable {
        public let mode: String
        /// Largest fitting d (0: not even the smallest).
        public let d: Int
        /// The next width tried above it, which did not fit (or passed the limit).
        public let over: Int
        /// The predicted peak reserved at `d`.
        public let peakReservedBytes: Int
        enum CodingKeys: String, CodingKey { case mode, d, over, peakReservedBytes = "peak_reserved_bytes" }
    }

    /// Dry runs `profiling` (made shape-only here) of `config` in each of `modes`, judged
    /// against `budget`. The fraction is relative to full storage when it is among `modes`,
    /// else to the mode with the fewest multiply-adds.
    public static func entries(_ profiling: StepProfiling, config: ModelConfig, modes: [BackpropMode], budget: Int?) throws -> [Entry] {
        var dry = profiling
        dry.shapeOnly = true
        let measured = try modes.map { try dry.profileStep(config, mode: $0, depth: config.encoderLayers) }
        let base = zip(modes, measured).first { $0.0 == .full }?.1.multiplyAdds ?? measured.map(\.multiplyAdds).min() ?? 0
        return measured.map { m in
            Entry(run: m.run, multiplyAdds: m.multiplyAdds, recomputedFraction: Double(m.multiplyAdds) / Double(max(base, 1)) - 1,
                  fits: budget.map { m.run.peakReservedBytes <= $0 })
        }
    }

    /// The entry with the fewest multiply-adds among those that fit (ties: the smaller peak).
    public static func recommended(_ entries: [Entry]) -> Entry? {
        entries.filter { $0.fits == true }.min { ($0.multiplyAdds, $0.run.peakReservedBytes) < ($1.multiplyAdds, $1.run.peakReservedBytes) }
    }

    /// The largest multiple of `granularity` up to `limit` whose predicted peak reserved fits
    /// `budget` in `mode`, by bisection (memory grows with d in every category) over the
    /// widths the model can be built at (divisible by its splits and heads, within this
    /// machine's memory); the others are never tried.
    public static func largestWidth(_ profiling: StepProfiling, config: ModelConfig, mode: BackpropMode, budget: Int,
                                    granularity: Int, limit: Int) throws -> Largest {
        var dry = profiling
        dry.shapeOnly = true
        func sized(_ d: Int) -> ModelConfig {
            var c = config
            c.modelWidth = d
            return c
        }
        let widths = stride(from: granularity, through: limit, by: granularity).filter { sized($0).validate(registry: dry.registry).isEmpty }
        var low = -1, high = widths.count, lowPeak = 0   // fits(widths[low]) (-1: none yet), !fits(widths[high]) (count: past the limit)
        while high - low > 1 {
            let mid = (low + high) / 2
            let bytes = try dry.profileStep(sized(widths[mid]), mode: mode, depth: config.encoderLayers).run.peakReservedBytes
            if bytes <= budget { low = mid; lowPeak = bytes } else { high = mid }
        }
        return Largest(mode: mode.description, d: low >= 0 ? widths[low] : 0,
                       over: high < widths.count ? widths[high] : limit + granularity, peakReservedBytes: lowPeak)
    }
}
