/* cmd_data.c: `bertc data`: what a data set holds, as the notebook's first cells
 * show it: examples per label, sample texts, lengths in tokens. Also the data
 * loading that eval and attention share (cli_load_data). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../src/chart.h"
#include "../src/evaluate.h"
#include "commands.h"
#include "flags.h"

static void load_data(bertc_dataset *ds, const cli_flag *fl, long *n_before, int multi_label,
                      const char *label_separator) {
    const char *spec = cli_str(fl, "data");
    if (!spec || !*spec) cli_die(2, "--data is required (PATH[:train|test], see docs/data.md)");
    bertc_data_opts o;
    bertc_data_opts_default(&o);
    const char *fmt = cli_str(fl, "format");
    if (fmt && strcmp(fmt, "auto") != 0) o.format = fmt;
    o.text_column = cli_str(fl, "text-column");
    o.label_column = cli_str(fl, "label-column");
    o.text_pair_column = cli_str(fl, "text-pair-column");
    o.multi_label = multi_label;
    o.label_separator = label_separator;
    long limit = cli_int(fl, "limit", 0, 0x7fffffffL);
    long seed = cli_int(fl, "seed", 0, 0x7fffffffL);
    bertc_err err = {0};
    if (bertc_data_load(ds, spec, "test", &o, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
    if (n_before) *n_before = ds->n;
    if (limit > 0) {
        if (bertc_data_shuffle_limit(ds, (uint64_t)seed, limit, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
    }
}

void cli_load_data(bertc_dataset *ds, const cli_flag *fl, long *n_before) { load_data(ds, fl, n_before, 0, NULL); }

void cli_load_data_multilabel(bertc_dataset *ds, const cli_flag *fl, long *n_before, const char *label_separator) {
    load_data(ds, fl, n_before, 1, label_separator);
}

void cli_mkdir(const char *dir) {
    if (bertc_is_dir(dir)) return;
    if (mkdir(dir, 0755) != 0) cli_die(1, "%s: cannot create the directory", dir);
}

/* Byte length of the first n code points of s (Python's s[:n]). */
size_t cli_utf8_prefix(const char *s, size_t len, size_t n) {
    size_t i = 0, cps = 0;
    while (i < len && cps < n) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : c >> 5 == 6 ? 2 : c >> 4 == 14 ? 3 : c >> 3 == 30 ? 4 : 1;
        i += k;
        cps++;
    }
    return i < len ? i : len;
}

int cmd_data(int argc, char **argv) {
    cli_flag fl[] = {
        {"data", NULL, "data set: PATH[:train|test] (aclImdb folder or .tar.gz, .csv, .tsv, .jsonl, fastText .txt)", 0, 0, 0},
        CLI_DATA_FLAGS,
        {"model", "all-MiniLM-L6-v2", "model folder or cached name whose tokenizer counts the tokens", 0, 0, 0},
        {"max-length", "128", "the max length the truncated share refers to (the notebook's 128)", 0, 0, 0},
        {"samples", "3", "sample texts to print (first N, cut to 100 characters) and keep in data.json", 0, 0, 0},
        {"out", NULL, "run directory: writes RUN_DIR/data.json (created if needed)", 0, 0, 0},
        {"plots", NULL, "also draw label_distribution.png and token_lengths.png into this directory", 0, 0, 0},
        {"json", NULL, "print data.json to stdout instead of the text summary", CLI_BOOL, 0, 0},
        {NULL, NULL, NULL, 0, 0, 0},
    };
    free(cli_parse_or_exit("data", "", NULL, fl, argc, argv, NULL));
    int max_length = (int)cli_int(fl, "max-length", 2, 1 << 20);
    int nsamples = (int)cli_int(fl, "samples", 0, 1000);
    const char *out = cli_str(fl, "out"), *plots = cli_str(fl, "plots");
    bertc_dataset ds = {0};
    long n_before = 0;
    cli_load_data(&ds, fl, &n_before);
    bert_tokenizer *tok = cli_load_tokenizer(cli_str(fl, "model"));
    bertc_err err = {0};
    bertc_data_summary s;
    if (bertc_data_summarize(&ds, tok, max_length, &s, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
    cJSON *j = bertc_data_json(&s, &ds, nsamples);
    if (!j) cli_die(1, "out of memory");
    cJSON_AddStringToObject(j, "data", cli_str(fl, "data"));
    cJSON_AddStringToObject(j, "model", cli_str(fl, "model"));
    if (cli_int(fl, "limit", 0, 0x7fffffffL) > 0) {
        cJSON_AddNumberToObject(j, "limit", (double)cli_int(fl, "limit", 0, 0x7fffffffL));
        cJSON_AddNumberToObject(j, "seed", (double)cli_int(fl, "seed", 0, 0x7fffffffL));
        cJSON_AddNumberToObject(j, "n_before_limit", (double)n_before);
    }
    if (out) {
        cli_mkdir(out);
        char path[4096];
        if (bertc_path_join(path, sizeof path, out, "data.json")) cli_die(2, "--out: path too long");
        if (bertc_json_write(path, j, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
    }
    if (plots) {
        cli_mkdir(plots);
        char path[4096];
        double *counts = malloc((size_t)s.num_labels * sizeof *counts);
        if (!counts) cli_die(1, "out of memory");
        for (int k = 0; k < s.num_labels; k++) counts[k] = (double)s.counts[k];
        bertc_chart_frame f = {"Label distribution", "Label", "Count", 0, 0};
        if (bertc_path_join(path, sizeof path, plots, "label_distribution.png") ||
            bertc_chart_bar(path, &f, (const char *const *)ds.labels, counts, (size_t)s.num_labels, &err))
            cli_die(1, "%s", err.code ? err.msg : "--plots: path too long");
        free(counts);
        char marker[64];
        snprintf(marker, sizeof marker, "max_length %d", max_length);
        bertc_chart_frame h = {"Tokens per example", "Tokens (with [CLS] and [SEP])", "Examples", 0, 0};
        if (bertc_path_join(path, sizeof path, plots, "token_lengths.png") ||
            bertc_chart_histogram(path, &h, s.edges, s.bins, (size_t)s.nbins, max_length, marker, &err))
            cli_die(1, "%s", err.code ? err.msg : "--plots: path too long");
        bertc_chart_shutdown();
    }
    if (cli_bool(fl, "json")) {
        char *txt = cJSON_Print(j);
        if (txt) puts(txt);
        free(txt);
    } else {
        printf("data      %s (%s): %ld examples", cli_str(fl, "data"), ds.format, s.n);
        if (s.n != n_before) printf(" (the first %ld of %ld after a shuffle with seed %ld)", s.n, n_before,
                                    cli_int(fl, "seed", 0, 0x7fffffffL));
        printf("\n\n%-20s %8s %7s\n", "label", "count", "share");
        for (int k = 0; k < s.num_labels; k++)
            printf("%-20s %8ld %6.1f%%\n", ds.labels[k], s.counts[k], 100.0 * s.counts[k] / s.n);
        if (nsamples > 0) printf("\nSample Reviews:\n");
        for (int i = 0; i < nsamples && i < ds.n; i++) {
            const bertc_example *ex = &ds.ex[i];
            size_t cut = cli_utf8_prefix(ex->text, ex->len, 100);
            printf("Review %d: %.*s... (Label: %s)\n", i + 1, (int)cut, ex->text, ds.labels[ex->label]);
        }
        printf("\ntokens per example ([CLS] and [SEP] included, before truncation; %s tokenizer):\n",
               cli_str(fl, "model"));
        printf("  mean %.1f  p50 %g  p90 %g  p99 %g  min %d  max %d\n", s.mean, s.p50, s.p90, s.p99, s.min_len,
               s.max_len);
        printf("  longer than max length %d: %.1f%% (%ld of %ld are truncated)\n", max_length,
               100.0 * s.truncated_share, (long)(s.truncated_share * s.n + 0.5), s.n);
        if (out) printf("\nwrote %s/data.json\n", out);
        if (plots) printf("wrote %s/label_distribution.png, %s/token_lengths.png\n", plots, plots);
    }
    cJSON_Delete(j);
    bertc_data_summary_free(&s);
    bert_tokenizer_free(tok);
    bertc_data_free(&ds);
    return 0;
}
