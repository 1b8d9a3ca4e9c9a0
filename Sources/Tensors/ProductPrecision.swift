import CKernels
import COpenBLAS
import Foundation

/// What a training run's matrix products round their operands to.
///
/// - `f32`: every product in float32 (OpenBLAS), the default: the numbers PyTorch's float32 gives.
/// - `bf16`: "mixed precision", as PyTorch's `torch.autocast(dtype=torch.bfloat16)`: each linear
///   layer's product (forward and both backward products, the unembedding's too) and attention's
///   products read their two operands rounded to bfloat16 and multiply and sum in float32.
///   Weights, gradients, the optimiser's moments, norms, softmax and the loss stay float32. On a
///   CPU with AVX-512 BF16 (`vdpbf16ps`: twice the multiply-adds of a float32 FMA) a product runs
///   ~1.5–1.9× faster than OpenBLAS's float32; elsewhere the rounding is emulated (operands
///   rounded into float32 copies, then OpenBLAS): slower than `f32`, and the same numbers up to
///   summation order and to products below float32's normal range, which the instruction
///   flushes to zero.
public enum ProductPrecision: String, Sendable, CaseIterable, Codable {
    case f32, bf16

    /// Whether this CPU runs `bf16` products natively (AVX-512 BF16); checked once.
    public static let bf16IsNative = lantern_cpu_has_avx512_bf16() != 0

    /// Tests force the emulated path to hold the native kernel to it (both paths on one CPU).
    nonisolated(unsafe) public static var forceEmulatedBF16 = false

    /// One line for `--help` and `lantern info --verbose`: what `bf16` runs on this CPU.
    public static var bf16Kernel: String {
        bf16IsNative
            ? "AVX-512 BF16 (vdpbf16ps), Lantern's own kernel"
            : "emulated (operands rounded, then float32 OpenBLAS): this CPU has no AVX-512 BF16"
    }
}

/// General `C[M, N] = alpha · op(A) · op(B) + beta · C` with explicit leading dimensions, one
/// thread: attention's per-head products, training's backward products. With `.bf16` the
/// operands are rounded to bfloat16 first.
@inline(__always)
public func gemm(
    transA: Bool, transB: Bool, M: Int, N: Int, K: Int, alpha: Float,
    A: UnsafePointer<Float>, lda: Int, B: UnsafePointer<Float>, ldb: Int,
    beta: Float, C: UnsafeMutablePointer<Float>, ldc: Int, products: ProductPrecision = .f32
) {
    if products == .bf16 {
        bf16Gemm(
            transA: transA, transB: transB, M: M, N: N, K: K, alpha: alpha, A: A, lda: lda, B: B, ldb: ldb, beta: beta, C: C, ldc: ldc)
        return
    }
    cblas_sgemm(
        CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
        Int32(M), Int32(N), Int32(K), alpha, A, Int32(lda), B, Int32(ldb), beta, C, Int32(ldc))
}

/// `C = alpha·op(A)·op(B) + beta·C` with bfloat16-rounded operands: the AVX-512 BF16 kernel where
/// the CPU has it, else `emulatedBF16Gemm`.
func bf16Gemm(
    transA: Bool, transB: Bool, M: Int, N: Int, K: Int, alpha: Float, A: UnsafePointer<Float>, lda: Int, B: UnsafePointer<Float>,
    ldb: Int, beta: Float, C: UnsafeMutablePointer<Float>, ldc: Int
) {
    if ProductPrecision.bf16IsNative && !ProductPrecision.forceEmulatedBF16
        && lantern_gemm_bf16_avx512(transA ? 1 : 0, transB ? 1 : 0, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) == 0
    {
        return
    }
    emulatedBF16Gemm(
        transA: transA, transB: transB, M: M, N: N, K: K, alpha: alpha, A: A, lda: lda, B: B, ldb: ldb, beta: beta, C: C, ldc: ldc)
}

/// The readable reference of a bf16 product: both operands rounded to bfloat16 (nearest even,
/// denormals to zero, as `vcvtne2ps2bf16`) into float32 copies, then OpenBLAS. A product of two
/// bfloat16 values is exact in float32 (unless it falls below float32's normal range, where the
/// native instruction gives 0), so this differs from the native kernel only in the order of the
/// sums and in such tiny products.
func emulatedBF16Gemm(
    transA: Bool, transB: Bool, M: Int, N: Int, K: Int, alpha: Float = 1, A: UnsafePointer<Float>, lda: Int, B: UnsafePointer<Float>,
    ldb: Int, beta: Float, C: UnsafeMutablePointer<Float>, ldc: Int
) {
    guard M > 0, N > 0 else { return }
    let aCount = transA ? (K - 1) * lda + M : (M - 1) * lda + K
    let bCount = transB ? (N - 1) * ldb + K : (K - 1) * ldb + N
    let roundedA = (0..<max(0, aCount)).map { roundedToBFloat16(A[$0]) }
    let roundedB = (0..<max(0, bCount)).map { roundedToBFloat16(B[$0]) }
    cblas_sgemm(
        CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
        Int32(M), Int32(N), Int32(K), alpha, roundedA, Int32(lda), roundedB, Int32(ldb), beta, C, Int32(ldc))
}

/// `x` rounded to the nearest bfloat16 (ties to even), as a float32; denormals become ±0 and NaN
/// stays NaN, as AVX-512 BF16's conversion does.
public func roundedToBFloat16(_ x: Float) -> Float {
    if x.isNaN { return x }
    if x.isSubnormal { return x.sign == .minus ? -0.0 : 0.0 }
    let bits = x.bitPattern
    let rounded = (bits &+ 0x7fff &+ ((bits >> 16) & 1)) & 0xffff_0000
    return Float(bitPattern: rounded)
}
