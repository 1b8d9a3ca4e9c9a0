// The decode-time matrix-vector kernel, written for the CPU's 256-bit vector unit.
//
// Why C: decoding reads every weight once per token, so its speed is memory bandwidth. Reaching
// it needs 8-wide fused multiply-adds, and Swift emits those only when the whole build targets
// an AVX2 CPU, which would make the binary crash on older ones. Here the function alone is
// compiled for AVX2 (the target attribute) and is called only after a runtime CPU check; the
// portable Swift kernel in Tensors/MatVec.swift is the readable reference and the fallback.
#include "CKernels.h"
#include <immintrin.h>

int lantern_cpu_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

__attribute__((target("avx2,fma")))
void lantern_dot_rows_avx2(const float *W, const float *x, float *y, long row0, long row1, long C) {
    const long vector_end = C & ~31L;
    for (long r = row0; r < row1; r++) {
        const float *w = W + r * C;
        // One row at a time, four independent accumulators: a single sequential stream per
        // thread keeps the hardware prefetcher ahead, and four chains hide the FMA latency.
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        long c = 0;
        for (; c < vector_end; c += 32) {
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + c), _mm256_loadu_ps(x + c), a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + c + 8), _mm256_loadu_ps(x + c + 8), a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + c + 16), _mm256_loadu_ps(x + c + 16), a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + c + 24), _mm256_loadu_ps(x + c + 24), a3);
        }
        __m256 sum = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
        __m128 half = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
        half = _mm_add_ps(half, _mm_movehl_ps(half, half));
        half = _mm_add_ss(half, _mm_movehdup_ps(half));
        float s = _mm_cvtss_f32(half);
        for (; c < C; c++) s += w[c] * x[c];
        y[r] = s;
    }
}
