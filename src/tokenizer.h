/* tokenizer.h: BERT's BasicTokenizer + WordPiece, identical to transformers'
 * BertTokenizerFast (the `tokenizers` library) for a folder's settings.
 *
 * (The implementation and the rest of this header belong to the tokenizer
 * module; the options struct below is shared with the model-folder loader,
 * which fills it from tokenizer_config.json.)
 */
#ifndef BERTC_TOKENIZER_H
#define BERTC_TOKENIZER_H

#include <stddef.h>
#include "common.h"

typedef struct bert_tokenizer_opts {
    int do_lower_case;            /* 1: lower-case the text (tokenizer_config.json; default 1) */
    int strip_accents;            /* -1: unset (strip when lower-casing), 0: keep, 1: strip */
    int tokenize_chinese_chars;   /* 1: split CJK ideographs into single tokens (default 1) */
    int max_input_chars_per_word; /* longer words become one [UNK]; 100 as in transformers */
    int model_max_length;         /* tokenizer_config.json model_max_length; 0 = not given */
} bert_tokenizer_opts;

/* Fills o with BertTokenizerFast's defaults: lower-case on, strip_accents unset,
 * CJK splitting on, 100 characters per word, model_max_length 0. */
void bert_tokenizer_opts_default(bert_tokenizer_opts *o);

#endif /* BERTC_TOKENIZER_H */
