import XCTest
@testable import Tokenizers

/// The merge loop on tiny hand-made vocabularies, where every step can be
/// worked out on paper.
final class BPEMergeTests: XCTestCase {
    /// The 256 byte pieces (ids 0–255 in byte order), `<|endoftext|>`, then `extra` pieces.
    private func tokenizer(extra: [String], merges: [(String, String)]) throws -> GPT2Tokenizer {
        var vocabulary: [String: Int] = [:]
        for byte in 0..<256 { vocabulary[ByteLevel.piece(ofBytes: [UInt8(byte)])] = byte }
        vocabulary["<|endoftext|>"] = 256
        for (offset, piece) in extra.enumerated() { vocabulary[piece] = 257 + offset }
        return try GPT2Tokenizer(vocabulary: vocabulary, merges: merges)
    }

    func testLowestRankJoinsFirstAndOverlapsGoLeftToRight() throws {
        let bpe = try tokenizer(extra: ["aa", "aaa"], merges: [("a", "a"), ("aa", "a")])
        XCTAssertEqual(bpe.encode("aaa"), [258])  // aa·a → aaa
        XCTAssertEqual(bpe.encode("aaaa"), [257, 257])  // aa aa (no rule joins them)
        XCTAssertEqual(bpe.encode("aaaaa"), [257, 258])  // aa aa a → aa aaa
    }

    /// OpenAI's encoder joins every occurrence of the best pair in one pass
    /// before looking at the pairs that pass created, even when a merges file
    /// ranks such a pair lower (better). A plain heap would give [aaa, a].
    func testOnePassPerRankEvenWithAnUnusualMergesFile() throws {
        let bpe = try tokenizer(extra: ["aa", "aaa"], merges: [("aa", "a"), ("a", "a")])
        XCTAssertEqual(bpe.encode("aaaa"), [257, 257])
        XCTAssertEqual(bpe.encode("aaa"), [258])
    }

    func testBytesWithoutMergesStaySingleBytes() throws {
        let bpe = try tokenizer(extra: [], merges: [])
        XCTAssertEqual(bpe.encode("hi €"), [104, 105, 32, 0xE2, 0x82, 0xAC])
        XCTAssertEqual(bpe.decode(bpe.encode("hi €")), "hi €")
    }

    func testALongWordWithoutSpacesStaysFast() throws {
        let tokenizer = try SharedData.gpt2()
        // 30,000 CJK letters make one word; a pair-rescanning loop would take minutes.
        let text = String(repeating: "漢字仮名交じり文", count: 3_750)
        let clock = ContinuousClock()
        var ids: [Int] = []
        let elapsed = clock.measure { ids = tokenizer.encode(text) }
        XCTAssertEqual(tokenizer.decode(ids), text)
        XCTAssertLessThan(elapsed, .seconds(2), "one long word took \(elapsed)")
    }
}
