import COpenBLAS
import Foundation

// The engine's kernels, llm.c style: free functions over caller-owned buffers.
// Letters used throughout:
//   T = rows (tokens), C = channels (model width), OC = output channels,
//   NH = query heads, hs = head size.

// MARK: - Matrix multiplication

/// `out[T, OC] = input[T, C] · weight[OC, C]ᵀ (+ bias[OC])`, the nn.Linear layout.
/// One row is a matrix–vector product (decode); many rows are one GEMM (prefill).
@inline(__always)
public func linearForward(
    out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    T: Int, C: Int, OC: Int, products: ProductPrecision = .f32
) {
    if T == 1 && products == .f32 {
        matVec(weight, input, out, R: OC, C: C)
        if let bias { for o in 0..<OC { out[o] += bias[o] } }
        return
    }
    // Many rows: one GEMM per worker, each single-threaded. Lantern's own workers sleep between
    // calls, unlike BLAS's spinning threads, which otherwise compete for the cores with the
    // element-wise work between the products. Split along the longer side: over output columns
    // (weight rows) for prefill (T = 512, OC = 2,304), over rows for training's narrow products
    // (T = 2,048, OC = 576), where OpenBLAS 0.3.21 ran each half-width column share as slowly as
    // the whole product (5.4 ms in two halves vs 4.7 ms whole; 2.6 ms split by rows).
    let pool = WorkerPool.shared
    nonisolated(unsafe) let (x, w, b, y) = (input, weight, bias, out)
    if T > OC {
        let parts = T >= 128 ? pool.width : 1
        pool.run(parts: parts) { part in
            let first = T * part / parts, last = T * (part + 1) / parts
            guard first < last else { return }
            if let b {
                for t in first..<last { (y + t * OC).update(from: b, count: OC) }
            }
            gemm(
                transA: false, transB: true, M: last - first, N: OC, K: C, alpha: 1, A: x + first * C, lda: C,
                B: w, ldb: C, beta: b == nil ? 0 : 1, C: y + first * OC, ldc: OC, products: products)
        }
        return
    }
    let parts = OC >= 256 ? pool.width : 1
    pool.run(parts: parts) { part in
        let first = OC * part / parts, last = OC * (part + 1) / parts
        guard first < last else { return }
        if let b {
            for t in 0..<T { (y + t * OC + first).update(from: b + first, count: last - first) }
        }
        gemm(
            transA: false, transB: true, M: T, N: last - first, K: C, alpha: 1, A: x, lda: C,
            B: w + first * C, ldb: C, beta: b == nil ? 0 : 1, C: y + first, ldc: OC, products: products)
    }
}

/// `y[M] = alpha · op(A) · x + beta · y` for a row-major `A[M, N]` (`op(A) = Aᵀ` when `trans`,
/// then `y` has N entries and `x` has M). Attention's single-row products while decoding.
@inline(__always)
public func gemv(
    trans: Bool, M: Int, N: Int, alpha: Float, A: UnsafePointer<Float>, lda: Int,
    x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>
) {
    cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, Int32(M), Int32(N), alpha, A, Int32(lda), x, 1, beta, y, 1)
}

// MARK: - Normalisation

/// LayerNorm over each row of `input[T, C]`: `(x − mean) / sqrt(var + eps) · weight + bias`,
/// with the biased variance, as PyTorch computes it. Training passes `mean[T]` and `rstd[T]`
/// (1 / standard deviation) to keep for the backward pass; inference passes neither.
public func layerNormForward(
    out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    T: Int, C: Int, eps: Float,
    mean keptMean: UnsafeMutablePointer<Float>? = nil, rstd keptRstd: UnsafeMutablePointer<Float>? = nil
) {
    for t in 0..<T {
        let x = input + t * C, y = out + t * C
        var mean: Float = 0
        for i in 0..<C { mean += x[i] }
        mean /= Float(C)
        var variance: Float = 0
        for i in 0..<C { let d = x[i] - mean; variance += d * d }
        variance /= Float(C)
        let rstd = 1 / (variance + eps).squareRoot()
        for i in 0..<C { y[i] = (x[i] - mean) * rstd * weight[i] + bias[i] }
        keptMean?[t] = mean
        keptRstd?[t] = rstd
    }
}

/// RMSNorm over each row of `input[T, C]`: `x / sqrt(mean(x²) + eps) · weight` (Llama).
public func rmsNormForward(
    out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, T: Int, C: Int, eps: Float
) {
    for t in 0..<T {
        let x = input + t * C, y = out + t * C
        var sumSquares: Float = 0
        for i in 0..<C { sumSquares += x[i] * x[i] }
        let scale = 1 / (sumSquares / Float(C) + eps).squareRoot()
        for i in 0..<C { y[i] = x[i] * scale * weight[i] }
    }
}

// MARK: - Activations

/// GELU, tanh approximation (Hugging Face's `gelu_new`, GPT-2's activation), over `n` values
/// (`out` may be `input`): `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
public func geluForward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count n: Int) {
    let scale = Float((2.0 / Double.pi).squareRoot())
    for i in 0..<n {
        let v = input[i]
        let u = scale * (v + 0.044715 * v * v * v)
        // tanh(u) = 1 − 2 / (e^{2u} + 1): one expf instead of tanhf (which goes through expm1f
        // and was a tenth of GPT-2's prefill time). Saturates correctly: e^{2u} → ∞ gives 1, → 0 gives −1.
        let tanh = 1 - 2 / (expf(2 * u) + 1)
        out[i] = 0.5 * v * (1 + tanh)
    }
}

/// The exact GELU, `x · Φ(x) = 0.5 · x · (1 + erf(x / √2))` (BERT's `"gelu"`, PyTorch's default;
/// GPT-2's `gelu_new` is the tanh approximation above).
public func geluErfForward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, count n: Int) {
    let inverseRoot2: Float = 0.70710678118654752
    for i in 0..<n {
        let v = input[i]
        out[i] = 0.5 * v * (1 + erff(v * inverseRoot2))
    }
}

/// SwiGLU gate in place: `gate[i] = silu(gate[i]) · up[i]`, with `silu(x) = x·σ(x)` (Llama's MLP).
public func swigluInPlace(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count n: Int) {
    for i in 0..<n {
        let g = gate[i]
        gate[i] = g / (1 + expf(-g)) * up[i]
    }
}

// MARK: - Softmax

/// Which element-wise kernels a pass runs. Inference keeps libm's `expf` (`.exact`) on every CPU,
/// so its numbers are bit-identical to its reference runs; training takes the AVX2 kernels where
/// the CPU has them (`.vectorised`), which differ from `.exact` in the last bits.
public enum ElementwiseKernels: Sendable {
    case exact, vectorised
}

/// Numerically stable softmax over the first `n` entries of `x`, in place
/// (subtract the maximum so `exp` never overflows). Entries at `-infinity` become 0.
public func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, count n: Int) {
    var maxValue = -Float.infinity
    for i in 0..<n { maxValue = max(maxValue, x[i]) }
    var sum: Float = 0
    for i in 0..<n {
        let e = expf(x[i] - maxValue)
        x[i] = e
        sum += e
    }
    let inv = 1 / sum
    for i in 0..<n { x[i] *= inv }
}

/// Softmax of an array (convenience for sampling and tests).
public func softmax(_ values: [Float]) -> [Float] {
    var out = values
    out.withUnsafeMutableBufferPointer { softmaxInPlace($0.baseAddress!, count: $0.count) }
    return out
}

// MARK: - Element-wise

/// `acc[i] += x[i]` for `n` values: a residual connection.
@inline(__always)
public func addInPlace(_ acc: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count n: Int) {
    cblas_saxpy(Int32(n), 1, x, 1, acc, 1)
}
