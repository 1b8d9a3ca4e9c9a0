/// Keys and values of every position seen so far, so that decoding one more token
/// costs one row of work instead of re-running the whole sequence.
///
/// Per layer, `keys` and `values` are `[NKV, P, hs]` with P = `capacity`: each key/value head's
/// positions are contiguous, so one head's attention over the past is a single matrix product.
/// The buffers grow (doubling) as positions arrive, up to `maximumCapacity`, the model's
/// context: a model that declares a context of millions of positions costs only what a run uses.
public struct KVCache: Sendable {
    public let layers: Int, kvHeads: Int, headSize: Int
    /// The most positions the cache may hold: the model's context length.
    public let maximumCapacity: Int
    /// Positions the buffers have room for now (P in the layout above).
    public private(set) var capacity: Int
    public var keys: [[Float]]  // L × [NKV, P, hs]
    public var values: [[Float]]  // L × [NKV, P, hs]
    /// Positions filled so far (the next token's position).
    public var count: Int = 0

    // Encoder–decoders: what every decoder layer's cross-attention reads, computed once per
    // input when the encoder runs (`LanguageModel.encode(source:capture:)`).
    /// The encoder's input ids (S of them); empty until a source is encoded.
    public var sourceIds: [Int] = []
    /// Per decoder layer, the encoder output's keys and values: L × `[NH, S, hs]`.
    public var crossKeys: [[Float]] = [], crossValues: [[Float]] = []
    /// S, the source length.
    public var sourceLength: Int { sourceIds.count }

    /// Room for this many positions at first (or the whole context when smaller).
    static let initialCapacity = 256

    public init(layers: Int, kvHeads: Int, capacity maximumCapacity: Int, headSize: Int) {
        self.layers = layers; self.kvHeads = kvHeads; self.headSize = headSize
        self.maximumCapacity = maximumCapacity
        capacity = min(maximumCapacity, Self.initialCapacity)
        let size = kvHeads * capacity * headSize
        keys = Array(repeating: [Float](repeating: 0, count: size), count: layers)
        values = Array(repeating: [Float](repeating: 0, count: size), count: layers)
    }

    public init(for config: TransformerConfig) {
        self.init(layers: config.layers, kvHeads: config.kvHeads, capacity: config.contextLength, headSize: config.headSize)
    }

    public var isFull: Bool { count >= maximumCapacity }

    /// Makes room for `positions` positions (at most `maximumCapacity`), keeping what is stored.
    public mutating func reserve(_ positions: Int) {
        guard positions > capacity else { return }
        let newCapacity = min(maximumCapacity, max(positions, 2 * capacity))
        let (oldCapacity, hs, kept) = (capacity, headSize, min(count, capacity))
        func regrown(_ old: [Float]) -> [Float] {
            var new = [Float](repeating: 0, count: kvHeads * newCapacity * hs)
            for head in 0..<kvHeads {
                let from = head * oldCapacity * hs, to = head * newCapacity * hs
                new[to..<(to + kept * hs)] = old[from..<(from + kept * hs)]
            }
            return new
        }
        keys = keys.map(regrown)
        values = values.map(regrown)
        capacity = newCapacity
    }

    /// Copies `T` new rows' keys and values into layer `l` at positions `start..<start+T`. Row `t`'s
    /// key/value head `h` is read at `keys/values + t·rowStride + h·hs` (GPT-2 and BERT read them
    /// out of their `[T, 3C]` q, k, v rows; Llama from its own `[T, NKV·hs]` buffers).
    public mutating func store(
        keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>, rowStride: Int, layer l: Int, start: Int, rows T: Int
    ) {
        let NKV = kvHeads, hs = headSize, P = capacity
        keys[l].withUnsafeMutableBufferPointer { keys in
            values[l].withUnsafeMutableBufferPointer { values in
                for t in 0..<T {
                    for h in 0..<NKV {
                        let destination = (h * P + start + t) * hs
                        (keys.baseAddress! + destination).update(from: k + t * rowStride + h * hs, count: hs)
                        (values.baseAddress! + destination).update(from: v + t * rowStride + h * hs, count: hs)
                    }
                }
            }
        }
    }

    /// Forgets positions from `position` on (undo in the stepper, or a branch).
    public mutating func truncate(to position: Int) {
        count = min(count, max(0, position))
    }
}
