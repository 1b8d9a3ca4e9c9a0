import Foundation
import Tensors
import Generation
import Tokenizers
import Transformer

/// An encoder's report card: how often it recovers a hidden word of a held-out story (each word
/// masked in turn, the rest of the story visible on both sides), beside a baseline that ignores
/// the context and always guesses the most frequent words; and which head looks furthest ahead.
public struct MaskedWordReport: Encodable, Sendable {
    /// Words masked and guessed.
    public var words: Int
    public var stories: Int
    /// The hidden word is the model's first guess / among its five best.
    public var top1: Double, top5: Double
    /// The same for "always guess the most frequent words" (frequencies over these stories, so
    /// the baseline is if anything favoured).
    public var unigramTop1: Double, unigramTop5: Double
    /// The head whose attention goes most to later tokens (mean share of a row's attention on
    /// the keys after it, [SEP] left out), and its share on the very next token.
    public var laterHeadLayer: Int, laterHead: Int
    public var laterShare: Double, nextTokenShare: Double
}

public enum MaskedWordEvaluation {
    /// Masks every single-piece word of each story in turn (stories cut to the model's context).
    public static func evaluate(
        model: any LanguageModel, tokenizer: WordPieceTokenizer, stories: [String], progress: (Int) -> Void = { _ in }
    ) throws -> MaskedWordReport {
        guard model.config.head == .maskedToken, let mask = tokenizer.maskTokenId else { throw EncoderTaskError.noMaskedLanguageHead }
        let context = model.config.contextLength, V = model.config.vocabularySize
        let encoded = stories.map { story -> [Int] in
            let ids = tokenizer.encode(story)
            return ids.count <= context ? ids : Array(ids.prefix(context - 1)) + [tokenizer.endOfText]
        }
        /// Positions holding a whole word in one piece: not special, not punctuation, not a `##`
        /// continuation and not followed by one.
        func wordPositions(_ ids: [Int]) -> [Int] {
            ids.indices.filter { i in
                let piece = tokenizer.piece(ids[i])
                let next = i + 1 < ids.count ? tokenizer.piece(ids[i + 1]) : ""
                return !tokenizer.isSpecialToken(ids[i]) && !piece.hasPrefix(tokenizer.continuingPrefix)
                    && !next.hasPrefix(tokenizer.continuingPrefix)
                    && !(piece.unicodeScalars.count == 1 && WordPieceTokenizer.isPunctuation(piece.unicodeScalars.first!))
            }
        }
        var frequency: [Int: Int] = [:]
        for ids in encoded { for i in wordPositions(ids) { frequency[ids[i], default: 0] += 1 } }
        let unigram = frequency.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(5).map(\.key)

        var words = 0, top1 = 0, top5 = 0, unigram1 = 0, unigram5 = 0
        let L = model.config.layers, NH = model.config.heads
        var later = [Double](repeating: 0, count: L * NH), next = later
        var rows = 0
        for (index, ids) in encoded.enumerated() {
            // Attention on the story as it is: which heads look ahead.
            var cache = model.makeCache()
            let plain = model.forward(ids, cache: &cache, capture: CaptureSpec(kinds: [.pattern]), allLogits: false)
            let T = ids.count
            for l in 0..<L {
                guard let pattern = plain.records[RecordKind.pattern.name(layer: l)] else { continue }
                for h in 0..<NH {
                    for q in 0..<(T - 2) {  // rows with a later key other than [SEP]
                        let row = (h * T + q) * T
                        var share: Double = 0
                        for k in (q + 1)..<(T - 1) { share += Double(pattern.scalars[row + k]) }
                        later[l * NH + h] += share
                        next[l * NH + h] += Double(pattern.scalars[row + q + 1])
                    }
                }
            }
            rows += max(0, T - 2)
            for position in wordPositions(ids) {
                var masked = ids
                masked[position] = mask
                var cache = model.makeCache()
                let logits = model.forward(masked, cache: &cache, capture: .nothing, allLogits: true).logits
                let row = Array(logits.scalars[(position * V)..<((position + 1) * V)])
                let best = topIndices(row, count: 5)
                words += 1
                if best.first == ids[position] { top1 += 1 }
                if best.contains(ids[position]) { top5 += 1 }
                if unigram.first == ids[position] { unigram1 += 1 }
                if unigram.contains(ids[position]) { unigram5 += 1 }
            }
            progress(index + 1)
        }
        let strongest = later.indices.max { later[$0] < later[$1] } ?? 0
        let share = { (x: Int) in Double(x) / Double(max(words, 1)) }
        return MaskedWordReport(
            words: words, stories: stories.count, top1: share(top1), top5: share(top5), unigramTop1: share(unigram1),
            unigramTop5: share(unigram5), laterHeadLayer: strongest / NH, laterHead: strongest % NH,
            laterShare: later[strongest] / Double(max(rows, 1)), nextTokenShare: next[strongest] / Double(max(rows, 1)))
    }
}
