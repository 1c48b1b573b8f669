/* fuzz_http.c: the /predict request body path of bertc serve without sockets:
 * bertc_serve_parse_route (/predict or /, by byte 0's top bit: UTF-8 check, JSON, types, limits) on arbitrary bytes, then
 * bertc_serve_format of the accepted request with made-up probabilities, and
 * bertc_serve_error_json of a refusal. Byte 0 picks the limits (small ones so
 * the fuzzer reaches every branch) and the label count; the rest is the body. */
#include <cjson/cJSON.h>

#include "../src/serve.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    bertc_serve_limits lim = {.max_body = (data[0] & 1) ? 64 : 65536,
                              .max_inputs = (data[0] & 2) ? 3 : 32,
                              .max_chars = (data[0] & 4) ? 5 : 128000};
    int NL = 1 + ((data[0] >> 3) & 15) % 5;
    int route = data[0] >> 7 ? BERTC_SERVE_ROUTE_ROOT : BERTC_SERVE_ROUTE_PREDICT;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    bertc_serve_request r;
    bertc_serve_error e;
    int st = bertc_serve_parse_route(&r, body, len, &lim, route, &e);
    if (st != 200) {
        if (st != e.status || !e.msg[0] || !e.type || r.n != 0 || r.store)
            abort();
        if (st != 400 && st != 413 && st != 422 && st != 500) abort();
        if (st == 413 && len <= lim.max_body) abort();
        char *j = bertc_serve_error_json(&e);
        cJSON *p = j ? cJSON_Parse(j) : NULL;
        if (j && (!p || !cJSON_IsString(cJSON_GetObjectItem(p, "error")))) abort();
        cJSON_Delete(p);
        free(j);
        return 0;
    }
    /* Accepted: the body was small enough, valid UTF-8, and every text is within limits. */
    if (len > lim.max_body || !bertc_utf8_valid(body, len)) abort();
    if (r.n < 1 || r.n > lim.max_inputs || r.top_k < 0 || (!r.is_list && r.n != 1)) abort();
    if ((route == BERTC_SERVE_ROUTE_ROOT && !r.api) || r.function < BERTC_SERVE_FN_DEFAULT || r.function > BERTC_SERVE_FN_NONE)
        abort();
    size_t total = 0;
    for (int i = 0; i < r.n; i++) {
        if (strlen(r.texts[i]) != r.lens[i] || !bertc_utf8_valid(r.texts[i], r.lens[i])) abort();
        size_t chars = 0;
        for (size_t k = 0; k < r.lens[i]; k++) chars += ((unsigned char)r.texts[i][k] & 0xC0) != 0x80;
        if (chars > (size_t)lim.max_chars) abort();
        total += r.lens[i];
    }
    if (total > len) abort(); /* texts come from the body, unescaping only shrinks them */
    float *probs = malloc((size_t)r.n * NL * sizeof *probs);
    static const char *const labels[] = {"NEGATIVE", "POSITIVE", "neutral", "\"quoted\"", "é"};
    for (int i = 0; i < r.n * NL; i++) probs[i] = (float)((i * 7919) % 101) / 101.0f;
    float *logits = malloc((size_t)r.n * NL * sizeof *logits);
    for (int i = 0; i < r.n * NL; i++) logits[i] = (float)((i * 104729) % 201 - 100) / 7.0f;
    bertc_serve_scores(logits, logits, probs, r.n, NL, r.function); /* in place: each row reads then writes */
    char *out = bertc_serve_format(&r, logits, NL, labels);
    free(logits);
    cJSON *p = out ? cJSON_Parse(out) : NULL;
    if (!p || !cJSON_IsArray(p)) abort();
    int K = r.top_k == 0 || r.top_k > NL ? NL : r.top_k;
    if (r.is_list || r.api) {
        if (cJSON_GetArraySize(p) != r.n) abort();
        for (cJSON *x = p->child; x; x = x->next)
            if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) != K) abort();
    } else if (cJSON_GetArraySize(p) != K) abort();
    cJSON_Delete(p);
    free(out);
    free(probs);
    bertc_serve_request_free(&r);
    return 0;
}
