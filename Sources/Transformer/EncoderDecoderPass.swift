import Foundation
import Tensors

// What an encoder–decoder computes, written once for both of its layouts (Vaswani et al., 2017;
// Hugging Face's T5ForConditionalGeneration and BartForConditionalGeneration): the encoder stack
// over the source, and the decoder stack over the target, whose blocks add cross-attention to
// the encoder's output between self-attention and the feed-forward. The driver
// (EncoderDecoderModel in EncoderDecoder.swift) owns the storage and the attention (the
// encoder's both ways, the decoder's causal over its KV cache, cross-attention over the
// encoder's keys and values); this file owns the order of the kernel calls. See
// docs/ADDING_A_FAMILY.md.
// Letters: N rows this call, C width, NH heads, hs head size, A = NH·hs attention width (T5's
// may differ from C), FF feed-forward width, V vocabulary, S source positions.
//
// The two layouts differ by capabilities of the config, not by code paths of their own:
//   T5:   RMS norm BEFORE each sub-block (pre-LN), a final norm per stack, relative position
//         buckets added to the self-attention scores (no 1/√hs), no biases, ReLU or gated GELU.
//   BART: LayerNorm AFTER each residual addition (post-LN), a LayerNorm on the embeddings,
//         learned positions (offset 2), scores scaled by 1/√hs, biases, erf GELU.

// MARK: - What the pass reads

/// A norm's parameters: LayerNorm with a bias, RMS norm without one.
struct NormView {
    var weight: UnsafePointer<Float>  // [C]
    var bias: UnsafePointer<Float>?  // [C] (LayerNorm only)

    func apply(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, rows N: Int, C: Int, eps: Float) {
        if let bias {
            layerNormForward(out: out, input: input, weight: weight, bias: bias, T: N, C: C, eps: eps)
        } else {
            rmsNormForward(out: out, input: input, weight: weight, T: N, C: C, eps: eps)
        }
    }
}

/// One attention's projections (self- or cross-).
struct AttentionView {
    var q: LinearWeight, k: LinearWeight, v: LinearWeight  // [A, C] each
    var o: LinearWeight  // [C, A]
    var qBias: UnsafePointer<Float>?, kBias: UnsafePointer<Float>?, vBias: UnsafePointer<Float>?  // [A]
    var oBias: UnsafePointer<Float>?  // [C]
}

/// The feed-forward: `down(act(up(x)))`, or gated `down(act(gate(x)) ⊙ up(x))`.
struct FeedForwardView {
    var up: LinearWeight, upBias: UnsafePointer<Float>?  // [FF, C], [FF]  (T5: wi or wi_1; BART: fc1)
    var gate: LinearWeight?  // [FF, C]  (T5 v1.1: wi_0)
    var down: LinearWeight, downBias: UnsafePointer<Float>?  // [C, FF], [C]  (T5: wo; BART: fc2)
}

/// One block of either stack; `cross` and `crossNorm` only in the decoder's.
struct EncoderDecoderBlockView {
    var selfAttention: AttentionView, selfNorm: NormView
    var cross: AttentionView?, crossNorm: NormView?
    var feedForward: FeedForwardView, feedForwardNorm: NormView
}

/// One stack's parameters (the token embedding is shared by both).
struct StackView {
    var positions: UnsafePointer<Float>?  // [P + offset, C]  learned positions (BART)
    var embedNorm: NormView?  // BART's layernorm_embedding
    var blocks: [EncoderDecoderBlockView]
    var finalNorm: NormView?  // T5's final_layer_norm
}

/// Where one block's intermediates go, each `[N, ·]`; inference gives every layer the same.
/// The stream `x` is updated in place: pre-LN adds each sub-block's output to it, post-LN
/// replaces it by the norm of the sum.
struct EncoderDecoderBuffers {
    var normed: UnsafeMutablePointer<Float>  // [N, C]  a sub-block's input after its norm (pre-LN)
    var q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>  // [N, A] each
    var heads: UnsafeMutablePointer<Float>  // [N, A]
    var out: UnsafeMutablePointer<Float>  // [N, C]  a sub-block's output
    var hidden: UnsafeMutablePointer<Float>, gateHidden: UnsafeMutablePointer<Float>  // [N, FF] each
}

enum EncoderDecoderPass {
    /// Self-attention for one layer: reads `q`, `k`, `v` `[N, A]` of the new rows, writes the
    /// heads' outputs `[N, A]` (the driver caches keys and values and adds any position bias).
    typealias SelfAttention = (_ layer: Int, _ b: EncoderDecoderBuffers, _ recorder: inout Recorder) -> Void
    /// Cross-attention for one decoder layer: reads the rows' queries `b.q`, writes `b.heads`.
    typealias CrossAttention = SelfAttention

    /// Token embeddings (× √C when the config scales them), the learned positions of rows at
    /// `start..<start+N` (offset as the config says), then the embedding norm: into `x[N, C]`.
    static func embed(
        tokens: [Int], start: Int, table: LinearWeight, stack: StackView, config: TransformerConfig,
        x: UnsafeMutablePointer<Float>, recorder: inout Recorder
    ) {
        let N = tokens.count, C = config.width
        for n in 0..<N { table.copyRow(tokens[n], columns: C, into: x + n * C) }
        if config.scalesEmbeddings {
            let scale = Float(C).squareRoot()
            for i in 0..<(N * C) { x[i] *= scale }
        }
        recorder.rowMajor(.embed, x, width: C)
        if let positions = stack.positions {
            let first = positions + (start + config.positionOffset) * C
            recorder.rowMajor(.posEmbed, first, width: C)
            for n in 0..<N { addInPlace(x + n * C, first + n * C, count: C) }
        }
        if let norm = stack.embedNorm {
            norm.apply(x, x, rows: N, C: C, eps: config.normEpsilon)
            recorder.rowMajor(.embedNorm, x, width: C)
        }
    }

    /// The blocks of one stack over `x[N, C]`, then its final norm: the encoder's output, or the
    /// decoder's rows ready for the head. `cross` is nil for the encoder.
    static func blocks(
        _ stack: StackView, x: UnsafeMutablePointer<Float>, rows N: Int, config: TransformerConfig, _ b: EncoderDecoderBuffers,
        selfAttention: SelfAttention, cross: CrossAttention?, recorder: inout Recorder
    ) {
        for (l, block) in stack.blocks.enumerated() {
            self.block(
                layer: l, block, x: x, rows: N, config: config, b, selfAttention: selfAttention, cross: cross, recorder: &recorder)
        }
        if let norm = stack.finalNorm {
            norm.apply(x, x, rows: N, C: config.width, eps: config.normEpsilon)
            recorder.rowMajor(.lnFinal, x, width: config.width)
        }
    }

    /// One block: self-attention, cross-attention (decoder), feed-forward, each wrapped in its
    /// norm and residual addition.
    static func block(
        layer l: Int, _ w: EncoderDecoderBlockView, x: UnsafeMutablePointer<Float>, rows N: Int, config: TransformerConfig,
        _ b: EncoderDecoderBuffers, selfAttention: SelfAttention, cross: CrossAttention?, recorder: inout Recorder
    ) {
        sublayer(layer: l, norm: w.selfNorm, normRecord: .ln1, sumRecord: .residMid, x: x, rows: N, config: config, b, &recorder) {
            input, recorder in
            attention(
                layer: l, w.selfAttention, input: input, projectsKeys: true, rows: N, config: config, b,
                records: (.q, .k, .v, .z, .attnOut), attend: selfAttention, recorder: &recorder)
        }
        if let cross, let crossWeights = w.cross, let crossNorm = w.crossNorm {
            sublayer(layer: l, norm: crossNorm, normRecord: .lnCross, sumRecord: .residCross, x: x, rows: N, config: config, b, &recorder) {
                input, recorder in
                attention(
                    layer: l, crossWeights, input: input, projectsKeys: false, rows: N, config: config, b,
                    records: (.crossQ, .crossK, .crossV, .crossZ, .crossOut), attend: cross, recorder: &recorder)
            }
        }
        sublayer(layer: l, norm: w.feedForwardNorm, normRecord: .ln2, sumRecord: .residPost, x: x, rows: N, config: config, b, &recorder) {
            input, recorder in
            feedForward(layer: l, w.feedForward, input: input, rows: N, config: config, b, recorder: &recorder)
        }
    }

    /// A sub-block with its norm and residual: pre-LN `x += f(norm(x))` (the norm recorded as
    /// `normRecord`), post-LN `x = norm(x + f(x))`; `f` writes `b.out`. The stream after it is
    /// recorded as `sumRecord`.
    private static func sublayer(
        layer l: Int, norm: NormView, normRecord: RecordKind, sumRecord: RecordKind, x: UnsafeMutablePointer<Float>, rows N: Int,
        config: TransformerConfig, _ b: EncoderDecoderBuffers, _ recorder: inout Recorder,
        _ f: (_ input: UnsafePointer<Float>, _ recorder: inout Recorder) -> Void
    ) {
        let C = config.width
        if config.normalizesAfterSublayer {
            f(x, &recorder)
            addInPlace(x, b.out, count: N * C)
            norm.apply(x, x, rows: N, C: C, eps: config.normEpsilon)
        } else {
            norm.apply(b.normed, x, rows: N, C: C, eps: config.normEpsilon)
            recorder.rowMajor(normRecord, layer: l, b.normed, width: C)
            f(b.normed, &recorder)
            addInPlace(x, b.out, count: N * C)
        }
        recorder.rowMajor(sumRecord, layer: l, x, width: C)
    }

    /// Projections, the driver's attention, the output projection. Cross-attention projects only
    /// the queries (the encoder's keys and values were projected once, when it ran).
    private static func attention(
        layer l: Int, _ w: AttentionView, input: UnsafePointer<Float>, projectsKeys: Bool, rows N: Int, config: TransformerConfig,
        _ b: EncoderDecoderBuffers, records: (q: RecordKind, k: RecordKind, v: RecordKind, z: RecordKind, out: RecordKind),
        attend: SelfAttention, recorder: inout Recorder
    ) {
        let C = config.width, NH = config.heads, hs = config.headSize, A = NH * hs
        linearForward(out: b.q, input: input, weight: w.q, bias: w.qBias, T: N, C: C, OC: A)
        recorder.perHead(records.q, layer: l, b.q, stride: A, offset: 0, heads: NH, headSize: hs)
        if projectsKeys {
            linearForward(out: b.k, input: input, weight: w.k, bias: w.kBias, T: N, C: C, OC: A)
            linearForward(out: b.v, input: input, weight: w.v, bias: w.vBias, T: N, C: C, OC: A)
            recorder.perHead(records.k, layer: l, b.k, stride: A, offset: 0, heads: NH, headSize: hs)
            recorder.perHead(records.v, layer: l, b.v, stride: A, offset: 0, heads: NH, headSize: hs)
        }
        attend(l, b, &recorder)
        recorder.perHead(records.z, layer: l, b.heads, stride: A, offset: 0, heads: NH, headSize: hs)
        linearForward(out: b.out, input: b.heads, weight: w.o, bias: w.oBias, T: N, C: A, OC: C)
        recorder.rowMajor(records.out, layer: l, b.out, width: C)
    }

    private static func feedForward(
        layer l: Int, _ w: FeedForwardView, input: UnsafePointer<Float>, rows N: Int, config: TransformerConfig,
        _ b: EncoderDecoderBuffers, recorder: inout Recorder
    ) {
        let C = config.width, FF = config.feedForwardWidth, count = N * FF
        linearForward(out: b.hidden, input: input, weight: w.up, bias: w.upBias, T: N, C: C, OC: FF)
        switch config.feedForward {
        case .relu:
            for i in 0..<count { b.hidden[i] = max(0, b.hidden[i]) }
        case .gatedGELU:
            guard let gate = w.gate else { preconditionFailure("EncoderDecoderPass: a gated feed-forward without its gate") }
            linearForward(out: b.gateHidden, input: input, weight: gate, bias: nil, T: N, C: C, OC: FF)
            geluForward(out: b.gateHidden, input: b.gateHidden, count: count)
            for i in 0..<count { b.hidden[i] *= b.gateHidden[i] }
        case .gelu:
            geluErfForward(out: b.hidden, input: b.hidden, count: count)
        case .swiGLU:
            preconditionFailure("EncoderDecoderPass: SwiGLU is Llama's")
        }
        recorder.rowMajor(.mlpHidden, layer: l, b.hidden, width: FF)
        linearForward(out: b.out, input: b.hidden, weight: w.down, bias: w.downBias, T: N, C: FF, OC: C)
        recorder.rowMajor(.mlpOut, layer: l, b.out, width: C)
    }
}

// MARK: - T5's relative positions

/// T5's relative position buckets: the distance `key − query` falls into one of `buckets`
/// buckets (half for keys after the query when `bidirectional`), exact for near distances,
/// logarithmic up to `maxDistance`, the last bucket beyond. Computed in float32 as
/// transformers does, so the bucket edges match.
public func relativePositionBucket(_ relative: Int, bidirectional: Bool, buckets: Int, maxDistance: Int) -> Int {
    var count = buckets, bucket = 0, distance: Int
    if bidirectional {
        count /= 2
        if relative > 0 { bucket += count }
        distance = abs(relative)
    } else {
        distance = -min(relative, 0)
    }
    let maxExact = count / 2
    if distance < maxExact { return bucket + distance }
    let logRatio = Float(log(Double(maxDistance) / Double(maxExact)))
    let large = maxExact + Int(log(Float(distance) / Float(maxExact)) / logRatio * Float(count - maxExact))
    return bucket + min(large, count - 1)
}

/// The bias `[NH, T, K]` the relative-position table `[buckets, NH]` adds to the scores of
/// queries at `start..<start+T` over keys `0..<K`.
func relativePositionBias(
    table: UnsafePointer<Float>, heads NH: Int, buckets: Int, maxDistance: Int, bidirectional: Bool, start: Int, T: Int, K: Int
) -> [Float] {
    var bias = [Float](repeating: 0, count: NH * T * K)
    for t in 0..<T {
        for k in 0..<K {
            let bucket = relativePositionBucket(k - (start + t), bidirectional: bidirectional, buckets: buckets, maxDistance: maxDistance)
            for h in 0..<NH { bias[(h * T + t) * K + k] = table[bucket * NH + h] }
        }
    }
    return bias
}
