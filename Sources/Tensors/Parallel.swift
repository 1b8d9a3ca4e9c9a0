import Dispatch

/// Splits `rows × width` element-wise work into one contiguous chunk per BLAS thread.
/// Small jobs run inline: starting threads costs ~20–25 µs, more than a decode step's
/// element-wise work.
public func parallelChunks(rows: Int, width: Int, _ body: (_ offset: Int, _ count: Int) -> Void) {
    let total = rows * width
    let workers = min(Parallelism.threads, rows)
    guard workers > 1, total >= 1 << 16 else {
        body(0, total)
        return
    }
    let rowsPerWorker = (rows + workers - 1) / workers
    withoutActuallyEscaping(body) { body in
        // Each worker touches its own disjoint rows, so sharing the closure is safe.
        nonisolated(unsafe) let work = body
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let first = w * rowsPerWorker, last = min(rows, first + rowsPerWorker)
            if first < last { work(first * width, (last - first) * width) }
        }
    }
}
