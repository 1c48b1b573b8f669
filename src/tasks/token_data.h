/* token_data.h: tagged sentences for token classification (named-entity
 * recognition), and their alignment to word pieces, as transformers'
 * examples/pytorch/token-classification/run_ner.py prepares them for
 * BertForTokenClassification.
 *
 * What it does:
 *  - reads a data set of sentences, each a list of words with one tag per word,
 *    from CoNLL columns or JSON Lines (formats below, and docs/tasks-token.md);
 *  - maps tags to ids with a given label list (a model's id2label), or builds
 *    the list as run_ner.py does (sorted unique tag strings);
 *  - shuffles and limits with a seed exactly as bertc_data_shuffle_limit does;
 *  - aligns one sentence to [CLS] pieces... [SEP] with the word id of every
 *    token and run_ner.py's labels (-100 where the loss ignores a token).
 * What it does not: batch, pad, or decode predictions back to words (the
 * trainer does: a word's prediction is the one on its first piece), or score
 * (token_metrics.h).
 *
 * Formats (the format argument; NULL guesses from the file name: .jsonl,
 * .ndjson and .json are "jsonl", anything else "conll"):
 *  "conll": one word per line, whitespace-separated columns, the word first
 *     and the tag last (any number of columns in between, so the 4-column
 *     CoNLL-2003 original and its 2-column copies read the same). Blank lines
 *     end a sentence (several in a row are one boundary); a line whose first
 *     column is -DOCSTART- is a document boundary and is skipped (it ends a
 *     sentence too). CRLF line ends and a UTF-8 BOM are accepted. A line with
 *     one column is an error "FILE:LINE: ...".
 *  "jsonl": one JSON object per line, {"tokens": ["EU", ...], "ner_tags":
 *     ["B-ORG", ...]}; tags are strings, or integer ids into the label list
 *     given (integers need that list). Blank lines are skipped. A line that is
 *     not one JSON object, a "tokens" that is not a list of strings, tags of
 *     another kind, or lists of unequal length are errors "FILE:LINE: ...".
 *     "tokens": [] is kept as a sentence with no words ([CLS] [SEP]).
 *
 * Memory: a bertc_token_dataset owns everything it points to (words, tags,
 * label names, path); bertc_token_data_free releases it and is harmless on a
 * zeroed struct. A bertc_token_features is a caller-owned reusable buffer
 * (zero-initialise it, free with bertc_token_features_free); it grows only
 * when a sentence is longer than any before. Neither is shared between threads
 * while written.
 *
 * Errors: every function that can fail returns a bertc_status and leaves one
 * line on err naming the file and line (for data) and the fix.
 *
 *     bertc_err err = {0};
 *     bertc_token_dataset ds = {0};
 *     if (bertc_token_data_load(&ds, "conll2003/train.txt", "conll", NULL, 0, &err) ||
 *         bertc_token_data_shuffle_limit(&ds, 42, 1000, &err)) goto fail;
 *     int32_t *b2i = malloc(ds.num_labels * sizeof *b2i);   // only for label_all_tokens
 *     bertc_token_b_to_i(b2i, (const char *const *)ds.labels, ds.num_labels, &err);
 *     bertc_token_features f = {0};
 *     for (int s = 0; s < ds.n; s++) {
 *         if (bertc_token_align(&f, tok, &ds.sent[s], 128, NULL, &err)) goto fail; // or b2i
 *         cut += f.words_cut;                    // report it: those words are not trained on
 *         // f.input_ids, f.type_ids, f.word_ids, f.labels: (f.n) each
 *     }
 *     bertc_token_features_free(&f); free(b2i); bertc_token_data_free(&ds);
 */
#ifndef BERTC_TOKEN_DATA_H
#define BERTC_TOKEN_DATA_H

#include <stdint.h>
#include "common.h"
#include "tokenizer.h"

/* The label that makes the loss ignore a token (PyTorch's ignore_index). */
#define BERTC_TOKEN_IGNORE (-100)

/* One sentence: n words and their tags. */
typedef struct bertc_token_sentence {
    int n;          /* words; 0 only for a JSONL "tokens": [] */
    char **words;   /* (n) NUL-terminated UTF-8 words (may be "" in JSONL) */
    int32_t *tags;  /* (n) label ids in [0, num_labels); NULL for unlabelled text */
    long line;      /* 1-based line of the file where the sentence starts */
} bertc_token_sentence;

typedef struct bertc_token_dataset {
    int n;                       /* sentences */
    bertc_token_sentence *sent;  /* (n) in file order, or shuffled */
    long n_words;                /* words in the n sentences */
    int num_labels;              /* labels in the list (given, or built) */
    char **labels;               /* (num_labels) tag names in id order */
    char *path;                  /* the file, for messages */
    long docstarts;              /* -DOCSTART- lines skipped (CoNLL) */
    struct bertc_token_store *store_; /* private: the memory behind words and tags */
} bertc_token_dataset;

/* Reads path in format "conll" or "jsonl" (NULL: guessed from the name, see above)
 * into *ds (zeroed first; on failure it stays zeroed).
 * labels/num_labels: the label names in id order (e.g. a model's id2label): a
 * tag not among them is BERTC_ERR_NOTFOUND naming file, line and tag; an
 * integer tag must be in [0, num_labels). Names must be non-empty and distinct
 * (BERTC_ERR_ARG). labels NULL (num_labels 0): the list is built as run_ner.py
 * does, sorted(set(all tags)) in code point order (strcmp on UTF-8), and
 * integer tags are an error. Files of 2 GiB or more are refused. A file with no
 * sentence loads as ds->n = 0 (the caller decides whether that is an error). */
int bertc_token_data_load(bertc_token_dataset *ds, const char *path, const char *format,
                          const char *const *labels, int num_labels, bertc_err *err);

/* Releases everything ds owns and zeroes it; a zeroed ds is harmless. */
void bertc_token_data_free(bertc_token_dataset *ds);

/* Shuffles the sentences and keeps the first limit (limit < 0 or >= n keeps
 * all), with the permutation of bertc_data_shuffle_limit: perm = [0..n-1],
 * bertc_rng seeded with seed, bertc_rng_shuffle; sent'[i] = sent[perm[i]]. So
 * `--train-limit` and `--seed` pick sentences as they pick texts. Memory of
 * dropped sentences is kept until bertc_token_data_free. */
int bertc_token_data_shuffle_limit(bertc_token_dataset *ds, uint64_t seed, long limit,
                                   bertc_err *err);

/* run_ner.py's b_to_i_label, for label_all_tokens: map[i] = the id of
 * labels[i] with every "B-" replaced by "I-" (Python's str.replace), when the
 * name starts with "B-" and that name is in the list; else map[i] = i.
 * map has num_labels entries. Fails only on allocation. */
int bertc_token_b_to_i(int32_t *map, const char *const *labels, int num_labels, bertc_err *err);

/* One aligned sentence. All arrays have n entries, valid until the next call
 * that writes these features. */
typedef struct bertc_token_features {
    int n;              /* tokens: [CLS] pieces... [SEP]; n <= max_length */
    int32_t *input_ids; /* (n) vocabulary ids */
    int32_t *type_ids;  /* (n) all 0 */
    int32_t *word_ids;  /* (n) index of the word a piece came from; -1 for [CLS]/[SEP] */
    int32_t *labels;    /* (n) see bertc_token_align; BERTC_TOKEN_IGNORE = -100 */
    int words_cut;      /* words with at least one piece that lost some or all
                           of them to truncation (0 when nothing was cut) */
    int cap;            /* capacity of the arrays, in tokens */
    bert_encoding enc_; /* private scratch for bert_tokenize */
} bertc_token_features;

/* Aligns sentence s as transformers' tokenizer(words, is_split_into_words=True,
 * truncation=True, max_length=max_length) and run_ner.py's
 * tokenize_and_align_labels do:
 *  - each word is tokenized on its own with bert_tokenize (cleaning, splitting on
 *    punctuation and whitespace inside the word, WordPiece): "U.S." gives four
 *    pieces, all with that word's id; a word with no pieces (empty, only
 *    control characters or spaces) gets no token;
 *  - tokens are [CLS], the pieces of word 0, 1, ..., [SEP]; with max_length > 0
 *    the pieces are cut after max_length - 2 (transformers keeps the head), and
 *    out->words_cut counts the words that lost pieces (the caller reports it:
 *    those words get no prediction);
 *  - labels: -100 on [CLS]/[SEP]; on the first piece of word w its tag
 *    s->tags[w]; on the other pieces -100, or, when label_all_map is not NULL
 *    (run_ner's --label_all_tokens), label_all_map[s->tags[w]] (see
 *    bertc_token_b_to_i: B-X becomes I-X after the first piece). With
 *    s->tags NULL every label is -100.
 * max_length 0 means no truncation; otherwise it must be at least 2
 * (BERTC_ERR_ARG). Tags must be valid ids for label_all_map (not checked). */
int bertc_token_align(bertc_token_features *out, const bert_tokenizer *tok,
                      const bertc_token_sentence *s, int max_length,
                      const int32_t *label_all_map, bertc_err *err);

/* Releases the features' arrays and zeroes them; a zeroed struct is harmless. */
void bertc_token_features_free(bertc_token_features *f);

#endif /* BERTC_TOKEN_DATA_H */
