/* test_qa_decode.c: answer decoding against transformers (fixtures from
 * tools/gen_qa.py and tools/gen_qa_pipeline.py), on seeded random logits:
 * (a) run_qa.py's postprocess_qa_predictions for the 200 generated examples at
 *     64/16 and 384/128, five settings (v1 and v2, n_best_size, max_answer_length,
 *     null_score_diff_threshold): the same answer text for every example, the same
 *     n-best lists (texts, offsets, logits, scores) and score differences;
 *     probabilities within 1e-4;
 * (b) transformers 4.57's QuestionAnsweringPipeline postprocess for ~130
 *     example/window settings, five settings of top_k, max_answer_len,
 *     handle_impossible_answer and align_to_words: the same windows, the same
 *     answers (start, end, text) in the same order, scores within 1e-4. */
#include "tasks/qa_decode.h"
#include "test.h"

#include <cjson/cJSON.h>

#define TOL_SCORE 1e-4 /* probabilities and pipeline scores: float32 in Python, double here */
#define TOL_LOGIT 0    /* logit sums are float32 in both: bit-equal */

static cJSON *load_json(const char *name) {
    char *text = NULL;
    size_t len = 0;
    bertc_err err = {0};
    if (bertc_read_file(test_fixture(name), 256 << 20, &text, &len, &err)) return NULL;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    return j;
}

static float *rows_of(const cJSON *rows, int F, int M) {
    float *x = calloc((size_t)F * M + 1, sizeof *x);
    for (int r = 0; x && r < F; r++) {
        const cJSON *row = cJSON_GetArrayItem(rows, r);
        int n = cJSON_GetArraySize(row);
        for (int t = 0; t < n && t < M; t++) x[(size_t)r * M + t] = (float)cJSON_GetArrayItem(row, t)->valuedouble;
    }
    return x;
}

static int text_is(const char *t, size_t len, const char *want) { return strlen(want) == len && !memcmp(t, want, len); }

static void test_postprocess(const bert_tokenizer *tok, const bertc_qa_set *set) {
    cJSON *dx = load_json("qa/decode.json");
    CHECK(dx != NULL, "qa/decode.json missing: run `make build/fixtures/qa.stamp`");
    if (!dx) return;
    const cJSON *st;
    cJSON_ArrayForEach(st, cJSON_GetObjectItem(dx, "settings")) {
        bertc_err err = {0};
        bertc_qa_opts fo;
        bertc_qa_opts_default(&fo);
        fo.max_length = cJSON_GetObjectItem(st, "max_length")->valueint;
        fo.stride = cJSON_GetObjectItem(st, "stride")->valueint;
        bertc_qa_features f = {0};
        CHECK(bertc_qa_features_build(&f, tok, set, &fo, &err) == BERTC_OK, "features: %s", err.msg);
        const cJSON *SLj = cJSON_GetObjectItem(st, "start_logits"), *ELj = cJSON_GetObjectItem(st, "end_logits");
        CHECK(cJSON_GetArraySize(SLj) == f.F, "logit rows %d, features %d", cJSON_GetArraySize(SLj), f.F);
        float *SL = rows_of(SLj, f.F, f.M), *EL = rows_of(ELj, f.F, f.M);
        const cJSON *run;
        cJSON_ArrayForEach(run, cJSON_GetObjectItem(st, "runs")) {
            bertc_qa_postprocess_opts o;
            bertc_qa_postprocess_opts_default(&o);
            o.version_2_with_negative = cJSON_IsTrue(cJSON_GetObjectItem(run, "version_2_with_negative"));
            o.n_best_size = cJSON_GetObjectItem(run, "n_best_size")->valueint;
            o.max_answer_length = cJSON_GetObjectItem(run, "max_answer_length")->valueint;
            o.null_score_diff_threshold = (float)cJSON_GetObjectItem(run, "null_score_diff_threshold")->valuedouble;
            bertc_qa_prediction *p = calloc((size_t)set->n, sizeof *p);
            int rc = bertc_qa_postprocess(p, set, &f, SL, EL, &o, &err);
            CHECK(rc == BERTC_OK, "postprocess: %s", err.msg);
            int bad_text = 0, bad_nbest = 0, bad_diff = 0, nulls = 0, cands = 0;
            double worst = 0;
            for (int i = 0; rc == BERTC_OK && i < set->n; i++) {
                const char *want = cJSON_GetArrayItem(cJSON_GetObjectItem(run, "predictions"), i)->valuestring;
                if (!text_is(p[i].text, p[i].text_len, want)) {
                    bad_text++;
                    fprintf(stderr, "  M %d %s: \"%.*s\", run_qa \"%s\"\n", f.M, set->ex[i].id, (int)p[i].text_len,
                            p[i].text, want);
                }
                nulls += p[i].text_len == 0;
                double wd = cJSON_GetArrayItem(cJSON_GetObjectItem(run, "score_diff"), i)->valuedouble;
                if (fabs(p[i].score_diff - wd) > 1e-6) bad_diff++;
                const cJSON *nb = cJSON_GetArrayItem(cJSON_GetObjectItem(run, "nbest"), i);
                int same = cJSON_GetArraySize(nb) == p[i].n_best;
                for (int k = 0; same && k < p[i].n_best; k++) {
                    const cJSON *w = cJSON_GetArrayItem(nb, k);
                    const bertc_qa_candidate *c = &p[i].nbest[k];
                    const char *wt = cJSON_GetObjectItem(w, "text")->valuestring;
                    int placeholder = c->start < 0;
                    size_t tl = placeholder ? 5 : (size_t)(c->byte_end - c->byte_start);
                    const char *tt = placeholder ? "empty" : set->ex[i].context + c->byte_start;
                    double dp = fabs(c->probability - cJSON_GetObjectItem(w, "probability")->valuedouble);
                    if (dp > worst) worst = dp;
                    same = text_is(tt, tl, wt) && c->start == cJSON_GetObjectItem(w, "start")->valueint &&
                           c->end == cJSON_GetObjectItem(w, "end")->valueint &&
                           fabs(c->start_logit - cJSON_GetObjectItem(w, "start_logit")->valuedouble) <= TOL_LOGIT &&
                           fabs(c->end_logit - cJSON_GetObjectItem(w, "end_logit")->valuedouble) <= TOL_LOGIT &&
                           fabs(c->score - cJSON_GetObjectItem(w, "score")->valuedouble) <= TOL_LOGIT &&
                           dp <= TOL_SCORE;
                    if (!same)
                        fprintf(stderr, "  M %d %s n-best %d: (%d,%d) %.9g, run_qa (%d,%d) %.9g \"%s\"\n", f.M,
                                set->ex[i].id, k, c->start, c->end, c->score,
                                cJSON_GetObjectItem(w, "start")->valueint, cJSON_GetObjectItem(w, "end")->valueint,
                                cJSON_GetObjectItem(w, "score")->valuedouble, wt);
                }
                cands += p[i].n_best;
                bad_nbest += !same;
            }
            CHECK(bad_text == 0 && bad_nbest == 0 && bad_diff == 0,
                  "M %d v2 %d n_best %d max_len %d thr %g: %d answers, %d n-best lists, %d score diffs differ", f.M,
                  o.version_2_with_negative, o.n_best_size, o.max_answer_length, o.null_score_diff_threshold,
                  bad_text, bad_nbest, bad_diff);
            printf("qa_decode (a): M %d v2 %d n_best %d max_len %d thr %4.1f: %d answers (%d empty), %d n-best "
                   "entries equal run_qa's; probabilities max |diff| %.1e\n",
                   f.M, o.version_2_with_negative, o.n_best_size, o.max_answer_length, o.null_score_diff_threshold,
                   set->n, nulls, cands, worst);
            bertc_qa_predictions_free(p, set->n);
            free(p);
        }
        /* a NaN logit is refused, not ranked */
        SL[1] = NAN;
        bertc_qa_prediction *p = calloc((size_t)set->n, sizeof *p);
        CHECK(bertc_qa_postprocess(p, set, &f, SL, EL, NULL, &err) == BERTC_ERR_NUMERIC && strstr(err.msg, "non-finite"),
              "NaN logit: %s", err.msg);
        bertc_qa_predictions_free(p, set->n);
        free(p);
        free(SL), free(EL);
        bertc_qa_features_free(&f);
    }
    cJSON_Delete(dx);
}

static void test_pipeline(const bert_tokenizer *tok) {
    cJSON *px = load_json("qa_pipeline/pipeline.json");
    CHECK(px != NULL, "qa_pipeline/pipeline.json missing: run `make build/fixtures/qa_pipeline.stamp` (needs "
          "build/venv-tf457 with transformers 4.57)");
    if (!px) return;
    int ncases = 0, nwin = 0, nans = 0, bad = 0;
    double worst = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(px, "cases")) {
        bertc_err err = {0};
        bertc_qa_example ex = {0};
        ex.id = "pipeline";
        ex.question = cJSON_GetObjectItem(c, "question")->valuestring;
        ex.context = cJSON_GetObjectItem(c, "context")->valuestring;
        ex.question_len = strlen(ex.question), ex.context_len = strlen(ex.context);
        bertc_qa_opts fo;
        bertc_qa_opts_default(&fo);
        fo.max_length = cJSON_GetObjectItem(c, "max_length")->valueint;
        fo.stride = cJSON_GetObjectItem(c, "stride")->valueint;
        fo.pad_to_max_length = 0, fo.lstrip_question = 0;
        bertc_qa_features f = {0};
        int rc = bertc_qa_features_add(&f, tok, &ex, 0, &fo, &err);
        const cJSON *wins = cJSON_GetObjectItem(c, "windows");
        int W = cJSON_GetArraySize(wins);
        CHECK(rc == BERTC_OK && f.F == W, "pipeline case %d: %d windows, pipeline %d (%s)", ncases, f.F, W, err.msg);
        if (rc || f.F != W) {
            bertc_qa_features_free(&f);
            continue;
        }
        float *SL = calloc((size_t)W * f.M, sizeof *SL), *EL = calloc((size_t)W * f.M, sizeof *EL);
        int same_ids = 1;
        for (int r = 0; r < W; r++) {
            const cJSON *w = cJSON_GetArrayItem(wins, r), *ids = cJSON_GetObjectItem(w, "input_ids");
            same_ids &= cJSON_GetArraySize(ids) == f.len[r];
            for (int t = 0; same_ids && t < f.len[r]; t++) {
                same_ids &= f.input_ids[(size_t)r * f.M + t] == cJSON_GetArrayItem(ids, t)->valueint;
                SL[(size_t)r * f.M + t] = (float)cJSON_GetArrayItem(cJSON_GetObjectItem(w, "start"), t)->valuedouble;
                EL[(size_t)r * f.M + t] = (float)cJSON_GetArrayItem(cJSON_GetObjectItem(w, "end"), t)->valuedouble;
            }
        }
        CHECK(same_ids, "pipeline case %d: windows differ from the pipeline's preprocess", ncases);
        const cJSON *run;
        cJSON_ArrayForEach(run, cJSON_GetObjectItem(c, "runs")) {
            bertc_qa_pipeline_opts o;
            o.top_k = cJSON_GetObjectItem(run, "top_k")->valueint;
            o.max_answer_len = cJSON_GetObjectItem(run, "max_answer_len")->valueint;
            o.handle_impossible_answer = cJSON_IsTrue(cJSON_GetObjectItem(run, "handle_impossible_answer"));
            o.align_to_words = cJSON_IsTrue(cJSON_GetObjectItem(run, "align_to_words"));
            bertc_qa_answer a[16];
            int na = 0;
            rc = bertc_qa_pipeline_decode(a, &na, &ex, &f, 0, W, SL, EL, &o, &err);
            const cJSON *want = cJSON_GetObjectItem(run, "answers");
            int same = rc == BERTC_OK && na == cJSON_GetArraySize(want);
            for (int k = 0; same && k < na; k++) {
                const cJSON *w = cJSON_GetArrayItem(want, k);
                double d = fabs(a[k].score - cJSON_GetObjectItem(w, "score")->valuedouble);
                if (d > worst) worst = d;
                same = a[k].start == cJSON_GetObjectItem(w, "start")->valueint &&
                       a[k].end == cJSON_GetObjectItem(w, "end")->valueint &&
                       text_is(ex.context + a[k].byte_start, (size_t)(a[k].byte_end - a[k].byte_start),
                               cJSON_GetObjectItem(w, "answer")->valuestring) &&
                       d <= TOL_SCORE;
            }
            if (!same) {
                bad++;
                fprintf(stderr, "  pipeline case %d (M %d, top_k %d, len %d, impossible %d, align %d): %d answers, "
                        "pipeline %d\n", ncases, f.M, o.top_k, o.max_answer_len, o.handle_impossible_answer,
                        o.align_to_words, na, cJSON_GetArraySize(want));
                for (int k = 0; k < na || k < cJSON_GetArraySize(want); k++) {
                    const cJSON *w = cJSON_GetArrayItem(want, k);
                    fprintf(stderr, "    %d: bertc (%d,%d) %.6g | pipeline (%d,%d) %.6g \"%s\"\n", k,
                            k < na ? a[k].start : -9, k < na ? a[k].end : -9, k < na ? a[k].score : -1,
                            w ? cJSON_GetObjectItem(w, "start")->valueint : -9,
                            w ? cJSON_GetObjectItem(w, "end")->valueint : -9,
                            w ? cJSON_GetObjectItem(w, "score")->valuedouble : -1,
                            w ? cJSON_GetObjectItem(w, "answer")->valuestring : "");
                }
            }
            nans += na;
        }
        nwin += W;
        ncases++;
        free(SL), free(EL);
        bertc_qa_features_free(&f);
    }
    CHECK(bad == 0, "%d pipeline runs differ from transformers 4.57's", bad);
    CHECK(ncases >= 100, "only %d pipeline cases", ncases);
    printf("qa_decode (b): transformers %s pipeline: %d cases, %d windows, %d answers equal; scores max |diff| %.1e\n",
           cJSON_GetObjectItem(px, "transformers")->valuestring, ncases, nwin, nans, worst);
    cJSON_Delete(px);
}

int main(void) {
    bertc_err err = {0};
    char vocab[4200];
    snprintf(vocab, sizeof vocab, "%s/vocab.txt", test_model_dir());
    bert_tokenizer *tok = NULL;
    REQUIRE(bert_tokenizer_load(&tok, vocab, NULL, &err) == BERTC_OK, "%s: %s", vocab, err.msg);
    bertc_qa_set set = {0};
    REQUIRE(bertc_qa_read(&set, test_fixture("qa/train.jsonl"), &err) == BERTC_OK, "%s (run `make fixtures`)",
            err.msg);
    test_postprocess(tok, &set);
    test_pipeline(tok);
    /* argument checks */
    bertc_qa_pipeline_opts po;
    bertc_qa_pipeline_opts_default(&po);
    po.top_k = 0;
    bertc_qa_features none = {0};
    bertc_qa_answer a[1];
    int na = 0;
    CHECK(bertc_qa_pipeline_decode(a, &na, &set.ex[0], &none, 0, 1, NULL, NULL, &po, &err) == BERTC_ERR_ARG,
          "top_k 0 refused");
    bertc_qa_set_free(&set);
    bert_tokenizer_free(tok);
    return TEST_END();
}
