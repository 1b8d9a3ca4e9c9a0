// MARK: - Merge queue

/// A binary min-heap of packed 64-bit keys. The BPE encoders keep candidate
/// merges in one so that a long word (a page of CJK text has no spaces) costs
/// O(n log n) instead of rescanning every pair after every merge.
///
/// Keys are plain integers, (priority << 32 | position), rather than structs:
/// comparing integers needs no protocol calls, which keeps debug builds fast.
/// The encoders re-check a popped candidate against the current pieces, so a
/// key needs to carry nothing more.
struct MergeQueue {
    private var keys: [UInt64] = []

    var isEmpty: Bool { keys.isEmpty }
    var min: UInt64? { keys.first }

    mutating func removeAll() { keys.removeAll(keepingCapacity: true) }

    /// Packs a priority (lower pops first) and a position (leftmost first on ties).
    static func key(priority: UInt32, position: Int) -> UInt64 {
        UInt64(priority) << 32 | UInt64(UInt32(truncatingIfNeeded: position))
    }

    static func priority(of key: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: key >> 32) }
    static func position(of key: UInt64) -> Int { Int(UInt32(truncatingIfNeeded: key)) }

    mutating func insert(_ key: UInt64) {
        // Move the hole up from the end until the parent is not larger.
        keys.append(key)
        var hole = keys.count - 1
        while hole > 0 {
            let parent = (hole - 1) / 2
            let parentKey = keys[parent]
            if parentKey <= key { break }
            keys[hole] = parentKey
            hole = parent
        }
        keys[hole] = key
    }

    mutating func popMin() -> UInt64? {
        guard let first = keys.first else { return nil }
        let last = keys.removeLast()
        let count = keys.count
        if count == 0 { return first }
        // Move the hole down from the root until `last` fits.
        var hole = 0
        while true {
            var child = 2 * hole + 1
            if child >= count { break }
            if child + 1 < count, keys[child + 1] < keys[child] { child += 1 }
            if last <= keys[child] { break }
            keys[hole] = keys[child]
            hole = child
        }
        keys[hole] = last
        return first
    }
}
