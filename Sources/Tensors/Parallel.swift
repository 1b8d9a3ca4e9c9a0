/// Splits `rows × width` element-wise work into one contiguous chunk per worker thread.
/// Small jobs run inline: handing work over costs more than a decode step's element-wise work.
public func parallelChunks(rows: Int, width: Int, _ body: (_ offset: Int, _ count: Int) -> Void) {
    let total = rows * width
    let pool = WorkerPool.shared
    let workers = min(pool.width, rows)
    guard workers > 1, total >= 1 << 16 else {
        body(0, total)
        return
    }
    pool.run(parts: workers) { part in
        let first = rows * part / workers, last = rows * (part + 1) / workers
        if first < last { body(first * width, (last - first) * width) }
    }
}
