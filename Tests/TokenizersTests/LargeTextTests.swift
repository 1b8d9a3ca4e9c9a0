import Foundation
import XCTest
@testable import Tokenizers

/// Large inputs round-trip exactly. The time each takes is printed for information only:
/// speed targets live in benchmarks, not in assertions on a shared, noisy machine.
final class LargeTextTests: XCTestCase {
    private func timed(_ body: () -> Void) -> Duration {
        ContinuousClock().measure(body)
    }

    func testHundredKilobytesRoundTrip() throws {
        let tokenizer = try SharedData.gpt2()
        // Story-like text from a seeded word list, with numbers, punctuation and some Unicode.
        let words = [
            "the", "little", "girl", "named", "Lily", "loved", "to", "play", "outside", "in", "park",
            "One", "day", "she", "saw", "a", "big", "red", "ball", "didn't", "want", "it's", "and",
            "1984", "3.5", "café", "naïve", "日本語", "🤗", "—", "\"quoted\"", "(aside)", "well,", "end.\n"
        ]
        var generator = SeededGenerator(seed: 1)
        var text = ""
        while text.utf8.count < 100_000 {
            text += words.randomElement(using: &generator)!
            text += Int.random(in: 0..<12, using: &generator) == 0 ? "  " : " "
        }
        var ids: [Int] = []
        let elapsed = timed { ids = tokenizer.encode(text) }
        print("\(text.utf8.count) bytes → \(ids.count) tokens in \(elapsed)")
        XCTAssertEqual(tokenizer.decode(ids), text)
    }

    func testLlama2cHundredKilobytesRoundTrip() throws {
        let tokenizer = try SharedData.tok512()
        let sentence = "Once upon a time, there was a little girl named Lily. She loved to play outside. "
        let text = String(repeating: sentence, count: 100_000 / sentence.utf8.count)
        var ids: [Int] = []
        let elapsed = timed { ids = tokenizer.encode(text) }
        print("llama2.c: \(text.utf8.count) bytes → \(ids.count) tokens in \(elapsed)")
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), text)
    }
}
