import Glibc

/// Per-thread state of the model core: allocation observers, the current scope and
/// memory category, call-stack capture, and the tape that records operations.
///
/// Thread-local rather than global so that two models on two threads (or two tests run
/// in parallel) neither see each other's allocations nor share a tape. Kernels run on
/// the calling thread; OpenBLAS parallelises inside a call.
public final class Runtime: @unchecked Sendable {
    /// This thread's runtime, made on first use.
    public static var current: Runtime {
        if let existing = pthread_getspecific(runtimeKey) {
            return Unmanaged<Runtime>.fromOpaque(existing).takeUnretainedValue()
        }
        let made = Runtime()
        pthread_setspecific(runtimeKey, Unmanaged.passRetained(made).toOpaque())
        return made
    }

    // The state every allocation reads skips the dynamic exclusivity checks: a runtime is
    // its thread's, and the checks (thread-local access sets) cost a dry run ~5%.
    @exclusivity(unchecked) private var observers: [AllocationObserver] = []
    /// True when at least one observer is attached: the single branch on the allocation path.
    @exclusivity(unchecked) private(set) var isObserved = false
    @exclusivity(unchecked) private var nextID: UInt64 = 0

    /// The scope new allocations are attributed to.
    @exclusivity(unchecked) public internal(set) var scope = Scope(name: "", parent: nil)
    /// The part of a training step running now; models set it, observers read it.
    @exclusivity(unchecked) public private(set) var phase = StepPhase.idle
    /// The category new tensors get unless the call names one.
    @exclusivity(unchecked) public private(set) var category = MemoryCategory.activation
    /// Capture a libunwind call stack with every observed allocation (costly; off by default).
    @exclusivity(unchecked) public var captureStacks = false
    /// The tape operations are recorded on; nil when not recording (inference, backward).
    @exclusivity(unchecked) public internal(set) var tape: Tape?
    /// The caching allocator tensors take their memory from (`BufferCache`).
    @exclusivity(unchecked) private var cache = BufferCache(holdsMemory: true, reuses: true)
    /// A shape-only dry run's cache: the same decisions, no memory.
    @exclusivity(unchecked) private var dryCache: BufferCache?
    /// The cache new buffers come from now.
    var activeCache: BufferCache { dryCache ?? cache }
    /// Bytes the caching allocator holds from the system: blocks in use and free ones (a dry
    /// run's figure inside `shapeOnly`).
    public var reservedBytes: Int { activeCache.reservedBytes }
    /// Keep freed tensor memory for reuse (the default); false gives every block back at
    /// once, as an allocator without a cache, for comparisons. Changing it starts a new
    /// cache (blocks of live tensors return to the old one, which no observer follows).
    public var cachesBuffers: Bool {
        get { cache.reuses }
        set {
            guard newValue != cache.reuses else { return }
            emptyCache()
            cache = BufferCache(holdsMemory: true, reuses: newValue)
        }
    }
    /// True inside `shapeOnly`: new tensors get a shape, a dtype, a category and a scope,
    /// and the allocator hooks hear of them exactly as in a real step, but they hold no
    /// values and kernels skip them.
    public private(set) var isShapeOnly = false
    /// Multiply-adds of every gemm run on this thread (counted in a dry run too): the
    /// arithmetic a backprop mode's recomputation adds to, for plans that weigh memory
    /// against time. Read differences; it only grows.
    public internal(set) var multiplyAdds = 0
    /// Who decides ReLU and max-pooling branches; nil (the kernels decide) except while a
    /// checker compares two computations.
    public var branches: BranchDecisions?

    // MARK: - Observers

    public func attach(_ observer: AllocationObserver) {
        observers.append(observer)
        isObserved = true
    }

    public func detach(_ observer: AllocationObserver) {
        observers.removeAll { $0 === observer }
        isObserved = !observers.isEmpty
    }

    func makeEvent(bytes: Int, dtype: DType, category: MemoryCategory) -> AllocationEvent {
        nextID &+= 1
        // Skip makeEvent, Buffer.init and the tensor constructor that asked for memory.
        let stack = captureStacks ? CallStack.capture(skip: 2) : nil
        return AllocationEvent(id: nextID, bytes: bytes, dtype: dtype, category: category, scope: scope, phase: phase, stack: stack)
    }

    func notifyAllocated(_ event: AllocationEvent) {
        observers.withUnsafeBufferPointer { list in
            for index in list.indices { list[index].allocated(event) }
        }
    }

    func notifyFreed(_ event: AllocationEvent) {
        let phase = phase
        observers.withUnsafeBufferPointer { list in
            for index in list.indices { list[index].freed(event, phase: phase) }
        }
    }

    // MARK: - Scopes and categories

    /// Runs `body` with `name` appended to the scope path.
    public func withScope<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        let saved = scope
        scope = saved.child(name)
        defer { scope = saved }
        return try body()
    }

    /// The rows of a larger batch the tensors being computed belong to: `first` of a batch
    /// of `count` rows (nil: the batch is whole). A process of a data-parallel run computes
    /// rows `first ..< first + count` of the global batch; dropout then draws the masks those
    /// rows have in the global batch, so a run's masks do not depend on how many processes
    /// share it.
    @exclusivity(unchecked) public private(set) var batchRows: (first: Int, count: Int)?

    /// Runs `body` with `batchRows` set (a whole batch: first 0).
    public func withBatchRows<R>(first: Int, count: Int, _ body: () throws -> R) rethrows -> R {
        let saved = batchRows
        batchRows = first == 0 ? nil : (first, count)
        defer { batchRows = saved }
        return try body()
    }

    /// Runs `body` marked as `phase` of a training step.
    public func withPhase<R>(_ phase: StepPhase, _ body: () throws -> R) rethrows -> R {
        let saved = self.phase
        self.phase = phase
        defer { self.phase = saved }
        return try body()
    }

    /// Runs `body` with new tensors defaulting to `category`.
    public func withCategory<R>(_ category: MemoryCategory, _ body: () throws -> R) rethrows -> R {
        let saved = self.category
        self.category = category
        defer { self.category = saved }
        return try body()
    }

    /// Runs `body` as a shape-only dry run: the same model code, the same allocations and
    /// frees in the same order, no arithmetic. What a memory plan measures in a fraction of
    /// a step's time; values read from its tensors are zeros.
    public func shapeOnly<R>(_ body: () throws -> R) rethrows -> R {
        let (saved, savedCache) = (isShapeOnly, dryCache)
        isShapeOnly = true
        // A cache of its own, starting empty: a real step's prediction starts from an empty cache too.
        if savedCache == nil { dryCache = BufferCache(holdsMemory: false, reuses: cache.reuses) }
        defer { isShapeOnly = saved; dryCache = savedCache }
        return try body()
    }

    /// Runs `body` with a new, empty cache (tensors made before keep theirs): a measurement
    /// that starts from what a new process holds, whatever this thread allocated before, as a
    /// dry run starts from its own empty cache. Without it, a block left in use by an earlier
    /// tensor can lend its segment's free space to the step, and the step reserves less than
    /// it would alone.
    public func withNewCache<R>(_ body: () throws -> R) rethrows -> R {
        let saved = cache
        cache = BufferCache(holdsMemory: true, reuses: saved.reuses)
        defer { cache = saved }
        return try body()
    }

    /// Returns every free block of the cache to the system (observers hear of each), as
    /// `torch.cuda.empty_cache()` does: what a measurement calls to start from nothing held.
    public func emptyCache() {
        let cache = activeCache
        for size in cache.empty() { notifyReleased(size, from: cache) }
    }

    /// A block of `size` (a block size) from a new segment of `cache`, reserved after the
    /// cache has trimmed its free segments, when no free block holds it (`BufferCache.reuse`
    /// failed). Returns the memory and the block's slot in the cache.
    func reserveBlock(_ size: Int, from cache: BufferCache, for event: AllocationEvent?) -> (UnsafeMutableRawPointer, Int) {
        let segment = cache.segmentSize(size)
        for released in cache.trim(before: segment) { notifyReleased(released, from: cache) }
        if let event, isObserved { for observer in observers { observer.reserving(segment, reservedBytes: cache.reservedBytes, for: event) } }
        return cache.reserve(size)
    }

    /// Tells observers a block went back to the system, if it was the cache they follow.
    func notifyReleased(_ bytes: Int, from cache: BufferCache) {
        guard isObserved, cache === activeCache else { return }
        for observer in observers { observer.released(bytes, reservedBytes: cache.reservedBytes) }
    }

    /// Runs `body` with recording switched to `tape` (nil: nothing is recorded).
    public func withTape<R>(_ tape: Tape?, _ body: () throws -> R) rethrows -> R {
        let saved = self.tape
        self.tape = tape
        defer { self.tape = saved }
        return try body()
    }

    func allocate(bytes: Int, dtype: DType, category: MemoryCategory?) -> Buffer {
        Buffer(bytes: bytes, dtype: dtype, category: category ?? self.category, runtime: self)
    }
}

/// Which part of a training step is running: lets a memory profiler say whether its peak
/// came in the forward or the backward pass.
public enum StepPhase: String, Sendable, Codable {
    case idle, forward, backward, update
}

/// Runs `body` inside a named scope of the current thread's runtime.
public func withScope<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
    try Runtime.current.withScope(name, body)
}

private let runtimeKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { pointer in
        if let pointer { Unmanaged<Runtime>.fromOpaque(pointer).release() }
    }
    return key
}()
