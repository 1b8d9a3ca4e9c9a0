import Foundation
import Tensors
import Transformer
import XCTest

/// The real pretrained stories260K model (llama2.c format) against llama2.c's own greedy output.
final class Llama2cTests: XCTestCase {
    func testStories260KGreedyFromBOSMatchesLlama2c() throws {
        let checkpoint = try Fixtures.shared("stories260K/stories260K.bin")
        let expectedText = try String(contentsOf: try Fixtures.shared("stories260K/greedy-from-bos-200.ids"), encoding: .utf8)
        var expected = expectedText.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "," }).compactMap { Int($0) }
        if expected.first == 1 { expected.removeFirst() }  // the file may start with BOS itself
        XCTAssertEqual(expected.count, 200)

        let model = try Llama2cCheckpoint.load(checkpoint)
        XCTAssertEqual(model.config.layers, 5)
        XCTAssertEqual(model.config.kvHeads, 4)
        XCTAssertEqual(model.config.positional, .rotary(theta: 10000, layout: .interleaved))
        var cache = model.makeCache()
        var logits = model.nextTokenLogits([1], cache: &cache)
        var produced: [Int] = []
        for _ in 0..<expected.count {
            let token = logits.indices.max { logits[$0] < logits[$1] || (logits[$0] == logits[$1] && $0 > $1) }!
            produced.append(token)
            logits = model.nextTokenLogits([token], cache: &cache)
        }
        XCTAssertEqual(produced, expected)
    }

    func testTruncatedCheckpointIsAClearError() throws {
        let checkpoint = try Fixtures.shared("stories260K/stories260K.bin")
        let data = try Data(contentsOf: checkpoint)
        let truncated = FileManager.default.temporaryDirectory.appendingPathComponent("truncated-\(UUID()).bin")
        try data.prefix(data.count / 2).write(to: truncated)
        defer { try? FileManager.default.removeItem(at: truncated) }
        XCTAssertThrowsError(try Llama2cCheckpoint.load(truncated)) { error in
            XCTAssertTrue("\(error)".contains("needs"), "\(error)")
        }
        try Data([1, 2, 3]).write(to: truncated)
        XCTAssertThrowsError(try Llama2cCheckpoint.load(truncated)) { error in
            XCTAssertTrue("\(error)".contains("shorter than the 28-byte header"), "\(error)")
        }
    }
}
