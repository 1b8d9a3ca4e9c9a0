import Foundation
import LanternTestSupport
import Tokenizers
@testable import Training
import XCTest

/// The byte-level BPE trainer: hand-counted merges, a golden run of an
/// independent Python implementation (scripts/make_bpe_fixture.py), files that
/// `GPT2Tokenizer` loads and that encode exactly as training segmented.
final class BPETrainerTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/bpe")

    /// 20,000 bytes of English-like ASCII (scripts/make_english_like_text.py 20000 1).
    static let corpus: String = {
        let data = (try? Data(contentsOf: fixtures.appendingPathComponent("corpus.txt"))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }()

    private func temporaryFolder() -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-bpe-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    /// Trains, writes the files, and loads them back as a user would.
    private func trainAndLoad(_ text: String, vocabularySize: Int) throws -> (TrainedByteLevelBPE, GPT2Tokenizer) {
        let trained = try ByteLevelBPETrainer(vocabularySize: vocabularySize).train(text: text)
        let folder = temporaryFolder()
        try trained.write(to: folder)
        return (trained, try GPT2Tokenizer.load(folder: folder))
    }

    // MARK: Merges

    /// "hug hug hug pug pun bun hugs" has the words "hug", " hug" ×2, " pug",
    /// " pun", " bun", " hugs" (Ġ = space). Pair counts:
    ///   u g: 1 + 2 + 1 + 1 = 5 → merge 1
    ///   then h ug: 1 + 2 + 1 = 4 → merge 2
    ///   then Ġ hug: 2 + 1 = 3 → merge 3
    ///   then Ġ p = 2 and u n = 2 tie: Ġ is byte 0x20 < "u" 0x75, so Ġ p first
    ///   (in vocab.json spelling "Ġ" = U+0120 would sort after "u": the tie-break is by bytes)
    ///   then u n = 2; every other pair occurs once, so training stops.
    func testMergesOnAHandCountedCorpus() throws {
        let trained = try ByteLevelBPETrainer(vocabularySize: 300).train(text: "hug hug hug pug pun bun hugs")
        XCTAssertEqual(trained.merges.map(\.description), ["u g", "h ug", "Ġ hug", "Ġ p", "u n"])
        XCTAssertEqual(trained.stopReason, .noFrequentPair)
        XCTAssertEqual(trained.vocabularySize, 256 + 5 + 1)
        XCTAssertEqual(Array(trained.pieces[256...]), ["ug", "hug", "Ġhug", "Ġp", "un", "<|endoftext|>"])
        // hug | Ġhug Ġhug | Ġp ug | Ġp un | Ġ b un | Ġhug s
        XCTAssertEqual(trained.trainingTokenCount, 1 + 2 + 2 + 2 + 3 + 2)

        // With a minimum frequency of 3 only the first three merges qualify.
        let strict = try ByteLevelBPETrainer(vocabularySize: 300, minimumPairFrequency: 3)
            .train(text: "hug hug hug pug pun bun hugs")
        XCTAssertEqual(strict.merges.map(\.description), ["u g", "h ug", "Ġ hug"])
    }

    /// Merges are identical to those of scripts/make_bpe_fixture.py, a plain
    /// recount-everything implementation of the same algorithm and tie-break.
    func testMergesMatchTheIndependentPythonImplementation() throws {
        let expected = try String(contentsOf: Self.fixtures.appendingPathComponent("merges.txt"), encoding: .utf8)
        let trained = try ByteLevelBPETrainer(vocabularySize: 1024).train(text: Self.corpus)
        XCTAssertEqual(Self.corpus.utf8.count, 20_000)
        let produced = String(decoding: trained.mergesText(), as: UTF8.self)
        let expectedLines = expected.split(separator: "\n"), producedLines = produced.split(separator: "\n")
        XCTAssertEqual(producedLines.count, expectedLines.count)
        if let first = zip(producedLines, expectedLines).enumerated().first(where: { $0.element.0 != $0.element.1 }) {
            XCTFail("first difference at line \(first.offset + 1): \(first.element.0) vs expected \(first.element.1)")
        }
        XCTAssertEqual(produced, expected)
    }

    /// Ids 0…255 are the bytes in GPT-2's own vocab.json order.
    func testByteIdsFollowGPT2Order() throws {
        let trained = try ByteLevelBPETrainer(vocabularySize: 257).train(text: "abc")
        XCTAssertEqual(trained.pieces[0], "!")
        XCTAssertEqual(trained.pieces[187], "ÿ")
        XCTAssertEqual(trained.pieces[188], "Ā")  // byte 0x00
        XCTAssertEqual(trained.pieces[188 + 32], "Ġ")  // byte 0x20, the space
        XCTAssertEqual(trained.pieces[256], "<|endoftext|>")
        XCTAssertTrue(trained.merges.isEmpty)

        let encoder = ReferenceData.root.appendingPathComponent("gpt2-tokenizer/encoder.json")
        guard let data = try? Data(contentsOf: encoder) else {
            throw XCTSkip("GPT-2's encoder.json is absent (\(encoder.path)); checked the landmarks only")
        }
        let gpt2 = try JSONDecoder().decode([String: Int].self, from: data)
        for id in 0..<256 { XCTAssertEqual(gpt2[trained.pieces[id]], id, trained.pieces[id]) }
    }

    // MARK: Sizes and stopping

    func testVocabularySizeIsExactlyAsRequested() throws {
        for size in [257, 300, 700, 1024] {
            let (trained, tokenizer) = try trainAndLoad(Self.corpus, vocabularySize: size)
            XCTAssertEqual(trained.vocabularySize, size)
            XCTAssertEqual(trained.merges.count, size - 257)
            XCTAssertEqual(trained.stopReason, .reachedVocabularySize)
            XCTAssertEqual(tokenizer.vocabularySize, size)
            XCTAssertEqual(Set(trained.pieces).count, size, "pieces are distinct")
        }
    }

    func testStopsWhenNoPairIsFrequentEnough() throws {
        let trained = try ByteLevelBPETrainer(vocabularySize: 4096).train(text: Self.corpus)
        XCTAssertEqual(trained.stopReason, .noFrequentPair)
        XCTAssertLessThan(trained.vocabularySize, 4096)
        XCTAssertEqual(trained.pieces.last, "<|endoftext|>")
    }

    func testRefusesBadSettings() {
        XCTAssertThrowsError(try ByteLevelBPETrainer(vocabularySize: 256)) { error in
            XCTAssertEqual(error as? BPETrainingError, .vocabularySizeOutOfRange(256, allowed: 257...65_536))
            XCTAssertTrue("\(error)".contains("257 to 65536"), "\(error)")
        }
        XCTAssertThrowsError(try ByteLevelBPETrainer(vocabularySize: 65_537))
        XCTAssertThrowsError(try ByteLevelBPETrainer(vocabularySize: 1000, minimumPairFrequency: 0))
        XCTAssertThrowsError(try ByteLevelBPETrainer(vocabularySize: 1000, specialTokens: ["<pad>"]))
        XCTAssertThrowsError(try ByteLevelBPETrainer(vocabularySize: 1000, specialTokens: ["<|endoftext|>", "x"]))
        XCTAssertNoThrow(try ByteLevelBPETrainer(vocabularySize: 65_536))
    }

    // MARK: The trained tokenizer

    /// Every distinct training word encodes with the loaded tokenizer to exactly
    /// the pieces training ended with; so the token count of the whole text too.
    func testTrainingSegmentationEqualsTheLoadedTokenizer() throws {
        let mixed =
            Self.corpus.prefix(6000) + """
                Ünïcödé wörds, naïve café, 日本語のテキストと中文文本。 🦊🦊 🎉🎉 e\u{301}e\u{301} \u{00A0}nbsp
                Numbers ½ ¾ ٣٤ and spaces\u{3000}\u{3000}ideographic; straße STRASSE İstanbul ǅ
                """ + String(repeating: "日本語 テキスト 🦊🎉 café ", count: 20)
        for (text, size) in [(Self.corpus, 1024), (String(mixed), 700)] {
            let (trained, tokenizer) = try trainAndLoad(text, vocabularySize: size)
            var mismatches = 0
            for entry in trained.segmentation {
                let ids = tokenizer.encode(String(decoding: entry.word, as: UTF8.self))
                if ids != entry.ids {
                    mismatches += 1
                    if mismatches <= 5 { XCTFail("\(entry.word): tokenizer \(ids), training \(entry.ids)") }
                }
            }
            XCTAssertEqual(mismatches, 0)
            XCTAssertEqual(tokenizer.encode(text).count, trained.trainingTokenCount)
        }
    }

    func testRoundTripsAnyTextIncludingUnseenCharacters() throws {
        let (_, tokenizer) = try trainAndLoad(Self.corpus, vocabularySize: 600)
        let samples = [
            "", "a", "Hello, world! It's 2024 and they're here.",
            "Peggy's lantern was near their garden...",
            "🦊🎉 family: 👨‍👩‍👧 flags 🇫🇷🇯🇵", "日本語のテキスト、中文文本。한국어",
            "  multiple   spaces\n\n\ttabs\r\nand CRLF ", "e\u{301} vs é (NFD vs NFC)",
            "control \u{0} \u{1} \u{7F} \u{1C} \u{85} \u{A0} \u{AD}", "<|endoftext|>", "a<|endoftext|>b<|endoftext|>",
            "<|endoftext", String(repeating: "the ", count: 100), "\u{10FFFF}\u{E000}"
        ]
        for sample in samples {
            let ids = tokenizer.encode(sample)
            XCTAssertEqual(tokenizer.decode(ids), sample, sample.debugDescription)
            XCTAssertTrue(ids.allSatisfy { (0..<600).contains($0) })
        }
    }

    /// The training text compresses: 20 KB of the fixture comes to 0.265
    /// tokens per byte with 1,024 tokens and 0.715 with 300 (measured).
    func testCompressesTheTrainingText() throws {
        let (trained, tokenizer) = try trainAndLoad(Self.corpus, vocabularySize: 1024)
        let tokens = tokenizer.encode(Self.corpus).count
        let perByte = Double(tokens) / Double(Self.corpus.utf8.count)
        XCTAssertEqual(trained.tokensPerByte, perByte, accuracy: 1e-12)
        XCTAssertLessThan(perByte, 0.3)
        // Even 43 merges clearly beat one token per byte.
        let small = try ByteLevelBPETrainer(vocabularySize: 300).train(text: Self.corpus)
        XCTAssertLessThan(small.tokensPerByte, 0.75)
    }

    func testEndOfTextIsOneTokenWithTheLastId() throws {
        let (trained, tokenizer) = try trainAndLoad(Self.corpus, vocabularySize: 500)
        XCTAssertEqual(trained.specialTokens, ["<|endoftext|>": 499])
        XCTAssertEqual(tokenizer.encode("<|endoftext|>"), [499])
        XCTAssertEqual(tokenizer.endOfText, 499)
        XCTAssertTrue(tokenizer.isSpecialToken(499))
        let ids = tokenizer.encode("The end.<|endoftext|>A new day")
        XCTAssertEqual(ids.filter { $0 == 499 }.count, 1)
        XCTAssertEqual(tokenizer.decode(ids), "The end.<|endoftext|>A new day")
        // Training never saw it as text: no learned piece holds "<|".
        XCTAssertFalse(trained.pieces.dropLast().contains { $0.contains("<|") })
    }

    func testSpecialTokensAreCutOutBeforeCounting() throws {
        // Without cutting, "<|endoftext|>" would be the most frequent word and its pairs would win.
        let text = String(repeating: "<|endoftext|>ab ", count: 10)
        let trained = try ByteLevelBPETrainer(vocabularySize: 300).train(text: text)
        XCTAssertEqual(trained.merges.map(\.description), ["a b"])
        let tokenizer = try trained.makeTokenizer()
        XCTAssertEqual(tokenizer.encode(text).count, trained.trainingTokenCount)
    }

    // MARK: Determinism and files

    func testTrainingTwiceGivesIdenticalFiles() throws {
        let first = try ByteLevelBPETrainer(vocabularySize: 800).train(text: Self.corpus)
        let second = try ByteLevelBPETrainer(vocabularySize: 800).train(text: Self.corpus)
        XCTAssertEqual(first.vocabularyJSON(), second.vocabularyJSON())
        XCTAssertEqual(first.mergesText(), second.mergesText())

        let folderA = temporaryFolder(), folderB = temporaryFolder()
        try first.write(to: folderA)
        try second.write(to: folderB)
        for name in ["vocab.json", "merges.txt"] {
            XCTAssertEqual(
                try Data(contentsOf: folderA.appendingPathComponent(name)),
                try Data(contentsOf: folderB.appendingPathComponent(name)), name)
        }
    }

    func testFilesAreOrderedAndValidJSON() throws {
        let trained = try ByteLevelBPETrainer(vocabularySize: 400).train(text: Self.corpus + "\"quoted\" back\\slash")
        let folder = temporaryFolder()
        let files = try trained.write(to: folder)
        let vocabulary = try JSONDecoder().decode([String: Int].self, from: Data(contentsOf: files.vocabulary))
        XCTAssertEqual(vocabulary.count, 400)
        for (id, piece) in trained.pieces.enumerated() { XCTAssertEqual(vocabulary[piece], id, piece) }
        let merges = try String(contentsOf: files.merges, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(merges.first, "#version: 0.2")
        XCTAssertEqual(merges.count, 1 + 400 - 257)
        // Only the two files: no temporary leftovers.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ["merges.txt", "vocab.json"])
    }

    func testProgressCountsEveryMerge() throws {
        var calls: [(Int, Int)] = []
        let trained = try ByteLevelBPETrainer(vocabularySize: 300).train(text: Self.corpus) { calls.append(($0, $1)) }
        XCTAssertEqual(calls.map(\.0), Array(0...43))
        XCTAssertTrue(calls.allSatisfy { $0.1 == 43 })
        XCTAssertEqual(trained.merges.count, 43)
    }

    func testRefusesAnUnwritableFolder() throws {
        let trained = try ByteLevelBPETrainer(vocabularySize: 257).train(text: "abc")
        let parent = temporaryFolder()
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        let file = parent.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        XCTAssertThrowsError(try trained.write(to: file.appendingPathComponent("out"))) { error in
            guard case .unwritable(let path, _)? = error as? BPETrainingError else { return XCTFail("\(error)") }
            XCTAssertTrue(path.hasSuffix("a-file/out"), path)
        }
        XCTAssertThrowsError(try trained.write(to: file))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: parent.path), ["a-file"])
    }
}

/// Reading training text: one file or a folder of .txt files, UTF-8 only.
final class TextCorpusReaderTests: XCTestCase {
    private func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-corpus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    func testReadsAFileAndAFolderOfTextFilesInNameOrder() throws {
        let folder = try temporaryFolder()
        try Data("second".utf8).write(to: folder.appendingPathComponent("b.txt"))
        try Data("first\n".utf8).write(to: folder.appendingPathComponent("a.txt"))
        try Data("third".utf8).write(to: folder.appendingPathComponent("c.TXT"))
        try Data("skipped".utf8).write(to: folder.appendingPathComponent("notes.md"))
        try Data("skipped".utf8).write(to: folder.appendingPathComponent(".hidden.txt"))
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("sub.txt"), withIntermediateDirectories: true)

        let documents = try TextCorpusReader.documents(at: folder.path)
        XCTAssertEqual(documents.map { URL(fileURLWithPath: $0.path).lastPathComponent }, ["a.txt", "b.txt", "c.TXT"])
        XCTAssertEqual(try TextCorpusReader.read(path: folder.path), "first\nsecond\nthird")
        XCTAssertEqual(try TextCorpusReader.read(path: folder.appendingPathComponent("notes.md").path), "skipped")
    }

    func testKeepsBytesExactlyAndDropsAByteOrderMark() throws {
        let folder = try temporaryFolder()
        let file = folder.appendingPathComponent("t.txt")
        try Data([0xEF, 0xBB, 0xBF] + Array("e\u{301}\r\n".utf8)).write(to: file)
        XCTAssertEqual(Array(try TextCorpusReader.read(path: file.path).utf8), Array("e\u{301}\r\n".utf8))
    }

    func testRefusesBadData() throws {
        let folder = try temporaryFolder()
        func expect(_ path: String, _ expected: TextCorpusError) {
            XCTAssertThrowsError(try TextCorpusReader.read(path: path)) { error in
                XCTAssertEqual(error as? TextCorpusError, expected)
            }
        }
        expect(folder.appendingPathComponent("missing.txt").path, .notFound(path: folder.appendingPathComponent("missing.txt").path))
        expect(folder.path, .noTextFiles(folder: folder.path))

        let empty = folder.appendingPathComponent("empty.txt")
        try Data().write(to: empty)
        expect(empty.path, .empty(path: empty.path))
        expect(folder.path, .empty(path: folder.path))

        let binary = folder.appendingPathComponent("binary.bin")
        try Data([0x41, 0x42, 0x00, 0x43]).write(to: binary)
        expect(binary.path, .binary(path: binary.path, offset: 2))

        let latin1 = folder.appendingPathComponent("latin1.txt")
        try Data([0x63, 0x61, 0x66, 0xE9, 0x20]).write(to: latin1)  // "café " in Latin-1
        expect(latin1.path, .notUTF8(path: latin1.path, offset: 3))
        XCTAssertTrue("\(TextCorpusError.notUTF8(path: "x", offset: 3))".contains("not UTF-8 text"))

        XCTAssertNil(TextCorpusReader.firstInvalidUTF8Offset(Array("ok 日本 🦊".utf8)))
        XCTAssertEqual(TextCorpusReader.firstInvalidUTF8Offset([0x61, 0xED, 0xA0, 0x80]), 1)  // a surrogate
        XCTAssertEqual(TextCorpusReader.firstInvalidUTF8Offset([0x61, 0xC0, 0xAF]), 1)  // overlong "/"
        XCTAssertEqual(TextCorpusReader.firstInvalidUTF8Offset([0x61, 0xE6, 0x97]), 1)  // cut short
    }
}
