/* augment.h: text data augmentation, EDA (Wei and Zou 2019, "EDA: Easy Data
 * Augmentation Techniques for Boosting Performance on Text Classification").
 *
 * What it does: the four EDA operations on a text split at whitespace,
 *   SR  synonym replacement: n_sr = max(1, int(alpha_sr * words)) distinct
 *       non-stop words (in a random order) are replaced, every occurrence, by a
 *       random WordNet synonym;
 *   RI  random insertion: n_ri times, a synonym of a random word is inserted at a
 *       random position (up to 10 words are tried for one that has synonyms);
 *   RS  random swap: n_rs times, two random words trade places;
 *   RD  random deletion: each word is deleted with probability p_rd (at least one
 *       word is kept);
 * and, per example, EDA's mix: for each operation with a rate > 0, n / k + 1
 * sentences (k = operations in use; EDA's int(n / 4) + 1 for all four), shuffled,
 * the first n kept. Synonyms come from WordNet 3.0 through its C library
 * (Debian's wordnet-base data and wordnet-dev library), as EDA's NLTK does:
 * every synset of the word and of its morphological base forms (morphstr, NLTK's
 * morphy), for noun, verb, adjective and adverb, lemmas with '_' and '-' turned
 * into spaces, lower-cased, only letters and spaces kept, the word itself left out.
 * Words: a whitespace-separated token; its "core" is the token without leading
 * and trailing ASCII punctuation. SR/RI look up a core made only of ASCII letters
 * and put a replacement back between the same punctuation, capitalised when the
 * core was. Protected tokens are never replaced, deleted, swapped or looked up:
 * a token holding a bracketed marker ("[CLS]", "[SEP]", "[MASK]", "<s>", "</s>":
 * any token with '[' ... ']' or '<' ... '>' in it) or a piece of markup that
 * whitespace cut (IMDB's "<br /><br />" is "<br", "/><br", "/>": a token with
 * "/>", or '<' before a letter, '/' or '!'). Operations
 * count and choose among unprotected tokens only. The output joins tokens with
 * single spaces (EDA does the same).
 * Deterministic: the same text, options and rng state give the same output.
 * What EDA does not: other languages than English (WordNet is English), or pair
 * texts (the second text of a pair task is kept as it is).
 *
 * Contextual substitution (method "contextual", augment_mlm.c; Kobayashi 2018,
 * nlpaug's ContextualWordEmbsAug "substitute"): needs a folder with a masked-LM
 * head (BertForMaskedLM's cls.predictions.*, DistilBertForMaskedLM's
 * vocab_transform/vocab_layer_norm/vocab_projector; the decoder tied to the word
 * embeddings when the file has no weight of its own); a folder without one is a
 * one-line "not available" error. Per augmented copy: n_sub = max(1, int(alpha *
 * unprotected words)) distinct words whose core is ASCII letters and not an EDA
 * stop word are drawn (a shuffle of those words, the first n_sub), each replaced
 * by one [MASK] (its punctuation kept around it); the copy's pieces are cut into
 * windows of at most max_length - 2 pieces at word starts (a window starts up to
 * half its length before its first [MASK]), run as [CLS] window [SEP] through
 * encoder and head (eval mode); each [MASK] takes one of the top_k vocabulary
 * entries made of letters only (not special, not ##pieces, not the word itself
 * in any case), drawn with probability softmax(score / temperature), capitalised
 * as the word was. All words are masked at once in a window (not one by one).
 * The rng draws the words of every copy first, then one draw per [MASK] in copy
 * and word order: the same text, options, seed and thread count give the same
 * copies.
 *
 * Memory: a bertc_words owns its token strings; bertc_words_free releases them.
 * The WordNet library keeps global state: bertc_wordnet_open is called once
 * (later calls are cheap) and the module is not thread-safe.
 *
 * Errors: a status and one line on err; a missing WordNet dictionary is
 * BERTC_ERR_NOTFOUND naming the folder searched (WNSEARCHDIR or the default).
 *
 *     bertc_augment_opts a; bertc_augment_opts_default(&a);
 *     if (bertc_augment_parse(&a, "eda:alpha=0.1,n=4", &err)) ...;
 *     bertc_dataset ds = ...;                       // data.h
 *     if (bertc_augment_dataset(&ds, &a, &err)) ...; // ds: each original, then its n copies
 */
#ifndef BERTC_AUGMENT_H
#define BERTC_AUGMENT_H

#include <stddef.h>
#include <stdint.h>
#include "common.h"
#include "rng.h"

enum { BERTC_AUG_EDA = 0, BERTC_AUG_CONTEXTUAL = 1 };

typedef struct bertc_augment_opts {
    int method;       /* BERTC_AUG_EDA or BERTC_AUG_CONTEXTUAL */
    double alpha_sr;  /* share of words replaced by synonyms (0.1); contextual: by the
                         masked-LM's predictions ("alpha") */
    double alpha_ri;  /* share of words inserted (0.1) */
    double alpha_rs;  /* share of words swapped (0.1) */
    double p_rd;      /* probability of deleting each word (0.1) */
    int n;            /* augmented copies per example (4), 1..1000 */
    uint64_t seed;    /* 42 */
    /* contextual only */
    int top_k;          /* candidates per [MASK] (10), 1..64 */
    double temperature; /* of the draw among them (1.0), > 0 */
    int max_length;     /* pieces per window with [CLS]/[SEP] (128; at most the model's positions) */
    char model[1024];   /* the masked-LM folder or cached name ("": the caller's default) */
} bertc_augment_opts;

void bertc_augment_opts_default(bertc_augment_opts *a);

/* Parses "eda" or "eda:KEY=V,KEY=V" (nlpaug/EDA names): alpha (sets all four
 * rates), alpha_sr, alpha_ri, alpha_rs, p_rd (rates in [0, 1]), n (1..1000),
 * seed; or "contextual[:KEY=V,...]": alpha, n, seed, top_k, temperature,
 * max_length, model (a path without ',' or '='). A key of the other method is
 * an error naming it. Keys apply left to right
 * (alpha=0.2,p_rd=0 sets three rates to 0.2 and RD off). On error a is unchanged
 * and the message names the key. */
int bertc_augment_parse(bertc_augment_opts *a, const char *spec, bertc_err *err);

/* Opens the WordNet dictionary (WNSEARCHDIR, else the library's default
 * /usr/share/wordnet). BERTC_ERR_NOTFOUND when its files are missing. */
int bertc_wordnet_open(bertc_err *err);

/* A sentence as tokens. */
typedef struct bertc_words {
    char **w;  /* (n) NUL-terminated tokens, owned */
    int n, cap;
} bertc_words;

/* Splits text[0..len) at ASCII whitespace into w (emptied first). */
int bertc_words_split(bertc_words *w, const char *text, size_t len, bertc_err *err);
/* The tokens joined by single spaces, malloc'd into *out (*out_len bytes, NUL after). */
int bertc_words_join(const bertc_words *w, char **out, size_t *out_len, bertc_err *err);
int bertc_words_copy(bertc_words *dst, const bertc_words *src, bertc_err *err);
void bertc_words_free(bertc_words *w);

/* 1 when the token is protected (see above). */
int bertc_aug_protected(const char *tok);

/* WordNet synonyms of a lower-case word (see above), in a fixed order (noun,
 * verb, adjective, adverb; senses in WordNet's order; duplicates dropped), as a
 * bertc_words the caller frees. Needs bertc_wordnet_open. */
int bertc_wordnet_synonyms(const char *word, bertc_words *out, bertc_err *err);

/* The four operations, in place (EDA's synonym_replacement, random_insertion,
 * random_swap, random_deletion with the counts given). */
int bertc_eda_sr(bertc_words *w, int n_sr, bertc_rng *r, bertc_err *err);
int bertc_eda_ri(bertc_words *w, int n_ri, bertc_rng *r, bertc_err *err);
void bertc_eda_rs(bertc_words *w, int n_rs, bertc_rng *r);
void bertc_eda_rd(bertc_words *w, double p_rd, bertc_rng *r);

/* EDA's mix for one text: a->n augmented texts into out[0..a->n) (malloc'd; the
 * caller frees each), drawing from r. */
int bertc_eda_text(char **out, size_t *out_len, const char *text, size_t len, const bertc_augment_opts *a,
                   bertc_rng *r, bertc_err *err);

/* Replaces ds (data.h) with each example followed by its a->n augmented copies
 * (same label(s), same second text), all drawn from one rng seeded with
 * a->seed in example order. EDA opens WordNet; contextual loads a->model (which
 * must be set). On failure ds is unchanged. */
struct bertc_dataset;
int bertc_augment_dataset(struct bertc_dataset *ds, const bertc_augment_opts *a, bertc_err *err);

/* Helpers both methods share (augment.c): a token's core (without leading and
 * trailing ASCII punctuation: [*b, *e)); 1 when it is non-empty and all ASCII
 * letters, lower-cased into low (cap bytes). EDA's stop words. The token with its
 * core replaced by rep, capitalised when the core was (malloc'd; NULL: no memory). */
int bertc_aug_word_core(const char *tok, size_t *b, size_t *e, char *low, size_t cap);
int bertc_aug_is_stop(const char *low);
char *bertc_aug_rebuild(const char *tok, size_t b, size_t e, const char *rep);

/* ---- Contextual substitution (augment_mlm.c) ---- */

/* *has = 1 when the model folder (or cached name) has a masked-LM head (above)
 * in its model.safetensors. */
int bertc_augment_has_mlm_head(const char *model, int *has, bertc_err *err);
/* BERTC_OK when it has one; else BERTC_ERR_ARG with the one-line "contextual
 * substitution is not available with it" message (or the error reading it). */
int bertc_augment_need_mlm_head(const char *model, bertc_err *err);

/* A loaded masked-LM: encoder, head and tokenizer, for windows of at most
 * max_length pieces (<= 0: 128; capped at the model's positions), 8 at a time.
 * A folder without a head: BERTC_ERR_ARG, "... not available ...". */
typedef struct bertc_mlm bertc_mlm;
int bertc_mlm_open(bertc_mlm **out, const char *model, int max_length, bertc_err *err);
void bertc_mlm_free(bertc_mlm *m);
int bertc_mlm_vocab_size(const bertc_mlm *m);
/* Prediction scores (nrows, V) at rows[i] = b*T+t of a padded batch ids/mask
 * (B,T), eval mode: transformers' MaskedLM logits at those positions. */
int bertc_mlm_logits(bertc_mlm *m, const int *ids, const int *mask, int B, int T, const int *rows, int nrows,
                     float *logits, bertc_err *err);
/* a->n augmented texts of one text into out[0..a->n) (malloc'd; the caller frees
 * each), drawing from r (above). */
int bertc_contextual_text(char **out, size_t *out_len, const char *text, size_t len, const bertc_augment_opts *a,
                          bertc_mlm *m, bertc_rng *r, bertc_err *err);

#endif /* BERTC_AUGMENT_H */
