import Foundation
import Generation
import LanternTestSupport
import Rendering
import Tokenizers
import Transformer
import XCTest

/// The zero-shot inside view against transformers (`scripts/make_nli_fixture.py`): where the
/// premise and the hypothesis are among a pair's ids (the fast tokenizer's `sequence_ids`), and
/// the encoder's layer-1 attention of the hypothesis's tokens over the premise's, per head.
final class ClassificationAttentionTests: XCTestCase {
    struct Case: Decodable {
        var sequence: String
        var candidate_labels: [String]
        var hypothesis_template: String
        var pairs: [Pair]
        struct Pair: Decodable {
            var premise: [Int]
            var hypothesis_tokens: [Int]
            var encoder_attention_1: [[[Float]]]?
        }
    }

    func testTheHypothesisOverThePremiseMatchesTransformers() throws {
        let folder = Repository.fixtures.appendingPathComponent("bart-mnli-tiny")
        let bundle = try ModelBundle.load(model: folder.path)
        let tokenizer = try XCTUnwrap(bundle.tokenizer as? GPT2Tokenizer)
        let classifier = try ZeroShotClassifier(model: try XCTUnwrap(bundle.model as? EncoderDecoderModel), tokenizer: tokenizer)
        let cases = try JSONDecoder().decode(
            [Case].self, from: Data(contentsOf: folder.appendingPathComponent("reference/zero_shot.json")))
        let reference = try XCTUnwrap(cases.first)
        let result = try classifier.classify(
            reference.sequence, labels: reference.candidate_labels, template: reference.hypothesis_template,
            capture: CaptureSpec(kinds: [.pattern], layers: [1]))
        var worst: Float = 0
        defer { print("inside view vs transformers: max |Δattention| \(worst)") }
        for (pair, expected) in zip(result.pairs, reference.pairs) {
            XCTAssertEqual([pair.premise.lowerBound, pair.premise.upperBound], expected.premise)
            XCTAssertEqual([pair.hypothesisTokens.lowerBound, pair.hypothesisTokens.upperBound], expected.hypothesis_tokens)
            let attention = try XCTUnwrap(expected.encoder_attention_1)
            XCTAssertNotNil(pair.records["encoder.blocks.1.attn.pattern"])
            func view(head: Int?) throws -> ClassificationAttention {
                try XCTUnwrap(ClassificationAttention(hypothesisOf: pair, tokenizer: tokenizer, layer: 1, head: head, model: "fixture"))
            }
            XCTAssertNil(ClassificationAttention(hypothesisOf: pair, tokenizer: tokenizer, layer: 0, head: nil, model: "fixture"))
            for (h, rows) in attention.enumerated() {
                let weights = try view(head: h).weights, flat = rows.flatMap { $0 }
                XCTAssertEqual(weights.count, flat.count)
                for (a, b) in zip(weights, flat) {
                    XCTAssertEqual(a, b, accuracy: 1e-5)
                    worst = max(worst, abs(a - b))
                }
            }
            // The mean over heads, and each row's strongest premise token.
            let mean = try view(head: nil)
            let K = pair.premise.count
            for (i, strongest) in mean.strongest.enumerated() {
                let row = (0..<K).map { c in attention.reduce(Float(0)) { $0 + $1[i][c] } / Float(attention.count) }
                let best = row.indices.max { row[$0] < row[$1] }!
                XCTAssertEqual(strongest.weight, row[best], accuracy: 1e-5)
                XCTAssertEqual(strongest.column, tokenizer.displayPiece(pair.ids[pair.premise.lowerBound + best]))
            }
            let map = ClassificationPicture.attention(mean)
            XCTAssertEqual(map.rows, pair.hypothesisTokens.count)
            XCTAssertEqual(map.cols, K)
            XCTAssertTrue(map.title.contains("mean of 4 heads"), map.title)
        }
    }
}
