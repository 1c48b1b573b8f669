/* train_log.c: events for the callbacks and log.jsonl (split out of train.c; see train_internal.h). */
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

double bertc_train_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void bertc_trainer_emit(trainer *t, bertc_train_event *e) {
    if (!t->cb || !t->cb->on_event || t->rank != 0) return; /* rank 0 speaks for the job */
    e->total_steps = t->total;
    e->elapsed = bertc_train_now() - t->t0;
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
    e.epoch = t->steps_per_epoch > 0 ? (double)t->st.global_step / (double)t->steps_per_epoch : 0;
    e.msg = buf;
    bertc_trainer_emit(t, &e);
}

const char *bertc_train_metric_key(int metric) {
    return metric == BERTC_METRIC_ACCURACY ? "eval_accuracy" : metric == BERTC_METRIC_F1 ? "eval_f1" : "eval_loss";
}

/* ---- log.jsonl ---- */

void bertc_train_jnum(char *buf, size_t cap, size_t *at, const char *key, double v) {
    if (*at >= cap) return;
    int w = isfinite(v) ? snprintf(buf + *at, cap - *at, ", \"%s\": %.10g", key, v)
                        : snprintf(buf + *at, cap - *at, ", \"%s\": null", key);
    if (w > 0) *at += (size_t)w;
}

int bertc_trainer_log_write(trainer *t, const char *line, size_t len, bertc_err *err) {
    if (t->rank != 0) return BERTC_OK; /* rank 0 alone writes OUT */
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
