import Foundation

/// Tensor memory kept for reuse, by size class, as PyTorch's caching allocator keeps it on
/// a GPU: a step frees and asks again for the same sizes thousands of times, and each fresh
/// malloc of a large buffer costs the kernel's page faults and page clearing (measured at
/// ~7% of a reconstruction search step, more under memory pressure).
///
/// A request is served by a block of its class (sizes rounded up to 1/8 of their power of
/// two above 4 KiB, to 64 bytes below: at most 12.5% unused). A freed block waits on its
/// class's free list. On a miss the cache first returns free blocks to the system, largest
/// first, until what it holds plus the new block is within the most it ever had in use at
/// once: so what it reserves never exceeds the peak of the blocks in use, and a budget on
/// reserved bytes is a budget on that peak, the same in every run of the same step.
///
/// The bookkeeping is the whole behaviour: a shape-only dry run keeps a cache of its own
/// that holds no memory and takes the same decisions, so a plan predicts reserved bytes too.
final class BufferCache: @unchecked Sendable {
    /// False for a dry run's cache: blocks are the shape-only sentinel.
    let holdsMemory: Bool
    /// Keep freed blocks for reuse; false: every free returns its block at once (the
    /// allocator as it was before the cache, for comparisons).
    let reuses: Bool
    private let lock = NSLock()
    private var freeBlocks: [Int: [UnsafeMutableRawPointer]] = [:]
    /// Bytes of blocks taken from the system and not returned: in use plus free.
    private(set) var reservedBytes = 0
    /// Bytes of blocks in use (a tensor's block, not its requested bytes).
    private(set) var usedBytes = 0
    /// The most block bytes ever in use at once.
    private var highWater = 0

    init(holdsMemory: Bool, reuses: Bool) {
        self.holdsMemory = holdsMemory
        self.reuses = reuses
    }

    deinit {
        if holdsMemory { for blocks in freeBlocks.values { for block in blocks { block.deallocate() } } }
    }

    /// The block size that serves a request of `bytes`.
    func blockSize(_ bytes: Int) -> Int {
        guard reuses else { return max(bytes, 1) }
        if bytes <= 4096 { return max((bytes + 63) & ~63, 64) }
        let step = 1 << (Int.bitWidth - bytes.leadingZeroBitCount - 1 - 3)
        return (bytes + step - 1) / step * step
    }

    /// A free block of `size` bytes, or nil (a miss: the caller reserves one).
    func reuse(_ size: Int) -> UnsafeMutableRawPointer? {
        lock.lock(); defer { lock.unlock() }
        guard let block = freeBlocks[size]?.popLast() else { return nil }
        usedBytes += size
        return block
    }

    /// Before reserving `size` more: returns free blocks to the system, largest first, until
    /// reserved plus `size` is within the high-water mark of blocks in use (raised by this
    /// block if it sets a new one). Returns the sizes released, in order.
    func trim(before size: Int) -> [Int] {
        lock.lock(); defer { lock.unlock() }
        let limit = max(highWater, usedBytes + size)
        var released: [Int] = []
        for blockSize in freeBlocks.keys.sorted(by: >) where reservedBytes + size > limit {
            while reservedBytes + size > limit, let block = freeBlocks[blockSize]?.popLast() {
                if holdsMemory { block.deallocate() }
                reservedBytes -= blockSize
                released.append(blockSize)
            }
            if freeBlocks[blockSize]?.isEmpty == true { freeBlocks[blockSize] = nil }
        }
        return released
    }

    /// A new block of `size` bytes from the system.
    func reserve(_ size: Int) -> UnsafeMutableRawPointer {
        let block = holdsMemory ? UnsafeMutableRawPointer.allocate(byteCount: size, alignment: Buffer.alignment) : ShapeOnlyMemory.sentinel
        lock.lock(); defer { lock.unlock() }
        reservedBytes += size
        usedBytes += size
        highWater = max(highWater, usedBytes)
        return block
    }

    /// Takes back a block no tensor uses any more; returns true when it went back to the
    /// system (no reuse) rather than to its free list.
    func give(_ block: UnsafeMutableRawPointer, size: Int) -> Bool {
        lock.lock(); defer { lock.unlock() }
        usedBytes -= size
        guard reuses else {
            if holdsMemory { block.deallocate() }
            reservedBytes -= size
            return true
        }
        freeBlocks[size, default: []].append(block)
        return false
    }

    /// Returns every free block to the system; the sizes released.
    func empty() -> [Int] {
        lock.lock(); defer { lock.unlock() }
        var released: [Int] = []
        for (size, blocks) in freeBlocks {
            for block in blocks {
                if holdsMemory { block.deallocate() }
                reservedBytes -= size
                released.append(size)
            }
        }
        freeBlocks = [:]
        highWater = usedBytes
        return released
    }
}
