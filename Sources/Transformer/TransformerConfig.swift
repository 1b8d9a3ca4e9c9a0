import Tensors

/// The families Lantern's engine runs: two decoder-only, one encoder-only, and the two
/// encoder–decoder layouts (T5, BART) of one definition (EncoderDecoderPass).
public enum ModelFamily: String, Sendable, Codable, CaseIterable {
    /// GPT-2: LayerNorm, learned absolute positions, multi-head attention, GELU MLP, biases.
    case gpt2
    /// GPT-Neo: GPT-2's block with q/k/v projections without biases, attention scores not
    /// divided by √head size, and layers alternating global attention with local attention over
    /// a sliding window of the latest `window_size` tokens.
    case gptNeo = "gpt_neo"
    /// Llama: RMSNorm, rotary positions, grouped-query attention, SwiGLU MLP, no biases.
    case llama
    /// BERT (and its descendants: MiniLM…): encoder-only, attention both ways, LayerNorm after
    /// each sub-block, learned absolute and token-type embeddings, exact (erf) GELU, biases.
    case bert
    /// T5 (and FLAN-T5): encoder–decoder; RMS-style norm before each sub-block, relative position
    /// buckets added to the attention scores, no biases, ReLU or gated-GELU feed-forward.
    case t5
    /// BART: encoder–decoder; learned positions (offset 2), a LayerNorm on the embeddings and after
    /// each sub-block, GELU feed-forward, biases.
    case bart

    /// One line for `lantern info`: the family and what sets it apart.
    public var summary: String {
        switch self {
        case .gpt2: "GPT-2 (decoder-only; LayerNorm, GELU MLP, biases)"
        case .gptNeo: "GPT-Neo (decoder-only; GPT-2's block, local attention windows on alternate layers, unscaled scores)"
        case .llama: "Llama (decoder-only; RMSNorm, SwiGLU MLP, no biases)"
        case .bert: "BERT (encoder-only; attention both ways, LayerNorm after each sub-block, GELU MLP, biases)"
        case .t5: "T5 (encoder–decoder; cross-attention, RMS norm before each sub-block, relative position buckets, no biases)"
        case .bart: "BART (encoder–decoder; cross-attention, LayerNorm after each sub-block, learned positions, GELU MLP, biases)"
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
    /// `down(gelu(up(x)))`: GPT-2's tanh-approximated GELU, BERT's exact (erf) one.
    case gelu
    /// `down(silu(gate(x)) ⊙ up(x))` (Llama).
    case swiGLU
    /// `down(relu(up(x)))` (T5 v1.0).
    case relu
    /// `down(gelu(gate(x)) ⊙ up(x))` with the tanh GELU (T5 v1.1, FLAN-T5's "gated-gelu").
    case gatedGELU
}

extension ModelFamily {
    /// Whether the family's models are decoders, which generate (GPT-2, Llama), rather than
    /// encoders, which read a whole text at once (BERT).
    /// An encoder–decoder counts as causal: its decoder generates.
    public var isCausal: Bool { self != .bert }

    /// Whether the family has an encoder for the input and a decoder, with cross-attention, for
    /// the output (T5, BART).
    public var isEncoderDecoder: Bool { self == .t5 || self == .bart }

    /// The family's name as people write it ("GPT-2", "Llama").
    public var displayName: String {
        switch self {
        case .gpt2: "GPT-2"
        case .gptNeo: "GPT-Neo"
        case .llama: "Llama"
        case .bert: "BERT"
        case .t5: "T5"
        case .bart: "BART"
        }
    }
}

/// What a model computes from its last hidden rows.
public enum OutputHead: String, Sendable, Codable {
    /// Scores for the next token (decoders).
    case nextToken
    /// Scores for the token hidden behind each `[MASK]` (BERT's MLM head: dense, GELU, LayerNorm,
    /// then the tied word embeddings and a bias).
    case maskedToken
    /// None: the hidden rows themselves (an encoder for sentence embeddings, e.g. MiniLM).
    case none
    /// One score per class for a whole input, from the decoder's state at its last end-of-text
    /// token (BartForSequenceClassification: dense, tanh, out_proj; `classLabels` names them).
    case sequenceClassification
}

/// How a model tells positions apart.
public enum PositionalScheme: Sendable, Equatable, CustomStringConvertible {
    /// A learned vector per position added to the token embedding (GPT-2).
    case learnedAbsolute
    /// Queries and keys rotated by a position-dependent angle in every layer (Llama).
    case rotary(theta: Float, layout: RotaryLayout)
    /// A learned bias per head and bucket of the distance key − query, added to the attention
    /// scores (T5): exact buckets for near distances, logarithmic ones up to `maxDistance`.
    case relativeBuckets(buckets: Int, maxDistance: Int)

    public var description: String {
        switch self {
        case .learnedAbsolute: return "learned absolute (a trained vector per position, added to the token embedding)"
        case .rotary(let theta, let layout):
            return
                "rotary (RoPE, θ = \(theta), \(layout == .interleaved ? "interleaved pairs, llama2.c layout" : "half-split pairs, Hugging Face layout"))"
        case .relativeBuckets(let buckets, let maxDistance):
            return "relative (a learned bias per head for each of \(buckets) distance buckets, up to \(maxDistance) apart)"
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
    public var normalization: NormalizationKind { family == .llama || family == .t5 ? .rmsNorm : .layerNorm }
    public var feedForward: FeedForwardKind { feedForwardChoice ?? (family == .llama ? .swiGLU : .gelu) }
    /// The feed-forward the checkpoint chose, where the family offers several (T5's `feed_forward_proj`).
    public var feedForwardChoice: FeedForwardKind?
    /// Whether the linear layers add a bias (GPT-2's, BERT's and BART's do, Llama's and T5's do not).
    public var linearsHaveBias: Bool { family != .llama && family != .t5 }
    /// Whether the query, key and value projections add a bias (GPT-Neo's do not, its others do).
    public var queryKeyValueHaveBias: Bool { linearsHaveBias && family != .gptNeo }
    /// Whether the last block's output is normalised before the head (decoder-only families and
    /// T5; BERT and BART end on a post-LN block's own norm).
    public var hasFinalNorm: Bool { family != .bert && family != .bart }
    /// Whether a position sees only the positions before it (decoders, which generate) or every
    /// position (encoders, which read a whole text at once and do not generate).
    public var isCausal: Bool { family.isCausal }
    /// Where each sub-block's norm sits: before it, on the branch (GPT-2, Llama: "pre-LN"), or
    /// after the residual addition, on the stream itself (BERT: "post-LN").
    public var normalizesAfterSublayer: Bool { family == .bert || family == .bart }
    /// Whether the embeddings' sum is normalised before the first block (BERT's `embeddings.LayerNorm`,
    /// recorded as `embed_ln`): the stream entering block 0 is then that, not `embed` + `pos_embed`.
    public var normalizesEmbeddings: Bool { family == .bert || family == .bart }
    /// Whether an encoder reads the input and the decoder attends to it (cross-attention).
    public var isEncoderDecoder: Bool { family.isEncoderDecoder }
    /// Encoder–decoders: the encoder's blocks (`layers` counts the decoder's, the ones that generate).
    public var encoderLayers = 0
    /// Encoder–decoders: the token the decoder starts from (T5: the pad token; BART: EOS).
    public var decoderStartTokenId: Int?
    /// The token generation must write first (BART's `forced_bos_token_id`), and the one it must
    /// write last when the length limit is reached (`forced_eos_token_id`).
    public var forcedFirstTokenId: Int?
    public var forcedLastTokenId: Int?
    /// Where position 0 sits in a learned position table (BART: row 2; the first two rows are
    /// a leftover of fairseq's padding offset).
    public var positionOffset = 0
    /// Whether token embeddings are multiplied by √C before positions are added (BART's `scale_embedding`).
    public var scalesEmbeddings = false
    /// Whether the decoder's last rows are multiplied by C^−½ before a tied head (T5's `scale_decoder_outputs`).
    public var scalesOutputsBeforeHead = false
    /// What the model's output rows are scored as.
    public var head: OutputHead = .nextToken
    /// A sequence-classification head's class names by id (the config's `id2label`), e.g.
    /// bart-large-mnli's contradiction, neutral, entailment.
    public var classLabels: [String]?
    /// How many token types (segments) the embedding knows: BERT's `type_vocab_size`, 0 otherwise.
    public var tokenTypes = 0
    /// The padding id the checkpoint names (BERT's `[PAD]`), if any.
    public var paddingTokenId: Int?
    /// How rotary frequencies are stretched for a longer context (`.none` unless the config says).
    public var rotaryScaling: RotaryScaling = .none
    /// Whether a generated beginning-of-sequence token ends the text, as llama2.c's run.c does
    /// ("the BOS token delimits sequences"); Hugging Face models stop at end-of-sequence only.
    public var beginningOfSequenceEndsText = false
    /// Whether attention scores `q · k` are divided by √hs (GPT-2's `scale_attn_weights`; always for Llama).
    public var scalesAttentionScores = true
    /// Per layer, the sliding window of a local attention layer (a query sees only the latest
    /// `window` positions, itself included), nil for a global one; empty: every layer global.
    /// GPT-Neo alternates global and local layers (`attention_types`, `window_size`).
    public var attentionWindows: [Int?] = []

    /// Layer `layer`'s sliding window, nil when it attends globally.
    public func attentionWindow(layer: Int) -> Int? { layer < attentionWindows.count ? attentionWindows[layer] : nil }
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
        case .gpt2, .gptNeo:
            // GPT-Neo's q, k and v projections have no biases.
            let qkvBias = family == .gptNeo ? 0 : 3 * qWidth
            let block = 2 * C + (C * 3 * qWidth + qkvBias) + (qWidth * C + C) + 2 * C + (C * FF + FF) + (FF * C + C)
            return vocabularySize * C + contextLength * C + layers * block + 2 * C + (tiedEmbeddings ? 0 : vocabularySize * C)
        case .llama:
            let block = C + C * qWidth + 2 * C * kvWidth + qWidth * C + C + 3 * C * FF
            return vocabularySize * C + layers * block + C + (tiedEmbeddings ? 0 : vocabularySize * C)
        case .bert:
            let block = (C * 3 * C + 3 * C) + (C * C + C) + 2 * C + (C * FF + FF) + (FF * C + C) + 2 * C
            let embeddings = (vocabularySize + contextLength + tokenTypes) * C + 2 * C
            let decoder = tiedEmbeddings ? vocabularySize : vocabularySize * C + vocabularySize
            let headParameters = head == .maskedToken ? (C * C + C) + 2 * C + decoder : 0
            return embeddings + layers * block + headParameters
        case .t5:
            let A = qWidth, attention = 4 * C * A, ff = (feedForward == .gatedGELU ? 3 : 2) * C * FF
            var buckets = 0
            if case .relativeBuckets(let count, _) = positional { buckets = count * heads }
            let encoder = encoderLayers * (attention + ff + 2 * C) + buckets + C
            let decoder = layers * (2 * attention + ff + 3 * C) + buckets + C
            return vocabularySize * C + encoder + decoder + (tiedEmbeddings ? 0 : vocabularySize * C)
        case .bart:
            let attention = 4 * (C * C + C), ff = C * FF + FF + FF * C + C, norm = 2 * C
            let positions = (contextLength + positionOffset) * C
            let encoder = positions + norm + encoderLayers * (attention + ff + 2 * norm)
            let decoder = positions + norm + layers * (2 * attention + ff + 3 * norm)
            return vocabularySize * C + encoder + decoder + vocabularySize + (tiedEmbeddings ? 0 : vocabularySize * C)
        }
    }
}
