/* classifier.h: a loaded model ready to classify text: the model folder, its
 * tokenizer and an inference model sized for one batch, plus the batching that
 * predict, eval, attention and serve share.
 *
 * It does not train (see train.h) and does not read data files (see data.h).
 *
 * Memory: bertc_classifier owns everything it loads; bertc_classifier_free
 * releases it (NULL is harmless). Result arrays are the caller's.
 *
 *     bertc_classifier_opts o; bertc_classifier_opts_default(&o);
 *     o.max_length = 128;
 *     bertc_classifier *c = NULL;
 *     if (bertc_classifier_open(&c, "all-MiniLM-L6-v2", &o, &err)) ...
 *     float *probs = malloc(n * bertc_classifier_num_labels(c) * sizeof *probs);
 *     bertc_classifier_run(c, texts, lens, NULL, NULL, n, probs, NULL, &err);
 *     printf("%s\n", bertc_classifier_label(c, argmax(probs)));
 *     bertc_classifier_free(c);
 */
#ifndef BERTC_CLASSIFIER_H
#define BERTC_CLASSIFIER_H

#include <stddef.h>
#include "bert.h"
#include "hfmodel.h"
#include "tokenizer.h"

typedef struct bertc_classifier_opts {
    int batch_size;      /* sequences per forward pass (default 32) */
    int max_length;      /* tokens per sequence incl. specials; 0 = the model's
                            model_max_length, else max_position_embeddings */
    bert_trunc trunc;    /* single texts: head (default), tail, head+tail */
    int pad_to_max;      /* 1: pad every batch to max_length (the notebook's
                            padding="max_length"); 0: to the batch's longest */
    int precision;       /* BERT_PREC_FP32 (default), BERT_PREC_BF16 (ops_bf16.h; refused
                            with BERTC_ERR_ARG where the CPU has no AVX512-BF16),
                            BERT_PREC_INT8 (ops_int8.h) or BERT_PREC_AUTO (bf16 where
                            the CPU has AVX512-BF16, else fp32); opts.precision of an
                            open classifier holds what auto resolved to */
    uint64_t seed;       /* seeds a new head when the folder has no classifier */
    int task;            /* -1 (default): the head config.json's architectures names; a
                            BERT_TASK_* gives a bare encoder (or another task's folder) a
                            new head of that task (hf_load_opts.task) */
    int allow_download;  /* 1: a Hub id missing from the cache may be downloaded (hfmodel.h
                            hf_model_find); default hub_downloads_allowed(), 0 in the library */
} bertc_classifier_opts;

void bertc_classifier_opts_default(bertc_classifier_opts *o);

typedef struct bertc_classifier {
    hf_model hf;                 /* config, labels, parameters */
    bert_tokenizer *tok;
    bert_model model;            /* inference model, Bmax = batch_size, Tmax = max_length */
    bertc_classifier_opts opts;  /* with max_length resolved */
    bert_encoding *enc;          /* (batch_size) reusable encodings */
    int32_t *ids, *types, *mask; /* (batch_size, max_length) */
    bertc_err last_err;          /* the last public API call's status and message (bertc_errmsg) */
} bertc_classifier;

int bertc_classifier_open(bertc_classifier **out, const char *model, const bertc_classifier_opts *o,
                          bertc_err *err);
void bertc_classifier_free(bertc_classifier *c);

int bertc_classifier_num_labels(const bertc_classifier *c);
const char *bertc_classifier_label(const bertc_classifier *c, int i);

/* Classifies n texts (pairs when texts_b is not NULL) in batches of batch_size.
 * probs: (n, NL) softmax probabilities; logits: (n, NL) or NULL. */
int bertc_classifier_run(bertc_classifier *c, const char *const *texts, const size_t *lens,
                         const char *const *texts_b, const size_t *lens_b, int n, float *probs,
                         float *logits, bertc_err *err);

/* Encodes one batch of at most batch_size texts into c->ids/types/mask and
 * returns its padded length in *T (what bertc_classifier_run does per batch;
 * exposed for callers that need the tokens, e.g. attention maps). */
int bertc_classifier_encode(bertc_classifier *c, const char *const *texts, const size_t *lens,
                            const char *const *texts_b, const size_t *lens_b, int B, int *T,
                            bertc_err *err);

/* Long texts (--long-text chunks, longtext.h): classifies each of n texts
 * by its overlapping windows of opts.max_length tokens sharing stride tokens,
 * pools the windows' logits (BERTC_POOL_MEAN or BERTC_POOL_MAX) and turns the
 * pooled logits into probs (n, NL): softmax, or sigmoid for a multi-label model.
 * logits: (n, NL) pooled logits or NULL. Single texts only. */
int bertc_classifier_run_long(bertc_classifier *c, const char *const *texts, const size_t *lens, int n, int stride,
                              int pool, float *probs, float *logits, bertc_err *err);

/* 1 when the model is multi-label (config.json problem_type
 * multi_label_classification): probs are independent sigmoids. */
int bertc_classifier_multi_label(const bertc_classifier *c);

#endif
