import Tensors

/// What every model family's forward driver offers the rest of Lantern.
public protocol LanguageModel: AnyObject, Sendable {
    var config: TransformerConfig { get }

    /// How the weight matrices are kept in memory (`--weights`); products are float32 regardless.
    var weightFormat: WeightFormat { get }

    /// Bytes of weights one decoded token reads (every matrix once, the unembedding whole):
    /// divided into the memory bandwidth, the fastest decode possible.
    var decodeBytesPerToken: Int { get }

    /// Runs `tokens` at positions `cache.count ..< cache.count + tokens.count`, appending their keys
    /// and values to `cache`. Returns logits for the last row (or every row when `allLogits`) and
    /// the records `capture` asks for. The caller checks the context has room.
    func forward(_ tokens: [Int], cache: inout KVCache, capture: CaptureSpec, allLogits: Bool) -> ForwardResult

    /// The model's last two steps applied to residual-stream rows `[rows, C]` taken from anywhere
    /// (e.g. `blocks.L.resid_post`): final norm, then unembedding. Returns logits `[rows, V]`:
    /// what the model would predict if the stream ended there (the logit lens).
    func unembedResidual(_ rows: Tensor) -> Tensor

    // Capabilities: what a family has, asked of the model instead of checking its family.

    /// The token embedding table `[V, C]`.
    var tokenEmbeddingTable: Tensor { get }
    /// The learned position table `[P, C]` of a family that adds one to the token embedding
    /// (GPT-2); nil for families that encode positions otherwise (rotary in Llama).
    var learnedPositionTable: Tensor? { get }

    /// Encoder–decoders: runs the encoder over `source` once and returns the cache the decoder
    /// starts from (empty, holding every decoder layer's cross-attention keys and values) with
    /// the encoder's records (named `encoder.…`) and the cross-attention keys and values
    /// (`blocks.L.cross_attn.k/v`). nil for every other family.
    func encode(source: [Int], capture: CaptureSpec) -> EncodedSource?

    /// The final norm and unembedding as direct logit attribution reads them; nil where the
    /// logits are not a linear read of the final norm (BERT's MLM head has a hidden layer) or the
    /// family does not offer it (encoder–decoders).
    var logitReadout: LogitReadout? { get }

    /// Layer `layer`'s attention output projection `[C, NH·hs]` (`[out, in]`): head h writes
    /// `W[:, h·hs ..< (h+1)·hs] · z_h` into the residual stream. nil where `logitReadout` is.
    func attentionOutputProjection(layer: Int) -> WeightMatrix?
}

/// What an encoder–decoder's encoder leaves for its decoder.
public struct EncodedSource: Sendable {
    /// Empty self-attention, full cross-attention memory (`KVCache.crossKeys`).
    public var cache: KVCache
    public var records: [String: Tensor]
}

extension LanguageModel {
    public var learnedPositionTable: Tensor? { nil }
    public func encode(source: [Int], capture: CaptureSpec) -> EncodedSource? { nil }
    public var logitReadout: LogitReadout? { nil }
    public func attentionOutputProjection(layer: Int) -> WeightMatrix? { nil }

    public func makeCache() -> KVCache { KVCache(for: config) }

    /// Logits of the last token only, recording nothing: the fast path for plain generation.
    public func nextTokenLogits(_ tokens: [Int], cache: inout KVCache) -> [Float] {
        forward(tokens, cache: &cache, capture: .nothing, allLogits: false).logits.scalars
    }
}

/// Scratch buffers of one forward call, sized for `T` rows.
struct ScratchBuffer {
    let pointer: UnsafeMutablePointer<Float>
    init(_ count: Int) {
        pointer = .allocate(capacity: max(1, count))
        pointer.initialize(repeating: 0, count: max(1, count))
    }
    func free() { pointer.deallocate() }
}
