import Tensors

/// The attention sub-block of the families that keep query, key and value in one `[3C, C]`
/// product with biases (GPT-2, BERT), from its input to the output projection, with the records
/// on the way: `qkv = input · Wqkvᵀ + b` → `attn.q/k/v` → attention (the driver's: cached and
/// causal, or within a sequence, or both ways) → `attn.z` → `out = heads · Woᵀ + bo` → `attn.out`.
/// Letters: N rows, C width, NH heads, hs head size.
enum FusedQKVAttention {
    static func forward(
        layer l: Int, input: UnsafePointer<Float>, rows N: Int, config: TransformerConfig,
        qkvWeight: LinearWeight, qkvBias: UnsafePointer<Float>, projWeight: LinearWeight, projBias: UnsafePointer<Float>,
        qkv: UnsafeMutablePointer<Float>,  // [N, 3C]
        heads: UnsafeMutablePointer<Float>,  // [N, C]
        out: UnsafeMutablePointer<Float>,  // [N, C]
        attention: GPT2Pass.Attention, products: ProductPrecision = .f32, recorder: inout Recorder
    ) {
        let C = config.width, NH = config.heads, hs = config.headSize
        linearForward(out: qkv, input: input, weight: qkvWeight, bias: qkvBias, T: N, C: C, OC: 3 * C, products: products)
        recorder.perHead(.q, layer: l, qkv, stride: 3 * C, offset: 0, heads: NH, headSize: hs)
        recorder.perHead(.k, layer: l, qkv, stride: 3 * C, offset: C, heads: NH, headSize: hs)
        recorder.perHead(.v, layer: l, qkv, stride: 3 * C, offset: 2 * C, heads: NH, headSize: hs)
        attention(l, qkv, heads, &recorder)
        recorder.replaceHeads(layer: l, heads, stride: C, headSize: hs)
        recorder.perHead(.z, layer: l, heads, stride: C, offset: 0, heads: NH, headSize: hs)
        linearForward(out: out, input: heads, weight: projWeight, bias: projBias, T: N, C: C, OC: C, products: products)
        recorder.rowMajor(.attnOut, layer: l, out, width: C)
    }
}

extension FusedQKVAttention {
    /// Training's attention within each of B sequences of T rows: q, k and v side by side in
    /// `qkv[B·T, 3C]`, the heads' outputs into `heads[B·T, C]`, the weights kept as
    /// `probs[B, NH, T, T]` for the backward pass (and the records).
    struct WithinSequences {
        let shape: AttentionShape
        let width: Int
        /// The precision of the products (training's `--precision`).
        let products: ProductPrecision

        init(sequences B: Int, length T: Int, config: TransformerConfig, causal: Bool, products: ProductPrecision = .f32) {
            shape = AttentionShape(
                sequences: B, queries: T, keys: T, heads: config.heads, headSize: config.headSize,
                scale: config.attentionScoreScale, mask: causal ? .causal() : .none)
            width = config.width
            self.products = products
        }

        private var packed: AttentionStrides { .sideBySide(rowWidth: 3 * width, headSize: shape.headSize, rowsPerSequence: shape.queries) }
        private var separate: AttentionStrides { .sideBySide(rowWidth: width, headSize: shape.headSize, rowsPerSequence: shape.queries) }

        /// The pattern (kept in `probs`) and, only when the recorder asks for them, the scores
        /// are recorded for layer `l`.
        func forward(
            qkv: UnsafePointer<Float>, heads: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
            recorder: inout Recorder, layer l: Int
        ) {
            let wantsScores = recorder.records(.scores, layer: l)
            let scores = wantsScores ? UnsafeMutablePointer<Float>.allocate(capacity: shape.pairs * shape.pairSize) : nil
            defer { scores?.deallocate() }
            attentionForward(
                shape, q: AttentionInput(qkv, packed), k: AttentionInput(qkv + width, packed),
                v: AttentionInput(qkv + 2 * width, packed), out: AttentionOutput(heads, separate), probs: probs, scores: scores,
                softmax: .vectorised, products: products)
            recorder.perHeadRows(.pattern, layer: l, probs, heads: shape.heads, keys: shape.keys)
            if let scores { recorder.perHeadRows(.scores, layer: l, scores, heads: shape.heads, keys: shape.keys) }
        }

        /// ADDS the gradient of q, k and v into `dqkv[B·T, 3C]`, given the heads' output gradient.
        func backward(
            dqkv: UnsafeMutablePointer<Float>, dheads: UnsafePointer<Float>, qkv: UnsafePointer<Float>, probs: UnsafePointer<Float>
        ) {
            attentionBackward(
                shape, dq: AttentionOutput(dqkv, packed), dk: AttentionOutput(dqkv + width, packed),
                dv: AttentionOutput(dqkv + 2 * width, packed), dout: AttentionInput(dheads, separate),
                q: AttentionInput(qkv, packed), k: AttentionInput(qkv + width, packed), v: AttentionInput(qkv + 2 * width, packed),
                probs: probs, products: products)
        }
    }
}
