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
/// Training gives every layer its own slices of `BertActivations`, with the norms' statistics;
/// the same struct over the activations' gradients names where the backward pass writes them.
struct BertLayerBuffers {
    var qkv: UnsafeMutablePointer<Float>  // [N, 3C]  q, k, v side by side
    var heads: UnsafeMutablePointer<Float>  // [N, C]   heads' outputs (attn.z)
    var attnProj: UnsafeMutablePointer<Float>  // [N, C]
    var attnSum: UnsafeMutablePointer<Float>  // [N, C]   input + attnProj, before the norm
    var residualMid: UnsafeMutablePointer<Float>  // [N, C]   LayerNorm(attnSum)
    var attnNormMean: UnsafeMutablePointer<Float>? = nil, attnNormRstd: UnsafeMutablePointer<Float>? = nil  // [N]
    var fcHidden: UnsafeMutablePointer<Float>  // [N, FF]  before GELU
    var mlpHidden: UnsafeMutablePointer<Float>  // [N, FF]  after GELU
    var mlpProj: UnsafeMutablePointer<Float>  // [N, C]
    var mlpSum: UnsafeMutablePointer<Float>  // [N, C]   residualMid + mlpProj, before the norm
    var residualPost: UnsafeMutablePointer<Float>  // [N, C]   LayerNorm(mlpSum)
    var mlpNormMean: UnsafeMutablePointer<Float>? = nil, mlpNormRstd: UnsafeMutablePointer<Float>? = nil  // [N]
}

enum BertPass {
    /// Attention for one layer: reads `qkv[N, 3C]`, writes the heads' outputs `[N, C]`.
    typealias Attention = GPT2Pass.Attention

    /// The forward pass from token ids (and their token types) to the last block's output, which
    /// the driver finds at `layers(L − 1).residualPost`. `tokens` are B sequences of
    /// `sequenceLength` rows; row `n` sits at position `n mod sequenceLength`. `embedded[N, C]`
    /// receives the embeddings' sum, `embeddedNorm[N, C]` its LayerNorm (the stream entering block
    /// 0; inference passes its residual buffer, which the blocks then update in place).
    static func forward(
        tokens: [Int], tokenTypes: [Int], sequenceLength T: Int, _ p: BertParameterView, config: TransformerConfig,
        embedded: UnsafeMutablePointer<Float>, embeddedNorm: UnsafeMutablePointer<Float>,
        embeddedMean: UnsafeMutablePointer<Float>? = nil, embeddedRstd: UnsafeMutablePointer<Float>? = nil,
        layers: (Int) -> BertLayerBuffers, products: ProductPrecision = .f32, attention: Attention, recorder: inout Recorder
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
        fastLayerNormForward(
            out: embeddedNorm, input: embedded, weight: p.embedNormWeight, bias: p.embedNormBias,
            T: N, C: C, eps: config.normEpsilon, mean: embeddedMean, rstd: embeddedRstd)
        recorder.rowMajor(.embedNorm, embeddedNorm, width: C)

        var input = UnsafePointer(embeddedNorm)
        for l in 0..<config.layers {
            let buffers = layers(l)
            block(
                layer: l, p.blocks[l], input: input, buffers, rows: N, config: config, products: products, attention: attention,
                recorder: &recorder)
            input = UnsafePointer(buffers.residualPost)
        }
    }

    /// One block: `residualMid = LayerNorm(input + proj(attention(input)))`, then
    /// `residualPost = LayerNorm(residualMid + proj(gelu(fc(residualMid))))`.
    static func block(
        layer l: Int, _ w: BertBlockView, input: UnsafePointer<Float>, _ b: BertLayerBuffers, rows N: Int,
        config: TransformerConfig, products: ProductPrecision = .f32, attention: Attention, recorder: inout Recorder
    ) {
        let C = config.width, FF = config.feedForwardWidth, eps = config.normEpsilon
        // Attention sub-block: the stream goes in as it is (no norm before).
        FusedQKVAttention.forward(
            layer: l, input: input, rows: N, config: config, qkvWeight: w.qkvWeight, qkvBias: w.qkvBias,
            projWeight: w.attnProjWeight, projBias: w.attnProjBias, qkv: b.qkv, heads: b.heads, out: b.attnProj,
            attention: attention, products: products, recorder: &recorder)
        fastResidualForward(out: b.attnSum, inp1: input, inp2: b.attnProj, N: N * C)
        fastLayerNormForward(
            out: b.residualMid, input: b.attnSum, weight: w.attnNormWeight, bias: w.attnNormBias, T: N, C: C, eps: eps,
            mean: b.attnNormMean, rstd: b.attnNormRstd)
        recorder.rowMajor(.residMid, layer: l, b.residualMid, width: C)

        // MLP sub-block.
        linearForward(
            out: b.fcHidden, input: b.residualMid, weight: w.fcWeight, bias: w.fcBias, T: N, C: C, OC: FF, products: products)
        nonisolated(unsafe) let (out, hidden) = (b.mlpHidden, b.fcHidden)
        parallelChunks(rows: N, width: FF) { offset, count in geluErfForward(out: out + offset, input: hidden + offset, count: count) }
        recorder.rowMajor(.mlpHidden, layer: l, b.mlpHidden, width: FF)
        linearForward(
            out: b.mlpProj, input: b.mlpHidden, weight: w.mlpProjWeight, bias: w.mlpProjBias, T: N, C: FF, OC: C, products: products)
        recorder.rowMajor(.mlpOut, layer: l, b.mlpProj, width: C)
        fastResidualForward(out: b.mlpSum, inp1: b.residualMid, inp2: b.mlpProj, N: N * C)
        fastLayerNormForward(
            out: b.residualPost, input: b.mlpSum, weight: w.mlpNormWeight, bias: w.mlpNormBias, T: N, C: C, eps: eps,
            mean: b.mlpNormMean, rstd: b.mlpNormRstd)
        recorder.rowMajor(.residPost, layer: l, b.residualPost, width: C)
    }
}

// MARK: - Backward

/// Where one block's parameter gradients accumulate (the same tensors as `BertBlockView`).
struct BertBlockGradients {
    var qkvWeight: UnsafeMutablePointer<Float>, qkvBias: UnsafeMutablePointer<Float>
    var attnProjWeight: UnsafeMutablePointer<Float>, attnProjBias: UnsafeMutablePointer<Float>
    var attnNormWeight: UnsafeMutablePointer<Float>, attnNormBias: UnsafeMutablePointer<Float>
    var fcWeight: UnsafeMutablePointer<Float>, fcBias: UnsafeMutablePointer<Float>
    var mlpProjWeight: UnsafeMutablePointer<Float>, mlpProjBias: UnsafeMutablePointer<Float>
    var mlpNormWeight: UnsafeMutablePointer<Float>, mlpNormBias: UnsafeMutablePointer<Float>
}

extension BertPass {
    /// The backward of `block`: from `g.residualPost` (the gradient flowing into the block's output)
    /// to `inputGradient`, ADDING every parameter's gradient into `d`. `a` holds the forward's
    /// activations of this layer (with the norms' statistics) and `g` their gradients (zeroed
    /// scratch, accumulated).
    static func blockBackward(
        layer l: Int, _ w: BertBlockView, _ d: BertBlockGradients, input: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, _ a: BertLayerBuffers, _ g: BertLayerBuffers, rows N: Int,
        config: TransformerConfig, products: ProductPrecision = .f32,
        attentionBackward: (_ qkvGradient: UnsafeMutablePointer<Float>, _ headsGradient: UnsafePointer<Float>) -> Void
    ) {
        let C = config.width, FF = config.feedForwardWidth
        guard let attnMean = a.attnNormMean, let attnRstd = a.attnNormRstd, let mlpMean = a.mlpNormMean, let mlpRstd = a.mlpNormRstd
        else { preconditionFailure("BertPass.blockBackward: the forward pass did not keep the norms' statistics") }
        // MLP sub-block, in reverse: the norm after the addition first.
        fastLayerNormBackward(
            dinp: g.mlpSum, dweight: d.mlpNormWeight, dbias: d.mlpNormBias, dout: g.residualPost,
            inp: a.mlpSum, weight: w.mlpNormWeight, mean: mlpMean, rstd: mlpRstd, N: N, C: C)
        fastResidualBackward(dinp1: g.residualMid, dinp2: g.mlpProj, dout: g.mlpSum, N: N * C)
        fastMatmulBackward(
            dinp: g.mlpHidden, dweight: d.mlpProjWeight, dbias: d.mlpProjBias, dout: g.mlpProj,
            inp: a.mlpHidden, weight: w.mlpProjWeight.trainingFloats, N: N, C: FF, OC: C, products: products)
        nonisolated(unsafe) let (dHidden, hidden, dActivated) = (g.fcHidden, UnsafePointer(a.fcHidden), UnsafePointer(g.mlpHidden))
        parallelChunks(rows: N, width: FF) { offset, count in
            geluErfBackward(dinp: dHidden + offset, inp: hidden + offset, dout: dActivated + offset, N: count)
        }
        fastMatmulBackward(
            dinp: g.residualMid, dweight: d.fcWeight, dbias: d.fcBias, dout: g.fcHidden,
            inp: a.residualMid, weight: w.fcWeight.trainingFloats, N: N, C: C, OC: FF, products: products)
        // Attention sub-block, in reverse.
        fastLayerNormBackward(
            dinp: g.attnSum, dweight: d.attnNormWeight, dbias: d.attnNormBias, dout: g.residualMid,
            inp: a.attnSum, weight: w.attnNormWeight, mean: attnMean, rstd: attnRstd, N: N, C: C)
        fastResidualBackward(dinp1: inputGradient, dinp2: g.attnProj, dout: g.attnSum, N: N * C)
        fastMatmulBackward(
            dinp: g.heads, dweight: d.attnProjWeight, dbias: d.attnProjBias, dout: g.attnProj,
            inp: a.heads, weight: w.attnProjWeight.trainingFloats, N: N, C: C, OC: C, products: products)
        attentionBackward(g.qkv, g.heads)
        fastMatmulBackward(
            dinp: inputGradient, dweight: d.qkvWeight, dbias: d.qkvBias, dout: g.qkv,
            inp: input, weight: w.qkvWeight.trainingFloats, N: N, C: C, OC: 3 * C, products: products)
    }
}
