// GELU (tanh approximation) forward and backward over many values, 8 at a time.
//
// Why C: training evaluates tanh twice per MLP activation (forward and backward), tens of millions
// of times a step; libm's scalar tanhf/expf made GELU a fifth of a training step. Here tanh comes
// from one vector exp (range reduction to r in [-ln2/2, ln2/2], a degree-6 polynomial, then the
// exponent bits), compiled for AVX2 + FMA and called only after the runtime CPU check. The Swift
// kernels in Training/Kernels.swift are the reference; tests compare the two.
#include "CKernels.h"
#include "vector_exp.h"
#include <math.h>

#define GELU_SCALE 0.7978845608028654f  /* sqrt(2/pi) */
#define GELU_CUBIC 0.044715f

/// tanh(u) = 1 − 2 / (e^{2u} + 1), u clamped to ±15 where tanh is ±1 in float anyway.
__attribute__((target("avx2,fma")))
static inline __m256 tanh_avx2(__m256 u) {
    u = _mm256_min_ps(_mm256_max_ps(u, _mm256_set1_ps(-15.0f)), _mm256_set1_ps(15.0f));
    __m256 e = exp_avx2(_mm256_add_ps(u, u));
    return _mm256_sub_ps(_mm256_set1_ps(1.0f), _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
}

static inline float tanh_scalar(float u) {
    u = fminf(fmaxf(u, -15.0f), 15.0f);
    return 1.0f - 2.0f / (expf(2.0f * u) + 1.0f);
}

__attribute__((target("avx2,fma")))
void lantern_gelu_forward_avx2(float *out, const float *inp, long n) {
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    const __m256 scale = _mm256_set1_ps(GELU_SCALE), cubic = _mm256_set1_ps(GELU_CUBIC);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(inp + i);
        __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
        __m256 u = _mm256_mul_ps(scale, _mm256_fmadd_ps(cubic, x3, x));
        __m256 t = tanh_avx2(u);
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(half, x), _mm256_add_ps(one, t)));
    }
    for (; i < n; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + tanh_scalar(GELU_SCALE * (x + GELU_CUBIC * x * x * x)));
    }
}

__attribute__((target("avx2,fma")))
void lantern_gelu_backward_avx2(float *dinp, const float *inp, const float *dout, long n) {
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    const __m256 scale = _mm256_set1_ps(GELU_SCALE), cubic = _mm256_set1_ps(GELU_CUBIC);
    const __m256 cubic3 = _mm256_set1_ps(3.0f * GELU_CUBIC);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(inp + i);
        __m256 x2 = _mm256_mul_ps(x, x);
        __m256 u = _mm256_mul_ps(scale, _mm256_fmadd_ps(_mm256_mul_ps(cubic, x2), x, x));
        __m256 t = tanh_avx2(u);
        __m256 sech2 = _mm256_fnmadd_ps(t, t, one);
        __m256 du = _mm256_mul_ps(scale, _mm256_fmadd_ps(cubic3, x2, one));
        // gelu'(x) = 0.5·(1 + t) + 0.5·x·sech²·du
        __m256 grad = _mm256_fmadd_ps(_mm256_mul_ps(half, x), _mm256_mul_ps(sech2, du), _mm256_mul_ps(half, _mm256_add_ps(one, t)));
        _mm256_storeu_ps(dinp + i, _mm256_fmadd_ps(_mm256_loadu_ps(dout + i), grad, _mm256_loadu_ps(dinp + i)));
    }
    for (; i < n; i++) {
        float x = inp[i];
        float t = tanh_scalar(GELU_SCALE * (x + GELU_CUBIC * x * x * x));
        float du = GELU_SCALE * (1.0f + 3.0f * GELU_CUBIC * x * x);
        dinp[i] += dout[i] * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du);
    }
}
