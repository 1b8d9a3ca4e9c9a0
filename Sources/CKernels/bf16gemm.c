// A matrix product whose operands are rounded to bfloat16 and whose products and sums are
// float32: the "mixed precision" matrix product of training (what PyTorch's autocast does on
// CPUs with AVX-512 BF16). Used only when a training run asks for it (`--precision bf16`).
//
// Why: training is ~75 % matrix products, and OpenBLAS already runs them near this CPU's float32
// peak. AVX-512 BF16's vdpbf16ps multiplies two pairs of bfloat16 per 32-bit lane and adds both
// to a float32 accumulator: twice the multiply-adds of an fp32 FMA per instruction (measured on
// AMD Zen 4: 233 vs 117 GFLOPS per core in a register-only loop).
//
// The layout is Goto's (as in OpenBLAS and BLIS): a block of B (KC × NC) and a block of A
// (MC × KC) are packed into bfloat16 pairs, then a 12 × 32 micro-kernel runs over them with 24
// zmm accumulators. Single-threaded: the callers split products over Lantern's workers.
#include "CKernels.h"
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { MR = 12, NR = 32, KC = 384, MC = 96, NC = 1024 };

int lantern_cpu_has_avx512_bf16(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
}

// A 16 × 16 block of 32-bit words transposed in registers (rows in, columns out): 32-bit,
// 64-bit and two 128-bit-lane interleaves, the usual AVX-512 transpose.
__attribute__((target("avx512f")))
static inline void transpose16(__m512i r[16]) {
    __m512i t[16], u[16];
    for (int q = 0; q < 16; q += 2) {
        t[q] = _mm512_unpacklo_epi32(r[q], r[q + 1]);
        t[q + 1] = _mm512_unpackhi_epi32(r[q], r[q + 1]);
    }
    for (int q = 0; q < 16; q += 4) {
        u[q] = _mm512_unpacklo_epi64(t[q], t[q + 2]);
        u[q + 1] = _mm512_unpackhi_epi64(t[q], t[q + 2]);
        u[q + 2] = _mm512_unpacklo_epi64(t[q + 1], t[q + 3]);
        u[q + 3] = _mm512_unpackhi_epi64(t[q + 1], t[q + 3]);
    }
    for (int q = 0; q < 16; q += 8) {
        for (int j = 0; j < 4; j++) {
            t[q + j] = _mm512_shuffle_i32x4(u[q + j], u[q + j + 4], 0x88);
            t[q + j + 4] = _mm512_shuffle_i32x4(u[q + j], u[q + j + 4], 0xdd);
        }
    }
    for (int j = 0; j < 8; j++) {
        r[j] = _mm512_shuffle_i32x4(t[j], t[j + 8], 0x88);
        r[j + 8] = _mm512_shuffle_i32x4(t[j], t[j + 8], 0xdd);
    }
}

static inline __mmask16 first_lanes(long n) { return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1); }

// Packs op(X)'s indices [i0, i0 + count) (rows of A or columns of B) and depths [k0, k0 + kc)
// into panels of `width` indices (MR for A, NR for B): for each panel, for each pair of depths
// p, `width` 32-bit words, index i's word holding bfloat16 (depth 2p) in its low half and
// (depth 2p + 1) in its high half, as vdpbf16ps reads them. Indices past `count` and the odd
// depth's partner are zeros, so the micro-kernel always runs whole tiles. Element (i, k) is
// X[i * ld + k] when `kContiguous` (A as it is, or B transposed), else X[k * ld + i].
// vcvtne2ps2bf16 rounds to nearest even (denormals become zero). Groups of at most 16 indices
// never straddle a panel (16 divides NR; MR = 12 takes groups of 12), and every group of every
// panel is stored whole, padding included, so nothing needs clearing first.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static void pack(const float *X, long ld, int kContiguous, long i0, long count, long k0, long kc, long width, uint32_t *out) {
    long pairs = (kc + 1) / 2, padded = (count + width - 1) / width * width;
    const long group = width < 16 ? width : 16;
    const __mmask16 whole = first_lanes(group);
    if (kContiguous) {
        // Each index's depths lie side by side: 16 indices × 32 depths convert to 16 rows of 16
        // words, which a transpose turns into 16 pairs × 16 indices.
        for (long i = 0; i < padded; i += group) {
            long g = count - i < 0 ? 0 : count - i < group ? count - i : group;  // real indices in this group
            uint32_t *dst = out + (i / width) * width * pairs + i % width;
            for (long k = 0; k < kc; k += 32) {
                long left = kc - k;
                __m512i r[16];
                for (long q = 0; q < 16; q++) {
                    if (q >= g) { r[q] = _mm512_setzero_si512(); continue; }
                    const float *row = X + (i0 + i + q) * ld + k0 + k;
                    __m512 a = _mm512_maskz_loadu_ps(first_lanes(left), row);
                    __m512 b = _mm512_maskz_loadu_ps(first_lanes(left - 16 > 0 ? left - 16 : 0), row + 16);
                    r[q] = (__m512i)_mm512_cvtne2ps_pbh(b, a);
                }
                transpose16(r);
                long chunkPairs = (left + 1) / 2 < 16 ? (left + 1) / 2 : 16;
                for (long c = 0; c < chunkPairs; c++) _mm512_mask_storeu_epi32(dst + (k / 2 + c) * width, whole, r[c]);
            }
        }
        return;
    }
    // Each depth's indices lie side by side: two depths' 16 values interleave into 16 words.
    const __m512i interleave = _mm512_set_epi16(
        31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (long p = 0; p < pairs; p++) {
        const float *first = X + (k0 + 2 * p) * ld + i0;
        const float *second = 2 * p + 1 < kc ? first + ld : NULL;
        for (long i = 0; i < padded; i += group) {
            __mmask16 real = first_lanes(count - i < 0 ? 0 : count - i < group ? count - i : group);
            __m512 x = _mm512_maskz_loadu_ps(real, first + i);
            __m512 y = second ? _mm512_maskz_loadu_ps(real, second + i) : _mm512_setzero_ps();
            __m512i words = _mm512_permutexvar_epi16(interleave, (__m512i)_mm512_cvtne2ps_pbh(y, x));
            _mm512_mask_storeu_epi32(out + (i / width) * width * pairs + p * width + i % width, whole, words);
        }
    }
}

// The 12 × 32 tile of C += (or =, when `overwrite`) alpha · a packed A panel · a packed B panel
// over `pairs` pairs of depths. `m` × `n` of the tile are real; an edge tile goes through a buffer.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static void micro_kernel(long pairs, const uint32_t *a, const uint32_t *b, float *c, long ldc, long m, long n, float alpha,
                         int overwrite) {
    // 24 named accumulators: as an array the compiler zeroed it with a call to memset on the
    // stack for every tile (4 % of a training step), then loaded it into registers.
#define LANTERN_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define LANTERN_ZERO(i) __m512 c##i##lo = _mm512_setzero_ps(), c##i##hi = _mm512_setzero_ps();
#define LANTERN_STEP(i)                                                      \
    {                                                                        \
        __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i]);                \
        c##i##lo = _mm512_dpbf16_ps(c##i##lo, ai, b0);                       \
        c##i##hi = _mm512_dpbf16_ps(c##i##hi, ai, b1);                       \
    }
#define LANTERN_SAVE(i) acc[i][0] = c##i##lo; acc[i][1] = c##i##hi;
    LANTERN_ROWS(LANTERN_ZERO)
    for (long p = 0; p < pairs; p++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(b);
        __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + 16);
        LANTERN_ROWS(LANTERN_STEP)
        a += MR;
        b += NR;
    }
    __m512 acc[MR][2];
    LANTERN_ROWS(LANTERN_SAVE)
#undef LANTERN_ROWS
#undef LANTERN_ZERO
#undef LANTERN_STEP
#undef LANTERN_SAVE
    if (alpha != 1.0f) {
        __m512 scale = _mm512_set1_ps(alpha);
        for (int i = 0; i < MR; i++) {
            acc[i][0] = _mm512_mul_ps(acc[i][0], scale);
            acc[i][1] = _mm512_mul_ps(acc[i][1], scale);
        }
    }
    if (m == MR && n == NR) {
        for (int i = 0; i < MR; i++) {
            float *row = c + i * ldc;
            if (overwrite) {
                _mm512_storeu_ps(row, acc[i][0]);
                _mm512_storeu_ps(row + 16, acc[i][1]);
            } else {
                _mm512_storeu_ps(row, _mm512_add_ps(_mm512_loadu_ps(row), acc[i][0]));
                _mm512_storeu_ps(row + 16, _mm512_add_ps(_mm512_loadu_ps(row + 16), acc[i][1]));
            }
        }
        return;
    }
    float tile[MR * NR];
    for (int i = 0; i < MR; i++) {
        _mm512_storeu_ps(tile + i * NR, acc[i][0]);
        _mm512_storeu_ps(tile + i * NR + 16, acc[i][1]);
    }
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) c[i * ldc + j] = overwrite ? tile[i * NR + j] : c[i * ldc + j] + tile[i * NR + j];
}

// Each worker thread keeps its packing buffers between products (training calls this thousands
// of times a step with the same shapes): they only grow.
typedef struct { uint32_t *words; size_t capacity; } Scratch;
static _Thread_local Scratch scratchA, scratchB;

static uint32_t *scratch(Scratch *s, size_t words) {
    if (words <= s->capacity) return s->words;
    free(s->words);
    size_t bytes = (words * sizeof(uint32_t) + 63) / 64 * 64;
    s->words = aligned_alloc(64, bytes);
    s->capacity = s->words ? bytes / sizeof(uint32_t) : 0;
    return s->words;
}

int lantern_gemm_bf16_avx512(int transA, int transB, long M, long N, long K, float alpha, const float *A, long lda,
                             const float *B, long ldb, float beta, float *C, long ldc) {
    if (M <= 0 || N <= 0) return 0;
    long kcMax = K < KC ? K : KC, ncMax = N < NC ? N : NC, mcMax = M < MC ? M : MC;
    long pairsMax = K > 0 ? (kcMax + 1) / 2 : 0;
    uint32_t *packedA = scratch(&scratchA, (size_t)((mcMax + MR - 1) / MR * MR * pairsMax));
    uint32_t *packedB = scratch(&scratchB, (size_t)((ncMax + NR - 1) / NR * NR * pairsMax));
    if (K > 0 && (!packedA || !packedB)) return -1;
    if (beta != 0.0f && beta != 1.0f) {
        for (long i = 0; i < M; i++)
            for (long j = 0; j < N; j++) C[i * ldc + j] *= beta;
        beta = 1.0f;
    }
    if (K <= 0) {
        if (beta == 0.0f)
            for (long i = 0; i < M; i++) memset(C + i * ldc, 0, (size_t)N * sizeof(float));
        return 0;
    }
    for (long j0 = 0; j0 < N; j0 += NC) {
        long n = N - j0 < NC ? N - j0 : NC;
        for (long k0 = 0; k0 < K; k0 += KC) {
            long kc = K - k0 < KC ? K - k0 : KC, pairs = (kc + 1) / 2;
            int overwrite = k0 == 0 && beta == 0.0f;
            pack(B, ldb, transB, j0, n, k0, kc, NR, packedB);
            for (long i0 = 0; i0 < M; i0 += MC) {
                long m = M - i0 < MC ? M - i0 : MC;
                pack(A, lda, !transA, i0, m, k0, kc, MR, packedA);
                for (long c = 0; c < n; c += NR) {
                    for (long r = 0; r < m; r += MR) {
                        micro_kernel(
                            pairs, packedA + r * pairs, packedB + c * pairs, C + (i0 + r) * ldc + j0 + c, ldc,
                            m - r < MR ? m - r : MR, n - c < NR ? n - c : NR, alpha, overwrite);
                    }
                }
            }
        }
    }
    return 0;
}
