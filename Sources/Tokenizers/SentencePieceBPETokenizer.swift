// MARK: - SentencePiece-style BPE (Hugging Face tokenizer.json)

/// The tokenizer of Llama-family models as Hugging Face stores it in
/// `tokenizer.json`: a SentencePiece vocabulary run as a BPE model with
/// `byte_fallback`. Encodes exactly as Hugging Face's `tokenizers` does:
///
/// 1. added tokens written in the text (`<s>`, `</s>`…) are cut out first
///    and become their ids (those marked `normalized` are looked for after
///    step 2, in their normalized spelling);
/// 2. each stretch of text between them is normalised: spaces become "▁"
///    and one "▁" goes in front, as the file's normalizer (`Prepend` +
///    `Replace`, older files) or `Metaspace` pre-tokenizer (newer files) says;
/// 3. BPE over the text's Unicode scalars: one symbol per scalar, then the
///    adjacent pair with the lowest merge rank is joined (leftmost on ties),
///    one join at a time, until no pair has a merge;
/// 4. a scalar the vocabulary lacks becomes one `<0xXX>` token per UTF-8
///    byte (byte fallback), or `<unk>` when there are no byte tokens;
/// 5. the post-processor's template adds `<s>` in front (Llama).
///
/// Decoding turns "▁" back into a space and `<0xXX>` into its byte; the
/// space that step 2 put in front of the text is dropped after `<s>`, so
/// `decode(encode(s), skipSpecialTokens: true) == s`. (Except for one case
/// that Hugging Face shares: `Metaspace` puts no second "▁" in front of a
/// text that starts with a space, so that space is the one dropped.)
///
/// Loading from `tokenizer.json` lives in `SentencePieceBPETokenizer+Loading.swift`.
public struct SentencePieceBPETokenizer: Tokenizer {
    public let vocabularySize: Int
    /// `<s>` (or the file's own name for it, e.g. `<bos>`).
    public let beginningOfText: Int
    /// `</s>` (or `<eos>`…).
    public let endOfText: Int
    /// `<unk>`, for characters with neither a piece nor byte tokens; nil when
    /// the model names none (such characters are then left out, as Hugging
    /// Face does).
    public let unknown: Int?
    /// Ids the post-processor puts before the text's ids (Llama: `[<s>]`)…
    public let prefixIds: [Int]
    /// …and after them (Llama: none).
    public let suffixIds: [Int]
    /// Added tokens as the file writes them (text → id), matched whole in the input.
    public let addedTokens: [String: Int]

    /// id → the piece as Hugging Face spells it ("▁the", "<0x0A>", "<s>"); nil for ids no entry assigns.
    private let pieces: [String?]
    /// id → the bytes it decodes to ("▁" → space, `<0xXX>` → the byte).
    private let pieceBytes: [[UInt8]]
    /// Unicode scalar → id of the one-scalar piece, where the vocabulary has one.
    private let idForScalar: [UInt32: Int]
    /// Piece bytes → id, for `ignore_merges` (a whole word found in the vocabulary is one token).
    private let idForPiece: [[UInt8]: Int]
    /// byte → id of its `<0xXX>` token, or -1.
    private let idForByte: [Int]
    /// (left id, right id) packed by `pairKey` → the merge that joins them.
    private let merges: [UInt64: Merge]
    private let specialIds: Set<Int>
    /// Added tokens matched in the text as written (`normalized: false`, e.g. `<s>`)…
    private let rawMatcher: SpecialTokenMatcher
    /// …and those matched after normalizing, spelled normalized themselves
    /// ("<pad>" becomes "▁<pad>" under a `Prepend("▁")` normalizer).
    private let normalizedMatcher: SpecialTokenMatcher
    /// Added tokens that take the whitespace before / after them (`lstrip`, `rstrip`).
    private let stripsLeft: Set<Int>
    private let stripsRight: Set<Int>
    private let textRules: TextRules
    private let byteFallback: Bool
    private let fuseUnknown: Bool
    private let ignoreMerges: Bool
    /// Drop a piece's leading space after `<s>`: the decoder strips the "▁"
    /// that encoding put in front of the text.
    private let dropsSpaceAfterBOS: Bool

    struct Merge {
        /// Position in `model.merges`: lower joins first.
        var rank: UInt32
        /// Id of the joined piece.
        var result: Int
    }

    // MARK: Text rules

    /// What happens to a stretch of text before BPE sees it.
    struct TextRules: Sendable {
        /// Normalizer steps, in order.
        var normalizer: [NormalizerStep] = []
        /// The `Metaspace` pre-tokenizer, if the file has one.
        var metaspace: Metaspace?

        enum NormalizerStep: Sendable, Equatable {
            /// `Prepend`: put this in front of non-empty text.
            case prepend([Unicode.Scalar])
            /// `Replace` with a literal pattern: every occurrence, left to right.
            case replace([Unicode.Scalar], with: [Unicode.Scalar])
        }

        struct Metaspace: Sendable, Equatable {
            /// Spaces become this ("▁").
            var replacement: Unicode.Scalar = "\u{2581}"
            var prependScheme: PrependScheme = .always
            /// Split the text into words, each starting at a replacement
            /// character; when false the whole text is one BPE word, so merges
            /// may join across "▁".
            var split = true
        }

        /// Where `Metaspace` puts a replacement character in front of text
        /// that does not start with one.
        enum PrependScheme: String, Sendable {
            /// Every stretch of text, also those after an added token.
            case always
            /// Only the stretch at the very start of the input.
            case first
            case never
        }

        /// The character decoding turns back into a space.
        var replacement: Unicode.Scalar { metaspace?.replacement ?? "\u{2581}" }

        /// Whether encoding puts a replacement character in front of the input.
        var prependsToStart: Bool {
            if normalizer.contains(where: { if case .prepend = $0 { return true } else { return false } }) {
                return true
            }
            return metaspace.map { $0.prependScheme != .never } ?? false
        }

        /// The normalizer's steps applied to one stretch of text (between added tokens).
        func normalize(_ stretch: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
            var scalars = Array(stretch)
            for step in normalizer {
                switch step {
                case .prepend(let prefix):
                    if !scalars.isEmpty { scalars.insert(contentsOf: prefix, at: 0) }
                case .replace(let pattern, let content):
                    scalars = Self.replacing(pattern, with: content, in: scalars)
                }
            }
            return scalars
        }

        /// The pre-tokenizer: normalized text → the words BPE merges within.
        /// `atStart`: the text begins the input.
        func words(of text: ArraySlice<Unicode.Scalar>, atStart: Bool) -> [ArraySlice<Unicode.Scalar>] {
            guard !text.isEmpty else { return [] }
            guard let metaspace else { return [text] }

            var scalars = Array(text)
            for index in scalars.indices where scalars[index] == " " { scalars[index] = metaspace.replacement }
            let prepends = metaspace.prependScheme == .always || (metaspace.prependScheme == .first && atStart)
            if prepends, scalars.first != metaspace.replacement { scalars.insert(metaspace.replacement, at: 0) }
            guard metaspace.split else { return [scalars[...]] }
            // Each word starts at a replacement character ("▁a▁▁b" → "▁a", "▁", "▁b").
            var words: [ArraySlice<Unicode.Scalar>] = []
            var start = 0
            for index in scalars.indices.dropFirst() where scalars[index] == metaspace.replacement {
                words.append(scalars[start..<index])
                start = index
            }
            words.append(scalars[start...])
            return words
        }

        static func replacing(
            _ pattern: [Unicode.Scalar], with content: [Unicode.Scalar],
            in scalars: [Unicode.Scalar]
        ) -> [Unicode.Scalar] {
            guard !pattern.isEmpty, scalars.count >= pattern.count else { return scalars }
            var result: [Unicode.Scalar] = []
            result.reserveCapacity(scalars.count)
            var index = 0
            while index < scalars.count {
                if scalars[index] == pattern[0], scalars.count - index >= pattern.count,
                    scalars[index..<(index + pattern.count)].elementsEqual(pattern)
                {
                    result += content
                    index += pattern.count
                } else {
                    result.append(scalars[index])
                    index += 1
                }
            }
            return result
        }
    }

    // MARK: Building

    /// Everything `tokenizer.json` says, already checked for shape; ids and
    /// pieces are checked against each other by `init(parts:path:)`.
    struct Parts {
        /// Pieces with their ids, in file order, spelled exactly as in the file.
        var vocabulary: [(piece: String, id: Int)] = []
        var merges: [MergeRule] = []
        var unknownPiece: String?
        var byteFallback = false
        var fuseUnknown = false
        var ignoreMerges = false
        var addedTokens: [AddedToken] = []
        var text = TextRules()
        /// The ids of the post-processor's tokens before and after the text,
        /// one array per token of its template (`[[1]]` for Llama's `<s> $A`).
        var prefix: [[Int]] = []
        var suffix: [[Int]] = []
        /// Whether the decoder strips the space in front of the decoded text;
        /// nil when the file has no decoder (then: whether encoding prepends one).
        var decoderStripsLeadingSpace: Bool?
        /// Whether the decoder turns `<0xXX>` pieces into bytes (also done
        /// whenever the model has byte fallback).
        var decoderHasByteFallback = false
    }

    struct MergeRule {
        var left: String
        var right: String
        /// 1-based entry in `model.merges`, for messages.
        var entry: Int
    }

    struct AddedToken {
        var content: String
        var id: Int
        var special: Bool
        /// Matched in the normalized text rather than in the text as written.
        var normalized: Bool
        /// The match takes the whitespace on its left (`lstrip`) or right (`rstrip`) with it.
        var stripsLeft = false
        var stripsRight = false
    }

    init(parts: Parts, path: String) throws {
        guard !parts.vocabulary.isEmpty else {
            throw TokenizerError.invalidVocabulary(path: path, reason: "model.vocab is empty")
        }
        var idForPiece: [[UInt8]: Int] = [:]
        idForPiece.reserveCapacity(parts.vocabulary.count)
        var maximumId = -1
        for (piece, id) in parts.vocabulary {
            guard id >= 0 else {
                throw TokenizerError.invalidVocabulary(path: path, reason: "piece \(quotedPiece(piece)) has negative id \(id)")
            }
            idForPiece[Array(piece.utf8)] = id
            maximumId = max(maximumId, id)
        }
        for token in parts.addedTokens {
            guard token.id >= 0 else {
                throw TokenizerError.invalidVocabulary(
                    path: path, reason: "added token \(quotedPiece(token.content)) has negative id \(token.id)")
            }
            maximumId = max(maximumId, token.id)
        }
        let size = maximumId + 1
        // Ids index arrays: refuse absurd ones instead of allocating gigabytes.
        guard size <= GPT2Tokenizer.maximumVocabularySize else {
            throw TokenizerError.invalidVocabulary(path: path, reason: "id \(maximumId) is larger than any real vocabulary")
        }

        let replacement = parts.text.replacement
        let decodesBytes = parts.byteFallback || parts.decoderHasByteFallback
        var pieces = [String?](repeating: nil, count: size)
        var pieceBytes = [[UInt8]](repeating: [], count: size)
        for (piece, id) in parts.vocabulary {
            pieces[id] = piece
            pieceBytes[id] = Self.decodedBytes(of: piece, replacement: replacement, bytePieces: decodesBytes)
        }
        // Looked up by bytes, as the reference does: a piece the JSON repeats
        // keeps its last id, and byte pieces are spelled exactly "<0xXX>".
        var idForScalar: [UInt32: Int] = [:]
        for (bytes, id) in idForPiece {
            if !bytes.isEmpty, let (scalar, length) = UTF8Bytes.scalar(in: bytes, at: 0), length == bytes.count {
                idForScalar[scalar.value] = id
            }
        }
        var idForByte = [Int](repeating: -1, count: 256)
        for byte in 0..<256 {
            if let id = idForPiece[Array(PieceDisplay.byteName(UInt8(byte)).utf8)] { idForByte[byte] = id }
        }

        var specialIds = Set<Int>()
        var addedTokens: [String: Int] = [:]
        var rawTokens: [String: Int] = [:], normalizedTokens: [String: Int] = [:]
        for token in parts.addedTokens {
            // A normalized token is matched, and decoded, in its normalized
            // spelling ("▁<pad>" under a Prepend("▁") normalizer), as the reference does.
            var spelled = token.content
            if token.normalized {
                spelled = String(String.UnicodeScalarView(parts.text.normalize(Array(token.content.unicodeScalars)[...])))
                normalizedTokens[spelled] = token.id
            } else {
                rawTokens[token.content] = token.id
            }
            pieces[token.id] = spelled
            pieceBytes[token.id] = Self.decodedBytes(of: spelled, replacement: replacement, bytePieces: decodesBytes)
            addedTokens[token.content] = token.id
            if token.special { specialIds.insert(token.id) }
        }

        var table: [UInt64: Merge] = [:]
        table.reserveCapacity(parts.merges.count)
        for (rank, rule) in parts.merges.enumerated() {
            let leftBytes = Array(rule.left.utf8), rightBytes = Array(rule.right.utf8)
            guard let left = idForPiece[leftBytes] else {
                throw TokenizerError.unknownMergePiece(path: path, line: rule.entry, piece: rule.left)
            }
            guard let right = idForPiece[rightBytes] else {
                throw TokenizerError.unknownMergePiece(path: path, line: rule.entry, piece: rule.right)
            }
            guard let result = idForPiece[leftBytes + rightBytes] else {
                throw TokenizerError.unknownMergePiece(path: path, line: rule.entry, piece: rule.left + rule.right)
            }
            // A repeated rule keeps its last rank, as the reference does.
            table[Self.pairKey(left, right)] = Merge(rank: UInt32(rank), result: result)
        }

        var unknown: Int?
        if let piece = parts.unknownPiece {
            guard let id = idForPiece[Array(piece.utf8)] else {
                throw TokenizerError.invalidVocabulary(
                    path: path, reason: "model.unk_token \(quotedPiece(piece)) is not in model.vocab")
            }
            unknown = id
            specialIds.insert(id)
        }

        let prefixIds = parts.prefix.flatMap { $0 }
        let suffixIds = parts.suffix.flatMap { $0 }
        for id in prefixIds + suffixIds {
            guard id >= 0, id < size else {
                throw TokenizerError.invalidVocabulary(
                    path: path, reason: "post_processor adds id \(id), which is not in the vocabulary")
            }
            specialIds.insert(id)
        }

        /// The first of `names` that the file assigns, added tokens first.
        func id(named names: [String]) -> Int? {
            for name in names {
                if let id = addedTokens[name] ?? idForPiece[Array(name.utf8)] { return id }
            }
            return nil
        }
        guard let endOfText = id(named: Self.endOfTextNames) ?? suffixIds.last else {
            throw TokenizerError.invalidVocabulary(
                path: path, reason: "no end-of-text token (\(Self.endOfTextNames.joined(separator: ", ")))")
        }
        let beginningOfText = parts.prefix.first?.first ?? id(named: Self.beginningOfTextNames) ?? endOfText
        specialIds.formUnion([beginningOfText, endOfText])

        self.vocabularySize = size
        self.beginningOfText = beginningOfText
        self.endOfText = endOfText
        self.unknown = unknown
        self.prefixIds = prefixIds
        self.suffixIds = suffixIds
        self.addedTokens = addedTokens
        self.pieces = pieces
        self.pieceBytes = pieceBytes
        self.idForScalar = idForScalar
        self.idForPiece = idForPiece
        self.idForByte = idForByte
        self.merges = table
        self.specialIds = specialIds
        self.rawMatcher = SpecialTokenMatcher(rawTokens)
        self.stripsLeft = Set(parts.addedTokens.filter(\.stripsLeft).map(\.id))
        self.stripsRight = Set(parts.addedTokens.filter(\.stripsRight).map(\.id))
        self.normalizedMatcher = SpecialTokenMatcher(normalizedTokens)
        self.textRules = parts.text
        self.byteFallback = parts.byteFallback
        self.fuseUnknown = parts.fuseUnknown
        self.ignoreMerges = parts.ignoreMerges
        self.dropsSpaceAfterBOS = parts.decoderStripsLeadingSpace ?? parts.text.prependsToStart
    }

    /// Names the control tokens go by in SentencePiece-style vocabularies.
    static let beginningOfTextNames = ["<s>", "<bos>", "<|begin_of_text|>"]
    static let endOfTextNames = ["</s>", "<eos>", "<|endoftext|>", "<|end_of_text|>"]

    /// What a piece decodes to: the replacement character ("▁") → space, and a
    /// `<0xXX>` piece → that one byte (when the model has byte fallback).
    private static func decodedBytes(of piece: String, replacement: Unicode.Scalar, bytePieces: Bool) -> [UInt8] {
        let bytes = Array(piece.utf8)
        if bytePieces, let byte = ByteFallback.byte(named: bytes) { return [byte] }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        for scalar in piece.unicodeScalars {
            if scalar == replacement {
                decoded.append(UInt8(ascii: " "))
            } else {
                decoded += String(scalar).utf8
            }
        }
        return decoded
    }

    static func pairKey(_ left: Int, _ right: Int) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right))
    }

    // MARK: Encoding

    /// Text → ids as Hugging Face's `encode(text)` gives them, the
    /// post-processor's tokens included (Llama: `<s>` first, no `</s>`).
    public func encode(_ text: String) -> [Int] {
        encode(text, addSpecialTokens: true)
    }

    /// Text → ids; with `addSpecialTokens: false`, without the tokens the
    /// post-processor adds (added tokens written in the text still count).
    public func encode(_ text: String, addSpecialTokens: Bool) -> [Int] {
        let scalars = Array(text.unicodeScalars)
        var ids: [Int] = addSpecialTokens ? prefixIds : []
        ids.reserveCapacity(scalars.count + prefixIds.count + suffixIds.count)
        // As the reference does: cut at added tokens written as they are,
        // normalize each stretch between them, cut that at normalized added
        // tokens, then pre-tokenize and merge each remaining stretch.
        for segment in segments(of: scalars, rawMatcher) {
            guard case .text(let range) = segment else {
                if case .special(let id) = segment { ids.append(id) }
                continue
            }
            let normalized = textRules.normalize(scalars[range])
            for part in segments(of: normalized, normalizedMatcher) {
                switch part {
                case .special(let id):
                    ids.append(id)
                case .text(let subrange):
                    let atStart = range.lowerBound == 0 && subrange.lowerBound == 0
                    for word in textRules.words(of: normalized[subrange], atStart: atStart) {
                        ids += encodeWord(word)
                    }
                }
            }
        }
        if addSpecialTokens { ids += suffixIds }
        return ids
    }

    /// Text cut at the added tokens a matcher knows, `lstrip` / `rstrip` applied.
    private func segments(of scalars: [Unicode.Scalar], _ matcher: SpecialTokenMatcher) -> [SpecialTokenMatcher.Segment] {
        matcher.segments(of: scalars, stripsLeft: stripsLeft, stripsRight: stripsRight)
    }

    /// One word → ids: a symbol per scalar (or per byte, or `<unk>`), then merges.
    private func encodeWord(_ word: ArraySlice<Unicode.Scalar>) -> [Int] {
        if ignoreMerges, let id = idForPiece[Array(String(String.UnicodeScalarView(word)).utf8)] { return [id] }
        var symbols: [Int] = []
        symbols.reserveCapacity(word.count)
        // Like the reference, a run of unknown characters is held back and added
        // as one `<unk>` (fuse_unk) when the next character with a piece comes or
        // the word ends; characters spelled in byte tokens do not end the run.
        var unknownPending = false
        for scalar in word {
            if let id = idForScalar[scalar.value] {
                if unknownPending, let unknown { symbols.append(unknown) }
                unknownPending = false
                symbols.append(id)
                continue
            }
            if byteFallback {
                let bytes = Array(String(scalar).utf8)
                if bytes.allSatisfy({ idForByte[Int($0)] >= 0 }) {
                    symbols += bytes.map { idForByte[Int($0)] }
                    continue
                }
            }
            guard let unknown else { continue }  // no <unk>: the character is dropped
            if unknownPending && !fuseUnknown { symbols.append(unknown) }
            unknownPending = true
        }
        if unknownPending, let unknown { symbols.append(unknown) }
        return mergeByRank(symbols)
    }

    /// Repeatedly joins the adjacent pair with the lowest merge rank (leftmost
    /// on ties), one join at a time, as `tokenizers`' `Word::merge_all` does,
    /// with a queue of candidate pairs so a long word is O(n log n).
    private func mergeByRank(_ start: [Int]) -> [Int] {
        var merger = PairMerger()
        return merger.merge(start, order: .oneAtATime) { left, right in
            merges[Self.pairKey(left, right)].map { ($0.rank, $0.result) }
        }
    }

    // MARK: Decoding

    public func bytes(of id: Int) -> [UInt8] {
        pieceBytes.indices.contains(id) ? pieceBytes[id] : []
    }

    /// After `<s>` a piece loses its leading space: the "▁" that encoding put
    /// in front of the text. Hugging Face's decoder instead strips the first
    /// space of the whole decoded text, which gives the same text unless
    /// control tokens are written inside it (and a lone `Metaspace` decoder
    /// strips every "▁" of the first token, not just one).
    public func bytes(of id: Int, following previous: Int?) -> [UInt8] {
        let bytes = bytes(of: id)
        if dropsSpaceAfterBOS, previous == beginningOfText, bytes.first == UInt8(ascii: " ") {
            return Array(bytes.dropFirst())
        }
        return bytes
    }

    public func isSpecialToken(_ id: Int) -> Bool {
        specialIds.contains(id)
    }

    /// Control tokens show as their name ("<s>"); other pieces show their
    /// decoded bytes made visible ("␣the", "↵", "<0xE2>").
    public func displayPiece(_ id: Int) -> String {
        guard pieceBytes.indices.contains(id) else { return "<invalid id \(id)>" }
        if specialIds.contains(id), let piece = pieces[id] { return piece }
        return PieceDisplay.visible(pieceBytes[id])
    }

    /// The piece as spelled in `tokenizer.json` (e.g. "▁the", "<0x0A>", "<s>"),
    /// for ids the file assigns.
    public func vocabularyPiece(_ id: Int) -> String? {
        pieces.indices.contains(id) ? pieces[id] : nil
    }
}

/// A piece quoted with invisible characters escaped, for messages.
func quotedPiece(_ text: String) -> String {
    "\"" + text.unicodeScalars.map { $0.escaped(asASCII: false) }.joined() + "\""
}
