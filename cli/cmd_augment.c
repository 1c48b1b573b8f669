/* cmd_augment.c: `bertc augment`: EDA text augmentation of a labelled data set
 * (src/augment.h), written in the input's format (or the one --output names):
 * each example, then its n augmented copies, labels kept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/augment.h"
#include "../src/data.h"
#include "commands.h"
#include "flags.h"

/* The method spec from --augment (METHOD[:KEY=V,...]) and the word flags that
 * override it, in the order: spec first, then --alpha, then each rate, --n, --seed. */
static void read_opts(bertc_augment_opts *a, const cli_flag *fl) {
    bertc_err err = {0};
    bertc_augment_opts_default(a);
    if (bertc_augment_parse(a, cli_str(fl, "method"), &err)) cli_die(2, "--method: %s", err.msg);
    static const char *const keys[][2] = {{"alpha", "alpha"},       {"alpha-sr", "alpha_sr"}, {"alpha-ri", "alpha_ri"},
                                          {"alpha-rs", "alpha_rs"}, {"p-rd", "p_rd"},         {"n", "n"},
                                          {"seed", "seed"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!cli_given(fl, keys[i][0]) && strcmp(keys[i][0], "seed") != 0) continue;
        char spec[160];
        snprintf(spec, sizeof spec, "%s:%s=%s", a->method == BERTC_AUG_EDA ? "eda" : "contextual", keys[i][1],
                 cli_str(fl, keys[i][0]));
        if (bertc_augment_parse(a, spec, &err)) cli_die(2, "--%s: %s", keys[i][0], err.msg);
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
    bertc_augment_opts a;
    read_opts(&a, fl);
    bertc_err err = {0};
    if (a.method == BERTC_AUG_CONTEXTUAL && !a.model[0]) snprintf(a.model, sizeof a.model, "%s", cli_str(fl, "model"));
    if (a.method == BERTC_AUG_CONTEXTUAL) {
        /* fail fast, before the data: a folder without a masked-LM head cannot do it */
        int has = 0;
        if (bertc_augment_has_mlm_head(a.model, &has, &err)) cli_die(1, "--model: %s", err.msg);
        if (!has)
            cli_die(2, "--method contextual: not available: %s has no masked-LM head (no cls.predictions.* or "
                       "vocab_transform.* tensors); use eda, or a folder saved from BertForMaskedLM",
                    a.model);
    }
    const char *out = cli_str(fl, "output");
    if (!out) cli_die(2, "--output: required (see bertc augment --help)");
    if (a.method == BERTC_AUG_EDA && bertc_wordnet_open(&err)) cli_die(1, "%s", err.msg); /* before the data: fail fast */
    bertc_dataset ds = {0};
    cli_load_data(&ds, fl, NULL);
    const char *ofmt = cli_str(fl, "output-format");
    cli_choice(fl, "output-format", "auto|csv|tsv|jsonl|fasttext");
    if (strcmp(ofmt, "auto") == 0) {
        /* the input's format unless --output's name says another */
        const char *dot = strrchr(out, '.');
        int named = dot && (!strcmp(dot, ".csv") || !strcmp(dot, ".tsv") || !strcmp(dot, ".jsonl") ||
                            !strcmp(dot, ".ndjson") || !strcmp(dot, ".json") || !strcmp(dot, ".txt") ||
                            !strcmp(dot, ".ft") || !strcmp(dot, ".fasttext"));
        ofmt = named || strcmp(ds.format, "imdb") == 0 ? "auto" : ds.format;
    }
    int n0 = ds.n;
    if (bertc_augment_dataset(&ds, &a, &err)) {
        bertc_data_free(&ds);
        cli_die(1, "%s", err.msg);
    }
    bertc_data_opts cols;
    bertc_data_opts_default(&cols);
    cols.text_column = cli_str(fl, "text-column");
    cols.label_column = cli_str(fl, "label-column");
    cols.text_pair_column = cli_str(fl, "text-pair-column");
    if (bertc_data_write(&ds, out, ofmt, &cols, &err)) {
        bertc_data_free(&ds);
        cli_die(1, "--output: %s", err.msg);
    }
    if (a.method == BERTC_AUG_CONTEXTUAL)
        fprintf(stderr, "augment: %d examples -> %d (each with %d contextual copies from %s: alpha %g, top_k %d, temperature %g, seed %llu) in %s\n",
                n0, ds.n, a.n, a.model, a.alpha_sr, a.top_k, a.temperature, (unsigned long long)a.seed, out);
    else
        fprintf(stderr, "augment: %d examples -> %d (each with %d EDA copies: alpha_sr %g, alpha_ri %g, alpha_rs %g, p_rd %g, seed %llu) in %s\n",
                n0, ds.n, a.n, a.alpha_sr, a.alpha_ri, a.alpha_rs, a.p_rd, (unsigned long long)a.seed, out);
    bertc_data_free(&ds);
    return 0;
}
