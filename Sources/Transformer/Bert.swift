import Foundation
import Tensors

// BERT-family encoders (BERT, MiniLM…), as Hugging Face's BertModel / BertForMaskedLM compute them.
// Order of this file: weights → loading → the inference driver. What a BERT computes is written
// once, in BertPass.swift. Letters: T rows, C width, NH heads, hs head size, FF feed-forward
// width, V vocabulary, P positions, TT token types.

// MARK: - Weights

struct BertBlockWeights: Sendable {
    var qkvWeight: WeightMatrix, qkvBias: ParameterVector  // [3C, C], [3C]  (query, key, value stacked at load)
    var attnProjWeight: WeightMatrix, attnProjBias: ParameterVector  // [C, C], [C]
    var attnNormWeight: ParameterVector, attnNormBias: ParameterVector  // [C]
    var fcWeight: WeightMatrix, fcBias: ParameterVector  // [FF, C], [FF]
    var mlpProjWeight: WeightMatrix, mlpProjBias: ParameterVector  // [C, FF], [C]
    var mlpNormWeight: ParameterVector, mlpNormBias: ParameterVector  // [C]

    var view: BertBlockView {
        BertBlockView(
            qkvWeight: .matrix(qkvWeight), qkvBias: qkvBias.pointer,
            attnProjWeight: .matrix(attnProjWeight), attnProjBias: attnProjBias.pointer,
            attnNormWeight: attnNormWeight.pointer, attnNormBias: attnNormBias.pointer,
            fcWeight: .matrix(fcWeight), fcBias: fcBias.pointer,
            mlpProjWeight: .matrix(mlpProjWeight), mlpProjBias: mlpProjBias.pointer,
            mlpNormWeight: mlpNormWeight.pointer, mlpNormBias: mlpNormBias.pointer)
    }
}

/// The MLM head (`cls.predictions`): `logits = LayerNorm(gelu(dense(h))) · wordEmbeddingsᵀ + bias`.
struct BertMaskedLanguageHead: Sendable {
    var denseWeight: WeightMatrix, denseBias: ParameterVector  // [C, C], [C]
    var normWeight: ParameterVector, normBias: ParameterVector  // [C]
    var decoderBias: ParameterVector  // [V]
    /// `[V, C]` when the decoder is not tied to the word embeddings.
    var separateDecoder: WeightMatrix?
}

struct BertWeights: Sendable {
    var tokenEmbedding: WeightMatrix  // [V, C]  word_embeddings
    var positionEmbedding: ParameterVector  // [P, C]
    var typeEmbedding: ParameterVector  // [TT, C]
    var embedNormWeight: ParameterVector, embedNormBias: ParameterVector  // [C]
    var blocks: [BertBlockWeights]
    var maskedLanguageHead: BertMaskedLanguageHead?

    var view: BertParameterView {
        BertParameterView(
            tokenEmbedding: .matrix(tokenEmbedding), positionEmbedding: positionEmbedding.pointer,
            typeEmbedding: typeEmbedding.pointer, embedNormWeight: embedNormWeight.pointer,
            embedNormBias: embedNormBias.pointer, blocks: blocks.map(\.view))
    }
}

// MARK: - Model

/// A BERT-family encoder. It reads a whole text at once (attention both ways) and does not
/// generate: `forward` needs an empty cache. With an MLM head (`config.head == .maskedToken`) its
/// logits score the token behind each position (what `[MASK]` hides); without one (`.none`,
/// sentence encoders such as MiniLM) it returns no logits, only records.
public final class BertModel: LanguageModel {
    public let config: TransformerConfig
    let weights: BertWeights

    init(config: TransformerConfig, weights: BertWeights) {
        self.config = config
        self.weights = weights
    }

    public var weightFormat: WeightFormat { weights.tokenEmbedding.format }
    public var decodeBytesPerToken: Int {
        weights.blocks.reduce(0) { $0 + $1.qkvWeight.bytes + $1.attnProjWeight.bytes + $1.fcWeight.bytes + $1.mlpProjWeight.bytes }
            + weights.tokenEmbedding.bytes
    }

    /// Reads Hugging Face BERT tensor names (`embeddings.word_embeddings.weight`,
    /// `encoder.layer.{i}.attention.self.query.weight`, …, `cls.predictions.…` for the MLM head);
    /// the `bert.` prefix of BertForMaskedLM checkpoints is stripped by the store.
    public convenience init(config: TransformerConfig, store: WeightStore, format: WeightFormat = .f32) throws {
        let C = config.width, FF = config.feedForwardWidth, V = config.vocabularySize, P = config.contextLength
        func vector(_ name: String, _ count: Int) throws -> ParameterVector {
            ParameterVector(try store.tensor(name, shape: [count]))
        }
        func matrix(_ name: String, rows: Int, columns: Int) throws -> WeightMatrix {
            try store.matrix(name, rows: rows, columns: columns, format: format)
        }
        var blocks: [BertBlockWeights] = []
        for l in 0..<config.layers {
            let p = "encoder.layer.\(l)."
            let attention = p + "attention.self."
            // query, key and value stacked into one [3C, C] product, as GPT-2 stores them.
            let qkv = try ["query", "key", "value"].flatMap { try store.tensor(attention + $0 + ".weight", shape: [C, C]) }
            let qkvBias = try ["query", "key", "value"].flatMap { try store.tensor(attention + $0 + ".bias", shape: [C]) }
            blocks.append(
                BertBlockWeights(
                    qkvWeight: try store.matrix(attention + "query.weight", values: qkv, rows: 3 * C, columns: C, format: format),
                    qkvBias: ParameterVector(qkvBias),
                    attnProjWeight: try matrix(p + "attention.output.dense.weight", rows: C, columns: C),
                    attnProjBias: try vector(p + "attention.output.dense.bias", C),
                    attnNormWeight: try vector(p + "attention.output.LayerNorm.weight", C),
                    attnNormBias: try vector(p + "attention.output.LayerNorm.bias", C),
                    fcWeight: try matrix(p + "intermediate.dense.weight", rows: FF, columns: C),
                    fcBias: try vector(p + "intermediate.dense.bias", FF),
                    mlpProjWeight: try matrix(p + "output.dense.weight", rows: C, columns: FF),
                    mlpProjBias: try vector(p + "output.dense.bias", C),
                    mlpNormWeight: try vector(p + "output.LayerNorm.weight", C),
                    mlpNormBias: try vector(p + "output.LayerNorm.bias", C)))
        }
        var head: BertMaskedLanguageHead? = nil
        if config.head == .maskedToken {
            let h = "cls.predictions."
            var decoder: WeightMatrix? = nil
            if !config.tiedEmbeddings { decoder = try matrix(h + "decoder.weight", rows: V, columns: C) }
            head = BertMaskedLanguageHead(
                denseWeight: try matrix(h + "transform.dense.weight", rows: C, columns: C),
                denseBias: try vector(h + "transform.dense.bias", C),
                normWeight: try vector(h + "transform.LayerNorm.weight", C),
                normBias: try vector(h + "transform.LayerNorm.bias", C),
                decoderBias: try vector(store.contains(h + "bias") ? h + "bias" : h + "decoder.bias", V),
                separateDecoder: decoder)
        }
        self.init(
            config: config,
            weights: BertWeights(
                tokenEmbedding: try matrix("embeddings.word_embeddings.weight", rows: V, columns: C),
                positionEmbedding: ParameterVector(try store.tensor("embeddings.position_embeddings.weight", shape: [P, C])),
                typeEmbedding: ParameterVector(
                    try store.tensor("embeddings.token_type_embeddings.weight", shape: [config.tokenTypes, C])),
                embedNormWeight: try vector("embeddings.LayerNorm.weight", C),
                embedNormBias: try vector("embeddings.LayerNorm.bias", C),
                blocks: blocks, maskedLanguageHead: head))
    }

    public var tokenEmbeddingTable: Tensor {
        Tensor(shape: [config.vocabularySize, config.width], scalars: weights.tokenEmbedding.floats())
    }

    public var learnedPositionTable: Tensor? {
        Tensor(shape: [config.contextLength, config.width], scalars: weights.positionEmbedding.values)
    }

    // MARK: - Forward driver

    /// The `LanguageModel` entry: one text with every token type 0. `cache` must be empty (an
    /// encoder reads its whole input at once); it is left holding the keys and values.
    public func forward(_ tokens: [Int], cache: inout KVCache, capture: CaptureSpec, allLogits: Bool) -> ForwardResult {
        precondition(
            cache.count == 0, "BertModel.forward: an encoder reads its whole input at once; the cache holds \(cache.count) positions")
        return encode(tokens, tokenTypes: Array(repeating: 0, count: tokens.count), cache: &cache, capture: capture, allLogits: allLogits)
    }

    /// Encodes one input (a text, or a pair with token types 0 and 1): the records asked for, and
    /// the MLM head's logits for the last row (or every row when `allLogits`); `[rows, 0]` logits
    /// for an encoder without a head.
    public func encode(_ tokens: [Int], tokenTypes: [Int], capture: CaptureSpec, allLogits: Bool = true) -> ForwardResult {
        var cache = KVCache(for: config)
        return encode(tokens, tokenTypes: tokenTypes, cache: &cache, capture: capture, allLogits: allLogits)
    }

    private func encode(_ tokens: [Int], tokenTypes: [Int], cache: inout KVCache, capture: CaptureSpec, allLogits: Bool) -> ForwardResult {
        let T = tokens.count, C = config.width, FF = config.feedForwardWidth
        precondition(T > 0 && T <= config.contextLength, "BertModel.encode: \(T) tokens do not fit \(config.contextLength) positions")
        precondition(
            tokenTypes.count == T && tokenTypes.allSatisfy { $0 >= 0 && $0 < config.tokenTypes }, "BertModel.encode: bad token types")
        cache.reserve(T)
        var recorder = Recorder(spec: capture, rows: T)

        let embedded = ScratchBuffer(T * C), residual = ScratchBuffer(T * C)
        let qkv = ScratchBuffer(T * 3 * C), heads = ScratchBuffer(T * C)
        let projected = ScratchBuffer(T * C), hidden = ScratchBuffer(T * FF)
        defer { [embedded, residual, qkv, heads, projected, hidden].forEach { $0.free() } }
        let x = residual.pointer
        let layer = BertLayerBuffers(
            qkv: qkv.pointer, heads: heads.pointer, attnProj: projected.pointer, attnSum: projected.pointer,
            residualMid: x, fcHidden: hidden.pointer, mlpHidden: hidden.pointer, mlpProj: projected.pointer,
            mlpSum: projected.pointer, residualPost: x)

        BertPass.forward(
            tokens: tokens, tokenTypes: tokenTypes, sequenceLength: T, weights.view, config: config,
            embedded: embedded.pointer, embeddedNorm: x, layers: { _ in layer },
            attention: { l, qkv, heads, recorder in
                cache.store(keys: qkv + C, values: qkv + 2 * C, rowStride: 3 * C, layer: l, start: 0, rows: T)
                recordedAttention(
                    layer: l, q: qkv, qStride: 3 * C, cache: cache, start: 0, T: T, heads: self.config.heads,
                    kvHeads: self.config.kvHeads, headSize: self.config.headSize, scale: self.config.attentionScoreScale,
                    causal: false, out: heads, recorder: &recorder)
            },
            recorder: &recorder)
        cache.count = T

        guard let head = weights.maskedLanguageHead else {
            return ForwardResult(logits: Tensor(zeros: [allLogits ? T : 1, 0]), records: recorder.records)
        }
        // The MLM head's transform into `hidden` (its first T·C floats), then the decoder.
        transform(x, rows: T, head: head, into: hidden.pointer)
        return unembed(
            normed: hidden.pointer, T: T, V: config.vocabularySize, C: C, table: head.separateDecoder ?? weights.tokenEmbedding,
            bias: head.decoderBias.pointer, capture: capture, allLogits: allLogits, recorder: &recorder)
    }

    /// The MLM head's transform: `LayerNorm(gelu(dense(rows)))`, `[T, C]` → `[T, C]`.
    private func transform(_ rows: UnsafePointer<Float>, rows T: Int, head: BertMaskedLanguageHead, into out: UnsafeMutablePointer<Float>) {
        let C = config.width
        let dense = ScratchBuffer(T * C)
        defer { dense.free() }
        linearForward(out: dense.pointer, input: rows, weight: head.denseWeight, bias: head.denseBias.pointer, T: T, C: C, OC: C)
        geluErfForward(out: dense.pointer, input: dense.pointer, count: T * C)
        layerNormForward(
            out: out, input: dense.pointer, weight: head.normWeight.pointer, bias: head.normBias.pointer,
            T: T, C: C, eps: config.normEpsilon)
    }

    /// The MLM head applied to residual rows `[rows, C]` from anywhere (the logit lens); for an
    /// encoder without a head, `[rows, 0]`.
    public func unembedResidual(_ rows: Tensor) -> Tensor {
        let C = config.width, V = config.vocabularySize
        precondition(rows.rank == 2 && rows.shape[1] == C, "BertModel.unembedResidual: rows \(rows.shape) are not [T, \(C)]")
        let T = rows.shape[0]
        guard let head = weights.maskedLanguageHead else { return Tensor(zeros: [T, 0]) }
        guard T > 0 else { return Tensor(zeros: [0, V]) }
        var transformed = [Float](repeating: 0, count: T * C), logits = [Float](repeating: 0, count: T * V)
        rows.scalars.withUnsafeBufferPointer { input in
            transformed.withUnsafeMutableBufferPointer { transform(input.baseAddress!, rows: T, head: head, into: $0.baseAddress!) }
        }
        linearForward(
            out: &logits, input: transformed, weight: head.separateDecoder ?? weights.tokenEmbedding,
            bias: head.decoderBias.pointer, T: T, C: C, OC: V)
        return Tensor(shape: [T, V], scalars: logits)
    }
}
