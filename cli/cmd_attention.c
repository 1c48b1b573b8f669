/* cmd_attention.c: `bertc attention`: one layer's attention probabilities for a
 * text (one head or the mean of the heads), as the notebook's heatmap (PNG,
 * tokens on both axes) and as attention.json. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/chart.h"
#include "../src/evaluate.h"
#include "commands.h"
#include "flags.h"

int cmd_attention(int argc, char **argv) {
    cli_flag fl[] = {
        {"model", "all-MiniLM-L6-v2", "model folder or cached model name", 0, 0, 0},
        {"text", NULL, "the text to look at (or --text-file, or --data with --index)", 0, 0, 0},
        {"text-file", NULL, "read the text from this file ('-' = stdin), whole", 0, 0, 0},
        {"data", NULL, "take the text from this data set (PATH[:train|test]) ...", 0, 0, 0},
        {"index", "0", "... example number INDEX (0-based, after --limit/--seed)", 0, 0, 0},
        CLI_DATA_FLAGS,
        {"layer", "-1", "layer, 0-based; negative counts from the end (-1 = the last)", 0, 0, 0},
        {"head", "0", "head, 0-based, or 'mean' for the mean over heads", 0, 0, 0},
        {"max-tokens", "0", "crop the map (PNG and JSON) to the first N tokens (0 = all; the notebook shows 10)", 0, 0, 0},
        {"max-length", "0", "tokens the model sees, specials included (0 = the model's maximum)", 0, 0, 0},
        {"truncate", NULL, "cut a longer text to --max-length (else it is an error)", CLI_BOOL, 0, 0},
        {"out", NULL, "write the heatmap PNG here", 0, 0, 0},
        {"json", NULL, "write attention.json here", 0, 0, 0},
        {"run-dir", NULL, "run directory: writes RUN_DIR/attention.json", 0, 0, 0},
        {"threads", "0", "CPU threads (0 = all cores)", 0, 0, 0},
        {NULL, NULL, NULL, 0, 0, 0},
    };
    free(cli_parse_or_exit("attention", "", NULL, fl, argc, argv, NULL));
    int max_length = (int)cli_int(fl, "max-length", 0, 1 << 20);
    if (max_length == 1) cli_die(2, "--max-length: must be 0 (the model's maximum) or at least 2");
    int max_tokens = (int)cli_int(fl, "max-tokens", 0, 1 << 20);
    long layer_arg = cli_int(fl, "layer", -4096, 4096);
    int head = -1;
    if (strcmp(cli_str(fl, "head"), "mean") != 0) {
        long h;
        if (bertc_parse_long(cli_str(fl, "head"), 0, 4096, &h) != 0)
            cli_die(2, "--head: expected a head number or mean, got '%s'", cli_str(fl, "head"));
        head = (int)h;
    }
    cli_set_threads(cli_int(fl, "threads", 0, 1024));

    /* The text. */
    int nsrc = !!cli_str(fl, "text") + !!cli_str(fl, "text-file") + !!cli_str(fl, "data");
    if (nsrc != 1) cli_die(2, "give exactly one of --text, --text-file or --data");
    char *owned = NULL;
    const char *text = cli_str(fl, "text");
    size_t len = text ? strlen(text) : 0;
    bertc_dataset ds = {0};
    bertc_err err = {0};
    if (cli_str(fl, "text-file")) {
        const char *p = cli_str(fl, "text-file");
        if (strcmp(p, "-") == 0) p = "/dev/stdin";
        if (bertc_read_file(p, (size_t)1 << 30, &owned, &len, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
        while (len > 0 && (owned[len - 1] == '\n' || owned[len - 1] == '\r')) owned[--len] = '\0';
        text = owned;
    } else if (cli_str(fl, "data")) {
        cli_load_data(&ds, fl, NULL);
        long idx = cli_int(fl, "index", 0, 0x7fffffffL);
        if (idx >= ds.n) cli_die(2, "--index %ld: the data set has %d examples (0..%d)", idx, ds.n, ds.n - 1);
        text = ds.ex[idx].text;
        len = ds.ex[idx].len;
    }
    if (len == 0) cli_die(2, "the text is empty");

    bertc_classifier_opts o;
    bertc_classifier_opts_default(&o);
    o.batch_size = 1;
    o.max_length = max_length;
    bertc_classifier *c = NULL;
    if (bertc_classifier_open(&c, cli_str(fl, "model"), &o, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
    if (c->hf.new_head)
        fprintf(stderr, "bertc attention: note: %s has no trained classifier; the attention maps are the encoder's, "
                        "but the predicted label comes from a new random head\n", c->hf.dir);
    int L = c->hf.cfg.num_layers;
    if (layer_arg < -L || layer_arg >= L)
        cli_die(2, "--layer %ld is out of range: %s has %d layers (0..%d, or -1..-%d from the end)", layer_arg, c->hf.dir,
                L, L - 1, L);
    int layer = layer_arg < 0 ? (int)(L + layer_arg) : (int)layer_arg;
    if (head >= c->hf.cfg.num_heads)
        cli_die(2, "--head %d is out of range: %s has %d heads per layer (0..%d, or mean)", head, c->hf.dir,
                c->hf.cfg.num_heads, c->hf.cfg.num_heads - 1);
    bertc_attention a;
    if (bertc_attention_compute(c, text, len, layer, head, cli_bool(fl, "truncate"), max_tokens, &a, &err) != BERTC_OK)
        cli_die(1, "%s%s", err.msg, err.code == BERTC_ERR_ARG ? "; --truncate cuts it to --max-length" : "");
    if (a.truncated)
        fprintf(stderr, "bertc attention: note: the text has %d tokens; the model saw the first %d (--max-length %d)\n",
                a.n_text_tokens, a.T_full, c->opts.max_length);

    const char *json_path = cli_str(fl, "json");
    char run_json[4096];
    if (cli_str(fl, "run-dir")) {
        cli_mkdir(cli_str(fl, "run-dir"));
        if (bertc_path_join(run_json, sizeof run_json, cli_str(fl, "run-dir"), "attention.json"))
            cli_die(2, "--run-dir: path too long");
        if (!json_path) json_path = run_json;
    }
    if (json_path) {
        cJSON *j = bertc_attention_json(&a, c, text, len);
        if (!j) cli_die(1, "out of memory");
        if (bertc_json_write(json_path, j, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
        cJSON_Delete(j);
    }
    const char *pred = bertc_classifier_label(c, a.pred);
    if (cli_str(fl, "out")) {
        size_t TT = (size_t)a.T * a.T;
        double *v = malloc(TT * sizeof *v);
        if (!v) cli_die(1, "out of memory");
        for (size_t i = 0; i < TT; i++) v[i] = a.weights[i];
        char title[256], hs[32];
        if (head >= 0) snprintf(hs, sizeof hs, "head %d", head);
        else snprintf(hs, sizeof hs, "mean of %d heads", c->hf.cfg.num_heads);
        snprintf(title, sizeof title, "Attention Weights (layer %d, %s): predicted %.60s (%.2f)", layer, hs, pred,
                 a.score);
        bertc_heatmap h = {{title, "Tokens (attended to)", "Tokens (attending)", 0, 0}, v, (size_t)a.T, (size_t)a.T,
                           (const char *const *)a.tokens, (const char *const *)a.tokens, BERTC_CMAP_VIRIDIS, 0, NAN,
                           NAN, "attention weight"};
        if (bertc_chart_heatmap(cli_str(fl, "out"), &h, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
        free(v);
        bertc_chart_shutdown();
    }

    size_t cut = cli_utf8_prefix(text, len, 100);
    printf("Sample Review: %.*s%s\n", (int)cut, text, cut < len ? "..." : "");
    printf("Predicted: %s (Score: %.2f)\n", pred, a.score);
    printf("layer %d of %d, %s, %d tokens%s\n", layer, L,
           head >= 0 ? "one head" : "mean over heads", a.T_full, a.truncated ? " (truncated)" : "");
    if (head >= 0) printf("head %d\n", head);
    int show = a.T < 10 ? a.T : 10;
    printf("%-12s", "");
    for (int j = 0; j < show; j++) printf(" %7.7s", a.tokens[j]);
    putchar('\n');
    for (int i = 0; i < show; i++) {
        printf("%-12.12s", a.tokens[i]);
        for (int j = 0; j < show; j++) printf(" %7.4f", a.weights[(size_t)i * a.T + j]);
        putchar('\n');
    }
    if (json_path) printf("wrote %s\n", json_path);
    if (cli_str(fl, "out")) printf("wrote %s\n", cli_str(fl, "out"));
    bertc_attention_free(&a);
    bertc_classifier_free(c);
    bertc_data_free(&ds);
    free(owned);
    return 0;
}
