import Foundation
import Training
import Transformer
import XCTest

/// The loop of `lantern train`: when it snapshots, saves and stops, and what it reports.
final class TrainingJobTests: XCTestCase {
    let config = TransformerConfig.gpt2(layers: 1, heads: 2, width: 8, vocabularySize: 13, contextLength: 8)

    func makeRun(steps: Int) throws -> TrainingRun {
        var settings = TrainingSettings()
        settings.steps = steps; settings.batchSize = 2; settings.warmupSteps = 1; settings.evaluationInterval = 4
        settings.evaluationBatches = 1; settings.seed = 3
        let tokens = (0..<400).map { Int32($0 * 7 % 13) }
        return try TrainingRun(config: config, settings: settings, stream: TokenStream(tokens: tokens, context: 8, validationFraction: 0.1))
    }

    func folder() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-job-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testAJobSnapshotsSavesAndFinishes() throws {
        let run = try makeRun(steps: 10), out = folder()
        var steps: [Int] = [], snapshots: [Int] = [], checkpoints: [Int] = []
        let job = TrainingJob(run: run, folder: out, checkpointEvery: 4, snapshotSteps: [0, 5, 10])
        let outcome = try job.start(
            shouldStop: { false },
            observer: TrainingJob.Observer(
                step: { steps.append($0.step) }, snapshot: { snapshots.append(run.stepsDone) },
                checkpoint: { checkpoints.append(run.stepsDone) }))
        XCTAssertEqual(outcome, .finished)
        XCTAssertEqual(steps, Array(1...10))
        XCTAssertEqual(snapshots, [0, 5, 10])
        XCTAssertEqual(checkpoints, [4, 8, 10], "every 4 steps, and at the end")
        XCTAssertTrue(TrainingRun.hasCheckpoint(in: out))
        XCTAssertEqual(
            try TrainingRun.resume(
                from: out,
                stream: TokenStream(
                    tokens: (0..<400).map { Int32($0 * 7 % 13) }, context: 8,
                    validationFraction: 0.1)
            ).stepsDone, 10)
    }

    func testStoppingEarlyOrByRequestSavesWhereItStopped() throws {
        let run = try makeRun(steps: 10)
        let stopped = try TrainingJob(run: run, folder: folder(), checkpointEvery: 100, snapshotSteps: [], stopAfter: 3)
            .start(shouldStop: { false }, observer: TrainingJob.Observer())
        XCTAssertEqual(stopped, .stoppedAfter(3))

        let interrupted = try makeRun(steps: 10)
        var asked = false
        let outcome = try TrainingJob(run: interrupted, folder: folder(), checkpointEvery: 100, snapshotSteps: [])
            .start(shouldStop: { asked }, observer: TrainingJob.Observer(step: { if $0.step == 2 { asked = true } }))
        XCTAssertEqual(outcome, .interrupted(atStep: 2))
        XCTAssertEqual(TrainingJob.defaultSnapshotSteps(1000), [0, 10, 100, 500, 1000])
    }
}
