import Foundation
import Tensors
import Tokenizers

/// A WordPiece vocabulary for a BERT trained here, built from text: the five special tokens,
/// every character seen (alone and as a `##` continuation, so no word is ever `[UNK]`), then the
/// most frequent whole words (lower-cased, accents stripped: BERT's uncased normaliser) until the
/// vocabulary is full, then the most frequent word endings (`##ing`, `##ed`…) of the words left
/// out. On a corpus with a small word list (the teaching corpus has a few hundred story words)
/// nearly every word is one token; rarer words split into an ending and characters.
///
/// It is written as Hugging Face writes a `BertTokenizerFast` (`tokenizer.json`, `vocab.txt`,
/// `tokenizer_config.json`), so Lantern's `WordPieceTokenizer` and transformers read it the same.
public struct WordPieceVocabulary: Sendable, Equatable {
    /// Pieces in id order.
    public let pieces: [String]

    public static let specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    /// Words seen fewer times are left to endings and characters.
    public static let minimumWordCount = 2

    /// Builds a vocabulary of at most `size` pieces (at least the specials and characters).
    public static func build(text: String, size: Int, progress: (Double) -> Void = { _ in }) throws -> WordPieceVocabulary {
        guard size >= specials.count + 2 else {
            throw TrainingError.badSetting(.vocabularySize, value: "\(size)", expected: "\(specials.count + 2) or more")
        }
        let normalizer = try WordPieceTokenizer(
            vocabulary: specials, addedTokens: [], normalization: .init(), unknownPiece: "[UNK]", path: "(building)")
        var words: [String: Int] = [:]
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        for (index, line) in lines.enumerated() {
            for word in WordPieceTokenizer.words(of: normalizer.normalize(Array(line.unicodeScalars)[...])) {
                words[String(String.UnicodeScalarView(word)), default: 0] += 1
            }
            if index % 4096 == 0 { progress(Double(index) / Double(max(1, lines.count))) }
        }
        progress(1)
        var pieces = specials
        var seen = Set(pieces)
        func add(_ piece: String) {
            if pieces.count < size && seen.insert(piece).inserted { pieces.append(piece) }
        }
        // Characters first, so every word can be spelled: by frequency, ties by the character.
        var characters: [String: Int] = [:]
        for (word, count) in words { for scalar in word.unicodeScalars { characters[String(scalar), default: 0] += count } }
        let byFrequency = { (a: (key: String, value: Int), b: (key: String, value: Int)) in
            a.value != b.value ? a.value > b.value : Array(a.key.utf8).lexicographicallyPrecedes(Array(b.key.utf8))
        }
        let alphabet = characters.sorted(by: byFrequency).map(\.key)
        for character in alphabet { add(character) }
        for character in alphabet where !isPunctuationPiece(character) { add("##" + character) }
        // Whole words, most frequent first.
        let frequent = words.filter { $0.value >= minimumWordCount && $0.key.unicodeScalars.count > 1 }.sorted(by: byFrequency)
        for (word, _) in frequent where pieces.count < size { add(word) }
        // Endings of the words that did not fit, most frequent first.
        var endings: [String: Int] = [:]
        for (word, count) in words where !seen.contains(word) {
            let scalars = Array(word.unicodeScalars)
            for length in 2...4 where scalars.count > length {
                endings["##" + String(String.UnicodeScalarView(scalars.suffix(length))), default: 0] += count
            }
        }
        for (ending, _) in endings.sorted(by: byFrequency) where pieces.count < size { add(ending) }
        return WordPieceVocabulary(pieces: pieces)
    }

    /// Punctuation is always split off as a word of its own, so it never continues one.
    private static func isPunctuationPiece(_ piece: String) -> Bool {
        piece.unicodeScalars.count == 1 && WordPieceTokenizer.isPunctuation(piece.unicodeScalars.first!)
    }

    /// The tokenizer these pieces make (uncased, `[CLS] … [SEP]`).
    public func tokenizer() throws -> WordPieceTokenizer {
        try WordPieceTokenizer(
            vocabulary: pieces,
            addedTokens: Self.specials.enumerated().map { .init(content: $0.element, id: $0.offset, special: true) },
            normalization: .init(), path: "(built vocabulary)")
    }

    /// Writes `tokenizer.json`, `vocab.txt` and `tokenizer_config.json` into `folder`, together.
    public func write(to folder: URL) throws {
        let id = { (piece: String) in self.pieces.firstIndex(of: piece)! }
        let (cls, sep) = (id("[CLS]"), id("[SEP]"))
        func special(_ name: String, type: Int) -> [String: Any] { ["SpecialToken": ["id": name, "type_id": type]] }
        func sequence(_ name: String, type: Int) -> [String: Any] { ["Sequence": ["id": name, "type_id": type]] }
        let document: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(),
            "added_tokens": Self.specials.map { piece -> [String: Any] in
                [
                    "id": id(piece), "content": piece, "single_word": false, "lstrip": false, "rstrip": false,
                    "normalized": false, "special": true
                ]
            },
            "normalizer": [
                "type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": NSNull(),
                "lowercase": true
            ],
            "pre_tokenizer": ["type": "BertPreTokenizer"],
            "post_processor": [
                "type": "TemplateProcessing",
                "single": [special("[CLS]", type: 0), sequence("A", type: 0), special("[SEP]", type: 0)],
                "pair": [
                    special("[CLS]", type: 0), sequence("A", type: 0), special("[SEP]", type: 0), sequence("B", type: 1),
                    special("[SEP]", type: 1)
                ],
                "special_tokens": [
                    "[CLS]": ["id": "[CLS]", "ids": [cls], "tokens": ["[CLS]"]],
                    "[SEP]": ["id": "[SEP]", "ids": [sep], "tokens": ["[SEP]"]]
                ]
            ],
            "decoder": ["type": "WordPiece", "prefix": "##", "cleanup": true],
            "model": [
                "type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
                "vocab": Dictionary(uniqueKeysWithValues: pieces.enumerated().map { ($0.element, $0.offset) })
            ]
        ]
        let config: [String: Any] = [
            "tokenizer_class": "BertTokenizer", "do_lower_case": true, "strip_accents": NSNull(), "tokenize_chinese_chars": true,
            "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]"
        ]
        let options: JSONSerialization.WritingOptions = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.writeTogether([
            (try JSONSerialization.data(withJSONObject: document, options: options), folder.appendingPathComponent("tokenizer.json")),
            (Data(pieces.map { $0 + "\n" }.joined().utf8), folder.appendingPathComponent("vocab.txt")),
            (try JSONSerialization.data(withJSONObject: config, options: options), folder.appendingPathComponent("tokenizer_config.json"))
        ])
    }
}
