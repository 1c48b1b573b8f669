/* cmd_augment.c: `bertc augment`: text augmentation of a labelled data set, EDA
 * or contextual substitution, through bertc_augment (include/bertc.h), written
 * in the input's format (or the one --output names): each example, then its n
 * augmented copies, labels kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../include/bertc.h"
#include "../src/augment.h"
#include "commands.h"
#include "flags.h"

/* The method spec: --method, then the word flags that override it (--alpha,
 * each rate), each checked on its own so that an error names its flag. */
static void read_spec(char *spec, size_t cap, const cli_flag *fl) {
    bertc_err err = {0};
    bertc_augment_opts a;
    bertc_augment_opts_default(&a);
    const char *method = cli_str(fl, "method");
    if (bertc_augment_parse(&a, method, &err)) cli_die(2, "--method: %s", err.msg);
    const char *name = a.method == BERTC_AUG_EDA ? "eda" : "contextual";
    size_t at = (size_t)snprintf(spec, cap, "%s", method);
    static const char *const keys[][2] = {{"alpha", "alpha"},       {"alpha-sr", "alpha_sr"}, {"alpha-ri", "alpha_ri"},
                                          {"alpha-rs", "alpha_rs"}, {"p-rd", "p_rd"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!cli_given(fl, keys[i][0])) continue;
        char one[160];
        snprintf(one, sizeof one, "%s:%s=%s", name, keys[i][1], cli_str(fl, keys[i][0]));
        if (bertc_augment_parse(&a, one, &err)) cli_die(2, "--%s: %s", keys[i][0], err.msg);
        at += (size_t)snprintf(spec + at, at < cap ? cap - at : 0, "%s%s", strchr(spec, ':') ? "," : ":", one + strlen(name) + 1);
        if (at >= cap) cli_die(2, "--method: too long");
    }
}

int cmd_augment(int argc, char **argv) {
    cli_flag fl[] = {
        {"data", NULL, "labelled data: PATH[:train|test] (.csv, .tsv, .jsonl, fastText .txt, aclImdb folder/.tar.gz)", 0, 0, 0},
        {"output", NULL, "where to write (default format: the input's; aclImdb input: name a .jsonl/.csv/.tsv)", 0, 0, 0},
        {"output-format", "auto", "auto (from --output)|csv|tsv|jsonl|fasttext", 0, 0, 0},
        {"method", "eda", "eda or eda:KEY=V,... (alpha, alpha_sr, alpha_ri, alpha_rs, p_rd, n), or contextual[:KEY=V,...] (alpha, n, top_k, temperature, max_length, model)", 0, 0, 0},
        {"alpha", NULL, "EDA: sets all four rates (default 0.1 each)", 0, 0, 0},
        {"alpha-sr", NULL, "EDA: share of words replaced by WordNet synonyms", 0, 0, 0},
        {"alpha-ri", NULL, "EDA: share of words inserted (synonyms of random words)", 0, 0, 0},
        {"alpha-rs", NULL, "EDA: share of words swapped", 0, 0, 0},
        {"p-rd", NULL, "EDA: probability of deleting each word", 0, 0, 0},
        {"n", NULL, "augmented copies per example (default 4)", 0, 0, 0},
        {"seed", "42", "seed of the augmentation (and of --limit's shuffle)", 0, 0, 0},
        {"model", "all-MiniLM-L6-v2", "contextual: the folder (or cached name) whose masked-LM head substitutes words", 0, 0, 0},
        {"format", "auto", "input format: auto (from the path), imdb, csv, tsv, jsonl or fasttext", 0, 0, 0},
        {"text-column", "text", "CSV/TSV column or JSON key of the text (also written)", 0, 0, 0},
        {"text-pair-column", NULL, "column/key of a second text (kept as it is)", 0, 0, 0},
        {"label-column", "label", "CSV/TSV column or JSON key of the label (also written)", 0, 0, 0},
        {"limit", "0", "augment the first N examples after a shuffle with --seed (0 = all, in file order)", 0, 0, 0},
        {NULL, NULL, NULL, 0, 0, 0},
    };
    free(cli_parse_or_exit("augment", " --data DATA --output FILE", NULL, fl, argc, argv, NULL));
    char spec[2048];
    read_spec(spec, sizeof spec, fl);
    bertc_augment_options o;
    bertc_augment_options_init(&o);
    o.method = spec;
    o.model = cli_str(fl, "model");
    o.n = cli_given(fl, "n") ? (int)cli_int(fl, "n", 1, 1000) : 0;
    o.seed = (unsigned long long)cli_int(fl, "seed", 0, 0x7fffffffL);
    o.data_file = cli_str(fl, "data");
    o.output_file = cli_str(fl, "output");
    if (!o.data_file || !*o.data_file) cli_die(2, "--data is required (PATH[:train|test], see docs/data.md)");
    if (!o.output_file) cli_die(2, "--output: required (see bertc augment --help)");
    cli_choice(fl, "output-format", "auto|csv|tsv|jsonl|fasttext");
    o.output_format = cli_str(fl, "output-format");
    o.format = cli_str(fl, "format");
    o.text_column = cli_str(fl, "text-column");
    o.text_pair_column = cli_str(fl, "text-pair-column");
    o.label_column = cli_str(fl, "label-column");
    o.limit = cli_int(fl, "limit", 0, 0x7fffffffL);
    bertc_err err = {0};
    int n0 = 0, n1 = 0;
    int rc = bertc_augment(&o, &n0, &n1, &err);
    if (rc) cli_die(rc == BERTC_ERR_ARG ? 2 : 1, "%s", err.msg);
    fprintf(stderr, "augment: %d examples -> %d (%s; copies per example: %d) in %s\n", n0, n1, spec,
            n0 ? n1 / n0 - 1 : o.n, o.output_file);
    return 0;
}
