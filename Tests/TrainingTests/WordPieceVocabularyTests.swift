import Foundation
import Tokenizers
import Training
import XCTest

/// The WordPiece vocabulary built for an encoder: what it holds, and that the files it writes are
/// the tokenizer it describes. (That transformers reads them alike was checked by hand: the
/// tokenizers library, BertTokenizerFast and BertTokenizer gave Lantern's ids on the built-in
/// encoder's corpus — see the README's encoder section.)
final class WordPieceVocabularyTests: XCTestCase {
    let text = """
        Mia found a red ball in the garden. Mia gave the red ball to Tom.
        Tom was happy. Tom played with the ball in the garden all day!
        <|endoftext|>
        The cat sat by the door. The cat was sleepy, and the dog was happy.
        """

    func testSpecialsThenCharactersThenFrequentWords() throws {
        let vocabulary = try WordPieceVocabulary.build(text: text, size: 200)
        XCTAssertEqual(Array(vocabulary.pieces.prefix(5)), WordPieceVocabulary.specials)
        for piece in ["m", "##m", ".", "the", "ball", "garden", "tom"] { XCTAssertTrue(vocabulary.pieces.contains(piece), piece) }
        XCTAssertFalse(vocabulary.pieces.contains("##."), "punctuation never continues a word")
        XCTAssertFalse(vocabulary.pieces.contains("sleepy"), "seen once: left to endings and characters")
        XCTAssertEqual(Set(vocabulary.pieces).count, vocabulary.pieces.count, "no piece twice")
        let small = try WordPieceVocabulary.build(text: text, size: 60)
        XCTAssertEqual(small.pieces.count, 60)
        XCTAssertThrowsError(try WordPieceVocabulary.build(text: text, size: 3))
    }

    func testTheWrittenFilesAreTheTokenizer() throws {
        let vocabulary = try WordPieceVocabulary.build(text: text, size: 200)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wordpiece-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try vocabulary.write(to: folder)
        let fromJSON = try XCTUnwrap(
            TokenizerLoader.load(tokenizerJSON: folder.appendingPathComponent("tokenizer.json")) as? WordPieceTokenizer)
        let fromText = try WordPieceTokenizer.load(vocabularyFile: folder.appendingPathComponent("vocab.txt"))
        let built = try vocabulary.tokenizer()
        for sample in ["Mia gave the [MASK] to Tom.", "The sleepy cat!", "Zoë's garden"] {
            XCTAssertEqual(fromJSON.encode(sample), built.encode(sample), sample)
            XCTAssertEqual(fromText.encode(sample), built.encode(sample), sample)
        }
        // Every word of the text has pieces: nothing is unknown.
        XCTAssertFalse(built.encode(text).contains(built.unknown))
        XCTAssertEqual(built.decode(built.encode("Mia found a red ball."), skipSpecialTokens: true), "mia found a red ball.")
        XCTAssertEqual(built.maskTokenId, 4)
    }
}
