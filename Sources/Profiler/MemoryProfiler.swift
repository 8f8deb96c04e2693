import Foundation
import TensorCore

/// An allocation observer that accounts for tensor memory: live and peak bytes by
/// category, by scope and by layer; the step's peak and where it happened; an event log
/// from which the timeline and the allocations alive at the peak are rebuilt. It sees the
/// model only through the allocator hooks: attach it to a `Runtime`, run, read it.
public final class MemoryProfiler: AllocationObserver {
    /// One allocation or free, in order.
    struct Event {
        let nanoseconds: UInt64
        let id: UInt64
        /// Positive for an allocation, negative for a free.
        let delta: Int
        let category: MemoryCategory
        let scope: Scope
        let phase: StepPhase
    }

    private(set) var events: [Event] = []
    /// Allocations plus frees logged in the current window.
    public var eventCount: Int { events.count }
    /// Every allocation of the current window, by id (with its stack when captured).
    private var madeInWindow: [UInt64: AllocationEvent] = [:]
    private let start = DispatchTime.now().uptimeNanoseconds
    /// Allocations this profiler saw and that are still alive (a free of any other is
    /// ignored: it was allocated before the profiler was attached).
    @exclusivity(unchecked) private var open = AllocationIDSet()
    /// The same allocations' events, kept only with the event log (the window's baseline).
    private var openEvents: [UInt64: AllocationEvent] = [:]

    /// Live and peak bytes by category, indexed by `MemoryCategory.slot`: arrays, not
    /// dictionaries, on the path every allocation takes (the profiler's overhead). Observers
    /// are called on their runtime's thread alone, so the state the hooks update skips the
    /// dynamic exclusivity checks (a tenth of a dry run's time otherwise).
    @exclusivity(unchecked) private var liveBySlot = [Int](repeating: 0, count: MemoryCategory.allCases.count)
    @exclusivity(unchecked) private var peakBySlot = [Int](repeating: 0, count: MemoryCategory.allCases.count)
    public var live: [MemoryCategory: Int] { Dictionary(uniqueKeysWithValues: MemoryCategory.allCases.map { ($0, liveBySlot[$0.slot]) }) }
    public var peak: [MemoryCategory: Int] { Dictionary(uniqueKeysWithValues: MemoryCategory.allCases.map { ($0, peakBySlot[$0.slot]) }) }
    public private(set) var liveTotal = 0
    public private(set) var peakTotal = 0
    /// Live bytes by category at the moment of the total peak: they add up to `peakTotal`
    /// (unlike `peak`, whose per-category maxima fall at different moments).
    public var atPeakTotal: [MemoryCategory: Int] { Dictionary(uniqueKeysWithValues: MemoryCategory.allCases.map { ($0, atPeakBySlot[$0.slot]) }) }
    @exclusivity(unchecked) private var atPeakBySlot = [Int](repeating: 0, count: MemoryCategory.allCases.count)
    /// Index into `events` right after which the total peak was reached.
    private(set) var peakTotalEvent = -1
    /// The step phase in which the total peak was reached.
    public private(set) var peakTotalPhase = StepPhase.idle
    public private(set) var peakActivation = 0
    /// Where the activation peak was reached: the scope of the allocation that made it, and the phase.
    public private(set) var peakActivationScope = ""
    public private(set) var peakActivationPhase = StepPhase.idle
    public private(set) var peakActivationEvent = -1

    /// Live and peak activation bytes per layer ("encoder.layer3", "decoder.embedding").
    public var layerLive: [String: Int] { Dictionary(uniqueKeysWithValues: zip(layerOrder, layerLiveBytes)) }
    public var layerPeak: [String: Int] { Dictionary(uniqueKeysWithValues: zip(layerOrder, layerPeakBytes)) }
    @exclusivity(unchecked) private var layerLiveBytes: [Int] = []
    @exclusivity(unchecked) private var layerPeakBytes: [Int] = []
    /// Layers in the order first seen.
    public private(set) var layerOrder: [String] = []
    /// Index into `layerOrder` of every scope seen, by the scope's serial (-1: not yet seen).
    @exclusivity(unchecked) private var layerOfScope: [Int] = []

    /// Whether the event log (timeline, call sites, folded stacks) is kept. Without it the
    /// profiler holds no memory that grows with the run, which is how it is compared with
    /// the C heap's own accounting (`revsearch profile --check-malloc`).
    public let recordsEvents: Bool

    /// What the caching allocator holds from the system (blocks in use and free ones), as
    /// PyTorch's `memory_reserved`, from the runtime's figure when the profiler was made;
    /// `liveTotal` is what tensors hold (`memory_allocated`).
    public private(set) var reservedTotal: Int
    public private(set) var peakReserved: Int
    /// The runtime's reserved bytes when the profiler was made: the figures count from it,
    /// as tensor bytes count from the allocations the profiler saw.
    private let reservedAtStart: Int

    /// A profiler for the current thread's runtime (attach it there).
    public init(recordsEvents: Bool = true) {
        self.recordsEvents = recordsEvents
        reservedAtStart = Runtime.current.reservedBytes
        reservedTotal = 0
        peakReserved = 0
    }

    public func reserving(_ bytes: Int, reservedBytes: Int, for event: AllocationEvent) {
        reservedTotal = reservedBytes + bytes - reservedAtStart
        peakReserved = max(peakReserved, reservedTotal)
    }

    public func released(_ bytes: Int, reservedBytes: Int) {
        reservedTotal = reservedBytes - reservedAtStart
    }

    /// Attributes a scope to its layer: the first two components of its path
    /// (`encoder.layer3.split1.conv5` -> `encoder.layer3`), or the whole path if shorter.
    public static func layerName(ofPath path: String) -> String {
        let parts = path.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        if path.isEmpty { return "(no scope)" }
        return parts.prefix(2).joined(separator: ".")
    }

    private func layer(of scope: Scope) -> Int {
        if scope.serial < layerOfScope.count, layerOfScope[scope.serial] >= 0 { return layerOfScope[scope.serial] }
        let name = MemoryProfiler.layerName(ofPath: scope.path)
        let index = layerOrder.firstIndex(of: name) ?? {
            layerOrder.append(name)
            layerLiveBytes.append(0)
            layerPeakBytes.append(0)
            return layerOrder.count - 1
        }()
        if scope.serial >= layerOfScope.count { layerOfScope += repeatElement(-1, count: scope.serial + 1 - layerOfScope.count) }
        layerOfScope[scope.serial] = index
        return index
    }

    public func allocated(_ event: AllocationEvent) {
        open.insert(event.id)
        if recordsEvents {
            openEvents[event.id] = event
            madeInWindow[event.id] = event
        }
        record(event, delta: event.bytes, phase: event.phase)
    }

    public func freed(_ event: AllocationEvent, phase: StepPhase) {
        guard open.remove(event.id) else { return }
        if recordsEvents { openEvents[event.id] = nil }
        record(event, delta: -event.bytes, phase: phase)
    }

    /// Logs an allocation or free with the phase it happened in, so a timeline's phase
    /// markers follow the step, not the phases buffers were allocated in.
    private func record(_ event: AllocationEvent, delta: Int, phase: StepPhase) {
        if recordsEvents {
            events.append(Event(nanoseconds: DispatchTime.now().uptimeNanoseconds - start, id: event.id, delta: delta,
                                category: event.category, scope: event.scope, phase: phase))
        }
        let slot = event.category.slot
        liveBySlot[slot] += delta
        liveTotal += delta
        if delta > 0 {
            peakBySlot[slot] = max(peakBySlot[slot], liveBySlot[slot])
            if liveTotal > peakTotal {
                peakTotal = liveTotal
                // Element by element: sharing the array would make the next allocation copy it.
                for index in liveBySlot.indices { atPeakBySlot[index] = liveBySlot[index] }
                peakTotalEvent = events.count - 1
                peakTotalPhase = phase
            }
        }
        guard event.category == .activation else { return }
        let layer = layer(of: event.scope)
        layerLiveBytes[layer] += delta
        if delta > 0 {
            layerPeakBytes[layer] = max(layerPeakBytes[layer], layerLiveBytes[layer])
            let activation = liveBySlot[slot]
            if activation > peakActivation {
                peakActivation = activation
                peakActivationScope = event.scope.path
                peakActivationPhase = phase
                peakActivationEvent = events.count - 1
            }
        }
    }

    /// Starts a new measurement window: peaks restart from what is live now, the event log
    /// from empty (live allocations stay known, so their frees are still counted).
    public func resetPeaks() {
        peakTotal = liveTotal
        peakReserved = reservedTotal
        atPeakBySlot = liveBySlot
        peakTotalEvent = -1
        peakBySlot = liveBySlot
        peakActivation = liveBySlot[MemoryCategory.activation.slot]
        peakActivationScope = ""
        peakActivationPhase = .idle
        peakActivationEvent = -1
        layerPeakBytes = layerLiveBytes
        events.removeAll(keepingCapacity: true)
        madeInWindow.removeAll(keepingCapacity: true)
        baseline = openEvents
    }

    /// The profiler's own memory, which no category counts: the event log, the allocations
    /// it tracks and their stacks' frames, as element sizes times the capacity reserved (an
    /// estimate: a dictionary's buckets cost a little more).
    public var ownBytes: Int {
        let entry = MemoryLayout<UInt64>.stride + MemoryLayout<AllocationEvent>.stride
        let frames = madeInWindow.values.reduce(0) { $0 + ($1.stack?.addresses.count ?? 0) } * MemoryLayout<UInt>.stride
        return events.capacity * MemoryLayout<Event>.stride + (madeInWindow.capacity + openEvents.capacity + baseline.capacity) * entry
            + open.capacity * MemoryLayout<UInt64>.stride + frames
    }

    /// Allocations alive when the window began (before the first logged event); kept only
    /// with the event log, which is all that reads it.
    private(set) var baseline: [UInt64: AllocationEvent] = [:]

    /// Bytes per category alive when the window began.
    var baselineBytes: [MemoryCategory: Int] {
        baseline.values.reduce(into: [:]) { $0[$1.category, default: 0] += $1.bytes }
    }

    /// The allocations alive right after event `index` of the log.
    func liveAllocations(afterEvent index: Int) -> [AllocationEvent] {
        var alive = baseline
        for event in events.prefix(index + 1) {
            if event.delta > 0 { alive[event.id] = madeInWindow[event.id] } else { alive.removeValue(forKey: event.id) }
        }
        return Array(alive.values)
    }
}

extension MemoryCategory {
    /// A dense index for per-category arrays.
    var slot: Int {
        switch self {
        case .parameter: 0
        case .gradient: 1
        case .activation: 2
        case .optimizerState: 3
        case .workspace: 4
        }
    }
}
