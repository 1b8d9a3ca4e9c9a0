import Foundation
import Tensors
import Training
import Transformer
import XCTest

/// A whole run: batches, schedule, validation, checkpoints and resuming.
final class TrainingRunTests: XCTestCase {
    let config = TransformerConfig.gpt2(layers: 2, heads: 2, width: 16, vocabularySize: 13, contextLength: 8)

    func stream() throws -> TokenStream {
        let pattern: [Int32] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4, 3, 3, 8, 3, 2, 7, 9, 5, 12, 0]
        return try TokenStream(tokens: Array((0..<30).map { _ in pattern }.joined()), context: 8, validationFraction: 0.1)
    }

    func settings(steps: Int) -> TrainingSettings {
        var s = TrainingSettings()
        s.steps = steps; s.batchSize = 4; s.learningRate = 1e-2; s.minLearningRate = 1e-3; s.warmupSteps = 5
        s.evaluationInterval = 10; s.evaluationBatches = 2; s.seed = 9
        return s
    }

    /// Stopping after 12 steps, saving, and resuming for 13 more gives bit-identical weights and log
    /// to 25 uninterrupted steps: the batches depend on (seed, step) only and the optimiser state is saved.
    func testResumingGivesTheSameRunAsNotStopping() throws {
        let whole = try TrainingRun(config: config, settings: settings(steps: 25), stream: try stream())
        while !whole.isFinished { whole.step() }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try TrainingRun(config: config, settings: settings(steps: 25), stream: try stream())
        for _ in 0..<12 { first.step() }
        try first.save(to: folder)
        let resumed = try TrainingRun.resume(from: folder, stream: try stream())
        XCTAssertEqual(resumed.stepsDone, 12)
        while !resumed.isFinished { resumed.step() }

        XCTAssertEqual(resumed.parameterValues, whole.parameterValues)
        XCTAssertEqual(resumed.log.map(\.loss), whole.log.map(\.loss))
        XCTAssertEqual(resumed.log.compactMap(\.validationLoss), whole.log.compactMap(\.validationLoss))
        XCTAssertEqual(whole.log.compactMap(\.validationLoss).count, 3, "validation at steps 10, 20 and the last")
        let early = whole.log.prefix(5).map(\.loss).reduce(0, +) / 5, late = whole.log.suffix(5).map(\.loss).reduce(0, +) / 5
        print("25 steps on a repeated pattern: mean loss of the first 5 steps \(early), of the last 5 \(late)")
        XCTAssertLessThan(late, early * 0.9, "the loss should fall")
        // The saved folder is a model the engine loads.
        XCTAssertNoThrow(try ModelLoader.loadHuggingFace(folder: folder))
    }

    func testMixedCheckpointFilesAreRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try TrainingRun(config: config, settings: settings(steps: 10), stream: try stream())
        run.step()
        try run.save(to: folder)
        let optimizer = try Data(contentsOf: folder.appendingPathComponent("optimizer.safetensors"))
        run.step()
        try run.save(to: folder)
        try optimizer.write(to: folder.appendingPathComponent("optimizer.safetensors"))  // as if a save stopped half-way
        XCTAssertThrowsError(try TrainingRun.resume(from: folder, stream: try stream())) { error in
            XCTAssertTrue("\(error)".contains("different steps"), "\(error)")
        }
    }

    /// A save interrupted after its commit (a second Ctrl-C exits anywhere) leaves the new files
    /// half moved in: the next resume finishes the move and continues from the new step (it used
    /// to refuse the mixed folder); a save that never committed leaves the old set and no debris.
    func testAnInterruptedSaveLeavesOneWholeCheckpoint() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let folder = base.appendingPathComponent("out"), newer = base.appendingPathComponent("newer")
        let run = try TrainingRun(config: config, settings: settings(steps: 10), stream: try stream())
        run.step()
        try run.save(to: folder)
        run.step()
        try run.save(to: newer)
        // Committed, then cut off after moving only the optimiser's file in.
        let committed = folder.appendingPathComponent(".checkpoint-committed-test")
        try FileManager.default.copyItem(at: newer, to: committed)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("optimizer.safetensors"))
        try FileManager.default.moveItem(
            at: committed.appendingPathComponent("optimizer.safetensors"),
            to: folder.appendingPathComponent("optimizer.safetensors"))
        // And a staging folder from a save that never committed.
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent(".checkpoint-staging-old"), withIntermediateDirectories: true)

        let resumed = try TrainingRun.resume(from: folder, stream: try stream())
        XCTAssertEqual(resumed.stepsDone, 2)
        XCTAssertEqual(resumed.parameterValues, run.parameterValues)
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".checkpoint") }
        XCTAssertEqual(left, [], "staging and committed folders are cleaned up")
    }

    /// training.json's values were never flags: a bad one is blamed on the file, not on "--batch".
    func testBadValuesInTrainingJSONAreBlamedOnTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try TrainingRun(config: config, settings: settings(steps: 10), stream: try stream())
        run.step()
        try run.save(to: folder)
        let url = folder.appendingPathComponent("training.json")
        let original = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        for (key, value, message) in [("batchSize", 0, "batch size 0"), ("steps", 0, "number of steps 0")] {
            var json = original, settings = try XCTUnwrap(json["settings"] as? [String: Any])
            settings[key] = value
            json["settings"] = settings
            try JSONSerialization.data(withJSONObject: json).write(to: url)
            XCTAssertThrowsError(try TrainingRun.resume(from: folder, stream: try stream())) { error in
                XCTAssertTrue("\(error)".contains("training.json holds the \(message), expected"), "\(error)")
                XCTAssertFalse("\(error)".contains("--"), "\(error)")
            }
        }
    }

    func testBadShapesAndTinyCorporaAreClearErrors() throws {
        XCTAssertThrowsError(
            try TrainingRun(
                config: .gpt2(layers: 1, heads: 3, width: 16, vocabularySize: 13, contextLength: 8),
                settings: settings(steps: 5), stream: try stream())
        ) { error in
            XCTAssertTrue("\(error)".contains("not divisible by 3 heads"), "\(error)")
        }
        XCTAssertThrowsError(try TokenStream(tokens: [1, 2, 3, 4, 5], context: 8)) { error in
            XCTAssertTrue("\(error)".contains("corpus is too small"), "\(error)")
        }
        var bad = settings(steps: 5)
        bad.learningRate = -1
        XCTAssertThrowsError(try TrainingRun(config: config, settings: bad, stream: try stream()))
    }

    func testBatchesDependOnSeedAndStepOnly() throws {
        let s = try stream()
        XCTAssertEqual(s.trainingBatch(B: 3, T: 8, step: 7, seed: 1).inputs, s.trainingBatch(B: 3, T: 8, step: 7, seed: 1).inputs)
        XCTAssertNotEqual(s.trainingBatch(B: 3, T: 8, step: 7, seed: 1).inputs, s.trainingBatch(B: 3, T: 8, step: 8, seed: 1).inputs)
        let batch = s.trainingBatch(B: 3, T: 8, step: 0, seed: 1)
        XCTAssertEqual(Array(batch.inputs[1..<8]), Array(batch.targets[0..<7]), "targets are the inputs shifted by one")
        XCTAssertTrue(s.validation.count >= 9 && s.training.count + s.validation.count == 30 * 34)
    }

    /// Each step draws fresh windows: consecutive batches share no more starts than chance gives.
    /// (A sampler whose per-step generators overlapped drew step s+1's starts as step s's shifted
    /// by one, so 7 of 8 windows repeated from one step to the next.)
    func testConsecutiveBatchesDrawFreshWindows() throws {
        let tokens = (0..<100_000).map { Int32($0 % 50_000) }
        let s = try TokenStream(tokens: tokens, context: 8)
        var shared = 0
        for step in 0..<50 {
            let now = s.trainingBatch(B: 8, T: 8, step: step, seed: 3), next = s.trainingBatch(B: 8, T: 8, step: step + 1, seed: 3)
            let starts = Set(stride(from: 0, to: now.inputs.count, by: 8).map { Array(now.inputs[$0..<($0 + 8)]) })
            shared += stride(from: 0, to: next.inputs.count, by: 8).filter { starts.contains(Array(next.inputs[$0..<($0 + 8)])) }.count
        }
        XCTAssertLessThanOrEqual(shared, 2, "of 400 windows, \(shared) were drawn again at the next step")
    }
}
