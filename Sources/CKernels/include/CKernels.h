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

#endif
