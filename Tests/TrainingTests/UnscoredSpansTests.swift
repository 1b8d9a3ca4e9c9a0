import Foundation
import LanternTestSupport
import Tensors
import Tokenizers
@testable import Training
import Transformer
import XCTest

/// Unscored spans (U+E000 … U+E001): text a next-token model reads but gets no loss for, from the
/// marks in the text through the token stream's targets to the loss and its gradient.
final class UnscoredSpansTests: XCTestCase {
    let open = "\u{E000}", close = "\u{E001}"

    func testRunsStripAndMarksOutOfPlace() throws {
        let text = "Mia had a\(open) pebble\(close). The pebble\(open)!\(close)"
        let runs = try UnscoredSpans.runs(of: text)
        XCTAssertEqual(runs.map { String($0.text) }, ["Mia had a", " pebble", ". The pebble", "!"])
        XCTAssertEqual(runs.map(\.scored), [true, false, true, false])
        XCTAssertEqual(UnscoredSpans.strip(text), "Mia had a pebble. The pebble!")
        XCTAssertEqual(UnscoredSpans.strip("no marks"), "no marks")
        // A mark followed by a combining accent is one Character but still a mark.
        let combined = "a\(open)\u{301}b\(close)c"
        XCTAssertEqual(try UnscoredSpans.runs(of: combined).map(\.scored), [true, false, true])
        XCTAssertEqual(UnscoredSpans.strip(combined), "a\u{301}bc")
        // Byte offsets of the first mark out of place: a close outside a span, an open inside one,
        // a span never closed (reported where it opened).
        let cases: [(String, Int)] = [
            ("ab\(close)", 2), ("é\(open)x\(open)y\(close)", 6), ("abc\(open)de", 3), ("\(open)\(close)\(close)", 6)
        ]
        for (bad, offset) in cases {
            XCTAssertThrowsError(try UnscoredSpans.runs(of: bad)) {
                XCTAssertEqual($0 as? TrainingError, .unbalancedUnscoredMark(byteOffset: offset), bad)
                XCTAssertTrue("\($0)".contains("U+E000"), "\($0)")
            }
        }
    }

    func testTokensKeepEveryIdAndFlagTheMarkedOnes() throws {
        let tokenizer = try GPT2Tokenizer.load(folder: Repository.fixtures.appendingPathComponent("gpt2-bytes-noprefix"))
        let plain = "Once upon a time, Mia found a shiny stone. She kept the stone."
        let unmarked = try UnscoredSpans.tokens(of: plain, tokenizer: tokenizer)
        XCTAssertNil(unmarked.scored, "text without marks trains as before")
        XCTAssertEqual(unmarked.ids, tokenizer.encode(plain).map(Int32.init))

        // Marks where words begin (before the leading space) change no id.
        let marked = "Once upon a time, Mia found a\(open) shiny stone\(close). She kept the stone."
        let (ids, scored) = try UnscoredSpans.tokens(of: marked, tokenizer: tokenizer)
        XCTAssertEqual(ids, unmarked.ids)
        let flags = try XCTUnwrap(scored)
        let before = tokenizer.encode("Once upon a time, Mia found a").count
        let inside = tokenizer.encode(" shiny stone").count
        XCTAssertEqual(flags, (0..<ids.count).map { $0 < before || $0 >= before + inside })
    }

    func testTheStreamGivesUnscoredTokensTargetMinusOne() throws {
        // Each token's id is its position, so a target tells which token it is.
        let tokens = (0..<200).map { Int32($0) }
        let scored = (0..<200).map { $0 % 7 != 3 }
        let stream = try TokenStream(tokens: tokens, scored: scored, context: 8, validationFraction: 0.2)
        let plain = try TokenStream(tokens: tokens, context: 8, validationFraction: 0.2)
        let batch = stream.trainingBatch(B: 4, T: 8, step: 5, seed: 9)
        let plainBatch = plain.trainingBatch(B: 4, T: 8, step: 5, seed: 9)
        XCTAssertEqual(batch.inputs, plainBatch.inputs, "the same windows, inputs untouched")
        XCTAssertTrue(batch.targets.contains(-1))
        for (target, position) in zip(batch.targets, plainBatch.targets) {
            XCTAssertEqual(target, position % 7 == 3 ? -1 : position)
        }
        for (inputs, targets) in stream.validationBatches(B: 2, T: 8, count: 2) {
            for (input, target) in zip(inputs, targets) {
                XCTAssertEqual(target, (input + 1) % 7 == 3 ? -1 : input + 1)
            }
        }
    }

    /// The loss is the mean over scored positions only, and its gradient is that loss's (finite
    /// differences on every tensor of the tiny model).
    func testLossAndGradientLeaveUnscoredPositionsOut() {
        let config = Tiny.config
        let B = 2, T = 5
        var model = GPT2TrainingModel(config: config, parameters: Tiny.scrambledParameters(config, seed: 7))
        let inputs = Tiny.tokens(B * T, V: config.vocabularySize, seed: 11)
        let full = Tiny.tokens(B * T, V: config.vocabularySize, seed: 12)
        let unscored: Set<Int> = [0, 3, 4, 7]
        let targets = full.enumerated().map { unscored.contains($0.offset) ? -1 : $0.element }
        let activations = GPT2Activations(config: config, B: B, T: T)
        let gradientsOfActivations = GPT2Activations(config: config, B: B, T: T)

        model.forward(inputs: inputs, targets: full, activations: activations)
        let perPosition = (0..<(B * T)).map { activations.losses[$0] }
        let expected = (0..<(B * T)).filter { !unscored.contains($0) }.map { perPosition[$0] }.reduce(0, +) / Float(B * T - unscored.count)
        let loss = model.forward(inputs: inputs, targets: targets, activations: activations)!
        XCTAssertEqual(loss, expected, accuracy: 1e-6)
        XCTAssertNotEqual(loss, perPosition.reduce(0, +) / Float(B * T), accuracy: 1e-4)

        var gradients = GPT2Parameters(zerosFor: config)
        model.backward(
            inputs: inputs, targets: targets, activations: activations, activationGradients: gradientsOfActivations,
            gradients: &gradients)
        for (tensor, maxDifference, maxNumeric) in finiteDifferenceCheck(
            &model, inputs: inputs, targets: targets, activations: activations, gradients: gradients)
        {
            XCTAssertGreaterThan(maxNumeric, 1e-4, "\(tensor): the scored positions' loss should depend on every tensor")
            XCTAssertLessThan(maxDifference / max(maxNumeric, 1e-6), 2e-3, "\(tensor): gradient disagrees with finite differences")
        }

        // Nothing scored: loss 0 and no gradient, not a division by zero.
        let none = [Int32](repeating: -1, count: B * T)
        XCTAssertEqual(model.forward(inputs: inputs, targets: none, activations: activations), 0)
        var zero = GPT2Parameters(zerosFor: config)
        model.backward(
            inputs: inputs, targets: none, activations: activations, activationGradients: gradientsOfActivations, gradients: &zero)
        XCTAssertTrue(zero.values.allSatisfy { $0 == 0 })
    }
}
