import Foundation
import Generation
import LanternTestSupport
import Tokenizers
import Transformer
import XCTest

/// Zero-shot classification against Hugging Face's zero-shot-classification pipeline on a
/// random-weight BartForSequenceClassification with MNLI's label names
/// (`scripts/make_nli_fixture.py`): the same premise–hypothesis ids, logits and scores (1e-4),
/// single- and multi-label.
final class ZeroShotClassifierTests: XCTestCase {
    struct Case: Decodable {
        var sequence: String
        var candidate_labels: [String]
        var hypothesis_template: String
        var multi_label: Bool
        var labels: [String]
        var scores: [Double]
        var pairs: [Pair]
        struct Pair: Decodable {
            var hypothesis: String
            var ids: [Int]
            var logits: [Float]
        }
    }

    func classifier() throws -> ZeroShotClassifier {
        let bundle = try ModelBundle.load(model: Repository.fixtures.appendingPathComponent("bart-mnli-tiny").path)
        let model = try XCTUnwrap(bundle.model as? EncoderDecoderModel)
        XCTAssertEqual(model.config.classLabels, ["contradiction", "neutral", "entailment"])
        return try ZeroShotClassifier(model: model, tokenizer: try XCTUnwrap(bundle.tokenizer as? GPT2Tokenizer))
    }

    func testMatchesTheTransformersPipeline() throws {
        let classifier = try classifier()
        XCTAssertEqual(classifier.entailment, 2)
        XCTAssertEqual(classifier.contradiction, 0)
        let url = Repository.fixtures.appendingPathComponent("bart-mnli-tiny/reference/zero_shot.json")
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: url))
        XCTAssertEqual(cases.count, 4)
        var worstLogit: Float = 0, worstScore = 0.0
        defer { print("zero-shot vs transformers: max |Δlogit| \(worstLogit), max |Δscore| \(worstScore)") }
        for reference in cases {
            let result = try classifier.classify(
                reference.sequence, labels: reference.candidate_labels, template: reference.hypothesis_template,
                multiLabel: reference.multi_label)
            for (pair, expected) in zip(result.pairs, reference.pairs) {
                XCTAssertEqual(pair.hypothesis, expected.hypothesis)
                XCTAssertEqual(pair.ids, expected.ids, "premise and hypothesis as the pipeline's tokenizer joins them")
                for (a, b) in zip(pair.logits, expected.logits) {
                    XCTAssertEqual(a, b, accuracy: 1e-4, pair.hypothesis)
                    worstLogit = max(worstLogit, abs(a - b))
                }
            }
            XCTAssertEqual(result.labels, reference.labels, "multi-label \(reference.multi_label)")
            for (a, b) in zip(result.scores, reference.scores) {
                XCTAssertEqual(a, b, accuracy: 1e-4)
                worstScore = max(worstScore, abs(a - b))
            }
            if !reference.multi_label { XCTAssertEqual(result.scores.reduce(0, +), 1, accuracy: 1e-9, "one softmax over labels") }
        }
    }

    func testRefusesWhatThePipelineCannotRun() throws {
        let classifier = try classifier()
        XCTAssertThrowsError(try classifier.classify("text", labels: [])) { XCTAssertEqual($0 as? ZeroShotError, .noLabels) }
        XCTAssertThrowsError(try classifier.classify("text", labels: ["a"], template: "no slot")) {
            XCTAssertEqual($0 as? ZeroShotError, .templateWithoutPlaceholder("no slot"))
        }
        XCTAssertThrowsError(try classifier.classify(String(repeating: "word ", count: 200), labels: ["a"])) {
            guard case .tooLong = $0 as? ZeroShotError else { return XCTFail("\($0)") }
        }
        // A model without an NLI head is refused by name.
        let bart = try ModelLoader.loadHuggingFace(folder: Repository.fixtures.appendingPathComponent("bart-tiny"))
        let generator = try XCTUnwrap(bart as? EncoderDecoderModel)
        XCTAssertThrowsError(try ZeroShotClassifier(model: generator, tokenizer: classifier.tokenizer)) {
            XCTAssertEqual($0 as? ZeroShotError, .notAnNLIModel)
        }
    }
}
