import Foundation

// MARK: - SentencePiece Unigram (T5, FLAN-T5, mT5 …)

/// The tokenizer of T5-family models as Hugging Face stores it in `tokenizer.json`: a
/// SentencePiece Unigram model (every piece has a log-probability score). Encodes exactly as
/// Hugging Face's `tokenizers` does:
///
/// 1. added tokens written in the text (`</s>`, `<extra_id_0>`…) are cut out first and become
///    their ids;
/// 2. each stretch between them is normalised as the file says: SentencePiece's precompiled
///    rules (`Precompiled`, see `PrecompiledCharsmap`), `Replace` (a literal or a regular
///    expression: T5's files turn runs of spaces into one), `Strip`;
/// 3. pre-tokenised: `WhitespaceSplit` (words between whitespace) and/or `Metaspace` (spaces
///    become "▁", one goes in front as its prepend scheme says, and each word starts at a "▁");
/// 4. each word is segmented by Viterbi: of all ways to cut it into vocabulary pieces, the one
///    whose scores sum highest; a character no piece starts with becomes `<unk>` (scored as the
///    lowest score minus 10), and consecutive `<unk>`s fuse into one;
/// 5. the post-processor's template adds `</s>` after the text (T5).
///
/// Decoding turns "▁" back into spaces and drops the one that encoding put in front of the text
/// (after nothing, or after a control token such as the decoder's start `<pad>`).
public struct UnigramTokenizer: Tokenizer {
    public let vocabularySize: Int
    /// T5 has no beginning-of-text token: its decoder starts from `<pad>`; this is that (or `</s>`).
    public let beginningOfText: Int
    public let endOfText: Int
    public let unknown: Int
    /// Ids the post-processor puts before and after the text's ids (T5: none, `[</s>]`).
    public let prefixIds: [Int], suffixIds: [Int]

    /// id → piece ("▁the", "</s>", "<extra_id_0>").
    private let pieces: [String]
    /// id → its log-probability score (Viterbi sums these).
    private let scores: [Double]
    /// Pieces by their UTF-8 bytes, for the lattice: first byte → [(bytes, id)], longest first.
    private let piecesByFirstByte: [UInt8: [([UInt8], Int)]]
    private let unknownScore: Double
    private let specialIds: Set<Int>
    /// The tokens a text starts after (pad, bos), after which decoding drops a leading space.
    private let controlIds: Set<Int>
    private let matcher: SpecialTokenMatcher
    let rules: Rules

    /// What happens to text before Viterbi sees it (step 2 and 3 above).
    struct Rules: Sendable {
        enum NormalizerStep: Sendable {
            case precompiled(PrecompiledCharsmap)
            case replaceLiteral(String, with: String)
            case replaceRegex(NSRegularExpression, with: String)
            case strip(left: Bool, right: Bool)
        }
        var normalizer: [NormalizerStep] = []
        var splitsOnWhitespace = false
        var metaspace: SentencePieceBPETokenizer.TextRules.Metaspace?

        func normalize(_ text: String) -> String {
            var text = text
            for step in normalizer {
                switch step {
                case .precompiled(let charsmap): text = charsmap.normalize(text)
                case .replaceLiteral(let pattern, let content): text = text.replacingOccurrences(of: pattern, with: content)
                case .replaceRegex(let expression, let content):
                    let range = NSRange(text.startIndex..., in: text)
                    text = expression.stringByReplacingMatches(
                        in: text, range: range, withTemplate: NSRegularExpression.escapedTemplate(for: content))
                case .strip(let left, let right):
                    if left { text = String(text.drop { $0.isWhitespace }) }
                    if right { while text.last?.isWhitespace == true { text.removeLast() } }
                }
            }
            return text
        }

        /// Normalised text → the words Viterbi segments. `atStart`: the text begins the input.
        func words(of text: String, atStart: Bool) -> [String] {
            let chunks = splitsOnWhitespace ? text.split(whereSeparator: \.isWhitespace).map(String.init) : [text]
            guard let metaspace else { return chunks.filter { !$0.isEmpty } }
            var words: [String] = []
            for (index, chunk) in chunks.enumerated() where !chunk.isEmpty {
                var scalars = Array(chunk.unicodeScalars)
                for i in scalars.indices where scalars[i] == " " { scalars[i] = metaspace.replacement }
                let first = atStart && index == 0
                let prepends = metaspace.prependScheme == .always || (metaspace.prependScheme == .first && first)
                if prepends, scalars.first != metaspace.replacement { scalars.insert(metaspace.replacement, at: 0) }
                guard metaspace.split else {
                    words.append(String(String.UnicodeScalarView(scalars)))
                    continue
                }
                var start = 0
                for i in scalars.indices.dropFirst() where scalars[i] == metaspace.replacement {
                    words.append(String(String.UnicodeScalarView(scalars[start..<i])))
                    start = i
                }
                words.append(String(String.UnicodeScalarView(scalars[start...])))
            }
            return words
        }
    }

    /// - Parameters:
    ///   - vocabulary: (piece, score) in id order.
    ///   - added: added tokens (text → id), cut out of the text before normalising.
    init(
        vocabulary: [(piece: String, score: Double)], unknown: Int, added: [String: Int], specials: Set<Int>, rules: Rules,
        template: PostProcessorTemplate, path: String
    ) throws {
        guard vocabulary.indices.contains(unknown) else {
            throw TokenizerError.invalidVocabulary(path: path, reason: "model.unk_id \(unknown) is not an id of the vocabulary")
        }
        // Added tokens may lie past the model's vocabulary (T5's sentinels in some files).
        vocabularySize = max(vocabulary.count, (added.values.max() ?? -1) + 1)
        var pieces = vocabulary.map(\.piece) + Array(repeating: "", count: vocabularySize - vocabulary.count)
        for (content, id) in added where id >= vocabulary.count { pieces[id] = content }
        self.pieces = pieces
        scores = vocabulary.map(\.score)
        var byFirst: [UInt8: [([UInt8], Int)]] = [:]
        for (id, entry) in vocabulary.enumerated() {
            let bytes = Array(entry.piece.utf8)
            guard let first = bytes.first else { continue }
            byFirst[first, default: []].append((bytes, id))
        }
        piecesByFirstByte = byFirst.mapValues { $0.sorted { $0.0.count > $1.0.count } }
        unknownScore = (scores.min() ?? 0) - 10
        self.unknown = unknown
        specialIds = specials
        matcher = SpecialTokenMatcher(added)
        self.rules = rules
        prefixIds = template.singlePrefix
        suffixIds = template.singleSuffix
        endOfText = added["</s>"] ?? suffixIds.last ?? unknown
        beginningOfText = added["<pad>"] ?? added["<s>"] ?? endOfText
        // What a decoder starts from (T5: <pad>): the first word after it is the text's first.
        controlIds = Set(["<pad>", "<s>"].compactMap { added[$0] })
    }

    // MARK: Encoding

    public func encode(_ text: String) -> [Int] { encode(text, addSpecialTokens: true) }

    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        let scalars = Array(text.unicodeScalars)
        var ids: [Int] = addSpecialTokens ? prefixIds : []
        for segment in matcher.segments(of: scalars, stripsLeft: [], stripsRight: []) {
            switch segment {
            case .special(let id): ids.append(id)
            case .text(let range):
                let normalized = rules.normalize(String(String.UnicodeScalarView(scalars[range])))
                for word in rules.words(of: normalized, atStart: range.lowerBound == 0) { ids += viterbi(word) }
            }
        }
        if addSpecialTokens { ids += suffixIds }
        return ids
    }

    /// Viterbi over the word's bytes: `best[end]` is the best-scoring segmentation of the bytes
    /// before `end` and the piece it ends with. At each character boundary every vocabulary piece
    /// that starts there is tried; a boundary no one-character piece starts from gets `<unk>`
    /// for that character. Ties keep the first candidate found, as the reference does.
    private func viterbi(_ word: String) -> [Int] {
        let bytes = Array(word.utf8), size = bytes.count
        guard size > 0 else { return [] }
        var score = [Double](repeating: 0, count: size + 1)
        var start = [Int](repeating: -1, count: size + 1), piece = [Int](repeating: -1, count: size + 1)
        var position = 0
        while position < size {
            let here = score[position]
            let characterLength = Self.utf8Length(bytes[position])
            var hasSingleCharacter = false
            for (candidate, id) in piecesByFirstByte[bytes[position]] ?? []
            where position + candidate.count <= size && bytes[position..<(position + candidate.count)].elementsEqual(candidate) {
                let end = position + candidate.count, total = here + scores[id]
                if start[end] < 0 || total > score[end] {
                    score[end] = total; start[end] = position; piece[end] = id
                }
                if candidate.count == characterLength { hasSingleCharacter = true }
            }
            if !hasSingleCharacter {
                let end = min(size, position + characterLength), total = here + unknownScore
                if start[end] < 0 || total > score[end] {
                    score[end] = total; start[end] = position; piece[end] = unknown
                }
            }
            position += characterLength
        }
        // Back from the end; a run of <unk> becomes one.
        var ids: [Int] = []
        var end = size
        while end > 0 {
            let id = piece[end]
            if !(id == unknown && ids.last == unknown) { ids.append(id) }
            end = start[end]
        }
        return ids.reversed()
    }

    private static func utf8Length(_ lead: UInt8) -> Int {
        switch lead {
        case 0..<0x80: 1
        case 0xC0..<0xE0: 2
        case 0xE0..<0xF0: 3
        case 0xF0...: 4
        default: 1
        }
    }

    // MARK: Decoding

    public func bytes(of id: Int) -> [UInt8] {
        guard pieces.indices.contains(id) else { return [] }
        let replacement = rules.metaspace?.replacement ?? "\u{2581}"
        return Array(String(String.UnicodeScalarView(pieces[id].unicodeScalars.map { $0 == replacement ? " " : $0 })).utf8)
    }

    /// The space encoding put in front of the text goes: at the start, and after the decoder's
    /// start token (`<pad>`); not after `<unk>`, `</s>` or a sentinel inside the text (Hugging
    /// Face strips the first decoded word only; after a sentinel or `<unk>` at the very start it
    /// strips the next word's space too, where Lantern keeps it).
    public func bytes(of id: Int, following previous: Int?) -> [UInt8] {
        let bytes = bytes(of: id)
        guard rules.metaspace.map({ $0.prependScheme != .never }) ?? false, previous == nil || controlIds.contains(previous!),
            bytes.first == UInt8(ascii: " ")
        else { return bytes }
        return Array(bytes.dropFirst())
    }

    public func isSpecialToken(_ id: Int) -> Bool { specialIds.contains(id) }

    public func displayPiece(_ id: Int) -> String {
        guard pieces.indices.contains(id) else { return "<invalid id \(id)>" }
        if specialIds.contains(id) { return pieces[id] }
        return PieceDisplay.visible(bytes(of: id))
    }

    /// The piece as `tokenizer.json` spells it ("▁the").
    public func piece(_ id: Int) -> String? { pieces.indices.contains(id) ? pieces[id] : nil }
}
