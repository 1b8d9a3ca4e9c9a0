import XCTest
@testable import Tokenizers

/// Hand-picked cases for the rules that are easy to get wrong. Expected words
/// come from the regex with Python's `regex` module; expected ids from OpenAI's
/// algorithm run on the released GPT-2 files.
final class GPT2HandCaseTests: XCTestCase {
    // MARK: Pre-tokenisation (no vocabulary needed)

    func testContractionsSplitOffLowerCaseOnly() {
        XCTAssertEqual(
            GPT2PreTokenizer.words(in: "I'm sure they'll say it's fine, we've seen what you'd do; they're right."),
            [
                "I", "'m", " sure", " they", "'ll", " say", " it", "'s", " fine", ",", " we", "'ve",
                " seen", " what", " you", "'d", " do", ";", " they", "'re", " right", "."
            ])
        // Upper-case suffixes are not contractions; apostrophes then join punctuation runs.
        XCTAssertEqual(
            GPT2PreTokenizer.words(in: "DON'T SHOUT'S 'quoted' ''s '"),
            ["DON", "'", "T", " SHOUT", "'", "S", " '", "quoted", "'", " ''", "s", " '"])
    }

    func testRunsOfSpacesLeaveOneSpaceForTheNextWord() {
        XCTAssertEqual(GPT2PreTokenizer.words(in: "a  b   c    d"), ["a", " ", " b", "  ", " c", "   ", " d"])
        XCTAssertEqual(GPT2PreTokenizer.words(in: "    Hello"), ["   ", " Hello"])
    }

    func testTrailingWhitespaceStaysTogether() {
        XCTAssertEqual(GPT2PreTokenizer.words(in: "trailing spaces   "), ["trailing", " spaces", "   "])
        XCTAssertEqual(GPT2PreTokenizer.words(in: "end \n\n"), ["end", " \n\n"])
    }

    func testNewlinesAndTabs() {
        XCTAssertEqual(
            GPT2PreTokenizer.words(in: "line one\nline two\n\n  indented\n\t\ttabbed\r\nwindows"),
            [
                "line", " one", "\n", "line", " two", "\n\n ", " indented", "\n\t", "\t", "tabbed",
                "\r", "\n", "windows"
            ])
    }

    func testNumbersAndOtherScripts() {
        XCTAssertEqual(
            GPT2PreTokenizer.words(in: "x = 1234567890 + 3.14159 - 42nd 2024年"),
            ["x", " =", " 1234567890", " +", " 3", ".", "14159", " -", " 42", "nd", " 2024", "年"])
        // Only U+0020 joins the next word; other whitespace stands alone.
        XCTAssertEqual(
            GPT2PreTokenizer.words(in: "\u{A0}word \u{3000}全角 \u{2028}sep"),
            ["\u{A0}", "word", " ", "\u{3000}", "全角", " ", "\u{2028}", "sep"])
        // ½ Ⅻ ٣ are numbers (No, Nl, Nd); ﬁ is a letter; a combining mark is neither.
        XCTAssertEqual(GPT2PreTokenizer.words(in: "½Ⅻ٣ ﬁ e\u{301}"), ["½Ⅻ٣", " ﬁ", " e", "\u{301}"])
    }

    func testEmptyAndWhitespaceOnlyInputs() {
        XCTAssertEqual(GPT2PreTokenizer.words(in: ""), [])
        XCTAssertEqual(GPT2PreTokenizer.words(in: " "), [" "])
        XCTAssertEqual(GPT2PreTokenizer.words(in: "\t\n "), ["\t\n "])
    }

    // MARK: Encoding with the released vocabulary

    func testHandCasesEncodeLikeTheReference() throws {
        let tokenizer = try SharedData.gpt2()
        let cases: [(String, [Int])] = [
            (
                "I'm sure they'll say it's fine, we've seen what you'd do; they're right.",
                [40, 1101, 1654, 484, 1183, 910, 340, 338, 3734, 11, 356, 1053, 1775, 644, 345, 1549, 466, 26, 484, 821, 826, 13]
            ),
            ("DON'T SHOUT'S 'quoted' ''s '", [41173, 6, 51, 6006, 12425, 6, 50, 705, 421, 5191, 6, 10148, 82, 705]),
            ("a  b   c    d", [64, 220, 275, 220, 220, 269, 220, 220, 220, 288]),
            ("trailing spaces   ", [9535, 4386, 9029, 220, 220, 220]),
            (
                "line one\nline two\n\n  indented\n\t\ttabbed\r\nwindows",
                [1370, 530, 198, 1370, 734, 628, 220, 773, 4714, 198, 197, 197, 8658, 3077, 201, 198, 28457]
            ),
            (
                "x = 1234567890 + 3.14159 - 42nd 2024年",
                [87, 796, 17031, 2231, 30924, 3829, 1343, 513, 13, 1415, 19707, 532, 5433, 358, 48609, 33176, 112]
            ),
            ("naïve café ﬁ ½ Ⅻ ٣", [2616, 38776, 40304, 27332, 105, 223, 25208, 2343, 227, 104, 18923, 96]),
            (
                "\u{A0}word \u{3000}全角 \u{2028}sep",
                [1849, 4775, 220, 5099, 222, 17739, 101, 164, 100, 240, 220, 447, 101, 325, 79]
            )
        ]
        for (text, ids) in cases {
            XCTAssertEqual(tokenizer.encode(text), ids, "\"\(escaped(text))\"")
        }
    }

    func testEndOfTextInTheTextIsOneSpecialToken() throws {
        let tokenizer = try SharedData.gpt2()
        XCTAssertEqual(tokenizer.endOfText, 50256)
        XCTAssertEqual(tokenizer.beginningOfText, 50256)
        XCTAssertEqual(tokenizer.vocabularySize, 50257)
        XCTAssertEqual(tokenizer.encode("<|endoftext|>"), [50256])
        XCTAssertEqual(tokenizer.encode("Hello<|endoftext|>World"), [15496, 50256, 10603])
        // Text on each side is pre-tokenised on its own: the spaces before it end a run.
        XCTAssertEqual(tokenizer.encode(" <|endoftext|>  next"), [220, 50256, 220, 1306])
        XCTAssertEqual(tokenizer.encode("end.<|endoftext|><|endoftext|>\n"), [437, 13, 50256, 50256, 198])
        // A combining mark right after it does not hide it (matching is per scalar, not per Character).
        XCTAssertEqual(tokenizer.encode("<|endoftext|>\u{301}").first, 50256)
        // Something that only looks like it is plain text.
        XCTAssertFalse(tokenizer.encode("<|endoftext|").contains(50256))
        XCTAssertTrue(tokenizer.isSpecialToken(50256))
        XCTAssertFalse(tokenizer.isSpecialToken(220))
    }

    func testEmptyTextHasNoTokens() throws {
        let tokenizer = try SharedData.gpt2()
        XCTAssertEqual(tokenizer.encode(""), [])
    }

    // MARK: Display

    func testDisplayPieceMakesWhitespaceAndBytesVisible() throws {
        let tokenizer = try SharedData.gpt2()
        XCTAssertEqual(tokenizer.displayPiece(220), "␣")
        XCTAssertEqual(tokenizer.displayPiece(198), "↵")
        XCTAssertEqual(tokenizer.displayPiece(628), "↵↵")
        XCTAssertEqual(tokenizer.displayPiece(197), "⇥")
        XCTAssertEqual(tokenizer.displayPiece(262), "␣the")
        XCTAssertEqual(tokenizer.displayPiece(50256), "<|endoftext|>")
        XCTAssertEqual(tokenizer.displayPiece(201), "\\u{D}")  // "\r"
        XCTAssertEqual(tokenizer.displayPiece(1849), "\\u{A0}")  // no-break space
        // 8582 is "ðŁ": the first two bytes of a four-byte emoji.
        XCTAssertEqual(tokenizer.bytes(of: 8582), [0xF0, 0x9F])
        XCTAssertEqual(tokenizer.displayPiece(8582), "<0xF0><0x9F>")
        XCTAssertEqual(tokenizer.displayPiece(50257), "<invalid id 50257>")
        XCTAssertEqual(tokenizer.vocabularyPiece(262), "Ġthe")
    }

    func testVisibleHandlesEveryKindOfByteRun() {
        XCTAssertEqual(PieceDisplay.visible(Array(" a\tb\n".utf8)), "␣a⇥b↵")
        XCTAssertEqual(PieceDisplay.visible([0x1B, 0x7F]), "\\u{1B}\\u{7F}")
        XCTAssertEqual(PieceDisplay.visible(Array("€".utf8).dropLast() + [0x41]), "<0xE2><0x82>A")
        XCTAssertEqual(PieceDisplay.visible([0xFF, 0xC0, 0x80]), "<0xFF><0xC0><0x80>")
        XCTAssertEqual(PieceDisplay.visible([0xED, 0xA0, 0x80]), "<0xED><0xA0><0x80>")  // a surrogate
        XCTAssertEqual(PieceDisplay.visible(Array("日本 😀".utf8)), "日本␣😀")
        XCTAssertEqual(PieceDisplay.visible(Array("\u{200D}".utf8)), "\\u{200D}")
    }
}
