/* metrics.c: confusion-matrix accumulator and scikit-learn's classification metrics.
 * The arithmetic follows sklearn.metrics.precision_recall_fscore_support (1.9):
 * per-class ratios of integer counts, 0 where a denominator is 0, averages as
 * numpy sums them (in class order), so results agree to the last bit or so. */
#include "metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bertc_metrics_init(bertc_metrics *m, int num_labels, bertc_err *err) {
    memset(m, 0, sizeof *m);
    if (num_labels < 1 || num_labels > 1 << 15)
        return bertc_fail(err, BERTC_ERR_ARG, "metrics: %d labels; need 1..32768", num_labels);
    m->cm = calloc((size_t)num_labels * (size_t)num_labels, sizeof *m->cm);
    if (!m->cm) return bertc_fail(err, BERTC_ERR_NOMEM, "metrics: cannot allocate a %dx%d matrix", num_labels, num_labels);
    m->num_labels = num_labels;
    return BERTC_OK;
}

void bertc_metrics_reset(bertc_metrics *m) {
    if (m->cm) memset(m->cm, 0, (size_t)m->num_labels * (size_t)m->num_labels * sizeof *m->cm);
    m->n = 0;
    m->loss_sum = 0;
    m->loss_count = 0;
}

void bertc_metrics_free(bertc_metrics *m) {
    if (!m) return;
    free(m->cm);
    memset(m, 0, sizeof *m);
}

int bertc_metrics_add(bertc_metrics *m, const int *y_true, const int *y_pred, int B, bertc_err *err) {
    const int NL = m->num_labels;
    if (!m->cm) return bertc_fail(err, BERTC_ERR_ARG, "metrics: not initialised");
    if (B < 0) return bertc_fail(err, BERTC_ERR_ARG, "metrics: batch size %d", B);
    for (int b = 0; b < B; b++)
        if (y_true[b] < 0 || y_true[b] >= NL || y_pred[b] < 0 || y_pred[b] >= NL)
            return bertc_fail(err, BERTC_ERR_ARG, "metrics: example %d of the batch: true %d, predicted %d; labels are 0..%d",
                              b, y_true[b], y_pred[b], NL - 1);
    for (int b = 0; b < B; b++) m->cm[(size_t)y_true[b] * NL + y_pred[b]]++;
    m->n += B;
    return BERTC_OK;
}

void bertc_metrics_add_loss(bertc_metrics *m, double loss_sum, int64_t count) {
    m->loss_sum += loss_sum;
    m->loss_count += count;
}

double bertc_metrics_accuracy(const bertc_metrics *m) {
    if (m->n == 0) return 0;
    int64_t tp = 0;
    for (int c = 0; c < m->num_labels; c++) tp += m->cm[(size_t)c * m->num_labels + c];
    return (double)tp / (double)m->n;
}

double bertc_metrics_loss(const bertc_metrics *m) {
    return m->loss_count > 0 ? m->loss_sum / (double)m->loss_count : NAN;
}

static double ratio(int64_t num, int64_t den) { return den == 0 ? 0.0 : (double)num / (double)den; }

bertc_scores bertc_metrics_class(const bertc_metrics *m, int c) {
    const int NL = m->num_labels;
    int64_t tp = m->cm[(size_t)c * NL + c], pred = 0, truth = 0;
    for (int k = 0; k < NL; k++) {
        pred += m->cm[(size_t)k * NL + c];
        truth += m->cm[(size_t)c * NL + k];
    }
    bertc_scores s;
    s.precision = ratio(tp, pred);
    s.recall = ratio(tp, truth);
    /* sklearn: (1 + beta^2) tp / ((1 + beta^2) tp + beta^2 fn + fp), beta = 1,
     * i.e. 2 tp / (true + pred); 0 when the class is neither true nor predicted. */
    s.f1 = (truth + pred) == 0 ? 0.0 : 2.0 * (double)tp / ((double)truth + (double)pred);
    s.support = truth;
    return s;
}

/* scikit-learn's average="macro" (plain mean over the classes) and "weighted"
 * (mean weighted by support) of per-class scores; both carry the total support.
 * Shared by the single-label and the multi-label metrics. */
typedef struct score_avg {
    bertc_scores sum;  /* sums of precision, recall, F1 and support */
    bertc_scores wsum; /* sums of support-weighted precision, recall, F1 */
    int n;             /* classes added */
} score_avg;

static void avg_add(score_avg *a, bertc_scores s) {
    a->sum.precision += s.precision;
    a->sum.recall += s.recall;
    a->sum.f1 += s.f1;
    a->sum.support += s.support;
    a->wsum.precision += s.precision * (double)s.support;
    a->wsum.recall += s.recall * (double)s.support;
    a->wsum.f1 += s.f1 * (double)s.support;
    a->n++;
}

static bertc_scores avg_macro(const score_avg *a) {
    bertc_scores r = a->sum;
    r.precision /= a->n;
    r.recall /= a->n;
    r.f1 /= a->n;
    return r;
}

static bertc_scores avg_weighted(const score_avg *a) {
    bertc_scores r = a->wsum;
    r.support = a->sum.support;
    if (r.support > 0) {
        r.precision /= (double)r.support;
        r.recall /= (double)r.support;
        r.f1 /= (double)r.support;
    }
    return r;
}

bertc_scores bertc_metrics_macro(const bertc_metrics *m) {
    score_avg a = {0};
    for (int c = 0; c < m->num_labels; c++) avg_add(&a, bertc_metrics_class(m, c));
    return avg_macro(&a);
}

bertc_scores bertc_metrics_weighted(const bertc_metrics *m) {
    score_avg a = {0};
    for (int c = 0; c < m->num_labels; c++) avg_add(&a, bertc_metrics_class(m, c));
    return avg_weighted(&a);
}

double bertc_metrics_best_f1(const bertc_metrics *m) {
    return m->num_labels == 2 ? bertc_metrics_class(m, 1).f1 : bertc_metrics_macro(m).f1;
}

/* ---------------------------------------------------------------- report text */

void bertc_report_printf(bertc_report_text *t, const char *fmt, ...) {
    if (t->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->s && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap ? t->cap * 2 : 1024) + (size_t)n;
        char *q = realloc(t->s, cap);
        if (!q) {
            t->failed = 1;
            return;
        }
        t->s = q;
        t->cap = cap;
    }
}

/* Characters in a UTF-8 string (bytes that do not continue a sequence), as Python's
 * len() counts the decoded name. */
static int utf8_chars(const char *s) {
    int n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Python's "{:>{width}s}". */
void bertc_report_rjust(bertc_report_text *t, const char *s) {
    int pad = t->width - utf8_chars(s);
    bertc_report_printf(t, "%*s%s", pad > 0 ? pad : 0, "", s);
}

void bertc_report_start(bertc_report_text *t, const char *const *names, int n, int digits) {
    memset(t, 0, sizeof *t);
    t->digits = digits;
    t->width = 12; /* len("weighted avg") */
    for (int c = 0; c < n; c++) {
        int w = names[c] ? utf8_chars(names[c]) : 0;
        if (w > t->width) t->width = w;
    }
    if (digits > t->width) t->width = digits;
    bertc_report_rjust(t, "");
    bertc_report_printf(t, "  %9s %9s %9s %9s\n\n", "precision", "recall", "f1-score", "support");
}

void bertc_report_row(bertc_report_text *t, const char *name, double p, double r, double f1, long long support) {
    bertc_report_rjust(t, name);
    bertc_report_printf(t, "  %9.*f %9.*f %9.*f %9lld\n", t->digits, p, t->digits, r, t->digits, f1, support);
}

int bertc_report_finish(bertc_report_text *t, char **out, const char *who, bertc_err *err) {
    *out = NULL;
    if (t->failed) {
        free(t->s);
        memset(t, 0, sizeof *t);
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", who);
    }
    *out = t->s;
    return BERTC_OK;
}

static void report_row(bertc_report_text *t, const char *name, bertc_scores s, int64_t support) {
    bertc_report_row(t, name, s.precision, s.recall, s.f1, (long long)support);
}

/* The row names: names[c], or "0", "1", ... for labels without names (num
 * holds them). NULL when out of memory. */
static const char **row_names(const char *const *names, char (**num)[16], int NL) {
    const char **r = malloc((size_t)(NL > 0 ? NL : 1) * sizeof *r);
    *num = names ? NULL : malloc((size_t)(NL > 0 ? NL : 1) * sizeof **num);
    if (!r || (!names && !*num)) {
        free(r), free(*num);
        *num = NULL;
        return NULL;
    }
    for (int c = 0; c < NL; c++) {
        if (!names) snprintf((*num)[c], sizeof (*num)[c], "%d", c);
        r[c] = names ? names[c] : (*num)[c];
    }
    return r;
}

/* A classification report's first part, as sklearn prints it: checks digits,
 * starts t with a header as wide as the row names (names, or "0", "1", ...),
 * then one row per label, row(m, c), and a blank line. The caller adds its
 * averages and calls bertc_report_finish. BERTC_OK, or an error with nothing
 * started. */
static int report_labels(bertc_report_text *t, const char *const *names, int NL, int digits,
                         bertc_scores (*row)(const void *m, int c), const void *m, bertc_err *err) {
    if (digits < 0 || digits > 15) return bertc_fail(err, BERTC_ERR_ARG, "metrics: digits %d; need 0..15", digits);
    char (*num)[16];
    const char **rn = row_names(names, &num, NL);
    if (!rn) return bertc_fail(err, BERTC_ERR_NOMEM, "metrics: out of memory");
    bertc_report_start(t, rn, NL, digits);
    for (int c = 0; c < NL; c++) {
        bertc_scores s = row(m, c);
        report_row(t, rn[c], s, s.support);
    }
    bertc_report_printf(t, "\n");
    free(rn), free(num);
    return BERTC_OK;
}

static bertc_scores class_row(const void *m, int c) { return bertc_metrics_class(m, c); }

int bertc_metrics_report(const bertc_metrics *m, const char *const *names, int digits, char **out,
                         bertc_err *err) {
    *out = NULL;
    const int NL = m->num_labels;
    if (!m->cm) return bertc_fail(err, BERTC_ERR_ARG, "metrics: not initialised");
    bertc_report_text t;
    int rc = report_labels(&t, names, NL, digits, class_row, m, err);
    if (rc) return rc;
    /* Every label is listed (labels=range(NL)), so sklearn's micro average is the
     * accuracy row: two blank columns, then the accuracy under f1-score. */
    bertc_report_rjust(&t, "accuracy");
    bertc_report_printf(&t, "  %9s %9s %9.*f %9lld\n", "", "", digits, bertc_metrics_accuracy(m), (long long)m->n);
    report_row(&t, "macro avg", bertc_metrics_macro(m), m->n);
    report_row(&t, "weighted avg", bertc_metrics_weighted(m), m->n);
    return bertc_report_finish(&t, out, "metrics", err);
}

/* ---------------------------------------------------------------- JSON */

static cJSON *scores_json(bertc_scores s, const char *label) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    int ok = 1;
    if (label) ok &= cJSON_AddStringToObject(o, "label", label) != NULL;
    ok &= cJSON_AddNumberToObject(o, "precision", s.precision) != NULL;
    ok &= cJSON_AddNumberToObject(o, "recall", s.recall) != NULL;
    ok &= cJSON_AddNumberToObject(o, "f1", s.f1) != NULL;
    ok &= cJSON_AddNumberToObject(o, "support", (double)s.support) != NULL;
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *bertc_metrics_json(const bertc_metrics *m, const char *const *names) {
    const int NL = m->num_labels;
    if (!m->cm) return NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    int ok = cJSON_AddNumberToObject(o, "n", (double)m->n) != NULL;
    ok &= cJSON_AddNumberToObject(o, "accuracy", bertc_metrics_accuracy(m)) != NULL;
    if (m->loss_count > 0) ok &= cJSON_AddNumberToObject(o, "loss", bertc_metrics_loss(m)) != NULL;
    else ok &= cJSON_AddNullToObject(o, "loss") != NULL;
    cJSON *labels = cJSON_AddArrayToObject(o, "labels");
    cJSON *cm = cJSON_AddArrayToObject(o, "confusion_matrix");
    cJSON *per = cJSON_AddArrayToObject(o, "per_class");
    ok &= labels && cm && per;
    for (int c = 0; ok && c < NL; c++) {
        char num[16];
        snprintf(num, sizeof num, "%d", c);
        const char *name = names ? names[c] : num;
        cJSON *row = cJSON_CreateArray();
        for (int k = 0; row && k < NL; k++) {
            cJSON *v = cJSON_CreateNumber((double)m->cm[(size_t)c * NL + k]);
            if (!v || !cJSON_AddItemToArray(row, v)) {
                cJSON_Delete(v);
                ok = 0;
                break;
            }
        }
        cJSON *lab = cJSON_CreateString(name);
        cJSON *sc = scores_json(bertc_metrics_class(m, c), name);
        ok &= row && lab && sc;
        if (row && !cJSON_AddItemToArray(cm, row)) { cJSON_Delete(row); ok = 0; }
        if (lab && !cJSON_AddItemToArray(labels, lab)) { cJSON_Delete(lab); ok = 0; }
        if (sc && !cJSON_AddItemToArray(per, sc)) { cJSON_Delete(sc); ok = 0; }
    }
    cJSON *ma = scores_json(bertc_metrics_macro(m), NULL);
    cJSON *wa = scores_json(bertc_metrics_weighted(m), NULL);
    ok &= ma && wa;
    if (ma && !cJSON_AddItemToObject(o, "macro_avg", ma)) { cJSON_Delete(ma); ok = 0; }
    if (wa && !cJSON_AddItemToObject(o, "weighted_avg", wa)) { cJSON_Delete(wa); ok = 0; }
    ok &= cJSON_AddNumberToObject(o, "best_f1", bertc_metrics_best_f1(m)) != NULL;
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ---------------------------------------------------------------- multi-label */

int bertc_mlmetrics_init(bertc_mlmetrics *m, int num_labels, bertc_err *err) {
    memset(m, 0, sizeof *m);
    if (num_labels < 1 || num_labels > 1 << 15)
        return bertc_fail(err, BERTC_ERR_ARG, "metrics: %d labels; need 1..32768", num_labels);
    m->tp = calloc((size_t)num_labels * 3, sizeof *m->tp);
    if (!m->tp) return bertc_fail(err, BERTC_ERR_NOMEM, "metrics: out of memory");
    m->fp = m->tp + num_labels;
    m->fn = m->fp + num_labels;
    m->num_labels = num_labels;
    return BERTC_OK;
}

void bertc_mlmetrics_reset(bertc_mlmetrics *m) {
    int NL = m->num_labels;
    int64_t *tp = m->tp;
    if (tp) memset(tp, 0, (size_t)NL * 3 * sizeof *tp);
    memset(m, 0, sizeof *m);
    m->num_labels = NL;
    m->tp = tp;
    if (tp) {
        m->fp = tp + NL;
        m->fn = m->fp + NL;
    }
}

void bertc_mlmetrics_free(bertc_mlmetrics *m) {
    if (!m) return;
    free(m->tp);
    memset(m, 0, sizeof *m);
}

int bertc_mlmetrics_add(bertc_mlmetrics *m, const uint8_t *y_true, const uint8_t *y_pred, int B, bertc_err *err) {
    const int NL = m->num_labels;
    if (!m->tp) return bertc_fail(err, BERTC_ERR_ARG, "metrics: not initialised");
    if (B < 0) return bertc_fail(err, BERTC_ERR_ARG, "metrics: batch size %d", B);
    for (size_t i = 0; i < (size_t)B * NL; i++)
        if (y_true[i] > 1 || y_pred[i] > 1)
            return bertc_fail(err, BERTC_ERR_ARG, "metrics: example %zu label %zu: true %d, predicted %d; must be 0 or 1",
                              i / NL, i % NL, y_true[i], y_pred[i]);
    for (int b = 0; b < B; b++) {
        const uint8_t *t = y_true + (size_t)b * NL, *p = y_pred + (size_t)b * NL;
        int64_t both = 0, nt = 0, np = 0, miss = 0;
        for (int i = 0; i < NL; i++) {
            m->tp[i] += t[i] & p[i];
            m->fp[i] += (t[i] ^ 1) & p[i];
            m->fn[i] += t[i] & (p[i] ^ 1);
            both += t[i] & p[i];
            nt += t[i];
            np += p[i];
            miss += t[i] != p[i];
        }
        m->mismatches += miss;
        m->exact += miss == 0;
        m->sum_p += ratio(both, np);
        m->sum_r += ratio(both, nt);
        m->sum_f += (nt + np) == 0 ? 0.0 : 2.0 * (double)both / (double)(nt + np);
    }
    m->n += B;
    return BERTC_OK;
}

void bertc_mlmetrics_add_loss(bertc_mlmetrics *m, double loss_sum, int64_t count) {
    m->loss_sum += loss_sum;
    m->loss_count += count;
}

void bertc_mlmetrics_threshold(uint8_t *pred, const float *probs, size_t n, float threshold) {
    for (size_t i = 0; i < n; i++) pred[i] = probs[i] >= threshold;
}

static bertc_scores ml_scores(int64_t tp, int64_t fp, int64_t fn) {
    bertc_scores s;
    s.precision = ratio(tp, tp + fp);
    s.recall = ratio(tp, tp + fn);
    s.f1 = (2 * tp + fp + fn) == 0 ? 0.0 : 2.0 * (double)tp / (double)(2 * tp + fp + fn);
    s.support = tp + fn;
    return s;
}

bertc_scores bertc_mlmetrics_label(const bertc_mlmetrics *m, int i) { return ml_scores(m->tp[i], m->fp[i], m->fn[i]); }

bertc_scores bertc_mlmetrics_micro(const bertc_mlmetrics *m) {
    int64_t tp = 0, fp = 0, fn = 0;
    for (int i = 0; i < m->num_labels; i++) tp += m->tp[i], fp += m->fp[i], fn += m->fn[i];
    return ml_scores(tp, fp, fn);
}

bertc_scores bertc_mlmetrics_macro(const bertc_mlmetrics *m) {
    score_avg a = {0};
    for (int i = 0; i < m->num_labels; i++) avg_add(&a, bertc_mlmetrics_label(m, i));
    return avg_macro(&a);
}

bertc_scores bertc_mlmetrics_weighted(const bertc_mlmetrics *m) {
    score_avg a = {0};
    for (int i = 0; i < m->num_labels; i++) avg_add(&a, bertc_mlmetrics_label(m, i));
    return avg_weighted(&a);
}

bertc_scores bertc_mlmetrics_samples(const bertc_mlmetrics *m) {
    bertc_scores a = bertc_mlmetrics_micro(m); /* for the support */
    double n = m->n > 0 ? (double)m->n : 1.0;
    a.precision = m->sum_p / n;
    a.recall = m->sum_r / n;
    a.f1 = m->sum_f / n;
    return a;
}

double bertc_mlmetrics_hamming(const bertc_mlmetrics *m) {
    return m->n > 0 ? (double)m->mismatches / ((double)m->n * m->num_labels) : 0.0;
}

double bertc_mlmetrics_subset_accuracy(const bertc_mlmetrics *m) {
    return m->n > 0 ? (double)m->exact / (double)m->n : 0.0;
}

double bertc_mlmetrics_loss(const bertc_mlmetrics *m) {
    return m->loss_count > 0 ? m->loss_sum / (double)m->loss_count : NAN;
}

static bertc_scores label_row(const void *m, int i) { return bertc_mlmetrics_label(m, i); }

int bertc_mlmetrics_report(const bertc_mlmetrics *m, const char *const *names, int digits, char **out,
                           bertc_err *err) {
    *out = NULL;
    const int NL = m->num_labels;
    if (!m->tp) return bertc_fail(err, BERTC_ERR_ARG, "metrics: not initialised");
    bertc_report_text t;
    int rc = report_labels(&t, names, NL, digits, label_row, m, err);
    if (rc) return rc;
    /* multilabel-indicator: no accuracy row; micro, macro, weighted and samples
     * averages, each with the number of true labels as its support. */
    bertc_scores micro = bertc_mlmetrics_micro(m);
    report_row(&t, "micro avg", micro, micro.support);
    report_row(&t, "macro avg", bertc_mlmetrics_macro(m), micro.support);
    report_row(&t, "weighted avg", bertc_mlmetrics_weighted(m), micro.support);
    report_row(&t, "samples avg", bertc_mlmetrics_samples(m), micro.support);
    return bertc_report_finish(&t, out, "metrics", err);
}

cJSON *bertc_mlmetrics_json(const bertc_mlmetrics *m, const char *const *names) {
    if (!m->tp) return NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    int ok = cJSON_AddNumberToObject(o, "n", (double)m->n) != NULL;
    ok &= cJSON_AddNumberToObject(o, "subset_accuracy", bertc_mlmetrics_subset_accuracy(m)) != NULL;
    ok &= cJSON_AddNumberToObject(o, "hamming_loss", bertc_mlmetrics_hamming(m)) != NULL;
    if (m->loss_count > 0) ok &= cJSON_AddNumberToObject(o, "loss", bertc_mlmetrics_loss(m)) != NULL;
    else ok &= cJSON_AddNullToObject(o, "loss") != NULL;
    cJSON *labels = cJSON_AddArrayToObject(o, "labels"), *per = cJSON_AddArrayToObject(o, "per_label");
    ok &= labels && per;
    for (int i = 0; ok && i < m->num_labels; i++) {
        char num[16];
        snprintf(num, sizeof num, "%d", i);
        const char *name = names ? names[i] : num;
        cJSON *lab = cJSON_CreateString(name), *sc = scores_json(bertc_mlmetrics_label(m, i), name);
        ok &= lab && sc;
        if (lab && !cJSON_AddItemToArray(labels, lab)) { cJSON_Delete(lab); ok = 0; }
        if (sc && !cJSON_AddItemToArray(per, sc)) { cJSON_Delete(sc); ok = 0; }
    }
    const char *keys[4] = {"micro_avg", "macro_avg", "weighted_avg", "samples_avg"};
    bertc_scores avg[4] = {bertc_mlmetrics_micro(m), bertc_mlmetrics_macro(m), bertc_mlmetrics_weighted(m),
                           bertc_mlmetrics_samples(m)};
    for (int k = 0; ok && k < 4; k++) {
        cJSON *a = scores_json(avg[k], NULL);
        if (!a || !cJSON_AddItemToObject(o, keys[k], a)) { cJSON_Delete(a); ok = 0; }
    }
    ok &= cJSON_AddNumberToObject(o, "best_f1", avg[0].f1) != NULL;
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
