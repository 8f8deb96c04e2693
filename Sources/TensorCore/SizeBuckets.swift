/// The free blocks of the cache's small pool, by size: one list per 512-byte multiple,
/// linked through the blocks themselves and kept in name order, and a bitmap of the sizes
/// that have any. Best fit (the smallest size, then the smallest name) is a scan of a few
/// bitmap words and the head of a list; a free block leaves its list in constant time.
/// The storage is allocated once and freed by `deallocate`.
struct SizeBuckets {
    private let count: Int
    /// The first slot of each size's list (-1: empty).
    private let heads: UnsafeMutablePointer<Int>
    private let occupied: UnsafeMutablePointer<UInt64>
    private let words: Int

    /// Buckets for block sizes up to `largest` bytes (a multiple of 512).
    init(largest: Int) {
        count = largest / 512 + 1
        heads = .allocate(capacity: count)
        heads.initialize(repeating: -1, count: count)
        words = (count + 63) / 64
        occupied = .allocate(capacity: words)
        occupied.initialize(repeating: 0, count: words)
    }

    func deallocate() {
        heads.deallocate()
        occupied.deallocate()
    }

    /// Adds free block `slot` to its size's list, in name order.
    func insert(_ slot: Int, in blocks: BlockTable) {
        let bucket = blocks[slot].size / 512
        let name = blocks[slot].name
        var previous = -1
        var next = heads[bucket]
        while next >= 0, blocks[next].name < name {
            previous = next
            next = blocks[next].freeNext
        }
        blocks[slot].freePrevious = previous
        blocks[slot].freeNext = next
        if next >= 0 { blocks[next].freePrevious = slot }
        if previous >= 0 { blocks[previous].freeNext = slot } else { heads[bucket] = slot }
        occupied[bucket >> 6] |= 1 << UInt64(bucket & 63)
    }

    /// Takes free block `slot` out of its size's list, if it is in one.
    func remove(_ slot: Int, in blocks: BlockTable) {
        let bucket = blocks[slot].size / 512
        let (previous, next) = (blocks[slot].freePrevious, blocks[slot].freeNext)
        guard previous >= 0 || heads[bucket] == slot else { return }
        if next >= 0 { blocks[next].freePrevious = previous }
        if previous >= 0 {
            blocks[previous].freeNext = next
        } else {
            heads[bucket] = next
            if next < 0 { occupied[bucket >> 6] &= ~(1 << UInt64(bucket & 63)) }
        }
        blocks[slot].freePrevious = -1
        blocks[slot].freeNext = -1
    }

    /// Removes and returns the smallest block of at least `size` bytes (ties: the smallest name).
    func takeBestFit(_ size: Int, in blocks: BlockTable) -> Int? {
        var bucket = size / 512
        guard bucket < count else { return nil }
        var word = bucket >> 6
        var bits = occupied[word] & (~0 << UInt64(bucket & 63))
        while bits == 0 {
            word += 1
            guard word < words else { return nil }
            bits = occupied[word]
        }
        bucket = word << 6 | bits.trailingZeroBitCount
        let slot = heads[bucket]
        remove(slot, in: blocks)
        return slot
    }
}
