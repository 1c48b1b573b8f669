/* api.c: the public API of include/bertc.h over the classifier module. */
#include "../include/bertc.h"

#include "classifier.h"
#include "tasks/qa_infer.h"
#include "tasks/token_infer.h"

#include <stdlib.h>
#include <string.h>

const char *bertc_version(void) { return "0.1.0"; }

int bertc_open(bertc_classifier **out, const char *model, const bertc_options *opts, bertc_err *err) {
    bertc_classifier_opts o;
    bertc_classifier_opts_default(&o);
    if (opts) {
        if (opts->batch_size < 0 || opts->max_length < 0 || opts->truncation < 0 || opts->truncation > 2)
            return bertc_fail(err, BERTC_ERR_ARG,
                              "bertc_options: batch_size and max_length must be >= 0, truncation 0..2");
        if (opts->batch_size > 0) o.batch_size = opts->batch_size;
        o.max_length = opts->max_length;
        o.trunc = (bert_trunc)opts->truncation;
        o.pad_to_max = opts->pad_to_max_length != 0;
    }
    return bertc_classifier_open(out, model, &o, err);
}

void bertc_close(bertc_classifier *c) { bertc_classifier_free(c); }

int bertc_num_labels(const bertc_classifier *c) { return bertc_classifier_num_labels(c); }

const char *bertc_label(const bertc_classifier *c, int i) { return bertc_classifier_label(c, i); }

int bertc_has_trained_head(const bertc_classifier *c) { return !c->hf.new_head; }

int bertc_is_multi_label(const bertc_classifier *c) { return bertc_classifier_multi_label(c); }

int bertc_classify(bertc_classifier *c, const char *const *texts, const size_t *lens, int n, float *probs,
                   bertc_err *err) {
    return bertc_classifier_run(c, texts, lens, NULL, NULL, n, probs, NULL, err);
}

int bertc_classify_pairs(bertc_classifier *c, const char *const *texts, const size_t *lens,
                         const char *const *texts_b, const size_t *lens_b, int n, float *probs, bertc_err *err) {
    if (!texts_b || !lens_b) return bertc_fail(err, BERTC_ERR_ARG, "bertc_classify_pairs: texts_b and lens_b are required");
    return bertc_classifier_run(c, texts, lens, texts_b, lens_b, n, probs, NULL, err);
}

int bertc_model_task(const bertc_classifier *c) { return c ? c->hf.cfg.task : -1; }

struct bertc_entity_list {
    bertc_entity *ents;
    int n, strategy;
};

int bertc_entities(bertc_classifier *c, const char *text, size_t len, const char *aggregation,
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

int bertc_answer(bertc_classifier *c, const char *question, size_t qlen, const char *context, size_t clen,
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
