/* train.c: the fine-tuning loop (see train.h and docs/train.md).
 *
 * Sections: options; data and labels; tokenization; batch order; the step;
 * evaluation; log.jsonl; checkpoints and resume; the run. */
#include "train.h"
#include "train_task.h"
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
            long es = o->eval_steps > 0 ? o->eval_steps : o->logging_steps;
            if (es <= 0 || o->save_steps % es != 0)
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


static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void emit(trainer *t, bertc_train_event *e) {
    if (!t->cb || !t->cb->on_event) return;
    e->total_steps = t->total;
    e->elapsed = now_s() - t->t0;
    e->samples_per_sec = e->elapsed > 0 ? (double)t->samples_done / e->elapsed : 0;
    e->eta = t->steps_done > 0 ? e->elapsed / (double)t->steps_done * (double)(t->total - e->step) : 0;
    t->cb->on_event(e, t->cb->user);
}

#define info bertc_trainer_info
void bertc_trainer_info(trainer *t, int kind, const char *fmt, ...) {
    char buf[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    bertc_train_event e = {0};
    e.kind = kind;
    e.step = t->st.global_step;
    e.epoch = t->spe > 0 ? (double)t->st.global_step / (double)t->spe : 0;
    e.msg = buf;
    emit(t, &e);
}

static const char *metric_key(int metric) {
    return metric == BERTC_METRIC_ACCURACY ? "eval_accuracy" : metric == BERTC_METRIC_F1 ? "eval_f1" : "eval_loss";
}

/* ---- data and labels ---- */



/* ---- tokenization (once, up front) ---- */

/* Appends one sequence of n tokens to es, growing its arrays. */
int bertc_encset_push(encset *es, size_t *cap_tok, int *cap_seq, const int *ids, const int *types, const int *tags,
                      int n, const char *path, bertc_err *err) {
    size_t at = es->nseq > 0 ? es->off[es->nseq - 1] + (size_t)es->len[es->nseq - 1] : 0;
    if (at + (size_t)n > *cap_tok) {
        size_t c = *cap_tok * 2 + (size_t)n;
        int *a = realloc(es->ids, c * sizeof(int)), *b = a ? realloc(es->types, c * sizeof(int)) : NULL;
        if (a) es->ids = a;
        if (b) es->types = b;
        int *g = b && tags ? realloc(es->tags, c * sizeof(int)) : NULL;
        if (g) es->tags = g;
        if (!a || !b || (tags && !g)) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory for the tokens", path);
        *cap_tok = c;
    }
    if (es->nseq == *cap_seq) {
        int c = *cap_seq * 2 + 16;
        size_t *o = realloc(es->off, (size_t)c * sizeof(size_t));
        if (o) es->off = o;
        int *l = o ? realloc(es->len, (size_t)c * sizeof(int)) : NULL;
        if (l) es->len = l;
        if (!o || !l) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory for the tokens", path);
        *cap_seq = c;
    }
    for (int k = 0; k < n; k++) {
        es->ids[at + (size_t)k] = ids[k];
        es->types[at + (size_t)k] = types ? types[k] : 0;
        if (tags) es->tags[at + (size_t)k] = tags[k];
    }
    es->off[es->nseq] = at;
    es->len[es->nseq] = n;
    es->nseq++;
    return BERTC_OK;
}


void bertc_encset_free(encset *e) {
    free(e->ids);
    free(e->types);
    free(e->tags);
    free(e->off);
    free(e->len);
    free(e->labels);
    free(e->targets);
    free(e->win0);
    free(e->elen);
    free(e->start);
    free(e->end);
    memset(e, 0, sizeof *e);
}

/* Fills the batch buffers with examples idx[0..B) padded to T; returns T and
 * the number of sequences in *S (B, or with chunks their windows). Labels,
 * multi-hot targets, token tags and answer start/end are copied when es has them. */
int bertc_trainer_eval_stopped(const trainer *t, bertc_err *err) {
    if (!(t->o->stop && *t->o->stop)) return BERTC_OK;
    return bertc_fail(err, BERTC_ERR_INTERRUPTED, "interrupted during the evaluation");
}

int bertc_trainer_fill_batch(trainer *t, const encset *es, const int *idx, int B, int *S) {
    int NL = t->hf.cfg.num_labels;
    int ns = 0;
    for (int b = 0; b < B; b++) {
        int i = idx[b];
        int j0 = es->win0 ? es->win0[i] : i, j1 = es->win0 ? es->win0[i + 1] : i + 1;
        t->b_nwin[b] = j1 - j0;
        ns += j1 - j0;
        if (es->labels) t->b_labels[b] = es->labels[i];
        if (es->targets) memcpy(t->b_targets + (size_t)b * NL, es->targets + (size_t)i * NL, (size_t)NL * sizeof(float));
    }
    int T = 0;
    if (t->o->pad_to_max_length) T = t->o->max_length;
    else
        for (int b = 0; b < B; b++) {
            int i = idx[b];
            int j0 = es->win0 ? es->win0[i] : i, j1 = es->win0 ? es->win0[i + 1] : i + 1;
            for (int j = j0; j < j1; j++)
                if (es->len[j] > T) T = es->len[j];
        }
    int r = 0;
    for (int b = 0; b < B; b++) {
        int i = idx[b];
        int j0 = es->win0 ? es->win0[i] : i, j1 = es->win0 ? es->win0[i + 1] : i + 1;
        for (int j = j0; j < j1; j++, r++) {
            int n = es->len[j];
            const int *ids = es->ids + es->off[j], *ty = es->types + es->off[j];
            int *oi = t->b_ids + (size_t)r * T, *ot = t->b_types + (size_t)r * T, *om = t->b_mask + (size_t)r * T;
            for (int k = 0; k < T; k++) {
                int real = k < n;
                oi[k] = real ? ids[k] : t->pad_id;
                ot[k] = real ? ty[k] : 0;
                om[k] = real;
            }
            if (es->start) t->b_start[r] = es->start[j], t->b_end[r] = es->end[j];
            if (es->tags) {
                const int *tg = es->tags + es->off[j];
                int *og = t->b_tags + (size_t)r * T;
                for (int k = 0; k < T; k++) og[k] = k < n ? tg[k] : -100;
            }
        }
    }
    *S = ns;
    return T;
}


/* ---- batch order ---- */

/* The order of epoch ep depends only on the seed and ep, so a resumed run needs
 * only the step to find its place. */
static void make_perm(trainer *t, long ep) {
    int n = t->tr.n;
    bertc_rng r;
    bertc_rng_seed(&r, t->o->seed ^ (0x9E3779B97F4A7C15ULL * (uint64_t)(ep + 1)));
    for (int i = 0; i < n; i++) t->perm[i] = i;
    bertc_rng_shuffle(&r, t->perm, n);
    if (t->o->group_by_length) {
        /* transformers' get_length_grouped_indices: megabatches of mult*B
         * examples, each sorted by length (longest first), and the longest
         * example's megabatch head swapped to the front. */
        int B = t->o->batch_size;
        int mult = n / (B * 4);
        if (mult > 50) mult = 50;
        if (mult < 1) mult = 1;
        int mb = mult * B;
        const int *len = t->tr.elen;
        for (int s = 0; s < n; s += mb) {
            int e = s + mb < n ? s + mb : n;
            for (int i = s + 1; i < e; i++) { /* stable insertion sort, allocates nothing */
                int v = t->perm[i], j = i - 1;
                while (j >= s && len[t->perm[j]] < len[v]) {
                    t->perm[j + 1] = t->perm[j];
                    j--;
                }
                t->perm[j + 1] = v;
            }
        }
        int best = 0;
        for (int s = 0; s < n; s += mb)
            if (len[t->perm[s]] > len[t->perm[best]]) best = s;
        int tmp = t->perm[0];
        t->perm[0] = t->perm[best];
        t->perm[best] = tmp;
    }
    t->perm_epoch = ep;
}

/* ---- log.jsonl ---- */

static void jnum(char *buf, size_t cap, size_t *at, const char *key, double v) {
    if (*at >= cap) return;
    int w = isfinite(v) ? snprintf(buf + *at, cap - *at, ", \"%s\": %.10g", key, v)
                        : snprintf(buf + *at, cap - *at, ", \"%s\": null", key);
    if (w > 0) *at += (size_t)w;
}

static int log_write(trainer *t, const char *line, size_t len, bertc_err *err) {
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(t->logfd, line + done, len - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            return bertc_fail(err, BERTC_ERR_IO, "%s/log.jsonl: write failed: %s", t->o->out, strerror(errno));
        }
        done += (size_t)w;
    }
    t->log_bytes += (long)len;
    t->log_lines++;
    return BERTC_OK;
}

static double epoch_of(const trainer *t, long step) {
    return (double)step / (double)t->spe;
}

/* ---- evaluation ---- */


/* ---- checkpoints ---- */

static int save_checkpoint(trainer *t, long step, bertc_err *err) {
    if (fsync(t->logfd) != 0 && errno != EINVAL)
        return bertc_fail(err, BERTC_ERR_IO, "%s/log.jsonl: fsync failed: %s", t->o->out, strerror(errno));
    bertc_ckpt_state *st = &t->st;
    st->global_step = step;
    st->epoch = epoch_of(t, step);
    st->max_steps = t->total;
    st->sched = t->sched;
    st->data_seed = t->o->seed;
    st->data_epoch = step / t->spe;
    st->data_batch = (step % t->spe) * t->o->grad_accum;
    st->log_lines = t->log_lines;
    st->log_bytes = t->log_bytes;
    if (bertc_ckpt_set_rng(st, "dropout", &t->drop_rng, err)) return err->code;
    if (bertc_ckpt_save(t->o->out, &t->hf, &t->opt, st, t->args_json, err)) return err->code;
    if (bertc_ckpt_rotate(t->o->out, t->o->save_total_limit, t->o->load_best ? st->best_step : -1, NULL, err))
        return err->code;
    t->last_saved = step;
    info(t, BERTC_TRAIN_SAVE, "%s/checkpoint-%ld", t->o->out, step);
    return BERTC_OK;
}

/* A previous run's files in out (fresh runs refuse them without --overwrite). */
static int previous_run(const char *out, char *what, size_t cap) {
    DIR *d = opendir(out);
    if (!d) return 0;
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "checkpoint-", 11) == 0 || strcmp(e->d_name, "model") == 0 ||
            strcmp(e->d_name, "log.jsonl") == 0) {
            snprintf(what, cap, "%s", e->d_name);
            found = 1;
            break;
        }
    }
    closedir(d);
    return found;
}

static int clear_previous(const char *out, bertc_err *err) {
    DIR *d = opendir(out);
    if (!d) return BERTC_OK;
    struct dirent *e;
    int rc = BERTC_OK;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (strncmp(n, "checkpoint-", 11) == 0 || strcmp(n, "model") == 0 || strcmp(n, "log.jsonl") == 0 ||
            strcmp(n, "run.json") == 0) {
            char p[4096];
            if (bertc_path_join(p, sizeof p, out, n) || bertc_rmtree(p) != 0) {
                rc = bertc_fail(err, BERTC_ERR_IO, "%s/%s: cannot remove the previous run's file: %s", out, n, strerror(errno));
                break;
            }
        }
    }
    closedir(d);
    return rc;
}

/* One bertc train per OUT: an flock on OUT/.lock, which holds the holder's PID.
 * create = 0: only checks (creates nothing; no lock file, no holder: fine).
 * create = 1: takes the lock and keeps it on *fd until the run closes it. A
 * lock held by another process fails with a line naming OUT and that PID. */
static int lock_out(const char *out, int create, int *fd, bertc_err *err) {
    char p[4096];
    if (bertc_path_join(p, sizeof p, out, ".lock")) return bertc_fail(err, BERTC_ERR_ARG, "--out: path too long");
    int f = open(p, create ? O_RDWR | O_CREAT | O_CLOEXEC : O_RDONLY | O_CLOEXEC, 0644);
    if (f < 0) {
        if (!create && (errno == ENOENT || errno == ENOTDIR)) return BERTC_OK;
        return bertc_fail(err, BERTC_ERR_IO, "%s: cannot open: %s", p, strerror(errno));
    }
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char buf[32] = "";
        ssize_t n = pread(f, buf, sizeof buf - 1, 0);
        if (n > 0) buf[n] = '\0';
        long pid = strtol(buf, NULL, 10);
        close(f);
        if (e != EWOULDBLOCK) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot lock: %s", p, strerror(e));
        char who[48] = "a process that has not written its PID yet";
        if (pid > 0) snprintf(who, sizeof who, "PID %ld", pid);
        return bertc_fail(err, BERTC_ERR_IO,
                          "--out: %s is in use by another bertc train (%s holds %s); wait for it to end or choose another --out",
                          out, who, p);
    }
    if (!create) {
        close(f);
        return BERTC_OK;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(f, 0) != 0 || pwrite(f, pid, (size_t)n, 0) != n) {
        int e = errno;
        close(f);
        return bertc_fail(err, BERTC_ERR_IO, "%s: cannot write: %s", p, strerror(e));
    }
    *fd = f;
    return BERTC_OK;
}

static int mkdir_p(const char *path, bertc_err *err) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return bertc_fail(err, BERTC_ERR_ARG, "--out: path too long");
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return bertc_fail(err, BERTC_ERR_IO, "%s: cannot create: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return bertc_fail(err, BERTC_ERR_IO, "%s: cannot create: %s", buf, strerror(errno));
    if (!bertc_is_dir(buf)) return bertc_fail(err, BERTC_ERR_IO, "--out: %s exists and is not a folder", buf);
    return BERTC_OK;
}

/* ---- settings (training_args.json and run.json's "settings") ---- */

static const char *strategy_name(int s) {
    return s == BERTC_STRATEGY_NO ? "no" : s == BERTC_STRATEGY_STEPS ? "steps" : s == BERTC_STRATEGY_EPOCH ? "epoch" : "best";
}

static cJSON *settings_json(const trainer *t) {
    const bertc_train_opts *o = t->o;
    static const char *const trunc_names[] = {"head", "tail", "head+tail"};
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", o->model);
    cJSON_AddStringToObject(j, "train", o->train);
    if (o->eval) cJSON_AddStringToObject(j, "eval", o->eval);
    cJSON_AddNumberToObject(j, "train_limit", (double)o->train_limit);
    cJSON_AddNumberToObject(j, "eval_limit", (double)o->eval_limit);
    cJSON_AddNumberToObject(j, "validation_split", o->validation_split);
    cJSON_AddNumberToObject(j, "epochs", o->epochs);
    cJSON_AddNumberToObject(j, "max_steps", (double)o->max_steps);
    cJSON_AddNumberToObject(j, "batch_size", o->batch_size);
    cJSON_AddNumberToObject(j, "eval_batch_size", o->eval_batch_size);
    cJSON_AddNumberToObject(j, "gradient_accumulation_steps", o->grad_accum);
    cJSON_AddNumberToObject(j, "learning_rate", o->lr);
    cJSON_AddNumberToObject(j, "weight_decay", o->weight_decay);
    cJSON_AddNumberToObject(j, "adam_beta1", o->adam_beta1);
    cJSON_AddNumberToObject(j, "adam_beta2", o->adam_beta2);
    cJSON_AddNumberToObject(j, "adam_epsilon", o->adam_eps);
    cJSON_AddNumberToObject(j, "max_grad_norm", o->max_grad_norm);
    cJSON_AddStringToObject(j, "lr_scheduler_type", bertc_sched_name(o->sched_kind));
    cJSON_AddNumberToObject(j, "warmup_ratio", o->warmup_ratio);
    cJSON_AddNumberToObject(j, "warmup_steps", (double)t->sched.warmup_steps);
    cJSON_AddNumberToObject(j, "max_length", o->max_length);
    cJSON_AddStringToObject(j, "truncation", trunc_names[o->truncation >= 0 && o->truncation <= 2 ? o->truncation : 0]);
    cJSON_AddBoolToObject(j, "pad_to_max_length", o->pad_to_max_length);
    cJSON_AddBoolToObject(j, "group_by_length", o->group_by_length);
    if (o->class_weights) cJSON_AddStringToObject(j, "class_weights", o->class_weights);
    cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    cJSON_AddNumberToObject(j, "logging_steps", (double)o->logging_steps);
    cJSON_AddStringToObject(j, "eval_strategy", strategy_name(o->eval_strategy));
    cJSON_AddNumberToObject(j, "eval_steps", (double)t->eval_steps);
    cJSON_AddStringToObject(j, "save_strategy", strategy_name(o->save_strategy));
    cJSON_AddNumberToObject(j, "save_steps", (double)o->save_steps);
    cJSON_AddNumberToObject(j, "save_total_limit", o->save_total_limit);
    cJSON_AddBoolToObject(j, "load_best_model_at_end", o->load_best);
    cJSON_AddStringToObject(j, "metric_for_best_model", metric_key(o->metric) + 5);
    cJSON_AddNumberToObject(j, "early_stopping_patience", o->early_stopping_patience);
    cJSON_AddNumberToObject(j, "threads", o->threads);
    cJSON_AddStringToObject(j, "precision", bert_precision_name(bert_precision_resolve(o->precision)));
    cJSON_AddBoolToObject(j, "gradient_checkpointing", o->gradient_checkpointing);
    cJSON_AddStringToObject(j, "problem_type", o->multi_label ? "multi_label_classification" : "single_label_classification");
    if (o->multi_label) cJSON_AddNumberToObject(j, "threshold", o->threshold);
    static const char *const lt_names[] = {"truncate", "head+tail", "chunks"};
    cJSON_AddStringToObject(j, "long_text", lt_names[o->long_text >= 0 && o->long_text <= 2 ? o->long_text : 0]);
    if (o->long_text == BERTC_LONG_CHUNKS) {
        cJSON_AddNumberToObject(j, "stride", t->stride);
        cJSON_AddStringToObject(j, "pool", o->pool == BERTC_POOL_MAX ? "max" : "mean");
        cJSON_AddNumberToObject(j, "max_windows", o->max_windows);
    }
    cJSON_AddStringToObject(j, "task", bert_head_of(t->task->task)->name);
    cJSON *lab = cJSON_AddArrayToObject(j, "labels");
    for (int k = 0; k < t->num_labels; k++) cJSON_AddItemToArray(lab, cJSON_CreateString(t->labels[k]));
    return j;
}

static int write_json(const char *dir, const char *name, cJSON *j, bertc_err *err) {
    char p[4096];
    if (bertc_path_join(p, sizeof p, dir, name)) return bertc_fail(err, BERTC_ERR_ARG, "%s/%s: path too long", dir, name);
    char *s = cJSON_Print(j);
    if (!s) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", p);
    size_t n = strlen(s);
    s[n] = 0;
    char *s2 = realloc(s, n + 2);
    if (!s2) {
        free(s);
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", p);
    }
    s2[n] = '\n';
    s2[n + 1] = 0;
    int rc = bertc_write_file_atomic(p, s2, n + 1, err);
    free(s2);
    return rc;
}

/* A model loaded from a checkpoint copies its vocabulary from that folder when
 * it is saved, but checkpoint rotation may delete the folder mid-run. Point it
 * at the --model folder's tokenizer.json or vocab.txt instead (hf_vocab_path),
 * which must hold the same tokens (checkpoints carry both files, so the bytes
 * may differ). */
static int repoint_vocab(trainer *t, bertc_err *err) {
    char dir[4096], path[4096];
    bertc_err e2 = {0};
    if (hf_model_resolve(t->o->model, dir, sizeof dir, &e2) || hf_vocab_path(path, sizeof path, dir, &e2))
        return bertc_fail(err, BERTC_ERR_NOTFOUND, "--model: %s: resuming needs the model's tokenizer.json or vocab.txt",
                          t->o->model);
    bert_tokenizer *a = NULL, *b = NULL;
    int rc = hf_tokenizer_load(&a, dir, err);
    if (!rc) rc = hf_model_tokenizer(&b, &t->hf, err);
    int same = !rc && bert_tokenizer_vocab_size(a) == bert_tokenizer_vocab_size(b);
    for (int id = 0; same && id < bert_tokenizer_vocab_size(a); id++) {
        const char *x = bert_tokenizer_id_to_token(a, id), *y = bert_tokenizer_id_to_token(b, id);
        same = (x == y) || (x && y && strcmp(x, y) == 0);
    }
    if (!rc && !same)
        rc = bertc_fail(err, BERTC_ERR_ARG, "--model: %s differs from %s; resume with the run's --model", path,
                        t->hf.vocab_path);
    bert_tokenizer_free(a);
    bert_tokenizer_free(b);
    if (rc) return rc;
    char *p = strdup(path);
    if (!p) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    free(t->hf.vocab_path);
    t->hf.vocab_path = p;
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
static int check_resume_settings(const trainer *t, bertc_err *err) {
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
        {"gradient_accumulation_steps", "--gradient-accumulation-steps", o->grad_accum},
        {"weight_decay", "--weight-decay", o->weight_decay},
        {"max_length", "--max-length", o->max_length},
    };
    int rc = BERTC_OK;
    const cJSON *task = cJSON_GetObjectItemCaseSensitive(j, "task");
    const char *now = bert_head_of(t->task->task)->name;
    if (!rc && cJSON_IsString(task) && strcmp(task->valuestring, now) != 0)
        rc = bertc_fail(err, BERTC_ERR_ARG, "--resume: --task is %s here but %s in %s's run; resume with the run's --task",
                        now, task->valuestring, t->resume_dir);
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

/* ---- setup: everything that can fail on bad input, before OUT is touched ---- */

static int setup(trainer *t, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    if (bertc_train_check_opts(o, err)) return err->code;
    if (lock_out(o->out, 0, NULL, err)) return err->code; /* another run in OUT: fail before the data */
    t->task = o->task == BERT_TASK_TOKEN_CLS ? &bertc_token_train_task
              : o->task == BERT_TASK_QA      ? &bertc_qa_train_task
                                             : &bertc_text_train_task;
    /* resume point (reads only; before the data, so a resume with other settings fails at once) */
    if (o->resume) {
        bertc_err e2 = {0};
        if (strcmp(o->resume, "latest") == 0 && bertc_is_dir(o->out)) {
            if (bertc_ckpt_find_latest(o->out, t->resume_dir, sizeof t->resume_dir, NULL, &e2) == BERTC_OK)
                t->resumed = 1;
            else if (e2.code != BERTC_ERR_NOTFOUND) {
                *err = e2;
                return bertc_err_prefix(err, "--resume latest");
            }
        } else if (strcmp(o->resume, "latest") != 0) {
            if (bertc_ckpt_resolve(t->resume_dir, sizeof t->resume_dir, o->resume, o->out, err))
                return bertc_err_prefix(err, "--resume");
            t->resumed = 1;
        }
        if (t->resumed && check_resume_settings(t, err)) return err->code;
        if (t->resumed) info(t, BERTC_TRAIN_INFO, "resuming from %s", t->resume_dir);
        else info(t, BERTC_TRAIN_INFO, "--resume latest: no complete checkpoint in %s; starting at step 0", o->out);
    } else {
        char what[300];
        if (!o->overwrite && previous_run(o->out, what, sizeof what))
            return bertc_fail(err, BERTC_ERR_ARG,
                              "--out: %s already holds a run (%s); use --resume latest to continue it or --overwrite to replace it",
                              o->out, what);
    }

    if (t->task->load(t, err)) return err->code;
    if (o->batch_size > t->n_train)
        return bertc_fail(err, BERTC_ERR_ARG, "--batch-size: %d is larger than the training data (%d examples in %s)",
                          o->batch_size, t->n_train, t->train_path);
    int NL = t->num_labels;
    info(t, BERTC_TRAIN_INFO, "train: %d examples from %s; eval: %d examples; %d labels", t->n_train, t->train_path,
         t->n_eval, NL);

    hf_load_opts lo;
    hf_load_opts_default(&lo);
    lo.num_labels = NL;
    lo.labels = t->labels;
    lo.seed = o->seed;
    lo.task = t->task->task;
    bertc_ckpt_state_init(&t->st);
    if (t->resumed) {
        if (bertc_ckpt_load(t->resume_dir, &t->hf, &lo, NULL, &t->st, err)) return bertc_err_prefix(err, "--resume");
        if (t->hf.new_head) return bertc_fail(err, BERTC_ERR_FORMAT, "--resume: %s has no classifier", t->resume_dir);
        if (repoint_vocab(t, err)) return err->code;
    } else if (hf_model_load(&t->hf, o->model, &lo, err)) {
        return bertc_err_prefix(err, "--model");
    }
    if (t->task->check_model && t->task->check_model(t, err)) return err->code;
    if (o->max_length > t->hf.cfg.max_position)
        return bertc_fail(err, BERTC_ERR_ARG, "--max-length: %d is more than the model's max_position_embeddings (%d)",
                          o->max_length, t->hf.cfg.max_position);
    if (hf_model_tokenizer(&t->tok, &t->hf, err)) return err->code;
    t->pad_id = bert_tokenizer_special_ids(t->tok).pad;
    info(t, BERTC_TRAIN_INFO, "model: %s (%d layers, hidden %d, %zu parameters, %s head%s)", t->hf.dir,
         t->hf.cfg.num_layers, t->hf.cfg.hidden_size, t->hf.num_params, bert_head_of(t->hf.cfg.task)->name,
         t->hf.new_head ? ", new" : "");

    if (t->task->encode(t, 0, &t->tr, err)) return err->code;
    if (t->has_eval && t->task->encode(t, 1, &t->ev, err)) return err->code;

    /* schedule: steps per epoch as Trainer (the last accumulation of an epoch
     * may have fewer micro-batches) */
    t->nb = (t->tr.n + o->batch_size - 1) / o->batch_size;
    t->spe = (t->nb + o->grad_accum - 1) / o->grad_accum;
    t->total = o->max_steps > 0 ? o->max_steps : t->spe * o->epochs;
    t->eval_steps = o->eval_steps > 0 ? o->eval_steps : o->logging_steps;
    t->sched.kind = o->sched_kind;
    t->sched.base_lr = o->lr;
    t->sched.warmup_steps = o->warmup_steps >= 0 ? o->warmup_steps : bertc_warmup_steps(o->warmup_ratio, t->total);
    t->sched.total_steps = t->total;
    t->sched.num_cycles = 0.5;
    if (t->resumed) {
        if (t->st.max_steps != t->total || t->st.sched.warmup_steps != t->sched.warmup_steps ||
            t->st.sched.kind != t->sched.kind || t->st.sched.base_lr != t->sched.base_lr)
            return bertc_fail(err, BERTC_ERR_ARG,
                              "--resume: %s was saved by a run with other settings (%ld steps, lr %g); resume with the same flags",
                              t->resume_dir, t->st.max_steps, t->st.sched.base_lr);
        if (t->hf.cfg.num_labels != NL)
            return bertc_fail(err, BERTC_ERR_ARG, "--resume: %s has %d labels, the training data %d", t->resume_dir,
                              t->hf.cfg.num_labels, NL);
    }

    /* the model, optimizer, buffers: allocated once */
    int Bt = o->batch_size > o->eval_batch_size ? o->batch_size : o->eval_batch_size;
    if (Bt > 4096) return bertc_fail(err, BERTC_ERR_ARG, "--batch-size/--eval-batch-size: at most 4096");
    /* sequences per forward: the training model's (Btr) and the evaluation model's (Bev) */
    int Btr = o->batch_size, Bev = t->has_eval ? o->eval_batch_size : 0;
    if (t->task->batch_rows && t->task->batch_rows(t, &Btr, &Bev, err)) return err->code;
    int Bmax = Btr > Bev ? Btr : Bev;
    t->Bmax = Bmax;
    int mode = o->gradient_checkpointing ? BERT_TRAIN_RECOMPUTE : BERT_TRAIN;
    {
        size_t data_bytes = (size_t)(t->tr.nseq + t->ev.nseq) * 16 + t->text_bytes;
        if (t->tr.nseq > 0) data_bytes += (t->tr.off[t->tr.nseq - 1] + (size_t)t->tr.len[t->tr.nseq - 1]) * 8;
        if (t->ev.nseq > 0) data_bytes += (t->ev.off[t->ev.nseq - 1] + (size_t)t->ev.len[t->ev.nseq - 1]) * 8;
        bert_memory_plan pl, pe = {0};
        if (bert_memory_estimate(&pl, &t->hf.cfg, Btr, o->max_length, mode, data_bytes, err)) return err->code;
        if (Bev > 0 && bert_memory_estimate(&pe, &t->hf.cfg, Bev, o->max_length, BERT_INFER, 0, err)) return err->code;
        const double MiB = 1024.0 * 1024.0;
        char evs[96] = "";
        if (Bev > 0) snprintf(evs, sizeof evs, ", evaluation %.0f MiB for %d x %d", pe.arena / MiB, Bev, o->max_length);
        info(t, BERTC_TRAIN_INFO,
             "memory: about %.2f GiB (parameters %.0f MiB, gradients %.0f MiB, AdamW %.0f MiB, activations %.0f MiB "
             "for %d x %d tokens%s%s, data %.0f MiB, overhead %.0f MiB)",
             (double)(pl.total + pe.arena) / (1024.0 * MiB), pl.params / MiB, pl.grads / MiB, pl.adam / MiB,
             pl.arena / MiB, Btr, o->max_length, o->gradient_checkpointing ? " recomputed per layer" : "", evs,
             pl.data / MiB, pl.overhead / MiB);
    }
    if (bert_model_build(&t->m, &t->hf.cfg, t->hf.params_memory, Btr, o->max_length, mode, err)) return err->code;
    t->m.precision = bert_precision_resolve(o->precision);
    if (Bev > 0) {
        if (bert_model_build(&t->em, &t->hf.cfg, t->hf.params_memory, Bev, o->max_length, BERT_INFER, err))
            return err->code;
        t->em.precision = t->m.precision;
    }
    bertc_adamw_opts ao;
    bertc_adamw_opts_default(&ao);
    ao.beta1 = o->adam_beta1;
    ao.beta2 = o->adam_beta2;
    ao.eps = o->adam_eps;
    ao.weight_decay = o->weight_decay;
    if (bertc_adamw_init_bert(&t->opt, &t->hf.cfg, &ao, err)) return err->code;
    if (t->resumed && bertc_ckpt_load(t->resume_dir, NULL, NULL, &t->opt, NULL, err)) return bertc_err_prefix(err, "--resume");
    size_t bt = (size_t)Bmax * (size_t)o->max_length;
    t->b_ids = malloc(bt * sizeof(int));
    t->b_types = malloc(bt * sizeof(int));
    t->b_mask = malloc(bt * sizeof(int));
    t->b_tags = t->tr.tags ? malloc(bt * sizeof(int)) : NULL;
    t->b_labels = malloc((size_t)Bt * sizeof(int));
    int se = t->tr.start != NULL;
    t->b_start = se ? malloc((size_t)Bmax * sizeof(int)) : NULL;
    t->b_end = se ? malloc((size_t)Bmax * sizeof(int)) : NULL;
    if (t->ml) t->b_targets = malloc((size_t)Bt * (size_t)NL * sizeof(float));
    t->perm = malloc((size_t)t->tr.n * sizeof(int));
    if (!t->b_ids || !t->b_types || !t->b_mask || !t->b_labels || !t->perm || (t->tr.tags && !t->b_tags) ||
        (se && (!t->b_start || !t->b_end)) || (t->ml && !t->b_targets))
        return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory for the batch buffers");
    if (t->task->prepare && t->task->prepare(t, err)) return err->code;
    t->perm_epoch = -1;
    if (t->resumed) {
        if (bertc_ckpt_get_rng(&t->st, "dropout", &t->drop_rng, err)) return bertc_err_prefix(err, "--resume");
    } else {
        bertc_rng_seed(&t->drop_rng, o->seed ^ 0xD1B54A32D192ED03ULL);
        t->st.greater_is_better = o->metric != BERTC_METRIC_LOSS;
        snprintf(t->st.best_metric_name, sizeof t->st.best_metric_name, "%s", metric_key(o->metric));
    }
    t->args = settings_json(t);
    t->args_json = t->args ? cJSON_Print(t->args) : NULL;
    if (!t->args_json) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    return BERTC_OK;
}

/* Opens OUT/log.jsonl: empty for a fresh run, cut back to the checkpoint's
 * length on resume (lines logged after it are logged again). */
static int open_out(trainer *t, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    if (mkdir_p(o->out, err)) return err->code;
    if (lock_out(o->out, 1, &t->lockfd, err)) return err->code;
    if (!t->resumed && o->overwrite && clear_previous(o->out, err)) return err->code;
    int removed = 0;
    if (bertc_ckpt_clean_temp(o->out, &removed, err)) return err->code;
    char p[4096];
    if (bertc_path_join(p, sizeof p, o->out, "log.jsonl")) return bertc_fail(err, BERTC_ERR_ARG, "--out: path too long");
    t->logfd = open(p, O_WRONLY | O_CREAT | (t->resumed ? 0 : O_TRUNC), 0644);
    if (t->logfd < 0) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot open: %s", p, strerror(errno));
    if (t->resumed) {
        struct stat sb;
        if (fstat(t->logfd, &sb) == 0 && sb.st_size > t->st.log_bytes && ftruncate(t->logfd, t->st.log_bytes) != 0)
            return bertc_fail(err, BERTC_ERR_IO, "%s: cannot truncate: %s", p, strerror(errno));
        t->log_bytes = t->st.log_bytes;
        t->log_lines = t->st.log_lines;
    }
    if (lseek(t->logfd, 0, SEEK_END) < 0) return bertc_fail(err, BERTC_ERR_IO, "%s: seek failed", p);
    return BERTC_OK;
}

/* Is eval step e an evaluation point? */
static int is_eval_point(const trainer *t, long step) {
    if (t->o->eval_strategy == BERTC_STRATEGY_EPOCH) return step % t->spe == 0 || step == t->total;
    if (t->o->eval_strategy == BERTC_STRATEGY_STEPS) return t->eval_steps > 0 && step % t->eval_steps == 0;
    return 0;
}

/* ---- the run ---- */

static int run(trainer *t, bertc_train_result *res, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    int NL = t->hf.cfg.num_labels;
    long step = t->st.global_step;
    if (t->resumed) {
        info(t, BERTC_TRAIN_INFO, "continuing at step %ld of %ld", step, t->total);
        /* evaluations since the best one (early stopping's counter) */
        if (t->st.has_best)
            for (long s = t->st.best_step + 1; s <= step - t->st.eval_pending; s++) t->patience += is_eval_point(t, s);
    }
    /* a checkpoint written when the evaluation at its step was interrupted:
     * that evaluation runs first, as it would have without the interruption */
    int pending = t->resumed && t->st.eval_pending && t->has_eval;
    t->st.eval_pending = 0;
    t->last_saved = t->resumed ? step : -1;
    int bad_run = 0;
    double interval_loss = 0;
    long interval_n = 0;
    double last_norm = NAN;
    int stopped_early = 0, interrupted = 0;
    double ev_loss = NAN, ev_acc = NAN, ev_f1 = NAN, ev_ham = NAN;
    train_eval ev = {0};
    int has_ev = 0;
    size_t P = t->m.num_params;
    int B = o->batch_size;
    while (step < t->total || pending) {
        bertc_train_event e = {0};
        int improved = 0, eval_stopped = 0;
        double t1 = 0;
        if (pending) {
            pending = 0;
            e.kind = BERTC_TRAIN_STEP;
            e.step = step;
            e.epoch = epoch_of(t, step);
            e.loss = e.grad_norm = NAN;
            e.lr = bertc_sched_lr(&t->sched, step);
            goto evaluate_now;
        }
        long ep = step / t->spe, k = step % t->spe;
        if (ep != t->perm_epoch) make_perm(t, ep);
        long b0 = k * o->grad_accum, b1 = b0 + o->grad_accum;
        if (b1 > t->nb) b1 = t->nb;
        bert_zero_grad(&t->m);
        double loss_sum = 0;
        int bad = 0;
        for (long b = b0; b < b1; b++) {
            long s = b * B;
            int nb = (int)(t->tr.n - s < B ? t->tr.n - s : B);
            int S;
            int T = bertc_trainer_fill_batch(t, &t->tr, t->perm + s, nb, &S);
            float l = 0;
            if (bert_forward(&t->m, t->b_ids, t->b_types, t->b_mask, S, T, &t->drop_rng, NULL, NULL, err))
                return err->code;
            if (t->task->backward(t, nb, &l, err)) return err->code;
            if (!isfinite(l)) bad = 1;
            loss_sum += l;
            t->samples_done += nb;
        }
        long micro = b1 - b0;
        /* Trainer divides each micro-batch's loss by the accumulation steps */
        if (micro > 1) bertc_scale(t->m.grads_memory, P, 1.0f / (float)micro);
        double step_loss = loss_sum / (double)micro;
        double norm = o->max_grad_norm > 0 ? bertc_clip_grad_norm(t->m.grads_memory, P, o->max_grad_norm)
                                           : bertc_l2_norm(t->m.grads_memory, P);
        double lr = bertc_sched_lr(&t->sched, step);
        step++;
        t->steps_done++;
        if (bad || !isfinite(norm)) {
            t->st.skipped_steps++;
            bad_run++;
            info(t, BERTC_TRAIN_SKIP, "step %ld skipped: non-finite %s (%g); %d in a row", step,
                 bad ? "loss" : "gradient norm", bad ? step_loss : norm, bad_run);
            if (bad_run >= o->max_bad_steps)
                return bertc_fail(err, BERTC_ERR_NUMERIC,
                                  "%d steps in a row had a non-finite loss or gradient (last at step %ld); stopped, "
                                  "keeping the last good checkpoint (try a lower --lr)",
                                  bad_run, step);
        } else {
            bertc_adamw_step(&t->opt, t->hf.params_memory, t->m.grads_memory, lr);
            bad_run = 0;
            interval_loss += step_loss;
            interval_n++;
            last_norm = norm;
        }
        e.kind = BERTC_TRAIN_STEP;
        e.step = step;
        e.epoch = epoch_of(t, step);
        e.loss = step_loss;
        e.lr = bertc_sched_lr(&t->sched, step);
        e.grad_norm = norm;
        emit(t, &e);

        if (o->logging_steps > 0 && step % o->logging_steps == 0) {
            char line[512];
            size_t at = (size_t)snprintf(line, sizeof line, "{\"step\": %ld", step);
            jnum(line, sizeof line, &at, "epoch", epoch_of(t, step));
            double mean = interval_n > 0 ? interval_loss / (double)interval_n : NAN;
            jnum(line, sizeof line, &at, "loss", mean);
            jnum(line, sizeof line, &at, "learning_rate", e.lr);
            jnum(line, sizeof line, &at, "grad_norm", last_norm);
            at += (size_t)snprintf(line + at, sizeof line - at, "}\n");
            if (log_write(t, line, at, err)) return err->code;
            e.kind = BERTC_TRAIN_LOG;
            e.loss = mean;
            e.grad_norm = last_norm;
            emit(t, &e);
            interval_loss = 0;
            interval_n = 0;
        }

    evaluate_now:
        if (t->has_eval && is_eval_point(t, step)) {
            t1 = now_s();
            memset(&ev, 0, sizeof ev);
            ev.loss = ev.accuracy = ev.f1 = NAN;
            if (t->task->evaluate(t, &ev, err)) {
                if (err->code != BERTC_ERR_INTERRUPTED) return err->code;
                eval_stopped = 1; /* the checkpoint below runs it again on resume */
            }
        }
        if (!eval_stopped && t->has_eval && is_eval_point(t, step)) {
            ev_loss = ev.loss, ev_acc = ev.accuracy, ev_f1 = ev.f1;
            for (int x = 0; x < ev.nextra; x++)
                if (strcmp(ev.extra[x].key, "eval_hamming_loss") == 0) ev_ham = ev.extra[x].value;
            double dt = now_s() - t1;
            has_ev = 1;
            char line[512];
            size_t at = (size_t)snprintf(line, sizeof line, "{\"step\": %ld", step);
            jnum(line, sizeof line, &at, "epoch", epoch_of(t, step));
            jnum(line, sizeof line, &at, "eval_loss", ev_loss);
            jnum(line, sizeof line, &at, "eval_accuracy", ev_acc);
            jnum(line, sizeof line, &at, "eval_f1", ev_f1);
            for (int x = 0; x < ev.nextra; x++) jnum(line, sizeof line, &at, ev.extra[x].key, ev.extra[x].value);
            jnum(line, sizeof line, &at, "eval_runtime", dt);
            jnum(line, sizeof line, &at, "eval_samples_per_second", dt > 0 ? t->ev.n / dt : NAN);
            at += (size_t)snprintf(line + at, sizeof line - at, "}\n");
            if (log_write(t, line, at, err)) return err->code;
            bertc_train_event ee = e;
            ee.kind = BERTC_TRAIN_EVAL;
            ee.eval_loss = ev_loss;
            ee.eval_accuracy = ev_acc;
            ee.eval_f1 = ev_f1;
            ee.eval_hamming = ev_ham;
            emit(t, &ee);
            double v = o->metric == BERTC_METRIC_ACCURACY ? ev_acc : o->metric == BERTC_METRIC_F1 ? ev_f1 : ev_loss;
            if (isfinite(v) && (!t->st.has_best || (t->st.greater_is_better ? v > t->st.best_metric : v < t->st.best_metric))) {
                improved = 1;
                t->st.has_best = 1;
                t->st.best_metric = v;
                t->st.best_step = step;
                snprintf(t->st.best_checkpoint, sizeof t->st.best_checkpoint, "%.900s/checkpoint-%ld", o->out, step);
                t->patience = 0;
            } else {
                t->patience++;
            }
            if (o->early_stopping_patience > 0 && t->patience >= o->early_stopping_patience) stopped_early = 1;
        }

        int save = 0;
        if (o->save_strategy == BERTC_STRATEGY_STEPS) save = step % o->save_steps == 0 || step == t->total;
        else if (o->save_strategy == BERTC_STRATEGY_EPOCH) save = step % t->spe == 0 || step == t->total;
        else if (o->save_strategy == BERTC_STRATEGY_BEST) save = improved;
        interrupted = eval_stopped || (o->stop && *o->stop);
        t->st.eval_pending = eval_stopped;
        if (stopped_early && o->save_strategy != BERTC_STRATEGY_NO && o->save_strategy != BERTC_STRATEGY_BEST) save = 1;
        if (save || interrupted) {
            if (bad_run > 0) {
                info(t, BERTC_TRAIN_WARN, "checkpoint at step %ld not written: the last step was skipped", step);
            } else if (save_checkpoint(t, step, err)) {
                return err->code;
            }
        }
        if (interrupted) {
            if (res) res->steps = step;
            return bertc_fail(err, BERTC_ERR_INTERRUPTED, "interrupted at step %ld of %ld%s; continue with --resume latest",
                              step, t->total, eval_stopped ? " during its evaluation" : "");
        }
        if (stopped_early) {
            info(t, BERTC_TRAIN_INFO, "early stopping at step %ld: %d evaluations without improvement", step, t->patience);
            break;
        }
    }
    t->st.global_step = step;

    /* the final model: the best checkpoint's weights with --load-best-model-at-end */
    if (o->load_best && t->st.has_best && t->st.best_step != step) {
        char bdir[4096];
        snprintf(bdir, sizeof bdir, "%.4000s/checkpoint-%ld", o->out, t->st.best_step);
        hf_model best = {0};
        hf_load_opts lo;
        hf_load_opts_default(&lo);
        lo.num_labels = NL;
        lo.task = t->task->task;
        if (bertc_ckpt_verify(bdir, 1, err) || bertc_ckpt_load(bdir, &best, &lo, NULL, NULL, err)) {
            hf_model_free(&best);
            return bertc_err_prefix(err, "--load-best-model-at-end");
        }
        memcpy(t->hf.params_memory, best.params_memory, t->hf.num_params * sizeof(float));
        hf_model_free(&best);
        info(t, BERTC_TRAIN_INFO, "loaded the best model (step %ld, %s %.4f)", t->st.best_step, t->st.best_metric_name,
             t->st.best_metric);
    }
    if (bertc_ckpt_save_final(o->out, &t->hf, err)) return err->code;
    info(t, BERTC_TRAIN_SAVE, "%s/model", o->out);

    double wall = now_s() - t->t0;
    double sps = wall > 0 ? (double)t->samples_done / wall : 0;
    cJSON *rj = cJSON_CreateObject();
    cJSON_AddStringToObject(rj, "model", o->model);
    cJSON_AddNumberToObject(rj, "wall_seconds", wall);
    cJSON_AddNumberToObject(rj, "train_samples_per_second", sps);
    cJSON_AddNumberToObject(rj, "global_step", (double)step);
    cJSON_AddNumberToObject(rj, "train_examples", t->tr.n);
    cJSON_AddNumberToObject(rj, "eval_examples", t->ev.n);
    cJSON_AddNumberToObject(rj, "skipped_steps", (double)t->st.skipped_steps);
    if (t->resumed) cJSON_AddStringToObject(rj, "resumed_from", t->resume_dir);
    if (has_ev) {
        cJSON_AddNumberToObject(rj, "eval_accuracy", ev_acc);
        cJSON_AddNumberToObject(rj, "eval_loss", ev_loss);
        cJSON_AddNumberToObject(rj, "eval_f1", ev_f1);
        for (int x = 0; x < ev.nextra; x++) cJSON_AddNumberToObject(rj, ev.extra[x].key, ev.extra[x].value);
    }
    if (t->st.has_best) {
        cJSON_AddNumberToObject(rj, "best_metric", t->st.best_metric);
        cJSON_AddNumberToObject(rj, "best_step", (double)t->st.best_step);
    }
    if (stopped_early) cJSON_AddBoolToObject(rj, "stopped_early", 1);
    cJSON_AddItemToObject(rj, "settings", t->args);
    t->args = NULL;
    int rc = write_json(o->out, "run.json", rj, err);
    cJSON_Delete(rj);
    if (rc) return rc;
    if (o->report) {
        bertc_err re = {0};
        if (bertc_report_write(o->out, &re)) info(t, BERTC_TRAIN_WARN, "report not written: %s", re.msg);
        else info(t, BERTC_TRAIN_INFO, "report: %s/report.html", o->out);
    }
    if (res) {
        res->steps = step;
        res->skipped_steps = t->st.skipped_steps;
        res->wall_seconds = wall;
        res->train_samples_per_second = sps;
        res->has_eval = has_ev;
        res->eval_loss = ev_loss;
        res->eval_accuracy = ev_acc;
        res->eval_f1 = ev_f1;
        res->has_best = t->st.has_best;
        res->best_metric = t->st.best_metric;
        res->best_step = t->st.best_step;
        res->stopped_early = stopped_early;
    }
    return BERTC_OK;
}

int bertc_train(const bertc_train_opts *o, const bertc_train_callbacks *cb, bertc_train_result *res, bertc_err *err) {
    trainer t;
    memset(&t, 0, sizeof t);
    t.o = o;
    t.cb = cb;
    t.err = err;
    t.logfd = -1;
    t.lockfd = -1;
    t.t0 = now_s();
    if (res) memset(res, 0, sizeof *res);
    int rc = setup(&t, err);
    if (rc == BERTC_OK) rc = open_out(&t, err);
    if (rc == BERTC_OK) {
        t.t0 = now_s();
        rc = run(&t, res, err);
    }
    if (t.logfd >= 0) close(t.logfd);
    if (t.lockfd >= 0) close(t.lockfd); /* releases OUT */
    cJSON_Delete(t.args);
    free(t.args_json);
    free(t.b_ids);
    free(t.b_types);
    free(t.b_mask);
    free(t.b_tags);
    free(t.b_labels);
    free(t.b_start);
    free(t.b_end);
    free(t.b_targets);
    if (t.task) t.task->release(&t);
    free(t.perm);
    bertc_adamw_free(&t.opt);
    bert_model_free(&t.m);
    bert_model_free(&t.em);
    bertc_encset_free(&t.tr);
    bertc_encset_free(&t.ev);
    bert_tokenizer_free(t.tok);
    hf_model_free(&t.hf);
    return rc;
}
