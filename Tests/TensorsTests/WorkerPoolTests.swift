import Foundation
import Synchronization
import Tensors
import XCTest

/// The worker pool runs every part of every job exactly once, also when consecutive jobs use
/// different numbers of parts. (A helper that slept through a job it had no part in used to wake
/// to the next job, run its part, and run it again on its next turn: the caller could return
/// while another helper was still writing, so training results depended on timing — seen as a
/// resumed run that differed from an uninterrupted one in the full test suite only, where an
/// earlier test had grown the pool past two threads.)
final class WorkerPoolTests: XCTestCase {
    /// Per-part run counts, shared by the pool's threads.
    final class Counts: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Int]
        init(_ parts: Int) { values = Array(repeating: 0, count: parts) }
        func add(_ part: Int) { lock.lock(); values[part] += 1; lock.unlock() }
        var all: [Int] { lock.lock(); defer { lock.unlock() }; return values }
    }

    func testEveryPartRunsOnceWhenTheNumberOfPartsChanges() {
        let pool = WorkerPool.shared
        let previous = Parallelism.threads
        Parallelism.setThreads(4)
        defer { Parallelism.setThreads(previous) }
        let runs = Atomic<Int>(0)
        var expected = 0
        var random = SplitMix64(seed: 9)
        for job in 0..<20000 {
            let parts = 2 + Int(random.next() % 3)  // 2, 3 or 4 (the pool has at least 4 threads)
            let counts = Counts(parts)
            pool.run(parts: parts) { part in
                counts.add(part)
                runs.add(1, ordering: .relaxed)
                // Parts take a little while (and some longer), so a job is still running when a
                // helper that lagged behind reaches it.
                let spin = ContinuousClock.now + .microseconds(part == parts - 1 && job % 7 == 0 ? 60 : 5)
                while ContinuousClock.now < spin {}
            }
            // Every part ran once, and all had finished when run(parts:) returned.
            let ran = counts.all
            if ran != Array(repeating: 1, count: parts) {
                XCTFail("job \(job): the \(parts) parts ran \(ran) times")
                return
            }
            expected += parts
        }
        // No part of an earlier job ran late, after its job had returned.
        usleep(10_000)
        XCTAssertEqual(runs.load(ordering: .relaxed), expected)
    }

    /// Asking for fewer threads than the pool has started splits over fewer. (The pool used to
    /// split over every thread it had ever started, so `bench --threads 2 --threads 1`'s second
    /// figure and every test after one that used 4 threads ran wider than asked.)
    func testFewerThreadsAfterMoreSplitsOverFewer() {
        let previous = Parallelism.threads
        defer { Parallelism.setThreads(previous) }
        Parallelism.setThreads(2)
        XCTAssertEqual(WorkerPool.shared.width, 2)
        Parallelism.setThreads(1)
        XCTAssertEqual(WorkerPool.shared.width, 1)
        let caller = pthread_self()
        let elsewhere = Atomic<Int>(0)
        WorkerPool.shared.run(parts: 2) { _ in
            if pthread_equal(pthread_self(), caller) == 0 { elsewhere.add(1, ordering: .relaxed) }
        }
        XCTAssertEqual(elsewhere.load(ordering: .relaxed), 0, "with 1 thread asked for, a part ran on a helper")
        Parallelism.setThreads(2)
        var ranOnHelper = false
        for _ in 0..<100 where !ranOnHelper {
            WorkerPool.shared.run(parts: 2) { _ in
                if pthread_equal(pthread_self(), caller) == 0 { elsewhere.add(1, ordering: .relaxed) }
            }
            ranOnHelper = elsewhere.load(ordering: .relaxed) > 0
        }
        XCTAssertTrue(ranOnHelper, "with 2 threads asked for, no part ever ran on a helper")
    }
}
