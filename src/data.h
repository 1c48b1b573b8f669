/* data.h: labelled text data sets for training and evaluation.
 *
 * What it does: reads an aclImdb folder or its .tar.gz (streamed with libarchive,
 * never unpacked to disk), CSV/TSV with a header row, JSON Lines and fastText
 * lines into one in-memory form: n examples, each a UTF-8 text (an optional second
 * text for pair tasks) and a label id, plus the label names in id order. It builds
 * the label set (or maps a data set onto a given one), shuffles with a seed, limits
 * and carves off a validation split. docs/data.md defines the formats, the label
 * rules and the exact shuffle/split definitions.
 * What it does not: tokenise, batch, or read unlabelled text.
 *
 * Memory: a bertc_dataset owns everything it points to (texts, label names, path);
 * bertc_data_free releases it all at once and is harmless on NULL or a zeroed
 * struct. Texts live in a few large blocks (the CSV/fastText file buffer is reused
 * in place), so memory is about the size of the text.
 *
 * Errors: every function that can fail returns a bertc_status and leaves one line
 * on err that starts with the file (and "file:line:" where a line applies).
 *
 *     bertc_err err = {0};
 *     bertc_data_opts o; bertc_data_opts_default(&o);
 *     bertc_dataset train = {0}, eval = {0};
 *     if (bertc_data_load(&train, "aclImdb-text.tar.gz:train", "train", &o, &err) ||
 *         bertc_data_check_classes(&train, &err) ||
 *         bertc_data_shuffle_limit(&train, 42, 1000, &err)) goto fail;
 *     o.labels = (const char *const *)train.labels;  // eval labels must be training's
 *     o.num_labels = train.num_labels;
 *     if (bertc_data_load(&eval, "reviews.csv", "test", &o, &err)) goto fail;
 *     for (int i = 0; i < train.n; i++)
 *         use(train.ex[i].text, train.ex[i].len, train.ex[i].label);
 *   fail:
 *     bertc_data_free(&train); bertc_data_free(&eval);
 */
#ifndef BERTC_DATA_H
#define BERTC_DATA_H

#include <stddef.h>
#include <stdint.h>
#include "common.h"

typedef struct bertc_example {
    const char *text;  /* UTF-8 bytes, NUL-terminated (the NUL is not counted in len) */
    size_t len;        /* bytes */
    const char *pair;  /* the second text of a pair task, NUL-terminated; NULL when none */
    size_t pair_len;   /* bytes; 0 when pair is NULL */
    int label;         /* label id in [0, num_labels); multi-label: the first of label_ids,
                          or -1 when the example has none */
    const int *label_ids; /* multi-label only: num_label_ids distinct ids in increasing
                             order (owned by the data set); NULL otherwise */
    int num_label_ids;    /* multi-label only: 0..num_labels */
    int rating;        /* aclImdb: the rating from <id>_<rating>.txt (1..10); else -1 */
    long id;           /* aclImdb: the <id> of the file name; else -1 */
    long line;         /* 1-based line where the record starts in the file; 0 for aclImdb */
} bertc_example;

typedef struct bertc_pool bertc_pool; /* private: the blocks that hold the texts */

typedef struct bertc_dataset {
    bertc_example *ex;   /* (n) examples in the documented order (or shuffled order) */
    int n;               /* number of examples */
    char **labels;       /* (num_labels) label names in id order, NUL-terminated */
    int num_labels;
    int labels_are_ints; /* 1: every label name is a decimal integer (numeric order) */
    int has_pair;        /* 1: examples carry a second text (text_pair_column was set) */
    int multi_label;     /* 1: loaded with opts.multi_label: examples carry label_ids */
    int *ml_ids;         /* private: every example's label_ids, one allocation */
    size_t ml_count;     /* private: ints in ml_ids */
    char *path;          /* the file or folder read (without :SPLIT), for messages */
    char format[16];     /* "imdb", "csv", "tsv", "jsonl" or "fasttext" */
    char split[8];       /* aclImdb: "train" or "test"; else "" */
    size_t text_bytes;   /* sum of len + pair_len over the examples */
    bertc_pool *pool;    /* private */
} bertc_dataset;

typedef struct bertc_data_opts {
    const char *format;           /* NULL or "auto": from the path; else "imdb", "csv",
                                     "tsv", "jsonl" or "fasttext" */
    const char *text_column;      /* CSV/TSV column or JSON key of the text; "text" */
    const char *text_pair_column; /* column/key of the second text; NULL: single text */
    const char *label_column;     /* column/key of the label; "label" */
    const char *label_prefix;     /* fastText label prefix; "__label__" */
    const char *const *labels;    /* explicit label set in id order (--labels a,b,c, or a
                                     training set's labels), or NULL: built from the data */
    int num_labels;               /* entries in labels; 0 when labels is NULL */
    size_t max_bytes;             /* refuse an input file larger than this; 4 GiB */
    uint64_t max_archive_bytes;   /* .tar.gz: refuse an archive whose entries (as their tar
                                     headers declare, read or skipped) add up to more than
                                     this uncompressed: a decompression bomb; 4 GiB (the
                                     aclImdb text archive is ~130 MB); 0 = the default */
    long max_archive_entries;     /* .tar.gz: refuse more entries than this; 1,000,000
                                     (aclImdb has ~100,000); 0 = the default */
    int multi_label;              /* 0: one label per example (default). 1: any number:
                                     JSONL "label": ["a", "b"] (or one string/integer),
                                     fastText: every leading PREFIXname word, CSV/TSV: the
                                     label field split at label_separator; an example may
                                     have no label ([] / no prefix word / empty field) */
    const char *label_separator;  /* multi-label CSV/TSV: separator inside the label field
                                     (e.g. ","); NULL: the field is one label */
} bertc_data_opts;

/* Fills o with the defaults listed above. */
void bertc_data_opts_default(bertc_data_opts *o);

/* Loads the data set named by spec into ds (which must be zeroed or freed).
 *
 * spec is PATH or PATH:SPLIT. SPLIT (train|test) selects the aclImdb split; without
 * it, default_split is used (NULL means "train"). A spec that names an existing
 * file or folder as a whole is never split at its colon. The format comes from
 * opts->format, else from the path: a folder or a .tar.gz/.tgz file is aclImdb, .csv is
 * CSV, .tsv TSV, .jsonl/.ndjson/.json JSON Lines, .txt/.ft/.fasttext fastText.
 *
 * Labels: with opts->labels, every label must be one of those names (or, when the
 * names are not integers, an integer id k in [0, num_labels)); otherwise the label
 * set is every label seen, integers in numeric order when all labels are integers,
 * else names in byte order (so aclImdb gives neg = 0, pos = 1).
 *
 * Fails, touching nothing it did not allocate, on: a missing or unreadable file,
 * a corrupt archive, no examples, a missing column/key, a row with the wrong number
 * of fields, invalid JSON, a label outside opts->labels, an unknown format. On
 * failure ds is left zeroed. */
int bertc_data_load(bertc_dataset *ds, const char *spec, const char *default_split,
                    const bertc_data_opts *opts, bertc_err *err);

/* Re-maps ds's label ids onto the label set names[0..k) (a training set's labels),
 * matching as bertc_data_load does for opts->labels. A label of ds that is not in
 * names is an error naming ds's file, the line of its first example and the label.
 * On success ds->labels becomes a copy of names; on failure ds is unchanged. */
int bertc_data_map_labels(bertc_dataset *ds, const char *const *names, int k, bertc_err *err);

/* BERTC_OK when at least two labels have examples (a training set needs two
 * classes); else BERTC_ERR_FORMAT naming the file and the only label. */
int bertc_data_check_classes(const bertc_dataset *ds, bertc_err *err);

/* Shuffles ds in place and keeps the first limit examples (limit < 0 or >= n keeps
 * all): perm = [0, 1, ..., n-1]; bertc_rng r seeded with seed; bertc_rng_shuffle
 * (Fisher-Yates from the end, j = bertc_rng_below(i + 1)); ex'[i] = ex[perm[i]].
 * The same data, seed and limit always give the same rows in the same order.
 * When rows are dropped their texts are copied into a fresh pool and the old one
 * freed, so memory follows the kept text. */
int bertc_data_shuffle_limit(bertc_dataset *ds, uint64_t seed, long limit, bertc_err *err);

/* Carves a validation split off ds: perm as in bertc_data_shuffle_limit with seed;
 * n_eval = ceil(fraction * n) (computed with a 1e-9 slack, so 0.7 * 10 is 7);
 * out_eval gets ex[perm[0..n_eval)], out_train ex[perm[n_eval..n)], in that order
 * (as Hugging Face's train_test_split(test_size=fraction)). Both are new data sets
 * with their own copies and ds's label set; ds is unchanged. Needs 0 < fraction < 1
 * and at least one example on each side. */
int bertc_data_split(const bertc_dataset *ds, double fraction, uint64_t seed,
                     bertc_dataset *out_train, bertc_dataset *out_eval, bertc_err *err);

/* Examples per label: counts[k] for k in [0, num_labels) (multi-label: examples
 * that have label k). */
void bertc_data_label_counts(const bertc_dataset *ds, long *counts);

/* Multi-hot targets of example e for bert_backward_multilabel: row[k] = 1 when e
 * has label k, else 0 (num_labels floats). For a single-label data set, the
 * one-hot row of e->label. */
void bertc_data_multi_hot(const bertc_dataset *ds, const bertc_example *e, float *row);

/* JSON Lines, for every reader of them (here and src/tasks/token_data.c):
 * reads path (at most max_bytes; a UTF-8 byte order mark is skipped) and calls
 * each(ctx, obj, line) for every line that is not blank (spaces, tabs, CR), in
 * order, with obj the line's one JSON object (deleted after the call) and line
 * its number from 1. Stops at the first non-zero return and returns it. A line
 * that is not exactly one JSON object: BERTC_ERR_FORMAT, "PATH:LINE: invalid
 * JSON: each line must be one JSON object", then " " and hint when hint is not
 * NULL. A file that cannot be read: its error on err. */
struct cJSON;
typedef int (*bertc_jsonl_fn)(void *ctx, const struct cJSON *obj, long line);
int bertc_jsonl_each(const char *path, size_t max_bytes, const char *hint, bertc_jsonl_fn each, void *ctx,
                     bertc_err *err);

/* out = a new data set of the examples ex[0..m) (texts and label ids copied;
 * their texts may live anywhere) with like's label set, path and format. */
int bertc_data_from_examples(bertc_dataset *out, const bertc_dataset *like, const bertc_example *ex, int m,
                             bertc_err *err);

/* Writes ds to path in format ("csv", "tsv", "jsonl", "fasttext"; NULL or "auto":
 * from the path as bertc_data_load reads it) so that bertc_data_load with the
 * same cols reads it back: CSV/TSV a header row (text column, the pair column
 * when ds has pairs, label column) and RFC 4180 quoting where a field needs it;
 * JSON Lines one object a line (labels as numbers when they are all integers);
 * fastText "PREFIXlabel text" with line breaks in the text turned into spaces.
 * Labels are written by name. Atomic (bertc_write_file_atomic): on failure the
 * file is untouched. aclImdb folders are not written. cols may be NULL (defaults). */
int bertc_data_write(const bertc_dataset *ds, const char *path, const char *format, const bertc_data_opts *cols,
                     bertc_err *err);

/* Frees everything ds owns and zeroes it. NULL or zeroed: nothing happens. */
void bertc_data_free(bertc_dataset *ds);

#endif /* BERTC_DATA_H */
