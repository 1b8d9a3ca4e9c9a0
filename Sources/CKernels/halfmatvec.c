// Decode-time matrix-vector kernels over half-precision weights, and the conversions the
// prefill path uses to widen a block of half-precision rows back to float32.
//
// Why: decoding reads every weight once per token, so its speed is bytes per token over
// memory bandwidth. Keeping weights in 16 bits halves those bytes; widening to float32 in
// registers (F16C's vcvtph2ps, or a 16-bit shift for bfloat16) costs little next to the load,
// and every product and sum stays float32. As in matvec.c, each function alone is compiled for
// the instructions it needs and is called only after the runtime CPU check; the portable Swift
// kernels in Tensors/HalfPrecision.swift are the readable reference and the fallback.
#include "CKernels.h"
#include "dot_rows.h"
#include <immintrin.h>
#include <stdint.h>

int lantern_cpu_has_f16c(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("f16c");
}

int lantern_cpu_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512cd");
}

// Eight half-precision values widened to float32.
__attribute__((target("avx2,fma,f16c")))
static inline __m256 load8_f16(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

// Eight bfloat16 values widened to float32: a bfloat16 is the top half of a float32.
__attribute__((target("avx2,fma")))
static inline __m256 load8_bf16(const uint16_t *p) {
    __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

__attribute__((target("f16c")))
static inline float f16_to_f32_scalar(uint16_t h) {
    return _cvtsh_ss(h);
}

static inline float bf16_to_f32_scalar(uint16_t b) {
    union { uint32_t u; float f; } v = { (uint32_t)b << 16 };
    return v.f;
}

// Same loop as lantern_dot_rows_avx2 (dot_rows.h); only the load widens 16-bit weights.
__attribute__((target("avx2,fma,f16c")))
void lantern_dot_rows_f16_avx2(const unsigned short *W, const float *x, float *y, long row0, long row1, long C) {
    LANTERN_DOT_ROWS(unsigned short, load8_f16, f16_to_f32_scalar)
}

__attribute__((target("avx2,fma")))
void lantern_dot_rows_bf16_avx2(const unsigned short *W, const float *x, float *y, long row0, long row1, long C) {
    LANTERN_DOT_ROWS(unsigned short, load8_bf16, bf16_to_f32_scalar)
}

// The widening loops carry the loads' own targets (FMA included), so the loads inline into them.
__attribute__((target("avx2,fma,f16c")))
void lantern_widen_f16_avx2(const unsigned short *in, float *out, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, load8_f16(in + i));
    for (; i < n; i++) out[i] = f16_to_f32_scalar(in[i]);
}

__attribute__((target("avx2,fma")))
void lantern_widen_bf16_avx2(const unsigned short *in, float *out, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, load8_bf16(in + i));
    for (; i < n; i++) out[i] = bf16_to_f32_scalar(in[i]);
}

// Memory read bandwidth probe for `lantern bench`: sums n floats with four 8-wide chains, so the
// loop is bound by how fast memory delivers them. The sum is returned so it cannot be skipped.
__attribute__((target("avx2,fma")))
float lantern_stream_sum_avx2(const float *p, long n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    long i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p + i));
        a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p + i + 24));
    }
    float s = horizontal_sum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) s += p[i];
    return s;
}

// Narrowing at load time (one pass over every weight, so a 1.5B-parameter model loads in seconds).

__attribute__((target("avx2,f16c")))
long lantern_narrow_f16_f16c(const float *in, unsigned short *out, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(out + i), h);
    }
    for (; i < n; i++) {
        __m128i h = _mm_cvtps_ph(_mm_set_ss(in[i]), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        out[i] = (unsigned short)_mm_extract_epi16(h, 0);
    }
    // An all-ones exponent is infinity or NaN: an overflow unless the input was not finite.
    for (long j = 0; j < n; j++) {
        if ((out[j] & 0x7C00) == 0x7C00 && __builtin_isfinite(in[j])) return j;
    }
    return -1;
}

void lantern_narrow_bf16(const float *in, unsigned short *out, long n) {
    for (long i = 0; i < n; i++) {
        uint32_t bits;
        __builtin_memcpy(&bits, in + i, 4);
        if ((bits & 0x7FFFFFFFu) > 0x7F800000u) {  // NaN: keep it a quiet NaN
            out[i] = (unsigned short)((bits >> 16) | 0x0040);
        } else {  // round to nearest, ties to even
            out[i] = (unsigned short)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
        }
    }
}
