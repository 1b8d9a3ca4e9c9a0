import Foundation
import XCTest

/// The built-in teaching model, lantern-tiny: it ships with the package, every command finds it
/// without --model, and it has learnt the teaching corpus — measured on held-out material only
/// (`lantern evaluate`). The thresholds sit below the figures measured when it was trained
/// (Sources/ModelHub/lantern-tiny/TRAINING.md), so a broken engine, tokenizer or a different
/// model fails them, and numerical noise does not.
final class BuiltInModelTests: XCTestCase {
    func testGenerateNeedsNoModelOption() throws {
        let run = try CLI.run(["generate", "Once upon a time", "--max-new-tokens", "30", "--greedy", "--json"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let json = try CLI.json(run.stdout)
        let text = try XCTUnwrap(json["text"] as? String)
        XCTAssertGreaterThan(text.count, 20, text)
        let info = try CLI.run(["info"])
        XCTAssertEqual(info.exitCode, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("lantern-tiny"), info.stdout)
        XCTAssertTrue(info.stdout.contains("6"), info.stdout)
    }

    func testEvaluateRefusesOutOfRangeCounts() throws {
        for (arguments, message) in [
            (["--count", "0"], "--count 0 is out of range"), (["--samples", "501"], "--samples 501 is out of range")
        ] {
            let run = try CLI.run(["evaluate"] + arguments)
            XCTAssertNotEqual(run.exitCode, 0)
            XCTAssertTrue(run.stderr.contains(message), run.stderr)
            XCTAssertTrue(run.stdout.isEmpty, run.stdout)
        }
    }

    func testTheReportCardMeetsItsThresholds() throws {
        let run = try CLI.run(["evaluate", "--count", "50", "--samples", "10", "--json"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let report = try CLI.json(run.stdout)
        print("lantern evaluate (50 items a task): \(run.stdout)")
        let loss = try XCTUnwrap((report["held_out_loss"] as? NSNumber)?.doubleValue)
        XCTAssertLessThan(loss, BuiltInThresholds.heldOutLoss)
        XCTAssertGreaterThan(try XCTUnwrap((report["grammar_share"] as? NSNumber)?.doubleValue), BuiltInThresholds.grammarShare)
        let sentiment = try XCTUnwrap(report["sentiment_accuracy_by_shots"] as? [String: Any])
        XCTAssertGreaterThan(try XCTUnwrap((sentiment["4"] as? NSNumber)?.doubleValue), BuiltInThresholds.sentimentFourShot)
        XCTAssertGreaterThan(try XCTUnwrap((report["translation_accuracy"] as? NSNumber)?.doubleValue), BuiltInThresholds.translation)
        XCTAssertGreaterThan(try XCTUnwrap((report["question_answer_accuracy"] as? NSNumber)?.doubleValue), BuiltInThresholds.questions)
        // Version 2: it stays in its story world when sampled (issue 16's goals: ≥ 95 % at the
        // defaults, ≥ 85 % at temperature 1, over 400 samples), learns label words from its
        // examples (chance with none), and answers the course's tweet prompt.
        XCTAssertGreaterThanOrEqual(
            try XCTUnwrap((report["fluency_default_settings"] as? NSNumber)?.doubleValue), BuiltInThresholds.fluencyDefault)
        XCTAssertGreaterThanOrEqual(
            try XCTUnwrap((report["fluency_temperature_1"] as? NSNumber)?.doubleValue), BuiltInThresholds.fluencyPlain)
        let labels = try XCTUnwrap(report["label_word_accuracy_by_shots"] as? [String: Any])
        let number = { (key: String) in try XCTUnwrap((labels[key] as? NSNumber)?.doubleValue, key) }
        XCTAssertLessThan(try number("0"), 0.7, "no examples: the label words cannot be known")
        XCTAssertGreaterThan(try number("4"), BuiltInThresholds.labelWordsFourShot)
        XCTAssertGreaterThan(try number("8"), BuiltInThresholds.labelWordsEightShot)
        let probability = try XCTUnwrap((report["label_word_probability_by_shots"] as? [String: Any])?["8"] as? NSNumber).doubleValue
        XCTAssertGreaterThan(probability, BuiltInThresholds.labelWordsEightShotProbability)
        XCTAssertGreaterThan(try XCTUnwrap((report["tweet_accuracy"] as? NSNumber)?.doubleValue), BuiltInThresholds.tweets)
        XCTAssertGreaterThan(
            try XCTUnwrap((report["zero_shot_feeling_accuracy"] as? NSNumber)?.doubleValue), BuiltInThresholds.zeroShotFeelings)
        // Its copying circuit works on random tokens: a previous-token head (layer 3 head 2, 0.61)
        // and an induction head after it (layer 4 head 0, 0.71), both labelled by `lantern heads`.
        for (key, threshold) in [("previous_token_head", BuiltInThresholds.previousToken), ("induction_head", BuiltInThresholds.induction)]
        {
            let head = try XCTUnwrap(report[key] as? [String: Any], key)
            XCTAssertEqual(head["labelled"] as? Bool, true, "\(key): \(head)")
            XCTAssertGreaterThan(try XCTUnwrap((head["score"] as? NSNumber)?.doubleValue), threshold, key)
        }
    }
}

/// Measured with `lantern evaluate --count 50 --samples 10` on the shipped model, version 2 after
/// its sixth phase (release build, 2026-12-04): held-out loss 0.409, grammar 99.0 % of 98
/// sentences, fluency 95.5 % at the default settings and 86.25 % at temperature 1 (400 samples
/// each: 10 prompts × seeds 1–40; the prompt "Mia found a shiny stone.", whose last two words the
/// model never saw, 23 and 21 of 40), sentiment 100 % with 4 examples, label words 46 / 60 / 100 /
/// 100 / 100 % with 0 / 1 / 2 / 4 / 8 examples (mean P(right) 0.995 at 8), tweets 100 %,
/// translation 100 %, questions 90 %, previous-token head 0.61, induction head 0.76. The
/// thresholds leave room for a debug build's and another CPU's rounding, not for a different
/// model: version 2 before phase 6 (fluency 92.0 % / 82.75 % the same way) fails the fluency
/// ones, version 1 (label words 43–57 % at every count, tweets 0 %) the label-word and tweet ones.
enum BuiltInThresholds {
    static let heldOutLoss = 0.5
    static let grammarShare = 0.85
    static let sentimentFourShot = 0.9
    static let translation = 0.85
    static let questions = 0.75
    static let fluencyDefault = 0.935
    static let fluencyPlain = 0.84
    static let labelWordsFourShot = 0.9
    static let labelWordsEightShot = 0.9
    static let labelWordsEightShotProbability = 0.9
    static let tweets = 0.9
    /// Measured 100 % of 132 held-out events (85 sad, 47 happy) with 200 stories.
    static let zeroShotFeelings = 0.9
    /// `lantern heads`' own thresholds for labelling previous-token and induction heads.
    static let previousToken = 0.5
    static let induction = 0.4
}
