import Foundation

// MARK: - llama2.c SentencePiece-style BPE

/// The tokenizer of llama2.c (`tokenizer.bin`): SentencePiece pieces with a
/// score each, encoded the way llama2.c's `run.c` does it: a dummy space in
/// front of the text, one piece per UTF-8 character (or `<0xXX>` byte pieces
/// for characters the vocabulary lacks), then repeatedly join the adjacent
/// pair whose joined piece is in the vocabulary with the highest score.
///
/// File layout (little-endian): int32 `max_token_length`, then per token:
/// float32 score, int32 byte length, the piece's bytes. The file does not
/// say how many tokens it holds; the model's header does.
public struct Llama2cTokenizer: Tokenizer {
    public let vocabularySize: Int
    /// `<s>`, id 1 in every llama2.c vocabulary.
    public let beginningOfText = 1
    /// `</s>`, id 2.
    public let endOfText = 2
    /// Longest piece in bytes, as the file's header says.
    public let maxTokenLength: Int
    /// Each id's piece exactly as stored (`<0x0A>` is six bytes of text here).
    public let pieces: [[UInt8]]
    /// Each id's merge score: higher joins first.
    public let scores: [Float]

    private let idForPiece: [[UInt8]: Int]
    /// (left id, right id) packed by `pairKey` → id of the piece spelled by
    /// the two joined, for every pair whose join is in the vocabulary. Built
    /// once, so encoding never concatenates and hashes byte strings.
    private let joinedPiece: [UInt64: Int]
    /// byte → id of its `<0xXX>` piece (byte + 3 in llama2.c vocabularies).
    private let idForByte: [Int]
    /// id → the byte a `<0xXX>` piece stands for.
    private let byteOfPiece: [UInt8?]

    /// Ids 0–2 (`<unk>`, `<s>`, `</s>`) are SentencePiece's control tokens.
    private static let specialIds = 0...2
    /// `run.c` starts its best-score search from -1e10, so pieces scored at or
    /// below it never join.
    private static let lowestUsableScore: Float = -1e10

    /// Builds a tokenizer from pieces and their scores (same length, index = id).
    /// - Throws: `TokenizerError.invalidVocabulary` when the lists differ in
    ///   length or a `<0xXX>` byte piece is missing.
    public init(pieces: [[UInt8]], scores: [Float], maxTokenLength: Int? = nil) throws {
        try self.init(pieces: pieces, scores: scores, maxTokenLength: maxTokenLength, path: "<vocabulary>")
    }

    init(pieces: [[UInt8]], scores: [Float], maxTokenLength: Int?, path: String) throws {
        guard pieces.count == scores.count else {
            throw TokenizerError.invalidVocabulary(
                path: path, reason: "\(pieces.count) pieces but \(scores.count) scores")
        }
        var idForPiece: [[UInt8]: Int] = [:]
        var byteOfPiece = [UInt8?](repeating: nil, count: pieces.count)
        for (id, piece) in pieces.enumerated() {
            // run.c looks pieces up by binary search; with duplicates (none in
            // real files) the first id wins here.
            if idForPiece[piece] == nil { idForPiece[piece] = id }
            byteOfPiece[id] = ByteFallback.byte(named: piece)
        }
        var idForByte = [Int](repeating: 0, count: 256)
        for byte in 0..<256 {
            guard let id = idForPiece[Array(PieceDisplay.byteName(UInt8(byte)).utf8)] else {
                throw TokenizerError.invalidVocabulary(
                    path: path, reason: "no byte piece \(PieceDisplay.byteName(UInt8(byte)))")
            }
            idForByte[byte] = id
        }
        // Every join a merge could look up is some piece cut in two. Prefix and
        // suffix tries find every cut in one pass over each piece, so the table
        // is built in time linear in the file (copying both halves at every cut
        // was quadratic in a piece's length: minutes for one 1 MB piece).
        let prefixes = ByteTrie(idForPiece.map { ($0.key, $0.value) })
        let suffixes = ByteTrie(idForPiece.map { (Array($0.key.reversed()), $0.value) })
        var joinedPiece: [UInt64: Int] = [:]
        for (piece, id) in idForPiece where piece.count > 1 {
            let leftIds = prefixes.idsOfPrefixes(of: piece[...])  // [cut] = id of piece[..<cut]
            let rightIds = suffixes.idsOfPrefixes(of: piece.reversed()[...])  // [n] = id of the last n bytes
            for cut in 1..<piece.count {
                if let left = leftIds[cut], let right = rightIds[piece.count - cut] {
                    joinedPiece[Self.pairKey(left, right)] = id
                }
            }
        }
        self.vocabularySize = pieces.count
        self.maxTokenLength = maxTokenLength ?? pieces.map(\.count).max() ?? 0
        self.pieces = pieces
        self.scores = scores
        self.idForPiece = idForPiece
        self.joinedPiece = joinedPiece
        self.idForByte = idForByte
        self.byteOfPiece = byteOfPiece
    }

    // MARK: Encoding

    /// Text → ids as llama2.c's generate does it: `<s>` first, no `</s>`.
    public func encode(_ text: String) -> [Int] {
        encode(text, bos: true, eos: false)
    }

    /// Text → ids exactly as `run.c`'s `encode(tokenizer, text, bos, eos, …)`.
    /// (Unlike C, a NUL character does not end the text.)
    public func encode(_ text: String, bos: Bool, eos: Bool) -> [Int] {
        var ids: [Int] = []
        if bos { ids.append(beginningOfText) }

        // SentencePiece's add_dummy_prefix: the text starts as if after a space,
        // so the first word gets the same "▁word" piece as words mid-sentence.
        // (A vocabulary without a " " piece would make run.c store id -1; the
        // <0x20> byte piece is the sensible reading.)
        if !text.isEmpty {
            ids.append(idForPiece[[UInt8(ascii: " ")]] ?? idForByte[Int(UInt8(ascii: " "))])
        }

        // One piece per character if the vocabulary has it, else its bytes.
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if let id = idForPiece[bytes] {
                ids.append(id)
            } else {
                ids.append(contentsOf: bytes.map { idForByte[Int($0)] })
            }
        }

        ids = mergeByScore(ids)
        if eos { ids.append(endOfText) }
        return ids
    }

    /// Repeatedly joins the adjacent pair with the best-scoring joined piece
    /// (leftmost on ties), like `run.c`'s loop, but with a queue of candidate
    /// pairs so a long text is O(n log n) instead of O(n²).
    private func mergeByScore(_ start: [Int]) -> [Int] {
        var merger = PairMerger()
        return merger.merge(start, order: .oneAtATime) { left, right in
            guard let joined = joinedPiece[Self.pairKey(left, right)], scores[joined] > Self.lowestUsableScore else { return nil }
            return (Self.priority(of: scores[joined]), joined)
        }
    }

    /// Queue priority for a score: higher scores pop first. The float's bits
    /// are made to sort as unsigned integers (flip negatives, set the sign bit
    /// of positives), then inverted; -0 counts as 0, as C's `>` sees them.
    private static func priority(of score: Float) -> UInt32 {
        let bits = (score == 0 ? Float(0) : score).bitPattern
        let ascending = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return ~ascending
    }

    private static func pairKey(_ left: Int, _ right: Int) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: left)) << 32 | UInt64(UInt32(truncatingIfNeeded: right))
    }

    // MARK: Decoding

    public func bytes(of id: Int) -> [UInt8] {
        bytes(of: id, following: nil)
    }

    /// As `run.c`'s `decode`: after `<s>` a piece loses its leading space (the
    /// dummy prefix), and a `<0xXX>` piece stands for that one raw byte.
    public func bytes(of id: Int, following previous: Int?) -> [UInt8] {
        guard pieces.indices.contains(id) else { return [] }
        var piece = pieces[id][...]
        if previous == beginningOfText, piece.first == UInt8(ascii: " ") { piece = piece.dropFirst() }
        if let byte = piece.count == pieces[id].count ? byteOfPiece[id] : ByteFallback.byte(named: Array(piece)) {
            return [byte]
        }
        return Array(piece)
    }

    public func isSpecialToken(_ id: Int) -> Bool {
        Self.specialIds.contains(id) && pieces.indices.contains(id)
    }

    /// Control tokens show as their name ("<s>", without the newlines llama2.c
    /// stores around it); other pieces show their decoded bytes made visible.
    public func displayPiece(_ id: Int) -> String {
        guard pieces.indices.contains(id) else { return "<invalid id \(id)>" }
        if isSpecialToken(id) {
            return String(decoding: pieces[id], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return PieceDisplay.visible(bytes(of: id))
    }

    // MARK: Loading

    /// Loads a llama2.c `tokenizer.bin`.
    /// - Parameter vocabularySize: the model's vocabulary size; when given,
    ///   exactly that many tokens must be in the file, otherwise tokens are
    ///   read to the end of the file.
    /// - Throws: `TokenizerError` naming the file, e.g. `.truncated` with the
    ///   byte offset where a record is cut short.
    public static func load(_ url: URL, vocabularySize: Int? = nil) throws -> Llama2cTokenizer {
        try Llama2cTokenizer(data: readData(url), vocabularySize: vocabularySize, path: url.path)
    }

    /// Parses the bytes of a `tokenizer.bin`; `path` only names it in errors.
    public init(data: Data, vocabularySize: Int? = nil, path: String = "<tokenizer.bin>") throws {
        var reader = LittleEndianReader(bytes: [UInt8](data), path: path)
        let maxTokenLength = try reader.int32(what: "max_token_length")
        guard maxTokenLength > 0 else {
            throw TokenizerError.invalidBinary(
                path: path, offset: 0,
                reason: "max_token_length is \(maxTokenLength)")
        }
        var pieces: [[UInt8]] = []
        var scores: [Float] = []
        while vocabularySize.map({ pieces.count < $0 }) ?? !reader.isAtEnd {
            let id = pieces.count
            let score = try reader.float32(what: "score of token \(id)")
            let lengthOffset = reader.offset
            let length = try reader.int32(what: "length of token \(id)")
            guard length >= 0 else {
                throw TokenizerError.invalidBinary(
                    path: path, offset: lengthOffset,
                    reason: "token \(id) has length \(length)")
            }
            pieces.append(try reader.bytes(Int(length), what: "bytes of token \(id)"))
            scores.append(score)
        }
        guard !pieces.isEmpty else {
            throw TokenizerError.invalidBinary(path: path, offset: reader.offset, reason: "no tokens after the header")
        }
        try self.init(pieces: pieces, scores: scores, maxTokenLength: Int(maxTokenLength), path: path)
    }
}

// MARK: - Binary reading

/// Reads little-endian values front to back; running out of bytes is a
/// `TokenizerError.truncated` that says what was being read and where.
private struct LittleEndianReader {
    let bytes: [UInt8]
    let path: String
    private(set) var offset = 0

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    var isAtEnd: Bool { offset >= bytes.count }

    mutating func bytes(_ count: Int, what: String) throws -> [UInt8] {
        guard count <= bytes.count - offset else {
            throw TokenizerError.truncated(
                path: path, offset: bytes.count,
                reason: "needed \(count) bytes for the \(what) at byte \(offset), found \(bytes.count - offset)")
        }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func uint32(what: String) throws -> UInt32 {
        let raw = try bytes(4, what: what)
        return raw.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func int32(what: String) throws -> Int32 {
        Int32(bitPattern: try uint32(what: what))
    }

    mutating func float32(what: String) throws -> Float {
        Float(bitPattern: try uint32(what: what))
    }
}

/// Byte strings → ids, walked a byte at a time: every prefix of a string that
/// is itself a stored string is found in one pass.
private struct ByteTrie {
    /// (node << 8 | byte) → child node; node 0 is the root.
    private var children: [Int: Int] = [:]
    private var idAtNode: [Int?] = [nil]

    init(_ entries: [([UInt8], Int)]) {
        for (bytes, id) in entries {
            var node = 0
            for byte in bytes {
                let key = node << 8 | Int(byte)
                if let child = children[key] {
                    node = child
                } else {
                    children[key] = idAtNode.count
                    node = idAtNode.count
                    idAtNode.append(nil)
                }
            }
            idAtNode[node] = id
        }
    }

    /// `result[n]` is the id of `bytes`' first `n` bytes when they are stored (n = 0…count).
    func idsOfPrefixes<Bytes: Collection<UInt8>>(of bytes: Bytes) -> [Int?] {
        var result = [Int?](repeating: nil, count: bytes.count + 1)
        var node = 0
        for (offset, byte) in bytes.enumerated() {
            guard let child = children[node << 8 | Int(byte)] else { break }
            node = child
            result[offset + 1] = idAtNode[node]
        }
        return result
    }
}
