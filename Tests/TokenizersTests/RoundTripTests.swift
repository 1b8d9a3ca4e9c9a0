import XCTest
@testable import Tokenizers

/// decode(encode(s)) gives back s byte for byte, for many generated strings.
final class RoundTripTests: XCTestCase {
    /// Building blocks chosen to stress the rules: every kind of whitespace,
    /// contractions, digits, emoji with ZWJ, flags and skin tones, CJK,
    /// combining marks, right-to-left scripts, control characters and the
    /// special token itself.
    static let fragments: [String] = [
        "a", "Z", "the", " The", "hello", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'",
        " ", " ", " ", "  ", "\n", "\n\n", "\t", "\r\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}",
        "\u{2000}", "\u{3000}", "\u{2028}", "\u{200B}", "\u{FEFF}",
        "0", "7", "42", "2024", "3.14", "½", "Ⅻ", "٣", "²",
        ".", ",", "!?", "...", "--", "(", ")", "\"", "<", ">", "|", "@#$%", "\\",
        "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "🧑‍🌾", "🤗", "✅",
        "中文", "日本語", "한국어", "漢", "ー",
        "é", "e\u{301}", "n\u{303}", "a\u{300}\u{301}\u{302}", "\u{20DD}", "ß", "Ω", "я", "ﬁ", "ǅ",
        "עברית", "العربية", "हिन्दी", "ไทย",
        "\u{0}", "\u{1}", "\u{1B}", "\u{1F}", "\u{7F}", "\u{9F}",
        "\u{10000}", "\u{10FFFD}", "\u{E000}",
        "<|endoftext|>", "<|endof", "|>"
    ]

    static func generatedStrings(count: Int, seed: UInt64) -> [String] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            let length = Int.random(in: 0...40, using: &generator)
            return (0..<length).map { _ in fragments.randomElement(using: &generator)! }.joined()
        }
    }

    func testGPT2RoundTripsGeneratedStrings() throws {
        let tokenizer = try SharedData.gpt2()
        for text in Self.generatedStrings(count: 2_000, seed: 2024) {
            let ids = tokenizer.encode(text)
            XCTAssertTrue(ids.allSatisfy { (0..<tokenizer.vocabularySize).contains($0) })
            XCTAssertEqual(Array(tokenizer.decode(ids).utf8), Array(text.utf8), "\"\(escaped(text))\"")
        }
    }

    func testGPT2RoundTripsRandomScalars() throws {
        // Any scalar at all, not only the fragments above (surrogates excluded: not scalars).
        let tokenizer = try SharedData.gpt2()
        var generator = SeededGenerator(seed: 99)
        for _ in 0..<300 {
            var scalars = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 1...30, using: &generator) {
                let value = UInt32.random(in: 0...0x10FFFF, using: &generator)
                scalars.append(Unicode.Scalar(value) ?? "?")
            }
            let text = String(scalars)
            XCTAssertEqual(
                Array(tokenizer.decode(tokenizer.encode(text)).utf8), Array(text.utf8),
                "\"\(escaped(text))\"")
        }
    }

    func testLlama2cRoundTripsGeneratedStrings() throws {
        let tokenizer = try SharedData.tok512()
        for text in Self.generatedStrings(count: 500, seed: 7) {
            // Without <s>, decoding gives the dummy-prefix space back in front.
            let plain = tokenizer.encode(text, bos: false, eos: false)
            let expected = text.isEmpty ? "" : " " + text
            XCTAssertEqual(Array(tokenizer.decode(plain).utf8), Array(expected.utf8), "\"\(escaped(text))\"")
            // After <s> the dummy space is dropped, as llama2.c prints it.
            let withBOS = tokenizer.encode(text)
            XCTAssertEqual(
                Array(tokenizer.decode(withBOS, skipSpecialTokens: true).utf8), Array(text.utf8),
                "\"\(escaped(text))\"")
        }
    }
}
