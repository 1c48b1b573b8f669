/* report_compare.h: one self-contained HTML page comparing training runs side
 * by side: a sweep folder (bertc sweep: sweep.json, trials.jsonl, trial-N/), a
 * seeds folder (bertc train --seeds: seeds.json, seed-S/), or several run
 * folders (each of which may itself be a seeds folder).
 *
 * Sections: a table of the runs (status, the settings that differ, the last
 * evaluation's accuracy/F1/loss, steps, wall time), sortable by any column in
 * the browser (a few lines of inline script; the rows are in the HTML
 * already); the chosen metric against each setting that varies; training
 * loss, evaluation accuracy and evaluation loss of every run overlaid; and for
 * each group of seed repeats the mean +- sample standard deviation (ddof 1) of
 * the evaluation curves as a band, at the epochs every seed has.
 * Charts are inline SVG: the page has no image file and no external URL.
 * Inputs are run.json (optional), log.jsonl and, for sweeps, sweep.json and
 * trials.jsonl (a torn last line ignored). All text is HTML-escaped.
 * What it does not: compute metrics beyond means and deviations, print, exit.
 *
 *     const char *dirs[] = {"runs/sweep"};
 *     if (bertc_report_compare(dirs, 1, "runs/sweep/compare.html", "eval_accuracy", &err)) ...;
 */
#ifndef BERTC_REPORT_COMPARE_H
#define BERTC_REPORT_COMPARE_H

#include "common.h"

/* 1 when dir is a sweep folder (sweep.json) or a seeds folder (seeds.json). */
int bertc_report_is_group(const char *dir);

/* Writes the page for dirs[0..n) to out_html (atomically). metric is the log
 * key plotted against the settings ("eval_accuracy", "eval_f1" or "eval_loss").
 * A folder without log.jsonl (and not a sweep or seeds folder) is an error
 * naming it. */
int bertc_report_compare(const char *const *dirs, int n, const char *out_html, const char *metric, bertc_err *err);

#endif /* BERTC_REPORT_COMPARE_H */
