/* longtext.h: texts longer than the model's window: split a text's word pieces
 * into overlapping windows, classify every window, pool the windows' logits.
 *
 * Windows are transformers' return_overflowing_tokens=True with
 * truncation=True, max_length=M, stride=S for one text: with W = M - 2 pieces of
 * room, window k holds pieces [k (W - S), k (W - S) + W) clipped to the text's n
 * pieces, wrapped in [CLS] ... [SEP]; windows are added while the previous one
 * ends before n (a text of n <= W pieces is one window; an empty text one window
 * of [CLS] [SEP]). Pooling: mean or max over windows of each logit.
 * What it does not: head+tail truncation (bert_trunc in tokenizer.h does that).
 *
 * Memory: functions take caller-owned arrays; bertc_longtext_classify allocates
 * its working arrays per call and frees them.
 *
 *     float logits[NL];
 *     bertc_longtext_classify(&model, tok, text, len, 512, 128, BERTC_POOL_MEAN, logits, &err);
 */
#ifndef BERTC_LONGTEXT_H
#define BERTC_LONGTEXT_H

#include "bert.h"
#include "tokenizer.h"

enum { BERTC_POOL_MEAN = 0, BERTC_POOL_MAX = 1 };

/* Windows for n pieces at max_length M (>= 3) and stride S (0 <= S < M - 2);
 * -1 when M or S is out of range. */
int bertc_window_count(int n, int max_length, int stride);
/* Piece range [*begin, *end) of window k. */
void bertc_window_range(int n, int max_length, int stride, int k, int *begin, int *end);

/* out (NL) = mean or max over nwin rows of win_logits (nwin, NL). */
void bertc_pool_logits(float *out, const float *win_logits, int nwin, int NL, int mode);
/* dwin (nwin, NL) = the gradient of bertc_pool_logits given dout (NL): mean:
 * dout / nwin for every window; max: dout to the first window holding the max. */
void bertc_pool_logits_backward(float *dwin, const float *dout, const float *win_logits, int nwin, int NL,
                                int mode);

/* Tokenizes text, encodes its windows (no token types) into the caller's
 * ids/mask arrays of capacity cap_windows x max_length (row k padded with [PAD]
 * to max_length, mask 1 on real tokens) and returns their count in *nwin
 * (BERTC_ERR_ARG when more than cap_windows). enc is reusable scratch. */
int bertc_longtext_windows(const bert_tokenizer *tok, const char *text, size_t len, int max_length, int stride,
                           int32_t *ids, int32_t *mask, int cap_windows, int *nwin, bert_encoding *enc,
                           bertc_err *err);

/* Classifies one long text with an inference or training model m (Tmax >=
 * max_length): its windows in batches of at most m->Bmax, eval mode (no dropout),
 * pooled logits into logits_out (NL). */
int bertc_longtext_classify(bert_model *m, const bert_tokenizer *tok, const char *text, size_t len, int max_length,
                            int stride, int pool, float *logits_out, bertc_err *err);

#endif /* BERTC_LONGTEXT_H */
