import XCTest
@testable import Tokenizers

/// A tokenizer whose ids stand for whatever bytes a test wants.
private struct BytesTokenizer: Tokenizer {
    var pieces: [[UInt8]]
    var vocabularySize: Int { pieces.count }
    var beginningOfText: Int { 0 }
    var endOfText: Int { 0 }
    func encode(_ text: String) -> [Int] { [] }
    func bytes(of id: Int) -> [UInt8] { pieces[id] }
    func displayPiece(_ id: Int) -> String { PieceDisplay.visible(pieces[id]) }
    func isSpecialToken(_ id: Int) -> Bool { id == 0 }
}

final class StreamingDecoderTests: XCTestCase {
    /// Pushes every id, collecting what each push returns, then finishes.
    private func stream(_ ids: [Int], _ tokenizer: any Tokenizer, skipSpecialTokens: Bool = false) -> [String] {
        var decoder = StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: skipSpecialTokens)
        return ids.map { decoder.push($0) } + [decoder.finish()]
    }

    func testAMultiByteCharacterSplitAcrossTokensComesOutWhole() {
        // "€" is E2 82 AC; "😀" is F0 9F 98 80.
        let tokenizer = BytesTokenizer(pieces: [
            Array("<s>".utf8), [0x41, 0xE2], [0x82], [0xAC, 0x42],
            [0xF0], [0x9F, 0x98], [0x80]
        ])
        XCTAssertEqual(stream([1, 2, 3, 4, 5, 6], tokenizer), ["A", "", "€B", "", "", "😀", ""])
    }

    func testPendingBytesAreHeldUntilTheCharacterIsComplete() {
        let tokenizer = BytesTokenizer(pieces: [[], [0xE2], [0x82], [0xAC]])
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        XCTAssertEqual(decoder.push(1), "")
        XCTAssertEqual(decoder.pendingBytes, [0xE2])
        XCTAssertEqual(decoder.push(2), "")
        XCTAssertEqual(decoder.pendingBytes, [0xE2, 0x82])
        XCTAssertEqual(decoder.push(3), "€")
        XCTAssertEqual(decoder.pendingBytes, [])
    }

    func testInvalidBytesBecomeReplacementCharacters() {
        let tokenizer = BytesTokenizer(pieces: [[], [0xFF], [0xE2, 0x82], [0x41], [0xF0, 0x9F]])
        XCTAssertEqual(stream([1], tokenizer), ["\u{FFFD}", ""])  // never valid: out at once
        XCTAssertEqual(stream([2, 3], tokenizer), ["", "\u{FFFD}A", ""])  // cut short by "A"
        XCTAssertEqual(stream([3, 4], tokenizer), ["A", "", "\u{FFFD}"])  // unfinished at the end
    }

    func testSpecialTokensCanBeSkipped() {
        let tokenizer = BytesTokenizer(pieces: [Array("<s>".utf8), [0x41]])
        XCTAssertEqual(stream([0, 1], tokenizer).joined(), "<s>A")
        XCTAssertEqual(stream([0, 1], tokenizer, skipSpecialTokens: true).joined(), "A")
    }

    /// Any cut of any byte sequence: the pieces add up to decoding it all at once.
    func testPiecesAlwaysAddUpToTheWholeDecoding() {
        var generator = SeededGenerator(seed: 5)
        let interesting: [UInt8] = [0x41, 0x20, 0x80, 0x9F, 0xBF, 0xC2, 0xC3, 0xE0, 0xE2, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF]
        for _ in 0..<2_000 {
            let pieces = (0..<Int.random(in: 1...8, using: &generator)).map { _ in
                (0..<Int.random(in: 0...3, using: &generator)).map { _ in
                    Bool.random(using: &generator)
                        ? interesting.randomElement(using: &generator)!
                        : UInt8.random(in: 0...255, using: &generator)
                }
            }
            let tokenizer = BytesTokenizer(pieces: [[]] + pieces)
            let whole = String(decoding: pieces.joined(), as: UTF8.self)
            XCTAssertEqual(stream(Array(1...pieces.count), tokenizer).joined(), whole, "\(pieces)")
        }
    }

    func testGPT2EmojiSpreadOverTokens() throws {
        let tokenizer = try SharedData.gpt2()
        let ids = tokenizer.encode("I 🤗 you")
        let pieces = stream(ids, tokenizer)
        XCTAssertGreaterThan(ids.count, 4, "the emoji should take more than one token")
        XCTAssertTrue(pieces.contains(""), "some token should end inside the emoji")
        XCTAssertTrue(pieces.contains { $0.contains("🤗") })
        XCTAssertEqual(pieces.joined(), "I 🤗 you")
        XCTAssertEqual(tokenizer.decode(ids), "I 🤗 you")
    }
}
