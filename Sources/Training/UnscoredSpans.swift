import Tokenizers

/// Spans of training text that a model reads but is not trained to write, marked in the text
/// with U+E000 before and U+E001 after (two private-use characters, never in ordinary text).
///
/// Why: a copying document's first copy of letter soup, or the first mention of a word the model
/// has never seen, teaches a next-token model to *write* such things unprompted; what should be
/// learnt is only what comes after them (the copy, the story going on). The tokens inside a span
/// stay in the context but get no loss (target −1), as Hugging Face's `labels = -100` does.
/// `lantern corpus --mark-unscored` writes the marks; text without marks trains as before.
public enum UnscoredSpans {
    public static let open: Character = "\u{E000}"
    public static let close: Character = "\u{E001}"

    /// `text` wrapped in the marks.
    public static func mark(_ text: String) -> String { "\(open)\(text)\(close)" }

    /// `text` without its marks (what a tokenizer trains on and what a reader sees).
    public static func strip(_ text: String) -> String {
        guard containsMarks(text) else { return text }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.filter { $0 != "\u{E000}" && $0 != "\u{E001}" })
        return String(scalars)
    }

    public static func containsMarks(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0 == "\u{E000}" || $0 == "\u{E001}" }
    }

    /// The text between the marks in order, each run with whether it is scored.
    /// - Throws: `TrainingError.unbalancedUnscoredMark` at the first mark out of place (an open
    ///   inside a span, a close outside one) or a span left open.
    public static func runs(of text: String) throws(TrainingError) -> [(text: Substring, scored: Bool)] {
        var runs: [(text: Substring, scored: Bool)] = []
        // By Unicode scalar: a mark followed by a combining mark is one Character, still a mark.
        let scalars = text.unicodeScalars
        var start = scalars.startIndex, inside = false, byteOffset = 0, openedAt = 0
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let scalar = scalars[index]
            if scalar == "\u{E000}" || scalar == "\u{E001}" {
                guard (scalar == "\u{E000}") != inside else { throw .unbalancedUnscoredMark(byteOffset: byteOffset) }
                if start < index { runs.append((text[start..<index], !inside)) }
                inside.toggle()
                if inside { openedAt = byteOffset }
                start = scalars.index(after: index)
            }
            byteOffset += UTF8.width(scalar)
            index = scalars.index(after: index)
        }
        guard !inside else { throw .unbalancedUnscoredMark(byteOffset: openedAt) }
        if start < scalars.endIndex { runs.append((text[start...], true)) }
        return runs
    }

    /// The ids of `text` and, when it has marks, whether each id is scored (nil when it has none:
    /// then every id is, and the ids are exactly `tokenizer.encode(text)`). Each run is encoded on
    /// its own, so put marks where words begin (before a word's leading space), where a
    /// byte-level BPE splits anyway.
    public static func tokens(of text: String, tokenizer: any Tokenizer) throws(TrainingError) -> (ids: [Int32], scored: [Bool]?) {
        guard containsMarks(text) else { return (tokenizer.encode(text).map(Int32.init), nil) }
        var ids: [Int32] = [], scored: [Bool] = []
        for run in try runs(of: text) {
            let encoded = tokenizer.encode(String(run.text))
            ids += encoded.map(Int32.init)
            scored += repeatElement(run.scored, count: encoded.count)
        }
        return (ids, scored)
    }
}
