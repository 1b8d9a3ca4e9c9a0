import Foundation
import Training
import Transformer
import XCTest

/// The decisions `lantern train` makes before a run, in the library: a checkpoint's objective
/// and shape win over what is asked, and a value that disagrees is refused naming the setting.
final class TrainingPlanTests: XCTestCase {
    let gpt2 = TransformerConfig.gpt2(layers: 2, heads: 2, width: 16, vocabularySize: 40, contextLength: 32)

    func testACheckpointsObjectiveAndShapeWin() throws {
        XCTAssertEqual(try TrainingPlan.objective(checkpoint: nil, asked: nil, source: "x"), .nextToken)
        XCTAssertEqual(try TrainingPlan.objective(checkpoint: nil, asked: .mlm, source: "x"), .mlm)
        XCTAssertEqual(try TrainingPlan.objective(checkpoint: gpt2, asked: nil, source: "x"), .nextToken)
        XCTAssertThrowsError(try TrainingPlan.objective(checkpoint: gpt2, asked: .seq2seq, source: "the run in out")) { error in
            XCTAssertEqual(error as? TrainingPlanError, .objectiveDiffers(asked: .seq2seq, kept: .nextToken, source: "the run in out"))
            XCTAssertTrue("\(error)".contains("seq2seq differs from the run in out (next-token)"), "\(error)")
        }
        XCTAssertNoThrow(try TrainingPlan.checkShape((2, nil, 16, 32), checkpoint: gpt2, source: "x"))
        XCTAssertThrowsError(try TrainingPlan.checkShape((nil, 4, nil, nil), checkpoint: gpt2, source: "the run")) { error in
            XCTAssertEqual(error as? TrainingPlanError, .shapeDiffers(.headCount, given: 4, kept: 2, source: "the run"))
            XCTAssertTrue("\(error)".contains("differs from the run (heads 2): its shape is kept"), "\(error)")
        }
        XCTAssertNoThrow(try TrainingPlan.checkVocabulary([0, 39], vocabulary: 40))
        XCTAssertThrowsError(try TrainingPlan.checkVocabulary([0, 40], vocabulary: 40)) { error in
            XCTAssertEqual(error as? TrainingPlanError, .idOutsideVocabulary(40, vocabulary: 40))
        }
        XCTAssertEqual(TrainingObjectiveKind(trainedFamily: .bert), .mlm)
        XCTAssertEqual(TrainingObjectiveKind(trainedFamily: .bart), .seq2seq)
    }
}
