/* cmd_predict.c: `bertc predict`: label and score per input, as transformers'
 * pipeline("text-classification"). */
#include <cjson/cJSON.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/classifier.h"
#include "../src/heads.h"
#include "commands.h"
#include "flags.h"
#include "inputs.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* --threads is OpenMP's count; OpenBLAS stays at the 1 main() set (each GEMM
 * runs inside bertc's own OpenMP blocks, src/ops_cpu.c). */
void cli_set_threads(long n) {
    if (n <= 0) return;
    omp_set_num_threads((int)n);
}

int cli_precision(const cli_flag *fl) {
    static const int prec[] = {BERT_PREC_AUTO, BERT_PREC_FP32, BERT_PREC_BF16, BERT_PREC_INT8};
    /* BERTC_PRECISION replaces the default auto (not a given flag): tests/run.sh
     * sets fp32 so that comparisons with transformers hold on every CPU */
    const char *env = getenv("BERTC_PRECISION");
    if (env && *env && !cli_given(fl, "precision") && !strcmp(cli_str(fl, "precision"), "auto")) {
        const char *names[] = {"auto", "fp32", "bf16", "int8"};
        for (int i = 0; i < 4; i++)
            if (!strcmp(env, names[i])) return prec[i];
        cli_die(2, "BERTC_PRECISION: expected auto, fp32, bf16 or int8, got '%s'", env);
    }
    return prec[cli_choice(fl, "precision", "auto|fp32|bf16|int8")];
}

bertc_classifier *cli_open_classifier(const char *model, int batch, int max_length, const char *trunc,
                                      int pad, long seed, int precision, int task) {
    bertc_classifier_opts o;
    bertc_classifier_opts_default(&o);
    o.batch_size = batch;
    o.max_length = max_length;
    o.trunc = cli_truncation(trunc);
    o.pad_to_max = pad;
    o.seed = (uint64_t)seed;
    o.precision = precision;
    o.task = task;
    bertc_err err = {0};
    bertc_classifier *c = NULL;
    if (bertc_classifier_open(&c, model, &o, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
    if (c->hf.new_head && c->hf.cfg.task == BERT_TASK_TEXT_CLS)
        fprintf(stderr,
                "bertc %s: note: %s has no trained classifier; using a new %d-label head initialised with "
                "seed %ld (normal, std %g), so its predictions mean nothing until it is fine-tuned\n",
                cli_cmd, c->hf.dir, c->hf.cfg.num_labels, seed, c->hf.cfg.initializer_range);
    else if (c->hf.new_head)
        fprintf(stderr,
                "bertc %s: note: %s has no trained %s head; using a new one initialised with seed %ld, so its "
                "output means nothing until it is fine-tuned\n",
                cli_cmd, c->hf.dir, bert_head_of(c->hf.cfg.task)->name, seed);
    return c;
}

static int cmp_desc(const void *a, const void *b, void *probs) {
    const float *p = probs;
    float pa = p[*(const int *)a], pb = p[*(const int *)b];
    return (pa < pb) - (pa > pb);
}

int cmd_predict(int argc, char **argv) {
    cli_flag fl[] = {
        CLI_TASK_FLAG,
        {"model", "all-MiniLM-L6-v2", "model folder or cached model name", 0, 0, 0},
        {"top-k", "1", "print the K most probable labels (a list when K > 1)", 0, 0, 0},
        {"all-scores", NULL, "print every label with its probability (a list)", CLI_BOOL, 0, 0},
        {"batch-size", "32", "sequences per forward pass", 0, 0, 0},
        {"max-length", "0", "tokens per sequence incl. specials (0 = the model's maximum)", 0, 0, 0},
        {"truncation", "head", "head|tail|head+tail", 0, 0, 0},
        {"pad-to-max-length", NULL, "pad every batch to --max-length (default: to the longest in the batch)", CLI_BOOL, 0, 0},
        {"pair", NULL, "each input is 'TEXT_A<TAB>TEXT_B'", CLI_BOOL, 0, 0},
        {"input", NULL, "read one text per line from this file ('-' = stdin)", 0, 0, 0},
        {"threads", "0", "CPU threads (0 = all cores)", 0, 0, 0},
        CLI_PRECISION_FLAG,
        {"seed", "42", "seed of a new head when the model has no classifier", 0, 0, 0},
        {"stats", NULL, "print {sequences, seconds, sequences_per_second} to stderr at the end", CLI_BOOL, 0, 0},
        {"threshold", "0.5", "multi-label model: print every label whose sigmoid probability is >= this", 0, 0, 0},
        CLI_LONG_TEXT_FLAGS,
        {NULL, NULL, NULL, 0, 0, 0},
    };
    int npos = 0;
    char **pos = cli_parse_or_exit("predict", " [TEXT...|-]", NULL, fl, argc, argv, &npos);
    int top_k = (int)cli_int(fl, "top-k", 1, BERT_MAX_LABELS);
    int all_scores = cli_bool(fl, "all-scores");
    int batch = (int)cli_int(fl, "batch-size", 1, 4096);
    int max_length = (int)cli_int(fl, "max-length", 0, 1 << 20);
    if (max_length == 1) cli_die(2, "--max-length: must be 0 (the model's maximum) or at least 2");
    int pad = cli_bool(fl, "pad-to-max-length");
    int pair = cli_bool(fl, "pair");
    long seed = cli_int(fl, "seed", 0, 0x7fffffffL);
    double threshold = cli_float(fl, "threshold", 0, 1);
    cli_long_text lt;
    cli_long_text_read(&lt, fl, pair, "--pair", pad);
    int chunks = lt.chunks;
    cli_set_threads(cli_int(fl, "threads", 0, 1024));
    cli_inputs in;
    cli_inputs_read(&in, pos, npos, cli_str(fl, "input"));
    if (in.n == 0) cli_die(2, "no input texts (give TEXT arguments, --input FILE or -)");
    const char **tb = NULL;
    size_t *lb = NULL;
    if (pair) {
        tb = calloc((size_t)in.n, sizeof *tb);
        lb = calloc((size_t)in.n, sizeof *lb);
        for (int i = 0; i < in.n; i++) {
            char *tab = memchr(in.text[i], '\t', in.len[i]);
            if (!tab) cli_die(2, "input %d: --pair needs TEXT_A<TAB>TEXT_B", i + 1);
            tb[i] = tab + 1;
            lb[i] = in.len[i] - (size_t)(tab + 1 - in.text[i]);
            in.len[i] = (size_t)(tab - in.text[i]);
        }
    }
    double t_start = now_seconds();
    bertc_classifier *c = cli_open_classifier(cli_str(fl, "model"), batch, max_length, lt.trunc, pad, seed,
                                              cli_precision(fl), -1);
    int NL = bertc_classifier_num_labels(c);
    int ml = bertc_classifier_multi_label(c);
    if (!ml && cli_given(fl, "threshold"))
        cli_die(2, "--threshold: %s is a single-label model (use --top-k or --all-scores)", c->hf.dir);
    cli_long_text_stride(&lt, c->opts.max_length);
    /* multi-label: the labels >= threshold, as pipeline(..., function_to_apply="sigmoid") */
    int by_threshold = ml && !all_scores && !cli_given(fl, "top-k");
    if (all_scores) top_k = NL;
    if (top_k > NL) top_k = NL;
    int list = all_scores || top_k > 1 || by_threshold;
    if (by_threshold) top_k = NL;
    float *probs = malloc((size_t)batch * NL * sizeof *probs);
    int *order = malloc((size_t)NL * sizeof *order);
    if (!probs || !order) cli_die(1, "out of memory");
    double t0 = now_seconds();
    bertc_err err = {0};
    for (int start = 0; start < in.n; start += batch) {
        int B = in.n - start < batch ? in.n - start : batch;
        if ((chunks ? bertc_classifier_run_long(c, (const char *const *)in.text + start, in.len + start, B, (int)lt.stride,
                                                lt.pool, probs, NULL, &err)
                    : bertc_classifier_run(c, (const char *const *)in.text + start, in.len + start,
                                           tb ? tb + start : NULL, lb ? lb + start : NULL, B, probs, NULL, &err)) != BERTC_OK)
            cli_die(1, "input %d: %s", start + 1, err.msg);
        for (int b = 0; b < B; b++) {
            const float *p = probs + (size_t)b * NL;
            for (int i = 0; i < NL; i++) order[i] = i;
            qsort_r(order, (size_t)NL, sizeof *order, cmp_desc, (void *)p);
            cJSON *out = list ? cJSON_CreateArray() : NULL;
            for (int k = 0; k < top_k; k++) {
                if (by_threshold && !(p[order[k]] >= (float)threshold)) break;
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "label", bertc_classifier_label(c, order[k]));
                cJSON_AddNumberToObject(o, "score", (double)p[order[k]]);
                if (list) cJSON_AddItemToArray(out, o);
                else out = o;
            }
            char *line = cJSON_PrintUnformatted(out);
            if (line) puts(line);
            free(line);
            cJSON_Delete(out);
        }
        fflush(stdout);
    }
    double t1 = now_seconds();
    if (cli_bool(fl, "stats"))
        fprintf(stderr, "{\"sequences\":%d,\"seconds\":%.6f,\"sequences_per_second\":%.3f,\"load_seconds\":%.3f}\n",
                in.n, t1 - t0, in.n / (t1 - t0), t0 - t_start);
    free(probs);
    free(order);
    free(tb);
    free(lb);
    bertc_classifier_free(c);
    cli_inputs_free(&in);
    free(pos);
    return 0;
}
