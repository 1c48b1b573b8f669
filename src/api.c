/* api.c: the public API of include/bertc.h over the classifier module. */
#include "../include/bertc.h"

#include "classifier.h"

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
