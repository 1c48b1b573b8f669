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
 * a token holding a bracketed marker ("[CLS]", "[SEP]", "[MASK]", "<s>", "</s>",
 * "<br />" pieces: any token with '[' ... ']' or '<' ... '>' in it). Operations
 * count and choose among unprotected tokens only. The output joins tokens with
 * single spaces (EDA does the same).
 * Deterministic: the same text, options and rng state give the same output.
 * What it does not: contextual (masked-LM) substitution (not built; the CLI says
 * so), other languages than English (WordNet is English), or pair texts (the
 * second text of a pair task is kept as it is).
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
    int method;       /* BERTC_AUG_EDA (BERTC_AUG_CONTEXTUAL is parsed but not built) */
    double alpha_sr;  /* share of words replaced by synonyms (0.1) */
    double alpha_ri;  /* share of words inserted (0.1) */
    double alpha_rs;  /* share of words swapped (0.1) */
    double p_rd;      /* probability of deleting each word (0.1) */
    int n;            /* augmented copies per example (4), 1..1000 */
    uint64_t seed;    /* 42 */
} bertc_augment_opts;

void bertc_augment_opts_default(bertc_augment_opts *a);

/* Parses "eda" or "eda:KEY=V,KEY=V" (nlpaug/EDA names): alpha (sets all four
 * rates), alpha_sr, alpha_ri, alpha_rs, p_rd (rates in [0, 1]), n (1..1000),
 * seed; "contextual" is accepted as a method name. Keys apply left to right
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
 * a->seed in example order. Opens WordNet. On failure ds is unchanged. */
struct bertc_dataset;
int bertc_augment_dataset(struct bertc_dataset *ds, const bertc_augment_opts *a, bertc_err *err);

/* *has = 1 when the model folder (or cached name) has a masked-LM head: tensors
 * named cls.predictions.* in its model.safetensors (what contextual substitution
 * would need). */
int bertc_augment_has_mlm_head(const char *model, int *has, bertc_err *err);

#endif /* BERTC_AUGMENT_H */
