/* optim.c: AdamW, learning-rate schedules and gradient clipping (see optim.h).
 *
 * The formulas follow torch 2.x's _single_tensor_adam (decoupled weight decay),
 * transformers' _get_*_schedule_with_warmup_lr_lambda and
 * torch.nn.utils.clip_grad_norm_, operation by operation, so the fp32 results
 * agree with PyTorch's to rounding (tests/test_optim.c checks 1e-6 relative). */
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Below this many floats a loop runs on one thread (a parallel region costs
 * more than it saves). */
#define OMP_MIN 32768

/* ---- AdamW ---- */

void bertc_adamw_opts_default(bertc_adamw_opts *o) {
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->weight_decay = 0.0;
}

static int seg_cmp(const void *a, const void *b) {
    const bertc_param_segment *x = a, *y = b;
    return (x->offset > y->offset) - (x->offset < y->offset);
}

int bertc_adamw_init(bertc_adamw *o, size_t n, const bertc_param_segment *seg, int nseg,
                     const bertc_adamw_opts *opts, bertc_err *err) {
    memset(o, 0, sizeof *o);
    if (nseg < 0 || (nseg > 0 && !seg))
        return bertc_fail(err, BERTC_ERR_ARG, "adamw: bad segment list (%d segments)", nseg);
    const bertc_adamw_opts *p = opts;
    if (!(p->beta1 >= 0 && p->beta1 < 1))
        return bertc_fail(err, BERTC_ERR_ARG, "adamw: beta1 must be in [0, 1) (got %g)", p->beta1);
    if (!(p->beta2 >= 0 && p->beta2 < 1))
        return bertc_fail(err, BERTC_ERR_ARG, "adamw: beta2 must be in [0, 1) (got %g)", p->beta2);
    if (!(p->eps > 0 && isfinite(p->eps)))
        return bertc_fail(err, BERTC_ERR_ARG, "adamw: eps must be positive (got %g)", p->eps);
    if (!(p->weight_decay >= 0 && isfinite(p->weight_decay)))
        return bertc_fail(err, BERTC_ERR_ARG, "adamw: weight decay must be >= 0 (got %g)", p->weight_decay);
    size_t bytes;
    if (bertc_mul_size(n ? n : 1, sizeof(float), &bytes) != 0)
        return bertc_fail(err, BERTC_ERR_NOMEM, "adamw: %zu parameters overflow a size", n);
    bertc_param_segment *s = malloc(sizeof *s * (size_t)(nseg ? nseg : 1));
    o->m = calloc(1, bytes);
    o->v = calloc(1, bytes);
    if (!s || !o->m || !o->v) {
        free(s);
        bertc_adamw_free(o);
        return bertc_fail(err, BERTC_ERR_NOMEM, "adamw: cannot allocate the moments of %zu parameters", n);
    }
    if (nseg) memcpy(s, seg, sizeof *s * (size_t)nseg);
    qsort(s, (size_t)nseg, sizeof *s, seg_cmp);
    size_t end = 0;
    for (int i = 0; i < nseg; i++) {
        if (s[i].count > n || s[i].offset > n - s[i].count || s[i].offset < end) {
            size_t off = s[i].offset, cnt = s[i].count;
            free(s);
            bertc_adamw_free(o);
            return bertc_fail(err, BERTC_ERR_ARG,
                              "adamw: segment at offset %zu of %zu floats is outside the %zu "
                              "parameters or overlaps the one before", off, cnt, n);
        }
        end = s[i].offset + s[i].count;
    }
    o->n = n;
    o->seg = s;
    o->nseg = nseg;
    o->opts = *opts;
    return BERTC_OK;
}

void bertc_bert_decay_mask(int decay[BERT_NUM_PARAM_TENSORS]) {
    for (int i = 0; i < BERT_NUM_PARAM_TENSORS; i++) decay[i] = 0;
    /* Trainer.get_decay_parameter_names: everything except nn.LayerNorm
     * parameters and names containing "bias" (or "norm"). */
    const int yes[] = {BERT_WTE, BERT_WPE, BERT_WTT, BERT_QKVW, BERT_ATTOW, BERT_FCW,
                       BERT_FCPROJW, BERT_POOLW, BERT_CLSW};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) decay[yes[i]] = 1;
}

int bertc_adamw_init_bert(bertc_adamw *o, const bert_config *cfg, const bertc_adamw_opts *opts,
                          bertc_err *err) {
    size_t sizes[BERT_NUM_PARAM_TENSORS];
    int decay[BERT_NUM_PARAM_TENSORS];
    bertc_param_segment seg[BERT_NUM_PARAM_TENSORS];
    bert_param_sizes(sizes, cfg);
    bertc_bert_decay_mask(decay);
    size_t off = 0;
    for (int i = 0; i < BERT_NUM_PARAM_TENSORS; i++) {
        seg[i] = (bertc_param_segment){off, sizes[i], decay[i]};
        off += sizes[i];
    }
    return bertc_adamw_init(o, off, seg, BERT_NUM_PARAM_TENSORS, opts, err);
}

void bertc_adamw_free(bertc_adamw *o) {
    if (!o) return;
    free(o->m);
    free(o->v);
    free(o->seg);
    memset(o, 0, sizeof *o);
}

void bertc_adamw_reset(bertc_adamw *o) {
    if (o->n) {
        memset(o->m, 0, o->n * sizeof(float));
        memset(o->v, 0, o->n * sizeof(float));
    }
    o->step = 0;
}

void bertc_adamw_step(bertc_adamw *o, float *params, const float *grads, double lr) {
    bertc_adamw_step_scaled(o, params, grads, lr, 1.0f);
}

void bertc_adamw_step_scaled(bertc_adamw *o, float *params, const float *grads, double lr, float gscale) {
    o->step++;
    const bertc_adamw_opts *h = &o->opts;
    /* Scalars as torch forms them: Python doubles, rounded to float where they
     * meet an fp32 tensor. */
    const double bc1 = 1.0 - pow(h->beta1, (double)o->step);
    const double bc2 = 1.0 - pow(h->beta2, (double)o->step);
    const float decay_mul = (float)(1.0 - lr * h->weight_decay);
    const float w1 = (float)(1.0 - h->beta1);      /* lerp weight */
    const float b2 = (float)h->beta2;
    const float omb2 = (float)(1.0 - h->beta2);
    const float neg_step = (float)(-(lr / bc1));
    const float bc2_sqrt = (float)pow(bc2, 0.5);   /* Python: bias_correction2 ** 0.5 */
    const float eps = (float)h->eps;
    const int wd_on = h->weight_decay != 0.0;
    for (int s = 0; s < o->nseg; s++) {
        const size_t off = o->seg[s].offset, cnt = o->seg[s].count;
        const int decay = wd_on && o->seg[s].decay;
        float *restrict p = params + off, *restrict m = o->m + off, *restrict v = o->v + off;
        const float *restrict g = grads + off;
#pragma omp parallel for schedule(static) if (cnt > OMP_MIN)
        for (size_t i = 0; i < cnt; i++) {
            float pi = p[i];
            if (decay) pi *= decay_mul;
            /* the clipped gradient, as clip_grad_norm_ leaves it (exact when gscale is 1) */
            float gi = g[i] * gscale;
            /* exp_avg.lerp_(grad, 1-beta1): torch's vector kernel is
             * fmadd(weight, end - start, start) for weight < 0.5. */
            float mi = fmaf(w1, gi - m[i], m[i]);
            /* exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1-beta2) */
            float vi = v[i] * b2;
            vi = vi + omb2 * gi * gi;
            /* denom = exp_avg_sq.sqrt() / bc2_sqrt + eps;
             * param.addcdiv_(exp_avg, denom, value=-step_size) */
            float denom = sqrtf(vi) / bc2_sqrt + eps;
            p[i] = pi + neg_step * mi / denom;
            m[i] = mi;
            v[i] = vi;
        }
    }
}

/* ---- Schedules ---- */

static const char *const sched_names[] = {"linear", "cosine", "constant", "constant_with_warmup"};

int bertc_sched_parse(const char *name, int *kind, bertc_err *err) {
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, sched_names[i]) == 0) {
            *kind = i;
            return BERTC_OK;
        }
    return bertc_fail(err, BERTC_ERR_ARG,
                      "unknown lr schedule '%s': use linear, cosine, constant or constant_with_warmup",
                      name ? name : "(null)");
}

const char *bertc_sched_name(int kind) {
    return (kind >= 0 && kind < 4) ? sched_names[kind] : "unknown";
}

long bertc_warmup_steps(double warmup, long total_steps) {
    if (!(warmup > 0)) return 0;
    if (warmup >= 1) return warmup >= 9.2e18 ? 0 : (long)warmup;
    return (long)ceil((double)total_steps * warmup);
}

static long lmax(long a, long b) { return a > b ? a : b; }

double bertc_sched_lambda(const bertc_sched *s, long step) {
    const long W = s->warmup_steps, T = s->total_steps;
    switch (s->kind) {
    case BERTC_SCHED_CONSTANT:
        return 1.0;
    case BERTC_SCHED_CONSTANT_WITH_WARMUP:
        if (step < W) return (double)step / (double)lmax(1, W);
        return 1.0;
    case BERTC_SCHED_COSINE: {
        if (step < W) return (double)step / (double)lmax(1, W);
        double progress = (double)(step - W) / (double)lmax(1, T - W);
        double factor = 0.5 * (1.0 + cos(M_PI * s->num_cycles * 2.0 * progress));
        factor = factor * (1 - 0.0) + 0.0; /* min_lr_rate = 0 */
        return factor > 0 ? factor : 0.0;
    }
    case BERTC_SCHED_LINEAR:
    default: {
        if (step < W) return (double)step / (double)lmax(1, W);
        double r = (double)(T - step) / (double)lmax(1, T - W);
        return r > 0.0 ? r : 0.0;
    }
    }
}

double bertc_sched_lr(const bertc_sched *s, long step) {
    return s->base_lr * bertc_sched_lambda(s, step);
}

/* ---- Gradients ---- */

/* Sum of squares of x[0..n) in double with 8 fixed interleaved accumulators. */
static double sumsq_block(const float *x, size_t n) {
    double a[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) a[k] += (double)x[i + k] * (double)x[i + k];
    for (; i < n; i++) a[0] += (double)x[i] * (double)x[i];
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

double bertc_l2_norm(const float *x, size_t n) {
    /* NB fixed blocks regardless of threads, summed in order: deterministic. */
    enum { NB = 64 };
    double part[NB];
#pragma omp parallel for schedule(static) if (n > OMP_MIN)
    for (int b = 0; b < NB; b++) {
        size_t lo = n / NB * (size_t)b + (n % NB) * (size_t)b / NB;
        size_t hi = n / NB * (size_t)(b + 1) + (n % NB) * (size_t)(b + 1) / NB;
        part[b] = sumsq_block(x + lo, hi - lo);
    }
    double s = 0;
    for (int b = 0; b < NB; b++) s += part[b];
    return sqrt(s);
}

float bertc_clip_coef(double total, double max_norm) {
    if (!isfinite(total) || !(max_norm > 0)) return 1.0f;
    /* torch: clip_coef = max_norm / (total_norm + 1e-6) on an fp32 tensor, which
     * Tensor.__rtruediv__ evaluates as reciprocal(total + 1e-6) * max_norm. */
    float t = (float)total + 1e-6f;
    float coef = (1.0f / t) * (float)max_norm;
    return coef < 1.0f ? coef : 1.0f;
}

double bertc_clip_grad_norm(float *g, size_t n, double max_norm) {
    double total = bertc_l2_norm(g, n);
    float coef = bertc_clip_coef(total, max_norm);
    if (coef < 1.0f) bertc_scale(g, n, coef);
    return total;
}

void bertc_scale(float *x, size_t n, float s) {
#pragma omp parallel for schedule(static) if (n > OMP_MIN)
    for (size_t i = 0; i < n; i++) x[i] *= s;
}

int bertc_all_finite(const float *x, size_t n, size_t *first_bad) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) {
            if (first_bad) *first_bad = i;
            return 0;
        }
    return 1;
}
