import Foundation
import Tensors
import Tokenizers
import Transformer

/// What a run teaches the model: to predict the next token (a decoder, GPT-2) or to recover
/// hidden tokens from the words on both sides (an encoder, BERT's masked-language modelling).
public enum TrainingObjective: Codable, Sendable, Equatable {
    case nextToken
    case maskedLanguage(MaskingPolicy)
    /// An encoder–decoder learning to write each pair's target from its source (translation).
    case sequenceToSequence(PairFormat)

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
        case .sequenceToSequence(let format): return format.pairs(windows.inputs, B: B, T: T)
        }
    }
}

/// How translation pairs lie in a sequence-to-sequence corpus stream: each is
/// `start source end target end` (`[CLS] le chat rouge [SEP] the red cat [SEP]` with a
/// WordPiece vocabulary). The encoder reads `start source end`; the decoder, starting from
/// `start`, learns to write `target end`.
public struct PairFormat: Codable, Sendable, Equatable {
    public var start: Int32, end: Int32

    public init(start: Int32, end: Int32) {
        self.start = start
        self.end = end
    }

    /// The ids of one pair in the stream.
    public func encode(source: [Int], target: [Int]) -> [Int32] {
        ([Int(start)] + source + [Int(end)] + target + [Int(end)]).map(Int32.init)
    }

    /// `[B, T]` sources (`inputs`) and labels (`targets`), −1 padded: from each of the `B` windows,
    /// the first whole pair (a window of a context long enough for two pairs always holds one;
    /// a row without one stays empty and is skipped).
    public func pairs(_ windows: [Int32], B: Int, T: Int) -> (inputs: [Int32], targets: [Int32]) {
        var inputs = [Int32](repeating: -1, count: B * T), targets = inputs
        for b in 0..<B {
            let row = Array(windows[(b * T)..<((b + 1) * T)])
            guard let first = row.firstIndex(of: start), let middle = row[(first + 1)...].firstIndex(of: end),
                let last = row[(middle + 1)...].firstIndex(of: end), middle > first + 1, last > middle + 1
            else { continue }
            let source = row[first...middle], labels = row[(middle + 1)...last]
            for (i, id) in source.enumerated() { inputs[b * T + i] = id }
            for (i, id) in labels.enumerated() { targets[b * T + i] = id }
        }
        return (inputs, targets)
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

/// What a sequence-to-sequence run needs from its tokenizer and its pairs, in one place.
public enum SequenceToSequenceSetup {
    /// The pairs of a tab-separated text: one `source<TAB>target` per line (blank lines skipped).
    /// - Throws: `TrainingError.badPairs` naming the first line that is not a pair.
    public static func pairs(of text: String) throws -> [(source: String, target: String)] {
        var pairs: [(source: String, target: String)] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { continue }
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
            let source = parts.first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            let target = parts.count == 2 ? parts[1].trimmingCharacters(in: .whitespacesAndNewlines) : ""
            guard parts.count == 2, !source.isEmpty, !target.isEmpty else {
                throw TrainingError.badPairs(line: index + 1, text: String(trimmed.prefix(60)))
            }
            pairs.append((source, target))
        }
        return pairs
    }

    /// The pair layout over a WordPiece vocabulary: `[CLS] source [SEP] target [SEP]`.
    public static func format(for tokenizer: WordPieceTokenizer) -> PairFormat {
        PairFormat(start: Int32(tokenizer.beginningOfText), end: Int32(tokenizer.endOfText))
    }

    /// Every pair as one stream (`PairFormat.encode`), in order.
    public static func tokens(of pairs: [(source: String, target: String)], tokenizer: WordPieceTokenizer, format: PairFormat) -> [Int32] {
        pairs.flatMap {
            format.encode(
                source: tokenizer.encode($0.source, addSpecialTokens: false), target: tokenizer.encode($0.target, addSpecialTokens: false))
        }
    }

    /// A BART of this shape (encoder and decoder `layers` deep, FF = 4C, learned positions offset
    /// by 2) whose decoder starts from `format.start` and stops at `format.end`.
    public static func config(
        layers: Int, heads: Int, width: Int, context: Int, vocabulary: Int, format: PairFormat, padding: Int?
    ) -> TransformerConfig {
        var config = TransformerConfig(
            family: .bart, layers: layers, heads: heads, kvHeads: heads, width: width, headSize: width / max(heads, 1),
            feedForwardWidth: 4 * width, vocabularySize: vocabulary, contextLength: context, normEpsilon: 1e-5,
            positional: .learnedAbsolute, tiedEmbeddings: true, bosTokenId: Int(format.start), eosTokenId: Int(format.end))
        config.encoderLayers = layers
        config.positionOffset = 2
        config.decoderStartTokenId = Int(format.start)
        config.paddingTokenId = padding
        return config
    }
}
