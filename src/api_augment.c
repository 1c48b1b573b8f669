/* api_augment.c: bertc_augment of include/bertc.h over augment.h and data.h:
 * load (and limit) a data set, augment it with EDA or contextual substitution,
 * write it in the input's format or the one asked for. */
#include "../include/bertc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "data.h"

void bertc_augment_options_init(bertc_augment_options *o) {
    memset(o, 0, sizeof *o);
    o->method = "eda";
    o->seed = 42;
    o->text_column = "text";
    o->label_column = "label";
}

/* The format to write: output_format, else what output's extension names, else
 * the input's (an aclImdb input has no file format of its own: by extension). */
static const char *output_format(const char *asked, const char *out, const bertc_dataset *ds) {
    if (asked && *asked && strcmp(asked, "auto") != 0) return asked;
    const char *dot = strrchr(out, '.');
    static const char *const named[] = {".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".txt", ".ft", ".fasttext", NULL};
    for (int i = 0; dot && named[i]; i++)
        if (strcmp(dot, named[i]) == 0) return "auto";
    return strcmp(ds->format, "imdb") == 0 ? "auto" : ds->format;
}

int bertc_augment(const bertc_augment_options *o, int *examples_in, int *examples_out, bertc_err *err) {
    if (!o->data_file || !*o->data_file) return bertc_fail(err, BERTC_ERR_ARG, "data_file: required");
    if (!o->output_file || !*o->output_file) return bertc_fail(err, BERTC_ERR_ARG, "output_file: required");
    if (o->output_format && *o->output_format && strcmp(o->output_format, "auto") != 0 &&
        strcmp(o->output_format, "csv") != 0 && strcmp(o->output_format, "tsv") != 0 &&
        strcmp(o->output_format, "jsonl") != 0 && strcmp(o->output_format, "fasttext") != 0)
        return bertc_fail(err, BERTC_ERR_ARG, "output_format: must be one of auto|csv|tsv|jsonl|fasttext, got '%s'",
                          o->output_format);
    if (o->n < 0 || o->n > 1000) return bertc_fail(err, BERTC_ERR_ARG, "n: must be in [0, 1000], got %d", o->n);
    if (o->limit < 0) return bertc_fail(err, BERTC_ERR_ARG, "limit: must be >= 0 (0 = all)");
    if (o->threads < 0 || o->threads > 1024) return bertc_fail(err, BERTC_ERR_ARG, "threads: must be in [0, 1024]");
    bertc_augment_opts a;
    bertc_augment_opts_default(&a);
    a.seed = o->seed;
    if (bertc_augment_parse(&a, o->method && *o->method ? o->method : "eda", err)) return bertc_err_prefix(err, "method");
    if (o->n > 0) a.n = o->n;
    if (a.method == BERTC_AUG_CONTEXTUAL) {
        if (!a.model[0]) {
            if (!o->model || !*o->model)
                return bertc_fail(err, BERTC_ERR_ARG, "model: contextual substitution needs a masked-LM folder");
            if (strlen(o->model) >= sizeof a.model) return bertc_fail(err, BERTC_ERR_ARG, "model: path too long");
            snprintf(a.model, sizeof a.model, "%s", o->model);
        }
        /* before the data: a folder without a head cannot do it */
        if (bertc_augment_need_mlm_head(a.model, err)) return err->code;
    } else if (bertc_wordnet_open(err))
        return err->code;
    bertc_set_threads(o->threads);
    bertc_data_opts d;
    bertc_data_opts_default(&d);
    if (o->format && *o->format && strcmp(o->format, "auto") != 0) d.format = o->format;
    if (o->text_column) d.text_column = o->text_column;
    if (o->label_column) d.label_column = o->label_column;
    d.text_pair_column = o->text_pair_column;
    bertc_dataset ds = {0};
    if (bertc_data_load(&ds, o->data_file, "test", &d, err)) return err->code;
    int rc = o->limit > 0 ? bertc_data_shuffle_limit(&ds, o->seed, o->limit, err) : BERTC_OK;
    int n0 = ds.n;
    if (!rc) rc = bertc_augment_dataset(&ds, &a, err);
    if (!rc) {
        const char *fmt = output_format(o->output_format, o->output_file, &ds);
        if (bertc_data_write(&ds, o->output_file, fmt, &d, err)) rc = bertc_err_prefix(err, "output_file");
    }
    if (!rc && examples_in) *examples_in = n0;
    if (!rc && examples_out) *examples_out = ds.n;
    bertc_data_free(&ds);
    return rc;
}
