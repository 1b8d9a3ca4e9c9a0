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
// - attention (AttentionKernels.swift, shared with inference) is per (sequence, head) pairs of
//   BLAS products with the causal softmax between them, the pairs split over the workers;
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
/// The input gradient is split by its columns (by its rows in bf16), the weight gradient (and
/// bias) by its rows; both products in `products`' precision (the forward's).
public func fastMatmulBackward(
    dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, N: Int, C: Int, OC: Int,
    products: ProductPrecision = .f32
) {
    nonisolated(unsafe) let (dx, dw, db, dy, x, w) = (dinp, dweight, dbias, dout, inp, weight)
    if products == .bf16 {
        // By rows: each worker packs only its rows of `dout` (split by columns, every worker would
        // pack all of it, the larger operand).
        splitOverWorkers(N, minimumPerPart: 64) { rows in
            gemm(
                transA: false, transB: false, M: rows.count, N: C, K: OC, alpha: 1, A: dy + rows.lowerBound * OC, lda: OC,
                B: w, ldb: C, beta: 1, C: dx + rows.lowerBound * C, ldc: C, products: products)
        }
    } else {
        splitOverWorkers(C, minimumPerPart: 32) { cols in
            gemm(
                transA: false, transB: false, M: N, N: cols.count, K: OC, alpha: 1, A: dy, lda: OC,
                B: w + cols.lowerBound, ldb: C, beta: 1, C: dx + cols.lowerBound, ldc: C, products: products)
        }
    }
    splitOverWorkers(OC, minimumPerPart: 32) { rows in
        gemm(
            transA: true, transB: false, M: rows.count, N: C, K: N, alpha: 1, A: dy + rows.lowerBound, lda: OC,
            B: x, ldb: C, beta: 1, C: dw + rows.lowerBound * C, ldc: C, products: products)
        if let db {
            for n in 0..<N {
                let d = dy + n * OC
                for o in rows { db[o] += d[o] }
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
