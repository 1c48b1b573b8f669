/* test_qa_metrics.c: SQuAD v1.1 / v2.0 exact match and F1 against the official
 * evaluation functions (reproduced in tools/gen_qa.py): for 400 generated
 * predictions (Unicode punctuation, articles, case, empty predictions,
 * duplicated gold answers, golds that normalize to nothing, Greek sigma, U+0130)
 * the normalized text equals normalize_answer's byte for byte, the per-question
 * scores and the aggregates (v1.1 exact_match/f1; v2.0 exact/f1/total and
 * HasAns_/NoAns_) equal the official ones within 1e-9. */
#include "tasks/qa_metrics.h"
#include "test.h"

#define TOL 1e-9

int main(void) {
    bertc_err err = {0};
    char *text = NULL;
    size_t len = 0;
    REQUIRE(bertc_read_file(test_fixture("qa/metrics.json"), 16 << 20, &text, &len, &err) == BERTC_OK,
            "%s (run `make build/fixtures/qa.stamp`)", err.msg);
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    REQUIRE(root, "qa/metrics.json: not JSON");
    const cJSON *cases = cJSON_GetObjectItem(root, "cases");
    int n = cJSON_GetArraySize(cases), bad_norm = 0, bad_v1 = 0, bad_v2 = 0;
    /* a set of the cases (v2: all; v1: only those with gold answers) */
    bertc_qa_set all = {0}, answered = {0};
    all.ex = calloc((size_t)n, sizeof *all.ex), answered.ex = calloc((size_t)n, sizeof *answered.ex);
    const char **preds = calloc((size_t)n, sizeof *preds), **preds1 = calloc((size_t)n, sizeof *preds1);
    size_t *plens = calloc((size_t)n, sizeof *plens), *plens1 = calloc((size_t)n, sizeof *plens1);
    REQUIRE(all.ex && answered.ex && preds && preds1 && plens && plens1, "out of memory");
    const cJSON *c;
    cJSON_ArrayForEach(c, cases) {
        const char *pred = cJSON_GetObjectItem(c, "pred")->valuestring;
        const cJSON *golds = cJSON_GetObjectItem(c, "golds");
        int ng = cJSON_GetArraySize(golds);
        bertc_qa_example *e = &all.ex[all.n];
        e->id = cJSON_GetObjectItem(c, "id")->valuestring;
        e->n_answers = ng;
        e->answer_text = calloc((size_t)ng + 1, sizeof *e->answer_text);
        e->answer_len = calloc((size_t)ng + 1, sizeof *e->answer_len);
        for (int k = 0; k < ng; k++) {
            e->answer_text[k] = cJSON_GetArrayItem(golds, k)->valuestring;
            e->answer_len[k] = strlen(e->answer_text[k]);
        }
        preds[all.n] = pred, plens[all.n] = strlen(pred);
        all.n++;
        char *norm = NULL;
        size_t nl = 0;
        CHECK(bertc_qa_normalize(&norm, &nl, pred, strlen(pred), &err) == BERTC_OK, "normalize: %s", err.msg);
        const char *want = cJSON_GetObjectItem(c, "normalized_pred")->valuestring;
        if (!norm || strcmp(norm, want) != 0) {
            bad_norm++;
            fprintf(stderr, "  normalize(\"%s\") = \"%s\", official \"%s\"\n", pred, norm ? norm : "", want);
        }
        free(norm);
        bertc_qa_score s;
        if (ng > 0) {
            answered.ex[answered.n] = *e;
            preds1[answered.n] = pred, plens1[answered.n] = strlen(pred);
            answered.n++;
            int rc = bertc_qa_score_v1(&s, pred, strlen(pred), (const char *const *)e->answer_text, e->answer_len, ng,
                                       &err);
            double we = cJSON_GetObjectItem(c, "v1_em")->valuedouble, wf = cJSON_GetObjectItem(c, "v1_f1")->valuedouble;
            if (rc || fabs(s.exact - we) > TOL || fabs(s.f1 - wf) > TOL) {
                bad_v1++;
                fprintf(stderr, "  v1 %s \"%s\": em %g f1 %.12g, official %g %.12g\n", e->id, pred, s.exact, s.f1, we,
                        wf);
            }
        } else {
            CHECK(bertc_qa_score_v1(&s, pred, 0, NULL, NULL, 0, &err) == BERTC_ERR_ARG, "v1 without gold refused");
        }
        int rc = bertc_qa_score_v2(&s, pred, strlen(pred), (const char *const *)e->answer_text, e->answer_len, ng, &err);
        double we = cJSON_GetObjectItem(c, "v2_exact")->valuedouble, wf = cJSON_GetObjectItem(c, "v2_f1")->valuedouble;
        if (rc || fabs(s.exact - we) > TOL || fabs(s.f1 - wf) > TOL) {
            bad_v2++;
            fprintf(stderr, "  v2 %s \"%s\": exact %g f1 %.12g, official %g %.12g\n", e->id, pred, s.exact, s.f1, we,
                    wf);
        }
    }
    CHECK(bad_norm == 0, "%d of %d normalized predictions differ from normalize_answer", bad_norm, n);
    CHECK(bad_v1 == 0, "%d of %d v1.1 question scores differ", bad_v1, answered.n);
    CHECK(bad_v2 == 0, "%d of %d v2.0 question scores differ", bad_v2, n);

    bertc_qa_totals t1, t2;
    CHECK(bertc_qa_evaluate(&t1, &answered, preds1, plens1, 0, &err) == BERTC_OK, "v1 evaluate: %s", err.msg);
    CHECK(bertc_qa_evaluate(&t2, &all, preds, plens, 1, &err) == BERTC_OK, "v2 evaluate: %s", err.msg);
    CHECK(bertc_qa_evaluate(&t1, &all, preds, plens, 0, &err) == BERTC_ERR_ARG && strstr(err.msg, "question \"m"),
          "v1 evaluate of an unanswerable question names it: %s", err.msg);
    bertc_qa_evaluate(&t1, &answered, preds1, plens1, 0, &err);
    const cJSON *v1 = cJSON_GetObjectItem(root, "v1"), *v2 = cJSON_GetObjectItem(root, "v2");
    double d;
#define AGG(got, obj, key)                                                                            \
    d = fabs((got) - cJSON_GetObjectItem(obj, key)->valuedouble);                                     \
    CHECK(d <= TOL, "%s: bertc %.12g official %.12g", key, (double)(got), cJSON_GetObjectItem(obj, key)->valuedouble)
    AGG(t1.exact, v1, "exact_match");
    AGG(t1.f1, v1, "f1");
    AGG(t2.exact, v2, "exact");
    AGG(t2.f1, v2, "f1");
    AGG(t2.total, v2, "total");
    AGG(t2.has_exact, v2, "HasAns_exact");
    AGG(t2.has_f1, v2, "HasAns_f1");
    AGG(t2.has_total, v2, "HasAns_total");
    AGG(t2.no_exact, v2, "NoAns_exact");
    AGG(t2.no_f1, v2, "NoAns_f1");
    AGG(t2.no_total, v2, "NoAns_total");
    cJSON *j = bertc_qa_totals_json(&t2);
    CHECK(j && cJSON_GetObjectItem(j, "HasAns_f1") && cJSON_GetObjectItem(j, "NoAns_total"), "v2 JSON keys");
    cJSON_Delete(j);
    printf("qa_metrics: %d predictions: normalize_answer, v1.1 (%d questions: EM %.4f F1 %.4f) and v2.0 (exact %.4f "
           "f1 %.4f, HasAns %d, NoAns %d) equal the official scripts\n",
           n, answered.n, t1.exact, t1.f1, t2.exact, t2.f1, t2.has_total, t2.no_total);
    for (int i = 0; i < all.n; i++) free(all.ex[i].answer_text), free(all.ex[i].answer_len);
    free(all.ex), free(answered.ex), free(preds), free(preds1), free(plens), free(plens1);
    cJSON_Delete(root);
    return TEST_END();
}
