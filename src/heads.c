/* heads.c: the three task heads (heads.h), each as transformers computes it.
 *
 * text classification (BertForSequenceClassification):
 *   pooled = tanh(h[:,0] W_pool^T + b)    (DistilBERT: relu(h[:,0] W_pre^T + b))
 *   logits = dropout(pooled) W_cls^T + b                                 (B,NL)
 *   loss   = CE(logits, y) (weighted mean), or BCE with logits (multi-label)
 * token classification (BertForTokenClassification):
 *   logits = dropout(h) W_cls^T + b                                      (B,T,NL)
 *   loss   = mean over tokens with y != -100 of CE(logits[b,t], y[b,t])
 * question answering (BertForQuestionAnswering):
 *   logits = h W_qa^T + b  (DistilBERT: dropout(h) first)                (B,T,2)
 *   start = logits[..,0], end = logits[..,1]   (each (B,T))
 *   loss   = (CE(start, s) + CE(end, e)) / 2, positions clamped to [0,T],
 *            T ignored; the softmax runs over all T positions, padding too.
 * Cross-entropies are computed in double from the logits (log-sum-exp), their
 * gradients as (softmax - onehot) / count, as PyTorch's.
 */
#include "heads.h"
#include "bert_ops.h"
#include "ops_cpu.h"

#include <math.h>
#include <string.h>

/* ---- dropout choices (transformers' classes) ---- */

static float text_dropout(const bert_config *c) { return c->classifier_dropout; }
static float token_dropout(const bert_config *c) {
    return c->model_type == BERT_ARCH_DISTILBERT ? c->hidden_dropout : c->classifier_dropout;
}
static float qa_dropout(const bert_config *c) {
    return c->model_type == BERT_ARCH_DISTILBERT ? c->qa_dropout : 0.0f;
}

/* ---- text classification ---- */

static void text_forward(bert_model *m, const float *h, bertc_rng *rng) {
    const bert_config *c = &m->cfg;
    const bert_ops *ops = bert_ops_of(m);
    const bert_params *p = &m->params;
    int B = m->B, T = m->T, C = c->hidden_size, NL = c->num_labels;
    if (c->model_type == BERT_ARCH_DISTILBERT) {
        /* pooled = relu(h[:,0] W_pre^T + b) */
        for (int b = 0; b < B; b++) memcpy(m->cls_h + (size_t)b * C, h + (size_t)b * T * C, (size_t)C * sizeof(float));
        ops->matmul_forward(m->bf16, m->pooled, m->cls_h, p->poolw, p->poolb, B, C, C);
        for (size_t i = 0; i < (size_t)B * C; i++) m->pooled[i] = m->pooled[i] > 0.0f ? m->pooled[i] : 0.0f;
    } else {
        ops->pooler_forward(m->pooled, h, p->poolw, p->poolb, B, T, C);
    }
    float pc = text_dropout(c);
    const uint8_t *k = bert_draw_mask(m->cls_keep, rng, pc, (size_t)B * C);
    ops->dropout_forward(m->cls_in, m->pooled, k, pc, (size_t)B * C);
    ops->matmul_forward(m->bf16, m->logits, m->cls_in, p->clsw, p->clsb, B, C, NL);
    if (c->problem_type == BERT_PROBLEM_MULTI_LABEL)
        for (size_t i = 0; i < (size_t)B * NL; i++) m->probs[i] = 1.0f / (1.0f + expf(-m->logits[i]));
    else
        cpu_softmax_forward(m->probs, m->logits, B, NL);
}

static void text_backward(bert_model *m, const float *h) {
    const bert_config *c = &m->cfg;
    const bert_ops *ops = bert_ops_of(m);
    const bert_params *p = &m->params, *g = &m->grads;
    int B = m->B, T = m->T, C = c->hidden_size, NL = c->num_labels;
    float pc = text_dropout(c);
    size_t NC = (size_t)B * T * C;
    memset(m->dcls_in, 0, (size_t)B * C * sizeof(float));
    ops->matmul_backward(m->bf16, m->dcls_in, g->clsw, g->clsb, m->dlogits, m->cls_in, p->clsw, B, C, NL);
    memset(m->dpooled, 0, (size_t)B * C * sizeof(float));
    ops->dropout_backward(m->dpooled, m->dcls_in, BERT_KEPT(m, m->cls_keep, pc), pc, (size_t)B * C);
    memset(m->dres, 0, NC * sizeof(float));
    if (c->model_type == BERT_ARCH_DISTILBERT) {
        /* relu'(pre) = [pooled > 0]; the [CLS] rows' gradient lands on rows t = 0 of dres */
        for (size_t i = 0; i < (size_t)B * C; i++) m->dpooled[i] = m->pooled[i] > 0.0f ? m->dpooled[i] : 0.0f;
        memset(m->dcls_in, 0, (size_t)B * C * sizeof(float));
        ops->matmul_backward(m->bf16, m->dcls_in, g->poolw, g->poolb, m->dpooled, m->cls_h, p->poolw, B, C, C);
        for (int b = 0; b < B; b++)
            memcpy(m->dres + (size_t)b * T * C, m->dcls_in + (size_t)b * C, (size_t)C * sizeof(float));
    } else {
        ops->pooler_backward(m->dres, g->poolw, g->poolb, m->dpooled, m->pooled, h, p->poolw, B, T, C);
    }
}

static int check_labels(const bert_model *m, const int *labels, const float *cw, bertc_err *err) {
    int NL = m->cfg.num_labels;
    if (!labels) return bertc_fail(err, BERTC_ERR_ARG, "bert_loss: no labels");
    double wsum = 0;
    for (int b = 0; b < m->B; b++) {
        if (labels[b] < 0 || labels[b] >= NL)
            return bertc_fail(err, BERTC_ERR_ARG, "bert_loss: labels[%d] = %d outside 0..%d", b, labels[b], NL - 1);
        wsum += cw ? cw[labels[b]] : 1.0;
    }
    if (cw)
        for (int i = 0; i < NL; i++)
            if (!(cw[i] >= 0.0f) || !isfinite(cw[i]))
                return bertc_fail(err, BERTC_ERR_ARG, "bert_loss: class weight %d is %g; weights must be finite and >= 0", i, cw[i]);
    if (!(wsum > 0))
        return bertc_fail(err, BERTC_ERR_ARG, "bert_loss: the class weights of this batch's labels sum to 0");
    return BERTC_OK;
}

/* Multi-label: BCE with logits, the mean over all B x NL elements as PyTorch's
 * BCEWithLogitsLoss(): l = max(x,0) - x y + log(1 + exp(-|x|)). */
static int multilabel_loss(const bert_model *m, const float *targets, float *loss, float *dlogits, bertc_err *err) {
    if (!targets) return bertc_fail(err, BERTC_ERR_ARG, "bert_loss_multilabel: no targets");
    size_t n = (size_t)m->B * m->cfg.num_labels;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        float x = m->logits[i], y = targets[i];
        if (!(y >= 0.0f && y <= 1.0f))
            return bertc_fail(err, BERTC_ERR_ARG, "bert_loss_multilabel: targets[%zu] = %g, must be in [0, 1]", i, y);
        sum += (double)fmaxf(x, 0.0f) - (double)x * y + log1p(exp(-fabs((double)x)));
    }
    float l = (float)(sum / (double)n);
    if (loss) *loss = l;
    if (!isfinite(l)) return bertc_fail(err, BERTC_ERR_NUMERIC, "bert_loss_multilabel: the loss is %g", l);
    if (dlogits) {
        float inv = 1.0f / (float)n;
        for (size_t i = 0; i < n; i++) {
            float sig = 1.0f / (1.0f + expf(-m->logits[i]));
            dlogits[i] = (sig - targets[i]) * inv;
        }
    }
    return BERTC_OK;
}

static int text_loss(const bert_model *m, const bert_targets *y, float *loss, float *dlogits, bertc_err *err) {
    if (y->multi_hot || m->cfg.problem_type == BERT_PROBLEM_MULTI_LABEL)
        return multilabel_loss(m, y->multi_hot, loss, dlogits, err);
    int rc = check_labels(m, y->labels, y->class_weights, err);
    if (rc) return rc;
    int B = m->B, NL = m->cfg.num_labels;
    /* PyTorch's weighted mean: sum_b w[y_b] l_b / sum_b w[y_b] */
    const float *cw = y->class_weights;
    double den = 0, num = 0;
    for (int b = 0; b < B; b++) den += cw ? cw[y->labels[b]] : 1.0;
    if (dlogits) memset(dlogits, 0, (size_t)B * NL * sizeof(float));
    for (int b = 0; b < B; b++) {
        double wy = cw ? cw[y->labels[b]] : 1.0;
        num += wy * cpu_crossentropy_row(m->logits + (size_t)b * NL, NL, 1, y->labels[b],
                                         dlogits ? dlogits + (size_t)b * NL : NULL, wy / den);
    }
    float l = (float)(num / den);
    if (loss) *loss = l;
    if (!isfinite(l)) return bertc_fail(err, BERTC_ERR_NUMERIC, "bert_loss: the loss is %g", l);
    return BERTC_OK;
}

/* ---- per-token heads: token classification and question answering ---- */

/* logits (N,NL) = dropout(h) W^T + b over all N = B*T tokens. */
static void token_linear_forward(bert_model *m, const float *h, bertc_rng *rng, float p) {
    const bert_ops *ops = bert_ops_of(m);
    int C = m->cfg.hidden_size, NL = m->cfg.num_labels;
    size_t N = (size_t)m->B * m->T;
    const uint8_t *k = bert_draw_mask(m->cls_keep, rng, p, N * C);
    ops->dropout_forward(m->cls_in, h, k, p, N * C);
    ops->matmul_forward(m->bf16, m->logits, m->cls_in, m->params.clsw, m->params.clsb, (int)N, C, NL);
    cpu_softmax_forward(m->probs, m->logits, (int)N, NL);
}

static void token_linear_backward(bert_model *m, float p) {
    const bert_ops *ops = bert_ops_of(m);
    int C = m->cfg.hidden_size, NL = m->cfg.num_labels;
    size_t N = (size_t)m->B * m->T, NC = N * C;
    memset(m->dcls_in, 0, NC * sizeof(float));
    ops->matmul_backward(m->bf16, m->dcls_in, m->grads.clsw, m->grads.clsb, m->dlogits, m->cls_in, m->params.clsw, (int)N,
                         C, NL);
    memset(m->dres, 0, NC * sizeof(float));
    ops->dropout_backward(m->dres, m->dcls_in, BERT_KEPT(m, m->cls_keep, p), p, NC);
}

static void token_forward(bert_model *m, const float *h, bertc_rng *rng) {
    token_linear_forward(m, h, rng, token_dropout(&m->cfg));
}
static void token_backward(bert_model *m, const float *h) {
    (void)h;
    token_linear_backward(m, token_dropout(&m->cfg));
}
static void qa_forward(bert_model *m, const float *h, bertc_rng *rng) {
    token_linear_forward(m, h, rng, qa_dropout(&m->cfg));
}
static void qa_backward(bert_model *m, const float *h) {
    (void)h;
    token_linear_backward(m, qa_dropout(&m->cfg));
}

static int token_loss(const bert_model *m, const bert_targets *y, float *loss, float *dlogits, bertc_err *err) {
    const int *lab = y->labels;
    int NL = m->cfg.num_labels;
    size_t N = (size_t)m->B * m->T, count = 0;
    if (!lab) return bertc_fail(err, BERTC_ERR_ARG, "token classification loss: no labels");
    for (size_t i = 0; i < N; i++) {
        if (lab[i] == -100) continue;
        if (lab[i] < 0 || lab[i] >= NL)
            return bertc_fail(err, BERTC_ERR_ARG,
                              "token classification loss: labels[%zu] = %d outside 0..%d (or -100: not scored)", i,
                              lab[i], NL - 1);
        count++;
    }
    if (dlogits) memset(dlogits, 0, N * NL * sizeof(float));
    double sum = 0, scale = count ? 1.0 / (double)count : 0.0;
    for (size_t i = 0; i < N; i++)
        if (lab[i] != -100)
            sum += cpu_crossentropy_row(m->logits + i * NL, NL, 1, lab[i], dlogits ? dlogits + i * NL : NULL, scale);
    float l = count ? (float)(sum / (double)count) : NAN;
    if (loss) *loss = l;
    if (!isfinite(l))
        return bertc_fail(err, BERTC_ERR_NUMERIC, "token classification loss is %g (%zu tokens scored)", l, count);
    return BERTC_OK;
}

static int qa_loss(const bert_model *m, const bert_targets *y, float *loss, float *dlogits, bertc_err *err) {
    int B = m->B, T = m->T;
    if (!y->start || !y->end) return bertc_fail(err, BERTC_ERR_ARG, "question answering loss: no start/end positions");
    if (dlogits) memset(dlogits, 0, (size_t)B * T * 2 * sizeof(float));
    double total = 0;
    for (int which = 0; which < 2; which++) {
        const int *pos = which ? y->end : y->start;
        int count = 0;
        for (int b = 0; b < B; b++) count += (pos[b] < 0 ? 0 : pos[b] > T ? T : pos[b]) != T;
        double sum = 0, scale = count ? 0.5 / count : 0.0;
        for (int b = 0; b < B; b++) {
            int p = pos[b] < 0 ? 0 : pos[b] > T ? T : pos[b];
            if (p == T) continue;
            const float *x = m->logits + (size_t)b * T * 2 + which;
            sum += cpu_crossentropy_row(x, T, 2, p, dlogits ? dlogits + (size_t)b * T * 2 + which : NULL, scale);
        }
        total += count ? sum / count : NAN;
    }
    float l = (float)(total / 2.0);
    if (loss) *loss = l;
    if (!isfinite(l)) return bertc_fail(err, BERTC_ERR_NUMERIC, "question answering loss is %g", l);
    return BERTC_OK;
}

/* ---- the table ---- */

static const bert_head HEADS[BERT_NUM_TASKS] = {
    [BERT_TASK_TEXT_CLS] = {
        .task = BERT_TASK_TEXT_CLS, .name = "text-classification",
        .arch_class = {"BertForSequenceClassification", "DistilBertForSequenceClassification"},
        .out_tensor = "classifier", .has_pooler = 1, .per_token = 0, .fixed_labels = 0,
        .dropout = text_dropout, .forward = text_forward, .backward = text_backward, .loss = text_loss},
    [BERT_TASK_TOKEN_CLS] = {
        .task = BERT_TASK_TOKEN_CLS, .name = "token-classification",
        .arch_class = {"BertForTokenClassification", "DistilBertForTokenClassification"},
        .out_tensor = "classifier", .has_pooler = 0, .per_token = 1, .fixed_labels = 0,
        .dropout = token_dropout, .forward = token_forward, .backward = token_backward, .loss = token_loss},
    [BERT_TASK_QA] = {
        .task = BERT_TASK_QA, .name = "question-answering",
        .arch_class = {"BertForQuestionAnswering", "DistilBertForQuestionAnswering"},
        .out_tensor = "qa_outputs", .has_pooler = 0, .per_token = 1, .fixed_labels = 2,
        .dropout = qa_dropout, .forward = qa_forward, .backward = qa_backward, .loss = qa_loss},
};

const bert_head *bert_head_of(int task) {
    return task >= 0 && task < BERT_NUM_TASKS ? &HEADS[task] : &HEADS[BERT_TASK_TEXT_CLS];
}

const bert_head *bert_head_by_name(const char *name) {
    for (int i = 0; name && i < BERT_NUM_TASKS; i++)
        if (strcmp(name, HEADS[i].name) == 0) return &HEADS[i];
    return NULL;
}

const bert_head *bert_head_by_class(const char *cls, int *model_type) {
    for (int i = 0; cls && i < BERT_NUM_TASKS; i++)
        for (int a = 0; a < 2; a++)
            if (strcmp(cls, HEADS[i].arch_class[a]) == 0) {
                if (model_type) *model_type = a;
                return &HEADS[i];
            }
    return NULL;
}

const char *bert_head_names(void) { return "text-classification|token-classification|question-answering"; }
