import Tensors

/// Self-attention for `T` new rows at positions `start..<start+T`, over every cached key, shared
/// by every family: causal (decoders: row `t` sees keys up to its own position) or, with
/// `causal: false`, bidirectional (encoders: every row sees every key). Letters: NH query heads, NKV key/value heads (NH is a multiple of
/// NKV; query head `h` reads key/value head `h / (NH / NKV)`), hs head size, K = start + T keys.
///
/// - `q`: `[T, qStride]`, query head `h` at columns `h·hs ..< (h+1)·hs`.
/// - `keys`, `values`: one layer of the cache, `[NKV, P, hs]`, already holding the new rows.
/// - `out`: `[T, NH·hs]`, the heads' outputs side by side (before the output projection).
/// - `scale`: what every score `q · k` is multiplied by (1/√hs, unless the config says otherwise).
/// - `bias`: added to the scaled scores before the mask, `[NH, T, K]` (T5's relative positions).
/// - `keyCount`: attend over this many keys instead of `start + T`, without a mask (cross-attention:
///   the decoder's rows over every position of the encoder's output).
/// - `window`: a local attention layer's sliding window (GPT-Neo): row `t` sees only the latest
///   `window` positions up to its own; the older keys are masked like future ones.
/// - `scores`, `pattern`: when given, `[NH, T, K]` receive the scaled, masked scores and the
///   softmax probabilities (masked cells: −∞ in scores, 0 in the pattern).
func selfAttention(
    q: UnsafePointer<Float>, qStride: Int,
    keys: UnsafePointer<Float>, values: UnsafePointer<Float>, capacity P: Int,
    start: Int, T: Int, NH: Int, NKV: Int, hs: Int, scale: Float, causal: Bool = true,
    bias: UnsafePointer<Float>? = nil, keyCount: Int? = nil, window: Int? = nil,
    out: UnsafeMutablePointer<Float>,
    scores recordedScores: UnsafeMutablePointer<Float>? = nil,
    pattern recordedPattern: UnsafeMutablePointer<Float>? = nil
) {
    precondition(keyCount == nil || !causal, "selfAttention: a given key count (cross-attention) has no causal mask")
    let K = keyCount ?? start + T
    let groupSize = NH / NKV

    /// One head, using `scratch` (`[T, K]`) unless the pattern is recorded: then the head's slice
    /// of the record is the working buffer, which saves copying it afterwards.
    func attendHead(_ h: Int, _ scratch: UnsafeMutablePointer<Float>) {
        let weights = recordedPattern.map { $0 + h * T * K } ?? scratch
        let kvHead = h / groupSize
        let headKeys = keys + kvHead * P * hs, headValues = values + kvHead * P * hs
        // scores[T, K] = scale · Q_h[T, hs] · K_h[K, hs]ᵀ (one row while decoding: a matrix–vector
        // product, which avoids GEMM's per-call set-up on 2·NH tiny calls per layer).
        if T == 1 {
            gemv(trans: false, M: K, N: hs, alpha: scale, A: headKeys, lda: hs, x: q + h * hs, beta: 0, y: weights)
        } else {
            gemm(
                transA: false, transB: true, M: T, N: K, K: hs, alpha: scale,
                A: q + h * hs, lda: qStride, B: headKeys, ldb: hs, beta: 0, C: weights, ldc: K)
        }
        for t in 0..<T {
            let row = weights + t * K
            if let bias { addInPlace(row, bias + (h * T + t) * K, count: K) }
            // Row t sits at position start+t and, when causal, may look at keys 0...start+t only
            // (and, in a local layer, at the latest `window` of them: from `first` on).
            let visible = causal ? start + t + 1 : K
            let first = causal ? max(0, visible - (window ?? visible)) : 0
            for j in visible..<max(K, visible) { row[j] = -.infinity }
            for j in 0..<first { row[j] = -.infinity }
            recordedScores?.advanced(by: (h * T + t) * K).update(from: row, count: K)
            softmaxInPlace(row + first, count: visible - first)
            for j in visible..<max(K, visible) { row[j] = 0 }
            for j in 0..<first { row[j] = 0 }
        }
        // out_h[T, hs] = weights[T, K] · V_h[K, hs]
        if T == 1 {
            gemv(trans: true, M: K, N: hs, alpha: 1, A: headValues, lda: hs, x: weights, beta: 0, y: out + h * hs)
        } else {
            gemm(
                transA: false, transB: false, M: T, N: hs, K: K, alpha: 1,
                A: weights, lda: K, B: headValues, ldb: hs, beta: 0, C: out + h * hs, ldc: NH * hs)
        }
    }

    // Decoding: the heads are tiny, run them in turn. Prefill: heads are independent, so each
    // worker takes every n-th head (BLAS is single-threaded inside the workers).
    let pool = WorkerPool.shared
    let parts = T > 1 && T * K >= 4096 ? min(pool.width, NH) : 1
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: parts * T * K)
    defer { scratch.deallocate() }
    if parts == 1 {
        for h in 0..<NH { attendHead(h, scratch) }
        return
    }
    withoutActuallyEscaping(attendHead) { attendHead in
        nonisolated(unsafe) let (work, buffers) = (attendHead, scratch)
        pool.run(parts: parts) { part in
            for h in stride(from: part, to: NH, by: parts) { work(h, buffers + part * T * K) }
        }
    }
}

/// Runs `selfAttention` for one layer over the cache and records its scores and pattern when
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

/// Runs `selfAttention` over one layer's `keys` and `values` (`[NKV, capacity, hs]`) and records
/// its scores and pattern as `records` names them (self-attention's, or cross-attention's with
/// `keyCount` set).
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
    layerKeys.withUnsafeBufferPointer { keys in
        layerValues.withUnsafeBufferPointer { values in
            scores.withUnsafeMutableBufferPointer { scoresOut in
                pattern.withUnsafeMutableBufferPointer { patternOut in
                    selfAttention(
                        q: q, qStride: qStride, keys: keys.baseAddress!, values: values.baseAddress!,
                        capacity: capacity, start: start, T: T, NH: NH, NKV: NKV, hs: hs, scale: scale, causal: causal,
                        bias: bias, keyCount: keyCount, window: window, out: out,
                        scores: wantsScores ? scoresOut.baseAddress : nil,
                        pattern: wantsPattern ? patternOut.baseAddress : nil)
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
