import Foundation

// MARK: - Loading a Unigram tokenizer.json

extension UnigramTokenizer {
    /// Loads a T5-style `tokenizer.json`: `model` Unigram (`vocab` as [piece, score] pairs,
    /// `unk_id`), `normalizer` Precompiled / Replace / Strip (alone or in a Sequence),
    /// `pre_tokenizer` WhitespaceSplit and/or Metaspace, `added_tokens` and `post_processor`.
    /// Any other step that would change the ids is refused by name.
    public static func load(tokenizerJSON url: URL) throws -> UnigramTokenizer {
        try UnigramTokenizer(document: readJSONDocument(url), path: url.path)
    }

    init(document: JSONValue, path: String) throws {
        let reader = TokenizerJSONReader(document: document, path: path)
        func malformed(_ reason: String) -> TokenizerError { .malformedJSON(path: path, reason: reason) }
        func unsupported(_ reason: String) -> TokenizerError { .unsupportedModel(path: path, reason: reason) }
        let model = try reader.model()
        guard try reader.modelType() == "Unigram" else { throw unsupported("model.type is not \"Unigram\"") }
        if model["byte_fallback"]?.bool == true {
            throw unsupported("model.byte_fallback: true is not implemented for Unigram (T5's files have false)")
        }
        guard let entries = model["vocab"]?.array else { throw malformed("model.vocab should be a list of [piece, score] pairs") }
        let vocabulary = try entries.enumerated().map { index, entry -> (piece: String, score: Double) in
            guard let pair = entry.array, pair.count == 2, let piece = pair[0].string, let score = pair[1].double else {
                throw malformed("model.vocab[\(index)] should be [piece, score]")
            }
            return (piece, score)
        }
        guard let unknown = model["unk_id"]?.int else {
            throw unsupported("model.unk_id is missing; a Unigram model without <unk> is not implemented")
        }

        var added: [String: Int] = [:], specials = Set<Int>()
        for (index, item) in (document["added_tokens"]?.array ?? []).enumerated() {
            guard let id = item["id"]?.int, let content = item["content"]?.string else {
                throw malformed("added_tokens[\(index)] needs an integer id and a string content")
            }
            added[content] = id
            if item["special"]?.bool ?? false { specials.insert(id) }
        }
        specials.insert(unknown)

        var rules = Rules()
        if let normalizer = document["normalizer"], !normalizer.isNull {
            rules.normalizer = try Self.normalizerSteps(normalizer, at: "normalizer", malformed: malformed, unsupported: unsupported)
        }
        if let preTokenizer = document["pre_tokenizer"], !preTokenizer.isNull {
            let steps = preTokenizer["type"]?.string == "Sequence" ? preTokenizer["pretokenizers"]?.array ?? [] : [preTokenizer]
            for (index, step) in steps.enumerated() {
                switch step["type"]?.string {
                case "WhitespaceSplit" where index == 0: rules.splitsOnWhitespace = true
                case "Metaspace" where index == steps.count - 1: rules.metaspace = try reader.metaspace(step, at: "pre_tokenizer")
                default:
                    throw unsupported(
                        "pre_tokenizer \(reader.componentTypes("pre_tokenizer").joined(separator: " + ")) is not implemented for Unigram (T5 files use WhitespaceSplit and/or Metaspace)"
                    )
                }
            }
        }
        try self.init(
            vocabulary: vocabulary, unknown: unknown, added: added, specials: specials, rules: rules,
            template: try reader.postProcessorTemplate(), path: path)
    }

    private static func normalizerSteps(
        _ value: JSONValue, at place: String, malformed: (String) -> TokenizerError, unsupported: (String) -> TokenizerError
    ) throws -> [Rules.NormalizerStep] {
        switch value["type"]?.string {
        case "Sequence":
            return try (value["normalizers"]?.array ?? []).enumerated().flatMap { index, item in
                try normalizerSteps(item, at: "\(place).normalizers[\(index)]", malformed: malformed, unsupported: unsupported)
            }
        case "Precompiled":
            guard let text = value["precompiled_charsmap"]?.string else {
                // Files from models without normalization rules keep an empty charsmap.
                return []
            }
            guard let data = Data(base64Encoded: text), let charsmap = PrecompiledCharsmap(Array(data)) else {
                throw malformed("\(place).precompiled_charsmap is not a SentencePiece normalization table")
            }
            return [.precompiled(charsmap)]
        case "Replace":
            let content = value["content"]?.string ?? ""
            if let literal = value["pattern"]?["String"]?.string { return [.replaceLiteral(literal, with: content)] }
            guard let pattern = value["pattern"]?["Regex"]?.string else {
                throw malformed("\(place).pattern should be a String or a Regex")
            }
            do { return [.replaceRegex(try NSRegularExpression(pattern: pattern), with: content)] } catch {
                throw unsupported("\(place) replaces the regular expression \(pattern), which Lantern cannot compile")
            }
        case "Strip":
            return [.strip(left: value["left"]?.bool ?? true, right: value["right"]?.bool ?? true)]
        case let type:
            throw unsupported(
                "normalizer \"\(type ?? "?")\" at \(place) is not implemented for Unigram (T5 files use Precompiled and Replace)")
        }
    }
}
