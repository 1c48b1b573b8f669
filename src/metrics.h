/* metrics.h: streaming classification metrics, computed as scikit-learn does.
 *
 * What it does: accumulates a confusion matrix (rows = true label, columns =
 * predicted label, as sklearn.metrics.confusion_matrix) and a running loss sum batch
 * by batch, so a large test set needs no more memory than a small one. From it:
 * accuracy, per-class precision/recall/F1/support, macro and weighted averages
 * (zero_division = 0, sklearn's default), the text of
 * classification_report(y_true, y_pred, labels=range(NL), target_names=names,
 * digits=d) byte for byte, and a JSON object.
 * What it does not: multi-label metrics, probabilities (ROC/AUC), sample weights.
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

#endif /* BERTC_METRICS_H */
