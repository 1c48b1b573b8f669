/* api_attention.c: bertc_attend of include/bertc.h over evaluate.h's
 * bertc_attention_compute (what `bertc attention` runs). */
#include "../include/bertc.h"

#include <stdlib.h>
#include <string.h>

#include "evaluate.h"

struct bertc_attention_map {
    bertc_attention a;
};

static int attention(bertc_classifier *c, const char *text, size_t len, int layer, int head, int truncate,
                     int max_tokens, bertc_attention_map **out, bertc_err *err) {
    if (!c || !out || (!text && len)) return bertc_fail(err, BERTC_ERR_ARG, "bertc_attention: NULL model, text or out");
    int L = c->hf.cfg.num_layers;
    if (layer < -L || layer >= L)
        return bertc_fail(err, BERTC_ERR_ARG, "layer: %d is out of range: %s has %d layers (0..%d, or -1..-%d from the end)",
                          layer, c->hf.dir, L, L - 1, L);
    bertc_attention_map *m = calloc(1, sizeof *m);
    if (!m) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    int rc = bertc_attention_compute(c, text ? text : "", len, layer < 0 ? L + layer : layer, head, truncate != 0,
                                     max_tokens, &m->a, err);
    if (rc != BERTC_OK) {
        bertc_attention_free(&m->a);
        free(m);
        return rc;
    }
    *out = m;
    return BERTC_OK;
}

int bertc_attend(bertc_classifier *c, const char *text, size_t len, int layer, int head, int truncate,
                    int max_tokens, bertc_attention_map **out, bertc_err *err) {
    bertc_err e = {0};
    int rc = attention(c, text, len, layer, head, truncate, max_tokens, out, &e);
    if (c) {
        if (rc == BERTC_OK) memset(&c->last_err, 0, sizeof c->last_err);
        else c->last_err = e;
    }
    if (rc != BERTC_OK && err) *err = e;
    return rc;
}

int bertc_attention_size(const bertc_attention_map *m) { return m ? m->a.T : 0; }

const char *bertc_attention_token(const bertc_attention_map *m, int i) {
    return m && i >= 0 && i < m->a.T ? m->a.tokens[i] : NULL;
}

const float *bertc_attention_weights(const bertc_attention_map *m) { return m ? m->a.weights : NULL; }

void bertc_attention_map_free(bertc_attention_map *m) {
    if (!m) return;
    bertc_attention_free(&m->a);
    free(m);
}
