/* longtext.c: overlapping windows over long texts and logit pooling (longtext.h). */
#include "longtext.h"

#include <stdlib.h>
#include <string.h>

int bertc_window_count(int n, int max_length, int stride) {
    int W = max_length - 2;
    if (W < 1 || stride < 0 || stride >= W || n < 0) return -1;
    if (n <= W) return 1;
    int step = W - stride;
    /* windows start at 0, step, 2 step, ... while the previous one ends before n */
    return 1 + (n - W + step - 1) / step;
}

void bertc_window_range(int n, int max_length, int stride, int k, int *begin, int *end) {
    int W = max_length - 2, step = W - stride;
    int b = k * step, e = b + W;
    *begin = b < n ? b : n;
    *end = e < n ? e : n;
}

void bertc_pool_logits(float *out, const float *win, int nwin, int NL, int mode) {
    for (int i = 0; i < NL; i++) {
        float a = win[i];
        for (int k = 1; k < nwin; k++) {
            float v = win[(size_t)k * NL + i];
            a = mode == BERTC_POOL_MAX ? (v > a ? v : a) : a + v;
        }
        out[i] = mode == BERTC_POOL_MAX ? a : a / (float)nwin;
    }
}

void bertc_pool_logits_backward(float *dwin, const float *dout, const float *win, int nwin, int NL, int mode) {
    memset(dwin, 0, (size_t)nwin * NL * sizeof *dwin);
    for (int i = 0; i < NL; i++) {
        if (mode == BERTC_POOL_MAX) {
            int best = 0;
            for (int k = 1; k < nwin; k++)
                if (win[(size_t)k * NL + i] > win[(size_t)best * NL + i]) best = k;
            dwin[(size_t)best * NL + i] = dout[i];
        } else {
            for (int k = 0; k < nwin; k++) dwin[(size_t)k * NL + i] = dout[i] / (float)nwin;
        }
    }
}

int bertc_longtext_windows(const bert_tokenizer *tok, const char *text, size_t len, int max_length, int stride,
                           int32_t *ids, int32_t *mask, int cap_windows, int *nwin, bert_encoding *enc,
                           bertc_err *err) {
    int rc = bert_tokenize(tok, text, len, enc, err);
    if (rc) return rc;
    int n = enc->n, count = bertc_window_count(n, max_length, stride);
    if (count < 0)
        return bertc_fail(err, BERTC_ERR_ARG, "long text: stride %d must be in 0..%d for max length %d", stride,
                          max_length - 3, max_length);
    if (count > cap_windows)
        return bertc_fail(err, BERTC_ERR_ARG, "long text: %d windows of %d tokens, room for %d", count, max_length,
                          cap_windows);
    bert_special_ids sp = bert_tokenizer_special_ids(tok);
    for (int k = 0; k < count; k++) {
        int b, e;
        bertc_window_range(n, max_length, stride, k, &b, &e);
        int32_t *row = ids + (size_t)k * max_length, *mrow = mask + (size_t)k * max_length;
        int t = 0;
        row[t++] = sp.cls;
        for (int i = b; i < e; i++) row[t++] = enc->ids[i];
        row[t++] = sp.sep;
        for (int i = 0; i < max_length; i++) mrow[i] = i < t;
        for (; t < max_length; t++) row[t] = sp.pad;
    }
    *nwin = count;
    return BERTC_OK;
}

int bertc_longtext_classify(bert_model *m, const bert_tokenizer *tok, const char *text, size_t len, int max_length,
                            int stride, int pool, float *logits_out, bertc_err *err) {
    if (max_length > m->Tmax)
        return bertc_fail(err, BERTC_ERR_ARG, "long text: max length %d exceeds the model's %d tokens", max_length,
                          m->Tmax);
    bert_encoding enc = {0};
    int rc = bert_tokenize(tok, text, len, &enc, err);
    int count = rc ? 0 : bertc_window_count(enc.n, max_length, stride);
    if (!rc && count < 0)
        rc = bertc_fail(err, BERTC_ERR_ARG, "long text: stride %d must be in 0..%d for max length %d", stride,
                        max_length - 3, max_length);
    int NL = m->cfg.num_labels;
    size_t cells = (size_t)(count > 0 ? count : 1) * max_length;
    int32_t *ids = rc ? NULL : malloc(cells * sizeof *ids), *mask = rc ? NULL : malloc(cells * sizeof *mask);
    float *win = rc ? NULL : malloc((size_t)(count > 0 ? count : 1) * NL * sizeof *win);
    if (!rc && (!ids || !mask || !win)) rc = bertc_fail(err, BERTC_ERR_NOMEM, "long text: out of memory");
    int nwin = 0;
    if (!rc) rc = bertc_longtext_windows(tok, text, len, max_length, stride, ids, mask, count, &nwin, &enc, err);
    for (int k = 0; !rc && k < nwin; k += m->Bmax) {
        int B = nwin - k < m->Bmax ? nwin - k : m->Bmax;
        /* pad the batch to its longest window */
        int T = 0;
        for (int b = 0; b < B; b++) {
            int t = 0;
            while (t < max_length && mask[(size_t)(k + b) * max_length + t]) t++;
            if (t > T) T = t;
        }
        /* compact rows to width T in place (row r moves left; r * T <= r * max_length) */
        for (int b = 0; b < B; b++) {
            memmove(ids + (size_t)(k * max_length) + (size_t)b * T, ids + (size_t)(k + b) * max_length, (size_t)T * sizeof *ids);
            memmove(mask + (size_t)(k * max_length) + (size_t)b * T, mask + (size_t)(k + b) * max_length, (size_t)T * sizeof *mask);
        }
        rc = bert_forward(m, ids + (size_t)k * max_length, NULL, mask + (size_t)k * max_length, B, T, NULL, NULL, NULL,
                          err);
        if (!rc) memcpy(win + (size_t)k * NL, m->logits, (size_t)B * NL * sizeof *win);
    }
    if (!rc) bertc_pool_logits(logits_out, win, nwin, NL, pool);
    free(ids);
    free(mask);
    free(win);
    bert_encoding_free(&enc);
    return rc;
}
