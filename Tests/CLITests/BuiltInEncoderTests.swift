import Foundation
import XCTest

/// The built-in teaching encoder, lantern-tiny-encoder: it ships with the package, `fill` and
/// `embed` use it without --model, and it has learnt its corpus — measured on held-out stories
/// (`lantern evaluate`). Thresholds sit below the figures measured when it was trained
/// (Sources/ModelHub/lantern-tiny-encoder/TRAINING.md), far above the baseline of always
/// guessing the most frequent words.
final class BuiltInEncoderTests: XCTestCase {
    func testFillNeedsNoModelAndUsesTheWordsAfterTheBlank() throws {
        // The blank's answer is told by what follows it: "… the red ball to Tom" → gave.
        let run = try CLI.run(["fill", "Mia [MASK] the red ball to Tom.", "--json", "--top", "3"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let masks = try XCTUnwrap(CLI.json(run.stdout)["masks"] as? [[String: Any]])
        let best = try XCTUnwrap((masks.first?["candidates"] as? [[String: Any]])?.first)
        XCTAssertEqual(best["piece"] as? String, "gave", run.stdout)
        XCTAssertGreaterThan(try XCTUnwrap((best["probability"] as? NSNumber)?.doubleValue), 0.5)
        let models = try CLI.run(["models"])
        XCTAssertTrue(models.stdout.contains("lantern-tiny-encoder"), models.stdout)
    }

    func testTheFillInCardBeatsGuessingTheFrequentWords() throws {
        let run = try CLI.run(["evaluate", "--model", "lantern-tiny-encoder", "--count", "30", "--json"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let report = try CLI.json(run.stdout)
        print("lantern evaluate --model lantern-tiny-encoder (30 stories): \(run.stdout)")
        func number(_ key: String) throws -> Double { try XCTUnwrap((report[key] as? NSNumber)?.doubleValue, key) }
        XCTAssertGreaterThan(try number("top1"), 0.8)
        XCTAssertGreaterThan(try number("top5"), 0.9)
        XCTAssertLessThan(try number("unigramTop5"), 0.3)
        // A head that clearly looks at later tokens (a decoder's share is 0).
        XCTAssertGreaterThan(try number("laterShare"), 0.5)
    }
}
