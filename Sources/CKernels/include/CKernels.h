#ifndef LANTERN_CKERNELS_H
#define LANTERN_CKERNELS_H

/// 1 when this CPU has AVX2 and FMA, so the vector kernels below may run; 0 otherwise.
int lantern_cpu_has_avx2_fma(void);

/// y[r] = W[r, :] · x for r in [row0, row1), W row-major with C columns.
/// AVX2 + FMA; call only when lantern_cpu_has_avx2_fma() is 1.
void lantern_dot_rows_avx2(const float *W, const float *x, float *y, long row0, long row1, long C);

/// out[i] = GELU(inp[i]) (tanh approximation) for i in [0, n). AVX2 + FMA only.
void lantern_gelu_forward_avx2(float *out, const float *inp, long n);

/// dinp[i] += dout[i] · GELU'(inp[i]) for i in [0, n). AVX2 + FMA only.
void lantern_gelu_backward_avx2(float *dinp, const float *inp, const float *dout, long n);

/// out[0..<n] = softmax(scores[0..<n]) (maximum subtracted first). AVX2 + FMA only.
void lantern_softmax_row_avx2(const float *scores, float *out, long n);

/// glibc only (elsewhere a no-op): large allocations come from the heap instead of fresh mmaps,
/// and freed memory is kept for reuse instead of being returned to the system.
void lantern_keep_freed_memory(void);

// MARK: Half-precision weights (halfmatvec.c). W holds IEEE binary16 (f16) or bfloat16 (bf16)
// bit patterns, row-major with C columns; products and sums are float32.

/// 1 when this CPU has F16C (needed, with AVX2 + FMA, by the f16 kernels below).
int lantern_cpu_has_f16c(void);

/// 1 when this CPU has AVX-512 F, BW, VL, DQ and CD (the set OpenBLAS's SkylakeX kernels use).
int lantern_cpu_has_avx512(void);

/// y[r] = W[r, :] · x for r in [row0, row1), W in f16. AVX2 + FMA + F16C only.
void lantern_dot_rows_f16_avx2(const unsigned short *W, const float *x, float *y, long row0, long row1, long C);

/// y[r] = W[r, :] · x for r in [row0, row1), W in bf16. AVX2 + FMA only.
void lantern_dot_rows_bf16_avx2(const unsigned short *W, const float *x, float *y, long row0, long row1, long C);

/// out[i] = float32(in[i]) for i in [0, n), in holding f16. AVX2 + FMA + F16C only.
void lantern_widen_f16_avx2(const unsigned short *in, float *out, long n);

/// out[i] = float32(in[i]) for i in [0, n), in holding bf16. AVX2 + FMA only.
void lantern_widen_bf16_avx2(const unsigned short *in, float *out, long n);

/// out[i] = f16(in[i]), rounded to nearest even; returns the first index whose finite value
/// overflowed to infinity, or -1. AVX2 + F16C only.
long lantern_narrow_f16_f16c(const float *in, unsigned short *out, long n);

/// out[i] = bf16(in[i]), rounded to nearest even (NaN stays a quiet NaN). Portable C.
void lantern_narrow_bf16(const float *in, unsigned short *out, long n);

/// The sum of p[0..<n], read as fast as memory allows (the bandwidth probe of `lantern bench`). AVX2 only.
float lantern_stream_sum_avx2(const float *p, long n);

// MARK: Mixed-precision matrix products (bf16gemm.c)

/// 1 when this CPU has AVX-512 F, BW, VL and BF16 (vdpbf16ps), needed by the kernel below.
int lantern_cpu_has_avx512_bf16(void);

/// C[M, N] = alpha · op(A)[M, K] · op(B)[K, N] + beta · C with A and B rounded to bfloat16 (nearest
/// even; denormals to zero) and products and sums in float32. Row-major; op(X) = Xᵀ when its
/// trans flag is 1. One thread. Returns 0, or -1 when its packing buffers could not be allocated
/// (C untouched). AVX-512 BF16 only: call only when lantern_cpu_has_avx512_bf16() is 1.
int lantern_gemm_bf16_avx512(int transA, int transB, long M, long N, long K, float alpha, const float *A, long lda,
                             const float *B, long ldb, float beta, float *C, long ldc);

#endif
