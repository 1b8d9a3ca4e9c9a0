import CKernels
import Foundation

// Scaled dot-product attention, once for every family and every use: inference over the KV
// cache, recording, and training (forward and backward). A readable reference (loops) and a fast
// version (BLAS products per sequence and head, causal row blocks, heads over the workers) share
// one signature; FastKernelTests holds the fast one to the reference.

// MARK: - Where the operands lie

/// Where one operand of attention lies in memory: head `h`'s `hs` values for row `r` of sequence
/// `b` start `b·sequence + h·head + r·row` floats after the operand's base. One kernel then reads
/// every layout the engine has: q, k and v side by side in a training row (`[B, T, 3C]`),
/// separate `[T, NH·hs]` matrices, and the inference cache (`[NKV, capacity, hs]`).
public struct AttentionStrides: Equatable, Sendable {
    public var row: Int
    public var head: Int
    public var sequence: Int

    public init(row: Int, head: Int, sequence: Int = 0) {
        (self.row, self.head, self.sequence) = (row, head, sequence)
    }

    /// Heads side by side along rows of `rowWidth` floats (head `h` at columns `h·hs ..< (h+1)·hs`
    /// from the operand's start), sequences of `rows` rows one after another.
    public static func sideBySide(rowWidth: Int, headSize: Int, rowsPerSequence rows: Int = 0) -> AttentionStrides {
        AttentionStrides(row: rowWidth, head: headSize, sequence: rows * rowWidth)
    }

    /// Heads one after another, `capacity` rows each: the KV cache's `[NKV, capacity, hs]`.
    public static func headMajor(capacity: Int, headSize: Int) -> AttentionStrides {
        AttentionStrides(row: headSize, head: capacity * headSize)
    }
}

/// An operand attention reads: a base pointer and its strides.
public struct AttentionInput {
    public let base: UnsafePointer<Float>
    public let strides: AttentionStrides
    public init(_ base: UnsafePointer<Float>, _ strides: AttentionStrides) { (self.base, self.strides) = (base, strides) }
    func at(sequence b: Int, head h: Int) -> UnsafePointer<Float> { base + b * strides.sequence + h * strides.head }
}

/// An operand attention writes (its output) or adds into (gradients).
public struct AttentionOutput {
    public let base: UnsafeMutablePointer<Float>
    public let strides: AttentionStrides
    public init(_ base: UnsafeMutablePointer<Float>, _ strides: AttentionStrides) { (self.base, self.strides) = (base, strides) }
    func at(sequence b: Int, head h: Int) -> UnsafeMutablePointer<Float> { base + b * strides.sequence + h * strides.head }
    var input: AttentionInput { AttentionInput(base, strides) }
}

/// Which keys each query row may see.
public enum AttentionMask: Equatable, Sendable {
    /// Every key (encoders, cross-attention).
    case none
    /// Query row `t` sits at position `start + t` and sees the keys up to its own (decoders); with
    /// a `window`, only the latest `window` of them (GPT-Neo's local layers, Mistral).
    case causal(start: Int = 0, window: Int? = nil)
}

/// The sizes of one attention call. Letters: B sequences, Tq query rows and Tk keys per sequence,
/// NH query heads and NKV key/value heads (query head `h` reads key/value head `h / (NH / NKV)`),
/// hs values per head.
public struct AttentionShape: Equatable, Sendable {
    public var sequences: Int
    public var queries: Int
    public var keys: Int
    public var heads: Int
    public var kvHeads: Int
    public var headSize: Int
    /// What every score `q · k` is multiplied by (1/√hs unless the model says otherwise).
    public var scale: Float
    public var mask: AttentionMask

    public init(
        sequences: Int = 1, queries: Int, keys: Int, heads: Int, kvHeads: Int? = nil, headSize: Int, scale: Float,
        mask: AttentionMask
    ) {
        (self.sequences, self.queries, self.keys, self.heads) = (sequences, queries, keys, heads)
        (self.kvHeads, self.headSize, self.scale, self.mask) = (kvHeads ?? heads, headSize, scale, mask)
        precondition(
            self.kvHeads > 0 && heads % self.kvHeads == 0,
            "AttentionShape: \(heads) heads do not share \(self.kvHeads) key/value heads evenly")
        if case .causal(let start, _) = mask {
            precondition(
                start + queries <= keys,
                "AttentionShape: \(queries) causal rows from position \(start) need \(start + queries) keys, not \(keys)")
        }
    }

    /// The keys query row `t` sees.
    public func visibleKeys(row t: Int) -> Range<Int> {
        switch mask {
        case .none: return 0..<keys
        case .causal(let start, let window):
            let end = start + t + 1
            return max(0, end - (window ?? end))..<end
        }
    }

    /// How many leading keys a block of rows needs: the last row's visible end (later keys are
    /// masked for every row of the block, so their products are skipped).
    func keysNeeded(rows: Range<Int>) -> Int { visibleKeys(row: rows.upperBound - 1).upperBound }

    /// The key/value head query head `h` reads.
    func kvHead(of h: Int) -> Int { h / (heads / kvHeads) }

    /// One [Tq, Tk] matrix per (sequence, head) pair, in `[B, NH, Tq, Tk]` order.
    public var pairs: Int { sequences * heads }
    public var pairSize: Int { queries * keys }
}

/// Causal row blocks: rows `r0..<r1` look at keys `0..<start+r1` only, so each block's products
/// skip the masked keys after it. Four blocks of a 256-token window do 62.5 % of the full square's
/// work; blocks stay `minimumRows` rows or more, where BLAS is still efficient.
public func causalRowBlocks(_ T: Int, minimumRows: Int = 64) -> [Range<Int>] {
    let count = max(1, min(4, T / minimumRows))
    return (0..<count).map { i in (i * T / count)..<((i + 1) * T / count) }
}

// MARK: - Reference kernels

/// Attention, written out: for every sequence `b` and head `h`,
/// `scores = scale · Q·Kᵀ (+ bias)`, masked, `probs = softmax(scores)`, `out = probs · V`.
/// - `probs`: `[B, NH, Tq, Tk]`, kept for the backward pass (0 where a key is masked);
///   `scores`, when given, the same shape (−∞ where masked).
/// - `bias`: `[NH, Tq, Tk]` added to the scaled scores before the mask (T5's relative
///   positions), the same for every sequence.
public func referenceAttentionForward(
    _ shape: AttentionShape, q: AttentionInput, k: AttentionInput, v: AttentionInput, out: AttentionOutput,
    probs: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>? = nil, bias: UnsafePointer<Float>? = nil
) {
    let (Tq, Tk, NH, hs) = (shape.queries, shape.keys, shape.heads, shape.headSize)
    for pair in 0..<shape.pairs {
        let b = pair / NH, h = pair % NH, kv = shape.kvHead(of: h)
        let qh = q.at(sequence: b, head: h), kh = k.at(sequence: b, head: kv), vh = v.at(sequence: b, head: kv)
        let oh = out.at(sequence: b, head: h)
        for t in 0..<Tq {
            let row = probs + pair * shape.pairSize + t * Tk, query = qh + t * q.strides.row
            let visible = shape.visibleKeys(row: t)
            for j in 0..<Tk { row[j] = -.infinity }
            var largest = -Float.infinity
            for j in visible {
                let key = kh + j * k.strides.row
                var dot: Float = 0
                for i in 0..<hs { dot += query[i] * key[i] }
                row[j] = dot * shape.scale + (bias?[(h * Tq + t) * Tk + j] ?? 0)
                largest = max(largest, row[j])
            }
            scores?.advanced(by: pair * shape.pairSize + t * Tk).update(from: row, count: Tk)
            var total: Float = 0
            for j in visible {
                row[j] = expf(row[j] - largest)
                total += row[j]
            }
            for j in 0..<Tk { row[j] = visible.contains(j) ? row[j] / total : 0 }
            let o = oh + t * out.strides.row
            for i in 0..<hs { o[i] = 0 }
            for j in visible {
                let value = vh + j * v.strides.row, p = row[j]
                for i in 0..<hs { o[i] += p * value[i] }
            }
        }
    }
}

/// The backward of attention, ADDING into `dq`, `dk`, `dv` (laid out like q, k, v): per sequence
/// and head, `dv += pᵀ·dout`, `dp = dout·vᵀ`, `ds = p ⊙ (dp − Σⱼ p·dp)`, `dq += scale·ds·k`,
/// `dk += scale·dsᵀ·q`. `probs` is what the forward kept. Training has one key/value head per
/// query head (NKV = NH) and no bias.
public func referenceAttentionBackward(
    _ shape: AttentionShape, dq: AttentionOutput, dk: AttentionOutput, dv: AttentionOutput, dout: AttentionInput,
    q: AttentionInput, k: AttentionInput, v: AttentionInput, probs: UnsafePointer<Float>
) {
    precondition(shape.kvHeads == shape.heads, "attentionBackward: key/value heads shared between query heads are not trained")
    let (Tq, Tk, NH, hs) = (shape.queries, shape.keys, shape.heads, shape.headSize)
    var dp = [Float](repeating: 0, count: Tk)
    for pair in 0..<shape.pairs {
        let b = pair / NH, h = pair % NH
        let qh = q.at(sequence: b, head: h), kh = k.at(sequence: b, head: h), vh = v.at(sequence: b, head: h)
        let dqh = dq.at(sequence: b, head: h), dkh = dk.at(sequence: b, head: h), dvh = dv.at(sequence: b, head: h)
        for t in 0..<Tq {
            let row = probs + pair * shape.pairSize + t * Tk, d = dout.at(sequence: b, head: h) + t * dout.strides.row
            let visible = shape.visibleKeys(row: t)
            var weighted: Float = 0
            for j in visible {
                let value = vh + j * v.strides.row, dvalue = dvh + j * dv.strides.row, p = row[j]
                var dot: Float = 0
                for i in 0..<hs {
                    dot += d[i] * value[i]
                    dvalue[i] += p * d[i]
                }
                dp[j] = dot
                weighted += p * dot
            }
            let query = qh + t * q.strides.row, dquery = dqh + t * dq.strides.row
            for j in visible {
                let ds = row[j] * (dp[j] - weighted) * shape.scale
                let key = kh + j * k.strides.row, dkey = dkh + j * dk.strides.row
                for i in 0..<hs {
                    dquery[i] += ds * key[i]
                    dkey[i] += ds * query[i]
                }
            }
        }
    }
}

// MARK: - Fast kernels

/// `referenceAttentionForward`'s result by BLAS: per (sequence, head) pair and causal row block,
/// `scores = scale · Q·Kᵀ` (a matrix–vector product for a single row: decoding), the masked
/// softmax row by row, `out = probs · V`. Pairs are shared out over the workers once the work is
/// large enough (each worker's BLAS calls are single-threaded).
/// - `probs`: optional here; without it each worker uses scratch. Inference passes its record.
/// - `softmax`: `.exact` keeps libm's `expf` and takes `probs · V` as one product over every row
///   and key (masked keys weigh 0; smaller products are summed in another order by OpenBLAS's
///   small-matrix kernels past a few hundred keys), so inference stays bit-identical to its
///   reference runs; `.vectorised` uses the AVX2 row kernel where the CPU has it and skips the
///   masked keys block by block in both products (training).
/// - `products`: training's `--precision`; the products of several rows take it (PyTorch's
///   autocast runs attention in bfloat16 too).
public func attentionForward(
    _ shape: AttentionShape, q: AttentionInput, k: AttentionInput, v: AttentionInput, out: AttentionOutput,
    probs: UnsafeMutablePointer<Float>? = nil, scores: UnsafeMutablePointer<Float>? = nil, bias: UnsafePointer<Float>? = nil,
    softmax: ElementwiseKernels = .exact, products: ProductPrecision = .f32, minimumBlockRows: Int = 64
) {
    let (Tq, Tk, NH, hs) = (shape.queries, shape.keys, shape.heads, shape.headSize)
    let blocks = shape.mask == .none ? [0..<Tq] : causalRowBlocks(Tq, minimumRows: minimumBlockRows)

    func attend(pair: Int, scratch: UnsafeMutablePointer<Float>) {
        let b = pair / NH, h = pair % NH, kv = shape.kvHead(of: h)
        let qh = q.at(sequence: b, head: h), kh = k.at(sequence: b, head: kv), vh = v.at(sequence: b, head: kv)
        let oh = out.at(sequence: b, head: h)
        let weights = probs.map { $0 + pair * shape.pairSize } ?? scratch
        // Q·Kᵀ lands in the recorded scores when they are kept, else straight in the weights.
        let raw = scores.map { $0 + pair * shape.pairSize } ?? weights
        for rows in blocks {
            let r0 = rows.lowerBound, needed = shape.keysNeeded(rows: rows)
            if rows.count == 1 {
                gemv(
                    trans: false, M: needed, N: hs, alpha: shape.scale, A: kh, lda: k.strides.row, x: qh + r0 * q.strides.row,
                    beta: 0, y: raw + r0 * Tk)
            } else {
                gemm(
                    transA: false, transB: true, M: rows.count, N: needed, K: hs, alpha: shape.scale, A: qh + r0 * q.strides.row,
                    lda: q.strides.row, B: kh, ldb: k.strides.row, beta: 0, C: raw + r0 * Tk, ldc: Tk, products: products)
            }
            for t in rows {
                let s = raw + t * Tk, p = weights + t * Tk, visible = shape.visibleKeys(row: t)
                if let bias { addInPlace(s, bias + (h * Tq + t) * Tk, count: visible.upperBound) }
                for j in 0..<visible.lowerBound { s[j] = -.infinity }
                for j in visible.upperBound..<Tk { s[j] = -.infinity }
                let first = visible.lowerBound
                if softmax == .vectorised && cpuHasAVX2 {
                    lantern_softmax_row_avx2(s + first, p + first, visible.count)
                } else {
                    if s != p { (p + first).update(from: s + first, count: visible.count) }
                    softmaxInPlace(p + first, count: visible.count)
                }
                for j in 0..<visible.lowerBound { p[j] = 0 }
                for j in visible.upperBound..<Tk { p[j] = 0 }
            }
            if softmax == .vectorised { multiplyValues(rows: rows, keys: needed) }
        }
        if softmax == .exact { multiplyValues(rows: 0..<Tq, keys: Tk) }

        // out[rows] = weights[rows, ..<keys] · V[..<keys]
        func multiplyValues(rows: Range<Int>, keys: Int) {
            let r0 = rows.lowerBound
            if rows.count == 1 {
                gemv(
                    trans: true, M: keys, N: hs, alpha: 1, A: vh, lda: v.strides.row, x: weights + r0 * Tk, beta: 0,
                    y: oh + r0 * out.strides.row)
            } else {
                gemm(
                    transA: false, transB: false, M: rows.count, N: hs, K: keys, alpha: 1, A: weights + r0 * Tk, lda: Tk,
                    B: vh, ldb: v.strides.row, beta: 0, C: oh + r0 * out.strides.row, ldc: out.strides.row, products: products)
            }
        }
    }

    // Decoding's single rows are tiny: the pairs run in turn. Otherwise each worker takes every
    // n-th pair (training's many small pairs included).
    let parts = Tq > 1 && shape.pairs * shape.pairSize >= 4096 ? min(WorkerPool.shared.width, shape.pairs) : 1
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: probs == nil ? parts * shape.pairSize : 0)
    defer { scratch.deallocate() }
    inParts(parts, pairs: shape.pairs) { pair, part in attend(pair: pair, scratch: scratch + part * shape.pairSize) }
}

/// `referenceAttentionBackward`'s result by BLAS, per (sequence, head) pair and causal row block:
/// `dp = dout·Vᵀ`, `dV += probsᵀ·dout`, the softmax's backward on each row's visible keys, then
/// `dQ += scale · ds·K` and `dK += scale · dsᵀ·Q`. Pairs write disjoint slices, so they are
/// shared out over the workers; the products in `products`' precision (the forward's).
public func attentionBackward(
    _ shape: AttentionShape, dq: AttentionOutput, dk: AttentionOutput, dv: AttentionOutput, dout: AttentionInput,
    q: AttentionInput, k: AttentionInput, v: AttentionInput, probs: UnsafePointer<Float>, products: ProductPrecision = .f32,
    minimumBlockRows: Int = 64
) {
    precondition(shape.kvHeads == shape.heads, "attentionBackward: key/value heads shared between query heads are not trained")
    let (Tk, NH, hs) = (shape.keys, shape.heads, shape.headSize)
    let blocks = shape.mask == .none ? [0..<shape.queries] : causalRowBlocks(shape.queries, minimumRows: minimumBlockRows)

    func differentiate(pair: Int, scratch: UnsafeMutablePointer<Float>) {
        let b = pair / NH, h = pair % NH
        let qh = q.at(sequence: b, head: h), kh = k.at(sequence: b, head: h), vh = v.at(sequence: b, head: h)
        let dqh = dq.at(sequence: b, head: h), dkh = dk.at(sequence: b, head: h), dvh = dv.at(sequence: b, head: h)
        let d = dout.at(sequence: b, head: h), p = probs + pair * shape.pairSize
        let dp = scratch, ds = scratch + shape.pairSize  // [Tq, Tk] each
        for rows in blocks {
            let r0 = rows.lowerBound, needed = shape.keysNeeded(rows: rows), n = rows.count
            // dp[rows, ..<needed] = dout[rows] · V[..<needed]ᵀ;  dV[..<needed] += probs[rows, ..<needed]ᵀ · dout[rows]
            gemm(
                transA: false, transB: true, M: n, N: needed, K: hs, alpha: 1, A: d + r0 * dout.strides.row, lda: dout.strides.row,
                B: vh, ldb: v.strides.row, beta: 0, C: dp + r0 * Tk, ldc: Tk, products: products)
            gemm(
                transA: true, transB: false, M: needed, N: hs, K: n, alpha: 1, A: p + r0 * Tk, lda: Tk, B: d + r0 * dout.strides.row,
                ldb: dout.strides.row, beta: 1, C: dvh, ldc: dv.strides.row, products: products)
            for t in rows {
                let pRow = p + t * Tk, dpRow = dp + t * Tk, dsRow = ds + t * Tk, visible = shape.visibleKeys(row: t)
                var weighted: Float = 0
                for j in visible { weighted += pRow[j] * dpRow[j] }
                for j in 0..<needed { dsRow[j] = visible.contains(j) ? pRow[j] * (dpRow[j] - weighted) : 0 }
            }
            // dQ[rows] += scale · ds[rows, ..<needed] · K[..<needed];  dK[..<needed] += scale · ds[rows, ..<needed]ᵀ · Q[rows]
            gemm(
                transA: false, transB: false, M: n, N: hs, K: needed, alpha: shape.scale, A: ds + r0 * Tk, lda: Tk, B: kh,
                ldb: k.strides.row, beta: 1, C: dqh + r0 * dq.strides.row, ldc: dq.strides.row, products: products)
            gemm(
                transA: true, transB: false, M: needed, N: hs, K: n, alpha: shape.scale, A: ds + r0 * Tk, lda: Tk,
                B: qh + r0 * q.strides.row, ldb: q.strides.row, beta: 1, C: dkh, ldc: dk.strides.row, products: products)
        }
    }

    let parts = min(WorkerPool.shared.width, shape.pairs)
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: parts * 2 * shape.pairSize)
    defer { scratch.deallocate() }
    inParts(parts, pairs: shape.pairs) { pair, part in differentiate(pair: pair, scratch: scratch + part * 2 * shape.pairSize) }
}

/// Runs `body(pair, part)` for every pair, part `i` of `parts` taking pairs `i, i + parts, …`
/// (inline when there is one part).
private func inParts(_ parts: Int, pairs: Int, _ body: (_ pair: Int, _ part: Int) -> Void) {
    guard parts > 1 else {
        for pair in 0..<pairs { body(pair, 0) }
        return
    }
    withoutActuallyEscaping(body) { body in
        nonisolated(unsafe) let work = body
        WorkerPool.shared.run(parts: parts) { part in
            for pair in stride(from: part, to: pairs, by: parts) { work(pair, part) }
        }
    }
}
