/* api_train.c: bertc_train and bertc_evaluate of include/bertc.h over train.h
 * and evaluate.h: the public options mapped onto the modules' (names checked
 * and refused as the CLI refuses its flags), the progress callback adapted
 * from train.h's events, and cancellation through the modules' stop flag. */
#include "../include/bertc.h"

#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "evaluate.h"
#include "optim.h"
#include "train.h"

void bertc_free(void *p) { free(p); }

/* Index of name in the '|'-separated choices, or -1. */
static int choice(const char *name, const char *choices) {
    int k = 0;
    size_t n = strlen(name);
    for (const char *p = choices;; k++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0) return k;
        if (!bar) return -1;
        p = bar + 1;
    }
}

static int parse_choice(int *out, const char *value, const char *field, const char *choices, bertc_err *err) {
    int k = value ? choice(value, choices) : -1;
    if (k < 0)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: must be one of %s, got '%s'", field, choices,
                          value ? value : "(null)");
    *out = k;
    return BERTC_OK;
}

static int parse_precision(int *out, const char *value, const char *field, bertc_err *err) {
    static const int prec[] = {BERT_PREC_FP32, BERT_PREC_BF16, BERT_PREC_AUTO};
    int k = 0;
    if (parse_choice(&k, value ? value : "fp32", field, "fp32|bf16|auto", err)) return err->code;
    *out = prec[k];
    return BERTC_OK;
}

/* ---- training ---- */

void bertc_train_options_init(bertc_train_options *o) {
    memset(o, 0, sizeof *o);
    o->model = "all-MiniLM-L6-v2";
    o->task = BERTC_TASK_TEXT_CLASSIFICATION;
    o->text_column = "text";
    o->label_column = "label";
    o->max_length = 128;
    o->num_train_epochs = 3;
    o->per_device_train_batch_size = 8;
    o->per_device_eval_batch_size = 8;
    o->gradient_accumulation_steps = 1;
    o->learning_rate = 5e-5;
    o->max_grad_norm = 1.0;
    o->lr_scheduler_type = "linear";
    o->warmup_steps = -1;
    o->seed = 42;
    o->logging_steps = 100;
    o->eval_strategy = "epoch";
    o->save_strategy = "epoch";
    o->save_steps = 500;
    o->metric_for_best_model = "loss";
    o->precision = "fp32";
    o->report = 1;
}

/* The public options onto train.h's, with the checks the CLI's flag parser
 * makes (ranges it enforces before bertc_train_check_opts sees them). */
static int map_train_options(bertc_train_opts *t, const bertc_train_options *o, bertc_err *err) {
    bertc_train_opts_default(t);
    if (o->task < BERTC_TASK_TEXT_CLASSIFICATION || o->task > BERTC_TASK_QUESTION_ANSWERING)
        return bertc_fail(err, BERTC_ERR_ARG, "task: must be a bertc_task (0..2), got %d", o->task);
    t->task = o->task;
    t->model = o->model;
    t->train = o->train_file;
    t->eval = o->eval_file;
    t->out = o->output_dir;
    if (!o->model || !*o->model) return bertc_fail(err, BERTC_ERR_ARG, "model: required");
    if (!o->train_file || !*o->train_file) return bertc_fail(err, BERTC_ERR_ARG, "train_file: required");
    if (!o->output_dir || !*o->output_dir) return bertc_fail(err, BERTC_ERR_ARG, "output_dir: required");
    if (o->format && *o->format) {
        int k;
        if (parse_choice(&k, o->format, "format", "auto|imdb|csv|tsv|jsonl|fasttext|conll", err)) return err->code;
        t->format = k == 0 ? NULL : o->format;
    }
    if (o->text_column) t->text_column = o->text_column;
    t->text_pair_column = o->text_pair_column;
    if (o->label_column) t->label_column = o->label_column;
    if (o->train_limit < 0 || o->eval_limit < 0)
        return bertc_fail(err, BERTC_ERR_ARG, "train_limit/eval_limit: must be >= 0 (0 = all)");
    t->train_limit = o->train_limit > 0 ? o->train_limit : -1;
    t->eval_limit = o->eval_limit > 0 ? o->eval_limit : -1;
    if (o->max_length < 2 || o->max_length > 1 << 16)
        return bertc_fail(err, BERTC_ERR_ARG, "max_length: must be in [2, 65536], got %d", o->max_length);
    t->max_length = o->max_length;
    t->pad_to_max_length = o->pad_to_max_length != 0;
    if (!(o->num_train_epochs >= 1 && o->num_train_epochs <= 1e6) || o->num_train_epochs != floor(o->num_train_epochs))
        return bertc_fail(err, BERTC_ERR_ARG, "num_train_epochs: must be a whole number >= 1, got %g",
                          o->num_train_epochs);
    t->epochs = (int)o->num_train_epochs;
    if (o->max_steps < 0) return bertc_fail(err, BERTC_ERR_ARG, "max_steps: must be >= 0 (0 = by epochs)");
    t->max_steps = o->max_steps > 0 ? o->max_steps : -1;
    if (o->per_device_train_batch_size < 1 || o->per_device_train_batch_size > 4096 ||
        o->per_device_eval_batch_size < 1 || o->per_device_eval_batch_size > 4096)
        return bertc_fail(err, BERTC_ERR_ARG, "per_device_train_batch_size/per_device_eval_batch_size: must be in [1, 4096]");
    t->batch_size = o->per_device_train_batch_size;
    t->eval_batch_size = o->per_device_eval_batch_size;
    if (o->gradient_accumulation_steps < 1)
        return bertc_fail(err, BERTC_ERR_ARG, "gradient_accumulation_steps: must be >= 1");
    t->grad_accum = o->gradient_accumulation_steps;
    t->lr = o->learning_rate;
    t->weight_decay = o->weight_decay;
    if (!(o->max_grad_norm >= 0)) return bertc_fail(err, BERTC_ERR_ARG, "max_grad_norm: must be >= 0 (0 = off)");
    t->max_grad_norm = o->max_grad_norm;
    if (bertc_sched_parse(o->lr_scheduler_type ? o->lr_scheduler_type : "linear", &t->sched_kind, err)) {
        bertc_err_prefix(err, "lr_scheduler_type: ");
        return err->code;
    }
    if (!(o->warmup_ratio >= 0 && o->warmup_ratio < 1))
        return bertc_fail(err, BERTC_ERR_ARG, "warmup_ratio: must be in [0, 1), got %g", o->warmup_ratio);
    t->warmup_ratio = o->warmup_ratio;
    if (o->warmup_steps < -1) return bertc_fail(err, BERTC_ERR_ARG, "warmup_steps: must be >= 0 (or -1: by ratio)");
    t->warmup_steps = o->warmup_steps;
    if (o->seed > 0x7fffffffffffffffULL) return bertc_fail(err, BERTC_ERR_ARG, "seed: must be < 2^63");
    t->seed = o->seed;
    if (o->logging_steps < 0) return bertc_fail(err, BERTC_ERR_ARG, "logging_steps: must be >= 0");
    t->logging_steps = o->logging_steps;
    static const int strat[] = {BERTC_STRATEGY_EPOCH, BERTC_STRATEGY_STEPS, BERTC_STRATEGY_NO, BERTC_STRATEGY_BEST};
    int k;
    if (parse_choice(&k, o->eval_strategy ? o->eval_strategy : "epoch", "eval_strategy", "epoch|steps|no", err))
        return err->code;
    t->eval_strategy = strat[k];
    if (o->eval_steps < 0) return bertc_fail(err, BERTC_ERR_ARG, "eval_steps: must be >= 0");
    t->eval_steps = o->eval_steps;
    if (parse_choice(&k, o->save_strategy ? o->save_strategy : "epoch", "save_strategy", "epoch|steps|no|best", err))
        return err->code;
    t->save_strategy = strat[k];
    if (o->save_steps < 1) return bertc_fail(err, BERTC_ERR_ARG, "save_steps: must be >= 1");
    t->save_steps = o->save_steps;
    if (o->save_total_limit < 0) return bertc_fail(err, BERTC_ERR_ARG, "save_total_limit: must be >= 0 (0 = all)");
    t->save_total_limit = o->save_total_limit;
    t->load_best = o->load_best_model_at_end != 0;
    static const int metr[] = {BERTC_METRIC_ACCURACY, BERTC_METRIC_F1, BERTC_METRIC_LOSS};
    const char *m = o->metric_for_best_model ? o->metric_for_best_model : "loss";
    if (strncmp(m, "eval_", 5) == 0) m += 5; /* Trainer accepts both "accuracy" and "eval_accuracy" */
    if (parse_choice(&k, m, "metric_for_best_model", "accuracy|f1|loss", err)) return err->code;
    t->metric = metr[k];
    if (o->early_stopping_patience < 0) return bertc_fail(err, BERTC_ERR_ARG, "early_stopping_patience: must be >= 0");
    t->early_stopping_patience = o->early_stopping_patience;
    t->resume = o->resume_from_checkpoint && *o->resume_from_checkpoint ? o->resume_from_checkpoint : NULL;
    t->overwrite = o->overwrite_output_dir != 0;
    if (parse_precision(&t->precision, o->precision, "precision", err)) return err->code;
    t->gradient_checkpointing = o->gradient_checkpointing != 0;
    if (o->threads < 0 || o->threads > 1024) return bertc_fail(err, BERTC_ERR_ARG, "threads: must be in [0, 1024]");
    t->threads = o->threads;
    t->report = o->report != 0;
    t->augment = o->augment && *o->augment ? o->augment : NULL;
    if (t->task == BERT_TASK_QA) t->max_length = o->max_length == 128 ? 384 : o->max_length; /* as the CLI */
    return bertc_train_check_opts(t, err);
}

typedef struct train_ctx {
    bertc_progress_fn fn;
    void *user;
    volatile sig_atomic_t stop; /* train.h polls it after each step and evaluation batch */
} train_ctx;

static void on_train_event(const bertc_train_event *e, void *user) {
    train_ctx *x = user;
    if (!x->fn) return;
    static const int kind[] = {
        [BERTC_TRAIN_INFO] = BERTC_PROGRESS_INFO, [BERTC_TRAIN_STEP] = BERTC_PROGRESS_STEP,
        [BERTC_TRAIN_LOG] = BERTC_PROGRESS_LOG,   [BERTC_TRAIN_EVAL] = BERTC_PROGRESS_EVAL,
        [BERTC_TRAIN_SAVE] = BERTC_PROGRESS_SAVE, [BERTC_TRAIN_SKIP] = BERTC_PROGRESS_WARN,
        [BERTC_TRAIN_WARN] = BERTC_PROGRESS_WARN,
    };
    bertc_progress p;
    memset(&p, 0, sizeof p);
    p.kind = e->kind >= 0 && e->kind <= BERTC_TRAIN_WARN ? kind[e->kind] : BERTC_PROGRESS_INFO;
    p.step = e->step;
    p.total_steps = e->total_steps;
    p.epoch = e->epoch;
    p.loss = e->loss;
    p.learning_rate = e->lr;
    p.grad_norm = e->grad_norm;
    p.samples_per_second = e->samples_per_sec;
    p.elapsed = e->elapsed;
    p.eta = e->eta;
    int ev = e->kind == BERTC_TRAIN_EVAL;
    p.eval_loss = ev ? e->eval_loss : NAN;
    p.eval_accuracy = ev ? e->eval_accuracy : NAN;
    p.eval_f1 = ev ? e->eval_f1 : NAN;
    p.message = e->msg;
    if (x->fn(&p, x->user)) x->stop = 1;
}

int bertc_train(const bertc_train_options *o, bertc_progress_fn progress, void *user, bertc_train_result *res,
                bertc_err *err) {
    bertc_err local = {0};
    if (!err) err = &local;
    if (res) memset(res, 0, sizeof *res);
    if (!o) return bertc_fail(err, BERTC_ERR_ARG, "bertc_train: NULL options");
    bertc_train_opts t;
    if (map_train_options(&t, o, err)) return err->code;
    bertc_set_threads(o->threads);
    train_ctx x = {progress, user, 0};
    t.stop = &x.stop;
    bertc_train_callbacks cb = {on_train_event, &x};
    bertc_train_stats r;
    memset(&r, 0, sizeof r);
    int rc = bertc_train_run(&t, &cb, &r, err);
    if (rc == BERTC_ERR_INTERRUPTED && x.stop) {
        /* the stop came from the callback, not a signal: say so in the API's words */
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        char *cont = strstr(msg, "; continue with --resume latest");
        if (cont) *cont = 0;
        bertc_fail(err, BERTC_ERR_INTERRUPTED,
                   "cancelled by the progress callback: %s; continue with resume_from_checkpoint \"latest\"", msg);
    }
    if (res) {
        res->global_step = r.steps;
        if (rc == BERTC_OK) {
            res->skipped_steps = r.skipped_steps;
            res->train_runtime = r.wall_seconds;
            res->train_samples_per_second = r.train_samples_per_second;
            res->has_eval = r.has_eval;
            res->eval_loss = r.has_eval ? r.eval_loss : NAN;
            res->eval_accuracy = r.has_eval ? r.eval_accuracy : NAN;
            res->eval_f1 = r.has_eval ? r.eval_f1 : NAN;
            res->has_best = r.has_best;
            res->best_metric = r.has_best ? r.best_metric : NAN;
            res->best_step = r.has_best ? r.best_step : -1;
            res->stopped_early = r.stopped_early;
        }
    }
    return rc;
}

/* ---- evaluation ---- */

void bertc_eval_options_init(bertc_eval_options *o) {
    memset(o, 0, sizeof *o);
    o->model = "all-MiniLM-L6-v2";
    o->text_column = "text";
    o->label_column = "label";
    o->seed = 42;
    o->per_device_eval_batch_size = 32;
    o->precision = "fp32";
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void on_eval_batch(void *ctx, long done, long total) {
    train_ctx *x = ctx;
    if (!x->fn) return;
    bertc_progress p;
    memset(&p, 0, sizeof p);
    p.kind = BERTC_PROGRESS_BATCH;
    p.step = done;
    p.total_steps = total;
    p.loss = p.learning_rate = p.grad_norm = NAN;
    p.eval_loss = p.eval_accuracy = p.eval_f1 = NAN;
    if (x->fn(&p, x->user)) x->stop = 1;
}

/* What `bertc eval --json` does (cli/cmd_eval.c), for truncated texts. */
static int evaluate(const bertc_eval_options *o, train_ctx *x, char **metrics, bertc_err *err) {
    if (!o->model || !*o->model) return bertc_fail(err, BERTC_ERR_ARG, "model: required");
    if (!o->eval_file || !*o->eval_file) return bertc_fail(err, BERTC_ERR_ARG, "eval_file: required");
    if (o->per_device_eval_batch_size < 1 || o->per_device_eval_batch_size > 4096)
        return bertc_fail(err, BERTC_ERR_ARG, "per_device_eval_batch_size: must be in [1, 4096]");
    if (o->max_length < 0 || o->max_length == 1 || o->max_length > 1 << 20)
        return bertc_fail(err, BERTC_ERR_ARG, "max_length: must be 0 (the model's maximum) or at least 2");
    if (o->limit < 0) return bertc_fail(err, BERTC_ERR_ARG, "limit: must be >= 0 (0 = all)");
    if (o->seed > 0x7fffffffULL) return bertc_fail(err, BERTC_ERR_ARG, "seed: must be < 2^31");
    if (o->threads < 0 || o->threads > 1024) return bertc_fail(err, BERTC_ERR_ARG, "threads: must be in [0, 1024]");
    bertc_classifier_opts co;
    bertc_classifier_opts_default(&co);
    if (parse_precision(&co.precision, o->precision, "precision", err)) return err->code;
    bertc_data_opts dopt;
    bertc_data_opts_default(&dopt);
    if (o->format && *o->format) {
        int k;
        if (parse_choice(&k, o->format, "format", "auto|imdb|csv|tsv|jsonl|fasttext", err)) return err->code;
        dopt.format = k == 0 ? NULL : o->format;
    }
    if (o->text_column) dopt.text_column = o->text_column;
    if (o->label_column) dopt.label_column = o->label_column;
    dopt.text_pair_column = o->text_pair_column;
    bertc_set_threads(o->threads);
    co.batch_size = o->per_device_eval_batch_size;
    co.max_length = o->max_length;

    bertc_classifier *c = NULL;
    bertc_dataset ds = {0};
    bertc_metrics m = {0};
    bertc_mlmetrics mm = {0};
    cJSON *j = NULL;
    double t_load = now_s();
    int rc = bertc_classifier_open(&c, o->model, &co, err);
    if (rc) goto done;
    if (c->hf.cfg.task != BERT_TASK_TEXT_CLS) {
        rc = bertc_fail(err, BERTC_ERR_UNSUPPORTED,
                        "%s: bertc_evaluate scores text-classification models; this one is for another task "
                        "(use `bertc eval --task`)", c->hf.dir);
        goto done;
    }
    if (c->hf.new_head) {
        rc = bertc_fail(err, BERTC_ERR_ARG,
                        "%s has no trained classifier (no classifier weights in model.safetensors): its predictions "
                        "would come from a random head; fine-tune it first (bertc_train) and evaluate OUTPUT_DIR/model",
                        c->hf.dir);
        goto done;
    }
    int ml = bertc_classifier_multi_label(c);
    double load_s = now_s() - t_load;
    dopt.multi_label = ml;
    if ((rc = bertc_data_load(&ds, o->eval_file, "test", &dopt, err))) goto done;
    if (o->limit > 0 && (rc = bertc_data_shuffle_limit(&ds, o->seed, o->limit, err))) goto done;
    int by_position = 0;
    if ((rc = bertc_eval_map_labels(&ds, c, &by_position, err))) goto done;
    int NL = bertc_classifier_num_labels(c);
    const char *const *names = by_position ? (const char *const *)ds.labels : (const char *const *)c->hf.cfg.id2label;
    char pred_path[4096], json_path[4096];
    if (o->output_dir) {
        if (!bertc_is_dir(o->output_dir) && mkdir(o->output_dir, 0755) != 0) {
            rc = bertc_fail(err, BERTC_ERR_IO, "output_dir: %s: cannot create the directory", o->output_dir);
            goto done;
        }
        if (bertc_path_join(pred_path, sizeof pred_path, o->output_dir, "predictions.jsonl") ||
            bertc_path_join(json_path, sizeof json_path, o->output_dir, "eval.json")) {
            rc = bertc_fail(err, BERTC_ERR_ARG, "output_dir: path too long");
            goto done;
        }
    }
    if ((rc = ml ? bertc_mlmetrics_init(&mm, NL, err) : bertc_metrics_init(&m, NL, err))) goto done;
    bertc_eval_opts eo;
    bertc_eval_opts_default(&eo);
    eo.predictions_path = o->output_dir ? pred_path : NULL;
    eo.names = names;
    eo.progress = on_eval_batch;
    eo.ctx = x;
    eo.stop = &x->stop;
    double t0 = now_s();
    rc = ml ? bertc_eval_run_multilabel(c, &ds, &eo, &mm, err) : bertc_eval_run(c, &ds, &eo, &m, err);
    if (rc == BERTC_ERR_INTERRUPTED && x->stop)
        rc = bertc_fail(err, BERTC_ERR_INTERRUPTED, "evaluation cancelled by the progress callback");
    if (rc) goto done;
    double secs = now_s() - t0;
    j = ml ? bertc_eval_json_multilabel(&mm, names, 2, eo.threshold, err) : bertc_eval_json(&m, names, 2, err);
    if (!j) {
        rc = err->code ? err->code : bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
        goto done;
    }
    cJSON_AddStringToObject(j, "problem_type", ml ? "multi_label_classification" : "single_label_classification");
    cJSON_AddStringToObject(j, "model", c->hf.dir);
    cJSON_AddStringToObject(j, "data", o->eval_file);
    cJSON_AddNumberToObject(j, "max_length", c->opts.max_length);
    cJSON_AddStringToObject(j, "long_text", "truncate");
    cJSON_AddStringToObject(j, "label_mapping", by_position ? "position" : "name");
    cJSON_AddNumberToObject(j, "seconds", secs);
    cJSON_AddNumberToObject(j, "examples_per_second", ds.n / (secs > 1e-9 ? secs : 1e-9));
    cJSON_AddNumberToObject(j, "load_seconds", load_s);
    if (o->output_dir && (rc = bertc_json_write(json_path, j, err))) goto done;
    *metrics = cJSON_PrintUnformatted(j);
    if (!*metrics) rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
done:
    cJSON_Delete(j);
    bertc_metrics_free(&m);
    bertc_mlmetrics_free(&mm);
    bertc_data_free(&ds);
    bertc_classifier_free(c);
    return rc;
}

int bertc_evaluate(const bertc_eval_options *o, bertc_progress_fn progress, void *user, char **metrics,
                   bertc_err *err) {
    bertc_err local = {0};
    if (!err) err = &local;
    if (!o || !metrics) return bertc_fail(err, BERTC_ERR_ARG, "bertc_evaluate: NULL options or metrics");
    *metrics = NULL;
    train_ctx x = {progress, user, 0};
    return evaluate(o, &x, metrics, err);
}
