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

    /// A run's folder: a fresh run refuses one holding a run or under a file, resuming needs a run.
    func testTheRunFolderIsCheckedBeforeAnythingIsWritten() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-plan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let fresh = root.appendingPathComponent("a/b/run")
        XCTAssertNoThrow(try TrainingPlan.checkRunFolder(fresh, resuming: false))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("a").path), "nothing is created")
        XCTAssertThrowsError(try TrainingPlan.checkRunFolder(fresh, resuming: true)) { error in
            XCTAssertEqual(error as? TrainingPlanError, .noRunToResume(folder: fresh.path))
        }
        let file = root.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        XCTAssertThrowsError(try TrainingPlan.checkRunFolder(file.appendingPathComponent("run"), resuming: false)) { error in
            XCTAssertTrue("\(error)".contains("\(file.path) is a file, not a folder; choose another"), "\(error)")
        }
        let run = root.appendingPathComponent("run")
        try TrainingRun(
            config: gpt2, settings: TrainingSettings(), stream: try TokenStream(tokens: (0..<200).map { Int32($0 % 40) }, context: 8)
        )
        .save(to: run)
        XCTAssertThrowsError(try TrainingPlan.checkRunFolder(run, resuming: false)) { error in
            XCTAssertEqual(error as? TrainingPlanError, .runExists(folder: run.path))
        }
        XCTAssertNoThrow(try TrainingPlan.checkRunFolder(run, resuming: true))
    }

    /// A new BPE tokenizer is written only when asked; a given one is copied into the run's
    /// folder and, when resuming, must be the run's own; WordPiece objectives refuse a BPE folder.
    func testARunsTokenizerIsBuiltGivenOrKept() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-plan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let first = root.appendingPathComponent("first"), second = root.appendingPathComponent("second")
        try FileManager.default.createDirectory(at: first, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
        let text = String(repeating: "the cat sat on the mat. the dog sat on the log. ", count: 20)
        XCTAssertNil(try TrainingPlan.existingTokenizer(objective: .nextToken, runFolder: first, resuming: false, given: nil))
        var reports = 0
        let built = try TrainingPlan.newTokenizer(
            objective: .nextToken, text: text, vocabularySize: 280, runFolder: first, progress: { _, _ in reports += 1 })
        XCTAssertGreaterThan(reports, 0)
        let size = built.tokenizer.vocabularySize  // at most 280: this small text runs out of pairs to merge first
        XCTAssertTrue((260...280).contains(size), "\(size)")
        XCTAssertTrue(built.summary?.hasPrefix("tokenizer: \(size) entries, ") == true, built.summary ?? "no summary")
        XCTAssertFalse(FileManager.default.fileExists(atPath: first.appendingPathComponent("merges.txt").path), "written only when asked")
        try built.write()
        let ids = built.tokenizer.encode("the cat sat")

        let copied = try XCTUnwrap(TrainingPlan.existingTokenizer(objective: .nextToken, runFolder: second, resuming: false, given: first))
        XCTAssertEqual(copied.tokenizer.encode("the cat sat"), ids)
        try copied.write()
        XCTAssertTrue(
            FileManager.default.contentsEqual(
                atPath: first.appendingPathComponent("merges.txt").path, andPath: second.appendingPathComponent("merges.txt").path))
        let kept = try XCTUnwrap(TrainingPlan.existingTokenizer(objective: .nextToken, runFolder: second, resuming: true, given: first))
        XCTAssertEqual(kept.tokenizer.encode("the cat sat"), ids)

        let other = try TrainingPlan.newTokenizer(objective: .nextToken, text: text, vocabularySize: 270, runFolder: root)
        try other.write()
        XCTAssertThrowsError(try TrainingPlan.existingTokenizer(objective: .nextToken, runFolder: second, resuming: true, given: root)) {
            XCTAssertEqual($0 as? TrainingPlanError, .notTheRunsTokenizer(given: root.path, folder: second.path))
        }
        XCTAssertThrowsError(try TrainingPlan.existingTokenizer(objective: .mlm, runFolder: second, resuming: false, given: first)) {
            XCTAssertTrue("\($0)".contains("holds no WordPiece tokenizer"), "\($0)")
        }
        let pieces = try TrainingPlan.newTokenizer(objective: .mlm, text: text, vocabularySize: 60, runFolder: second)
        XCTAssertNil(pieces.summary)
        XCTAssertGreaterThan(pieces.tokenizer.vocabularySize, 5)
    }
}
