/* qa_infer.c: start/end logits of QA windows (qa_infer.h). */
#include "tasks/qa_infer.h"

#include <stdlib.h>
#include <string.h>

#include "heads.h"

int bertc_qa_logits(float *start_logits, float *end_logits, bert_model *m, const bertc_qa_features *f, int first,
                    int count, int pad_id, bertc_err *err) {
    if (m->cfg.task != BERT_TASK_QA)
        return bertc_fail(err, BERTC_ERR_ARG, "QA logits: the model has a %s head, not question-answering",
                          bert_head_of(m->cfg.task)->name);
    if (first < 0 || count < 0 || first + count > f->F)
        return bertc_fail(err, BERTC_ERR_ARG, "QA logits: rows [%d, %d) outside the %d features", first, first + count,
                          f->F);
    int M = f->M, Bmax = m->Bmax;
    size_t cells = (size_t)Bmax * (size_t)M;
    int *ids = malloc(cells * sizeof *ids), *types = malloc(cells * sizeof *types), *mask = malloc(cells * sizeof *mask);
    int rc = BERTC_OK;
    if (!ids || !types || !mask) rc = bertc_fail(err, BERTC_ERR_NOMEM, "QA logits: out of memory");
    for (int s = 0; s < count && rc == BERTC_OK; s += Bmax) {
        int B = count - s < Bmax ? count - s : Bmax;
        int T = 0;
        for (int b = 0; b < B; b++)
            if (f->len[first + s + b] > T) T = f->len[first + s + b];
        if (f->padded) T = M;
        if (T > m->Tmax) {
            rc = bertc_fail(err, BERTC_ERR_ARG, "QA logits: windows of %d tokens, the model was built for %d", T, m->Tmax);
            break;
        }
        for (int b = 0; b < B; b++) {
            size_t row = (size_t)(first + s + b) * M;
            int n = f->len[first + s + b];
            for (int k = 0; k < T; k++) {
                int real = k < n;
                ids[(size_t)b * T + k] = real ? f->input_ids[row + k] : pad_id;
                types[(size_t)b * T + k] = real ? f->token_type_ids[row + k] : 0;
                mask[(size_t)b * T + k] = real;
            }
        }
        rc = bert_forward(m, ids, types, mask, B, T, NULL, NULL, NULL, err);
        for (int b = 0; b < B && rc == BERTC_OK; b++) {
            float *rs = start_logits + (size_t)(s + b) * M, *re = end_logits + (size_t)(s + b) * M;
            for (int k = 0; k < M; k++) {
                rs[k] = k < T ? m->logits[((size_t)b * T + k) * 2] : 0.0f;
                re[k] = k < T ? m->logits[((size_t)b * T + k) * 2 + 1] : 0.0f;
            }
        }
    }
    free(ids);
    free(types);
    free(mask);
    return rc;
}
