// MARK: - Streaming decoding

/// Turns ids into text one at a time, as they are generated. A token may end
/// in the middle of a UTF-8 character (GPT-2 spells many emoji over two or
/// three tokens), so the decoder holds such trailing bytes back until the
/// character is complete. Everything returned by `push` plus `finish()`
/// equals decoding all the bytes at once.
///
///     var decoder = StreamingDecoder(tokenizer: tokenizer)
///     for id in ids { print(decoder.push(id), terminator: "") }
///     print(decoder.finish())
public struct StreamingDecoder: Sendable {
    public let tokenizer: any Tokenizer
    /// Leave out control tokens (`<|endoftext|>`, `<s>`, …) from the text.
    public let skipSpecialTokens: Bool
    /// Bytes of a character that is not complete yet.
    private var pending: [UInt8] = []
    /// The id pushed last: llama2.c decodes a piece differently after `<s>`.
    private var previous: Int?

    /// - Parameters:
    ///   - skipSpecialTokens: leave out control tokens such as `<s>`.
    ///   - previous: the id right before the first one pushed (e.g. the
    ///     prompt's last id, when only generated ids are pushed). llama2.c
    ///     drops the leading space of a piece that follows `<s>`, so pass
    ///     `<s>` here to print a continuation exactly as its `run.c` does.
    public init(tokenizer: any Tokenizer, skipSpecialTokens: Bool = false, following previous: Int? = nil) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
        self.previous = previous
    }

    /// Adds one id; returns the text that is now complete (possibly "").
    /// Bytes that can never become valid UTF-8 come out as U+FFFD right away.
    public mutating func push(_ id: Int) -> String {
        defer { previous = id }
        if skipSpecialTokens && tokenizer.isSpecialToken(id) { return "" }
        pending += tokenizer.bytes(of: id, following: previous)
        let cut = UTF8Bytes.incompleteTailStart(pending) ?? pending.count
        // Cutting just before a lead byte never changes how the bytes before it
        // decode, so the pieces returned add up to decoding everything at once.
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Ends the stream: held-back bytes of an unfinished character come out as U+FFFD.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Bytes held back, waiting for the rest of their character.
    public var pendingBytes: [UInt8] { pending }
}
