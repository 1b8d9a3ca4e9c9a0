import Foundation
import Tensors
import Transformer
import XCTest

final class PositionalTableTests: XCTestCase {
    /// Whether a model adds learned positions is asked of the model, not of its family name.
    func testLearnedPositionsAreACapabilityOfTheModel() throws {
        let gpt2 = try ModelLoader.loadHuggingFace(folder: Fixtures.folder("gpt2-bytes-noprefix"))
        let llama = try ModelLoader.loadHuggingFace(folder: Fixtures.folder("llama-tiny-gqa"))
        XCTAssertTrue(gpt2.config.hasLearnedPositions)
        XCTAssertEqual(gpt2.learnedPositionTable?.shape, [gpt2.config.contextLength, gpt2.config.width])
        XCTAssertFalse(llama.config.hasLearnedPositions)
        XCTAssertNil(llama.learnedPositionTable)
        XCTAssertEqual(llama.tokenEmbeddingTable.shape, [llama.config.vocabularySize, llama.config.width])
    }

    func testSinusoidalFollowsThePaper() {
        let table = PositionalTables.sinusoidal(positions: 50, width: 16)
        XCTAssertEqual(table.shape, [50, 16])
        // Position 0: sin 0 = 0 in even channels, cos 0 = 1 in odd ones.
        for i in 0..<16 { XCTAssertEqual(table.scalars[i], i % 2 == 0 ? 0 : 1) }
        // Position 1, pair 0: angle 1 radian.
        XCTAssertEqual(table.scalars[16], 0.84147098, accuracy: 1e-6)
        XCTAssertEqual(table.scalars[17], 0.54030231, accuracy: 1e-6)
        // Position 37, channels 6/7: angle 37 / 10000^(6/16).
        let angle = 37 / pow(10000.0, 6.0 / 16.0)
        XCTAssertEqual(Double(table.scalars[37 * 16 + 6]), sin(angle), accuracy: 1e-6)
        XCTAssertEqual(Double(table.scalars[37 * 16 + 7]), cos(angle), accuracy: 1e-6)
    }

    func testRotaryAnglesGrowLinearlyWithPosition() {
        let angles = PositionalTables.rotaryAngles(positions: 8, headSize: 8, theta: 10000)
        XCTAssertEqual(angles.shape, [8, 4])
        XCTAssertEqual(angles.scalars[4 + 0], 1, accuracy: 1e-6)  // position 1, pair 0
        XCTAssertEqual(angles.scalars[5 * 4 + 1], 5 * powf(10000, -0.25), accuracy: 1e-5)
    }
}
