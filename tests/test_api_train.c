/* test_api_train.c: bertc_train and bertc_evaluate of the public API
 * (include/bertc.h only) on the tiny fixture model (tools/gen_train.py):
 *  - a 6-step run calls back STEP 1..6, LOG every 2 steps, EVAL at 3 and 6
 *    (finite metrics equal to the result's), SAVE for each checkpoint and model;
 *  - a callback that returns non-zero at step 4 cancels: BERTC_ERR_INTERRUPTED,
 *    a complete checkpoint-4, no model/; resuming from "latest" continues at
 *    step 5 and ends with the same weights, byte for byte, as the uninterrupted run;
 *  - bertc_evaluate's metrics equal `bertc eval --json`'s on the same data;
 *  - bad options are BERTC_ERR_ARG naming the field, with nothing written;
 *  - errors on the handle: bertc_errcode/bertc_errmsg after a failed and a good call;
 *  - bertc_attend: tokens from [CLS], rows summing to 1 (the values are checked
 *    against transformers by python/tests/test_pipeline.py and test_attention.sh). */
#include <cjson/cJSON.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../include/bertc.h"
#include "test.h"

#define MAX_EVENTS 256

typedef struct rec {
    int n;
    int kind[MAX_EVENTS];
    long step[MAX_EVENTS], total[MAX_EVENTS];
    double loss[MAX_EVENTS], acc[MAX_EVENTS], eloss[MAX_EVENTS];
    long cancel_at; /* > 0: return 1 on the STEP event of this step */
} rec;

static int on_progress(const bertc_progress *p, void *user) {
    rec *r = user;
    if (r->n < MAX_EVENTS) {
        r->kind[r->n] = p->kind;
        r->step[r->n] = p->step;
        r->total[r->n] = p->total_steps;
        r->loss[r->n] = p->loss;
        r->acc[r->n] = p->eval_accuracy;
        r->eloss[r->n] = p->eval_loss;
        r->n++;
    }
    return r->cancel_at > 0 && p->kind == BERTC_PROGRESS_STEP && p->step == r->cancel_at;
}

static int count_kind(const rec *r, int kind) {
    int k = 0;
    for (int i = 0; i < r->n; i++) k += r->kind[i] == kind;
    return k;
}

static int exists(const char *dir, const char *name) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) == 0;
}

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)sz + 1);
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        free(b);
        b = NULL;
    }
    if (b) b[sz] = 0;
    fclose(f);
    *n = (size_t)sz;
    return b;
}

static void options(bertc_train_options *o, const char *model, const char *train, const char *eval, const char *out) {
    bertc_train_options_init(o);
    o->model = model;
    o->train_file = train;
    o->eval_file = eval;
    o->output_dir = out;
    o->max_steps = 6;
    o->max_length = 64;
    o->logging_steps = 2;
    o->eval_strategy = "steps";
    o->eval_steps = 3;
    o->save_strategy = "steps";
    o->save_steps = 3;
    o->report = 0;
    o->learning_rate = 1e-3;
}

int main(void) {
    char model[4096], train[4096], eval[4096], tmpl[] = "/tmp/bertc-api-train-XXXXXX";
    snprintf(model, sizeof model, "%s", test_fixture("train/tiny"));
    snprintf(train, sizeof train, "%s", test_fixture("train/train.jsonl"));
    snprintf(eval, sizeof eval, "%s", test_fixture("train/eval.jsonl"));
    REQUIRE(access(train, R_OK) == 0, "%s: missing: run `make fixtures`", train);
    char *tmp = mkdtemp(tmpl);
    REQUIRE(tmp != NULL, "mkdtemp");
    char out1[4200], out2[4200], out3[4200], evdir[4200];
    snprintf(out1, sizeof out1, "%s/full", tmp);
    snprintf(out2, sizeof out2, "%s/cancelled", tmp);
    snprintf(out3, sizeof out3, "%s/bad", tmp);
    snprintf(evdir, sizeof evdir, "%s/eval", tmp);
    bertc_err err = {0};

    /* 1. the whole run and its callback sequence */
    bertc_train_options o;
    options(&o, model, train, eval, out1);
    rec *r = calloc(1, sizeof *r);
    bertc_train_result res;
    int rc = bertc_train(&o, on_progress, r, &res, &err);
    REQUIRE(rc == BERTC_OK, "train: %s", err.msg);
    CHECK(res.global_step == 6, "6 steps, got %ld", res.global_step);
    CHECK(res.has_eval && isfinite(res.eval_loss) && res.eval_accuracy >= 0 && res.eval_accuracy <= 1,
          "the result holds the last evaluation");
    long want_step = 1;
    int logs = 0, evals = 0;
    for (int i = 0; i < r->n; i++) {
        if (r->kind[i] == BERTC_PROGRESS_STEP) {
            CHECK(r->step[i] == want_step, "STEP %ld where %ld was due", r->step[i], want_step);
            CHECK(r->total[i] == 6, "total_steps 6, got %ld", r->total[i]);
            CHECK(isfinite(r->loss[i]) && r->loss[i] > 0, "step %ld: loss %g", r->step[i], r->loss[i]);
            want_step++;
        } else if (r->kind[i] == BERTC_PROGRESS_LOG) {
            logs++;
            CHECK(r->step[i] % 2 == 0 && r->step[i] == want_step - 1, "LOG at step %ld right after its STEP", r->step[i]);
        } else if (r->kind[i] == BERTC_PROGRESS_EVAL) {
            evals++;
            CHECK(r->step[i] % 3 == 0, "EVAL at step %ld (every 3)", r->step[i]);
            CHECK(isfinite(r->eloss[i]) && r->acc[i] >= 0 && r->acc[i] <= 1, "EVAL metrics are finite");
            if (r->step[i] == 6)
                CHECK(r->eloss[i] == res.eval_loss && r->acc[i] == res.eval_accuracy,
                      "the last EVAL equals the result (%g vs %g)", r->eloss[i], res.eval_loss);
        }
    }
    CHECK(want_step == 7, "STEP 1..6 once each (next due %ld)", want_step);
    CHECK(logs == 3, "3 LOG events, got %d", logs);
    CHECK(evals == 2, "2 EVAL events, got %d", evals);
    CHECK(count_kind(r, BERTC_PROGRESS_SAVE) >= 3, "SAVE for checkpoint-3, checkpoint-6 and the model");
    CHECK(exists(out1, "model/model.safetensors") && exists(out1, "checkpoint-3/COMPLETE") &&
              exists(out1, "log.jsonl"),
          "model/, checkpoint-3/ and log.jsonl written");

    /* 2. cancellation from the callback, then resume */
    memset(r, 0, sizeof *r);
    r->cancel_at = 4;
    options(&o, model, train, eval, out2);
    rc = bertc_train(&o, on_progress, r, &res, &err);
    CHECK(rc == BERTC_ERR_INTERRUPTED, "cancel: BERTC_ERR_INTERRUPTED, got %d (%s)", rc, err.msg);
    CHECK(strstr(err.msg, "cancelled") && strstr(err.msg, "resume_from_checkpoint"), "message: %s", err.msg);
    CHECK(res.global_step == 4, "stopped at step 4, got %ld", res.global_step);
    CHECK(r->kind[r->n - 1] == BERTC_PROGRESS_SAVE || count_kind(r, BERTC_PROGRESS_SAVE) >= 2,
          "the stop wrote a checkpoint");
    CHECK(exists(out2, "checkpoint-4/COMPLETE") && exists(out2, "checkpoint-4/optimizer.safetensors"),
          "checkpoint-4 is complete");
    CHECK(!exists(out2, "model"), "no final model after a cancel");
    memset(r, 0, sizeof *r);
    o.resume_from_checkpoint = "latest";
    rc = bertc_train(&o, on_progress, r, &res, &err);
    CHECK(rc == BERTC_OK, "resume: %s", err.msg);
    CHECK(res.global_step == 6, "resumed run ends at step 6, got %ld", res.global_step);
    int first_step = -1;
    for (int i = 0; i < r->n && first_step < 0; i++)
        if (r->kind[i] == BERTC_PROGRESS_STEP) first_step = (int)r->step[i];
    CHECK(first_step == 5, "the resumed run's first step is 5, got %d", first_step);
    char p1[4300], p2[4300];
    snprintf(p1, sizeof p1, "%s/model/model.safetensors", out1);
    snprintf(p2, sizeof p2, "%s/model/model.safetensors", out2);
    size_t n1 = 0, n2 = 0;
    char *w1 = slurp(p1, &n1), *w2 = slurp(p2, &n2);
    CHECK(w1 && w2 && n1 == n2 && memcmp(w1, w2, n1) == 0,
          "cancel + resume gives the uninterrupted run's weights byte for byte");
    free(w1);
    free(w2);

    /* 3. bad options: the field is named and nothing is written */
    options(&o, model, train, eval, out3);
    o.eval_strategy = "sometimes";
    CHECK(bertc_train(&o, NULL, NULL, NULL, &err) == BERTC_ERR_ARG && strstr(err.msg, "eval_strategy"),
          "eval_strategy refused: %s", err.msg);
    options(&o, model, train, eval, out3);
    o.num_train_epochs = 1.5;
    o.max_steps = 0;
    CHECK(bertc_train(&o, NULL, NULL, NULL, &err) == BERTC_ERR_ARG && strstr(err.msg, "num_train_epochs"),
          "fractional epochs refused: %s", err.msg);
    options(&o, model, train, eval, out3);
    o.learning_rate = -1;
    CHECK(bertc_train(&o, NULL, NULL, NULL, &err) == BERTC_ERR_ARG && strstr(err.msg, "lr"), "lr refused: %s",
          err.msg);
    options(&o, model, train, eval, out3);
    o.precision = "int8"; /* fp32, bf16 or auto: int8 is for inference only */
    CHECK(bertc_train(&o, NULL, NULL, NULL, &err) == BERTC_ERR_ARG && strstr(err.msg, "precision") &&
              strstr(err.msg, "auto"),
          "precision int8 refused, naming the choices: %s", err.msg);
    CHECK(!exists(out3, ""), "no output_dir after refused options");

    /* 4. evaluate equals `bertc eval --json` */
    char mdir[4300];
    snprintf(mdir, sizeof mdir, "%s/model", out1);
    bertc_eval_options eo;
    bertc_eval_options_init(&eo);
    eo.model = mdir;
    eo.eval_file = eval;
    eo.output_dir = evdir;
    char *js = NULL;
    memset(r, 0, sizeof *r);
    rc = bertc_evaluate(&eo, on_progress, r, &js, &err);
    REQUIRE(rc == BERTC_OK, "evaluate: %s", err.msg);
    CHECK(count_kind(r, BERTC_PROGRESS_BATCH) >= 1 && r->step[r->n - 1] == 32 && r->total[r->n - 1] == 32,
          "BATCH progress ends at 32/32");
    CHECK(exists(evdir, "eval.json") && exists(evdir, "predictions.jsonl"), "eval.json and predictions.jsonl");
    cJSON *a = cJSON_Parse(js);
    REQUIRE(a != NULL, "metrics JSON parses");
    const char *bertc = getenv("BERTC") ? getenv("BERTC") : "build/bertc";
    char cmd[13000];
    snprintf(cmd, sizeof cmd, "'%s' eval --model '%s' --data '%s' --json --quiet", bertc, mdir, eval);
    FILE *pf = popen(cmd, "r");
    REQUIRE(pf != NULL, "popen %s", cmd);
    char *cli = calloc(1, 1 << 20);
    size_t got = fread(cli, 1, (1 << 20) - 1, pf);
    CHECK(pclose(pf) == 0, "%s exits 0", cmd);
    cli[got] = 0;
    cJSON *b = cJSON_Parse(cli);
    REQUIRE(b != NULL, "bertc eval --json parses");
    const char *keys[] = {"n", "accuracy", "loss", "confusion_matrix", "per_class", "macro_avg", "weighted_avg",
                          "labels", "report_text", "problem_type", "label_mapping"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, keys[k]), *y = cJSON_GetObjectItemCaseSensitive(b, keys[k]);
        CHECK(x && y && cJSON_Compare(x, y, 1), "%s equals bertc eval's", keys[k]);
    }
    cJSON_Delete(b);
    cJSON_Delete(a);
    free(cli);
    bertc_free(js);
    /* cancelled evaluation: INTERRUPTED, no output */
    memset(r, 0, sizeof *r);
    r->cancel_at = 0;
    snprintf(evdir, sizeof evdir, "%s/eval2", tmp);
    eo.output_dir = evdir;
    eo.per_device_eval_batch_size = 8;
    js = NULL;
    rc = bertc_evaluate(&eo, NULL, NULL, &js, &err);
    CHECK(rc == BERTC_OK && js, "evaluate without a callback: %s", err.msg);
    bertc_free(js);
    eo.model = model; /* no trained head */
    CHECK(bertc_evaluate(&eo, NULL, NULL, &js, &err) == BERTC_ERR_ARG && strstr(err.msg, "no trained classifier"),
          "a model without a head refused: %s", err.msg);

    /* 5. errors on the handle */
    bertc_classifier *c = NULL;
    REQUIRE(bertc_open(&c, mdir, NULL, &err) == BERTC_OK, "open: %s", err.msg);
    CHECK(bertc_errcode(c) == BERTC_OK && strcmp(bertc_errmsg(c), "") == 0, "a fresh handle has no error");
    const char *t = "a fine film";
    size_t l = strlen(t);
    float pr[2];
    CHECK(bertc_classify_pairs(c, &t, &l, NULL, NULL, 1, pr, NULL) == BERTC_ERR_ARG, "pairs without texts_b");
    CHECK(bertc_errcode(c) == BERTC_ERR_ARG && strstr(bertc_errmsg(c), "texts_b"), "errmsg: '%s'", bertc_errmsg(c));
    CHECK(bertc_classify(c, &t, &l, 1, pr, NULL) == BERTC_OK, "classify");
    CHECK(bertc_errcode(c) == BERTC_OK && strcmp(bertc_errmsg(c), "") == 0, "a good call clears the error");
    bertc_entity_list *el = NULL;
    CHECK(bertc_entities(c, t, l, NULL, &el, NULL) == BERTC_ERR_UNSUPPORTED && strlen(bertc_errmsg(c)) > 0,
          "entities on a text classifier: '%s'", bertc_errmsg(c));
    /* attention through the API: [CLS] first, rows are distributions, a bad layer on the handle */
    bertc_attention_map *am = NULL;
    CHECK(bertc_attend(c, t, l, -1, 0, 0, 0, &am, NULL) == BERTC_OK, "attend: %s", bertc_errmsg(c));
    int T = bertc_attention_size(am);
    CHECK(T == 5 && strcmp(bertc_attention_token(am, 0), "[CLS]") == 0 && bertc_attention_token(am, T) == NULL,
          "5 tokens from [CLS], got %d", T);
    const float *w = bertc_attention_weights(am);
    for (int i = 0; w && i < T; i++) {
        double sum = 0;
        for (int j = 0; j < T; j++) sum += w[i * T + j];
        CHECK(fabs(sum - 1) < 1e-5, "attention row %d sums to %g", i, sum);
    }
    bertc_attention_map_free(am);
    am = NULL;
    CHECK(bertc_attend(c, t, l, 7, 0, 0, 0, &am, NULL) == BERTC_ERR_ARG && strstr(bertc_errmsg(c), "layer") && !am,
          "layer 7 refused: '%s'", bertc_errmsg(c));
    bertc_close(c);
    CHECK(strlen(bertc_errmsg(NULL)) > 0, "errmsg(NULL) is a message");

    free(r);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK(system(cmd) == 0, "cleanup");
    return TEST_END();
}
