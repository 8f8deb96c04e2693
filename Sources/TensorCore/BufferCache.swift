import Foundation

/// Tensor memory kept for reuse, as PyTorch's caching allocator keeps it on a GPU: a step
/// frees and asks again for the same sizes thousands of times, and each fresh malloc of a
/// large buffer costs the kernel's page faults and page clearing (measured at ~7% of a
/// reconstruction search step, more under memory pressure).
///
/// The cache takes segments from the system and cuts them into blocks: requests up to
/// 1 MiB from 2 MiB segments, larger ones from 20 MiB segments (or their own, rounded to
/// 2 MiB, from 10 MiB up), sizes rounded to 512 bytes. A request takes the smallest free
/// block that holds it (best fit) and splits off the rest; a freed block merges with free
/// neighbours, so memory one phase of a step used for one size serves another size in the
/// next. Only whole free segments go back to the system: on a miss, largest first, until
/// what the cache holds plus the new segment is within the most its blocks in use ever
/// needed (or that plus the new segment), so reserved memory tracks the step's peak.
///
/// Decisions depend only on the order and sizes of requests, never on the addresses the
/// system returns (blocks are named by segment number and offset): a shape-only dry run
/// keeps a cache of its own that holds no memory and decides the same, so a plan predicts
/// reserved bytes exactly.
final class BufferCache: @unchecked Sendable {
    /// False for a dry run's cache: every block is the shape-only sentinel.
    let holdsMemory: Bool
    /// Keep freed blocks for reuse; false: every tensor gets a segment of its own, returned
    /// at its free (the allocator as it was before the cache, for comparisons).
    let reuses: Bool

    private struct Segment {
        let base: UnsafeMutableRawPointer
        let size: Int
        /// 0: blocks up to 1 MiB, 1: larger ones.
        let pool: Int
        /// The slot of the block at offset 0 (it keeps its slot while the segment lives).
        let first: Int
    }

    private let lock = NSLock()
    private static let offsetBits = 40
    /// Accesses are serialised by `lock`: Swift's dynamic exclusivity checks would only
    /// repeat it (they cost ~10% of a dry run).
    @exclusivity(unchecked) private var segments: [Segment?] = []
    /// A block lives in a slot of `blocks`, which a buffer holds: every allocation and free
    /// is indexing, not hashing (a dry run is little else, and a plan runs hundreds).
    @exclusivity(unchecked) private var blocks = BlockTable()
    /// Free blocks of the small pool, by size.
    @exclusivity(unchecked) private var smallFree = SizeBuckets(largest: 2 << 20)
    /// Free blocks of the large pool (few), sorted by (size, name): best fit is a binary search.
    @exclusivity(unchecked) private var largeFree: [(size: Int, name: Int, slot: Int)] = []
    /// Numbers of released segments, reused last-in first-out (a deterministic order), so
    /// names stay within their bits however many segments come and go.
    @exclusivity(unchecked) private var recycledNumbers: [Int] = []
    /// Bytes of segments taken from the system and not returned.
    var reservedBytes: Int { lock.lock(); defer { lock.unlock() }; return reserved }
    @exclusivity(unchecked) private var reserved = 0
    /// Bytes of blocks in use.
    @exclusivity(unchecked) private var usedBytes = 0
    /// The most block bytes ever in use at once (since the last `empty`).
    @exclusivity(unchecked) private var highWater = 0

    init(holdsMemory: Bool, reuses: Bool) {
        self.holdsMemory = holdsMemory
        self.reuses = reuses
    }

    deinit {
        if holdsMemory { for case let segment? in segments { segment.base.deallocate() } }
        blocks.deallocate()
        smallFree.deallocate()
    }

    /// The block size a request of `bytes` takes.
    func blockSize(_ bytes: Int) -> Int { reuses ? max((bytes + 511) / 512 * 512, 512) : max(bytes, 1) }

    private static func pool(_ size: Int) -> Int { size <= 1 << 20 ? 0 : 1 }

    /// The segment a miss for a block of `size` reserves.
    func segmentSize(_ size: Int) -> Int {
        guard reuses else { return size }
        if size <= 1 << 20 { return 2 << 20 }
        if size < 10 << 20 { return 20 << 20 }
        return (size + (2 << 20) - 1) / (2 << 20) * (2 << 20)
    }

    /// The smallest free block that holds `size`, split to it; nil on a miss. `slot` is
    /// what `give` takes back.
    func reuse(_ size: Int) -> (UnsafeMutableRawPointer, slot: Int)? {
        lock.lock(); defer { lock.unlock() }
        let pool = BufferCache.pool(size)
        if pool == 0 {
            guard let slot = smallFree.takeBestFit(size, in: blocks) else { return nil }
            return place(size, at: slot, pool: pool)
        }
        let index = largeBound(size: size, name: 0)
        guard index < largeFree.count else { return nil }
        return place(size, at: largeFree.remove(at: index).slot, pool: pool)
    }

    /// Before reserving a segment of `size`: returns whole free segments to the system,
    /// largest first, until reserved plus `size` is within the high-water mark of blocks in
    /// use (raised to what is in use plus `size` when that is higher). The sizes released.
    func trim(before size: Int) -> [Int] {
        lock.lock(); defer { lock.unlock() }
        let limit = max(highWater, usedBytes + size)
        guard reserved + size > limit else { return [] }
        var released: [Int] = []
        var candidates: [(number: Int, size: Int)] = []
        for number in segments.indices where isWhollyFree(number) {
            if let segment = segments[number] { candidates.append((number, segment.size)) }
        }
        candidates.sort { $0.size != $1.size ? $0.size > $1.size : $0.number < $1.number }
        for candidate in candidates where reserved + size > limit {
            release(candidate.number)
            released.append(candidate.size)
        }
        return released
    }

    /// A new segment from the system, and a block of `size` from it.
    func reserve(_ size: Int) -> (UnsafeMutableRawPointer, slot: Int) {
        let bytes = segmentSize(size)
        let base = holdsMemory ? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Buffer.alignment) : ShapeOnlyMemory.sentinel
        lock.lock(); defer { lock.unlock() }
        let number = recycledNumbers.popLast() ?? segments.count
        if number == segments.count { segments.append(nil) }
        let pool = BufferCache.pool(size)
        let slot = blocks.add(CacheBlock(name: number << BufferCache.offsetBits, size: bytes, previous: -1, next: -1, free: true))
        segments[number] = Segment(base: base, size: bytes, pool: pool, first: slot)
        reserved += bytes
        return place(size, at: slot, pool: pool)
    }

    /// Takes back the block in `slot`; returns the size of the segment it released to the
    /// system (without reuse, every free does), or nil.
    func give(_ slot: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        let number = blocks[slot].name >> BufferCache.offsetBits
        guard let segment = segments[number] else { return nil }
        usedBytes -= blocks[slot].size
        blocks[slot].free = true
        var kept = slot
        let next = blocks[slot].next
        if next >= 0, blocks[next].free {
            removeFree(segment.pool, next)
            absorb(next, into: slot)
        }
        let previous = blocks[slot].previous
        if previous >= 0, blocks[previous].free {
            removeFree(segment.pool, previous)
            absorb(slot, into: previous)
            kept = previous
        }
        if !reuses {
            release(number)
            return segment.size
        }
        insertFree(segment.pool, kept)
        return nil
    }

    /// Returns every wholly free segment to the system; the sizes released.
    func empty() -> [Int] {
        lock.lock(); defer { lock.unlock() }
        var released: [Int] = []
        for number in segments.indices where isWhollyFree(number) {
            if let size = release(number) { released.append(size) }
        }
        highWater = usedBytes
        return released
    }

    // MARK: - Blocks (the lock held)

    /// Merges the block in `slot` into its free predecessor `into`, vacating `slot`.
    private func absorb(_ slot: Int, into survivor: Int) {
        let next = blocks[slot].next
        blocks[survivor].size += blocks[slot].size
        blocks[survivor].next = next
        if next >= 0 { blocks[next].previous = survivor }
        blocks.vacate(slot)
    }

    /// Marks the free block in `slot` used for `size` bytes, splitting off the rest as a free
    /// block when it is worth keeping (512 bytes for small blocks, over 1 MiB for large ones,
    /// as PyTorch does, so large blocks do not splinter).
    private func place(_ size: Int, at slot: Int, pool: Int) -> (UnsafeMutableRawPointer, slot: Int) {
        let remainder = blocks[slot].size - size
        if reuses && (pool == 0 ? remainder >= 512 : remainder > 1 << 20) {
            let next = blocks[slot].next
            let rest = blocks.add(CacheBlock(name: blocks[slot].name + size, size: remainder, previous: slot, next: next, free: true))
            if next >= 0 { blocks[next].previous = rest }
            blocks[slot].next = rest
            blocks[slot].size = size
            insertFree(pool, rest)
        }
        blocks[slot].free = false
        usedBytes += blocks[slot].size
        highWater = max(highWater, usedBytes)
        guard holdsMemory, let segment = segments[blocks[slot].name >> BufferCache.offsetBits] else { return (ShapeOnlyMemory.sentinel, slot) }
        return (segment.base + (blocks[slot].name & ((1 << BufferCache.offsetBits) - 1)), slot)
    }

    private func isWhollyFree(_ number: Int) -> Bool {
        guard let segment = segments[number] else { return false }
        let first = blocks[segment.first]
        return first.free && first.size == segment.size
    }

    /// Returns segment `number` to the system; its size (nil: no such segment).
    @discardableResult
    private func release(_ number: Int) -> Int? {
        guard let segment = segments[number] else { return nil }
        if blocks[segment.first].free { removeFree(segment.pool, segment.first) }
        blocks.vacate(segment.first)
        segments[number] = nil
        recycledNumbers.append(number)
        if holdsMemory { segment.base.deallocate() }
        reserved -= segment.size
        return segment.size
    }

    private func largeBound(size: Int, name: Int) -> Int {
        var (low, high) = (0, largeFree.count)
        while low < high {
            let mid = (low + high) / 2
            if (largeFree[mid].size, largeFree[mid].name) < (size, name) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private func insertFree(_ pool: Int, _ slot: Int) {
        let block = blocks[slot]
        if pool == 0 {
            smallFree.insert(slot, in: blocks)
        } else {
            largeFree.insert((block.size, block.name, slot), at: largeBound(size: block.size, name: block.name))
        }
    }

    private func removeFree(_ pool: Int, _ slot: Int) {
        let block = blocks[slot]
        if pool == 0 {
            smallFree.remove(slot, in: blocks)
            return
        }
        let index = largeBound(size: block.size, name: block.name)
        if index < largeFree.count, largeFree[index].slot == slot { largeFree.remove(at: index) }
    }
}
