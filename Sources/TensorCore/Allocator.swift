import Glibc

/// One allocation or free, as observers see it. The same value (same `id`) is passed to
/// `allocated` and later to `freed`.
public struct AllocationEvent: Sendable {
    /// Unique per runtime, increasing in allocation order.
    public let id: UInt64
    public let bytes: Int
    public let dtype: DType
    public let category: MemoryCategory
    /// The scope current when the buffer was allocated.
    public let scope: Scope
    /// The part of the training step the buffer was allocated in.
    public let phase: StepPhase
    /// Present only while `Runtime.captureStacks` is on.
    public let stack: CallStack?
}

/// Receives every allocation and free of the runtime it is attached to. This is the
/// only way instruments (the memory profiler, budgets, counters) see the model core.
public protocol AllocationObserver: AnyObject {
    /// Called before the buffer's memory is taken.
    func allocated(_ event: AllocationEvent)
    /// Called when the buffer is released; `phase` is the part of the step current now
    /// (the event's own `phase` is when it was allocated).
    func freed(_ event: AllocationEvent, phase: StepPhase)
    /// Called before the caching allocator takes a segment of `bytes` from the system for
    /// `event`'s tensor (no free block held it); it held `reservedBytes` before.
    func reserving(_ bytes: Int, reservedBytes: Int, for event: AllocationEvent)
    /// Called after the caching allocator returned a segment of `bytes` to the system; it
    /// holds `reservedBytes` now.
    func released(_ bytes: Int, reservedBytes: Int)
}

extension AllocationObserver {
    /// Observers of tensors alone need not follow the cache.
    public func reserving(_ bytes: Int, reservedBytes: Int, for event: AllocationEvent) {}
    public func released(_ bytes: Int, reservedBytes: Int) {}
}

/// A 64-byte aligned block of tensor memory from the runtime's caching allocator. It
/// reports its own free to the runtime that allocated it, so accounting stays right even
/// if the last reference dies elsewhere.
public final class Buffer: @unchecked Sendable {
    public static let alignment = 64

    public let raw: UnsafeMutableRawPointer
    /// What the tensor asked for (the block may be larger: its size class).
    public let bytes: Int
    /// False for a buffer of a shape-only dry run (`Runtime.shapeOnly`): it is accounted for
    /// like any other, but `raw` points at no memory of its own and kernels skip it.
    public let holdsValues: Bool
    /// Set only when an observer saw the allocation; the free is then reported too.
    private let event: AllocationEvent?
    /// The runtime and the cache, retained by hand: a buffer keeps both alive, and calls
    /// through these references need no retain and release around each (four of the ten
    /// reference-count operations a free took; a dry run is mostly allocations and frees).
    private let runtime: Unmanaged<Runtime>
    private let cache: Unmanaged<BufferCache>
    /// The block's slot in `cache`.
    private let block: Int

    init(bytes: Int, dtype: DType, category: MemoryCategory, runtime: Runtime) {
        self.bytes = bytes
        self.runtime = .passRetained(runtime)
        // Observers hear of an allocation before the memory is taken, so a budget can stop
        // the process before it goes over (and a profiler's peak matches what was asked).
        if runtime.isObserved {
            let event = runtime.makeEvent(bytes: bytes, dtype: dtype, category: category)
            self.event = event
            runtime.notifyAllocated(event)
        } else {
            event = nil
        }
        let cache = runtime.activeCache
        self.cache = .passRetained(cache)
        holdsValues = cache.holdsMemory
        // The event is passed on (copied) only when a segment must be reserved.
        let size = cache.blockSize(bytes)
        if let found = cache.reuse(size) {
            (raw, block) = found
        } else {
            (raw, block) = runtime.reserveBlock(size, from: cache, for: event)
        }
    }

    deinit {
        runtime._withUnsafeGuaranteedRef { runtime in
            if let event { runtime.notifyFreed(event) }
            cache._withUnsafeGuaranteedRef { cache in
                if let released = cache.give(block) { runtime.notifyReleased(released, from: cache) }
            }
        }
        cache.release()
        runtime.release()
    }
}

/// Where every buffer of a shape-only dry run points: a reservation of address space no
/// one may read or write, so a kernel that forgot to skip a value-less tensor faults at
/// its first access instead of scribbling over someone else's memory.
enum ShapeOnlyMemory {
    nonisolated(unsafe) static let sentinel: UnsafeMutableRawPointer = {
        // 64 GiB of inaccessible, unbacked addresses: larger than any offset a tensor kernel computes.
        let reserved = mmap(nil, 1 << 36, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let reserved, reserved != MAP_FAILED else { return UnsafeMutableRawPointer(bitPattern: Buffer.alignment)! }
        return reserved
    }()
}
