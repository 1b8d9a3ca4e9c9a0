import Foundation
import Generation
import LanternTestSupport
import Training
import Transformer
import XCTest

/// The report card's scoring (`lantern evaluate`), on a small model: scores are sums of the
/// engine's log-probabilities, losses their means, and fluency is judged word by word.
final class ReportCardTests: XCTestCase {
    func testFluencyIsJudgedWordByWord() {
        XCTAssertNil(FluencyCheck.problem(in: " she found a red ball and was happy."))
        XCTAssertNil(FluencyCheck.problem(in: " Mia can't find it."), "contractions split at the apostrophe")
        XCTAssertEqual(FluencyCheck.problem(in: " Mia had 3 cats"), "contains a digit: 3")
        XCTAssertEqual(FluencyCheck.problem(in: " the rcMia went"), "not a word of the corpus: rcMia")
        // The prompt's own words may come back, and so may the unfamiliar stories' everyday words.
        XCTAssertEqual(FluencyCheck.problem(in: " She put the stone in her bag."), "not a word of the corpus: stone")
        XCTAssertNil(FluencyCheck.problem(in: " She put the stone in her bag.", prompt: "Mia found a shiny stone."))
        XCTAssertNil(FluencyCheck.problem(in: " Stone was shiny.", prompt: "Mia found a shiny stone."), "case aside")
        XCTAssertNil(FluencyCheck.problem(in: " Tom had a golden pebble."))
    }

    /// The zero-shot items: a held-out story's event and the feeling its next sentence names,
    /// both classes well represented, the event itself naming no feeling.
    func testZeroShotItemsPairAnEventWithTheFeelingThatFollows() {
        let items = ZeroShotEvaluation.feelingItems(count: 200, seed: 7)
        let sad = items.filter { $0.expected == "sad" }.count, happy = items.filter { $0.expected == "happy" }.count
        print("zero-shot feeling items: \(items.count) (sad \(sad), happy \(happy))")
        XCTAssertGreaterThan(sad, items.count / 4)
        XCTAssertGreaterThan(happy, items.count / 4)
        let feelings = Set(["sad", "upset", "worried", "unhappy", "happy", "glad", "excited", "cheerful"])
        for item in items {
            XCTAssertTrue(Set(CorpusTests.words(of: item.event)).isDisjoint(with: feelings), item.event)
            XCTAssertFalse(item.name.isEmpty)
        }
    }

    func testScoresAreSumsOfTheEnginesLogProbabilities() throws {
        let bundle = try ModelBundle.load(model: Repository.fixtures.appendingPathComponent("gpt2-bytes-noprefix").path)
        let evaluator = TeachingEvaluator(model: bundle.model, tokenizer: bundle.tokenizer)

        let (promptIds, _) = evaluator.documentIds("The cat sat")
        let continuation = bundle.tokenizer.encode(" on the mat")
        let all = promptIds + continuation
        let rows = evaluator.logProbabilities(all)
        for row in rows { XCTAssertEqual(row.reduce(0) { $0 + exp(Double($1)) }, 1, accuracy: 1e-4, "each row is a distribution") }
        var expected: Float = 0
        for t in (promptIds.count - 1)..<(all.count - 1) { expected += rows[t][all[t + 1]] }
        XCTAssertEqual(evaluator.score(prompt: "The cat sat", continuation: " on the mat"), expected, accuracy: 1e-4)

        // The loss of one document: the mean negative log-probability of its own tokens.
        let (ids, first) = evaluator.documentIds("Once upon a time")
        let documentRows = evaluator.logProbabilities(ids)
        let positions = Array(max(0, first - 1)..<(ids.count - 1))
        let mean = -positions.map { Double(documentRows[$0][ids[$0 + 1]]) }.reduce(0, +) / Double(positions.count)
        XCTAssertEqual(evaluator.meanLoss(documents: ["Once upon a time"]), mean, accuracy: 1e-5)

        // A choice is right when the expected answer scores highest.
        let choices = [" positive", " negative"]
        let items = evaluator.fitting(TeachingCorpus.sentimentEvaluation(count: 6, seed: 3, shots: 0))
        XCTAssertFalse(items.isEmpty)
        let right = items.filter { item in
            let scores = choices.map { evaluator.score(prompt: item.prompt, continuation: $0) }
            return (scores[0] >= scores[1] ? choices[0] : choices[1]) == item.expected
        }.count
        XCTAssertEqual(evaluator.choiceAccuracy(items, choices: choices), Double(right) / Double(items.count), accuracy: 1e-12)
    }

    /// Only the tasks asked run; the JSON names every figure as `lantern evaluate --json` did.
    func testTheCardHoldsTheTasksRunUnderTheirJSONNames() throws {
        let bundle = try ModelBundle.load(model: Repository.fixtures.appendingPathComponent("gpt2-bytes-noprefix").path)
        var heard: [String] = []
        let card = try ReportCard.evaluate(
            model: bundle.model, tokenizer: bundle.tokenizer, source: "fixture", tasks: [.loss, .sentiment],
            count: 2, samples: 1, seed: 3, defaultSampling: SamplingSettings(temperature: 0.8),
            headsPrompt: "", progress: { heard.append($0) })
        XCTAssertEqual(heard.count, 2)
        XCTAssertNotNil(card.heldOutLoss)
        XCTAssertEqual(Set(card.sentimentAccuracyByShots?.keys.map { $0 } ?? []), ["0", "1", "4"])
        XCTAssertNil(card.grammarShare)
        XCTAssertNil(card.inductionHead)
        let encoder = JSONEncoder()
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: encoder.encode(card)) as? [String: Any])
        XCTAssertEqual(Set(json.keys), ["model", "items_per_task", "seed", "held_out_loss", "sentiment_accuracy_by_shots", "items_asked"])
    }
}
