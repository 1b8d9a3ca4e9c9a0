import Foundation
import LanternTestSupport
import XCTest
@testable import Tokenizers

// MARK: - Shared reference data

/// The reference files in `shared/data/`, the folder beside the repository
/// (see its README). Tests skip with a message when it is absent;
/// `LANTERN_SHARED_DATA` points elsewhere.
enum SharedData {
    static var root: URL { ReferenceData.root }

    /// The URL of `relativePath` inside the shared data, or an XCTSkip saying what is missing.
    static func file(_ relativePath: String) throws -> URL { try ReferenceData.url(relativePath) }

    /// The released GPT-2 tokenizer (encoder.json + vocab.bpe), loaded once for all tests.
    static func gpt2() throws -> GPT2Tokenizer {
        _ = try file("gpt2-tokenizer/encoder.json")
        _ = try file("gpt2-tokenizer/vocab.bpe")
        return try gpt2Result.get()
    }

    private static let gpt2Result = Result {
        try GPT2Tokenizer.load(folder: root.appendingPathComponent("gpt2-tokenizer"))
    }

    /// The stories260K llama2.c tokenizer (tok512.bin), loaded once.
    static func tok512() throws -> Llama2cTokenizer {
        _ = try file("stories260K/tok512.bin")
        return try tok512Result.get()
    }

    private static let tok512Result = Result {
        try Llama2cTokenizer.load(root.appendingPathComponent("stories260K/tok512.bin"), vocabularySize: 512)
    }
}

// MARK: - Seeded randomness

/// SplitMix64: a tiny, well-mixed generator, so every "random" test input is
/// the same on every run and machine.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// MARK: - Temporary folders

/// A fresh folder under the system temporary folder, removed when the test ends.
func makeTemporaryFolder(_ testCase: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("lantern-tokenizers-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    testCase.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Text with invisible characters escaped, for failure messages.
func escaped(_ text: String) -> String {
    text.unicodeScalars.map { $0.escaped(asASCII: true) }.joined()
}
