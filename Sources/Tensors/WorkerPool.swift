import Foundation
import Synchronization

/// A small pool of persistent threads for splitting one decode step's matrix–vector products.
///
/// Why not `DispatchQueue.concurrentPerform`: it costs ~20–25 µs a call, and a GPT-2 decode step
/// makes ~50 such products of ~0.1–7 ms each. Workers here spin briefly between jobs (a hand-off
/// costs about a microsecond) and sleep on a condition variable when idle, so an idle Lantern
/// uses no CPU.
public final class WorkerPool: @unchecked Sendable {
    /// The shared pool, sized by `Parallelism.threads`.
    public static let shared = WorkerPool()

    /// Helper threads (the calling thread is always worker 0).
    private var helpers = 0
    /// How many threads jobs are split over now: `Parallelism.setThreads` sets it; helpers beyond
    /// it sit out. Without it a pool once grown to 2 kept splitting in 2 after a request for 1.
    private let activeWidth = Atomic<Int>(1)
    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private let condition = NSCondition()
    /// The job being run: `part` in 0..<parts, and the generation it was published as. Written
    /// and read under `condition`'s lock, so a helper always sees the three of one job together.
    nonisolated(unsafe) private var job: ((Int) -> Void)?
    nonisolated(unsafe) private var parts = 0
    nonisolated(unsafe) private var jobGeneration = 0
    private let lock = NSLock()  // one job at a time

    /// How long an idle helper spins before sleeping: long enough to bridge the gaps between a decode
    /// step's products, short enough not to steal a core from the BLAS threads during prefill.
    static let spinDuration: Duration = .microseconds(100)

    /// Number of threads a job is split over (the caller plus active helpers).
    public var width: Int { activeWidth.load(ordering: .relaxed) }

    /// Splits later jobs over `threads` in total, starting helpers as needed (threads are never
    /// stopped; helpers beyond the width just sit out).
    public func setWidth(threads: Int) {
        lock.lock()
        defer { lock.unlock() }
        activeWidth.store(max(1, threads), ordering: .relaxed)
        while helpers + 1 < threads {
            helpers += 1
            let index = helpers
            // The helper must wait for jobs after this point: read the generation now, not when the
            // thread happens to start (a job published in between would otherwise never be seen).
            let startGeneration = generation.load(ordering: .acquiring)
            let thread = Thread { [unowned self] in self.helperLoop(index: index, seen: startGeneration) }
            thread.name = "lantern-worker-\(index)"
            thread.start()
        }
    }

    /// Runs `body(part)` for every part in `0..<parts` (parts ≤ width), the caller taking part 0,
    /// and returns when all are done.
    public func run(parts requested: Int, _ body: (Int) -> Void) {
        let parts = min(requested, width)
        guard parts > 1 else {
            for part in 0..<requested { body(part) }
            return
        }
        lock.lock()
        defer { lock.unlock() }
        withoutActuallyEscaping(body) { body in
            condition.lock()
            job = body
            self.parts = parts
            jobGeneration += 1
            pending.store(parts - 1, ordering: .relaxed)
            generation.store(jobGeneration, ordering: .releasing)
            condition.broadcast()
            condition.unlock()
            body(0)
            while pending.load(ordering: .acquiring) > 0 { /* helpers finish their parts */  }
            condition.lock()
            job = nil
            condition.unlock()
        }
    }

    /// Runs this helper's part of the published job. The job is held only inside this call: the
    /// caller's closure must not outlive `run` (it is not escaping), so a helper that has no part
    /// never takes it, and one that has lets go of it before counting its part done.
    private func runPart(_ index: Int) {
        condition.lock()
        let job = self.job
        condition.unlock()
        job?(index)
    }

    private func helperLoop(index: Int, seen start: Int) {
        var seen = start
        let clock = ContinuousClock()
        while true {
            // Spin for a while, then sleep until the next job.
            let deadline = clock.now + Self.spinDuration
            var current = generation.load(ordering: .acquiring)
            while current == seen && clock.now < deadline {
                current = generation.load(ordering: .acquiring)
            }
            if current == seen {
                condition.lock()
                while generation.load(ordering: .acquiring) == seen { condition.wait() }
                condition.unlock()
                current = generation.load(ordering: .acquiring)
            }
            // The job as published, read together. A helper that slept through a whole job (not
            // one of its parts) may wake to the next one: it takes that job's part once, and
            // remembers that job's generation, not the one it woke to — otherwise it would run
            // the part again on its next turn and count it twice, letting the caller go on
            // while another helper was still writing (results then depended on timing).
            condition.lock()
            let (published, parts) = (jobGeneration, self.parts)
            condition.unlock()
            seen = published  // ≥ current: it was read after it
            guard index < parts else { continue }
            runPart(index)
            pending.subtract(1, ordering: .releasing)
        }
    }
}

/// How many threads Lantern's kernels use: the worker pool splits every large product and the
/// element-wise work; each worker calls BLAS single-threaded.
public enum Parallelism {
    public static func setThreads(_ count: Int) {
        let count = max(1, count)
        // BLAS runs single-threaded inside Lantern's workers (see linearForward and attention).
        BLAS.setThreads(1)
        WorkerPool.shared.setWidth(threads: count)
        current.store(count, ordering: .relaxed)
    }

    private static let current = Atomic<Int>(1)
    public static var threads: Int { current.load(ordering: .relaxed) }
}
