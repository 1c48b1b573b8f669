/* bert.c: the BERT forward and backward passes (BertForSequenceClassification)
 * over the parameter layout of bert.h, on a kernel set (ops_cpu, ops_bf16; tests: ops_ref).
 *
 * One layer, as transformers computes it (dropout only in training):
 *   qkv  = h W_qkv^T + b                       (B,T,3C)
 *   atty = dropout(softmax(QK^T/sqrt(HS) + m)) V   (B,T,C)
 *   res1 = h + dropout(atty W_o^T + b);  ln1 = LayerNorm1(res1)
 *   fch  = ln1 W_fc^T + b;  fchg = gelu(fch)   (B,T,F)
 *   res2 = ln1 + dropout(fchg W_p^T + b); h'  = LayerNorm2(res2)
 * then pooled = tanh(W_pool h[:,0] + b), logits = W_cls dropout(pooled) + b.
 *
 * DistilBERT (cfg.model_type, bert.h) is the same with three differences: no
 * token type embedding (a zero row stands in, so word + 0 + position equals
 * its word + position bit for bit), no dropout on the attention output
 * projection (res1 = h + atty W_o^T + b), and pooled = relu(W_pre h[:,0] + b)
 * (pre_classifier). A multi-label model (cfg.problem_type) gives sigmoid probs.
 */
#include "bert.h"
#include "bert_ops.h"
#include "heads.h"
#include "ops_bf16.h"
#include "ops_int8.h"
#include "ops_cpu.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the production kernel sets behind one table (the reference set,
 * bert_ops_ref, lives with its kernels in ops_ref.c, which only tests link) ---- */

/* The fp32 matrix products in the table's shape (they have no state). */
static void cpu_mm_forward(bf16_state *s, float *out, const float *inp, const float *w, const float *b, int N, int C,
                           int OC) {
    (void)s;
    cpu_matmul_forward(out, inp, w, b, N, C, OC);
}
static void cpu_mm_backward(bf16_state *s, float *dinp, float *dw, float *db, const float *dout, const float *inp,
                            const float *w, int N, int C, int OC) {
    (void)s;
    cpu_matmul_backward(dinp, dw, db, dout, inp, w, N, C, OC);
}
static void cpu_mm_gelu_forward(bf16_state *s, float *pre, float *out, const float *inp, const float *w,
                                const float *b, int N, int C, int OC) {
    (void)s;
    cpu_matmul_gelu_forward(pre, out, inp, w, b, N, C, OC);
}

static void cpu_att_forward(bf16_state *s, float *out, float *att, const uint8_t *keep, float p, const float *qkv,
                            const int *mask, float *scratch, int nthreads, int B, int T, int C, int NH) {
    (void)s;
    cpu_attention_forward(out, att, keep, p, qkv, mask, scratch, nthreads, B, T, C, NH);
}
static void cpu_att_backward(bf16_state *s, float *dqkv, const float *dout, const float *qkv, const float *att,
                             const uint8_t *keep, float p, float *scratch, int nthreads, int B, int T, int C, int NH) {
    (void)s;
    cpu_attention_backward(dqkv, dout, qkv, att, keep, p, scratch, nthreads, B, T, C, NH);
}

/* Every production set runs ops_cpu.h's kernels for all but the matrix
 * products (the dense layers', the pooler's and the heads', and attention's);
 * a set's table states only its products. */
#define CPU_KERNELS_BUT_PRODUCTS                                           \
    .embeddings_forward = cpu_embeddings_forward,                          \
    .embeddings_backward = cpu_embeddings_backward,                        \
    .layernorm_forward = cpu_layernorm_forward,                            \
    .layernorm_backward = cpu_layernorm_backward,                          \
    .gelu_forward = cpu_gelu_forward,                                      \
    .gelu_backward = cpu_gelu_backward,                                    \
    .gelu_forward_keep_grad = cpu_gelu_forward_keep_grad,                  \
    .gelu_backward_from_grad = cpu_gelu_backward_from_grad,                \
    .dropout_forward = cpu_dropout_forward,                                \
    .dropout_backward = cpu_dropout_backward,                              \
    .residual_layernorm_forward = cpu_residual_layernorm_forward,          \
    .pooler_forward = cpu_pooler_forward,                                  \
    .pooler_backward = cpu_pooler_backward

/* The fp32 products (fp32 and int8 sets: int8 changes only the dense layers). */
#define CPU_MATMULS                                                        \
    .matmul_forward = cpu_mm_forward,                                      \
    .matmul_backward = cpu_mm_backward
#define CPU_ATTENTION                                                      \
    .attention_forward = cpu_att_forward,                                  \
    .attention_backward = cpu_att_backward

static const bert_ops OPS_CPU = {
    CPU_KERNELS_BUT_PRODUCTS,
    CPU_MATMULS,
    CPU_ATTENTION,
    .dense_forward = cpu_mm_forward,
    .dense_gelu_forward = cpu_mm_gelu_forward,
    .dense_backward = cpu_mm_backward,
};
/* bf16: the encoder's dense layers and attention's products, forward and
 * backward; the pooler and the heads stay fp32 (CPU_MATMULS; bert_ops.h says
 * why). */
static const bert_ops OPS_BF16 = {
    CPU_KERNELS_BUT_PRODUCTS,
    CPU_MATMULS,
    .attention_forward = bf16_attention_forward,
    .attention_backward = bf16_attention_backward,
    .dense_forward = bf16_matmul_forward,
    .dense_gelu_forward = bf16_matmul_gelu_forward,
    .dense_backward = bf16_matmul_backward,
};

/* int8 (inference only: bert_forward refuses a training model): the encoder's
 * dense layers multiply int8 (ops_int8.h, weights quantized by
 * bert_set_precision); the pooler and the heads stay fp32 (matmul_forward). */
static void int8_dense_forward(bf16_state *s, float *out, const float *inp, const float *w, const float *b, int N,
                               int C, int OC) {
    (void)s;
    int8_matmul_forward(out, inp, w, b, N, C, OC);
}
static void int8_dense_gelu_forward(bf16_state *s, float *pre, float *out, const float *inp, const float *w,
                                    const float *b, int N, int C, int OC) {
    (void)s;
    int8_matmul_gelu_forward(pre, out, inp, w, b, N, C, OC);
}
static const bert_ops OPS_INT8 = {
    CPU_KERNELS_BUT_PRODUCTS,
    CPU_MATMULS,
    CPU_ATTENTION,
    .dense_forward = int8_dense_forward,
    .dense_gelu_forward = int8_dense_gelu_forward,
    .dense_backward = cpu_mm_backward, /* never run: int8 models do not train */
};
/* int8 where the CPU has bf16 (bert_bf16_available): attention's products in
 * bf16 as well, as --precision bf16 runs them (docs/numerics.md). */
static const bert_ops OPS_INT8_BF16 = {
    CPU_KERNELS_BUT_PRODUCTS,
    CPU_MATMULS,
    .attention_forward = bf16_attention_forward,
    .attention_backward = bf16_attention_backward, /* never run */
    .dense_forward = int8_dense_forward,
    .dense_gelu_forward = int8_dense_gelu_forward,
    .dense_backward = cpu_mm_backward, /* never run */
};

const bert_ops *bert_ops_of(const bert_model *m) {
    if (m->ops) return m->ops;
    if (m->precision == BERT_PREC_BF16) return &OPS_BF16;
    if (m->precision == BERT_PREC_INT8) return bert_bf16_available() ? &OPS_INT8_BF16 : &OPS_INT8;
    return &OPS_CPU;
}
#define ops_of bert_ops_of

/* ---- the arena ---- */

_Static_assert(sizeof(int) == sizeof(float), "the arena stores the int inputs in float slots");

/* Adds count*each elements to *total and returns the offset where they start;
 * sets *overflow on size_t overflow. */
static size_t take(size_t *total, size_t count, size_t each, int *overflow) {
    size_t n, at = *total;
    if (bertc_mul_size(count, each, &n) || bertc_add_size(*total, n, total)) *overflow = 1;
    /* round every slice up to 64 elements (floats: 256 bytes; mask bytes: 64), so
     * each starts 64-byte aligned */
    size_t r = *total % 64;
    if (r && bertc_add_size(*total, 64 - r, total)) *overflow = 1;
    return at;
}

/* The slice layout, computed twice: once to size, once to point (base != NULL). */
static int layout(bert_model *m, float *fbase, uint8_t *kbase, size_t *fsize, size_t *ksize) {
    const bert_config *c = &m->cfg;
    size_t BT = (size_t)m->Bmax * m->Tmax, C = c->hidden_size, F = c->intermediate_size;
    size_t NH = c->num_heads, L = c->num_layers, NL = c->num_labels, T = m->Tmax;
    /* per-layer copies: every layer's activations for training, one layer's for
     * inference and for training that recomputes each layer in the backward */
    size_t LL = m->training && !m->recompute ? L : 1;
    size_t att = BT * NH * T;        /* (B,NH,T,T) floats */
    /* rows of the head's output: one per sequence, or one per token */
    size_t HR = bert_head_of(c->task)->per_token ? BT : (size_t)m->Bmax;
    int of = 0;
    size_t fn = 0, kn = 0;
#define F_(field, count) do { size_t o_ = take(&fn, (count), 1, &of); if (fbase) m->field = fbase + o_; } while (0)
#define K_(field, count) do { size_t o_ = take(&kn, (count), 1, &of); if (kbase) m->field = kbase + o_; } while (0)
#define I_(field, count) do { size_t o_ = take(&fn, (count), 1, &of); if (fbase) m->field = (int *)(fbase + o_); } while (0)
#define R_(field, count) do { size_t o_ = take(&kn, (count), sizeof(bertc_rng), &of); if (kbase) m->field = (bertc_rng *)(void *)(kbase + o_); } while (0)
    I_(ids, BT);
    I_(tts, BT);
    I_(mask, BT);
    F_(emb, BT * C);
    F_(emb_mean, BT);
    F_(emb_rstd, BT);
    F_(h, (m->training ? L + 1 : 2) * BT * C);
    F_(qkv, LL * BT * 3 * C);
    F_(atty, LL * BT * C);
    F_(ln1, LL * BT * C);
    F_(fch, LL * BT * F);
    F_(proj, BT * C);
    F_(pooled, (size_t)m->Bmax * C);
    F_(cls_in, HR * C);
    F_(logits, HR * NL);
    F_(probs, HR * NL);
    F_(cls_h, (size_t)m->Bmax * C);
    F_(tt_zero, C);
    F_(dtt_sink, C);
    size_t per = cpu_attention_scratch_floats(m->Tmax, (int)(C / NH));
    F_(scratch, per * (size_t)m->nthreads);
    if (m->training) {
        F_(att, LL * att);
        F_(res1, LL * BT * C);
        F_(ln1_mean, LL * BT);
        F_(ln1_rstd, LL * BT);
        F_(fchg, BT * F); /* one layer's: the backward recomputes gelu(fch) */
        F_(res2, LL * BT * C);
        F_(ln2_mean, LL * BT);
        F_(ln2_rstd, LL * BT);
        F_(dres, BT * C);
        F_(dtmp, BT * C);
        F_(dln1, BT * C);
        F_(dproj, BT * C);
        F_(dfch, BT * F);
        F_(dfchg, BT * F);
        F_(datty, BT * C);
        F_(dqkv, BT * 3 * C);
        F_(dpooled, (size_t)m->Bmax * C);
        F_(dcls_in, HR * C);
        F_(dlogits, HR * NL);
        K_(emb_keep, BT * C);
        /* recomputing: one layer's attention mask (the largest, (B,NH,T,T)),
         * redrawn in the backward from the rng state each layer drew it from */
        K_(att_keep, LL * att);
        if (m->recompute) R_(att_seed, L);
        K_(res1_keep, L * BT * C);
        K_(res2_keep, L * BT * C);
        K_(cls_keep, HR * C);
    }
#undef F_
#undef K_
#undef I_
#undef R_
    *fsize = fn;
    *ksize = kn;
    return of ? -1 : 0;
}

int bert_model_build(bert_model *m, const bert_config *cfg, float *params_memory,
                     int Bmax, int Tmax, int training, bertc_err *err) {
    memset(m, 0, sizeof *m);
    int8_weight_clear(); /* a new parameter block may reuse a freed one's address */
    int rc = bert_config_validate(cfg, err);
    if (rc) return rc;
    if (!params_memory) return bertc_fail(err, BERTC_ERR_ARG, "bert_model_build: no parameter block");
    if (Bmax < 1 || Tmax < 1)
        return bertc_fail(err, BERTC_ERR_ARG, "bert_model_build: batch %d x %d tokens: both must be >= 1", Bmax, Tmax);
    if (Tmax > cfg->max_position)
        return bertc_fail(err, BERTC_ERR_ARG,
                          "bert_model_build: %d tokens per sequence exceeds the model's max_position_embeddings (%d); use a shorter maximum length",
                          Tmax, cfg->max_position);
    m->cfg = *cfg;
    m->cfg.id2label = NULL;
    m->num_params = bert_num_params(cfg);
    bert_params_point(&m->params, params_memory, cfg);
    m->Bmax = Bmax;
    m->Tmax = Tmax;
    m->training = training ? 1 : 0;
    m->recompute = training == BERT_TRAIN_RECOMPUTE;
    m->nthreads = omp_get_max_threads();
    if (m->nthreads < 1) m->nthreads = 1;
    size_t fn, kn;
    if (layout(m, NULL, NULL, &fn, &kn) || fn > SIZE_MAX / sizeof(float)) {
        memset(m, 0, sizeof *m);
        return bertc_fail(err, BERTC_ERR_NOMEM, "bert_model_build: activations for batch %d x %d tokens overflow size_t", Bmax, Tmax);
    }
    m->arena_bytes = fn * sizeof(float) + kn;
    /* fn and kn are multiples of 64 (take() pads), as aligned_alloc wants */
    m->acts_memory = aligned_alloc(64, fn * sizeof(float));
    m->keep_memory = kn ? aligned_alloc(64, kn) : NULL;
    if (training) m->grads_memory = calloc(m->num_params, sizeof(float));
    if (!m->acts_memory || (kn && !m->keep_memory) || (training && !m->grads_memory)) {
        size_t mb = (m->arena_bytes + (training ? m->num_params * 4 : 0)) >> 20;
        bert_model_free(m);
        return bertc_fail(err, BERTC_ERR_NOMEM,
                          "bert_model_build: cannot allocate %zu MiB of activations%s for batch %d x %d tokens; use a smaller batch or length",
                          mb, training ? " and gradients" : "", Bmax, Tmax);
    }
    /* Touch the arena once so that the first step does not pay for page faults
     * and unused tails hold zeros, not garbage. */
    memset(m->acts_memory, 0, fn * sizeof(float));
    if (kn) memset(m->keep_memory, 1, kn);
    layout(m, m->acts_memory, m->keep_memory, &fn, &kn);
    if (training) bert_params_point(&m->grads, m->grads_memory, cfg);
    return BERTC_OK;
}

int bert_memory_estimate(bert_memory_plan *plan, const bert_config *cfg, int Bmax, int Tmax, int training,
                         size_t data_bytes, bertc_err *err) {
    memset(plan, 0, sizeof *plan);
    int rc = bert_config_validate(cfg, err);
    if (rc) return rc;
    if (Bmax < 1 || Tmax < 1 || Tmax > cfg->max_position)
        return bertc_fail(err, BERTC_ERR_ARG, "memory estimate: batch %d x %d tokens (max_position_embeddings %d)",
                          Bmax, Tmax, cfg->max_position);
    bert_model m;
    memset(&m, 0, sizeof m);
    m.cfg = *cfg;
    m.Bmax = Bmax;
    m.Tmax = Tmax;
    m.training = training ? 1 : 0;
    m.recompute = training == BERT_TRAIN_RECOMPUTE;
    m.nthreads = omp_get_max_threads() > 0 ? omp_get_max_threads() : 1;
    size_t fn, kn, P = bert_num_params(cfg);
    if (layout(&m, NULL, NULL, &fn, &kn) || fn > SIZE_MAX / 8 || P > SIZE_MAX / 32)
        return bertc_fail(err, BERTC_ERR_NOMEM, "memory estimate: sizes overflow size_t");
    plan->params = P * sizeof(float);
    plan->grads = training ? P * sizeof(float) : 0;
    plan->adam = training ? 2 * P * sizeof(float) : 0;
    plan->arena = fn * sizeof(float) + kn;
    plan->data = data_bytes;
    plan->overhead = BERT_MEMORY_OVERHEAD;
    plan->total = plan->params + plan->grads + plan->adam + plan->arena + plan->data + plan->overhead;
    return BERTC_OK;
}

void bert_model_free(bert_model *m) {
    if (!m) return;
    bf16_state_free(m->bf16);
    int8_weight_clear();
    free(m->acts_memory);
    free(m->keep_memory);
    free(m->grads_memory);
    memset(m, 0, sizeof *m);
}

void bert_model_params_changed(bert_model *m) { bf16_state_keep_weights(m->bf16, 0); }

int bert_set_precision(bert_model *m, int precision, bertc_err *err) {
    if (precision != BERT_PREC_FP32 && precision != BERT_PREC_BF16 && precision != BERT_PREC_INT8)
        return bertc_fail(err, BERTC_ERR_ARG, "--precision: expected fp32, bf16 or int8 (got %d)", precision);
    if (precision == BERT_PREC_INT8) {
        if (m->training)
            return bertc_fail(err, BERTC_ERR_ARG, "--precision int8 is for inference only; train in fp32 or bf16");
        const bert_config *c = &m->cfg;
        const bert_params *p = &m->params;
        int C = c->hidden_size, F = c->intermediate_size;
        for (int l = 0; l < c->num_layers; l++) {
            size_t wq = (size_t)l * 3 * C * C, wc = (size_t)l * C * C, wf = (size_t)l * F * C;
            if (int8_weight_prepare(p->qkvw + wq, 3 * C, C) || int8_weight_prepare(p->attn_outw + wc, C, C) ||
                int8_weight_prepare(p->fcw + wf, F, C) || int8_weight_prepare(p->fc_outw + wf, C, F)) {
                int8_weight_clear();
                return bertc_fail(err, BERTC_ERR_NOMEM, "--precision int8: out of memory for the int8 weights");
            }
        }
    }
    m->precision = precision;
    return BERTC_OK;
}

/* ---- profiling (bert_model.prof, bert.h) ---- */

const char *bert_prof_kind_name(int kind) {
    static const char *names[BERT_PROF_KINDS] = {"embeddings", "dense", "attention", "gelu",
                                                 "layernorm", "dropout", "zeroing", "head"};
    return kind >= 0 && kind < BERT_PROF_KINDS ? names[kind] : "?";
}

static double prof_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* PROF(m, BERT_PROF_X, call): the call, its wall time added to m->prof when set. */
#define PROF(m_, kind_, ...)                                                     \
    do {                                                                         \
        bert_prof *pf_ = (m_)->prof;                                             \
        double t0_ = pf_ ? prof_now() : 0.0;                                     \
        __VA_ARGS__;                                                             \
        if (pf_) {                                                               \
            pf_->sec[pf_->phase][kind_] += prof_now() - t0_;                     \
            pf_->calls[pf_->phase][kind_]++;                                     \
        }                                                                        \
    } while (0)

/* x[0..n) = 0 in blocks over the threads: one thread's memset of the gradients
 * (a bert-base's 440 MB) and of each layer's activation gradients (34 MB at
 * 8 x 128 tokens) was ~5% of a bf16 training step with the other core idle
 * (AMX Xeon, perf). */
static void zero_par(float *x, size_t n) {
    const size_t blk = (size_t)1 << 18, nb = (n + blk - 1) / blk;
    #pragma omp parallel for schedule(static) if (nb > 1)
    for (size_t b = 0; b < nb; b++) {
        size_t i0 = b * blk, cnt = n - i0 < blk ? n - i0 : blk;
        memset(x + i0, 0, cnt * sizeof(float));
    }
}

void bert_zero_grad(bert_model *m) {
    if (m->grads_memory) zero_par(m->grads_memory, m->num_params);
}

/* ---- forward ---- */

const uint8_t *bert_draw_mask(uint8_t *keep, bertc_rng *rng, float p, size_t n) {
    if (!rng || p <= 0.0f || !keep) return NULL;
    cpu_dropout_mask(keep, rng, p, n);
    return keep;
}

/* Where layer l's activations of the current batch (m->B x m->T) live. Training
 * keeps every layer's (slot l); inference and recomputing training keep one
 * layer's (slot 0). Training holds L+1 hidden states (the layer inputs the
 * backward starts from); inference alternates two, writes the attention
 * probabilities to attentions (or nowhere) and its residual sums over proj. */
typedef struct layer_acts {
    float *inp, *out;            /* (N,C) the layer's input and output hidden states */
    float *qkv, *att, *atty;     /* (N,3C), (B,NH,T,T) probabilities, (N,C) */
    float *res1, *ln1, *m1, *r1; /* (N,C), (N,C), (N), (N) */
    float *fch, *fchg;           /* (N,F) before and after GELU */
    float *res2, *m2, *r2;       /* (N,C), (N), (N) */
    uint8_t *att_keep, *res1_keep, *res2_keep; /* this layer's dropout masks (training) */
    bertc_rng *att_seed; /* recomputing: the rng state att_keep is drawn from, else NULL */
} layer_acts;

static void layer_view(const bert_model *m, int l, float *attentions, layer_acts *a) {
    const bert_config *c = &m->cfg;
    size_t N = (size_t)m->B * m->T, C = (size_t)c->hidden_size, F = (size_t)c->intermediate_size;
    size_t NC = N * C, natt = N * (size_t)c->num_heads * (size_t)m->T;
    int tr = m->training;
    size_t lc = tr && !m->recompute ? (size_t)l : 0; /* which per-layer copy */
    a->inp = m->h + (tr ? (size_t)l : (size_t)(l & 1)) * NC;
    a->out = m->h + (tr ? (size_t)l + 1 : (size_t)((l + 1) & 1)) * NC;
    a->qkv = m->qkv + lc * N * 3 * C;
    a->atty = m->atty + lc * NC;
    a->ln1 = m->ln1 + lc * NC;
    a->fch = m->fch + lc * N * F;
    if (tr) {
        a->att = m->att + lc * natt;
        a->res1 = m->res1 + lc * NC, a->res2 = m->res2 + lc * NC;
        a->m1 = m->ln1_mean + lc * N, a->r1 = m->ln1_rstd + lc * N;
        a->m2 = m->ln2_mean + lc * N, a->r2 = m->ln2_rstd + lc * N;
        a->fchg = m->fchg; /* one layer's: the backward recomputes gelu(fch) */
        a->att_keep = m->att_keep + lc * natt;
        a->att_seed = m->recompute ? m->att_seed + l : NULL;
        a->res1_keep = m->res1_keep + (size_t)l * NC, a->res2_keep = m->res2_keep + (size_t)l * NC;
    } else {
        a->att = attentions ? attentions + (size_t)l * natt : NULL;
        a->res1 = a->res2 = m->proj;
        a->m1 = a->r1 = a->m2 = a->r2 = NULL;
        a->fchg = a->fch; /* GELU in place */
        a->att_keep = a->res1_keep = a->res2_keep = NULL;
        a->att_seed = NULL;
    }
}

/* Dropout in layer_forward: none (eval), masks drawn now (a training forward),
 * or the masks that forward drew (the backward's recomputation; the attention
 * mask, of which only one layer's is stored, is drawn again from the same rng
 * state, as the GELU output is computed again: the same bits). */
enum { MASKS_NONE, MASKS_DRAW, MASKS_REUSE };

static const uint8_t *layer_mask(uint8_t *keep, bertc_rng *rng, float p, size_t n, int masks) {
    if (masks == MASKS_DRAW) return bert_draw_mask(keep, rng, p, n);
    return masks == MASKS_REUSE && p > 0.0f ? keep : NULL;
}

/* Encoder layer l from a->inp to a->out (the formulas at the top of this
 * file), with m->proj as scratch. The kernels are deterministic, so running it
 * again with MASKS_REUSE rewrites every activation bit for bit. */
static void layer_forward(bert_model *m, int l, const layer_acts *a, bertc_rng *rng, int masks) {
    const bert_config *c = &m->cfg;
    const bert_ops *ops = ops_of(m);
    const bert_params *p = &m->params;
    int B = m->B, T = m->T, C = c->hidden_size, F = c->intermediate_size, NH = c->num_heads;
    size_t N = (size_t)B * T, NC = N * C, natt = N * NH * T;
    float eps = c->layer_norm_eps, ph = c->hidden_dropout, pa = c->attention_dropout;
    float po = c->model_type == BERT_ARCH_DISTILBERT ? 0.0f : ph; /* attention output dropout */
    size_t wq = (size_t)l * 3 * C * C, wc = (size_t)l * C * C, wf = (size_t)l * F * C, lC = (size_t)l * C;

    PROF(m, BERT_PROF_DENSE,
         ops->dense_forward(m->bf16, a->qkv, a->inp, p->qkvw + wq, p->qkvb + 3 * lC, (int)N, C, 3 * C));
    const uint8_t *k;
    PROF(m, BERT_PROF_DROPOUT, {
        if (a->att_seed && masks == MASKS_DRAW && rng) *a->att_seed = *rng;
        if (a->att_seed && masks == MASKS_REUSE) {
            bertc_rng again = *a->att_seed;
            k = bert_draw_mask(a->att_keep, &again, pa, natt);
        } else {
            k = layer_mask(a->att_keep, rng, pa, natt, masks);
        }
    });
    PROF(m, BERT_PROF_ATTENTION,
         ops->attention_forward(m->bf16, a->atty, a->att, k, pa, a->qkv, m->mask, m->scratch, m->nthreads, B, T,
                                C, NH));
    PROF(m, BERT_PROF_DENSE,
         ops->dense_forward(m->bf16, m->proj, a->atty, p->attn_outw + wc, p->attn_outb + lC, (int)N, C, C));
    PROF(m, BERT_PROF_DROPOUT, k = layer_mask(a->res1_keep, rng, po, NC, masks));
    PROF(m, BERT_PROF_NORM,
         ops->residual_layernorm_forward(a->res1, a->ln1, a->m1, a->r1, a->inp, m->proj, k, po, p->ln1w + lC,
                                         p->ln1b + lC, eps, (int)N, C));
    PROF(m, BERT_PROF_DENSE,
         ops->dense_gelu_forward(m->bf16, m->training ? a->fch : NULL, a->fchg, a->ln1, p->fcw + wf,
                                 p->fcb + (size_t)l * F, (int)N, C, F));
    PROF(m, BERT_PROF_DENSE,
         ops->dense_forward(m->bf16, m->proj, a->fchg, p->fc_outw + wf, p->fc_outb + lC, (int)N, F, C));
    PROF(m, BERT_PROF_DROPOUT, k = layer_mask(a->res2_keep, rng, ph, NC, masks));
    PROF(m, BERT_PROF_NORM,
         ops->residual_layernorm_forward(a->res2, a->out, a->m2, a->r2, a->ln1, m->proj, k, ph, p->ln2w + lC,
                                         p->ln2b + lC, eps, (int)N, C));
}

int bert_forward(bert_model *m, const int *input_ids, const int *token_type_ids,
                 const int *attention_mask, int B, int T, bertc_rng *dropout_rng,
                 float *hidden_states, float *attentions, bertc_err *err) {
    const bert_config *c = &m->cfg;
    const bert_ops *ops = ops_of(m);
    if (!m->acts_memory) return bertc_fail(err, BERTC_ERR_ARG, "bert_forward: the model was not built");
    if (B < 1 || B > m->Bmax || T < 1 || T > m->Tmax)
        return bertc_fail(err, BERTC_ERR_ARG,
                          "bert_forward: batch %d x %d tokens outside the built 1..%d x 1..%d", B, T, m->Bmax, m->Tmax);
    if (!input_ids) return bertc_fail(err, BERTC_ERR_ARG, "bert_forward: no input_ids");
    if (dropout_rng && !m->training)
        return bertc_fail(err, BERTC_ERR_ARG, "bert_forward: dropout needs a model built for training");
    if ((ops == &OPS_INT8 || ops == &OPS_INT8_BF16) && m->training)
        return bertc_fail(err, BERTC_ERR_ARG, "bert_forward: int8 is for inference only (a model built for training)");
    /* bf16: the model's own state (primitives, scratch, rounded weights); an
     * inference model's weights do not change, so their rounded copies are kept
     * (until bert_model_params_changed); a training model's are rounded on
     * every call. Out of memory leaves it NULL: the portable products. */
    if (ops == &OPS_BF16 || ops == &OPS_INT8_BF16) {
        if (!m->bf16) m->bf16 = bf16_state_new();
        bf16_state_keep_weights(m->bf16, !m->training);
    }
    size_t N = (size_t)B * T;
    for (size_t i = 0; i < N; i++) {
        if (input_ids[i] < 0 || input_ids[i] >= c->vocab_size)
            return bertc_fail(err, BERTC_ERR_ARG, "bert_forward: input_ids[%zu] = %d outside the vocabulary 0..%d",
                              i, input_ids[i], c->vocab_size - 1);
        if (token_type_ids && c->type_vocab_size == 0 && token_type_ids[i] != 0)
            return bertc_fail(err, BERTC_ERR_ARG,
                              "bert_forward: token_type_ids[%zu] = %d but the model has no token types (pass NULL or 0)",
                              i, token_type_ids[i]);
        if (token_type_ids && c->type_vocab_size > 0 &&
            (token_type_ids[i] < 0 || token_type_ids[i] >= c->type_vocab_size))
            return bertc_fail(err, BERTC_ERR_ARG, "bert_forward: token_type_ids[%zu] = %d outside 0..%d",
                              i, token_type_ids[i], c->type_vocab_size - 1);
        if (attention_mask && attention_mask[i] != 0 && attention_mask[i] != 1)
            return bertc_fail(err, BERTC_ERR_ARG, "bert_forward: attention_mask[%zu] = %d, must be 0 or 1",
                              i, attention_mask[i]);
    }
    m->B = B;
    m->T = T;
    m->dropout_on = dropout_rng != NULL;
    memcpy(m->ids, input_ids, N * sizeof(int));
    if (token_type_ids && c->type_vocab_size > 0) memcpy(m->tts, token_type_ids, N * sizeof(int));
    else memset(m->tts, 0, N * sizeof(int));
    if (attention_mask) memcpy(m->mask, attention_mask, N * sizeof(int));
    else for (size_t i = 0; i < N; i++) m->mask[i] = 1;

    int C = c->hidden_size, NH = c->num_heads, L = c->num_layers;
    float eps = c->layer_norm_eps, ph = c->hidden_dropout;
    size_t NC = N * C, natt = N * NH * T;
    int tr = m->training;
    bertc_rng *rng = dropout_rng;

    /* embeddings: h0 = dropout(LayerNorm(word + type + position)) */
    const bert_params *p = &m->params;
    const float *wtt = c->type_vocab_size > 0 ? p->wtt : m->tt_zero; /* tt_zero: C zeros */
    if (m->prof) m->prof->phase = BERT_PROF_FORWARD;
    PROF(m, BERT_PROF_EMBED, ops->embeddings_forward(m->emb, m->ids, m->tts, p->wte, p->wpe, wtt, B, T, C));
    PROF(m, BERT_PROF_NORM,
         ops->layernorm_forward(m->h, m->emb_mean, m->emb_rstd, m->emb, p->emb_lnw, p->emb_lnb, eps, (int)N, C));
    const uint8_t *k;
    PROF(m, BERT_PROF_DROPOUT, k = bert_draw_mask(m->emb_keep, rng, ph, NC); ops->dropout_forward(m->h, m->h, k, ph, NC));
    if (hidden_states) memcpy(hidden_states, m->h, NC * sizeof(float));

    for (int l = 0; l < L; l++) {
        layer_acts a;
        layer_view(m, l, attentions, &a);
        layer_forward(m, l, &a, rng, rng ? MASKS_DRAW : MASKS_NONE);
        if (tr && attentions) memcpy(attentions + (size_t)l * natt, a.att, natt * sizeof(float));
        if (hidden_states) memcpy(hidden_states + (size_t)(l + 1) * NC, a.out, NC * sizeof(float));
    }

    /* the task's head on the last hidden state */
    const float *last = m->h + (tr ? (size_t)L : (size_t)(L & 1)) * NC;
    PROF(m, BERT_PROF_HEAD, bert_head_of(c->task)->forward(m, last, rng));
    return BERTC_OK;
}

/* ---- loss and backward ---- */

int bert_head_loss(const bert_model *m, const bert_targets *y, float *loss, bertc_err *err) {
    if (m->B < 1) return bertc_fail(err, BERTC_ERR_ARG, "bert_loss: no forward pass to take the loss of");
    if (!y) return bertc_fail(err, BERTC_ERR_ARG, "bert_loss: no targets");
    return bert_head_of(m->cfg.task)->loss(m, y, loss, NULL, err);
}

int bert_loss(const bert_model *m, const int *labels, const float *class_weights,
              float *loss, bertc_err *err) {
    if (m->cfg.task != BERT_TASK_TEXT_CLS)
        return bertc_fail(err, BERTC_ERR_ARG, "bert_loss: the model's head is %s; use bert_head_loss",
                          bert_head_of(m->cfg.task)->name);
    bert_targets y = {.labels = labels, .class_weights = class_weights};
    if (m->cfg.problem_type == BERT_PROBLEM_MULTI_LABEL)
        return bertc_fail(err, BERTC_ERR_ARG, "bert_loss: the model is multi-label (problem_type); use bert_loss_multilabel");
    return bert_head_loss(m, &y, loss, err);
}

/* Everything below the loss: m->dlogits (the logits' shape) holds dloss/dlogits
 * on entry; adds dloss/dparams to m->grads. */
static void backward_from_dlogits(bert_model *m) {
    const bert_config *c = &m->cfg;
    const bert_ops *ops = ops_of(m);
    const bert_params *p = &m->params, *g = &m->grads;
    int B = m->B, T = m->T, C = c->hidden_size, F = c->intermediate_size, NH = c->num_heads;
    int L = c->num_layers, on = m->dropout_on;
    float ph = c->hidden_dropout, pa = c->attention_dropout;
    float po = c->model_type == BERT_ARCH_DISTILBERT ? 0.0f : ph; /* attention output dropout */
    size_t N = (size_t)B * T, NC = N * C, NF = N * F;
#define KEEP(ptr, prob) ((on && (prob) > 0.0f) ? (ptr) : NULL)

    /* the head: dlogits -> its gradients and d(last hidden state) in m->dres */
    if (m->prof) m->prof->phase = BERT_PROF_BACKWARD;
    PROF(m, BERT_PROF_HEAD, bert_head_of(c->task)->backward(m, m->h + (size_t)L * NC));
    if (m->grad_ready) m->grad_ready(m->grad_ready_ctx, L);

    /* layers, last to first; m->dres holds d(layer output) on entry, d(layer input) on exit */
    for (int l = L - 1; l >= 0; l--) {
        layer_acts a;
        layer_view(m, l, NULL, &a);
        /* recomputing: layer l's activations again from its stored input. It also
         * rewrites h[l+1] with the same bits; its readers (layer l+1, the pooler)
         * have already run their backward. */
        if (m->recompute) layer_forward(m, l, &a, NULL, on ? MASKS_REUSE : MASKS_NONE);
        float *inp = a.inp, *qkv = a.qkv, *atty = a.atty, *ln1 = a.ln1, *fch = a.fch, *fchg = a.fchg;
        float *att = a.att, *res1 = a.res1, *res2 = a.res2;
        size_t wq = (size_t)l * 3 * C * C, wc = (size_t)l * C * C, wf = (size_t)l * F * C;
        size_t lC = (size_t)l * C;

        /* out = LN2(res2), res2 = ln1 + dropout(fchg W_p^T + b) */
        PROF(m, BERT_PROF_ZERO, zero_par(m->dtmp, NC));
        PROF(m, BERT_PROF_NORM,
             ops->layernorm_backward(m->dtmp, g->ln2w + lC, g->ln2b + lC, m->dres, res2, p->ln2w + lC,
                                     a.m2, a.r2, (int)N, C));
        PROF(m, BERT_PROF_ZERO,
             memcpy(m->dln1, m->dtmp, NC * sizeof(float)); /* the residual path */
             zero_par(m->dproj, NC));
        PROF(m, BERT_PROF_DROPOUT, ops->dropout_backward(m->dproj, m->dtmp, KEEP(a.res2_keep, ph), ph, NC));
        /* gelu(fch) again (bit-identical to the forward's), here with gelu' kept
         * in dfch where the kernels have it: one erf for both */
        int keep_grad = !m->recompute && ops->gelu_forward_keep_grad;
        PROF(m, BERT_PROF_GELU, {
            if (keep_grad) ops->gelu_forward_keep_grad(fchg, m->dfch, fch, NF);
            else if (!m->recompute) ops->gelu_forward(fchg, fch, NF);
        });
        PROF(m, BERT_PROF_ZERO, zero_par(m->dfchg, NF));
        PROF(m, BERT_PROF_DENSE,
             ops->dense_backward(m->bf16, m->dfchg, g->fc_outw + wf, g->fc_outb + lC, m->dproj, fchg,
                                 p->fc_outw + wf, (int)N, F, C));
        PROF(m, BERT_PROF_GELU, {
            if (keep_grad) {
                ops->gelu_backward_from_grad(m->dfch, m->dfchg, NF);
            } else {
                zero_par(m->dfch, NF);
                ops->gelu_backward(m->dfch, fch, m->dfchg, NF);
            }
        });
        PROF(m, BERT_PROF_DENSE,
             ops->dense_backward(m->bf16, m->dln1, g->fcw + wf, g->fcb + (size_t)l * F, m->dfch, ln1, p->fcw + wf,
                                 (int)N, C, F));

        /* ln1 = LN1(res1), res1 = inp + dropout(atty W_o^T + b) */
        PROF(m, BERT_PROF_ZERO, zero_par(m->dtmp, NC));
        PROF(m, BERT_PROF_NORM,
             ops->layernorm_backward(m->dtmp, g->ln1w + lC, g->ln1b + lC, m->dln1, res1, p->ln1w + lC,
                                     a.m1, a.r1, (int)N, C));
        PROF(m, BERT_PROF_ZERO,
             memcpy(m->dres, m->dtmp, NC * sizeof(float)); /* the residual path */
             zero_par(m->dproj, NC));
        PROF(m, BERT_PROF_DROPOUT, ops->dropout_backward(m->dproj, m->dtmp, KEEP(a.res1_keep, po), po, NC));
        PROF(m, BERT_PROF_ZERO, zero_par(m->datty, NC));
        PROF(m, BERT_PROF_DENSE,
             ops->dense_backward(m->bf16, m->datty, g->attn_outw + wc, g->attn_outb + lC, m->dproj, atty,
                                 p->attn_outw + wc, (int)N, C, C));
        PROF(m, BERT_PROF_ZERO, zero_par(m->dqkv, N * 3 * C));
        PROF(m, BERT_PROF_ATTENTION,
             ops->attention_backward(m->bf16, m->dqkv, m->datty, qkv, att, KEEP(a.att_keep, pa), pa,
                                     m->scratch, m->nthreads, B, T, C, NH));
        PROF(m, BERT_PROF_DENSE,
             ops->dense_backward(m->bf16, m->dres, g->qkvw + wq, g->qkvb + (size_t)l * 3 * C, m->dqkv, inp,
                                 p->qkvw + wq, (int)N, C, 3 * C));
        if (m->grad_ready) m->grad_ready(m->grad_ready_ctx, l);
    }

    /* embeddings: h0 = dropout(LN(emb)) */
    PROF(m, BERT_PROF_ZERO, zero_par(m->dtmp, NC));
    PROF(m, BERT_PROF_DROPOUT, ops->dropout_backward(m->dtmp, m->dres, KEEP(m->emb_keep, ph), ph, NC));
    PROF(m, BERT_PROF_ZERO, zero_par(m->dproj, NC));
    PROF(m, BERT_PROF_NORM,
         ops->layernorm_backward(m->dproj, g->emb_lnw, g->emb_lnb, m->dtmp, m->emb, p->emb_lnw, m->emb_mean,
                                 m->emb_rstd, (int)N, C));
    /* no token types: the zero row's gradient goes to a sink nobody reads */
    PROF(m, BERT_PROF_EMBED,
         ops->embeddings_backward(g->wte, g->wpe, c->type_vocab_size > 0 ? g->wtt : m->dtt_sink, m->dproj,
                                  m->ids, m->tts, B, T, C));
    /* nn.Embedding(padding_idx=pad_token_id): transformers never updates the
     * [PAD] row's gradient. Classification cannot reach it (no output reads a
     * padded position), but QA's softmax over all T positions does. */
    if (c->pad_token_id >= 0 && c->pad_token_id < c->vocab_size)
        memset(g->wte + (size_t)c->pad_token_id * C, 0, (size_t)C * sizeof(float));
    if (m->grad_ready) m->grad_ready(m->grad_ready_ctx, -1);
#undef KEEP
}

/* The head's loss and dlogits, then the backward below it. */
int bert_head_backward(bert_model *m, const bert_targets *y, float *loss, bertc_err *err) {
    if (!m->training || !m->grads_memory)
        return bertc_fail(err, BERTC_ERR_ARG, "bert_backward: the model was built for inference (training = 0)");
    if (m->B < 1) return bertc_fail(err, BERTC_ERR_ARG, "bert_backward: no forward pass to take the loss of");
    if (!y) return bertc_fail(err, BERTC_ERR_ARG, "bert_backward: no targets");
    int rc;
    if (m->prof) m->prof->phase = BERT_PROF_BACKWARD;
    PROF(m, BERT_PROF_HEAD, rc = bert_head_of(m->cfg.task)->loss(m, y, loss, m->dlogits, err));
    if (rc) return rc;
    backward_from_dlogits(m);
    return BERTC_OK;
}

int bert_backward(bert_model *m, const int *labels, const float *class_weights,
                  float *loss, bertc_err *err) {
    if (m->cfg.task != BERT_TASK_TEXT_CLS)
        return bertc_fail(err, BERTC_ERR_ARG, "bert_backward: the model's head is %s; use bert_head_backward",
                          bert_head_of(m->cfg.task)->name);
    if (m->cfg.problem_type == BERT_PROBLEM_MULTI_LABEL)
        return bertc_fail(err, BERTC_ERR_ARG,
                          "bert_backward: the model is multi-label (problem_type); use bert_backward_multilabel");
    bert_targets y = {.labels = labels, .class_weights = class_weights};
    return bert_head_backward(m, &y, loss, err);
}

static size_t logits_count(const bert_model *m) {
    size_t rows = bert_head_of(m->cfg.task)->per_token ? (size_t)m->B * m->T : (size_t)m->B;
    return rows * (size_t)m->cfg.num_labels;
}

int bert_backward_dlogits(bert_model *m, const float *dlogits, bertc_err *err) {
    if (!m->training || !m->grads_memory)
        return bertc_fail(err, BERTC_ERR_ARG, "bert_backward_dlogits: the model was built for inference (training = 0)");
    if (m->B < 1 || !dlogits) return bertc_fail(err, BERTC_ERR_ARG, "bert_backward_dlogits: no forward pass or no dlogits");
    size_t n = logits_count(m);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(dlogits[i])) return bertc_fail(err, BERTC_ERR_NUMERIC, "bert_backward_dlogits: dlogits[%zu] is %g", i, dlogits[i]);
    memcpy(m->dlogits, dlogits, n * sizeof(float));
    backward_from_dlogits(m);
    return BERTC_OK;
}

static int need_text_head(const bert_model *m, const char *fn, bertc_err *err) {
    if (m->cfg.task == BERT_TASK_TEXT_CLS) return BERTC_OK;
    return bertc_fail(err, BERTC_ERR_ARG, "%s: the model's head is %s, not text classification", fn,
                      bert_head_of(m->cfg.task)->name);
}

int bert_loss_multilabel(const bert_model *m, const float *targets, float *loss, bertc_err *err) {
    if (need_text_head(m, "bert_loss_multilabel", err)) return err->code;
    if (!targets) return bertc_fail(err, BERTC_ERR_ARG, "bert_loss_multilabel: no targets");
    bert_targets y = {.multi_hot = targets};
    return bert_head_loss(m, &y, loss, err);
}

int bert_backward_multilabel(bert_model *m, const float *targets, float *loss, bertc_err *err) {
    if (need_text_head(m, "bert_backward_multilabel", err)) return err->code;
    if (!targets) return bertc_fail(err, BERTC_ERR_ARG, "bert_loss_multilabel: no targets");
    bert_targets y = {.multi_hot = targets};
    return bert_head_backward(m, &y, loss, err);
}
