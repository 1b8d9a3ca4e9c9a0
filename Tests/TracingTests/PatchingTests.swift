import Foundation
import Tracing
import Transformer
import XCTest

/// Activation patching against PyTorch hooks on transformers' own modules
/// (scripts/make_patching_fixture.py): every residual position and every head, the answer's
/// probability within 1e-5.
final class PatchingTests: XCTestCase {
    struct Reference: Decodable {
        struct Case: Decodable {
            var site: String
            var layer: Int
            var position: Int?
            var head: Int?
            var p: Float
        }
        var clean_ids: [Int]
        var corrupt_ids: [Int]
        var answer: Int
        var clean_p: Float
        var corrupt_p: Float
        var cases: [Case]
    }

    func testPatchedProbabilitiesMatchPyTorch() throws {
        var worst: Float = 0
        for fixture in ["gpt2-bytes-noprefix", "llama-tiny-gqa"] {
            let model = try AnalysisFixtures.bundle(fixture).model
            let url = AnalysisFixtures.fixtures.appendingPathComponent("\(fixture)/reference/patching.json")
            let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
            let patching = try Patching(model: model, clean: reference.clean_ids, corrupt: reference.corrupt_ids)
            XCTAssertEqual(patching.answer, reference.answer, fixture)
            XCTAssertEqual(patching.clean, reference.clean_p, accuracy: 1e-5, fixture)
            XCTAssertEqual(patching.corrupt, reference.corrupt_p, accuracy: 1e-5, fixture)
            for expected in reference.cases {
                let site: Patching.Site =
                    expected.site == "residual"
                    ? .residual(layer: expected.layer, position: expected.position!) : .head(layer: expected.layer, head: expected.head!)
                let got = try patching.patched(site)
                XCTAssertEqual(got, expected.p, accuracy: 1e-5, "\(fixture) \(site)")
                worst = max(worst, abs(got - expected.p))
            }
            // Patching the whole last residual row restores the clean answer exactly.
            let last = try patching.patched(.residual(layer: model.config.layers - 1, position: reference.clean_ids.count - 1))
            XCTAssertEqual(patching.restored(last), 1, accuracy: 1e-3, fixture)
        }
        print("patching: worst |Δp| against PyTorch hooks \(worst)")
    }

    func testPromptsOfDifferentLengthsAreRefused() throws {
        let model = try AnalysisFixtures.bundle("gpt2-bytes-noprefix").model
        XCTAssertThrowsError(try Patching(model: model, clean: [1, 2, 3], corrupt: [1, 2])) {
            XCTAssertTrue("\($0)".contains("same number"), "\($0)")
        }
    }
}
