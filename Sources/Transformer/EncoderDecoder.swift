import Foundation
import Tensors

// Encoder–decoders (T5, FLAN-T5, BART), as Hugging Face's T5ForConditionalGeneration and
// BartForConditionalGeneration compute them. Order of this file: weights → loading (T5's names,
// then BART's) → the inference driver. What the model computes is written once, in
// EncoderDecoderPass.swift. Letters: S source positions, T target rows, C width, NH heads, hs
// head size, A = NH·hs, FF feed-forward width, V vocabulary, P positions.

// MARK: - Weights

struct NormWeights: Sendable {
    var weight: ParameterVector, bias: ParameterVector?  // [C]
    var view: NormView { NormView(weight: weight.pointer, bias: bias?.pointer) }
}

struct AttentionWeights: Sendable {
    var q: WeightMatrix, k: WeightMatrix, v: WeightMatrix  // [A, C]
    var o: WeightMatrix  // [C, A]
    var qBias: ParameterVector?, kBias: ParameterVector?, vBias: ParameterVector?  // [A]
    var oBias: ParameterVector?  // [C]

    var view: AttentionView {
        AttentionView(
            q: .matrix(q), k: .matrix(k), v: .matrix(v), o: .matrix(o), qBias: qBias?.pointer, kBias: kBias?.pointer,
            vBias: vBias?.pointer, oBias: oBias?.pointer)
    }
    var bytes: Int { q.bytes + k.bytes + v.bytes + o.bytes }
}

struct FeedForwardWeights: Sendable {
    var up: WeightMatrix, upBias: ParameterVector? = nil  // [FF, C], [FF]
    var gate: WeightMatrix? = nil  // [FF, C]
    var down: WeightMatrix, downBias: ParameterVector? = nil  // [C, FF], [C]

    var view: FeedForwardView {
        FeedForwardView(
            up: .matrix(up), upBias: upBias?.pointer, gate: gate.map { .matrix($0) }, down: .matrix(down), downBias: downBias?.pointer)
    }
    var bytes: Int { up.bytes + down.bytes + (gate?.bytes ?? 0) }
}

struct EncoderDecoderBlockWeights: Sendable {
    var selfAttention: AttentionWeights, selfNorm: NormWeights
    var cross: AttentionWeights?, crossNorm: NormWeights?
    var feedForward: FeedForwardWeights, feedForwardNorm: NormWeights

    var view: EncoderDecoderBlockView {
        EncoderDecoderBlockView(
            selfAttention: selfAttention.view, selfNorm: selfNorm.view, cross: cross?.view, crossNorm: crossNorm?.view,
            feedForward: feedForward.view, feedForwardNorm: feedForwardNorm.view)
    }
}

struct StackWeights: Sendable {
    var positions: ParameterVector?  // [P + offset, C]  (BART)
    var embedNorm: NormWeights?  // (BART)
    var relativeBias: ParameterVector?  // [buckets, NH]  (T5: block 0's, shared by every block)
    var blocks: [EncoderDecoderBlockWeights]
    var finalNorm: NormWeights?  // (T5)

    var view: StackView {
        StackView(positions: positions?.pointer, embedNorm: embedNorm?.view, blocks: blocks.map(\.view), finalNorm: finalNorm?.view)
    }
}

struct EncoderDecoderWeights: Sendable {
    var tokenEmbedding: WeightMatrix  // [V, C]  shared by encoder, decoder and (tied) head
    var encoder: StackWeights, decoder: StackWeights
    var head: WeightMatrix?  // [V, C]  an untied lm_head
    var logitsBias: ParameterVector?  // [V]  BART's final_logits_bias
    var classifier: ClassificationHeadWeights?  // BartForSequenceClassification's head
}

/// BART's classification head: `out_proj(tanh(dense(h)))` on one decoder state.
struct ClassificationHeadWeights: Sendable {
    var dense: WeightMatrix  // [C, C]
    var denseBias: ParameterVector  // [C]
    var output: WeightMatrix  // [classes, C]
    var outputBias: ParameterVector  // [classes]
}

// MARK: - Model

/// An encoder–decoder. `encode(source:capture:)` runs the encoder once and leaves every
/// decoder layer's cross-attention keys and values in a cache; `forward` then runs decoder rows
/// over that cache, as a decoder-only model runs over its own (so generation, the stepper and
/// traces drive both alike).
public final class EncoderDecoderModel: LanguageModel {
    public let config: TransformerConfig
    let weights: EncoderDecoderWeights

    init(config: TransformerConfig, weights: EncoderDecoderWeights) {
        self.config = config
        self.weights = weights
    }

    public var weightFormat: WeightFormat { weights.tokenEmbedding.format }
    /// A decoded token reads the decoder's blocks and the head (the encoder ran once, before).
    public var decodeBytesPerToken: Int {
        weights.decoder.blocks.reduce(0) { $0 + $1.selfAttention.bytes + ($1.cross?.bytes ?? 0) + $1.feedForward.bytes }
            + (weights.head ?? weights.tokenEmbedding).bytes
    }

    public var tokenEmbeddingTable: Tensor {
        Tensor(shape: [config.vocabularySize, config.width], scalars: weights.tokenEmbedding.floats())
    }

    /// The decoder's learned positions from position 0 (BART; the offset rows left out).
    public var learnedPositionTable: Tensor? {
        guard let table = weights.decoder.positions else { return nil }
        let C = config.width, start = config.positionOffset * C
        return Tensor(shape: [config.contextLength, C], scalars: Array(table.values[start..<(start + config.contextLength * C)]))
    }

    // MARK: Loading

    /// Hugging Face T5 names: `shared.weight`, `encoder.block.{i}.layer.0.SelfAttention.{q,k,v,o}`,
    /// `….layer.0.layer_norm`, `….layer.1.DenseReluDense.{wi | wi_0, wi_1, wo}`, `….layer.1.layer_norm`
    /// (the decoder: `layer.1.EncDecAttention`, feed-forward in `layer.2`), block 0's
    /// `relative_attention_bias`, `{encoder,decoder}.final_layer_norm`, `lm_head` when untied.
    public static func loadT5(config: TransformerConfig, store: WeightStore, format: WeightFormat = .f32) throws -> EncoderDecoderModel {
        let C = config.width, A = config.heads * config.headSize, FF = config.feedForwardWidth, V = config.vocabularySize
        guard case .relativeBuckets(let buckets, _) = config.positional else { preconditionFailure("T5 without relative buckets") }
        func vector(_ name: String, _ count: Int) throws -> ParameterVector { ParameterVector(try store.tensor(name, shape: [count])) }
        func matrix(_ name: String, _ rows: Int, _ columns: Int) throws -> WeightMatrix {
            try store.matrix(name, rows: rows, columns: columns, format: format)
        }
        func norm(_ name: String) throws -> NormWeights { NormWeights(weight: try vector(name + ".weight", C), bias: nil) }
        func attention(_ p: String) throws -> AttentionWeights {
            AttentionWeights(
                q: try matrix(p + ".q.weight", A, C), k: try matrix(p + ".k.weight", A, C), v: try matrix(p + ".v.weight", A, C),
                o: try matrix(p + ".o.weight", C, A))
        }
        func feedForward(_ p: String) throws -> FeedForwardWeights {
            if config.feedForward == .gatedGELU {
                return FeedForwardWeights(
                    up: try matrix(p + ".wi_1.weight", FF, C), gate: try matrix(p + ".wi_0.weight", FF, C),
                    down: try matrix(p + ".wo.weight", C, FF))
            }
            return FeedForwardWeights(up: try matrix(p + ".wi.weight", FF, C), down: try matrix(p + ".wo.weight", C, FF))
        }
        func stack(_ name: String, layers: Int, decoder: Bool) throws -> StackWeights {
            let blocks = try (0..<layers).map { l -> EncoderDecoderBlockWeights in
                let p = "\(name).block.\(l).layer."
                let ffLayer = decoder ? 2 : 1
                return EncoderDecoderBlockWeights(
                    selfAttention: try attention(p + "0.SelfAttention"), selfNorm: try norm(p + "0.layer_norm"),
                    cross: decoder ? try attention(p + "1.EncDecAttention") : nil,
                    crossNorm: decoder ? try norm(p + "1.layer_norm") : nil,
                    feedForward: try feedForward(p + "\(ffLayer).DenseReluDense"), feedForwardNorm: try norm(p + "\(ffLayer).layer_norm"))
            }
            let bias = try store.tensor(
                "\(name).block.0.layer.0.SelfAttention.relative_attention_bias.weight", shape: [buckets, config.heads])
            return StackWeights(relativeBias: ParameterVector(bias), blocks: blocks, finalNorm: try norm("\(name).final_layer_norm"))
        }
        return EncoderDecoderModel(
            config: config,
            weights: EncoderDecoderWeights(
                tokenEmbedding: try matrix(sharedEmbeddingName(store), V, C),
                encoder: try stack("encoder", layers: config.encoderLayers, decoder: false),
                decoder: try stack("decoder", layers: config.layers, decoder: true),
                head: config.tiedEmbeddings ? nil : try matrix("lm_head.weight", V, C)))
    }

    /// The shared token embedding's name: `shared.weight`, or one of its tied copies where a
    /// conversion kept that one instead (`encoder.embed_tokens.weight`).
    static func sharedEmbeddingName(_ store: WeightStore) -> String {
        ["shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight"].first(where: store.contains) ?? "shared.weight"
    }

    /// Hugging Face BART names (the `model.` prefix stripped by the store): `shared.weight`,
    /// `{encoder,decoder}.embed_positions.weight` `[P + 2, C]`, `….layernorm_embedding`,
    /// `….layers.{i}.self_attn.{q,k,v,out}_proj`, `self_attn_layer_norm`, `fc1`, `fc2`,
    /// `final_layer_norm`, the decoder's `encoder_attn` and `encoder_attn_layer_norm`, and
    /// `final_logits_bias` `[1, V]`.
    public static func loadBART(config: TransformerConfig, store: WeightStore, format: WeightFormat = .f32) throws -> EncoderDecoderModel {
        let C = config.width, FF = config.feedForwardWidth, V = config.vocabularySize
        let P = config.contextLength + config.positionOffset
        func vector(_ name: String, _ count: Int) throws -> ParameterVector { ParameterVector(try store.tensor(name, shape: [count])) }
        func matrix(_ name: String, _ rows: Int, _ columns: Int) throws -> WeightMatrix {
            try store.matrix(name, rows: rows, columns: columns, format: format)
        }
        func norm(_ name: String) throws -> NormWeights {
            NormWeights(weight: try vector(name + ".weight", C), bias: try vector(name + ".bias", C))
        }
        func attention(_ p: String) throws -> AttentionWeights {
            AttentionWeights(
                q: try matrix(p + ".q_proj.weight", C, C), k: try matrix(p + ".k_proj.weight", C, C),
                v: try matrix(p + ".v_proj.weight", C, C), o: try matrix(p + ".out_proj.weight", C, C),
                qBias: try vector(p + ".q_proj.bias", C), kBias: try vector(p + ".k_proj.bias", C),
                vBias: try vector(p + ".v_proj.bias", C), oBias: try vector(p + ".out_proj.bias", C))
        }
        func stack(_ name: String, layers: Int, decoder: Bool) throws -> StackWeights {
            let blocks = try (0..<layers).map { l -> EncoderDecoderBlockWeights in
                let p = "\(name).layers.\(l)."
                return EncoderDecoderBlockWeights(
                    selfAttention: try attention(p + "self_attn"), selfNorm: try norm(p + "self_attn_layer_norm"),
                    cross: decoder ? try attention(p + "encoder_attn") : nil,
                    crossNorm: decoder ? try norm(p + "encoder_attn_layer_norm") : nil,
                    feedForward: FeedForwardWeights(
                        up: try matrix(p + "fc1.weight", FF, C), upBias: try vector(p + "fc1.bias", FF),
                        down: try matrix(p + "fc2.weight", C, FF), downBias: try vector(p + "fc2.bias", C)),
                    feedForwardNorm: try norm(p + "final_layer_norm"))
            }
            return StackWeights(
                positions: ParameterVector(try store.tensor("\(name).embed_positions.weight", shape: [P, C])),
                embedNorm: try norm("\(name).layernorm_embedding"), blocks: blocks)
        }
        return EncoderDecoderModel(
            config: config,
            weights: EncoderDecoderWeights(
                tokenEmbedding: try matrix(sharedEmbeddingName(store), V, C),
                encoder: try stack("encoder", layers: config.encoderLayers, decoder: false),
                decoder: try stack("decoder", layers: config.layers, decoder: true),
                head: config.tiedEmbeddings ? nil : try matrix("lm_head.weight", V, C),
                logitsBias: store.contains("final_logits_bias")
                    ? ParameterVector(try store.tensor("final_logits_bias", shape: [1, V])) : nil,
                classifier: try config.classLabels.map { labels in
                    ClassificationHeadWeights(
                        dense: try matrix("classification_head.dense.weight", C, C),
                        denseBias: try vector("classification_head.dense.bias", C),
                        output: try matrix("classification_head.out_proj.weight", labels.count, C),
                        outputBias: try vector("classification_head.out_proj.bias", labels.count))
                }))
    }

    // MARK: - Forward driver

    /// Scratch for `N` rows of one stack.
    private struct Scratch {
        let x: ScratchBuffer, normed: ScratchBuffer, q: ScratchBuffer, k: ScratchBuffer, v: ScratchBuffer
        let heads: ScratchBuffer, out: ScratchBuffer, hidden: ScratchBuffer, gate: ScratchBuffer
        let gated: Bool

        init(rows N: Int, config: TransformerConfig) {
            let C = config.width, A = config.heads * config.headSize, FF = config.feedForwardWidth
            x = ScratchBuffer(N * C); normed = ScratchBuffer(N * C)
            q = ScratchBuffer(N * A); k = ScratchBuffer(N * A); v = ScratchBuffer(N * A); heads = ScratchBuffer(N * A)
            out = ScratchBuffer(N * C); hidden = ScratchBuffer(N * FF)
            gated = config.feedForward == .gatedGELU
            gate = ScratchBuffer(gated ? N * FF : 1)
        }

        /// Every layer's buffers: the stream `x` updated in place, the rest shared.
        var layer: EncoderDecoderLayerBuffers {
            let attention = AttentionBuffers(q: q.pointer, k: k.pointer, v: v.pointer, heads: heads.pointer)
            let sublayer = SublayerBuffers(normed: normed.pointer, out: out.pointer, sum: x.pointer, result: x.pointer)
            return EncoderDecoderLayerBuffers(
                selfAttention: attention, selfSublayer: sublayer, crossAttention: attention, crossSublayer: sublayer,
                // In place: over the gate when gated (hidden is still to be multiplied in), else over hidden.
                feedForward: FeedForwardBuffers(
                    hidden: hidden.pointer, gate: gate.pointer, activated: gated ? gate.pointer : hidden.pointer),
                feedForwardSublayer: sublayer)
        }

        func free() { [x, normed, q, k, v, heads, out, hidden, gate].forEach { $0.free() } }
    }

    /// The relative-position bias `[NH, T, K]` of a stack (T5), or nil.
    private func positionBias(_ stack: StackWeights, bidirectional: Bool, start: Int, T: Int, K: Int) -> [Float]? {
        guard let table = stack.relativeBias, case .relativeBuckets(let buckets, let maxDistance) = config.positional else { return nil }
        return relativePositionBias(
            table: table.pointer, heads: config.heads, buckets: buckets, maxDistance: maxDistance, bidirectional: bidirectional,
            start: start, T: T, K: K)
    }

    public func encode(source: [Int], capture: CaptureSpec) -> EncodedSource? {
        let S = source.count, C = config.width, NH = config.heads, hs = config.headSize, A = NH * hs
        precondition(
            S > 0 && S <= config.contextLength, "EncoderDecoderModel.encode: \(S) tokens do not fit \(config.contextLength) positions")
        // The encoder keeps every row it records, whatever the decoder's rows choose.
        let encoderSpec = CaptureSpec(kinds: capture.kinds, layers: capture.layers, heads: capture.heads)
        var recorder = Recorder(spec: encoderSpec, rows: S, scope: RecordKind.encoderScope)
        let scratch = Scratch(rows: S, config: config)
        defer { scratch.free() }
        let x = scratch.x.pointer
        var selfCache = KVCache(layers: config.encoderLayers, kvHeads: NH, capacity: S, headSize: hs)
        selfCache.reserve(S)
        let bias = positionBias(weights.encoder, bidirectional: true, start: 0, T: S, K: S)

        EncoderDecoderPass.embed(
            tokens: source, start: 0, table: .matrix(weights.tokenEmbedding), stack: weights.encoder.view, config: config, x: x,
            recorder: &recorder)
        bias.withOptionalPointer { bias in
            let layer = scratch.layer
            EncoderDecoderPass.blocks(
                weights.encoder.view, input: x, output: x, rows: S, config: config, layers: { _ in layer },
                selfAttention: { l, b, recorder in
                    selfCache.store(keys: b.k, values: b.v, rowStride: A, layer: l, start: 0, rows: S)
                    recordedAttention(
                        layer: l, q: b.q, qStride: A, cache: selfCache, start: 0, T: S, heads: NH, kvHeads: NH, headSize: hs,
                        scale: self.config.attentionScoreScale, causal: false, bias: bias, out: b.heads, recorder: &recorder)
                },
                cross: nil, recorder: &recorder)
        }

        // Every decoder layer's cross-attention keys and values of the encoder's output, once.
        var cache = KVCache(for: config)
        cache.sourceIds = source
        var decoderRecorder = Recorder(spec: encoderSpec, rows: S)
        for (l, block) in weights.decoder.blocks.enumerated() {
            guard let cross = block.cross else { continue }
            let keys = scratch.k.pointer, values = scratch.v.pointer
            linearForward(out: keys, input: x, weight: cross.k, bias: cross.kBias?.pointer, T: S, C: C, OC: A)
            linearForward(out: values, input: x, weight: cross.v, bias: cross.vBias?.pointer, T: S, C: C, OC: A)
            decoderRecorder.perHead(.crossK, layer: l, keys, stride: A, offset: 0, heads: NH, headSize: hs)
            decoderRecorder.perHead(.crossV, layer: l, values, stride: A, offset: 0, heads: NH, headSize: hs)
            var layerKeys = [Float](repeating: 0, count: NH * S * hs), layerValues = layerKeys
            for s in 0..<S {
                for h in 0..<NH {
                    for i in 0..<hs {
                        layerKeys[(h * S + s) * hs + i] = keys[s * A + h * hs + i]
                        layerValues[(h * S + s) * hs + i] = values[s * A + h * hs + i]
                    }
                }
            }
            cache.crossKeys.append(layerKeys)
            cache.crossValues.append(layerValues)
        }
        return EncodedSource(cache: cache, records: recorder.records.merging(decoderRecorder.records) { first, _ in first })
    }

    /// Decoder rows at positions `cache.count ..< cache.count + tokens.count` over the source the
    /// cache was made for (`encode(source:capture:)`).
    public func forward(_ tokens: [Int], cache: inout KVCache, capture: CaptureSpec, allLogits: Bool) -> ForwardResult {
        let T = tokens.count, start = cache.count, K = start + T, S = cache.sourceLength
        let C = config.width, NH = config.heads, hs = config.headSize, A = NH * hs
        precondition(S > 0 && cache.crossKeys.count == config.layers, "EncoderDecoderModel.forward: encode the source first")
        precondition(T > 0 && K <= config.contextLength, "EncoderDecoderModel.forward: \(K) positions do not fit \(config.contextLength)")
        cache.reserve(K)
        var recorder = Recorder(spec: capture, rows: T, start: start)
        let scratch = Scratch(rows: T, config: config)
        defer { scratch.free() }
        let x = scratch.x.pointer
        let bias = positionBias(weights.decoder, bidirectional: false, start: start, T: T, K: K)

        EncoderDecoderPass.embed(
            tokens: tokens, start: start, table: .matrix(weights.tokenEmbedding), stack: weights.decoder.view, config: config, x: x,
            recorder: &recorder)
        let crossKeys = cache.crossKeys, crossValues = cache.crossValues
        bias.withOptionalPointer { bias in
            let layer = scratch.layer
            EncoderDecoderPass.blocks(
                weights.decoder.view, input: x, output: x, rows: T, config: config, layers: { _ in layer },
                selfAttention: { l, b, recorder in
                    cache.store(keys: b.k, values: b.v, rowStride: A, layer: l, start: start, rows: T)
                    recordedAttention(
                        layer: l, q: b.q, qStride: A, cache: cache, start: start, T: T, heads: NH, kvHeads: NH, headSize: hs,
                        scale: self.config.attentionScoreScale, causal: true, bias: bias, out: b.heads, recorder: &recorder)
                },
                cross: { l, b, recorder in
                    recordedAttention(
                        layer: l, q: b.q, qStride: A, keys: crossKeys[l], values: crossValues[l], capacity: S, start: 0, T: T,
                        heads: NH, kvHeads: NH, headSize: hs, scale: self.config.attentionScoreScale, causal: false, keyCount: S,
                        records: (.crossScores, .crossPattern), out: b.heads, recorder: &recorder)
                },
                recorder: &recorder)
        }
        cache.count = K
        scaleForHead(x, rows: T)
        return unembed(
            normed: x, T: T, V: config.vocabularySize, C: C, table: weights.head ?? weights.tokenEmbedding,
            bias: weights.logitsBias?.pointer, capture: capture, allLogits: allLogits, recorder: &recorder)
    }

    /// A sequence-classification model's scores for one input (`ids`, special tokens included;
    /// BartForSequenceClassification): the encoder reads `ids`; the decoder reads them shifted
    /// right behind the decoder start token; the head scores the decoder's state at the last
    /// end-of-text token. Returns one logit per class (`config.classLabels`) and the records
    /// `capture` asks for (the encoder's named `encoder.…`). Nil for a model without that head.
    public func classScores(_ ids: [Int], capture: CaptureSpec = .nothing) -> (logits: [Float], records: [String: Tensor])? {
        guard let head = weights.classifier, let eos = config.eosTokenId, let start = config.decoderStartTokenId else { return nil }
        precondition(!ids.isEmpty && ids.count <= config.contextLength, "EncoderDecoderModel.classScores: 1…\(config.contextLength) ids")
        guard let last = ids.lastIndex(of: eos), var encoded = encode(source: ids, capture: capture) else { return nil }
        let L = config.layers, C = config.width
        let decoderIds = [start] + ids.dropLast()
        // The last layer's stream is what the head reads; ask for it, and for nothing else the
        // caller did not ask for.
        var spec = capture.isEmpty ? CaptureSpec(kinds: [.residPost], layers: [L - 1]) : capture
        spec.kinds.insert(.residPost)
        spec.layers = spec.layers.map { $0.union([L - 1]) }
        let result = forward(decoderIds, cache: &encoded.cache, capture: spec, allLogits: false)
        guard let states = result.records[RecordKind.residPost.name(layer: L - 1)] else { return nil }
        // The state at the last </s>: `dense`, tanh, `out_proj`.
        let state = Array(states.scalars[(last * C)..<((last + 1) * C)])
        let classes = head.outputBias.count
        var hidden = [Float](repeating: 0, count: C), logits = [Float](repeating: 0, count: classes)
        hidden.withUnsafeMutableBufferPointer { hidden in
            linearForward(out: hidden.baseAddress!, input: state, weight: head.dense, bias: head.denseBias.pointer, T: 1, C: C, OC: C)
            for i in 0..<C { hidden[i] = tanhf(hidden[i]) }
            logits.withUnsafeMutableBufferPointer {
                linearForward(
                    out: $0.baseAddress!, input: hidden.baseAddress!, weight: head.output, bias: head.outputBias.pointer, T: 1, C: C,
                    OC: classes)
            }
        }
        var records = encoded.records.merging(result.records) { first, _ in first }
        // The stream asked for only to read the last layer (every layer's, when the capture
        // covers all layers) goes where the caller did not ask for it.
        for layer in 0..<L where !capture.wants(.residPost, layer: layer) { records[RecordKind.residPost.name(layer: layer)] = nil }
        return (logits, records)
    }

    /// T5 with a tied head scales the decoder's last rows by C^−½ before it.
    private func scaleForHead(_ x: UnsafeMutablePointer<Float>, rows T: Int) {
        guard config.scalesOutputsBeforeHead else { return }
        let scale = 1 / Float(config.width).squareRoot()
        for i in 0..<(T * config.width) { x[i] *= scale }
    }

    /// The decoder's last steps applied to residual rows `[rows, C]` from anywhere (the logit
    /// lens): final norm (T5), the head's scaling, the head and its bias.
    public func unembedResidual(_ rows: Tensor) -> Tensor {
        let C = config.width, V = config.vocabularySize
        precondition(rows.rank == 2 && rows.shape[1] == C, "EncoderDecoderModel.unembedResidual: rows \(rows.shape) are not [T, \(C)]")
        let T = rows.shape[0]
        guard T > 0 else { return Tensor(zeros: [0, V]) }
        var normed = rows.scalars, logits = [Float](repeating: 0, count: T * V)
        normed.withUnsafeMutableBufferPointer { x in
            weights.decoder.finalNorm?.view.apply(x.baseAddress!, x.baseAddress!, rows: T, C: C, eps: config.normEpsilon)
            scaleForHead(x.baseAddress!, rows: T)
        }
        linearForward(
            out: &logits, input: normed, weight: weights.head ?? weights.tokenEmbedding, bias: weights.logitsBias?.pointer, T: T,
            C: C, OC: V)
        return Tensor(shape: [T, V], scalars: logits)
    }
}

extension Optional where Wrapped == [Float] {
    /// Calls `body` with a pointer to the array's floats, or nil.
    fileprivate func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .some(let values): values.withUnsafeBufferPointer { body($0.baseAddress) }
        case .none: body(nil)
        }
    }
}
