import Foundation
import Generation
import LanternTestSupport
import Tracing
import Transformer
import XCTest

/// The stepper's commands, without a terminal: what each typed line means and what it does to
/// the session (the `lantern step` end-to-end tests drive the same through a pipe).
final class StepperTests: XCTestCase {
    func testTypedLinesParse() {
        XCTAssertEqual(StepperCommand(""), .take)
        XCTAssertEqual(StepperCommand("s"), .take)
        XCTAssertEqual(StepperCommand("3"), .pick(3))
        XCTAssertEqual(StepperCommand("t  dragon"), .type(" dragon"), "the argument keeps its leading space")
        XCTAssertEqual(StepperCommand("TEMP 0.5"), .set(.temperature, "0.5"))
        XCTAssertEqual(StepperCommand("top-k 40"), .set(.topK, "40"))
        XCTAssertEqual(StepperCommand("topp 0.9"), .set(.topP, "0.9"))
        XCTAssertEqual(StepperCommand("seed 7"), .set(.seed, "7"))
        XCTAssertEqual(StepperCommand("a 1 2"), .attention("1 2"))
        XCTAssertEqual(StepperCommand("save"), .save(StepperCommand.defaultTraceFolder))
        XCTAssertEqual(StepperCommand("save out/x"), .save("out/x"))
        XCTAssertEqual(StepperCommand("u"), .undo)
        XCTAssertEqual(StepperCommand("?"), .help)
        XCTAssertEqual(StepperCommand("quit"), .quit)
        XCTAssertEqual(StepperCommand("frobnicate now"), .unknown("frobnicate now"))
    }

    func testCommandsChangeTheSession() throws {
        let bundle = try ModelBundle.load(model: Repository.fixtures.appendingPathComponent("gpt2-bytes-noprefix").path)
        let session = try GenerationSession(
            model: bundle.model, tokenizer: bundle.tokenizer,
            promptIds: PromptEncoder.ids(for: "Once upon", tokenizer: bundle.tokenizer),
            settings: SamplingSettings(temperature: 1, topK: 0, topP: 1), capture: CaptureSpec(kinds: [.pattern]))
        let stepper = Stepper(session: session, tokenizer: bundle.tokenizer, listed: 5, maxNewTokens: 4, isEndOfText: { _ in false })

        // Candidate 2 of the list is the second most likely token after temperature.
        let second = session.preview().afterTemperature[1].id
        try stepper.take(stepper.pick(2))
        XCTAssertEqual(session.generatedIds, [second])
        XCTAssertThrowsError(try stepper.pick(6)) { XCTAssertEqual($0 as? StepperError, .notListed(6, listed: 5)) }

        // Typed text is forced piece by piece.
        let typed = try stepper.tokens(typing: " a")
        XCTAssertEqual(typed, bundle.tokenizer.encodeContinuation(" a"))
        _ = try stepper.force(typed)
        XCTAssertEqual(Array(session.generatedIds.suffix(typed.count)), typed)
        XCTAssertThrowsError(try stepper.tokens(typing: "")) { XCTAssertEqual($0 as? StepperError, .emptyText) }

        try stepper.set(.temperature, "0.5")
        XCTAssertEqual(session.settings.temperature, 0.5)
        XCTAssertThrowsError(try stepper.set(.topK, "many")) {
            XCTAssertEqual("\($0)", "topk needs a whole number, e.g. topk 40 (0 = off)")
        }
        XCTAssertThrowsError(try stepper.set(.topP, "0"), "settings are validated, named as the stepper names them") {
            XCTAssertEqual("\($0)", "topp 0.0 is out of range: use greater than 0 and at most 1 (1 turns it off)")
        }

        // The newest row of the recorded pattern, over every position so far.
        let attention = try stepper.newestAttention("1 0")
        XCTAssertEqual(attention.weights.count, session.tokens.count, "the newest token attends to every position, its own included")
        XCTAssertEqual(attention.weights.reduce(0, +), 1, accuracy: 1e-5)
        XCTAssertThrowsError(try stepper.newestAttention("9 9")) {
            XCTAssertEqual($0 as? StepperError, .attentionUsage(layers: bundle.model.config.layers, heads: bundle.model.config.heads))
        }

        // At the limit a step is refused, and undo makes room again.
        while session.generatedIds.count < 4 { try stepper.take(session.sample()) }
        XCTAssertThrowsError(try stepper.take(session.sample())) { XCTAssertEqual($0 as? StepperError, .limitReached(4)) }
        XCTAssertTrue(session.undo())
        XCTAssertNoThrow(try stepper.take(session.sample()))
    }
}
