import Foundation

// MARK: - Picking the tokenizer for a model folder

/// Finds a model folder's tokenizer files and loads them with the tokenizer
/// that understands them:
///
/// | files in the folder            | tokenizer                                   |
/// |--------------------------------|---------------------------------------------|
/// | `tokenizer.json`, ByteLevel    | `GPT2Tokenizer` (GPT-2, byte-level BPE)      |
/// | `tokenizer.json`, "▁" + bytes  | `SentencePieceBPETokenizer` (Llama, Mistral) |
/// | `vocab.json` + `merges.txt`    | `GPT2Tokenizer`                             |
/// | `encoder.json` + `vocab.bpe`   | `GPT2Tokenizer`                             |
/// | `tokenizer.bin`                | `Llama2cTokenizer` (llama2.c)               |
/// | `tokenizer.json`, WordPiece    | `WordPieceTokenizer` (BERT)                  |
/// | `tokenizer.json`, Unigram      | `UnigramTokenizer` (T5)                      |
/// | `vocab.txt`                    | `WordPieceTokenizer` (BERT)                  |
///
/// `tokenizer.json` wins when a folder holds several sets, as in Hugging Face.
public enum TokenizerLoader {
    /// The kinds of `tokenizer.json` Lantern reads.
    public enum Kind: String, Sendable, CaseIterable {
        /// BPE over bytes spelled as characters ("Ġthe"), ByteLevel pre-tokenizer: GPT-2.
        case byteLevelBPE = "byte-level BPE"
        /// BPE over characters with "▁" for spaces and `<0xXX>` byte fallback: Llama.
        case sentencePieceBPE = "SentencePiece-style BPE"
        /// WordPiece with `##` continuations, BertNormalizer and BertPreTokenizer: BERT.
        case wordPiece = "WordPiece"
        /// SentencePiece Unigram with Metaspace (and SentencePiece's precompiled normalization): T5.
        case unigram = "Unigram"
    }

    /// Loads the tokenizer of a model folder (see the table above).
    /// - Throws: `TokenizerError.noTokenizerFiles` when the folder has none of
    ///   the files, `.unsupportedModel` for a `tokenizer.json` of another kind
    ///   (Unigram…), or the chosen loader's error.
    public static func load(folder: URL) throws -> any Tokenizer {
        let fileManager = FileManager.default
        var isFolder: ObjCBool = false
        guard fileManager.fileExists(atPath: folder.path, isDirectory: &isFolder) else {
            throw TokenizerError.fileNotFound(path: folder.path)
        }
        guard isFolder.boolValue else {
            throw TokenizerError.unreadable(path: folder.path, reason: "not a folder")
        }
        func has(_ name: String) -> Bool {
            fileManager.fileExists(atPath: folder.appendingPathComponent(name).path)
        }

        if has("tokenizer.json") {
            return try load(tokenizerJSON: folder.appendingPathComponent("tokenizer.json"))
        }
        if ["vocab.json", "merges.txt", "encoder.json", "vocab.bpe"].contains(where: has) {
            // Also names the missing half of a pair.
            return try GPT2Tokenizer.load(folder: folder)
        }
        if has("vocab.txt") {
            return try WordPieceTokenizer.load(vocabularyFile: folder.appendingPathComponent("vocab.txt"))
        }
        if has("tokenizer.bin") {
            return try Llama2cTokenizer.load(folder.appendingPathComponent("tokenizer.bin"))
        }
        if has("tokenizer.model") {
            throw TokenizerError.unsupportedModel(
                path: folder.appendingPathComponent("tokenizer.model").path,
                reason: "a SentencePiece model file; Lantern reads its tokenizer.json form, which "
                    + "transformers writes with AutoTokenizer.from_pretrained(folder).save_pretrained(folder)")
        }
        throw TokenizerError.noTokenizerFiles(folder: folder.path)
    }

    /// Loads a `tokenizer.json` with the tokenizer its content asks for.
    public static func load(tokenizerJSON url: URL) throws -> any Tokenizer {
        let document = try readJSONDocument(url)
        switch try kind(of: document, path: url.path) {
        case .byteLevelBPE:
            return try GPT2Tokenizer.load(tokenizerJSON: url)
        case .sentencePieceBPE:
            return try SentencePieceBPETokenizer(document: document, path: url.path)
        case .wordPiece:
            return try WordPieceTokenizer(document: document, path: url.path)
        case .unigram:
            return try UnigramTokenizer(document: document, path: url.path)
        }
    }

    /// Which tokenizer a `tokenizer.json` needs, from its model type, pre-tokenizer and normalizer.
    /// - Throws: `.unsupportedModel` naming what the file holds instead.
    public static func kind(ofTokenizerJSON url: URL) throws -> Kind {
        try kind(of: readJSONDocument(url), path: url.path)
    }

    static func kind(of document: JSONValue, path: String) throws -> Kind {
        let reader = TokenizerJSONReader(document: document, path: path)
        let type = try reader.modelType()
        if type == "WordPiece" { return .wordPiece }
        if type == "Unigram" { return .unigram }
        guard type == "BPE" else {
            throw TokenizerError.unsupportedModel(
                path: path, reason: "model.type is \"\(type)\", not \"BPE\", \"WordPiece\" or \"Unigram\"")
        }
        let preTokenizers = reader.componentTypes("pre_tokenizer")
        if preTokenizers.contains("ByteLevel") { return .byteLevelBPE }

        // SentencePiece's marks: spaces become "▁" (Metaspace, or a normalizer
        // that prepends or replaces), and unknown characters fall back to bytes.
        let byteFallback = (try reader.model())["byte_fallback"]?.bool ?? false
        let normalizers = reader.componentTypes("normalizer")
        if byteFallback || preTokenizers.contains("Metaspace")
            || normalizers.contains("Prepend") || normalizers.contains("Replace")
        {
            return .sentencePieceBPE
        }
        throw TokenizerError.unsupportedModel(
            path: path,
            reason: "a BPE model with neither a ByteLevel pre-tokenizer (GPT-2 style) nor SentencePiece's "
                + "\"▁\" handling (Metaspace pre-tokenizer, Prepend/Replace normalizer, byte_fallback)")
    }
}
