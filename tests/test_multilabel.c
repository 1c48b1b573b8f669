/* test_multilabel.c: multi-label classification against PyTorch and scikit-learn
 * (fixtures from tools/gen_multilabel.py).
 *   1. A tiny BertForSequenceClassification with problem_type
 *      "multi_label_classification": bertc reads the problem type, its probs are
 *      the sigmoid of the logits, bert_backward_multilabel's loss equals the
 *      model's BCEWithLogitsLoss and every gradient PyTorch's (fast and
 *      reference paths); single-label backward and bad targets are refused; a
 *      save keeps the problem type.
 *   2. bertc_mlmetrics on a 60 x 5 indicator case (fed in two batches) equals
 *      sklearn's per-label, micro, macro, weighted and samples scores, Hamming
 *      loss and subset accuracy; bertc_mlmetrics_report equals sklearn's
 *      classification_report text byte for byte (names with accents and a
 *      wide one, sklearn's default "0".."4", digits 0/2/4).
 * Tolerances (docs/numerics.md): logits and probs 1e-4 absolute (as test_forward);
 * loss 1e-5; gradients as test_grads; metrics 1e-12 (ratios of the same integer
 * counts, summed in the same order as numpy). */
#include "../src/bert.h"
#include "ops_ref.h"
#include "../src/hfmodel.h"
#include "../src/metrics.h"
#include "npy.h"
#include "test.h"
#include "grad_check.h"

#include <unistd.h>

#define TOL_OUT 1e-4f
#define LOSS_ATOL 1e-5
#define TOL_METRIC 1e-12

static char dir[4096];

static void model_part(void) {
    snprintf(dir, sizeof dir, "%smultilabel/tiny", test_fixture(""));
    npy ids = {0}, tts = {0}, mask = {0}, targets = {0}, logits = {0}, probs = {0}, loss_ref = {0}, grads = {0};
    char p[8192];
#define LD(field, name, kind) (snprintf(p, sizeof p, "%s/ref/" name ".npy", dir), npy_load(&field, p, kind))
    int bad = LD(ids, "input_ids", 'i') || LD(tts, "token_type_ids", 'i') || LD(mask, "attention_mask", 'i') ||
              LD(targets, "targets", 'f') || LD(logits, "logits", 'f') || LD(probs, "probs", 'f') ||
              LD(loss_ref, "loss", 'f') || LD(grads, "grads", 'f');
#undef LD
    CHECK(!bad, "%s: reference missing: run `make fixtures`", dir);
    hf_model hf = {0};
    bertc_err err = {0};
    int rc = bad ? -1 : hf_model_load(&hf, dir, NULL, &err);
    CHECK(rc == BERTC_OK, "%s: load: %s", dir, err.msg);
    if (rc != BERTC_OK) goto done;
    CHECK(hf.cfg.problem_type == BERT_PROBLEM_MULTI_LABEL && hf.cfg.num_labels == 5 &&
              strcmp(hf.cfg.id2label[2], "strong") == 0,
          "config: problem_type %d, %d labels", hf.cfg.problem_type, hf.cfg.num_labels);
    int B = (int)ids.shape[0], T = (int)ids.shape[1], NL = hf.cfg.num_labels;
    for (int ref = 0; ref <= 1; ref++) {
        char tag[64];
        snprintf(tag, sizeof tag, "multilabel [%s]", ref ? "reference" : "fast");
        bert_model m;
        rc = bert_model_build(&m, &hf.cfg, hf.params_memory, B, T, 1, &err);
        CHECK(rc == BERTC_OK, "%s: build: %s", tag, err.msg);
        if (rc) continue;
        m.ops = ref ? &bert_ops_ref : NULL;
        bert_zero_grad(&m);
        float loss = NAN;
        rc = bert_forward(&m, ids.i, tts.i, mask.i, B, T, NULL, NULL, NULL, &err);
        CHECK(rc == BERTC_OK, "%s: forward: %s", tag, err.msg);
        float dl = test_max_abs_diff(m.logits, logits.f, (size_t)B * NL, NULL);
        float dp = test_max_abs_diff(m.probs, probs.f, (size_t)B * NL, NULL);
        CHECK(dl <= TOL_OUT && dp <= TOL_OUT, "%s: logits max |diff| %g, sigmoid probs %g", tag, dl, dp);
        rc = bert_backward_multilabel(&m, targets.f, &loss, &err);
        CHECK(rc == BERTC_OK, "%s: backward: %s", tag, err.msg);
        CHECK(fabs(loss - loss_ref.f[0]) <= LOSS_ATOL, "%s: BCE loss %.8f, torch %.8f", tag, loss, loss_ref.f[0]);
        printf("%-26s logits %.2e probs %.2e; BCE loss %.7f (torch %.7f)\n", tag, dl, dp, loss, loss_ref.f[0]);
        CHECK(grads.n == m.num_params, "%s: %zu reference gradients for %zu parameters", tag, grads.n, m.num_params);
        if (grads.n == m.num_params) test_compare_grads(tag, dir, m.grads_memory, grads.f, m.num_params);
        if (!ref) {
            /* bert_backward_dlogits with the BCE gradient gives the same gradients bit for bit */
            size_t np = m.num_params;
            float *g1 = malloc(np * sizeof(float)), *dl = malloc((size_t)B * NL * sizeof(float));
            memcpy(g1, m.grads_memory, np * sizeof(float));
            for (int i = 0; i < B * NL; i++)
                dl[i] = (1.0f / (1.0f + expf(-m.logits[i])) - targets.f[i]) * (1.0f / (float)(B * NL));
            bert_zero_grad(&m);
            rc = bert_backward_dlogits(&m, dl, &err);
            CHECK(rc == BERTC_OK && memcmp(g1, m.grads_memory, np * sizeof(float)) == 0,
                  "%s: bert_backward_dlogits differs from bert_backward_multilabel (%s)", tag, err.msg);
            free(g1), free(dl);
            int lab[64] = {0};
            CHECK(bert_backward(&m, lab, NULL, NULL, &err) == BERTC_ERR_ARG && strstr(err.msg, "multilabel"),
                  "%s: single-label backward on a multi-label model: %s", tag, err.msg);
            float *t2 = malloc((size_t)B * NL * sizeof(float));
            memcpy(t2, targets.f, (size_t)B * NL * sizeof(float));
            t2[7] = 2.0f;
            CHECK(bert_loss_multilabel(&m, t2, NULL, &err) == BERTC_ERR_ARG && strstr(err.msg, "targets[7]"),
                  "%s: target 2 accepted: %s", tag, err.msg);
            t2[7] = NAN;
            CHECK(bert_loss_multilabel(&m, t2, NULL, &err) == BERTC_ERR_ARG, "%s: NaN target accepted", tag);
            free(t2);
        }
        bert_model_free(&m);
    }
    /* the problem type survives a save */
    char out[4096];
    snprintf(out, sizeof out, "/tmp/bertc-test-multilabel-%ld", (long)getpid());
    rc = hf_model_save(&hf, out, &err);
    CHECK(rc == BERTC_OK, "save: %s", err.msg);
    hf_model back = {0};
    if (rc == BERTC_OK) {
        rc = hf_model_load(&back, out, NULL, &err);
        CHECK(rc == BERTC_OK && back.cfg.problem_type == BERT_PROBLEM_MULTI_LABEL &&
                  strcmp(back.cfg.id2label[4], "long") == 0,
              "reload: rc %d problem_type %d: %s", rc, back.cfg.problem_type, err.msg);
    }
    hf_model_free(&back);
    snprintf(p, sizeof p, "rm -rf '%s'", out);
    CHECK(system(p) == 0, "cannot remove %s", out);
done:
    hf_model_free(&hf);
    npy_free(&ids), npy_free(&tts), npy_free(&mask), npy_free(&targets), npy_free(&logits);
    npy_free(&probs), npy_free(&loss_ref), npy_free(&grads);
}

static double num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void cmp_scores(const char *what, bertc_scores got, const cJSON *want, int with_support) {
    double dp = fabs(got.precision - num(want, "precision")), dr = fabs(got.recall - num(want, "recall"));
    double df = fabs(got.f1 - num(want, "f1"));
    CHECK(dp <= TOL_METRIC && dr <= TOL_METRIC && df <= TOL_METRIC,
          "%s: bertc P %.15g R %.15g F1 %.15g, sklearn %.15g %.15g %.15g", what, got.precision, got.recall, got.f1,
          num(want, "precision"), num(want, "recall"), num(want, "f1"));
    if (with_support)
        CHECK((double)got.support == num(want, "support"), "%s: support %lld, sklearn %g", what,
              (long long)got.support, num(want, "support"));
}

static void metrics_part(void) {
    char d[4096], p[8192];
    snprintf(d, sizeof d, "%smultilabel/metrics", test_fixture(""));
    npy yt = {0}, yp = {0};
    snprintf(p, sizeof p, "%s/y_true.npy", d);
    int bad = npy_load(&yt, p, 'i');
    snprintf(p, sizeof p, "%s/y_pred.npy", d);
    bad = bad || npy_load(&yp, p, 'i');
    char *text = NULL;
    size_t len = 0;
    bertc_err err = {0};
    snprintf(p, sizeof p, "%s/expected.json", d);
    bad = bad || bertc_read_file(p, 1 << 20, &text, &len, &err) != BERTC_OK;
    CHECK(!bad, "%s: fixtures missing: run `make fixtures`", d);
    cJSON *exp = bad ? NULL : cJSON_Parse(text);
    free(text);
    if (!exp) { npy_free(&yt), npy_free(&yp); return; }
    int n = (int)yt.shape[0], NL = (int)yt.shape[1];
    uint8_t *t = malloc((size_t)n * NL), *pr = malloc((size_t)n * NL);
    for (size_t i = 0; i < (size_t)n * NL; i++) t[i] = (uint8_t)yt.i[i], pr[i] = (uint8_t)yp.i[i];
    bertc_mlmetrics m = {0};
    CHECK(bertc_mlmetrics_init(&m, NL, &err) == BERTC_OK, "init: %s", err.msg);
    int half = n / 3;
    CHECK(bertc_mlmetrics_add(&m, t, pr, half, &err) == BERTC_OK &&
              bertc_mlmetrics_add(&m, t + (size_t)half * NL, pr + (size_t)half * NL, n - half, &err) == BERTC_OK,
          "add: %s", err.msg);
    const cJSON *per = cJSON_GetObjectItemCaseSensitive(exp, "per_label");
    for (int i = 0; i < NL; i++) {
        char what[32];
        snprintf(what, sizeof what, "label %d", i);
        cmp_scores(what, bertc_mlmetrics_label(&m, i), cJSON_GetArrayItem(per, i), 1);
    }
    cmp_scores("micro", bertc_mlmetrics_micro(&m), cJSON_GetObjectItemCaseSensitive(exp, "micro"), 0);
    cmp_scores("macro", bertc_mlmetrics_macro(&m), cJSON_GetObjectItemCaseSensitive(exp, "macro"), 0);
    cmp_scores("weighted", bertc_mlmetrics_weighted(&m), cJSON_GetObjectItemCaseSensitive(exp, "weighted"), 0);
    cmp_scores("samples", bertc_mlmetrics_samples(&m), cJSON_GetObjectItemCaseSensitive(exp, "samples"), 0);
    double h = bertc_mlmetrics_hamming(&m), s = bertc_mlmetrics_subset_accuracy(&m);
    CHECK(fabs(h - num(exp, "hamming_loss")) <= TOL_METRIC, "hamming %.15g, sklearn %.15g", h, num(exp, "hamming_loss"));
    CHECK(fabs(s - num(exp, "subset_accuracy")) <= TOL_METRIC, "subset accuracy %.15g, sklearn %.15g", s,
          num(exp, "subset_accuracy"));
    printf("mlmetrics: micro F1 %.6f macro %.6f weighted %.6f samples %.6f hamming %.6f subset %.6f\n",
           bertc_mlmetrics_micro(&m).f1, bertc_mlmetrics_macro(&m).f1, bertc_mlmetrics_weighted(&m).f1,
           bertc_mlmetrics_samples(&m).f1, h, s);
    const cJSON *reports = cJSON_GetObjectItemCaseSensitive(exp, "reports"), *rep;
    CHECK(cJSON_GetArraySize(reports) == 3, "expected.json: no reports (run `make fixtures`)");
    cJSON_ArrayForEach(rep, reports) {
        const cJSON *jn = cJSON_GetObjectItemCaseSensitive(rep, "names");
        const char *names[8] = {0};
        for (int i = 0; i < NL && i < 8 && cJSON_IsArray(jn); i++) names[i] = cJSON_GetArrayItem(jn, i)->valuestring;
        int digits = (int)num(rep, "digits");
        const char *want = cJSON_GetObjectItemCaseSensitive(rep, "text")->valuestring;
        char *got = NULL;
        int rc = bertc_mlmetrics_report(&m, cJSON_IsArray(jn) ? names : NULL, digits, &got, &err);
        CHECK(rc == BERTC_OK && got && strcmp(got, want) == 0,
              "classification_report (digits %d, %s names) differs:\n--- bertc\n%s--- scikit-learn\n%s", digits,
              cJSON_IsArray(jn) ? "given" : "default", got ? got : err.msg, want);
        if (rc == BERTC_OK && got && strcmp(got, want) == 0)
            printf("mlmetrics report (digits %d, %s names): equals scikit-learn's byte for byte\n", digits,
                   cJSON_IsArray(jn) ? "given" : "default");
        free(got);
    }
    char *none = NULL;
    CHECK(bertc_mlmetrics_report(&m, NULL, 16, &none, &err) == BERTC_ERR_ARG && !none, "digits 16 accepted");
    cJSON *j = bertc_mlmetrics_json(&m, NULL);
    CHECK(j && cJSON_GetObjectItemCaseSensitive(j, "samples_avg") && cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "per_label")) == NL,
          "json: missing fields");
    cJSON_Delete(j);
    /* values other than 0/1 are refused and nothing is counted */
    int64_t before = m.n;
    pr[3] = 2;
    CHECK(bertc_mlmetrics_add(&m, t, pr, 1, &err) == BERTC_ERR_ARG && m.n == before, "a 2 in y_pred accepted");
    /* threshold: >= */
    float probs[4] = {0.49f, 0.5f, 0.51f, 0.0f};
    uint8_t out[4];
    bertc_mlmetrics_threshold(out, probs, 4, 0.5f);
    CHECK(out[0] == 0 && out[1] == 1 && out[2] == 1 && out[3] == 0, "threshold 0.5: %d %d %d %d", out[0], out[1], out[2], out[3]);
    bertc_mlmetrics_reset(&m);
    CHECK(m.n == 0 && m.tp && m.tp[0] == 0 && bertc_mlmetrics_micro(&m).f1 == 0, "reset did not zero the counts");
    bertc_mlmetrics_free(&m);
    bertc_mlmetrics_free(&m); /* harmless twice */
    free(t), free(pr);
    cJSON_Delete(exp);
    npy_free(&yt), npy_free(&yp);
}

int main(void) {
    model_part();
    metrics_part();
    return TEST_END();
}
