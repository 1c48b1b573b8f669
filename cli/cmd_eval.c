/* cmd_eval.c: `bertc eval`: a trained classifier scored on a labelled data set,
 * as the notebook's evaluation cell: accuracy, classification report, confusion
 * matrix and eval loss (multi-label models: per-label scores, their averages,
 * Hamming loss, subset accuracy and BCE); eval.json and predictions.jsonl for
 * the report. The work is src/evaluate.h's; this file reads flags and prints. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../src/evaluate.h"
#include "../src/longtext.h"
#include "../src/ops_bf16.h"
#include "commands.h"
#include "flags.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct progress {
    double t0, last;
} progress;

static void on_progress(void *ctx, long done, long total) {
    progress *p = ctx;
    double t = now_s();
    if (done < total && t - p->last < 1.0) return;
    p->last = t;
    double rate = done / (t - p->t0 > 1e-9 ? t - p->t0 : 1e-9);
    fprintf(stderr, "\reval %ld/%ld  %.1f examples/s  ETA %.0fs   ", done, total, rate, (total - done) / rate);
    if (done == total) fputc('\n', stderr);
}

/* SIGINT/SIGTERM: the eval loop stops before its next batch and removes its
 * temporary predictions file; the exit status is 128 + the signal. */
static volatile sig_atomic_t eval_stop;
static void on_stop_signal(int sig) { eval_stop = sig; }

/* The text summary of a single-label run: accuracy, loss, report, confusion matrix. */
static void print_single(const bertc_metrics *m, const cJSON *j, const char *const *names, int NL) {
    printf("Test Accuracy: %.4f\n", bertc_metrics_accuracy(m));
    printf("Eval Loss:     %.4f\n\n", bertc_metrics_loss(m));
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(j, "report_text");
    printf("Classification Report:\n%s\n", rt ? rt->valuestring : "");
    int w = 6;
    for (int k = 0; k < NL; k++) {
        int l = (int)strlen(names[k]);
        if (l > w) w = l;
    }
    printf("Confusion Matrix (rows: true, columns: predicted):\n%*s", w, "");
    for (int k = 0; k < NL; k++) printf("  %*s", w, names[k]);
    putchar('\n');
    for (int t = 0; t < NL; t++) {
        printf("%-*s", w, names[t]);
        for (int p = 0; p < NL; p++) printf("  %*lld", w, (long long)m->cm[(size_t)t * NL + p]);
        putchar('\n');
    }
}

/* The text summary of a multi-label run: subset accuracy, Hamming loss, BCE and
 * the multilabel-indicator classification report (no confusion matrix: each
 * label is its own yes/no decision). */
static void print_multi(const bertc_mlmetrics *m, const cJSON *j, double threshold) {
    printf("Subset Accuracy: %.4f\n", bertc_mlmetrics_subset_accuracy(m));
    printf("Hamming Loss:    %.4f\n", bertc_mlmetrics_hamming(m));
    printf("Eval Loss:       %.4f (binary cross-entropy)\n", bertc_mlmetrics_loss(m));
    printf("Threshold:       %g\n\n", threshold);
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(j, "report_text");
    printf("Classification Report:\n%s", rt ? rt->valuestring : "");
}

int cmd_eval(int argc, char **argv) {
    cli_flag fl[] = {
        CLI_TASK_FLAG,
        {"model", "all-MiniLM-L6-v2", "fine-tuned model folder (or cached name) with a classifier", 0, 0, 0},
        {"data", NULL, "labelled data: PATH[:train|test] (default split test)", 0, 0, 0},
        CLI_DATA_FLAGS,
        {"label-separator", NULL, "multi-label model, CSV/TSV data: separator inside the label field (e.g. ',')", 0, 0, 0},
        {"batch-size", "32", "sequences per forward pass", 0, 0, 0},
        {"max-length", "0", "tokens per sequence incl. specials (0 = the model's maximum)", 0, 0, 0},
        {"truncation", "head", "head|tail|head+tail", 0, 0, 0},
        {"pad-to-max-length", NULL, "pad every batch to --max-length (same numbers, slower)", CLI_BOOL, 0, 0},
        CLI_LONG_TEXT_FLAGS,
        {"threshold", "0.5", "multi-label model: a label is predicted when its sigmoid probability is >= this", 0, 0, 0},
        {"digits", "2", "decimals in the classification report text (scikit-learn's default 2)", 0, 0, 0},
        {"output", NULL, "write the metrics as JSON (eval.json format) to this file", 0, 0, 0},
        {"predictions", NULL, "write one JSON line per example (text, label, pred, score, probs; multi-label: lists)", 0, 0, 0},
        {"run-dir", NULL, "run directory: writes RUN_DIR/eval.json and RUN_DIR/predictions.jsonl", 0, 0, 0},
        {"json", NULL, "print the eval.json object instead of the text summary", CLI_BOOL, 0, 0},
        {"threads", "0", "CPU threads (0 = all cores)", 0, 0, 0},
        CLI_PRECISION_FLAG,
        {"quiet", NULL, "no progress line on stderr", CLI_BOOL, 0, 0},
        {NULL, NULL, NULL, 0, 0, 0},
    };
    free(cli_parse_or_exit("eval", "", NULL, fl, argc, argv, NULL));
    int batch = (int)cli_int(fl, "batch-size", 1, 4096);
    int max_length = (int)cli_int(fl, "max-length", 0, 1 << 20);
    if (max_length == 1) cli_die(2, "--max-length: must be 0 (the model's maximum) or at least 2");
    int digits = (int)cli_int(fl, "digits", 0, 15);
    double threshold = cli_float(fl, "threshold", 0, 1);
    const char *sep = cli_str(fl, "label-separator");
    if (sep && !*sep) cli_die(2, "--label-separator: must not be empty");
    int pad = cli_bool(fl, "pad-to-max-length");
    cli_long_text lt;
    cli_long_text_read(&lt, fl, cli_given(fl, "text-pair-column"), "--text-pair-column", pad);
    cli_set_threads(cli_int(fl, "threads", 0, 1024));
    const char *model = cli_str(fl, "model");
    const char *out_json, *out_pred, *run_dir = cli_str(fl, "run-dir");
    char run_json[4096], run_pred[4096];
    cli_eval_outputs(fl, &out_json, &out_pred, run_json, run_pred, sizeof run_json);
    if (!cli_str(fl, "data") || !*cli_str(fl, "data"))
        cli_die(2, "--data is required (PATH[:train|test], see docs/data.md)");

    /* The model first: whether it is multi-label decides how the data is read. */
    bertc_classifier_opts o;
    bertc_classifier_opts_default(&o);
    o.precision = cli_precision(fl);
    o.batch_size = batch;
    o.max_length = max_length;
    o.trunc = cli_truncation(lt.trunc);
    o.pad_to_max = pad;
    bertc_err err = {0};
    bertc_classifier *c = NULL;
    double t_load = now_s();
    if (bertc_classifier_open(&c, model, &o, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
    if (c->hf.new_head)
        cli_die(1,
                "%s has no trained classifier (no classifier weights in model.safetensors): its predictions would "
                "come from a random head; fine-tune it first (bertc train) and evaluate OUT/model",
                c->hf.dir);
    int ml = bertc_classifier_multi_label(c);
    if (!ml && cli_given(fl, "threshold"))
        cli_die(2, "--threshold: %s is a single-label model (its prediction is the most probable label)", c->hf.dir);
    if (!ml && sep)
        cli_die(2, "--label-separator: %s is a single-label model (the separator splits multi-label CSV/TSV labels)",
                c->hf.dir);
    cli_long_text_stride(&lt, c->opts.max_length);
    double load_s = now_s() - t_load;

    bertc_dataset ds = {0};
    long n_before = 0;
    if (ml) cli_load_data_multilabel(&ds, fl, &n_before, sep);
    else cli_load_data(&ds, fl, &n_before);
    int by_position = 0;
    if (bertc_eval_map_labels(&ds, c, &by_position, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
    int NL = bertc_classifier_num_labels(c);
    /* Names in outputs: the model's, or the data's when matched by position. */
    const char *const *names = by_position ? (const char *const *)ds.labels : (const char *const *)c->hf.cfg.id2label;
    if (by_position) {
        fprintf(stderr, "bertc eval: note: %s has unnamed labels; matched the data's by position:", c->hf.dir);
        for (int k = 0; k < NL; k++) fprintf(stderr, "%s %s = LABEL_%d", k ? "," : "", ds.labels[k], k);
        fputc('\n', stderr);
    }
    if (run_dir) cli_mkdir(run_dir);

    bertc_metrics m = {0};
    bertc_mlmetrics mm = {0};
    if ((ml ? bertc_mlmetrics_init(&mm, NL, &err) : bertc_metrics_init(&m, NL, &err)) != BERTC_OK)
        cli_die(1, "%s", err.msg);
    progress pr = {now_s(), 0};
    bertc_eval_opts eo;
    bertc_eval_opts_default(&eo);
    eo.predictions_path = out_pred;
    eo.names = names;
    eo.ctx = &pr;
    eo.stop = &eval_stop;
    eo.chunks = lt.chunks;
    eo.stride = (int)lt.stride;
    eo.pool = lt.pool;
    eo.threshold = threshold;
    if (!cli_bool(fl, "quiet") && isatty(2)) eo.progress = on_progress;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int rc = ml ? bertc_eval_run_multilabel(c, &ds, &eo, &mm, &err) : bertc_eval_run(c, &ds, &eo, &m, &err);
    if (rc == BERTC_ERR_INTERRUPTED) cli_die(128 + (int)eval_stop, "%s", err.msg);
    if (rc != BERTC_OK) cli_die(1, "%s", err.msg);
    double secs = now_s() - pr.t0;

    cJSON *j = ml ? bertc_eval_json_multilabel(&mm, names, digits, threshold, &err) : bertc_eval_json(&m, names, digits, &err);
    if (!j) cli_die(1, "%s", err.msg);
    cJSON_AddStringToObject(j, "problem_type", ml ? "multi_label_classification" : "single_label_classification");
    cJSON_AddStringToObject(j, "model", c->hf.dir);
    cJSON_AddStringToObject(j, "data", cli_str(fl, "data"));
    cJSON_AddNumberToObject(j, "max_length", c->opts.max_length);
    cJSON_AddStringToObject(j, "precision", bert_precision_name(c->opts.precision)); /* what auto resolved to */
    cJSON_AddStringToObject(j, "long_text", lt.mode);
    if (lt.chunks) {
        cJSON_AddNumberToObject(j, "stride", (double)lt.stride);
        cJSON_AddStringToObject(j, "pool", lt.pool == BERTC_POOL_MAX ? "max" : "mean");
    }
    cJSON_AddStringToObject(j, "label_mapping", by_position ? "position" : "name");
    cJSON_AddNumberToObject(j, "seconds", secs);
    cJSON_AddNumberToObject(j, "examples_per_second", ds.n / (secs > 1e-9 ? secs : 1e-9));
    cJSON_AddNumberToObject(j, "load_seconds", load_s);
    if (out_json && bertc_json_write(out_json, j, &err) != BERTC_OK) cli_die(1, "%s", err.msg);

    if (cli_bool(fl, "json")) {
        char *s = cJSON_Print(j);
        if (s) puts(s);
        free(s);
    } else {
        printf("model     %s (max length %d%s)\n", c->hf.dir, c->opts.max_length, ml ? ", multi-label" : "");
        printf("data      %s: %d examples", cli_str(fl, "data"), ds.n);
        if (ds.n != n_before)
            printf(" (the first %d of %ld after a shuffle with seed %ld)", ds.n, n_before,
                   cli_int(fl, "seed", 0, 0x7fffffffL));
        if (lt.chunks)
            printf("\nlong text chunks: windows of %d tokens sharing %ld, %s of their logits", c->opts.max_length,
                   lt.stride, lt.pool == BERTC_POOL_MAX ? "max" : "mean");
        else if (strcmp(lt.mode, "head+tail") == 0)
            printf("\nlong text head+tail: the first and last tokens of a longer text");
        printf("\ntime      %.1f s, %.1f examples/s\n\n", secs, ds.n / (secs > 1e-9 ? secs : 1e-9));
        if (ml) print_multi(&mm, j, threshold);
        else print_single(&m, j, names, NL);
        if (out_json) printf("\nwrote %s\n", out_json);
        if (out_pred) printf("wrote %s\n", out_pred);
    }
    cJSON_Delete(j);
    bertc_metrics_free(&m);
    bertc_mlmetrics_free(&mm);
    bertc_classifier_free(c);
    bertc_data_free(&ds);
    return 0;
}
