// The body shared by the decode-time matrix-vector kernels (matvec.c, halfmatvec.c): one row at
// a time, four independent 8-wide accumulators — a single sequential stream per thread keeps
// the hardware prefetcher ahead, and four chains hide the FMA latency. Kernels differ only in
// how eight weights are loaded as float32 (LOAD8) and how one tail weight is (SCALAR).
// Expanded inside a function compiled for AVX2 + FMA with parameters W, x, y, row0, row1, C.
#ifndef LANTERN_DOT_ROWS_H
#define LANTERN_DOT_ROWS_H
#include <immintrin.h>

__attribute__((target("avx2,fma")))
static inline float horizontal_sum(__m256 sum) {
    __m128 half = _mm_add_ps(_mm256_castps256_ps128(sum), _mm256_extractf128_ps(sum, 1));
    half = _mm_add_ps(half, _mm_movehl_ps(half, half));
    half = _mm_add_ss(half, _mm_movehdup_ps(half));
    return _mm_cvtss_f32(half);
}

#define LANTERN_DOT_ROWS(WEIGHT, LOAD8, SCALAR)                                                   \
    const long vector_end = C & ~31L;                                                           \
    for (long r = row0; r < row1; r++) {                                                        \
        const WEIGHT *w = W + r * C;                                                            \
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                             \
        long c = 0;                                                                             \
        for (; c < vector_end; c += 32) {                                                       \
            a0 = _mm256_fmadd_ps(LOAD8(w + c), _mm256_loadu_ps(x + c), a0);                     \
            a1 = _mm256_fmadd_ps(LOAD8(w + c + 8), _mm256_loadu_ps(x + c + 8), a1);             \
            a2 = _mm256_fmadd_ps(LOAD8(w + c + 16), _mm256_loadu_ps(x + c + 16), a2);           \
            a3 = _mm256_fmadd_ps(LOAD8(w + c + 24), _mm256_loadu_ps(x + c + 24), a3);           \
        }                                                                                       \
        float s = horizontal_sum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));  \
        for (; c < C; c++) s += SCALAR(w[c]) * x[c];                                            \
        y[r] = s;                                                                               \
    }

#endif
