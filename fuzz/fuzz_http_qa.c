/* fuzz_http_qa.c: the question-answering request body path of bertc serve
 * without sockets or a model: bertc_serve_parse_qa on arbitrary bytes (UTF-8
 * check, JSON, {"question", "context"} objects or lists of them, the
 * pipeline's parameters and their ranges), then bertc_qa_answers_json on
 * made-up answers inside each accepted context, and bertc_serve_error_json of a
 * refusal. Byte 0 picks the limits (small ones so the fuzzer reaches every
 * branch); the rest is the body. */
#include <cjson/cJSON.h>

#include "../src/serve.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    bertc_serve_limits lim = {.max_body = (data[0] & 1) ? 64 : 65536,
                              .max_inputs = (data[0] & 2) ? 3 : 32,
                              .max_chars = (data[0] & 4) ? 5 : 128000};
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    bertc_serve_request r;
    bertc_serve_error e;
    int st = bertc_serve_parse_qa(&r, body, len, &lim, &e);
    if (st != 200) {
        if (st != e.status || !e.msg[0] || !e.type || r.n != 0 || r.store) abort();
        if (st != 400 && st != 413 && st != 422 && st != 500) abort();
        if (st == 413 && len <= lim.max_body) abort();
        char *j = bertc_serve_error_json(&e);
        cJSON *p = j ? cJSON_Parse(j) : NULL;
        if (j && (!p || !cJSON_IsString(cJSON_GetObjectItem(p, "error")))) abort();
        cJSON_Delete(p);
        free(j);
        return 0;
    }
    /* Accepted: every question and context is non-empty valid UTF-8 within limits, the options in range. */
    if (len > lim.max_body || !bertc_utf8_valid(body, len)) abort();
    if (r.n < 1 || r.n > lim.max_inputs || (!r.is_list && r.n != 1) || !r.contexts || !r.context_lens) abort();
    const bertc_qa_predict_opts *o = &r.qa;
    if (o->decode.top_k < 1 || o->decode.top_k > BERTC_QA_MAX_TOP_K || o->decode.max_answer_len < 1 ||
        o->max_question_len < 1 || (o->max_seq_len != 0 && o->max_seq_len < 4) || o->doc_stride < -1 ||
        (o->decode.handle_impossible_answer & ~1) || (o->decode.align_to_words & ~1))
        abort();
    size_t total = 0;
    for (int i = 0; i < r.n; i++) {
        const char *t[2] = {r.texts[i], r.contexts[i]};
        size_t l[2] = {r.lens[i], r.context_lens[i]};
        for (int k = 0; k < 2; k++) {
            if (l[k] == 0 || strlen(t[k]) != l[k] || !bertc_utf8_valid(t[k], l[k])) abort();
            size_t chars = 0;
            for (size_t b = 0; b < l[k]; b++) chars += ((unsigned char)t[k][b] & 0xC0) != 0x80;
            if (chars > (size_t)lim.max_chars) abort();
            total += l[k];
        }
        /* answers: the whole context, its first byte's character, and the empty answer */
        size_t first = 1;
        while (first < l[1] && ((unsigned char)t[1][first] & 0xC0) == 0x80) first++;
        bertc_qa_answer a[3] = {{0.5, 0, 1, 0, (int)first}, {0.25, 0, 0, 0, (int)l[1]}, {0.125, 0, 0, 0, 0}};
        int n = 1 + (int)(i % 3);
        char *js = bertc_qa_answers_json(a, n, t[1]);
        cJSON *p = js ? cJSON_Parse(js) : NULL;
        if (!p || (n == 1) != cJSON_IsObject(p) || (n > 1 && cJSON_GetArraySize(p) != n)) abort();
        cJSON_Delete(p);
        free(js);
    }
    if (total > len) abort(); /* the strings come from the body, unescaping only shrinks them */
    bertc_serve_request_free(&r);
    return 0;
}
