import Foundation

// MARK: - Loading tokenizer.json (SentencePiece-style BPE)

/// Reads the parts of Hugging Face's `tokenizer.json` that decide how a
/// SentencePiece-style BPE encodes: `model` (BPE with `vocab`, `merges`,
/// `unk_token`, `byte_fallback`, `fuse_unk`, `ignore_merges`),
/// `added_tokens` (with `special`, `normalized`, `lstrip`, `rstrip`),
/// `normalizer` (`Prepend`, literal `Replace`, `Sequence`), `pre_tokenizer`
/// (`Metaspace`), `post_processor` (`TemplateProcessing`, also Bert/Roberta
/// style) and `decoder` (whether it strips the leading space, whether it
/// has `ByteFallback`). Any other step that would change the ids is refused
/// with `TokenizerError.unsupportedModel` rather than encoded differently
/// from the reference; only an added token's `single_word` is ignored.
extension SentencePieceBPETokenizer {
    /// Loads a Llama-style `tokenizer.json`.
    /// - Throws: `TokenizerError` naming the file: `.malformedJSON` for a
    ///   broken document, `.unsupportedModel` for another kind of tokenizer
    ///   (WordPiece, Unigram, byte-level BPE…) or a step this loader does not
    ///   implement, `.unknownMergePiece` / `.invalidVocabulary` for a
    ///   vocabulary that does not fit its merges.
    public static func load(tokenizerJSON url: URL) throws -> SentencePieceBPETokenizer {
        try SentencePieceBPETokenizer(document: readJSONDocument(url), path: url.path)
    }

    /// Parses the bytes of a `tokenizer.json`; `path` only names it in errors.
    public init(tokenizerJSON data: Data, path: String = "<tokenizer.json>") throws {
        try self.init(document: parseJSONDocument([UInt8](data), path: path), path: path)
    }

    init(document: JSONValue, path: String) throws {
        try self.init(parts: TokenizerJSONReader(document: document, path: path).sentencePieceParts(), path: path)
    }
}

// MARK: - Reading the document

/// Reads and parses a JSON file, naming it in every error.
func readJSONDocument(_ url: URL) throws -> JSONValue {
    try parseJSONDocument([UInt8](readData(url)), path: url.path)
}

func parseJSONDocument(_ bytes: [UInt8], path: String) throws -> JSONValue {
    do {
        return try JSONValue.parse(bytes)
    } catch {
        throw TokenizerError.malformedJSON(path: path, reason: error.description)
    }
}

/// Walks a parsed `tokenizer.json`; every complaint names the file and the
/// place in the document ("pre_tokenizer.replacement").
struct TokenizerJSONReader {
    let document: JSONValue
    let path: String

    typealias Parts = SentencePieceBPETokenizer.Parts
    typealias TextRules = SentencePieceBPETokenizer.TextRules

    private func malformed(_ reason: String) -> TokenizerError {
        TokenizerError.malformedJSON(path: path, reason: reason)
    }

    private func unsupported(_ reason: String) -> TokenizerError {
        TokenizerError.unsupportedModel(path: path, reason: reason)
    }

    /// `model`, checked to be an object.
    func model() throws -> JSONValue {
        guard document.members != nil else {
            throw malformed("the top level should be an object, found \(document.kindName)")
        }
        guard let model = document["model"] else { throw malformed("model is missing") }
        guard model.members != nil else { throw malformed("model should be an object, found \(model.kindName)") }
        return model
    }

    /// `model.type`, or the type the shape implies for older files that omit it
    /// (a vocabulary list of [piece, score] pairs is Unigram).
    func modelType() throws -> String {
        let model = try model()
        if let type = model["type"] {
            guard let name = type.string else { throw malformed("model.type should be a string, found \(type.kindName)") }
            return name
        }
        if model["vocab"]?.array != nil { return "Unigram" }
        if model["merges"] != nil { return "BPE" }
        return model["vocab"] != nil ? "WordLevel" : "unknown"
    }

    /// The type names of a component (`normalizer`, `pre_tokenizer`…),
    /// looking inside `Sequence`s, in order.
    func componentTypes(_ key: String) -> [String] {
        func types(_ value: JSONValue) -> [String] {
            guard let type = value["type"]?.string else { return [] }
            let children = value["normalizers"] ?? value["pretokenizers"] ?? value["processors"] ?? value["decoders"]
            if type == "Sequence", let items = children?.array { return items.flatMap(types) }
            return [type]
        }
        return document[key].map(types) ?? []
    }

    // MARK: Parts

    func sentencePieceParts() throws -> Parts {
        let type = try modelType()
        guard type == "BPE" else {
            throw unsupported("model.type is \"\(type)\"; SentencePieceBPETokenizer reads BPE models")
        }
        if componentTypes("pre_tokenizer").contains("ByteLevel") {
            throw unsupported(
                "pre_tokenizer is ByteLevel, a GPT-2 style byte-level BPE: load it with "
                    + "GPT2Tokenizer or TokenizerLoader")
        }
        var parts = Parts()
        try readModel(into: &parts)
        parts.addedTokens = try addedTokens()
        parts.text.normalizer = try document["normalizer"].map { try normalizerSteps($0, at: "normalizer") } ?? []
        parts.text.metaspace = try document["pre_tokenizer"].flatMap { try metaspace($0, at: "pre_tokenizer") }
        let template = try postProcessorTemplate()
        (parts.prefix, parts.suffix) = ([template.singlePrefix], [template.singleSuffix])
        parts.decoderStripsLeadingSpace = document["decoder"].map(stripsLeadingSpace)
        parts.decoderHasByteFallback = componentTypes("decoder").contains("ByteFallback")
        return parts
    }

    private func readModel(into parts: inout Parts) throws {
        let model = try model()
        guard let vocab = model["vocab"] else { throw malformed("model.vocab is missing") }
        guard let entries = vocab.members else {
            throw malformed("model.vocab should be an object of piece → id, found \(vocab.kindName)")
        }
        parts.vocabulary.reserveCapacity(entries.count)
        for (piece, value) in entries {
            guard let id = value.int else {
                throw malformed("model.vocab[\(quotedPiece(piece))] should be an integer id, found \(value.kindName)")
            }
            parts.vocabulary.append((piece, id))
        }

        if let merges = model["merges"], merges.array == nil {
            throw malformed("model.merges should be an array, found \(merges.kindName)")
        }
        for (index, merge) in (model["merges"]?.array ?? []).enumerated() {
            // Older files write a merge as "a b"; newer ones as ["a", "b"].
            let pieces: [String]
            switch merge {
            case .string(let text):
                pieces = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            case .array(let items):
                pieces = items.map { $0.string ?? "" }
            default:
                pieces = []
            }
            guard pieces.count == 2, !pieces[0].isEmpty, !pieces[1].isEmpty else {
                let text = merge.string ?? merge.array?.map { $0.string ?? "?" }.joined(separator: " ") ?? merge.kindName
                throw TokenizerError.malformedMerge(path: path, line: index + 1, text: text)
            }
            parts.merges.append(.init(left: pieces[0], right: pieces[1], entry: index + 1))
        }

        if let unknown = model["unk_token"] {
            guard let piece = unknown.string else {
                throw malformed("model.unk_token should be a string, found \(unknown.kindName)")
            }
            parts.unknownPiece = piece
        }
        parts.byteFallback = try flag(model, "byte_fallback", at: "model") ?? false
        parts.fuseUnknown = try flag(model, "fuse_unk", at: "model") ?? false
        parts.ignoreMerges = try flag(model, "ignore_merges", at: "model") ?? false
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = model[key]?.string, !affix.isEmpty {
                throw unsupported("model.\(key) is \(quotedPiece(affix)); SentencePiece-style BPE has none")
            }
        }
        if let dropout = model["dropout"]?.double, dropout > 0 {
            throw unsupported("model.dropout is \(dropout), which makes encoding random")
        }
    }

    private func flag(_ object: JSONValue, _ key: String, at place: String) throws -> Bool? {
        guard let value = object[key] else { return nil }
        guard let flag = value.bool else { throw malformed("\(place).\(key) should be true or false, found \(value.kindName)") }
        return flag
    }

    private func addedTokens() throws -> [SentencePieceBPETokenizer.AddedToken] {
        guard let list = document["added_tokens"] else { return [] }
        guard let items = list.array else { throw malformed("added_tokens should be an array, found \(list.kindName)") }
        return try items.enumerated().map { index, item in
            guard let id = item["id"]?.int, let content = item["content"]?.string else {
                throw malformed("added_tokens[\(index)] needs an integer id and a string content")
            }
            // `single_word` is not read: added tokens match anywhere in the text.
            let special = item["special"]?.bool ?? false
            return .init(
                content: content, id: id, special: special, normalized: item["normalized"]?.bool ?? !special,
                stripsLeft: item["lstrip"]?.bool ?? false, stripsRight: item["rstrip"]?.bool ?? false)
        }
    }

    // MARK: Normalizer and pre-tokenizer

    private func normalizerSteps(_ value: JSONValue, at place: String) throws -> [TextRules.NormalizerStep] {
        guard let type = value["type"]?.string else { throw malformed("\(place).type is missing") }
        switch type {
        case "Sequence":
            guard let items = value["normalizers"]?.array else { throw malformed("\(place).normalizers is missing") }
            return try items.enumerated().flatMap { index, item in
                try normalizerSteps(item, at: "\(place).normalizers[\(index)]")
            }
        case "Prepend":
            guard let prefix = value["prepend"]?.string else { throw malformed("\(place).prepend is missing") }
            return [.prepend(Array(prefix.unicodeScalars))]
        case "Replace":
            guard let content = value["content"]?.string else { throw malformed("\(place).content is missing") }
            if value["pattern"]?["Regex"] != nil {
                throw unsupported("\(place) replaces a regular expression; only literal Replace patterns are implemented")
            }
            guard let pattern = value["pattern"]?["String"]?.string, !pattern.isEmpty else {
                throw malformed("\(place).pattern should be {\"String\": text}")
            }
            return [.replace(Array(pattern.unicodeScalars), with: Array(content.unicodeScalars))]
        default:
            throw unsupported(
                "normalizer \"\(type)\" at \(place) is not implemented "
                    + "(SentencePiece-style files use Prepend and Replace)")
        }
    }

    /// The `Metaspace` pre-tokenizer, alone or as the only step of a `Sequence`.
    func metaspace(_ value: JSONValue, at place: String) throws -> TextRules.Metaspace? {
        guard let type = value["type"]?.string else { throw malformed("\(place).type is missing") }
        switch type {
        case "Sequence":
            guard let items = value["pretokenizers"]?.array else { throw malformed("\(place).pretokenizers is missing") }
            guard items.count <= 1 else {
                throw unsupported("\(place) is a Sequence of \(items.count) pre-tokenizers; only Metaspace alone is implemented")
            }
            return try items.first.flatMap { try metaspace($0, at: "\(place).pretokenizers[0]") }
        case "Metaspace":
            var metaspace = TextRules.Metaspace()
            if let replacement = value["replacement"] {
                guard let text = replacement.string, text.unicodeScalars.count == 1, let scalar = text.unicodeScalars.first else {
                    throw malformed("\(place).replacement should be one character")
                }
                metaspace.replacement = scalar
            }
            if let scheme = value["prepend_scheme"] {
                guard let name = scheme.string, let parsed = TextRules.PrependScheme(rawValue: name) else {
                    throw malformed("\(place).prepend_scheme should be \"always\", \"first\" or \"never\"")
                }
                metaspace.prependScheme = parsed
            } else if let addPrefixSpace = try flag(value, "add_prefix_space", at: place) {
                // Files from before prepend_scheme existed.
                metaspace.prependScheme = addPrefixSpace ? .always : .never
            }
            metaspace.split = try flag(value, "split", at: place) ?? true
            return metaspace
        default:
            throw unsupported(
                "pre_tokenizer \"\(type)\" at \(place) is not implemented "
                    + "(SentencePiece-style files use Metaspace or none)")
        }
    }

    // MARK: Post-processor and decoder

    /// Whether the decoder drops the space in front of the decoded text
    /// (`Strip` of a leading " ", or a `Metaspace` decoder that prepends).
    private func stripsLeadingSpace(_ decoder: JSONValue) -> Bool {
        switch decoder["type"]?.string {
        case "Sequence":
            return (decoder["decoders"]?.array ?? []).contains(where: stripsLeadingSpace)
        case "Strip":
            return decoder["content"]?.string == " " && (decoder["start"]?.int ?? 0) > 0
        case "Metaspace":
            if let scheme = decoder["prepend_scheme"]?.string { return scheme != "never" }
            return decoder["add_prefix_space"]?.bool ?? true
        default:
            return false
        }
    }
}
