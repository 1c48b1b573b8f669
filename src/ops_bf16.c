/* ops_bf16.c: bf16 matrix products through oneDNN (see ops_bf16.h). */
#include "ops_bf16.h"

#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "common.h"
#include "cpu_dispatch.h"
#include "ops_cpu.h"
#include "ops_int8.h"
#include "onednn_mm.h"

/* ---- conversions ---- */

uint16_t bf16_from_float(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float bf16_to_float(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void bf16_round_floats(float *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = bf16_to_float(bf16_from_float(in[i]));
}

/* The CPU has AVX512-BF16 and BERTC_CPU does not lower bertc below it (cpu_dispatch.h). */
static int have_avx512bf16(void) { return cpu_level() >= CPU_LEVEL_AVX512BF16; }

/* 16 floats -> 16 bf16 with vcvtneps2bf16 (round to nearest even, as above). */
__attribute__((target("avx512f,avx512bf16"))) static void cvt_row_avx512(uint16_t *o, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(x + i));
        _mm256_storeu_si256((__m256i *)(o + i), (__m256i)h);
    }
    for (; i < n; i++) o[i] = bf16_from_float(x[i]);
}

static void cvt_row(uint16_t *o, const float *x, size_t n) {
    if (have_avx512bf16()) {
        cvt_row_avx512(o, x, n);
        return;
    }
    for (size_t i = 0; i < n; i++) o[i] = bf16_from_float(x[i]);
}

/* o (R, Cn) = bf16(x (R, Cn)), rows split over the threads. */
static void cvt_rows(uint16_t *o, const float *x, int R, int Cn) {
    #pragma omp parallel for schedule(static) if ((size_t)R * Cn > 65536)
    for (int r = 0; r < R; r++) cvt_row(o + (size_t)r * Cn, x + (size_t)r * Cn, (size_t)Cn);
}

/* o (Cn, R) = bf16(x (R, Cn))^T, in 32x32 tiles. */
static void cvt_transpose(uint16_t *o, const float *x, int R, int Cn) {
    enum { TL = 32 };
    int tr = (R + TL - 1) / TL, tc = (Cn + TL - 1) / TL;
    #pragma omp parallel for schedule(static) if ((size_t)R * Cn > 65536)
    for (int t = 0; t < tr * tc; t++) {
        int r0 = (t / tc) * TL, c0 = (t % tc) * TL;
        int r1 = r0 + TL < R ? r0 + TL : R, c1 = c0 + TL < Cn ? c0 + TL : Cn;
        uint16_t tile[TL][TL];
        for (int r = r0; r < r1; r++) cvt_row(tile[r - r0], x + (size_t)r * Cn + c0, (size_t)(c1 - c0));
        for (int c = c0; c < c1; c++)
            for (int r = r0; r < r1; r++) o[(size_t)c * R + r] = tile[r - r0][c - c0];
    }
}

/* ---- oneDNN state ---- */

enum { K_FWD, K_FWD_BIAS, K_BWD_DATA, K_BWD_W, K_BWD_W_AT, K_FWD_GELU, K_FWD_BIAS_GELU };

/* Rounded weights kept between calls while the weights cannot change (an
 * inference model: bf16_state_keep_weights(s, 1)); keyed by the fp32 array's
 * address and size, which no other array can take while the model that owns
 * this state (and reads those weights) is alive. */
typedef struct wcache {
    const float *w;
    size_t n;
    uint16_t *h;
    struct wcache *next;
} wcache;

/* One model's bf16 state: its oneDNN stream and primitives (one per shape),
 * scratch, and rounded weights. Used by one thread at a time (the model's). */
struct bf16_state {
    dnnl_stream_t stream; /* NULL until the first product oneDNN runs */
    onednn_mm_list prims;
    uint16_t *a, *b;      /* scratch: the rounded activations and the other operand */
    size_t a_cap, b_cap;  /* their sizes in bytes */
    uint16_t *h16;        /* attention's scratch: bf16 heads, probabilities and their gradients */
    float *f32;           /*   and fp32 scores (inference) or gradients (backward) */
    size_t h16_cap, f32_cap;
    wcache *wc;
    int keep_weights;
};

/* The process's one oneDNN CPU engine (thread-safe to share), created on first
 * use under g_lock; g_engine_state 0 untried, 1 ready, -1 unavailable. The lock
 * guards only this: models run their products without any shared lock. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static dnnl_engine_t g_eng;
static int g_engine_state;
static _Atomic unsigned long g_fallbacks;

static int engine_ready(void) {
    pthread_mutex_lock(&g_lock);
    if (!g_engine_state) {
        g_engine_state = -1;
        if (have_avx512bf16() && dnnl_engine_create(&g_eng, dnnl_cpu, 0) == dnnl_success) g_engine_state = 1;
    }
    int ok = g_engine_state > 0;
    pthread_mutex_unlock(&g_lock);
    return ok;
}

/* 1 when the state's stream exists (created on first use): oneDNN can run. */
static int stream_ready(bf16_state *s) {
    if (!s || !engine_ready()) return 0;
    if (!s->stream && dnnl_stream_create(&s->stream, g_eng, dnnl_stream_default_flags) != dnnl_success)
        s->stream = NULL;
    return s->stream != NULL;
}

static void wcache_clear(bf16_state *s) {
    while (s->wc) {
        wcache *e = s->wc;
        s->wc = e->next;
        free(e->h);
        free(e);
    }
}

bf16_state *bf16_state_new(void) { return calloc(1, sizeof(bf16_state)); }

void bf16_state_free(bf16_state *s) {
    if (!s) return;
    onednn_mm_clear(&s->prims);
    wcache_clear(s);
    free(s->a);
    free(s->b);
    free(s->h16);
    free(s->f32);
    if (s->stream) dnnl_stream_destroy(s->stream);
    free(s);
}

void bf16_state_keep_weights(bf16_state *s, int on) {
    if (!s) return;
    if (!on) wcache_clear(s);
    s->keep_weights = on;
}

size_t bf16_state_kept_weights(const bf16_state *s) {
    size_t n = 0;
    for (const wcache *e = s ? s->wc : NULL; e; e = e->next) n++;
    return n;
}

/* C (M, N) [+]= A (M, K) x B (K, N): A bf16 row-major, or (K_BWD_W_AT) the
 * transpose of a row-major (K, M) array; B bf16 row-major, or (K_FWD*) the
 * transpose of a row-major (N, K) weight; C fp32, with a bias row added
 * (K_FWD_BIAS*) or accumulated onto (K_BWD_*: a sum post-op); K_FWD*_GELU apply
 * oneDNN's erf GELU to C as it is written (an eltwise post-op). */
static onednn_mm *prim_get(bf16_state *s, int kind, int M, int N, int K) {
    onednn_mm *q = onednn_mm_find(&s->prims, kind, M, N, K);
    if (q) return q;
    dnnl_memory_desc_t ad, wd, bd, cd;
    dnnl_dims_t da = {M, K}, dw = {K, N}, db = {1, N}, dc = {M, N};
    int gelu = kind == K_FWD_GELU || kind == K_FWD_BIAS_GELU;
    int fwd = kind == K_FWD || kind == K_FWD_BIAS || gelu, bias = kind == K_FWD_BIAS || kind == K_FWD_BIAS_GELU;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_matmul_desc_t md;
    int ok = dnnl_memory_desc_init_by_tag(&ad, 2, da, dnnl_bf16, kind == K_BWD_W_AT ? dnnl_ba : dnnl_ab) ==
                 dnnl_success &&
             dnnl_memory_desc_init_by_tag(&wd, 2, dw, dnnl_bf16, fwd ? dnnl_ba : dnnl_ab) == dnnl_success &&
             dnnl_memory_desc_init_by_tag(&bd, 2, db, dnnl_f32, dnnl_ab) == dnnl_success &&
             dnnl_memory_desc_init_by_tag(&cd, 2, dc, dnnl_f32, dnnl_ab) == dnnl_success &&
             dnnl_matmul_desc_init(&md, &ad, &wd, bias ? &bd : NULL, &cd) == dnnl_success &&
             dnnl_primitive_attr_create(&attr) == dnnl_success;
    if (ok && (!fwd || gelu))
        ok = dnnl_post_ops_create(&po) == dnnl_success &&
             (gelu ? dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_gelu_erf, 0.0f, 0.0f)
                   : dnnl_post_ops_append_sum(po, 1.0f)) == dnnl_success &&
             dnnl_primitive_attr_set_post_ops(attr, po) == dnnl_success;
    if (ok) q = onednn_mm_add(&s->prims, kind, M, N, K, &ad, &wd, bias ? &bd : NULL, &cd, &md, attr, g_eng);
    if (po) dnnl_post_ops_destroy(po);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return q;
}

/* 0 when oneDNN ran the product; -1 when it could not (no primitive for the
 * shape, or execution refused): the caller then computes it with the portable
 * loops below. oneDNN validates its arguments before it writes C. */
static int run(bf16_state *s, int kind, int M, int N, int K, const uint16_t *A, const uint16_t *Bm,
               const float *bias, float *C) {
    onednn_mm *q = prim_get(s, kind, M, N, K);
    return q ? onednn_mm_run(q, s->stream, A, Bm, bias, C) : -1;
}

/* ---- the portable fallback: the same products of the same bf16-rounded
 * operands, summed in double (so within the fp32 summation bound the tests
 * check), without oneDNN and without allocating. Used only when oneDNN cannot
 * run (no AVX512-BF16, out of memory, a refused shape): slow, never wrong. ---- */



static inline float r16(float x) { return bf16_to_float(bf16_from_float(x)); }

/* out (N, OC) = bf16(inp) (N, C) x bf16(w)^T (OC, C) + b */
static void portable_forward(float *out, const float *inp, const float *w, const float *b, int N, int C, int OC) {
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        for (int o = 0; o < OC; o++) {
            double s = b ? b[o] : 0.0;
            for (int c = 0; c < C; c++)
                s += (double)r16(inp[(size_t)n * C + c]) * (double)r16(w[(size_t)o * C + c]);
            out[(size_t)n * OC + o] = (float)s;
        }
}

/* dinp (N, C) += bf16(dout) (N, OC) x bf16(w) (OC, C) */
static void portable_backward_data(float *dinp, const float *dout, const float *w, int N, int C, int OC) {
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            double s = dinp[(size_t)n * C + c];
            for (int o = 0; o < OC; o++)
                s += (double)r16(dout[(size_t)n * OC + o]) * (double)r16(w[(size_t)o * C + c]);
            dinp[(size_t)n * C + c] = (float)s;
        }
}

/* dw (OC, C) += bf16(dout)^T (OC, N) x bf16(inp) (N, C) */
static void portable_backward_w(float *dw, const float *dout, const float *inp, int N, int C, int OC) {
    #pragma omp parallel for schedule(static)
    for (int o = 0; o < OC; o++)
        for (int c = 0; c < C; c++) {
            double s = dw[(size_t)o * C + c];
            for (int n = 0; n < N; n++)
                s += (double)r16(dout[(size_t)n * OC + o]) * (double)r16(inp[(size_t)n * C + c]);
            dw[(size_t)o * C + c] = (float)s;
        }
}

unsigned long bf16_fallbacks(void) { return g_fallbacks; }

const uint16_t *bf16_state_weight(bf16_state *s, const float *w, int rows, int cols) {
    size_t n = (size_t)rows * cols;
    if (!s) return NULL;
    if (s->keep_weights) {
        for (wcache *e = s->wc; e; e = e->next)
            if (e->w == w && e->n == n) return e->h;
        wcache *e = calloc(1, sizeof *e);
        uint16_t *h = e ? aligned_alloc(64, (n * 2 + 63) / 64 * 64) : NULL;
        if (h) {
            cvt_rows(h, w, rows, cols);
            e->w = w, e->n = n, e->h = h, e->next = s->wc;
            s->wc = e;
            return h;
        }
        free(e); /* no memory for the cache: convert into the scratch instead */
    }
    uint16_t *b = BERTC_SCRATCH(s->b, s->b_cap, n);
    if (b) cvt_rows(b, w, rows, cols);
    return b;
}

int bert_bf16_available(void) {
    static int known = -1; /* decided once, under g_lock */
    pthread_mutex_lock(&g_lock);
    int k = known;
    pthread_mutex_unlock(&g_lock);
    if (k >= 0) return k;
    int ok = 0;
    bf16_state *s = bf16_state_new();
    if (stream_ready(s))
        ok = prim_get(s, K_FWD_BIAS, 16, 32, 32) != NULL && prim_get(s, K_BWD_W, 16, 32, 32) != NULL;
    bf16_state_free(s);
    if (s) { /* out of memory decides nothing */
        pthread_mutex_lock(&g_lock);
        known = ok;
        pthread_mutex_unlock(&g_lock);
    }
    return ok;
}

int bert_precision_resolve(int precision) {
    if (precision != BERT_PREC_AUTO) return precision;
    return bert_bf16_available() ? BERT_PREC_BF16 : BERT_PREC_FP32;
}

const char *bert_precision_name(int precision) {
    switch (precision) {
    case BERT_PREC_AUTO: return "auto";
    case BERT_PREC_FP32: return "fp32";
    case BERT_PREC_BF16: return "bf16";
    case BERT_PREC_INT8: return "int8";
    default: return "?";
    }
}

int bert_precision_check(int precision, bertc_err *err) {
    if (precision != BERT_PREC_AUTO && precision != BERT_PREC_FP32 && precision != BERT_PREC_BF16 &&
        precision != BERT_PREC_INT8)
        return bertc_fail(err, BERTC_ERR_ARG, "--precision: expected auto, fp32, bf16 or int8");
    if (precision == BERT_PREC_BF16 && !bert_bf16_available())
        return bertc_fail(err, BERTC_ERR_ARG,
                          "--precision bf16: this CPU has no AVX512-BF16 (or oneDNN cannot use it); use fp32");
    if (precision == BERT_PREC_INT8 && !bert_int8_available())
        return bertc_fail(err, BERTC_ERR_ARG, "--precision int8: oneDNN cannot build an int8 matmul on this CPU; use fp32");
    return BERTC_OK;
}

/* ---- the ops ---- */

/* out (N, OC) = bf16(inp) x bf16(w)^T + b through oneDNN, with its erf GELU
 * applied as a post-op when gelu: 0, or -1 when oneDNN cannot run it (the
 * caller then computes it another way). */
static int forward_onednn(bf16_state *s, int gelu, float *out, const float *inp, const float *w, const float *b, int N,
                          int C, int OC) {
    uint16_t *a = stream_ready(s) ? BERTC_SCRATCH(s->a, s->a_cap, (size_t)N * C) : NULL;
    if (a) cvt_rows(a, inp, N, C);
    const uint16_t *wb = a ? bf16_state_weight(s, w, OC, C) : NULL;
    int kind = gelu ? (b ? K_FWD_BIAS_GELU : K_FWD_GELU) : (b ? K_FWD_BIAS : K_FWD);
    return wb && run(s, kind, N, OC, C, a, wb, b, out) == 0 ? 0 : -1;
}

void bf16_matmul_forward(bf16_state *s, float *out, const float *inp, const float *w, const float *b, int N, int C,
                         int OC) {
    if (forward_onednn(s, 0, out, inp, w, b, N, C, OC) != 0) {
        g_fallbacks++;
        portable_forward(out, inp, w, b, N, C, OC);
    }
}

void bf16_matmul_backward(bf16_state *s, float *dinp, float *dw, float *db, const float *dout, const float *inp,
                          const float *w, int N, int C, int OC) {
    size_t big = (size_t)N * (C > OC ? C : OC);
    uint16_t *a = stream_ready(s) ? BERTC_SCRATCH(s->a, s->a_cap, big) : NULL;
    int ok_data = !dinp;
    if (dinp && a) {
        /* dinp (N, C) += dout (N, OC) x w (OC, C) */
        cvt_rows(a, dout, N, OC);
        const uint16_t *wb = bf16_state_weight(s, w, OC, C);
        ok_data = wb && run(s, K_BWD_DATA, N, C, OC, a, wb, NULL, dinp) == 0;
    }
    /* dw (OC, C) += dout^T (OC, N) x inp (N, C). oneDNN reads dout^T from the
     * rows the data product used (a transposed source, K_BWD_W_AT), so dout is
     * rounded once; where it refuses that layout, dout is transposed here. */
    int ok_w = 0;
    if (a) {
        if (!dinp) cvt_rows(a, dout, N, OC);
        uint16_t *bb = BERTC_SCRATCH(s->b, s->b_cap, (size_t)N * C);
        if (bb) cvt_rows(bb, inp, N, C);
        ok_w = bb && run(s, K_BWD_W_AT, OC, C, N, a, bb, NULL, dw) == 0;
        if (bb && !ok_w) {
            cvt_transpose(a, dout, N, OC);
            ok_w = run(s, K_BWD_W, OC, C, N, a, bb, NULL, dw) == 0;
        }
    }
    g_fallbacks += !ok_data + !ok_w;
    if (!ok_data) portable_backward_data(dinp, dout, w, N, C, OC);
    if (!ok_w) portable_backward_w(dw, dout, inp, N, C, OC);
    if (db) cpu_bias_backward(db, dout, N, OC);
}

void bf16_matmul_gelu_forward(bf16_state *s, float *pre, float *out, const float *inp, const float *w,
                              const float *b, int N, int C, int OC) {
    /* Inference (no pre-activation kept): the GELU runs inside oneDNN's matmul
     * while each output tile is in cache (a post-op), instead of a pass over
     * the (N, OC) output afterwards: that pass was 24% of a bf16 inference on
     * the AMX Xeon. oneDNN's erf differs from cpu_gelu_forward's in the last
     * bits (test_bf16 bounds it). Training keeps the two steps: the backward
     * needs the pre-activation. */
    if (!pre && forward_onednn(s, 1, out, inp, w, b, N, C, OC) == 0) return;
    float *y = pre ? pre : out;
    bf16_matmul_forward(s, y, inp, w, b, N, C, OC);
    cpu_gelu_forward(out, y, (size_t)N * OC);
}

/* ---- attention: its products in bf16 ----
 *
 * Batched over the NH heads of G sequences at once through oneDNN's matmul,
 * on Q, K, V (and dO) packed per head from the rows: (G, NH, T, HS), plain.
 * oneDNN reads K^T, V^T, dropout(P)^T and dS^T as transposed views of plain
 * arrays on its AMX/AVX512-BF16 brgemm kernels; strided views of qkv itself,
 * or a sum post-op into a strided destination, fall to its gemm:jit kernels
 * at a third of the speed (measured on the AMX Xeon), so the backward writes
 * dQ, dK, dV plain and adds them into dqkv itself. Everything between the
 * products (mask, softmax, dropout, the softmax gradient) stays fp32 in
 * ops_cpu.c. One sequence's scores (NH T^2 floats: 768 KiB at 12 x 128) make
 * a group when ATT_GROUP_FLOATS allows no more, so that they stay in L2
 * between the product that writes them and the softmax that reads them. */

enum { K_ATT_QK = 8, K_ATT_XY, K_ATT_PV_OUT, K_ATT_PX, K_ATT_PTX }; /* kept as kind + 16 G */
#define ATT_GROUP_FLOATS ((size_t)1 << 18)

/* (G,NH,T,T) x (G,NH,T,HS) or (G,NH,T,HS) x (G,NH,HS,T), fp32 out:
 * QK:     S = scale Q K^T      (K^T: a transposed view of plain K)
 * XY:     dA = dO V^T          (the same, unscaled)
 * PV_OUT: out (B,T,C) viewed (G,NH,T,HS) = dropout(P) V
 * PX:     plain = dS K
 * PTX:    plain = A^T X, A^T a transposed view (dV = dropout(P)^T dO, dK = dS^T Q) */
static onednn_mm *att_prim(bf16_state *s, int kind, int G, int NH, int T, int HS) {
    int key = kind + 16 * G;
    onednn_mm *q = onednn_mm_find(&s->prims, key, T, HS, NH);
    if (q) return q;
    dnnl_dim_t C = (dnnl_dim_t)NH * HS, TT = (dnnl_dim_t)T * T, TH = (dnnl_dim_t)T * HS;
    int qk = kind == K_ATT_QK || kind == K_ATT_XY;
    dnnl_dims_t da = {G, NH, T, qk ? HS : T}, dw = {G, NH, qk ? HS : T, qk ? T : HS}, dc = {G, NH, T, qk ? T : HS};
    dnnl_dims_t s_at = {NH * TT, TT, 1, T}, s_wt = {NH * TH, TH, 1, HS}, s_out = {T * C, HS, C, 1};
    dnnl_memory_desc_t ad, wd, cd;
    dnnl_matmul_desc_t md;
    dnnl_primitive_attr_t attr = NULL;
    float scale = (float)(1.0 / sqrt((double)HS));
    int ok = (kind == K_ATT_PTX ? dnnl_memory_desc_init_by_strides(&ad, 4, da, dnnl_bf16, s_at)
                                : dnnl_memory_desc_init_by_tag(&ad, 4, da, dnnl_bf16, dnnl_abcd)) == dnnl_success &&
             (qk ? dnnl_memory_desc_init_by_strides(&wd, 4, dw, dnnl_bf16, s_wt)
                 : dnnl_memory_desc_init_by_tag(&wd, 4, dw, dnnl_bf16, dnnl_abcd)) == dnnl_success &&
             (kind == K_ATT_PV_OUT ? dnnl_memory_desc_init_by_strides(&cd, 4, dc, dnnl_f32, s_out)
                                   : dnnl_memory_desc_init_by_tag(&cd, 4, dc, dnnl_f32, dnnl_abcd)) == dnnl_success &&
             dnnl_matmul_desc_init(&md, &ad, &wd, NULL, &cd) == dnnl_success &&
             dnnl_primitive_attr_create(&attr) == dnnl_success &&
             (kind != K_ATT_QK || dnnl_primitive_attr_set_output_scales(attr, 1, 0, &scale) == dnnl_success);
    if (ok) q = onednn_mm_add(&s->prims, key, T, HS, NH, &ad, &wd, NULL, &cd, &md, attr, g_eng);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return q;
}

/* 1 when oneDNN ran it. */
static int att_run(bf16_state *s, int kind, int G, int NH, int T, int HS, const uint16_t *A, const uint16_t *W,
                   float *C) {
    onednn_mm *q = att_prim(s, kind, G, NH, T, HS);
    return q && onednn_mm_run(q, s->stream, A, W, NULL, C) == 0;
}

/* Sequences per group: as many as fit ATT_GROUP_FLOATS of scores, at least 1. */
static int att_group(int B, int NH, int T) {
    size_t per = (size_t)NH * T * T, g = ATT_GROUP_FLOATS / per;
    return g < 1 ? 1 : g > (size_t)B ? B : (int)g;
}

/* o[k] (G, NH, T, HS) = bf16 of part k (columns k C .. k C + C, head h at
 * h HS) of G*T rows of x with stride ld, for nparts parts. Row by row, so that
 * x is read in order (a head's 256 bytes per row, a row stride apart, is past
 * what the prefetchers follow). */
static void pack_heads(uint16_t *const *o, int nparts, const float *x, int ld, int G, int T, int NH, int HS) {
    int fast = have_avx512bf16();
    size_t C = (size_t)NH * HS;
    #pragma omp parallel for schedule(static)
    for (int gt = 0; gt < G * T; gt++) {
        int g = gt / T, t = gt % T;
        for (int k = 0; k < nparts; k++)
            for (int h = 0; h < NH; h++) {
                const float *src = x + (size_t)gt * ld + k * C + (size_t)h * HS;
                uint16_t *dst = o[k] + (((size_t)g * NH + h) * T + t) * HS;
                if (fast) cvt_row_avx512(dst, src, (size_t)HS);
                else
                    for (int d = 0; d < HS; d++) dst[d] = bf16_from_float(src[d]);
            }
    }
}

/* dqkv (G*T rows of 3C) += the plain (G, NH, T, HS) gradients of Q, K and V. */
static void add_heads(float *dqkv, const float *dQ, const float *dK, const float *dV, int G, int T, int NH, int HS) {
    size_t C = (size_t)NH * HS;
    #pragma omp parallel for schedule(static)
    for (int gt = 0; gt < G * T; gt++) {
        int g = gt / T, t = gt % T;
        float *r = dqkv + (size_t)gt * 3 * C;
        for (int h = 0; h < NH; h++) {
            size_t src = (((size_t)g * NH + h) * T + t) * HS, dst = (size_t)h * HS;
            for (int d = 0; d < HS; d++) {
                r[dst + d] += dQ[src + d];
                r[C + dst + d] += dK[src + d];
                r[2 * C + dst + d] += dV[src + d];
            }
        }
    }
}

void bf16_attention_forward(bf16_state *s, float *out, float *att, const uint8_t *keep, float p, const float *qkv,
                            const int *mask, float *scratch, int nthreads, int B, int T, int C, int NH) {
    int HS = C / NH, G = att_group(B, NH, T);
    for (int b0 = 0; b0 < B; b0 += G) {
        int g = B - b0 < G ? B - b0 : G;
        size_t tt = (size_t)g * NH * T * T, tc = (size_t)g * T * C;
        const float *x = qkv + (size_t)b0 * T * 3 * C;
        const uint8_t *k = keep ? keep + (size_t)b0 * NH * T * T : NULL;
        float *S = att ? att + (size_t)b0 * NH * T * T : NULL;
        uint16_t *h = NULL;
        int ok = stream_ready(s);
        if (ok && !S) ok = (S = BERTC_SCRATCH(s->f32, s->f32_cap, tt)) != NULL;
        if (ok) ok = (h = BERTC_SCRATCH(s->h16, s->h16_cap, 3 * tc + tt)) != NULL;
        if (ok) {
            uint16_t *qkvp[3] = {h, h + tc, h + 2 * tc}, *Pd = h + 3 * tc;
            pack_heads(qkvp, 3, x, 3 * C, g, T, NH, HS);
            ok = att_run(s, K_ATT_QK, g, NH, T, HS, qkvp[0], qkvp[1], S);
            if (ok) {
                cpu_attention_probs(S, Pd, k, p, mask + (size_t)b0 * T, g, NH, T, att != NULL);
                ok = att_run(s, K_ATT_PV_OUT, g, NH, T, HS, Pd, qkvp[2], out + (size_t)b0 * T * C);
            }
        }
        if (!ok) { /* the fp32 kernel rewrites this group's outputs */
            g_fallbacks++;
            cpu_attention_forward(out + (size_t)b0 * T * C, att ? att + (size_t)b0 * NH * T * T : NULL, k, p, x,
                                  mask + (size_t)b0 * T, scratch, nthreads, g, T, C, NH);
        }
    }
}

void bf16_attention_backward(bf16_state *s, float *dqkv, const float *dout, const float *qkv, const float *att,
                             const uint8_t *keep, float p, float *scratch, int nthreads, int B, int T, int C, int NH) {
    int HS = C / NH, G = att_group(B, NH, T);
    float scale = (float)(1.0 / sqrt((double)HS));
    for (int b0 = 0; b0 < B; b0 += G) {
        int g = B - b0 < G ? B - b0 : G;
        size_t tt = (size_t)g * NH * T * T, tc = (size_t)g * T * C;
        const float *x = qkv + (size_t)b0 * T * 3 * C, *dO = dout + (size_t)b0 * T * C;
        const float *P = att + (size_t)b0 * NH * T * T;
        const uint8_t *k = keep ? keep + (size_t)b0 * NH * T * T : NULL;
        float *dx = dqkv + (size_t)b0 * T * 3 * C;
        uint16_t *h = NULL;
        float *f = NULL;
        int ok = stream_ready(s) && (h = BERTC_SCRATCH(s->h16, s->h16_cap, 4 * tc + 2 * tt)) != NULL &&
                 (f = BERTC_SCRATCH(s->f32, s->f32_cap, tt + 3 * tc)) != NULL;
        if (ok) {
            uint16_t *qkvp[3] = {h, h + tc, h + 2 * tc}, *dOp = h + 3 * tc, *Pd = h + 4 * tc, *dS = Pd + tt;
            float *dA = f, *dQ = f + tt, *dK = dQ + tc, *dV = dK + tc;
            pack_heads(qkvp, 3, x, 3 * C, g, T, NH, HS);
            pack_heads(&dOp, 1, dO, C, g, T, NH, HS);
            /* dA = dO V^T; then dropout(P) and dS from P and dA in one pass */
            ok = att_run(s, K_ATT_XY, g, NH, T, HS, dOp, qkvp[2], dA);
            if (ok) {
                cpu_attention_probs_backward(Pd, dS, P, dA, k, p, scale, g, NH, T);
                /* dV = dropout(P)^T dO;  dQ = dS K;  dK = dS^T Q */
                ok = att_run(s, K_ATT_PTX, g, NH, T, HS, Pd, dOp, dV) &&
                     att_run(s, K_ATT_PX, g, NH, T, HS, dS, qkvp[1], dQ) &&
                     att_run(s, K_ATT_PTX, g, NH, T, HS, dS, qkvp[0], dK);
            }
            if (ok) add_heads(dx, dQ, dK, dV, g, T, NH, HS);
        }
        if (!ok) { /* nothing of this group was added yet */
            g_fallbacks++;
            cpu_attention_backward(dx, dO, x, P, k, p, scratch, nthreads, g, T, C, NH);
        }
    }
}

void bf16_release(void) {
    pthread_mutex_lock(&g_lock);
    if (g_engine_state > 0) dnnl_engine_destroy(g_eng);
    g_engine_state = 0;
    pthread_mutex_unlock(&g_lock);
}
