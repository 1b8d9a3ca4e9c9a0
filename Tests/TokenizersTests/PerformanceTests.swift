import Foundation
import XCTest
@testable import Tokenizers

/// Encoding must stay interactive even in debug builds.
final class PerformanceTests: XCTestCase {
    /// The fastest of three runs, to keep a busy machine from failing the test.
    private func fastest(_ body: () -> Void) -> Duration {
        let clock = ContinuousClock()
        return (0..<3).map { _ in clock.measure(body) }.min()!
    }

    func testVectorFileEncodesQuickly() throws {
        let tokenizer = try SharedData.gpt2()
        let texts = try GPT2VectorTests.vectors().map(\.text)
        let elapsed = fastest { for text in texts { _ = tokenizer.encode(text) } }
        print("46 llama.cpp vectors: \(elapsed)")
        XCTAssertLessThan(elapsed, .milliseconds(250))
    }

    func testHundredKilobytesEncodeInUnderASecond() throws {
        let tokenizer = try SharedData.gpt2()
        // Story-like text from a seeded word list, with numbers, punctuation and some Unicode.
        let words = ["the", "little", "girl", "named", "Lily", "loved", "to", "play", "outside", "in", "park",
                     "One", "day", "she", "saw", "a", "big", "red", "ball", "didn't", "want", "it's", "and",
                     "1984", "3.5", "café", "naïve", "日本語", "🤗", "—", "\"quoted\"", "(aside)", "well,", "end.\n"]
        var generator = SeededGenerator(seed: 1)
        var text = ""
        while text.utf8.count < 100_000 {
            text += words.randomElement(using: &generator)!
            text += Int.random(in: 0..<12, using: &generator) == 0 ? "  " : " "
        }
        var ids: [Int] = []
        let elapsed = fastest { ids = tokenizer.encode(text) }
        print("\(text.utf8.count) bytes → \(ids.count) tokens in \(elapsed)")
        XCTAssertLessThan(elapsed, .seconds(1))
        XCTAssertEqual(tokenizer.decode(ids), text)
    }

    func testLlama2cHundredKilobytesEncodeInUnderASecond() throws {
        let tokenizer = try SharedData.tok512()
        let sentence = "Once upon a time, there was a little girl named Lily. She loved to play outside. "
        let text = String(repeating: sentence, count: 100_000 / sentence.utf8.count)
        var ids: [Int] = []
        let elapsed = fastest { ids = tokenizer.encode(text) }
        print("llama2.c: \(text.utf8.count) bytes → \(ids.count) tokens in \(elapsed)")
        XCTAssertLessThan(elapsed, .seconds(1))
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), text)
    }

    func testLoadingTheReleasedFiles() throws {
        _ = try SharedData.file("gpt2-tokenizer/encoder.json")
        let clock = ContinuousClock()
        let elapsed = clock.measure { _ = try? GPT2Tokenizer.load(folder: SharedData.root.appendingPathComponent("gpt2-tokenizer")) }
        print("loading GPT-2 vocab + merges: \(elapsed)")
    }
}
