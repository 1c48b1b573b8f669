/* test_api_token.c: token classification through the public API (include/bertc.h):
 * bertc_model_task, bertc_entities (the pipeline's entities for every
 * aggregation, against tools/gen_token_pipeline.py's fixture, scores within
 * 1e-5), bertc_entities_json, and the refusals (a text-classification call on a
 * token model, entities from a text model, an unknown aggregation). */
#include <cjson/cJSON.h>

#include "../include/bertc.h"
#include "../src/common.h"
#include "test.h"

static char *line_of(const char *path, int k) {
    char *text = NULL;
    size_t len = 0;
    bertc_err err = {0};
    if (bertc_read_file(path, 1 << 24, &text, &len, &err)) return NULL;
    char *p = text;
    for (int i = 0; i < k && p; i++) p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
    char *e = p ? strchr(p, '\n') : NULL;
    char *out = p ? strndup(p, e ? (size_t)(e - p) : strlen(p)) : NULL;
    free(text);
    return out;
}

int main(void) {
    char model[4096], texts[4096];
    snprintf(model, sizeof model, "%s/model", test_fixture("token_pipeline"));
    snprintf(texts, sizeof texts, "%s/texts.txt", test_fixture("token_pipeline"));
    bertc_err err = {0};
    bertc_classifier *c = NULL;
    REQUIRE(bertc_open(&c, model, NULL, &err) == BERTC_OK, "open %s: %s (run make fixtures)", model, err.msg);
    CHECK(bertc_model_task(c) == BERTC_TASK_TOKEN_CLASSIFICATION, "task %d", bertc_model_task(c));
    const char *aggs[] = {"none", "simple", "first", "average", "max"};
    int compared = 0;
    for (int a = 0; a < 5; a++) {
        char ref[4200];
        snprintf(ref, sizeof ref, "%s/pipeline_%s.jsonl", test_fixture("token_pipeline"), aggs[a]);
        for (int k = 0; k < 8; k++) {
            char *text = line_of(texts, k), *want = line_of(ref, k);
            REQUIRE(text && want, "fixture line %d", k);
            bertc_entity_list *l = NULL;
            int rc = bertc_entities(c, text, strlen(text), aggs[a], &l, &err);
            CHECK(rc == BERTC_OK, "%s text %d: %s", aggs[a], k, err.msg);
            cJSON *w = cJSON_Parse(want);
            CHECK(w && cJSON_GetArraySize(w) == bertc_entity_count(l), "%s text %d: %d entities, pipeline %d", aggs[a], k,
                  bertc_entity_count(l), w ? cJSON_GetArraySize(w) : -1);
            for (int i = 0; w && i < bertc_entity_count(l) && i < cJSON_GetArraySize(w); i++) {
                const cJSON *e = cJSON_GetArrayItem(w, i);
                const cJSON *g = cJSON_GetObjectItem(e, a == 0 ? "entity" : "entity_group");
                bertc_entity_view v = bertc_entity_at(l, i);
                CHECK(g && strcmp(v.entity, g->valuestring) == 0 &&
                          strcmp(v.word, cJSON_GetObjectItem(e, "word")->valuestring) == 0 &&
                          v.start == cJSON_GetObjectItem(e, "start")->valueint &&
                          v.end == cJSON_GetObjectItem(e, "end")->valueint &&
                          fabs(v.score - cJSON_GetObjectItem(e, "score")->valuedouble) <= 1e-5,
                      "%s text %d entity %d: %s '%s' [%d,%d) %.6f", aggs[a], k, i, v.entity, v.word, v.start, v.end,
                      v.score);
                compared++;
            }
            char *js = bertc_entities_json(l);
            cJSON *back = js ? cJSON_Parse(js) : NULL;
            CHECK(back && cJSON_GetArraySize(back) == bertc_entity_count(l), "%s text %d: bertc_entities_json", aggs[a], k);
            cJSON_Delete(back);
            free(js);
            cJSON_Delete(w);
            bertc_entities_free(l);
            free(text);
            free(want);
        }
    }
    CHECK(compared > 50, "only %d entities compared", compared);
    bertc_entity_view none = bertc_entity_at(NULL, 0);
    CHECK(none.entity == NULL && bertc_entity_count(NULL) == 0, "NULL list");
    bertc_entities_free(NULL);
    bertc_entity_list *l = NULL;
    CHECK(bertc_entities(c, "Berlin", 6, "longest", &l, &err) == BERTC_ERR_ARG && l == NULL, "aggregation 'longest' accepted");
    float probs[16];
    const char *t[] = {"Berlin"};
    size_t tl[] = {6};
    CHECK(bertc_classify(c, t, tl, 1, probs, &err) == BERTC_ERR_UNSUPPORTED && strstr(err.msg, "token-classification"),
          "bertc_classify on a token model: %s", err.msg);
    bertc_close(c);
    c = NULL;
    REQUIRE(bertc_open(&c, test_fixture("forward/minilm2"), NULL, &err) == BERTC_OK, "open minilm2: %s", err.msg);
    CHECK(bertc_model_task(c) == BERTC_TASK_TEXT_CLASSIFICATION, "minilm2 task %d", bertc_model_task(c));
    CHECK(bertc_entities(c, "Berlin", 6, NULL, &l, &err) == BERTC_ERR_UNSUPPORTED && l == NULL,
          "entities from a text model: %s", err.msg);
    bertc_close(c);
    printf("api_token: %d entities equal the pipeline's through bertc_entities\n", compared);
    return TEST_END();
}
