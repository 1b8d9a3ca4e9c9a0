/// Keys and values of every position seen so far, so that decoding one more token
/// costs one row of work instead of re-running the whole sequence.
///
/// Per layer, `keys` and `values` are `[NKV, P, hs]`: each key/value head's positions are
/// contiguous, so one head's attention over the past is a single matrix product.
public struct KVCache: Sendable {
    public let layers: Int, kvHeads: Int, capacity: Int, headSize: Int
    public var keys: [[Float]]     // L × [NKV, P, hs]
    public var values: [[Float]]   // L × [NKV, P, hs]
    /// Positions filled so far (the next token's position).
    public var count: Int = 0

    public init(layers: Int, kvHeads: Int, capacity: Int, headSize: Int) {
        self.layers = layers; self.kvHeads = kvHeads; self.capacity = capacity; self.headSize = headSize
        let size = kvHeads * capacity * headSize
        keys = Array(repeating: [Float](repeating: 0, count: size), count: layers)
        values = Array(repeating: [Float](repeating: 0, count: size), count: layers)
    }

    public init(for config: TransformerConfig) {
        self.init(layers: config.layers, kvHeads: config.kvHeads, capacity: config.contextLength, headSize: config.headSize)
    }

    public var isFull: Bool { count >= capacity }

    /// Forgets positions from `position` on (undo in the stepper, or a branch).
    public mutating func truncate(to position: Int) {
        count = min(count, max(0, position))
    }
}
