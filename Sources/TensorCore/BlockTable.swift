/// One block of a cache segment.
struct CacheBlock {
    /// Segment number << 40 | offset: the order best fit breaks ties in, independent of
    /// slots and addresses.
    var name: Int
    var size: Int
    /// Slots of the neighbours in the segment (-1: none).
    var previous: Int
    var next: Int
    var free: Bool
    /// While free in the small pool: slots of the neighbours in its size's list (-1: none).
    var freePrevious = -1
    var freeNext = -1
}

/// The cache's blocks by slot, in memory the table manages itself. A block is read and
/// written a dozen times per allocation and free; an Array stored in the cache object had
/// its buffer retained and released around each access (half of a shape-only allocation's
/// cost), a pointer has nothing to count. The cache's lock serialises every use.
struct BlockTable {
    private var base: UnsafeMutablePointer<CacheBlock>
    private var capacity: Int
    private(set) var count = 0
    /// Slots of merged or released blocks, reused before the table grows.
    private var vacant: [Int] = []

    init() {
        capacity = 1024
        base = .allocate(capacity: capacity)
    }

    /// Frees the table's memory; the table is not used afterwards.
    func deallocate() {
        base.deinitialize(count: count)
        base.deallocate()
    }

    subscript(slot: Int) -> CacheBlock {
        unsafeAddress {
            assert(slot >= 0 && slot < count, "block slot \(slot) outside the table")
            return UnsafePointer(base + slot)
        }
        nonmutating unsafeMutableAddress {
            assert(slot >= 0 && slot < count, "block slot \(slot) outside the table")
            return base + slot
        }
    }

    /// A slot holding `block`.
    mutating func add(_ block: CacheBlock) -> Int {
        if let slot = vacant.popLast() {
            base[slot] = block
            return slot
        }
        if count == capacity {
            let grown = UnsafeMutablePointer<CacheBlock>.allocate(capacity: capacity * 2)
            grown.moveInitialize(from: base, count: count)
            base.deallocate()
            base = grown
            capacity *= 2
        }
        (base + count).initialize(to: block)
        count += 1
        return count - 1
    }

    /// Marks `slot` free for reuse.
    mutating func vacate(_ slot: Int) { vacant.append(slot) }
}
