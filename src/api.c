/* api.c: the public API of include/bertc.h over the classifier module. */
#include "../include/bertc.h"

#include "classifier.h"
#include "tasks/qa_infer.h"
#include "tasks/token_infer.h"

#include <stdlib.h>
#include <string.h>

/* Errors on the handle (bertc_errmsg): a call on an open classifier runs with a
 * local error slot, then leaves its status and message on the handle and copies
 * them to the caller's slot, which may be NULL. */
static int on_handle(bertc_classifier *c, int rc, const bertc_err *e, bertc_err *err) {
    if (c) {
        if (rc == BERTC_OK) memset(&c->last_err, 0, sizeof c->last_err);
        else c->last_err = *e;
    }
    if (rc != BERTC_OK && err) *err = *e;
    return rc;
}

int bertc_errcode(const bertc_classifier *c) { return c ? c->last_err.code : BERTC_ERR_NOMEM; }

const char *bertc_errmsg(const bertc_classifier *c) { return c ? c->last_err.msg : "out of memory or no handle"; }

const char *bertc_version(void) { return "0.1.0"; }

int bertc_open(bertc_classifier **out, const char *model, const bertc_options *opts, bertc_err *err) {
    bertc_classifier_opts o;
    bertc_classifier_opts_default(&o);
    if (opts) {
        if (opts->batch_size < 0 || opts->max_length < 0 || opts->truncation < 0 || opts->truncation > 2)
            return bertc_fail(err, BERTC_ERR_ARG,
                              "bertc_options: batch_size and max_length must be >= 0, truncation 0..2");
        static const int prec[] = {BERT_PREC_FP32, BERT_PREC_BF16, BERT_PREC_INT8, BERT_PREC_AUTO};
        if (opts->precision < 0 || opts->precision > 3)
            return bertc_fail(err, BERTC_ERR_ARG, "bertc_options: precision must be a bertc_precision (0..3), got %d",
                              opts->precision);
        o.precision = prec[opts->precision];
        if (opts->batch_size > 0) o.batch_size = opts->batch_size;
        o.max_length = opts->max_length;
        o.trunc = (bert_trunc)opts->truncation;
        o.pad_to_max = opts->pad_to_max_length != 0;
        o.allow_download = opts->allow_download != 0;
    }
    return bertc_classifier_open(out, model, &o, err);
}

void bertc_close(bertc_classifier *c) { bertc_classifier_free(c); }

int bertc_num_labels(const bertc_classifier *c) { return bertc_classifier_num_labels(c); }

int bertc_model_precision(const bertc_classifier *c) {
    switch (c->opts.precision) {
    case BERT_PREC_BF16: return BERTC_PRECISION_BF16;
    case BERT_PREC_INT8: return BERTC_PRECISION_INT8;
    default: return BERTC_PRECISION_FP32;
    }
}

const char *bertc_label(const bertc_classifier *c, int i) { return bertc_classifier_label(c, i); }

int bertc_has_trained_head(const bertc_classifier *c) { return !c->hf.new_head; }

int bertc_is_multi_label(const bertc_classifier *c) { return bertc_classifier_multi_label(c); }

int bertc_classify(bertc_classifier *c, const char *const *texts, const size_t *lens, int n, float *probs,
                   bertc_err *err) {
    bertc_err e = {0};
    int rc = c ? bertc_classifier_run(c, texts, lens, NULL, NULL, n, probs, NULL, &e)
               : bertc_fail(&e, BERTC_ERR_ARG, "bertc_classify: NULL model");
    return on_handle(c, rc, &e, err);
}

int bertc_classify_pairs(bertc_classifier *c, const char *const *texts, const size_t *lens,
                         const char *const *texts_b, const size_t *lens_b, int n, float *probs, bertc_err *err) {
    bertc_err e = {0};
    int rc;
    if (!c) rc = bertc_fail(&e, BERTC_ERR_ARG, "bertc_classify_pairs: NULL model");
    else if (!texts_b || !lens_b) rc = bertc_fail(&e, BERTC_ERR_ARG, "bertc_classify_pairs: texts_b and lens_b are required");
    else rc = bertc_classifier_run(c, texts, lens, texts_b, lens_b, n, probs, NULL, &e);
    return on_handle(c, rc, &e, err);
}

int bertc_classify_logits(bertc_classifier *c, const char *const *texts, const size_t *lens,
                          const char *const *texts_b, const size_t *lens_b, int n, float *logits, bertc_err *err) {
    bertc_err e = {0};
    int rc;
    float *probs = NULL;
    if (!c || !logits || n < 0) rc = bertc_fail(&e, BERTC_ERR_ARG, "bertc_classify_logits: NULL model or logits, or n < 0");
    else if (!!texts_b != !!lens_b) rc = bertc_fail(&e, BERTC_ERR_ARG, "bertc_classify_logits: texts_b and lens_b go together");
    else if (!(probs = malloc(((size_t)n + 1) * (size_t)bertc_classifier_num_labels(c) * sizeof *probs)))
        rc = bertc_fail(&e, BERTC_ERR_NOMEM, "out of memory");
    else rc = bertc_classifier_run(c, texts, lens, texts_b, lens_b, n, probs, logits, &e);
    free(probs);
    return on_handle(c, rc, &e, err);
}

int bertc_model_task(const bertc_classifier *c) { return c ? c->hf.cfg.task : -1; }

struct bertc_entity_list {
    bertc_entity *ents;
    int n, strategy;
};

static int entities(bertc_classifier *c, const char *text, size_t len, const char *aggregation,
                    bertc_entity_list **out, bertc_err *err) {
    if (!c || !out || (!text && len)) return bertc_fail(err, BERTC_ERR_ARG, "bertc_entities: NULL model, text or out");
    int strategy = BERTC_TOKEN_SIMPLE;
    if (aggregation && bertc_token_strategy_parse(&strategy, aggregation, err)) return err->code;
    bertc_entity_list *l = calloc(1, sizeof *l);
    if (!l) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    l->strategy = strategy;
    const char *texts[1] = {text ? text : ""};
    int rc = bertc_token_entities(c, texts, &len, 1, strategy, &l->ents, &l->n, err);
    if (rc != BERTC_OK) {
        free(l);
        return rc;
    }
    *out = l;
    return BERTC_OK;
}

int bertc_entities(bertc_classifier *c, const char *text, size_t len, const char *aggregation,
                   bertc_entity_list **out, bertc_err *err) {
    bertc_err e = {0};
    return on_handle(c, entities(c, text, len, aggregation, out, &e), &e, err);
}

int bertc_entity_count(const bertc_entity_list *l) { return l ? l->n : 0; }

bertc_entity_view bertc_entity_at(const bertc_entity_list *l, int i) {
    bertc_entity_view v = {0};
    if (!l || i < 0 || i >= l->n) return v;
    v.entity = l->ents[i].entity;
    v.score = l->ents[i].score;
    v.start = l->ents[i].start;
    v.end = l->ents[i].end;
    v.word = l->ents[i].word;
    return v;
}

char *bertc_entities_json(const bertc_entity_list *l) {
    return l ? bertc_token_entities_json(l->ents, l->n, l->strategy) : NULL;
}

void bertc_entities_free(bertc_entity_list *l) {
    if (!l) return;
    bertc_token_entities_free(l->ents, l->n);
    free(l);
}

void bertc_qa_options_default(bertc_qa_options *o) {
    if (!o) return;
    bertc_qa_predict_opts d;
    bertc_qa_predict_opts_default(&d);
    o->top_k = d.decode.top_k;
    o->doc_stride = d.doc_stride;
    o->max_answer_len = d.decode.max_answer_len;
    o->max_seq_len = d.max_seq_len;
    o->max_question_len = d.max_question_len;
    o->handle_impossible_answer = d.decode.handle_impossible_answer;
    o->align_to_words = d.decode.align_to_words;
}

struct bertc_answer_list {
    int n;
    bertc_qa_answer *a; /* (n) */
    char **text;        /* (n) each answer's text, NUL-terminated */
    char *context;      /* a copy: the answers' byte offsets point into it */
};

void bertc_answers_free(bertc_answer_list *l) {
    if (!l) return;
    for (int i = 0; l->text && i < l->n; i++) free(l->text[i]);
    free(l->text);
    free(l->a);
    free(l->context);
    free(l);
}

static int answer(bertc_classifier *c, const char *question, size_t qlen, const char *context, size_t clen,
                  const bertc_qa_options *o, bertc_answer_list **out, bertc_err *err) {
    if (!c || !out) return bertc_fail(err, BERTC_ERR_ARG, "bertc_answer: NULL model or out");
    if (!question) return bertc_fail(err, BERTC_ERR_ARG, "bertc_answer: question is NULL");
    if (!context) return bertc_fail(err, BERTC_ERR_ARG, "bertc_answer: context is NULL");
    bertc_qa_predict_opts po;
    bertc_qa_predict_opts_default(&po);
    if (o) {
        po.decode.top_k = o->top_k;
        po.doc_stride = o->doc_stride;
        po.decode.max_answer_len = o->max_answer_len;
        po.max_seq_len = o->max_seq_len;
        po.max_question_len = o->max_question_len;
        po.decode.handle_impossible_answer = o->handle_impossible_answer != 0;
        po.decode.align_to_words = o->align_to_words != 0;
    }
    if (bertc_qa_check_model(c, err) || bertc_qa_predict_opts_resolve(&po, &po, c, err))
        return bertc_err_prefix(err, "bertc_answer");
    bertc_answer_list *l = calloc(1, sizeof *l);
    if (l) l->a = malloc((size_t)po.decode.top_k * sizeof *l->a);
    if (l) l->context = malloc(clen + 1);
    if (!l || !l->a || !l->context) {
        bertc_answers_free(l);
        return bertc_fail(err, BERTC_ERR_NOMEM, "bertc_answer: out of memory");
    }
    int rc = bertc_qa_answers(l->a, &l->n, c, question, qlen, context, clen, &po, NULL, err);
    if (rc != BERTC_OK) {
        l->n = 0;
        bertc_answers_free(l);
        return bertc_err_prefix(err, "bertc_answer");
    }
    memcpy(l->context, context, clen);
    l->context[clen] = '\0';
    l->text = calloc((size_t)l->n + 1, sizeof *l->text);
    for (int i = 0; l->text && i < l->n; i++) {
        l->text[i] = strndup(context + l->a[i].byte_start, (size_t)(l->a[i].byte_end - l->a[i].byte_start));
        if (!l->text[i]) {
            bertc_answers_free(l);
            return bertc_fail(err, BERTC_ERR_NOMEM, "bertc_answer: out of memory");
        }
    }
    if (!l->text) {
        bertc_answers_free(l);
        return bertc_fail(err, BERTC_ERR_NOMEM, "bertc_answer: out of memory");
    }
    *out = l;
    return BERTC_OK;
}

int bertc_answer(bertc_classifier *c, const char *question, size_t qlen, const char *context, size_t clen,
                 const bertc_qa_options *o, bertc_answer_list **out, bertc_err *err) {
    bertc_err e = {0};
    return on_handle(c, answer(c, question, qlen, context, clen, o, out, &e), &e, err);
}

int bertc_answer_count(const bertc_answer_list *l) { return l ? l->n : 0; }

bertc_answer_view bertc_answer_at(const bertc_answer_list *l, int i) {
    bertc_answer_view v = {0};
    if (!l || i < 0 || i >= l->n) return v;
    v.answer = l->text[i];
    v.score = l->a[i].score;
    v.start = l->a[i].start;
    v.end = l->a[i].end;
    v.byte_start = (size_t)l->a[i].byte_start;
    v.byte_end = (size_t)l->a[i].byte_end;
    return v;
}

char *bertc_answers_json(const bertc_answer_list *l) {
    return l ? bertc_qa_answers_json(l->a, l->n, l->context) : NULL;
}
