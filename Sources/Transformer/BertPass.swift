import Tensors

// What a BERT encoder computes, written once (Devlin et al., 2019; Hugging Face's BertModel):
// the forward pass the inference driver (BertModel in Bert.swift) runs. The driver owns the
// storage and the attention (bidirectional: every row sees every key); this file owns the order
// of the kernel calls. See docs/ADDING_A_FAMILY.md.
// Letters: N rows this call (B sequences of T), C width, NH heads, hs head size, FF feed-forward
// width, V vocabulary, P positions, TT token types.
//
// Where BERT differs from GPT-2: the embedding adds a token-type vector and is normalised before
// the first block; each block's LayerNorm comes AFTER its residual addition ("post-LN"), so the
// residual stream itself is normalised twice per block; the MLP's GELU is the exact (erf) one;
// there is no final norm (the MLM head has its own).

// MARK: - What the pass reads

/// One block's parameters, pointers into storage that outlives the call.
struct BertBlockView {
    var qkvWeight: LinearWeight, qkvBias: UnsafePointer<Float>  // [3C, C], [3C]  query, key, value stacked
    var attnProjWeight: LinearWeight, attnProjBias: UnsafePointer<Float>  // [C, C], [C]  attention.output.dense
    var attnNormWeight: UnsafePointer<Float>, attnNormBias: UnsafePointer<Float>  // [C]  attention.output.LayerNorm
    var fcWeight: LinearWeight, fcBias: UnsafePointer<Float>  // [FF, C], [FF]  intermediate.dense
    var mlpProjWeight: LinearWeight, mlpProjBias: UnsafePointer<Float>  // [C, FF], [C]  output.dense
    var mlpNormWeight: UnsafePointer<Float>, mlpNormBias: UnsafePointer<Float>  // [C]  output.LayerNorm
}

/// The encoder's parameters as the pass reads them (the MLM head is the driver's).
struct BertParameterView {
    var tokenEmbedding: LinearWeight  // [V, C]
    var positionEmbedding: UnsafePointer<Float>  // [P, C]
    var typeEmbedding: UnsafePointer<Float>  // [TT, C]
    var embedNormWeight: UnsafePointer<Float>, embedNormBias: UnsafePointer<Float>  // [C]
    var blocks: [BertBlockView]
}

/// Where one block's intermediates go, each `[N, ·]`. Inference gives every layer the same
/// scratch: `attnSum == attnProj` and `mlpSum == mlpProj` (the residual added in place),
/// `mlpHidden == fcHidden` (GELU in place) and `residualMid == residualPost ==` the block's input.
struct BertLayerBuffers {
    var qkv: UnsafeMutablePointer<Float>  // [N, 3C]  q, k, v side by side
    var heads: UnsafeMutablePointer<Float>  // [N, C]   heads' outputs (attn.z)
    var attnProj: UnsafeMutablePointer<Float>  // [N, C]
    var attnSum: UnsafeMutablePointer<Float>  // [N, C]   input + attnProj, before the norm
    var residualMid: UnsafeMutablePointer<Float>  // [N, C]   LayerNorm(attnSum)
    var fcHidden: UnsafeMutablePointer<Float>  // [N, FF]  before GELU
    var mlpHidden: UnsafeMutablePointer<Float>  // [N, FF]  after GELU
    var mlpProj: UnsafeMutablePointer<Float>  // [N, C]
    var mlpSum: UnsafeMutablePointer<Float>  // [N, C]   residualMid + mlpProj, before the norm
    var residualPost: UnsafeMutablePointer<Float>  // [N, C]   LayerNorm(mlpSum)
}

enum BertPass {
    /// Attention for one layer: reads `qkv[N, 3C]`, writes the heads' outputs `[N, C]`.
    typealias Attention = GPT2Pass.Attention

    /// The forward pass from token ids (and their token types) to the last block's output, which
    /// the driver finds at `layers(L − 1).residualPost`. `tokens` are B sequences of
    /// `sequenceLength` rows; row `n` sits at position `n mod sequenceLength`.
    static func forward(
        tokens: [Int], tokenTypes: [Int], sequenceLength T: Int, _ p: BertParameterView, config: TransformerConfig,
        embedded: UnsafeMutablePointer<Float>, layers: (Int) -> BertLayerBuffers,
        attention: Attention, recorder: inout Recorder
    ) {
        let N = tokens.count, C = config.width
        // Token embedding, then the position and token-type embeddings added, then LayerNorm.
        for n in 0..<N { p.tokenEmbedding.copyRow(tokens[n], columns: C, into: embedded + n * C) }
        recorder.rowMajor(.embed, embedded, width: C)
        recorder.rowMajor(.posEmbed, p.positionEmbedding, width: C)
        for n in 0..<N {
            addInPlace(embedded + n * C, p.positionEmbedding + (n % T) * C, count: C)
            addInPlace(embedded + n * C, p.typeEmbedding + tokenTypes[n] * C, count: C)
        }
        let first = layers(0)
        fastLayerNormForward(
            out: first.residualPost, input: embedded, weight: p.embedNormWeight, bias: p.embedNormBias,
            T: N, C: C, eps: config.normEpsilon)
        recorder.rowMajor(.embedNorm, first.residualPost, width: C)

        var input = UnsafePointer(first.residualPost)
        for l in 0..<config.layers {
            let buffers = layers(l)
            block(layer: l, p.blocks[l], input: input, buffers, rows: N, config: config, attention: attention, recorder: &recorder)
            input = UnsafePointer(buffers.residualPost)
        }
    }

    /// One block: `residualMid = LayerNorm(input + proj(attention(input)))`, then
    /// `residualPost = LayerNorm(residualMid + proj(gelu(fc(residualMid))))`.
    static func block(
        layer l: Int, _ w: BertBlockView, input: UnsafePointer<Float>, _ b: BertLayerBuffers, rows N: Int,
        config: TransformerConfig, attention: Attention, recorder: inout Recorder
    ) {
        let C = config.width, FF = config.feedForwardWidth, eps = config.normEpsilon
        // Attention sub-block: the stream goes in as it is (no norm before).
        FusedQKVAttention.forward(
            layer: l, input: input, rows: N, config: config, qkvWeight: w.qkvWeight, qkvBias: w.qkvBias,
            projWeight: w.attnProjWeight, projBias: w.attnProjBias, qkv: b.qkv, heads: b.heads, out: b.attnProj,
            attention: attention, recorder: &recorder)
        fastResidualForward(out: b.attnSum, inp1: input, inp2: b.attnProj, N: N * C)
        fastLayerNormForward(out: b.residualMid, input: b.attnSum, weight: w.attnNormWeight, bias: w.attnNormBias, T: N, C: C, eps: eps)
        recorder.rowMajor(.residMid, layer: l, b.residualMid, width: C)

        // MLP sub-block.
        linearForward(out: b.fcHidden, input: b.residualMid, weight: w.fcWeight, bias: w.fcBias, T: N, C: C, OC: FF)
        nonisolated(unsafe) let (out, hidden) = (b.mlpHidden, b.fcHidden)
        parallelChunks(rows: N, width: FF) { offset, count in geluErfForward(out: out + offset, input: hidden + offset, count: count) }
        recorder.rowMajor(.mlpHidden, layer: l, b.mlpHidden, width: FF)
        linearForward(out: b.mlpProj, input: b.mlpHidden, weight: w.mlpProjWeight, bias: w.mlpProjBias, T: N, C: FF, OC: C)
        recorder.rowMajor(.mlpOut, layer: l, b.mlpProj, width: C)
        fastResidualForward(out: b.mlpSum, inp1: b.residualMid, inp2: b.mlpProj, N: N * C)
        fastLayerNormForward(out: b.residualPost, input: b.mlpSum, weight: w.mlpNormWeight, bias: w.mlpNormBias, T: N, C: C, eps: eps)
        recorder.rowMajor(.residPost, layer: l, b.residualPost, width: C)
    }
}
