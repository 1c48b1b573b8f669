/* test_longtext.c: long-text windows and pooled logits against transformers
 * (fixtures from tools/gen_longtext.py): for 4 texts (long, short, empty, 40
 * words) x 5 (max_length, stride) settings, bertc's windows equal the tokenizer's
 * return_overflowing_tokens windows token for token, and bertc_longtext_classify's
 * mean- and max-pooled logits equal the mean / max of transformers' per-window
 * logits within 1e-4 (the forward tolerance of docs/numerics.md). Also: the
 * pooling backward, and a stride that leaves no room is refused. */
#include "../src/bert.h"
#include "../src/hfmodel.h"
#include "../src/longtext.h"
#include "test.h"

#include <cjson/cJSON.h>

#define TOL_OUT 1e-4f

int main(void) {
    bertc_err err = {0};
    char path[4096];
    snprintf(path, sizeof path, "%slongtext/cases.json", test_fixture(""));
    char *text = NULL;
    size_t len = 0;
    REQUIRE(bertc_read_file(path, 64 << 20, &text, &len, &err) == BERTC_OK, "%s: run `make fixtures`", path);
    cJSON *root = cJSON_Parse(text);
    free(text);
    REQUIRE(root, "%s: not JSON", path);
    snprintf(path, sizeof path, "%slongtext/model", test_fixture(""));
    hf_model hf = {0};
    REQUIRE(hf_model_load(&hf, path, NULL, &err) == BERTC_OK, "%s: %s", path, err.msg);
    bert_tokenizer *tok = NULL;
    REQUIRE(hf_model_tokenizer(&tok, &hf, &err) == BERTC_OK, "tokenizer: %s", err.msg);
    bert_model m;
    REQUIRE(bert_model_build(&m, &hf.cfg, hf.params_memory, 4, 64, 0, &err) == BERTC_OK, "build: %s", err.msg);
    int NL = hf.cfg.num_labels, ncases = 0, nwins = 0;
    float worst = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases")) {
        const char *t = cJSON_GetObjectItem(c, "text")->valuestring;
        int M = cJSON_GetObjectItem(c, "max_length")->valueint, S = cJSON_GetObjectItem(c, "stride")->valueint;
        const cJSON *wins = cJSON_GetObjectItem(c, "windows");
        int want = cJSON_GetArraySize(wins), cap = want + 8, nwin = 0;
        int32_t *ids = malloc((size_t)cap * M * sizeof *ids), *mask = malloc((size_t)cap * M * sizeof *mask);
        bert_encoding enc = {0};
        int rc = bertc_longtext_windows(tok, t, strlen(t), M, S, ids, mask, cap, &nwin, &enc, &err);
        CHECK(rc == BERTC_OK && nwin == want, "M %d S %d \"%.30s\": %d windows, transformers %d (%s)", M, S, t, nwin,
              want, err.msg);
        for (int k = 0; rc == BERTC_OK && k < nwin && k < want; k++) {
            const cJSON *w = cJSON_GetArrayItem(wins, k);
            int n = cJSON_GetArraySize(w), same = 1;
            for (int i = 0; i < M; i++) {
                int wid = i < n ? cJSON_GetArrayItem(w, i)->valueint : 0;
                if (ids[(size_t)k * M + i] != wid || mask[(size_t)k * M + i] != (i < n)) same = 0;
            }
            CHECK(same, "M %d S %d \"%.30s\": window %d differs from transformers'", M, S, t, k);
        }
        CHECK(bertc_window_count(enc.n, M, S) == want, "window count formula: %d, want %d",
              bertc_window_count(enc.n, M, S), want);
        bert_encoding_free(&enc);
        free(ids), free(mask);
        for (int mode = 0; mode < 2; mode++) {
            float got[16];
            rc = bertc_longtext_classify(&m, tok, t, strlen(t), M, S, mode, got, &err);
            CHECK(rc == BERTC_OK, "classify: %s", err.msg);
            const cJSON *ref = cJSON_GetObjectItem(c, mode ? "max" : "mean");
            for (int i = 0; rc == BERTC_OK && i < NL; i++) {
                float d = fabsf(got[i] - (float)cJSON_GetArrayItem(ref, i)->valuedouble);
                if (d > worst) worst = d;
                CHECK(d <= TOL_OUT, "M %d S %d %s logit %d: bertc %.7g transformers %.7g", M, S, mode ? "max" : "mean",
                      i, got[i], cJSON_GetArrayItem(ref, i)->valuedouble);
            }
        }
        ncases++;
        nwins += want;
    }
    printf("longtext: %d cases, %d windows equal transformers'; pooled logits max |diff| %.2e\n", ncases, nwins, worst);
    /* pooling backward: mean spreads, max routes to the argmax window */
    float win[6] = {1, 5, 3, 2, 2, 4}, dout[2] = {1, -2}, dwin[6];
    bertc_pool_logits_backward(dwin, dout, win, 3, 2, BERTC_POOL_MEAN);
    CHECK(fabsf(dwin[0] - 1.0f / 3) < 1e-7f && fabsf(dwin[5] + 2.0f / 3) < 1e-7f, "mean backward");
    bertc_pool_logits_backward(dwin, dout, win, 3, 2, BERTC_POOL_MAX);
    CHECK(dwin[2] == 1 && dwin[0] == 0 && dwin[4] == 0 && dwin[1] == -2 && dwin[3] == 0 && dwin[5] == 0, "max backward");
    CHECK(bertc_window_count(100, 16, 14) == -1 && bertc_window_count(100, 2, 0) == -1, "a stride with no room accepted");
    float out[4];
    CHECK(bertc_longtext_classify(&m, tok, "x", 1, 16, 14, 0, out, &err) == BERTC_ERR_ARG, "classify: bad stride accepted");
    bert_model_free(&m);
    bert_tokenizer_free(tok);
    hf_model_free(&hf);
    cJSON_Delete(root);
    return TEST_END();
}
