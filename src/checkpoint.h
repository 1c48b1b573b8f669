/* checkpoint.h: Trainer-like training checkpoints that are Hugging Face model
 * folders and survive a crash at any instant.
 *
 * A checkpoint OUT/checkpoint-STEP/ holds
 *   config.json, model.safetensors, vocab.txt, tokenizer_config.json, ...
 *                          the model folder (hf_model_save_into), loadable as is
 *   optimizer.safetensors  AdamW's exp_avg and exp_avg_sq, F32 (n) each in the
 *                          bert_params layout, and the step count (I64 scalar "step")
 *   trainer_state.json     global step, epoch, schedule, best metric and checkpoint,
 *                          log.jsonl position, RNG states (hex), data order position
 *   training_args.json     the run's flags, as the caller gives them
 *   COMPLETE               written last: every file's name, size and CRC-32
 * (docs/training.md describes each file.)
 *
 * Crash safety: everything is written into OUT/.checkpoint-STEP.tmp-PID-KEY, each
 * file fsync'd, COMPLETE last, the folder fsync'd, renamed to checkpoint-STEP,
 * and OUT fsync'd. Nothing is written into a checkpoint after the rename. A
 * reader trusts a checkpoint-N folder only when COMPLETE parses and every file it
 * lists has the recorded size (and, for loading/resuming, CRC-32), so a folder
 * damaged by anything else (a partial copy, a full disk) is skipped, not loaded.
 *
 * What it does not do: decide when to save or evaluate, or run training. It
 * never prints; every failure leaves a message naming the folder or file.
 *
 * Memory: bertc_ckpt_state is a plain struct (no pointers); nothing here keeps
 * memory between calls.
 *
 *     // saving, every save_steps optimizer steps:
 *     bertc_ckpt_state st; bertc_ckpt_state_init(&st);
 *     st.global_step = step; st.epoch = (double)step / steps_per_epoch; st.sched = sched;
 *     bertc_ckpt_set_rng(&st, "dropout", &dropout_rng); ...
 *     if (bertc_ckpt_save("out", &model, &opt, &st, args_json, &err) != BERTC_OK) ...
 *     bertc_ckpt_rotate("out", save_total_limit, load_best ? st.best_step : -1, &err);
 *
 *     // resuming (--resume latest or --resume out/checkpoint-300):
 *     char dir[4096];
 *     if (bertc_ckpt_resolve(dir, sizeof dir, "latest", "out", &err) != BERTC_OK) ...
 *     hf_model m = {0}; bertc_adamw opt = {0};
 *     ... bertc_adamw_init_bert(&opt, &cfg, &ao, &err) once the model's config is known ...
 *     if (bertc_ckpt_load(dir, &m, &lo, &opt, &st, &err) != BERTC_OK) ...
 *     // continue at step st.global_step with lr bertc_sched_lr(&st.sched, st.global_step)
 */
#ifndef BERTC_CHECKPOINT_H
#define BERTC_CHECKPOINT_H

#include <stdint.h>
#include "common.h"
#include "hfmodel.h"
#include "optim.h"
#include "rng.h"

#define BERTC_CKPT_MAX_RNG 4
#define BERTC_CKPT_FORMAT 1   /* the "format_version" in trainer_state.json and COMPLETE */

typedef struct bertc_ckpt_rng {
    char name[32];            /* e.g. "dropout", "data"; empty = unused slot */
    bertc_rng state;
} bertc_ckpt_rng;

/* The training loop's position: everything besides the weights and the AdamW
 * moments that an interrupted run needs to continue bit for bit. */
typedef struct bertc_ckpt_state {
    long global_step;         /* optimizer steps done (the folder's STEP) */
    double epoch;             /* epochs done, fractional (Trainer's "epoch") */
    long max_steps;           /* optimizer steps in the whole run */
    bertc_sched sched;        /* lr schedule; the next step's lr is bertc_sched_lr(&sched, global_step) */
    /* data order */
    uint64_t data_seed;       /* seed of the shuffle */
    long data_epoch;          /* 0-based epoch being read */
    long data_batch;          /* batches of data_epoch already consumed */
    /* best model (load_best_model_at_end) */
    int has_best;             /* 0: no evaluation yet; the best_* fields are unset */
    char best_metric_name[64];/* e.g. "eval_accuracy" */
    int greater_is_better;    /* 1: a higher best_metric is better */
    double best_metric;       /* the best value so far */
    long best_step;           /* global step of the best checkpoint (-1: none) */
    char best_checkpoint[1024]; /* its folder, e.g. "out/checkpoint-300" */
    /* log history lives in OUT/log.jsonl; on resume truncate it to this point */
    long log_lines;           /* lines of log.jsonl written when this was saved */
    long log_bytes;           /* its size in bytes then */
    long skipped_steps;       /* optimizer steps skipped for a non-finite gradient norm */
    int eval_pending;         /* 1: saved when the evaluation at global_step was interrupted; a
                               * resume runs that evaluation before the next step */
    int num_rng;              /* used slots of rng */
    bertc_ckpt_rng rng[BERTC_CKPT_MAX_RNG];
} bertc_ckpt_state;

/* Zeroes st, with best_step = -1 and greater_is_better = 1. */
void bertc_ckpt_state_init(bertc_ckpt_state *st);

/* Stores (or replaces) the generator state under name (1..31 characters of
 * [A-Za-z0-9_-]). BERTC_ERR_ARG for a bad name or when all slots are used. */
int bertc_ckpt_set_rng(bertc_ckpt_state *st, const char *name, const bertc_rng *r, bertc_err *err);
/* Copies the state stored under name into *r. BERTC_ERR_NOTFOUND when absent. */
int bertc_ckpt_get_rng(const bertc_ckpt_state *st, const char *name, bertc_rng *r, bertc_err *err);

/* Saves OUT/checkpoint-<st->global_step> by the protocol above. args_json is
 * the run's flags as one JSON object (written as training_args.json; NULL writes
 * "{}"). Refuses (BERTC_ERR_NUMERIC, nothing written) when the model's
 * parameters or the moments hold a NaN or infinity, naming the tensor and index.
 * An existing checkpoint of the same step is replaced (moved aside, then
 * removed once the new one is in place). On failure the temporary folder is
 * removed and OUT is left as it was. opt may be NULL (no optimizer.safetensors:
 * such a checkpoint can be evaluated but not resumed). */
int bertc_ckpt_save(const char *out_dir, const hf_model *model, const bertc_adamw *opt,
                    const bertc_ckpt_state *st, const char *args_json, bertc_err *err);

/* Checks dir is a complete checkpoint: COMPLETE parses and every file listed has
 * its size and, when full is 1, its CRC-32. BERTC_ERR_FORMAT names the first
 * problem. */
int bertc_ckpt_verify(const char *dir, int full, bertc_err *err);

/* Steps of the checkpoint-N folders in out_dir, ascending, into steps (capacity
 * cap; *n gets the total found, which may exceed cap). complete_only: skip the
 * ones bertc_ckpt_verify(dir, 0) rejects. Temporary folders are never listed. */
int bertc_ckpt_list(const char *out_dir, int complete_only, long *steps, int cap, int *n,
                    bertc_err *err);

/* The newest complete checkpoint in out_dir (fully verified, CRCs included;
 * newer damaged ones are skipped): its folder into path (capacity cap) and its
 * step into *step (if not NULL). BERTC_ERR_NOTFOUND when there is none. */
int bertc_ckpt_find_latest(const char *out_dir, char *path, size_t cap, long *step, bertc_err *err);

/* Resolves a --resume value: "latest" is bertc_ckpt_find_latest(out_dir);
 * anything else is a checkpoint folder that must verify fully (an incomplete one
 * is an error naming it and the newest complete one, if any). */
int bertc_ckpt_resolve(char *path, size_t cap, const char *spec, const char *out_dir, bertc_err *err);

/* Loads a verified checkpoint folder: the model through hf_model_load(model,
 * dir, opts) (model may be NULL to skip it; opts NULL for defaults), the AdamW
 * moments and step into opt (NULL to skip; it must be initialised for the same
 * number of parameters), and trainer_state.json into st (NULL to skip). */
int bertc_ckpt_load(const char *dir, hf_model *model, const hf_load_opts *opts, bertc_adamw *opt,
                    bertc_ckpt_state *st, bertc_err *err);

/* Reads trainer_state.json of a checkpoint folder into st (no verification). */
int bertc_ckpt_read_state(const char *dir, bertc_ckpt_state *st, bertc_err *err);

/* save_total_limit as transformers' rotate_checkpoints applies it: the newest
 * complete checkpoint (to resume from) and best_step (when >= 0, i.e.
 * load_best_model_at_end) are protected; the oldest other complete checkpoints
 * are deleted until max(keep, number protected) remain. keep <= 0 keeps all.
 * Incomplete folders are neither counted nor deleted. *deleted (if not NULL)
 * gets the number removed. */
int bertc_ckpt_rotate(const char *out_dir, int keep, long best_step, int *deleted, bertc_err *err);

/* Removes leftovers of interrupted saves in out_dir (.checkpoint-*.tmp-PID-KEY
 * and .checkpoint-*.old-PID-KEY folders). A PID is trusted only with our own KEY
 * (bertc_ckpt_host_key: same host, boot and PID namespace): such a folder is
 * removed when PID is no longer running. A folder with another KEY, or none (an
 * older bertc), was written where its PID means nothing (another machine on a
 * shared disk, another container): it is removed only when untouched for
 * BERTC_CKPT_FOREIGN_TEMP_AGE seconds (a day; a save takes minutes at most). */
#define BERTC_CKPT_FOREIGN_TEMP_AGE (24 * 3600)
int bertc_ckpt_clean_temp(const char *out_dir, int *removed, bertc_err *err);

/* Writes into out (cap >= 17) 16 hex digits that identify where PIDs mean the
 * same process: a hash of the host name, the kernel's boot id and the PID
 * namespace. Returns 0, or -1 if cap is too small. */
int bertc_ckpt_host_key(char *out, size_t cap);

/* The final model: refuses non-finite parameters, then hf_model_save(model,
 * OUT/model) (atomic). */
int bertc_ckpt_save_final(const char *out_dir, const hf_model *model, bertc_err *err);

#endif /* BERTC_CHECKPOINT_H */
