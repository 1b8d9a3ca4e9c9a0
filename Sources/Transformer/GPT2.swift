import Foundation
import Tensors

// GPT-2 (Radford et al., 2019), as Hugging Face's GPT2LMHeadModel computes it.
// Order of this file: weights → loading → the inference driver. What a GPT-2 computes is
// written once, in GPT2Pass.swift (forward and backward), and read by this driver and by training.
// Letters: T rows this call, C width, NH heads, hs head size, FF = 4C, V vocabulary, P context.

// MARK: - Weights

/// One block's parameters, stored in the nn.Linear layout `[out, in]` (GPT-2 checkpoints keep
/// Conv1D's `[in, out]`; they are transposed once at load).
struct GPT2BlockWeights: Sendable {
    var ln1Weight: ParameterVector, ln1Bias: ParameterVector  // [C]
    var qkvWeight: WeightMatrix, qkvBias: ParameterVector  // [3C, C], [3C]  (q, k, v stacked)
    var attnProjWeight: WeightMatrix, attnProjBias: ParameterVector  // [C, C], [C]
    var ln2Weight: ParameterVector, ln2Bias: ParameterVector  // [C]
    var fcWeight: WeightMatrix, fcBias: ParameterVector  // [FF, C], [FF]
    var mlpProjWeight: WeightMatrix, mlpProjBias: ParameterVector  // [C, FF], [C]

    /// The view the passes read (valid while these weights live).
    var view: GPT2BlockView {
        GPT2BlockView(
            ln1Weight: ln1Weight.pointer, ln1Bias: ln1Bias.pointer,
            qkvWeight: .matrix(qkvWeight), qkvBias: qkvBias.pointer,
            attnProjWeight: .matrix(attnProjWeight), attnProjBias: attnProjBias.pointer,
            ln2Weight: ln2Weight.pointer, ln2Bias: ln2Bias.pointer,
            fcWeight: .matrix(fcWeight), fcBias: fcBias.pointer,
            mlpProjWeight: .matrix(mlpProjWeight), mlpProjBias: mlpProjBias.pointer)
    }
}

struct GPT2Weights: Sendable {
    var tokenEmbedding: WeightMatrix  // [V, C]  wte
    var positionEmbedding: ParameterVector  // [P, C]  wpe
    var blocks: [GPT2BlockWeights]
    var finalNormWeight: ParameterVector, finalNormBias: ParameterVector  // [C]
    /// `[V, C]` when the checkpoint has its own `lm_head`; otherwise the token embedding is reused.
    var separateUnembedding: WeightMatrix?

    /// Bytes a decoded token reads: every matrix once, the unembedding table whole.
    var decodeBytesPerToken: Int {
        let matrices = blocks.reduce(0) { $0 + $1.qkvWeight.bytes + $1.attnProjWeight.bytes + $1.fcWeight.bytes + $1.mlpProjWeight.bytes }
        return matrices + (separateUnembedding ?? tokenEmbedding).bytes
    }

    /// The view the passes read (valid while these weights live).
    var view: GPT2ParameterView {
        GPT2ParameterView(
            tokenEmbedding: .matrix(tokenEmbedding), positionEmbedding: positionEmbedding.pointer,
            blocks: blocks.map(\.view),
            finalNormWeight: finalNormWeight.pointer, finalNormBias: finalNormBias.pointer)
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
    /// a `transformer.` prefix is stripped by the store), or GPT-Neo's, which differ in the
    /// attention: separate `h.{i}.attn.attention.q_proj/k_proj/v_proj` without biases (stacked
    /// here into GPT-2's `[3C, C]` with a zero bias, so one forward serves both) and `out_proj`.
    /// The matrices are kept in `format`.
    public convenience init(config: TransformerConfig, store: WeightStore, format: WeightFormat = .f32) throws {
        let C = config.width, FF = config.feedForwardWidth, V = config.vocabularySize, P = config.contextLength
        let neo = config.family == .gptNeo
        func vector(_ name: String, _ count: Int) throws -> ParameterVector {
            ParameterVector(try store.tensor(name, shape: [count]))
        }
        /// GPT-2's Conv1D weights are stored `[in, out]` (the kernels want `[out, in]`); GPT-Neo's
        /// nn.Linear weights are `[out, in]` already.
        func dense(_ name: String, input: Int, output: Int) throws -> WeightMatrix {
            if neo { return try store.matrix(name, rows: output, columns: input, format: format) }
            return try store.matrix(
                name, values: transposed(try store.tensor(name, shape: [input, output]), rows: input, cols: output),
                rows: output, columns: input, format: format)
        }
        var blocks: [GPT2BlockWeights] = []
        for l in 0..<config.layers {
            let p = "h.\(l)."
            let qkvWeight: WeightMatrix, qkvBias: ParameterVector, projection: String
            if neo {
                let a = p + "attn.attention."
                let stacked = try ["q_proj", "k_proj", "v_proj"].flatMap { try store.tensor(a + $0 + ".weight", shape: [C, C]) }
                qkvWeight = try store.matrix(a + "q_proj.weight", values: stacked, rows: 3 * C, columns: C, format: format)
                qkvBias = ParameterVector([Float](repeating: 0, count: 3 * C))
                projection = a + "out_proj"
            } else {
                qkvWeight = try dense(p + "attn.c_attn.weight", input: C, output: 3 * C)
                qkvBias = try vector(p + "attn.c_attn.bias", 3 * C)
                projection = p + "attn.c_proj"
            }
            blocks.append(
                GPT2BlockWeights(
                    ln1Weight: try vector(p + "ln_1.weight", C),
                    ln1Bias: try vector(p + "ln_1.bias", C),
                    qkvWeight: qkvWeight,
                    qkvBias: qkvBias,
                    attnProjWeight: try dense(projection + ".weight", input: C, output: C),
                    attnProjBias: try vector(projection + ".bias", C),
                    ln2Weight: try vector(p + "ln_2.weight", C),
                    ln2Bias: try vector(p + "ln_2.bias", C),
                    fcWeight: try dense(p + "mlp.c_fc.weight", input: C, output: FF),
                    fcBias: try vector(p + "mlp.c_fc.bias", FF),
                    mlpProjWeight: try dense(p + "mlp.c_proj.weight", input: FF, output: C),
                    mlpProjBias: try vector(p + "mlp.c_proj.bias", C)))
        }
        let tokenEmbedding = try store.matrix("wte.weight", rows: V, columns: C, format: format)
        var unembedding: WeightMatrix? = nil
        if !config.tiedEmbeddings, store.contains("lm_head.weight") {
            unembedding = try store.matrix("lm_head.weight", rows: V, columns: C, format: format)
        }
        self.init(
            config: config,
            weights: GPT2Weights(
                tokenEmbedding: tokenEmbedding,
                positionEmbedding: ParameterVector(try store.tensor("wpe.weight", shape: [P, C])),
                blocks: blocks,
                finalNormWeight: try vector("ln_f.weight", C),
                finalNormBias: try vector("ln_f.bias", C),
                separateUnembedding: unembedding))
    }

    /// The learned position table `[P, C]` (for pictures and lessons).
    public var positionTable: Tensor {
        Tensor(shape: [config.contextLength, config.width], scalars: weights.positionEmbedding.values)
    }

    public var learnedPositionTable: Tensor? { positionTable }

    public var logitReadout: LogitReadout? {
        LogitReadout(
            norm: .layerNorm(gain: weights.finalNormWeight.values, shift: weights.finalNormBias.values), epsilon: config.normEpsilon,
            unembedding: weights.separateUnembedding ?? weights.tokenEmbedding)
    }

    public func attentionOutputProjection(layer: Int) -> WeightMatrix? { weights.blocks[layer].attnProjWeight }

    /// The token embedding table `[V, C]`.
    public var tokenEmbeddingTable: Tensor {
        Tensor(shape: [config.vocabularySize, config.width], scalars: weights.tokenEmbedding.floats())
    }

    // MARK: - Forward driver

    public func forward(_ tokens: [Int], cache: inout KVCache, capture: CaptureSpec, allLogits: Bool) -> ForwardResult {
        let T = tokens.count, C = config.width, FF = config.feedForwardWidth, V = config.vocabularySize
        let start = cache.count
        precondition(
            T > 0 && start + T <= cache.maximumCapacity,
            "GPT2Model.forward: \(T) tokens at \(start) overflow the context \(cache.maximumCapacity)")
        cache.reserve(start + T)
        var recorder = Recorder(spec: capture, rows: T, start: start)

        // Activations of this call, each [T, …], shared by every layer: the residual stream is
        // updated in place and GELU overwrites the hidden layer (nothing is kept for a backward pass).
        let residual = ScratchBuffer(T * C), normed = ScratchBuffer(T * C)
        let qkv = ScratchBuffer(T * 3 * C), heads = ScratchBuffer(T * C)
        let projected = ScratchBuffer(T * C), hidden = ScratchBuffer(T * FF)
        defer { [residual, normed, qkv, heads, projected, hidden].forEach { $0.free() } }
        let x = residual.pointer
        let layer = GPT2LayerBuffers(
            ln1: normed.pointer, qkv: qkv.pointer, heads: heads.pointer, attnProj: projected.pointer,
            residualMid: x, ln2: normed.pointer, fcHidden: hidden.pointer, mlpHidden: hidden.pointer,
            mlpProj: projected.pointer, residualPost: x)

        GPT2Pass.forward(
            tokens: tokens, sequenceLength: T, firstPosition: start, weights.view, config: config,
            embedded: x, layers: { _ in layer }, finalNorm: normed.pointer, elementwise: .exact,
            attention: { l, qkv, heads, recorder in
                cache.store(keys: qkv + C, values: qkv + 2 * C, rowStride: 3 * C, layer: l, start: start, rows: T)
                self.attend(layer: l, q: qkv, qStride: 3 * C, cache: cache, start: start, T: T, out: heads, recorder: &recorder)
            },
            recorder: &recorder)
        cache.count = start + T
        return unembed(
            normed: normed.pointer, T: T, V: V, C: C, table: weights.separateUnembedding ?? weights.tokenEmbedding,
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
        layerNormForward(
            out: &normed, input: rows.scalars, weight: weights.finalNormWeight.pointer,
            bias: weights.finalNormBias.pointer, T: T, C: C, eps: config.normEpsilon)
        linearForward(
            out: &logits, input: normed, weight: weights.separateUnembedding ?? weights.tokenEmbedding, bias: nil,
            T: T, C: C, OC: V)
        return Tensor(shape: [T, V], scalars: logits)
    }

    private func attend(
        layer l: Int, q: UnsafePointer<Float>, qStride: Int, cache: KVCache, start: Int, T: Int,
        out: UnsafeMutablePointer<Float>, recorder: inout Recorder
    ) {
        recordedAttention(
            layer: l, q: q, qStride: qStride, cache: cache, start: start, T: T,
            heads: config.heads, kvHeads: config.kvHeads, headSize: config.headSize,
            scale: config.attentionScoreScale, window: config.attentionWindow(layer: l), out: out, recorder: &recorder)
    }
}
