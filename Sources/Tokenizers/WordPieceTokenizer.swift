import Foundation

// MARK: - WordPiece (BERT)

/// The tokenizer of BERT-family encoders, encoding exactly as Hugging Face's fast
/// `BertTokenizerFast` (the `tokenizers` library) does:
///
/// 1. added tokens written in the text (`[MASK]`, `[CLS]`…) are cut out first and become their ids;
/// 2. each stretch between them is normalised (`BertNormalizer`): control characters, NUL and
///    U+FFFD dropped, whitespace made a space, a space put around every CJK ideograph, accents
///    stripped (NFD, then nonspacing marks dropped) and letters lower-cased, as configured;
/// 3. split into words at whitespace and around every punctuation character (`BertPreTokenizer`);
/// 4. each word split greedily into the longest pieces the vocabulary has, left to right, pieces
///    after the first spelled with the `##` prefix; a word with a part no piece covers, or longer
///    than `max_input_chars_per_word`, becomes one `[UNK]`;
/// 5. the post-processor's template adds `[CLS] … [SEP]` (and, for a pair, `… B [SEP]` with
///    token type 1).
///
/// Decoding joins pieces with spaces and glues `##` pieces to the one before, as HF's
/// WordPiece decoder does; the text is the normalised one (lower-cased, accents gone).
/// Loading lives in `WordPieceTokenizer+Loading.swift`.
public struct WordPieceTokenizer: Tokenizer {
    /// What `BertNormalizer` does to text before it is split.
    public struct Normalization: Sendable, Equatable {
        public var cleanText = true
        public var handleChineseCharacters = true
        /// Strip accents; HF's default (`nil` in the file) follows `lowercase`.
        public var stripAccents = true
        public var lowercase = true
        public init(cleanText: Bool = true, handleChineseCharacters: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true) {
            self.cleanText = cleanText; self.handleChineseCharacters = handleChineseCharacters
            self.stripAccents = stripAccents ?? lowercase; self.lowercase = lowercase
        }
    }

    public let vocabularySize: Int
    /// `[CLS]`: what starts every encoded text.
    public let beginningOfText: Int
    /// `[SEP]`: what ends it.
    public let endOfText: Int
    public let unknown: Int
    /// `[MASK]`, for masked-language models; nil when the vocabulary has none.
    public let maskTokenId: Int?
    /// `[PAD]`, when the vocabulary has one.
    public let padding: Int?
    public let normalization: Normalization
    public let template: PostProcessorTemplate
    /// Longer words become `[UNK]` whole (HF's `max_input_chars_per_word`, 100 by default).
    public let maximumWordLength: Int
    public let continuingPrefix: String

    /// id → piece ("the", "##ing", "[CLS]").
    private let pieces: [String]
    /// A piece's UTF-8 bytes → id. Bytes, not `String`: Swift compares strings by canonical
    /// equivalence, so "e" + U+0301 would find the piece "é" (U+00E9), which HF's lookup does not.
    private let idForPiece: [[UInt8]: Int]
    private let specialIds: Set<Int>
    private let addedMatcher: SpecialTokenMatcher
    private let stripsLeft: Set<Int>, stripsRight: Set<Int>

    /// An added token (`[MASK]`…): matched whole in the text as written.
    public struct AddedToken: Sendable {
        public var content: String, id: Int, special: Bool
        public var stripsLeft = false, stripsRight = false
        public init(content: String, id: Int, special: Bool, stripsLeft: Bool = false, stripsRight: Bool = false) {
            self.content = content; self.id = id; self.special = special
            self.stripsLeft = stripsLeft; self.stripsRight = stripsRight
        }
    }

    /// - Parameters:
    ///   - vocabulary: pieces in id order (`vocab.txt`'s lines).
    ///   - path: names the file in errors.
    public init(
        vocabulary: [String], addedTokens: [AddedToken], normalization: Normalization, template: PostProcessorTemplate? = nil,
        unknownPiece: String = "[UNK]", continuingPrefix: String = "##", maximumWordLength: Int = 100, path: String
    ) throws {
        var idForPiece: [[UInt8]: Int] = [:]
        for (id, piece) in vocabulary.enumerated() where idForPiece[Array(piece.utf8)] == nil { idForPiece[Array(piece.utf8)] = id }
        for token in addedTokens where token.id >= vocabulary.count || vocabulary[token.id] != token.content {
            guard token.id < vocabulary.count else {
                throw TokenizerError.invalidVocabulary(
                    path: path,
                    reason: "added token \(quotedPiece(token.content)) has id \(token.id), past the vocabulary's \(vocabulary.count) pieces"
                )
            }
            idForPiece[Array(token.content.utf8)] = token.id
        }
        func id(_ piece: String) -> Int? { idForPiece[Array(piece.utf8)] }
        guard let unknown = id(unknownPiece) else {
            throw TokenizerError.invalidVocabulary(
                path: path, reason: "the unknown piece \(quotedPiece(unknownPiece)) is not in the vocabulary")
        }
        guard let cls = id("[CLS]") ?? template?.singlePrefix.first, let sep = id("[SEP]") ?? template?.singleSuffix.last else {
            throw TokenizerError.invalidVocabulary(
                path: path, reason: "the vocabulary has no [CLS] and [SEP], which every BERT input starts and ends with")
        }
        guard maximumWordLength > 0 else {
            throw TokenizerError.invalidVocabulary(
                path: path, reason: "max_input_chars_per_word is \(maximumWordLength); it must be 1 or more")
        }
        self.vocabularySize = vocabulary.count
        self.pieces = vocabulary
        self.idForPiece = idForPiece
        self.unknown = unknown
        self.beginningOfText = cls
        self.endOfText = sep
        self.maskTokenId = id("[MASK]")
        self.padding = id("[PAD]")
        self.normalization = normalization
        self.template =
            template
            ?? PostProcessorTemplate(
                single: [.special([cls], type: 0), .text(second: false, type: 0), .special([sep], type: 0)],
                pair: [
                    .special([cls], type: 0), .text(second: false, type: 0), .special([sep], type: 0),
                    .text(second: true, type: 1), .special([sep], type: 1)
                ])
        self.maximumWordLength = maximumWordLength
        self.continuingPrefix = continuingPrefix
        self.specialIds = Set(addedTokens.filter(\.special).map(\.id) + [cls, sep, unknown])
        self.addedMatcher = SpecialTokenMatcher(
            Dictionary(addedTokens.map { ($0.content, $0.id) }, uniquingKeysWith: { first, _ in first }))
        self.stripsLeft = Set(addedTokens.filter(\.stripsLeft).map(\.id))
        self.stripsRight = Set(addedTokens.filter(\.stripsRight).map(\.id))
    }

    // MARK: Encoding

    /// Text → ids, `[CLS] … [SEP]` included (as HF's `tokenizer(text)`).
    public func encode(_ text: String) -> [Int] {
        template.apply(encode(text, addSpecialTokens: false)).ids
    }

    /// Text → ids without the template's tokens (added tokens written in the text still count).
    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        guard !addSpecialTokens else { return encode(text) }
        let scalars = Array(text.unicodeScalars)
        var ids: [Int] = []
        for segment in addedMatcher.segments(of: scalars, stripsLeft: stripsLeft, stripsRight: stripsRight) {
            switch segment {
            case .special(let id):
                ids.append(id)
            case .text(let range):
                for word in Self.words(of: normalize(scalars[range])) { ids += encodeWord(word) }
            }
        }
        return ids
    }

    /// Two texts as one input (a sentence pair, a premise and a hypothesis): the ids and the
    /// token type of each (0 for the first text and what surrounds it, 1 for the second). An empty
    /// second text is no second text, as in transformers (`tokenizer(a, "")` encodes `a` alone).
    public func encodePair(_ first: String, _ second: String) -> (ids: [Int], tokenTypes: [Int]) {
        let firstIds = encode(first, addSpecialTokens: false)
        let (ids, types) = template.apply(firstIds, second.isEmpty ? nil : encode(second, addSpecialTokens: false))
        return (ids, types)
    }

    /// `BertNormalizer` on one stretch of text.
    public func normalize(_ stretch: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(stretch.count)
        for scalar in stretch {
            if normalization.cleanText {
                if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
                if Self.isWhitespace(scalar) {
                    scalars.append(" ")
                    continue
                }
            }
            if normalization.handleChineseCharacters, Self.isCJKIdeograph(scalar) {
                scalars += [" ", scalar, " "]
            } else {
                scalars.append(scalar)
            }
        }
        if normalization.stripAccents {
            let decomposed = String(String.UnicodeScalarView(scalars)).decomposedStringWithCanonicalMapping
            scalars = decomposed.unicodeScalars.filter { $0.properties.generalCategory != .nonspacingMark }
        }
        if normalization.lowercase {
            // One character at a time, as Rust's `char::to_lowercase` (no context rules such as final sigma).
            scalars = scalars.flatMap { $0.properties.lowercaseMapping.unicodeScalars }
        }
        return scalars
    }

    /// `BertPreTokenizer`: words split at whitespace (dropped) and around punctuation (kept, one each).
    public static func words(of scalars: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
        var words: [ArraySlice<Unicode.Scalar>] = []
        var start = 0
        for (index, scalar) in scalars.enumerated() {
            let whitespace = scalar.properties.isWhitespace, punctuation = !whitespace && isPunctuation(scalar)
            guard whitespace || punctuation else { continue }
            if start < index { words.append(scalars[start..<index]) }
            if punctuation { words.append(scalars[index...index]) }
            start = index + 1
        }
        if start < scalars.count { words.append(scalars[start...]) }
        return words
    }

    /// Greedy longest-match-first over one word.
    private func encodeWord(_ word: ArraySlice<Unicode.Scalar>) -> [Int] {
        guard word.count <= maximumWordLength else { return [unknown] }
        var ids: [Int] = []
        let prefix = Array(continuingPrefix.utf8)
        var start = word.startIndex
        while start < word.endIndex {
            var end = word.endIndex, found: Int? = nil
            while start < end {
                var piece = start > word.startIndex ? prefix : []
                for scalar in word[start..<end] { piece += UTF8.encode(scalar)! }
                if let id = idForPiece[piece] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let found else { return [unknown] }
            ids.append(found)
            start = end
        }
        return ids
    }

    // MARK: Character classes, as the `tokenizers` library defines them

    /// Tab, newline, carriage return and Unicode's White_Space.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar.properties.isWhitespace
    }

    /// Unicode's "other" categories (Cc, Cf, Cs, Co, Cn), except tab, newline and carriage return.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\t" || scalar == "\n" || scalar == "\r" { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: return true
        default: return false
        }
    }

    /// ASCII punctuation (which includes `$`, `+`, `^`, `` ` `` …) and Unicode's P* categories.
    public static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            return (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v)
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    /// The CJK Unified Ideographs blocks BERT spaces out (not kana or hangul).
    static func isCJKIdeograph(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
            0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default: return false
        }
    }

    // MARK: Pieces and decoding

    /// The piece as the vocabulary spells it ("##ing", "[MASK]"); "" for ids outside it.
    public func piece(_ id: Int) -> String {
        pieces.indices.contains(id) ? pieces[id] : ""
    }

    /// The id of a piece, if the vocabulary has it.
    public func id(ofPiece piece: String) -> Int? { idForPiece[Array(piece.utf8)] }

    public func bytes(of id: Int) -> [UInt8] {
        Array(text(of: id).utf8)
    }

    /// A piece after another one: a space in between unless it continues a word (`##`), is
    /// punctuation that HF's clean-up glues to the word before, or nothing came before.
    public func bytes(of id: Int, following previous: Int?) -> [UInt8] {
        let piece = self.piece(id)
        let glued =
            previous == nil || (previous.map(isSpecialToken) ?? false) || piece.hasPrefix(continuingPrefix)
            || [".", ",", "!", "?", "'"].contains(piece)
        return Array(((glued ? "" : " ") + text(of: id)).utf8)
    }

    private func text(of id: Int) -> String {
        let piece = self.piece(id)
        return piece.hasPrefix(continuingPrefix) ? String(piece.dropFirst(continuingPrefix.count)) : piece
    }

    public func displayPiece(_ id: Int) -> String { piece(id) }

    public func isSpecialToken(_ id: Int) -> Bool { specialIds.contains(id) }
}
