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

    /// `mean` and `rstd` `[N]` keep a LayerNorm's statistics for the backward pass.
    func apply(
        _ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, rows N: Int, C: Int, eps: Float,
        mean: UnsafeMutablePointer<Float>? = nil, rstd: UnsafeMutablePointer<Float>? = nil
    ) {
        if let bias {
            layerNormForward(out: out, input: input, weight: weight, bias: bias, T: N, C: C, eps: eps, mean: mean, rstd: rstd)
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

/// Where one sub-block (attention or feed-forward) writes, each `[N, C]`. Inference points
/// `sum` and `result` at the stream itself (updated in place) and shares the rest between
/// layers; training gives every sub-block of every layer its own, with the norm's statistics.
struct SublayerBuffers {
    var normed: UnsafeMutablePointer<Float>  // the input after its norm (pre-LN only)
    var out: UnsafeMutablePointer<Float>  // the sub-block's output
    var sum: UnsafeMutablePointer<Float>  // input + out
    var result: UnsafeMutablePointer<Float>  // the stream after: sum (pre-LN) or norm(sum) (post-LN)
    var mean: UnsafeMutablePointer<Float>? = nil, rstd: UnsafeMutablePointer<Float>? = nil  // [N] (training, post-LN)
}

/// An attention's intermediates.
struct AttentionBuffers {
    var q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>  // [N, A] (cross: k, v unused)
    var heads: UnsafeMutablePointer<Float>  // [N, A]
}

/// The feed-forward's intermediates, `[N, FF]` each (inference: `activated == hidden`).
struct FeedForwardBuffers {
    var hidden: UnsafeMutablePointer<Float>  // up(x), before the activation
    var gate: UnsafeMutablePointer<Float>  // gate(x) (gated only)
    var activated: UnsafeMutablePointer<Float>  // act(hidden), or act(gate) ⊙ hidden
}

/// One block's buffers; `cross` and `crossAttention` only in the decoder's.
struct EncoderDecoderLayerBuffers {
    var selfAttention: AttentionBuffers, selfSublayer: SublayerBuffers
    var crossAttention: AttentionBuffers?, crossSublayer: SublayerBuffers?
    var feedForward: FeedForwardBuffers, feedForwardSublayer: SublayerBuffers
}

enum EncoderDecoderPass {
    /// Self-attention for one layer: reads `q`, `k`, `v` `[N, A]` of the new rows, writes the
    /// heads' outputs `[N, A]` (the driver caches keys and values and adds any position bias).
    typealias SelfAttention = (_ layer: Int, _ b: AttentionBuffers, _ recorder: inout Recorder) -> Void
    /// Cross-attention for one decoder layer: reads the rows' queries `b.q`, writes `b.heads`.
    typealias CrossAttention = SelfAttention

    /// Token embeddings (× √C when the config scales them), the learned positions of rows at
    /// `start..<start+N` (offset as the config says), then the embedding norm: into `x[N, C]`.
    /// Training passes `embedded` (the sum before the norm) and the norm's statistics.
    static func embed(
        tokens: [Int], start: Int, table: LinearWeight, stack: StackView, config: TransformerConfig,
        x: UnsafeMutablePointer<Float>, embedded: UnsafeMutablePointer<Float>? = nil,
        mean: UnsafeMutablePointer<Float>? = nil, rstd: UnsafeMutablePointer<Float>? = nil, recorder: inout Recorder
    ) {
        let N = tokens.count, C = config.width
        let sum = stack.embedNorm == nil ? x : (embedded ?? x)
        for n in 0..<N { table.copyRow(tokens[n], columns: C, into: sum + n * C) }
        if config.scalesEmbeddings {
            let scale = Float(C).squareRoot()
            for i in 0..<(N * C) { sum[i] *= scale }
        }
        recorder.rowMajor(.embed, sum, width: C)
        if let positions = stack.positions {
            let first = positions + (start + config.positionOffset) * C
            recorder.rowMajor(.posEmbed, first, width: C)
            for n in 0..<N { addInPlace(sum + n * C, first + n * C, count: C) }
        }
        if let norm = stack.embedNorm {
            norm.apply(x, sum, rows: N, C: C, eps: config.normEpsilon, mean: mean, rstd: rstd)
            recorder.rowMajor(.embedNorm, x, width: C)
        }
    }

    /// The blocks of one stack from `input[N, C]` (the embeddings), then its final norm into
    /// `output`: the encoder's output, or the decoder's rows ready for the head. `cross` is nil
    /// for the encoder. Inference passes one `x` as input, output and every layer's stream.
    static func blocks(
        _ stack: StackView, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, rows N: Int, config: TransformerConfig,
        layers: (Int) -> EncoderDecoderLayerBuffers, selfAttention: SelfAttention, cross: CrossAttention?, recorder: inout Recorder
    ) {
        var x = input
        for (l, block) in stack.blocks.enumerated() {
            let buffers = layers(l)
            self.block(
                layer: l, block, input: x, buffers, rows: N, config: config, selfAttention: selfAttention, cross: cross, recorder: &recorder
            )
            x = UnsafePointer(buffers.feedForwardSublayer.result)
        }
        if let norm = stack.finalNorm {
            norm.apply(output, x, rows: N, C: config.width, eps: config.normEpsilon)
            recorder.rowMajor(.lnFinal, output, width: config.width)
        } else if output != UnsafeMutablePointer(mutating: x) {
            output.update(from: x, count: N * config.width)
        }
    }

    /// One block: self-attention, cross-attention (decoder), feed-forward, each wrapped in its
    /// norm and residual addition.
    static func block(
        layer l: Int, _ w: EncoderDecoderBlockView, input: UnsafePointer<Float>, _ b: EncoderDecoderLayerBuffers, rows N: Int,
        config: TransformerConfig, selfAttention: SelfAttention, cross: CrossAttention?, recorder: inout Recorder
    ) {
        sublayer(layer: l, norm: w.selfNorm, records: (.ln1, .residMid), input: input, b.selfSublayer, rows: N, config: config, &recorder) {
            normed, recorder in
            attention(
                layer: l, w.selfAttention, input: normed, projectsKeys: true, rows: N, config: config, b.selfAttention,
                out: b.selfSublayer.out, records: (.q, .k, .v, .z, .attnOut), attend: selfAttention, recorder: &recorder)
        }
        var x = UnsafePointer(b.selfSublayer.result)
        if let cross, let crossWeights = w.cross, let crossNorm = w.crossNorm, let crossBuffers = b.crossAttention,
            let crossSublayer = b.crossSublayer
        {
            sublayer(
                layer: l, norm: crossNorm, records: (.lnCross, .residCross), input: x, crossSublayer, rows: N, config: config, &recorder
            ) {
                normed, recorder in
                attention(
                    layer: l, crossWeights, input: normed, projectsKeys: false, rows: N, config: config, crossBuffers,
                    out: crossSublayer.out, records: (.crossQ, .crossK, .crossV, .crossZ, .crossOut), attend: cross, recorder: &recorder)
            }
            x = UnsafePointer(crossSublayer.result)
        }
        sublayer(
            layer: l, norm: w.feedForwardNorm, records: (.ln2, .residPost), input: x, b.feedForwardSublayer, rows: N, config: config,
            &recorder
        ) {
            normed, recorder in
            feedForward(
                layer: l, w.feedForward, input: normed, rows: N, config: config, b.feedForward, out: b.feedForwardSublayer.out,
                recorder: &recorder)
        }
    }

    /// A sub-block with its norm and residual: pre-LN `result = input + f(norm(input))` (the
    /// norm recorded as `records.norm`), post-LN `result = norm(input + f(input))`; `f` writes
    /// `b.out`. The stream after it is recorded as `records.stream`.
    private static func sublayer(
        layer l: Int, norm: NormView, records: (norm: RecordKind, stream: RecordKind), input: UnsafePointer<Float>, _ b: SublayerBuffers,
        rows N: Int, config: TransformerConfig, _ recorder: inout Recorder,
        _ f: (_ input: UnsafePointer<Float>, _ recorder: inout Recorder) -> Void
    ) {
        let C = config.width
        if config.normalizesAfterSublayer {
            f(input, &recorder)
            fastResidualForward(out: b.sum, inp1: input, inp2: b.out, N: N * C)
            norm.apply(b.result, b.sum, rows: N, C: C, eps: config.normEpsilon, mean: b.mean, rstd: b.rstd)
        } else {
            norm.apply(b.normed, input, rows: N, C: C, eps: config.normEpsilon)
            recorder.rowMajor(records.norm, layer: l, b.normed, width: C)
            f(b.normed, &recorder)
            fastResidualForward(out: b.result, inp1: input, inp2: b.out, N: N * C)
        }
        recorder.rowMajor(records.stream, layer: l, b.result, width: C)
    }

    /// Projections, the driver's attention, the output projection into `out`. Cross-attention
    /// projects only the queries (the encoder's keys and values were projected once, when it ran).
    private static func attention(
        layer l: Int, _ w: AttentionView, input: UnsafePointer<Float>, projectsKeys: Bool, rows N: Int, config: TransformerConfig,
        _ b: AttentionBuffers, out: UnsafeMutablePointer<Float>,
        records: (q: RecordKind, k: RecordKind, v: RecordKind, z: RecordKind, out: RecordKind),
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
        linearForward(out: out, input: b.heads, weight: w.o, bias: w.oBias, T: N, C: A, OC: C)
        recorder.rowMajor(records.out, layer: l, out, width: C)
    }

    private static func feedForward(
        layer l: Int, _ w: FeedForwardView, input: UnsafePointer<Float>, rows N: Int, config: TransformerConfig,
        _ b: FeedForwardBuffers, out: UnsafeMutablePointer<Float>, recorder: inout Recorder
    ) {
        let C = config.width, FF = config.feedForwardWidth, count = N * FF
        linearForward(out: b.hidden, input: input, weight: w.up, bias: w.upBias, T: N, C: C, OC: FF)
        switch config.feedForward {
        case .relu:
            for i in 0..<count { b.activated[i] = max(0, b.hidden[i]) }
        case .gatedGELU:
            guard let gate = w.gate else { preconditionFailure("EncoderDecoderPass: a gated feed-forward without its gate") }
            linearForward(out: b.gate, input: input, weight: gate, bias: nil, T: N, C: C, OC: FF)
            geluForward(out: b.activated, input: b.gate, count: count)
            for i in 0..<count { b.activated[i] *= b.hidden[i] }
        case .gelu:
            geluErfForward(out: b.activated, input: b.hidden, count: count)
        case .swiGLU:
            preconditionFailure("EncoderDecoderPass: SwiGLU is Llama's")
        }
        recorder.rowMajor(.mlpHidden, layer: l, b.activated, width: FF)
        linearForward(out: out, input: b.activated, weight: w.down, bias: w.downBias, T: N, C: FF, OC: C)
        recorder.rowMajor(.mlpOut, layer: l, out, width: C)
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

// MARK: - Backward (training: the post-LN layout, LayerNorm, erf GELU or ReLU)

struct NormGradients {
    var weight: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>  // [C]
}

struct AttentionGradients {
    var q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>  // [A, C]
    var o: UnsafeMutablePointer<Float>  // [C, A]
    var qBias: UnsafeMutablePointer<Float>, kBias: UnsafeMutablePointer<Float>, vBias: UnsafeMutablePointer<Float>  // [A]
    var oBias: UnsafeMutablePointer<Float>  // [C]
}

struct FeedForwardGradients {
    var up: UnsafeMutablePointer<Float>, upBias: UnsafeMutablePointer<Float>  // [FF, C], [FF]
    var down: UnsafeMutablePointer<Float>, downBias: UnsafeMutablePointer<Float>  // [C, FF], [C]
}

/// Where one block's parameter gradients accumulate (the tensors of `EncoderDecoderBlockView`).
struct EncoderDecoderBlockGradients {
    var selfAttention: AttentionGradients, selfNorm: NormGradients
    var cross: AttentionGradients?, crossNorm: NormGradients?
    var feedForward: FeedForwardGradients, feedForwardNorm: NormGradients
}

extension EncoderDecoderPass {
    /// The attention core's backward for one layer: from `g.heads` to `g.q` (and, for
    /// self-attention, `g.k`, `g.v`), given the forward's buffers `a`. Cross-attention's keys
    /// and values belong to the driver, which collects their gradients itself.
    typealias AttentionBackward = (_ layer: Int, _ a: AttentionBuffers, _ g: AttentionBuffers) -> Void

    /// The backward of `block` for the post-LN layout: from `g.feedForwardSublayer.result` (the
    /// gradient reaching the block's output) to `inputGradient`, ADDING every parameter's
    /// gradient into `d`. `a` holds the forward's buffers of this layer (with the norms'
    /// statistics), `g` the same shapes for their gradients (zeroed, accumulated).
    static func blockBackward(
        layer l: Int, _ w: EncoderDecoderBlockView, _ d: EncoderDecoderBlockGradients, input: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, _ a: EncoderDecoderLayerBuffers, _ g: EncoderDecoderLayerBuffers, rows N: Int,
        config: TransformerConfig, selfAttention: AttentionBackward, cross: AttentionBackward?
    ) {
        precondition(config.normalizesAfterSublayer, "EncoderDecoderPass.blockBackward: training runs the post-LN (BART) layout")
        let hasCross = cross != nil && w.cross != nil
        // The feed-forward's input is the stream after cross-attention (decoder) or self-attention.
        let ffInput = hasCross ? a.crossSublayer!.result : a.selfSublayer.result
        let ffInputGradient = hasCross ? g.crossSublayer!.result : g.selfSublayer.result
        sublayerBackward(
            w.feedForwardNorm, d.feedForwardNorm, input: ffInput, inputGradient: ffInputGradient, a.feedForwardSublayer,
            g.feedForwardSublayer, rows: N, config: config
        ) { dOut in
            feedForwardBackward(
                w.feedForward, d.feedForward, input: ffInput, inputGradient: ffInputGradient, a.feedForward, g.feedForward, dOut: dOut,
                rows: N, config: config)
        }
        if hasCross, let cross, let crossWeights = w.cross, let crossNorm = w.crossNorm, let crossGradients = d.cross,
            let crossNormGradients = d.crossNorm, let aCross = a.crossSublayer, let gCross = g.crossSublayer,
            let aAttention = a.crossAttention, let gAttention = g.crossAttention
        {
            let crossInput = a.selfSublayer.result, crossInputGradient = g.selfSublayer.result
            sublayerBackward(
                crossNorm, crossNormGradients, input: crossInput, inputGradient: crossInputGradient, aCross, gCross, rows: N, config: config
            ) { dOut in
                attentionBackward(
                    layer: l, crossWeights, crossGradients, input: crossInput, inputGradient: crossInputGradient, projectsKeys: false,
                    aAttention, gAttention, dOut: dOut, rows: N, config: config, core: cross)
            }
        }
        sublayerBackward(
            w.selfNorm, d.selfNorm, input: input, inputGradient: inputGradient, a.selfSublayer, g.selfSublayer, rows: N, config: config
        ) { dOut in
            attentionBackward(
                layer: l, w.selfAttention, d.selfAttention, input: input, inputGradient: inputGradient, projectsKeys: true,
                a.selfAttention, g.selfAttention, dOut: dOut, rows: N, config: config, core: selfAttention)
        }
    }

    /// Post-LN: `result = LayerNorm(input + f(input))`. From `g.result` into `g.sum`, then to
    /// `inputGradient` directly and through `f` (given `g.sum` as its output's gradient).
    private static func sublayerBackward(
        _ norm: NormView, _ d: NormGradients, input: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>,
        _ a: SublayerBuffers, _ g: SublayerBuffers, rows N: Int, config: TransformerConfig, _ f: (_ dOut: UnsafePointer<Float>) -> Void
    ) {
        let C = config.width
        guard let mean = a.mean, let rstd = a.rstd else {
            preconditionFailure("EncoderDecoderPass: the forward pass did not keep the norms' statistics")
        }
        layerNormBackward(
            dinp: g.sum, dweight: d.weight, dbias: d.bias, dout: g.result, inp: a.sum, weight: norm.weight, mean: mean, rstd: rstd, N: N,
            C: C)
        addInPlace(inputGradient, g.sum, count: N * C)
        f(g.sum)
    }

    private static func attentionBackward(
        layer l: Int, _ w: AttentionView, _ d: AttentionGradients, input: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>,
        projectsKeys: Bool, _ a: AttentionBuffers, _ g: AttentionBuffers, dOut: UnsafePointer<Float>, rows N: Int,
        config: TransformerConfig,
        core: AttentionBackward
    ) {
        let C = config.width, A = config.heads * config.headSize
        matmulBackward(dinp: g.heads, dweight: d.o, dbias: d.oBias, dout: dOut, inp: a.heads, weight: w.o.trainingFloats, N: N, C: A, OC: C)
        core(l, a, g)
        matmulBackward(
            dinp: inputGradient, dweight: d.q, dbias: d.qBias, dout: g.q, inp: input, weight: w.q.trainingFloats, N: N, C: C, OC: A)
        guard projectsKeys else { return }
        matmulBackward(
            dinp: inputGradient, dweight: d.k, dbias: d.kBias, dout: g.k, inp: input, weight: w.k.trainingFloats, N: N, C: C, OC: A)
        matmulBackward(
            dinp: inputGradient, dweight: d.v, dbias: d.vBias, dout: g.v, inp: input, weight: w.v.trainingFloats, N: N, C: C, OC: A)
    }

    private static func feedForwardBackward(
        _ w: FeedForwardView, _ d: FeedForwardGradients, input: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>,
        _ a: FeedForwardBuffers, _ g: FeedForwardBuffers, dOut: UnsafePointer<Float>, rows N: Int, config: TransformerConfig
    ) {
        let C = config.width, FF = config.feedForwardWidth, count = N * FF
        matmulBackward(
            dinp: g.activated, dweight: d.down, dbias: d.downBias, dout: dOut, inp: a.activated, weight: w.down.trainingFloats, N: N, C: FF,
            OC: C)
        switch config.feedForward {
        case .gelu: geluErfBackward(dinp: g.hidden, inp: a.hidden, dout: g.activated, N: count)
        case .relu: for i in 0..<count where a.hidden[i] > 0 { g.hidden[i] += g.activated[i] }
        case .gatedGELU, .swiGLU: preconditionFailure("EncoderDecoderPass: training runs GELU or ReLU feed-forwards")
        }
        matmulBackward(
            dinp: inputGradient, dweight: d.up, dbias: d.upBias, dout: g.hidden, inp: input, weight: w.up.trainingFloats, N: N, C: C, OC: FF
        )
    }
}
