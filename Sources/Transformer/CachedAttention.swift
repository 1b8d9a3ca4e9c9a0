import Tensors

/// Runs attention (`attentionForward`) for one layer over the cache and records its scores and pattern when
/// asked, as `[NH, rows kept, K]`.
func recordedAttention(
    layer l: Int, q: UnsafePointer<Float>, qStride: Int, cache: KVCache, start: Int, T: Int,
    heads NH: Int, kvHeads NKV: Int, headSize hs: Int, scale: Float, causal: Bool = true,
    bias: UnsafePointer<Float>? = nil, window: Int? = nil, out: UnsafeMutablePointer<Float>, recorder: inout Recorder
) {
    recordedAttention(
        layer: l, q: q, qStride: qStride, keys: cache.keys[l], values: cache.values[l], capacity: cache.capacity,
        start: start, T: T, heads: NH, kvHeads: NKV, headSize: hs, scale: scale, causal: causal, bias: bias,
        window: window, out: out, recorder: &recorder)
}

/// Attention of `T` new rows at positions `start..<start+T` over one layer's cached `keys` and
/// `values` (`[NKV, capacity, hs]`, already holding the new rows), recording its scores and
/// pattern as `records` names them (self-attention's, or cross-attention's with `keyCount` set).
/// - `q`: `[T, qStride]`, query head `h` at columns `h·hs ..< (h+1)·hs`; `out`: `[T, NH·hs]`.
/// - `causal`: row `t` sees keys up to position `start + t` (decoders; with `window`, only the
///   latest `window` of them); otherwise every key (encoders).
/// - `keyCount`: attend over this many keys instead of `start + T`, unmasked (cross-attention:
///   the decoder's rows over every position of the encoder's output).
/// - `bias`: `[NH, T, K]` added to the scaled scores before the mask (T5's relative positions).
func recordedAttention(
    layer l: Int, q: UnsafePointer<Float>, qStride: Int, keys layerKeys: [Float], values layerValues: [Float], capacity: Int,
    start: Int, T: Int, heads NH: Int, kvHeads NKV: Int, headSize hs: Int, scale: Float, causal: Bool = true,
    bias: UnsafePointer<Float>? = nil, keyCount: Int? = nil, window: Int? = nil,
    records: (scores: RecordKind, pattern: RecordKind) = (.scores, .pattern),
    out: UnsafeMutablePointer<Float>, recorder: inout Recorder
) {
    let K = keyCount ?? start + T
    let wantsScores = recorder.records(records.scores, layer: l), wantsPattern = recorder.records(records.pattern, layer: l)
    // The kernel writes every cell (masked ones included), so the buffers start uninitialised.
    func buffer(_ wanted: Bool) -> [Float] {
        wanted ? RecordStorage.make(count: NH * T * K) { _ in } : []
    }
    var scores = buffer(wantsScores), pattern = buffer(wantsPattern)
    precondition(keyCount == nil || !causal, "recordedAttention: a given key count (cross-attention) has no causal mask")
    let shape = AttentionShape(
        queries: T, keys: K, heads: NH, kvHeads: NKV, headSize: hs, scale: scale,
        mask: causal ? .causal(start: start, window: window) : .none)
    let cache = AttentionStrides.headMajor(capacity: capacity, headSize: hs)
    layerKeys.withUnsafeBufferPointer { keys in
        layerValues.withUnsafeBufferPointer { values in
            scores.withUnsafeMutableBufferPointer { scoresOut in
                pattern.withUnsafeMutableBufferPointer { patternOut in
                    attentionForward(
                        shape, q: AttentionInput(q, .sideBySide(rowWidth: qStride, headSize: hs)),
                        k: AttentionInput(keys.baseAddress!, cache), v: AttentionInput(values.baseAddress!, cache),
                        out: AttentionOutput(out, .sideBySide(rowWidth: NH * hs, headSize: hs)),
                        probs: wantsPattern ? patternOut.baseAddress : nil, scores: wantsScores ? scoresOut.baseAddress : nil,
                        bias: bias)
                }
            }
        }
    }
    // The whole buffer when every row and head is kept (no copy); otherwise the kept ones.
    func keep(_ kind: RecordKind, _ values: [Float]) {
        guard recorder.keptRows < T || recorder.spec.heads != nil else {
            recorder.records[recorder.name(kind, layer: l)] = Tensor(shape: [NH, T, K], scalars: values)
            return
        }
        values.withUnsafeBufferPointer { recorder.perHeadRows(kind, layer: l, $0.baseAddress!, heads: NH, keys: K) }
    }
    if wantsScores { keep(records.scores, scores) }
    if wantsPattern { keep(records.pattern, pattern) }
}
