import Foundation
import XCTest
@testable import Tokenizers

/// The three file layouts give the same tokenizer; bad files give errors
/// that name the file, never a crash.
final class GPT2LoaderTests: XCTestCase {
    // MARK: Fixtures

    private var encoderJSON: URL { get throws { try SharedData.file("gpt2-tokenizer/encoder.json") } }
    private var vocabBPE: URL { get throws { try SharedData.file("gpt2-tokenizer/vocab.bpe") } }

    /// A text that exercises every rule: all of llama.cpp's inputs plus a special token.
    private func sampleText() throws -> String {
        try GPT2VectorTests.vectors().map(\.text).joined(separator: "<|endoftext|>")
    }

    /// Writes a Hugging Face style tokenizer.json built from the shared
    /// encoder.json and vocab.bpe.
    private func writeTokenizerJSON(to url: URL, mergesAsPairs: Bool, modelType: String = "BPE") throws {
        let vocabulary = try JSONSerialization.jsonObject(with: Data(contentsOf: encoderJSON))
        let lines = try String(contentsOf: vocabBPE, encoding: .utf8)
            .split(separator: "\n").dropFirst().map(String.init)
        let merges: [Any] = mergesAsPairs ? lines.map { $0.split(separator: " ").map(String.init) } : lines
        let document: [String: Any] = [
            "version": "1.0",
            "added_tokens": [
                [
                    "id": 50256, "content": "<|endoftext|>", "single_word": false, "lstrip": false,
                    "rstrip": false, "normalized": true, "special": true
                ]
            ],
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": [
                "type": modelType, "dropout": NSNull(), "unk_token": NSNull(), "vocab": vocabulary,
                "merges": merges
            ]
        ]
        try JSONSerialization.data(withJSONObject: document).write(to: url)
    }

    private func copy(_ source: URL, to folder: URL, as name: String) throws {
        try FileManager.default.copyItem(at: source, to: folder.appendingPathComponent(name))
    }

    private func assertThrows(
        _ expression: @autoclosure () throws -> GPT2Tokenizer,
        file: StaticString = #filePath, line: UInt = #line,
        _ check: (TokenizerError) -> Bool
    ) {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            guard let error = error as? TokenizerError else {
                return XCTFail("not a TokenizerError: \(error)", file: file, line: line)
            }
            XCTAssertTrue(check(error), "unexpected error: \(error)", file: file, line: line)
            XCTAssertTrue(error.description.contains("Hint:"), file: file, line: line)
            XCTAssertEqual(error.errorDescription, error.description, file: file, line: line)
        }
    }

    // MARK: Same tokenizer from every layout

    func testAllLayoutsEncodeIdentically() throws {
        let folder = try makeTemporaryFolder(self)
        let text = try sampleText()

        let openAI = try GPT2Tokenizer.load(vocabulary: encoderJSON, merges: vocabBPE)
        let reference = openAI.encode(text)
        XCTAssertEqual(reference.filter { $0 == 50256 }.count, 45)

        let huggingFace = folder.appendingPathComponent("hf")
        try FileManager.default.createDirectory(at: huggingFace, withIntermediateDirectories: true)
        try copy(encoderJSON, to: huggingFace, as: "vocab.json")
        try copy(vocabBPE, to: huggingFace, as: "merges.txt")
        XCTAssertEqual(try GPT2Tokenizer.load(folder: huggingFace).encode(text), reference)

        for mergesAsPairs in [false, true] {
            let url = folder.appendingPathComponent("tokenizer-\(mergesAsPairs).json")
            try writeTokenizerJSON(to: url, mergesAsPairs: mergesAsPairs)
            let fromJSON = try GPT2Tokenizer.load(tokenizerJSON: url)
            XCTAssertEqual(fromJSON.encode(text), reference, "merges as pairs: \(mergesAsPairs)")
            XCTAssertEqual(fromJSON.vocabularySize, 50257)
            XCTAssertEqual(fromJSON.endOfText, 50256)
            XCTAssertEqual(fromJSON.specialTokens, ["<|endoftext|>": 50256])
        }
    }

    func testFolderLoaderPrefersTokenizerJSON() throws {
        let folder = try makeTemporaryFolder(self)
        try copy(encoderJSON, to: folder, as: "encoder.json")
        try copy(vocabBPE, to: folder, as: "vocab.bpe")
        let text = "Hello, world! 🤗"
        let expected = try GPT2Tokenizer.load(folder: folder).encode(text)
        XCTAssertEqual(expected, [15496, 11, 995, 0, 12520, 97, 245])

        // A tokenizer.json that adds a token proves which file was read.
        let url = folder.appendingPathComponent("tokenizer.json")
        try writeTokenizerJSON(to: url, mergesAsPairs: true)
        var document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        document["added_tokens"] = [
            ["id": 50256, "content": "<|endoftext|>", "special": true],
            ["id": 50257, "content": "<|pad|>", "special": true]
        ]
        try JSONSerialization.data(withJSONObject: document).write(to: url)
        let tokenizer = try GPT2Tokenizer.load(folder: folder)
        XCTAssertEqual(tokenizer.vocabularySize, 50258)
        XCTAssertEqual(tokenizer.encode("Hi<|pad|>"), [17250, 50257])
        XCTAssertEqual(tokenizer.decode([17250, 50257]), "Hi<|pad|>")
    }

    // MARK: Errors

    func testMissingFiles() throws {
        // Resolved first, so absent shared data skips instead of failing inside an assertion.
        let (encoderJSON, vocabBPE) = (try self.encoderJSON, try self.vocabBPE)
        let folder = try makeTemporaryFolder(self)
        let missing = folder.appendingPathComponent("vocab.json")
        assertThrows(try GPT2Tokenizer.load(vocabulary: missing, merges: vocabBPE)) {
            $0 == .fileNotFound(path: missing.path)
        }
        assertThrows(try GPT2Tokenizer.load(folder: folder)) { $0 == .noTokenizerFiles(folder: folder.path) }
        assertThrows(try GPT2Tokenizer.load(folder: folder.appendingPathComponent("nope"))) {
            if case .fileNotFound = $0 { return true } else { return false }
        }
        // Half a pair: name the half that is missing.
        try copy(encoderJSON, to: folder, as: "vocab.json")
        assertThrows(try GPT2Tokenizer.load(folder: folder)) {
            $0 == .fileNotFound(path: folder.appendingPathComponent("merges.txt").path)
        }
    }

    func testMalformedJSON() throws {
        // Resolved first, so absent shared data skips instead of failing inside an assertion.
        let vocabBPE = try self.vocabBPE
        let folder = try makeTemporaryFolder(self)
        let truncated = folder.appendingPathComponent("vocab.json")
        try Data("{\"!\": 0, \"\\\"\": 1, \"#\"".utf8).write(to: truncated)
        assertThrows(try GPT2Tokenizer.load(vocabulary: truncated, merges: vocabBPE)) {
            if case .malformedJSON(truncated.path, _) = $0 { return true } else { return false }
        }
        let wrongShape = folder.appendingPathComponent("encoder.json")
        try Data("{\"a\": \"zero\"}".utf8).write(to: wrongShape)
        assertThrows(try GPT2Tokenizer.load(vocabulary: wrongShape, merges: vocabBPE)) {
            if case .malformedJSON(wrongShape.path, let reason) = $0 { return reason.contains("a") } else { return false }
        }
        let noModel = folder.appendingPathComponent("tokenizer.json")
        try Data("{\"version\": \"1.0\"}".utf8).write(to: noModel)
        assertThrows(try GPT2Tokenizer.load(tokenizerJSON: noModel)) {
            if case .malformedJSON(noModel.path, let reason) = $0 { return reason.contains("model") } else { return false }
        }
    }

    func testBadMergeLines() throws {
        // Resolved first, so absent shared data skips instead of failing inside an assertion.
        let encoderJSON = try self.encoderJSON
        let folder = try makeTemporaryFolder(self)
        let merges = folder.appendingPathComponent("merges.txt")

        try Data("#version: 0.2\nĠ t\nzz☃ t\n".utf8).write(to: merges)
        assertThrows(try GPT2Tokenizer.load(vocabulary: encoderJSON, merges: merges)) {
            $0 == .unknownMergePiece(path: merges.path, line: 3, piece: "zz☃")
        }
        try Data("#version: 0.2\nĠ t h\n".utf8).write(to: merges)
        assertThrows(try GPT2Tokenizer.load(vocabulary: encoderJSON, merges: merges)) {
            $0 == .malformedMerge(path: merges.path, line: 2, text: "Ġ t h")
        }
        try Data("#version: 0.2\nĠt\n".utf8).write(to: merges)
        assertThrows(try GPT2Tokenizer.load(vocabulary: encoderJSON, merges: merges)) {
            $0 == .malformedMerge(path: merges.path, line: 2, text: "Ġt")
        }
        // Blank lines and Windows line ends are fine.
        try Data("#version: 0.2\r\nĠ t\r\n\r\nh e\r\n".utf8).write(to: merges)
        let tokenizer = try GPT2Tokenizer.load(vocabulary: encoderJSON, merges: merges)
        XCTAssertEqual(tokenizer.encode(" the"), [256, 258])  // "Ġt" + "he", then no rule joins them
    }

    func testBadMergesInTokenizerJSON() throws {
        let folder = try makeTemporaryFolder(self)
        let url = folder.appendingPathComponent("tokenizer.json")
        var vocabulary: [String: Int] = [:]
        for byte in 0..<256 { vocabulary[ByteLevel.piece(ofBytes: [UInt8(byte)])] = byte }
        vocabulary["<|endoftext|>"] = 256
        vocabulary["ab"] = 257
        for (merges, expected) in [
            ([["a", "b"], ["a", "b", "c"]] as [Any], TokenizerError.malformedMerge(path: url.path, line: 2, text: "a b c")),
            (["a b", "b c"], TokenizerError.unknownMergePiece(path: url.path, line: 2, piece: "bc"))
        ] {
            let document: [String: Any] = ["model": ["type": "BPE", "vocab": vocabulary, "merges": merges]]
            try JSONSerialization.data(withJSONObject: document).write(to: url)
            assertThrows(try GPT2Tokenizer.load(tokenizerJSON: url)) { $0 == expected }
            XCTAssertThrowsError(try GPT2Tokenizer.load(tokenizerJSON: url)) { error in
                XCTAssertTrue("\(error)".contains("model.merges entry 2"), "\(error)")
            }
        }
    }

    func testUnsupportedTokenizerJSON() throws {
        let folder = try makeTemporaryFolder(self)
        let url = folder.appendingPathComponent("tokenizer.json")
        try writeTokenizerJSON(to: url, mergesAsPairs: false, modelType: "WordPiece")
        assertThrows(try GPT2Tokenizer.load(tokenizerJSON: url)) {
            if case .unsupportedModel(url.path, let reason) = $0 { return reason.contains("WordPiece") }
            return false
        }
        // A SentencePiece-style BPE vocabulary has no byte characters such as "Ġ".
        let document: [String: Any] = ["model": ["type": "BPE", "vocab": ["▁the": 0, "<|endoftext|>": 1], "merges": []]]
        try JSONSerialization.data(withJSONObject: document).write(to: url)
        assertThrows(try GPT2Tokenizer.load(tokenizerJSON: url)) {
            if case .invalidVocabulary(url.path, let reason) = $0 { return reason.contains("byte") }
            return false
        }
    }

    func testVocabularyProblems() throws {
        var vocabulary: [String: Int] = [:]
        for byte in 0..<256 { vocabulary[ByteLevel.piece(ofBytes: [UInt8(byte)])] = byte }
        XCTAssertThrowsError(try GPT2Tokenizer(vocabulary: vocabulary, merges: [])) { error in
            XCTAssertTrue("\(error)".contains("<|endoftext|>"))
        }
        vocabulary["<|endoftext|>"] = -3
        XCTAssertThrowsError(try GPT2Tokenizer(vocabulary: vocabulary, merges: []))
        vocabulary["<|endoftext|>"] = Int(Int32.max)
        XCTAssertThrowsError(try GPT2Tokenizer(vocabulary: vocabulary, merges: []))
        vocabulary["<|endoftext|>"] = 256
        XCTAssertNoThrow(try GPT2Tokenizer(vocabulary: vocabulary, merges: []))
    }
}

/// A byte-level tokenizer.json that asks to split text otherwise than GPT-2 (a Llama 3 style
/// regex before a regex-free ByteLevel, a prefix space, a normalizer) is refused by name: Lantern
/// would have split it with GPT-2's pattern, silently giving other tokens than the model saw.
final class ByteLevelPreTokenizerTests: XCTestCase {
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TransformerTests/Fixtures/gpt2-bytes-bf16-sharded/tokenizer.json")

    func load(changing key: String, to value: Any) throws -> GPT2Tokenizer {
        var document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: fixture)) as? [String: Any])
        document[key] = value
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-pretok-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try JSONSerialization.data(withJSONObject: document).write(to: url)
        return try GPT2Tokenizer.load(tokenizerJSON: url)
    }

    func testOtherSplitsAreRefusedByName() throws {
        let llama3Split: [String: Any] = [
            "type": "Split", "behavior": "Isolated", "invert": false,
            "pattern": ["Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"]
        ]
        let cases: [(String, Any, String)] = [
            (
                "pre_tokenizer",
                ["type": "Sequence", "pretokenizers": [llama3Split, ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false]]],
                "pre_tokenizer Sequence of Split + ByteLevel is not supported"
            ),
            ("pre_tokenizer", ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false], "use_regex: false"),
            (
                "pre_tokenizer", ["type": "ByteLevel", "add_prefix_space": true, "use_regex": true],
                "add_prefix_space: true is not supported"
            ),
            ("normalizer", ["type": "NFC"], "normalizer \"NFC\" is not supported")
        ]
        for (key, value, message) in cases {
            XCTAssertThrowsError(try load(changing: key, to: value)) { error in
                XCTAssertTrue("\(error)".contains(message), "«\(error)» should say «\(message)»")
            }
        }
        // GPT-2's own layouts load: ByteLevel alone, or alone inside a Sequence.
        XCTAssertNoThrow(
            try load(
                changing: "pre_tokenizer",
                to: [
                    "type": "Sequence",
                    "pretokenizers": [
                        ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
                    ]
                ]))
        XCTAssertNoThrow(try load(changing: "normalizer", to: NSNull()))
    }
}
