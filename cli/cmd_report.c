/* cmd_report.c: `bertc report RUN_DIR`: report.html and its charts from a run
 * folder (src/report.h does the work). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/chart.h"
#include "../src/report.h"
#include "commands.h"
#include "flags.h"

int cmd_report(int argc, char **argv) {
    cli_flag fl[] = {
        {NULL, NULL, NULL, 0, 0, 0},
    };
    int npos = 0;
    char **pos = cli_parse_or_exit(
        "report", " RUN_DIR",
        "Reads RUN_DIR/{run.json,data.json,log.jsonl,eval.json,predictions.jsonl,attention.json}\n"
        "(docs/run-dir.md; each optional) and writes RUN_DIR/report.html with the charts\n"
        "embedded, plus RUN_DIR/report/*.png.\n",
        fl, argc, argv, &npos);
    if (npos != 1) cli_die(2, "expected one RUN_DIR (bertc report RUN_DIR)");
    const char *dir = pos[0];
    free(pos);
    bertc_err err = {0};
    int rc = bertc_report_write(dir, &err);
    bertc_chart_shutdown();
    if (rc != BERTC_OK) cli_die(1, "%s", err.msg);
    size_t n = strlen(dir);
    printf("report: %s%sreport.html\n", dir, n > 0 && dir[n - 1] == '/' ? "" : "/");
    return 0;
}
