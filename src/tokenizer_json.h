/* tokenizer_json.h: the `tokenizers` library's tokenizer.json for BERT's
 * WordPiece tokenizer, read into a bert_tokenizer and written back.
 *
 * What it does: reads the vocabulary (model.vocab, token -> id) and checks that
 * every other section describes what tokenizer.c implements: model WordPiece
 * with unk_token "[UNK]", continuing_subword_prefix "##"; a BertNormalizer
 * (clean_text true); a BertPreTokenizer; a TemplateProcessing or BertProcessing
 * post-processor giving [CLS] A [SEP] (B [SEP]) with BERT's type ids; added
 * tokens that are only [CLS] [SEP] [PAD] [UNK] [MASK] (no lstrip/rstrip/
 * single_word/normalized); truncation and padding, when present, on the right
 * with [PAD]. Anything else (a BPE, Unigram or WordLevel model, a Sequence
 * normalizer, a Metaspace pre-tokenizer...) is one BERTC_ERR_FORMAT line naming
 * the field. Writing gives the tokenizer.json transformers 5.x writes for a
 * BertTokenizer with the same vocabulary and options.
 * What it does not: decide which of tokenizer.json and tokenizer_config.json
 * gives the normaliser's options (hfmodel.c does, as transformers does; see
 * docs/tokenizer.md), decode ids, keep the truncation/padding sections (their
 * max_length only applies when a caller asks transformers to truncate/pad).
 *
 * Memory: the tokenizer made is the caller's (bert_tokenizer_free).
 *
 *     bert_tokenizer_opts o; bert_tokenizer_opts_default(&o);   // or tokenizer_config.json's
 *     bert_tokenizer *tok = NULL;
 *     if (bert_tokenizer_json_load(&tok, &o, "model/tokenizer.json", 1, &err) != BERTC_OK) ...
 *     bert_tokenizer_json_write(tok, "out/tokenizer.json", &err);
 *     bert_tokenizer_free(tok);
 */
#ifndef BERTC_TOKENIZER_JSON_H
#define BERTC_TOKENIZER_JSON_H

#include "tokenizer.h"

/* Loads path (a tokenizer.json) into *out (set on success only). opts is in/out:
 * it comes in with the options known so far (defaults, or tokenizer_config.json's);
 * with normalizer_options 1 the BertNormalizer's lowercase, strip_accents and
 * handle_chinese_chars replace do_lower_case, strip_accents and
 * tokenize_chinese_chars (what a plain tokenizers.Tokenizer.from_file does);
 * with 0 they are checked for form only and opts keeps its values (what
 * transformers' BertTokenizer does: it rebuilds the normaliser from
 * tokenizer_config.json). model.max_input_chars_per_word sets
 * opts->max_input_chars_per_word with normalizer_options 1; with 0 it must be
 * 100, the value BertTokenizer uses. Errors: BERTC_ERR_IO (unreadable),
 * BERTC_ERR_FORMAT (not JSON, or a field bertc does not implement). */
int bert_tokenizer_json_load(bert_tokenizer **out, bert_tokenizer_opts *opts, const char *path,
                             int normalizer_options, bertc_err *err);

/* Writes t's vocabulary and options as tokenizer.json at path (atomically).
 * BERTC_ERR_ARG when an id has no token (a duplicate in the source). */
int bert_tokenizer_json_write(const bert_tokenizer *t, const char *path, bertc_err *err);

/* Writes t's vocabulary as vocab.txt at path (atomically), one token per line.
 * BERTC_ERR_ARG when a token cannot be a vocab.txt line (an id without a token,
 * a token holding a line break or ending in white space). */
int bert_tokenizer_write_vocab_txt(const bert_tokenizer *t, const char *path, bertc_err *err);

#endif /* BERTC_TOKENIZER_JSON_H */
