/* token_train.c: token classification (named-entity recognition) as the
 * trainer asks it (train_task.h), as transformers' run_ner.py trains
 * BertForTokenClassification:
 *   data     CoNLL columns or JSON Lines {"tokens", "ner_tags"} (token_data.h);
 *            the label list from --labels, else sorted unique tags
 *   encode   each sentence's words tokenized one by one (is_split_into_words),
 *            the tag on a word's first piece and -100 on the others (or, with
 *            --label-all-tokens, on every piece, B- turned into I-), cut at
 *            --max-length with the cut words counted and reported
 *   loss     cross-entropy over the scored tokens (heads.h)
 *   metrics  seqeval's entity precision/recall/F1 (micro) and token accuracy
 *            over words (token_metrics.h): a word's prediction is its first
 *            piece's argmax; a word cut by --max-length is predicted "O"
 */
#include "train_task.h"
#include "dist.h"
#include "heads.h"
#include "tasks/token_data.h"
#include "tasks/token_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define info bertc_trainer_info

typedef struct token_state {
    bertc_token_dataset train, eval;
    char **labels_given;
    int num_labels_given;
    int32_t *ev_wid;     /* evaluation tokens' word ids, the encset's layout (-1: no word) */
    size_t ev_wid_cap;
    int32_t **gold, **pred; /* (eval sentences) pointers into gold_mem / pred_mem */
    int32_t *pred_mem;
    int *lens;
} token_state;

static token_state *st_of(trainer *t) { return (token_state *)t->task_state; }

static int split_list(token_state *s, const char *list, bertc_err *err) {
    int k = 1;
    for (const char *p = list; *p; p++) k += *p == ',';
    s->labels_given = calloc((size_t)k, sizeof *s->labels_given);
    if (!s->labels_given) return bertc_fail(err, BERTC_ERR_NOMEM, "--labels: out of memory");
    const char *p = list;
    for (int i = 0; i < k; i++) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n == 0) return bertc_fail(err, BERTC_ERR_ARG, "--labels: empty label name in '%s'", list);
        if (!(s->labels_given[i] = strndup(p, n))) return bertc_fail(err, BERTC_ERR_NOMEM, "--labels: out of memory");
        s->num_labels_given++;
        p = c ? c + 1 : p + n;
    }
    return BERTC_OK;
}

static int token_load(trainer *t, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    if (o->multi_label) return bertc_fail(err, BERTC_ERR_ARG, "--multi-label: not for --task token-classification");
    if (o->long_text != BERTC_LONG_TRUNCATE)
        return bertc_fail(err, BERTC_ERR_ARG, "--long-text: not for --task token-classification (sentences are cut at --max-length)");
    if (o->class_weights) return bertc_fail(err, BERTC_ERR_ARG, "--class-weights: not for --task token-classification");
    if (o->validation_split > 0)
        return bertc_fail(err, BERTC_ERR_ARG, "--validation-split: not for --task token-classification; give --eval");
    if (o->text_pair_column) return bertc_fail(err, BERTC_ERR_ARG, "--text-pair-column: not for --task token-classification");
    token_state *s = calloc(1, sizeof *s);
    if (!s) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    t->task_state = s;
    const char *fmt = o->format && strcmp(o->format, "auto") != 0 ? o->format : NULL;
    if (fmt && strcmp(fmt, "conll") != 0 && strcmp(fmt, "jsonl") != 0)
        return bertc_fail(err, BERTC_ERR_ARG, "--format: %s is not a token-classification format (conll or jsonl)", fmt);
    if (o->labels && split_list(s, o->labels, err)) return err->code;
    if (bertc_token_data_load(&s->train, o->train, fmt, (const char *const *)s->labels_given, s->num_labels_given, err))
        return bertc_err_prefix(err, "--train");
    if (o->train_limit > 0 && bertc_token_data_shuffle_limit(&s->train, o->seed, o->train_limit, err))
        return bertc_err_prefix(err, "--train-limit");
    if (s->train.num_labels < 2)
        return bertc_fail(err, BERTC_ERR_FORMAT, "--train: %s: only one tag (%s); token classification needs two or more",
                          s->train.path, s->train.num_labels ? s->train.labels[0] : "none");
    if (o->eval) {
        if (bertc_token_data_load(&s->eval, o->eval, fmt, (const char *const *)s->train.labels, s->train.num_labels, err))
            return bertc_err_prefix(err, "--eval (tags must be among the training tags)");
        if (o->eval_limit > 0 && bertc_token_data_shuffle_limit(&s->eval, o->seed, o->eval_limit, err))
            return bertc_err_prefix(err, "--eval-limit");
    }
    t->labels = s->train.labels;
    t->num_labels = s->train.num_labels;
    t->n_train = s->train.n;
    t->n_eval = s->eval.n;
    t->has_eval = s->eval.n > 0;
    t->train_path = s->train.path;
    t->text_bytes = (size_t)(s->train.n_words + s->eval.n_words) * 16;
    return BERTC_OK;
}

static int token_encode(trainer *t, int eval, encset *set, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    token_state *s = st_of(t);
    const bertc_token_dataset *ds = eval ? &s->eval : &s->train;
    int32_t *b2i = NULL;
    if (!eval && o->label_all_tokens) {
        if (!(b2i = malloc((size_t)ds->num_labels * sizeof *b2i))) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
        if (bertc_token_b_to_i(b2i, (const char *const *)ds->labels, ds->num_labels, err)) {
            free(b2i);
            return err->code;
        }
    }
    size_t cap_tok = 0;
    int cap_seq = 0;
    set->n = ds->n;
    set->elen = malloc((size_t)(ds->n > 0 ? ds->n : 1) * sizeof(int));
    if (!set->elen) {
        free(b2i);
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", ds->path);
    }
    bertc_token_features f = {0};
    long cut_words = 0, cut_sents = 0;
    int rc = BERTC_OK;
    for (int i = 0; i < ds->n && rc == BERTC_OK; i++) {
        /* evaluation scores words, so it always labels first pieces only */
        rc = bertc_token_align(&f, t->tok, &ds->sent[i], o->max_length, eval ? NULL : b2i, err);
        if (rc) {
            bertc_err_prefix(err, "%s:%ld", ds->path, ds->sent[i].line);
            break;
        }
        cut_words += f.words_cut;
        cut_sents += f.words_cut > 0;
        set->elen[i] = f.n;
        rc = bertc_encset_push(set, &cap_tok, &cap_seq, f.input_ids, f.type_ids, f.labels, f.n, ds->path, err);
        if (rc == BERTC_OK && eval) {
            size_t at = set->off[set->nseq - 1];
            if (at + (size_t)f.n > s->ev_wid_cap) {
                size_t c = s->ev_wid_cap * 2 + (size_t)f.n + 1024;
                int32_t *w = realloc(s->ev_wid, c * sizeof *w);
                if (!w) {
                    rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", ds->path);
                    break;
                }
                s->ev_wid = w, s->ev_wid_cap = c;
            }
            memcpy(s->ev_wid + at, f.word_ids, (size_t)f.n * sizeof(int32_t));
        }
        if ((i & 255) == 0 && o->stop && *o->stop)
            rc = bertc_fail(err, BERTC_ERR_INTERRUPTED, "interrupted while tokenizing; nothing was written");
    }
    bertc_token_features_free(&f);
    free(b2i);
    if (rc) return rc;
    if (cut_words > 0)
        info(t, BERTC_TRAIN_WARN, "%s: %ld words in %ld sentences lost word pieces to --max-length %d%s", ds->path,
             cut_words, cut_sents, o->max_length,
             eval ? "; a word with no piece left is predicted O" : "; they are not trained on");
    return BERTC_OK;
}

static int token_prepare(trainer *t, bertc_err *err) {
    token_state *s = st_of(t);
    if (!t->has_eval) return BERTC_OK;
    int n = s->eval.n;
    s->gold = calloc((size_t)n + 1, sizeof *s->gold);
    s->pred = calloc((size_t)n + 1, sizeof *s->pred);
    s->lens = calloc((size_t)n + 1, sizeof *s->lens);
    s->pred_mem = malloc((size_t)(s->eval.n_words + 1) * sizeof *s->pred_mem);
    if (!s->gold || !s->pred || !s->lens || !s->pred_mem) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        s->gold[i] = s->eval.sent[i].tags;
        s->pred[i] = s->pred_mem + at;
        s->lens[i] = s->eval.sent[i].n;
        at += (size_t)s->eval.sent[i].n;
    }
    return BERTC_OK;
}

static int token_backward(trainer *t, int examples, float *loss, bertc_err *err) {
    (void)examples;
    bert_targets y = {.labels = t->b_tags};
    return bert_head_backward(&t->m, &y, loss, err);
}

/* Evaluation: the loss as Trainer averages it (each batch's mean over its
 * scored tokens, weighted by the batch's sentences), then seqeval over words. */
static int token_evaluate(trainer *t, train_eval *ev, bertc_err *err) {
    token_state *s = st_of(t);
    int EB = t->o->eval_batch_size, NL = t->num_labels;
    bert_model *m = &t->eval_model;
    bert_model_params_changed(m);
    for (long w = 0; w < s->eval.n_words; w++) s->pred_mem[w] = -1;
    double loss_sum = 0;
    long loss_n = 0;
    /* several ranks: this rank's batches; the word predictions (-1 where
     * another rank predicts) are merged below, then scored as one set */
    int lo, hi;
    bertc_trainer_eval_share(t, (t->eval_set.n + EB - 1) / EB, &lo, &hi);
    for (int st = lo * EB; st < t->eval_set.n && st < hi * EB; st += EB) {
        int B = t->eval_set.n - st < EB ? t->eval_set.n - st : EB;
        int T;
        if (bertc_trainer_eval_forward(t, st, B, &T, err)) return err->code;
        bert_targets y = {.labels = t->b_tags};
        float l;
        bertc_err le = {0};
        if (bert_head_loss(m, &y, &l, &le) == BERTC_OK) { /* a batch with no word left scores no loss */
            loss_sum += (double)l * B;
            loss_n += B;
        } else if (le.code != BERTC_ERR_NUMERIC) {
            *err = le;
            return err->code;
        }
        for (int b = 0; b < B; b++) {
            int i = st + b, n = t->eval_set.len[i];
            const int32_t *wid = s->ev_wid + t->eval_set.off[i];
            const int *tags = t->eval_set.tags + t->eval_set.off[i];
            for (int k = 0; k < n; k++) {
                if (tags[k] == -100 || wid[k] < 0) continue; /* first pieces carry the word's tag */
                const float *x = m->logits + ((size_t)b * T + (size_t)k) * NL;
                int best = 0;
                for (int c = 1; c < NL; c++)
                    if (x[c] > x[best]) best = c;
                s->pred[i][wid[k]] = best;
            }
        }
    }
    if (t->nranks > 1) {
        double ls[2] = {loss_sum, (double)loss_n};
        if (bertc_dist_max_i32(s->pred_mem, (size_t)s->eval.n_words, err) || bertc_dist_sum_f64(ls, 2, err))
            return err->code;
        loss_sum = ls[0], loss_n = (long)ls[1];
    }
    bertc_token_scores sc = {0};
    if (bertc_token_metrics(&sc, (const int32_t *const *)s->gold, (const int32_t *const *)s->pred, s->lens, s->eval.n,
                            (const char *const *)t->labels, NL, err))
        return err->code;
    ev->loss = loss_n ? loss_sum / (double)loss_n : NAN;
    ev->accuracy = sc.accuracy;
    ev->f1 = sc.f1;
    ev->extra[0].key = "eval_precision";
    ev->extra[0].value = sc.precision;
    ev->extra[1].key = "eval_recall";
    ev->extra[1].value = sc.recall;
    ev->nextra = 2;
    bertc_token_scores_free(&sc);
    return BERTC_OK;
}

static void token_release(trainer *t) {
    token_state *s = st_of(t);
    if (!s) return;
    bertc_token_data_free(&s->train);
    bertc_token_data_free(&s->eval);
    for (int i = 0; i < s->num_labels_given; i++) free(s->labels_given[i]);
    free(s->labels_given);
    free(s->ev_wid);
    free(s->gold);
    free(s->pred);
    free(s->pred_mem);
    free(s->lens);
    free(s);
    t->task_state = NULL;
}

const train_task bertc_token_train_task = {
    .task = BERT_TASK_TOKEN_CLS,
    .load = token_load,
    .encode = token_encode,
    .prepare = token_prepare,
    .backward = token_backward,
    .evaluate = token_evaluate,
    .release = token_release,
};
