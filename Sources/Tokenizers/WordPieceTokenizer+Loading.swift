import Foundation

// MARK: - Loading WordPiece from tokenizer.json or vocab.txt

extension WordPieceTokenizer {
    /// Loads a BERT-style `tokenizer.json`: `model` WordPiece (`vocab`, `unk_token`,
    /// `continuing_subword_prefix`, `max_input_chars_per_word`), `normalizer` BertNormalizer (or
    /// none), `pre_tokenizer` BertPreTokenizer, `added_tokens` and `post_processor`. Any other
    /// step that would change the ids is refused by name.
    public static func load(tokenizerJSON url: URL) throws -> WordPieceTokenizer {
        try WordPieceTokenizer(document: readJSONDocument(url), path: url.path)
    }

    init(document: JSONValue, path: String) throws {
        let reader = TokenizerJSONReader(document: document, path: path)
        func malformed(_ reason: String) -> TokenizerError { .malformedJSON(path: path, reason: reason) }
        func unsupported(_ reason: String) -> TokenizerError { .unsupportedModel(path: path, reason: reason) }
        let model = try reader.model()
        guard try reader.modelType() == "WordPiece" else { throw unsupported("model.type is not \"WordPiece\"") }
        guard let entries = model["vocab"]?.members else { throw malformed("model.vocab should be an object of piece → id") }
        var vocabulary = [String?](repeating: nil, count: entries.count)
        for (piece, value) in entries {
            guard let id = value.int, id >= 0, id < entries.count else {
                throw TokenizerError.invalidVocabulary(
                    path: path, reason: "model.vocab[\(quotedPiece(piece))] is not an id from 0 to \(entries.count - 1)")
            }
            guard vocabulary[id] == nil else {
                throw TokenizerError.invalidVocabulary(path: path, reason: "id \(id) is given to two pieces")
            }
            vocabulary[id] = piece
        }
        let normalization: Normalization
        switch document["normalizer"] {
        case nil, .null?:
            normalization = Normalization(cleanText: false, handleChineseCharacters: false, stripAccents: false, lowercase: false)
        case let value?:
            guard value["type"]?.string == "BertNormalizer" else {
                throw unsupported("normalizer \"\(value["type"]?.string ?? "?")\" is not implemented (BERT files use BertNormalizer)")
            }
            normalization = Normalization(
                cleanText: value["clean_text"]?.bool ?? true, handleChineseCharacters: value["handle_chinese_chars"]?.bool ?? true,
                stripAccents: value["strip_accents"]?.bool, lowercase: value["lowercase"]?.bool ?? true)
        }
        let preTokenizers = reader.componentTypes("pre_tokenizer")
        guard preTokenizers == ["BertPreTokenizer"] else {
            throw unsupported(
                "pre_tokenizer is \(preTokenizers.isEmpty ? "missing" : preTokenizers.joined(separator: " + ")); WordPiece files use BertPreTokenizer"
            )
        }
        let added = try (document["added_tokens"]?.array ?? []).enumerated().map { index, item in
            guard let id = item["id"]?.int, let content = item["content"]?.string else {
                throw malformed("added_tokens[\(index)] needs an integer id and a string content")
            }
            if item["normalized"]?.bool == true, normalization.lowercase, content.lowercased() != content {
                throw unsupported("added token \(quotedPiece(content)) is matched after lower-casing, which is not implemented")
            }
            return AddedToken(
                content: content, id: id, special: item["special"]?.bool ?? false,
                stripsLeft: item["lstrip"]?.bool ?? false, stripsRight: item["rstrip"]?.bool ?? false)
        }
        try self.init(
            vocabulary: vocabulary.map { $0 ?? "" }, addedTokens: added, normalization: normalization,
            template: try reader.postProcessorTemplate(), unknownPiece: model["unk_token"]?.string ?? "[UNK]",
            continuingPrefix: model["continuing_subword_prefix"]?.string ?? "##",
            maximumWordLength: model["max_input_chars_per_word"]?.int ?? 100, path: path)
    }

    /// Loads `vocab.txt` (one piece per line, the line number is the id) with the settings of the
    /// `tokenizer_config.json` beside it, if any (`do_lower_case`, `strip_accents`,
    /// `tokenize_chinese_chars`, the special tokens' spellings): what `BertTokenizer` reads.
    public static func load(vocabularyFile url: URL) throws -> WordPieceTokenizer {
        let text = String(decoding: try readData(url), as: UTF8.self)
        var lines = text.components(separatedBy: "\n").map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
        if lines.last == "" { lines.removeLast() }
        guard !lines.isEmpty else { throw TokenizerError.invalidVocabulary(path: url.path, reason: "the file is empty") }
        let configURL = url.deletingLastPathComponent().appendingPathComponent("tokenizer_config.json")
        var config: JSONValue = .object([])
        if FileManager.default.fileExists(atPath: configURL.path) { config = try readJSONDocument(configURL) }
        let lowercase = config["do_lower_case"]?.bool ?? true
        let normalization = Normalization(
            handleChineseCharacters: config["tokenize_chinese_chars"]?.bool ?? true,
            stripAccents: config["strip_accents"]?.bool, lowercase: lowercase)
        let names = ["unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "mask_token": "[MASK]"]
        var specials: [AddedToken] = []
        for (key, fallback) in names.sorted(by: { $0.key < $1.key }) {
            let piece = config[key]?.string ?? config[key]?["content"]?.string ?? fallback
            if let id = lines.firstIndex(of: piece) { specials.append(AddedToken(content: piece, id: id, special: true)) }
        }
        return try WordPieceTokenizer(
            vocabulary: lines, addedTokens: specials, normalization: normalization,
            unknownPiece: config["unk_token"]?.string ?? "[UNK]", path: url.path)
    }
}
