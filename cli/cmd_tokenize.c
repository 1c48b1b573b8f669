/* cmd_tokenize.c: `bertc tokenize`: one JSON line per input with tokens,
 * input_ids, token_type_ids, attention_mask and offsets, as transformers'
 * tokenizer(text, return_offsets_mapping=True) gives them. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "flags.h"
#include "inputs.h"

static cJSON *int_array(const int32_t *v, int n, int stride) {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[(size_t)i * stride]));
    return a;
}

int cmd_tokenize(int argc, char **argv) {
    cli_flag fl[] = {
        {"model", "all-MiniLM-L6-v2", "model folder or cached model name (its tokenizer.json or vocab.txt, and tokenizer_config.json)", 0, 0, 0},
        {"max-length", "512", "truncate to this many tokens, specials included (0 = no truncation)", 0, 0, 0},
        {"truncation", "head", "single texts: head|tail|head+tail (pairs use longest_first)", 0, 0, 0},
        {"pair", NULL, "each input is 'TEXT_A<TAB>TEXT_B': [CLS] A [SEP] B [SEP]", CLI_BOOL, 0, 0},
        {"pad-to-max-length", NULL, "pad every sequence to --max-length with [PAD]", CLI_BOOL, 0, 0},
        {"input", NULL, "read one text per line from this file ('-' = stdin)", 0, 0, 0},
        {NULL, NULL, NULL, 0, 0, 0},
    };
    int npos = 0;
    char **pos = cli_parse_or_exit("tokenize", " [TEXT...|-]", NULL, fl, argc, argv, &npos);
    int max_length = (int)cli_int(fl, "max-length", 0, 1 << 20);
    int pair = cli_bool(fl, "pair");
    int pad = cli_bool(fl, "pad-to-max-length");
    if (pad && max_length == 0) cli_die(2, "--pad-to-max-length needs a --max-length above 0");
    if (max_length != 0 && max_length < (pair ? 3 : 2))
        cli_die(2, "--max-length: must be 0 or at least %d to hold the special tokens", pair ? 3 : 2);
    bert_trunc trunc = cli_truncation(cli_str(fl, "truncation"));
    cli_inputs in;
    cli_inputs_read(&in, pos, npos, cli_str(fl, "input"));
    if (in.n == 0) cli_die(2, "no input texts (give TEXT arguments, --input FILE or -)");
    bert_tokenizer *tok = cli_load_tokenizer(cli_str(fl, "model"));
    bert_special_ids sp = bert_tokenizer_special_ids(tok);
    bert_encoding enc = {0};
    bertc_err err = {0};
    int status = 0;
    for (int i = 0; i < in.n; i++) {
        const char *a = in.text[i], *b = NULL;
        size_t alen = in.len[i], blen = 0;
        if (pair) {
            const char *tab = memchr(a, '\t', alen);
            if (!tab) cli_die(2, "input %d: --pair needs TEXT_A<TAB>TEXT_B", i + 1);
            b = tab + 1;
            blen = alen - (size_t)(b - a);
            alen = (size_t)(tab - a);
        }
        if (bert_encode(tok, a, alen, b, blen, max_length, trunc, &enc, &err) != BERTC_OK) {
            fprintf(stderr, "bertc tokenize: input %d: %s\n", i + 1, err.msg);
            status = 1;
            break;
        }
        int T = pad && enc.n < max_length ? max_length : enc.n;
        cJSON *o = cJSON_CreateObject();
        cJSON *toks = cJSON_CreateArray();
        cJSON *ids = cJSON_CreateArray(), *types = cJSON_CreateArray(), *mask = cJSON_CreateArray();
        cJSON *offs = cJSON_CreateArray();
        for (int t = 0; t < T; t++) {
            int real = t < enc.n;
            int id = real ? enc.ids[t] : sp.pad;
            const char *s = bert_tokenizer_id_to_token(tok, id);
            cJSON_AddItemToArray(toks, cJSON_CreateString(s ? s : ""));
            cJSON_AddItemToArray(ids, cJSON_CreateNumber(id));
            cJSON_AddItemToArray(types, cJSON_CreateNumber(real ? enc.type_ids[t] : 0));
            cJSON_AddItemToArray(mask, cJSON_CreateNumber(real));
            int32_t zero[2] = {0, 0};
            cJSON_AddItemToArray(offs, int_array(real ? enc.offsets + 2 * t : zero, 2, 1));
        }
        cJSON_AddItemToObject(o, "tokens", toks);
        cJSON_AddItemToObject(o, "input_ids", ids);
        cJSON_AddItemToObject(o, "token_type_ids", types);
        cJSON_AddItemToObject(o, "attention_mask", mask);
        cJSON_AddItemToObject(o, "offsets", offs);
        char *line = cJSON_PrintUnformatted(o);
        if (line) {
            fputs(line, stdout);
            fputc('\n', stdout);
        }
        free(line);
        cJSON_Delete(o);
    }
    bert_encoding_free(&enc);
    bert_tokenizer_free(tok);
    cli_inputs_free(&in);
    free(pos);
    return status;
}
