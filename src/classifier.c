/* classifier.c: load once, classify in batches. */
#include "classifier.h"
#include "hub.h"
#include "ops_bf16.h"
#include "longtext.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void bertc_classifier_opts_default(bertc_classifier_opts *o) {
    memset(o, 0, sizeof *o);
    o->batch_size = 32;
    o->max_length = 0;
    o->trunc = BERT_TRUNC_HEAD;
    o->seed = 42;
    o->task = -1;
    o->allow_download = hub_downloads_allowed();
}

void bertc_classifier_free(bertc_classifier *c) {
    if (!c) return;
    if (c->enc)
        for (int i = 0; i < c->opts.batch_size; i++) bert_encoding_free(&c->enc[i]);
    free(c->enc);
    free(c->ids);
    free(c->types);
    free(c->mask);
    bert_model_free(&c->model);
    bert_tokenizer_free(c->tok);
    hf_model_free(&c->hf);
    free(c);
}

int bertc_classifier_open(bertc_classifier **out, const char *model, const bertc_classifier_opts *o,
                          bertc_err *err) {
    *out = NULL;
    bertc_classifier_opts defaults;
    if (!o) {
        bertc_classifier_opts_default(&defaults);
        o = &defaults;
    }
    if (o->batch_size < 1 || o->batch_size > 65536)
        return bertc_fail(err, BERTC_ERR_ARG, "batch size must be in 1..65536 (got %d)", o->batch_size);
    if (bert_precision_check(o->precision, err)) return err->code;
    bertc_classifier *c = calloc(1, sizeof *c);
    if (!c) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    c->opts = *o;
    hf_load_opts lo;
    hf_load_opts_default(&lo);
    lo.seed = o->seed;
    lo.task = o->task;
    lo.allow_download = o->allow_download;
    int rc = hf_model_load(&c->hf, model, &lo, err);
    if (rc == BERTC_OK) rc = hf_model_tokenizer(&c->tok, &c->hf, err);
    if (rc == BERTC_OK && bert_tokenizer_vocab_size(c->tok) > c->hf.cfg.vocab_size)
        rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: %d tokens but config.json vocab_size is %d",
                        c->hf.vocab_path, bert_tokenizer_vocab_size(c->tok), c->hf.cfg.vocab_size);
    if (rc != BERTC_OK) {
        bertc_classifier_free(c);
        return rc;
    }
    int P = c->hf.cfg.max_position;
    int L = o->max_length;
    if (L == 0) L = (c->hf.tok.model_max_length > 0 && c->hf.tok.model_max_length < P) ? c->hf.tok.model_max_length : P;
    if (L < 2 || L > P) {
        bertc_classifier_free(c);
        return bertc_fail(err, BERTC_ERR_ARG, "max length must be in 2..%d for this model (max_position_embeddings), got %d",
                          P, L);
    }
    c->opts.max_length = L;
    size_t BT = (size_t)o->batch_size * (size_t)L;
    c->enc = calloc((size_t)o->batch_size, sizeof *c->enc);
    c->ids = malloc(BT * sizeof *c->ids);
    c->types = malloc(BT * sizeof *c->types);
    c->mask = malloc(BT * sizeof *c->mask);
    if (!c->enc || !c->ids || !c->types || !c->mask) {
        bertc_classifier_free(c);
        return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory for a batch of %d x %d", o->batch_size, L);
    }
    rc = bert_model_build(&c->model, &c->hf.cfg, c->hf.params_memory, o->batch_size, L, 0, err);
    if (rc != BERTC_OK) {
        bertc_classifier_free(c);
        return rc;
    }
    c->opts.precision = bert_precision_resolve(o->precision);
    rc = bert_set_precision(&c->model, c->opts.precision, err);
    if (rc != BERTC_OK) {
        bertc_classifier_free(c);
        return rc;
    }
    *out = c;
    return BERTC_OK;
}

int bertc_classifier_num_labels(const bertc_classifier *c) { return c->hf.cfg.num_labels; }

const char *bertc_classifier_label(const bertc_classifier *c, int i) {
    return (i >= 0 && i < c->hf.cfg.num_labels) ? c->hf.cfg.id2label[i] : NULL;
}

int bertc_classifier_encode(bertc_classifier *c, const char *const *texts, const size_t *lens,
                            const char *const *texts_b, const size_t *lens_b, int B, int *T,
                            bertc_err *err) {
    if (B < 1 || B > c->opts.batch_size)
        return bertc_fail(err, BERTC_ERR_ARG, "batch of %d texts, expected 1..%d", B, c->opts.batch_size);
    int L = c->opts.max_length;
    for (int b = 0; b < B; b++) {
        const char *tb = texts_b ? texts_b[b] : NULL;
        size_t lb = texts_b ? lens_b[b] : 0;
        int rc = bert_encode(c->tok, texts[b], lens[b], tb, lb, L, c->opts.trunc, &c->enc[b], err);
        if (rc != BERTC_OK) return rc;
    }
    *T = c->opts.pad_to_max ? L : bert_batch_longest(c->enc, B);
    return bert_pad_batch(c->ids, c->types, c->mask, c->tok, c->enc, B, *T, err);
}

int bertc_classifier_run(bertc_classifier *c, const char *const *texts, const size_t *lens,
                         const char *const *texts_b, const size_t *lens_b, int n, float *probs,
                         float *logits, bertc_err *err) {
    int NL = c->hf.cfg.num_labels;
    if (c->hf.cfg.task != BERT_TASK_TEXT_CLS)
        return bertc_fail(err, BERTC_ERR_UNSUPPORTED, "%s: has a %s head; it does not classify texts", c->hf.dir,
                          c->hf.cfg.task == BERT_TASK_TOKEN_CLS ? "token-classification" : "question-answering");
    for (int start = 0; start < n; start += c->opts.batch_size) {
        int B = n - start < c->opts.batch_size ? n - start : c->opts.batch_size;
        int T = 0;
        int rc = bertc_classifier_encode(c, texts + start, lens + start, texts_b ? texts_b + start : NULL,
                                         lens_b ? lens_b + start : NULL, B, &T, err);
        if (rc != BERTC_OK) return rc;
        rc = bert_forward(&c->model, c->ids, c->types, c->mask, B, T, NULL, NULL, NULL, err);
        if (rc != BERTC_OK) return rc;
        memcpy(probs + (size_t)start * NL, c->model.probs, (size_t)B * NL * sizeof *probs);
        if (logits) memcpy(logits + (size_t)start * NL, c->model.logits, (size_t)B * NL * sizeof *logits);
    }
    return BERTC_OK;
}

int bertc_classifier_multi_label(const bertc_classifier *c) {
    return c->hf.cfg.problem_type == BERT_PROBLEM_MULTI_LABEL;
}

int bertc_classifier_run_long(bertc_classifier *c, const char *const *texts, const size_t *lens, int n, int stride,
                              int pool, float *probs, float *logits, bertc_err *err) {
    int NL = c->hf.cfg.num_labels, ml = bertc_classifier_multi_label(c);
    float x[BERT_MAX_LABELS];
    for (int i = 0; i < n; i++) {
        int rc = bertc_longtext_classify(&c->model, c->tok, texts[i], lens[i], c->opts.max_length, stride, pool, x, err);
        if (rc != BERTC_OK) return rc;
        float *p = probs + (size_t)i * NL;
        if (ml) {
            for (int k = 0; k < NL; k++) p[k] = (float)(1.0 / (1.0 + exp(-(double)x[k])));
        } else {
            double mx = x[0], z = 0;
            for (int k = 1; k < NL; k++)
                if (x[k] > mx) mx = x[k];
            for (int k = 0; k < NL; k++) z += exp((double)x[k] - mx);
            for (int k = 0; k < NL; k++) p[k] = (float)(exp((double)x[k] - mx) / z);
        }
        if (logits) memcpy(logits + (size_t)i * NL, x, (size_t)NL * sizeof *x);
    }
    return BERTC_OK;
}
