import Foundation
import XCTest
@testable import Tokenizers

/// `TokenizerLoader` picks the tokenizer a model folder needs; bad or
/// unsupported files give errors that name the file and carry a hint.
final class TokenizerLoaderTests: XCTestCase {
    // MARK: Helpers

    private func assertError<T>(
        _ expression: @autoclosure () throws -> T,
        file: StaticString = #filePath, line: UInt = #line,
        _ check: (TokenizerError) -> Bool
    ) {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            guard let error = error as? TokenizerError else {
                return XCTFail("not a TokenizerError: \(error)", file: file, line: line)
            }
            XCTAssertTrue(check(error), "unexpected error: \(error)", file: file, line: line)
            XCTAssertTrue(error.description.contains("Hint:"), file: file, line: line)
        }
    }

    private func reason(_ error: TokenizerError) -> String {
        switch error {
        case .malformedJSON(_, let reason), .unsupportedModel(_, let reason), .invalidVocabulary(_, let reason):
            return reason
        default:
            return ""
        }
    }

    /// The llama fixture's tokenizer.json as a dictionary, to edit.
    private func llamaDocument() throws -> [String: Any] {
        let url = try Fixtures.llamaFolder.appendingPathComponent("tokenizer.json")
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    private func write(_ document: Any, to url: URL) throws {
        try JSONSerialization.data(withJSONObject: document).write(to: url)
    }

    // MARK: The fixtures

    func testPicksSentencePieceForTheLlamaFixture() throws {
        let folder = try Fixtures.llamaFolder
        let tokenizer = try TokenizerLoader.load(folder: folder)
        let llama = try XCTUnwrap(tokenizer as? SentencePieceBPETokenizer, "got \(type(of: tokenizer))")
        XCTAssertEqual(llama.vocabularySize, 320)
        // The prompt of the fixture's reference run.
        let promptIds = try JSONDecoder().decode(
            [Int].self,
            from: Data(
                contentsOf:
                    folder.appendingPathComponent("reference/prompt_ids.json")))
        XCTAssertEqual(tokenizer.encode("Once upon a time there was a little robot"), promptIds)
        XCTAssertEqual(
            try TokenizerLoader.kind(ofTokenizerJSON: folder.appendingPathComponent("tokenizer.json")),
            .sentencePieceBPE)
    }

    func testPicksGPT2ForAByteLevelTokenizerJSON() throws {
        let folder = try Fixtures.folder("gpt2-bytes-bf16-sharded")
        let tokenizer = try TokenizerLoader.load(folder: folder)
        XCTAssertTrue(tokenizer is GPT2Tokenizer, "got \(type(of: tokenizer))")
        try assertMatchesCases(tokenizer, folder)
        XCTAssertEqual(
            try TokenizerLoader.kind(ofTokenizerJSON: folder.appendingPathComponent("tokenizer.json")),
            .byteLevelBPE)
    }

    func testPicksGPT2ForVocabAndMerges() throws {
        let folder = try Fixtures.folder("gpt2-bytes-noprefix")
        let tokenizer = try TokenizerLoader.load(folder: folder)
        XCTAssertTrue(tokenizer is GPT2Tokenizer, "got \(type(of: tokenizer))")
        try assertMatchesCases(tokenizer, folder)
    }

    /// The GPT-2 fixtures' `tokenizer_cases.json` (Hugging Face ids, no special tokens added).
    private func assertMatchesCases(
        _ tokenizer: any Tokenizer, _ folder: URL,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let url = folder.appendingPathComponent("reference/tokenizer_cases.json")
        let cases = try JSONDecoder().decode(SentencePieceReferenceTests.CaseFile.self, from: Data(contentsOf: url)).cases
        XCTAssertFalse(cases.isEmpty, file: file, line: line)
        for item in cases {
            XCTAssertEqual(tokenizer.encode(item.text), item.ids, "\"\(escaped(item.text))\"", file: file, line: line)
        }
    }

    func testAFolderWithoutTokenizerFiles() throws {
        let folder = try Fixtures.folder("gpt2-realvocab-f16")  // its tokenizer lives in shared/data
        assertError(try TokenizerLoader.load(folder: folder)) { $0 == .noTokenizerFiles(folder: folder.path) }
    }

    // MARK: Other folders

    func testLlama2cFolder() throws {
        let source = try SharedData.file("stories260K/tok512.bin")
        let folder = try makeTemporaryFolder(self)
        try FileManager.default.copyItem(at: source, to: folder.appendingPathComponent("tokenizer.bin"))
        let tokenizer = try TokenizerLoader.load(folder: folder)
        let llama2c = try XCTUnwrap(tokenizer as? Llama2cTokenizer, "got \(type(of: tokenizer))")
        XCTAssertEqual(llama2c.vocabularySize, 512)
    }

    func testPrefersTokenizerJSONOverOtherFiles() throws {
        let folder = try makeTemporaryFolder(self)
        let noprefix = try Fixtures.folder("gpt2-bytes-noprefix")
        for name in ["vocab.json", "merges.txt"] {
            try FileManager.default.copyItem(
                at: noprefix.appendingPathComponent(name),
                to: folder.appendingPathComponent(name))
        }
        XCTAssertTrue(try TokenizerLoader.load(folder: folder) is GPT2Tokenizer)
        try FileManager.default.copyItem(
            at: Fixtures.llamaFolder.appendingPathComponent("tokenizer.json"),
            to: folder.appendingPathComponent("tokenizer.json"))
        XCTAssertTrue(try TokenizerLoader.load(folder: folder) is SentencePieceBPETokenizer)
    }

    func testMissingAndHalfFiles() throws {
        let folder = try makeTemporaryFolder(self)
        assertError(try TokenizerLoader.load(folder: folder)) { $0 == .noTokenizerFiles(folder: folder.path) }
        let nowhere = folder.appendingPathComponent("nowhere")
        assertError(try TokenizerLoader.load(folder: nowhere)) { $0 == .fileNotFound(path: nowhere.path) }
        let file = folder.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        assertError(try TokenizerLoader.load(folder: file)) {
            if case .unreadable(file.path, _) = $0 { return true } else { return false }
        }
        // Half a pair: the missing half is named.
        try FileManager.default.copyItem(
            at: Fixtures.folder("gpt2-bytes-noprefix").appendingPathComponent("vocab.json"),
            to: folder.appendingPathComponent("vocab.json"))
        assertError(try TokenizerLoader.load(folder: folder)) {
            $0 == .fileNotFound(path: folder.appendingPathComponent("merges.txt").path)
        }
    }

    func testSentencePieceModelFileAlone() throws {
        let folder = try makeTemporaryFolder(self)
        let model = folder.appendingPathComponent("tokenizer.model")
        try Data([0x0A, 0x0B]).write(to: model)
        assertError(try TokenizerLoader.load(folder: folder)) {
            if case .unsupportedModel(model.path, let reason) = $0 { return reason.contains("tokenizer.json") }
            return false
        }
    }

    // MARK: Unsupported tokenizer.json

    func testUnsupportedModels() throws {
        let folder = try makeTemporaryFolder(self)
        let url = folder.appendingPathComponent("tokenizer.json")
        let documents: [(Any, String)] = [
            (["model": ["type": "WordPiece", "unk_token": "[UNK]", "vocab": ["[UNK]": 0, "a": 1]]], "WordPiece"),
            (["model": ["type": "Unigram", "vocab": [["<unk>", 0.0], ["a", -1.5]]]], "Unigram"),
            // Older files leave out model.type; a list vocabulary is Unigram.
            (["model": ["vocab": [["<unk>", 0.0], ["a", -1.5]]]], "Unigram"),
            (["model": ["type": "WordLevel", "vocab": ["a": 0]]], "WordLevel"),
            // BPE with neither ByteLevel nor anything "▁".
            (["model": ["type": "BPE", "vocab": ["a": 0, "</s>": 1], "merges": []]], "ByteLevel")
        ]
        for (document, word) in documents {
            try write(document, to: url)
            assertError(try TokenizerLoader.load(folder: folder)) {
                if case .unsupportedModel(url.path, let reason) = $0 { return reason.contains(word) }
                return false
            }
            // Asked for by name, a plain BPE file loads as one without "▁" rules.
            if word == "ByteLevel" { continue }
            assertError(try SentencePieceBPETokenizer.load(tokenizerJSON: url)) {
                if case .unsupportedModel(url.path, let reason) = $0 { return reason.contains(word) }
                return false
            }
        }
    }

    func testEachLoaderRefusesTheOtherKind() throws {
        let gpt2JSON = try Fixtures.folder("gpt2-bytes-bf16-sharded").appendingPathComponent("tokenizer.json")
        assertError(try SentencePieceBPETokenizer.load(tokenizerJSON: gpt2JSON)) {
            if case .unsupportedModel(gpt2JSON.path, let reason) = $0 { return reason.contains("GPT2Tokenizer") }
            return false
        }
        let llamaJSON = try Fixtures.llamaFolder.appendingPathComponent("tokenizer.json")
        assertError(try GPT2Tokenizer.load(tokenizerJSON: llamaJSON)) {
            if case .unsupportedModel(llamaJSON.path, let reason) = $0 { return reason.contains("Metaspace") }
            return false
        }
    }

    /// Steps that would change the ids and are not implemented are refused,
    /// never silently skipped.
    func testUnsupportedSteps() throws {
        let folder = try makeTemporaryFolder(self)
        let url = folder.appendingPathComponent("tokenizer.json")
        let base = try llamaDocument()
        let model = try XCTUnwrap(base["model"] as? [String: Any])
        func with(_ key: String, _ value: Any) -> [String: Any] { var copy = base; copy[key] = value; return copy }
        func withModel(_ key: String, _ value: Any) -> [String: Any] {
            var copy = base, changed = model
            changed[key] = value
            copy["model"] = changed
            return copy
        }
        let cases: [([String: Any], String)] = [
            (with("normalizer", ["type": "NFKC"]), "NFKC"),
            (
                with("normalizer", ["type": "Sequence", "normalizers": [["type": "Prepend", "prepend": "▁"], ["type": "Lowercase"]]]),
                "Lowercase"
            ),
            (with("normalizer", ["type": "Replace", "pattern": ["Regex": " +"], "content": "▁"]), "regular expression"),
            (with("pre_tokenizer", ["type": "Split", "pattern": ["String": " "], "behavior": "Isolated"]), "Split"),
            (
                with(
                    "pre_tokenizer",
                    [
                        "type": "Sequence",
                        "pretokenizers": [
                            ["type": "Digits", "individual_digits": true], ["type": "Metaspace", "replacement": "▁"]
                        ]
                    ]), "Sequence"
            ),
            (with("post_processor", ["type": "Mystery"]), "Mystery"),
            (withModel("dropout", 0.1), "dropout"),
            (withModel("continuing_subword_prefix", "##"), "continuing_subword_prefix")
        ]
        for (document, word) in cases {
            try write(document, to: url)
            assertError(try TokenizerLoader.load(tokenizerJSON: url)) {
                if case .unsupportedModel(url.path, let reason) = $0 { return reason.contains(word) }
                return false
            }
        }
    }

    // MARK: Malformed tokenizer.json

    func testBrokenJSON() throws {
        let folder = try makeTemporaryFolder(self)
        let url = folder.appendingPathComponent("tokenizer.json")
        let original = try Data(contentsOf: Fixtures.llamaFolder.appendingPathComponent("tokenizer.json"))
        for data in [original.prefix(original.count / 2), Data("hello".utf8), Data(), Data("{\"model\": {}} x".utf8)] {
            try data.write(to: url)
            assertError(try TokenizerLoader.load(folder: folder)) {
                if case .malformedJSON(url.path, let reason) = $0 { return reason.contains("at byte") }
                return false
            }
            assertError(try SentencePieceBPETokenizer.load(tokenizerJSON: url)) {
                if case .malformedJSON(url.path, _) = $0 { return true } else { return false }
            }
        }
    }

    func testMalformedDocuments() throws {
        let folder = try makeTemporaryFolder(self)
        let url = folder.appendingPathComponent("tokenizer.json")
        let base = try llamaDocument()
        let model = try XCTUnwrap(base["model"] as? [String: Any])
        func with(_ key: String, _ value: Any) -> [String: Any] { var copy = base; copy[key] = value; return copy }
        func withModel(_ key: String, _ value: Any) -> [String: Any] {
            var copy = base, changed = model
            changed[key] = value
            copy["model"] = changed
            return copy
        }
        let cases: [(Any, String)] = [
            ([1, 2, 3], "top level"),
            (["version": "1.0"], "model is missing"),
            (with("model", "BPE"), "model should be an object"),
            (withModel("vocab", "none"), "model.vocab"),
            (withModel("vocab", ["a": "zero"]), "\"a\""),
            (withModel("merges", "a b"), "model.merges"),
            (withModel("byte_fallback", "yes"), "byte_fallback"),
            (withModel("unk_token", 0), "unk_token"),
            (with("added_tokens", [["content": "<s>"]]), "added_tokens[0]"),
            (with("pre_tokenizer", ["type": "Metaspace", "prepend_scheme": "sometimes"]), "prepend_scheme"),
            (with("pre_tokenizer", ["type": "Metaspace", "replacement": "__"]), "replacement"),
            (
                with(
                    "post_processor",
                    [
                        "type": "TemplateProcessing",
                        "single": [
                            ["SpecialToken": ["id": "<bos>"]],
                            ["Sequence": ["id": "A"]]
                        ],
                        "special_tokens": [:]
                    ]), "<bos>"
            ),
            (with("post_processor", ["type": "TemplateProcessing", "single": [], "special_tokens": [:]]), "Sequence")
        ]
        for (document, word) in cases {
            try write(document, to: url)
            assertError(try SentencePieceBPETokenizer.load(tokenizerJSON: url)) {
                if case .malformedJSON(url.path, let reason) = $0 { return reason.contains(word) }
                return false
            }
        }
    }

    func testVocabularyThatDoesNotFit() throws {
        let folder = try makeTemporaryFolder(self)
        let url = folder.appendingPathComponent("tokenizer.json")
        var base = try llamaDocument()
        var model = try XCTUnwrap(base["model"] as? [String: Any])
        let vocabulary = try XCTUnwrap(model["vocab"] as? [String: Int])
        func load(_ change: (inout [String: Any]) -> Void) throws -> SentencePieceBPETokenizer {
            var changed = model
            change(&changed)
            base["model"] = changed
            try write(base, to: url)
            return try SentencePieceBPETokenizer.load(tokenizerJSON: url)
        }

        assertError(try load { $0["merges"] = [["▁", "t"], ["▁", "t", "h"]] }) {
            $0 == .malformedMerge(path: url.path, line: 2, text: "▁ t h")
        }
        assertError(try load { $0["merges"] = ["▁ t", "x y"] }) {
            $0 == .unknownMergePiece(path: url.path, line: 2, piece: "x")
        }
        assertError(try load { $0["merges"] = [["t", "w"]] }) {  // "tw" is not a piece
            $0 == .unknownMergePiece(path: url.path, line: 1, piece: "tw")
        }
        assertError(try load { $0["unk_token"] = "<nope>" }) { self.reason($0).contains("<nope>") }
        assertError(try load { $0["vocab"] = vocabulary.merging(["bad": -4]) { $1 } }) { self.reason($0).contains("-4") }
        assertError(try load { $0["vocab"] = vocabulary.merging(["huge": 1 << 30]) { $1 } }) {
            self.reason($0).contains("larger")
        }
        assertError(try load { $0["vocab"] = [String: Int]() }) { self.reason($0).contains("empty") }

        // No end-of-text token anywhere.
        base["added_tokens"] = []
        base["post_processor"] = NSNull()
        assertError(try load { $0["vocab"] = vocabulary.filter { $0.key != "</s>" } }) {
            self.reason($0).contains("end-of-text")
        }
        model["merges"] = []
        XCTAssertNoThrow(try load { _ in })
    }

    // MARK: The JSON reader

    func testJSONReaderKeepsKeysAndDecodesEscapes() throws {
        let text =
            #"{"\u00e0": 1, "a\u0300": 2, "s": "tab\there \"q\" \\ \/ \ud83d\ude00 \ud800 é", "n": [-1, 2.5e3, 0], "z": null, "t": true}"#
        let value = try JSONValue.parse(Array(text.utf8))
        let keys = try XCTUnwrap(value.members).map { Array($0.key.unicodeScalars.map(\.value)) }
        XCTAssertEqual(keys, [[0xE0], [0x61, 0x300], [0x73], [0x6E], [0x7A], [0x74]])
        XCTAssertEqual(value.member("\u{E0}")?.int, 1)
        XCTAssertEqual(value.member("a\u{300}")?.int, 2)
        XCTAssertEqual(value["s"]?.string, "tab\there \"q\" \\ / 😀 \u{FFFD} é")
        XCTAssertEqual(value["n"]?.array?.compactMap(\.double), [-1, 2500, 0])
        XCTAssertEqual(value["n"]?.array?.compactMap(\.int), [-1, 2500, 0])
        XCTAssertNil(value["z"])
        XCTAssertEqual(value.member("z")?.isNull, true)
        XCTAssertEqual(value["t"]?.bool, true)
        // A byte order mark is allowed.
        XCTAssertEqual(try JSONValue.parse([0xEF, 0xBB, 0xBF] + Array("[]".utf8)).array?.count, 0)
    }

    func testJSONReaderErrorsSayWhere() {
        let cases: [(String, Int)] = [
            ("", 0), ("{", 1), ("[1,]", 3), ("{\"a\" 1}", 5), ("[1] 2", 4), ("\"abc", 4), ("[01x]", 3),
            ("[\"\\q\"]", 2), ("[tru]", 1), ("{\"a\":1,}", 7), ("[-]", 2), ("[\"\u{1}\"]", 2)
        ]
        for (text, offset) in cases {
            XCTAssertThrowsError(try JSONValue.parse(Array(text.utf8)), "\"\(escaped(text))\"") { error in
                XCTAssertEqual((error as? JSONSyntaxError)?.offset, offset, "\"\(escaped(text))\": \(error)")
            }
        }
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        XCTAssertThrowsError(try JSONValue.parse(Array(deep.utf8))) { error in
            XCTAssertTrue("\(error)".contains("deep"), "\(error)")
        }
    }
}
