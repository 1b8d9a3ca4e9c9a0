import Foundation
import Tensors
import Tracing
import Transformer
import XCTest

/// Direct logit attribution and the residual stream's norms against PyTorch: transformers' own
/// modules hooked on the committed fixtures (scripts/make_attribution_fixture.py).
final class ResidualStreamTests: XCTestCase {
    struct Reference: Decodable {
        struct Case: Decodable {
            var position: Int
            var token: Int
            var logit: Float
            var constant: Float
            var components: [String: Float]
        }
        var cases: [Case]
        var resid_norms: [[Float]]
    }

    func testAttributionAndNormsMatchPyTorch() throws {
        var worstShare: Float = 0, worstNorm: Float = 0
        defer { print("direct logit attribution: worst |Δshare| \(worstShare), worst relative |Δnorm| \(worstNorm)") }
        for fixture in ["gpt2-bytes-noprefix", "llama-tiny-gqa"] {
            let model = try AnalysisFixtures.bundle(fixture).model
            let sequence = try AnalysisFixtures.ids(fixture, "prompt_ids.json") + AnalysisFixtures.ids(fixture, "generated_ids.json")
            let url = AnalysisFixtures.fixtures.appendingPathComponent("\(fixture)/reference/attribution.json")
            let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
            for expected in reference.cases {
                // The last position's case is the model's top token: found without naming it.
                let isLast = expected.position == sequence.count - 1
                let stream = try ResidualStream.run(
                    model: model, tokens: sequence, position: expected.position, token: isLast ? nil : expected.token)
                let attribution = stream.attribution
                let what = "\(fixture) position \(expected.position)"
                XCTAssertEqual(attribution.token, expected.token, what)
                XCTAssertEqual(attribution.logit, expected.logit, accuracy: 1e-4, what)
                XCTAssertEqual(attribution.constant, expected.constant, accuracy: 1e-5, what)
                XCTAssertEqual(Set(attribution.shares.map(\.part.name)), Set(expected.components.keys), what)
                for share in attribution.shares {
                    XCTAssertEqual(share.logit, expected.components[share.part.name]!, accuracy: 1e-4, "\(what) \(share.part.name)")
                    worstShare = max(worstShare, abs(share.logit - expected.components[share.part.name]!))
                }
                // The parts add up to the model's logit.
                XCTAssertEqual(attribution.total { _ in true } + attribution.constant, attribution.logit, accuracy: 1e-3, what)
                XCTAssertEqual(stream.norms.count, reference.resid_norms.count, what)
                for (row, expectedRow) in zip(stream.norms, reference.resid_norms) {
                    XCTAssertEqual(row.count, expectedRow.count, what)
                    for (norm, expectedNorm) in zip(row, expectedRow) {
                        XCTAssertEqual(norm, expectedNorm, accuracy: 1e-4 * max(1, expectedNorm), what)
                        worstNorm = max(worstNorm, abs(norm - expectedNorm) / max(1, expectedNorm))
                    }
                }
            }
        }
    }

    /// A trace without the head outputs names the record to add; an encoder is refused.
    func testMissingRecordsAndEncodersAreRefusedByName() throws {
        let model = try AnalysisFixtures.bundle("gpt2-bytes-noprefix").model
        let tokens = Array(try AnalysisFixtures.ids("gpt2-bytes-noprefix", "prompt_ids.json").prefix(5))
        var cache = model.makeCache()
        let records = model.forward(tokens, cache: &cache, capture: LogitLens.capture, allLogits: false).records
        XCTAssertThrowsError(try ResidualStream(records: records, tokens: tokens, model: model)) { error in
            // Everything missing at once, and one capture that records it all.
            XCTAssertTrue("\(error)".contains("blocks.0.attn.z, blocks.0.attn.out, blocks.0.mlp.out"), "\(error)")
            XCTAssertTrue("\(error)".contains("+attn.z,+attn.out,+mlp.out,+resid_post"), "\(error)")
        }
        XCTAssertThrowsError(try ResidualStream.run(model: model, tokens: tokens, position: 5)) { error in
            XCTAssertTrue("\(error)".contains("choose 0 to 4"), "\(error)")
        }
        let encoder = try AnalysisFixtures.bundle("bert-tiny-mlm").model
        XCTAssertThrowsError(try ResidualStream.run(model: encoder, tokens: [1, 2, 3])) { error in
            XCTAssertTrue("\(error)".contains("decoder"), "\(error)")
        }
    }
}
