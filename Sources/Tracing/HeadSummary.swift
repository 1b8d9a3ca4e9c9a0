import Foundation
import Generation
import Tensors
import Tokenizers
import Transformer

// What each attention head tends to do, in a few numbers a learner can compare across heads.
// Patterns are `[H, N, N]` (`[head, query, key]`, each row sums to 1 over the keys it may see: 0…query
// in a decoder, all N in an encoder).
// Letters: H heads, N positions, n the length of the random block that is repeated.

// MARK: - Metrics of one pattern

/// Scores of one head computed from its attention pattern `[H, N, N]`.
public enum AttentionMetrics {
    /// Mean over every query row i (0…N−1) of the row's entropy −Σⱼ pᵢⱼ ln pᵢⱼ, in nats.
    /// In a decoder row i can spread over i+1 keys, so its entropy lies in 0…ln(i+1); in an encoder
    /// every row spreads over all N keys (0…ln N). A head that looks at one key scores 0. Masked
    /// keys hold exactly 0 and add nothing, so one sum over all N keys serves both.
    public static func entropy(_ pattern: Tensor, head h: Int) -> Float {
        let N = pattern.shape[1]
        var total: Double = 0
        for q in 0..<N {
            let row = (h * N + q) * N
            var rowEntropy: Double = 0
            for k in 0..<N {
                let p = Double(pattern.scalars[row + k])
                if p > 0 { rowEntropy -= p * log(p) }
            }
            total += rowEntropy
        }
        return Float(total / Double(N))
    }

    /// Mean attention from each position i ≥ 1 to position i−1 (the first sub-diagonal).
    /// A pure previous-token head scores 1.
    public static func previousToken(_ pattern: Tensor, head h: Int) -> Float {
        let N = pattern.shape[1]
        guard N > 1 else { return 0 }
        var total: Double = 0
        for q in 1..<N { total += Double(pattern.scalars[(h * N + q) * N + q - 1]) }
        return Float(total / Double(N - 1))
    }

    /// Mean attention from each position i ≤ N−2 to position i+1 (the first super-diagonal): what
    /// only an encoder can do, since a decoder's mask hides later tokens. A pure next-token head scores 1.
    public static func nextToken(_ pattern: Tensor, head h: Int) -> Float {
        let N = pattern.shape[1]
        guard N > 1 else { return 0 }
        var total: Double = 0
        for q in 0..<(N - 1) { total += Double(pattern.scalars[(h * N + q) * N + q + 1]) }
        return Float(total / Double(N - 1))
    }

    /// Mean attention from each position i ≥ 1 to position 0 (row 0 can only look at itself, so
    /// it is left out). Heads that park attention on the first token — an "attention sink" when
    /// nothing else is relevant — score near 1.
    public static func firstToken(_ pattern: Tensor, head h: Int) -> Float {
        let N = pattern.shape[1]
        guard N > 1 else { return 0 }
        var total: Double = 0
        for q in 1..<N { total += Double(pattern.scalars[(h * N + q) * N]) }
        return Float(total / Double(N - 1))
    }

    /// The induction score on a sequence whose tokens at `start ..< start+n` repeat at
    /// `start+n ..< start+2n` (Lantern uses one first token, then a random block twice: start 1).
    /// Each token of the second copy, at position q, occurred earlier at q−n; an induction head
    /// attends to the token that followed it then, at q−n+1. The score is the mean of those
    /// attentions over the n second-copy queries (TransformerLens's score on its diagonal at offset 1−n,
    /// restricted to the second copy): 1 for a perfect induction head.
    public static func induction(_ pattern: Tensor, head h: Int, period n: Int, start: Int = 1) -> Float {
        let N = pattern.shape[1]
        precondition(n >= 1 && start >= 0 && start + 2 * n <= N, "induction: a repeat of \(n) from \(start) does not fit \(N) positions")
        var total: Double = 0
        for q in (start + n)..<(start + 2 * n) { total += Double(pattern.scalars[(h * N + q) * N + q - n + 1]) }
        return Float(total / Double(n))
    }
}

// MARK: - Summaries of every head

/// Per-head scores of one model: from a prompt (entropy, previous-token and first-token share) and
/// from a repeated random sequence (previous-token again, and induction), with labels.
public struct HeadSummary: Sendable, Codable {
    /// When a label applies. A head can carry several labels, or none.
    public struct Thresholds: Sendable, Codable, Equatable {
        /// "previous-token" ("next-token" in an encoder): mean attention to the previous (next)
        /// position on the random sequence above this.
        public var previousToken: Float = 0.5
        /// "induction": induction score above this.
        public var induction: Float = 0.4
        /// "first-token sink": mean attention to position 0 on the prompt above this.
        public var firstToken: Float = 0.6

        public init() {}
    }

    public struct Head: Sendable, Codable, Equatable {
        public var layer: Int
        public var head: Int
        /// On the prompt: mean attention entropy over query rows, in nats (0…ln N).
        public var entropy: Float
        /// On the prompt: mean attention from position i to i−1.
        public var previousToken: Float
        /// On the prompt: mean attention to position 0 (from positions ≥ 1).
        public var firstToken: Float
        /// On the random sequences: mean attention from i to i−1. Random tokens carry no meaning,
        /// so a high score here is positional: the head looks back one step whatever the tokens are.
        public var previousTokenOnRandom: Float
        /// On the repeated random sequences: attention to the token after the earlier occurrence.
        public var induction: Float
        /// Encoders only (nil for a decoder, whose mask hides later tokens): on the random
        /// sequences, mean attention from i to i+1.
        public var nextTokenOnRandom: Float?
        public var labels: [String]

        public init(
            layer: Int, head: Int, entropy: Float, previousToken: Float, firstToken: Float,
            previousTokenOnRandom: Float, induction: Float, nextTokenOnRandom: Float? = nil, labels: [String] = []
        ) {
            self.layer = layer; self.head = head; self.entropy = entropy; self.previousToken = previousToken
            self.firstToken = firstToken; self.previousTokenOnRandom = previousTokenOnRandom
            self.induction = induction; self.nextTokenOnRandom = nextTokenOnRandom; self.labels = labels
        }
    }

    public var heads: [Head]
    public var thresholds: Thresholds
    /// The prompt's ids.
    public var promptIds: [Int]
    /// The repeated random sequences measured: each is one first token, then a random block of
    /// `repeatLength` tokens, then the same block again.
    public var randomSequences: [[Int]]
    public var repeatLength: Int
    public var seed: UInt64

    /// The head with the highest previous-token score on the random sequences.
    public var strongestPreviousToken: Head? { heads.max { $0.previousTokenOnRandom < $1.previousTokenOnRandom } }
    /// Encoders only: the head with the highest next-token score on the random sequences.
    public var strongestNextToken: Head? {
        heads.filter { $0.nextTokenOnRandom != nil }.max { $0.nextTokenOnRandom! < $1.nextTokenOnRandom! }
    }
    /// The head with the highest induction score.
    public var strongestInduction: Head? { heads.max { $0.induction < $1.induction } }

    /// Measures every head of `model`: one forward pass over `promptIds`, and one over each of
    /// `sequences` random sequences `[first, r, r]` with `r` of length `length`, drawn with `seed`
    /// from the tokenizer's ordinary text tokens (see `randomPool`). `first` is the beginning-of-text token.
    public static func measure(
        model: any LanguageModel, tokenizer: any Tokenizer, promptIds: [Int],
        seed: UInt64 = 42, length: Int = 25, sequences: Int = 4,
        repeating block: [Int]? = nil,
        thresholds: Thresholds = Thresholds()
    ) throws -> HeadSummary {
        let config = model.config
        let context = config.contextLength
        guard !config.isEncoderDecoder else { throw HeadSummaryError.encoderDecoder }
        guard promptIds.count >= 2 else { throw HeadSummaryError.promptTooShort(promptIds.count) }
        guard promptIds.count <= context else { throw GenerationError.promptTooLong(tokens: promptIds.count, context: context) }
        if let bad = promptIds.first(where: { $0 < 0 || $0 >= config.vocabularySize }) {
            throw GenerationError.tokenOutOfRange(bad, vocabulary: config.vocabularySize)
        }
        if let block {
            guard block.count >= 2 else { throw HeadSummaryError.repeatTooShort(block.count) }
            guard 2 * block.count + 1 <= context else {
                throw HeadSummaryError.repeatTooLong(block.count, maximum: (context - 1) / 2)
            }
            if let bad = block.first(where: { $0 < 0 || $0 >= config.vocabularySize }) {
                throw GenerationError.tokenOutOfRange(bad, vocabulary: config.vocabularySize)
            }
        } else {
            guard length >= 2, 2 * length + 1 <= context else {
                throw HeadSummaryError.badLength(length, maximum: (context - 1) / 2)
            }
            guard sequences >= 1 else { throw HeadSummaryError.badSequences(sequences) }
        }

        let pool = randomPool(tokenizer: tokenizer, vocabularySize: config.vocabularySize)
        guard pool.count >= 2 else { throw HeadSummaryError.noRandomTokens }
        var random = RandomSource(seed: seed)
        let first = tokenizer.beginningOfText < config.vocabularySize ? tokenizer.beginningOfText : pool[0]
        // A given block (text the model knows) replaces the random ones: one sequence [first, block, block].
        let randomSequences: [[Int]] =
            block.map { [[first] + $0 + $0] }
            ?? (0..<sequences).map { _ in
                let block = (0..<length).map { _ in pool[Int((UInt64(random.nextUInt32()) * UInt64(pool.count)) >> 32)] }
                return [first] + block + block
            }
        let length = block?.count ?? length

        let L = config.layers, H = config.heads
        let promptPatterns = patterns(model: model, tokens: promptIds)
        var previousOnRandom = [Float](repeating: 0, count: L * H), induction = [Float](repeating: 0, count: L * H)
        var nextOnRandom = [Float](repeating: 0, count: L * H)
        for sequence in randomSequences {
            let patterns = patterns(model: model, tokens: sequence)
            for l in 0..<L {
                for h in 0..<H {
                    previousOnRandom[l * H + h] += AttentionMetrics.previousToken(patterns[l], head: h) / Float(randomSequences.count)
                    nextOnRandom[l * H + h] += AttentionMetrics.nextToken(patterns[l], head: h) / Float(randomSequences.count)
                    induction[l * H + h] += AttentionMetrics.induction(patterns[l], head: h, period: length) / Float(randomSequences.count)
                }
            }
        }
        var heads: [Head] = []
        for l in 0..<L {
            for h in 0..<H {
                var head = Head(
                    layer: l, head: h,
                    entropy: AttentionMetrics.entropy(promptPatterns[l], head: h),
                    previousToken: AttentionMetrics.previousToken(promptPatterns[l], head: h),
                    firstToken: AttentionMetrics.firstToken(promptPatterns[l], head: h),
                    previousTokenOnRandom: previousOnRandom[l * H + h],
                    induction: induction[l * H + h],
                    nextTokenOnRandom: config.isCausal ? nil : nextOnRandom[l * H + h], labels: [])
                head.labels = labels(head, thresholds: thresholds)
                heads.append(head)
            }
        }
        return HeadSummary(
            heads: heads, thresholds: thresholds, promptIds: promptIds, randomSequences: randomSequences,
            repeatLength: length, seed: seed)
    }

    /// The labels `head` earns under `thresholds`.
    public static func labels(_ head: Head, thresholds: Thresholds) -> [String] {
        var labels: [String] = []
        if head.previousTokenOnRandom > thresholds.previousToken { labels.append("previous-token") }
        if let next = head.nextTokenOnRandom, next > thresholds.previousToken { labels.append("next-token") }
        if head.induction > thresholds.induction { labels.append("induction") }
        if head.firstToken > thresholds.firstToken { labels.append("first-token sink") }
        return labels
    }

    /// Every layer's attention pattern `[H, N, N]` for one pass over `tokens`.
    static func patterns(model: any LanguageModel, tokens: [Int]) -> [Tensor] {
        var cache = model.makeCache()
        let result = model.forward(tokens, cache: &cache, capture: CaptureSpec(kinds: [.pattern]), allLogits: false)
        return (0..<model.config.layers).map { result.records[RecordKind.pattern.name(layer: $0)]! }
    }

    /// The ids random sequences are drawn from: tokens that stand for ordinary text. Left out are
    /// control tokens, pieces that are not whole UTF-8 characters, and byte-fallback duplicates
    /// (a SentencePiece `<0x61>` that means the same "a" as a regular piece with a higher id), which
    /// the tokenizer never produces for text and a small model has hardly seen.
    public static func randomPool(tokenizer: any Tokenizer, vocabularySize: Int) -> [Int] {
        let count = min(vocabularySize, tokenizer.vocabularySize)
        var lastIdOfBytes: [[UInt8]: Int] = [:]
        var candidates: [(id: Int, bytes: [UInt8])] = []
        for id in 0..<count where !tokenizer.isSpecialToken(id) {
            let bytes = tokenizer.bytes(of: id)
            guard !bytes.isEmpty, String(validating: bytes, as: UTF8.self) != nil else { continue }
            candidates.append((id, bytes))
            lastIdOfBytes[bytes] = id
        }
        return candidates.filter { lastIdOfBytes[$0.bytes] == $0.id }.map(\.id)
    }
}

/// A setting of the head measure, named as people say it; an interface names it its own way
/// (the command line: --length, --sequences, --repeat).
public enum HeadSummarySetting: String, Sendable {
    case length = "the random block's length"
    case sequences = "the number of random sequences"
    case repeatedText = "the repeated text"
}

public enum HeadSummaryError: Error, CustomStringConvertible, LocalizedError {
    case promptTooShort(Int)
    case badLength(Int, maximum: Int)
    case badSequences(Int)
    case noRandomTokens
    case repeatTooShort(Int)
    case repeatTooLong(Int, maximum: Int)
    case encoderDecoder

    /// The message with each setting named by `name` (e.g. its command-line flag).
    public func description(naming name: (HeadSummarySetting) -> String) -> String {
        switch self {
        case .promptTooShort(let count):
            return
                "the prompt is \(count) token\(count == 1 ? "" : "s"); head scores compare positions, so give a prompt of at least 2 tokens"
        case .badLength(let length, let maximum):
            return
                "\(name(.length)) \(length) is out of range: the random block is repeated after a first token, so use 2 to \(maximum) for this model's context"
        case .badSequences(let count):
            return "\(name(.sequences)) \(count) is out of range: use 1 or more"
        case .repeatTooShort(let count):
            return
                "\(name(.repeatedText)) is \(count) token\(count == 1 ? "" : "s"); an induction score needs a text of at least 2 tokens to repeat"
        case .repeatTooLong(let count, let maximum):
            return
                "\(name(.repeatedText)) is \(count) tokens; written twice after a first token it does not fit this model's context, so give a text of at most \(maximum) tokens"
        case .encoderDecoder:
            return
                "head scores are measured on one stack's self-attention; an encoder–decoder has two and a cross-attention: draw them with `lantern attention` (its encoder, decoder and cross parts; head scores for them are not built yet)"
        case .noRandomTokens:
            return "the tokenizer has too few ordinary tokens to draw a random sequence from"
        }
    }

    public var description: String { description(naming: \.rawValue) }
    public var errorDescription: String? { description }
}
