/* ops_ref.c: the reference kernels (see ops_ref.h). Sums are accumulated in
 * double so the reference is, if anything, more exact than the fast kernels and
 * than PyTorch; loops are written for clarity first. */
#include "ops_ref.h"
#include "bert_ops.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* sum_i a[i] * b[i] in double, with 8 partial sums so the compiler can vectorise it. */
static double dot(const float *a, const float *b, int n) {
    double acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += (double)a[i + k] * (double)b[i + k];
    double s = 0;
    for (; i < n; i++) s += (double)a[i] * (double)b[i];
    for (int k = 0; k < 8; k++) s += acc[k];
    return s;
}

/* ---- embeddings ---- */

void ref_embeddings_forward(float *out, const int *ids, const int *tt, const float *wte,
                            const float *wpe, const float *wtt, int B, int T, int C) {
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++) {
            size_t bt = (size_t)b * T + t;
            float *o = out + bt * C;
            const float *we = wte + (size_t)ids[bt] * C;
            const float *te = wtt + (size_t)(tt ? tt[bt] : 0) * C;
            const float *pe = wpe + (size_t)t * C;
            for (int i = 0; i < C; i++) o[i] = (we[i] + te[i]) + pe[i];
        }
    }
}

void ref_embeddings_backward(float *dwte, float *dwpe, float *dwtt, const float *dout,
                             const int *ids, const int *tt, int B, int T, int C) {
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++) {
            size_t bt = (size_t)b * T + t;
            const float *d = dout + bt * C;
            float *dwe = dwte + (size_t)ids[bt] * C;
            float *dte = dwtt + (size_t)(tt ? tt[bt] : 0) * C;
            float *dpe = dwpe + (size_t)t * C;
            for (int i = 0; i < C; i++) {
                dwe[i] += d[i];
                dte[i] += d[i];
                dpe[i] += d[i];
            }
        }
    }
}

/* ---- LayerNorm ---- */

void ref_layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                           const float *w, const float *b, float eps, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        double m = 0;
        for (int i = 0; i < C; i++) m += x[i];
        m /= C;
        double v = 0;
        for (int i = 0; i < C; i++) v += (x[i] - m) * (x[i] - m);
        v /= C;
        double s = 1.0 / sqrt(v + eps);
        float *o = out + (size_t)n * C;
        for (int i = 0; i < C; i++) o[i] = (float)((x[i] - m) * s) * w[i] + b[i];
        if (mean) mean[n] = (float)m;
        if (rstd) rstd[n] = (float)s;
    }
}

void ref_layernorm_backward(float *dinp, float *dw, float *db, const float *dout,
                            const float *inp, const float *w, const float *mean,
                            const float *rstd, int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C, *d = dout + (size_t)n * C;
        float *dx = dinp + (size_t)n * C;
        double m = mean[n], s = rstd[n];
        /* With xhat = (x - m) s and g = d * w:
         * dx = s * (g - mean(g) - xhat * mean(g * xhat)). */
        double gmean = 0, gxmean = 0;
        for (int i = 0; i < C; i++) {
            double xhat = (x[i] - m) * s, g = (double)d[i] * w[i];
            gmean += g;
            gxmean += g * xhat;
        }
        gmean /= C;
        gxmean /= C;
        for (int i = 0; i < C; i++) {
            double xhat = (x[i] - m) * s, g = (double)d[i] * w[i];
            dx[i] += (float)(s * (g - gmean - xhat * gxmean));
            dw[i] += (float)(d[i] * xhat);
            db[i] += d[i];
        }
    }
}

/* ---- matmul ---- */

void ref_matmul_forward(float *out, const float *inp, const float *w, const float *b,
                        int N, int C, int OC) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        for (int o = 0; o < OC; o++)
            out[(size_t)n * OC + o] = (float)((b ? (double)b[o] : 0.0) + dot(x, w + (size_t)o * C, C));
    }
}

void ref_matmul_backward(float *dinp, float *dw, float *db, const float *dout,
                         const float *inp, const float *w, int N, int C, int OC) {
    if (dinp) {
        for (int n = 0; n < N; n++) {
            float *dx = dinp + (size_t)n * C;
            for (int o = 0; o < OC; o++) {
                float d = dout[(size_t)n * OC + o];
                const float *wr = w + (size_t)o * C;
                for (int i = 0; i < C; i++) dx[i] += d * wr[i];
            }
        }
    }
    for (int o = 0; o < OC; o++) {
        float *dwr = dw + (size_t)o * C;
        double bsum = 0;
        for (int n = 0; n < N; n++) {
            float d = dout[(size_t)n * OC + o];
            const float *x = inp + (size_t)n * C;
            for (int i = 0; i < C; i++) dwr[i] += d * x[i];
            bsum += d;
        }
        if (db) db[o] += (float)bsum;
    }
}

/* ---- GELU ---- */

void ref_gelu_forward(float *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double x = inp[i];
        out[i] = (float)(0.5 * x * (1.0 + erf(x * M_SQRT1_2)));
    }
}

void ref_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double x = inp[i];
        double cdf = 0.5 * (1.0 + erf(x * M_SQRT1_2));
        double pdf = exp(-0.5 * x * x) * 0.3989422804014327; /* 1/sqrt(2 pi) */
        dinp[i] += (float)(dout[i] * (cdf + x * pdf));
    }
}

void ref_matmul_gelu_forward(float *pre, float *out, const float *inp, const float *w,
                             const float *b, int N, int C, int OC) {
    float *y = pre ? pre : out;
    ref_matmul_forward(y, inp, w, b, N, C, OC);
    ref_gelu_forward(out, y, (size_t)N * OC);
}

/* ---- dropout and residuals ---- */

void ref_dropout_mask(uint8_t *keep, bertc_rng *r, float p, size_t n) {
    uint64_t base = bertc_rng_next(r); /* rng.h's block scheme, one block after another */
    for (size_t i0 = 0, j = 0; i0 < n; i0 += BERTC_MASK_BLOCK, j++)
        bertc_mask_block(keep + i0, base, j, p, n - i0 < BERTC_MASK_BLOCK ? n - i0 : BERTC_MASK_BLOCK);
}

void ref_dropout_forward(float *out, const float *inp, const uint8_t *keep, float p, size_t n) {
    if (!keep) {
        if (out != inp) memmove(out, inp, n * sizeof *out);
        return;
    }
    float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) out[i] = keep[i] ? inp[i] * scale : 0.0f;
}

void ref_dropout_backward(float *dinp, const float *dout, const uint8_t *keep, float p, size_t n) {
    float scale = keep ? 1.0f / (1.0f - p) : 1.0f;
    for (size_t i = 0; i < n; i++)
        if (!keep || keep[i]) dinp[i] += dout[i] * scale;
}

void ref_residual_forward(float *out, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void ref_residual_backward(float *da, float *db, const float *dout, size_t n) {
    for (size_t i = 0; i < n; i++) {
        da[i] += dout[i];
        db[i] += dout[i];
    }
}

void ref_residual_layernorm_forward(float *res, float *out, float *mean, float *rstd,
                                    const float *inp, const float *proj, const uint8_t *keep,
                                    float p, const float *w, const float *b, float eps,
                                    int N, int C) {
    size_t n = (size_t)N * C;
    ref_dropout_forward(res, proj, keep, p, n);
    ref_residual_forward(res, inp, res, n);
    ref_layernorm_forward(out, mean, rstd, res, w, b, eps, N, C);
}

/* ---- attention ---- */

void ref_attention_forward(float *out, float *att, const uint8_t *keep, float p,
                           const float *qkv, const int *mask, float *scratch, int nthreads,
                           int B, int T, int C, int NH) {
    (void)nthreads;
    int HS = C / NH;
    double scale = 1.0 / sqrt((double)HS);
    float dscale = keep ? 1.0f / (1.0f - p) : 1.0f;
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
            for (int t = 0; t < T; t++) {
                const float *q = qkv + ((size_t)b * T + t) * 3 * C + (size_t)h * HS;
                size_t row0 = (((size_t)b * NH + h) * T + t) * T;
                float *row = att ? att + row0 : scratch;
                /* scores, masked on keys, then a max-subtracted softmax */
                float maxv = -INFINITY;
                for (int t2 = 0; t2 < T; t2++) {
                    const float *k = qkv + ((size_t)b * T + t2) * 3 * C + C + (size_t)h * HS;
                    float s = (float)(dot(q, k, HS) * scale);
                    if (!mask[(size_t)b * T + t2]) s += BERT_MASK_VALUE;
                    row[t2] = s;
                    if (s > maxv) maxv = s;
                }
                double sum = 0;
                for (int t2 = 0; t2 < T; t2++) {
                    double e = exp((double)row[t2] - maxv);
                    row[t2] = (float)e;
                    sum += e;
                }
                for (int t2 = 0; t2 < T; t2++) row[t2] = (float)(row[t2] / sum);
                /* out = dropout(P) V */
                float *o = out + ((size_t)b * T + t) * C + (size_t)h * HS;
                for (int i = 0; i < HS; i++) {
                    double acc = 0;
                    for (int t2 = 0; t2 < T; t2++) {
                        float a = row[t2];
                        if (keep) a = keep[row0 + t2] ? a * dscale : 0.0f;
                        acc += (double)a * qkv[((size_t)b * T + t2) * 3 * C + 2 * C + (size_t)h * HS + i];
                    }
                    o[i] = (float)acc;
                }
            }
        }
    }
}

void ref_attention_backward(float *dqkv, const float *dout, const float *qkv, const float *att,
                            const uint8_t *keep, float p, float *scratch, int nthreads,
                            int B, int T, int C, int NH) {
    (void)nthreads;
    int HS = C / NH;
    float scale = (float)(1.0 / sqrt((double)HS));
    float dscale = keep ? 1.0f / (1.0f - p) : 1.0f;
    float *dP = scratch; /* (T) */
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < NH; h++) {
            for (int t = 0; t < T; t++) {
                size_t row0 = (((size_t)b * NH + h) * T + t) * T;
                const float *P = att + row0;
                const float *d = dout + ((size_t)b * T + t) * C + (size_t)h * HS;
                /* out = A V with A = dropout(P): dA = d V^T, dV += A^T d */
                for (int t2 = 0; t2 < T; t2++) {
                    const float *v = qkv + ((size_t)b * T + t2) * 3 * C + 2 * C + (size_t)h * HS;
                    float *dv = dqkv + ((size_t)b * T + t2) * 3 * C + 2 * C + (size_t)h * HS;
                    float kd = keep ? (keep[row0 + t2] ? dscale : 0.0f) : 1.0f;
                    float a = P[t2] * kd;
                    for (int i = 0; i < HS; i++) dv[i] += a * d[i];
                    dP[t2] = (float)dot(d, v, HS) * kd;
                }
                /* softmax: dS = P (dP - sum(P dP)) */
                double pdp = 0;
                for (int t2 = 0; t2 < T; t2++) pdp += (double)P[t2] * dP[t2];
                /* S = scale q.k: dq += scale dS k, dk += scale dS q */
                const float *q = qkv + ((size_t)b * T + t) * 3 * C + (size_t)h * HS;
                float *dq = dqkv + ((size_t)b * T + t) * 3 * C + (size_t)h * HS;
                for (int t2 = 0; t2 < T; t2++) {
                    float dS = (float)(P[t2] * (dP[t2] - pdp)) * scale;
                    const float *k = qkv + ((size_t)b * T + t2) * 3 * C + C + (size_t)h * HS;
                    float *dk = dqkv + ((size_t)b * T + t2) * 3 * C + C + (size_t)h * HS;
                    for (int i = 0; i < HS; i++) {
                        dq[i] += dS * k[i];
                        dk[i] += dS * q[i];
                    }
                }
            }
        }
    }
}

/* ---- pooler, classifier loss ---- */

void ref_pooler_forward(float *out, const float *inp, const float *w, const float *b,
                        int B, int T, int C) {
    for (int bb = 0; bb < B; bb++) {
        const float *x = inp + (size_t)bb * T * C; /* token 0: [CLS] */
        for (int o = 0; o < C; o++)
            out[(size_t)bb * C + o] = tanhf((float)(b[o] + dot(x, w + (size_t)o * C, C)));
    }
}

void ref_pooler_backward(float *dinp, float *dw, float *db, const float *dout, const float *out,
                         const float *inp, const float *w, int B, int T, int C) {
    for (int bb = 0; bb < B; bb++) {
        const float *x = inp + (size_t)bb * T * C;
        float *dx = dinp + (size_t)bb * T * C;
        for (int o = 0; o < C; o++) {
            float y = out[(size_t)bb * C + o];
            float dpre = dout[(size_t)bb * C + o] * (1.0f - y * y); /* tanh' = 1 - tanh^2 */
            const float *wr = w + (size_t)o * C;
            float *dwr = dw + (size_t)o * C;
            for (int i = 0; i < C; i++) {
                dx[i] += dpre * wr[i];
                dwr[i] += dpre * x[i];
            }
            db[o] += dpre;
        }
    }
}

void ref_softmax_forward(float *probs, const float *logits, int B, int NL) {
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * NL;
        float *pr = probs + (size_t)b * NL;
        float maxv = -INFINITY;
        for (int i = 0; i < NL; i++) if (z[i] > maxv) maxv = z[i];
        double sum = 0;
        for (int i = 0; i < NL; i++) sum += exp((double)z[i] - maxv);
        for (int i = 0; i < NL; i++) pr[i] = (float)(exp((double)z[i] - maxv) / sum);
    }
}

float ref_crossentropy_forward(float *losses, const float *logits, const int *labels,
                               const float *class_weights, int B, int NL) {
    double num = 0, den = 0;
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * NL;
        float maxv = -INFINITY;
        for (int i = 0; i < NL; i++) if (z[i] > maxv) maxv = z[i];
        double sum = 0;
        for (int i = 0; i < NL; i++) sum += exp((double)z[i] - maxv);
        double l = maxv + log(sum) - z[labels[b]];
        double wy = class_weights ? class_weights[labels[b]] : 1.0;
        if (losses) losses[b] = (float)l;
        num += wy * l;
        den += wy;
    }
    return (float)(num / den);
}

void ref_crossentropy_softmax_backward(float *dlogits, const float *probs, const int *labels,
                                       const float *class_weights, int B, int NL) {
    double den = 0;
    for (int b = 0; b < B; b++) den += class_weights ? class_weights[labels[b]] : 1.0;
    for (int b = 0; b < B; b++) {
        double wy = (class_weights ? class_weights[labels[b]] : 1.0) / den;
        for (int i = 0; i < NL; i++) {
            double g = probs[(size_t)b * NL + i] - (i == labels[b] ? 1.0 : 0.0);
            dlogits[(size_t)b * NL + i] += (float)(wy * g);
        }
    }
}

/* ---- the whole model on these kernels (bert_model.ops = &bert_ops_ref) ---- */

/* the matrix products in the table's shape (no bf16 state to use) */
static void att_forward(struct bf16_state *s, float *out, float *att, const uint8_t *keep, float p,
                        const float *qkv, const int *mask, float *scratch, int nthreads, int B, int T, int C, int NH) {
    (void)s;
    ref_attention_forward(out, att, keep, p, qkv, mask, scratch, nthreads, B, T, C, NH);
}
static void att_backward(struct bf16_state *s, float *dqkv, const float *dout, const float *qkv, const float *att,
                         const uint8_t *keep, float p, float *scratch, int nthreads, int B, int T, int C, int NH) {
    (void)s;
    ref_attention_backward(dqkv, dout, qkv, att, keep, p, scratch, nthreads, B, T, C, NH);
}
static void mm_forward(struct bf16_state *s, float *out, const float *inp, const float *w, const float *b, int N,
                       int C, int OC) {
    (void)s;
    ref_matmul_forward(out, inp, w, b, N, C, OC);
}
static void mm_backward(struct bf16_state *s, float *dinp, float *dw, float *db, const float *dout,
                        const float *inp, const float *w, int N, int C, int OC) {
    (void)s;
    ref_matmul_backward(dinp, dw, db, dout, inp, w, N, C, OC);
}
static void mm_gelu_forward(struct bf16_state *s, float *pre, float *out, const float *inp, const float *w,
                            const float *b, int N, int C, int OC) {
    (void)s;
    ref_matmul_gelu_forward(pre, out, inp, w, b, N, C, OC);
}

const bert_ops bert_ops_ref = {
    .embeddings_forward = ref_embeddings_forward,
    .embeddings_backward = ref_embeddings_backward,
    .layernorm_forward = ref_layernorm_forward,
    .layernorm_backward = ref_layernorm_backward,
    .matmul_forward = mm_forward,
    .matmul_backward = mm_backward,
    .dense_forward = mm_forward,
    .dense_gelu_forward = mm_gelu_forward,
    .dense_backward = mm_backward,
    .gelu_forward = ref_gelu_forward,
    .gelu_backward = ref_gelu_backward,
    .dropout_forward = ref_dropout_forward,
    .dropout_backward = ref_dropout_backward,
    .residual_layernorm_forward = ref_residual_layernorm_forward,
    .attention_forward = att_forward,
    .attention_backward = att_backward,
    .pooler_forward = ref_pooler_forward,
    .pooler_backward = ref_pooler_backward,
};
