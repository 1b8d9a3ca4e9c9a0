import Foundation

/// The loop of `lantern train` around a `TrainingRun`: steps until the plan is done, a stop is
/// asked (Ctrl-C) or `stopAfter` steps are reached; a checkpoint every `checkpointEvery` steps
/// and one at the end; attention snapshots at `snapshotSteps`. What to draw and print is the
/// observer's (the command line's): it hears of every step, snapshot and checkpoint.
public struct TrainingJob {
    public let run: TrainingRun
    /// Where checkpoints go (the model folder).
    public let folder: URL
    public var checkpointEvery: Int
    /// Steps after which the observer draws a snapshot (step 0: before the first step).
    public var snapshotSteps: Set<Int>
    /// Stop once this many steps are done (the plan and its schedule stay as they are).
    public var stopAfter: Int?

    public init(run: TrainingRun, folder: URL, checkpointEvery: Int, snapshotSteps: Set<Int>, stopAfter: Int? = nil) {
        precondition(checkpointEvery >= 1, "TrainingJob: checkpointEvery must be 1 or more")
        self.run = run
        self.folder = folder
        self.checkpointEvery = checkpointEvery
        self.snapshotSteps = snapshotSteps
        self.stopAfter = stopAfter
    }

    /// How a job ended; in every case the last checkpoint holds the last step done.
    public enum Outcome: Equatable, Sendable {
        case finished
        /// `stopAfter` was reached before the plan's end.
        case stoppedAfter(Int)
        /// `shouldStop` said so (Ctrl-C).
        case interrupted(atStep: Int)
    }

    /// The snapshot steps when none are given: the start, 1 %, 10 %, half way and the end.
    public static func defaultSnapshotSteps(_ total: Int) -> Set<Int> {
        [0, max(1, total / 100), total / 10, total / 2, total]
    }

    public struct Observer {
        public var step: (TrainingLogEntry) throws -> Void
        public var snapshot: () throws -> Void
        /// After each checkpoint is saved.
        public var checkpoint: () throws -> Void

        public init(
            step: @escaping (TrainingLogEntry) throws -> Void = { _ in }, snapshot: @escaping () throws -> Void = {},
            checkpoint: @escaping () throws -> Void = {}
        ) {
            self.step = step
            self.snapshot = snapshot
            self.checkpoint = checkpoint
        }
    }

    public func start(shouldStop: () -> Bool, observer: Observer) throws -> Outcome {
        if snapshotSteps.contains(run.stepsDone) { try observer.snapshot() }
        while !run.isFinished && !shouldStop() && run.stepsDone < (stopAfter ?? .max) {
            let entry = run.step()
            try observer.step(entry)
            if snapshotSteps.contains(entry.step) { try observer.snapshot() }
            if entry.step % checkpointEvery == 0 && !run.isFinished {
                try run.save(to: folder)
                try observer.checkpoint()
            }
        }
        try run.save(to: folder)
        try observer.checkpoint()
        if run.isFinished { return .finished }
        return shouldStop() ? .interrupted(atStep: run.stepsDone) : .stoppedAfter(run.stepsDone)
    }
}
