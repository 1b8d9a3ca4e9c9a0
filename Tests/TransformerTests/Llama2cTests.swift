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

    /// A header whose sizes multiply past 2^63 is refused before anything is read (the integer
    /// sum used to wrap in release builds and let a 28-byte file through to reads past its end).
    func testAHeaderWhoseSizesOverflowIsRefused() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("overflow-\(UUID()).bin")
        defer { try? FileManager.default.removeItem(at: file) }
        var data = Data()
        let huge = Int32((1 << 20) - 4)  // head size (huge / 2) even, as the header check wants
        for field in [huge, huge, huge, 2, 2, Int32.max, 16] { withUnsafeBytes(of: field.littleEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: [UInt8](repeating: 0, count: 64))
        try data.write(to: file)
        XCTAssertThrowsError(try Llama2cCheckpoint.load(file)) { error in
            XCTAssertTrue("\(error)".contains("far larger than any file"), "\(error)")
        }
    }
}
