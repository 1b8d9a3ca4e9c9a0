// MARK: - GPT-2 byte-level BPE

/// GPT-2's tokenizer: text → UTF-8 bytes → words (see `GPT2PreTokenizer`) →
/// byte-pair merges by rank within each word. Encodes exactly as OpenAI's
/// `encoder.py` and Hugging Face's `GPT2TokenizerFast` do; `<|endoftext|>`
/// (and any added token from a `tokenizer.json`) written in the text is
/// recognised as its special id, as Hugging Face does.
///
/// Loading from files lives in `GPT2Tokenizer+Loading.swift`.
public struct GPT2Tokenizer: Tokenizer {
    public let vocabularySize: Int
    /// `<|endoftext|>`: GPT-2 starts an empty prompt with it…
    public let beginningOfText: Int
    /// …and emits it when a document ends.
    public let endOfText: Int
    /// Ids the post-processor puts before and after the text (BART: `<s>`, `</s>`; GPT-2: none).
    public let prefixIds: [Int], suffixIds: [Int]
    /// The post-processor's template, for pairs (RoBERTa's and BART's `<s> A </s></s> B </s>`).
    public let template: PostProcessorTemplate
    private let stripsLeft: Set<Int>, stripsRight: Set<Int>
    /// Tokens matched as whole strings in the input before any other rule
    /// (text → id), e.g. `["<|endoftext|>": 50256]`.
    public let specialTokens: [String: Int]

    /// id → bytes; empty for ids no file assigns.
    private let pieceBytes: [[UInt8]]
    /// byte → id of the one-byte piece every word starts from.
    private let idForByte: [Int]
    /// (left id, right id) packed by `pairKey` → the merge that joins them.
    private let merges: [UInt64: Merge]
    private let specialIds: Set<Int>
    private let specialMatcher: SpecialTokenMatcher

    struct Merge {
        /// Line order in the merges file: lower merges first.
        var rank: Int
        /// Id of the joined piece.
        var result: Int
    }

    /// One merge rule as read from a file, with where it came from for errors.
    struct MergeRule {
        var left: String
        var right: String
        var line: Int
    }

    /// Builds a tokenizer from a vocabulary as written in `vocab.json` (pieces
    /// spelled with GPT-2's byte characters, e.g. "Ġthe") and merge rules in
    /// rank order.
    /// - Parameter specialTokens: tokens to match whole in input text; by
    ///   default `<|endoftext|>` if the vocabulary has it.
    /// - Throws: `TokenizerError` when the vocabulary or merges are unusable.
    public init(vocabulary: [String: Int], merges: [(String, String)], specialTokens: [String: Int]? = nil) throws {
        let rules = merges.enumerated().map { MergeRule(left: $1.0, right: $1.1, line: $0 + 1) }
        try self.init(
            vocabulary: vocabulary, mergeRules: rules, specialTokens: specialTokens,
            vocabularyFile: "<vocabulary>", mergesFile: "<merges>")
    }

    /// - Parameters:
    ///   - template: what the post-processor puts around the text (BART's and RoBERTa's
    ///     `<s> $A </s>`; nothing for GPT-2).
    ///   - stripsLeft, stripsRight: added tokens that take the whitespace beside them (BART's
    ///     `<mask>` is `lstrip`).
    init(
        vocabulary: [String: Int], mergeRules: [MergeRule], specialTokens: [String: Int]?,
        vocabularyFile: String, mergesFile: String, template: PostProcessorTemplate = .none,
        stripsLeft: Set<Int> = [], stripsRight: Set<Int> = []
    ) throws {
        let specials = specialTokens ?? vocabulary.filter { $0.key == Self.endOfTextPiece }
        let allIds = Array(vocabulary.values) + Array(specials.values)
        if let negative = allIds.first(where: { $0 < 0 }) {
            throw TokenizerError.invalidVocabulary(path: vocabularyFile, reason: "negative id \(negative)")
        }
        let size = (allIds.max() ?? -1) + 1
        // Ids index an array: refuse absurd ones instead of allocating gigabytes.
        guard size <= Self.maximumVocabularySize else {
            throw TokenizerError.invalidVocabulary(
                path: vocabularyFile, reason: "id \(size - 1) is larger than any real vocabulary")
        }

        var pieceBytes = [[UInt8]](repeating: [], count: size)
        var hasPiece = [Bool](repeating: false, count: size)
        for (piece, id) in vocabulary { pieceBytes[id] = ByteLevel.bytes(ofPiece: piece); hasPiece[id] = true }
        for (text, id) in specials where vocabulary[text] != id { pieceBytes[id] = Array(text.utf8); hasPiece[id] = true }
        // Every id below the largest must have a piece: an id without one would be sampled and
        // print nothing (a vocabulary with entries deleted, or ids from another file).
        if let hole = hasPiece.firstIndex(of: false) {
            let missing = hasPiece.lazy.filter { !$0 }.count
            throw TokenizerError.invalidVocabulary(
                path: vocabularyFile,
                reason:
                    "ids run to \(size - 1) but \(missing) of them have no piece (the first is \(hole)); a vocabulary numbers its pieces 0, 1, 2, … without gaps"
            )
        }

        var idForByte = [Int](repeating: 0, count: 256)
        for byte in 0..<256 {
            let piece = ByteLevel.piece(ofBytes: [UInt8(byte)])
            guard let id = vocabulary[piece] else {
                throw TokenizerError.invalidVocabulary(
                    path: vocabularyFile,
                    reason: "no token for byte \(PieceDisplay.byteName(UInt8(byte))) (piece \"\(piece)\")")
            }
            idForByte[byte] = id
        }

        var table: [UInt64: Merge] = [:]
        table.reserveCapacity(mergeRules.count)
        for (rank, rule) in mergeRules.enumerated() {
            guard let left = vocabulary[rule.left] else {
                throw TokenizerError.unknownMergePiece(path: mergesFile, line: rule.line, piece: rule.left)
            }
            guard let right = vocabulary[rule.right] else {
                throw TokenizerError.unknownMergePiece(path: mergesFile, line: rule.line, piece: rule.right)
            }
            guard let result = vocabulary[rule.left + rule.right] else {
                throw TokenizerError.unknownMergePiece(path: mergesFile, line: rule.line, piece: rule.left + rule.right)
            }
            // A repeated rule keeps its last rank, as both reference tokenizers do.
            table[Self.pairKey(left, right)] = Merge(rank: rank, result: result)
        }

        // GPT-2's <|endoftext|> both starts and ends a text; BART's and RoBERTa's files have
        // <s> and </s> instead, which their post-processor puts around the text.
        let gptEnd = specials[Self.endOfTextPiece] ?? vocabulary[Self.endOfTextPiece]
        guard let endOfText = gptEnd ?? template.singleSuffix.last ?? specials["</s>"] else {
            throw TokenizerError.invalidVocabulary(path: vocabularyFile, reason: "no \(Self.endOfTextPiece) (or </s>) token")
        }

        self.vocabularySize = size
        self.beginningOfText = gptEnd ?? template.singlePrefix.first ?? specials["<s>"] ?? endOfText
        self.endOfText = endOfText
        self.prefixIds = template.singlePrefix
        self.template = template
        self.suffixIds = template.singleSuffix
        self.stripsLeft = stripsLeft
        self.stripsRight = stripsRight
        self.specialTokens = specials
        self.pieceBytes = pieceBytes
        self.idForByte = idForByte
        self.merges = table
        self.specialIds = Set(specials.values)
        self.specialMatcher = SpecialTokenMatcher(specials)
    }

    static let endOfTextPiece = "<|endoftext|>"
    static let maximumVocabularySize = 1 << 24

    static func pairKey(_ left: Int, _ right: Int) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right))
    }

    // MARK: Tokenizer

    public func encode(_ text: String) -> [Int] {
        var session = EncodingSession(tokenizer: self)
        return prefixIds + session.encode(text) + suffixIds
    }

    /// Two texts as one input, as the post-processor joins a pair (an NLI model's premise and
    /// hypothesis: `<s> premise </s></s> hypothesis </s>` for BART); without a pair template,
    /// the two single templates one after the other.
    public func encodePair(_ first: String, _ second: String) -> [Int] { encodePairWithSpans(first, second).ids }

    /// `encodePair`'s ids, and where each text's tokens are among them.
    public func encodePairWithSpans(_ first: String, _ second: String) -> (ids: [Int], first: Range<Int>, second: Range<Int>) {
        var session = EncodingSession(tokenizer: self)
        let firstIds = session.encode(first), secondIds = session.encode(second)
        let spans = template.spans(firstCount: firstIds.count, secondCount: secondIds.count)
        return (template.apply(firstIds, secondIds).ids, spans.first, spans.second)
    }

    public func bytes(of id: Int) -> [UInt8] {
        pieceBytes.indices.contains(id) ? pieceBytes[id] : []
    }

    public func isSpecialToken(_ id: Int) -> Bool {
        specialIds.contains(id)
    }

    public func displayPiece(_ id: Int) -> String {
        guard pieceBytes.indices.contains(id) else { return "<invalid id \(id)>" }
        if specialIds.contains(id) { return String(decoding: pieceBytes[id], as: UTF8.self) }
        return PieceDisplay.visible(pieceBytes[id])
    }

    /// The piece as spelled in `vocab.json` (e.g. "Ġthe"), for ids the vocabulary assigns.
    public func vocabularyPiece(_ id: Int) -> String? {
        guard pieceBytes.indices.contains(id) else { return nil }
        if let special = specialTokens.first(where: { $0.value == id }) { return special.key }
        return pieceBytes[id].isEmpty ? nil : ByteLevel.piece(ofBytes: pieceBytes[id])
    }

    // MARK: - One encode call

    /// The working state of one `encode` call: a per-call cache of word →
    /// ids (text repeats words a lot; keeping the cache per call keeps the
    /// tokenizer a plain immutable value that is safe to share across threads)
    /// and buffers reused from word to word.
    private struct EncodingSession {
        let tokenizer: GPT2Tokenizer
        var cache: [ArraySlice<UInt8>: [Int]] = [:]
        var word = PairMerger()

        init(tokenizer: GPT2Tokenizer) { self.tokenizer = tokenizer }

        mutating func encode(_ text: String) -> [Int] {
            let scalars = Array(text.unicodeScalars)
            let kinds = scalars.map(GPT2PreTokenizer.kind(of:))
            let utf8 = Array(text.utf8)
            // utf8Offset[i]: where scalar i starts in `utf8`.
            var utf8Offset = [Int](repeating: 0, count: scalars.count + 1)
            for (index, scalar) in scalars.enumerated() {
                utf8Offset[index + 1] = utf8Offset[index] + UTF8.width(scalar)
            }

            var ids: [Int] = []
            ids.reserveCapacity(utf8.count / 3)
            for segment in tokenizer.specialMatcher.segments(
                of: scalars, stripsLeft: tokenizer.stripsLeft, stripsRight: tokenizer.stripsRight)
            {
                switch segment {
                case .special(let id):
                    ids.append(id)
                case .text(let range):
                    for wordRange in GPT2PreTokenizer.split(scalars, kinds: kinds, in: range) {
                        let bytes = utf8[utf8Offset[wordRange.lowerBound]..<utf8Offset[wordRange.upperBound]]
                        ids.append(contentsOf: encodeWord(bytes))
                    }
                }
            }
            return ids
        }

        private mutating func encodeWord(_ bytes: ArraySlice<UInt8>) -> [Int] {
            if bytes.count == 1 { return [tokenizer.idForByte[Int(bytes[bytes.startIndex])]] }
            if let cached = cache[bytes] { return cached }
            let (merges, idForByte) = (tokenizer.merges, tokenizer.idForByte)
            let ids = word.merge(bytes.lazy.map { idForByte[Int($0)] }, order: .roundByPriority) { left, right in
                merges[GPT2Tokenizer.pairKey(left, right)].map { (UInt32($0.rank), $0.result) }
            }
            cache[bytes] = ids
            return ids
        }
    }
}

// MARK: - Special tokens in text

/// Cuts text at special tokens written in it, longest match first (so a
/// longer added token wins over a shorter one that starts the same way).
struct SpecialTokenMatcher: Sendable {
    enum Segment: Equatable {
        case text(Range<Int>)
        case special(Int)
    }

    /// (scalars, id), longest first.
    private let tokens: [([Unicode.Scalar], Int)]
    private let firstScalars: Set<Unicode.Scalar>

    init(_ specials: [String: Int]) {
        tokens = specials.filter { !$0.key.isEmpty }
            .map { (Array($0.key.unicodeScalars), $0.value) }
            .sorted { $0.0.count != $1.0.count ? $0.0.count > $1.0.count : $0.1 < $1.1 }
        firstScalars = Set(tokens.map { $0.0[0] })
    }

    func segments(of scalars: [Unicode.Scalar]) -> [Segment] {
        guard !tokens.isEmpty else { return scalars.isEmpty ? [] : [.text(0..<scalars.count)] }
        var segments: [Segment] = []
        var textStart = 0
        var index = 0
        while index < scalars.count {
            if firstScalars.contains(scalars[index]), let (length, id) = match(scalars, at: index) {
                if textStart < index { segments.append(.text(textStart..<index)) }
                segments.append(.special(id))
                index += length
                textStart = index
            } else {
                index += 1
            }
        }
        if textStart < scalars.count { segments.append(.text(textStart..<scalars.count)) }
        return segments
    }

    /// Text cut at the added tokens; tokens with `lstrip` / `rstrip` (ids in `stripsLeft` /
    /// `stripsRight`) take the whitespace next to them out of the text around them.
    func segments(of scalars: [Unicode.Scalar], stripsLeft: Set<Int>, stripsRight: Set<Int>) -> [Segment] {
        var segments = segments(of: scalars)
        guard !stripsLeft.isEmpty || !stripsRight.isEmpty else { return segments }
        for index in segments.indices {
            guard case .text(var range) = segments[index] else { continue }
            if index > 0, case .special(let id) = segments[index - 1], stripsRight.contains(id) {
                while !range.isEmpty, scalars[range.lowerBound].properties.isWhitespace {
                    range = (range.lowerBound + 1)..<range.upperBound
                }
            }
            if index + 1 < segments.count, case .special(let id) = segments[index + 1], stripsLeft.contains(id) {
                while !range.isEmpty, scalars[range.upperBound - 1].properties.isWhitespace {
                    range = range.lowerBound..<(range.upperBound - 1)
                }
            }
            segments[index] = .text(range)
        }
        return segments.filter { if case .text(let range) = $0 { return !range.isEmpty } else { return true } }
    }

    private func match(_ scalars: [Unicode.Scalar], at index: Int) -> (Int, Int)? {
        for (token, id) in tokens where index + token.count <= scalars.count {
            if scalars[index..<(index + token.count)].elementsEqual(token) { return (token.count, id) }
        }
        return nil
    }
}
