import Foundation

/// Why a tokenizer file could not be loaded. Every case names the file (or
/// folder) and the message ends with a hint the user can act on; bad files
/// never crash the program.
public enum TokenizerError: Error, Equatable, Sendable {
    /// The file does not exist.
    case fileNotFound(path: String)
    /// A model folder holds none of the file sets a loader understands.
    case noTokenizerFiles(folder: String)
    /// The file exists but could not be read (permissions, a folder, I/O).
    case unreadable(path: String, reason: String)
    /// The file is not valid JSON, or not JSON of the expected shape.
    case malformedJSON(path: String, reason: String)
    /// A `tokenizer.json` for a model this loader does not implement.
    case unsupportedModel(path: String, reason: String)
    /// The vocabulary is unusable (negative ids, a byte without a token, no end-of-text token…).
    case invalidVocabulary(path: String, reason: String)
    /// A merge rule is not two pieces separated by one space. `line` is the
    /// line in a merges text file, or the 1-based entry of a tokenizer.json's
    /// `model.merges`.
    case malformedMerge(path: String, line: Int, text: String)
    /// A merge rule names a piece (or makes a piece) that the vocabulary does
    /// not hold; `line` as for `malformedMerge`.
    case unknownMergePiece(path: String, line: Int, piece: String)
    /// A binary file ended in the middle of a record.
    case truncated(path: String, offset: Int, reason: String)
    /// A binary file's header or a record holds an impossible value.
    case invalidBinary(path: String, offset: Int, reason: String)

    /// What went wrong, without the hint.
    public var problem: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): file not found"
        case .noTokenizerFiles(let folder):
            return "\(folder): no tokenizer files found"
        case .unreadable(let path, let reason):
            return "\(path): cannot read the file (\(reason))"
        case .malformedJSON(let path, let reason):
            return "\(path): malformed JSON (\(reason))"
        case .unsupportedModel(let path, let reason):
            return "\(path): unsupported tokenizer (\(reason))"
        case .invalidVocabulary(let path, let reason):
            return "\(path): invalid vocabulary (\(reason))"
        case .malformedMerge(let path, let line, let text):
            return "\(mergeLocation(path, line)): malformed merge rule \(quoted(text))"
        case .unknownMergePiece(let path, let line, let piece):
            return "\(mergeLocation(path, line)): merge rule uses piece \(quoted(piece)), which is not in the vocabulary"
        case .truncated(let path, let offset, let reason):
            return "\(path): file ends early at byte \(offset) (\(reason))"
        case .invalidBinary(let path, let offset, let reason):
            return "\(path): invalid value at byte \(offset) (\(reason))"
        }
    }

    /// What the user can do about it.
    public var hint: String {
        switch self {
        case .fileNotFound:
            return
                "check the path; a model folder needs tokenizer.json, vocab.json + merges.txt, encoder.json + vocab.bpe, or tokenizer.bin (llama2.c)"
        case .noTokenizerFiles:
            return
                "put tokenizer.json, vocab.json + merges.txt (Hugging Face), encoder.json + vocab.bpe (OpenAI) or tokenizer.bin (llama2.c) in the folder"
        case .unreadable:
            return "check that the path is a regular file you may read"
        case .malformedJSON:
            return "the file may be truncated or not the file you meant; download it again"
        case .unsupportedModel:
            return
                "Lantern reads byte-level BPE (GPT-2 style), SentencePiece-style BPE (Llama style: \"▁\" for spaces, byte fallback) and WordPiece (BERT style: BertNormalizer, BertPreTokenizer) tokenizers; Unigram models are not supported yet"
        case .invalidVocabulary:
            return "the file may belong to another kind of tokenizer or be edited by hand; use the file that came with the model"
        case .malformedMerge:
            return "each merge line holds exactly two pieces separated by one space, after an optional #version line"
        case .unknownMergePiece:
            return "the merges file does not belong to this vocabulary; use the pair that came together"
        case .truncated:
            return "the file is incomplete; copy or export it again"
        case .invalidBinary:
            return "this does not look like a llama2.c tokenizer.bin; check that you passed the right file"
        }
    }
}

extension TokenizerError: CustomStringConvertible, LocalizedError {
    public var description: String { "\(problem). Hint: \(hint)." }
    public var errorDescription: String? { description }
}

/// "merges.txt:3", or "tokenizer.json (model.merges entry 3)" where lines mean nothing.
private func mergeLocation(_ path: String, _ line: Int) -> String {
    path.hasSuffix(".json") ? "\(path) (model.merges entry \(line))" : "\(path):\(line)"
}

/// A piece of user data quoted with invisible characters escaped, for messages.
private func quoted(_ text: String) -> String {
    "\"" + text.unicodeScalars.map { $0.escaped(asASCII: false) }.joined() + "\""
}
