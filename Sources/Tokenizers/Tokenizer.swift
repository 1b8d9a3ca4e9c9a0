/// What the engine needs from any tokenizer (GPT-2 byte-level BPE, llama2.c and
/// Hugging Face Llama SentencePiece-style BPE). `TokenizerLoader` picks one for a model folder.
public protocol Tokenizer: Sendable {
    /// Number of ids, special tokens included.
    var vocabularySize: Int { get }
    /// Id that starts a sequence when the prompt is empty (GPT-2: `<|endoftext|>`; Llama: `<s>`).
    var beginningOfText: Int { get }
    /// Id that ends generation (GPT-2: `<|endoftext|>`; Llama: `</s>`).
    var endOfText: Int { get }
    /// Text → ids, exactly as the reference tokenizer does it.
    func encode(_ text: String) -> [Int]
    /// The raw bytes one id stands for (may be part of a UTF-8 character).
    /// Ids outside `0..<vocabularySize` stand for no bytes.
    func bytes(of id: Int) -> [UInt8]
    /// A human-readable form of one id's piece, whitespace made visible (e.g. "␣the", "↵").
    func displayPiece(_ id: Int) -> String

    /// The bytes `id` adds to decoded text when it comes right after `previous`
    /// (`nil` at the start). Most tokenizers ignore `previous`; the SentencePiece
    /// ones drop the leading space of the piece that follows `<s>`. Defaults to `bytes(of:)`.
    func bytes(of id: Int, following previous: Int?) -> [UInt8]
    /// Whether `id` is a control token (`<|endoftext|>`, `<s>`, `</s>`, `<unk>`)
    /// rather than a piece of text. Decoders can skip these. Defaults to `false`.
    func isSpecialToken(_ id: Int) -> Bool
    /// The id that hides a token for a masked-language model to guess (BERT's `[MASK]`); nil
    /// for tokenizers without one (every decoder's). Defaults to nil.
    var maskTokenId: Int? { get }
}

// MARK: - Defaults

extension Tokenizer {
    /// Text to append inside a sequence: the encoding without what the tokenizer puts around
    /// every text (Llama-style tokenizers start with `<s>`, T5's end with `</s>`, BART's do both;
    /// GPT-2's adds nothing). What it puts around is what the empty text encodes to, split into
    /// the part in front and the part behind as this text's ids show.
    public func encodeContinuation(_ text: String) -> [Int] {
        let ids = encode(text), around = encode("")
        guard !around.isEmpty, ids.count >= around.count else { return ids }
        for front in stride(from: around.count, through: 0, by: -1) {
            let prefix = around[..<front], suffix = around[front...]
            if ids.starts(with: prefix) && ids.reversed().starts(with: suffix.reversed()) {
                return Array(ids.dropFirst(prefix.count).dropLast(suffix.count))
            }
        }
        return ids
    }

    public func bytes(of id: Int, following previous: Int?) -> [UInt8] {
        bytes(of: id)
    }

    public func isSpecialToken(_ id: Int) -> Bool {
        false
    }

    public var maskTokenId: Int? { nil }

    /// Ids → text: the pieces' bytes joined and read as UTF-8, with any byte
    /// sequence that is not valid UTF-8 shown as U+FFFD.
    /// - Parameter skipSpecialTokens: leave out control tokens such as `<s>`.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var decoder = StreamingDecoder(tokenizer: self, skipSpecialTokens: skipSpecialTokens)
        var text = ""
        for id in ids { text += decoder.push(id) }
        return text + decoder.finish()
    }
}
