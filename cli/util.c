/* util.c: helpers the subcommands share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/hfmodel.h"
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
