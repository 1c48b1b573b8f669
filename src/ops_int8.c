/* ops_int8.c: int8 dense layers through oneDNN (see ops_int8.h). */
#include "ops_int8.h"

#include <math.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "common.h"
#include "int8_gemm.h"
#include "onednn_mm.h"
#include "ops_cpu.h"

/* ---- quantization ---- */

/* scale = max|x| / qmax (1 for an all-zero vector), codes round(x / scale)
 * in [-qmax, qmax], ties to even (rintf under the default rounding mode). */
static float quantize_vec(int8_t *q, const float *x, int n, int qmax) {
    const float hi = (float)qmax;
    float m = 0.0f;
    for (int i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        m = a > m ? a : m;
    }
    float s = m > 0.0f ? m / hi : 1.0f, inv = 1.0f / s;
    for (int i = 0; i < n; i++) {
        float v = rintf(x[i] * inv);
        v = v > hi ? hi : v < -hi ? -hi : v; /* x*inv may round past qmax */
        q[i] = (int8_t)v;
    }
    return s;
}

/* Row x (n) to u8 codes, asymmetric: the range [min(x, 0), max(x, 0)] in 255
 * steps, zero exactly at code zp: x ~ scale (q - zp), |error| <= scale / 2.
 * The AVX2 loops compute the same codes as the scalar ones (cvtps rounds to
 * nearest even, as rintf; the clamps commute with the integer add). */
static float quantize_u8(uint8_t *q, int32_t *zp, const float *x, int n) {
    float lo = 0.0f, hi = 0.0f;
    int i = 0;
#ifdef __AVX512F__
    __m512 wlo = _mm512_setzero_ps(), whi = _mm512_setzero_ps();
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        wlo = _mm512_min_ps(wlo, v);
        whi = _mm512_max_ps(whi, v);
    }
    lo = _mm512_reduce_min_ps(wlo);
    hi = _mm512_reduce_max_ps(whi);
#elif defined(__AVX2__)
    __m256 vlo = _mm256_setzero_ps(), vhi = _mm256_setzero_ps();
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        vlo = _mm256_min_ps(vlo, v);
        vhi = _mm256_max_ps(vhi, v);
    }
    float l8[8], h8[8];
    _mm256_storeu_ps(l8, vlo);
    _mm256_storeu_ps(h8, vhi);
    for (int k = 0; k < 8; k++) {
        lo = l8[k] < lo ? l8[k] : lo;
        hi = h8[k] > hi ? h8[k] : hi;
    }
#endif
    for (; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    float s = hi > lo ? (hi - lo) / 255.0f : 1.0f, inv = 1.0f / s;
    float z = rintf(-lo * inv);
    z = z > 255.0f ? 255.0f : z;
    i = 0;
#ifdef __AVX512F__
    const __m512 winv = _mm512_set1_ps(inv);
    const __m512i wz = _mm512_set1_epi32((int)z), w0 = _mm512_setzero_si512(), w255 = _mm512_set1_epi32(255);
    for (; i + 16 <= n; i += 16) {
        __m512i t = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(x + i), winv));
        t = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(t, wz), w0), w255);
        _mm_storeu_si128((__m128i *)(q + i), _mm512_cvtusepi32_epi8(t));
    }
#elif defined(__AVX2__)
    const __m256 vinv = _mm256_set1_ps(inv);
    const __m256i vz = _mm256_set1_epi32((int)z), v0 = _mm256_setzero_si256(), v255 = _mm256_set1_epi32(255);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (; i + 32 <= n; i += 32) {
        __m256i r[4];
        for (int k = 0; k < 4; k++) {
            __m256i t = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + i + 8 * k), vinv));
            r[k] = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(t, vz), v0), v255);
        }
        __m256i p = _mm256_packus_epi16(_mm256_packs_epi32(r[0], r[1]), _mm256_packs_epi32(r[2], r[3]));
        _mm256_storeu_si256((__m256i *)(q + i), _mm256_permutevar8x32_epi32(p, order));
    }
#endif
    for (; i < n; i++) {
        float v = rintf(x[i] * inv) + z;
        v = v > 255.0f ? 255.0f : v < 0.0f ? 0.0f : v;
        q[i] = (uint8_t)v;
    }
    *zp = (int32_t)z;
    return s;
}

void int8_quantize_act(uint8_t *q, float *scale, int32_t *zp, const float *x, int R, int Cn) {
    #pragma omp parallel for schedule(static) if ((size_t)R * Cn > 65536)
    for (int r = 0; r < R; r++) scale[r] = quantize_u8(q + (size_t)r * Cn, zp + r, x + (size_t)r * Cn, Cn);
}

void int8_quantize_rows(int8_t *q, float *scale, const float *x, int R, int Cn, int qmax) {
    #pragma omp parallel for schedule(static) if ((size_t)R * Cn > 65536)
    for (int r = 0; r < R; r++) scale[r] = quantize_vec(q + (size_t)r * Cn, x + (size_t)r * Cn, Cn, qmax);
}

/* Which kernel computes the integer product, decided once per process:
 *   - oneDNN's, where it runs VNNI (vpdpbusd sums u8 x s8 into int32): 8-bit weights;
 *   - bertc's own (int8_gemm.c), on AVX2 without VNNI: oneDNN's kernels there
 *     multiply with vpmaddubsw, which adds two u8 x s8 products into a
 *     saturating int16 (255 x 127 x 2 overflows; measured: up to 125 times the
 *     quantization bound off), so they would need 7-bit weights, and 7 bits
 *     kept 99.34% of IMDB's labels where 8 keep 99.60% (docs/numerics.md).
 *     int8_gemm widens to int16 and sums with vpmaddwd into int32: exact, 8 bits;
 *   - oneDNN's with 7-bit weights (255 x 63 x 2 = 32130 fits), on a CPU with
 *     neither, or when BERTC_INT8_KERNEL=onednn asks for it (benchmarks).
 * BERTC_INT8_KERNEL=bertc|onednn overrides the choice (bertc only where
 * int8_gemm_available). tests/test_int8.c checks every kernel this CPU has
 * against the exact integer product, on the saturation worst case too. */
enum { K_UNSET, K_ONEDNN, K_BERTC };
static int g_kernel;
static int g_qmax;

static int onednn_vnni(void) {
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return isa == dnnl_cpu_isa_avx2_vnni || isa == dnnl_cpu_isa_avx512_core_vnni ||
           isa == dnnl_cpu_isa_avx512_core_bf16 || isa == dnnl_cpu_isa_avx512_core_amx;
}

static void kernel_set(int k) {
    g_kernel = k;
    g_qmax = k == K_BERTC || onednn_vnni() ? 127 : 63;
}

static int kernel(void) {
    if (g_kernel == K_UNSET) {
        const char *e = getenv("BERTC_INT8_KERNEL");
        int k = onednn_vnni() || !int8_gemm_available() ? K_ONEDNN : K_BERTC;
        if (e && !strcmp(e, "onednn")) k = K_ONEDNN;
        if (e && !strcmp(e, "bertc") && int8_gemm_available()) k = K_BERTC;
        kernel_set(k);
    }
    return g_kernel;
}

int int8_weight_qmax(void) {
    kernel();
    return g_qmax;
}

const char *int8_kernel(void) { return kernel() == K_BERTC ? "bertc-avx2" : "onednn"; }

/* ---- state ---- */

/* A weight quantized once: codes (OC, C) for oneDNN or packed for int8_gemm
 * (the other NULL), per-channel scales (OC) and the sums of each channel's
 * codes (OC), for the activations' zero points. */
typedef struct wq {
    const float *w;
    size_t n;
    int8_t *q;
    int16_t *p;
    float *s;
    int32_t *sum;
    struct wq *next;
} wq;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static dnnl_engine_t g_eng;
static dnnl_stream_t g_stream;
static int g_state; /* 0 untried, 1 ready, -1 unavailable */
static onednn_mm_list g_prims;
static wq *g_w;
static uint8_t *g_qa;            /* scratch: activation codes */
static int8_t *g_qw;             /* scratch: a weight's codes when not kept */
static int16_t *g_qp;            /* scratch: those codes packed for int8_gemm */
static int32_t *g_a16;           /* scratch: int8_gemm's widened activations */
static size_t g_qp_cap, g_a16_cap;
static float *g_sa, *g_sw;       /* scratch: row scales, channel scales */
static int32_t *g_za, *g_ws;     /* scratch: row zero points, channel code sums */
static size_t g_qa_cap, g_qw_cap, g_sa_cap, g_sw_cap, g_za_cap, g_ws_cap;
static unsigned long g_fallbacks;

static int engine_ready(void) {
    if (g_state) return g_state > 0;
    g_state = -1;
    if (dnnl_engine_create(&g_eng, dnnl_cpu, 0) != dnnl_success) return 0;
    if (dnnl_stream_create(&g_stream, g_eng, dnnl_stream_default_flags) != dnnl_success) {
        dnnl_engine_destroy(g_eng);
        return 0;
    }
    g_state = 1;
    return 1;
}

/* acc (M, N) s32 = A (M, K) u8 row-major x B (K, N) s8, B given as the
 * row-major (N, K) weight (tag ba). No scales, no bias: the exact integer
 * product; the fp32 epilogue below applies both. */
static onednn_mm *prim_get(int M, int N, int K) {
    onednn_mm *q = onednn_mm_find(&g_prims, 0, M, N, K);
    if (q) return q;
    dnnl_memory_desc_t ad, wd, cd;
    dnnl_dims_t da = {M, K}, dw = {K, N}, dc = {M, N};
    dnnl_matmul_desc_t md;
    int ok = dnnl_memory_desc_init_by_tag(&ad, 2, da, dnnl_u8, dnnl_ab) == dnnl_success &&
             dnnl_memory_desc_init_by_tag(&wd, 2, dw, dnnl_s8, dnnl_ba) == dnnl_success &&
             dnnl_memory_desc_init_by_tag(&cd, 2, dc, dnnl_s32, dnnl_ab) == dnnl_success &&
             dnnl_matmul_desc_init(&md, &ad, &wd, NULL, &cd) == dnnl_success;
    return ok ? onednn_mm_add(&g_prims, 0, M, N, K, &ad, &wd, NULL, &cd, &md, NULL, g_eng) : NULL;
}

/* 0 when oneDNN wrote acc; -1 when it could not (oneDNN validates before it writes). */
static int run(int M, int N, int K, const uint8_t *A, const int8_t *W, int32_t *acc) {
    onednn_mm *q = prim_get(M, N, K);
    return q ? onednn_mm_run(q, g_stream, A, W, NULL, acc) : -1;
}

static void wq_free(wq *e) {
    if (!e) return;
    free(e->q);
    free(e->p);
    free(e->s);
    free(e->sum);
    free(e);
}

/* A weight (OC, C) to codes, scales and code sums. */
static void quantize_weight(int8_t *q, float *s, int32_t *sum, const float *w, int OC, int C) {
    int8_quantize_rows(q, s, w, OC, C, int8_weight_qmax());
    for (int o = 0; o < OC; o++) {
        int32_t t = 0;
        for (int c = 0; c < C; c++) t += q[(size_t)o * C + c];
        sum[o] = t;
    }
}

static const wq *wq_find(const float *w, size_t n) {
    for (wq *e = g_w; e; e = e->next)
        if (e->w == w && e->n == n) return e;
    return NULL;
}

int int8_weight_prepare(const float *w, int OC, int C) {
    size_t n = (size_t)OC * C;
    pthread_mutex_lock(&g_lock);
    int rc = 0;
    if (!wq_find(w, n)) {
        int packed = kernel() == K_BERTC;
        size_t np = int8_gemm_packed_size(OC, C) * sizeof(int16_t);
        wq *e = calloc(1, sizeof *e);
        if (e) {
            e->q = aligned_alloc(64, (n + 63) / 64 * 64);
            e->p = packed ? aligned_alloc(64, (np + 63) / 64 * 64) : NULL;
            e->s = malloc((size_t)OC * sizeof *e->s);
            e->sum = malloc((size_t)OC * sizeof *e->sum);
        }
        if (!e || !e->q || (packed && !e->p) || !e->s || !e->sum) {
            wq_free(e);
            rc = -1;
        } else {
            quantize_weight(e->q, e->s, e->sum, w, OC, C);
            if (packed) { /* the codes are not needed again: keep only the packing */
                int8_gemm_pack(e->p, e->q, OC, C);
                free(e->q);
                e->q = NULL;
            }
            e->w = w, e->n = n, e->next = g_w;
            g_w = e;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

void int8_weight_clear(void) {
    pthread_mutex_lock(&g_lock);
    while (g_w) {
        wq *e = g_w;
        g_w = e->next;
        wq_free(e);
    }
    pthread_mutex_unlock(&g_lock);
}

int int8_kernel_use(const char *name) {
    int k = !strcmp(name, "onednn") ? K_ONEDNN : !strcmp(name, "bertc") && int8_gemm_available() ? K_BERTC : 0;
    if (!k) return -1;
    int8_weight_clear(); /* kept weights are packed for one kernel and quantized to its Q */
    pthread_mutex_lock(&g_lock);
    kernel_set(k);
    pthread_mutex_unlock(&g_lock);
    return 0;
}

/* ---- the product ---- */

/* The fp32 epilogue, in place: out holds acc (N, OC) as int32 bit patterns;
 * out[n,o] = sa[n] sw[o] (acc[n,o] - za[n] wsum[o]) + b[o]. The correction is
 * exact in int32: |acc| and |za wsum| are <= 255 x 127 C each, so their
 * difference fits for C < 33,000 (BERT's largest reduction is F = 4096). memcpy reads the int32 without
 * breaking C's aliasing rules (and compiles to a plain load). */
#ifdef __AVX512F__ /* 512-bit vectors for the epilogue's loop (GCC picks 256 under -march=native) */
#pragma GCC push_options
#pragma GCC target("prefer-vector-width=512")
#endif
static void epilogue(float *out, const float *sa, const int32_t *za, const float *sw, const int32_t *wsum,
                     const float *b, int N, int OC, float *gelu_out) {
    #pragma omp parallel for schedule(static) if ((size_t)N * OC > 65536)
    for (int n = 0; n < N; n++) {
        float *y = out + (size_t)n * OC;
        float s = sa[n];
        int32_t z = za[n];
        for (int o = 0; o < OC; o++) {
            int32_t a;
            memcpy(&a, &y[o], sizeof a);
            float v = (float)(a - z * wsum[o]) * (s * sw[o]);
            y[o] = b ? v + b[o] : v;
        }
        /* the row's GELU while it is in cache: the same bits as a pass after */
        if (gelu_out) cpu_gelu_serial(gelu_out + (size_t)n * OC, y, (size_t)OC);
    }
}
#ifdef __AVX512F__
#pragma GCC pop_options
#endif

/* BERTC_SCRATCH's buffers are malloc'd (16-byte aligned); int8_gemm's loads want 32. */
#define align32(p) ((__typeof__(p))(void *)(((uintptr_t)(p) + 31) & ~(uintptr_t)31))

/* acc (N, OC) = qa (N, C) x qw (OC, C)^T, exactly in int32 (|acc| <= 255 x
 * 127 C, which fits for C < 66,000), into out's bytes. */
static void portable_acc(float *out, const uint8_t *qa, const int8_t *qw, int N, int C, int OC) {
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            int32_t s = 0;
            const uint8_t *x = qa + (size_t)n * C;
            const int8_t *w = qw + (size_t)o * C;
            for (int c = 0; c < C; c++) s += (int32_t)x[c] * (int32_t)w[c];
            memcpy(&out[(size_t)n * OC + o], &s, sizeof s);
        }
}

/* use_kernel 0: the portable loop (tests). The lock is held from quantizing
 * to the epilogue because the scratch is shared. With no memory for scratch at
 * all, the codes are computed a row and a channel at a time on the stack
 * (slow, exact, the same numbers). */
static void forward(float *out, const float *inp, const float *w, const float *b, int N, int C, int OC,
                    int use_kernel, float *gelu_out) {
    pthread_mutex_lock(&g_lock);
    int bertc = use_kernel && kernel() == K_BERTC;
    uint8_t *qa = BERTC_SCRATCH(g_qa, g_qa_cap, (size_t)N * C);
    float *sa = BERTC_SCRATCH(g_sa, g_sa_cap, (size_t)N);
    int32_t *za = BERTC_SCRATCH(g_za, g_za_cap, (size_t)N);
    int32_t *a16 = bertc ? BERTC_SCRATCH(g_a16, g_a16_cap, int8_gemm_scratch_size(N, C) + 8) : NULL;
    const int8_t *qw = NULL;
    const int16_t *qp = NULL;
    const float *sw = NULL;
    const int32_t *ws = NULL;
    const wq *e = wq_find(w, (size_t)OC * C);
    if (e && (bertc ? e->p != NULL : e->q != NULL)) {
        qw = e->q, qp = e->p, sw = e->s, ws = e->sum;
    } else {
        int8_t *tq = BERTC_SCRATCH(g_qw, g_qw_cap, (size_t)OC * C);
        float *ts = BERTC_SCRATCH(g_sw, g_sw_cap, (size_t)OC);
        int32_t *tsum = BERTC_SCRATCH(g_ws, g_ws_cap, (size_t)OC);
        int16_t *tp = bertc ? BERTC_SCRATCH(g_qp, g_qp_cap, int8_gemm_packed_size(OC, C) + 16) : NULL;
        if (tq && ts && tsum) {
            quantize_weight(tq, ts, tsum, w, OC, C);
            qw = tq, sw = ts, ws = tsum;
            if (tp) {
                int16_t *t = align32(tp);
                int8_gemm_pack(t, tq, OC, C);
                qp = t;
            }
        }
    }
    if (qa && sa && za && (qw || qp)) {
        int8_quantize_act(qa, sa, za, inp, N, C);
        /* out is fp32 storage of the same size as the int32 accumulator */
        int32_t *acc = (int32_t *)(void *)out;
        if (bertc && qp && a16) {
            int8_gemm(acc, qa, qp, N, C, OC, align32(a16));
        } else if (!qw || !use_kernel || !engine_ready() || run(N, OC, C, qa, qw, acc) != 0) {
            if (qw) {
                portable_acc(out, qa, qw, N, C, OC);
                g_fallbacks += use_kernel;
            } else { /* packed only, no scratch for the widened rows: not enough memory */
                goto slow;
            }
        }
        epilogue(out, sa, za, sw, ws, b, N, OC, gelu_out);
        pthread_mutex_unlock(&g_lock);
        return;
    }
slow:
    g_fallbacks++;
    pthread_mutex_unlock(&g_lock);
    for (int n = 0; n < N; n++) {
        uint8_t qx[C];
        int32_t z;
        float s = quantize_u8(qx, &z, inp + (size_t)n * C, C);
        for (int o = 0; o < OC; o++) {
            int8_t qo[C];
            float so;
            int32_t sum;
            quantize_weight(qo, &so, &sum, w + (size_t)o * C, 1, C);
            int32_t a = 0;
            for (int c = 0; c < C; c++) a += (int32_t)qx[c] * (int32_t)qo[c];
            float v = (float)(a - z * sum) * (s * so);
            out[(size_t)n * OC + o] = b ? v + b[o] : v;
        }
    }
    if (gelu_out) cpu_gelu_forward(gelu_out, out, (size_t)N * OC);
}

void int8_matmul_forward(float *out, const float *inp, const float *w, const float *b, int N, int C, int OC) {
    forward(out, inp, w, b, N, C, OC, 1, NULL);
}

void int8_matmul_forward_portable(float *out, const float *inp, const float *w, const float *b, int N, int C, int OC) {
    forward(out, inp, w, b, N, C, OC, 0, NULL);
}

void int8_matmul_gelu_forward(float *pre, float *out, const float *inp, const float *w, const float *b, int N, int C,
                              int OC) {
    float *y = pre ? pre : out;
    forward(y, inp, w, b, N, C, OC, 1, out); /* GELU row by row in the epilogue */
}

/* ---- availability, names, release ---- */

int bert_int8_available(void) {
    pthread_mutex_lock(&g_lock);
    int ok = engine_ready() && prim_get(16, 32, 32) != NULL;
    pthread_mutex_unlock(&g_lock);
    return ok;
}

const char *int8_isa(void) {
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "other";
    }
}

unsigned long int8_fallbacks(void) {
    pthread_mutex_lock(&g_lock);
    unsigned long n = g_fallbacks;
    pthread_mutex_unlock(&g_lock);
    return n;
}

void int8_release(void) {
    int8_weight_clear();
    pthread_mutex_lock(&g_lock);
    onednn_mm_clear(&g_prims);
    free(g_qa), free(g_qw), free(g_sa), free(g_sw), free(g_za), free(g_ws), free(g_qp), free(g_a16);
    g_qa = NULL;
    g_qw = NULL;
    g_qp = NULL;
    g_a16 = NULL;
    g_qp_cap = g_a16_cap = 0;
    g_sa = g_sw = NULL;
    g_za = g_ws = NULL;
    g_qa_cap = g_qw_cap = g_sa_cap = g_sw_cap = g_za_cap = g_ws_cap = 0;
    if (g_state > 0) {
        dnnl_stream_destroy(g_stream);
        dnnl_engine_destroy(g_eng);
    }
    g_state = 0;
    pthread_mutex_unlock(&g_lock);
}
