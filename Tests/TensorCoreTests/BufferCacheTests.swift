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
        let cached = Self.observe(caching: true) { Self.workload(seed: 1) }
        let uncached = Self.observe(caching: false) { Self.workload(seed: 1) }
        #expect(cached.tensorEvents == uncached.tensorEvents)
        #expect(cached.tensorEvents.count == 240)
        // Without the cache every tensor is its own reservation, returned at its free.
        #expect(uncached.reservations.count == 120 && uncached.releases.count == 120)
        #expect(cached.reservations.count < uncached.reservations.count, "reused \(120 - cached.reservations.count) of 120 blocks")
    }

    @Test func aFreedBlockServesTheNextRequestOfItsClass() {
        let observer = Self.observe(caching: true) {
            for _ in 0..<5 { _ = Tensor(uninitialized: [262_144], dtype: .float32) }
            // 1 MiB + 4 bytes rounds up to 1 MiB + 128 KiB: the first block cannot serve it.
            _ = Tensor(uninitialized: [262_145], dtype: .float32)
        }
        #expect(observer.reservations == [1 << 20, (1 << 20) + (1 << 17)])
    }

    /// The cache trims its free blocks before reserving past the most its blocks in use
    /// ever needed: a workload whose sizes change class ends with no more reserved than
    /// that peak.
    @Test func reservedNeverExceedsThePeakOfBlocksInUse() {
        // 400,000 bytes take a 425,984-byte block (13/8 of 2^18), 680,000 bytes a 720,896-byte
        // one (11/8 of 2^19): ten of either are in use at once, never both.
        let (small, large) = (425_984, 720_896)
        let observer = Self.observe(caching: true) {
            for round in 0..<8 {
                let elements = round % 2 == 0 ? 100_000 : 170_000
                let live = (0..<10).map { _ in Tensor(uninitialized: [elements], dtype: .float32) }
                _ = live
            }
        }
        // Keeping every freed block would hold both sets (10 x small + 10 x large).
        #expect(observer.peakReserved - observer.start == 10 * large, "peak reserved \(observer.peakReserved - observer.start)")
        #expect(observer.releases.contains(small) && observer.releases.contains(large))
        #expect(observer.reservations.count < 80)
    }

    @Test func emptyingTheCacheReturnsEveryFreeBlock() {
        let runtime = Runtime.current
        let observer = Self.observe(caching: true) {
            let base = runtime.reservedBytes
            // 4,000 bytes take a 4,032-byte block (64-byte classes up to 4 KiB).
            let kept = Tensor(uninitialized: [1000], dtype: .float32)
            for n in [5000, 9000, 70_000] { _ = Tensor(uninitialized: [n], dtype: .float32) }
            runtime.emptyCache()
            #expect(runtime.reservedBytes == base + 4032)
            _ = kept
        }
        #expect(observer.releases.count == 3 && observer.reserved == observer.start + 4032)
    }

    @Test func aDryRunTakesTheSameDecisions() {
        let real = Self.observe(caching: true) { Self.workload(seed: 3) }
        let dry = Self.observe(caching: true, shapeOnly: true) { Self.workload(seed: 3) }
        #expect(dry.tensorEvents == real.tensorEvents)
        #expect(dry.reservations == real.reservations && dry.releases.sorted() == real.releases.sorted())
        #expect(dry.peakReserved - dry.start == real.peakReserved - real.start)
    }
}
