import Foundation
import Generation
import Tensors
import Tokenizers
import Transformer

/// An encoder–decoder's report card on the toy translation: how many phrases it translates
/// exactly (greedy), on pairs that use a noun–colour combination never seen in training and on
/// fresh ones of the training kind; and which cross-attention head follows the word alignment —
/// while writing an English word, looking hardest at the French word it translates, even where
/// the order flips ("la balle rouge" → "the red ball": "red" looks at "rouge", two words on).
public struct TranslationReport: Encodable, Sendable {
    public struct Example: Encodable, Sendable {
        public var source: String, expected: String, output: String
    }

    /// Exact matches (the whole English sentence) out of `heldOut` / `fresh` pairs.
    public var heldOut: Int, heldOutCorrect: Int
    public var fresh: Int, freshCorrect: Int
    /// The cross-attention head whose strongest source word is the aligned one most often, over
    /// every aligned target word of the held-out pairs; and that share.
    public var alignmentLayer: Int, alignmentHead: Int, alignmentShare: Double
    /// The same share for each layer's heads averaged, and for always looking at the word in
    /// the same position (the alignment a model that ignored word order would show).
    public var alignmentShareByLayer: [Double]
    public var samePositionShare: Double
    /// Target words aligned and scored.
    public var alignedWords: Int
    /// A few held-out pairs it got wrong (empty when none).
    public var mistakes: [Example]
}

public enum TranslationEvaluation {
    /// The toy language's word translations (determiners, nouns, colours, verbs, prepositions,
    /// "est" and "et"): each English word and the French words it can stand for.
    static let lexicon: [String: Set<String>] = {
        var lexicon: [String: Set<String>] = ["the": ["le", "la"], "a": ["un", "une"], "an": ["un", "une"], "is": ["est"], "and": ["et"]]
        for noun in TranslationWriter.nouns { lexicon[noun.english, default: []].insert(noun.french) }
        for colour in TranslationWriter.colours { lexicon[colour.english, default: []].formUnion([colour.masculine, colour.feminine]) }
        for verb in TranslationWriter.verbs { lexicon[verb.english, default: []].insert(verb.french) }
        for preposition in TranslationWriter.prepositions { lexicon[preposition.english, default: []].insert(preposition.french) }
        return lexicon
    }()

    /// For each English word, the index of the French word it translates: the k-th English word
    /// of a kind takes the k-th French word of that kind (nil where none matches).
    static func alignment(english: [String], french: [String]) -> [Int?] {
        var used = Set<Int>()
        return english.map { word in
            guard let candidates = lexicon[word] else { return nil }
            guard let index = french.indices.first(where: { !used.contains($0) && candidates.contains(french[$0]) }) else { return nil }
            used.insert(index)
            return index
        }
    }

    public static func evaluate(
        model: any LanguageModel, tokenizer: any Tokenizer, heldOut: [(french: String, english: String)],
        fresh: [(french: String, english: String)], progress: (Int) -> Void = { _ in }
    ) throws -> TranslationReport {
        let c = model.config
        guard c.isEncoderDecoder else { throw GenerationError.encoderDoesNotGenerate(family: c.family.displayName) }
        let generator = Generator(model: model, tokenizer: tokenizer)
        let L = c.layers, NH = c.heads
        var hits = [Int](repeating: 0, count: L * NH), samePosition = 0, aligned = 0
        var mistakes: [TranslationReport.Example] = []
        func translate(_ french: String) throws -> (text: String, session: GenerationSession) {
            let (result, session) = try generator.generate(
                prompt: french, maxNewTokens: min(48, c.contextLength - 1), settings: SamplingSettings(greedy: true))
            return (result.text.trimmingCharacters(in: .whitespaces), session)
        }
        var heldOutCorrect = 0
        for (index, pair) in heldOut.enumerated() {
            progress(index)
            let (text, session) = try translate(pair.french)
            guard text == pair.english else {
                if mistakes.count < 5 { mistakes.append(.init(source: pair.french, expected: pair.english, output: text)) }
                continue
            }
            heldOutCorrect += 1
            // Where each written word looked: the decoder's row i produced token i. Words are
            // single pieces in the toy language; anything else is left out.
            let sourceIds = session.promptIds, written = session.generatedIds
            func word(_ id: Int) -> String { tokenizer.decode([id]).trimmingCharacters(in: .whitespaces) }
            let sourceWords = sourceIds.map(word), writtenWords = written.map(word)
            let links = alignment(english: writtenWords, french: sourceWords)
            guard var cache = model.encode(source: sourceIds, capture: .nothing)?.cache else { continue }
            let rows = session.decoderTokens
            let records = model.forward(rows, cache: &cache, capture: CaptureSpec(kinds: [.crossPattern]), allLogits: false).records
            let S = sourceIds.count, T = rows.count
            for (i, link) in links.enumerated() {
                guard let link, i < T else { continue }
                aligned += 1
                // The word in the same position of the French (after [CLS]), as a word-for-word reading would pick.
                if i + 1 == link { samePosition += 1 }
                for l in 0..<L {
                    guard let pattern = records[RecordKind.crossPattern.name(layer: l)] else { continue }
                    for h in 0..<NH {
                        let row = Array(pattern.scalars[((h * T + i) * S)..<((h * T + i + 1) * S)])
                        if row.indices.max(by: { row[$0] < row[$1] }) == link { hits[l * NH + h] += 1 }
                    }
                }
            }
        }
        var freshCorrect = 0
        for (index, pair) in fresh.enumerated() {
            progress(heldOut.count + index)
            if try translate(pair.french).text == pair.english { freshCorrect += 1 }
        }
        let best = hits.indices.max { hits[$0] < hits[$1] } ?? 0
        let share = { (count: Int) in aligned == 0 ? 0 : Double(count) / Double(aligned) }
        return TranslationReport(
            heldOut: heldOut.count, heldOutCorrect: heldOutCorrect, fresh: fresh.count, freshCorrect: freshCorrect,
            alignmentLayer: best / NH, alignmentHead: best % NH, alignmentShare: share(hits.isEmpty ? 0 : hits[best]),
            alignmentShareByLayer: (0..<L).map { l in share((0..<NH).reduce(0) { $0 + hits[l * NH + $1] }) / Double(NH) },
            samePositionShare: share(samePosition), alignedWords: aligned, mistakes: mistakes)
    }
}
