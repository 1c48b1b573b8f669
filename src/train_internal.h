/* train_internal.h: private to the trainer's files. train.c runs the loop
 * (setup and run); the rest is split by job:
 *   train_opts.c        option checks; a resume's settings against its checkpoint's
 *   train_data.c        encoded sets, batches (fill_batch), the batch order
 *   train_log.c         events for the callbacks, log.jsonl
 *   train_checkpoint.c  checkpoints, settings (training_args.json), the output
 *                       folder: lock, previous run, log.jsonl's opening
 * The tasks' services stay declared in train_task.h. */
#ifndef BERTC_TRAIN_INTERNAL_H
#define BERTC_TRAIN_INTERNAL_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "train.h"
#include "train_task.h"

/* train_opts.c */
int bertc_trainer_check_resume(const trainer *t, bertc_err *err);

/* train_data.c */
void bertc_trainer_make_perm(trainer *t, long ep);

/* train_log.c */
double bertc_train_now(void);
void bertc_trainer_emit(trainer *t, bertc_train_event *e);
const char *bertc_train_metric_key(int metric);
void bertc_train_jnum(char *buf, size_t cap, size_t *at, const char *key, double v);
int bertc_trainer_log_write(trainer *t, const char *line, size_t len, bertc_err *err);

/* train_checkpoint.c */
int bertc_trainer_save_checkpoint(trainer *t, long step, bertc_err *err);
int bertc_train_previous_run(const char *out, char *what, size_t cap);
int bertc_train_clear_previous(const char *out, bertc_err *err);
int bertc_train_lock_out(const char *out, int create, int *fd, bertc_err *err);
cJSON *bertc_trainer_settings_json(const trainer *t);
int bertc_train_write_json(const char *dir, const char *name, cJSON *j, bertc_err *err);
int bertc_trainer_repoint_vocab(trainer *t, bertc_err *err);
int bertc_trainer_open_out(trainer *t, bertc_err *err);

static inline double epoch_of(const trainer *t, long step) {
    return (double)step / (double)t->steps_per_epoch;
}

#endif
