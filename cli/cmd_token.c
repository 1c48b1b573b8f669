/* cmd_token.c: `bertc predict`, `eval` and `serve` for token-classification
 * (named-entity recognition) models: cli/tasks.c runs these when the model's
 * config.json names BertForTokenClassification (or with --task).
 *   predict: entities per text as transformers' pipeline("token-classification",
 *            aggregation_strategy=S) gives them, one JSON list per line
 *   eval:    seqeval's entity scores and report over words of a CoNLL/JSONL set,
 *            token accuracy, loss; eval.json and predictions.jsonl
 * `bertc serve` runs cmd_serve.c's command: the server answers a token model
 * with entities (serve.c). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/classifier.h"
#include "../src/evaluate.h"
#include "../src/tasks/token_data.h"
#include "../src/tasks/token_decode.h"
#include "../src/tasks/token_infer.h"
#include "../src/tasks/token_metrics.h"
#include "commands.h"
#include "flags.h"
#include "inputs.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bertc_classifier *open_token_model(const char *model, int batch, int max_length, int precision) {
    bertc_classifier_opts o;
    bertc_classifier_opts_default(&o);
    o.batch_size = batch;
    o.max_length = max_length;
    o.precision = precision;
    bertc_err err = {0};
    bertc_classifier *c = NULL;
    if (bertc_classifier_open(&c, model, &o, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
    if (bertc_token_check_model(c, &err)) cli_die(1, "%s", err.msg);
    if (c->hf.new_head)
        cli_die(1, "%s has no trained token classifier: its tags would come from a random head; fine-tune it first "
                   "(bertc train --task token-classification)", c->hf.dir);
    return c;
}

int cmd_predict_token(int argc, char **argv) {
    cli_flag fl[] = {
        CLI_TASK_FLAG,
        {"model", "all-MiniLM-L6-v2", "token-classification model folder or cached name", 0, 0, 0},
        {"aggregation-strategy", "simple", "none|simple|first|average|max (transformers' pipeline)", 0, 0, 0},
        {"batch-size", "32", "texts per forward pass", 0, 0, 0},
        {"max-length", "0", "tokens per text incl. specials (0 = the model's maximum); longer texts are cut", 0, 0, 0},
        {"input", NULL, "read one text per line from this file ('-' = stdin)", 0, 0, 0},
        {"threads", "0", "CPU threads (0 = all cores)", 0, 0, 0},
        CLI_PRECISION_FLAG,
        {NULL, NULL, NULL, 0, 0, 0},
    };
    int npos = 0;
    char **pos = cli_parse_or_exit("predict", " [TEXT...|-]",
                                   "One JSON list of entities per text, as pipeline(\"token-classification\") returns them.",
                                   fl, argc, argv, &npos);
    bertc_err err = {0};
    int strategy;
    if (bertc_token_strategy_parse(&strategy, cli_str(fl, "aggregation-strategy"), &err))
        cli_die(2, "--aggregation-strategy: %s", err.msg);
    int batch = (int)cli_int(fl, "batch-size", 1, 4096);
    int max_length = (int)cli_int(fl, "max-length", 0, 1 << 20);
    cli_set_threads(cli_int(fl, "threads", 0, 1024));
    cli_inputs in;
    cli_inputs_read(&in, pos, npos, cli_str(fl, "input"));
    free(pos);
    if (in.n == 0) cli_die(2, "no input texts (give TEXT arguments, --input FILE or -)");
    bertc_classifier *c = open_token_model(cli_str(fl, "model"), batch, max_length, cli_precision(fl));
    for (int s = 0; s < in.n; s += batch) {
        int B = in.n - s < batch ? in.n - s : batch;
        bertc_entity *ents[4096];
        int counts[4096];
        if (bertc_token_entities(c, (const char *const *)in.text + s, in.len + s, B, strategy, ents, counts, &err))
            cli_die(1, "input %d: %s", s + 1, err.msg);
        for (int b = 0; b < B; b++) {
            char *json = bertc_token_entities_json(ents[b], counts[b], strategy);
            if (!json) cli_die(1, "out of memory");
            puts(json);
            free(json);
            bertc_token_entities_free(ents[b], counts[b]);
        }
    }
    bertc_classifier_free(c);
    cli_inputs_free(&in);
    return 0;
}

static cJSON *prf_json(const bertc_token_prf *p) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "precision", p->precision);
    cJSON_AddNumberToObject(o, "recall", p->recall);
    cJSON_AddNumberToObject(o, "f1", p->f1);
    cJSON_AddNumberToObject(o, "support", (double)p->support);
    return o;
}

/* Appends text to a growing buffer; exits when out of memory. */
static void buf_add(char **buf, size_t *len, size_t *cap, const char *s) {
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        size_t c = (*cap + n + 1) * 2;
        char *b = realloc(*buf, c);
        if (!b) cli_die(1, "out of memory");
        *buf = b, *cap = c;
    }
    memcpy(*buf + *len, s, n + 1);
    *len += n;
}

int cmd_eval_token(int argc, char **argv) {
    cli_flag fl[] = {
        CLI_TASK_FLAG,
        {"model", "all-MiniLM-L6-v2", "fine-tuned token-classification model folder (or cached name)", 0, 0, 0},
        {"data", NULL, "tagged sentences: CoNLL columns or JSON Lines {tokens, ner_tags}", 0, 0, 0},
        {"format", "auto", "auto|conll|jsonl (auto: .jsonl/.json/.ndjson are JSON Lines, else CoNLL)", 0, 0, 0},
        {"limit", "0", "keep the first N sentences after a seeded shuffle (0 = all)", 0, 0, 0},
        {"seed", "42", "seed of the --limit shuffle", 0, 0, 0},
        {"batch-size", "32", "sentences per forward pass", 0, 0, 0},
        {"max-length", "0", "tokens per sentence incl. specials (0 = the model's maximum); a word cut off is predicted O", 0, 0, 0},
        {"digits", "2", "decimals in the classification report text (seqeval's default 2)", 0, 0, 0},
        {"output", NULL, "write the metrics as JSON (eval.json format) to this file", 0, 0, 0},
        {"predictions", NULL, "write one JSON line per sentence (words, tags, pred)", 0, 0, 0},
        {"run-dir", NULL, "run directory: writes RUN_DIR/eval.json and RUN_DIR/predictions.jsonl", 0, 0, 0},
        {"json", NULL, "print the eval.json object instead of the text summary", CLI_BOOL, 0, 0},
        {"threads", "0", "CPU threads (0 = all cores)", 0, 0, 0},
        CLI_PRECISION_FLAG,
        {NULL, NULL, NULL, 0, 0, 0},
    };
    free(cli_parse_or_exit("eval", "", NULL, fl, argc, argv, NULL));
    int batch = (int)cli_int(fl, "batch-size", 1, 4096);
    int max_length = (int)cli_int(fl, "max-length", 0, 1 << 20);
    if (max_length == 1) cli_die(2, "--max-length: must be 0 (the model's maximum) or at least 2");
    int digits = (int)cli_int(fl, "digits", 0, 15);
    long limit = cli_int(fl, "limit", 0, 0x7fffffffL);
    const char *fmt = cli_str(fl, "format");
    int fi = cli_choice(fl, "format", "auto|conll|jsonl");
    cli_set_threads(cli_int(fl, "threads", 0, 1024));
    const char *data = cli_str(fl, "data");
    if (!data || !*data) cli_die(2, "--data is required (CoNLL columns or JSON Lines, see docs/tasks-token.md)");
    const char *out_json, *out_pred, *run_dir = cli_str(fl, "run-dir");
    char run_json[4096], run_pred[4096];
    cli_eval_outputs(fl, &out_json, &out_pred, run_json, run_pred, sizeof run_json);
    bertc_classifier *c = open_token_model(cli_str(fl, "model"), batch, max_length, cli_precision(fl));
    int NL = c->hf.cfg.num_labels;
    const char *const *names = (const char *const *)c->hf.cfg.id2label;
    bertc_err err = {0};
    bertc_token_dataset ds = {0};
    if (bertc_token_data_load(&ds, data, fi == 0 ? NULL : fmt, names, NL, &err))
        cli_die(1, "--data: %s (tags must be among the model's labels)", err.msg);
    long n_before = ds.n;
    if (limit > 0 && bertc_token_data_shuffle_limit(&ds, (uint64_t)cli_int(fl, "seed", 0, 0x7fffffffL), limit, &err))
        cli_die(1, "--limit: %s", err.msg);
    if (ds.n == 0) cli_die(1, "--data: %s has no sentences", data);

    int32_t **pred = calloc((size_t)ds.n, sizeof *pred), **gold = calloc((size_t)ds.n, sizeof *gold);
    int32_t *mem = malloc((size_t)(ds.n_words + 1) * sizeof *mem);
    int *lens = calloc((size_t)ds.n, sizeof *lens);
    if (!pred || !gold || !mem || !lens) cli_die(1, "out of memory");
    size_t at = 0;
    for (int i = 0; i < ds.n; i++) {
        pred[i] = mem + at;
        gold[i] = ds.sent[i].tags;
        lens[i] = ds.sent[i].n;
        at += (size_t)ds.sent[i].n;
    }
    double t0 = now_s(), loss_sum = 0;
    long loss_n = 0, cut = 0;
    if (bertc_token_tag_sentences(c, ds.sent, ds.n, pred, &loss_sum, &loss_n, &cut, &err)) cli_die(1, "%s", err.msg);
    double secs = now_s() - t0;
    bertc_token_scores sc = {0};
    char *report = NULL;
    if (bertc_token_metrics(&sc, (const int32_t *const *)gold, (const int32_t *const *)pred, lens, ds.n, names, NL, &err) ||
        bertc_token_report(&report, &sc, digits, &err))
        cli_die(1, "%s", err.msg);

    /* the tag confusion matrix over words (gold rows, predicted columns; a word
     * with no piece counts as predicted O when the labels have an O) */
    int o_id = -1;
    for (int k = 0; k < NL; k++)
        if (strcmp(names[k], "O") == 0) o_id = k;
    long *conf = calloc((size_t)NL * NL, sizeof *conf);
    if (!conf) cli_die(1, "out of memory");
    for (int i = 0; i < ds.n; i++)
        for (int w = 0; w < lens[i]; w++) {
            int p = pred[i][w] >= 0 ? pred[i][w] : o_id;
            if (p >= 0) conf[(size_t)gold[i][w] * NL + p]++;
        }

    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "task", "token-classification");
    cJSON_AddStringToObject(j, "model", c->hf.dir);
    cJSON_AddStringToObject(j, "data", data);
    cJSON_AddNumberToObject(j, "sentences", ds.n);
    cJSON_AddNumberToObject(j, "words", (double)ds.n_words);
    cJSON_AddNumberToObject(j, "max_length", c->opts.max_length);
    cJSON_AddNumberToObject(j, "words_cut", (double)cut);
    cJSON_AddNumberToObject(j, "accuracy", sc.accuracy);
    cJSON_AddNumberToObject(j, "precision", sc.precision);
    cJSON_AddNumberToObject(j, "recall", sc.recall);
    cJSON_AddNumberToObject(j, "f1", sc.f1);
    if (loss_n > 0) cJSON_AddNumberToObject(j, "loss", loss_sum / (double)loss_n);
    else cJSON_AddNullToObject(j, "loss");
    cJSON *pt = cJSON_AddArrayToObject(j, "per_type");
    for (int k = 0; k < sc.num_types; k++) {
        cJSON *o = prf_json(&sc.types[k].s);
        cJSON_AddItemToObject(o, "type", cJSON_CreateString(sc.types[k].name));
        cJSON_AddItemToArray(pt, o);
    }
    cJSON_AddItemToObject(j, "micro", prf_json(&sc.micro));
    cJSON_AddItemToObject(j, "macro", prf_json(&sc.macro));
    cJSON_AddItemToObject(j, "weighted", prf_json(&sc.weighted));
    cJSON *lab = cJSON_AddArrayToObject(j, "labels");
    cJSON *cm = cJSON_AddArrayToObject(j, "confusion");
    for (int k = 0; k < NL; k++) {
        cJSON_AddItemToArray(lab, cJSON_CreateString(names[k]));
        cJSON *row = cJSON_CreateArray();
        for (int m = 0; m < NL; m++) cJSON_AddItemToArray(row, cJSON_CreateNumber((double)conf[(size_t)k * NL + m]));
        cJSON_AddItemToArray(cm, row);
    }
    cJSON_AddStringToObject(j, "report", report);
    cJSON_AddNumberToObject(j, "seconds", secs);
    cJSON_AddNumberToObject(j, "sentences_per_second", ds.n / (secs > 1e-9 ? secs : 1e-9));

    /* everything is computed: write the files (each atomically) */
    if (run_dir) cli_mkdir(run_dir);
    if (out_pred) {
        char *buf = NULL;
        size_t len = 0, cap = 0;
        buf_add(&buf, &len, &cap, "");
        for (int i = 0; i < ds.n; i++) {
            cJSON *o = cJSON_CreateObject(), *wv = cJSON_AddArrayToObject(o, "words"),
                  *tv = cJSON_AddArrayToObject(o, "tags"), *pv = cJSON_AddArrayToObject(o, "pred");
            for (int w = 0; w < lens[i]; w++) {
                int p = pred[i][w] >= 0 ? pred[i][w] : o_id;
                cJSON_AddItemToArray(wv, cJSON_CreateString(ds.sent[i].words[w]));
                cJSON_AddItemToArray(tv, cJSON_CreateString(names[gold[i][w]]));
                cJSON_AddItemToArray(pv, cJSON_CreateString(p >= 0 ? names[p] : "O"));
            }
            char *line = cJSON_PrintUnformatted(o);
            if (!line) cli_die(1, "out of memory");
            buf_add(&buf, &len, &cap, line);
            buf_add(&buf, &len, &cap, "\n");
            free(line);
            cJSON_Delete(o);
        }
        if (bertc_write_file_atomic(out_pred, buf, len, &err)) cli_die(1, "--predictions: %s", err.msg);
        free(buf);
    }
    if (out_json && bertc_json_write(out_json, j, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
    if (cli_bool(fl, "json")) {
        char *s = cJSON_Print(j);
        if (s) puts(s);
        free(s);
    } else {
        printf("model     %s (max length %d, token classification)\n", c->hf.dir, c->opts.max_length);
        printf("data      %s: %d sentences, %ld words", data, ds.n, ds.n_words);
        if (ds.n != n_before) printf(" (the first %d of %ld after a shuffle)", ds.n, n_before);
        printf("\ntime      %.1f s, %.1f sentences/s\n", secs, ds.n / (secs > 1e-9 ? secs : 1e-9));
        if (cut) printf("note      %ld words lost pieces to max length %d; a word with none left counts as O\n", cut,
                        c->opts.max_length);
        printf("\nentity f1 %.4f  precision %.4f  recall %.4f  (seqeval, micro)\n", sc.f1, sc.precision, sc.recall);
        printf("accuracy  %.4f  (words)\n", sc.accuracy);
        if (loss_n > 0) printf("loss      %.4f\n", loss_sum / (double)loss_n);
        printf("\n%s", report);
        if (out_json) printf("\nwrote %s\n", out_json);
        if (out_pred) printf("wrote %s\n", out_pred);
    }
    cJSON_Delete(j);
    free(report);
    free(conf);
    bertc_token_scores_free(&sc);
    free(pred), free(gold), free(mem), free(lens);
    bertc_token_data_free(&ds);
    bertc_classifier_free(c);
    return 0;
}
