/* qa_infer.c: start/end logits of QA windows, and the pipeline's answers for
 * one question on one context (qa_infer.h). */
#include "tasks/qa_infer.h"

#include <cjson/cJSON.h>
#include <stdio.h>
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

int bertc_qa_check_model(const bertc_classifier *c, bertc_err *err) {
    if (c->hf.cfg.task == BERT_TASK_QA) return BERTC_OK;
    return bertc_fail(err, BERTC_ERR_UNSUPPORTED,
                      "%s: has a %s head, not question-answering (config.json architectures)", c->hf.dir,
                      bert_head_of(c->hf.cfg.task)->name);
}

void bertc_qa_predict_opts_default(bertc_qa_predict_opts *o) {
    memset(o, 0, sizeof *o);
    bertc_qa_pipeline_opts_default(&o->decode);
    o->max_seq_len = 0;
    o->doc_stride = -1;
    o->max_question_len = 64;
}

int bertc_qa_predict_opts_resolve(bertc_qa_predict_opts *out, const bertc_qa_predict_opts *o,
                                  const bertc_classifier *c, bertc_err *err) {
    if (o) *out = *o;
    else bertc_qa_predict_opts_default(out);
    const bertc_qa_pipeline_opts *d = &out->decode;
    int L = c->opts.max_length;
    if (d->top_k < 1 || d->top_k > BERTC_QA_MAX_TOP_K)
        return bertc_fail(err, BERTC_ERR_ARG, "top_k: must be in 1..%d (got %d)", BERTC_QA_MAX_TOP_K, d->top_k);
    if (d->max_answer_len < 1)
        return bertc_fail(err, BERTC_ERR_ARG, "max_answer_len: must be at least 1 token (got %d)", d->max_answer_len);
    if (out->max_question_len < 1)
        return bertc_fail(err, BERTC_ERR_ARG, "max_question_len: must be at least 1 token (got %d)",
                          out->max_question_len);
    if (out->max_seq_len == 0) out->max_seq_len = L < 384 ? L : 384; /* the pipeline's min(model_max_length, 384) */
    if (out->max_seq_len < 4 || out->max_seq_len > L)
        return bertc_fail(err, BERTC_ERR_ARG,
                          "max_seq_len: must be in 4..%d, the tokens the model was opened for (got %d)", L,
                          out->max_seq_len);
    if (out->doc_stride == -1) out->doc_stride = out->max_seq_len / 2 < 128 ? out->max_seq_len / 2 : 128;
    if (out->doc_stride < 0 || out->doc_stride > out->max_seq_len) /* the pipeline's own check */
        return bertc_fail(err, BERTC_ERR_ARG, "doc_stride: must be in 0..max_seq_len %d (got %d)", out->max_seq_len,
                          out->doc_stride);
    return BERTC_OK;
}

int bertc_qa_answers(bertc_qa_answer *out, int *n_out, bertc_classifier *c, const char *question, size_t qlen,
                     const char *context, size_t clen, const bertc_qa_predict_opts *o, const char *id,
                     bertc_err *err) {
    if (n_out) *n_out = 0;
    if (!out || !n_out || !c) return bertc_fail(err, BERTC_ERR_ARG, "QA answers: NULL model or output");
    if (bertc_qa_check_model(c, err)) return err->code;
    bertc_qa_predict_opts po;
    if (bertc_qa_predict_opts_resolve(&po, o, c, err)) return err->code;
    static const char *const names[2] = {"question", "context"};
    const char *text[2] = {question, context};
    size_t len[2] = {qlen, clen};
    for (int i = 0; i < 2; i++) {
        if (!text[i] || len[i] == 0)
            return bertc_fail(err, BERTC_ERR_ARG, "%s: empty (the pipeline refuses it too)", names[i]);
        if (memchr(text[i], '\0', len[i])) return bertc_fail(err, BERTC_ERR_ARG, "%s: contains a NUL byte", names[i]);
        if (!bertc_utf8_valid(text[i], len[i])) return bertc_fail(err, BERTC_ERR_ARG, "%s: not valid UTF-8", names[i]);
    }
    char first_words[64];
    if (!id) { /* the question's first 40 bytes, cut at a character boundary */
        size_t k = qlen < 40 ? qlen : 40;
        while (k < qlen && k > 0 && ((unsigned char)question[k] & 0xC0) == 0x80) k--;
        snprintf(first_words, sizeof first_words, "%.*s%s", (int)k, question, k < qlen ? "..." : "");
        id = first_words;
    }
    bertc_qa_example ex = {0};
    ex.id = (char *)id;
    ex.question = (char *)question, ex.question_len = qlen;
    ex.context = (char *)context, ex.context_len = clen;
    for (size_t i = 0; i < clen; i++) ex.context_chars += ((unsigned char)context[i] & 0xC0) != 0x80;
    /* the pipeline's windows: the question as given (no lstrip), no padding */
    bertc_qa_opts fo = {.max_length = po.max_seq_len, .stride = po.doc_stride, .pad_to_max_length = 0,
                        .lstrip_question = 0};
    bertc_qa_features f = {0};
    int rc = bertc_qa_features_add(&f, c->tok, &ex, 0, &fo, err);
    float *st = NULL, *en = NULL;
    if (rc == BERTC_OK) {
        size_t cells = (size_t)f.F * (size_t)f.M;
        st = malloc(cells * sizeof *st), en = malloc(cells * sizeof *en);
        if (!st || !en) rc = bertc_fail(err, BERTC_ERR_NOMEM, "question \"%s\": out of memory for %d windows", id, f.F);
    }
    if (rc == BERTC_OK) {
        rc = bertc_qa_logits(st, en, &c->model, &f, 0, f.F, bert_tokenizer_special_ids(c->tok).pad, err);
        if (rc == BERTC_OK) rc = bertc_qa_pipeline_decode(out, n_out, &ex, &f, 0, f.F, st, en, &po.decode, err);
        if (rc != BERTC_OK) bertc_err_prefix(err, "question \"%s\"", id);
    }
    free(st);
    free(en);
    bertc_qa_features_free(&f);
    if (rc != BERTC_OK) *n_out = 0;
    return rc;
}

char *bertc_qa_answers_json(const bertc_qa_answer *a, int n, const char *context) {
    cJSON *arr = cJSON_CreateArray();
    int ok = arr != NULL;
    for (int k = 0; ok && k < n; k++) {
        cJSON *o = cJSON_CreateObject();
        char *text = strndup(context + a[k].byte_start, (size_t)(a[k].byte_end - a[k].byte_start));
        ok = o && text && cJSON_AddNumberToObject(o, "score", a[k].score) &&
             cJSON_AddNumberToObject(o, "start", a[k].start) && cJSON_AddNumberToObject(o, "end", a[k].end) &&
             cJSON_AddStringToObject(o, "answer", text);
        free(text);
        if (o) cJSON_AddItemToArray(arr, o);
    }
    char *s = NULL;
    if (ok) /* the pipeline returns a list unless there is exactly one answer, whatever top_k */
        s = cJSON_PrintUnformatted(n == 1 ? cJSON_GetArrayItem(arr, 0) : arr);
    cJSON_Delete(arr);
    return s;
}
