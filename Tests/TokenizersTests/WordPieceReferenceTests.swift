import Foundation
import XCTest
@testable import Tokenizers

/// WordPiece against Hugging Face's `BertTokenizerFast`: the cases scripts/make_bert_fixtures.py
/// wrote beside each fixture tokenizer (a few hundred strings and pairs: accents, CJK, controls,
/// punctuation, over-long words, `[MASK]` in the text), ids, token types and pieces.
final class WordPieceReferenceTests: XCTestCase {
    struct Cases: Decodable {
        struct Case: Decodable {
            var text: String
            var pair: String?
            var ids: [Int]
            var token_types: [Int]
            var pieces: [String]
        }
        var singles: [Case]
        var pairs: [Case]
    }

    private func cases(_ fixture: String) throws -> Cases {
        let url = try Fixtures.folder(fixture).appendingPathComponent("tokenizer_cases.json")
        return try JSONDecoder().decode(Cases.self, from: Data(contentsOf: url))
    }

    private func assertMatches(_ tokenizer: WordPieceTokenizer, _ cases: Cases, file: StaticString = #filePath, line: UInt = #line) {
        var failures = 0
        for item in cases.singles {
            let ids = tokenizer.encode(item.text)
            if ids != item.ids, failures < 10 {
                failures += 1
                XCTFail("\(item.text.debugDescription): \(ids.map(tokenizer.piece)) != \(item.pieces)", file: file, line: line)
            }
            if ids == item.ids { XCTAssertEqual(ids.map(tokenizer.piece), item.pieces, file: file, line: line) }
        }
        for item in cases.pairs {
            let (ids, types) = tokenizer.encodePair(item.text, item.pair ?? "")
            XCTAssertEqual(ids, item.ids, "pair \(item.text.debugDescription) + \(String(describing: item.pair))", file: file, line: line)
            XCTAssertEqual(types, item.token_types, "token types of \(item.text.debugDescription)", file: file, line: line)
        }
        XCTAssertGreaterThan(cases.singles.count, 250)
    }

    func testUncasedTokenizerJSONMatchesHuggingFace() throws {
        let folder = try Fixtures.folder("bert-tiny-mlm")
        let tokenizer = try XCTUnwrap(TokenizerLoader.load(folder: folder) as? WordPieceTokenizer)
        XCTAssertEqual(tokenizer.normalization, .init(stripAccents: nil, lowercase: true))
        try assertMatches(tokenizer, cases("bert-tiny-mlm"))
    }

    func testVocabTxtWithTokenizerConfigMatchesHuggingFace() throws {
        // The same vocabulary as bert-tiny-mlm, given as vocab.txt + tokenizer_config.json.
        let tokenizer = try XCTUnwrap(TokenizerLoader.load(folder: Fixtures.folder("bert-tiny-base")) as? WordPieceTokenizer)
        try assertMatches(tokenizer, cases("bert-tiny-mlm"))
    }

    func testCasedTokenizerWithShortWordLimitMatchesHuggingFace() throws {
        let tokenizer = try WordPieceTokenizer.load(
            tokenizerJSON: Fixtures.folder("wordpiece-cased").appendingPathComponent("tokenizer.json"))
        XCTAssertFalse(tokenizer.normalization.lowercase)
        XCTAssertFalse(tokenizer.normalization.stripAccents)
        XCTAssertEqual(tokenizer.maximumWordLength, 20)
        try assertMatches(tokenizer, cases("wordpiece-cased"))
    }

    func testDecodingGluesContinuationsAndPunctuation() throws {
        let tokenizer = try WordPieceTokenizer.load(
            tokenizerJSON: Fixtures.folder("bert-tiny-mlm").appendingPathComponent("tokenizer.json"))
        let ids = tokenizer.encode("The quick brown fox, twice!")
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), "the quick brown fox, twice!")
        XCTAssertEqual(tokenizer.encode("[MASK]"), [tokenizer.beginningOfText, try XCTUnwrap(tokenizer.maskTokenId), tokenizer.endOfText])
    }

    func testBrokenVocabulariesAreRefusedByName() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wordpiece-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let vocab = folder.appendingPathComponent("vocab.txt")
        try "hello\nworld\n".write(to: vocab, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try WordPieceTokenizer.load(vocabularyFile: vocab)) { error in
            XCTAssertTrue("\(error)".contains("[UNK]"), "\(error)")
        }
        try "".write(to: vocab, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try WordPieceTokenizer.load(vocabularyFile: vocab)) { error in
            XCTAssertTrue("\(error)".contains("empty"), "\(error)")
        }
    }
}
