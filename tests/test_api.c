/* test_api.c: the public API (include/bertc.h only) classifies texts and pairs
 * with the probabilities transformers' pipeline gives (tools/gen_api.py, the
 * minilm2 fixture), within 1e-5; bad arguments are refused with a message. */
#include <cjson/cJSON.h>

#include "../include/bertc.h"
#include "test.h"

#define PROB_ATOL 1e-5f /* softmax of logits that match within 1e-4 (docs/numerics.md) */

int main(void) {
    char model[4096];
    snprintf(model, sizeof model, "%s", test_fixture("forward/minilm2"));
    FILE *f = fopen(test_fixture("api/cases.jsonl"), "r");
    REQUIRE(f != NULL, "%s: missing: run `make fixtures`", test_fixture("api/cases.jsonl"));
    bertc_err err = {0};
    bertc_classifier *c = NULL;
    bertc_options o = {.batch_size = 4};
    REQUIRE(bertc_open(&c, model, &o, &err) == BERTC_OK, "open: %s", err.msg);
    CHECK(bertc_num_labels(c) == 2, "2 labels, got %d", bertc_num_labels(c));
    CHECK(bertc_label(c, 1) && strcmp(bertc_label(c, 1), "LABEL_1") == 0, "label 1 is LABEL_1");
    CHECK(bertc_label(c, 2) == NULL, "label 2 is out of range");
    CHECK(bertc_has_trained_head(c) == 1, "the fixture has a classifier");
    CHECK(bertc_is_multi_label(c) == 0, "single-label");
    char *line = NULL;
    size_t cap = 0;
    int ncase = 0;
    while (getline(&line, &cap, f) > 0) {
        cJSON *j = cJSON_Parse(line);
        REQUIRE(j != NULL, "case %d: bad JSON", ncase);
        const char *a = cJSON_GetObjectItem(j, "text")->valuestring;
        const cJSON *b = cJSON_GetObjectItem(j, "text_pair");
        const cJSON *p = cJSON_GetObjectItem(j, "probs");
        float got[2] = {0};
        size_t la = strlen(a);
        int rc;
        if (cJSON_IsString(b)) {
            const char *tb = b->valuestring;
            size_t lb = strlen(tb);
            rc = bertc_classify_pairs(c, &a, &la, &tb, &lb, 1, got, &err);
        } else {
            rc = bertc_classify(c, &a, &la, 1, got, &err);
        }
        CHECK(rc == BERTC_OK, "case %d: %s", ncase, err.msg);
        for (int i = 0; i < 2; i++) {
            float want = (float)cJSON_GetArrayItem(p, i)->valuedouble;
            CHECK(fabsf(got[i] - want) <= PROB_ATOL, "case %d: p[%d] = %.7f, transformers %.7f", ncase, i, got[i],
                  want);
        }
        cJSON_Delete(j);
        ncase++;
    }
    free(line);
    fclose(f);
    CHECK(ncase >= 5, "read %d cases", ncase);
    const char *t = "x";
    size_t l = 1;
    float pr[2];
    CHECK(bertc_classify_pairs(c, &t, &l, NULL, NULL, 1, pr, &err) == BERTC_ERR_ARG, "pairs without texts_b refused");
    bertc_close(c);
    bertc_close(NULL);
    bertc_options bad = {.truncation = 7};
    CHECK(bertc_open(&c, model, &bad, &err) == BERTC_ERR_ARG && strstr(err.msg, "truncation"),
          "a bad option is named: %s", err.msg);
    CHECK(bertc_open(&c, "/nonexistent/model", NULL, &err) == BERTC_ERR_NOTFOUND && strstr(err.msg, "/nonexistent"),
          "a missing folder is named: %s", err.msg);
    CHECK(strcmp(bertc_status_name(BERTC_ERR_FORMAT), "format error") == 0, "status names");
    return TEST_END();
}
