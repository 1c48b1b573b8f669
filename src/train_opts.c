/* train_opts.c: option checks and the resume compatibility check (split out of train.c; see train_internal.h). */
#include "train_internal.h"
#include "augment.h"
#include "heads.h"
#include "ops_bf16.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bert.h"
#include "checkpoint.h"
#include "data.h"
#include "dist.h"
#include "hfmodel.h"
#include "longtext.h"
#include "metrics.h"
#include "optim.h"
#include "report.h"
#include "rng.h"
#include "tokenizer.h"

/* ---- options ---- */

void bertc_train_opts_default(bertc_train_opts *o) {
    memset(o, 0, sizeof *o);
    o->text_column = "text";
    o->label_column = "label";
    o->train_limit = -1;
    o->eval_limit = -1;
    o->max_length = 128;
    o->truncation = BERT_TRUNC_HEAD;
    o->batch_size = 8;
    o->eval_batch_size = 8;
    o->grad_accum = 1;
    o->epochs = 3;
    o->max_steps = -1;
    o->lr = 5e-5;
    o->adam_beta1 = 0.9;
    o->adam_beta2 = 0.999;
    o->adam_eps = 1e-8;
    o->max_grad_norm = 1.0;
    o->sched_kind = BERTC_SCHED_LINEAR;
    o->warmup_steps = -1;
    o->seed = 42;
    o->logging_steps = 100;
    o->eval_strategy = BERTC_STRATEGY_EPOCH;
    o->save_strategy = BERTC_STRATEGY_EPOCH;
    o->save_steps = 500;
    o->metric = BERTC_METRIC_LOSS;
    o->max_bad_steps = 5;
    o->report = 1;
    o->threshold = 0.5;
    o->long_text = BERTC_LONG_TRUNCATE;
    o->stride = -1;
    o->doc_stride = 128;
    o->pool = BERTC_POOL_MEAN;
}

int bertc_train_check_opts(const bertc_train_opts *o, bertc_err *err) {
    if (!o->model || !*o->model) return bertc_fail(err, BERTC_ERR_ARG, "--model: required");
    if (!o->train || !*o->train) return bertc_fail(err, BERTC_ERR_ARG, "--train: required");
    if (!o->out || !*o->out) return bertc_fail(err, BERTC_ERR_ARG, "--out: required");
    if (!(o->lr > 0) || !isfinite(o->lr) || o->lr > 1)
        return bertc_fail(err, BERTC_ERR_ARG, "--lr: must be in (0, 1], got %g", o->lr);
    if (!(o->weight_decay >= 0) || o->weight_decay > 1)
        return bertc_fail(err, BERTC_ERR_ARG, "--weight-decay: must be in [0, 1], got %g", o->weight_decay);
    if (!(o->adam_beta1 >= 0 && o->adam_beta1 < 1) || !(o->adam_beta2 >= 0 && o->adam_beta2 < 1) ||
        !(o->adam_eps > 0))
        return bertc_fail(err, BERTC_ERR_ARG, "--adam-beta1/--adam-beta2/--adam-epsilon: betas in [0, 1), epsilon > 0");
    if (!(o->max_grad_norm >= 0) || !isfinite(o->max_grad_norm))
        return bertc_fail(err, BERTC_ERR_ARG, "--max-grad-norm: must be >= 0 (0 disables clipping)");
    if (o->epochs < 1 && o->max_steps <= 0)
        return bertc_fail(err, BERTC_ERR_ARG, "--epochs: must be at least 1, got %d", o->epochs);
    if (o->batch_size < 1) return bertc_fail(err, BERTC_ERR_ARG, "--batch-size: must be at least 1");
    if (o->eval_batch_size < 1) return bertc_fail(err, BERTC_ERR_ARG, "--eval-batch-size: must be at least 1");
    if (o->grad_accum < 1)
        return bertc_fail(err, BERTC_ERR_ARG, "--gradient-accumulation-steps: must be at least 1");
    if (o->max_length < 2) return bertc_fail(err, BERTC_ERR_ARG, "--max-length: must be at least 2");
    if (o->text_pair_column && o->max_length < 3)
        return bertc_fail(err, BERTC_ERR_ARG, "--max-length: must be at least 3 for pairs");
    if (!(o->warmup_ratio >= 0 && o->warmup_ratio < 1))
        return bertc_fail(err, BERTC_ERR_ARG, "--warmup-ratio: must be in [0, 1), got %g", o->warmup_ratio);
    if (o->validation_split != 0 && !(o->validation_split > 0 && o->validation_split < 1))
        return bertc_fail(err, BERTC_ERR_ARG, "--validation-split: must be in (0, 1)");
    if (o->validation_split > 0 && o->eval)
        return bertc_fail(err, BERTC_ERR_ARG, "--validation-split: cannot be combined with --eval");
    if (o->augment) {
        bertc_augment_opts a;
        bertc_augment_opts_default(&a);
        if (bertc_augment_parse(&a, o->augment, err)) return bertc_err_prefix(err, "--augment");
        if (o->task != BERT_TASK_TEXT_CLS)
            return bertc_fail(err, BERTC_ERR_ARG,
                              "--augment: augmentation is for text classification (it would move tags and answers)");
        if (a.method == BERTC_AUG_CONTEXTUAL) {
            /* the masked-LM: model=... in the spec, else the model being fine-tuned */
            if (bertc_augment_need_mlm_head(a.model[0] ? a.model : o->model, err))
                return bertc_err_prefix(err, "--augment");
        }
    }
    if (o->train_limit == 0) return bertc_fail(err, BERTC_ERR_ARG, "--train-limit: must be at least 1");
    if (o->eval_limit == 0) return bertc_fail(err, BERTC_ERR_ARG, "--eval-limit: must be at least 1");
    if (o->logging_steps < 0) return bertc_fail(err, BERTC_ERR_ARG, "--logging-steps: must be >= 0");
    int has_eval = o->eval || o->validation_split > 0;
    if (o->eval_strategy != BERTC_STRATEGY_NO && !has_eval)
        return bertc_fail(err, BERTC_ERR_ARG,
                          "--eval-strategy: %s needs --eval or --validation-split (or --eval-strategy no)",
                          o->eval_strategy == BERTC_STRATEGY_STEPS ? "steps" : "epoch");
    if (o->eval_strategy == BERTC_STRATEGY_BEST)
        return bertc_fail(err, BERTC_ERR_ARG, "--eval-strategy: expected epoch, steps or no");
    if (o->save_strategy == BERTC_STRATEGY_STEPS && o->save_steps < 1)
        return bertc_fail(err, BERTC_ERR_ARG, "--save-steps: must be at least 1");
    if (o->save_strategy == BERTC_STRATEGY_BEST && o->eval_strategy == BERTC_STRATEGY_NO)
        return bertc_fail(err, BERTC_ERR_ARG, "--save-strategy: best needs an evaluation (--eval-strategy epoch|steps)");
    if (o->load_best) {
        if (o->eval_strategy == BERTC_STRATEGY_NO)
            return bertc_fail(err, BERTC_ERR_ARG, "--load-best-model-at-end: needs --eval-strategy epoch or steps");
        if (o->save_strategy != BERTC_STRATEGY_BEST && o->save_strategy != o->eval_strategy)
            return bertc_fail(err, BERTC_ERR_ARG,
                              "--load-best-model-at-end: --save-strategy must match --eval-strategy (or be best)");
        if (o->save_strategy == BERTC_STRATEGY_STEPS) {
            long every = o->eval_steps > 0 ? o->eval_steps : o->logging_steps;
            if (every <= 0 || o->save_steps % every != 0)
                return bertc_fail(err, BERTC_ERR_ARG,
                                  "--load-best-model-at-end: --save-steps must be a multiple of --eval-steps");
        }
    }
    if (o->eval_strategy == BERTC_STRATEGY_STEPS && o->eval_steps <= 0 && o->logging_steps <= 0)
        return bertc_fail(err, BERTC_ERR_ARG, "--eval-steps: must be at least 1 with --eval-strategy steps");
    if (o->early_stopping_patience < 0)
        return bertc_fail(err, BERTC_ERR_ARG, "--early-stopping-patience: must be >= 0");
    if (o->early_stopping_patience > 0 && o->eval_strategy == BERTC_STRATEGY_NO)
        return bertc_fail(err, BERTC_ERR_ARG, "--early-stopping-patience: needs --eval-strategy epoch or steps");
    if (o->metric < BERTC_METRIC_LOSS || o->metric > BERTC_METRIC_F1)
        return bertc_fail(err, BERTC_ERR_ARG, "--metric-for-best-model: expected accuracy, f1 or loss");
    if (o->max_bad_steps < 1) return bertc_fail(err, BERTC_ERR_ARG, "--max-bad-steps: must be at least 1");
    if (!(o->threshold >= 0 && o->threshold <= 1))
        return bertc_fail(err, BERTC_ERR_ARG, "--threshold: must be in [0, 1], got %g", o->threshold);
    if (o->label_separator && !o->multi_label)
        return bertc_fail(err, BERTC_ERR_ARG, "--label-separator: needs --multi-label");
    if (o->label_separator && !*o->label_separator)
        return bertc_fail(err, BERTC_ERR_ARG, "--label-separator: must not be empty");
    if (o->multi_label && o->class_weights)
        return bertc_fail(err, BERTC_ERR_ARG, "--class-weights: not with --multi-label (BCE has no class weights here)");
    if (o->long_text < BERTC_LONG_TRUNCATE || o->long_text > BERTC_LONG_CHUNKS)
        return bertc_fail(err, BERTC_ERR_ARG, "--long-text: expected truncate, head+tail or chunks");
    if (o->long_text == BERTC_LONG_HEAD_TAIL && o->truncation != BERT_TRUNC_HEAD && o->truncation != BERT_TRUNC_HEAD_TAIL)
        return bertc_fail(err, BERTC_ERR_ARG, "--long-text: head+tail conflicts with --truncation tail");
    if (o->long_text == BERTC_LONG_CHUNKS) {
        if (o->text_pair_column)
            return bertc_fail(err, BERTC_ERR_ARG, "--long-text: chunks is for single texts, not --text-pair-column");
        if (o->max_length < 3) return bertc_fail(err, BERTC_ERR_ARG, "--max-length: must be at least 3 with chunks");
        if (o->stride >= 0 && o->stride > o->max_length - 3)
            return bertc_fail(err, BERTC_ERR_ARG, "--stride: must be in 0..%d for --max-length %d", o->max_length - 3,
                              o->max_length);
        if (o->max_windows < 0) return bertc_fail(err, BERTC_ERR_ARG, "--max-windows: must be >= 0");
        if (o->pool != BERTC_POOL_MEAN && o->pool != BERTC_POOL_MAX)
            return bertc_fail(err, BERTC_ERR_ARG, "--pool: expected mean or max");
    } else if (o->stride >= 0 || o->max_windows > 0) {
        return bertc_fail(err, BERTC_ERR_ARG, "%s: needs --long-text chunks", o->stride >= 0 ? "--stride" : "--max-windows");
    }
    if (bert_precision_check(o->precision, err)) return err->code;
    if (o->precision == BERT_PREC_INT8)
        return bertc_fail(err, BERTC_ERR_ARG, "--precision int8 is for inference only (predict, eval, serve); train in fp32 or bf16");
    if (o->class_weights && strcmp(o->class_weights, "auto") != 0) {
        const char *p = o->class_weights;
        while (*p) {
            char *end;
            double w = strtod(p, &end);
            if (end == p || !(w >= 0) || !isfinite(w) || (*end && *end != ','))
                return bertc_fail(err, BERTC_ERR_ARG,
                                  "--class-weights: expected auto or comma-separated weights >= 0, got '%s'",
                                  o->class_weights);
            p = *end ? end + 1 : end;
        }
    }
    return BERTC_OK;
}

/* A number as cJSON writes it: the shortest of %.15g and %.17g that reads back. */
static const char *num_str(char *buf, size_t cap, double v) {
    snprintf(buf, cap, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, cap, "%.17g", v);
    return buf;
}

/* A resume continues the run's data order, batches and updates only when the
 * settings that decide them are the ones it was saved with (its checkpoint's
 * training_args.json). A key that an older checkpoint lacks is not checked. */
int bertc_trainer_check_resume(const trainer *t, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    char p[4096];
    if (bertc_path_join(p, sizeof p, t->resume_dir, "training_args.json"))
        return bertc_fail(err, BERTC_ERR_ARG, "--resume: %s: path too long", t->resume_dir);
    if (!bertc_is_file(p)) return BERTC_OK;
    char *text = NULL;
    size_t len = 0;
    if (bertc_read_file(p, 1 << 20, &text, &len, err)) return bertc_err_prefix(err, "--resume");
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) return bertc_fail(err, BERTC_ERR_FORMAT, "--resume: %s: not valid JSON", p);
    const struct {
        const char *key, *flag;
        double now;
    } num[] = {
        {"seed", "--seed", (double)o->seed},
        {"batch_size", "--batch-size", o->batch_size},
        {"weight_decay", "--weight-decay", o->weight_decay},
        {"max_length", "--max-length", o->max_length},
    };
    int rc = BERTC_OK;
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(j, "task");
    const char *now = bert_head_of(t->task->task)->name;
    if (!rc && cJSON_IsString(task) && strcmp(task->valuestring, now) != 0)
        rc = bertc_fail(err, BERTC_ERR_ARG, "--resume: --task is %s here but %s in %s's run; resume with the run's --task",
                        now, task->valuestring, t->resume_dir);
    /* the updates depend on the micro-batches per step over all ranks, not on
     * how they are split: 2 ranks x 1 resume as 1 rank x 2 */
    const cJSON *ga = cJSON_GetObjectItemCaseSensitive(j, "gradient_accumulation_steps");
    const cJSON *rk = cJSON_GetObjectItemCaseSensitive(j, "ranks");
    if (!rc && cJSON_IsNumber(ga)) {
        double then = ga->valuedouble * (cJSON_IsNumber(rk) ? rk->valuedouble : 1.0);
        if (then != (double)t->ga) {
            char a[40];
            rc = bertc_fail(err, BERTC_ERR_ARG,
                            "--resume: --gradient-accumulation-steps is %d x %d rank(s) = %ld here but %s in %s's run "
                            "(accumulation x ranks); resume with a product of %s",
                            o->grad_accum, t->nranks, t->ga, num_str(a, sizeof a, then), t->resume_dir, a);
        }
    }
    for (size_t k = 0; k < sizeof num / sizeof num[0] && !rc; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, num[k].key);
        if (!cJSON_IsNumber(v) || v->valuedouble == num[k].now) continue;
        char a[40], b[40];
        rc = bertc_fail(err, BERTC_ERR_ARG, "--resume: %s is %s here but %s in %s's run; resume with %s %s", num[k].flag,
                        num_str(a, sizeof a, num[k].now), num_str(b, sizeof b, v->valuedouble), t->resume_dir,
                        num[k].flag, b);
    }
    cJSON_Delete(j);
    return rc;
}
