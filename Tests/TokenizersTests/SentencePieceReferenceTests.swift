import Foundation
import XCTest
@testable import Tokenizers

// MARK: - Fixture folders

/// The model folders in `Tests/TransformerTests/Fixtures` (in the repository,
/// so never skipped), found from this file's real location: the test target
/// may be built through a symbolic link.
enum Fixtures {
    static let root: URL = {
        // #filePath is <repo>/Tests/TokenizersTests/SentencePieceReferenceTests.swift.
        let tests = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent()
        return tests.appendingPathComponent("TransformerTests/Fixtures")
    }()

    static func folder(_ name: String) throws -> URL {
        let url = root.appendingPathComponent(name)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw FixtureMissing(path: url.path)
        }
        return url
    }

    struct FixtureMissing: Error, CustomStringConvertible {
        var path: String
        var description: String { "fixture folder \(path) is missing; it is part of the repository" }
    }

    static var llamaFolder: URL { get throws { try folder("llama-tiny-gqa") } }

    /// The llama-tiny-gqa tokenizer, loaded once for all tests.
    static func llama() throws -> SentencePieceBPETokenizer { try llamaResult.get() }

    private static let llamaResult = Result {
        try SentencePieceBPETokenizer.load(tokenizerJSON: folder("llama-tiny-gqa").appendingPathComponent("tokenizer.json"))
    }
}

// MARK: - Reference cases

/// Ids Hugging Face `tokenizers` gave for the same texts (see
/// `scripts/make_fixtures.py` and `scripts/make_tokenizer_cases.py`): every
/// case must match exactly.
final class SentencePieceReferenceTests: XCTestCase {
    struct Case: Decodable {
        var text: String
        var ids: [Int]
        var decoded: String
    }

    struct CaseFile: Decodable {
        var cases: [Case]
    }

    struct VariantFile: Decodable {
        var variants: [Variant]
    }

    struct Variant: Decodable {
        var name: String
        var tokenizerJSON: String?
        var cases: [Case]

        enum CodingKeys: String, CodingKey {
            case name, cases
            case tokenizerJSON = "tokenizer_json"
        }
    }

    /// `scripts/make_fixtures.py`'s cases for the llama fixture.
    func testFixtureCasesMatchHuggingFace() throws {
        let tokenizer = try Fixtures.llama()
        let url = try Fixtures.llamaFolder.appendingPathComponent("reference/tokenizer_cases.json")
        let file = try JSONDecoder().decode(CaseFile.self, from: Data(contentsOf: url))
        XCTAssertEqual(file.cases.count, 12)
        for item in file.cases {
            XCTAssertEqual(tokenizer.encode(item.text), item.ids, "\"\(escaped(item.text))\"")
            assertDecodes(tokenizer, item, "")
        }
    }

    /// `scripts/make_tokenizer_cases.py`'s variants: the fixture's file, its
    /// older spellings, and hand-made vocabularies whose merges, unknown
    /// characters and templates test the corners.
    func testVariantCasesMatchHuggingFace() throws {
        let url = try Fixtures.llamaFolder.appendingPathComponent("reference/sentencepiece_cases.json")
        let file = try JSONDecoder().decode(VariantFile.self, from: Data(contentsOf: url))
        XCTAssertEqual(
            file.variants.map(\.name),
            [
                "fixture", "fixture-metaspace-always", "fixture-legacy-normalizer",
                "hand-first", "hand-legacy-unk", "hand-replace-only"
            ])
        var checked = 0
        for variant in file.variants {
            let tokenizer =
                try variant.tokenizerJSON.map {
                    try SentencePieceBPETokenizer(tokenizerJSON: Data($0.utf8), path: variant.name)
                } ?? Fixtures.llama()
            XCTAssertGreaterThan(variant.cases.count, 200)
            for item in variant.cases {
                XCTAssertEqual(tokenizer.encode(item.text), item.ids, "\(variant.name): \"\(escaped(item.text))\"")
                assertDecodes(tokenizer, item, variant.name + ": ")
                checked += 1
            }
        }
        XCTAssertEqual(checked, 1_356)
    }

    /// Decoding (control tokens skipped) gives Hugging Face's text, except
    /// around control tokens written in the text. Lantern drops the leading
    /// space of the piece after every `<s>` and nowhere else (as llama2.c);
    /// Hugging Face drops the first space of the decoded text, wherever it is.
    /// So "<unk> written" decodes to " written" here but "written" there, and
    /// "a <s> b" to "a b" here but "a  b" there. For such texts the two may
    /// differ only in spaces.
    private func assertDecodes(
        _ tokenizer: SentencePieceBPETokenizer, _ item: Case, _ label: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let decoded = tokenizer.decode(item.ids, skipSpecialTokens: true)
        let message = "\(label)\"\(escaped(item.text))\""
        // Searched by scalars: "<s>" followed by a combining mark is no Character match.
        let scalars = Array(item.text.unicodeScalars)
        let controlTokens = tokenizer.addedTokens.filter { tokenizer.isSpecialToken($0.value) }.keys
        let writesControlToken = controlTokens.contains { name in
            let pattern = Array(name.unicodeScalars)
            return scalars.indices.contains { scalars[$0...].starts(with: pattern) }
        }
        if writesControlToken {
            // By scalars: a space before a combining mark is part of its Character.
            func withoutSpaces(_ text: String) -> String {
                String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 != " " }))
            }
            XCTAssertEqual(withoutSpaces(decoded), withoutSpaces(item.decoded), message, file: file, line: line)
        } else {
            XCTAssertEqual(decoded, item.decoded, message, file: file, line: line)
        }
    }
}
