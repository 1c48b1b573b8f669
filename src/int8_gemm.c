/* int8_gemm.c: the exact AVX2 int8 product with 8-bit weights (int8_gemm.h). */
#include "int8_gemm.h"

#include <string.h>

/* The kernel is compiled for AVX2 whatever the build's -march (the sanitizer
 * build has none): int8_gemm_available() asks the CPU before ops_int8.c uses it. */
#if defined(__AVX2__) || (defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__))
#define INT8_GEMM_AVX2 1
#include <immintrin.h>
#endif

#define NR 16 /* output channels per panel: two ymm of int32 */
#define MR 6  /* rows per tile: 12 accumulators + 2 weight vectors + 1 broadcast */
#define MB 48 /* rows per block (8 tiles): a thread's unit of work with PG panels */
#define PG 4  /* panels per block */

static int pad16(int n) { return (n + NR - 1) / NR * NR; }
static int pad2(int n) { return (n + 1) & ~1; }
static int padr(int n) { return (n + MR - 1) / MR * MR; }

size_t int8_gemm_packed_size(int OC, int C) { return (size_t)pad16(OC) * pad2(C); }

/* Panel p, column pair j, lane l (0..15): the int32 lane holding
 * (qw[16p+l][2j], qw[16p+l][2j+1]) as two int16, at dst[((p K2 + j) 16 + l) 2]. */
void int8_gemm_pack(int16_t *dst, const int8_t *qw, int OC, int C) {
    int OCp = pad16(OC), K2 = pad2(C) / 2;
    for (int p = 0; p < OCp / NR; p++)
        for (int j = 0; j < K2; j++)
            for (int l = 0; l < NR; l++) {
                int o = p * NR + l;
                int16_t *d = dst + (((size_t)p * K2 + j) * NR + l) * 2;
                for (int h = 0; h < 2; h++) {
                    int c = 2 * j + h;
                    d[h] = o < OC && c < C ? qw[(size_t)o * C + c] : 0;
                }
            }
}

size_t int8_gemm_scratch_size(int N, int C) { return (size_t)padr(N) * (pad2(C) / 2); }

#ifdef INT8_GEMM_AVX2

int int8_gemm_available(void) { return __builtin_cpu_supports("avx2"); }

#ifndef __AVX2__
#pragma GCC push_options
#pragma GCC target("avx2")
#endif

/* Rows of qa widened to int16 (pairs as int32 lanes), zero past N and C. */
static void widen(int32_t *a, const uint8_t *qa, int N, int C) {
    int K2 = pad2(C) / 2, Np = padr(N);
    #pragma omp parallel for schedule(static) if ((size_t)N * C > 65536)
    for (int n = 0; n < Np; n++) {
        int16_t *d = (int16_t *)(void *)(a + (size_t)n * K2);
        if (n >= N) {
            memset(d, 0, (size_t)K2 * 4);
            continue;
        }
        const uint8_t *s = qa + (size_t)n * C;
        int c = 0;
        for (; c + 16 <= C; c += 16)
            _mm256_storeu_si256((__m256i *)(void *)(d + c),
                                _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(s + c))));
        for (; c < C; c++) d[c] = s[c];
        if (C & 1) d[C] = 0;
    }
}

/* acc rows [0, rows) x panel columns [0, cols) of one MR x NR tile. a: MR rows
 * of K2 pairs (stride K2); w: the panel. */
static void tile(int32_t *acc, size_t ldc, const int32_t *a, int K2, const int16_t *w, int rows, int cols) {
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
            c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const int32_t *a0 = a, *a1 = a + K2, *a2 = a + 2 * (size_t)K2, *a3 = a + 3 * (size_t)K2, *a4 = a + 4 * (size_t)K2,
                  *a5 = a + 5 * (size_t)K2;
    for (int j = 0; j < K2; j++) {
        __m256i w0 = _mm256_load_si256((const __m256i *)(const void *)(w + (size_t)j * 32));
        __m256i w1 = _mm256_load_si256((const __m256i *)(const void *)(w + (size_t)j * 32 + 16));
        __m256i b;
#define STEP(r)                                                                                                        \
    b = _mm256_set1_epi32(a##r[j]);                                                                                    \
    c##r##0 = _mm256_add_epi32(c##r##0, _mm256_madd_epi16(b, w0));                                                     \
    c##r##1 = _mm256_add_epi32(c##r##1, _mm256_madd_epi16(b, w1));
        STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5)
#undef STEP
    }
    __m256i out[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    if (cols == NR) {
        for (int r = 0; r < rows; r++) {
            _mm256_storeu_si256((__m256i *)(void *)(acc + r * ldc), out[r][0]);
            _mm256_storeu_si256((__m256i *)(void *)(acc + r * ldc + 8), out[r][1]);
        }
    } else {
        int32_t t[NR];
        for (int r = 0; r < rows; r++) {
            _mm256_storeu_si256((__m256i *)(void *)t, out[r][0]);
            _mm256_storeu_si256((__m256i *)(void *)(t + 8), out[r][1]);
            memcpy(acc + r * ldc, t, (size_t)cols * sizeof *t);
        }
    }
}

void int8_gemm(int32_t *acc, const uint8_t *qa, const int16_t *packed, int N, int C, int OC, int32_t *scratch) {
    int K2 = pad2(C) / 2, P = pad16(OC) / NR;
    widen(scratch, qa, N, C);
    int RB = (N + MB - 1) / MB, GB = (P + PG - 1) / PG;
    int tasks = RB * GB;
    #pragma omp parallel for schedule(dynamic) if ((size_t)N * C * OC > 1000000)
    for (int t = 0; t < tasks; t++) {
        int rb = t / GB, g = t % GB;
        int r0 = rb * MB, r1 = r0 + MB < N ? r0 + MB : N;
        for (int p = g * PG; p < P && p < (g + 1) * PG; p++) {
            const int16_t *w = packed + (size_t)p * K2 * 32;
            int o0 = p * NR, cols = OC - o0 < NR ? OC - o0 : NR;
            for (int r = r0; r < r1; r += MR)
                tile(acc + (size_t)r * OC + o0, (size_t)OC, scratch + (size_t)r * K2, K2, w,
                     r1 - r < MR ? r1 - r : MR, cols);
        }
    }
}

#ifndef __AVX2__
#pragma GCC pop_options
#endif

#else /* not x86-64 with GCC: ops_int8.c uses oneDNN (7-bit weights) */

int int8_gemm_available(void) { return 0; }

void int8_gemm(int32_t *acc, const uint8_t *qa, const int16_t *packed, int N, int C, int OC, int32_t *scratch) {
    (void)acc, (void)qa, (void)packed, (void)N, (void)C, (void)OC, (void)scratch;
}

#endif
