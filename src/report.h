/* report.h: one self-contained HTML page about a run directory.
 *
 * What it does: reads the files a run directory may hold (docs/run-dir.md:
 * run.json, data.json, log.jsonl, eval.json, predictions.jsonl, attention.json),
 * draws the notebook's charts with chart.h into RUN_DIR/report/NAME.png and writes
 * RUN_DIR/report.html with every PNG embedded as a data: URI, so the page opens
 * offline, from anywhere, with no external URL. Sections: summary, label
 * distribution and sample reviews, token lengths, training loss, evaluation
 * (loss and accuracy per evaluation), confusion matrix, classification report
 * (an HTML table), attention for a sample review, correct and wrong
 * predictions, run settings with wall time and throughput. A multi-label
 * eval.json (one with "per_label") gets a per-label F1 bar chart instead of the
 * confusion matrix, and a table of the per-label scores with the micro, macro,
 * weighted and samples averages, subset accuracy and Hamming loss; its
 * predictions (label lists) count as right when the sets are equal.
 *
 * A token-classification run (run.json's settings.task, else eval.json's task,
 * is "token-classification") gets its own page instead, chosen once: training
 * and eval loss with entity F1, precision and recall per step (log.jsonl); a
 * per-entity-type F1 bar chart beside a precision/recall table with the micro,
 * macro and weighted averages; the tag confusion matrix (gold rows, predicted
 * columns, word counts); the seqeval report text; and 10 sample sentences from
 * predictions.jsonl (those with a wrong tag first) with each entity, grouped
 * from the tags as seqeval's get_entities groups them, coloured by type on a
 * gold line and a predicted line, an entity without an exact match on the
 * other line outlined. docs/run-dir.md has the file formats.
 *
 * Missing files, or missing keys in a file, make their section say so. A file
 * that is present but unreadable or malformed (bad JSON, a key of the wrong
 * type, ragged matrices) is an error naming the file, the line and the key.
 * All text from the files is HTML-escaped. Charts of sections that have no data
 * are removed from RUN_DIR/report/ so a re-run leaves no stale picture.
 *
 * What it does not: compute metrics (eval.json carries them), print or exit.
 *
 *     bertc_err err = {0};
 *     if (bertc_report_write("runs/imdb", &err) != BERTC_OK)
 *         fprintf(stderr, "bertc: %s\n", err.msg);   // e.g. "runs/imdb/eval.json: ..."
 *     // else: runs/imdb/report.html
 */
#ifndef BERTC_REPORT_H
#define BERTC_REPORT_H

#include "common.h"

/* Writes run_dir/report.html (atomically) and run_dir/report/NAME.png.
 * Returns BERTC_OK, BERTC_ERR_NOTFOUND when run_dir is not a directory,
 * BERTC_ERR_FORMAT for a malformed input file, BERTC_ERR_IO / BERTC_ERR_NOMEM. */
int bertc_report_write(const char *run_dir, bertc_err *err);

#endif /* BERTC_REPORT_H */
