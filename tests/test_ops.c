/* test_ops.c: every fast kernel (ops_cpu, the production twins of the mask draw,
 * softmax and cross-entropy included) against its reference (ops_ref) on
 * random inputs, forward and backward, and every reference backward against
 * central finite differences of its forward.
 *
 * The backward kernels accumulate, so gradients start from the same random
 * values on both sides: that checks the "+=" contract too. */
#include "../src/ops_cpu.h"
#include "../src/ops_ref.h"
#include "../src/rng.h"
#include "test.h"

#include <omp.h>
#include <stdint.h>

/* Tolerances: |fast - ref| <= ATOL + RTOL * |ref| elementwise.
 *   fast vs ref: the fast path sums in fp32 in another order (sgemm blocks, 16
 *   partial sums) where the reference sums in double; with O(1) inputs and
 *   reductions of <= 64 terms the difference is a few fp32 ulps of the largest
 *   partial sum, far below 1e-4 relative.
 *   finite differences: central differences on the reference in fp32 with step
 *   FD_EPS; the loss sum(out * g) is accumulated in double, so the error is the
 *   fp32 rounding of out (~1e-7 * |out| per element, over <= a few hundred
 *   elements) divided by 2*FD_EPS, plus O(FD_EPS^2) curvature: about 1e-3. */
#define FAST_ATOL 1e-5
#define FAST_RTOL 1e-4
#define FD_EPS 1e-3f
#define FD_ATOL 3e-3
#define FD_RTOL 1e-2
#define FD_PROBES 24 /* random coordinates probed per input tensor */

static bertc_rng rng;

static float *rnd(size_t n, float scale) {
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = bertc_rng_normal(&rng) * scale;
    return x;
}
static float *dup(const float *x, size_t n) {
    float *y = malloc(n * sizeof *y);
    memcpy(y, x, n * sizeof *y);
    return y;
}

static void close_(const char *what, const float *fast, const float *ref, size_t n,
                   double atol, double rtol) {
    size_t bad = 0, first = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)fast[i] - ref[i]);
        double lim = atol + rtol * fabs((double)ref[i]);
        if (!(d <= lim)) {
            if (!bad) first = i;
            bad++;
        }
        if (d > worst || d != d) worst = d;
    }
    CHECK(bad == 0, "%s: %zu of %zu differ (first [%zu] fast %.9g ref %.9g; max |diff| %.3g)",
          what, bad, n, first, fast[first], ref[first], worst);
}
#define CLOSE(what, a, b, n) close_(what, a, b, n, FAST_ATOL, FAST_RTOL)

/* ---- finite differences: f() recomputes a scalar loss from the current inputs ---- */
typedef double (*loss_fn)(void *ctx);

static double dotg(const float *out, const float *g, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)out[i] * g[i];
    return s;
}

/* Coordinates where the fp32 forward is flat but the true (and PyTorch's autograd)
 * derivative is not: Q and K of a fully padded sequence, whose scores all round
 * to BERT_MASK_VALUE. Probes skip them; fast vs ref still compares them. */
static int (*fd_skip)(size_t i);

static void fd_check(const char *what, loss_fn f, void *ctx, float *x, size_t n, const float *grad) {
    int bad = 0;
    char msg[256] = "";
    for (int k = 0; k < FD_PROBES; k++) {
        size_t i = bertc_rng_below(&rng, n);
        if (fd_skip && fd_skip(i)) { k--; continue; }
        float save = x[i];
        x[i] = save + FD_EPS;
        double lp = f(ctx);
        x[i] = save - FD_EPS;
        double lm = f(ctx);
        x[i] = save;
        /* divide by the step actually taken in fp32 */
        double fd = (lp - lm) / ((double)(save + FD_EPS) - (double)(save - FD_EPS));
        double an = grad[i];
        if (!(fabs(fd - an) <= FD_ATOL + FD_RTOL * fabs(an))) {
            if (!bad) snprintf(msg, sizeof msg, "[%zu] finite difference %.6g, backward %.6g", i, fd, an);
            bad++;
        }
    }
    CHECK(bad == 0, "%s: %d of %d probes off: %s", what, bad, FD_PROBES, msg);
}

/* Dimensions: small, odd where it matters. */
enum { B = 3, T = 7, C = 48, NH = 4, OC = 40, N = B * T, V = 11, P = 9, TT = 2, NL = 5 };
static const int lens[B] = {7, 4, 0}; /* the last sequence is all padding */
static int ids[N], tts[N], mask[N];

/* ---------- matmul ---------- */
static struct { float *out, *inp, *w, *b, *g; } mm;
static double mm_loss(void *c) {
    (void)c;
    ref_matmul_forward(mm.out, mm.inp, mm.w, mm.b, N, C, OC);
    return dotg(mm.out, mm.g, (size_t)N * OC);
}
static void test_matmul(void) {
    mm.inp = rnd((size_t)N * C, 1), mm.w = rnd((size_t)OC * C, 0.2f), mm.b = rnd(OC, 1);
    mm.g = rnd((size_t)N * OC, 1);
    float *o1 = rnd((size_t)N * OC, 1), *o2 = rnd((size_t)N * OC, 1);
    mm.out = o1;
    ref_matmul_forward(o1, mm.inp, mm.w, mm.b, N, C, OC);
    cpu_matmul_forward(o2, mm.inp, mm.w, mm.b, N, C, OC);
    CLOSE("matmul forward", o2, o1, (size_t)N * OC);
    ref_matmul_forward(o1, mm.inp, mm.w, NULL, N, C, OC);
    cpu_matmul_forward(o2, mm.inp, mm.w, NULL, N, C, OC);
    CLOSE("matmul forward, no bias", o2, o1, (size_t)N * OC);
    float *dx1 = rnd((size_t)N * C, 1), *dw1 = rnd((size_t)OC * C, 1), *db1 = rnd(OC, 1);
    float *dx2 = dup(dx1, (size_t)N * C), *dw2 = dup(dw1, (size_t)OC * C), *db2 = dup(db1, OC);
    ref_matmul_backward(dx1, dw1, db1, mm.g, mm.inp, mm.w, N, C, OC);
    cpu_matmul_backward(dx2, dw2, db2, mm.g, mm.inp, mm.w, N, C, OC);
    CLOSE("matmul backward dinp", dx2, dx1, (size_t)N * C);
    CLOSE("matmul backward dw", dw2, dw1, (size_t)OC * C);
    CLOSE("matmul backward db", db2, db1, OC);
    memset(dx1, 0, (size_t)N * C * 4), memset(dw1, 0, (size_t)OC * C * 4), memset(db1, 0, OC * 4);
    ref_matmul_backward(dx1, dw1, db1, mm.g, mm.inp, mm.w, N, C, OC);
    fd_check("matmul d/dinp", mm_loss, NULL, mm.inp, (size_t)N * C, dx1);
    fd_check("matmul d/dw", mm_loss, NULL, mm.w, (size_t)OC * C, dw1);
    fd_check("matmul d/db", mm_loss, NULL, mm.b, OC, db1);
    free(o1), free(o2), free(dx1), free(dw1), free(db1), free(dx2), free(dw2), free(db2);
}

/* ---------- matmul + GELU ---------- */
static double mg_loss(void *c) {
    (void)c;
    ref_matmul_gelu_forward(NULL, mm.out, mm.inp, mm.w, mm.b, N, C, OC);
    return dotg(mm.out, mm.g, (size_t)N * OC);
}
/* cpu_matmul_gelu_forward applies GELU to each block of the product while it
 * is in cache: the same bits as the product then cpu_gelu_forward, for shapes
 * split by rows (several 128-row blocks) and by columns (64-column blocks). */
static void test_gelu_blocks(void) {
    static const int shapes[][3] = {{300, 48, 200}, {5, 40, 300}, {129, 16, 64}};
    for (int k = 0; k < 3; k++) {
        int n = shapes[k][0], c = shapes[k][1], oc = shapes[k][2];
        size_t no = (size_t)n * oc;
        float *x = rnd((size_t)n * c, 1), *w = rnd((size_t)oc * c, 0.2f), *b = rnd((size_t)oc, 0.5f);
        float *y = malloc(no * 4), *g = malloc(no * 4), *pre = malloc(no * 4), *o = malloc(no * 4);
        cpu_matmul_forward(y, x, w, b, n, c, oc);
        cpu_gelu_forward(g, y, no);
        cpu_matmul_gelu_forward(pre, o, x, w, b, n, c, oc);
        CHECK(memcmp(pre, y, no * 4) == 0 && memcmp(o, g, no * 4) == 0,
              "matmul+gelu %dx%dx%d: GELU per block differs from matmul then gelu", n, c, oc);
        cpu_matmul_gelu_forward(NULL, o, x, w, b, n, c, oc);
        CHECK(memcmp(o, g, no * 4) == 0, "matmul+gelu %dx%dx%d in place differs", n, c, oc);
        cpu_gelu_serial(o, y, no);
        CHECK(memcmp(o, g, no * 4) == 0, "cpu_gelu_serial differs from cpu_gelu_forward (%zu values)", no);
        /* the backward's fused pair: gelu and gelu' with one erf, then dout * gelu',
         * the same bits as gelu_forward and gelu_backward into a zeroed dinp */
        float *kg = malloc(no * 4), *dout = rnd(no, 1), *dref = calloc(no, 4);
        dout[0] = 0.0f, y[0] = -1.0f; /* 0 x a negative gelu' must give +0, as 0 + (-0) does */
        cpu_gelu_forward(g, y, no);
        cpu_gelu_backward(dref, y, dout, no);
        cpu_gelu_forward_keep_grad(o, kg, y, no);
        cpu_gelu_backward_from_grad(kg, dout, no);
        CHECK(memcmp(o, g, no * 4) == 0 && memcmp(kg, dref, no * 4) == 0,
              "gelu_forward_keep_grad + gelu_backward_from_grad differ from gelu_forward + gelu_backward (%zu values)", no);
        free(kg), free(dout), free(dref);
        free(x), free(w), free(b), free(y), free(g), free(pre), free(o);
    }
}

static void test_gelu(void) {
    size_t n = (size_t)N * OC;
    float *pre1 = rnd(n, 1), *pre2 = rnd(n, 1), *o1 = rnd(n, 1), *o2 = rnd(n, 1), *o3 = rnd(n, 1);
    ref_matmul_gelu_forward(pre1, o1, mm.inp, mm.w, mm.b, N, C, OC);
    cpu_matmul_gelu_forward(pre2, o2, mm.inp, mm.w, mm.b, N, C, OC);
    CLOSE("matmul+gelu forward pre", pre2, pre1, n);
    CLOSE("matmul+gelu forward out", o2, o1, n);
    cpu_matmul_gelu_forward(NULL, o3, mm.inp, mm.w, mm.b, N, C, OC);
    CHECK(memcmp(o3, o2, n * 4) == 0, "matmul+gelu in place differs from the kept-pre version");
    /* exact erf GELU, not the tanh approximation: gelu(1) = 0.8413447... */
    float one = 1.0f, g1, g2;
    ref_gelu_forward(&g1, &one, 1);
    cpu_gelu_forward(&g2, &one, 1);
    CHECK(fabsf(g1 - 0.84134475f) < 1e-6f && fabsf(g2 - 0.84134475f) < 1e-6f,
          "gelu(1) = %.8f / %.8f, want 0.84134475 (erf form)", g1, g2);
    float *d1 = rnd(n, 1), *d2 = dup(d1, n);
    ref_gelu_backward(d1, pre1, mm.g, n);
    cpu_gelu_backward(d2, pre1, mm.g, n);
    CLOSE("gelu backward", d2, d1, n);
    /* through the matmul: chain gelu backward into matmul backward */
    float *dpre = calloc(n, 4), *dx = calloc((size_t)N * C, 4), *dw = calloc((size_t)OC * C, 4), *db = calloc(OC, 4);
    ref_gelu_backward(dpre, pre1, mm.g, n);
    ref_matmul_backward(dx, dw, db, dpre, mm.inp, mm.w, N, C, OC);
    mm.out = o1;
    fd_check("matmul+gelu d/dinp", mg_loss, NULL, mm.inp, (size_t)N * C, dx);
    fd_check("matmul+gelu d/dw", mg_loss, NULL, mm.w, (size_t)OC * C, dw);
    fd_check("matmul+gelu d/db", mg_loss, NULL, mm.b, OC, db);
    free(pre1), free(pre2), free(o1), free(o2), free(o3), free(d1), free(d2);
    free(dpre), free(dx), free(dw), free(db);
}

/* ---------- LayerNorm, residual + dropout + LayerNorm ---------- */
static struct { float *out, *mean, *rstd, *inp, *w, *b, *g; } ln;
static double ln_loss(void *c) {
    (void)c;
    ref_layernorm_forward(ln.out, ln.mean, ln.rstd, ln.inp, ln.w, ln.b, 1e-12f, N, C);
    return dotg(ln.out, ln.g, (size_t)N * C);
}
static void test_layernorm(void) {
    size_t n = (size_t)N * C;
    ln.inp = rnd(n, 2), ln.w = rnd(C, 1), ln.b = rnd(C, 1), ln.g = rnd(n, 1);
    for (size_t i = 0; i < n; i++) ln.inp[i] += 3.0f; /* a mean far from 0 */
    ln.out = rnd(n, 1), ln.mean = rnd(N, 1), ln.rstd = rnd(N, 1);
    float *o2 = rnd(n, 1), *m2 = rnd(N, 1), *r2 = rnd(N, 1);
    ref_layernorm_forward(ln.out, ln.mean, ln.rstd, ln.inp, ln.w, ln.b, 1e-12f, N, C);
    cpu_layernorm_forward(o2, m2, r2, ln.inp, ln.w, ln.b, 1e-12f, N, C);
    CLOSE("layernorm forward", o2, ln.out, n);
    CLOSE("layernorm mean", m2, ln.mean, N);
    CLOSE("layernorm rstd", r2, ln.rstd, N);
    float *dx1 = rnd(n, 1), *dw1 = rnd(C, 1), *db1 = rnd(C, 1);
    float *dx2 = dup(dx1, n), *dw2 = dup(dw1, C), *db2 = dup(db1, C);
    ref_layernorm_backward(dx1, dw1, db1, ln.g, ln.inp, ln.w, ln.mean, ln.rstd, N, C);
    cpu_layernorm_backward(dx2, dw2, db2, ln.g, ln.inp, ln.w, ln.mean, ln.rstd, N, C);
    CLOSE("layernorm backward dinp", dx2, dx1, n);
    CLOSE("layernorm backward dw", dw2, dw1, C);
    CLOSE("layernorm backward db", db2, db1, C);
    memset(dx1, 0, n * 4), memset(dw1, 0, C * 4), memset(db1, 0, C * 4);
    ref_layernorm_backward(dx1, dw1, db1, ln.g, ln.inp, ln.w, ln.mean, ln.rstd, N, C);
    fd_check("layernorm d/dinp", ln_loss, NULL, ln.inp, n, dx1);
    fd_check("layernorm d/dw", ln_loss, NULL, ln.w, C, dw1);
    fd_check("layernorm d/db", ln_loss, NULL, ln.b, C, db1);

    /* residual + dropout + LayerNorm, with and without a keep mask; res in place */
    float *proj = rnd(n, 1), *res1 = rnd(n, 1), *res2 = rnd(n, 1);
    uint8_t *keep = malloc(n);
    ref_dropout_mask(keep, &rng, 0.25f, n);
    for (int withkeep = 0; withkeep < 2; withkeep++) {
        const uint8_t *k = withkeep ? keep : NULL;
        ref_residual_layernorm_forward(res1, ln.out, ln.mean, ln.rstd, ln.inp, proj, k, 0.25f,
                                       ln.w, ln.b, 1e-12f, N, C);
        cpu_residual_layernorm_forward(res2, o2, m2, r2, ln.inp, proj, k, 0.25f, ln.w, ln.b,
                                       1e-12f, N, C);
        CLOSE(withkeep ? "residual+dropout+layernorm res" : "residual+layernorm res", res2, res1, n);
        CLOSE(withkeep ? "residual+dropout+layernorm out" : "residual+layernorm out", o2, ln.out, n);
        float *inplace = dup(proj, n);
        cpu_residual_layernorm_forward(inplace, o2, NULL, NULL, ln.inp, inplace, k, 0.25f, ln.w,
                                       ln.b, 1e-12f, N, C);
        CHECK(memcmp(inplace, res2, n * 4) == 0, "residual+layernorm with res == proj differs");
        free(inplace);
    }
    /* the production mask draw: the same flags as the reference from the same rng
     * state, and the rng advanced alike (the next draw agrees too) */
    {
        bertc_rng r1, r2;
        bertc_rng_seed(&r1, 99), bertc_rng_seed(&r2, 99);
        uint8_t *k1 = malloc(n), *k2 = malloc(n);
        for (int round = 0; round < 2; round++) {
            ref_dropout_mask(k1, &r1, 0.25f, n);
            cpu_dropout_mask(k2, &r2, 0.25f, n);
            CHECK(memcmp(k1, k2, n) == 0, "cpu_dropout_mask != ref_dropout_mask (draw %d)", round);
        }
        CHECK(memcmp(&r1, &r2, sizeof r1) == 0, "cpu_dropout_mask left the rng elsewhere");
        free(k1), free(k2);
    }
    /* several blocks (rng.h's scheme): the same bits at 1 and 2 threads as the
     * reference's serial loop, the rng advanced by one draw whatever n is, the
     * kept fraction 1 - p, and p = 0 / 1 keeping all / none */
    {
        size_t nm = 3 * (size_t)BERTC_MASK_BLOCK + 17;
        uint8_t *k1 = malloc(nm), *k2 = malloc(nm);
        int saved = omp_get_max_threads();
        for (int th = 1; th <= 2; th++) {
            bertc_rng r1, r2, r3;
            bertc_rng_seed(&r1, 5), bertc_rng_seed(&r2, 5), bertc_rng_seed(&r3, 5);
            omp_set_num_threads(th);
            ref_dropout_mask(k1, &r1, 0.1f, nm);
            memset(k2, 7, nm);
            cpu_dropout_mask(k2, &r2, 0.1f, nm);
            CHECK(memcmp(k1, k2, nm) == 0, "cpu_dropout_mask over %zu (%d threads) != ref_dropout_mask", nm, th);
            (void)bertc_rng_next(&r3);
            CHECK(memcmp(&r2, &r3, sizeof r2) == 0, "a %zu-element mask advanced the rng by more than one draw", nm);
        }
        omp_set_num_threads(saved);
        size_t kept = 0;
        for (size_t i = 0; i < nm; i++) kept += k2[i];
        double frac = (double)kept / (double)nm;
        CHECK(fabs(frac - 0.9) < 0.004, "p = 0.1 kept %.4f of %zu (want 0.9 within 0.004, ~6 sigma)", frac, nm);
        /* the two halves of each 64-bit draw are not the same bits */
        size_t same = 0;
        for (size_t i = 0; i + 1 < nm; i += 2) same += k2[i] == k2[i + 1];
        CHECK(fabs((double)same / (nm / 2) - 0.82) < 0.01, "pairs agree %.4f (independent halves: 0.82)",
              (double)same / (nm / 2));
        bertc_rng r;
        bertc_rng_seed(&r, 1);
        cpu_dropout_mask(k2, &r, 0.0f, nm);
        size_t all = 0;
        for (size_t i = 0; i < nm; i++) all += k2[i];
        cpu_dropout_mask(k1, &r, 1.0f, nm);
        size_t none = 0;
        for (size_t i = 0; i < nm; i++) none += k1[i];
        CHECK(all == nm && none == 0, "p = 0 kept %zu of %zu, p = 1 kept %zu", all, nm, none);
        free(k1), free(k2);
    }
    /* dropout: the kept fraction and the 1/(1-p) scale */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) kept += keep[i];
    CHECK(kept > n * 0.6 && kept < n * 0.9, "dropout p=0.25 kept %zu of %zu", kept, n);
    float *dd1 = rnd(n, 1), *dd2 = dup(dd1, n);
    ref_dropout_forward(res1, proj, keep, 0.25f, n);
    cpu_dropout_forward(res2, proj, keep, 0.25f, n);
    CHECK(memcmp(res1, res2, n * 4) == 0, "dropout forward fast != ref");
    CHECK(res1[0] == (keep[0] ? proj[0] / 0.75f : 0.0f) || fabsf(res1[0] - proj[0] / 0.75f) < 1e-6f,
          "dropout scale is not 1/(1-p)");
    ref_dropout_backward(dd1, ln.g, keep, 0.25f, n);
    cpu_dropout_backward(dd2, ln.g, keep, 0.25f, n);
    CHECK(memcmp(dd1, dd2, n * 4) == 0, "dropout backward fast != ref");
    ref_residual_backward(dd1, dx1, ln.g, n);
    cpu_residual_backward(dd2, dx2, ln.g, n);
    CLOSE("residual backward", dd2, dd1, n);
    free(o2), free(m2), free(r2), free(dx1), free(dw1), free(db1), free(dx2), free(dw2), free(db2);
    free(proj), free(res1), free(res2), free(keep), free(dd1), free(dd2);
}

/* ---------- attention ---------- */
static struct { float *out, *att, *qkv, *g, *scratch; const uint8_t *keep; } at;
static double at_loss(void *c) {
    (void)c;
    ref_attention_forward(at.out, at.att, at.keep, 0.2f, at.qkv, mask, at.scratch, 1, B, T, C, NH);
    return dotg(at.out, at.g, (size_t)N * C);
}
static int skip_padded_qk(size_t i) {
    size_t row = i / (3 * C), col = i % (3 * C);
    return lens[row / T] == 0 && col < 2 * C;
}
static void test_attention(void) {
    size_t nq = (size_t)N * 3 * C, na = (size_t)B * NH * T * T, no = (size_t)N * C;
    int nthr = omp_get_max_threads();
    size_t per = cpu_attention_scratch_floats(T, C / NH);
    at.scratch = rnd(per * nthr, 1);
    at.qkv = rnd(nq, 1), at.g = rnd(no, 1), at.out = rnd(no, 1), at.att = rnd(na, 1);
    float *o2 = rnd(no, 1), *a2 = rnd(na, 1), *o3 = rnd(no, 1);
    uint8_t *keep = malloc(na);
    ref_dropout_mask(keep, &rng, 0.2f, na);
    for (int withkeep = 0; withkeep < 2; withkeep++) {
        at.keep = withkeep ? keep : NULL;
        const char *tag = withkeep ? " (dropout)" : "";
        char what[96];
        ref_attention_forward(at.out, at.att, at.keep, 0.2f, at.qkv, mask, at.scratch, 1, B, T, C, NH);
        cpu_attention_forward(o2, a2, at.keep, 0.2f, at.qkv, mask, at.scratch, nthr, B, T, C, NH);
        snprintf(what, sizeof what, "attention forward out%s", tag);
        CLOSE(what, o2, at.out, no);
        snprintf(what, sizeof what, "attention forward probs%s", tag);
        CLOSE(what, a2, at.att, na);
        cpu_attention_forward(o3, NULL, at.keep, 0.2f, at.qkv, mask, at.scratch, nthr, B, T, C, NH);
        CHECK(memcmp(o3, o2, no * 4) == 0, "attention forward without saved probs differs%s", tag);
        /* padded keys get probability exactly 0; a fully padded row is uniform (as HF) */
        int badmask = 0;
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++)
                for (int t = 0; t < T; t++)
                    for (int t2 = 0; t2 < T; t2++) {
                        float pr = a2[(((size_t)b * NH + h) * T + t) * T + t2];
                        if (lens[b] == 0 ? fabsf(pr - 1.0f / T) > 1e-6f : (t2 >= lens[b] && pr != 0.0f)) badmask++;
                    }
        CHECK(badmask == 0, "attention mask: %d probabilities wrong on padded keys", badmask);

        float *d1 = rnd(nq, 1), *d2 = dup(d1, nq);
        ref_attention_backward(d1, at.g, at.qkv, at.att, at.keep, 0.2f, at.scratch, 1, B, T, C, NH);
        cpu_attention_backward(d2, at.g, at.qkv, at.att, at.keep, 0.2f, at.scratch, nthr, B, T, C, NH);
        snprintf(what, sizeof what, "attention backward%s", tag);
        CLOSE(what, d2, d1, nq);
        memset(d1, 0, nq * 4);
        ref_attention_backward(d1, at.g, at.qkv, at.att, at.keep, 0.2f, at.scratch, 1, B, T, C, NH);
        snprintf(what, sizeof what, "attention d/dqkv%s", tag);
        fd_skip = skip_padded_qk;
        fd_check(what, at_loss, NULL, at.qkv, nq, d1);
        fd_skip = NULL;
        free(d1), free(d2);
    }
    free(at.scratch), free(at.qkv), free(at.g), free(at.out), free(at.att), free(o2), free(a2), free(o3), free(keep);
}

/* ---------- embeddings, pooler, softmax + cross-entropy ---------- */
static struct { float *out, *inp, *w, *b, *g; } pl;
static double pl_loss(void *c) {
    (void)c;
    ref_pooler_forward(pl.out, pl.inp, pl.w, pl.b, B, T, C);
    return dotg(pl.out, pl.g, (size_t)B * C);
}
static struct { float *logits, *cw; int labels[B]; } ce;
static double ce_loss(void *c) {
    (void)c;
    return ref_crossentropy_forward(NULL, ce.logits, ce.labels, ce.cw, B, NL);
}
static void test_heads(void) {
    size_t n = (size_t)N * C;
    float *wte = rnd((size_t)V * C, 1), *wpe = rnd((size_t)P * C, 1), *wtt = rnd((size_t)TT * C, 1);
    float *e1 = rnd(n, 1), *e2 = rnd(n, 1), *g = rnd(n, 1);
    ref_embeddings_forward(e1, ids, tts, wte, wpe, wtt, B, T, C);
    cpu_embeddings_forward(e2, ids, tts, wte, wpe, wtt, B, T, C);
    CHECK(memcmp(e1, e2, n * 4) == 0, "embeddings forward fast != ref");
    ref_embeddings_forward(e1, ids, NULL, wte, wpe, wtt, B, T, C);
    cpu_embeddings_forward(e2, ids, NULL, wte, wpe, wtt, B, T, C);
    CHECK(memcmp(e1, e2, n * 4) == 0, "embeddings forward (no token types) fast != ref");
    CHECK(e1[C + 5] == (wte[(size_t)ids[1] * C + 5] + wtt[5]) + wpe[C + 5], "embeddings sum");
    float *a1 = rnd((size_t)V * C, 1), *b1 = rnd((size_t)P * C, 1), *c1 = rnd((size_t)TT * C, 1);
    float *a2 = dup(a1, (size_t)V * C), *b2 = dup(b1, (size_t)P * C), *c2 = dup(c1, (size_t)TT * C);
    ref_embeddings_backward(a1, b1, c1, g, ids, tts, B, T, C);
    cpu_embeddings_backward(a2, b2, c2, g, ids, tts, B, T, C);
    CLOSE("embeddings backward dwte", a2, a1, (size_t)V * C);
    CLOSE("embeddings backward dwpe", b2, b1, (size_t)P * C);
    CLOSE("embeddings backward dwtt", c2, c1, (size_t)TT * C);

    pl.inp = rnd(n, 1), pl.w = rnd((size_t)C * C, 0.15f), pl.b = rnd(C, 0.5f), pl.g = rnd((size_t)B * C, 1);
    pl.out = rnd((size_t)B * C, 1);
    float *p2 = rnd((size_t)B * C, 1);
    ref_pooler_forward(pl.out, pl.inp, pl.w, pl.b, B, T, C);
    cpu_pooler_forward(p2, pl.inp, pl.w, pl.b, B, T, C);
    CLOSE("pooler forward", p2, pl.out, (size_t)B * C);
    float *dx1 = rnd(n, 1), *dw1 = rnd((size_t)C * C, 1), *db1 = rnd(C, 1);
    float *dx2 = dup(dx1, n), *dw2 = dup(dw1, (size_t)C * C), *db2 = dup(db1, C);
    ref_pooler_backward(dx1, dw1, db1, pl.g, pl.out, pl.inp, pl.w, B, T, C);
    cpu_pooler_backward(dx2, dw2, db2, pl.g, pl.out, pl.inp, pl.w, B, T, C);
    CLOSE("pooler backward dinp", dx2, dx1, n);
    CLOSE("pooler backward dw", dw2, dw1, (size_t)C * C);
    CLOSE("pooler backward db", db2, db1, C);
    memset(dx1, 0, n * 4), memset(dw1, 0, (size_t)C * C * 4), memset(db1, 0, C * 4);
    ref_pooler_backward(dx1, dw1, db1, pl.g, pl.out, pl.inp, pl.w, B, T, C);
    fd_check("pooler d/dinp", pl_loss, NULL, pl.inp, n, dx1);
    fd_check("pooler d/dw", pl_loss, NULL, pl.w, (size_t)C * C, dw1);
    fd_check("pooler d/db", pl_loss, NULL, pl.b, C, db1);

    ce.logits = rnd((size_t)B * NL, 2);
    float cw[NL] = {0.5f, 2.0f, 1.0f, 3.0f, 0.25f};
    ce.labels[0] = 1, ce.labels[1] = 4, ce.labels[2] = 1;
    float probs[B * NL], dl[B * NL] = {0}, losses[B];
    ref_softmax_forward(probs, ce.logits, B, NL);
    for (int b = 0; b < B; b++) {
        double s = 0;
        for (int i = 0; i < NL; i++) s += probs[b * NL + i];
        CHECK(fabs(s - 1) < 1e-6, "softmax row %d sums to %.9f", b, s);
    }
    for (int weighted = 0; weighted < 2; weighted++) {
        ce.cw = weighted ? cw : NULL;
        float loss = ref_crossentropy_forward(losses, ce.logits, ce.labels, ce.cw, B, NL);
        double num = 0, den = 0;
        for (int b = 0; b < B; b++) {
            double w = ce.cw ? ce.cw[ce.labels[b]] : 1;
            CHECK(fabs(losses[b] + log(probs[b * NL + ce.labels[b]])) < 1e-5, "cross-entropy l_b");
            num += w * losses[b], den += w;
        }
        CHECK(fabs(loss - num / den) < 1e-6, "cross-entropy weighted mean %.7f vs %.7f", loss, num / den);
        memset(dl, 0, sizeof dl);
        ref_crossentropy_softmax_backward(dl, probs, ce.labels, ce.cw, B, NL);
        fd_check(weighted ? "cross-entropy (class weights) d/dlogits" : "cross-entropy d/dlogits",
                 ce_loss, NULL, ce.logits, (size_t)B * NL, dl);
        /* the production cross-entropy (heads.c's weighted mean over cpu_crossentropy_row)
         * against the reference: per-row loss, mean, and gradient */
        float dl2[B * NL] = {0}, rows[B];
        double num2 = 0;
        for (int b = 0; b < B; b++) {
            double w = ce.cw ? ce.cw[ce.labels[b]] : 1;
            rows[b] = (float)cpu_crossentropy_row(ce.logits + b * NL, NL, 1, ce.labels[b], dl2 + b * NL, w / den);
            num2 += w * rows[b];
        }
        CLOSE(weighted ? "cpu cross-entropy rows (class weights)" : "cpu cross-entropy rows", rows, losses, B);
        CHECK(fabs(num2 / den - loss) < 1e-6, "cpu cross-entropy mean %.7f vs ref %.7f", num2 / den, loss);
        CLOSE(weighted ? "cpu cross-entropy d/dlogits (class weights)" : "cpu cross-entropy d/dlogits", dl2, dl,
              (size_t)B * NL);
        /* strided rows (QA's start/end interleave): the same numbers read every 2nd float */
        float inter[2 * NL], gs[2 * NL] = {0};
        for (int i = 0; i < NL; i++) inter[2 * i] = ce.logits[i], inter[2 * i + 1] = 1e9f;
        double l0 = cpu_crossentropy_row(inter, NL, 2, ce.labels[0], gs, 1.0);
        CHECK(fabs(l0 - losses[0]) < 1e-5 && gs[1] == 0.0f, "strided cross-entropy row %.7f vs %.7f", l0,
              losses[0]);
    }
    float probs2[B * NL];
    cpu_softmax_forward(probs2, ce.logits, B, NL);
    CLOSE("cpu softmax", probs2, probs, (size_t)B * NL);
    free(wte), free(wpe), free(wtt), free(e1), free(e2), free(g), free(a1), free(b1), free(c1);
    free(a2), free(b2), free(c2), free(pl.inp), free(pl.w), free(pl.b), free(pl.g), free(pl.out);
    free(p2), free(dx1), free(dw1), free(db1), free(dx2), free(dw2), free(db2), free(ce.logits);
}

/* ---------- vectorised erf and exp ---------- */

/* Distance in units in the last place of the float nearest to `exact`. */
static double ulps(float got, double exact) {
    float e = (float)exact;
    double ulp = (double)nextafterf(fabsf(e), INFINITY) - fabsf(e);
    if (e == 0.0f) ulp = 1.4e-45;
    return fabs((double)got - exact) / ulp;
}

/* cpu_erf / cpu_exp on a dense grid against double-precision erf/exp (the
 * truth) and libm's erff/expf. Limits: within 2 ulps of the truth (libm's erff
 * itself is within 1); erf over every float step of 2^-17 in [-8, 8] plus
 * every float in [0.925, 0.932] (the seam of its two fits) and [3.99, 4.01]
 * (where |x| is clamped), exp over
 * [-87, 88] in steps of 2^-12. */
static void test_erf_exp(void) {
    size_t n = (size_t)16 << 17, k = 0;
    float *x = malloc((n + 300000) * sizeof *x), *y = malloc((n + 300000) * sizeof *y);
    for (size_t i = 0; i < n; i++) x[k++] = -8.0f + (float)i / (1 << 17);
    for (float v = 0.925f; v < 0.932f && k < n + 150000; v = nextafterf(v, 1)) x[k++] = v;
    for (float v = 3.99f; v < 4.01f && k < n + 300000; v = nextafterf(v, 5)) x[k++] = -v;
    cpu_erf(y, x, k);
    double worst = 0, worst_libm = 0;
    size_t wi = 0;
    for (size_t i = 0; i < k; i++) {
        double u = ulps(y[i], erf((double)x[i]));
        if (u > worst) { worst = u; wi = i; }
        double ul = ulps(erff(x[i]), erf((double)x[i]));
        if (ul > worst_libm) worst_libm = ul;
    }
    printf("erf: %zu points, worst %.2f ulp at x = %.9g (libm erff: %.2f ulp)\n", k, worst, x[wi], worst_libm);
    CHECK(worst <= 2.0, "cpu_erf: %.2f ulps from erf at x = %.9g (want <= 2)", worst, x[wi]);
    float sp[5] = {0.0f, -0.0f, INFINITY, -INFINITY, 20.0f}, so[5];
    cpu_erf(so, sp, 5);
    CHECK(so[0] == 0.0f && so[1] == 0.0f && so[2] == 1.0f && so[3] == -1.0f && so[4] == 1.0f,
          "cpu_erf special values: %g %g %g %g %g", so[0], so[1], so[2], so[3], so[4]);

    k = 0;
    for (float v = -87.0f; v <= 88.0f; v += 1.0f / 4096) x[k++] = v;
    cpu_exp(y, x, k);
    worst = 0;
    for (size_t i = 0; i < k; i++) {
        double u = ulps(y[i], exp((double)x[i]));
        if (u > worst) { worst = u; wi = i; }
    }
    printf("exp: %zu points, worst %.2f ulp at x = %.9g\n", k, worst, x[wi]);
    CHECK(worst <= 2.0, "cpu_exp: %.2f ulps from exp at x = %.9g (want <= 2)", worst, x[wi]);
    float big[3] = {-3.4028234663852886e+38f, -1000.0f, 0.0f}, bo[3];
    cpu_exp(bo, big, 3);
    CHECK(bo[0] == 0.0f && bo[1] == 0.0f && bo[2] == 1.0f, "cpu_exp(-huge, -1000, 0) = %g %g %g", bo[0], bo[1], bo[2]);
    free(x), free(y);
}

int main(void) {
    bertc_rng_seed(&rng, 1234);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            ids[b * T + t] = (int)bertc_rng_below(&rng, V);
            tts[b * T + t] = t >= 3;
            mask[b * T + t] = t < lens[b];
        }
    test_matmul();
    test_erf_exp();
    test_gelu();
    test_gelu_blocks();
    test_layernorm();
    test_attention();
    test_heads();
    free(mm.inp), free(mm.w), free(mm.b), free(mm.g);
    free(ln.inp), free(ln.w), free(ln.b), free(ln.g), free(ln.out), free(ln.mean), free(ln.rstd);
    return TEST_END();
}
