/* api.c: the public API of include/bertc.h over the classifier module. */
#include "../include/bertc.h"

#include "classifier.h"
#include "tasks/token_infer.h"

#include <stdlib.h>

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
