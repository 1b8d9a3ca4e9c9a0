import Tensors

// What a GPT-2 computes, written once: the forward pass that inference (GPT2Model, with its KV
// cache and records) and training (GPT2TrainingModel, with activations kept) both run, and the
// backward pass beside it. The drivers own the storage and say where each intermediate goes;
// this file owns the order of the kernel calls. To add a family, see docs/ADDING_A_FAMILY.md.
// Letters: N rows this call (B sequences of T), C width, NH heads, hs head size, FF = 4C,
// V vocabulary, P context.

// MARK: - What the passes read

/// One block's parameters as the passes read them: pointers into storage that outlives the call
/// (the engine's `GPT2BlockWeights`, or a layer's slices of training's flat `GPT2Parameters`).
struct GPT2BlockView {
    var ln1Weight: UnsafePointer<Float>, ln1Bias: UnsafePointer<Float>  // [C]
    var qkvWeight: LinearWeight, qkvBias: UnsafePointer<Float>  // [3C, C], [3C]
    var attnProjWeight: LinearWeight, attnProjBias: UnsafePointer<Float>  // [C, C], [C]
    var ln2Weight: UnsafePointer<Float>, ln2Bias: UnsafePointer<Float>  // [C]
    var fcWeight: LinearWeight, fcBias: UnsafePointer<Float>  // [FF, C], [FF]
    var mlpProjWeight: LinearWeight, mlpProjBias: UnsafePointer<Float>  // [C, FF], [C]
}

/// The whole model's parameters as the passes read them.
struct GPT2ParameterView {
    var tokenEmbedding: LinearWeight  // [V, C]
    var positionEmbedding: UnsafePointer<Float>  // [P, C]
    var blocks: [GPT2BlockView]
    var finalNormWeight: UnsafePointer<Float>, finalNormBias: UnsafePointer<Float>  // [C]
}

/// Where one block's intermediates go, each `[N, ·]`. Training gives every layer its own slices
/// of `GPT2Activations` (kept for the backward pass, with the norms' statistics); inference gives
/// every layer the same scratch, with `mlpHidden == fcHidden` (GELU in place) and
/// `residualMid == residualPost ==` the block's input (the residual stream updated in place).
/// The same struct over the activations' gradients names where the backward pass writes them.
struct GPT2LayerBuffers {
    var ln1: UnsafeMutablePointer<Float>  // [N, C]
    var ln1Mean: UnsafeMutablePointer<Float>? = nil, ln1Rstd: UnsafeMutablePointer<Float>? = nil  // [N]
    var qkv: UnsafeMutablePointer<Float>  // [N, 3C]  q, k, v side by side
    var heads: UnsafeMutablePointer<Float>  // [N, C]   heads' outputs (attn.z)
    var attnProj: UnsafeMutablePointer<Float>  // [N, C]
    var residualMid: UnsafeMutablePointer<Float>  // [N, C]
    var ln2: UnsafeMutablePointer<Float>  // [N, C]
    var ln2Mean: UnsafeMutablePointer<Float>? = nil, ln2Rstd: UnsafeMutablePointer<Float>? = nil  // [N]
    var fcHidden: UnsafeMutablePointer<Float>  // [N, FF]  before GELU
    var mlpHidden: UnsafeMutablePointer<Float>  // [N, FF]  after GELU
    var mlpProj: UnsafeMutablePointer<Float>  // [N, C]
    var residualPost: UnsafeMutablePointer<Float>  // [N, C]
}

// MARK: - Forward

enum GPT2Pass {
    /// Attention for one layer: reads `qkv[N, 3C]`, writes the heads' outputs `[N, C]`. Inference
    /// stores keys and values in its cache and attends over it; training attends within each sequence.
    typealias Attention = (
        _ layer: Int, _ qkv: UnsafePointer<Float>, _ heads: UnsafeMutablePointer<Float>,
        _ recorder: inout Recorder
    ) -> Void

    /// The forward pass from token ids to the final norm's output `finalNorm[N, C]` (the drivers
    /// unembed what they need). `tokens` are B sequences of `sequenceLength` rows; row `n` sits at
    /// position `firstPosition + n mod sequenceLength`.
    static func forward(
        tokens: [Int], sequenceLength T: Int, firstPosition start: Int, _ p: GPT2ParameterView, config: TransformerConfig,
        embedded: UnsafeMutablePointer<Float>, layers: (Int) -> GPT2LayerBuffers,
        finalNorm: UnsafeMutablePointer<Float>, finalMean: UnsafeMutablePointer<Float>? = nil,
        finalRstd: UnsafeMutablePointer<Float>? = nil,
        elementwise: ElementwiseKernels, products: ProductPrecision = .f32, attention: Attention, recorder: inout Recorder
    ) {
        let N = tokens.count, C = config.width
        // Token embedding, then the learned position embedding added.
        for n in 0..<N { p.tokenEmbedding.copyRow(tokens[n], columns: C, into: embedded + n * C) }
        recorder.rowMajor(.embed, embedded, width: C)
        recorder.rowMajor(.posEmbed, p.positionEmbedding + start * C, width: C)  // rows are positions start…
        for n in 0..<N { addInPlace(embedded + n * C, p.positionEmbedding + (start + n % T) * C, count: C) }

        var input = UnsafePointer(embedded)
        for l in 0..<config.layers {
            let buffers = layers(l)
            block(
                layer: l, p.blocks[l], input: input, buffers, rows: N, config: config, elementwise: elementwise,
                products: products, attention: attention, recorder: &recorder)
            input = UnsafePointer(buffers.residualPost)
        }
        fastLayerNormForward(
            out: finalNorm, input: input, weight: p.finalNormWeight, bias: p.finalNormBias,
            T: N, C: C, eps: config.normEpsilon, mean: finalMean, rstd: finalRstd)
        recorder.rowMajor(.lnFinal, finalNorm, width: C)
    }

    /// One block: `residualMid = input + proj(attention(ln1(input)))`, then
    /// `residualPost = residualMid + proj(gelu(fc(ln2(residualMid))))`.
    static func block(
        layer l: Int, _ w: GPT2BlockView, input: UnsafePointer<Float>, _ b: GPT2LayerBuffers, rows N: Int,
        config: TransformerConfig, elementwise: ElementwiseKernels, products: ProductPrecision = .f32, attention: Attention,
        recorder: inout Recorder
    ) {
        let C = config.width, FF = config.feedForwardWidth, eps = config.normEpsilon
        // Attention sub-block.
        fastLayerNormForward(
            out: b.ln1, input: input, weight: w.ln1Weight, bias: w.ln1Bias, T: N, C: C, eps: eps,
            mean: b.ln1Mean, rstd: b.ln1Rstd)
        recorder.rowMajor(.ln1, layer: l, b.ln1, width: C)
        FusedQKVAttention.forward(
            layer: l, input: b.ln1, rows: N, config: config, qkvWeight: w.qkvWeight, qkvBias: w.qkvBias,
            projWeight: w.attnProjWeight, projBias: w.attnProjBias, qkv: b.qkv, heads: b.heads, out: b.attnProj,
            attention: attention, products: products, recorder: &recorder)
        fastResidualForward(out: b.residualMid, inp1: input, inp2: b.attnProj, N: N * C)
        recorder.rowMajor(.residMid, layer: l, b.residualMid, width: C)

        // MLP sub-block.
        fastLayerNormForward(
            out: b.ln2, input: b.residualMid, weight: w.ln2Weight, bias: w.ln2Bias, T: N, C: C, eps: eps,
            mean: b.ln2Mean, rstd: b.ln2Rstd)
        recorder.rowMajor(.ln2, layer: l, b.ln2, width: C)
        linearForward(out: b.fcHidden, input: b.ln2, weight: w.fcWeight, bias: w.fcBias, T: N, C: C, OC: FF, products: products)
        switch elementwise {
        case .vectorised:
            fastGeluForward(out: b.mlpHidden, inp: b.fcHidden, N: N * FF)
        case .exact:
            nonisolated(unsafe) let (out, hidden) = (b.mlpHidden, b.fcHidden)
            parallelChunks(rows: N, width: FF) { offset, count in geluForward(out: out + offset, input: hidden + offset, count: count) }
        }
        recorder.rowMajor(.mlpHidden, layer: l, b.mlpHidden, width: FF)
        linearForward(
            out: b.mlpProj, input: b.mlpHidden, weight: w.mlpProjWeight, bias: w.mlpProjBias, T: N, C: FF, OC: C, products: products)
        recorder.replaceMLP(layer: l, b.mlpProj, width: C)
        recorder.rowMajor(.mlpOut, layer: l, b.mlpProj, width: C)
        fastResidualForward(out: b.residualPost, inp1: b.residualMid, inp2: b.mlpProj, N: N * C)
        recorder.replaceResidual(layer: l, b.residualPost, width: C)
        recorder.rowMajor(.residPost, layer: l, b.residualPost, width: C)
    }
}

// MARK: - Backward

/// Where one block's parameter gradients accumulate (the same tensors as `GPT2BlockView`).
struct GPT2BlockGradients {
    var ln1Weight: UnsafeMutablePointer<Float>, ln1Bias: UnsafeMutablePointer<Float>
    var qkvWeight: UnsafeMutablePointer<Float>, qkvBias: UnsafeMutablePointer<Float>
    var attnProjWeight: UnsafeMutablePointer<Float>, attnProjBias: UnsafeMutablePointer<Float>
    var ln2Weight: UnsafeMutablePointer<Float>, ln2Bias: UnsafeMutablePointer<Float>
    var fcWeight: UnsafeMutablePointer<Float>, fcBias: UnsafeMutablePointer<Float>
    var mlpProjWeight: UnsafeMutablePointer<Float>, mlpProjBias: UnsafeMutablePointer<Float>
}

extension LinearWeight {
    /// The f32 values a backward pass reads (training keeps every weight in f32).
    var trainingFloats: UnsafePointer<Float> {
        guard case .floats(let values) = self else { preconditionFailure("GPT2Pass.blockBackward: training weights are f32 views") }
        return values
    }
}

extension GPT2Pass {
    /// The backward of `block`: from `g.residualPost` (the gradient flowing into the block's output)
    /// to `inputGradient`, ADDING every parameter's gradient into `d`. `a` holds the forward's
    /// activations of this layer and `g` their gradients (scratch, accumulated).
    static func blockBackward(
        layer l: Int, _ w: GPT2BlockView, _ d: GPT2BlockGradients, input: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, _ a: GPT2LayerBuffers, _ g: GPT2LayerBuffers, rows N: Int,
        config: TransformerConfig, products: ProductPrecision = .f32,
        attentionBackward: (_ qkvGradient: UnsafeMutablePointer<Float>, _ headsGradient: UnsafePointer<Float>) -> Void
    ) {
        let C = config.width, FF = config.feedForwardWidth
        guard let ln1Mean = a.ln1Mean, let ln1Rstd = a.ln1Rstd, let ln2Mean = a.ln2Mean, let ln2Rstd = a.ln2Rstd else {
            preconditionFailure("GPT2Pass.blockBackward: the forward pass did not keep the norms' statistics")
        }
        // MLP sub-block, in reverse.
        fastResidualBackward(dinp1: g.residualMid, dinp2: g.mlpProj, dout: g.residualPost, N: N * C)
        fastMatmulBackward(
            dinp: g.mlpHidden, dweight: d.mlpProjWeight, dbias: d.mlpProjBias, dout: g.mlpProj,
            inp: a.mlpHidden, weight: w.mlpProjWeight.trainingFloats, N: N, C: FF, OC: C, products: products)
        fastGeluBackward(dinp: g.fcHidden, inp: a.fcHidden, dout: g.mlpHidden, N: N * FF)
        fastMatmulBackward(
            dinp: g.ln2, dweight: d.fcWeight, dbias: d.fcBias, dout: g.fcHidden,
            inp: a.ln2, weight: w.fcWeight.trainingFloats, N: N, C: C, OC: FF, products: products)
        fastLayerNormBackward(
            dinp: g.residualMid, dweight: d.ln2Weight, dbias: d.ln2Bias, dout: g.ln2,
            inp: a.residualMid, weight: w.ln2Weight, mean: ln2Mean, rstd: ln2Rstd, N: N, C: C)
        // Attention sub-block, in reverse.
        fastResidualBackward(dinp1: inputGradient, dinp2: g.attnProj, dout: g.residualMid, N: N * C)
        fastMatmulBackward(
            dinp: g.heads, dweight: d.attnProjWeight, dbias: d.attnProjBias, dout: g.attnProj,
            inp: a.heads, weight: w.attnProjWeight.trainingFloats, N: N, C: C, OC: C, products: products)
        attentionBackward(g.qkv, g.heads)
        fastMatmulBackward(
            dinp: g.ln1, dweight: d.qkvWeight, dbias: d.qkvBias, dout: g.qkv,
            inp: a.ln1, weight: w.qkvWeight.trainingFloats, N: N, C: C, OC: 3 * C, products: products)
        fastLayerNormBackward(
            dinp: inputGradient, dweight: d.ln1Weight, dbias: d.ln1Bias, dout: g.ln1,
            inp: input, weight: w.ln1Weight, mean: ln1Mean, rstd: ln1Rstd, N: N, C: C)
    }
}
