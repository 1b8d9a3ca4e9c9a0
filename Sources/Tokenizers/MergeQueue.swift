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

// MARK: - Pair merging

/// Byte-pair merging, the loop all three BPE tokenizers share: the pieces as a doubly linked list
/// over arrays and every adjacent pair that may join in a `MergeQueue`, best first. The
/// tokenizer's `join` says what a pair joins into and at which priority (lower joins first);
/// ties go to the leftmost pair. A popped candidate is joined only if its pair still has the
/// priority it was queued with (a neighbour may have joined since). Buffers are kept between
/// calls, so an encoder reuses one merger for every word.
struct PairMerger {
    /// Which joins happen before the pairs they create are considered.
    enum Order {
        /// One join at a time, best first (`tokenizers`' `Word::merge_all`, llama2.c's `run.c`).
        case oneAtATime
        /// Every join of the best priority in one round, left to right, as GPT-2's `encoder.py`
        /// joins every occurrence of the lowest-ranked pair (so even an unusual merges file gives
        /// the reference result).
        case roundByPriority
    }

    typealias Join = (_ left: Int, _ right: Int) -> (priority: UInt32, result: Int)?

    /// Piece id per node; `-1` once the node was joined into its left neighbour.
    private var ids: [Int] = []
    private var next: [Int] = []
    private var previous: [Int] = []
    private var queue = MergeQueue()
    private var joinedThisRound: [Int] = []

    mutating func merge(_ start: some Sequence<Int>, order: Order, join: Join) -> [Int] {
        ids.removeAll(keepingCapacity: true)
        ids.append(contentsOf: start)
        let count = ids.count
        guard count > 1 else { return ids }
        next = Array(1...count)  // `count` marks the end
        previous = Array(-1..<(count - 1))
        queue.removeAll()
        for left in 0..<(count - 1) { queueJoin(at: left, join) }

        while let first = queue.popMin() {
            let priority = MergeQueue.priority(of: first)
            joinedThisRound.removeAll(keepingCapacity: true)
            joinIfCurrent(first, join)
            if order == .roundByPriority {
                while let key = queue.min, MergeQueue.priority(of: key) == priority {
                    _ = queue.popMin()
                    joinIfCurrent(key, join)
                }
            }
            for node in joinedThisRound {
                if previous[node] >= 0 { queueJoin(at: previous[node], join) }
                queueJoin(at: node, join)
            }
        }

        var result: [Int] = []
        var node = 0  // the first node is never joined away
        while node < count {
            result.append(ids[node])
            node = next[node]
        }
        return result
    }

    /// What the pair starting at node `left` joins into now, if anything.
    private func currentJoin(at left: Int, _ join: Join) -> (priority: UInt32, result: Int)? {
        let right = next[left]
        guard ids[left] >= 0, right < ids.count else { return nil }
        return join(ids[left], ids[right])
    }

    private mutating func queueJoin(at left: Int, _ join: Join) {
        guard let joined = currentJoin(at: left, join) else { return }
        queue.insert(MergeQueue.key(priority: joined.priority, position: left))
    }

    private mutating func joinIfCurrent(_ key: UInt64, _ join: Join) {
        let left = MergeQueue.position(of: key)
        guard let joined = currentJoin(at: left, join), joined.priority == MergeQueue.priority(of: key) else { return }
        let right = next[left]
        ids[left] = joined.result
        ids[right] = -1
        next[left] = next[right]
        if next[right] < ids.count { previous[next[right]] = left }
        joinedThisRound.append(left)
    }
}
