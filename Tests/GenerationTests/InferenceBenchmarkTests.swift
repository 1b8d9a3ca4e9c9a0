import Generation
import Tensors
import Transformer
import XCTest

/// `lantern bench`'s measurement on a tiny model: every figure is there, finite and consistent.
/// (Speeds are never asserted: these machines are shared and noisy.)
final class InferenceBenchmarkTests: XCTestCase {
    func testAMeasurementHasEveryFigure() {
        let config = TransformerConfig.gpt2(layers: 1, heads: 2, width: 16, vocabularySize: 50, contextLength: 64)
        let model = RandomModels.make(config)
        let before = Parallelism.threads
        defer { Parallelism.setThreads(before) }
        let benchmark = InferenceBenchmark(prefillTokens: 24, decodeTokens: 4, promptTokens: 3, recording: true)
        let m = benchmark.measure(model, threads: 1, prompt: Array(0..<24))
        XCTAssertEqual(m.threads, 1)
        XCTAssertEqual(m.decodeBytesPerToken, model.decodeBytesPerToken)
        for figure in [m.prefillTokensPerSecond, m.decodeTokensPerSecond, m.memoryReadBytesPerSecond, m.decodeBoundTokensPerSecond] {
            XCTAssertTrue(figure.isFinite && figure > 0, "\(figure)")
        }
        XCTAssertEqual(m.decodeBoundTokensPerSecond, m.memoryReadBytesPerSecond / Double(m.decodeBytesPerToken), accuracy: 1e-6)
        XCTAssertEqual(m.decodeFractionOfBound, m.decodeTokensPerSecond / m.decodeBoundTokensPerSecond, accuracy: 1e-12)
        let recording = try? XCTUnwrap(m.recording)
        XCTAssertTrue(recording?.prefillOverheadPercent.isFinite ?? false)
        XCTAssertTrue(recording?.decodeTokensPerSecond.isFinite ?? false)
        XCTAssertNil(
            InferenceBenchmark(prefillTokens: 8, decodeTokens: 2, promptTokens: 2, recording: false)
                .measure(model, threads: 1, prompt: Array(0..<8)).recording)
    }
}
