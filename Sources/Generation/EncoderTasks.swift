import Foundation
import Tensors
import Tokenizers
import Transformer

// What an encoder (BERT) is for, where a decoder generates: filling in a hidden word with the
// words on both sides of it, and turning a sentence into one vector.

/// Why an encoder task cannot run, each with what to do instead.
public enum EncoderTaskError: Error, CustomStringConvertible, LocalizedError, Equatable {
    case needsEncoder(family: String, task: String, encoderDecoder: Bool = false)
    case noMaskedLanguageHead
    case noMaskToken
    case noMaskInText
    case tooLong(tokens: Int, context: Int)
    case noSentences

    public var description: String {
        switch self {
        case .needsEncoder(let family, let task, let encoderDecoder):
            return
                "this model \(encoderDecoder ? "is an encoder–decoder (\(family)): it writes a new text, and its decoder's words see only the words before them" : "is a decoder (\(family)): each word sees only the words before it"), so it cannot \(task); use an encoder (BERT family), e.g. a BertForMaskedLM folder, or all-minilm-l6-v2 for sentences"
        case .noMaskedLanguageHead:
            return
                "this encoder has no masked-language head (it was published for sentence embeddings): it cannot score words for a [MASK]; try `lantern embed`, or a model with an MLM head (BertForMaskedLM)"
        case .noMaskToken:
            return "the tokenizer has no [MASK] token, so no word can be hidden from this model"
        case .noMaskInText:
            return "the text has no [MASK]: write [MASK] where the hidden word goes, e.g. \"The cat sat on the [MASK].\""
        case .tooLong(let tokens, let context):
            return "the text is \(tokens) tokens but the model reads at most \(context); shorten it"
        case .noSentences:
            return "give at least one sentence"
        }
    }
    public var errorDescription: String? { description }
}

/// Guessing the tokens behind `[MASK]`s with a masked-language model.
public enum MaskFilling {
    public struct Candidate: Sendable, Encodable, Equatable {
        public var id: Int
        public var piece: String
        public var probability: Float
    }

    /// One `[MASK]` of the text: where it is and the model's best guesses, most probable first.
    public struct Mask: Sendable, Encodable {
        /// Its position among the encoded tokens ([CLS] is 0).
        public var position: Int
        public var candidates: [Candidate]
    }

    public struct Result: Sendable {
        /// The encoded text, [CLS] … [SEP].
        public var tokens: [Int]
        public var masks: [Mask]
        /// What the capture asked for (attention patterns for a picture, …).
        public var records: [String: Tensor]
    }

    /// The `top` most probable tokens for every `[MASK]` in `text` (written `[MASK]` whatever
    /// the tokenizer calls its mask token), from one forward pass that sees the whole text.
    public static func fill(
        _ text: String, model: any LanguageModel, tokenizer: any Tokenizer, top: Int, capture: CaptureSpec = .nothing
    ) throws -> Result {
        guard !model.config.isCausal else {
            throw EncoderTaskError.needsEncoder(
                family: model.config.family.displayName, task: "use the words after a blank to fill it",
                encoderDecoder: model.config.isEncoderDecoder)
        }
        guard model.config.head == .maskedToken else { throw EncoderTaskError.noMaskedLanguageHead }
        guard let mask = tokenizer.maskTokenId else { throw EncoderTaskError.noMaskToken }
        let tokens = tokenizer.encode(text)
        let positions = tokens.indices.filter { tokens[$0] == mask }
        guard !positions.isEmpty else { throw EncoderTaskError.noMaskInText }
        guard tokens.count <= model.config.contextLength else {
            throw EncoderTaskError.tooLong(tokens: tokens.count, context: model.config.contextLength)
        }
        var cache = model.makeCache()
        let result = model.forward(tokens, cache: &cache, capture: capture, allLogits: true)
        let V = result.logits.shape[1]
        let masks = positions.map { position -> Mask in
            let probabilities = softmax(Array(result.logits.scalars[(position * V)..<((position + 1) * V)]))
            let best = probabilities.indices.sorted {
                probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1)
            }
            return Mask(
                position: position,
                candidates: best.prefix(max(1, top)).map {
                    Candidate(id: $0, piece: tokenizer.displayPiece($0), probability: probabilities[$0])
                })
        }
        return Result(tokens: tokens, masks: masks, records: result.records)
    }
}

/// One vector per sentence from an encoder, and how alike the sentences are.
public struct SentenceEmbeddings: Sendable {
    public var sentences: [String]
    /// The tokens each sentence was encoded to (after any cut to the longest input).
    public var tokenCounts: [Int]
    /// Which sentences were longer than the model reads and were cut.
    public var truncated: [Bool]
    /// `[sentences][C]`.
    public var vectors: [[Float]]
    /// `[sentences][sentences]`: cosine similarity of every pair.
    public var cosine: [[Float]]
    public var pooling: SentencePooling

    /// Runs each sentence alone (no padding: the same numbers as a padded batch with its
    /// attention mask) and pools its last hidden rows.
    public static func embed(
        _ sentences: [String], model: any LanguageModel, tokenizer: any Tokenizer, pooling: SentencePooling,
        progress: (Int) -> Void = { _ in }
    ) throws -> SentenceEmbeddings {
        guard !model.config.isCausal else {
            throw EncoderTaskError.needsEncoder(
                family: model.config.family.displayName, task: "read a sentence both ways into one vector",
                encoderDecoder: model.config.isEncoderDecoder)
        }
        guard !sentences.isEmpty else { throw EncoderTaskError.noSentences }
        let limit = min(pooling.maximumTokens ?? model.config.contextLength, model.config.contextLength)
        let lastLayer = model.config.layers - 1
        var vectors: [[Float]] = [], counts: [Int] = [], truncated: [Bool] = []
        for (index, sentence) in sentences.enumerated() {
            var tokens = tokenizer.encode(sentence)
            // As transformers truncates: the text's tokens are cut, the closing [SEP] kept.
            let cut = tokens.count > limit
            if cut { tokens = Array(tokens.prefix(limit - 1)) + [tokens[tokens.count - 1]] }
            var cache = model.makeCache()
            let result = model.forward(
                tokens, cache: &cache, capture: CaptureSpec(kinds: [.residPost], layers: [lastLayer]), allLogits: false)
            guard let hidden = result.records[RecordKind.residPost.name(layer: lastLayer)] else {
                preconditionFailure("SentenceEmbeddings.embed: the driver did not record the last layer")
            }
            vectors.append(pooling.pool(hidden))
            counts.append(tokens.count)
            truncated.append(cut)
            progress(index + 1)
        }
        let cosine = vectors.map { a in vectors.map { b in cosineSimilarity(a, b) } }
        return SentenceEmbeddings(
            sentences: sentences, tokenCounts: counts, truncated: truncated, vectors: vectors, cosine: cosine, pooling: pooling)
    }

    static func cosineSimilarity(_ a: [Float], _ b: [Float]) -> Float {
        var dot: Float = 0, aa: Float = 0, bb: Float = 0
        for i in a.indices {
            dot += a[i] * b[i]
            aa += a[i] * a[i]
            bb += b[i] * b[i]
        }
        return dot / max((aa * bb).squareRoot(), 1e-12)
    }
}
