/* token_infer.c: word tags and entities from a token-classification model. */
#include "tasks/token_infer.h"
#include "heads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int bertc_token_check_model(const bertc_classifier *c, bertc_err *err) {
    if (c->hf.cfg.task == BERT_TASK_TOKEN_CLS) return BERTC_OK;
    return bertc_fail(err, BERTC_ERR_UNSUPPORTED, "%s: has a %s head, not token classification (config.json architectures)",
                      c->hf.dir, bert_head_of(c->hf.cfg.task)->name);
}

int bertc_token_tag_sentences(bertc_classifier *c, const bertc_token_sentence *s, int n, int32_t *const *pred,
                              double *loss_sum, long *loss_n, long *cut_words, bertc_err *err) {
    if (bertc_token_check_model(c, err)) return err->code;
    int Bmax = c->opts.batch_size, L = c->opts.max_length, NL = c->hf.cfg.num_labels;
    bertc_token_features *f = calloc((size_t)Bmax, sizeof *f);
    int *labels = malloc((size_t)Bmax * (size_t)L * sizeof *labels);
    int rc = f && labels ? BERTC_OK : bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    for (int start = 0; start < n && rc == BERTC_OK; start += Bmax) {
        int B = n - start < Bmax ? n - start : Bmax, T = 1, scored = 0;
        for (int b = 0; b < B && rc == BERTC_OK; b++) {
            rc = bertc_token_align(&f[b], c->tok, &s[start + b], L, NULL, err);
            if (f[b].n > T) T = f[b].n;
            if (cut_words) *cut_words += f[b].words_cut;
        }
        if (rc) break;
        bert_special_ids sp = bert_tokenizer_special_ids(c->tok);
        for (int b = 0; b < B; b++)
            for (int k = 0; k < T; k++) {
                size_t at = (size_t)b * T + (size_t)k;
                int real = k < f[b].n;
                c->ids[at] = real ? f[b].input_ids[k] : sp.pad;
                c->types[at] = 0;
                c->mask[at] = real;
                labels[at] = real && s[start + b].tags ? f[b].labels[k] : -100;
                scored += labels[at] != -100;
            }
        rc = bert_forward(&c->model, c->ids, c->types, c->mask, B, T, NULL, NULL, NULL, err);
        if (rc) break;
        if (loss_sum && scored > 0) {
            bert_targets y = {.labels = labels};
            float l;
            if ((rc = bert_head_loss(&c->model, &y, &l, err))) break;
            *loss_sum += (double)l * B;
            if (loss_n) *loss_n += B;
        }
        for (int b = 0; b < B; b++) {
            int32_t *p = pred[start + b];
            for (int w = 0; w < s[start + b].n; w++) p[w] = -1;
            int prev = -1;
            for (int k = 0; k < f[b].n; k++) {
                int w = f[b].word_ids[k];
                if (w < 0 || w == prev) continue; /* specials and later pieces */
                prev = w;
                const float *x = c->model.logits + ((size_t)b * T + (size_t)k) * NL;
                int best = 0;
                for (int j = 1; j < NL; j++)
                    if (x[j] > x[best]) best = j;
                p[w] = best;
            }
        }
    }
    for (int b = 0; f && b < Bmax; b++) bertc_token_features_free(&f[b]);
    free(f);
    free(labels);
    return rc;
}

int bertc_token_entities(bertc_classifier *c, const char *const *texts, const size_t *lens, int n, int strategy,
                         bertc_entity **ents, int *counts, bertc_err *err) {
    if (bertc_token_check_model(c, err)) return err->code;
    for (int i = 0; i < n; i++) ents[i] = NULL, counts[i] = 0;
    int Bmax = c->opts.batch_size, NL = c->hf.cfg.num_labels;
    int rc = BERTC_OK;
    for (int start = 0; start < n && rc == BERTC_OK; start += Bmax) {
        int B = n - start < Bmax ? n - start : Bmax, T = 0;
        rc = bertc_classifier_encode(c, texts + start, lens + start, NULL, NULL, B, &T, err);
        if (rc == BERTC_OK) rc = bert_forward(&c->model, c->ids, c->types, c->mask, B, T, NULL, NULL, NULL, err);
        for (int b = 0; b < B && rc == BERTC_OK; b++)
            rc = bertc_token_decode(&ents[start + b], &counts[start + b], c->tok, texts[start + b], lens[start + b],
                                    &c->enc[b], c->model.logits + (size_t)b * T * NL, NL,
                                    (const char *const *)c->hf.cfg.id2label, strategy, NULL, 0, err);
    }
    if (rc != BERTC_OK)
        for (int i = 0; i < n; i++) {
            bertc_token_entities_free(ents[i], counts[i]);
            ents[i] = NULL, counts[i] = 0;
        }
    return rc;
}
