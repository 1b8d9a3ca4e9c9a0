import Foundation
import Tracing
import Transformer
import XCTest

/// Head and MLP ablation against PyTorch hooks on transformers' own modules
/// (scripts/make_ablation_fixture.py): every next token's log-probability within 1e-4.
final class AblationTests: XCTestCase {
    struct Reference: Decodable {
        struct Case: Decodable {
            var heads: [[Int]]
            var mlps: [Int]
            var mode: String
            var logprob: [Float]
        }
        var cases: [Case]
        var baseline_logprob: [Float]
    }

    func testAblatedLogProbabilitiesMatchPyTorch() throws {
        var worst: Float = 0
        for fixture in ["gpt2-bytes-noprefix", "llama-tiny-gqa"] {
            let model = try AnalysisFixtures.bundle(fixture).model
            let sequence = try AnalysisFixtures.ids(fixture, "prompt_ids.json") + AnalysisFixtures.ids(fixture, "generated_ids.json")
            let url = AnalysisFixtures.fixtures.appendingPathComponent("\(fixture)/reference/ablation.json")
            let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
            for expected in reference.cases {
                let result = try Ablation.run(
                    model: model, tokens: sequence, heads: expected.heads.map { Intervention.Head(layer: $0[0], head: $0[1]) },
                    mlps: expected.mlps, mode: AblationMode(rawValue: expected.mode)!, continuation: 3)
                let what = "\(fixture) \(expected.heads) \(expected.mlps) \(expected.mode)"
                XCTAssertEqual(result.ablatedLogprob.count, expected.logprob.count, what)
                for (got, want) in zip(result.ablatedLogprob, expected.logprob) {
                    XCTAssertEqual(got, want, accuracy: 1e-4, what)
                    worst = max(worst, abs(got - want))
                }
                for (got, want) in zip(result.baselineLogprob, reference.baseline_logprob) {
                    XCTAssertEqual(got, want, accuracy: 1e-4, "\(fixture) baseline")
                }
                XCTAssertEqual(result.baselineContinuation.count, 3)
            }
        }
        print("ablation: worst |Δ log-probability| against PyTorch hooks \(worst)")
    }

    /// Bad choices are refused by name.
    func testImpossibleChoicesAreRefused() throws {
        let model = try AnalysisFixtures.bundle("gpt2-bytes-noprefix").model
        XCTAssertThrowsError(try Ablation.run(model: model, tokens: [1, 2, 3], heads: [.init(layer: 9, head: 0)], mode: .zero)) {
            XCTAssertTrue("\($0)".contains("layers 0 to 2"), "\($0)")
        }
        XCTAssertThrowsError(try Ablation.run(model: model, tokens: [1], heads: [.init(layer: 0, head: 0)], mode: .zero)) {
            XCTAssertTrue("\($0)".contains("at least 2"), "\($0)")
        }
    }
}
