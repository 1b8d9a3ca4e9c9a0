import Tensors

/// Final step shared by every driver: logits `[rows, V] = normed[rows, C] · table[V, C]ᵀ (+ bias)`,
/// computed only for the last row unless more are wanted (prefill needs one row; a
/// full-sequence comparison needs them all, a `logits` record the rows it keeps).
func unembed(
    normed: UnsafePointer<Float>, T: Int, V: Int, C: Int, table: WeightMatrix, bias: UnsafePointer<Float>? = nil,
    capture: CaptureSpec, allLogits: Bool, recorder: inout Recorder
) -> ForwardResult {
    // From the first row a logits record keeps (or every row), else the last row only.
    let recorded = recorder.records(.logits)
    let firstRow = allLogits ? 0 : recorded ? min(recorder.firstRow, T - 1) : T - 1
    let rows = T - firstRow
    var logits = [Float](repeating: 0, count: rows * V)
    logits.withUnsafeMutableBufferPointer { out in
        linearForward(out: out.baseAddress!, input: normed + firstRow * C, weight: table, bias: bias, T: rows, C: C, OC: V)
    }
    let all = Tensor(shape: [rows, V], scalars: logits)
    let last = rows == 1 ? all : Tensor(shape: [1, V], scalars: Array(logits[((rows - 1) * V)...]))
    if recorded {
        let skip = recorder.firstRow - firstRow, kept = recorder.keptRows
        recorder.records[RecordKind.logits.rawValue] =
            skip == 0 && kept == rows
            ? all
            : Tensor(shape: [kept, V], scalars: Array(logits[(skip * V)..<((skip + kept) * V)]))
    }
    return ForwardResult(logits: allLogits ? all : last, records: recorder.records)
}
