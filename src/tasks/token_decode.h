/* token_decode.h: the output decoding of token classification (named-entity
 * recognition): per-token logits -> the entities that transformers 5.24's
 * pipeline("token-classification", aggregation_strategy=S) returns, for S in
 * none, simple, first, average, max, and their JSON as json.dumps writes it.
 *
 * What it does, step by step as TokenClassificationPipeline.postprocess does:
 *   1. softmax per token (subtract the row max, exp, normalise; in double here,
 *      numpy works in float32: scores agree to ~1e-7);
 *   2. pre-entities: every token but the added [CLS]/[SEP] (offsets (0, 0));
 *      word = the vocabulary token ("##ing"), except [UNK], whose word is the
 *      original text it covers; is_subword = the token's length in code points
 *      differs from its span's ("##ing" vs "ing"), never for [UNK];
 *   3. none/simple: each token's argmax label and its probability;
 *      first/average/max: tokens of a word (a token plus the subwords after it)
 *      get one label: the first token's argmax / the argmax of the mean of the
 *      probability rows / the argmax of the token with the largest probability;
 *   4. all but none: adjacent (word-)entities merge when the tag matches and the
 *      later one is not "B-" (a label without "B-"/"I-" counts as "I-" of
 *      itself); a group's score is the mean score, its entity_group the label
 *      after the first '-' ("B-PER" -> "PER", "O" -> "O");
 *   5. labels in ignore_labels (default {"O"}) are dropped: the token's label for
 *      none, the entity_group otherwise.
 * The word strings are built as the tokenizer's WordPiece decoder does
 * (bertc_token_decode_words). start/end are code-point offsets into the text.
 * What it does not: run the model, windows over long texts (stride), texts
 * given as words (is_split_into_words), pairs. Choices: docs/tasks-token-decode.md.
 *
 * Memory: bertc_token_decode returns a malloc'd array of entities whose strings
 * it owns; free it with bertc_token_entities_free. The JSON functions return
 * malloc'd text (free()) or a cJSON tree (cJSON_Delete). Nothing is kept between
 * calls; the functions are thread-safe.
 *
 *     bertc_err err = {0};
 *     bert_encoding enc = {0};
 *     bert_encode(tok, text, len, NULL, 0, 512, BERT_TRUNC_HEAD, &enc, &err);
 *     float *logits = ...;                                  // (enc.n, NL) from the head
 *     const char *labels[] = {"O", "B-PER", "I-PER", ...};  // (NL) config.json id2label
 *     bertc_entity *ents = NULL; int n = 0;
 *     if (bertc_token_decode(&ents, &n, tok, text, len, &enc, logits, NL, labels,
 *                            BERTC_TOKEN_SIMPLE, NULL, 0, &err) != BERTC_OK) ...
 *     char *json = bertc_token_entities_json(ents, n, BERTC_TOKEN_SIMPLE);
 *     // [{"entity_group": "PER", "score": 0.99, "word": "wolfgang", "start": 11, "end": 19}]
 *     free(json);
 *     bertc_token_entities_free(ents, n);
 */
#ifndef BERTC_TOKEN_DECODE_H
#define BERTC_TOKEN_DECODE_H

#include <stddef.h>
#include "common.h"
#include "tokenizer.h"

struct cJSON;

/* transformers' AggregationStrategy. */
typedef enum bertc_token_strategy {
    BERTC_TOKEN_NONE = 0,    /* one entity per token: entity, score, index, word, start, end */
    BERTC_TOKEN_SIMPLE = 1,  /* B-/I- runs of tokens grouped (a word may be split) */
    BERTC_TOKEN_FIRST = 2,   /* words take their first token's label, then grouped */
    BERTC_TOKEN_AVERAGE = 3, /* words take the argmax of their tokens' mean probabilities */
    BERTC_TOKEN_MAX = 4      /* words take the label of their most confident token */
} bertc_token_strategy;

/* "none", "simple", "first", "average", "max" (case-insensitive, as transformers'
 * AggregationStrategy[name.upper()]) -> *out. Anything else is BERTC_ERR_ARG. */
int bertc_token_strategy_parse(int *out, const char *name, bertc_err *err);
/* The lower-case name of a strategy; "?" when out of range. */
const char *bertc_token_strategy_name(int strategy);

/* One entity of the pipeline's answer. */
typedef struct bertc_entity {
    char *entity; /* none: the token's label (id2label); others: entity_group ("PER") */
    double score; /* probability in [0, 1]: the label's, or the group's mean */
    int index;    /* none: the token's position in the encoding ([CLS] is 0); others: -1 */
    char *word;   /* UTF-8: the token, or the decoded tokens of the group */
    int start;    /* first code point of the text it covers */
    int end;      /* one past its last code point */
} bertc_entity;

/* Decodes one text's logits into entities.
 *   out, n_out    the entities in text order (*out NULL when there are none);
 *                 set on success only; free with bertc_token_entities_free
 *   tok           the tokenizer that made enc (for id -> token and [UNK]/[CLS]/[SEP])
 *   text, len     the UTF-8 text enc came from (invalid bytes are read as U+FFFD,
 *                 as bert_encode does)
 *   enc           bert_encode(tok, text, len, NULL, 0, ...) of that text (one text,
 *                 not a pair; truncation is the caller's choice)
 *   logits        (enc->n, NL) row-major, finite
 *   NL, id2label  number of labels and their names (NL non-NULL strings)
 *   strategy      a bertc_token_strategy
 *   ignore_labels labels to drop (n_ignore of them); NULL means the pipeline's
 *                 default {"O"}; pass a non-NULL pointer with n_ignore 0 to keep all
 * Errors: BERTC_ERR_ARG (a NULL argument, NL < 1, an unknown strategy, an encoding
 * whose offsets do not fit the text), BERTC_ERR_NUMERIC (a NaN or infinite logit,
 * naming the token and label), BERTC_ERR_NOMEM. */
int bertc_token_decode(bertc_entity **out, int *n_out, const bert_tokenizer *tok,
                       const char *text, size_t len, const bert_encoding *enc,
                       const float *logits, int NL, const char *const *id2label,
                       int strategy, const char *const *ignore_labels, int n_ignore,
                       bertc_err *err);

/* Frees n entities and the array; NULL is harmless. */
void bertc_token_entities_free(bertc_entity *ents, int n);

/* The string of tokens[0..n) as the tokenizer's convert_tokens_to_string gives it
 * (tokenizers' WordPiece decoder, prefix "##", cleanup on): each token after the
 * first loses a leading "##" or gains a leading space, then within each token
 * " ." " ?" " !" " ," " ' " become "." "?" "!" "," "'", " n't" " 'm" " 's" " 've"
 * " 're" lose their space and " do not" becomes " don't"; the pieces are joined.
 * Returns a malloc'd string (caller frees), NULL when out of memory. */
char *bertc_token_decode_words(const char *const *tokens, int n);

/* The entities as json.dumps(list_of_dicts) writes them (default separators
 * ", " and ": ", ensure_ascii: non-ASCII as \uXXXX with surrogate pairs, the score
 * as Python's repr of a float). Keys in the pipeline's order: none: entity, score,
 * index, word, start, end; others: entity_group, score, word, start, end.
 * Returns malloc'd text (caller frees), NULL when out of memory. */
char *bertc_token_entities_json(const bertc_entity *ents, int n, int strategy);

/* The same list as a cJSON array (keys in the same order, the score a raw number
 * in Python's repr), for embedding in a larger answer; NULL when out of memory.
 * cJSON_PrintUnformatted of it differs from bertc_token_entities_json only by
 * having no spaces and raw UTF-8 instead of \u escapes. Caller: cJSON_Delete. */
struct cJSON *bertc_token_entities_cjson(const bertc_entity *ents, int n, int strategy);

/* Python's repr of a double (the shortest string that reads back to v: "0.5",
 * "1e-05", "1.0") into buf (at least 32 bytes). Returns buf. */
char *bertc_token_float_repr(char *buf, size_t cap, double v);

#endif /* BERTC_TOKEN_DECODE_H */
