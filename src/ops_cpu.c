/* ops_cpu.c: the fast kernels (see ops_cpu.h; the maths is in ops_ref.h).
 * OpenMP loops always use a static schedule and give each output element to one
 * thread, so results do not depend on timing. */
#include "ops_cpu.h"
#include "cpu_dispatch.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

/* Sums with 16 fixed partial sums: vectorisable without -ffast-math, and the
 * order is fixed, so the result is reproducible. */
static inline float sum_f(const float *x, int n) {
    float acc[16] = {0};
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++) acc[k] += x[i + k];
    float s = 0;
    for (; i < n; i++) s += x[i];
    for (int k = 0; k < 16; k++) s += acc[k];
    return s;
}

static inline float dot_f(const float *a, const float *b, int n) {
    float acc[16] = {0};
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++) acc[k] += a[i + k] * b[i + k];
    float s = 0;
    for (; i < n; i++) s += a[i] * b[i];
    for (int k = 0; k < 16; k++) s += acc[k];
    return s;
}

/* The largest of x[0..n) (NaNs ignored; -INFINITY when n = 0), with 16 lanes
 * so that it vectorises (GCC vectorises a max reduction only under
 * -ffinite-math-only). The maximum of a set does not depend on the order it is
 * taken in (+0 and -0 may swap, which changes no x - max). */
static inline float max_f(const float *x, int n) {
    float acc[16];
    for (int k = 0; k < 16; k++) acc[k] = -INFINITY;
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int k = 0; k < 16; k++) acc[k] = x[i + k] > acc[k] ? x[i + k] : acc[k];
    float m = -INFINITY;
    for (; i < n; i++) m = x[i] > m ? x[i] : m;
    /* the 16 lanes folded as a tree (4 vector steps, not a chain of 16 scalar
     * maxima: a softmax row is only T long); the maximum is exact in any order */
    for (int w = 8; w >= 1; w /= 2)
        for (int k = 0; k < w; k++) acc[k] = acc[k + w] > acc[k] ? acc[k + w] : acc[k];
    return acc[0] > m ? acc[0] : m;
}

/* Column block width for loops that reduce over rows into per-column sums. */
#define COLBLK 64

/* ---- embeddings ---- */

void cpu_embeddings_forward(float *out, const int *ids, const int *tt, const float *wte,
                            const float *wpe, const float *wtt, int B, int T, int C) {
    #pragma omp parallel for schedule(static)
    for (int bt = 0; bt < B * T; bt++) {
        int t = bt % T;
        float *o = out + (size_t)bt * C;
        const float *we = wte + (size_t)ids[bt] * C;
        const float *te = wtt + (size_t)(tt ? tt[bt] : 0) * C;
        const float *pe = wpe + (size_t)t * C;
        for (int i = 0; i < C; i++) o[i] = (we[i] + te[i]) + pe[i];
    }
}

void cpu_embeddings_backward(float *dwte, float *dwpe, float *dwtt, const float *dout,
                             const int *ids, const int *tt, int B, int T, int C) {
    /* Tokens repeat, so rows of dwte collide: split the work by columns instead. */
    int nblk = (C + COLBLK - 1) / COLBLK;
    #pragma omp parallel for schedule(static)
    for (int blk = 0; blk < nblk; blk++) {
        int c0 = blk * COLBLK, c1 = c0 + COLBLK < C ? c0 + COLBLK : C;
        for (int bt = 0; bt < B * T; bt++) {
            const float *d = dout + (size_t)bt * C;
            float *dwe = dwte + (size_t)ids[bt] * C;
            float *dte = dwtt + (size_t)(tt ? tt[bt] : 0) * C;
            float *dpe = dwpe + (size_t)(bt % T) * C;
            for (int i = c0; i < c1; i++) {
                dwe[i] += d[i];
                dte[i] += d[i];
                dpe[i] += d[i];
            }
        }
    }
}

/* ---- LayerNorm ---- */

static inline void layernorm_row(float *o, float *mean, float *rstd, const float *x,
                                 const float *w, const float *b, float eps, int C) {
    float m = sum_f(x, C) / C;
    float acc[16] = {0};
    int i = 0;
    for (; i + 16 <= C; i += 16)
        for (int k = 0; k < 16; k++) acc[k] += (x[i + k] - m) * (x[i + k] - m);
    float v = 0;
    for (; i < C; i++) v += (x[i] - m) * (x[i] - m);
    for (int k = 0; k < 16; k++) v += acc[k];
    float s = 1.0f / sqrtf(v / C + eps);
    for (i = 0; i < C; i++) o[i] = ((x[i] - m) * s) * w[i] + b[i];
    if (mean) *mean = m;
    if (rstd) *rstd = s;
}

void cpu_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                           const float *w, const float *b, float eps, int N, int C) {
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        layernorm_row(out + (size_t)n * C, mean ? mean + n : NULL, rstd ? rstd + n : NULL,
                      inp + (size_t)n * C, w, b, eps, C);
}

void cpu_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                            const float *inp, const float *w, const float *mean,
                            const float *rstd, int N, int C) {
    #pragma omp parallel
    {
        #pragma omp for schedule(static)
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C, *d = dout + (size_t)n * C;
            float *dx = dinp + (size_t)n * C;
            float m = mean[n], s = rstd[n];
            float ga[16] = {0}, gxa[16] = {0};
            int i = 0;
            for (; i + 16 <= C; i += 16)
                for (int k = 0; k < 16; k++) {
                    float g = d[i + k] * w[i + k];
                    ga[k] += g;
                    gxa[k] += g * ((x[i + k] - m) * s);
                }
            float gm = 0, gxm = 0;
            for (; i < C; i++) {
                float g = d[i] * w[i];
                gm += g;
                gxm += g * ((x[i] - m) * s);
            }
            for (int k = 0; k < 16; k++) { gm += ga[k]; gxm += gxa[k]; }
            gm /= C;
            gxm /= C;
            for (i = 0; i < C; i++) {
                float xhat = (x[i] - m) * s;
                dx[i] += s * (d[i] * w[i] - gm - xhat * gxm);
            }
        }
        int nblk = (C + COLBLK - 1) / COLBLK;
        #pragma omp for schedule(static)
        for (int blk = 0; blk < nblk; blk++) {
            int c0 = blk * COLBLK, c1 = c0 + COLBLK < C ? c0 + COLBLK : C;
            for (int n = 0; n < N; n++) {
                const float *x = inp + (size_t)n * C, *d = dout + (size_t)n * C;
                float m = mean[n], s = rstd[n];
                for (int i = c0; i < c1; i++) {
                    dw[i] += d[i] * ((x[i] - m) * s);
                    db[i] += d[i];
                }
            }
        }
    }
}

/* ---- matmul ---- */

/* Thread layout: OpenMP and a threaded OpenBLAS on the same cores fight (each
 * pool spins while the other works; perf showed ~20% of an inference in
 * libgomp's spin loop). So every GEMM here runs OpenBLAS single-threaded inside
 * our own OpenMP region, each thread computing a fixed block of the output
 * (a block of rows, or of columns when there are fewer rows than columns).
 * One thread pool, and the partition depends only on the shape and the thread
 * count, so results stay bit-for-bit repeatable. */
extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);

/* OpenBLAS's thread count belongs to the program: one linking libbertc may run
 * threaded OpenBLAS itself. So an op sets 1 for its own duration and puts the
 * caller's count back when it returns (blas_restore). OpenBLAS 0.3.21 (Debian 12)
 * has no per-thread setting (openblas_set_num_threads_local is newer), so while a
 * bertc op runs the count is 1 process-wide; bertc's CLI sets 1 once at start,
 * and then both calls are skipped. Inside an OpenMP parallel region (a caller's,
 * or an outer bertc op's) nothing is changed: the region's owner decides. */
static int blas_one_thread(void) {
    if (omp_in_parallel()) return 1;
    int prev = openblas_get_num_threads();
    if (prev != 1) openblas_set_num_threads(1);
    return prev;
}

static void blas_restore(int prev) {
    if (prev != 1) openblas_set_num_threads(prev);
}

/* A signal handler that runs while oneDNN's sgemm is in the middle of a
 * product corrupts the heap (seen on the AMX Xeon: SIGINT during `bertc eval`,
 * then "corrupted size vs. prev_size" in oneDNN's own free, in 4 runs of 6;
 * tests/test_eval_signal.sh). So every thread holds the asynchronous signals
 * while it runs oneDNN's sgemm; they are delivered when it lets go, at the end
 * of its block (dense products) or of its share of the heads (attention): a
 * stop flag set by a handler is then seen as before. Synchronous signals
 * (SIGSEGV, SIGFPE, ...) are never held. */
static void sig_hold(sigset_t *old) {
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
                               SIGALRM, SIGCHLD, SIGPIPE, SIGWINCH, SIGTSTP};
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) sigaddset(&set, sigs[i]);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static void sig_release(const sigset_t *old) { pthread_sigmask(SIG_SETMASK, old, NULL); }

/* 1, holding the signals in *held, when oneDNN's sgemm will run; else 0. */
static int sgemm_hold(sigset_t *held) {
    if (!cpu_sgemm_onednn()) return 0;
    sig_hold(held);
    return 1;
}

/* C(M,N) = alpha op(A) op(B) + beta C, row-major, op = transpose when ta/tb.
 * dnn: oneDNN's sgemm may run it (cpu_dispatch.h: on AVX-512 CPUs, and where
 * OpenBLAS fell back to pre-AVX2 kernels). Callers pass 1 only inside a
 * parallel construct (the blocks', or the attention's loop over heads), where
 * oneDNN runs single-threaded; a product of one block outside any stays with
 * OpenBLAS (one thread), since oneDNN would split it over the threads and its
 * sums would then depend on the thread count. */
static void gemm_rows(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                      const float *Bm, int ldb, float beta, float *Cm, int ldc, int dnn) {
    if (dnn && cpu_sgemm_onednn() && dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K, alpha, A, lda, Bm, ldb, beta, Cm,
                                         ldc) == dnnl_success)
        return;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                M, N, K, alpha, A, lda, Bm, ldb, beta, Cm, ldc);
}

/* As gemm_rows, split over the OpenMP threads in fixed blocks (128 rows, or 64
 * columns when there are fewer rows than columns) handed out dynamically: on a
 * shared machine a descheduled thread's blocks are taken by the running one,
 * where a static split into one block per thread waited a whole time slice at
 * the end of the region. Block edges do not depend on the thread count, so the
 * result is bit-for-bit the same for any number of threads. bias (N floats, or
 * NULL): each block first writes bias into its rows of C and accumulates onto
 * it (beta must then be 1), so the bias costs no extra parallel region. */
#define GEMM_ROWBLK 128
#define GEMM_COLBLK 64
static void gelu_rows(float *out, const float *inp, size_t n);
static void gemm_par_bias(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                          const float *Bm, int ldb, float beta, float *Cm, int ldc, const float *bias,
                          float *gelu_out) {
    if (M < 1 || N < 1) return;
    int blas_prev = blas_one_thread();
    int split_m = M >= N;
    int D = split_m ? M : N, chunk = split_m ? GEMM_ROWBLK : GEMM_COLBLK;
    int nblk = (D + chunk - 1) / chunk;
    int dnn = nblk > 1 || omp_get_level() > 0;
    #pragma omp parallel for schedule(dynamic, 1) if (nblk > 1 && !omp_in_parallel())
    for (int blk = 0; blk < nblk; blk++) {
        int d0 = blk * chunk, dn = D - d0 < chunk ? D - d0 : chunk;
        int m0 = split_m ? d0 : 0, mn = split_m ? dn : M, n0 = split_m ? 0 : d0, nn = split_m ? N : dn;
        if (bias)
            for (int i = m0; i < m0 + mn; i++)
                memcpy(Cm + (size_t)i * ldc + n0, bias + n0, (size_t)nn * sizeof *Cm);
        sigset_t held;
        int hold = dnn && sgemm_hold(&held);
        gemm_rows(ta, tb, mn, nn, K, alpha, ta ? A + m0 : A + (size_t)m0 * lda, lda,
                  tb ? Bm + (size_t)n0 * ldb : Bm + n0, ldb, beta, Cm + (size_t)m0 * ldc + n0, ldc, dnn);
        if (hold) sig_release(&held);
        if (gelu_out) /* the block's GELU while it is in cache (elementwise: the same bits) */
            for (int i = m0; i < m0 + mn; i++)
                gelu_rows(gelu_out + (size_t)i * ldc + n0, Cm + (size_t)i * ldc + n0, (size_t)nn);
    }
    blas_restore(blas_prev);
}

static void gemm_par(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *Bm, int ldb, float beta, float *Cm, int ldc) {
    gemm_par_bias(ta, tb, M, N, K, alpha, A, lda, Bm, ldb, beta, Cm, ldc, NULL, NULL);
}

void cpu_matmul_forward(float *out, const float *inp, const float *w, const float *b,
                        int N, int C, int OC) {
    gemm_par_bias(0, 1, N, OC, C, 1.0f, inp, C, w, C, b ? 1.0f : 0.0f, out, OC, b, NULL);
}

void cpu_matmul_backward(float *dinp, float *dw, float *db, const float *dout,
                         const float *inp, const float *w, int N, int C, int OC) {
    if (dinp) gemm_par(0, 0, N, C, OC, 1.0f, dout, OC, w, C, 1.0f, dinp, C);
    gemm_par(1, 0, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dw, C);
    if (db) cpu_bias_backward(db, dout, N, OC);
}

void cpu_bias_backward(float *db, const float *dout, int N, int OC) {
    int nblk = (OC + COLBLK - 1) / COLBLK;
    #pragma omp parallel for schedule(static)
    for (int blk = 0; blk < nblk; blk++) {
        int o0 = blk * COLBLK, o1 = o0 + COLBLK < OC ? o0 + COLBLK : OC;
        float acc[COLBLK] = {0};
        for (int n = 0; n < N; n++) {
            const float *d = dout + (size_t)n * OC;
            for (int o = o0; o < o1; o++) acc[o - o0] += d[o];
        }
        for (int o = o0; o < o1; o++) db[o] += acc[o - o0];
    }
}

/* ---- vectorisable exp and erf ---- */

/* libm's expf/erff are scalar calls (perf: erff alone was ~10% of an inference).
 * These are branch-free, so the loops that call them vectorise (AVX-512 here),
 * and accurate to about 1 ulp (tests/test_ops.c checks them against double
 * exp/erf and libm on a dense grid). */

static inline float f_from_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* e^x: x = n ln2 + r, |r| <= ln2/2 (Cody-Waite), Cephes' degree-6 polynomial,
 * 2^n put into the exponent field. Underflows to 0 below -87.3 (no denormals:
 * the callers are softmax and erfc, where a result under 1e-38 is 0). */
static inline __attribute__((always_inline)) float exp_v(float x) {
    float xc = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);
    float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to nearest */
    float r = fmaf(n, -0.693359375f, xc);
    r = fmaf(n, 2.12194440e-4f, r);
    float pl = 1.9875691500e-4f;
    pl = fmaf(pl, r, 1.3981999507e-3f);
    pl = fmaf(pl, r, 8.3334519073e-3f);
    pl = fmaf(pl, r, 4.1665795894e-2f);
    pl = fmaf(pl, r, 1.6666665459e-1f);
    pl = fmaf(pl, r, 5.0000001201e-1f);
    float y = fmaf(pl, r * r, r) + 1.0f;
    y *= f_from_bits((uint32_t)((int32_t)n + 127) << 23);
    return x < -87.3f ? 0.0f : y;
}

/* erf(x) from two minimax fits by Norbert Juffa (the coefficients of his answer
 * "Efficient faithfully rounded implementation of error function erff",
 * stackoverflow.com/a/35148199, CC BY-SA 3.0): x + x P(x^2) for |x| <= 0.927734375,
 * 1 - e^{Q(|x|)} above, where Q ~ log erfc. No division and one exp (GELU, whose
 * cost this is, was 16% of an int8 forward on Zen 3 with the SunPro fits). Both
 * sides are computed and one kept per lane; |x| is clamped at 4, where erfc < 2^-25 and the result rounds to 1
 * (and Q stays monotone). Within 1.01 ulp of erf over [-8, 8] with exp_v
 * (tests/test_ops.c checks <= 2). */
static inline __attribute__((always_inline)) float erf_v(float x) {
    float t = fabsf(x), s = x * x;
    float tc = t < 4.0f ? t : 4.0f;
    float q = fmaf(-1.72853470e-5f, tc, 3.83197126e-4f);
    q = fmaf(q, tc * tc, fmaf(-3.88396438e-3f, tc, 2.42546219e-2f));
    q = fmaf(q, tc, -1.06777877e-1f);
    q = fmaf(q, tc, -6.34846687e-1f);
    q = fmaf(q, tc, -1.28717512e-1f);
    q = fmaf(q, tc, -tc);
    float big = copysignf(1.0f - exp_v(q), x);
    float p = -5.96761703e-4f;
    p = fmaf(p, s, 4.99119423e-3f);
    p = fmaf(p, s, -2.67681349e-2f);
    p = fmaf(p, s, 1.12819925e-1f);
    p = fmaf(p, s, -3.76125336e-1f);
    p = fmaf(p, s, 1.28379166e-1f);
    float y = t > 0.927734375f ? big : fmaf(p, x, x);
    return x != x ? x : y;
}

void cpu_exp(float *out, const float *x, size_t n) {
    #pragma omp simd
    for (size_t i = 0; i < n; i++) out[i] = exp_v(x[i]);
}

void cpu_erf(float *out, const float *x, size_t n) {
    #pragma omp simd
    for (size_t i = 0; i < n; i++) out[i] = erf_v(x[i]);
}

/* ---- GELU (exact erf form) ---- */

/* gelu and gelu' of x given e = erf(x / sqrt 2), so that one erf can serve both */
static inline __attribute__((always_inline)) float gelu_e(float x, float e) { return 0.5f * x * (1.0f + e); }
static inline __attribute__((always_inline)) float gelu_grad_e(float x, float e) {
    float cdf = 0.5f * (1.0f + e);
    float pdf = exp_v(-0.5f * x * x) * 0.3989422804014327f;
    return cdf + x * pdf;
}
static inline __attribute__((always_inline)) float erf_s2(float x) { return erf_v(x * (float)M_SQRT1_2); }
static inline __attribute__((always_inline)) float gelu(float x) { return gelu_e(x, erf_s2(x)); }
static inline __attribute__((always_inline)) float gelu_grad(float x) { return gelu_grad_e(x, erf_s2(x)); }

/* The GELU loops are compute-bound (an exp and two polynomials an element):
 * 512-bit vectors where the level has AVX-512. GCC prefers 256 bits under
 * -march=native on Intel; the same bits either way, and 32 x 128 x 1536 GELUs
 * take 2.3 ms instead of 3.8 on the AMX Xeon (docs/performance.md). */
#ifdef __AVX512F__
#pragma GCC push_options
#pragma GCC target("prefer-vector-width=512")
#endif
void cpu_gelu_forward(float *out, const float *inp, size_t n) {
    #pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) out[i] = gelu(inp[i]);
}

static void gelu_rows(float *out, const float *inp, size_t n) {
    #pragma omp simd
    for (size_t i = 0; i < n; i++) out[i] = gelu(inp[i]);
}

void cpu_gelu_serial(float *out, const float *inp, size_t n) { gelu_rows(out, inp, n); }

void cpu_gelu_forward_keep_grad(float *out, float *grad, const float *inp, size_t n) {
    #pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) {
        float x = inp[i], e = erf_s2(x); /* gelu() and gelu_grad() sharing the one erf */
        out[i] = gelu_e(x, e);
        grad[i] = gelu_grad_e(x, e);
    }
}

void cpu_gelu_backward_from_grad(float *grad, const float *dout, size_t n) {
    /* 0 + ...: what cpu_gelu_backward adds to a zeroed dinp, -0 included */
    #pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) grad[i] = 0.0f + dout[i] * grad[i];
}

void cpu_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n) {
    #pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < n; i++) dinp[i] += dout[i] * gelu_grad(inp[i]);
}

#ifdef __AVX512F__
#pragma GCC pop_options
#endif

void cpu_matmul_gelu_forward(float *pre, float *out, const float *inp, const float *w,
                             const float *b, int N, int C, int OC) {
    float *y = pre ? pre : out;
    gemm_par_bias(0, 1, N, OC, C, 1.0f, inp, C, w, C, b ? 1.0f : 0.0f, y, OC, b, out);
}

/* ---- dropout and residuals ---- */

/* The blocks of rng.h's mask scheme over the threads (a serial draw of the
 * attention masks, B NH T^2 elements a layer, was ~3% of a bf16 training step
 * with the other core idle); the same bits as ref_dropout_mask's serial loop. */
void cpu_dropout_mask(uint8_t *keep, bertc_rng *r, float p, size_t n) {
    uint64_t base = bertc_rng_next(r);
    size_t nb = (n + BERTC_MASK_BLOCK - 1) / BERTC_MASK_BLOCK;
    #pragma omp parallel for schedule(static) if (nb > 1)
    for (size_t j = 0; j < nb; j++) {
        size_t i0 = j * BERTC_MASK_BLOCK, cnt = n - i0 < BERTC_MASK_BLOCK ? n - i0 : BERTC_MASK_BLOCK;
        bertc_mask_block(keep + i0, base, j, p, cnt);
    }
}

void cpu_dropout_forward(float *out, const float *inp, const uint8_t *keep, float p, size_t n) {
    if (!keep) {
        if (out != inp) memmove(out, inp, n * sizeof *out);
        return;
    }
    float scale = 1.0f / (1.0f - p);
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) out[i] = keep[i] ? inp[i] * scale : 0.0f;
}

void cpu_dropout_backward(float *dinp, const float *dout, const uint8_t *keep, float p, size_t n) {
    float scale = keep ? 1.0f / (1.0f - p) : 1.0f;
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++)
        if (!keep || keep[i]) dinp[i] += dout[i] * scale;
}

void cpu_residual_forward(float *out, const float *a, const float *b, size_t n) {
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void cpu_residual_backward(float *da, float *db, const float *dout, size_t n) {
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        da[i] += dout[i];
        db[i] += dout[i];
    }
}

void cpu_residual_layernorm_forward(float *res, float *out, float *mean, float *rstd,
                                    const float *inp, const float *proj, const uint8_t *keep,
                                    float p, const float *w, const float *b, float eps,
                                    int N, int C) {
    float scale = keep ? 1.0f / (1.0f - p) : 1.0f;
    #pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++) {
        size_t off = (size_t)n * C;
        float *r = res + off;
        const float *x = inp + off, *y = proj + off;
        if (keep) {
            const uint8_t *k = keep + off;
            for (int i = 0; i < C; i++) r[i] = x[i] + (k[i] ? y[i] * scale : 0.0f);
        } else {
            for (int i = 0; i < C; i++) r[i] = x[i] + y[i];
        }
        layernorm_row(out + off, mean ? mean + n : NULL, rstd ? rstd + n : NULL, r, w, b, eps, C);
    }
}

/* ---- attention ---- */

/* Per (sequence, head), as four small single-threaded sgemms (the OpenMP loop
 * over B*NH is the parallelism): S = scale Q K^T, masked softmax in place,
 * out = dropout(P) V; the backward likewise. Keys after the last real token of a
 * sequence get probability exactly 0 (exp(min - max) underflows, docs/numerics.md),
 * so they are not computed at all: Tk = last real key + 1 columns take part and
 * the rest of each probability row is written as 0. Query rows are all computed
 * (padded rows attend to the real keys, as in transformers). */

size_t cpu_attention_scratch_floats(int T, int HS) {
    (void)HS;
    /* two (T,T) matrices: dropout(P) and dP/dS */
    return 2 * (size_t)T * T + (size_t)T;
}

/* Keys that take part: 1 + the last key with mask 1 (all T when none is). */
static int keys_used(const int *mk, int T) {
    int tk = T;
    while (tk > 0 && !mk[tk - 1]) tk--;
    return tk ? tk : T;
}

/* The first Tk scores of a row, in place: the mask added, then exp(x - max);
 * returns 1 / their sum (the softmax's scale). */
static inline float softmax_exp_row(float *row, const int *mk, int Tk) {
    #pragma omp simd
    for (int t2 = 0; t2 < Tk; t2++) row[t2] += mk[t2] ? 0.0f : BERT_MASK_VALUE;
    float maxv = max_f(row, Tk);
    #pragma omp simd
    for (int t2 = 0; t2 < Tk; t2++) row[t2] = exp_v(row[t2] - maxv);
    return 1.0f / sum_f(row, Tk);
}

/* One row of scores (T) into probabilities, in place: the mask added to the
 * first Tk, their softmax, and 0 for the rest. */
static inline void softmax_row(float *row, const int *mk, int T, int Tk) {
    float inv = softmax_exp_row(row, mk, Tk);
    for (int t2 = 0; t2 < Tk; t2++) row[t2] *= inv;
    for (int t2 = Tk; t2 < T; t2++) row[t2] = 0.0f;
}

void cpu_attention_forward(float *out, float *att, const uint8_t *keep, float p,
                           const float *qkv, const int *mask, float *scratch, int nthreads,
                           int B, int T, int C, int NH) {
    int HS = C / NH, ld = 3 * C;
    float scale = (float)(1.0 / sqrt((double)HS));
    float dscale = keep ? 1.0f / (1.0f - p) : 1.0f;
    size_t per = cpu_attention_scratch_floats(T, HS);
    int blas_prev = blas_one_thread();
    #pragma omp parallel num_threads(nthreads)
    {
        sigset_t held;
        int hold = sgemm_hold(&held); /* see sig_hold */
        #pragma omp for schedule(dynamic, 1)
        for (int bh = 0; bh < B * NH; bh++) {
            int b = bh / NH, h = bh % NH;
            float *S = scratch + (size_t)omp_get_thread_num() * per;
            float *A = S + (size_t)T * T;
            float *P = att ? att + (size_t)bh * T * T : S;
            const float *Q = qkv + (size_t)b * T * ld + (size_t)h * HS;
            const int *mk = mask + (size_t)b * T;
            int Tk = keys_used(mk, T);
            /* P[:, :Tk] = scale Q K^T */
            gemm_rows(0, 1, T, Tk, HS, scale, Q, ld, Q + C, ld, 0.0f, P, T, 1);
            for (int t = 0; t < T; t++) softmax_row(P + (size_t)t * T, mk, T, Tk);
            const float *Pd = P;
            if (keep) {
                const uint8_t *kp = keep + (size_t)bh * T * T;
                for (size_t i = 0; i < (size_t)T * T; i++) A[i] = kp[i] ? P[i] * dscale : 0.0f;
                Pd = A;
            }
            /* out[:, head] = dropout(P)[:, :Tk] V[:Tk] */
            gemm_rows(0, 0, T, HS, Tk, 1.0f, Pd, T, Q + 2 * C, ld, 0.0f,
                      out + (size_t)b * T * C + (size_t)h * HS, C, 1);
        }
        if (hold) sig_release(&held);
    }
    blas_restore(blas_prev);
}

void cpu_attention_backward(float *dqkv, const float *dout, const float *qkv, const float *att,
                            const uint8_t *keep, float p, float *scratch, int nthreads,
                            int B, int T, int C, int NH) {
    int HS = C / NH, ld = 3 * C;
    float scale = (float)(1.0 / sqrt((double)HS));
    float dscale = keep ? 1.0f / (1.0f - p) : 1.0f;
    size_t per = cpu_attention_scratch_floats(T, HS);
    int blas_prev = blas_one_thread();
    #pragma omp parallel num_threads(nthreads)
    {
        sigset_t held;
        int hold = sgemm_hold(&held); /* see sig_hold */
        #pragma omp for schedule(dynamic, 1)
        for (int bh = 0; bh < B * NH; bh++) {
            int b = bh / NH, h = bh % NH;
            float *A = scratch + (size_t)omp_get_thread_num() * per; /* (T,T) dropout(P) */
            float *dS = A + (size_t)T * T;                           /* (T,T) dA, then dS */
            const float *P = att + (size_t)bh * T * T;
            const uint8_t *kp = keep ? keep + (size_t)bh * T * T : NULL;
            const float *Q = qkv + (size_t)b * T * ld + (size_t)h * HS;
            float *dQ = dqkv + (size_t)b * T * ld + (size_t)h * HS;
            const float *dO = dout + (size_t)b * T * C + (size_t)h * HS;
            /* Keys whose probability is 0 in every row (the padded ones) add nothing
             * to any gradient: dV gets P^T dO, dK and dQ get dS = P (...). */
            int Tk = 0;
            for (int t = 0; t < T; t++) {
                const float *row = P + (size_t)t * T;
                int last = T;
                while (last > Tk && row[last - 1] == 0.0f) last--;
                Tk = last;
            }
            if (Tk == 0) continue;
            const float *Pd = P;
            if (kp) {
                for (int t = 0; t < T; t++)
                    for (int t2 = 0; t2 < Tk; t2++) {
                        size_t i = (size_t)t * T + t2;
                        A[i] = kp[i] ? P[i] * dscale : 0.0f;
                    }
                Pd = A;
            }
            /* dV[:Tk] += dropout(P)[:, :Tk]^T dO */
            gemm_rows(1, 0, Tk, HS, T, 1.0f, Pd, T, dO, C, 1.0f, dQ + 2 * C, ld, 1);
            /* dA = dO V^T, then dP = dA keep/(1-p), dS = P (dP - sum(P dP)) scale */
            gemm_rows(0, 1, T, Tk, HS, 1.0f, dO, C, Q + 2 * C, ld, 0.0f, dS, T, 1);
            for (int t = 0; t < T; t++) {
                const float *pr = P + (size_t)t * T;
                float *dr = dS + (size_t)t * T;
                if (kp) {
                    const uint8_t *kr = kp + (size_t)t * T;
                    for (int t2 = 0; t2 < Tk; t2++) dr[t2] = kr[t2] ? dr[t2] * dscale : 0.0f;
                }
                float pdp = dot_f(pr, dr, Tk);
                for (int t2 = 0; t2 < Tk; t2++) dr[t2] = pr[t2] * (dr[t2] - pdp) * scale;
            }
            /* dQ += dS K[:Tk];  dK[:Tk] += dS^T Q */
            gemm_rows(0, 0, T, HS, Tk, 1.0f, dS, T, Q + C, ld, 1.0f, dQ, ld, 1);
            gemm_rows(1, 0, Tk, HS, T, 1.0f, dS, T, Q, ld, 1.0f, dQ + C, ld, 1);
        }
        if (hold) sig_release(&held);
    }
    blas_restore(blas_prev);
}

/* ---- attention's elementwise parts around batched bf16 products (ops_bf16.c) ---- */

/* Round to nearest even, as ops_bf16.c's bf16_from_float (NaN stays NaN);
 * branch-free, so the row loops below vectorise. */
static inline uint16_t bf16_rne(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint16_t r = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    return (u & 0x7fffffffu) > 0x7f800000u ? (uint16_t)((u >> 16) | 0x40) : r;
}

/* softmax_row then the bf16 rounding of dropout(P), with the scaling, the
 * rounding and the zero tail in one pass (three passes fewer); the same
 * operations on each element as softmax_row and the pass after it, so the same
 * bits. keep_probs 0: P itself is not stored back (inference). */
static inline void softmax_row_bf16(float *row, uint16_t *pd, const uint8_t *kr, float dscale, const int *mk, int T,
                                    int Tk, int keep_probs) {
    float inv = softmax_exp_row(row, mk, Tk);
    /* without dropout (kr NULL) dscale is 1 and v * 1 is v, bit for bit */
    #pragma omp simd
    for (int t2 = 0; t2 < Tk; t2++) {
        float v = row[t2] * inv;
        if (keep_probs) row[t2] = v;
        pd[t2] = bf16_rne(!kr || kr[t2] ? v * dscale : 0.0f);
    }
    for (int t2 = Tk; t2 < T; t2++) {
        if (keep_probs) row[t2] = 0.0f;
        pd[t2] = 0;
    }
}

void cpu_attention_probs(float *S, uint16_t *Pd, const uint8_t *keep, float p, const int *mask, int G, int NH, int T,
                         int keep_probs) {
    float dscale = keep ? 1.0f / (1.0f - p) : 1.0f;
    #pragma omp parallel for schedule(static)
    for (int gh = 0; gh < G * NH; gh++) {
        const int *mk = mask + (size_t)(gh / NH) * T;
        int Tk = keys_used(mk, T);
        for (int t = 0; t < T; t++) {
            size_t off = ((size_t)gh * T + t) * T;
            softmax_row_bf16(S + off, Pd + off, keep ? keep + off : NULL, dscale, mk, T, Tk, keep_probs);
        }
    }
}

void cpu_attention_probs_backward(uint16_t *Pd, uint16_t *dS, const float *P, float *dA, const uint8_t *keep,
                                  float p, float scale, int G, int NH, int T) {
    float dscale = keep ? 1.0f / (1.0f - p) : 1.0f;
    #pragma omp parallel for schedule(static)
    for (int gh = 0; gh < G * NH; gh++) {
        for (int t = 0; t < T; t++) {
            size_t off = ((size_t)gh * T + t) * T;
            const float *pr = P + off;
            float *dr = dA + off;
            uint16_t *pd = Pd + off, *sr = dS + off;
            if (keep) {
                const uint8_t *kr = keep + off;
                #pragma omp simd
                for (int t2 = 0; t2 < T; t2++) {
                    pd[t2] = bf16_rne(kr[t2] ? pr[t2] * dscale : 0.0f);
                    dr[t2] = kr[t2] ? dr[t2] * dscale : 0.0f;
                }
            } else {
                #pragma omp simd
                for (int t2 = 0; t2 < T; t2++) pd[t2] = bf16_rne(pr[t2]);
            }
            float pdp = dot_f(pr, dr, T);
            #pragma omp simd
            for (int t2 = 0; t2 < T; t2++) sr[t2] = bf16_rne(pr[t2] * (dr[t2] - pdp) * scale);
        }
    }
}

/* ---- pooler ---- */

void cpu_pooler_forward(float *out, const float *inp, const float *w, const float *b,
                        int B, int T, int C) {
    #pragma omp parallel for schedule(static) collapse(2)
    for (int bb = 0; bb < B; bb++)
        for (int o = 0; o < C; o++)
            out[(size_t)bb * C + o] =
                tanhf(b[o] + dot_f(inp + (size_t)bb * T * C, w + (size_t)o * C, C));
}

void cpu_pooler_backward(float *dinp, float *dw, float *db, const float *dout, const float *out,
                         const float *inp, const float *w, int B, int T, int C) {
    #pragma omp parallel
    {
        #pragma omp for schedule(static)
        for (int bb = 0; bb < B; bb++) {
            float *dx = dinp + (size_t)bb * T * C;
            for (int o = 0; o < C; o++) {
                float y = out[(size_t)bb * C + o];
                float dpre = dout[(size_t)bb * C + o] * (1.0f - y * y);
                const float *wr = w + (size_t)o * C;
                for (int i = 0; i < C; i++) dx[i] += dpre * wr[i];
            }
        }
        #pragma omp for schedule(static)
        for (int o = 0; o < C; o++) {
            float *dwr = dw + (size_t)o * C;
            float dbs = 0.0f;
            for (int bb = 0; bb < B; bb++) {
                float y = out[(size_t)bb * C + o];
                float dpre = dout[(size_t)bb * C + o] * (1.0f - y * y);
                const float *x = inp + (size_t)bb * T * C;
                for (int i = 0; i < C; i++) dwr[i] += dpre * x[i];
                dbs += dpre;
            }
            db[o] += dbs;
        }
    }
}

/* ---- the heads' softmax and cross-entropy (tiny: plain loops, in double) ---- */

/* max and sum of exp(x - max) of n values x[0], x[stride], ... (in double) */
static double row_max_sumexp(const float *x, int n, size_t stride, double *sum) {
    double mx = x[0];
    for (int i = 1; i < n; i++) mx = fmax(mx, (double)x[(size_t)i * stride]);
    double s = 0;
    for (int i = 0; i < n; i++) s += exp((double)x[(size_t)i * stride] - mx);
    *sum = s;
    return mx;
}

void cpu_softmax_forward(float *probs, const float *logits, int N, int NL) {
    for (int r = 0; r < N; r++) {
        const float *z = logits + (size_t)r * NL;
        double sum, mx = row_max_sumexp(z, NL, 1, &sum);
        for (int i = 0; i < NL; i++) probs[(size_t)r * NL + i] = (float)(exp((double)z[i] - mx) / sum);
    }
}

void cpu_softmax_double(double *p, int n) {
    double mx = p[0], sum = 0;
    for (int i = 1; i < n; i++) mx = fmax(mx, p[i]);
    for (int i = 0; i < n; i++) sum += (p[i] = exp(p[i] - mx));
    for (int i = 0; i < n; i++) p[i] /= sum;
}

double cpu_crossentropy_row(const float *x, int n, size_t stride, int y, float *g, double scale) {
    double sum, lse = row_max_sumexp(x, n, stride, &sum);
    lse += log(sum);
    if (g)
        for (int i = 0; i < n; i++)
            g[(size_t)i * stride] += (float)(scale * (exp((double)x[(size_t)i * stride] - lse) - (i == y ? 1.0 : 0.0)));
    return lse - (double)x[(size_t)y * stride];
}
