import Foundation
import Tensors
import Tokenizers
import Transformer

/// What a run teaches the model: to predict the next token (a decoder, GPT-2) or to recover
/// hidden tokens from the words on both sides (an encoder, BERT's masked-language modelling).
public enum TrainingObjective: Codable, Sendable, Equatable {
    case nextToken
    case maskedLanguage(MaskingPolicy)

    /// The batch a step trains on, from `B` corpus windows (`inputs` and `targets` `[B, T]`,
    /// targets shifted by one): as they are for the next token; masked for an encoder.
    func batch(
        _ windows: (inputs: [Int32], targets: [Int32]), B: Int, T: Int, step: Int, seed: UInt64
    ) -> (
        inputs: [Int32], targets: [Int32]
    ) {
        switch self {
        case .nextToken: return windows
        case .maskedLanguage(let policy): return policy.mask(windows.inputs, B: B, T: T, step: step, seed: seed)
        }
    }
}

/// BERT's masking (Devlin et al., 2019, §3.1): each window becomes `[CLS] tokens [SEP]`; 15 % of
/// its tokens are chosen, and of those 80 % become `[MASK]`, 10 % a random token and 10 % stay
/// as they are. The model is scored on the chosen positions only (targets −1 elsewhere), so it
/// must use the words on both sides — and cannot trust a token just because it is not [MASK].
public struct MaskingPolicy: Codable, Sendable, Equatable {
    public var mask: Int32, cls: Int32, sep: Int32
    /// Random replacements are drawn from `firstOrdinaryId ..< vocabularySize` (special tokens first).
    public var firstOrdinaryId: Int32, vocabularySize: Int32
    public var rate: Double = 0.15

    public init(mask: Int32, cls: Int32, sep: Int32, firstOrdinaryId: Int32, vocabularySize: Int32, rate: Double = 0.15) {
        self.mask = mask; self.cls = cls; self.sep = sep
        self.firstOrdinaryId = firstOrdinaryId; self.vocabularySize = vocabularySize; self.rate = rate
    }

    /// `[B, T]` inputs and targets from `B` windows of corpus tokens (each row's first `T − 2`
    /// are used). The choices depend on `(seed, step)` alone, as the windows do, so a resumed run
    /// masks exactly as the uninterrupted one; every batch scores at least one position.
    public func mask(_ tokens: [Int32], B: Int, T: Int, step: Int, seed: UInt64) -> (inputs: [Int32], targets: [Int32]) {
        precondition(T >= 3 && tokens.count == B * T, "MaskingPolicy.mask: needs B windows of T ≥ 3 tokens")
        // A different stream from the window starts' (TokenStream.trainingBatch) for the same step.
        var seeder = SplitMix64(seed: (seed ^ 0x6D61_736B) &+ UInt64(bitPattern: Int64(step)) &* 0x9E37_79B9_7F4A_7C15)
        var random = SplitMix64(seed: seeder.next())
        func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
        var inputs = [Int32](repeating: 0, count: B * T), targets = [Int32](repeating: -1, count: B * T)
        for b in 0..<B {
            let row = b * T
            inputs[row] = cls
            inputs[row + T - 1] = sep
            for t in 1..<(T - 1) {
                let token = tokens[row + t - 1]
                inputs[row + t] = token
                guard uniform() < rate else { continue }
                targets[row + t] = token
                let choice = uniform()
                if choice < 0.8 {
                    inputs[row + t] = mask
                } else if choice < 0.9 {
                    inputs[row + t] = firstOrdinaryId + Int32(random.next() % UInt64(vocabularySize - firstOrdinaryId))
                }
            }
        }
        if !targets.contains(where: { $0 >= 0 }) {
            targets[1] = inputs[1]
            inputs[1] = mask
        }
        return (inputs, targets)
    }
}

/// What a masked-language run needs from its tokenizer and corpus, in one place.
public enum MaskedLanguageSetup {
    /// BERT's masking over this tokenizer's ids: the five specials first, every other id a
    /// possible random replacement.
    public static func policy(for tokenizer: WordPieceTokenizer) throws -> MaskingPolicy {
        guard let mask = tokenizer.maskTokenId else {
            throw TrainingError.impossibleShape("the tokenizer has no [MASK] token, which masked-language training hides words with")
        }
        let specials = WordPieceVocabulary.specials.compactMap { tokenizer.id(ofPiece: $0) }
        return MaskingPolicy(
            mask: Int32(mask), cls: Int32(tokenizer.beginningOfText), sep: Int32(tokenizer.endOfText),
            firstOrdinaryId: Int32((specials.max() ?? 0) + 1), vocabularySize: Int32(tokenizer.vocabularySize))
    }

    /// The corpus as one stream of ids: each document (the text between `<|endoftext|>` lines)
    /// encoded without [CLS]/[SEP], documents joined by [SEP] as BERT's pre-training joins them.
    public static func tokens(of text: String, tokenizer: WordPieceTokenizer) -> [Int32] {
        var ids: [Int32] = []
        for document in text.components(separatedBy: "<|endoftext|>") {
            let encoded = tokenizer.encode(document, addSpecialTokens: false)
            guard !encoded.isEmpty else { continue }
            if !ids.isEmpty { ids.append(Int32(tokenizer.endOfText)) }
            ids += encoded.map(Int32.init)
        }
        return ids
    }

    /// A BERT of this shape for `vocabulary` tokens (FF = 4C, two token types, tied MLM head).
    public static func config(layers: Int, heads: Int, width: Int, context: Int, vocabulary: Int, padding: Int?) -> TransformerConfig {
        var config = TransformerConfig(
            family: .bert, layers: layers, heads: heads, kvHeads: heads, width: width, headSize: width / max(heads, 1),
            feedForwardWidth: 4 * width, vocabularySize: vocabulary, contextLength: context, normEpsilon: 1e-12,
            positional: .learnedAbsolute, tiedEmbeddings: true)
        config.head = .maskedToken
        config.tokenTypes = 2
        config.paddingTokenId = padding
        return config
    }
}
