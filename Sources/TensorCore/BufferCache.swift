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
    }

    private struct Block {
        var size: Int
        /// The block just before this one in its segment (nil: the segment's first).
        var previous: Int?
        var free: Bool
    }

    private let lock = NSLock()
    /// A block's name: segment number << 40 | offset in the segment.
    private static let offsetBits = 40
    private var segments: [Int: Segment] = [:]
    private var blocks: [Int: Block] = [:]
    /// Free blocks per pool, sorted by (size, name): best fit is a binary search.
    private var freeBlocks: [[(size: Int, name: Int)]] = [[], []]
    private var nextSegment = 0
    /// Numbers of released segments, reused last-in first-out (a deterministic order), so
    /// names stay within their bits however many segments come and go.
    private var recycledNumbers: [Int] = []
    /// Bytes of segments taken from the system and not returned.
    var reservedBytes: Int { lock.lock(); defer { lock.unlock() }; return reserved }
    private var reserved = 0
    /// Bytes of blocks in use.
    private var usedBytes = 0
    /// The most block bytes ever in use at once (since the last `empty`).
    private var highWater = 0

    init(holdsMemory: Bool, reuses: Bool) {
        self.holdsMemory = holdsMemory
        self.reuses = reuses
    }

    deinit {
        if holdsMemory { for segment in segments.values { segment.base.deallocate() } }
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

    /// The smallest free block that holds `size`, split to it; nil on a miss.
    func reuse(_ size: Int) -> (UnsafeMutableRawPointer, name: Int, size: Int)? {
        lock.lock(); defer { lock.unlock() }
        let pool = BufferCache.pool(size)
        let index = lowerBound(pool, size: size, name: 0)
        guard index < freeBlocks[pool].count else { return nil }
        let found = freeBlocks[pool].remove(at: index)
        return place(size, at: found.name, pool: pool)
    }

    /// Before reserving a segment of `size`: returns whole free segments to the system,
    /// largest first, until reserved plus `size` is within the high-water mark of blocks in
    /// use (raised to what is in use plus `size` when that is higher). The sizes released.
    func trim(before size: Int) -> [Int] {
        lock.lock(); defer { lock.unlock() }
        let limit = max(highWater, usedBytes + size)
        var released: [Int] = []
        let candidates = segments.filter { isWhollyFree($0.key) }.sorted { ($0.value.size, $1.key) > ($1.value.size, $0.key) }
        for (number, segment) in candidates where reserved + size > limit {
            release(number, segment)
            released.append(segment.size)
        }
        return released
    }

    /// A new segment from the system, and a block of `size` from it.
    func reserve(_ size: Int) -> (UnsafeMutableRawPointer, name: Int, size: Int) {
        let bytes = segmentSize(size)
        let base = holdsMemory ? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: Buffer.alignment) : ShapeOnlyMemory.sentinel
        lock.lock(); defer { lock.unlock() }
        let number: Int
        if let recycled = recycledNumbers.popLast() {
            number = recycled
        } else {
            number = nextSegment
            nextSegment += 1
        }
        let pool = BufferCache.pool(size)
        segments[number] = Segment(base: base, size: bytes, pool: pool)
        let name = number << BufferCache.offsetBits
        blocks[name] = Block(size: bytes, previous: nil, free: true)
        reserved += bytes
        return place(size, at: name, pool: pool)
    }

    /// Takes back block `name`; returns the size of the segment it released to the
    /// system (without reuse, every free does), or nil.
    func give(_ name: Int) -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard var block = blocks[name], let segment = segments[name >> BufferCache.offsetBits] else { return nil }
        usedBytes -= block.size
        block.free = true
        var start = name
        let next = name + block.size
        if let after = blocks[next], after.free {
            removeFree(segment.pool, size: after.size, name: next)
            blocks[next] = nil
            block.size += after.size
        }
        if let before = block.previous, let earlier = blocks[before], earlier.free {
            removeFree(segment.pool, size: earlier.size, name: before)
            blocks[name] = nil
            start = before
            block.size += earlier.size
            block.previous = earlier.previous
        }
        blocks[start] = block
        if blocks[start + block.size] != nil { blocks[start + block.size]?.previous = start }
        if !reuses {
            release(name >> BufferCache.offsetBits, segment)
            return segment.size
        }
        insertFree(segment.pool, size: block.size, name: start)
        return nil
    }

    /// Returns every wholly free segment to the system; the sizes released.
    func empty() -> [Int] {
        lock.lock(); defer { lock.unlock() }
        var released: [Int] = []
        for (number, segment) in segments.sorted(by: { $0.key < $1.key }) where isWhollyFree(number) {
            release(number, segment)
            released.append(segment.size)
        }
        highWater = usedBytes
        return released
    }

    // MARK: - Blocks (the lock held)

    /// Marks free block `name` used for `size` bytes, splitting off the rest as a free block
    /// when it is worth keeping (512 bytes for small blocks, over 1 MiB for large ones, as
    /// PyTorch does, so large blocks do not splinter).
    private func place(_ size: Int, at name: Int, pool: Int) -> (UnsafeMutableRawPointer, name: Int, size: Int) {
        var block = blocks[name] ?? Block(size: size, previous: nil, free: true)
        let remainder = block.size - size
        if reuses && (pool == 0 ? remainder >= 512 : remainder > 1 << 20) {
            let rest = name + size
            if blocks[name + block.size] != nil { blocks[name + block.size]?.previous = rest }
            blocks[rest] = Block(size: remainder, previous: name, free: true)
            insertFree(pool, size: remainder, name: rest)
            block.size = size
        }
        block.free = false
        blocks[name] = block
        usedBytes += block.size
        highWater = max(highWater, usedBytes)
        let segment = segments[name >> BufferCache.offsetBits]
        let offset = name & ((1 << BufferCache.offsetBits) - 1)
        return (holdsMemory ? (segment?.base ?? ShapeOnlyMemory.sentinel) + offset : ShapeOnlyMemory.sentinel, name, block.size)
    }

    private func isWhollyFree(_ number: Int) -> Bool {
        guard let segment = segments[number], let first = blocks[number << BufferCache.offsetBits] else { return false }
        return first.free && first.size == segment.size
    }

    private func release(_ number: Int, _ segment: Segment) {
        let name = number << BufferCache.offsetBits
        if let first = blocks[name], first.free { removeFree(segment.pool, size: first.size, name: name) }
        blocks[name] = nil
        segments[number] = nil
        recycledNumbers.append(number)
        if holdsMemory { segment.base.deallocate() }
        reserved -= segment.size
    }

    private func lowerBound(_ pool: Int, size: Int, name: Int) -> Int {
        var (low, high) = (0, freeBlocks[pool].count)
        while low < high {
            let mid = (low + high) / 2
            let item = freeBlocks[pool][mid]
            if (item.size, item.name) < (size, name) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private func insertFree(_ pool: Int, size: Int, name: Int) {
        freeBlocks[pool].insert((size, name), at: lowerBound(pool, size: size, name: name))
    }

    private func removeFree(_ pool: Int, size: Int, name: Int) {
        let index = lowerBound(pool, size: size, name: name)
        if index < freeBlocks[pool].count, freeBlocks[pool][index] == (size, name) { freeBlocks[pool].remove(at: index) }
    }
}
