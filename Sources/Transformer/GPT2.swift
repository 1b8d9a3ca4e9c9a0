import Foundation
import Tensors

// GPT-2 (Radford et al., 2019), as Hugging Face's GPT2LMHeadModel computes it.
// Order of this file: weights → loading → forward driver.
// Letters: T rows this call, C width, NH heads, hs head size, FF = 4C, V vocabulary, P context.

// MARK: - Weights

/// One block's parameters, stored in the nn.Linear layout `[out, in]` (GPT-2 checkpoints keep
/// Conv1D's `[in, out]`; they are transposed once at load).
struct GPT2BlockWeights: Sendable {
    var ln1Weight: [Float], ln1Bias: [Float]           // [C]
    var qkvWeight: WeightMatrix, qkvBias: [Float]           // [3C, C], [3C]  (q, k, v stacked)
    var attnProjWeight: WeightMatrix, attnProjBias: [Float] // [C, C], [C]
    var ln2Weight: [Float], ln2Bias: [Float]                // [C]
    var fcWeight: WeightMatrix, fcBias: [Float]             // [FF, C], [FF]
    var mlpProjWeight: WeightMatrix, mlpProjBias: [Float]   // [C, FF], [C]
}

struct GPT2Weights: Sendable {
    var tokenEmbedding: WeightMatrix // [V, C]  wte
    var positionEmbedding: [Float]   // [P, C]  wpe
    var blocks: [GPT2BlockWeights]
    var finalNormWeight: [Float], finalNormBias: [Float]  // [C]
    /// `[V, C]` when the checkpoint has its own `lm_head`; otherwise the token embedding is reused.
    var separateUnembedding: WeightMatrix?

    /// Bytes a decoded token reads: every matrix once, the unembedding table whole.
    var decodeBytesPerToken: Int {
        let matrices = blocks.reduce(0) { $0 + $1.qkvWeight.bytes + $1.attnProjWeight.bytes + $1.fcWeight.bytes + $1.mlpProjWeight.bytes }
        return matrices + (separateUnembedding ?? tokenEmbedding).bytes
    }
}

/// Transposes a row-major `[rows, cols]` matrix.
func transposed(_ m: [Float], rows: Int, cols: Int) -> [Float] {
    var out = [Float](repeating: 0, count: m.count)
    m.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for r in 0..<rows { for c in 0..<cols { dst[c * rows + r] = src[r * cols + c] } }
        }
    }
    return out
}

// MARK: - Model

public final class GPT2Model: LanguageModel {
    public let config: TransformerConfig
    let weights: GPT2Weights

    init(config: TransformerConfig, weights: GPT2Weights) {
        self.config = config
        self.weights = weights
    }

    public var weightFormat: WeightFormat { weights.tokenEmbedding.format }
    public var decodeBytesPerToken: Int { weights.decodeBytesPerToken }

    /// Reads Hugging Face GPT-2 tensor names (`wte.weight`, `h.{i}.attn.c_attn.weight`, …;
    /// a `transformer.` prefix is stripped by the store). The matrices are kept in `format`.
    public convenience init(config: TransformerConfig, store: WeightStore, format: WeightFormat = .f32) throws {
        let C = config.width, FF = config.feedForwardWidth, V = config.vocabularySize, P = config.contextLength
        /// Conv1D weights are stored `[in, out]`; the kernels want `[out, in]`.
        func conv1D(_ name: String, input: Int, output: Int) throws -> WeightMatrix {
            try store.matrix(name, values: transposed(try store.tensor(name, shape: [input, output]), rows: input, cols: output),
                             rows: output, columns: input, format: format)
        }
        var blocks: [GPT2BlockWeights] = []
        for l in 0..<config.layers {
            let p = "h.\(l)."
            blocks.append(GPT2BlockWeights(
                ln1Weight: try store.tensor(p + "ln_1.weight", shape: [C]),
                ln1Bias: try store.tensor(p + "ln_1.bias", shape: [C]),
                qkvWeight: try conv1D(p + "attn.c_attn.weight", input: C, output: 3 * C),
                qkvBias: try store.tensor(p + "attn.c_attn.bias", shape: [3 * C]),
                attnProjWeight: try conv1D(p + "attn.c_proj.weight", input: C, output: C),
                attnProjBias: try store.tensor(p + "attn.c_proj.bias", shape: [C]),
                ln2Weight: try store.tensor(p + "ln_2.weight", shape: [C]),
                ln2Bias: try store.tensor(p + "ln_2.bias", shape: [C]),
                fcWeight: try conv1D(p + "mlp.c_fc.weight", input: C, output: FF),
                fcBias: try store.tensor(p + "mlp.c_fc.bias", shape: [FF]),
                mlpProjWeight: try conv1D(p + "mlp.c_proj.weight", input: FF, output: C),
                mlpProjBias: try store.tensor(p + "mlp.c_proj.bias", shape: [C])))
        }
        let tokenEmbedding = try store.matrix("wte.weight", rows: V, columns: C, format: format)
        var unembedding: WeightMatrix? = nil
        if !config.tiedEmbeddings, store.contains("lm_head.weight") {
            unembedding = try store.matrix("lm_head.weight", rows: V, columns: C, format: format)
        }
        self.init(config: config, weights: GPT2Weights(
            tokenEmbedding: tokenEmbedding,
            positionEmbedding: try store.tensor("wpe.weight", shape: [P, C]),
            blocks: blocks,
            finalNormWeight: try store.tensor("ln_f.weight", shape: [C]),
            finalNormBias: try store.tensor("ln_f.bias", shape: [C]),
            separateUnembedding: unembedding))
    }

    /// The learned position table `[P, C]` (for pictures and lessons).
    public var positionTable: Tensor {
        Tensor(shape: [config.contextLength, config.width], scalars: weights.positionEmbedding)
    }

    public var learnedPositionTable: Tensor? { positionTable }

    /// The token embedding table `[V, C]`.
    public var tokenEmbeddingTable: Tensor {
        Tensor(shape: [config.vocabularySize, config.width], scalars: weights.tokenEmbedding.floats())
    }

    // MARK: - Forward driver

    public func forward(_ tokens: [Int], cache: inout KVCache, capture: CaptureSpec, allLogits: Bool) -> ForwardResult {
        let T = tokens.count, C = config.width, NH = config.heads, hs = config.headSize
        let FF = config.feedForwardWidth, V = config.vocabularySize
        let start = cache.count
        precondition(T > 0 && start + T <= cache.maximumCapacity,
                     "GPT2Model.forward: \(T) tokens at \(start) overflow the context \(cache.maximumCapacity)")
        cache.reserve(start + T)
        var recorder = Recorder(spec: capture, rows: T)

        // Activations of this call, each [T, …].
        let residual = ScratchBuffer(T * C), normed = ScratchBuffer(T * C)
        let qkv = ScratchBuffer(T * 3 * C), attnHeads = ScratchBuffer(T * C)
        let projected = ScratchBuffer(T * C), hidden = ScratchBuffer(T * FF)
        defer { [residual, normed, qkv, attnHeads, projected, hidden].forEach { $0.free() } }
        let x = residual.pointer

        // Token embedding + learned position embedding.
        for t in 0..<T { weights.tokenEmbedding.widenRows(tokens[t]..<tokens[t] + 1, into: x + t * C) }
        recorder.rowMajor(.embed, x, width: C)
        weights.positionEmbedding.withUnsafeBufferPointer { wpe in
            if capture.wants(.posEmbed) {
                recorder.rowMajor(.posEmbed, wpe.baseAddress! + start * C, width: C)
            }
            for t in 0..<T { addInPlace(x + t * C, wpe.baseAddress! + (start + t) * C, count: C) }
        }

        for l in 0..<config.layers {
            let w = weights.blocks[l]
            // Attention sub-block: x += proj(attention(ln1(x)))
            layerNormForward(out: normed.pointer, input: x, weight: w.ln1Weight, bias: w.ln1Bias, T: T, C: C, eps: config.normEpsilon)
            recorder.rowMajor(.ln1, layer: l, normed.pointer, width: C)
            linearForward(out: qkv.pointer, input: normed.pointer, weight: w.qkvWeight, bias: w.qkvBias, T: T, C: C, OC: 3 * C)
            recorder.perHead(.q, layer: l, qkv.pointer, stride: 3 * C, offset: 0, heads: NH, headSize: hs)
            recorder.perHead(.k, layer: l, qkv.pointer, stride: 3 * C, offset: C, heads: NH, headSize: hs)
            recorder.perHead(.v, layer: l, qkv.pointer, stride: 3 * C, offset: 2 * C, heads: NH, headSize: hs)
            storeKeysAndValues(qkv.pointer, cache: &cache, layer: l, start: start, T: T)
            attend(layer: l, q: qkv.pointer, qStride: 3 * C, cache: cache, start: start, T: T,
                   out: attnHeads.pointer, recorder: &recorder)
            linearForward(out: projected.pointer, input: attnHeads.pointer, weight: w.attnProjWeight, bias: w.attnProjBias, T: T, C: C, OC: C)
            recorder.rowMajor(.attnOut, layer: l, projected.pointer, width: C)
            addInPlace(x, projected.pointer, count: T * C)
            recorder.rowMajor(.residMid, layer: l, x, width: C)

            // MLP sub-block: x += proj(gelu(fc(ln2(x))))
            layerNormForward(out: normed.pointer, input: x, weight: w.ln2Weight, bias: w.ln2Bias, T: T, C: C, eps: config.normEpsilon)
            recorder.rowMajor(.ln2, layer: l, normed.pointer, width: C)
            linearForward(out: hidden.pointer, input: normed.pointer, weight: w.fcWeight, bias: w.fcBias, T: T, C: C, OC: FF)
            parallelChunks(rows: T, width: FF) { offset, count in geluTanhInPlace(hidden.pointer + offset, count: count) }
            recorder.rowMajor(.mlpHidden, layer: l, hidden.pointer, width: FF)
            linearForward(out: projected.pointer, input: hidden.pointer, weight: w.mlpProjWeight, bias: w.mlpProjBias, T: T, C: FF, OC: C)
            recorder.rowMajor(.mlpOut, layer: l, projected.pointer, width: C)
            addInPlace(x, projected.pointer, count: T * C)
            recorder.rowMajor(.residPost, layer: l, x, width: C)
        }
        cache.count = start + T

        // Final norm and unembedding, only for the rows whose logits are wanted.
        layerNormForward(out: normed.pointer, input: x, weight: weights.finalNormWeight, bias: weights.finalNormBias, T: T, C: C, eps: config.normEpsilon)
        recorder.rowMajor(.lnFinal, normed.pointer, width: C)
        return unembed(normed: normed.pointer, T: T, V: V, C: C, table: weights.separateUnembedding ?? weights.tokenEmbedding,
                       capture: capture, allLogits: allLogits, recorder: &recorder)
    }

    /// Final LayerNorm and unembedding of residual rows `[T, C]` → logits `[T, V]` (the logit lens),
    /// with the kernels the driver's last step uses.
    public func unembedResidual(_ rows: Tensor) -> Tensor {
        let C = config.width, V = config.vocabularySize
        precondition(rows.rank == 2 && rows.shape[1] == C, "GPT2Model.unembedResidual: rows \(rows.shape) are not [T, \(C)]")
        let T = rows.shape[0]
        guard T > 0 else { return Tensor(zeros: [0, V]) }
        var normed = [Float](repeating: 0, count: T * C), logits = [Float](repeating: 0, count: T * V)
        layerNormForward(out: &normed, input: rows.scalars, weight: weights.finalNormWeight, bias: weights.finalNormBias,
                         T: T, C: C, eps: config.normEpsilon)
        linearForward(out: &logits, input: normed, weight: weights.separateUnembedding ?? weights.tokenEmbedding, bias: nil,
                      T: T, C: C, OC: V)
        return Tensor(shape: [T, V], scalars: logits)
    }

    /// Copies the new rows' keys and values (`qkv[T, 3C]`, k at column C, v at 2C) into the cache.
    private func storeKeysAndValues(_ qkv: UnsafePointer<Float>, cache: inout KVCache, layer l: Int, start: Int, T: Int) {
        let C = config.width, NH = config.heads, hs = config.headSize, P = cache.capacity
        cache.keys[l].withUnsafeMutableBufferPointer { keys in
            cache.values[l].withUnsafeMutableBufferPointer { values in
                for t in 0..<T {
                    for h in 0..<NH {
                        let destination = (h * P + start + t) * hs
                        (keys.baseAddress! + destination).update(from: qkv + t * 3 * C + C + h * hs, count: hs)
                        (values.baseAddress! + destination).update(from: qkv + t * 3 * C + 2 * C + h * hs, count: hs)
                    }
                }
            }
        }
    }

    private func attend(layer l: Int, q: UnsafePointer<Float>, qStride: Int, cache: KVCache, start: Int, T: Int,
                        out: UnsafeMutablePointer<Float>, recorder: inout Recorder) {
        recordedAttention(layer: l, q: q, qStride: qStride, cache: cache, start: start, T: T,
                               heads: config.heads, kvHeads: config.kvHeads, headSize: config.headSize,
                               scale: config.attentionScoreScale, out: out, recorder: &recorder)
    }
}
