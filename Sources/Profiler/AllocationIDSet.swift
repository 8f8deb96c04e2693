/// The ids of the allocations a profiler saw and that are still alive: a set on the path
/// every allocation and free takes. Ids are a runtime's counter, so a multiplicative hash
/// spreads them without `Hasher`'s SipHash (which cost a dry run ~10% as a `Set`), and
/// linear probing with backward-shift deletion keeps lookups to a few adjacent slots.
struct AllocationIDSet {
    /// 0 marks an empty slot: runtimes number allocations from 1.
    private var slots = [UInt64](repeating: 0, count: 1024)
    private(set) var count = 0

    var capacity: Int { slots.count }

    private func home(_ id: UInt64) -> Int {
        Int(truncatingIfNeeded: (id &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - slots.count.trailingZeroBitCount))
    }

    mutating func insert(_ id: UInt64) {
        if 2 * (count + 1) > slots.count { grow() }
        let mask = slots.count - 1
        var index = home(id)
        while slots[index] != 0 {
            if slots[index] == id { return }
            index = (index + 1) & mask
        }
        slots[index] = id
        count += 1
    }

    /// Removes `id`; false if it was not in the set.
    mutating func remove(_ id: UInt64) -> Bool {
        let mask = slots.count - 1
        var index = home(id)
        while slots[index] != id {
            if slots[index] == 0 { return false }
            index = (index + 1) & mask
        }
        // Shift later members of the probe run back over the hole, so no lookup stops early.
        var hole = index
        var next = (hole + 1) & mask
        while slots[next] != 0 {
            let wanted = home(slots[next])
            // `next` may move to `hole` unless its home lies cyclically in (hole, next].
            let stays = hole <= next ? (hole < wanted && wanted <= next) : (hole < wanted || wanted <= next)
            if !stays {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = 0
        count -= 1
        return true
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        count = 0
        for id in old where id != 0 { insert(id) }
    }
}
