import Foundation
import Tensors
import Tokenizers

// MARK: - Byte-level BPE training (GPT-2 style)

/// Learns a GPT-2 style byte-level BPE tokenizer from plain text: the merges
/// and vocabulary that `GPT2Tokenizer` loads.
///
/// The algorithm, step by step:
/// 1. Cut the special tokens (by default `<|endoftext|>`) out of the text;
///    they never take part in merges.
/// 2. Split every remaining stretch into words with `GPT2PreTokenizer` and
///    count how often each distinct word occurs.
/// 3. Spell every word as its UTF-8 bytes. The vocabulary starts with the 256
///    one-byte pieces, ids 0…255 in GPT-2's order (`ByteLevel.bytesInVocabularyOrder`).
/// 4. Repeatedly take the adjacent pair of pieces that occurs most often
///    (counted over all words, weighted by word frequency; in "aaa" the pair
///    "a a" occurs twice), join every occurrence of it, left to right, into a
///    new piece with the next id, and record the merge. Ties go to the pair
///    whose left piece, then right piece, comes first in byte order (plain
///    lexicographic order of the pieces' bytes, a prefix before its
///    extensions; so "Ġ" = space 0x20 comes before "a"). As a guard, a pair
///    whose joined bytes already are a piece is skipped for good: each piece
///    has one id and one merge that makes it, as in GPT-2's files (a second
///    route to a piece would let rank-ordered encoding disagree with training).
/// 5. Stop when the vocabulary, special tokens included, reaches the requested
///    size, or when no pair occurs at least `minimumPairFrequency` times.
///    The special tokens take the last ids (GPT-2's `<|endoftext|>` is 50256).
///
/// Pair counts are kept up to date incrementally: an index from each pair to
/// the words that hold it means a merge only rewrites the words it touches,
/// and a max-heap with lazily refreshed counts finds the next pair. Nothing
/// depends on dictionary or set iteration order, so the result is the same in
/// every run and every process. Measured on the 2-core development machine
/// (release build): 4,096 tokens from 4 MB of English (Vim's help files,
/// 35k distinct words) in about 1 s.
public struct ByteLevelBPETrainer: Sendable {
    /// The vocabulary size to reach: 256 byte pieces + merges + special tokens.
    public let vocabularySize: Int
    /// Pairs seen fewer times than this are never merged (at least 1).
    public let minimumPairFrequency: Int
    /// Special tokens, in id order after the merges. Must hold `<|endoftext|>`,
    /// which `GPT2Tokenizer` needs. Note that a `vocab.json` + `merges.txt`
    /// pair only marks `<|endoftext|>` as special when loaded; other special
    /// tokens become ordinary vocabulary entries there (use `makeTokenizer()`
    /// to get a tokenizer that matches them all).
    public let specialTokens: [String]

    public static let endOfText = "<|endoftext|>"
    /// The largest vocabulary the trainer makes (ids fit in 16 bits).
    public static let maximumVocabularySize = 65_536

    /// - Throws: `BPETrainingError` for a vocabulary size outside
    ///   `256 + specialTokens.count ... 65_536`, a minimum frequency below 1,
    ///   or unusable special tokens.
    public init(
        vocabularySize: Int, minimumPairFrequency: Int = 2,
        specialTokens: [String] = [ByteLevelBPETrainer.endOfText]
    ) throws(BPETrainingError) {
        if let bad = specialTokens.first(where: { $0.unicodeScalars.count < 2 }) {
            throw .invalidSpecialToken(bad, reason: "a special token needs at least two characters")
        }
        if Set(specialTokens).count != specialTokens.count {
            throw .invalidSpecialToken(specialTokens.joined(separator: " "), reason: "special tokens repeat")
        }
        guard specialTokens.contains(Self.endOfText) else {
            throw .invalidSpecialToken(
                specialTokens.joined(separator: " "),
                reason: "GPT-2 style tokenizers need \(Self.endOfText)")
        }
        let smallest = 256 + specialTokens.count
        guard (smallest...Self.maximumVocabularySize).contains(vocabularySize) else {
            throw .vocabularySizeOutOfRange(vocabularySize, allowed: smallest...Self.maximumVocabularySize)
        }
        guard minimumPairFrequency >= 1 else { throw .minimumFrequencyOutOfRange(minimumPairFrequency) }
        self.vocabularySize = vocabularySize
        self.minimumPairFrequency = minimumPairFrequency
        self.specialTokens = specialTokens
    }

    /// How many merges a full training run makes.
    public var mergeTarget: Int { vocabularySize - 256 - specialTokens.count }

    /// Trains on one text. See `train(texts:progress:)`.
    public func train(text: String, progress: ((_ merges: Int, _ total: Int) -> Void)? = nil) -> TrainedByteLevelBPE {
        train(texts: [text], progress: progress)
    }

    /// Trains on several texts (e.g. one per file); no word runs from one text into the next.
    /// - Parameter progress: called with (merges done, `mergeTarget`) before the
    ///   first merge and after each one, on the calling thread.
    public func train(texts: [String], progress: ((_ merges: Int, _ total: Int) -> Void)? = nil) -> TrainedByteLevelBPE {
        let corpus = WordCounts(texts: texts, specialTokens: specialTokens)
        var state = MergeState(
            corpus: corpus, minimumPairFrequency: minimumPairFrequency,
            reservedPieces: specialTokens.compactMap(Self.byteLevelBytes(ofSpecial:)))
        let total = mergeTarget
        progress?(0, total)
        var stopReason = TrainedByteLevelBPE.StopReason.reachedVocabularySize
        while state.merges.count < total {
            guard state.mergeNext() else {
                stopReason = .noFrequentPair
                break
            }
            progress?(state.merges.count, total)
        }
        return TrainedByteLevelBPE(state: state, corpus: corpus, specialTokens: specialTokens, stopReason: stopReason)
    }

    /// The bytes a learned piece would need to be spelled exactly like
    /// `special` in `vocab.json`, if any such piece can exist.
    private static func byteLevelBytes(ofSpecial special: String) -> [UInt8]? {
        let bytes = ByteLevel.bytes(ofPiece: special)
        return ByteLevel.piece(ofBytes: bytes) == special ? bytes : nil
    }
}

// MARK: - The result

/// A trained tokenizer: pieces by id, merges in rank order, and what training saw.
public struct TrainedByteLevelBPE: Sendable {
    /// One merge rule, pieces spelled as in `merges.txt` (e.g. "Ġ" "t").
    public struct Merge: Sendable, Equatable, CustomStringConvertible {
        public var left: String
        public var right: String
        public var description: String { "\(left) \(right)" }
    }

    public enum StopReason: Sendable, Equatable {
        /// The vocabulary has the requested size.
        case reachedVocabularySize
        /// No pair occurred `minimumPairFrequency` times any more: the text is too small
        /// for the requested size, and the vocabulary is smaller.
        case noFrequentPair
    }

    /// id → piece as written in `vocab.json`: byte-level spelling ("Ġthe") for
    /// learned pieces, the text itself for special tokens (which come last).
    public let pieces: [String]
    /// Merge rules in rank order; merge `i` made piece `256 + i`.
    public let merges: [Merge]
    /// Special token text → id.
    public let specialTokens: [String: Int]
    public let stopReason: StopReason
    /// UTF-8 bytes of the training text(s).
    public let trainingByteCount: Int
    /// Tokens the trained tokenizer gives the training text(s), special tokens included.
    public let trainingTokenCount: Int
    /// The distinct training words (`GPT2PreTokenizer` words) as bytes, in
    /// byte order, with how often each occurs and the ids training ended with.
    let segmentation: [(word: [UInt8], count: Int, ids: [Int])]

    public var vocabularySize: Int { pieces.count }
    /// Tokens per byte of training text: below 1 means the tokenizer compresses.
    public var tokensPerByte: Double {
        trainingByteCount == 0 ? 0 : Double(trainingTokenCount) / Double(trainingByteCount)
    }

    init(state: MergeState, corpus: WordCounts, specialTokens: [String], stopReason: StopReason) {
        var pieces = state.pieceBytes.map { ByteLevel.piece(ofBytes: $0) }
        var specials: [String: Int] = [:]
        for token in specialTokens {
            specials[token] = pieces.count
            pieces.append(token)
        }
        self.pieces = pieces
        self.merges = state.merges.map { Merge(left: pieces[Int($0.left)], right: pieces[Int($0.right)]) }
        self.specialTokens = specials
        self.stopReason = stopReason
        self.trainingByteCount = corpus.byteCount
        var tokens = corpus.specialTokenCount
        var segmentation: [(word: [UInt8], count: Int, ids: [Int])] = []
        segmentation.reserveCapacity(corpus.words.count)
        for (index, word) in corpus.words.enumerated() {
            tokens += corpus.counts[index] * state.symbols[index].count
            segmentation.append((word, corpus.counts[index], state.symbols[index].map(Int.init)))
        }
        self.trainingTokenCount = tokens
        self.segmentation = segmentation
    }

    /// A tokenizer built from this training, every special token matched whole in text.
    public func makeTokenizer() throws -> GPT2Tokenizer {
        var vocabulary: [String: Int] = [:]
        for (id, piece) in pieces.enumerated() { vocabulary[piece] = id }
        return try GPT2Tokenizer(
            vocabulary: vocabulary, merges: merges.map { ($0.left, $0.right) },
            specialTokens: specialTokens)
    }

    // MARK: Files

    /// `vocab.json`: one "piece": id entry a line, in id order, non-ASCII written as UTF-8.
    public func vocabularyJSON() -> Data {
        var text = "{\n"
        for (id, piece) in pieces.enumerated() {
            text += "  " + jsonString(piece) + ": \(id)" + (id + 1 < pieces.count ? ",\n" : "\n")
        }
        text += "}\n"
        return Data(text.utf8)
    }

    /// `merges.txt`: `#version: 0.2`, then one "left right" rule a line in rank order.
    public func mergesText() -> Data {
        var text = "#version: 0.2\n"
        for merge in merges { text += merge.left + " " + merge.right + "\n" }
        return Data(text.utf8)
    }

    /// Writes `vocab.json` and `merges.txt` into `folder` (created if needed) with
    /// `AtomicFile.writeTogether`: both are renamed into place only when both are
    /// complete, so a failure leaves no half-written output.
    /// `GPT2Tokenizer.load(folder:)` reads them back, with `<|endoftext|>` special.
    /// - Returns: the two files' URLs.
    /// - Throws: `BPETrainingError.unwritable` naming the folder or file.
    @discardableResult
    public func write(to folder: URL) throws(BPETrainingError) -> (vocabulary: URL, merges: URL) {
        let targets = [
            (folder.appendingPathComponent("vocab.json"), vocabularyJSON()),
            (folder.appendingPathComponent("merges.txt"), mergesText())
        ]
        try Self.prepareFolder(folder)
        do {
            try AtomicFile.writeTogether(targets.map { (data: $0.1, url: $0.0) })
        } catch {
            throw .unwritable(path: error.path, reason: error.reason)
        }
        return (targets[0].0, targets[1].0)
    }

    /// Creates `folder` if needed and checks that files can be written in it,
    /// so a caller can refuse before a long training run instead of after it.
    /// - Throws: `BPETrainingError.unwritable` naming the folder.
    public static func prepareFolder(_ folder: URL) throws(BPETrainingError) {
        let fileManager = FileManager.default
        var isFolder: ObjCBool = false
        if fileManager.fileExists(atPath: folder.path, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw .unwritable(path: folder.path, reason: "it is a file, not a folder") }
        } else {
            do {
                try fileManager.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw .unwritable(path: folder.path, reason: "the folder cannot be created")
            }
        }
        // Access rights alone can mislead (read-only mounts, root): try a file.
        let probe = folder.appendingPathComponent(".lantern-write-check-\(UUID().uuidString.prefix(8))")
        guard fileManager.createFile(atPath: probe.path, contents: Data()) else {
            throw .unwritable(path: folder.path, reason: "the folder is not writable")
        }
        try? fileManager.removeItem(at: probe)
    }

    private func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out +=
                        "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

// MARK: - Errors

/// Why a tokenizer cannot be trained or saved; each message ends with a hint.
public enum BPETrainingError: Error, Equatable, Sendable {
    case vocabularySizeOutOfRange(Int, allowed: ClosedRange<Int>)
    case minimumFrequencyOutOfRange(Int)
    case invalidSpecialToken(String, reason: String)
    case unwritable(path: String, reason: String)

    public var problem: String {
        switch self {
        case .vocabularySizeOutOfRange(let size, let allowed):
            return "vocabulary size \(size) is out of range"
                + " (\(allowed.lowerBound) to \(allowed.upperBound): 256 bytes + merges + special tokens)"
        case .minimumFrequencyOutOfRange(let value):
            return "minimum pair frequency \(value) is out of range (1 or more)"
        case .invalidSpecialToken(let token, let reason):
            return "special token \"\(token)\" cannot be used (\(reason))"
        case .unwritable(let path, let reason):
            return "cannot write \(path) (\(reason))"
        }
    }

    public var hint: String {
        switch self {
        case .vocabularySizeOutOfRange: return "pick a size in range; GPT-2 uses 50257"
        case .minimumFrequencyOutOfRange: return "use 2 (the default) to merge only pairs seen at least twice"
        case .invalidSpecialToken: return "use distinct tokens of two or more characters, including <|endoftext|>"
        case .unwritable: return "choose an output folder you may write to"
        }
    }
}

extension BPETrainingError: CustomStringConvertible, LocalizedError {
    public var description: String { "\(problem). Hint: \(hint)." }
    public var errorDescription: String? { description }
}

// MARK: - Counting words

/// The distinct words of the training text with their counts.
struct WordCounts {
    /// Distinct words as UTF-8 bytes, in byte order.
    var words: [[UInt8]] = []
    /// counts[i]: occurrences of words[i].
    var counts: [Int] = []
    /// Special tokens found (and cut out) in the text.
    var specialTokenCount = 0
    var byteCount = 0

    init(texts: [String], specialTokens: [String]) {
        // Longest first, so a longer special token wins over a shorter one it starts with.
        let specials = specialTokens.map { Array($0.utf8) }.sorted { $0.count > $1.count }
        var table: [[UInt8]: Int] = [:]
        for text in texts {
            byteCount += text.utf8.count
            for chunk in Self.cut(text, at: specials, found: &specialTokenCount) {
                for word in GPT2PreTokenizer.words(in: chunk) {
                    table[Array(word.utf8), default: 0] += 1
                }
            }
        }
        // Keys are bytes (not `String`, whose equality would join canonically
        // equivalent words); sorting makes the order independent of hashing.
        let sorted = table.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        words = sorted.map(\.key)
        counts = sorted.map(\.value)
    }

    /// The stretches of `text` between special tokens. Matching whole UTF-8
    /// byte sequences of valid UTF-8 is matching whole characters, as
    /// `GPT2Tokenizer` does.
    static func cut(_ text: String, at specials: [[UInt8]], found: inout Int) -> [String] {
        let bytes = Array(text.utf8)
        guard !specials.isEmpty else { return [text] }
        let firstBytes = Set(specials.map { $0[0] })
        var chunks: [String] = []
        var start = 0
        var index = 0
        while index < bytes.count {
            if firstBytes.contains(bytes[index]),
                let special = specials.first(where: { bytes[index...].starts(with: $0) })
            {
                if start < index { chunks.append(String(decoding: bytes[start..<index], as: UTF8.self)) }
                found += 1
                index += special.count
                start = index
            } else {
                index += 1
            }
        }
        if start < bytes.count { chunks.append(String(decoding: bytes[start...], as: UTF8.self)) }
        return chunks
    }
}

// MARK: - Merging

/// The working state of training: every distinct word as a list of piece
/// ids, pair counts, which words hold each pair, and a heap of candidates.
struct MergeState {
    /// id → the bytes of its piece.
    var pieceBytes: [[UInt8]]
    /// The merges so far, as (left id, right id); merge i made id 256 + i.
    var merges: [(left: Int32, right: Int32)] = []
    /// symbols[w]: the pieces word w is split into now.
    var symbols: [[Int32]]
    let counts: [Int]
    let minimumPairFrequency: Int

    /// Pair (packed by `key`) → its occurrences, weighted by word count. Pairs
    /// that no longer occur are removed.
    private var pairCounts: [UInt64: Int] = [:]
    /// Pair → words that held it when it appeared; a word may be listed twice
    /// or no longer hold the pair (checked when used).
    private var pairWords: [UInt64: [Int32]] = [:]
    private var heap: PairHeap
    /// Bytes of every piece, and of any special token spelled in byte-level characters.
    private var knownPieces: Set<[UInt8]>
    /// Pairs whose joined piece already exists: never merged.
    private var skipped: Set<UInt64> = []
    /// lastVisit[w]: the merge that last rewrote word w (a word is listed under a pair more than once).
    private var lastVisit: [Int]

    init(corpus: WordCounts, minimumPairFrequency: Int, reservedPieces: [[UInt8]]) {
        let order = ByteLevel.bytesInVocabularyOrder
        pieceBytes = order.map { [$0] }
        var idForByte = [Int32](repeating: 0, count: 256)
        for (id, byte) in order.enumerated() { idForByte[Int(byte)] = Int32(id) }
        symbols = corpus.words.map { $0.map { idForByte[Int($0)] } }
        counts = corpus.counts
        self.minimumPairFrequency = minimumPairFrequency
        knownPieces = Set(pieceBytes + reservedPieces)
        lastVisit = [Int](repeating: -1, count: corpus.words.count)
        heap = PairHeap()

        for (word, pieces) in symbols.enumerated() where pieces.count > 1 {
            for index in 0..<(pieces.count - 1) {
                let key = Self.key(pieces[index], pieces[index + 1])
                pairCounts[key, default: 0] += counts[word]
                if pairWords[key]?.last != Int32(word) { pairWords[key, default: []].append(Int32(word)) }
            }
        }
        for (key, count) in pairCounts where count >= minimumPairFrequency {
            heap.push(PairHeap.Entry(count: count, left: Self.left(key), right: Self.right(key)), pieceBytes)
        }
    }

    static func key(_ left: Int32, _ right: Int32) -> UInt64 { UInt64(UInt32(left)) << 32 | UInt64(UInt32(right)) }
    static func left(_ key: UInt64) -> Int32 { Int32(truncatingIfNeeded: key >> 32) }
    static func right(_ key: UInt64) -> Int32 { Int32(truncatingIfNeeded: key & 0xFFFF_FFFF) }

    /// Finds the most frequent pair (ties: see `ByteLevelBPETrainer`) and merges it.
    /// - Returns: false when no pair occurs `minimumPairFrequency` times.
    mutating func mergeNext() -> Bool {
        while let top = heap.pop(pieceBytes) {
            let key = Self.key(top.left, top.right)
            let current = pairCounts[key] ?? 0
            if skipped.contains(key) { continue }
            if current != top.count {
                // A stale entry: counts of old pairs only fall, so the real count is lower.
                assert(current < top.count, "a pair count grew after its pair was queued")
                if current >= minimumPairFrequency {
                    heap.push(PairHeap.Entry(count: current, left: top.left, right: top.right), pieceBytes)
                }
                continue
            }
            let joined = pieceBytes[Int(top.left)] + pieceBytes[Int(top.right)]
            if knownPieces.contains(joined) {
                skipped.insert(key)
                continue
            }
            merge(top.left, top.right, into: joined)
            return true
        }
        return false
    }

    /// Joins every occurrence of (left, right), left to right in each word,
    /// into a new piece, updating the counts of the pairs around each join.
    private mutating func merge(_ left: Int32, _ right: Int32, into joined: [UInt8]) {
        let new = Int32(pieceBytes.count)
        let step = merges.count
        pieceBytes.append(joined)
        knownPieces.insert(joined)
        merges.append((left, right))
        let mergedKey = Self.key(left, right)
        var newPairs: Set<UInt64> = []

        for word in pairWords[mergedKey] ?? [] where lastVisit[Int(word)] != step {
            lastVisit[Int(word)] = step
            let count = counts[Int(word)]
            let pieces = symbols[Int(word)]
            var rewritten: [Int32] = []
            rewritten.reserveCapacity(pieces.count)
            var index = 0
            // Left to right: each join turns the pairs around it, (before, left)
            // and (right, after), into (before, new) and (new, after). "before"
            // is the last piece written, perhaps a join made a moment ago (as
            // in "a b a b"); the changes its two joins make then cancel out.
            // A new array rather than removals keeps long words linear.
            while index < pieces.count {
                guard index + 1 < pieces.count, pieces[index] == left, pieces[index + 1] == right else {
                    rewritten.append(pieces[index])
                    index += 1
                    continue
                }
                if let before = rewritten.last {
                    change(Self.key(before, left), by: -count)
                    change(Self.key(before, new), by: count)
                    newPairs.insert(Self.key(before, new))
                    note(word, holds: Self.key(before, new))
                }
                if index + 2 < pieces.count {
                    let after = pieces[index + 2]
                    change(Self.key(right, after), by: -count)
                    change(Self.key(new, after), by: count)
                    newPairs.insert(Self.key(new, after))
                    note(word, holds: Self.key(new, after))
                }
                rewritten.append(new)
                index += 2
            }
            symbols[Int(word)] = rewritten
        }
        // Every occurrence is joined: the pair is gone.
        pairCounts[mergedKey] = nil
        pairWords[mergedKey] = nil

        // New pairs are queued once, with their final counts. (Set order does
        // not matter: the heap's order is total.)
        for key in newPairs {
            if let count = pairCounts[key], count >= minimumPairFrequency {
                heap.push(PairHeap.Entry(count: count, left: Self.left(key), right: Self.right(key)), pieceBytes)
            }
        }
    }

    private mutating func change(_ key: UInt64, by delta: Int) {
        let count = (pairCounts[key] ?? 0) + delta
        pairCounts[key] = count == 0 ? nil : count
    }

    private mutating func note(_ word: Int32, holds key: UInt64) {
        if pairWords[key]?.last != word { pairWords[key, default: []].append(word) }
    }
}

// MARK: - Candidate heap

/// A binary max-heap of (count, pair): the most frequent pair first; equal
/// counts in byte order of the left piece, then the right piece. The order is
/// total over distinct pairs, so the pops never depend on insertion order.
struct PairHeap {
    struct Entry {
        var count: Int
        var left: Int32
        var right: Int32
    }

    private var entries: [Entry] = []

    /// Whether `a` comes out before `b`.
    @inline(__always)
    private static func precedes(_ a: Entry, _ b: Entry, _ pieces: [[UInt8]]) -> Bool {
        if a.count != b.count { return a.count > b.count }
        if a.left != b.left { return pieces[Int(a.left)].lexicographicallyPrecedes(pieces[Int(b.left)]) }
        if a.right != b.right { return pieces[Int(a.right)].lexicographicallyPrecedes(pieces[Int(b.right)]) }
        return false
    }

    mutating func push(_ entry: Entry, _ pieces: [[UInt8]]) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(entries[child], entries[parent], pieces) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop(_ pieces: [[UInt8]]) -> Entry? {
        guard let first = entries.first else { return nil }
        let last = entries.removeLast()
        if entries.isEmpty { return first }
        entries[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < entries.count, Self.precedes(entries[left], entries[best], pieces) { best = left }
            if right < entries.count, Self.precedes(entries[right], entries[best], pieces) { best = right }
            if best == parent { break }
            entries.swapAt(parent, best)
            parent = best
        }
        return first
    }
}
