import Foundation
import Tensors

// An encoder–decoder (BART's layout) for sequence-to-sequence training, laid out as
// GPT2Training.swift is: every parameter in one flat buffer with named views, activations in one
// object, gradients in buffers the caller owns. The blocks' forward and backward are
// EncoderDecoderPass's (the definition inference runs); this file embeds each pair, runs the
// attentions within it, and adds the head and its loss.
//
// A batch is B pairs of different lengths. Rather than pad them and mask the padding in three
// attentions, each pair runs on its own (the models are small and a pair is a few dozen
// tokens), and a batch's gradients are the sum over its pairs of each pair's share of the mean
// loss over every target token — exactly the gradient of the padded, masked batch.
// Letters: S source rows, T target rows (of one pair), C width, NH heads, hs head size,
// A = NH·hs, FF feed-forward width, V vocabulary, P positions, Le/Ld encoder/decoder layers.

// MARK: - Parameters

/// The parameter tensors, in the order they lie in the flat buffer. `enc…` tensors have a
/// leading Le, `dec…` and `cross…` ones a leading Ld.
public enum Seq2SeqParameterTensor: Int, ParameterTensorKind {
    case wte  // (V, C)  shared by both stacks and the (tied) head
    case encWpe  // (P + 2, C)
    case encEmbLnw, encEmbLnb  // (C)
    case encQw, encKw, encVw  // (Le, A, C)
    case encQb, encKb, encVb  // (Le, A)
    case encOw  // (Le, C, A)
    case encOb, encAttLnw, encAttLnb  // (Le, C)
    case encFc1w  // (Le, FF, C)
    case encFc1b  // (Le, FF)
    case encFc2w  // (Le, C, FF)
    case encFc2b, encFfLnw, encFfLnb  // (Le, C)
    case decWpe  // (P + 2, C)
    case decEmbLnw, decEmbLnb  // (C)
    case decQw, decKw, decVw  // (Ld, A, C)
    case decQb, decKb, decVb  // (Ld, A)
    case decOw  // (Ld, C, A)
    case decOb, decAttLnw, decAttLnb  // (Ld, C)
    case crossQw, crossKw, crossVw  // (Ld, A, C)
    case crossQb, crossKb, crossVb  // (Ld, A)
    case crossOw  // (Ld, C, A)
    case crossOb, crossLnw, crossLnb  // (Ld, C)
    case decFc1w  // (Ld, FF, C)
    case decFc1b  // (Ld, FF)
    case decFc2w  // (Ld, C, FF)
    case decFc2b, decFfLnw, decFfLnb  // (Ld, C)
    case logitsBias  // (V)  BART's final_logits_bias

    public var isEncoder: Bool { (Self.encQw.rawValue...Self.encFfLnb.rawValue).contains(rawValue) }

    public func shape(_ config: TransformerConfig) -> [Int] {
        let C = config.width, FF = config.feedForwardWidth, A = config.heads * config.headSize
        let L = layerCount(config), P = config.contextLength + config.positionOffset
        switch self {
        case .wte: return [config.vocabularySize, C]
        case .encWpe, .decWpe: return [P, C]
        case .encEmbLnw, .encEmbLnb, .decEmbLnw, .decEmbLnb: return [C]
        case .encQw, .encKw, .encVw, .decQw, .decKw, .decVw, .crossQw, .crossKw, .crossVw: return [L, A, C]
        case .encQb, .encKb, .encVb, .decQb, .decKb, .decVb, .crossQb, .crossKb, .crossVb: return [L, A]
        case .encOw, .decOw, .crossOw: return [L, C, A]
        case .encOb, .encAttLnw, .encAttLnb, .encFc2b, .encFfLnw, .encFfLnb, .decOb, .decAttLnw, .decAttLnb, .crossOb, .crossLnw,
            .crossLnb, .decFc2b, .decFfLnw, .decFfLnb:
            return [L, C]
        case .encFc1w, .decFc1w: return [L, FF, C]
        case .encFc1b, .decFc1b: return [L, FF]
        case .encFc2w, .decFc2w: return [L, C, FF]
        case .logitsBias: return [config.vocabularySize]
        }
    }

    public var isPerLayer: Bool {
        isEncoder || (Self.decQw.rawValue...Self.decFfLnb.rawValue).contains(rawValue)
    }

    public func layerCount(_ config: TransformerConfig) -> Int { isEncoder ? config.encoderLayers : config.layers }

    public var isMatrix: Bool {
        [
            .wte, .encWpe, .decWpe, .encQw, .encKw, .encVw, .encOw, .encFc1w, .encFc2w, .decQw, .decKw, .decVw, .decOw, .crossQw, .crossKw,
            .crossVw,
            .crossOw, .decFc1w, .decFc2w
        ]
        .contains(self)
    }

    public static func unsupported(_ config: TransformerConfig) -> String? {
        config.family == .bart && config.tiedEmbeddings && config.feedForward == .gelu && config.encoderLayers >= 1
            && config.positionOffset >= 0 ? nil : "needs a BART configuration (post-LN, learned positions, GELU, a tied head)"
    }
}

public typealias Seq2SeqParameters = FlatParameters<Seq2SeqParameterTensor>

extension ParameterLayout where Kind == Seq2SeqParameterTensor {
    /// The tensors of one stack's block, as a role (self-attention…) maps to this enum's cases.
    private struct BlockTensors {
        var q, k, v, o, qb, kb, vb, ob, attLnw, attLnb, fc1w, fc1b, fc2w, fc2b, ffLnw, ffLnb: Kind
    }
    private static let encoderBlock = BlockTensors(
        q: .encQw, k: .encKw, v: .encVw, o: .encOw, qb: .encQb, kb: .encKb, vb: .encVb, ob: .encOb, attLnw: .encAttLnw,
        attLnb: .encAttLnb, fc1w: .encFc1w, fc1b: .encFc1b, fc2w: .encFc2w, fc2b: .encFc2b, ffLnw: .encFfLnw, ffLnb: .encFfLnb)
    private static let decoderBlock = BlockTensors(
        q: .decQw, k: .decKw, v: .decVw, o: .decOw, qb: .decQb, kb: .decKb, vb: .decVb, ob: .decOb, attLnw: .decAttLnw,
        attLnb: .decAttLnb, fc1w: .decFc1w, fc1b: .decFc1b, fc2w: .decFc2w, fc2b: .decFc2b, ffLnw: .decFfLnw, ffLnb: .decFfLnb)
    private static let crossAttention = BlockTensors(
        q: .crossQw, k: .crossKw, v: .crossVw, o: .crossOw, qb: .crossQb, kb: .crossKb, vb: .crossVb, ob: .crossOb, attLnw: .crossLnw,
        attLnb: .crossLnb, fc1w: .decFc1w, fc1b: .decFc1b, fc2w: .decFc2w, fc2b: .decFc2b, ffLnw: .decFfLnw, ffLnb: .decFfLnb)

    /// EncoderDecoderPass's view of one stack in the flat buffer at `base`.
    func stackView(_ base: UnsafePointer<Float>, decoder: Bool) -> StackView {
        let layers = decoder ? config.layers : config.encoderLayers
        return StackView(
            positions: base + offset(decoder ? .decWpe : .encWpe),
            embedNorm: NormView(
                weight: base + offset(decoder ? .decEmbLnw : .encEmbLnw), bias: base + offset(decoder ? .decEmbLnb : .encEmbLnb)),
            blocks: (0..<layers).map { blockView(base, layer: $0, decoder: decoder) }, finalNorm: nil)
    }

    func blockView(_ base: UnsafePointer<Float>, layer l: Int, decoder: Bool) -> EncoderDecoderBlockView {
        func p(_ tensor: Kind) -> UnsafePointer<Float> { base + offset(tensor, layer: l) }
        func attention(_ t: BlockTensors) -> AttentionView {
            AttentionView(
                q: .floats(p(t.q)), k: .floats(p(t.k)), v: .floats(p(t.v)), o: .floats(p(t.o)), qBias: p(t.qb), kBias: p(t.kb),
                vBias: p(t.vb), oBias: p(t.ob))
        }
        let t = decoder ? Self.decoderBlock : Self.encoderBlock, x = Self.crossAttention
        return EncoderDecoderBlockView(
            selfAttention: attention(t), selfNorm: NormView(weight: p(t.attLnw), bias: p(t.attLnb)),
            cross: decoder ? attention(x) : nil, crossNorm: decoder ? NormView(weight: p(x.attLnw), bias: p(x.attLnb)) : nil,
            feedForward: FeedForwardView(up: .floats(p(t.fc1w)), upBias: p(t.fc1b), down: .floats(p(t.fc2w)), downBias: p(t.fc2b)),
            feedForwardNorm: NormView(weight: p(t.ffLnw), bias: p(t.ffLnb)))
    }

    func blockGradients(_ base: UnsafeMutablePointer<Float>, layer l: Int, decoder: Bool) -> EncoderDecoderBlockGradients {
        func d(_ tensor: Kind) -> UnsafeMutablePointer<Float> { base + offset(tensor, layer: l) }
        func attention(_ t: BlockTensors) -> AttentionGradients {
            AttentionGradients(q: d(t.q), k: d(t.k), v: d(t.v), o: d(t.o), qBias: d(t.qb), kBias: d(t.kb), vBias: d(t.vb), oBias: d(t.ob))
        }
        let t = decoder ? Self.decoderBlock : Self.encoderBlock, x = Self.crossAttention
        return EncoderDecoderBlockGradients(
            selfAttention: attention(t), selfNorm: NormGradients(weight: d(t.attLnw), bias: d(t.attLnb)),
            cross: decoder ? attention(x) : nil, crossNorm: decoder ? NormGradients(weight: d(x.attLnw), bias: d(x.attLnb)) : nil,
            feedForward: FeedForwardGradients(up: d(t.fc1w), upBias: d(t.fc1b), down: d(t.fc2w), downBias: d(t.fc2b)),
            feedForwardNorm: NormGradients(weight: d(t.ffLnw), bias: d(t.ffLnb)))
    }
}

extension Seq2SeqParameters {
    /// BART's initialisation (`init_std` 0.02): matrices normal with std 0.02, norm gains 1, biases 0.
    public init(randomFor config: TransformerConfig, seed: UInt64) {
        self.init(zerosFor: config)
        var random = SplitMix64(seed: seed)
        let gains: Set<Seq2SeqParameterTensor> = [.encEmbLnw, .decEmbLnw, .encAttLnw, .encFfLnw, .decAttLnw, .crossLnw, .decFfLnw]
        for tensor in Seq2SeqParameterTensor.allCases {
            let range = layout.range(tensor)
            if tensor.isMatrix {
                values.replaceSubrange(range, with: random.normals(range.count, standardDeviation: 0.02))
            } else if gains.contains(tensor) {
                values.replaceSubrange(range, with: repeatElement(1, count: range.count))
            }
        }
    }
}

// MARK: - Activations

/// Every intermediate of one pair's forward pass (room for `P` source and `P` target rows),
/// kept for the backward pass; the same class holds their gradients.
public final class Seq2SeqActivations {
    private var allocations: [(pointer: UnsafeMutablePointer<Float>, count: Int)] = []
    let encoderEmbedded: UnsafeMutablePointer<Float>, encoderInput: UnsafeMutablePointer<Float>  // (P, C)  sum, its LayerNorm
    let encoderMean: UnsafeMutablePointer<Float>, encoderRstd: UnsafeMutablePointer<Float>  // (P)
    let encoderLayers: [EncoderDecoderLayerBuffers]
    let encoderProbs: [UnsafeMutablePointer<Float>]  // Le × (NH, S, S)
    let decoderEmbedded: UnsafeMutablePointer<Float>, decoderInput: UnsafeMutablePointer<Float>  // (P, C)
    let decoderMean: UnsafeMutablePointer<Float>, decoderRstd: UnsafeMutablePointer<Float>  // (P)
    let decoderLayers: [EncoderDecoderLayerBuffers]
    let decoderProbs: [UnsafeMutablePointer<Float>], crossProbs: [UnsafeMutablePointer<Float>]  // Ld × (NH, T, T), (NH, T, S)
    let crossKeys: [UnsafeMutablePointer<Float>], crossValues: [UnsafeMutablePointer<Float>]  // Ld × (S, A)
    let logits: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>  // (T, V)
    let losses: UnsafeMutablePointer<Float>  // (T)

    public init(config: TransformerConfig) {
        let P = config.contextLength, C = config.width, A = config.heads * config.headSize, FF = config.feedForwardWidth
        let NH = config.heads, V = config.vocabularySize
        var allocations: [(pointer: UnsafeMutablePointer<Float>, count: Int)] = []
        func take(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
            pointer.initialize(repeating: 0, count: max(1, count))
            allocations.append((pointer, max(1, count)))
            return pointer
        }
        func sublayer() -> SublayerBuffers {
            SublayerBuffers(normed: take(P * C), out: take(P * C), sum: take(P * C), result: take(P * C), mean: take(P), rstd: take(P))
        }
        func attention() -> AttentionBuffers { AttentionBuffers(q: take(P * A), k: take(P * A), v: take(P * A), heads: take(P * A)) }
        func layer(decoder: Bool) -> EncoderDecoderLayerBuffers {
            EncoderDecoderLayerBuffers(
                selfAttention: attention(), selfSublayer: sublayer(), crossAttention: decoder ? attention() : nil,
                crossSublayer: decoder ? sublayer() : nil,
                feedForward: FeedForwardBuffers(hidden: take(P * FF), gate: take(1), activated: take(P * FF)),
                feedForwardSublayer: sublayer())
        }
        encoderEmbedded = take(P * C); encoderInput = take(P * C); encoderMean = take(P); encoderRstd = take(P)
        encoderLayers = (0..<config.encoderLayers).map { _ in layer(decoder: false) }
        encoderProbs = (0..<config.encoderLayers).map { _ in take(NH * P * P) }
        decoderEmbedded = take(P * C); decoderInput = take(P * C); decoderMean = take(P); decoderRstd = take(P)
        decoderLayers = (0..<config.layers).map { _ in layer(decoder: true) }
        decoderProbs = (0..<config.layers).map { _ in take(NH * P * P) }
        crossProbs = (0..<config.layers).map { _ in take(NH * P * P) }
        crossKeys = (0..<config.layers).map { _ in take(P * A) }
        crossValues = (0..<config.layers).map { _ in take(P * A) }
        logits = take(P * V); probs = take(P * V); losses = take(P)
        self.allocations = allocations
    }

    /// The encoder's output: its last block's stream (BART has no final norm).
    var encoderOutput: UnsafeMutablePointer<Float> { encoderLayers.last!.feedForwardSublayer.result }
    var decoderOutput: UnsafeMutablePointer<Float> { decoderLayers.last!.feedForwardSublayer.result }

    func zero() { for (pointer, count) in allocations { pointer.update(repeating: 0, count: count) } }

    deinit { for (pointer, _) in allocations { pointer.deallocate() } }
}

// MARK: - Model

/// One training pair: the encoder's input and the decoder's labels (the target, ending in EOS).
public struct SequencePair: Sendable, Equatable {
    public var source: [Int]
    public var labels: [Int]

    public init(source: [Int], labels: [Int]) {
        self.source = source
        self.labels = labels
    }

    /// The pairs of a `[B, width]` batch: each row's ids up to its first −1 (padding).
    public static func pairs(inputs: [Int32], targets: [Int32], B: Int) -> [SequencePair] {
        let width = inputs.count / max(B, 1)
        return (0..<B).map { b in
            func row(_ values: [Int32]) -> [Int] { values[(b * width)..<((b + 1) * width)].prefix { $0 >= 0 }.map(Int.init) }
            return SequencePair(source: row(inputs), labels: row(targets))
        }
    }
}

/// A BART-layout encoder–decoder for training: parameters plus the forward and backward drivers.
public struct Seq2SeqTrainingModel: Sendable {
    public let config: TransformerConfig
    public var parameters: Seq2SeqParameters

    public init(config: TransformerConfig, parameters: Seq2SeqParameters) {
        precondition(parameters.layout.config == config, "Seq2SeqTrainingModel: parameters were laid out for another configuration")
        self.config = config
        self.parameters = parameters
    }

    public init(config: TransformerConfig, seed: UInt64) {
        self.init(config: config, parameters: Seq2SeqParameters(randomFor: config, seed: seed))
    }

    private var decoderStart: Int { config.decoderStartTokenId ?? config.eosTokenId ?? 0 }

    /// The mean cross-entropy over every label of `pairs` (`[B, width]` rows, −1 padded: sources in
    /// `inputs`, labels in `targets`); nil without targets or labels.
    @discardableResult
    public func forward(inputs: [Int32], targets: [Int32]?, B: Int, activations a: Seq2SeqActivations) -> Float? {
        guard let targets else { return nil }
        let pairs = SequencePair.pairs(inputs: inputs, targets: targets, B: B)
        let count = pairs.reduce(0) { $0 + $1.labels.count }
        guard count > 0 else { return nil }
        var total: Float = 0
        for pair in pairs where !pair.labels.isEmpty && !pair.source.isEmpty {
            total += pairForward(pair, activations: a, capture: .nothing).loss
        }
        return total / Float(count)
    }

    /// The encoder's and decoder's records of one pair, in the engine's record vocabulary.
    public func records(of pair: SequencePair, capture: CaptureSpec) -> [String: Tensor] {
        pairForward(pair, activations: Seq2SeqActivations(config: config), capture: capture).records
    }

    private func check(_ pair: SequencePair) {
        let V = config.vocabularySize, P = config.contextLength
        precondition(
            pair.source.count <= P && pair.labels.count <= P && (pair.source + pair.labels).allSatisfy { $0 >= 0 && $0 < V },
            "Seq2SeqTrainingModel: a pair of \(pair.source.count) and \(pair.labels.count) tokens does not fit \(P) positions and \(V) ids")
    }

    /// One pair through both stacks and the head: the sum of its labels' losses (and records).
    private func pairForward(
        _ pair: SequencePair, activations a: Seq2SeqActivations, capture: CaptureSpec
    ) -> (loss: Float, records: [String: Tensor]) {
        check(pair)
        let S = pair.source.count, T = pair.labels.count, C = config.width, NH = config.heads, hs = config.headSize, A = NH * hs
        let V = config.vocabularySize
        let decoderInputs = [decoderStart] + pair.labels.dropLast()
        var encoderRecorder = Recorder(spec: capture, rows: S, scope: RecordKind.encoderScope)
        var decoderRecorder = Recorder(spec: capture, rows: T)
        var loss: Float = 0
        parameters.values.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress!, layout = parameters.layout
            let encoder = layout.stackView(base, decoder: false), decoder = layout.stackView(base, decoder: true)
            EncoderDecoderPass.embed(
                tokens: pair.source, start: 0, table: .floats(base + layout.offset(.wte)), stack: encoder, config: config,
                x: a.encoderInput,
                embedded: a.encoderEmbedded, mean: a.encoderMean, rstd: a.encoderRstd, recorder: &encoderRecorder)
            EncoderDecoderPass.blocks(
                encoder, input: a.encoderInput, output: a.encoderOutput, rows: S, config: config, layers: { a.encoderLayers[$0] },
                selfAttention: { l, b, recorder in
                    SeparateAttention(queries: S, keys: S, config: config, causal: false).forward(
                        q: b.q, k: b.k, v: b.v, out: b.heads, probs: a.encoderProbs[l])
                    recorder.perHeadRows(.pattern, layer: l, a.encoderProbs[l], heads: NH, keys: S)
                },
                cross: nil, recorder: &encoderRecorder)
            for l in 0..<config.layers {
                let cross = layout.blockView(base, layer: l, decoder: true).cross!
                linearForward(out: a.crossKeys[l], input: a.encoderOutput, weight: cross.k, bias: cross.kBias, T: S, C: C, OC: A)
                linearForward(out: a.crossValues[l], input: a.encoderOutput, weight: cross.v, bias: cross.vBias, T: S, C: C, OC: A)
            }
            EncoderDecoderPass.embed(
                tokens: decoderInputs, start: 0, table: .floats(base + layout.offset(.wte)), stack: decoder, config: config,
                x: a.decoderInput, embedded: a.decoderEmbedded, mean: a.decoderMean, rstd: a.decoderRstd, recorder: &decoderRecorder)
            EncoderDecoderPass.blocks(
                decoder, input: a.decoderInput, output: a.decoderOutput, rows: T, config: config, layers: { a.decoderLayers[$0] },
                selfAttention: { l, b, recorder in
                    SeparateAttention(queries: T, keys: T, config: config, causal: true).forward(
                        q: b.q, k: b.k, v: b.v, out: b.heads, probs: a.decoderProbs[l])
                    recorder.perHeadRows(.pattern, layer: l, a.decoderProbs[l], heads: NH, keys: T)
                },
                cross: { l, b, recorder in
                    SeparateAttention(queries: T, keys: S, config: config, causal: false).forward(
                        q: b.q, k: a.crossKeys[l], v: a.crossValues[l], out: b.heads, probs: a.crossProbs[l])
                    recorder.perHeadRows(.crossPattern, layer: l, a.crossProbs[l], heads: NH, keys: S)
                },
                recorder: &decoderRecorder)
            linearForward(
                out: a.logits, input: a.decoderOutput, weight: base + layout.offset(.wte), bias: base + layout.offset(.logitsBias), T: T,
                C: C,
                OC: V)
        }
        pair.labels.map(Int32.init).withUnsafeBufferPointer {
            fastSoftmaxCrossEntropyForward(probs: a.probs, losses: a.losses, logits: a.logits, targets: $0.baseAddress!, N: T, V: V)
        }
        for t in 0..<T { loss += a.losses[t] }
        return (loss, encoderRecorder.records.merging(decoderRecorder.records) { first, _ in first })
    }

    // MARK: Backward driver

    /// Gradient of the batch's mean loss (every label of every pair counts once) with respect to
    /// every parameter, ADDED into `gradients`. Each pair is run forward again, then backward.
    public func backward(
        inputs: [Int32], targets: [Int32], B: Int, activations a: Seq2SeqActivations, activationGradients g: Seq2SeqActivations,
        gradients: inout Seq2SeqParameters
    ) {
        precondition(
            gradients.layout == parameters.layout, "Seq2SeqTrainingModel.backward: gradients are laid out for another configuration")
        let pairs = SequencePair.pairs(inputs: inputs, targets: targets, B: B).filter { !$0.labels.isEmpty && !$0.source.isEmpty }
        let count = pairs.reduce(0) { $0 + $1.labels.count }
        guard count > 0 else { return }
        for pair in pairs {
            _ = pairForward(pair, activations: a, capture: .nothing)
            g.zero()
            pairBackward(pair, share: 1 / Float(count), a, g, gradients: &gradients)
        }
    }

    private func pairBackward(
        _ pair: SequencePair, share: Float, _ a: Seq2SeqActivations, _ g: Seq2SeqActivations, gradients: inout Seq2SeqParameters
    ) {
        let S = pair.source.count, T = pair.labels.count, C = config.width, NH = config.heads, hs = config.headSize, A = NH * hs
        let V = config.vocabularySize, layout = parameters.layout
        let decoderInputs = [decoderStart] + pair.labels.dropLast()
        for t in 0..<T { g.losses[t] = share }
        parameters.values.withUnsafeBufferPointer { parameterBuffer in
            gradients.values.withUnsafeMutableBufferPointer { gradientBuffer in
                let base = parameterBuffer.baseAddress!, dbase = gradientBuffer.baseAddress!
                func d(_ tensor: Seq2SeqParameterTensor) -> UnsafeMutablePointer<Float> { dbase + layout.offset(tensor) }
                pair.labels.map(Int32.init).withUnsafeBufferPointer {
                    fastCrossEntropySoftmaxBackward(
                        dlogits: g.logits, dlosses: g.losses, probs: a.probs, targets: $0.baseAddress!, N: T, V: V)
                }
                matmulBackward(
                    dinp: g.decoderOutput, dweight: d(.wte), dbias: d(.logitsBias), dout: g.logits, inp: a.decoderOutput,
                    weight: base + layout.offset(.wte), N: T, C: C, OC: V)
                // The decoder's blocks, last first; cross-attention's keys and values collect their gradients per layer.
                for l in stride(from: config.layers - 1, through: 0, by: -1) {
                    let input = l == 0 ? a.decoderInput : a.decoderLayers[l - 1].feedForwardSublayer.result
                    let inputGradient = l == 0 ? g.decoderInput : g.decoderLayers[l - 1].feedForwardSublayer.result
                    EncoderDecoderPass.blockBackward(
                        layer: l, layout.blockView(base, layer: l, decoder: true), layout.blockGradients(dbase, layer: l, decoder: true),
                        input: input, inputGradient: inputGradient, a.decoderLayers[l], g.decoderLayers[l], rows: T, config: config,
                        selfAttention: { l, forward, gradient in
                            SeparateAttention(queries: T, keys: T, config: config, causal: true).backward(
                                dq: gradient.q, dk: gradient.k, dv: gradient.v, dout: gradient.heads, q: forward.q, k: forward.k,
                                v: forward.v, probs: a.decoderProbs[l])
                        },
                        cross: { l, forward, gradient in
                            SeparateAttention(queries: T, keys: S, config: config, causal: false).backward(
                                dq: gradient.q, dk: g.crossKeys[l], dv: g.crossValues[l], dout: gradient.heads, q: forward.q,
                                k: a.crossKeys[l], v: a.crossValues[l], probs: a.crossProbs[l])
                        })
                    let cross = layout.blockGradients(dbase, layer: l, decoder: true).cross!
                    let crossWeights = layout.blockView(base, layer: l, decoder: true).cross!
                    matmulBackward(
                        dinp: g.encoderOutput, dweight: cross.k, dbias: cross.kBias, dout: g.crossKeys[l], inp: a.encoderOutput,
                        weight: crossWeights.k.trainingFloats, N: S, C: C, OC: A)
                    matmulBackward(
                        dinp: g.encoderOutput, dweight: cross.v, dbias: cross.vBias, dout: g.crossValues[l], inp: a.encoderOutput,
                        weight: crossWeights.v.trainingFloats, N: S, C: C, OC: A)
                }
                embeddingBackward(
                    tokens: decoderInputs, embedded: a.decoderEmbedded, mean: a.decoderMean, rstd: a.decoderRstd, dInput: g.decoderInput,
                    dEmbedded: g.decoderEmbedded, norm: (.decEmbLnw, .decEmbLnb), positions: .decWpe, base: base, dbase: dbase)
                for l in stride(from: config.encoderLayers - 1, through: 0, by: -1) {
                    let input = l == 0 ? a.encoderInput : a.encoderLayers[l - 1].feedForwardSublayer.result
                    let inputGradient = l == 0 ? g.encoderInput : g.encoderLayers[l - 1].feedForwardSublayer.result
                    EncoderDecoderPass.blockBackward(
                        layer: l, layout.blockView(base, layer: l, decoder: false), layout.blockGradients(dbase, layer: l, decoder: false),
                        input: input, inputGradient: inputGradient, a.encoderLayers[l], g.encoderLayers[l], rows: S, config: config,
                        selfAttention: { l, forward, gradient in
                            SeparateAttention(queries: S, keys: S, config: config, causal: false).backward(
                                dq: gradient.q, dk: gradient.k, dv: gradient.v, dout: gradient.heads, q: forward.q, k: forward.k,
                                v: forward.v, probs: a.encoderProbs[l])
                        },
                        cross: nil)
                }
                embeddingBackward(
                    tokens: pair.source, embedded: a.encoderEmbedded, mean: a.encoderMean, rstd: a.encoderRstd, dInput: g.encoderInput,
                    dEmbedded: g.encoderEmbedded, norm: (.encEmbLnw, .encEmbLnb), positions: .encWpe, base: base, dbase: dbase)
            }
        }
    }

    /// The embeddings' backward: their LayerNorm, then the token rows (× √C when scaled) and the
    /// position rows (offset as the config says).
    private func embeddingBackward(
        tokens: [Int], embedded: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, dInput: UnsafePointer<Float>,
        dEmbedded: UnsafeMutablePointer<Float>, norm: (weight: Seq2SeqParameterTensor, bias: Seq2SeqParameterTensor),
        positions: Seq2SeqParameterTensor, base: UnsafePointer<Float>, dbase: UnsafeMutablePointer<Float>
    ) {
        let N = tokens.count, C = config.width, layout = parameters.layout
        layerNormBackward(
            dinp: dEmbedded, dweight: dbase + layout.offset(norm.weight), dbias: dbase + layout.offset(norm.bias), dout: dInput,
            inp: embedded, weight: base + layout.offset(norm.weight), mean: mean, rstd: rstd, N: N, C: C)
        let tokenScale: Float = config.scalesEmbeddings ? Float(C).squareRoot() : 1
        let wte = dbase + layout.offset(.wte), wpe = dbase + layout.offset(positions)
        for n in 0..<N {
            let row = dEmbedded + n * C, token = wte + tokens[n] * C, position = wpe + (n + config.positionOffset) * C
            for i in 0..<C {
                token[i] += tokenScale * row[i]
                position[i] += row[i]
            }
        }
    }
}

/// Training's attention over separate `q[Tq, A]`, `k[Tk, A]` and `v[Tk, A]` (A = NH·hs, heads
/// side by side) into `out[Tq, A]`, keeping `probs[NH, Tq, Tk]` for the backward pass: the
/// encoder's self-attention, the decoder's (causal), and cross-attention from decoder rows to
/// encoder rows.
private struct SeparateAttention {
    let shape: AttentionShape

    init(queries: Int, keys: Int, config: TransformerConfig, causal: Bool) {
        shape = AttentionShape(
            queries: queries, keys: keys, heads: config.heads, headSize: config.headSize, scale: config.attentionScoreScale,
            mask: causal ? .causal() : .none)
    }

    private var strides: AttentionStrides { .sideBySide(rowWidth: shape.heads * shape.headSize, headSize: shape.headSize) }

    func forward(
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
        probs: UnsafeMutablePointer<Float>
    ) {
        attentionForward(
            shape, q: AttentionInput(q, strides), k: AttentionInput(k, strides), v: AttentionInput(v, strides),
            out: AttentionOutput(out, strides), probs: probs, softmax: .vectorised)
    }

    /// ADDS into `dq`, `dk` and `dv`.
    func backward(
        dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, probs: UnsafePointer<Float>
    ) {
        attentionBackward(
            shape, dq: AttentionOutput(dq, strides), dk: AttentionOutput(dk, strides), dv: AttentionOutput(dv, strides),
            dout: AttentionInput(dout, strides), q: AttentionInput(q, strides), k: AttentionInput(k, strides),
            v: AttentionInput(v, strides), probs: probs)
    }
}
