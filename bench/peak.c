/* peak.c: this machine's measured compute peaks, the denominators of the
 * "achieved GFLOP/s" column of bench/run.sh.
 *
 *   fp32 FMA:  12 independent 512-bit FMA accumulators per thread (256-bit on
 *              an AVX2 machine), register resident (12 x 16 or 8 lanes x 2
 *              flops per iteration step), every core.
 *   bf16 dot:  the same with _mm512_dpbf16_ps (AVX512-BF16: 32 bf16 products
 *              summed into 16 fp32 lanes = 64 flops per instruction).
 *   AMX bf16:  where the CPU has AMX (AMX-BF16 + AMX-TILE): 4 independent
 *              _tile_dpbf16ps per step into 4 fp32 accumulator tiles from 4
 *              register-resident 16x64-byte tiles (16 x 16 x 32 products =
 *              16384 flops per instruction), every core, after asking Linux for
 *              the tile data state (arch_prctl ARCH_REQ_XCOMP_PERM). The bf16
 *              peak is the larger of this and the dot figure: on an AMX CPU,
 *              oneDNN's bf16 matmul runs on the tiles, several times past what
 *              vdpbf16ps can do, so the dot figure alone is no ceiling there.
 *   sgemm:     OpenBLAS sgemm at BERT shapes (M = 1024 rows = B*T, N and K in
 *              384..3072) laid out as bertc runs it: one OpenMP thread per core,
 *              each running a single-threaded sgemm on its block of rows.
 * Prints one JSON object. Build: see bench/run.sh (-march=native; without
 * AVX512-BF16 the bf16 figure is null).
 */
#include <cblas.h>
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

extern void openblas_set_num_threads(int);
extern char *openblas_get_corename(void);

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define ITERS 20000000L

/* 12 independent accumulators of W lanes (512-bit with AVX-512, else 256-bit
 * AVX2 + FMA), register resident; returns GFLOP/s over every thread. */
#ifdef __AVX512F__
#define W 16
typedef __m512 vf;
#define VSET _mm512_set1_ps
#define VFMA _mm512_fmadd_ps
#define VADD _mm512_add_ps
static float vsum(vf s) { return _mm512_reduce_add_ps(s); }
#else
#define W 8
typedef __m256 vf;
#define VSET _mm256_set1_ps
#define VFMA _mm256_fmadd_ps
#define VADD _mm256_add_ps
static float vsum(vf s) {
    float t[8];
    _mm256_storeu_ps(t, s);
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#endif

static double fma_peak(void) {
    double t0 = now();
    float sink = 0;
    #pragma omp parallel reduction(+ : sink)
    {
        vf a = VSET(1.0000001f), b = VSET(0.9999999f);
        vf c0 = VSET(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        vf c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < ITERS; i++) {
            c0 = VFMA(a, b, c0); c1 = VFMA(a, b, c1);
            c2 = VFMA(a, b, c2); c3 = VFMA(a, b, c3);
            c4 = VFMA(a, b, c4); c5 = VFMA(a, b, c5);
            c6 = VFMA(a, b, c6); c7 = VFMA(a, b, c7);
            c8 = VFMA(a, b, c8); c9 = VFMA(a, b, c9);
            c10 = VFMA(a, b, c10); c11 = VFMA(a, b, c11);
            __asm__ volatile("" : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5),
                             "+x"(c6), "+x"(c7), "+x"(c8), "+x"(c9), "+x"(c10), "+x"(c11));
        }
        vf s = VADD(VADD(VADD(c0, c1), VADD(c2, c3)), VADD(VADD(c4, c5), VADD(c6, c7)));
        s = VADD(s, VADD(VADD(c8, c9), VADD(c10, c11)));
        sink += vsum(s);
    }
    double dt = now() - t0;
    if (sink == 42.0f) printf(" ");
    return (double)omp_get_max_threads() * ITERS * 12 * W * 2 / dt / 1e9;
}

static double bf16_peak(void) {
#ifdef __AVX512BF16__
    double t0 = now();
    float sink = 0;
    #pragma omp parallel reduction(+ : sink)
    {
        __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80), b = (__m512bh)_mm512_set1_epi16(0x3f80);
        __m512 c0 = _mm512_set1_ps(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        __m512 c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < ITERS; i++) {
            c0 = _mm512_dpbf16_ps(c0, a, b); c1 = _mm512_dpbf16_ps(c1, a, b);
            c2 = _mm512_dpbf16_ps(c2, a, b); c3 = _mm512_dpbf16_ps(c3, a, b);
            c4 = _mm512_dpbf16_ps(c4, a, b); c5 = _mm512_dpbf16_ps(c5, a, b);
            c6 = _mm512_dpbf16_ps(c6, a, b); c7 = _mm512_dpbf16_ps(c7, a, b);
            c8 = _mm512_dpbf16_ps(c8, a, b); c9 = _mm512_dpbf16_ps(c9, a, b);
            c10 = _mm512_dpbf16_ps(c10, a, b); c11 = _mm512_dpbf16_ps(c11, a, b);
            __asm__ volatile("" : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5),
                             "+v"(c6), "+v"(c7), "+v"(c8), "+v"(c9), "+v"(c10), "+v"(c11));
        }
        __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                                 _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
        s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)));
        sink += _mm512_reduce_add_ps(s);
    }
    double dt = now() - t0;
    if (sink == 42.0f) printf(" ");
    return (double)omp_get_max_threads() * ITERS * 12 * 32 * 2 / dt / 1e9;
#else
    return -1;
#endif
}

#if defined(__AMX_BF16__) && defined(__AMX_TILE__)
#define AMX_ITERS 2000000L
/* The palette-1 tile configuration (Intel SDM, LDTILECFG). */
typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tilecfg;
#endif

/* GFLOP/s of TDPBF16PS over every thread, or -1 (no AMX, or Linux refuses the tiles). */
static double amx_peak(void) {
#if defined(__AMX_BF16__) && defined(__AMX_TILE__)
    if (syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */) != 0) return -1;
    double t0 = now();
    float sink = 0;
    #pragma omp parallel reduction(+ : sink)
    {
        tilecfg cfg __attribute__((aligned(64)));
        memset(&cfg, 0, sizeof cfg);
        cfg.palette = 1;
        for (int t = 0; t < 8; t++) cfg.colsb[t] = 64, cfg.rows[t] = 16;
        uint16_t one[16 * 32] __attribute__((aligned(64)));
        for (int i = 0; i < 16 * 32; i++) one[i] = 0x3f80; /* bf16 1.0 */
        float out[16 * 16] __attribute__((aligned(64)));
        _tile_loadconfig(&cfg);
        _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
        _tile_loadd(4, one, 64); _tile_loadd(5, one, 64); _tile_loadd(6, one, 64); _tile_loadd(7, one, 64);
        for (long i = 0; i < AMX_ITERS; i++) {
            _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7);
            _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
        }
        _tile_stored(0, out, 64);
        _tile_release();
        sink += out[0];
    }
    double dt = now() - t0;
    if (sink == 42.0f) printf(" ");
    return (double)omp_get_max_threads() * AMX_ITERS * 4 * (16.0 * 16 * 32 * 2) / dt / 1e9;
#else
    return -1;
#endif
}

/* C(M,N) = A(M,K) B(N,K)^T, rows split over the OpenMP threads (bertc's layout). */
static double sgemm_rate(int M, int N, int K, int reps) {
    float *A = malloc((size_t)M * K * 4), *B = malloc((size_t)N * K * 4), *C = malloc((size_t)M * N * 4);
    for (size_t i = 0; i < (size_t)M * K; i++) A[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < (size_t)N * K; i++) B[i] = (float)(i % 5) * 0.1f;
    openblas_set_num_threads(1);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        #pragma omp parallel
        {
            int nt = omp_get_num_threads(), id = omp_get_thread_num();
            int rows = (M + nt - 1) / nt, m0 = id * rows, mn = M - m0 < rows ? M - m0 : rows;
            if (mn > 0)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, mn, N, K, 1.0f, A + (size_t)m0 * K, K,
                            B, K, 0.0f, C + (size_t)m0 * N, N);
        }
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    free(A), free(B), free(C);
    return 2.0 * M * N * K / best / 1e9;
}

int main(void) {
    double fma = 0, bf = 0, amx = -1;
    for (int r = 0; r < 3; r++) { /* best of 3: other processes share the cores */
        double f = fma_peak(), b = bf16_peak(), x = amx_peak();
        if (f > fma) fma = f;
        if (b > bf) bf = b;
        if (x > amx) amx = x;
    }
    static const int shapes[][3] = {{1024, 1152, 384}, {1024, 384, 1536}, {1024, 2304, 768}, {1024, 3072, 768}, {1024, 768, 3072}};
    printf("{\"threads\":%d,\"fp32_fma_gflops\":%.1f,", omp_get_max_threads(), fma);
    if (bf > 0) printf("\"bf16_dot_gflops\":%.1f,", bf);
    else printf("\"bf16_dot_gflops\":null,");
    if (amx > 0) printf("\"amx_bf16_gflops\":%.1f,", amx);
    else printf("\"amx_bf16_gflops\":null,");
    double bpk = amx > bf ? amx : bf;
    if (bpk > 0) printf("\"bf16_peak_gflops\":%.1f,", bpk);
    else printf("\"bf16_peak_gflops\":null,");
    printf("\"openblas_core\":\"%s\",\"sgemm\":[", openblas_get_corename());
    for (int i = 0; i < 5; i++)
        printf("%s{\"M\":%d,\"N\":%d,\"K\":%d,\"gflops\":%.1f}", i ? "," : "", shapes[i][0], shapes[i][1],
               shapes[i][2], sgemm_rate(shapes[i][0], shapes[i][1], shapes[i][2], 5));
    printf("]}\n");
    return 0;
}
