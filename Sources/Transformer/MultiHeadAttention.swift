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
        attention: GPT2Pass.Attention, recorder: inout Recorder
    ) {
        let C = config.width, NH = config.heads, hs = config.headSize
        linearForward(out: qkv, input: input, weight: qkvWeight, bias: qkvBias, T: N, C: C, OC: 3 * C)
        recorder.perHead(.q, layer: l, qkv, stride: 3 * C, offset: 0, heads: NH, headSize: hs)
        recorder.perHead(.k, layer: l, qkv, stride: 3 * C, offset: C, heads: NH, headSize: hs)
        recorder.perHead(.v, layer: l, qkv, stride: 3 * C, offset: 2 * C, heads: NH, headSize: hs)
        attention(l, qkv, heads, &recorder)
        recorder.replaceHeads(layer: l, heads, stride: C, headSize: hs)
        recorder.perHead(.z, layer: l, heads, stride: C, offset: 0, heads: NH, headSize: hs)
        linearForward(out: out, input: heads, weight: projWeight, bias: projBias, T: N, C: C, OC: C)
        recorder.rowMajor(.attnOut, layer: l, out, width: C)
    }
}
