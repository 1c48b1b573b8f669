/* test_metrics.c: src/metrics.c against scikit-learn (tools/gen_metrics.py).
 *
 * Each case's predictions are fed in uneven batches (0, 1, 7, 100, the rest), then
 * accuracy, per-class precision/recall/F1/support, macro and weighted averages and
 * the best-model F1 must agree within REL_TOL, the confusion matrix and supports
 * exactly, and classification_report's text byte for byte.
 *
 * Tolerance: sklearn computes the same ratios of integer counts in float64; only the
 * order of the sums in the averages could differ, by an ulp or two. */
#include "../src/metrics.h"
#include "test.h"

#define REL_TOL 1e-12

static int close_rel(double a, double b) {
    double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= REL_TOL * m || a == b;
}

static double num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void check_scores(const char *what, const char *cname, bertc_scores got, const cJSON *want) {
    CHECK(close_rel(got.precision, num(want, "precision")), "%s %s precision %.17g, sklearn %.17g", cname, what,
          got.precision, num(want, "precision"));
    CHECK(close_rel(got.recall, num(want, "recall")), "%s %s recall %.17g, sklearn %.17g", cname, what, got.recall,
          num(want, "recall"));
    CHECK(close_rel(got.f1, num(want, "f1")), "%s %s f1 %.17g, sklearn %.17g", cname, what, got.f1, num(want, "f1"));
}

static void run_case(const cJSON *c) {
    const char *cname = cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring;
    const cJSON *jl = cJSON_GetObjectItemCaseSensitive(c, "labels");
    const cJSON *jt = cJSON_GetObjectItemCaseSensitive(c, "y_true");
    const cJSON *jp = cJSON_GetObjectItemCaseSensitive(c, "y_pred");
    int NL = cJSON_GetArraySize(jl), n = cJSON_GetArraySize(jt), digits = (int)num(c, "digits");
    const char *names[16];
    int *yt = malloc((size_t)n * sizeof *yt), *yp = malloc((size_t)n * sizeof *yp);
    if (!yt || !yp || NL > 16 || cJSON_GetArraySize(jp) != n) {
        CHECK(0, "%s: bad fixture", cname);
        free(yt);
        free(yp);
        return;
    }
    for (int i = 0; i < NL; i++) names[i] = cJSON_GetArrayItem(jl, i)->valuestring;
    for (int i = 0; i < n; i++) {
        yt[i] = cJSON_GetArrayItem(jt, i)->valueint;
        yp[i] = cJSON_GetArrayItem(jp, i)->valueint;
    }

    bertc_err err = {0};
    bertc_metrics m = {0};
    CHECK(bertc_metrics_init(&m, NL, &err) == BERTC_OK, "%s: init: %s", cname, err.msg);
    /* Uneven batches, a 0-sized one included: streaming must not matter. */
    int sizes[] = {0, 1, 7, 100}, at = 0;
    for (int k = 0; k < 4 && at + sizes[k] <= n; k++) {
        CHECK(bertc_metrics_add(&m, yt + at, yp + at, sizes[k], &err) == BERTC_OK, "%s: add: %s", cname, err.msg);
        at += sizes[k];
    }
    CHECK(bertc_metrics_add(&m, yt + at, yp + at, n - at, &err) == BERTC_OK, "%s: add: %s", cname, err.msg);
    CHECK(m.n == n, "%s: counted %lld of %d", cname, (long long)m.n, n);

    const cJSON *cm = cJSON_GetObjectItemCaseSensitive(c, "confusion_matrix");
    int cm_ok = 1;
    for (int t = 0; t < NL; t++)
        for (int p = 0; p < NL; p++)
            cm_ok &= m.cm[t * NL + p] == (int64_t)cJSON_GetArrayItem(cJSON_GetArrayItem(cm, t), p)->valuedouble;
    CHECK(cm_ok, "%s: confusion matrix differs from sklearn's", cname);

    CHECK(close_rel(bertc_metrics_accuracy(&m), num(c, "accuracy")), "%s: accuracy %.17g, sklearn %.17g", cname,
          bertc_metrics_accuracy(&m), num(c, "accuracy"));
    for (int k = 0; k < NL; k++) {
        bertc_scores s = bertc_metrics_class(&m, k);
        cJSON *want = cJSON_CreateObject();
        cJSON_AddNumberToObject(want, "precision", cJSON_GetArrayItem(cJSON_GetObjectItem(c, "precision"), k)->valuedouble);
        cJSON_AddNumberToObject(want, "recall", cJSON_GetArrayItem(cJSON_GetObjectItem(c, "recall"), k)->valuedouble);
        cJSON_AddNumberToObject(want, "f1", cJSON_GetArrayItem(cJSON_GetObjectItem(c, "f1"), k)->valuedouble);
        check_scores(names[k], cname, s, want);
        cJSON_Delete(want);
        int64_t sup = (int64_t)cJSON_GetArrayItem(cJSON_GetObjectItem(c, "support"), k)->valuedouble;
        CHECK(s.support == sup, "%s %s: support %lld, sklearn %lld", cname, names[k], (long long)s.support,
              (long long)sup);
    }
    check_scores("macro", cname, bertc_metrics_macro(&m), cJSON_GetObjectItem(c, "macro"));
    check_scores("weighted", cname, bertc_metrics_weighted(&m), cJSON_GetObjectItem(c, "weighted"));
    CHECK(close_rel(bertc_metrics_best_f1(&m), num(c, "best_f1")), "%s: best f1 %.17g, sklearn %.17g", cname,
          bertc_metrics_best_f1(&m), num(c, "best_f1"));

    char *report = NULL;
    CHECK(bertc_metrics_report(&m, names, digits, &report, &err) == BERTC_OK, "%s: report: %s", cname, err.msg);
    const char *want = cJSON_GetObjectItem(c, "report")->valuestring;
    CHECK(report && strcmp(report, want) == 0, "%s: report differs.\n--- bertc\n%s--- sklearn\n%s", cname,
          report ? report : "(null)", want);
    free(report);

    /* The JSON rendering carries the same numbers. */
    bertc_metrics_add_loss(&m, 0.5 * n, n);
    cJSON *j = bertc_metrics_json(&m, names);
    CHECK(j != NULL, "%s: json is NULL", cname);
    if (j) {
        CHECK(close_rel(num(j, "accuracy"), num(c, "accuracy")), "%s: json accuracy", cname);
        CHECK(close_rel(num(j, "loss"), 0.5), "%s: json loss %g", cname, num(j, "loss"));
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "per_class")) == NL, "%s: json per_class size", cname);
        const cJSON *pc = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "per_class"), NL - 1);
        CHECK(pc && strcmp(cJSON_GetObjectItem(pc, "label")->valuestring, names[NL - 1]) == 0, "%s: json label", cname);
        CHECK(close_rel(num(cJSON_GetObjectItem(j, "macro_avg"), "f1"), num(cJSON_GetObjectItem(c, "macro"), "f1")),
              "%s: json macro f1", cname);
        const cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "confusion_matrix"), 0);
        CHECK(row && (int64_t)cJSON_GetArrayItem(row, 0)->valuedouble == m.cm[0], "%s: json confusion matrix", cname);
        cJSON_Delete(j);
    }

    /* reset forgets everything. */
    bertc_metrics_reset(&m);
    CHECK(m.n == 0 && m.cm[0] == 0 && isnan(bertc_metrics_loss(&m)), "%s: reset", cname);
    bertc_metrics_free(&m);
    free(yt);
    free(yp);
}

int main(void) {
    bertc_err err = {0};
    char *text = NULL;
    size_t len = 0;
    REQUIRE(bertc_read_file(test_fixture("metrics/cases.json"), 1 << 26, &text, &len, &err) == BERTC_OK,
            "%s (run make fixtures)", err.msg);
    cJSON *cases = cJSON_Parse(text);
    free(text);
    REQUIRE(cJSON_IsArray(cases) && cJSON_GetArraySize(cases) >= 4, "cases.json: not a list of cases");
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) run_case(c);
    cJSON_Delete(cases);

    /* A bad id counts nothing and names the example. */
    bertc_metrics m = {0};
    REQUIRE(bertc_metrics_init(&m, 3, &err) == BERTC_OK, "init: %s", err.msg);
    int t[3] = {0, 1, 2}, p[3] = {0, 3, 1};
    CHECK(bertc_metrics_add(&m, t, p, 3, &err) == BERTC_ERR_ARG && m.n == 0 && m.cm[0] == 0,
          "an out-of-range prediction must be refused before counting");
    CHECK(strstr(err.msg, "example 1") != NULL, "message should name the example: %s", err.msg);
    /* Nothing counted: everything 0, no division by zero. */
    CHECK(bertc_metrics_accuracy(&m) == 0 && bertc_metrics_macro(&m).f1 == 0 && bertc_metrics_weighted(&m).f1 == 0,
          "empty metrics must be 0");
    cJSON *j = bertc_metrics_json(&m, NULL);
    CHECK(j && cJSON_IsNull(cJSON_GetObjectItem(j, "loss")), "no loss added: json loss must be null");
    cJSON_Delete(j);
    bertc_metrics_free(&m);
    CHECK(bertc_metrics_init(&m, 0, &err) == BERTC_ERR_ARG && m.cm == NULL, "0 labels must be refused");
    bertc_metrics_free(&m);
    bertc_metrics_free(NULL);
    return TEST_END();
}
