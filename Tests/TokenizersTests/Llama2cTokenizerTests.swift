import Foundation
import XCTest
@testable import Tokenizers

/// llama2.c's tokenizer on the real stories260K vocabulary (tok512.bin).
final class Llama2cTokenizerTests: XCTestCase {
    func testLoadsTheVocabulary() throws {
        let tokenizer = try SharedData.tok512()
        XCTAssertEqual(tokenizer.vocabularySize, 512)
        XCTAssertEqual(tokenizer.maxTokenLength, 7)
        XCTAssertEqual(tokenizer.beginningOfText, 1)
        XCTAssertEqual(tokenizer.endOfText, 2)
        XCTAssertEqual(tokenizer.pieces[1], Array("\n<s>\n".utf8))
        XCTAssertEqual(tokenizer.pieces[3], Array("<0x00>".utf8))
        XCTAssertEqual(tokenizer.pieces[259], Array(" t".utf8))
        XCTAssertEqual(tokenizer.scores[260], -1)
    }

    /// The model's greedy output, decoded piece by piece as llama2.c prints it,
    /// is the reference text byte for byte.
    func testGreedyContinuationDecodesToTheReferenceText() throws {
        let tokenizer = try SharedData.tok512()
        let idsText = try String(contentsOf: SharedData.file("stories260K/greedy-from-bos-200.ids"), encoding: .utf8)
        var ids = idsText.split(whereSeparator: { $0.isWhitespace }).compactMap { Int($0) }
        XCTAssertEqual(ids.count, 200)
        if ids.first == tokenizer.beginningOfText { ids.removeFirst() }
        let expected = try [UInt8](Data(contentsOf: SharedData.file("stories260K/greedy-from-bos-200.txt")))

        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var text = ""
        for id in ids { text += decoder.push(id) }
        text += decoder.finish()
        XCTAssertEqual(Array(text.utf8), expected)
        XCTAssertTrue(text.hasPrefix(" Once upon a time, there was a little girl named Lily."))
    }

    /// Ids from llama2.c's encode algorithm (run.c) on the same vocabulary.
    func testEncodesLikeRunC() throws {
        let tokenizer = try SharedData.tok512()
        let cases: [(String, [Int])] = [
            (
                "Once upon a time, there was a little girl named Lily.",
                [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426]
            ),
            (
                "Tom and Sue played with a big red ball in the park!",
                [1, 274, 287, 269, 301, 425, 411, 337, 266, 335, 261, 370, 352, 266, 268, 388, 322, 265, 282, 295, 433, 443]
            ),
            (
                "She said: \"Don't be sad.\"\nThey hugged.",
                [1, 338, 336, 467, 313, 455, 289, 439, 413, 329, 296, 418, 426, 436, 13, 434, 260, 422, 270, 425, 428, 428, 266, 426]
            ),
            // é, —, 😀 and ï are not pieces: they fall back to <0xXX> byte ids (byte + 3).
            ("café — 😀 naïve", [1, 280, 412, 431, 485, 410, 481, 410, 243, 162, 155, 131, 297, 412, 198, 178, 360]),
            ("  two  spaces ", [1, 410, 410, 259, 424, 414, 410, 262, 427, 412, 331, 419, 410]),
            ("", [1])
        ]
        for (text, ids) in cases {
            XCTAssertEqual(tokenizer.encode(text), ids, "\"\(escaped(text))\"")
        }
        XCTAssertEqual(tokenizer.encode("hi", bos: false, eos: true), [270, 417, 2])
        XCTAssertEqual(tokenizer.encode("", bos: false, eos: false), [])
    }

    /// A made-up vocabulary where many joins score the same, so the order of
    /// equal-score joins (leftmost first, one at a time) decides the result.
    /// Expected ids from run.c's O(n²) loop, transcribed to Python.
    func testTiesJoinLeftmostFirst() throws {
        let extra = ["a", "b", " ", "ab", "ba", "aa", "bb", "aba", "bab", " a", " b", "abab", "aaa", " ab", "bba", "  "]
        let extraScores: [Float] = [0, 0, 0, -1, -1, -1, -1, -2, -2, -1, -1, -3, -2, -2, -2, -1]
        let pieces =
            ["<unk>", "\n<s>\n", "\n</s>\n"].map { Array($0.utf8) }
            + (0..<256).map { Array(PieceDisplay.byteName(UInt8($0)).utf8) } + extra.map { Array($0.utf8) }
        let scores = [Float](repeating: 0, count: 259) + extraScores
        let tokenizer = try Llama2cTokenizer(pieces: pieces, scores: scores)
        let cases: [(String, [Int])] = [
            ("a  b   aabba a", [1, 268, 274, 260, 274, 268, 262, 263, 268]),
            ("a    a bbb a   a   b  b", [1, 268, 274, 274, 259, 269, 265, 268, 274, 268, 274, 269, 274, 260]),
            ("   abb   a a baa ", [1, 274, 274, 262, 260, 274, 268, 268, 269, 264, 261]),
            (" ba b    aab  ", [1, 274, 263, 269, 274, 274, 264, 260, 274]),
            ("   aa a   b   aa    bbaaa  a ", [1, 274, 274, 264, 268, 274, 269, 274, 268, 259, 274, 274, 265, 271, 274, 259, 261]),
            ("b b   a bb b b  ", [1, 269, 269, 274, 268, 269, 260, 269, 269, 274])
        ]
        for (text, ids) in cases {
            XCTAssertEqual(tokenizer.encode(text), ids, "\"\(text)\"")
        }
    }

    func testPlainSentencesRoundTrip() throws {
        let tokenizer = try SharedData.tok512()
        for text in [
            "Once upon a time, there was a little girl named Lily.",
            "The cat sat on the mat. It was happy!",
            "\"Can I play?\" asked Tim.\nHis mom said yes.",
            "Numbers 1, 2 and 3; symbols #@%; and ünïcödé ✨"
        ] {
            XCTAssertEqual(tokenizer.decode(tokenizer.encode(text), skipSpecialTokens: true), text)
        }
    }

    func testDecodingFollowsRunC() throws {
        let tokenizer = try SharedData.tok512()
        // After <s> a piece drops its leading space (the dummy prefix)…
        XCTAssertEqual(tokenizer.bytes(of: 259, following: 1), Array("t".utf8))
        XCTAssertEqual(tokenizer.bytes(of: 259, following: 260), Array(" t".utf8))
        XCTAssertEqual(tokenizer.bytes(of: 259), Array(" t".utf8))
        // …and <0xXX> pieces are one raw byte.
        XCTAssertEqual(tokenizer.bytes(of: 13), [0x0A])
        XCTAssertEqual(tokenizer.bytes(of: 3 + 0xE2), [0xE2])
        XCTAssertEqual(tokenizer.bytes(of: 512), [])
        XCTAssertEqual(tokenizer.decode([1, 403, 407]), "\n<s>\nOnce upon")
        XCTAssertEqual(tokenizer.decode([1, 403, 407], skipSpecialTokens: true), "Once upon")
    }

    func testStreamingAfterAPromptThatEndsInBOS() throws {
        let tokenizer = try SharedData.tok512()
        var plain = StreamingDecoder(tokenizer: tokenizer)
        XCTAssertEqual(plain.push(403), " Once")
        // As run.c prints it: the first piece after <s> loses its dummy-prefix space.
        var afterBOS = StreamingDecoder(tokenizer: tokenizer, following: tokenizer.beginningOfText)
        XCTAssertEqual(afterBOS.push(403), "Once")
        XCTAssertEqual(afterBOS.push(407), " upon")
    }

    func testDisplayPiece() throws {
        let tokenizer = try SharedData.tok512()
        XCTAssertEqual(tokenizer.displayPiece(0), "<unk>")
        XCTAssertEqual(tokenizer.displayPiece(1), "<s>")
        XCTAssertEqual(tokenizer.displayPiece(2), "</s>")
        XCTAssertEqual(tokenizer.displayPiece(13), "↵")
        XCTAssertEqual(tokenizer.displayPiece(3 + 0xE2), "<0xE2>")
        XCTAssertEqual(tokenizer.displayPiece(259), "␣t")
        XCTAssertEqual(tokenizer.displayPiece(600), "<invalid id 600>")
        XCTAssertTrue(tokenizer.isSpecialToken(1))
        XCTAssertFalse(tokenizer.isSpecialToken(259))
    }

    // MARK: Bad files

    func testTruncatedFilesAreReportedNotCrashed() throws {
        let data = try Data(contentsOf: SharedData.file("stories260K/tok512.bin"))
        // Cuts in the header, in a score, in a length and in a piece's bytes.
        for cut in [0, 2, 4 + 2, 4 + 4 + 1, 4 + 8 + 2, data.count / 2, data.count - 1] {
            XCTAssertThrowsError(try Llama2cTokenizer(data: data.prefix(cut), path: "tok512.bin")) { error in
                guard case TokenizerError.truncated(let path, _, _) = error else {
                    return XCTFail("cut at \(cut): expected .truncated, got \(error)")
                }
                XCTAssertEqual(path, "tok512.bin")
                XCTAssertTrue("\(error)".contains("Hint:"))
            }
        }
    }

    func testAFileCutBetweenRecordsIsCaughtWhenTheSizeIsKnown() throws {
        let data = try Data(contentsOf: SharedData.file("stories260K/tok512.bin"))
        // The first 300 records are 4 + Σ(8 + length) bytes long.
        let full = try Llama2cTokenizer(data: data)
        let boundary = 4 + full.pieces.prefix(300).reduce(0) { $0 + 8 + $1.count }
        XCTAssertEqual(try Llama2cTokenizer(data: data.prefix(boundary)).vocabularySize, 300)
        XCTAssertThrowsError(try Llama2cTokenizer(data: data.prefix(boundary), vocabularySize: 512)) { error in
            guard case TokenizerError.truncated = error else { return XCTFail("got \(error)") }
        }
    }

    func testImpossibleValuesAreReported() throws {
        func int32(_ value: Int32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
        let zeroHeader = Data(int32(0) + [0, 0, 0, 0] + int32(1) + [0x41])
        XCTAssertThrowsError(try Llama2cTokenizer(data: zeroHeader)) { error in
            guard case TokenizerError.invalidBinary(_, 0, _) = error else { return XCTFail("got \(error)") }
        }
        let negativeLength = Data(int32(7) + [0, 0, 0, 0] + int32(-5))
        XCTAssertThrowsError(try Llama2cTokenizer(data: negativeLength)) { error in
            guard case TokenizerError.invalidBinary(_, 8, _) = error else { return XCTFail("got \(error)") }
        }
        // Well-formed records, but no <0xXX> byte pieces: not a llama2.c vocabulary.
        let noBytePieces = Data(int32(7) + [0, 0, 0, 0] + int32(1) + [0x41])
        XCTAssertThrowsError(try Llama2cTokenizer(data: noBytePieces)) { error in
            guard case TokenizerError.invalidVocabulary = error else { return XCTFail("got \(error)") }
        }
    }

    /// A 1 MB piece: the join table used to copy both halves at every cut
    /// (hours for this file); now one pass per piece. Joins still work beside it.
    func testAVeryLongPieceLoadsAndJoins() throws {
        let long = [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)
        let pieces =
            ["<unk>", "\n<s>\n", "\n</s>\n"].map { Array($0.utf8) }
            + (0..<256).map { Array(PieceDisplay.byteName(UInt8($0)).utf8) } + [Array("a".utf8), Array("aa".utf8), long]
        let tokenizer = try Llama2cTokenizer(pieces: pieces, scores: [Float](repeating: 0, count: pieces.count))
        XCTAssertEqual(tokenizer.vocabularySize, 262)
        // " " is the <0x20> byte piece (id 35); "a" + "a" joins into "aa" (id 260).
        XCTAssertEqual(tokenizer.encode("aa", bos: false, eos: false), [35, 260])
    }

    /// Text typed into a running sequence carries no `<s>` (the stepper used to drop it by
    /// checking the model's family).
    func testContinuationsCarryNoBeginningOfSequence() throws {
        let tokenizer = try SharedData.tok512()
        XCTAssertEqual(tokenizer.encode("Once upon").first, 1)
        XCTAssertEqual(tokenizer.encodeContinuation("Once upon"), tokenizer.encode("Once upon", bos: false, eos: false))
    }

    func testMissingFile() {
        XCTAssertThrowsError(try Llama2cTokenizer.load(URL(fileURLWithPath: "/nonexistent/tokenizer.bin"))) { error in
            XCTAssertEqual(error as? TokenizerError, .fileNotFound(path: "/nonexistent/tokenizer.bin"))
        }
    }
}
