import Foundation
import XCTest
@testable import Tokenizers

/// llama.cpp's GPT-2 tokenizer test vectors (shared/data/gpt2-tokenizer-vectors):
/// inputs written by someone else, ids produced by the reference tokenizer.
final class GPT2VectorTests: XCTestCase {
    /// The 46 (input, expected ids) pairs, split at the byte level so that no
    /// "\r\n" or combining mark can blur a separator.
    static func vectors() throws -> [(text: String, ids: [Int])] {
        let input = try [UInt8](Data(contentsOf: SharedData.file("gpt2-tokenizer-vectors/ggml-vocab-gpt-2.gguf.inp")))
        let output = try [UInt8](Data(contentsOf: SharedData.file("gpt2-tokenizer-vectors/ggml-vocab-gpt-2.gguf.out")))

        let separator = Array("\n__ggml_vocab_test__\n".utf8)
        var texts: [String] = []
        var start = 0, index = 0
        while index + separator.count <= input.count {
            if input[index..<(index + separator.count)].elementsEqual(separator) {
                texts.append(String(decoding: input[start..<index], as: UTF8.self))
                index += separator.count
                start = index
            } else {
                index += 1
            }
        }

        var lines = output.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }  // the file ends with a newline
        let ids = lines.map { line in
            String(decoding: line, as: UTF8.self).split(separator: " ").compactMap { Int($0) }
        }
        XCTAssertEqual(texts.count, ids.count, "the .inp and .out files disagree on the number of cases")
        return Array(zip(texts, ids))
    }

    func testAllLlamaCppVectorsEncodeExactly() throws {
        let tokenizer = try SharedData.gpt2()
        let vectors = try Self.vectors()
        XCTAssertEqual(vectors.count, 46)
        for (number, vector) in vectors.enumerated() {
            XCTAssertEqual(
                tokenizer.encode(vector.text), vector.ids,
                "case \(number + 1): \"\(escaped(vector.text))\"")
        }
    }

    func testAllLlamaCppVectorsDecodeBack() throws {
        let tokenizer = try SharedData.gpt2()
        for (number, vector) in try Self.vectors().enumerated() {
            XCTAssertEqual(
                Array(tokenizer.decode(vector.ids).utf8), Array(vector.text.utf8),
                "case \(number + 1): \"\(escaped(vector.text))\"")
        }
    }
}
