// MARK: - GPT-2 pre-tokenisation

/// Splits text into the "words" GPT-2 runs BPE on, exactly as the regex
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// would (leftmost alternative wins at each position), written as a scanner
/// over Unicode scalars so it is easy to follow and fast without a regex
/// engine. Letters are general category L*, numbers N*, and whitespace is the
/// Unicode White_Space property, which is what `\s` means in the `regex`
/// module OpenAI's encoder uses and in Hugging Face's tokenizers (U+001C…U+001F
/// are *not* whitespace there, unlike Python's built-in `re`).
public enum GPT2PreTokenizer {
    enum Kind: UInt8 { case letter, number, space, other }

    /// The words of `text`, in order; joined they give `text` back. Special
    /// tokens are not treated specially here (the tokenizer cuts them out first).
    public static func words(in text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        let kinds = scalars.map(kind(of:))
        return split(scalars, kinds: kinds, in: 0..<scalars.count).map { range in
            var word = String.UnicodeScalarView()
            word.append(contentsOf: scalars[range])
            return String(word)
        }
    }

    /// Word boundaries within `range` of `scalars` (whose classes are
    /// `kinds`), as half-open index ranges that cover `range` in order.
    static func split(_ scalars: [Unicode.Scalar], kinds: [Kind], in range: Range<Int>) -> [Range<Int>] {
        var words: [Range<Int>] = []
        var start = range.lowerBound
        while start < range.upperBound {
            let end = wordEnd(scalars, kinds, from: start, limit: range.upperBound)
            words.append(start..<end)
            start = end
        }
        return words
    }

    /// Where the word starting at `start` ends (the text stops at `limit`);
    /// one step per alternative of the regex, in the regex's order.
    private static func wordEnd(_ scalars: [Unicode.Scalar], _ kinds: [Kind], from start: Int, limit: Int) -> Int {
        // 's 't 're 've 'm 'll 'd: only the ASCII apostrophe, lower case.
        if scalars[start] == "'", let length = contractionLength(scalars, after: start, limit: limit) {
            return start + 1 + length
        }

        // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": an optional single
        // U+0020 glued to the front of a run of one kind.
        var runStart = start
        if scalars[start] == " ", start + 1 < limit, kinds[start + 1] != .space {
            runStart = start + 1
        }
        let runKind = kinds[runStart]
        if runKind != .space {
            var end = runStart + 1
            while end < limit, kinds[end] == runKind { end += 1 }
            return end
        }

        // "\s+(?!\S)" then "\s+": a run of whitespace. When a non-space follows
        // it, the lookahead makes the run give up its last character, which
        // starts the next match (a U+0020 joins the word, as in " Hello";
        // anything else stands alone). A run of one keeps its character.
        var end = start + 1
        while end < limit, kinds[end] == .space { end += 1 }
        if end < limit, end - start > 1 { return end - 1 }
        return end
    }

    /// Length after the apostrophe of a contraction suffix at `apostrophe`, if any.
    private static func contractionLength(_ scalars: [Unicode.Scalar], after apostrophe: Int, limit: Int) -> Int? {
        let next = apostrophe + 1
        guard next < limit else { return nil }
        switch scalars[next] {
        case "s", "t", "m", "d":
            return 1
        case "r", "v", "l":
            let expected: Unicode.Scalar = scalars[next] == "l" ? "l" : "e"
            return next + 1 < limit && scalars[next + 1] == expected ? 2 : nil
        default:
            return nil
        }
    }

    // MARK: Character classes

    /// ASCII is most text; a table keeps it off the Unicode property lookups.
    private static let asciiKinds: [Kind] = (0..<128).map { kindFromProperties(Unicode.Scalar(UInt8($0))) }

    static func kind(of scalar: Unicode.Scalar) -> Kind {
        scalar.value < 128 ? asciiKinds[Int(scalar.value)] : kindFromProperties(scalar)
    }

    private static func kindFromProperties(_ scalar: Unicode.Scalar) -> Kind {
        let properties = scalar.properties
        if properties.isWhitespace { return .space }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }
}
