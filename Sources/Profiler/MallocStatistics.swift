import CHeap
import TensorCore

/// An independent measure of the same run: the C heap's own accounting (glibc mallinfo2:
/// bytes in use in the heap plus mmapped chunks), read at every allocation and free the
/// allocator reports, with its peak. It counts everything the process holds on the heap
/// (tape entries, arrays, closures) besides tensors, so it sits a little above the
/// profiler; the difference is what the comparison states.
public final class MallocStatistics: AllocationObserver {
    public private(set) var baseline: Int
    public private(set) var peak: Int

    public init() {
        baseline = MallocStatistics.inUse()
        peak = baseline
    }

    public static func inUse() -> Int {
        Int(revsearch_heap_in_use())
    }

    /// Whether glibc's accounting can be read: a running process always has heap in use,
    /// so 0 means another allocator answers mallinfo2 (Valgrind's tools replace it).
    public static var isAvailable: Bool { inUse() > 0 }

    public func allocated(_ event: AllocationEvent) { peak = max(peak, MallocStatistics.inUse()) }
    public func freed(_ event: AllocationEvent, phase: StepPhase) { peak = max(peak, MallocStatistics.inUse()) }

    /// Restarts the peak from what is in use now.
    public func reset() {
        baseline = MallocStatistics.inUse()
        peak = baseline
    }

    /// Peak bytes above the baseline.
    public var peakAboveBaseline: Int { peak - baseline }
}
