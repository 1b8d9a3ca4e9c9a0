import Foundation
import Tensors

// GPT-2 for training, after llm.c's train_gpt2.c: every parameter in one flat buffer with named
// views, every activation in one struct with its shape beside it, gradients in buffers the caller
// owns. The forward and backward passes are GPT2Pass's (the same definition inference runs); this
// file lays out the storage, embeds the batch, and adds the tied unembedding and the loss.
// Order of this file: parameters → activations → model (init, forward, backward).
// Letters: B batch, T sequence length, C width, NH heads, hs head size, FF = 4C, V vocabulary,
// L layers, P context length (positions).

// MARK: - Parameters

/// The parameter tensors, in the order they lie in the flat buffer (llm.c's order). Per-layer
/// tensors have a leading `L`; weights are in the nn.Linear layout `[out, in]`.
public enum GPT2ParameterTensor: Int, ParameterTensorKind {
    case wte  // (V, C)       token embedding, also the unembedding (tied)
    case wpe  // (P, C)       position embedding
    case ln1w  // (L, C)
    case ln1b  // (L, C)
    case qkvw  // (L, 3C, C)
    case qkvb  // (L, 3C)
    case attprojw  // (L, C, C)
    case attprojb  // (L, C)
    case ln2w  // (L, C)
    case ln2b  // (L, C)
    case fcw  // (L, FF, C)
    case fcb  // (L, FF)
    case fcprojw  // (L, C, FF)
    case fcprojb  // (L, C)
    case lnfw  // (C)
    case lnfb  // (C)

    /// Full shape, with the leading `L` for per-layer tensors.
    public func shape(_ config: TransformerConfig) -> [Int] {
        let C = config.width, FF = config.feedForwardWidth, L = config.layers
        switch self {
        case .wte: return [config.vocabularySize, C]
        case .wpe: return [config.contextLength, C]
        case .ln1w, .ln1b, .attprojb, .ln2w, .ln2b, .fcprojb: return [L, C]
        case .qkvw: return [L, 3 * C, C]
        case .qkvb: return [L, 3 * C]
        case .attprojw: return [L, C, C]
        case .fcw: return [L, FF, C]
        case .fcb: return [L, FF]
        case .fcprojw: return [L, C, FF]
        case .lnfw, .lnfb: return [C]
        }
    }

    public var isPerLayer: Bool { ![.wte, .wpe, .lnfw, .lnfb].contains(self) }

    /// Matrices (embeddings and linear weights) get weight decay; biases and norm gains do not.
    public var isMatrix: Bool { [.wte, .wpe, .qkvw, .attprojw, .fcw, .fcprojw].contains(self) }

    public static func unsupported(_ config: TransformerConfig) -> String? {
        config.family == .gpt2 && config.tiedEmbeddings && config.heads * config.headSize == config.width
            ? nil : "needs a GPT-2 configuration with tied embeddings and C = NH·hs"
    }
}

public typealias GPT2ParameterLayout = ParameterLayout<GPT2ParameterTensor>
public typealias GPT2Parameters = FlatParameters<GPT2ParameterTensor>

extension GPT2ParameterLayout {
    /// GPT2Pass's view of the flat buffer at `base` (a parameter buffer).
    func view(_ base: UnsafePointer<Float>) -> GPT2ParameterView {
        GPT2ParameterView(
            tokenEmbedding: .floats(base + offset(.wte)), positionEmbedding: base + offset(.wpe),
            blocks: (0..<config.layers).map { blockView(base, layer: $0) },
            finalNormWeight: base + offset(.lnfw), finalNormBias: base + offset(.lnfb))
    }

    func blockView(_ base: UnsafePointer<Float>, layer l: Int) -> GPT2BlockView {
        func p(_ tensor: GPT2ParameterTensor) -> UnsafePointer<Float> { base + offset(tensor, layer: l) }
        return GPT2BlockView(
            ln1Weight: p(.ln1w), ln1Bias: p(.ln1b), qkvWeight: .floats(p(.qkvw)), qkvBias: p(.qkvb),
            attnProjWeight: .floats(p(.attprojw)), attnProjBias: p(.attprojb),
            ln2Weight: p(.ln2w), ln2Bias: p(.ln2b), fcWeight: .floats(p(.fcw)), fcBias: p(.fcb),
            mlpProjWeight: .floats(p(.fcprojw)), mlpProjBias: p(.fcprojb))
    }

    /// Where layer `l`'s gradients accumulate in the flat buffer at `base` (a gradient buffer).
    func blockGradients(_ base: UnsafeMutablePointer<Float>, layer l: Int) -> GPT2BlockGradients {
        func d(_ tensor: GPT2ParameterTensor) -> UnsafeMutablePointer<Float> { base + offset(tensor, layer: l) }
        return GPT2BlockGradients(
            ln1Weight: d(.ln1w), ln1Bias: d(.ln1b), qkvWeight: d(.qkvw), qkvBias: d(.qkvb),
            attnProjWeight: d(.attprojw), attnProjBias: d(.attprojb), ln2Weight: d(.ln2w), ln2Bias: d(.ln2b),
            fcWeight: d(.fcw), fcBias: d(.fcb), mlpProjWeight: d(.fcprojw), mlpProjBias: d(.fcprojb))
    }
}

extension GPT2Parameters {
    /// GPT-2's initialisation: normal with std 0.02, the two residual projections scaled by
    /// 1/√(2L) (so the residual stream's variance does not grow with depth), norm gains 1, biases 0.
    public init(randomFor config: TransformerConfig, seed: UInt64) {
        self.init(zerosFor: config)
        var random = SplitMix64(seed: seed)
        let projectionStd = 0.02 / Float(2 * config.layers).squareRoot()
        for tensor in GPT2ParameterTensor.allCases {
            let range = layout.range(tensor)
            switch tensor {
            case .wte, .wpe, .qkvw, .fcw:
                values.replaceSubrange(range, with: random.normals(range.count, standardDeviation: 0.02))
            case .attprojw, .fcprojw:
                values.replaceSubrange(range, with: random.normals(range.count, standardDeviation: projectionStd))
            case .ln1w, .ln2w, .lnfw:
                values.replaceSubrange(range, with: repeatElement(1, count: range.count))
            default:
                break
            }
        }
    }
}

// MARK: - Activations

/// Every intermediate of one forward pass over a `[B, T]` batch, kept for the backward pass and
/// for inspection. One allocation; the same struct holds the activations' gradients in `backward`.
public final class GPT2Activations {
    public let B: Int, T: Int
    private let width: Int, feedForwardWidth: Int
    public let encoded: UnsafeMutablePointer<Float>  // (B, T, C)       token + position embeddings
    public let ln1: UnsafeMutablePointer<Float>  // (L, B, T, C)
    public let ln1Mean: UnsafeMutablePointer<Float>  // (L, B, T)
    public let ln1Rstd: UnsafeMutablePointer<Float>  // (L, B, T)
    public let qkv: UnsafeMutablePointer<Float>  // (L, B, T, 3C)    q, k, v side by side
    public let atty: UnsafeMutablePointer<Float>  // (L, B, T, C)     heads' outputs, concatenated
    /// (L, B, NH, T, T) attention pattern; empty in an instance made `forGradients` (the
    /// attention backward keeps its own scratch). Scores are not kept: no backward reads them.
    public let att: UnsafeMutablePointer<Float>
    public let attproj: UnsafeMutablePointer<Float>  // (L, B, T, C)
    public let residual2: UnsafeMutablePointer<Float>  // (L, B, T, C)     residual after attention
    public let ln2: UnsafeMutablePointer<Float>  // (L, B, T, C)
    public let ln2Mean: UnsafeMutablePointer<Float>  // (L, B, T)
    public let ln2Rstd: UnsafeMutablePointer<Float>  // (L, B, T)
    public let fch: UnsafeMutablePointer<Float>  // (L, B, T, FF)    MLP hidden, before GELU
    public let fchGelu: UnsafeMutablePointer<Float>  // (L, B, T, FF)    after GELU
    public let fcproj: UnsafeMutablePointer<Float>  // (L, B, T, C)
    public let residual3: UnsafeMutablePointer<Float>  // (L, B, T, C)     residual after the MLP
    public let lnf: UnsafeMutablePointer<Float>  // (B, T, C)
    public let lnfMean: UnsafeMutablePointer<Float>  // (B, T)
    public let lnfRstd: UnsafeMutablePointer<Float>  // (B, T)
    public let logits: UnsafeMutablePointer<Float>  // (B, T, V)
    public let probs: UnsafeMutablePointer<Float>  // (B, T, V)
    public let losses: UnsafeMutablePointer<Float>  // (B, T)
    private let arena: ActivationArena
    /// Total number of floats.
    public var count: Int { arena.count }

    public init(config: TransformerConfig, B: Int, T: Int, forGradients: Bool = false) {
        precondition(
            B > 0 && T > 0 && T <= config.contextLength, "GPT2Activations: [\(B), \(T)] does not fit the context \(config.contextLength)")
        let L = config.layers, C = config.width, NH = config.heads, FF = config.feedForwardWidth, V = config.vocabularySize
        let N = B * T
        let sizes = [
            N * C, L * N * C, L * N, L * N, L * N * 3 * C, L * N * C, forGradients ? 0 : L * B * NH * T * T,
            L * N * C, L * N * C, L * N * C, L * N, L * N, L * N * FF, L * N * FF, L * N * C, L * N * C,
            N * C, N, N, N * V, N * V, N
        ]
        arena = ActivationArena(sizes: sizes)
        let starts = arena.slices
        self.B = B; self.T = T; width = C; feedForwardWidth = FF
        encoded = starts[0]; ln1 = starts[1]; ln1Mean = starts[2]; ln1Rstd = starts[3]; qkv = starts[4]
        atty = starts[5]; att = starts[6]; attproj = starts[7]; residual2 = starts[8]
        ln2 = starts[9]; ln2Mean = starts[10]; ln2Rstd = starts[11]; fch = starts[12]; fchGelu = starts[13]
        fcproj = starts[14]; residual3 = starts[15]; lnf = starts[16]; lnfMean = starts[17]; lnfRstd = starts[18]
        logits = starts[19]; probs = starts[20]; losses = starts[21]
    }

    /// Layer `l`'s slices, as GPT2Pass writes (or, for gradients, reads and accumulates) them.
    func layer(_ l: Int) -> GPT2LayerBuffers {
        let N = B * T, C = width, FF = feedForwardWidth
        return GPT2LayerBuffers(
            ln1: ln1 + l * N * C, ln1Mean: ln1Mean + l * N, ln1Rstd: ln1Rstd + l * N,
            qkv: qkv + l * N * 3 * C, heads: atty + l * N * C, attnProj: attproj + l * N * C,
            residualMid: residual2 + l * N * C, ln2: ln2 + l * N * C, ln2Mean: ln2Mean + l * N,
            ln2Rstd: ln2Rstd + l * N, fcHidden: fch + l * N * FF, mlpHidden: fchGelu + l * N * FF,
            mlpProj: fcproj + l * N * C, residualPost: residual3 + l * N * C)
    }

    /// The residual stream entering layer `l`: the embeddings, or the previous layer's output.
    func blockInput(_ l: Int) -> UnsafeMutablePointer<Float> {
        l == 0 ? encoded : residual3 + (l - 1) * B * T * width
    }

    public func zero() { arena.zero() }
}

// MARK: - Model

/// GPT-2 for training: parameters plus the forward and backward drivers. Buffers for activations
/// and gradients belong to the caller, so one training loop allocates them once.
public struct GPT2TrainingModel: Sendable {
    public let config: TransformerConfig
    public var parameters: GPT2Parameters
    /// The precision of every linear layer's and attention's products, forward and backward
    /// (`ProductPrecision`).
    public var products: ProductPrecision = .f32

    public init(config: TransformerConfig, parameters: GPT2Parameters) {
        precondition(parameters.layout.config == config, "GPT2TrainingModel: parameters were laid out for another configuration")
        self.config = config
        self.parameters = parameters
    }

    /// Fresh GPT-2-initialised weights.
    public init(config: TransformerConfig, seed: UInt64) {
        self.init(config: config, parameters: GPT2Parameters(randomFor: config, seed: seed))
    }

    // MARK: Forward driver

    /// Runs `inputs[B, T]` (token ids, row-major) through the model, filling `activations`.
    /// With `targets[B, T]` (the next token at each position) it also computes the probabilities
    /// and per-position losses and returns the mean cross-entropy loss over the scored positions
    /// (a target −1 is not scored: text the model reads but is not trained to write, see
    /// `UnscoredSpans`; a batch with none scored has loss 0); without targets, only logits.
    @discardableResult
    public func forward(inputs: [Int32], targets: [Int32]?, activations a: GPT2Activations) -> Float? {
        let N = a.B * a.T, V = config.vocabularySize
        checkTrainingBatch(inputs: inputs, targets: targets, B: a.B, T: a.T, vocabulary: V, model: "GPT2TrainingModel")
        _ = forwardPass(inputs: inputs, activations: a, capture: .nothing)
        guard let targets else { return nil }
        targets.withUnsafeBufferPointer {
            fastSoftmaxCrossEntropyForward(probs: a.probs, losses: a.losses, logits: a.logits, targets: $0.baseAddress!, N: N, V: V)
        }
        var total: Float = 0
        for n in 0..<N { total += a.losses[n] }
        return total / Float(max(1, Self.scoredCount(targets)))
    }

    /// How many of `targets` are scored (not −1).
    static func scoredCount(_ targets: [Int32]) -> Int { targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }

    /// Records of one sequence's forward pass (at most the context), in the engine's record
    /// vocabulary (`CaptureSpec`): what training shows of its model between steps.
    public func records(of tokens: [Int32], capture: CaptureSpec) -> [String: Tensor] {
        let T = tokens.count
        precondition(T >= 1 && T <= config.contextLength, "GPT2TrainingModel.records: 1…\(config.contextLength) tokens")
        precondition(
            tokens.allSatisfy { $0 >= 0 && Int($0) < config.vocabularySize },
            "GPT2TrainingModel.records: a token id is outside the vocabulary 0..<\(config.vocabularySize)")
        return forwardPass(inputs: tokens, activations: GPT2Activations(config: config, B: 1, T: T), capture: capture)
    }

    /// GPT2Pass's forward over the batch, keeping every activation, then the tied unembedding
    /// (`logits = lnf · wteᵀ`).
    private func forwardPass(inputs: [Int32], activations a: GPT2Activations, capture: CaptureSpec) -> [String: Tensor] {
        let B = a.B, T = a.T, N = B * T, C = config.width, NH = config.heads, V = config.vocabularySize
        var recorder = Recorder(spec: capture, rows: N)
        parameters.values.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress!, layout = parameters.layout
            let attention = FusedQKVAttention.WithinSequences(sequences: B, length: T, config: config, causal: true, products: products)
            GPT2Pass.forward(
                tokens: inputs.map(Int.init), sequenceLength: T, firstPosition: 0, layout.view(base), config: config,
                embedded: a.encoded, layers: a.layer, finalNorm: a.lnf, finalMean: a.lnfMean, finalRstd: a.lnfRstd,
                elementwise: .vectorised, products: products,
                attention: { l, qkv, heads, recorder in
                    attention.forward(qkv: qkv, heads: heads, probs: a.att + l * B * NH * T * T, recorder: &recorder, layer: l)
                },
                recorder: &recorder)
            linearForward(
                out: a.logits, input: a.lnf, weight: base + layout.offset(.wte), bias: nil, T: N, C: C, OC: V, products: products)
        }
        if capture.wants(.logits) {
            recorder.rowMajor(.logits, a.logits, width: V)
        }
        return recorder.records
    }

    // MARK: Backward driver

    /// Gradient of the mean loss of the last `forward` (same `inputs`, `targets`, `activations`)
    /// with respect to every parameter, ADDED into `gradients` (zero it first unless accumulating
    /// over micro-batches). `activationGradients` is scratch of the same shape as the activations;
    /// it is zeroed here and left holding each activation's gradient, for inspection.
    public func backward(
        inputs: [Int32], targets: [Int32], activations a: GPT2Activations,
        activationGradients g: GPT2Activations, gradients: inout GPT2Parameters
    ) {
        let B = a.B, T = a.T, N = B * T
        let L = config.layers, C = config.width, NH = config.heads, V = config.vocabularySize
        precondition(
            g.B == B && g.T == T, "GPT2TrainingModel.backward: activation gradients are [\(g.B), \(g.T)], activations [\(B), \(T)]")
        precondition(gradients.layout == parameters.layout, "GPT2TrainingModel.backward: gradients are laid out for another configuration")
        let layout = parameters.layout
        g.zero()
        // The loss is the mean over the scored positions: each has weight 1/scored, the rest 0.
        let scored = Float(max(1, Self.scoredCount(targets)))
        for n in 0..<N { g.losses[n] = targets[n] >= 0 ? 1 / scored : 0 }

        parameters.values.withUnsafeBufferPointer { parameterBuffer in
            gradients.values.withUnsafeMutableBufferPointer { gradientBuffer in
                let base = parameterBuffer.baseAddress!, dbase = gradientBuffer.baseAddress!
                func p(_ tensor: GPT2ParameterTensor, _ l: Int = 0) -> UnsafePointer<Float> { base + layout.offset(tensor, layer: l) }
                func d(_ tensor: GPT2ParameterTensor, _ l: Int = 0) -> UnsafeMutablePointer<Float> {
                    dbase + layout.offset(tensor, layer: l)
                }

                targets.withUnsafeBufferPointer {
                    fastCrossEntropySoftmaxBackward(
                        dlogits: g.logits, dlosses: g.losses, probs: a.probs, targets: $0.baseAddress!, N: N, V: V)
                }
                fastMatmulBackward(
                    dinp: g.lnf, dweight: d(.wte), dbias: nil, dout: g.logits, inp: a.lnf, weight: p(.wte), N: N, C: C, OC: V,
                    products: products)
                let last = a.residual3 + (L - 1) * N * C, dlast = g.residual3 + (L - 1) * N * C
                fastLayerNormBackward(
                    dinp: dlast, dweight: d(.lnfw), dbias: d(.lnfb), dout: g.lnf, inp: last, weight: p(.lnfw),
                    mean: a.lnfMean, rstd: a.lnfRstd, N: N, C: C)
                let attention = FusedQKVAttention.WithinSequences(sequences: B, length: T, config: config, causal: true, products: products)
                for l in stride(from: L - 1, through: 0, by: -1) {
                    GPT2Pass.blockBackward(
                        layer: l, layout.blockView(base, layer: l), layout.blockGradients(dbase, layer: l),
                        input: a.blockInput(l), inputGradient: g.blockInput(l), a.layer(l), g.layer(l), rows: N, config: config,
                        products: products,
                        attentionBackward: { dqkv, dheads in
                            attention.backward(dqkv: dqkv, dheads: dheads, qkv: a.qkv + l * N * 3 * C, probs: a.att + l * B * NH * T * T)
                        })
                }
                inputs.withUnsafeBufferPointer {
                    embeddingBackward(dwte: d(.wte), dwpe: d(.wpe), dout: g.encoded, inp: $0.baseAddress!, B: B, T: T, C: C)
                }
            }
        }
    }
}
