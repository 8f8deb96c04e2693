import Foundation
import Testing
import TensorCore

/// Follows the caching allocator: every reservation and release, and the reserved total.
final class ReservationObserver: AllocationObserver {
    var tensorEvents: [String] = []
    var reservations: [Int] = []
    var releases: [Int] = []
    /// What the cache followed held when observation began (0 for a dry run's own cache).
    var start = 0
    var reserved = 0
    var peakReserved = 0

    func allocated(_ event: AllocationEvent) { tensorEvents.append("+\(event.bytes) \(event.category.rawValue)") }
    func freed(_ event: AllocationEvent, phase: StepPhase) { tensorEvents.append("-\(event.bytes) \(event.category.rawValue)") }
    func reserving(_ bytes: Int, reservedBytes: Int, for event: AllocationEvent) {
        reservations.append(bytes)
        reserved = reservedBytes + bytes
        peakReserved = max(peakReserved, reserved)
    }
    func released(_ bytes: Int, reservedBytes: Int) {
        releases.append(bytes)
        reserved = reservedBytes
    }
}

/// The caching allocator: the tensor hooks fire as without it, freed blocks are reused,
/// what it holds never exceeds the most its blocks in use needed, and a dry run takes the
/// same decisions.
@Suite struct BufferCacheTests {
    /// Allocations and frees of tensors in a pattern whose sizes change class between
    /// phases, as a step's forward and backward do: what the cache must not hoard.
    static func workload(seed: UInt64) {
        var rng = RandomState(seed: seed)
        var kept: [Tensor] = []
        for round in 0..<6 {
            let scale = round % 2 == 0 ? 1000 : 3000
            for _ in 0..<20 {
                kept.append(Tensor(uninitialized: [scale + Int(rng.next() % 4000)], dtype: .float32, category: round % 3 == 0 ? .activation : .gradient))
                if rng.next() % 3 == 0, !kept.isEmpty { kept.remove(at: Int(rng.next() % UInt64(kept.count))) }
            }
            kept.removeFirst(kept.count / 2)
        }
    }

    static func observe(caching: Bool, shapeOnly: Bool = false, _ body: () -> Void) -> ReservationObserver {
        let runtime = Runtime.current
        runtime.cachesBuffers = caching
        defer { runtime.cachesBuffers = true }
        runtime.emptyCache()
        let observer = ReservationObserver()
        observer.start = shapeOnly ? 0 : runtime.reservedBytes
        observer.reserved = observer.start
        runtime.attach(observer)
        defer { runtime.detach(observer) }
        if shapeOnly { runtime.shapeOnly(body) } else { body() }
        return observer
    }

    @Test func tensorHooksFireExactlyAsWithoutTheCache() {
        // Without the cache every tensor is its own reservation, returned at its free.
        let cached = Self.observe(caching: true) { Self.workload(seed: 1) }
        let uncached = Self.observe(caching: false) { Self.workload(seed: 1) }
        #expect(cached.tensorEvents == uncached.tensorEvents)
        #expect(cached.tensorEvents.count == 240)
        #expect(uncached.reservations.count == 120 && uncached.releases.count == 120)
        #expect(cached.reservations.count < uncached.reservations.count, "reused \(120 - cached.reservations.count) of 120 blocks")
    }

    @Test func freedBlocksMergeAndServeOtherSizes() {
        let observer = Self.observe(caching: true) {
            // Four 256 KiB blocks cut from one 2 MiB segment, freed, merge back into one
            // free block that serves a 1 MiB request: no second segment.
            var quarter = (0..<4).map { _ in Tensor(uninitialized: [65_536], dtype: .float32) }
            quarter.removeAll()
            _ = Tensor(uninitialized: [262_144], dtype: .float32)
            // Over 1 MiB is the large pool: a 20 MiB segment, for which the free 2 MiB
            // segment goes back to the system (the cache stays within its peak in use plus it).
            _ = Tensor(uninitialized: [262_145], dtype: .float32)
        }
        #expect(observer.reservations == [2 << 20, 20 << 20])
        #expect(observer.releases == [2 << 20])
    }

    /// Sizes that change between rounds, as a step's forward and backward do, reuse the
    /// same segments: four 2 MiB segments hold ten blocks of either size (400,384 bytes,
    /// five to a segment, or 680,448, three), reserved in the first two rounds and never again.
    @Test func segmentsServeEveryRoundWithoutNewReservations() {
        let observer = Self.observe(caching: true) {
            for round in 0..<8 {
                let elements = round % 2 == 0 ? 100_000 : 170_000
                let live = (0..<10).map { _ in Tensor(uninitialized: [elements], dtype: .float32) }
                _ = live
            }
        }
        #expect(observer.reservations == Array(repeating: 2 << 20, count: 4), "\(observer.reservations)")
        #expect(observer.peakReserved - observer.start == 4 * (2 << 20) && observer.releases.isEmpty)
    }

    @Test func emptyingTheCacheReturnsEveryWhollyFreeSegment() {
        let runtime = Runtime.current
        let observer = Self.observe(caching: true) {
            let base = runtime.reservedBytes
            _ = Tensor(uninitialized: [1_310_720], dtype: .float32)   // 5 MiB: a 20 MiB segment, freed
            let kept = Tensor(uninitialized: [1000], dtype: .float32)   // a 2 MiB segment, in use
            runtime.emptyCache()
            #expect(runtime.reservedBytes == base + (2 << 20))
            _ = kept
        }
        #expect(observer.releases == [20 << 20] && observer.reserved == observer.start + (2 << 20))
    }

    @Test func aDryRunTakesTheSameDecisions() {
        let real = Self.observe(caching: true) { Self.workload(seed: 3) }
        let dry = Self.observe(caching: true, shapeOnly: true) { Self.workload(seed: 3) }
        #expect(dry.tensorEvents == real.tensorEvents)
        #expect(dry.reservations == real.reservations && dry.releases.sorted() == real.releases.sorted())
        #expect(dry.peakReserved - dry.start == real.peakReserved - real.start)
    }
}
