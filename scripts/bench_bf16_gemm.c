// Times Lantern's bf16 product kernel (Sources/CKernels/bf16gemm.c) beside OpenBLAS's float32
// sgemm on training's shapes, one thread, and this core's peaks from register-only loops; checks
// the kernel against sgemm over bfloat16-rounded operands on the way. The README's GFLOPS come
// from it. Needs a CPU with AVX-512 BF16.
//
//   clang -O2 -ISources/CKernels/include scripts/bench_bf16_gemm.c Sources/CKernels/bf16gemm.c \
//       -lopenblas -lm -o /tmp/bench_bf16_gemm && /tmp/bench_bf16_gemm
#include "CKernels.h"
#include <cblas.h>
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void openblas_set_num_threads(int);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static float rounded(float x) {  // to bfloat16, nearest even (normal numbers)
    unsigned u;
    memcpy(&u, &x, 4);
    u = (u + 0x7fff + ((u >> 16) & 1)) & 0xffff0000u;
    memcpy(&x, &u, 4);
    return x;
}

// Twelve independent accumulators, so the loop is bound by the multiply-add units alone.
__attribute__((target("avx512f,avx512bf16"))) static double bf16_peak(long n) {
    __m512 a[12];
    for (int i = 0; i < 12; i++) a[i] = _mm512_setzero_ps();
    __m512bh x = (__m512bh)_mm512_set1_epi32(0x3f803f80), y = (__m512bh)_mm512_set1_epi32(0x3f003f00);
    double t = now();
    for (long k = 0; k < n; k++) {
        for (int i = 0; i < 12; i++) a[i] = _mm512_dpbf16_ps(a[i], x, y);
        __asm__ volatile("" : "+v"(x));
    }
    t = now() - t;
    float s = 0;
    for (int i = 0; i < 12; i++) s += _mm512_reduce_add_ps(a[i]);
    return s > 0 ? n * 12.0 * 32 * 2 / t / 1e9 : 0;
}

__attribute__((target("avx512f,fma"))) static double f32_peak(long n) {
    __m512 a[12];
    for (int i = 0; i < 12; i++) a[i] = _mm512_setzero_ps();
    __m512 x = _mm512_set1_ps(1.0001f), y = _mm512_set1_ps(0.5f);
    double t = now();
    for (long k = 0; k < n; k++) {
        for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(x, y, a[i]);
        __asm__ volatile("" : "+v"(x));
    }
    t = now() - t;
    float s = 0;
    for (int i = 0; i < 12; i++) s += _mm512_reduce_add_ps(a[i]);
    return s > 0 ? n * 12.0 * 16 * 2 / t / 1e9 : 0;
}

static void measure(int ta, int tb, long M, long N, long K) {
    long lda = ta ? M : K, ldb = tb ? K : N;
    float *A = malloc(4 * M * K), *B = malloc(4 * K * N), *C = malloc(4 * M * N), *R = malloc(4 * M * N);
    float *Ar = malloc(4 * M * K), *Br = malloc(4 * K * N);
    for (long i = 0; i < M * K; i++) Ar[i] = rounded(A[i] = rand() / (float)RAND_MAX - 0.5f);
    for (long i = 0; i < K * N; i++) Br[i] = rounded(B[i] = rand() / (float)RAND_MAX - 0.5f);
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1, Ar, lda, Br, ldb, 0, R, N);
    lantern_gemm_bf16_avx512(ta, tb, M, N, K, 1, A, lda, B, ldb, 0, C, N);
    double worst = 0;
    for (long i = 0; i < M * N; i++) worst = fmax(worst, fabs(C[i] - R[i]));
    int reps = 10;
    double t = now();
    for (int r = 0; r < reps; r++) lantern_gemm_bf16_avx512(ta, tb, M, N, K, 1, A, lda, B, ldb, 1, C, N);
    double ours = (now() - t) / reps;
    t = now();
    for (int r = 0; r < reps; r++)
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1, A, lda, B, ldb, 1, R, N);
    double theirs = (now() - t) / reps;
    printf("%c%c %5ld × %5ld × %5ld   bf16 kernel %6.1f GFLOPS   OpenBLAS f32 %6.1f GFLOPS   (largest difference %.1e)\n",
           ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, 2.0 * M * N * K / ours / 1e9, 2.0 * M * N * K / theirs / 1e9, worst);
    free(A); free(B); free(C); free(R); free(Ar); free(Br);
}

int main(void) {
    if (!lantern_cpu_has_avx512_bf16()) {
        fprintf(stderr, "this CPU has no AVX-512 BF16\n");
        return 1;
    }
    openblas_set_num_threads(1);
    printf("peaks, one thread: bf16 %.0f GFLOPS, f32 %.0f GFLOPS\n", bf16_peak(100000000), f32_peak(100000000));
    // Training's products in the built-in shape (2,048 rows of width 192, MLP 768, vocabulary 2,048):
    // forward (NT), the input gradient (NN) and the weight gradient (TN).
    measure(0, 1, 2048, 576, 192);
    measure(0, 1, 2048, 768, 192);
    measure(0, 1, 2048, 192, 768);
    measure(0, 1, 2048, 2048, 192);
    measure(0, 0, 2048, 192, 576);
    measure(1, 0, 576, 192, 2048);
    measure(1, 0, 2048, 192, 2048);
    return 0;
}
