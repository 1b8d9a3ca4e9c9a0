import Foundation
import Tensors

// Llama (Touvron et al., 2023), as Hugging Face's LlamaForCausalLM and llama2.c compute it.
// Order of this file: weights → loading → forward driver.
// Letters: T rows this call, C width, NH query heads, NKV key/value heads, hs head size,
// FF feed-forward width, V vocabulary, P context.

// MARK: - Weights

/// One block's parameters, all in the nn.Linear layout `[out, in]` (no biases anywhere).
struct LlamaBlockWeights: Sendable {
    var attentionNorm: [Float]  // [C]
    var qWeight: WeightMatrix  // [NH·hs, C]
    var kWeight: WeightMatrix  // [NKV·hs, C]
    var vWeight: WeightMatrix  // [NKV·hs, C]
    var oWeight: WeightMatrix  // [C, NH·hs]
    var mlpNorm: [Float]  // [C]
    var gateWeight: WeightMatrix  // [FF, C]  (llama2.c w1)
    var upWeight: WeightMatrix  // [FF, C]  (llama2.c w3)
    var downWeight: WeightMatrix  // [C, FF]  (llama2.c w2)

    var bytes: Int { [qWeight, kWeight, vWeight, oWeight, gateWeight, upWeight, downWeight].reduce(0) { $0 + $1.bytes } }
}

struct LlamaWeights: Sendable {
    var tokenEmbedding: WeightMatrix  // [V, C]
    var blocks: [LlamaBlockWeights]
    var finalNorm: [Float]  // [C]
    /// `[V, C]` when the classifier is separate; otherwise the token embedding is reused.
    var separateUnembedding: WeightMatrix?

    /// Bytes a decoded token reads: every matrix once, the unembedding table whole.
    var decodeBytesPerToken: Int { blocks.reduce(0) { $0 + $1.bytes } + (separateUnembedding ?? tokenEmbedding).bytes }
}

// MARK: - Model

public final class LlamaModel: LanguageModel {
    public let config: TransformerConfig
    let weights: LlamaWeights

    init(config: TransformerConfig, weights: LlamaWeights) {
        self.config = config
        self.weights = weights
    }

    public var weightFormat: WeightFormat { weights.tokenEmbedding.format }
    public var decodeBytesPerToken: Int { weights.decodeBytesPerToken }

    /// Reads Hugging Face Llama tensor names (`model.layers.{i}.self_attn.q_proj.weight`, …).
    /// Hugging Face checkpoints use the half-split rotary layout (`config.positional`).
    /// The matrices are kept in `format`.
    public convenience init(config: TransformerConfig, store: WeightStore, format: WeightFormat = .f32) throws {
        let C = config.width, FF = config.feedForwardWidth, V = config.vocabularySize
        let qWidth = config.heads * config.headSize, kvWidth = config.kvHeads * config.headSize
        var blocks: [LlamaBlockWeights] = []
        for l in 0..<config.layers {
            let p = "model.layers.\(l)."
            blocks.append(
                LlamaBlockWeights(
                    attentionNorm: try store.tensor(p + "input_layernorm.weight", shape: [C]),
                    qWeight: try store.matrix(p + "self_attn.q_proj.weight", rows: qWidth, columns: C, format: format),
                    kWeight: try store.matrix(p + "self_attn.k_proj.weight", rows: kvWidth, columns: C, format: format),
                    vWeight: try store.matrix(p + "self_attn.v_proj.weight", rows: kvWidth, columns: C, format: format),
                    oWeight: try store.matrix(p + "self_attn.o_proj.weight", rows: C, columns: qWidth, format: format),
                    mlpNorm: try store.tensor(p + "post_attention_layernorm.weight", shape: [C]),
                    gateWeight: try store.matrix(p + "mlp.gate_proj.weight", rows: FF, columns: C, format: format),
                    upWeight: try store.matrix(p + "mlp.up_proj.weight", rows: FF, columns: C, format: format),
                    downWeight: try store.matrix(p + "mlp.down_proj.weight", rows: C, columns: FF, format: format)))
        }
        let untied = !config.tiedEmbeddings && store.contains("lm_head.weight")
        self.init(
            config: config,
            weights: LlamaWeights(
                tokenEmbedding: try store.matrix("model.embed_tokens.weight", rows: V, columns: C, format: format),
                blocks: blocks,
                finalNorm: try store.tensor("model.norm.weight", shape: [C]),
                separateUnembedding: untied ? try store.matrix("lm_head.weight", rows: V, columns: C, format: format) : nil))
    }

    /// The token embedding table `[V, C]`.
    public var logitReadout: LogitReadout? {
        LogitReadout(
            norm: .rmsNorm(gain: weights.finalNorm), epsilon: config.normEpsilon,
            unembedding: weights.separateUnembedding ?? weights.tokenEmbedding)
    }

    public func attentionOutputProjection(layer: Int) -> WeightMatrix? { weights.blocks[layer].oWeight }

    public var tokenEmbeddingTable: Tensor {
        Tensor(shape: [config.vocabularySize, config.width], scalars: weights.tokenEmbedding.floats())
    }

    // MARK: - Forward driver

    public func forward(_ tokens: [Int], cache: inout KVCache, capture: CaptureSpec, allLogits: Bool) -> ForwardResult {
        let T = tokens.count, C = config.width, NH = config.heads, NKV = config.kvHeads, hs = config.headSize
        let FF = config.feedForwardWidth, V = config.vocabularySize
        let qWidth = NH * hs, kvWidth = NKV * hs
        guard case .rotary(let theta, let layout) = config.positional else {
            preconditionFailure("LlamaModel needs a rotary positional scheme")
        }
        let frequencies = config.rotaryScaling.inverseFrequencies(headSize: hs, theta: theta)  // [hs / 2]
        let start = cache.count
        precondition(
            T > 0 && start + T <= cache.maximumCapacity,
            "LlamaModel.forward: \(T) tokens at \(start) overflow the context \(cache.maximumCapacity)")
        cache.reserve(start + T)
        var recorder = Recorder(spec: capture, rows: T, start: start)

        // Activations of this call, each [T, …].
        let residual = ScratchBuffer(T * C), normed = ScratchBuffer(T * C)
        let q = ScratchBuffer(T * qWidth), k = ScratchBuffer(T * kvWidth), v = ScratchBuffer(T * kvWidth)
        let attnHeads = ScratchBuffer(T * qWidth), projected = ScratchBuffer(T * C)
        let gate = ScratchBuffer(T * FF), up = ScratchBuffer(T * FF)
        defer { [residual, normed, q, k, v, attnHeads, projected, gate, up].forEach { $0.free() } }
        let x = residual.pointer

        // Token embedding only: positions enter through the rotation of queries and keys.
        for t in 0..<T { weights.tokenEmbedding.widenRows(tokens[t]..<tokens[t] + 1, into: x + t * C) }
        recorder.rowMajor(.embed, x, width: C)

        for l in 0..<config.layers {
            let w = weights.blocks[l]
            // Attention sub-block: x += o(attention(rope(q), rope(k), v)) on rmsnorm(x)
            rmsNormForward(out: normed.pointer, input: x, weight: w.attentionNorm, T: T, C: C, eps: config.normEpsilon)
            recorder.rowMajor(.ln1, layer: l, normed.pointer, width: C)
            linearForward(out: q.pointer, input: normed.pointer, weight: w.qWeight, bias: nil, T: T, C: C, OC: qWidth)
            linearForward(out: k.pointer, input: normed.pointer, weight: w.kWeight, bias: nil, T: T, C: C, OC: kvWidth)
            linearForward(out: v.pointer, input: normed.pointer, weight: w.vWeight, bias: nil, T: T, C: C, OC: kvWidth)
            for t in 0..<T {
                applyRotary(
                    q.pointer + t * qWidth, heads: NH, headSize: hs, position: start + t, inverseFrequencies: frequencies, layout: layout)
                applyRotary(
                    k.pointer + t * kvWidth, heads: NKV, headSize: hs, position: start + t, inverseFrequencies: frequencies, layout: layout)
            }
            recorder.perHead(.q, layer: l, q.pointer, stride: qWidth, offset: 0, heads: NH, headSize: hs)
            recorder.perHead(.k, layer: l, k.pointer, stride: kvWidth, offset: 0, heads: NKV, headSize: hs, group: NH / NKV)
            recorder.perHead(.v, layer: l, v.pointer, stride: kvWidth, offset: 0, heads: NKV, headSize: hs, group: NH / NKV)
            cache.store(keys: k.pointer, values: v.pointer, rowStride: config.kvHeads * config.headSize, layer: l, start: start, rows: T)
            recordedAttention(
                layer: l, q: q.pointer, qStride: qWidth, cache: cache, start: start, T: T,
                heads: NH, kvHeads: NKV, headSize: hs, scale: config.attentionScoreScale,
                window: config.attentionWindow(layer: l), out: attnHeads.pointer, recorder: &recorder)
            recorder.replaceHeads(layer: l, attnHeads.pointer, stride: qWidth, headSize: hs)
            recorder.perHead(.z, layer: l, attnHeads.pointer, stride: qWidth, offset: 0, heads: NH, headSize: hs)
            linearForward(out: projected.pointer, input: attnHeads.pointer, weight: w.oWeight, bias: nil, T: T, C: qWidth, OC: C)
            recorder.rowMajor(.attnOut, layer: l, projected.pointer, width: C)
            addInPlace(x, projected.pointer, count: T * C)
            recorder.rowMajor(.residMid, layer: l, x, width: C)

            // SwiGLU sub-block: x += down(silu(gate(h)) ⊙ up(h)), h = rmsnorm(x)
            rmsNormForward(out: normed.pointer, input: x, weight: w.mlpNorm, T: T, C: C, eps: config.normEpsilon)
            recorder.rowMajor(.ln2, layer: l, normed.pointer, width: C)
            linearForward(out: gate.pointer, input: normed.pointer, weight: w.gateWeight, bias: nil, T: T, C: C, OC: FF)
            linearForward(out: up.pointer, input: normed.pointer, weight: w.upWeight, bias: nil, T: T, C: C, OC: FF)
            parallelChunks(rows: T, width: FF) { offset, count in
                swigluInPlace(gate: gate.pointer + offset, up: up.pointer + offset, count: count)
            }
            recorder.rowMajor(.mlpHidden, layer: l, gate.pointer, width: FF)
            linearForward(out: projected.pointer, input: gate.pointer, weight: w.downWeight, bias: nil, T: T, C: FF, OC: C)
            recorder.replaceMLP(layer: l, projected.pointer, width: C)
            recorder.rowMajor(.mlpOut, layer: l, projected.pointer, width: C)
            addInPlace(x, projected.pointer, count: T * C)
            recorder.replaceResidual(layer: l, x, width: C)
            recorder.rowMajor(.residPost, layer: l, x, width: C)
        }
        cache.count = start + T

        rmsNormForward(out: normed.pointer, input: x, weight: weights.finalNorm, T: T, C: C, eps: config.normEpsilon)
        recorder.rowMajor(.lnFinal, normed.pointer, width: C)
        return unembed(
            normed: normed.pointer, T: T, V: V, C: C, table: weights.separateUnembedding ?? weights.tokenEmbedding,
            capture: capture, allLogits: allLogits, recorder: &recorder)
    }

    /// Final RMSNorm and unembedding of residual rows `[T, C]` → logits `[T, V]` (the logit lens),
    /// with the kernels the driver's last step uses.
    public func unembedResidual(_ rows: Tensor) -> Tensor {
        let C = config.width, V = config.vocabularySize
        precondition(rows.rank == 2 && rows.shape[1] == C, "LlamaModel.unembedResidual: rows \(rows.shape) are not [T, \(C)]")
        let T = rows.shape[0]
        guard T > 0 else { return Tensor(zeros: [0, V]) }
        var normed = [Float](repeating: 0, count: T * C), logits = [Float](repeating: 0, count: T * V)
        rmsNormForward(out: &normed, input: rows.scalars, weight: weights.finalNorm, T: T, C: C, eps: config.normEpsilon)
        linearForward(
            out: &logits, input: normed, weight: weights.separateUnembedding ?? weights.tokenEmbedding, bias: nil,
            T: T, C: C, OC: V)
        return Tensor(shape: [T, V], scalars: logits)
    }
}
