import CKernels
import Foundation

/// Whether the AVX2 element-wise kernels may run on this CPU (checked once).
public let cpuHasAVX2 = lantern_cpu_has_avx2_fma() != 0

// The fast kernels: the same mathematics as the reference kernels (Kernels.swift for forwards
// shared with inference, TrainingKernels.swift for the rest), arranged for speed on a few cores.
// Naming: `fast<Op>Forward` / `fast<Op>Backward` is the fast version of `<op>Forward` /
// `<op>Backward`, and FastKernelTests holds each to its reference.
// - every matrix product is a single-threaded BLAS call, and big ones are split by output columns
//   over Lantern's worker pool (BLAS's own threads spin and fight the pool for the cores);
//   the forward product is `linearForward` (Kernels.swift), shared with inference;
// - attention is per (sequence, head) pairs of BLAS products — Q·Kᵀ, P·V and their transposes —
//   with the causal softmax between them, the pairs split over the workers;
// - element-wise work (GELU, softmax, cross-entropy, residuals, norms) is split by rows.
// Measured on the 2-core machine (built-in shape, batch 16 × 128): see `lantern bench --train`.

/// Runs `body` over `0..<count` split into one contiguous range per worker (inline when small).
@inline(__always)
public func splitOverWorkers(_ count: Int, minimumPerPart: Int = 1, _ body: (Range<Int>) -> Void) {
    let pool = WorkerPool.shared
    let parts = max(1, min(pool.width, count / max(1, minimumPerPart)))
    guard parts > 1 else { return body(0..<count) }
    pool.run(parts: parts) { part in
        let first = count * part / parts, last = count * (part + 1) / parts
        if first < last { body(first..<last) }
    }
}

// MARK: - Matrix multiplication

/// `dinp[N, C] += dout · weight`, `dweight[OC, C] += doutᵀ · inp`, `dbias[OC] += Σₙ dout[n, :]`.
/// The input gradient is split by its columns, the weight gradient (and bias) by its rows.
public func fastMatmulBackward(
    dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, N: Int, C: Int, OC: Int
) {
    nonisolated(unsafe) let (dx, dw, db, dy, x, w) = (dinp, dweight, dbias, dout, inp, weight)
    splitOverWorkers(C, minimumPerPart: 32) { cols in
        gemm(
            transA: false, transB: false, M: N, N: cols.count, K: OC, alpha: 1, A: dy, lda: OC,
            B: w + cols.lowerBound, ldb: C, beta: 1, C: dx + cols.lowerBound, ldc: C)
    }
    splitOverWorkers(OC, minimumPerPart: 32) { rows in
        gemm(
            transA: true, transB: false, M: rows.count, N: C, K: N, alpha: 1, A: dy + rows.lowerBound, lda: OC,
            B: x, ldb: C, beta: 1, C: dw + rows.lowerBound * C, ldc: C)
        if let db {
            for n in 0..<N {
                let d = dy + n * OC
                for o in rows { db[o] += d[o] }
            }
        }
    }
}

// MARK: - Attention

/// Causal row blocks for attention: rows `r0..<r1` look at keys `0..<r1` only, so each block's
/// products skip the masked keys after it. Four blocks of a 256-token window do 62.5 % of the
/// full square's work; blocks stay 64 rows or more, where BLAS is still efficient.
public func causalRowBlocks(_ T: Int, minimumRows: Int = 64) -> [Range<Int>] {
    let count = max(1, min(4, T / minimumRows))
    return (0..<count).map { i in (i * T / count)..<((i + 1) * T / count) }
}

/// Causal multi-head attention (see `attentionForward` for the layouts), one (sequence, head) pair
/// at a time: `preatt = scale · Q·Kᵀ` by BLAS, masked softmax row by row, `out = att · V` by BLAS,
/// each over causal row blocks (`causalRowBlocks`).
public func fastAttentionForward(
    out: UnsafeMutablePointer<Float>, preatt: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>,
    inp: UnsafePointer<Float>, B: Int, T: Int, C: Int, NH: Int, causal: Bool = true, minimumBlockRows: Int = 64
) {
    let C3 = 3 * C, hs = C / NH
    let scale = 1 / Float(hs).squareRoot()
    // Without the mask every row sees every key: one block, nothing to skip.
    let blocks = causal ? causalRowBlocks(T, minimumRows: minimumBlockRows) : [0..<T]
    nonisolated(unsafe) let (y, pre, pattern, x) = (out, preatt, att, inp)
    splitOverWorkers(B * NH) { pairs in
        for pair in pairs {
            let b = pair / NH, h = pair % NH
            let q = x + b * T * C3 + h * hs, k = q + C, v = q + 2 * C
            let scores = pre + pair * T * T, weights = pattern + pair * T * T
            for rows in blocks {
                let r0 = rows.lowerBound, keys = causal ? rows.upperBound : T
                // scores[rows, 0..<keys] = scale · Q[rows] · K[0..<keys]ᵀ
                gemm(
                    transA: false, transB: true, M: rows.count, N: keys, K: hs, alpha: scale, A: q + r0 * C3, lda: C3,
                    B: k, ldb: C3, beta: 0, C: scores + r0 * T, ldc: T)
                for t in rows {
                    let s = scores + t * T, a = weights + t * T, visible = causal ? t + 1 : T
                    if cpuHasAVX2 {
                        lantern_softmax_row_avx2(s, a, visible)
                    } else {
                        var maxValue = -Float.infinity
                        for j in 0..<visible { maxValue = max(maxValue, s[j]) }
                        var sum: Float = 0
                        for j in 0..<visible { let e = expf(s[j] - maxValue); a[j] = e; sum += e }
                        let inv = 1 / sum
                        for j in 0..<visible { a[j] *= inv }
                    }
                    for j in visible..<T { a[j] = 0; s[j] = 0 }
                }
                // out[rows] = att[rows, 0..<keys] · V[0..<keys]
                gemm(
                    transA: false, transB: false, M: rows.count, N: hs, K: keys, alpha: 1, A: weights + r0 * T, lda: T,
                    B: v, ldb: C3, beta: 0, C: y + (b * T + r0) * C + h * hs, ldc: C)
            }
        }
    }
}

/// Backward of `fastAttentionForward` (the same result as `attentionBackward`): per (sequence, head)
/// and causal row block, `datt += dout·Vᵀ`, `dV += attᵀ·dout`, the softmax's backward on the causal
/// part of each row, then `dQ += scale · dpreatt·K` and `dK += scale · dpreattᵀ·Q`.
public func fastAttentionBackward(
    dinp: UnsafeMutablePointer<Float>, dpreatt: UnsafeMutablePointer<Float>, datt: UnsafeMutablePointer<Float>,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, att: UnsafePointer<Float>,
    B: Int, T: Int, C: Int, NH: Int, causal: Bool = true, minimumBlockRows: Int = 64
) {
    let C3 = 3 * C, hs = C / NH
    let scale = 1 / Float(hs).squareRoot()
    let blocks = causal ? causalRowBlocks(T, minimumRows: minimumBlockRows) : [0..<T]
    nonisolated(unsafe) let (dx, dpre, dpattern, dy, x, pattern) = (dinp, dpreatt, datt, dout, inp, att)
    splitOverWorkers(B * NH) { pairs in
        for pair in pairs {
            let b = pair / NH, h = pair % NH
            let q = x + b * T * C3 + h * hs, k = q + C, v = q + 2 * C
            let dq = dx + b * T * C3 + h * hs, dk = dq + C, dv = dq + 2 * C
            let d = dy + b * T * C + h * hs
            let a = pattern + pair * T * T, da = dpattern + pair * T * T, dp = dpre + pair * T * T
            for rows in blocks {
                let r0 = rows.lowerBound, keys = causal ? rows.upperBound : T, n = rows.count
                // datt[rows, 0..<keys] += dout[rows] · V[0..<keys]ᵀ;  dV[0..<keys] += att[rows, 0..<keys]ᵀ · dout[rows]
                gemm(
                    transA: false, transB: true, M: n, N: keys, K: hs, alpha: 1, A: d + r0 * C, lda: C, B: v, ldb: C3,
                    beta: 1, C: da + r0 * T, ldc: T)
                gemm(
                    transA: true, transB: false, M: keys, N: hs, K: n, alpha: 1, A: a + r0 * T, lda: T, B: d + r0 * C, ldb: C,
                    beta: 1, C: dv, ldc: C3)
                for t in rows {
                    let aRow = a + t * T, daRow = da + t * T, dpRow = dp + t * T, visible = causal ? t + 1 : T
                    // Later keys take no part (the reference kernel never writes them).
                    for j in visible..<T { daRow[j] = 0 }
                    var weighted: Float = 0
                    for j in 0..<visible { weighted += aRow[j] * daRow[j] }
                    for j in 0..<visible { dpRow[j] += aRow[j] * (daRow[j] - weighted) }
                }
                // dQ[rows] += scale · dpreatt[rows, 0..<keys] · K[0..<keys];  dK[0..<keys] += scale · dpreatt[rows, 0..<keys]ᵀ · Q[rows]
                gemm(
                    transA: false, transB: false, M: n, N: hs, K: keys, alpha: scale, A: dp + r0 * T, lda: T, B: k, ldb: C3,
                    beta: 1, C: dq + r0 * C3, ldc: C3)
                gemm(
                    transA: true, transB: false, M: keys, N: hs, K: n, alpha: scale, A: dp + r0 * T, lda: T, B: q + r0 * C3, ldb: C3,
                    beta: 1, C: dk, ldc: C3)
            }
        }
    }
}

// MARK: - Element-wise

/// GELU over `N` values (`out` may be `inp`), split over the workers; the AVX2 kernel when the CPU
/// has it. Training's choice; inference keeps `geluForward`'s libm `expf` on every CPU, so its
/// outputs are bit-identical to its reference runs (see `ElementwiseKernels`).
public func fastGeluForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, N: Int) {
    nonisolated(unsafe) let (y, x) = (out, inp)
    splitOverWorkers(N, minimumPerPart: 1 << 14) { range in
        if cpuHasAVX2 {
            lantern_gelu_forward_avx2(y + range.lowerBound, x + range.lowerBound, range.count)
        } else {
            geluForward(out: y + range.lowerBound, input: x + range.lowerBound, count: range.count)
        }
    }
}

public func fastGeluBackward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, N: Int) {
    nonisolated(unsafe) let (dx, x, dy) = (dinp, inp, dout)
    splitOverWorkers(N, minimumPerPart: 1 << 14) { range in
        let o = range.lowerBound
        if cpuHasAVX2 {
            lantern_gelu_backward_avx2(dx + o, x + o, dy + o, range.count)
        } else {
            geluBackward(dinp: dx + o, inp: x + o, dout: dy + o, N: range.count)
        }
    }
}

public func fastResidualForward(out: UnsafeMutablePointer<Float>, inp1: UnsafePointer<Float>, inp2: UnsafePointer<Float>, N: Int) {
    nonisolated(unsafe) let (y, a, b) = (out, inp1, inp2)
    splitOverWorkers(N, minimumPerPart: 1 << 15) { range in
        for i in range { y[i] = a[i] + b[i] }
    }
}

public func fastResidualBackward(dinp1: UnsafeMutablePointer<Float>, dinp2: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, N: Int)
{
    nonisolated(unsafe) let (d1, d2, dy) = (dinp1, dinp2, dout)
    splitOverWorkers(N, minimumPerPart: 1 << 15) { range in
        for i in range { d1[i] += dy[i]; d2[i] += dy[i] }
    }
}

/// Softmax of each row of `logits[N, V]` and, with targets, each row's cross-entropy (0 where the
/// target is −1, a position not scored).
public func fastSoftmaxCrossEntropyForward(
    probs: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Float>,
    logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, N: Int, V: Int
) {
    nonisolated(unsafe) let (p, l, x, t) = (probs, losses, logits, targets)
    splitOverWorkers(N) { rows in
        if cpuHasAVX2 {
            for n in rows { lantern_softmax_row_avx2(x + n * V, p + n * V, V) }
        } else {
            softmaxForward(probs: p + rows.lowerBound * V, logits: x + rows.lowerBound * V, N: rows.count, V: V)
        }
        for n in rows { l[n] = t[n] < 0 ? 0 : -logf(p[n * V + Int(t[n])]) }
    }
}

public func fastCrossEntropySoftmaxBackward(
    dlogits: UnsafeMutablePointer<Float>, dlosses: UnsafePointer<Float>,
    probs: UnsafePointer<Float>, targets: UnsafePointer<Int32>, N: Int, V: Int
) {
    nonisolated(unsafe) let (d, dl, p, t) = (dlogits, dlosses, probs, targets)
    splitOverWorkers(N) { rows in
        crossEntropySoftmaxBackward(
            dlogits: d + rows.lowerBound * V, dlosses: dl + rows.lowerBound,
            probs: p + rows.lowerBound * V, targets: t + rows.lowerBound, N: rows.count, V: V)
    }
}

public func fastLayerNormForward(
    out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    T: Int, C: Int, eps: Float, mean: UnsafeMutablePointer<Float>? = nil, rstd: UnsafeMutablePointer<Float>? = nil
) {
    nonisolated(unsafe) let (y, m, r, x, w, b) = (out, mean, rstd, input, weight, bias)
    splitOverWorkers(T, minimumPerPart: 64) { rows in
        let o = rows.lowerBound
        layerNormForward(
            out: y + o * C, input: x + o * C, weight: w, bias: b, T: rows.count, C: C, eps: eps,
            mean: m.map { $0 + o }, rstd: r.map { $0 + o })
    }
}

/// Rows are split over the workers; each part sums its own weight and bias gradients, added up after.
public func fastLayerNormBackward(
    dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, N: Int, C: Int
) {
    let parts = max(1, min(WorkerPool.shared.width, N / 64))
    guard parts > 1 else {
        return layerNormBackward(
            dinp: dinp, dweight: dweight, dbias: dbias, dout: dout, inp: inp, weight: weight,
            mean: mean, rstd: rstd, N: N, C: C)
    }
    let partial = UnsafeMutablePointer<Float>.allocate(capacity: parts * 2 * C)
    defer { partial.deallocate() }
    partial.initialize(repeating: 0, count: parts * 2 * C)
    nonisolated(unsafe) let (dx, dy, x, w, m, r, sums) = (dinp, dout, inp, weight, mean, rstd, partial)
    WorkerPool.shared.run(parts: parts) { part in
        let first = N * part / parts, last = N * (part + 1) / parts
        guard first < last else { return }
        layerNormBackward(
            dinp: dx + first * C, dweight: sums + part * 2 * C, dbias: sums + part * 2 * C + C,
            dout: dy + first * C, inp: x + first * C, weight: w, mean: m + first, rstd: r + first,
            N: last - first, C: C)
    }
    for part in 0..<parts {
        for c in 0..<C {
            dweight[c] += partial[part * 2 * C + c]
            dbias[c] += partial[part * 2 * C + C + c]
        }
    }
}
