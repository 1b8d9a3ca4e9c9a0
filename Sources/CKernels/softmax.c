// The causal softmax of attention rows during training, 8 keys at a time.
//
// Why C: the training forward pass takes a softmax over up to T keys for every (sequence, head,
// query), millions of expf calls a step; with the vector exp of vector_exp.h, compiled for
// AVX2 + FMA and called only after the runtime CPU check. The Swift loop in
// Training/ParallelKernels.swift is the reference and the fallback; tests compare the two.
#include "CKernels.h"
#include "vector_exp.h"
#include <math.h>

__attribute__((target("avx2,fma")))
void lantern_softmax_row_avx2(const float *scores, float *out, long n) {
    long i = 0;
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(scores + i));
    float maximum = -INFINITY;
    float lanes[8];
    _mm256_storeu_ps(lanes, vmax);
    for (int k = 0; k < 8; k++) maximum = fmaxf(maximum, lanes[k]);
    for (; i < n; i++) maximum = fmaxf(maximum, scores[i]);

    const __m256 m = _mm256_set1_ps(maximum);
    __m256 vsum = _mm256_setzero_ps();
    i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(scores + i), m));
        _mm256_storeu_ps(out + i, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    _mm256_storeu_ps(lanes, vsum);
    float sum = 0;
    for (int k = 0; k < 8; k++) sum += lanes[k];
    for (; i < n; i++) { out[i] = expf(scores[i] - maximum); sum += out[i]; }

    const __m256 inv = _mm256_set1_ps(1.0f / sum);
    i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(out + i), inv));
    for (; i < n; i++) out[i] *= 1.0f / sum;
}
