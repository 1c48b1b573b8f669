/* evaluate.h: what `bertc eval`, `bertc data` and `bertc attention` compute,
 * as library calls that write run-directory files (docs/run-dir.md).
 *
 * What it does:
 *  - eval: maps a data set's labels onto a model's, classifies it batch by
 *    batch with a bertc_classifier (truncated, or long texts by pooled
 *    windows), counts a confusion matrix and the cross-entropy into a
 *    bertc_metrics (constant memory in the size of the data) and streams
 *    predictions.jsonl; builds eval.json. Multi-label models: per-label counts,
 *    BCE and thresholded sigmoids into a bertc_mlmetrics instead.
 *  - data: examples per label and token lengths (mean, percentiles, histogram,
 *    share truncated at max_length); builds data.json.
 *  - attention: one layer's attention probabilities (one head or their mean)
 *    for one text, with its tokens, predicted label and score; attention.json.
 * What it does not: print, exit, draw charts (chart.h) or pick file names.
 *
 * Memory: the summaries and attention maps own their arrays; each has a _free
 * that is harmless on a zeroed struct. cJSON objects returned belong to the
 * caller (cJSON_Delete).
 *
 *     bertc_err err = {0};
 *     int by_pos = 0;
 *     if (bertc_eval_map_labels(&ds, c, &by_pos, &err)) ...
 *     bertc_metrics m = {0};
 *     bertc_metrics_init(&m, bertc_classifier_num_labels(c), &err);
 *     bertc_eval_opts o; bertc_eval_opts_default(&o);
 *     o.predictions_path = "run/predictions.jsonl";
 *     if (bertc_eval_run(c, &ds, &o, &m, &err)) ...
 *     cJSON *j = bertc_eval_json(&m, names, 2, &err);
 *     // multi-label model (ds loaded with opts.multi_label = 1):
 *     bertc_mlmetrics ml = {0};
 *     bertc_mlmetrics_init(&ml, bertc_classifier_num_labels(c), &err);
 *     if (bertc_eval_run_multilabel(c, &ds, &o, &ml, &err)) ...
 *     cJSON *j = bertc_eval_json_multilabel(&ml, names, 2, o.threshold, &err);
 */
#ifndef BERTC_EVALUATE_H
#define BERTC_EVALUATE_H

#include <signal.h>

#include <cjson/cJSON.h>
#include "classifier.h"
#include "data.h"
#include "metrics.h"

/* ---- eval ---- */

/* Maps ds's label ids onto the model's labels (id2label), in this order:
 *  1. by name: every label of ds is one of the model's names (or, where the
 *     model's names are not integers, an integer k < NL meaning id k), as
 *     bertc_data_map_labels does; ds->labels become the model's names;
 *  2. by position: the model's names are transformers' defaults LABEL_0 ..
 *     LABEL_{NL-1} and ds has exactly NL labels: data id i is model id i and
 *     ds keeps its own names (*by_position = 1, so the caller can say so);
 *  3. otherwise an error naming the file, the line and the label the model
 *     does not have. */
int bertc_eval_map_labels(bertc_dataset *ds, const bertc_classifier *c, int *by_position, bertc_err *err);

typedef struct bertc_eval_opts {
    const char *predictions_path;     /* NULL: none; else JSON lines, written atomically */
    const char *const *names;         /* (NL) label names for predictions; NULL: the model's */
    /* Called after each batch with the examples done so far; may be NULL. */
    void (*progress)(void *ctx, long done, long total);
    void *ctx;
    /* Polled before each batch; when it points at a non-zero value the run stops
     * with BERTC_ERR_INTERRUPTED and no predictions file (the CLI's SIGINT/SIGTERM). */
    volatile sig_atomic_t *stop;
    /* Long texts (--long-text chunks): 1 classifies each text by its overlapping
     * windows of c's max_length tokens (bertc_classifier_run_long) and scores the
     * pooled logits; 0 (default) truncates as c was opened (head, tail or
     * head+tail). Single texts only. */
    int chunks;
    int stride;       /* chunks: tokens shared by consecutive windows, 0..max_length-3;
                         < 0: max_length / 4 (the CLI's default) */
    int pool;         /* chunks: BERTC_POOL_MEAN (default) or BERTC_POOL_MAX (longtext.h) */
    /* Multi-label models: a label is predicted when its probability >= threshold
     * (0..1; bertc_eval_opts_default sets 0.5, as predict and train). */
    double threshold;
} bertc_eval_opts;

/* Zeroes o and sets threshold 0.5, stride -1 and mean pooling. */
void bertc_eval_opts_default(bertc_eval_opts *o);

/* Single-label models (softmax). Classifies every example of ds (labels already
 * mapped onto c's ids) in batches of c's batch size; adds each batch's
 * predictions (argmax, the first on ties) and losses (-log softmax(logits)[y],
 * computed from the logits, or with chunks the pooled logits, with
 * log-sum-exp) to m, which must be initialised with c's label count. Memory
 * does not grow with ds->n. With predictions_path, each example becomes one
 * line {"text", "label", "pred", "score", "probs"} in ds's order; the file
 * appears only when every line is written (temp file, fsync, rename). A
 * multi-label model or data set is BERTC_ERR_ARG (use the call below). o may be
 * NULL (the defaults). */
int bertc_eval_run(bertc_classifier *c, const bertc_dataset *ds, const bertc_eval_opts *o, bertc_metrics *m,
                   bertc_err *err);

/* Multi-label models (bertc_classifier_multi_label; sigmoid per label). As
 * bertc_eval_run, with each example's true labels as a 0/1 row (ds loaded with
 * multi_label, or a single-label data set's one-hot rows), predictions
 * probs >= o->threshold, and the loss BCE with logits averaged over the NL
 * labels, max(x, 0) - x y + log(1 + exp(-|x|)) (train.c's eval loss); m must be
 * initialised with c's label count. Lines of predictions.jsonl are {"text",
 * "label": [true names], "pred": [predicted names], "probs": [NL sigmoids]},
 * names in the model's label order. A single-label model is BERTC_ERR_ARG. */
int bertc_eval_run_multilabel(bertc_classifier *c, const bertc_dataset *ds, const bertc_eval_opts *o,
                              bertc_mlmetrics *m, bertc_err *err);

/* eval.json: bertc_metrics_json plus "report_text", the classification_report
 * text with `digits` decimals (scikit-learn's default is 2). NULL with err set
 * on failure. */
cJSON *bertc_eval_json(const bertc_metrics *m, const char *const *names, int digits, bertc_err *err);

/* Multi-label eval.json: bertc_mlmetrics_json plus "report_text"
 * (bertc_mlmetrics_report with `digits`) and "threshold". NULL with err set. */
cJSON *bertc_eval_json_multilabel(const bertc_mlmetrics *m, const char *const *names, int digits, double threshold,
                                  bertc_err *err);

/* Writes a cJSON object as pretty-printed JSON to path, atomically. */
int bertc_json_write(const char *path, const cJSON *j, bertc_err *err);

/* ---- data ---- */

typedef struct bertc_data_summary {
    int num_labels;
    long *counts;          /* (num_labels) examples per label */
    long n;                /* examples */
    int max_length;        /* the max_length the truncated share refers to */
    double mean, p50, p90, p99; /* tokens per example ([CLS]/[SEP] included, before
                                   truncation); percentiles as numpy's default
                                   (linear interpolation between order statistics) */
    int min_len, max_len;
    double truncated_share; /* fraction of examples longer than max_length */
    int nbins;
    double *edges;         /* (nbins + 1) strictly increasing */
    double *bins;          /* (nbins) examples per bin [edges[i], edges[i+1]) */
} bertc_data_summary;

/* Counts labels and tokenizes every example (no truncation) with tok. Bins are
 * of equal width, a power of two chosen so there are at most 40, from 0 to
 * past the longest example. */
int bertc_data_summarize(const bertc_dataset *ds, const bert_tokenizer *tok, int max_length,
                         bertc_data_summary *s, bertc_err *err);
void bertc_data_summary_free(bertc_data_summary *s);

/* data.json: labels, counts, the first nsamples examples (full text, label name)
 * and lengths. NULL when out of memory. */
cJSON *bertc_data_json(const bertc_data_summary *s, const bertc_dataset *ds, int nsamples);

/* ---- attention ---- */

typedef struct bertc_attention {
    int T;             /* tokens in the map (after cropping) */
    int T_full;        /* tokens the model saw */
    int n_text_tokens; /* tokens of the whole text before truncation, specials included */
    int truncated;     /* 1: the text was cut to max_length */
    int layer;         /* 0-based */
    int head;          /* 0-based, or -1 for the mean over heads */
    char **tokens;     /* (T) token strings, owned */
    float *weights;    /* (T, T) weights[i*T + j]: query i attends to key j */
    int pred;          /* argmax label id */
    float score;       /* probability of pred */
    int num_labels;
    float *probs;      /* (NL) */
} bertc_attention;

/* Runs c (opened with batch size >= 1) on one text and keeps layer's attention
 * probabilities for head (or the mean over heads when head is -1) and the
 * prediction. layer in [0, L), head in [-1, NH): anything else is BERTC_ERR_ARG
 * naming the range. A text longer than c's max_length is BERTC_ERR_ARG unless
 * truncate is 1 (then it is cut as the classifier cuts, and a->truncated set).
 * max_tokens > 0 crops the map to the first max_tokens tokens. */
int bertc_attention_compute(bertc_classifier *c, const char *text, size_t len, int layer, int head,
                            int truncate, int max_tokens, bertc_attention *a, bertc_err *err);
void bertc_attention_free(bertc_attention *a);

/* attention.json: text, tokens, layer, head (null for the mean, with
 * "head_reduction": "mean"), weights, pred (label name), score, probs, labels,
 * tokens_total, truncated. NULL when out of memory. */
cJSON *bertc_attention_json(const bertc_attention *a, const bertc_classifier *c, const char *text, size_t len);

#endif /* BERTC_EVALUATE_H */
