/// The free blocks of the cache's small pool, by size: one list per 512-byte multiple,
/// sorted by name, and a bitmap of the sizes that have any. Best fit (the smallest size,
/// then the smallest name) is a scan of a few bitmap words, where a binary search of one
/// sorted list of thousands of free blocks took 7% of a dry run.
struct SizeBuckets {
    private var lists: [[(name: Int, slot: Int)]]
    private var occupied: [UInt64]

    /// Buckets for block sizes up to `largest` bytes (a multiple of 512).
    init(largest: Int) {
        let count = largest / 512 + 1
        lists = Array(repeating: [], count: count)
        occupied = Array(repeating: 0, count: (count + 63) / 64)
    }

    mutating func insert(size: Int, name: Int, slot: Int) {
        let bucket = size / 512
        lists[bucket].insert((name, slot), at: position(of: name, in: bucket))
        occupied[bucket >> 6] |= 1 << UInt64(bucket & 63)
    }

    /// Removes the block `slot` of `size` and `name`, if it is in the buckets.
    mutating func remove(size: Int, name: Int, slot: Int) {
        let bucket = size / 512
        let index = position(of: name, in: bucket)
        guard index < lists[bucket].count, lists[bucket][index].slot == slot else { return }
        take(at: index, from: bucket)
    }

    /// Removes and returns the smallest block of at least `size` bytes (ties: the smallest name).
    mutating func takeBestFit(_ size: Int) -> Int? {
        var bucket = size / 512
        guard bucket < lists.count else { return nil }
        var word = bucket >> 6
        var bits = occupied[word] & (~0 << UInt64(bucket & 63))
        while bits == 0 {
            word += 1
            guard word < occupied.count else { return nil }
            bits = occupied[word]
        }
        bucket = word << 6 | bits.trailingZeroBitCount
        return take(at: 0, from: bucket)
    }

    @discardableResult
    private mutating func take(at index: Int, from bucket: Int) -> Int {
        let slot = lists[bucket].remove(at: index).slot
        if lists[bucket].isEmpty { occupied[bucket >> 6] &= ~(1 << UInt64(bucket & 63)) }
        return slot
    }

    private func position(of name: Int, in bucket: Int) -> Int {
        lists[bucket].withUnsafeBufferPointer { list in
            var (low, high) = (0, list.count)
            while low < high {
                let mid = (low + high) / 2
                if list[mid].name < name { low = mid + 1 } else { high = mid }
            }
            return low
        }
    }
}
