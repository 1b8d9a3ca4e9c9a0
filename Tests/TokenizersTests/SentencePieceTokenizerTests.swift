import Foundation
import XCTest
@testable import Tokenizers

/// The Llama-style tokenizer on the llama-tiny-gqa fixture (320 ids: <unk>,
/// <s>, </s>, <0x00>…<0xFF>, then 26 characters, "▁" and 35 merges) and on
/// the variants of `sentencepiece_cases.json`.
final class SentencePieceTokenizerTests: XCTestCase {
    // MARK: Helpers

    /// A variant's tokenizer from `sentencepiece_cases.json` (see `scripts/make_tokenizer_cases.py`).
    static func variant(_ name: String) throws -> SentencePieceBPETokenizer {
        let url = try Fixtures.llamaFolder.appendingPathComponent("reference/sentencepiece_cases.json")
        let file = try JSONDecoder().decode(SentencePieceReferenceTests.VariantFile.self, from: Data(contentsOf: url))
        let variant = try XCTUnwrap(file.variants.first { $0.name == name }, "no variant \(name)")
        let json = try XCTUnwrap(variant.tokenizerJSON, "variant \(name) has no tokenizer_json")
        return try SentencePieceBPETokenizer(tokenizerJSON: Data(json.utf8), path: name)
    }

    /// The fixture's tokenizer.json as a dictionary (its pieces have no
    /// canonically equivalent pairs, so `JSONSerialization` keeps them all).
    static func llamaDocument() throws -> [String: Any] {
        let url = try Fixtures.llamaFolder.appendingPathComponent("tokenizer.json")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    /// The fixture's tokenizer.json with some top-level entries replaced.
    static func fixtureVariant(_ changes: [String: Any]) throws -> SentencePieceBPETokenizer {
        var document = try llamaDocument()
        for (key, value) in changes { document[key] = value }
        return try SentencePieceBPETokenizer(tokenizerJSON: JSONSerialization.data(withJSONObject: document))
    }

    /// Building blocks for generated texts: runs of spaces, leading and
    /// trailing spaces, line breaks, emoji, CJK and accents (all beyond the
    /// fixture's 26 letters, so they take the byte fallback), digits, controls.
    static let fragments: [String] = [
        "the", "The", "and", "book", "robot", "teacher", "look", "a", "ing", "st", "Once", "upon",
        " ", " ", " ", "  ", "   ", "\n", "\n\n", "\t", "\r\n",
        ".", ",", "!", "?", "'", "\"", "-", "0", "42", "3.14",
        "é", "e\u{301}", "ï", "—", "ß", "Ω", "я", "日本", "中文", "한국어", "😀", "👍🏽", "🇫🇷", "👨‍👩‍👧", "𝄞",
        "\u{A0}", "\u{3000}", "\u{200B}", "\u{0}", "\u{1B}", "\u{7F}", "\u{10FFFD}"
    ]

    static func generatedStrings(count: Int, seed: UInt64) -> [String] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            let length = Int.random(in: 0...24, using: &generator)
            return (0..<length).map { _ in fragments.randomElement(using: &generator)! }.joined()
        }
    }

    // MARK: Loading

    func testLoadsTheFixture() throws {
        let tokenizer = try Fixtures.llama()
        XCTAssertEqual(tokenizer.vocabularySize, 320)
        XCTAssertEqual(tokenizer.beginningOfText, 1)
        XCTAssertEqual(tokenizer.endOfText, 2)
        XCTAssertNil(tokenizer.unknown)  // the fixture's unk_token is null
        XCTAssertEqual(tokenizer.prefixIds, [1])
        XCTAssertEqual(tokenizer.suffixIds, [])
        XCTAssertEqual(tokenizer.addedTokens, ["<unk>": 0, "<s>": 1, "</s>": 2])
        XCTAssertEqual(tokenizer.vocabularyPiece(13), "<0x0A>")
        XCTAssertEqual(tokenizer.vocabularyPiece(284), "▁")
        XCTAssertEqual(tokenizer.vocabularyPiece(287), "▁the")
        XCTAssertNil(tokenizer.vocabularyPiece(320))
        for id in 0...2 { XCTAssertTrue(tokenizer.isSpecialToken(id), "\(id)") }
        for id in [3, 13, 259, 284, 287, 319, 320, -1] { XCTAssertFalse(tokenizer.isSpecialToken(id), "\(id)") }
    }

    func testEncodingWithoutTheTemplate() throws {
        let tokenizer = try Fixtures.llama()
        // "Hello world" from tokenizer_cases.json, without the <s> in front.
        XCTAssertEqual(
            tokenizer.encode("Hello world", addSpecialTokens: false),
            [284, 75, 266, 272, 272, 275, 293, 275, 277, 272, 265])
        XCTAssertEqual(tokenizer.encode("", addSpecialTokens: false), [])
        XCTAssertEqual(tokenizer.encode(""), [1])
        // A control token written in the text is still matched.
        XCTAssertEqual(tokenizer.encode("</s>", addSpecialTokens: false), [2])
    }

    // MARK: Decoding

    func testDecodingPieces() throws {
        let tokenizer = try Fixtures.llama()
        XCTAssertEqual(tokenizer.bytes(of: 284), [0x20])  // "▁"
        XCTAssertEqual(tokenizer.bytes(of: 287), Array(" the".utf8))  // "▁the"
        XCTAssertEqual(tokenizer.bytes(of: 13), [0x0A])  // "<0x0A>"
        XCTAssertEqual(tokenizer.bytes(of: 3 + 0xE2), [0xE2])
        XCTAssertEqual(tokenizer.bytes(of: 1), Array("<s>".utf8))
        XCTAssertEqual(tokenizer.bytes(of: 320), [])
        XCTAssertEqual(tokenizer.bytes(of: -1), [])
        // After <s> a piece loses the space that encoding put in front of the text…
        XCTAssertEqual(tokenizer.bytes(of: 287, following: 1), Array("the".utf8))
        XCTAssertEqual(tokenizer.bytes(of: 284, following: 1), [])
        XCTAssertEqual(tokenizer.bytes(of: 3 + 0x20, following: 1), [])  // <0x20> is a space too
        // …and only there.
        XCTAssertEqual(tokenizer.bytes(of: 287, following: nil), Array(" the".utf8))
        XCTAssertEqual(tokenizer.bytes(of: 287, following: 284), Array(" the".utf8))
        XCTAssertEqual(tokenizer.bytes(of: 287, following: 2), Array(" the".utf8))
        XCTAssertEqual(tokenizer.bytes(of: 13, following: 1), [0x0A])

        XCTAssertEqual(tokenizer.decode([1, 287, 292, 315]), "<s>the book")
        XCTAssertEqual(tokenizer.decode([1, 287, 292, 315], skipSpecialTokens: true), "the book")
        XCTAssertEqual(tokenizer.decode([287, 292, 315]), " the book")
        // "😀" spelled in four byte tokens.
        XCTAssertEqual(tokenizer.decode([1, 284, 3 + 0xF0, 3 + 0x9F, 3 + 0x98, 3 + 0x80], skipSpecialTokens: true), "😀")
    }

    /// Where Lantern's decoding differs from Hugging Face's (which drops the
    /// first space of the whole decoded text): control tokens written in the text.
    func testDecodingAroundControlTokensWrittenInTheText() throws {
        let tokenizer = try Fixtures.llama()
        // Hugging Face: "written" and "special  and  in text".
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("<unk> written"), skipSpecialTokens: true), " written")
        XCTAssertEqual(
            tokenizer.decode(tokenizer.encode("special <s> and </s> in text"), skipSpecialTokens: true),
            "special and  in text")
    }

    func testDisplayPiece() throws {
        let tokenizer = try Fixtures.llama()
        XCTAssertEqual(tokenizer.displayPiece(0), "<unk>")
        XCTAssertEqual(tokenizer.displayPiece(1), "<s>")
        XCTAssertEqual(tokenizer.displayPiece(2), "</s>")
        XCTAssertEqual(tokenizer.displayPiece(284), "␣")
        XCTAssertEqual(tokenizer.displayPiece(287), "␣the")
        XCTAssertEqual(tokenizer.displayPiece(13), "↵")
        XCTAssertEqual(tokenizer.displayPiece(12), "⇥")
        XCTAssertEqual(tokenizer.displayPiece(3 + 0x41), "A")
        XCTAssertEqual(tokenizer.displayPiece(3 + 0xE2), "<0xE2>")
        XCTAssertEqual(tokenizer.displayPiece(320), "<invalid id 320>")
        XCTAssertEqual(tokenizer.displayPiece(-5), "<invalid id -5>")
    }

    func testStreamingAfterAPromptThatEndsInBOS() throws {
        let tokenizer = try Fixtures.llama()
        var afterBOS = StreamingDecoder(tokenizer: tokenizer, following: tokenizer.beginningOfText)
        XCTAssertEqual(afterBOS.push(287), "the")
        XCTAssertEqual(afterBOS.push(292), " b")
        var plain = StreamingDecoder(tokenizer: tokenizer)
        XCTAssertEqual(plain.push(287), " the")
        // A character in byte tokens comes out once complete.
        XCTAssertEqual(plain.push(3 + 0xE6), "")
        XCTAssertEqual(plain.push(3 + 0x97), "")
        XCTAssertEqual(plain.push(3 + 0xA5), "日")
    }

    // MARK: Round trips

    /// decode(encode(s)) gives s back. With Metaspace's "first" scheme a text
    /// that starts with a space has no second "▁" put in front (Hugging Face
    /// does the same), so its first space is the one dropped after <s>.
    func testRoundTripsGeneratedStrings() throws {
        let tokenizer = try Fixtures.llama()
        for text in Self.generatedStrings(count: 500, seed: 11) {
            let ids = tokenizer.encode(text)
            XCTAssertEqual(ids.first, 1)
            XCTAssertTrue(ids.allSatisfy { (0..<tokenizer.vocabularySize).contains($0) })
            let expected = text.unicodeScalars.first == " " ? String(text.unicodeScalars.dropFirst()) : text
            XCTAssertEqual(
                Array(tokenizer.decode(ids, skipSpecialTokens: true).utf8), Array(expected.utf8),
                "\"\(escaped(text))\"")
            // Token by token, as generation prints it.
            var decoder = StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: true)
            var streamed = ids.map { decoder.push($0) }.joined()
            streamed += decoder.finish()
            XCTAssertEqual(Array(streamed.utf8), Array(expected.utf8), "\"\(escaped(text))\"")
        }
    }

    /// Older files prepend "▁" to every text, so even leading spaces survive.
    func testLegacyNormalizerRoundTripsEverything() throws {
        let tokenizer = try Self.variant("fixture-legacy-normalizer")
        for text in Self.generatedStrings(count: 500, seed: 12) + ["", " ", "  x", " x ", "\n", " \n "] {
            XCTAssertEqual(
                Array(tokenizer.decode(tokenizer.encode(text), skipSpecialTokens: true).utf8),
                Array(text.utf8), "\"\(escaped(text))\"")
        }
    }

    func testRoundTripsRandomScalars() throws {
        let tokenizer = try Fixtures.llama()
        var generator = SeededGenerator(seed: 13)
        for _ in 0..<300 {
            var scalars = String.UnicodeScalarView()
            scalars.append("x")  // not a space, so nothing is absorbed at the start
            for _ in 0..<Int.random(in: 1...30, using: &generator) {
                let value = UInt32.random(in: 0...0x10FFFF, using: &generator)
                scalars.append(Unicode.Scalar(value) ?? "?")
            }
            // "▁" in the input decodes as a space, and "<s>"-like text is matched: keep them out.
            let text = String(scalars).replacingOccurrences(of: "\u{2581}", with: "_")
                .replacingOccurrences(of: "<", with: "(")
            XCTAssertEqual(
                Array(tokenizer.decode(tokenizer.encode(text), skipSpecialTokens: true).utf8),
                Array(text.utf8), "\"\(escaped(text))\"")
        }
    }

    /// With `split: false` a whole text is one BPE word; a long one is merged
    /// through the queue, and its ids are those of its parts.
    func testLongTextIsOneWord() throws {
        let tokenizer = try Fixtures.llama()
        let unit = tokenizer.encode(" the book", addSpecialTokens: false)
        XCTAssertEqual(unit, [287, 292, 315])
        XCTAssertEqual(
            tokenizer.encode(String(repeating: " the book", count: 5_000)),
            [1] + Array([[Int]](repeating: unit, count: 5_000).joined()))
        // No spaces at all: 20,000 CJK characters, each three byte tokens.
        let cjk = String(repeating: "日本", count: 10_000)
        let ids = tokenizer.encode(cjk)
        XCTAssertEqual(ids.count, 2 + 60_000)
        XCTAssertEqual(Array(ids.prefix(8)), [1, 284, 3 + 0xE6, 3 + 0x97, 3 + 0xA5, 3 + 0xE6, 3 + 0x9C, 3 + 0xAC])
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), cjk)
    }

    // MARK: Other files

    /// "à" (U+00E0) and "a" + U+0300 are equal as Swift Strings but distinct
    /// pieces with distinct ids; both must survive loading.
    func testCanonicallyEquivalentPiecesStayDistinct() throws {
        // This variant puts no "▁" in front, so each text is one piece.
        let tokenizer = try Self.variant("hand-replace-only")
        let precomposed = tokenizer.encode("\u{E0}", addSpecialTokens: false)
        let decomposed = tokenizer.encode("a\u{300}", addSpecialTokens: false)
        XCTAssertEqual(precomposed.count, 1)
        XCTAssertEqual(decomposed.count, 1)
        XCTAssertNotEqual(precomposed, decomposed)
        XCTAssertEqual(tokenizer.vocabularyPiece(precomposed[0])?.unicodeScalars.map(\.value), [0xE0])
        XCTAssertEqual(tokenizer.vocabularyPiece(decomposed[0])?.unicodeScalars.map(\.value), [0x61, 0x300])
        XCTAssertEqual(tokenizer.bytes(of: precomposed[0]), [0xC3, 0xA0])
        XCTAssertEqual(tokenizer.bytes(of: decomposed[0]), [0x61, 0xCC, 0x80])
    }

    func testHandMadeVariants() throws {
        let first = try Self.variant("hand-first")
        XCTAssertEqual(first.unknown, 0)
        XCTAssertEqual(first.prefixIds, [1])
        XCTAssertEqual(first.suffixIds, [2])
        XCTAssertEqual(first.encode("").count, 2)
        // "<extra>" is an added token but not a special one.
        let extra = try XCTUnwrap(first.addedTokens["<extra>"])
        XCTAssertFalse(first.isSpecialToken(extra))
        XCTAssertEqual(first.displayPiece(extra), "<extra>")
        XCTAssertTrue(first.isSpecialToken(0))

        // Gemma-like: named <bos>/<eos>, and no "▁" in front, so no space to drop.
        let gemma = try Self.variant("hand-replace-only")
        XCTAssertEqual(gemma.beginningOfText, 2)
        XCTAssertEqual(gemma.endOfText, 1)
        XCTAssertEqual(gemma.encode(" a"), [2, try XCTUnwrap(gemma.encode(" a", addSpecialTokens: false).first)])
        XCTAssertEqual(gemma.decode(gemma.encode(" a b"), skipSpecialTokens: true), " a b")
        XCTAssertEqual(gemma.decode(gemma.encode("a b"), skipSpecialTokens: true), "a b")
    }

    /// The ids the post-processor adds (checked against Hugging Face by hand:
    /// [1, 287] and [1, 287, 2]).
    func testPostProcessors() throws {
        let template = try XCTUnwrap(Self.llamaDocument()["post_processor"])
        let sequence = try Self.fixtureVariant([
            "post_processor": [
                "type": "Sequence",
                "processors": [
                    ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true], template
                ]
            ]
        ])
        XCTAssertEqual(sequence.encode("the"), [1, 287])
        let roberta = try Self.fixtureVariant([
            "post_processor": [
                "type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 1], "trim_offsets": true
            ]
        ])
        XCTAssertEqual(roberta.encode("the"), [1, 287, 2])
        XCTAssertEqual(roberta.prefixIds, [1])
        XCTAssertEqual(roberta.suffixIds, [2])
        let none = try Self.fixtureVariant(["post_processor": NSNull()])
        XCTAssertEqual(none.encode("the"), [287])
        XCTAssertEqual(none.beginningOfText, 1)  // still <s>, found by name
        XCTAssertThrowsError(try Self.fixtureVariant(["post_processor": ["type": "Sequence", "processors": [template, template]]])) {
            guard case TokenizerError.unsupportedModel = $0 else { return XCTFail("got \($0)") }
        }
    }

    /// The decoder decides whether a space is dropped after <s>.
    func testDecoderDecidesTheDroppedSpace() throws {
        let keeps = try Self.fixtureVariant(["decoder": ["type": "Metaspace", "replacement": "▁", "prepend_scheme": "never"]])
        XCTAssertEqual(keeps.bytes(of: 287, following: 1), Array(" the".utf8))
        let strips = try Self.fixtureVariant(["decoder": ["type": "Metaspace", "replacement": "▁", "prepend_scheme": "first"]])
        XCTAssertEqual(strips.bytes(of: 287, following: 1), Array("the".utf8))
        // No decoder: drop it when encoding put one in front.
        let inferred = try Self.fixtureVariant(["decoder": NSNull()])
        XCTAssertEqual(inferred.bytes(of: 287, following: 1), Array("the".utf8))
        let never = try Self.fixtureVariant([
            "decoder": NSNull(),
            "pre_tokenizer": ["type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": false]
        ])
        XCTAssertEqual(never.bytes(of: 287, following: 1), Array(" the".utf8))
        XCTAssertEqual(never.encode("the"), [1, 279, 286])  // "t" "he": no "▁" in front
    }

    /// Without byte tokens or <unk>, a character the vocabulary lacks is left
    /// out, as Hugging Face does.
    func testUnknownCharactersWithoutFallbackAreDropped() throws {
        var document = try Self.llamaDocument()
        var model = try XCTUnwrap(document["model"] as? [String: Any])
        model["byte_fallback"] = false
        document["model"] = model
        let noFallback = try SentencePieceBPETokenizer(tokenizerJSON: JSONSerialization.data(withJSONObject: document))
        XCTAssertEqual(noFallback.encode("a日b"), [1, 288, 263])  // "▁a" "b"
        // With <unk>: one per unknown character, or one per run with fuse_unk.
        model["unk_token"] = "<unk>"
        for (fuse, expected) in [(false, [1, 288, 0, 0, 263]), (true, [1, 288, 0, 263])] {
            model["fuse_unk"] = fuse
            document["model"] = model
            let withUnknown = try SentencePieceBPETokenizer(tokenizerJSON: JSONSerialization.data(withJSONObject: document))
            XCTAssertEqual(withUnknown.unknown, 0)
            XCTAssertEqual(withUnknown.encode("a日本b"), expected, "fuse_unk \(fuse)")
            XCTAssertEqual(withUnknown.decode(expected, skipSpecialTokens: true), "ab")
        }
    }
}
