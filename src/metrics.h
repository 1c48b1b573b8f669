/* metrics.h: streaming classification metrics, computed as scikit-learn does.
 *
 * What it does: accumulates a confusion matrix (rows = true label, columns =
 * predicted label, as sklearn.metrics.confusion_matrix) and a running loss sum batch
 * by batch, so a large test set needs no more memory than a small one. From it:
 * accuracy, per-class precision/recall/F1/support, macro and weighted averages
 * (zero_division = 0, sklearn's default), the text of
 * classification_report(y_true, y_pred, labels=range(NL), target_names=names,
 * digits=d) byte for byte, and a JSON object.
 * Multi-label (bertc_mlmetrics, below): per-label precision/recall/F1/support,
 * micro, macro, weighted and samples averages, Hamming loss and subset accuracy,
 * as sklearn defines them for (n, NL) indicator matrices, and their
 * classification_report text.
 * What it does not: probabilities (ROC/AUC), sample weights.
 *
 * Memory: bertc_metrics owns its (NL, NL) count matrix; bertc_metrics_free releases
 * it (harmless on NULL or a zeroed struct). Strings and cJSON objects it returns
 * belong to the caller (free() / cJSON_Delete()).
 *
 *     bertc_metrics m = {0};
 *     if (bertc_metrics_init(&m, NL, &err)) ...
 *     for each batch:
 *         bertc_metrics_add(&m, y_true, y_pred, B, &err);   // (B) label ids each
 *         bertc_metrics_add_loss(&m, mean_loss * B, B);
 *     printf("accuracy %.4f  f1 %.4f\n", bertc_metrics_accuracy(&m), bertc_metrics_best_f1(&m));
 *     char *report = NULL;
 *     bertc_metrics_report(&m, (const char *const *)ds.labels, 2, &report, &err);
 *     fputs(report, stdout); free(report);
 *     cJSON *j = bertc_metrics_json(&m, (const char *const *)ds.labels);
 *     ... cJSON_PrintUnformatted(j) ...; cJSON_Delete(j);
 *     bertc_metrics_free(&m);
 */
#ifndef BERTC_METRICS_H
#define BERTC_METRICS_H

#include <stdint.h>
#include <cjson/cJSON.h>
#include "common.h"

typedef struct bertc_metrics {
    int num_labels;     /* NL */
    int64_t *cm;        /* (NL, NL) counts: cm[t * NL + p], t = true, p = predicted */
    int64_t n;          /* examples counted */
    double loss_sum;    /* sum of per-example losses (nats) */
    int64_t loss_count; /* examples whose loss was added */
} bertc_metrics;

/* Per-class or averaged scores. support: examples whose true label is the class
 * (for an average: all examples). */
typedef struct bertc_scores {
    double precision, recall, f1;
    int64_t support;
} bertc_scores;

/* Allocates an (NL, NL) zeroed matrix; NL >= 1. m must be zeroed or freed. */
int bertc_metrics_init(bertc_metrics *m, int num_labels, bertc_err *err);
/* Zeroes the counts and the loss (for the next evaluation). */
void bertc_metrics_reset(bertc_metrics *m);
void bertc_metrics_free(bertc_metrics *m);

/* Counts B predictions. Every id must be in [0, NL); otherwise nothing is counted
 * and BERTC_ERR_ARG names the first bad one. */
int bertc_metrics_add(bertc_metrics *m, const int *y_true, const int *y_pred, int B, bertc_err *err);
/* Adds loss_sum (the sum, not the mean, of count examples' losses). */
void bertc_metrics_add_loss(bertc_metrics *m, double loss_sum, int64_t count);

/* Fraction of examples with pred == true; 0 when none were counted. */
double bertc_metrics_accuracy(const bertc_metrics *m);
/* loss_sum / loss_count; NaN when no loss was added. */
double bertc_metrics_loss(const bertc_metrics *m);
/* Class c's scores: precision = tp / (tp + fp), recall = tp / (tp + fn),
 * f1 = 2 tp / (2 tp + fp + fn), each 0 where its denominator is 0. */
bertc_scores bertc_metrics_class(const bertc_metrics *m, int c);
/* Unweighted mean of the per-class scores over all NL classes. */
bertc_scores bertc_metrics_macro(const bertc_metrics *m);
/* Mean of the per-class scores weighted by support (0 when there are no examples). */
bertc_scores bertc_metrics_weighted(const bertc_metrics *m);
/* The F1 used to pick the best checkpoint: for NL == 2 the F1 of class 1 (sklearn's
 * f1_score(average="binary", pos_label=1)), else the macro F1. */
double bertc_metrics_best_f1(const bertc_metrics *m);

/* *out = classification_report text (malloc'd, caller frees), with names[0..NL)
 * as target names (NULL: "0", "1", ...) and digits decimals (0..15). Column widths
 * count UTF-8 characters, as Python's len() does. */
int bertc_metrics_report(const bertc_metrics *m, const char *const *names, int digits, char **out,
                         bertc_err *err);

/* {"n", "accuracy", "loss" (null when none), "labels": [...], "confusion_matrix":
 * [[...]], "per_class": [{"label", "precision", "recall", "f1", "support"}],
 * "macro_avg": {...}, "weighted_avg": {...}, "best_f1"}. NULL when out of memory. */
cJSON *bertc_metrics_json(const bertc_metrics *m, const char *const *names);

/* ---- Multi-label ----
 *
 * Streams (B,NL) 0/1 indicator rows (y_true, y_pred as sklearn's multilabel
 * indicator matrices) into per-label tp/fp/fn counts and per-example sums, so
 * every figure below equals sklearn 1.9's with zero_division = 0:
 *   label i:   precision_recall_fscore_support(average=None)[.][i]
 *   micro:     ratios of the summed counts;   macro: mean over labels;
 *   weighted:  mean weighted by each label's support;
 *   samples:   mean over examples of |t&p|/|p|, |t&p|/|t|, 2|t&p|/(|t|+|p|)
 *              (0 where a denominator is 0, an example with no true and no
 *              predicted label included);
 *   hamming:   hamming_loss = mismatched slots / (n NL);
 *   subset:    accuracy_score = examples with every label right / n.
 * The support of an average is the number of true labels (as
 * classification_report prints it).
 *
 *     bertc_mlmetrics m = {0};
 *     bertc_mlmetrics_init(&m, NL, &err);
 *     bertc_mlmetrics_threshold(pred, model.probs, B * NL, 0.5f);  // pred = prob >= 0.5
 *     bertc_mlmetrics_add(&m, truth, pred, B, &err);
 *     cJSON *j = bertc_mlmetrics_json(&m, names);
 *     char *report = NULL;
 *     bertc_mlmetrics_report(&m, names, 2, &report, &err);   // classification_report text
 *     bertc_mlmetrics_free(&m);
 */
typedef struct bertc_mlmetrics {
    int num_labels;        /* NL */
    int64_t *tp, *fp, *fn; /* (NL) counts each */
    int64_t n;             /* examples counted */
    int64_t exact;         /* examples whose NL predictions all match */
    int64_t mismatches;    /* (example, label) slots where prediction != truth */
    double sum_p, sum_r, sum_f; /* per-example precision, recall, F1 summed over examples */
    double loss_sum;       /* sum of per-example losses */
    int64_t loss_count;
} bertc_mlmetrics;

int bertc_mlmetrics_init(bertc_mlmetrics *m, int num_labels, bertc_err *err);
void bertc_mlmetrics_reset(bertc_mlmetrics *m);
void bertc_mlmetrics_free(bertc_mlmetrics *m);
/* Counts B examples: y_true and y_pred are (B,NL) with values 0 or 1 (anything
 * else is BERTC_ERR_ARG and nothing is counted). */
int bertc_mlmetrics_add(bertc_mlmetrics *m, const uint8_t *y_true, const uint8_t *y_pred, int B, bertc_err *err);
void bertc_mlmetrics_add_loss(bertc_mlmetrics *m, double loss_sum, int64_t count);
/* pred[i] = probs[i] >= threshold (the --threshold of predict/eval; 0.5 by default). */
void bertc_mlmetrics_threshold(uint8_t *pred, const float *probs, size_t n, float threshold);

bertc_scores bertc_mlmetrics_label(const bertc_mlmetrics *m, int i);
bertc_scores bertc_mlmetrics_micro(const bertc_mlmetrics *m);
bertc_scores bertc_mlmetrics_macro(const bertc_mlmetrics *m);
bertc_scores bertc_mlmetrics_weighted(const bertc_mlmetrics *m);
bertc_scores bertc_mlmetrics_samples(const bertc_mlmetrics *m);
double bertc_mlmetrics_hamming(const bertc_mlmetrics *m);         /* 0 when none counted */
double bertc_mlmetrics_subset_accuracy(const bertc_mlmetrics *m); /* 0 when none counted */
double bertc_mlmetrics_loss(const bertc_mlmetrics *m);            /* NaN when no loss added */

/* *out = classification_report(y_true, y_pred, target_names=names,
 * digits=digits, zero_division=0) for (n, NL) indicator matrices, byte for
 * byte (malloc'd, caller frees): one row per label, a blank line, then "micro
 * avg", "macro avg", "weighted avg" and "samples avg" rows, each with the number
 * of true labels as support (sklearn prints no accuracy row for
 * multilabel-indicator targets). names NULL: "0", "1", ...; digits 0..15;
 * widths count UTF-8 characters as bertc_metrics_report does. */
int bertc_mlmetrics_report(const bertc_mlmetrics *m, const char *const *names, int digits, char **out,
                           bertc_err *err);

/* {"n", "subset_accuracy", "hamming_loss", "loss" (null when none), "labels",
 * "per_label": [{"label", "precision", "recall", "f1", "support"}], "micro_avg",
 * "macro_avg", "weighted_avg", "samples_avg", "best_f1" (= micro F1)}. NULL when
 * out of memory. */
cJSON *bertc_mlmetrics_json(const bertc_mlmetrics *m, const char *const *names);

/* ---- the report table: classification_report's text layout (sklearn's; seqeval's
 * report, tasks/token_metrics.c, shares it) ---- */
typedef struct bertc_report_text {
    char *s;           /* the text so far (malloc'd) */
    size_t len, cap;   /* bytes used / allocated */
    int failed;        /* out of memory: bertc_report_finish says so */
    int width, digits; /* the name column's width (code points); decimals */
} bertc_report_text;
/* Starts t: width = max(len("weighted avg"), the longest of names[0..n) in code
 * points, digits); writes the header line and a blank line. */
void bertc_report_start(bertc_report_text *t, const char *const *names, int n, int digits);
/* "{name:>width}  {p:>9.df} {r:>9.df} {f1:>9.df} {support:>9}\n" */
void bertc_report_row(bertc_report_text *t, const char *name, double p, double r, double f1, long long support);
/* name right-aligned in the name column (Python's "{:>{width}s}"). */
void bertc_report_rjust(bertc_report_text *t, const char *name);
void bertc_report_printf(bertc_report_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* *out = the text (the caller frees it); BERTC_ERR_NOMEM "WHO: out of memory"
 * (and nothing kept) when an append failed. */
int bertc_report_finish(bertc_report_text *t, char **out, const char *who, bertc_err *err);

#endif /* BERTC_METRICS_H */
