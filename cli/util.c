/* util.c: helpers the subcommands share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/hfmodel.h"
#include "../src/longtext.h"
#include "commands.h"
#include "flags.h"

bert_tokenizer *cli_load_tokenizer(const char *model) {
    bertc_err err = {0};
    bert_tokenizer *tok = NULL;
    if (hf_tokenizer_load(&tok, model, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
    return tok;
}

bert_trunc cli_truncation(const char *v) {
    if (strcmp(v, "head") == 0) return BERT_TRUNC_HEAD;
    if (strcmp(v, "tail") == 0) return BERT_TRUNC_TAIL;
    if (strcmp(v, "head+tail") == 0) return BERT_TRUNC_HEAD_TAIL;
    cli_die(2, "--truncation: expected head, tail or head+tail, got '%s'", v);
}

void cli_long_text_read(cli_long_text *lt, const cli_flag *fl, int pair, const char *pair_flag, int pad) {
    static const char *const modes[] = {"truncate", "head+tail", "chunks"};
    int mode = cli_choice(fl, "long-text", "truncate|head+tail|chunks");
    lt->mode = modes[mode];
    lt->chunks = mode == 2;
    lt->pool = cli_choice(fl, "pool", "mean|max") == 1 ? BERTC_POOL_MAX : BERTC_POOL_MEAN;
    lt->stride = cli_given(fl, "stride") ? cli_int(fl, "stride", 0, 1 << 20) : -1;
    lt->trunc = cli_str(fl, "truncation");
    if (mode == 1) {
        if (cli_given(fl, "truncation") && strcmp(lt->trunc, "head+tail") != 0)
            cli_die(2, "--long-text: head+tail conflicts with --truncation %s", lt->trunc);
        lt->trunc = "head+tail";
    }
    if (!lt->chunks && (cli_given(fl, "stride") || cli_given(fl, "pool")))
        cli_die(2, "%s: needs --long-text chunks", cli_given(fl, "stride") ? "--stride" : "--pool");
    if (lt->chunks && pair) cli_die(2, "--long-text: chunks is for single texts, not %s", pair_flag);
    if (lt->chunks && pad) cli_die(2, "--pad-to-max-length: not with --long-text chunks (windows are padded per text)");
}

void cli_long_text_stride(cli_long_text *lt, int max_length) {
    if (!lt->chunks) return;
    if (lt->stride < 0) lt->stride = max_length / 4;
    if (max_length < 3 || lt->stride > max_length - 3)
        cli_die(2, "--stride: must be in 0..%d for --max-length %d", max_length - 3, max_length);
}

void cli_eval_outputs(const cli_flag *fl, const char **out_json, const char **out_pred, char *json_buf,
                      char *pred_buf, size_t cap) {
    *out_json = cli_str(fl, "output");
    *out_pred = cli_str(fl, "predictions");
    const char *run_dir = cli_str(fl, "run-dir");
    if (!run_dir) return;
    if (bertc_path_join(json_buf, cap, run_dir, "eval.json") || bertc_path_join(pred_buf, cap, run_dir, "predictions.jsonl"))
        cli_die(2, "--run-dir: path too long");
    if (!*out_json) *out_json = json_buf;
    if (!*out_pred) *out_pred = pred_buf;
}
