import Tensors

/// Final step shared by both drivers: logits `[rows, V] = normed[rows, C] · table[V, C]ᵀ`,
/// computed only for the last row unless every row is wanted (prefill needs one row; a
/// full-sequence comparison or a `logits` record of every row needs them all).
func unembed(normed: UnsafePointer<Float>, T: Int, V: Int, C: Int, table: WeightMatrix,
             capture: CaptureSpec, allLogits: Bool, recorder: inout Recorder) -> ForwardResult {
    let needsAllRows = allLogits || (capture.wants(.logits) && !capture.lastRowOnly)
    let firstRow = needsAllRows ? 0 : T - 1
    let rows = T - firstRow
    var logits = [Float](repeating: 0, count: rows * V)
    logits.withUnsafeMutableBufferPointer { out in
        linearForward(out: out.baseAddress!, input: normed + firstRow * C, weight: table, bias: nil, T: rows, C: C, OC: V)
    }
    let all = Tensor(shape: [rows, V], scalars: logits)
    let last = rows == 1 ? all : Tensor(shape: [1, V], scalars: Array(logits[((rows - 1) * V)...]))
    if capture.wants(.logits) {
        recorder.records[RecordKind.logits.rawValue] = capture.lastRowOnly ? last : all
    }
    return ForwardResult(logits: allLogits ? all : last, records: recorder.records)
}
