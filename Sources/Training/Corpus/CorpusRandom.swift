import Tensors

// The teaching corpus draws every random choice from `CorpusRandom`, a thin wrapper over the
// project's `SplitMix64`. Its helpers are defined here rather than taken from the standard library
// (`Int.random(in:using:)`, `shuffled(using:)`), whose algorithms are not promised to stay the same,
// so a seed gives byte-identical text on every machine and toolchain.

/// Seeded choices for the corpus generators.
struct CorpusRandom {
    private var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    /// A number in `0..<count` (the high half of a 64 × 64-bit product: no modulo, tiny bias).
    mutating func below(_ count: Int) -> Int {
        precondition(count > 0, "below(_:) needs a positive count")
        return Int(next().multipliedFullWidth(by: UInt64(count)).high)
    }

    /// A number in `range`.
    mutating func int(in range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) * 0x1p-53 < p }

    /// One element of a non-empty array.
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// Fisher–Yates shuffle.
    mutating func shuffle<T>(_ items: inout [T]) {
        var i = items.count - 1
        while i > 0 {
            items.swapAt(i, below(i + 1))
            i -= 1
        }
    }

    /// `count` distinct indices below `limit`, in random order.
    mutating func distinct(_ count: Int, below limit: Int) -> [Int] {
        var all = Array(0..<limit)
        shuffle(&all)
        return Array(all.prefix(count))
    }

    /// An independent generator for one document, so documents do not depend on each other's draws.
    mutating func child() -> CorpusRandom { CorpusRandom(seed: next()) }
}

/// FNV-1a over UTF-8: a stable hash for deciding which combinations are held out for evaluation
/// (Swift's `Hasher` is seeded per process and must not decide anything that is written out).
func stableHash(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }
    return hash
}
