/* token_infer.h: a token-classification model at work: word-level tags for
 * evaluation, and entities for predict/serve (as transformers' pipeline).
 *
 * What it does: runs a loaded model whose head is token classification (a
 * bertc_classifier opened on a BertForTokenClassification folder: classifier.h
 * loads the folder, its tokenizer and an inference arena) over batches of
 * sentences or texts, then (a) maps each word to its first piece's argmax
 * (run_ner.py's word-level predictions; a word with no piece left after
 * truncation gets -1, which the metrics read as "O"), or (b) decodes the
 * pieces into entities with token_decode.h.
 * What it does not: read data files (token_data.h), score (token_metrics.h).
 *
 * Memory: results are written into caller memory (a), or returned as malloc'd
 * entity arrays the caller frees with bertc_token_entities_free (b).
 *
 *     bertc_classifier *c = NULL;                   // classifier.h, on a token folder
 *     bertc_classifier_open(&c, "runs/ner/model", &o, &err);
 *     bertc_token_tag_sentences(c, ds.sent, ds.n, pred, &loss_sum, &loss_n, &err);
 *     bertc_token_entities(c, texts, lens, n, BERTC_TOKEN_SIMPLE, ents, counts, &err);
 */
#ifndef BERTC_TOKEN_INFER_H
#define BERTC_TOKEN_INFER_H

#include "classifier.h"
#include "tasks/token_data.h"
#include "tasks/token_decode.h"

/* BERTC_OK when c's head is token classification, else BERTC_ERR_UNSUPPORTED
 * naming the folder and the head it has. */
int bertc_token_check_model(const bertc_classifier *c, bertc_err *err);

/* Word-level tags of sentences s[0..n): pred[i] (s[i].n ids each, caller
 * memory) gets each word's first-piece argmax, or -1 for a word with no piece.
 * Sentences are cut at c's max_length as bertc_token_align does. When the
 * sentences carry tags, *loss_sum / *loss_n (may be NULL) accumulate each
 * batch's mean cross-entropy over first pieces weighted by its sentences (as
 * Trainer's evaluation loss); *cut_words (may be NULL) adds the words that lost
 * pieces. */
int bertc_token_tag_sentences(bertc_classifier *c, const bertc_token_sentence *s, int n, int32_t *const *pred,
                              double *loss_sum, long *loss_n, long *cut_words, bertc_err *err);

/* Entities of texts[0..n) (lens bytes each) with aggregation strategy (token_decode.h),
 * into ents[i] / counts[i] (free each with bertc_token_entities_free). Texts
 * are truncated at c's max_length (the pipeline's truncation at the model's
 * maximum). On failure nothing is returned (everything allocated is freed). */
int bertc_token_entities(bertc_classifier *c, const char *const *texts, const size_t *lens, int n, int strategy,
                         bertc_entity **ents, int *counts, bertc_err *err);

#endif /* BERTC_TOKEN_INFER_H */
