/* sweep.h: the pieces of a hyperparameter search (`bertc sweep`,
 * cli/cmd_sweep.c runs the trials): the search space, the trials it gives
 * (grid, seeded random), a trial's score read from its log, successive
 * halving's ranking, and the trials.jsonl record of finished trials.
 *
 * Space: up to BERTC_SWEEP_MAX_PARAMS training flags, each with a list of
 * values (given as text, passed to `bertc train --FLAG VALUE`), or for random
 * search a range {"min", "max", "log"} of numbers.
 * What it does not: train, spawn processes, print or exit.
 *
 *     bertc_space sp = {0};
 *     bertc_space_add_list(&sp, "lr", "1e-5,3e-5,5e-5", &err);
 *     bertc_space_add_list(&sp, "batch-size", "8,16", &err);
 *     bertc_trial *tr; int n;
 *     bertc_sweep_trials(&sp, BERTC_SEARCH_GRID, 0, 42, &tr, &n, &err); // 6 trials
 *     ...
 *     bertc_trials_free(tr, n); bertc_space_free(&sp);
 */
#ifndef BERTC_SWEEP_H
#define BERTC_SWEEP_H

#include <stdint.h>
#include "common.h"

#define BERTC_SWEEP_MAX_PARAMS 16
#define BERTC_SWEEP_MAX_VALUES 256

enum { BERTC_SEARCH_GRID = 0, BERTC_SEARCH_RANDOM = 1, BERTC_SEARCH_HALVING = 2 };

typedef struct bertc_param {
    char flag[32];       /* the train flag without "--": "lr", "batch-size", ... */
    char **values;       /* (nvalues) values as text; NULL with a range */
    int nvalues;
    int is_range;        /* 1: sample in [lo, hi] (random search only) */
    double lo, hi;       /* the range */
    int log;             /* 1: log-uniform */
    int integer;         /* 1: round to an integer */
} bertc_param;

typedef struct bertc_space {
    bertc_param p[BERTC_SWEEP_MAX_PARAMS];
    int n;
} bertc_space;

/* The flags a space may hold (the list): lr, batch-size, epochs,
 * warmup-ratio, warmup-steps, weight-decay, max-length, truncation, model,
 * precision, gradient-accumulation-steps, lr-scheduler. 1 when flag is one. */
int bertc_sweep_flag_ok(const char *flag);

/* Adds flag with the comma-separated values list (each non-empty). */
int bertc_space_add_list(bertc_space *sp, const char *flag, const char *list, bertc_err *err);

/* Reads a JSON object file: {"lr": [1e-5, 3e-5] | {"min": 1e-5, "max": 1e-4, "log": true},
 * "batch_size": [8, 16], ...} (keys with '_' or '-'); numbers are written back as
 * the shortest text that reads back the same. */
int bertc_space_load(bertc_space *sp, const char *path, bertc_err *err);

void bertc_space_free(bertc_space *sp);

/* One trial: a value for each parameter of the space, in the space's order. */
typedef struct bertc_trial {
    char *values[BERTC_SWEEP_MAX_PARAMS]; /* malloc'd text */
} bertc_trial;

/* The trials of a search:
 *  grid: the Cartesian product, the first parameter varying slowest; max_trials
 *        > 0 keeps the first max_trials;
 *  random: max_trials draws (10 when 0) seeded by seed, each value uniform over
 *        its list or its range (log-uniform when log), a draw equal to an
 *        earlier trial redrawn (up to 100 times);
 *  halving: the grid when max_trials is 0 or at least the grid's size, else
 *        max_trials random draws.
 * Ranges need random (or halving with max_trials). */
int bertc_sweep_trials(const bertc_space *sp, int search, int max_trials, uint64_t seed, bertc_trial **out, int *n,
                       bertc_err *err);
void bertc_trials_free(bertc_trial *t, int n);

/* The value of metric ("eval_accuracy", "eval_f1", "eval_loss") in the last
 * evaluation record of RUN/log.jsonl whose epoch is epoch (a whole number); or,
 * with epoch <= 0, of the last evaluation. BERTC_ERR_NOTFOUND when there is none. */
int bertc_sweep_score(const char *run_dir, const char *metric, double epoch, double *score, bertc_err *err);

/* Order of n scores, best first (higher is better unless lower_better), ties
 * to the lower index: order[0..n). */
void bertc_sweep_rank(const double *scores, int n, int lower_better, int *order);

/* Appends one line (NUL-terminated, without the newline) to path and fsyncs it. */
int bertc_append_line(const char *path, const char *line, bertc_err *err);

/* Copies the regular files of folder src into a fresh folder dst (dst.partial,
 * fsync'd, then renamed over a previous dst). */
int bertc_copy_folder(const char *src, const char *dst, bertc_err *err);

#endif /* BERTC_SWEEP_H */
