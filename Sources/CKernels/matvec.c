// The decode-time matrix-vector kernel, written for the CPU's 256-bit vector unit.
//
// Why C: decoding reads every weight once per token, so its speed is memory bandwidth. Reaching
// it needs 8-wide fused multiply-adds, and Swift emits those only when the whole build targets
// an AVX2 CPU, which would make the binary crash on older ones. Here the function alone is
// compiled for AVX2 (the target attribute) and is called only after a runtime CPU check; the
// portable Swift kernel in Tensors/MatVec.swift is the readable reference and the fallback.
#include "CKernels.h"
#include "dot_rows.h"
#include <immintrin.h>

int lantern_cpu_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static inline float f32_scalar(float v) { return v; }

__attribute__((target("avx2,fma")))
void lantern_dot_rows_avx2(const float *W, const float *x, float *y, long row0, long row1, long C) {
    LANTERN_DOT_ROWS(float, _mm256_loadu_ps, f32_scalar)
}
