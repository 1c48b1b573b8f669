/* test_api_qa.c: extractive question answering through the public API
 * (include/bertc.h): bertc_answer / bertc_answer_count / bertc_answer_at /
 * bertc_answers_json against transformers 4.57's pipeline("question-answering")
 * on tools/gen_qa_cli.py's fixture (a random BertForQuestionAnswering on
 * MiniLM's vocabulary; 30 question/context pairs with accents, CJK, Hangul,
 * punctuation runs, long words, contexts of several windows, unanswerable
 * questions) under its 4 settings (defaults; top_k 3 + handle_impossible_answer;
 * top_k 2, max_answer_len 4, max_seq_len 64, doc_stride 16;
 * handle_impossible_answer, max_seq_len 48, doc_stride 8): the same spans and
 * texts, scores within 1e-4 (as tests/qa_check.py), the JSON in the pipeline's
 * shape (an object for one answer, else a list). Then the refusals: NULL
 * arguments, an empty question or context, invalid UTF-8, options out of range
 * (each message names the field), a question too long for the window, and a
 * text-classification model (BERTC_ERR_UNSUPPORTED). */
#include <cjson/cJSON.h>
#include <omp.h>

#include "../include/bertc.h"
#include "../src/common.h"
#include "test.h"

static const double SCORE_TOL = 1e-4; /* the pipeline's float32 softmax products; bertc's in double */

static cJSON *read_json(const char *path) {
    cJSON *j = NULL;
    bertc_err err = {0};
    return bertc_json_read(&j, path, 1 << 26, &err) == BERTC_OK ? j : NULL;
}

/* The run's command-line flags (gen_qa_cli.py writes bertc predict's) as options. */
static int options_of(bertc_qa_options *o, const cJSON *flags) {
    bertc_qa_options_default(o);
    int n = cJSON_GetArraySize(flags);
    for (int i = 0; i < n; i++) {
        const char *f = cJSON_GetArrayItem(flags, i)->valuestring;
        const cJSON *next = cJSON_GetArrayItem(flags, i + 1);
        int v = next && cJSON_IsString(next) ? atoi(next->valuestring) : 0;
        if (strcmp(f, "--handle-impossible-answer") == 0) o->handle_impossible_answer = 1;
        else if (strcmp(f, "--top-k") == 0) o->top_k = v, i++;
        else if (strcmp(f, "--max-answer-length") == 0) o->max_answer_len = v, i++;
        else if (strcmp(f, "--max-length") == 0) o->max_seq_len = v, i++;
        else if (strcmp(f, "--doc-stride") == 0) o->doc_stride = v, i++;
        else if (*f) return -1;
    }
    return 0;
}

/* bertc's answers l against the pipeline's (an object or a list); returns mismatches. */
static int compare(const bertc_answer_list *l, const cJSON *want, const char *context, int run, int k, double *maxdiff) {
    int bad = 0, n = cJSON_IsArray(want) ? cJSON_GetArraySize(want) : 1;
    CHECK(bertc_answer_count(l) == n, "run %d input %d: %d answers, the pipeline %d", run, k, bertc_answer_count(l), n);
    if (bertc_answer_count(l) != n) return 1;
    for (int i = 0; i < n; i++) {
        const cJSON *w = cJSON_IsArray(want) ? cJSON_GetArrayItem(want, i) : want;
        bertc_answer_view v = bertc_answer_at(l, i);
        double ws = cJSON_GetObjectItem(w, "score")->valuedouble, d = fabs(v.score - ws);
        if (d > *maxdiff) *maxdiff = d;
        int ok = v.answer && strcmp(v.answer, cJSON_GetObjectItem(w, "answer")->valuestring) == 0 &&
                 v.start == cJSON_GetObjectItem(w, "start")->valueint &&
                 v.end == cJSON_GetObjectItem(w, "end")->valueint && d <= SCORE_TOL &&
                 v.byte_end >= v.byte_start && strlen(v.answer) == v.byte_end - v.byte_start &&
                 strncmp(context + v.byte_start, v.answer, v.byte_end - v.byte_start) == 0;
        CHECK(ok, "run %d input %d answer %d: '%s' [%d,%d) %.8f; the pipeline '%s' [%d,%d) %.8f", run, k, i,
              v.answer ? v.answer : "(null)", v.start, v.end, v.score, cJSON_GetObjectItem(w, "answer")->valuestring,
              cJSON_GetObjectItem(w, "start")->valueint, cJSON_GetObjectItem(w, "end")->valueint, ws);
        bad += !ok;
    }
    /* the JSON has the pipeline's shape and the same answers */
    char *js = bertc_answers_json(l);
    cJSON *back = js ? cJSON_Parse(js) : NULL;
    int shape = back && cJSON_IsArray(back) == cJSON_IsArray(want) &&
                (!cJSON_IsArray(back) || cJSON_GetArraySize(back) == n);
    const cJSON *b0 = back ? (cJSON_IsArray(back) ? cJSON_GetArrayItem(back, 0) : back) : NULL;
    const cJSON *w0 = cJSON_IsArray(want) ? cJSON_GetArrayItem(want, 0) : want;
    if (shape && b0 && w0)
        shape = strcmp(cJSON_GetObjectItem(b0, "answer")->valuestring, cJSON_GetObjectItem(w0, "answer")->valuestring) == 0 &&
                cJSON_GetObjectItem(b0, "start")->valueint == cJSON_GetObjectItem(w0, "start")->valueint;
    CHECK(shape, "run %d input %d: bertc_answers_json %s is not the pipeline's shape", run, k, js ? js : "NULL");
    cJSON_Delete(back);
    free(js);
    return bad + !shape;
}

int main(void) {
    /* a 2-layer, hidden-32 model: more threads only wait on each other on a busy machine
     * (9 s with 2 threads against 2 s with 1 on the shared box) */
    omp_set_num_threads(1);
    char model[4096], runs_path[4096], inputs_path[4096];
    snprintf(model, sizeof model, "%s/tiny", test_fixture("qa_cli"));
    snprintf(runs_path, sizeof runs_path, "%s/runs.json", test_fixture("qa_cli"));
    snprintf(inputs_path, sizeof inputs_path, "%s/inputs.jsonl", test_fixture("qa_cli"));
    cJSON *runs = read_json(runs_path);
    REQUIRE(runs, "%s missing (make build/fixtures/qa_cli.stamp)", runs_path);
    char *text = NULL;
    size_t len = 0;
    bertc_err err = {0};
    REQUIRE(bertc_read_file(inputs_path, 1 << 24, &text, &len, &err) == BERTC_OK, "%s", err.msg);
    cJSON *inputs[64];
    int n_in = 0;
    for (char *p = text; *p && n_in < 64;) {
        char *e = strchr(p, '\n');
        if (e) *e = '\0';
        if (*p) inputs[n_in++] = cJSON_Parse(p);
        p = e ? e + 1 : p + strlen(p);
    }
    free(text);
    REQUIRE(n_in == 30, "%d inputs in %s, expected 30", n_in, inputs_path);

    bertc_classifier *c = NULL;
    REQUIRE(bertc_open(&c, model, NULL, &err) == BERTC_OK, "open %s: %s", model, err.msg);
    CHECK(bertc_model_task(c) == BERTC_TASK_QUESTION_ANSWERING, "task %d", bertc_model_task(c));

    /* 1. the pipeline's answers, run by run */
    const cJSON *rl = cJSON_GetObjectItem(runs, "runs");
    int compared = 0, mismatches = 0;
    double maxdiff = 0;
    for (int r = 0; r < cJSON_GetArraySize(rl); r++) {
        const cJSON *run = cJSON_GetArrayItem(rl, r);
        bertc_qa_options o;
        REQUIRE(options_of(&o, cJSON_GetObjectItem(run, "flags")) == 0, "run %d: unknown flag", r);
        const cJSON *answers = cJSON_GetObjectItem(run, "answers");
        REQUIRE(cJSON_GetArraySize(answers) == n_in, "run %d: %d answers for %d inputs", r,
                cJSON_GetArraySize(answers), n_in);
        for (int k = 0; k < n_in; k++) {
            const char *q = cJSON_GetObjectItem(inputs[k], "question")->valuestring;
            const char *ctx = cJSON_GetObjectItem(inputs[k], "context")->valuestring;
            bertc_answer_list *l = NULL;
            /* run 0 is the defaults: through NULL options, the others through the struct */
            int rc = bertc_answer(c, q, strlen(q), ctx, strlen(ctx), r == 0 ? NULL : &o, &l, &err);
            CHECK(rc == BERTC_OK && l, "run %d input %d: %s", r, k, err.msg);
            if (rc == BERTC_OK) mismatches += compare(l, cJSON_GetArrayItem(answers, k), ctx, r, k, &maxdiff);
            compared += bertc_answer_count(l);
            bertc_answers_free(l);
        }
    }
    CHECK(compared >= 200, "only %d answers compared", compared);
    printf("api_qa: %d answers over %d runs x %d inputs, %d mismatches, max score diff %.2e (tolerance %g)\n", compared,
           cJSON_GetArraySize(rl), n_in, mismatches, maxdiff, SCORE_TOL);

    /* 2. bad input: a status, a message naming the field, *out untouched */
    const char *q = "Who met Renée?", *ctx = "Zoë met Renée in São Paulo.";
    size_t ql = strlen(q), cl = strlen(ctx);
    bertc_answer_list *l = NULL;
    struct {
        const char *what, *question, *context;
        size_t qlen, clen;
        int top_k, doc_stride, max_answer_len, max_seq_len, max_question_len;
        int want;
        const char *field;
    } bad[] = {
        {"NULL question", NULL, ctx, 0, cl, 1, -1, 15, 0, 64, BERTC_ERR_ARG, "question"},
        {"NULL context", q, NULL, ql, 0, 1, -1, 15, 0, 64, BERTC_ERR_ARG, "context"},
        {"empty question", q, ctx, 0, cl, 1, -1, 15, 0, 64, BERTC_ERR_ARG, "question: empty"},
        {"empty context", q, ctx, ql, 0, 1, -1, 15, 0, 64, BERTC_ERR_ARG, "context: empty"},
        {"invalid UTF-8", q, "ab\xff\xfe", ql, 4, 1, -1, 15, 0, 64, BERTC_ERR_ARG, "context: not valid UTF-8"},
        {"NUL in the question", "a\0b", ctx, 3, cl, 1, -1, 15, 0, 64, BERTC_ERR_ARG, "question: contains a NUL"},
        {"top_k 0", q, ctx, ql, cl, 0, -1, 15, 0, 64, BERTC_ERR_ARG, "top_k"},
        {"max_answer_len 0", q, ctx, ql, cl, 1, -1, 0, 0, 64, BERTC_ERR_ARG, "max_answer_len"},
        {"max_question_len 0", q, ctx, ql, cl, 1, -1, 15, 0, 0, BERTC_ERR_ARG, "max_question_len"},
        {"max_seq_len 1000 > 512", q, ctx, ql, cl, 1, -1, 15, 1000, 64, BERTC_ERR_ARG, "max_seq_len"},
        {"max_seq_len 3", q, ctx, ql, cl, 1, -1, 15, 3, 64, BERTC_ERR_ARG, "max_seq_len"},
        {"doc_stride 65 > max_seq_len 64", q, ctx, ql, cl, 1, 65, 15, 64, 64, BERTC_ERR_ARG, "doc_stride"},
        {"doc_stride -2", q, ctx, ql, cl, 1, -2, 15, 0, 64, BERTC_ERR_ARG, "doc_stride"},
        {"a question longer than the window", "one two three four five six seven eight nine ten", ctx, 48, cl, 1, 0,
         15, 8, 64, BERTC_ERR_ARG, "leave no room for the context"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bertc_qa_options o;
        bertc_qa_options_default(&o);
        o.top_k = bad[i].top_k, o.doc_stride = bad[i].doc_stride, o.max_answer_len = bad[i].max_answer_len;
        o.max_seq_len = bad[i].max_seq_len, o.max_question_len = bad[i].max_question_len;
        memset(&err, 0, sizeof err);
        int rc = bertc_answer(c, bad[i].question, bad[i].qlen, bad[i].context, bad[i].clen, &o, &l, &err);
        CHECK(rc == bad[i].want && err.code == rc && l == NULL && strstr(err.msg, bad[i].field) &&
                  strstr(err.msg, "bertc_answer") && !strchr(err.msg, '\n'),
              "%s: status %d (%s), message '%s', want status %d naming '%s'", bad[i].what, rc, bertc_status_name(rc),
              err.msg, bad[i].want, bad[i].field);
    }
    CHECK(bertc_answer(NULL, q, ql, ctx, cl, NULL, &l, &err) == BERTC_ERR_ARG && l == NULL, "NULL model: %s", err.msg);
    CHECK(bertc_answer(c, q, ql, ctx, cl, NULL, NULL, &err) == BERTC_ERR_ARG, "NULL out: %s", err.msg);
    bertc_answer_view none = bertc_answer_at(NULL, 0);
    CHECK(none.answer == NULL && bertc_answer_count(NULL) == 0 && bertc_answers_json(NULL) == NULL, "NULL list");
    bertc_answers_free(NULL);
    /* out of range, and the defaults through an options struct equal NULL options */
    bertc_qa_options d;
    bertc_qa_options_default(&d);
    bertc_answer_list *a = NULL, *b = NULL;
    CHECK(bertc_answer(c, q, ql, ctx, cl, &d, &a, &err) == BERTC_OK &&
              bertc_answer(c, q, ql, ctx, cl, NULL, &b, &err) == BERTC_OK && bertc_answer_count(a) == 1 &&
              bertc_answer_count(b) == 1 && bertc_answer_at(a, 0).score == bertc_answer_at(b, 0).score &&
              strcmp(bertc_answer_at(a, 0).answer, bertc_answer_at(b, 0).answer) == 0,
          "bertc_qa_options_default = NULL options: %s", err.msg);
    CHECK(bertc_answer_at(a, 1).answer == NULL && bertc_answer_at(a, -1).answer == NULL, "view out of range");
    bertc_answers_free(a);
    bertc_answers_free(b);
    float probs[4];
    const char *t[] = {"x"};
    size_t tl[] = {1};
    CHECK(bertc_classify(c, t, tl, 1, probs, &err) == BERTC_ERR_UNSUPPORTED && strstr(err.msg, "question-answering"),
          "bertc_classify on a QA model: %s", err.msg);
    bertc_close(c);

    /* 3. a model of another task */
    c = NULL;
    REQUIRE(bertc_open(&c, test_fixture("forward/minilm2"), NULL, &err) == BERTC_OK, "open minilm2: %s", err.msg);
    l = NULL;
    CHECK(bertc_answer(c, q, ql, ctx, cl, NULL, &l, &err) == BERTC_ERR_UNSUPPORTED && l == NULL &&
              strstr(err.msg, "not question-answering"),
          "bertc_answer on a text-classification model: %s", err.msg);
    bertc_close(c);
    for (int k = 0; k < n_in; k++) cJSON_Delete(inputs[k]);
    cJSON_Delete(runs);
    return TEST_END();
}
