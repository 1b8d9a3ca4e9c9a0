import Foundation
import Tensors

// BERT for masked-language-model training, laid out as GPT2Training.swift is: every parameter in
// one flat buffer with named views, every activation in one struct, gradients in buffers the
// caller owns. The forward and backward passes of the blocks are BertPass's (the definition
// inference runs); this file embeds the batch and adds the MLM head and its loss, computed only
// at the masked positions (targets of −1 elsewhere).
// Letters: B batch, T sequence length, N = B·T rows, M masked rows, C width, NH heads, FF feed-
// forward width, V vocabulary, L layers, P positions, TT token types.

// MARK: - Parameters

/// The parameter tensors, in the order they lie in the flat buffer.
public enum BertParameterTensor: Int, ParameterTensorKind {
    case wte  // (V, C)       word embedding, also the MLM decoder (tied)
    case wpe  // (P, C)       position embedding
    case wtt  // (TT, C)      token-type embedding
    case embLnw  // (C)       embedding LayerNorm
    case embLnb  // (C)
    case qkvw  // (L, 3C, C)   query, key, value stacked
    case qkvb  // (L, 3C)
    case attprojw  // (L, C, C)
    case attprojb  // (L, C)
    case attLnw  // (L, C)    LayerNorm after the attention's addition
    case attLnb  // (L, C)
    case fcw  // (L, FF, C)
    case fcb  // (L, FF)
    case fcprojw  // (L, C, FF)
    case fcprojb  // (L, C)
    case mlpLnw  // (L, C)    LayerNorm after the MLP's addition
    case mlpLnb  // (L, C)
    case headw  // (C, C)     MLM head transform
    case headb  // (C)
    case headLnw  // (C)
    case headLnb  // (C)
    case headBias  // (V)     the decoder's bias

    public func shape(_ config: TransformerConfig) -> [Int] {
        let C = config.width, FF = config.feedForwardWidth, L = config.layers
        switch self {
        case .wte: return [config.vocabularySize, C]
        case .wpe: return [config.contextLength, C]
        case .wtt: return [config.tokenTypes, C]
        case .embLnw, .embLnb, .headb, .headLnw, .headLnb: return [C]
        case .qkvw: return [L, 3 * C, C]
        case .qkvb: return [L, 3 * C]
        case .attprojw: return [L, C, C]
        case .attprojb, .attLnw, .attLnb, .fcprojb, .mlpLnw, .mlpLnb: return [L, C]
        case .fcw: return [L, FF, C]
        case .fcb: return [L, FF]
        case .fcprojw: return [L, C, FF]
        case .headw: return [C, C]
        case .headBias: return [config.vocabularySize]
        }
    }

    public var isPerLayer: Bool { (BertParameterTensor.qkvw.rawValue...BertParameterTensor.mlpLnb.rawValue).contains(rawValue) }

    public var isMatrix: Bool { [.wte, .wpe, .wtt, .qkvw, .attprojw, .fcw, .fcprojw, .headw].contains(self) }

    public static func unsupported(_ config: TransformerConfig) -> String? {
        config.family == .bert && config.tiedEmbeddings && config.head == .maskedToken && config.tokenTypes >= 1
            && config.heads * config.headSize == config.width
            ? nil : "needs a BERT configuration with a tied masked-language head, token types and C = NH·hs"
    }
}

public typealias BertParameters = FlatParameters<BertParameterTensor>

extension ParameterLayout where Kind == BertParameterTensor {
    /// BertPass's view of the flat buffer at `base`.
    func view(_ base: UnsafePointer<Float>) -> BertParameterView {
        BertParameterView(
            tokenEmbedding: .floats(base + offset(.wte)), positionEmbedding: base + offset(.wpe),
            typeEmbedding: base + offset(.wtt), embedNormWeight: base + offset(.embLnw), embedNormBias: base + offset(.embLnb),
            blocks: (0..<config.layers).map { blockView(base, layer: $0) })
    }

    func blockView(_ base: UnsafePointer<Float>, layer l: Int) -> BertBlockView {
        func p(_ tensor: BertParameterTensor) -> UnsafePointer<Float> { base + offset(tensor, layer: l) }
        return BertBlockView(
            qkvWeight: .floats(p(.qkvw)), qkvBias: p(.qkvb), attnProjWeight: .floats(p(.attprojw)), attnProjBias: p(.attprojb),
            attnNormWeight: p(.attLnw), attnNormBias: p(.attLnb), fcWeight: .floats(p(.fcw)), fcBias: p(.fcb),
            mlpProjWeight: .floats(p(.fcprojw)), mlpProjBias: p(.fcprojb), mlpNormWeight: p(.mlpLnw), mlpNormBias: p(.mlpLnb))
    }

    func blockGradients(_ base: UnsafeMutablePointer<Float>, layer l: Int) -> BertBlockGradients {
        func d(_ tensor: BertParameterTensor) -> UnsafeMutablePointer<Float> { base + offset(tensor, layer: l) }
        return BertBlockGradients(
            qkvWeight: d(.qkvw), qkvBias: d(.qkvb), attnProjWeight: d(.attprojw), attnProjBias: d(.attprojb),
            attnNormWeight: d(.attLnw), attnNormBias: d(.attLnb), fcWeight: d(.fcw), fcBias: d(.fcb),
            mlpProjWeight: d(.fcprojw), mlpProjBias: d(.fcprojb), mlpNormWeight: d(.mlpLnw), mlpNormBias: d(.mlpLnb))
    }
}

extension BertParameters {
    /// BERT's initialisation (`initializer_range` 0.02): every matrix normal with std 0.02, norm
    /// gains 1, biases 0.
    public init(randomFor config: TransformerConfig, seed: UInt64) {
        self.init(zerosFor: config)
        var random = SplitMix64(seed: seed)
        for tensor in BertParameterTensor.allCases {
            let range = layout.range(tensor)
            if tensor.isMatrix {
                values.replaceSubrange(range, with: random.normals(range.count, standardDeviation: 0.02))
            } else if [.embLnw, .attLnw, .mlpLnw, .headLnw].contains(tensor) {
                values.replaceSubrange(range, with: repeatElement(1, count: range.count))
            }
        }
    }
}

// MARK: - Activations

/// Every intermediate of one forward pass over a `[B, T]` batch, kept for the backward pass. One
/// allocation; the same class holds the activations' gradients in `backward`. The MLM head's
/// buffers have room for every row; a batch uses its first M (the masked rows).
public final class BertActivations {
    public let B: Int, T: Int
    private let width: Int, feedForwardWidth: Int
    public let encoded: UnsafeMutablePointer<Float>  // (N, C)         word + position + type embeddings
    public let embLn: UnsafeMutablePointer<Float>  // (N, C)           their LayerNorm: the stream into block 0
    public let embMean: UnsafeMutablePointer<Float>, embRstd: UnsafeMutablePointer<Float>  // (N)
    public let qkv: UnsafeMutablePointer<Float>  // (L, N, 3C)
    public let atty: UnsafeMutablePointer<Float>  // (L, N, C)         heads' outputs
    /// (L, B, NH, T, T) attention pattern; empty in an instance made `forGradients` (the
    /// attention backward keeps its own scratch). Scores are not kept: no backward reads them.
    public let att: UnsafeMutablePointer<Float>
    public let attproj: UnsafeMutablePointer<Float>  // (L, N, C)
    public let attsum: UnsafeMutablePointer<Float>  // (L, N, C)       input + attproj
    public let attLn: UnsafeMutablePointer<Float>  // (L, N, C)        LayerNorm(attsum)
    public let attMean: UnsafeMutablePointer<Float>, attRstd: UnsafeMutablePointer<Float>  // (L, N)
    public let fch: UnsafeMutablePointer<Float>  // (L, N, FF)
    public let fchGelu: UnsafeMutablePointer<Float>  // (L, N, FF)
    public let fcproj: UnsafeMutablePointer<Float>  // (L, N, C)
    public let mlpsum: UnsafeMutablePointer<Float>  // (L, N, C)       attLn + fcproj
    public let mlpLn: UnsafeMutablePointer<Float>  // (L, N, C)        LayerNorm(mlpsum): the block's output
    public let mlpMean: UnsafeMutablePointer<Float>, mlpRstd: UnsafeMutablePointer<Float>  // (L, N)
    public let headIn: UnsafeMutablePointer<Float>  // (M, C)          the last block's masked rows
    public let headDense: UnsafeMutablePointer<Float>  // (M, C)
    public let headGelu: UnsafeMutablePointer<Float>  // (M, C)
    public let headLn: UnsafeMutablePointer<Float>  // (M, C)
    public let headMean: UnsafeMutablePointer<Float>, headRstd: UnsafeMutablePointer<Float>  // (M)
    public let logits: UnsafeMutablePointer<Float>  // (M, V)
    public let probs: UnsafeMutablePointer<Float>  // (M, V)
    public let losses: UnsafeMutablePointer<Float>  // (M)
    private let arena: ActivationArena
    /// Total number of floats.
    public var count: Int { arena.count }

    public init(config: TransformerConfig, B: Int, T: Int, forGradients: Bool = false) {
        precondition(
            B > 0 && T > 0 && T <= config.contextLength, "BertActivations: [\(B), \(T)] does not fit the context \(config.contextLength)")
        let L = config.layers, C = config.width, NH = config.heads, FF = config.feedForwardWidth, V = config.vocabularySize
        let N = B * T, A = forGradients ? 0 : L * B * NH * T * T
        let sizes = [
            N * C, N * C, N, N,
            L * N * 3 * C, L * N * C, A, L * N * C, L * N * C, L * N * C, L * N, L * N,
            L * N * FF, L * N * FF, L * N * C, L * N * C, L * N * C, L * N, L * N,
            N * C, N * C, N * C, N * C, N, N, N * V, N * V, N
        ]
        arena = ActivationArena(sizes: sizes)
        let starts = arena.slices
        self.B = B; self.T = T; width = C; feedForwardWidth = FF
        encoded = starts[0]; embLn = starts[1]; embMean = starts[2]; embRstd = starts[3]
        qkv = starts[4]; atty = starts[5]; att = starts[6]; attproj = starts[7]; attsum = starts[8]
        attLn = starts[9]; attMean = starts[10]; attRstd = starts[11]; fch = starts[12]; fchGelu = starts[13]
        fcproj = starts[14]; mlpsum = starts[15]; mlpLn = starts[16]; mlpMean = starts[17]; mlpRstd = starts[18]
        headIn = starts[19]; headDense = starts[20]; headGelu = starts[21]; headLn = starts[22]
        headMean = starts[23]; headRstd = starts[24]; logits = starts[25]; probs = starts[26]; losses = starts[27]
    }

    /// Layer `l`'s slices, as BertPass writes (or, for gradients, reads and accumulates) them.
    func layer(_ l: Int) -> BertLayerBuffers {
        let N = B * T, C = width, FF = feedForwardWidth
        return BertLayerBuffers(
            qkv: qkv + l * N * 3 * C, heads: atty + l * N * C, attnProj: attproj + l * N * C, attnSum: attsum + l * N * C,
            residualMid: attLn + l * N * C, attnNormMean: attMean + l * N, attnNormRstd: attRstd + l * N,
            fcHidden: fch + l * N * FF, mlpHidden: fchGelu + l * N * FF, mlpProj: fcproj + l * N * C,
            mlpSum: mlpsum + l * N * C, residualPost: mlpLn + l * N * C, mlpNormMean: mlpMean + l * N,
            mlpNormRstd: mlpRstd + l * N)
    }

    /// The stream entering layer `l`: the normalised embeddings, or the previous layer's output.
    func blockInput(_ l: Int) -> UnsafeMutablePointer<Float> {
        l == 0 ? embLn : mlpLn + (l - 1) * B * T * width
    }

    public func zero() { arena.zero() }
}

// MARK: - Model

/// A masked-language BERT for training: parameters plus the forward and backward drivers.
public struct BertTrainingModel: Sendable {
    public let config: TransformerConfig
    public var parameters: BertParameters
    /// The precision of every linear layer's and attention's products, forward and backward.
    public var products: ProductPrecision = .f32

    public init(config: TransformerConfig, parameters: BertParameters) {
        precondition(parameters.layout.config == config, "BertTrainingModel: parameters were laid out for another configuration")
        self.config = config
        self.parameters = parameters
    }

    public init(config: TransformerConfig, seed: UInt64) {
        self.init(config: config, parameters: BertParameters(randomFor: config, seed: seed))
    }

    /// Runs `inputs[B, T]` (token ids with some replaced by [MASK] or another token) through the
    /// encoder, filling `activations`. With `targets[B, T]` (the original token at each masked
    /// position, −1 elsewhere) it scores the masked rows and returns their mean cross-entropy;
    /// nil when no row is masked or without targets.
    @discardableResult
    public func forward(inputs: [Int32], targets: [Int32]?, activations a: BertActivations) -> Float? {
        let V = config.vocabularySize
        checkTrainingBatch(inputs: inputs, targets: targets, B: a.B, T: a.T, vocabulary: V, model: "BertTrainingModel")
        _ = encoderPass(inputs: inputs, activations: a, capture: .nothing)
        guard let targets else { return nil }
        let masked = targets.indices.filter { targets[$0] >= 0 }
        guard !masked.isEmpty else { return nil }
        headForward(rows: masked, activations: a)
        let M = masked.count, maskedTargets = masked.map { targets[$0] }
        maskedTargets.withUnsafeBufferPointer {
            fastSoftmaxCrossEntropyForward(probs: a.probs, losses: a.losses, logits: a.logits, targets: $0.baseAddress!, N: M, V: V)
        }
        var total: Float = 0
        for m in 0..<M { total += a.losses[m] }
        return total / Float(M)
    }

    /// Records of one sequence's forward pass (token types 0), in the engine's record vocabulary.
    public func records(of tokens: [Int32], capture: CaptureSpec) -> [String: Tensor] {
        precondition(
            tokens.count >= 1 && tokens.count <= config.contextLength, "BertTrainingModel.records: 1…\(config.contextLength) tokens")
        return encoderPass(inputs: tokens, activations: BertActivations(config: config, B: 1, T: tokens.count), capture: capture)
    }

    /// BertPass's forward over the batch (attention both ways within each sequence), keeping every activation.
    private func encoderPass(inputs: [Int32], activations a: BertActivations, capture: CaptureSpec) -> [String: Tensor] {
        let B = a.B, T = a.T, N = B * T, NH = config.heads
        var recorder = Recorder(spec: capture, rows: N)
        parameters.values.withUnsafeBufferPointer { buffer in
            let attention = FusedQKVAttention.WithinSequences(sequences: B, length: T, config: config, causal: false, products: products)
            BertPass.forward(
                tokens: inputs.map(Int.init), tokenTypes: Array(repeating: 0, count: N), sequenceLength: T,
                parameters.layout.view(buffer.baseAddress!), config: config, embedded: a.encoded, embeddedNorm: a.embLn,
                embeddedMean: a.embMean, embeddedRstd: a.embRstd, layers: a.layer, products: products,
                attention: { l, qkv, heads, recorder in
                    attention.forward(qkv: qkv, heads: heads, probs: a.att + l * B * NH * T * T, recorder: &recorder, layer: l)
                },
                recorder: &recorder)
        }
        return recorder.records
    }

    /// The MLM head on the last block's rows `rows`: gathered into `headIn[M, C]`, then
    /// `logits = LayerNorm(gelu(headIn · Wᵀ + b)) · wteᵀ + bias`.
    private func headForward(rows: [Int], activations a: BertActivations) {
        let M = rows.count, C = config.width, V = config.vocabularySize, N = a.B * a.T
        let last = a.mlpLn + (config.layers - 1) * N * C
        for (m, row) in rows.enumerated() { (a.headIn + m * C).update(from: last + row * C, count: C) }
        parameters.values.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress!, layout = parameters.layout
            linearForward(
                out: a.headDense, input: a.headIn, weight: base + layout.offset(.headw), bias: base + layout.offset(.headb), T: M, C: C,
                OC: C, products: products)
            geluErfForward(out: a.headGelu, input: a.headDense, count: M * C)
            fastLayerNormForward(
                out: a.headLn, input: a.headGelu, weight: base + layout.offset(.headLnw), bias: base + layout.offset(.headLnb),
                T: M, C: C, eps: config.normEpsilon, mean: a.headMean, rstd: a.headRstd)
            linearForward(
                out: a.logits, input: a.headLn, weight: base + layout.offset(.wte), bias: base + layout.offset(.headBias), T: M, C: C,
                OC: V,
                products: products)
        }
    }

    // MARK: Backward driver

    /// Gradient of the mean masked loss of the last `forward` (same `inputs`, `targets`,
    /// `activations`) with respect to every parameter, ADDED into `gradients`.
    /// `activationGradients` is zeroed scratch of the same shape.
    public func backward(
        inputs: [Int32], targets: [Int32], activations a: BertActivations,
        activationGradients g: BertActivations, gradients: inout BertParameters
    ) {
        let B = a.B, T = a.T, N = B * T, L = config.layers, C = config.width, NH = config.heads, V = config.vocabularySize
        precondition(
            g.B == B && g.T == T, "BertTrainingModel.backward: activation gradients are [\(g.B), \(g.T)], activations [\(B), \(T)]")
        precondition(gradients.layout == parameters.layout, "BertTrainingModel.backward: gradients are laid out for another configuration")
        let masked = targets.indices.filter { targets[$0] >= 0 }
        guard !masked.isEmpty else { return }
        let M = masked.count, layout = parameters.layout, maskedTargets = masked.map { targets[$0] }
        g.zero()
        for m in 0..<M { g.losses[m] = 1 / Float(M) }

        parameters.values.withUnsafeBufferPointer { parameterBuffer in
            gradients.values.withUnsafeMutableBufferPointer { gradientBuffer in
                let base = parameterBuffer.baseAddress!, dbase = gradientBuffer.baseAddress!
                func p(_ tensor: BertParameterTensor) -> UnsafePointer<Float> { base + layout.offset(tensor) }
                func d(_ tensor: BertParameterTensor) -> UnsafeMutablePointer<Float> { dbase + layout.offset(tensor) }

                // The head, in reverse, on the M masked rows.
                maskedTargets.withUnsafeBufferPointer {
                    fastCrossEntropySoftmaxBackward(
                        dlogits: g.logits, dlosses: g.losses, probs: a.probs, targets: $0.baseAddress!, N: M, V: V)
                }
                fastMatmulBackward(
                    dinp: g.headLn, dweight: d(.wte), dbias: d(.headBias), dout: g.logits, inp: a.headLn, weight: p(.wte), N: M, C: C,
                    OC: V,
                    products: products)
                fastLayerNormBackward(
                    dinp: g.headGelu, dweight: d(.headLnw), dbias: d(.headLnb), dout: g.headLn, inp: a.headGelu, weight: p(.headLnw),
                    mean: a.headMean, rstd: a.headRstd, N: M, C: C)
                geluErfBackward(dinp: g.headDense, inp: a.headDense, dout: g.headGelu, N: M * C)
                fastMatmulBackward(
                    dinp: g.headIn, dweight: d(.headw), dbias: d(.headb), dout: g.headDense, inp: a.headIn, weight: p(.headw),
                    N: M, C: C, OC: C, products: products)
                // Scatter the masked rows' gradients back into the last block's output.
                let dlast = g.mlpLn + (L - 1) * N * C
                for (m, row) in masked.enumerated() { addInPlace(dlast + row * C, g.headIn + m * C, count: C) }

                let attention = FusedQKVAttention.WithinSequences(
                    sequences: B, length: T, config: config, causal: false, products: products)
                for l in stride(from: L - 1, through: 0, by: -1) {
                    BertPass.blockBackward(
                        layer: l, layout.blockView(base, layer: l), layout.blockGradients(dbase, layer: l),
                        input: a.blockInput(l), inputGradient: g.blockInput(l), a.layer(l), g.layer(l), rows: N, config: config,
                        products: products,
                        attentionBackward: { dqkv, dheads in
                            attention.backward(dqkv: dqkv, dheads: dheads, qkv: a.qkv + l * N * 3 * C, probs: a.att + l * B * NH * T * T)
                        })
                }
                // The embeddings: their LayerNorm, then each table's rows.
                fastLayerNormBackward(
                    dinp: g.encoded, dweight: d(.embLnw), dbias: d(.embLnb), dout: g.embLn, inp: a.encoded, weight: p(.embLnw),
                    mean: a.embMean, rstd: a.embRstd, N: N, C: C)
                inputs.withUnsafeBufferPointer {
                    embeddingBackward(dwte: d(.wte), dwpe: d(.wpe), dout: g.encoded, inp: $0.baseAddress!, B: B, T: T, C: C)
                }
                // Every token is of type 0 in training: its row gets every position's gradient.
                for n in 0..<N { addInPlace(d(.wtt), g.encoded + n * C, count: C) }
            }
        }
    }
}
