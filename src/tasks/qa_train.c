/* qa_train.c: extractive question answering as the trainer asks it
 * (train_task.h), as transformers' run_qa.py trains BertForQuestionAnswering:
 *   data     SQuAD v1.1 / v2.0 JSON or the JSON Lines form (qa_data.h);
 *            --train-limit / --eval-limit keep the first N questions after a
 *            seeded shuffle
 *   encode   prepare_train_features: every window of every question
 *            (--max-length, --doc-stride; padded to --max-length with
 *            --pad-to-max-length, as run_qa's --pad_to_max_length) is one
 *            training sequence; run_qa's start/end labels are its targets,
 *            its edge case included (docs/tasks-qa.md)
 *   loss     (CE(start) + CE(end)) / 2 over the batch (heads.h)
 *   metrics  the loss over the evaluation windows (with the same labels), then
 *            postprocess_qa_predictions over all windows of each question
 *            (n_best_size 20, max_answer_length 30, threshold 0) and the
 *            official SQuAD script: v1.1 exact_match/f1, or v2.0 exact/f1 with
 *            HasAns/NoAns when any question (train or eval) has no answer.
 *            train_eval.f1 = F1 (0..100, as run_qa logs eval_f1),
 *            train_eval.accuracy = exact match / 100 (0..1), and
 *            eval_exact_match (v1) or eval_exact (v2) = exact match (0..100).
 */
#include "train_task.h"
#include "dist.h"
#include "heads.h"
#include "tasks/qa_data.h"
#include "tasks/qa_decode.h"
#include "tasks/qa_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define info bertc_trainer_info

typedef struct qa_state {
    bertc_qa_set train_all, eval_all; /* as read (own the strings) */
    bertc_qa_set train, eval;         /* the kept questions: views (struct copies) of the above */
    bertc_qa_features fev;            /* the evaluation windows, kept for decoding */
    float *start_logits, *end_logits; /* (fev.F, fev.M) */
    bertc_qa_prediction *preds;       /* (eval.n) */
    const char **ptext;               /* (eval.n) */
    size_t *plen;                     /* (eval.n) */
    int v2;                           /* SQuAD v2.0: some question has no answer */
} qa_state;

static char label0[] = "LABEL_0", label1[] = "LABEL_1";
static char *qa_labels[2] = {label0, label1}; /* BertForQuestionAnswering's config: num_labels 2 */

static qa_state *st_of(trainer *t) { return (qa_state *)t->task_state; }

/* view = the first `limit` questions of all after a seeded shuffle (all when limit < 0). */
static int keep_view(bertc_qa_set *view, const bertc_qa_set *all, uint64_t seed, long limit, bertc_err *err) {
    int n = all->n;
    int keep = limit < 0 || limit >= n ? n : (int)limit;
    int *perm = malloc((size_t)(n > 0 ? n : 1) * sizeof *perm);
    view->ex = malloc((size_t)(n > 0 ? n : 1) * sizeof *view->ex);
    if (!perm || !view->ex) {
        free(perm);
        return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < n; i++) perm[i] = i;
    if (keep < n) {
        bertc_rng r;
        bertc_rng_seed(&r, seed);
        bertc_rng_shuffle(&r, perm, n);
    }
    for (int i = 0; i < keep; i++) view->ex[i] = all->ex[perm[i]];
    view->n = keep;
    view->format = all->format;
    free(perm);
    return BERTC_OK;
}

static int any_impossible(const bertc_qa_set *s) {
    for (int i = 0; i < s->n; i++)
        if (s->ex[i].n_answers == 0) return 1;
    return 0;
}

static int qa_load(trainer *t, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    if (o->multi_label) return bertc_fail(err, BERTC_ERR_ARG, "--multi-label: not for --task question-answering");
    if (o->long_text != BERTC_LONG_TRUNCATE)
        return bertc_fail(err, BERTC_ERR_ARG,
                          "--long-text: not for --task question-answering (long contexts are windowed by --doc-stride)");
    if (o->class_weights) return bertc_fail(err, BERTC_ERR_ARG, "--class-weights: not for --task question-answering");
    if (o->validation_split > 0)
        return bertc_fail(err, BERTC_ERR_ARG, "--validation-split: not for --task question-answering; give --eval");
    if (o->text_pair_column) return bertc_fail(err, BERTC_ERR_ARG, "--text-pair-column: not for --task question-answering");
    if (o->label_all_tokens) return bertc_fail(err, BERTC_ERR_ARG, "--label-all-tokens: not for --task question-answering");
    if (o->labels) return bertc_fail(err, BERTC_ERR_ARG, "--labels: not for --task question-answering (start and end are fixed)");
    if (o->format && strcmp(o->format, "auto") != 0 && strcmp(o->format, "jsonl") != 0)
        return bertc_fail(err, BERTC_ERR_ARG,
                          "--format: %s is not a question-answering format (SQuAD JSON or JSON Lines, told apart by "
                          "their content: leave --format out)", o->format);
    if (o->doc_stride < 0 || o->doc_stride >= o->max_length)
        return bertc_fail(err, BERTC_ERR_ARG, "--doc-stride: %d must be at least 0 and below --max-length (%d)",
                          o->doc_stride, o->max_length);
    qa_state *s = calloc(1, sizeof *s);
    if (!s) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    t->task_state = s;
    if (bertc_qa_read(&s->train_all, o->train, err)) return bertc_err_prefix(err, "--train");
    if (keep_view(&s->train, &s->train_all, o->seed, o->train_limit, err)) return bertc_err_prefix(err, "--train-limit");
    if (o->eval) {
        if (bertc_qa_read(&s->eval_all, o->eval, err)) return bertc_err_prefix(err, "--eval");
        if (keep_view(&s->eval, &s->eval_all, o->seed, o->eval_limit, err)) return bertc_err_prefix(err, "--eval-limit");
    }
    s->v2 = any_impossible(&s->train) || any_impossible(&s->eval);
    t->labels = qa_labels;
    t->num_labels = 2;
    t->n_train = s->train.n;
    t->n_eval = s->eval.n;
    t->has_eval = s->eval.n > 0;
    t->train_path = o->train;
    size_t bytes = 0;
    for (int i = 0; i < s->train_all.n; i++) bytes += s->train_all.ex[i].context_len + s->train_all.ex[i].question_len;
    for (int i = 0; i < s->eval_all.n; i++) bytes += s->eval_all.ex[i].context_len + s->eval_all.ex[i].question_len;
    t->text_bytes = bytes;
    if (t->has_eval)
        info(t, BERTC_TRAIN_INFO, "question answering: %s metrics (%s)", s->v2 ? "SQuAD v2.0" : "SQuAD v1.1",
             s->v2 ? "some questions have no answer: exact, f1, HasAns_*, NoAns_*" : "exact_match, f1");
    return BERTC_OK;
}

/* Appends n ints to *arr (cap *cap, used *used). */
static int push_ints(int **arr, int *cap, int used, const int32_t *v, int n) {
    if (used + n > *cap) {
        int c = (used + n) * 2 + 16;
        int *a = realloc(*arr, (size_t)c * sizeof *a);
        if (!a) return -1;
        *arr = a, *cap = c;
    }
    for (int k = 0; k < n; k++) (*arr)[used + k] = v[k];
    return 0;
}

static int qa_encode(trainer *t, int eval, encset *out, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    qa_state *s = st_of(t);
    const bertc_qa_set *set = eval ? &s->eval : &s->train;
    const char *path = eval ? o->eval : o->train;
    bertc_qa_opts qo;
    bertc_qa_opts_default(&qo);
    qo.max_length = o->max_length;
    qo.stride = o->doc_stride;
    qo.pad_to_max_length = o->pad_to_max_length;
    qo.lstrip_question = 1;
    bertc_qa_features ftr = {0}, *f = eval ? &s->fev : &ftr;
    int rc = bertc_qa_features_build(f, t->tok, set, &qo, err);
    if (rc) {
        bertc_qa_features_free(&ftr);
        return bertc_err_prefix(err, "%s", path);
    }
    size_t cap_tok = 0;
    int cap_seq = 0, cap_se = 0, cap_se2 = 0, edge = 0;
    out->n = f->F;
    out->elen = malloc((size_t)(f->F > 0 ? f->F : 1) * sizeof(int));
    if (!out->elen) rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < f->F && rc == BERTC_OK; i++) {
        const int32_t *ids = f->input_ids + (size_t)i * f->M, *ty = f->token_type_ids + (size_t)i * f->M;
        int n = f->len[i];
        out->elen[i] = n;
        rc = bertc_encset_push(out, &cap_tok, &cap_seq, ids, ty, NULL, n, path, err);
        if (rc == BERTC_OK && (push_ints(&out->start, &cap_se, i, f->start_positions + i, 1) ||
                               push_ints(&out->end, &cap_se2, i, f->end_positions + i, 1)))
            rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
        /* run_qa's edge case: a start walked past the window's context (docs/tasks-qa.md) */
        const int8_t *sq = f->sequence_ids + (size_t)i * f->M;
        int sp = f->start_positions[i];
        if (sp > 0 && (sp >= n || sq[sp] != 1)) edge++;
        if ((i & 255) == 0 && o->stop && *o->stop)
            rc = bertc_fail(err, BERTC_ERR_INTERRUPTED, "interrupted while tokenizing; nothing was written");
    }
    int windows = f->F;
    bertc_qa_features_free(&ftr); /* the training windows live on in out */
    if (rc) return rc;
    info(t, BERTC_TRAIN_INFO, "%s: %d questions -> %d windows (--max-length %d, --doc-stride %d%s)", path, set->n, windows,
         o->max_length, o->doc_stride, o->pad_to_max_length ? ", padded" : "");
    if (edge > 0)
        info(t, BERTC_TRAIN_INFO,
             "%s: %d windows have the answer start in their last context token; labelled as run_qa does (the "
             "row's last index)", path, edge);
    return BERTC_OK;
}

static int qa_prepare(trainer *t, bertc_err *err) {
    qa_state *s = st_of(t);
    if (!t->has_eval) return BERTC_OK;
    size_t cells = (size_t)(s->fev.F > 0 ? s->fev.F : 1) * (size_t)s->fev.M;
    s->start_logits = calloc(cells, sizeof(float));
    s->end_logits = calloc(cells, sizeof(float));
    s->preds = calloc((size_t)s->eval.n + 1, sizeof *s->preds);
    s->ptext = calloc((size_t)s->eval.n + 1, sizeof *s->ptext);
    s->plen = calloc((size_t)s->eval.n + 1, sizeof *s->plen);
    if (!s->start_logits || !s->end_logits || !s->preds || !s->ptext || !s->plen)
        return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory for the evaluation logits");
    return BERTC_OK;
}

static int qa_backward(trainer *t, int examples, float *loss, bertc_err *err) {
    (void)examples;
    bert_targets y = {.start = t->b_start, .end = t->b_end};
    return bert_head_backward(&t->m, &y, loss, err);
}

/* Evaluation: the loss as Trainer averages it (each batch's mean weighted by
 * its windows), then run_qa's postprocessing and the SQuAD metrics. */
static int qa_evaluate(trainer *t, train_eval *ev, bertc_err *err) {
    qa_state *s = st_of(t);
    int EB = t->o->eval_batch_size, M = s->fev.M;
    bert_model *m = &t->eval_model;
    bert_model_params_changed(m);
    double loss_sum = 0;
    long loss_n = 0;
    /* several ranks: this rank's batches; the windows' logits (0 where another
     * rank computes them) are summed below, then decoded as one set */
    int lo, hi;
    bertc_trainer_eval_share(t, (t->eval_set.n + EB - 1) / EB, &lo, &hi);
    if (t->nranks > 1) {
        memset(s->start_logits, 0, (size_t)t->eval_set.n * (size_t)M * sizeof(float));
        memset(s->end_logits, 0, (size_t)t->eval_set.n * (size_t)M * sizeof(float));
    }
    for (int st = lo * EB; st < t->eval_set.n && st < hi * EB; st += EB) {
        int B = t->eval_set.n - st < EB ? t->eval_set.n - st : EB;
        int T;
        if (bertc_trainer_eval_forward(t, st, B, &T, err)) return err->code;
        bert_targets y = {.start = t->b_start, .end = t->b_end};
        float l;
        if (bert_head_loss(m, &y, &l, err)) return err->code;
        loss_sum += (double)l * B;
        loss_n += B;
        for (int b = 0; b < B; b++) {
            float *rs = s->start_logits + (size_t)(st + b) * M, *re = s->end_logits + (size_t)(st + b) * M;
            int n = T < M ? T : M;
            for (int k = 0; k < n; k++) {
                rs[k] = m->logits[((size_t)b * T + (size_t)k) * 2];
                re[k] = m->logits[((size_t)b * T + (size_t)k) * 2 + 1];
            }
        }
    }
    if (t->nranks > 1) {
        double ls[2] = {loss_sum, (double)loss_n};
        size_t nl = (size_t)t->eval_set.n * (size_t)M;
        if (bertc_dist_sum_f32(s->start_logits, nl, err) || bertc_dist_sum_f32(s->end_logits, nl, err) ||
            bertc_dist_sum_f64(ls, 2, err))
            return err->code;
        loss_sum = ls[0], loss_n = (long)ls[1];
    }
        bertc_qa_postprocess_opts po;
    bertc_qa_postprocess_opts_default(&po);
    po.version_2_with_negative = s->v2;
    bertc_qa_predictions_free(s->preds, s->eval.n);
    memset(s->preds, 0, (size_t)s->eval.n * sizeof *s->preds);
    if (bertc_qa_postprocess(s->preds, &s->eval, &s->fev, s->start_logits, s->end_logits, &po, err))
        return bertc_err_prefix(err, "%s", t->o->eval);
    for (int i = 0; i < s->eval.n; i++) s->ptext[i] = s->preds[i].text, s->plen[i] = s->preds[i].text_len;
    bertc_qa_totals tot;
    if (bertc_qa_evaluate(&tot, &s->eval, s->ptext, s->plen, s->v2, err)) return bertc_err_prefix(err, "%s", t->o->eval);
    ev->loss = loss_n ? loss_sum / (double)loss_n : NAN;
    ev->f1 = tot.f1;
    ev->accuracy = tot.exact / 100.0;
    if (!s->v2) {
        ev->extra[0].key = "eval_exact_match";
        ev->extra[0].value = tot.exact;
        ev->nextra = 1;
    } else {
        /* NoAns_exact always equals NoAns_f1 (F1 is 1 iff both answers are empty) */
        ev->extra[0].key = "eval_exact";
        ev->extra[0].value = tot.exact;
        ev->extra[1].key = "eval_HasAns_exact";
        ev->extra[1].value = tot.has_total ? tot.has_exact : NAN;
        ev->extra[2].key = "eval_HasAns_f1";
        ev->extra[2].value = tot.has_total ? tot.has_f1 : NAN;
        ev->extra[3].key = "eval_NoAns_f1";
        ev->extra[3].value = tot.no_total ? tot.no_f1 : NAN;
        ev->nextra = 4;
    }
    return BERTC_OK;
}

static void qa_release(trainer *t) {
    qa_state *s = st_of(t);
    if (!s) return;
    if (s->preds) bertc_qa_predictions_free(s->preds, s->eval.n);
    free(s->preds);
    free(s->ptext);
    free(s->plen);
    free(s->start_logits);
    free(s->end_logits);
    bertc_qa_features_free(&s->fev);
    free(s->train.ex);
    free(s->eval.ex);
    bertc_qa_set_free(&s->train_all);
    bertc_qa_set_free(&s->eval_all);
    free(s);
    t->task_state = NULL;
    t->labels = NULL;
}

const train_task bertc_qa_train_task = {
    .task = BERT_TASK_QA,
    .load = qa_load,
    .encode = qa_encode,
    .prepare = qa_prepare,
    .backward = qa_backward,
    .evaluate = qa_evaluate,
    .release = qa_release,
};
