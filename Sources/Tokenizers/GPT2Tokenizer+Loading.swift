import Foundation
import Tensors

// MARK: - Loading GPT-2 tokenizer files

/// The same two files go by two sets of names: Hugging Face's `vocab.json` +
/// `merges.txt` and OpenAI's `encoder.json` + `vocab.bpe`. Hugging Face's
/// `tokenizer.json` holds both in one JSON document, plus added tokens.
extension GPT2Tokenizer {
    /// Loads a vocabulary JSON (`vocab.json` or `encoder.json`: piece → id) and
    /// a merges text file (`merges.txt` or `vocab.bpe`: one "left right" rule
    /// per line in rank order, after an optional `#version` line).
    /// - Throws: `TokenizerError` naming the file and the problem.
    public static func load(vocabulary vocabularyURL: URL, merges mergesURL: URL) throws -> GPT2Tokenizer {
        let vocabulary = try decodeJSON([String: Int].self, from: vocabularyURL)
        let rules = try parseMerges(readText(mergesURL), path: mergesURL.path)
        return try GPT2Tokenizer(
            vocabulary: vocabulary, mergeRules: rules, specialTokens: nil,
            vocabularyFile: vocabularyURL.path, mergesFile: mergesURL.path)
    }

    /// Loads a Hugging Face `tokenizer.json` whose model is byte-level BPE:
    /// `model.vocab`, `model.merges` (as "a b" strings or ["a", "b"] pairs)
    /// and `added_tokens`, which become special tokens matched in text.
    /// - Throws: `TokenizerError` naming the file and the problem.
    public static func load(tokenizerJSON url: URL) throws -> GPT2Tokenizer {
        let document = try decodeJSON(TokenizerJSON.self, from: url)
        let model = document.model
        if let type = model.type, type != "BPE" {
            throw TokenizerError.unsupportedModel(path: url.path, reason: "model.type is \"\(type)\", not \"BPE\"")
        }
        if let preTokenizer = document.preTokenizer, !preTokenizer.containsByteLevel {
            throw TokenizerError.unsupportedModel(
                path: url.path, reason: "pre_tokenizer is \"\(preTokenizer.type)\", not \"ByteLevel\"")
        }
        // Lantern splits text with GPT-2's own pattern; a file that asks for another split (a
        // Llama 3 or Qwen regex before a regex-free ByteLevel), a prefix space or a normalizer
        // would be tokenized differently from its model's training, silently: refuse it by name.
        if let problem = document.preTokenizer?.differenceFromGPT2 ?? document.normalizerDifference {
            throw TokenizerError.unsupportedModel(
                path: url.path, reason: "\(problem) is not supported: Lantern's byte-level BPE splits text exactly as GPT-2 does")
        }
        guard let vocabulary = model.vocab else {
            throw TokenizerError.malformedJSON(path: url.path, reason: "model.vocab is missing")
        }
        var rules: [MergeRule] = []
        for (index, merge) in (model.merges ?? []).enumerated() {
            // Report merges by their 1-based position in model.merges.
            guard merge.pieces.count == 2 else {
                throw TokenizerError.malformedMerge(
                    path: url.path, line: index + 1,
                    text: merge.pieces.joined(separator: " "))
            }
            rules.append(MergeRule(left: merge.pieces[0], right: merge.pieces[1], line: index + 1))
        }
        var specials: [String: Int] = [:]
        for token in document.addedTokens ?? [] { specials[token.content] = token.id }
        if specials.isEmpty, let id = vocabulary[endOfTextPiece] { specials[endOfTextPiece] = id }
        // The post-processor (RoBERTa's and BART's <s> $A </s>) and the added tokens that take
        // the whitespace beside them (BART's <mask>).
        let value = try readJSONDocument(url)
        let template = try TokenizerJSONReader(document: value, path: url.path).postProcessorTemplate()
        var stripsLeft = Set<Int>(), stripsRight = Set<Int>()
        for item in value["added_tokens"]?.array ?? [] {
            guard let id = item["id"]?.int else { continue }
            if item["lstrip"]?.bool == true { stripsLeft.insert(id) }
            if item["rstrip"]?.bool == true { stripsRight.insert(id) }
        }
        return try GPT2Tokenizer(
            vocabulary: vocabulary, mergeRules: rules, specialTokens: specials,
            vocabularyFile: url.path, mergesFile: url.path, template: template, stripsLeft: stripsLeft, stripsRight: stripsRight)
    }

    /// The file sets a model folder may hold, in the order they are tried.
    public static let folderLayouts: [[String]] = [
        ["tokenizer.json"],
        ["vocab.json", "merges.txt"],
        ["encoder.json", "vocab.bpe"]
    ]

    /// Loads from a model folder: `tokenizer.json` if present, else
    /// `vocab.json` + `merges.txt`, else `encoder.json` + `vocab.bpe`.
    /// - Throws: `TokenizerError.noTokenizerFiles` when none is there, or the
    ///   loader's error for the files found.
    public static func load(folder: URL) throws -> GPT2Tokenizer {
        let fileManager = FileManager.default
        var isFolder: ObjCBool = false
        guard fileManager.fileExists(atPath: folder.path, isDirectory: &isFolder) else {
            throw TokenizerError.fileNotFound(path: folder.path)
        }
        guard isFolder.boolValue else {
            throw TokenizerError.unreadable(path: folder.path, reason: "not a folder")
        }
        for layout in folderLayouts {
            let urls = layout.map { folder.appendingPathComponent($0) }
            let present = urls.filter { fileManager.fileExists(atPath: $0.path) }
            if present.isEmpty { continue }
            // Half a pair is more likely a failed download than another layout: say which file is missing.
            if let missing = urls.first(where: { !fileManager.fileExists(atPath: $0.path) }) {
                throw TokenizerError.fileNotFound(path: missing.path)
            }
            return urls.count == 1
                ? try load(tokenizerJSON: urls[0])
                : try load(vocabulary: urls[0], merges: urls[1])
        }
        throw TokenizerError.noTokenizerFiles(folder: folder.path)
    }

    // MARK: Merges text

    /// One rule per line; blank lines are skipped and a first line starting
    /// with `#version` is a header. Lines split at U+000A only (a "\r" before
    /// it is dropped), never at the Unicode line breaks Swift's `String` knows.
    static func parseMerges(_ text: String, path: String) throws -> [MergeRule] {
        var rules: [MergeRule] = []
        for (index, rawLine) in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            var line = rawLine
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            let lineText = String(decoding: line, as: UTF8.self)
            if line.isEmpty || (index == 0 && lineText.hasPrefix("#version")) { continue }
            let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TokenizerError.malformedMerge(path: path, line: index + 1, text: lineText)
            }
            rules.append(
                MergeRule(
                    left: String(decoding: parts[0], as: UTF8.self),
                    right: String(decoding: parts[1], as: UTF8.self), line: index + 1))
        }
        return rules
    }
}

// MARK: - tokenizer.json shape

/// The parts of Hugging Face's `tokenizer.json` this loader reads; the rest
/// (normalizer, post-processor, decoder…) is ignored.
private struct TokenizerJSON: Decodable {
    var model: Model
    var addedTokens: [AddedToken]?
    var preTokenizer: PreTokenizer?
    var normalizer: Component?

    enum CodingKeys: String, CodingKey {
        case model, normalizer
        case addedTokens = "added_tokens"
        case preTokenizer = "pre_tokenizer"
    }

    /// Any component's type, for naming it.
    struct Component: Decodable {
        var type: String
    }

    /// GPT-2's tokenizer.json has no normalizer.
    var normalizerDifference: String? { normalizer.map { "normalizer \"\($0.type)\"" } }

    struct Model: Decodable {
        var type: String?
        var vocab: [String: Int]?
        var merges: [MergeEntry]?
    }

    struct AddedToken: Decodable {
        var id: Int
        var content: String
    }

    struct PreTokenizer: Decodable {
        var type: String
        var pretokenizers: [PreTokenizer]?
        var useRegex: Bool?
        var addPrefixSpace: Bool?

        enum CodingKeys: String, CodingKey {
            case type, pretokenizers
            case useRegex = "use_regex"
            case addPrefixSpace = "add_prefix_space"
        }

        /// GPT-2 style files have ByteLevel alone or inside a Sequence.
        var containsByteLevel: Bool {
            type == "ByteLevel" || (pretokenizers ?? []).contains { $0.containsByteLevel }
        }

        /// What differs from GPT-2's pre-tokenizer (ByteLevel with its regex, no prefix space), or nil.
        var differenceFromGPT2: String? {
            switch type {
            case "ByteLevel":
                if useRegex == false { return "pre_tokenizer ByteLevel with use_regex: false (the text split by another rule)" }
                if addPrefixSpace == true { return "pre_tokenizer ByteLevel with add_prefix_space: true" }
                return nil
            case "Sequence":
                let parts = pretokenizers ?? []
                if parts.count == 1 { return parts[0].differenceFromGPT2 }
                return "pre_tokenizer Sequence of \(parts.map(\.type).joined(separator: " + "))"
            default:
                return "pre_tokenizer \"\(type)\""
            }
        }
    }

    /// Older files write a merge as "a b"; newer ones as ["a", "b"] so that
    /// pieces may hold spaces.
    struct MergeEntry: Decodable {
        var pieces: [String]

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                pieces = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            } else {
                pieces = try container.decode([String].self)
            }
        }
    }
}

// MARK: - File reading

/// Reads a whole file, turning every failure into a `TokenizerError` that names it.
func readData(_ url: URL) throws -> Data {
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw TokenizerError.fileNotFound(path: url.path)
    }
    do { return try RegularFile.read(url) } catch {
        throw TokenizerError.unreadable(path: url.path, reason: error.reason)
    }
}

private func readText(_ url: URL) throws -> String {
    let data = try readData(url)
    guard let text = String(data: data, encoding: .utf8) else {
        throw TokenizerError.unreadable(path: url.path, reason: "not UTF-8 text")
    }
    return text
}

private func decodeJSON<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
    let data = try readData(url)
    do {
        return try JSONDecoder().decode(type, from: data)
    } catch {
        throw TokenizerError.malformedJSON(path: url.path, reason: PlainError.decoding(error, in: data))
    }
}
