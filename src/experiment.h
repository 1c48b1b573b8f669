/* experiment.h: the bookkeeping of experiments over several training runs:
 * repeated seeds (`bertc train --seeds`) and their mean and standard deviation,
 * and the trial records of a sweep (`bertc sweep`, cli/cmd_sweep.c).
 *
 * What it does: parses seed lists; reads the final metrics of finished runs
 * (every number at the top of RUN/run.json: eval_accuracy, eval_loss, eval_f1,
 * best_metric, wall_seconds, ...) and aggregates them: mean, and the SAMPLE
 * standard deviation (ddof = 1, as pandas' std and R's sd; numpy's default is
 * ddof = 0) computed in two passes in double; null when there is one run.
 * What it does not: train (the caller runs bertc_train for each run), print, exit.
 *
 * Memory: cJSON trees returned are the caller's (cJSON_Delete).
 *
 *     uint64_t *seeds; int n;
 *     if (bertc_seeds_parse("42,43,44", &seeds, &n, &err)) ...;
 *     // train OUT/seed-42, OUT/seed-43, OUT/seed-44, then
 *     cJSON *summary;
 *     if (bertc_seeds_summary(out_dir, seeds, n, &summary, &err)) ...; // also writes OUT/seeds.json
 */
#ifndef BERTC_EXPERIMENT_H
#define BERTC_EXPERIMENT_H

#include <stdint.h>
#include "common.h"

struct cJSON;

/* "42,43,44" -> 3 distinct non-negative seeds (malloc'd; the caller frees).
 * At most 1000; a repeated seed, an empty item or junk is an error naming it. */
int bertc_seeds_parse(const char *list, uint64_t **seeds, int *n, bertc_err *err);

/* The folder of one seed's run: OUT/seed-S. */
int bertc_seed_dir(char *buf, size_t cap, const char *out, uint64_t seed);

/* mean and sample standard deviation (ddof 1; NaN when n < 2) of x[0..n). */
void bertc_mean_std(const double *x, int n, double *mean, double *std);

/* Reads RUN/run.json's top-level numbers into a new cJSON object of
 * name -> number (the "settings" object and strings left out). */
int bertc_run_metrics(const char *run_dir, struct cJSON **metrics, bertc_err *err);

/* Aggregates the runs dirs[0..n) (labels[i] names run i in the output): an object
 *   {"n": N, "std_ddof": 1,
 *    "runs": [{"label": ..., "dir": ..., "metrics": {...}}, ...],
 *    "mean": {metric: mean}, "std": {metric: std or null}}
 * over the metrics every run has. */
int bertc_runs_aggregate(const char *const *dirs, const char *const *labels, int n, struct cJSON **out,
                         bertc_err *err);

/* The --seeds summary: aggregates OUT/seed-S for each seed, adds "seeds": [...],
 * and writes it to OUT/seeds.json (atomically). *summary may be NULL. */
int bertc_seeds_summary(const char *out, const uint64_t *seeds, int n, struct cJSON **summary, bertc_err *err);

#endif /* BERTC_EXPERIMENT_H */
