import Tensors

/// The two decoder-only families Lantern's engine runs.
public enum ModelFamily: String, Sendable, Codable, CaseIterable {
    /// GPT-2: LayerNorm, learned absolute positions, multi-head attention, GELU MLP, biases.
    case gpt2
    /// Llama: RMSNorm, rotary positions, grouped-query attention, SwiGLU MLP, no biases.
    case llama

    /// One line for `lantern info`: the family and what sets it apart.
    public var summary: String {
        switch self {
        case .gpt2: "GPT-2 (decoder-only; LayerNorm, GELU MLP, biases)"
        case .llama: "Llama (decoder-only; RMSNorm, SwiGLU MLP, no biases)"
        }
    }
}

/// The normalisation before each sub-block and at the end.
public enum NormalizationKind: String, Sendable {
    /// `(x − mean) / std · scale + shift` (GPT-2): two vectors of C.
    case layerNorm = "LayerNorm"
    /// `x / rms · scale` (Llama): one vector of C.
    case rmsNorm = "RMSNorm"
}

/// What the feed-forward sub-block computes.
public enum FeedForwardKind: Sendable {
    /// `down(gelu(up(x)))` (GPT-2).
    case gelu
    /// `down(silu(gate(x)) ⊙ up(x))` (Llama).
    case swiGLU
}

extension ModelFamily {
    /// The family's name as people write it ("GPT-2", "Llama").
    public var displayName: String {
        switch self {
        case .gpt2: "GPT-2"
        case .llama: "Llama"
        }
    }
}

/// How a model tells positions apart.
public enum PositionalScheme: Sendable, Equatable, CustomStringConvertible {
    /// A learned vector per position added to the token embedding (GPT-2).
    case learnedAbsolute
    /// Queries and keys rotated by a position-dependent angle in every layer (Llama).
    case rotary(theta: Float, layout: RotaryLayout)

    public var description: String {
        switch self {
        case .learnedAbsolute: return "learned absolute (a trained vector per position, added to the token embedding)"
        case .rotary(let theta, let layout):
            return
                "rotary (RoPE, θ = \(theta), \(layout == .interleaved ? "interleaved pairs, llama2.c layout" : "half-split pairs, Hugging Face layout"))"
        }
    }
}

/// Every size the forward pass needs. Letters used in shape comments across the engine:
/// L = layers, C = width, NH = query heads, NKV = key/value heads, hs = head size,
/// FF = feed-forward width, V = vocabulary, P = context length (positions).
public struct TransformerConfig: Sendable, Equatable {
    public var family: ModelFamily
    public var layers: Int  // L
    public var heads: Int  // NH
    public var kvHeads: Int  // NKV (== NH unless grouped-query attention)
    public var width: Int  // C
    public var headSize: Int  // hs
    public var feedForwardWidth: Int  // FF
    public var vocabularySize: Int  // V
    public var contextLength: Int  // P
    public var normEpsilon: Float
    public var positional: PositionalScheme
    /// Whether a learned vector per position is added to the token embedding (the `pos_embed`
    /// record exists): GPT-2 yes, rotary families no.
    public var hasLearnedPositions: Bool {
        if case .learnedAbsolute = positional { return true }
        return false
    }
    /// The family's building blocks, for code outside Transformer that draws or describes a
    /// model (it never tests the family itself).
    public var normalization: NormalizationKind { family == .gpt2 ? .layerNorm : .rmsNorm }
    public var feedForward: FeedForwardKind { family == .gpt2 ? .gelu : .swiGLU }
    /// Whether the linear layers add a bias (GPT-2's do, Llama's do not).
    public var linearsHaveBias: Bool { family == .gpt2 }
    /// How rotary frequencies are stretched for a longer context (`.none` unless the config says).
    public var rotaryScaling: RotaryScaling = .none
    /// Whether a generated beginning-of-sequence token ends the text, as llama2.c's run.c does
    /// ("the BOS token delimits sequences"); Hugging Face models stop at end-of-sequence only.
    public var beginningOfSequenceEndsText = false
    /// Whether attention scores `q · k` are divided by √hs (GPT-2's `scale_attn_weights`; always for Llama).
    public var scalesAttentionScores = true
    public var tiedEmbeddings: Bool
    /// Ids from the checkpoint's config, when it names them.
    public var bosTokenId: Int?
    public var eosTokenId: Int?

    public init(
        family: ModelFamily, layers: Int, heads: Int, kvHeads: Int, width: Int, headSize: Int,
        feedForwardWidth: Int, vocabularySize: Int, contextLength: Int, normEpsilon: Float,
        positional: PositionalScheme, tiedEmbeddings: Bool, bosTokenId: Int? = nil, eosTokenId: Int? = nil
    ) {
        self.family = family; self.layers = layers; self.heads = heads; self.kvHeads = kvHeads
        self.width = width; self.headSize = headSize; self.feedForwardWidth = feedForwardWidth
        self.vocabularySize = vocabularySize; self.contextLength = contextLength
        self.normEpsilon = normEpsilon; self.positional = positional; self.tiedEmbeddings = tiedEmbeddings
        self.bosTokenId = bosTokenId; self.eosTokenId = eosTokenId
    }

    /// What attention multiplies each score `q · k` by: 1/√hs, or 1 when the config turns scaling off.
    public var attentionScoreScale: Float { scalesAttentionScores ? 1 / Float(headSize).squareRoot() : 1 }

    /// A GPT-2 configuration with the published defaults (GPT-2 small: 12 layers, 768 wide, 12 heads).
    public static func gpt2(
        layers: Int = 12, heads: Int = 12, width: Int = 768,
        vocabularySize: Int = 50257, contextLength: Int = 1024
    ) -> TransformerConfig {
        TransformerConfig(
            family: .gpt2, layers: layers, heads: heads, kvHeads: heads, width: width,
            headSize: width / heads, feedForwardWidth: 4 * width, vocabularySize: vocabularySize,
            contextLength: contextLength, normEpsilon: 1e-5, positional: .learnedAbsolute,
            tiedEmbeddings: true, bosTokenId: vocabularySize - 1, eosTokenId: vocabularySize - 1)
    }

    /// Number of parameters, counting a tied embedding once.
    public var parameterCount: Int {
        let C = width, FF = feedForwardWidth, kvWidth = kvHeads * headSize, qWidth = heads * headSize
        switch family {
        case .gpt2:
            let block = 2 * C + (C * 3 * qWidth + 3 * qWidth) + (qWidth * C + C) + 2 * C + (C * FF + FF) + (FF * C + C)
            return vocabularySize * C + contextLength * C + layers * block + 2 * C + (tiedEmbeddings ? 0 : vocabularySize * C)
        case .llama:
            let block = C + C * qWidth + 2 * C * kvWidth + qWidth * C + C + 3 * C * FF
            return vocabularySize * C + layers * block + C + (tiedEmbeddings ? 0 : vocabularySize * C)
        }
    }
}
