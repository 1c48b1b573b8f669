/* cmd_report.c: `bertc report RUN_DIR`: report.html and its charts from a run
 * folder (src/report.h does the work); `bertc report SWEEP_OR_SEEDS_DIR` or
 * `bertc report DIR DIR ... --output FILE`: the runs side by side
 * (src/report_compare.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/chart.h"
#include "../src/report.h"
#include "../src/report_compare.h"
#include "commands.h"
#include "flags.h"

int cmd_report(int argc, char **argv) {
    cli_flag fl[] = {
        {"output", NULL, "comparison page (default: DIR/compare.html for one sweep or seeds folder; required for several folders)", 0, 0, 0},
        {"metric", "accuracy", "comparison: the metric plotted against each setting: accuracy|f1|loss", 0, 0, 0},
        {NULL, NULL, NULL, 0, 0, 0},
    };
    int npos = 0;
    char **pos = cli_parse_or_exit(
        "report", " RUN_DIR | SWEEP_DIR | SEEDS_DIR | DIR DIR... --output FILE",
        "One run folder: reads RUN_DIR/{run.json,data.json,log.jsonl,eval.json,predictions.jsonl,attention.json}\n"
        "(docs/run-dir.md; each optional) and writes RUN_DIR/report.html with the charts\n"
        "embedded, plus RUN_DIR/report/*.png.\n"
        "A sweep folder (bertc sweep), a seeds folder (bertc train --seeds) or several folders: one page\n"
        "comparing the runs (sortable table, metric against each setting, overlaid curves, mean +- std\n"
        "bands for seed repeats; docs/experiments.md).\n",
        fl, argc, argv, &npos);
    if (npos < 1) cli_die(2, "expected a RUN_DIR (bertc report RUN_DIR)");
    static const char *const metrics[] = {"eval_accuracy", "eval_f1", "eval_loss"};
    const char *metric = metrics[cli_choice(fl, "metric", "accuracy|f1|loss")];
    bertc_err err = {0};
    if (npos == 1 && !bertc_report_is_group(pos[0])) {
        if (cli_given(fl, "output") || cli_given(fl, "metric"))
            cli_die(2, "--output/--metric: for comparisons (a sweep or seeds folder, or several folders)");
        const char *dir = pos[0];
        free(pos);
        int rc = bertc_report_write(dir, &err);
        bertc_chart_shutdown();
        if (rc != BERTC_OK) cli_die(1, "%s", err.msg);
        size_t n = strlen(dir);
        printf("report: %s%sreport.html\n", dir, n > 0 && dir[n - 1] == '/' ? "" : "/");
        return 0;
    }
    char def[4200];
    const char *out = cli_str(fl, "output");
    if (!out) {
        if (npos > 1) cli_die(2, "--output: required when comparing several folders");
        snprintf(def, sizeof def, "%s/compare.html", pos[0]);
        out = def;
    }
    int rc = bertc_report_compare((const char *const *)pos, npos, out, metric, &err);
    free(pos);
    if (rc != BERTC_OK) cli_die(1, "%s", err.msg);
    printf("report: %s\n", out);
    return 0;
}
