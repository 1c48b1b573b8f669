/* tokenizer.h: BERT's BasicTokenizer + WordPiece, identical to transformers'
 * BertTokenizerFast (the `tokenizers` library) for a folder's settings.
 *
 * What it does: text cleaning, CJK splitting, optional lower-casing and accent
 * stripping (utf8proc supplies every Unicode property, case mapping and NFD),
 * whitespace/punctuation splitting, greedy longest-match WordPiece with "##",
 * literal special tokens ("[SEP]" in user text is the [SEP] token, as in
 * transformers), [CLS] A [SEP] (B [SEP]) with token_type_ids, truncation,
 * padding, and per-token offsets into the original text (code points, as
 * transformers' return_offsets_mapping gives them, and bytes).
 * What it does not: read tokenizer_config.json or tokenizer.json (hfmodel.c and
 * tokenizer_json.c fill bert_tokenizer_opts and the token list), decode ids
 * back to text, stride/overflow windows.
 * Choices where transformers is ambiguous are in docs/tokenizer.md.
 *
 * Memory: bert_tokenizer is an opaque handle owned by the caller
 * (bert_tokenizer_load / bert_tokenizer_free); it is read-only after loading,
 * so threads may share one. A bert_encoding is a caller-owned, reusable output
 * buffer (zero-initialise it, free with bert_encoding_free); it also holds the
 * scratch space of the call, so use one per thread. It grows only when an input
 * is longer than any before: a training loop that reuses its encodings does not
 * allocate once warmed up.
 *
 * Text is UTF-8 with an explicit length (NUL bytes allowed, and dropped as
 * transformers drops them). Invalid UTF-8 never fails: each maximal ill-formed
 * subsequence counts as one U+FFFD, exactly as Python's
 * bytes.decode("utf-8", "replace"), and U+FFFD is then dropped by cleaning.
 *
 *     bertc_err err = {0};
 *     bert_tokenizer_opts o; bert_tokenizer_opts_default(&o);
 *     bert_tokenizer *tok = NULL;
 *     if (bert_tokenizer_load(&tok, "model/vocab.txt", &o, &err) != BERTC_OK) ...
 *     bert_encoding enc[2] = {{0}};
 *     bert_encode(tok, "a text", 6, NULL, 0, 128, BERT_TRUNC_HEAD, &enc[0], &err);
 *     bert_encode(tok, "question", 8, "context", 7, 128, BERT_TRUNC_HEAD, &enc[1], &err);
 *     int T = bert_batch_longest(enc, 2);               // or T = max_length
 *     int32_t ids[2 * 128], types[2 * 128], mask[2 * 128];
 *     bert_pad_batch(ids, types, mask, tok, enc, 2, T, &err);   // (B, T) row-major
 *     bert_encoding_free(&enc[0]); bert_encoding_free(&enc[1]);
 *     bert_tokenizer_free(tok);
 */
#ifndef BERTC_TOKENIZER_H
#define BERTC_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>
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

typedef struct bert_tokenizer bert_tokenizer;

/* Ids of the special tokens; -1 where the vocabulary lacks one (only [MASK] may
 * be missing: loading fails without [CLS], [SEP], [PAD] or [UNK]). */
typedef struct bert_special_ids {
    int cls, sep, pad, unk, mask;
} bert_special_ids;

/* Truncation of a single text to max_length (pairs always use transformers'
 * longest_first, see bert_encode). */
typedef enum bert_trunc {
    BERT_TRUNC_HEAD = 0,      /* keep the first max_length-2 pieces (transformers) */
    BERT_TRUNC_TAIL = 1,      /* keep the last max_length-2 pieces */
    BERT_TRUNC_HEAD_TAIL = 2  /* keep the first 128 and the last max_length-130
                                 (Sun et al. 2019); when max_length-2 < 256 the head
                                 gets half the room, rounded down */
} bert_trunc;

/* One encoded text or pair. Zero-initialise, reuse across calls, free with
 * bert_encoding_free. All arrays have n entries (offsets 2n) and stay valid
 * until the next call that writes this encoding. */
typedef struct bert_encoding {
    int n;                  /* number of tokens */
    int32_t *ids;           /* (n) vocabulary ids */
    int32_t *type_ids;      /* (n) 0: [CLS], A and its [SEP]; 1: B and its final [SEP] */
    int32_t *offsets;       /* (n, 2) [begin, end) in code points of the text the token
                               came from (A or B, per type_id); (0, 0) for added specials */
    int32_t *byte_offsets;  /* (n, 2) the same span in bytes of that text */
    int cap;                /* capacity of the arrays above, in tokens */
    struct bert_scratch *scratch; /* private working memory */
} bert_encoding;

/* Loads vocab.txt: one token per line, id = line number (0-based). Line ends are
 * trimmed as the `tokenizers` library does (trailing Unicode whitespace, so CRLF
 * files work); a blank line is the token "" and takes its id; with duplicate
 * lines the later id wins the token and the earlier id has no token. Invalid
 * UTF-8 or a vocabulary without [CLS], [SEP], [PAD] or [UNK] is
 * BERTC_ERR_FORMAT. opts NULL means the defaults. *out is set on success only. */
int bert_tokenizer_load(bert_tokenizer **out, const char *vocab_path,
                        const bert_tokenizer_opts *opts, bertc_err *err);
/* The same from a token list held in memory (tokenizer_json.h reads one from
 * tokenizer.json): id i is tokens[i] (lens[i] bytes, copied, no trimming);
 * tokens[i] NULL leaves id i without a token. A token appearing twice keeps the
 * later id, as above. Invalid UTF-8, n < 1 or a missing [CLS], [SEP], [PAD] or
 * [UNK] is BERTC_ERR_FORMAT; messages start with `source` (e.g. the file name). */
int bert_tokenizer_load_tokens(bert_tokenizer **out, const char *const *tokens, const size_t *lens, int n,
                               const char *source, const bert_tokenizer_opts *opts, bertc_err *err);
/* Frees the tokenizer; NULL is harmless. */
void bert_tokenizer_free(bert_tokenizer *t);

/* Number of ids: lines in vocab.txt = largest id + 1. The model loader must
 * reject a vocabulary larger than the embedding matrix. */
int bert_tokenizer_vocab_size(const bert_tokenizer *t);
/* The options in force (strip_accents as given, -1 included). */
const bert_tokenizer_opts *bert_tokenizer_get_opts(const bert_tokenizer *t);
/* Id of a token (exact bytes, len bytes), or -1 if it is not in the vocabulary. */
int bert_tokenizer_token_to_id(const bert_tokenizer *t, const char *token, size_t len);
/* The token of an id (NUL-terminated, owned by t), or NULL when id is out of
 * range or its line was shadowed by a later duplicate. */
const char *bert_tokenizer_id_to_token(const bert_tokenizer *t, int id);
/* The special token ids. */
bert_special_ids bert_tokenizer_special_ids(const bert_tokenizer *t);

/* Tokenizes one text into word pieces (no [CLS]/[SEP], no truncation): out->ids,
 * out->offsets, out->byte_offsets; type_ids are 0. Literal special tokens in the
 * text are kept as those tokens. Fails only on allocation (BERTC_ERR_NOMEM) or a
 * text of 2^31 bytes or more (BERTC_ERR_ARG). */
int bert_tokenize(const bert_tokenizer *t, const char *text, size_t len,
                  bert_encoding *out, bertc_err *err);

/* Encodes [CLS] A [SEP] (b == NULL, or blen == 0: transformers treats an empty
 * text_pair as absent) or [CLS] A [SEP] B [SEP] into out.
 * max_length 0: no truncation. Otherwise the result has at most max_length
 * tokens: a single text is cut by `trunc`; a pair by transformers'
 * longest_first (with room L = max_length-3: the shorter keeps
 * min(its length, L/2) pieces, the longer gets the rest; equal lengths count the
 * second as the longer). max_length below 2 (single) or 3 (pair) is BERTC_ERR_ARG. */
int bert_encode(const bert_tokenizer *t, const char *a, size_t alen,
                const char *b, size_t blen, int max_length, bert_trunc trunc,
                bert_encoding *out, bertc_err *err);

/* The longest encoding in encs[0..B-1] (the T for padding="longest"). */
int bert_batch_longest(const bert_encoding *encs, int B);

/* Pads encs[0..B-1] on the right with [PAD] (type id 0, mask 0) into row-major
 * (B, T) arrays the caller provides. T must be at least bert_batch_longest(encs, B)
 * (BERTC_ERR_ARG otherwise: truncate first). token_type_ids or attention_mask may
 * be NULL when not wanted. */
int bert_pad_batch(int32_t *input_ids, int32_t *token_type_ids, int32_t *attention_mask,
                   const bert_tokenizer *t, const bert_encoding *encs, int B, int T,
                   bertc_err *err);

/* Decodes one code point of s[0..n) at byte i (i < n) into *cp and returns
 * its length in bytes. Each maximal ill-formed subpart is one U+FFFD, as
 * Python's bytes.decode("utf-8", "replace"), so code-point offsets agree with
 * transformers'. The one decoder the tokenizer and its callers share. */
int bert_utf8_next(const uint8_t *s, size_t n, size_t i, int32_t *cp);

/* Releases the encoding's arrays and zeroes it; a zeroed encoding is harmless. */
void bert_encoding_free(bert_encoding *e);

#endif /* BERTC_TOKENIZER_H */
