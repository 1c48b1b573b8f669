/* train_checkpoint.c: checkpoints, settings and the output folder (lock, previous run, log.jsonl) (split out of train.c; see train_internal.h). */
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

#define info bertc_trainer_info

/* ---- checkpoints ---- */

int bertc_trainer_save_checkpoint(trainer *t, long step, bertc_err *err) {
    if (t->rank != 0) { /* rank 0 alone writes OUT; every rank holds the same state */
        t->last_saved = step;
        return BERTC_OK;
    }
    if (fsync(t->logfd) != 0 && errno != EINVAL)
        return bertc_fail(err, BERTC_ERR_IO, "%s/log.jsonl: fsync failed: %s", t->o->out, strerror(errno));
    bertc_ckpt_state *st = &t->st;
    st->global_step = step;
    st->epoch = epoch_of(t, step);
    st->max_steps = t->total;
    st->sched = t->sched;
    st->data_seed = t->o->seed;
    st->data_epoch = step / t->steps_per_epoch;
    st->data_batch = (step % t->steps_per_epoch) * t->ga;
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
int bertc_train_previous_run(const char *out, char *what, size_t cap) {
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

int bertc_train_clear_previous(const char *out, bertc_err *err) {
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
int bertc_train_lock_out(const char *out, int create, int *fd, bertc_err *err) {
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

cJSON *bertc_trainer_settings_json(const trainer *t) {
    const bertc_train_opts *o = t->o;
    static const char *const trunc_names[] = {"head", "tail", "head+tail"};
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "model", o->model);
    cJSON_AddStringToObject(j, "train", o->train);
    if (o->eval) cJSON_AddStringToObject(j, "eval", o->eval);
    cJSON_AddNumberToObject(j, "train_limit", (double)o->train_limit);
    cJSON_AddNumberToObject(j, "eval_limit", (double)o->eval_limit);
    cJSON_AddNumberToObject(j, "validation_split", o->validation_split);
    if (o->augment) cJSON_AddStringToObject(j, "augment", o->augment);
    cJSON_AddNumberToObject(j, "epochs", o->epochs);
    cJSON_AddNumberToObject(j, "max_steps", (double)o->max_steps);
    cJSON_AddNumberToObject(j, "batch_size", o->batch_size);
    cJSON_AddNumberToObject(j, "eval_batch_size", o->eval_batch_size);
    cJSON_AddNumberToObject(j, "gradient_accumulation_steps", o->grad_accum);
    cJSON_AddNumberToObject(j, "ranks", t->nranks);
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
    cJSON_AddStringToObject(j, "metric_for_best_model", bertc_train_metric_key(o->metric) + 5);
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

int bertc_train_write_json(const char *dir, const char *name, cJSON *j, bertc_err *err) {
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
int bertc_trainer_repoint_vocab(trainer *t, bertc_err *err) {
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

/* Opens OUT/log.jsonl: empty for a fresh run, cut back to the checkpoint's
 * length on resume (lines logged after it are logged again). */
int bertc_trainer_open_out(trainer *t, bertc_err *err) {
    const bertc_train_opts *o = t->o;
    if (mkdir_p(o->out, err)) return err->code;
    if (bertc_train_lock_out(o->out, 1, &t->lockfd, err)) return err->code;
    if (!t->resumed && o->overwrite && bertc_train_clear_previous(o->out, err)) return err->code;
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
