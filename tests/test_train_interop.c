/* test_train_interop.c: a folder fine-tuned and saved by transformers loads in
 * bertc and gives transformers' logits (within TOL) and labels.
 *
 *   test_train_interop                  the check (fixture: tools/gen_train.py)
 *   test_train_interop --dump DIR       prints {"logits": [[...]], "labels": [...]}
 *                                       for the fixture's texts with the model in DIR
 *                                       (tests/test_train_interop.sh feeds it to
 *                                       tools/check_interop.py, the other direction)
 */
#include <cjson/cJSON.h>

#include "../src/bert.h"
#include "../src/hfmodel.h"
#include "../src/tokenizer.h"
#include "test.h"

/* Tolerance on each logit: fp32 on both sides, different summation orders. */
#define TOL 1e-4

enum { NMAX = 64, TMAX = 128 };

/* Logits of texts[0..n) (eval mode, truncation at 128, padded to the longest) into out (n, NL). */
static int logits_of(const char *dir, cJSON *texts, float *out, int *NL, char labels[][64], bertc_err *err) {
    hf_load_opts lo;
    hf_load_opts_default(&lo);
    hf_model m = {0};
    if (hf_model_load(&m, dir, &lo, err)) return err->code;
    bert_tokenizer *tok = NULL;
    int rc = hf_model_tokenizer(&tok, &m, err);
    int n = cJSON_GetArraySize(texts);
    bert_encoding enc[NMAX] = {{0}};
    bert_model bm = {0};
    static int32_t ids[NMAX * TMAX], types[NMAX * TMAX], mask[NMAX * TMAX];
    for (int i = 0; i < n && !rc; i++) {
        const char *s = cJSON_GetArrayItem(texts, i)->valuestring;
        rc = bert_encode(tok, s, strlen(s), NULL, 0, TMAX, BERT_TRUNC_HEAD, &enc[i], err);
    }
    int T = rc ? 0 : bert_batch_longest(enc, n);
    if (!rc) rc = bert_pad_batch(ids, types, mask, tok, enc, n, T, err);
    if (!rc) rc = bert_model_build(&bm, &m.cfg, m.params_memory, n, T, 0, err);
    if (!rc) rc = bert_forward(&bm, ids, types, mask, n, T, NULL, NULL, NULL, err);
    if (!rc) {
        *NL = m.cfg.num_labels;
        memcpy(out, bm.logits, (size_t)n * *NL * sizeof(float));
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int k = 1; k < *NL; k++)
                if (out[i * *NL + k] > out[i * *NL + best]) best = k;
            snprintf(labels[i], 64, "%s", m.cfg.id2label[best]);
        }
    }
    for (int i = 0; i < NMAX; i++) bert_encoding_free(&enc[i]);
    bert_model_free(&bm);
    bert_tokenizer_free(tok);
    hf_model_free(&m);
    return rc;
}

int main(int argc, char **argv) {
    char *js = NULL;
    size_t len = 0;
    bertc_err err = {0};
    REQUIRE(bertc_read_file(test_fixture("train/hf_tuned.json"), 1 << 24, &js, &len, &err) == BERTC_OK,
            "fixture: %s (run make fixtures)", err.msg);
    cJSON *ref = cJSON_Parse(js);
    free(js);
    REQUIRE(ref != NULL, "hf_tuned.json: bad JSON");
    cJSON *texts = cJSON_GetObjectItem(ref, "texts");
    int n = cJSON_GetArraySize(texts);
    REQUIRE(n > 0 && n <= NMAX, "hf_tuned.json: %d texts", n);
    static float lg[NMAX * 16];
    static char labels[NMAX][64];
    int NL = 0;

    if (argc == 3 && strcmp(argv[1], "--dump") == 0) {
        int rc = logits_of(argv[2], texts, lg, &NL, labels, &err);
        if (rc) {
            fprintf(stderr, "%s\n", err.msg);
            cJSON_Delete(ref);
            return 1;
        }
        printf("{\"logits\": [");
        for (int i = 0; i < n; i++) {
            printf("%s[", i ? ", " : "");
            for (int k = 0; k < NL; k++) printf("%s%.9g", k ? ", " : "", lg[i * NL + k]);
            printf("]");
        }
        printf("], \"labels\": [");
        for (int i = 0; i < n; i++) printf("%s\"%s\"", i ? ", " : "", labels[i]);
        printf("]}\n");
        cJSON_Delete(ref);
        return 0;
    }

    int rc = logits_of(test_fixture("train/hf_tuned"), texts, lg, &NL, labels, &err);
    CHECK(rc == BERTC_OK, "loading transformers' fine-tuned folder: %s", err.msg);
    if (rc == BERTC_OK) {
        cJSON *rl = cJSON_GetObjectItem(ref, "logits"), *rlab = cJSON_GetObjectItem(ref, "labels");
        double worst = 0;
        int same = 0;
        for (int i = 0; i < n; i++) {
            cJSON *row = cJSON_GetArrayItem(rl, i);
            CHECK(cJSON_GetArraySize(row) == NL, "text %d: %d logits, bertc %d", i, cJSON_GetArraySize(row), NL);
            for (int k = 0; k < NL && k < cJSON_GetArraySize(row); k++) {
                double d = fabs(cJSON_GetArrayItem(row, k)->valuedouble - lg[i * NL + k]);
                if (d > worst) worst = d;
                CHECK(d <= TOL, "text %d logit %d: transformers %.7f, bertc %.7f", i, k,
                      cJSON_GetArrayItem(row, k)->valuedouble, lg[i * NL + k]);
            }
            const char *want = cJSON_GetArrayItem(rlab, i)->valuestring;
            CHECK(strcmp(want, labels[i]) == 0, "text %d: transformers says %s, bertc %s", i, want, labels[i]);
            same += strcmp(want, labels[i]) == 0;
        }
        printf("transformers -> bertc: %d texts, max |logit diff| %.2e, %d/%d labels equal\n", n, worst, same, n);
    }
    cJSON_Delete(ref);
    return TEST_END();
}
