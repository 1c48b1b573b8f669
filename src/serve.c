/* serve.c: POST /predict, GET /health, GET /info over libmicrohttpd, with one
 * worker thread batching the inputs of concurrent requests (see serve.h).
 *
 * Threads: MHD's internal polling thread runs every callback here (one thread
 * for all connections, so a stalled client costs a socket, not a thread); the
 * worker runs the classifier. They share the queue under s->mu. A request's
 * life: first callback (route, early 413 from Content-Length) -> body chunks
 * (copied, bounded) -> body complete (parse; error answered at once, else
 * queued and the connection suspended) -> the worker scores its inputs and
 * resumes it -> last callback (answer) -> completed callback (freed). */
#include "serve.h"
#include "heads.h"
#include "ops_bf16.h"
#include "tasks/token_infer.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

void bertc_serve_opts_default(bertc_serve_opts *o) {
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 8080;
    o->limits.max_body = 2000000;
    o->limits.max_inputs = 32;
    o->limits.max_chars = 0;
    o->queue = 64;
    o->timeout = 10;
    o->max_connections = 512;
    o->max_per_ip = 64;
    o->max_buffered = (size_t)64 << 20;
    o->max_request_time = 60;
    o->aggregation_strategy = BERTC_TOKEN_SIMPLE;
}

/* ---- Request bodies ---- */

static int serr(bertc_serve_error *e, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int serr(bertc_serve_error *e, int status, const char *fmt, ...) {
    e->status = status;
    e->type = status == 429 ? "overloaded" : status == 404 ? "not_found" : status == 405 ? "method_not_allowed"
              : status == 503 ? "unavailable" : status >= 500 ? "backend" : "validation";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return status;
}

/* Code points in a valid UTF-8 string: bytes that do not continue a sequence. */
static size_t utf8_chars(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* 1 if a JSON string in body escapes U+0000 (cJSON would cut the text there). */
static int has_escaped_nul(const char *b, size_t len) {
    for (size_t i = 0; i + 1 < len; i++) {
        if (b[i] != '\\') continue;
        if (b[i + 1] == 'u' && len - i >= 6 && memcmp(b + i + 2, "0000", 4) == 0) return 1;
        i++; /* skip the escaped character, so "\\u0000" is a backslash then text */
    }
    return 0;
}

void bertc_serve_request_free(bertc_serve_request *r) {
    if (!r) return;
    free(r->store);
    memset(r, 0, sizeof *r);
}

/* top_k from v (a number or null) into *top_k; name is the field for messages. */
static int parse_top_k(const cJSON *v, const char *name, int *top_k, bertc_serve_error *e) {
    if (cJSON_IsNull(v)) { /* null: every label, as the pipeline's top_k=None */
        *top_k = 0;
        return 200;
    }
    /* Bounds before the cast: a double outside int's range has no int value. */
    double x = cJSON_IsNumber(v) ? v->valuedouble : 0.5;
    if (!cJSON_IsNumber(v) || isnan(x) || x != floor(x)) return serr(e, 400, "\"%s\" must be an integer", name);
    if (x < 1) return serr(e, 422, "\"%s\" must be at least 1 (got %.0f)", name, x);
    if (x > 1e9) return serr(e, 422, "\"%s\" must be at most 1000000000 (got %g)", name, x);
    *top_k = (int)x;
    return 200;
}

/* "raw_scores" (TEI) and "parameters" (the Inference API) of the object j. */
static int parse_options(const cJSON *j, int *top_k, int *fn, int *api, bertc_serve_error *e) {
    const cJSON *raw = cJSON_GetObjectItemCaseSensitive(j, "raw_scores");
    if (raw && !cJSON_IsNull(raw)) {
        if (!cJSON_IsBool(raw)) return serr(e, 400, "\"raw_scores\" must be true or false");
        if (cJSON_IsTrue(raw)) *fn = BERTC_SERVE_FN_NONE;
    }
    const cJSON *par = cJSON_GetObjectItemCaseSensitive(j, "parameters");
    if (!par || cJSON_IsNull(par)) return 200;
    if (!cJSON_IsObject(par))
        return serr(e, 400, "\"parameters\" must be an object like {\"top_k\": 2, \"function_to_apply\": \"softmax\"}");
    *api = 1;
    const cJSON *tk = cJSON_GetObjectItemCaseSensitive(par, "top_k");
    int rc = tk ? parse_top_k(tk, "parameters.top_k", top_k, e) : 200;
    if (rc != 200) return rc;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(par, "function_to_apply");
    if (!f || cJSON_IsNull(f)) return 200;
    if (!cJSON_IsString(f)) return serr(e, 400, "\"parameters.function_to_apply\" must be a string");
    static const char *const names[] = {"softmax", "sigmoid", "none"};
    for (int i = 0; i < 3; i++)
        if (strcasecmp(f->valuestring, names[i]) == 0) {
            *fn = BERTC_SERVE_FN_SOFTMAX + i;
            return 200;
        }
    return serr(e, 422, "\"parameters.function_to_apply\" must be \"softmax\", \"sigmoid\" or \"none\" (got \"%.40s\")",
                f->valuestring);
}

int bertc_serve_parse(bertc_serve_request *out, const char *body, size_t len, const bertc_serve_limits *lim,
                      bertc_serve_error *e) {
    return bertc_serve_parse_route(out, body, len, lim, BERTC_SERVE_ROUTE_PREDICT, e);
}

/* The checks every body gets (size, NUL bytes, UTF-8, JSON), then *out = the
 * parsed document (the caller cJSON_Deletes it). example: the shape named in
 * the message for an empty body. */
static int parse_body(cJSON **out, const char *body, size_t len, const bertc_serve_limits *lim, const char *example,
                      bertc_serve_error *e) {
    *out = NULL;
    if (len > lim->max_body)
        return serr(e, 413, "request body of %zu bytes is over the limit of %zu (--max-body)", len, lim->max_body);
    if (len == 0) return serr(e, 400, "empty body: expected JSON like %s", example);
    if (memchr(body, '\0', len)) return serr(e, 400, "the body contains a NUL byte");
    if (!bertc_utf8_valid(body, len)) return serr(e, 400, "the body is not valid UTF-8");
    if (has_escaped_nul(body, len)) return serr(e, 400, "\\u0000 in a string is not supported");
    /* cJSON checks "nothing but whitespace after the value" only against a
     * terminating NUL inside the given length, so parse a NUL-terminated copy. */
    char *copy = malloc(len + 1);
    if (!copy) return serr(e, 500, "out of memory for a body of %zu bytes", len);
    memcpy(copy, body, len);
    copy[len] = '\0';
    const char *end = NULL;
    *out = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 1);
    size_t at = end && end >= copy && end <= copy + len ? (size_t)(end - copy) : 0;
    free(copy);
    return *out ? 200 : serr(e, 400, "malformed JSON near byte %zu", at);
}

int bertc_serve_parse_route(bertc_serve_request *out, const char *body, size_t len, const bertc_serve_limits *lim,
                            int route, bertc_serve_error *e) {
    memset(out, 0, sizeof *out);
    memset(e, 0, sizeof *e);
    cJSON *j = NULL;
    int rc = parse_body(&j, body, len, lim, "{\"inputs\": \"text\"}", e);
    if (rc != 200) return rc;
    const cJSON *in = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "inputs") : NULL;
    const cJSON *tk = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "top_k") : NULL;
    int n = 0, top_k = 1;
    if (!cJSON_IsObject(j)) rc = serr(e, 400, "expected a JSON object like {\"inputs\": \"text\"}");
    else if (!in) rc = serr(e, 400, "missing \"inputs\" (a string or a list of strings)");
    else if (cJSON_IsString(in)) n = 1;
    else if (!cJSON_IsArray(in)) rc = serr(e, 400, "\"inputs\" must be a string or a list of strings");
    else {
        n = cJSON_GetArraySize(in);
        if (n == 0) rc = serr(e, 422, "\"inputs\" is an empty list");
        else if (n > lim->max_inputs)
            rc = serr(e, 422, "%d inputs, more than the limit of %d per request (--max-inputs)", n, lim->max_inputs);
        else {
            int i = 0;
            for (const cJSON *t = in->child; t; t = t->next, i++)
                if (!cJSON_IsString(t)) {
                    rc = serr(e, 400, "inputs[%d] is not a string", i);
                    break;
                }
        }
    }
    /* The Inference API answers every label unless told otherwise; TEI the best one. */
    int api = route == BERTC_SERVE_ROUTE_ROOT, fn = BERTC_SERVE_FN_DEFAULT;
    if (rc == 200 && tk) rc = parse_top_k(tk, "top_k", &top_k, e);
    if (rc == 200) {
        int ptk = -1;
        rc = parse_options(j, &ptk, &fn, &api, e);
        if (ptk >= 0) top_k = ptk;
        else if (api && !tk) top_k = 0;
    }
    /* Sizes and character counts, then one allocation: (n) pointers, (n) lengths, the bytes. */
    size_t bytes = 0;
    if (rc == 200) {
        int i = 0;
        const cJSON *t = cJSON_IsString(in) ? in : in->child;
        for (; t && i < n; t = t->next, i++) {
            size_t l = strlen(t->valuestring);
            size_t chars = utf8_chars(t->valuestring, l);
            if (lim->max_chars < 0 || chars > (size_t)lim->max_chars) {
                rc = serr(e, 422, "inputs[%d] has %zu characters, more than the limit of %ld (--max-chars)", i,
                          chars, lim->max_chars);
                break;
            }
            bytes += l + 1; /* bounded by len: each text came from the body */
        }
    }
    if (rc == 200) {
        size_t head = (size_t)n * (sizeof(char *) + sizeof(size_t));
        out->store = malloc(head + bytes);
        if (!out->store) rc = serr(e, 500, "out of memory for %d inputs", n);
    }
    if (rc == 200) {
        out->texts = (char **)out->store;
        out->lens = (size_t *)(out->store + (size_t)n * sizeof(char *));
        char *p = out->store + (size_t)n * (sizeof(char *) + sizeof(size_t));
        int i = 0;
        const cJSON *t = cJSON_IsString(in) ? in : in->child;
        for (; t && i < n; t = t->next, i++) {
            size_t l = strlen(t->valuestring);
            memcpy(p, t->valuestring, l + 1);
            out->texts[i] = p;
            out->lens[i] = l;
            p += l + 1;
        }
        out->n = n;
        out->is_list = cJSON_IsArray(in);
        out->top_k = top_k;
        out->api = api;
        out->function = fn;
    }
    cJSON_Delete(j);
    return rc;
}

/* parameters.NAME of a QA body: an integer >= lo (null: *v untouched). */
static int qa_int_param(const cJSON *par, const char *name, int lo, int *v, bertc_serve_error *e) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(par, name);
    if (!x || cJSON_IsNull(x)) return 200;
    double d = cJSON_IsNumber(x) ? x->valuedouble : 0.5;
    if (!cJSON_IsNumber(x) || isnan(d) || d != floor(d)) return serr(e, 400, "\"parameters.%s\" must be an integer", name);
    if (d < lo) return serr(e, 422, "\"parameters.%s\" must be at least %d (got %.0f)", name, lo, d);
    if (d > 1e9) return serr(e, 422, "\"parameters.%s\" must be at most 1000000000 (got %g)", name, d);
    *v = (int)d;
    return 200;
}

/* parameters.NAME of a QA body: true or false (null: *v untouched). */
static int qa_bool_param(const cJSON *par, const char *name, int *v, bertc_serve_error *e) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(par, name);
    if (!x || cJSON_IsNull(x)) return 200;
    if (!cJSON_IsBool(x)) return serr(e, 400, "\"parameters.%s\" must be true or false", name);
    *v = cJSON_IsTrue(x);
    return 200;
}

static int qa_params(bertc_qa_predict_opts *o, const cJSON *par, bertc_serve_error *e) {
    bertc_qa_predict_opts_default(o);
    if (!par || cJSON_IsNull(par)) return 200;
    if (!cJSON_IsObject(par))
        return serr(e, 400, "\"parameters\" must be an object like {\"top_k\": 2, \"max_answer_len\": 15}");
    static const char *const known[] = {"top_k", "doc_stride", "max_answer_len", "max_seq_len", "max_question_len",
                                        "handle_impossible_answer", "align_to_words"};
    for (const cJSON *x = par->child; x; x = x->next) {
        size_t k = 0;
        while (k < sizeof known / sizeof *known && strcmp(x->string, known[k]) != 0) k++;
        if (k == sizeof known / sizeof *known)
            return serr(e, 422, "\"parameters.%.40s\" is not a question-answering parameter (top_k, doc_stride, "
                                "max_answer_len, max_seq_len, max_question_len, handle_impossible_answer, "
                                "align_to_words)", x->string);
    }
    int rc = qa_int_param(par, "top_k", 1, &o->decode.top_k, e);
    if (rc == 200 && o->decode.top_k > BERTC_QA_MAX_TOP_K)
        rc = serr(e, 422, "\"parameters.top_k\" must be at most %d (got %d)", BERTC_QA_MAX_TOP_K, o->decode.top_k);
    if (rc == 200) rc = qa_int_param(par, "doc_stride", 0, &o->doc_stride, e);
    if (rc == 200) rc = qa_int_param(par, "max_answer_len", 1, &o->decode.max_answer_len, e);
    if (rc == 200) rc = qa_int_param(par, "max_seq_len", 4, &o->max_seq_len, e);
    if (rc == 200) rc = qa_int_param(par, "max_question_len", 1, &o->max_question_len, e);
    if (rc == 200) rc = qa_bool_param(par, "handle_impossible_answer", &o->decode.handle_impossible_answer, e);
    if (rc == 200) rc = qa_bool_param(par, "align_to_words", &o->decode.align_to_words, e);
    return rc;
}

/* inputs (or inputs[i]) of a QA body: {"question": "...", "context": "..."}, each
 * non-empty and within max_chars; *bytes grows by the two strings' sizes. */
static int qa_input(const cJSON *in, const char *where, const bertc_serve_limits *lim, size_t *bytes,
                    bertc_serve_error *e) {
    if (!cJSON_IsObject(in))
        return serr(e, 400, "%s must be an object {\"question\": \"...\", \"context\": \"...\"}", where);
    static const char *const names[2] = {"question", "context"};
    for (int k = 0; k < 2; k++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(in, names[k]);
        if (!t) return serr(e, 400, "%s.%s is missing", where, names[k]);
        if (!cJSON_IsString(t)) return serr(e, 400, "%s.%s must be a string", where, names[k]);
        size_t l = strlen(t->valuestring), chars = utf8_chars(t->valuestring, l);
        if (l == 0) return serr(e, 422, "%s.%s is empty (the pipeline refuses it too)", where, names[k]);
        if (lim->max_chars < 0 || chars > (size_t)lim->max_chars)
            return serr(e, 422, "%s.%s has %zu characters, more than the limit of %ld (--max-chars)", where, names[k],
                        chars, lim->max_chars);
        *bytes += l + 1; /* bounded by the body's length: each string came from it */
    }
    return 200;
}

int bertc_serve_parse_qa(bertc_serve_request *out, const char *body, size_t len, const bertc_serve_limits *lim,
                         bertc_serve_error *e) {
    memset(out, 0, sizeof *out);
    memset(e, 0, sizeof *e);
    cJSON *j = NULL;
    int rc = parse_body(&j, body, len, lim, "{\"inputs\": {\"question\": \"...\", \"context\": \"...\"}}", e);
    if (rc != 200) return rc;
    const cJSON *in = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "inputs") : NULL;
    int n = 0;
    size_t bytes = 0;
    if (!cJSON_IsObject(j))
        rc = serr(e, 400, "expected a JSON object like {\"inputs\": {\"question\": \"...\", \"context\": \"...\"}}");
    else if (!in) rc = serr(e, 400, "missing \"inputs\": {\"question\": \"...\", \"context\": \"...\"} (or a list of them)");
    else if (cJSON_IsObject(in)) n = 1, rc = qa_input(in, "inputs", lim, &bytes, e);
    else if (!cJSON_IsArray(in))
        rc = serr(e, 400, "\"inputs\" must be an object {\"question\": \"...\", \"context\": \"...\"} or a list of them");
    else {
        n = cJSON_GetArraySize(in);
        if (n == 0) rc = serr(e, 422, "\"inputs\" is an empty list");
        else if (n > lim->max_inputs)
            rc = serr(e, 422, "%d inputs, more than the limit of %d per request (--max-inputs)", n, lim->max_inputs);
        int i = 0;
        for (const cJSON *t = in->child; rc == 200 && t; t = t->next, i++) {
            char where[32];
            snprintf(where, sizeof where, "inputs[%d]", i);
            rc = qa_input(t, where, lim, &bytes, e);
        }
    }
    if (rc == 200) rc = qa_params(&out->qa, cJSON_GetObjectItemCaseSensitive(j, "parameters"), e);
    /* One allocation: (n) question pointers and lengths, (n) context pointers and lengths, the bytes. */
    size_t head = (size_t)n * 2 * (sizeof(char *) + sizeof(size_t));
    if (rc == 200 && !(out->store = malloc(head + bytes))) rc = serr(e, 500, "out of memory for %d inputs", n);
    if (rc == 200) {
        char *p = out->store;
        out->texts = (char **)p, p += (size_t)n * sizeof(char *);
        out->contexts = (char **)p, p += (size_t)n * sizeof(char *);
        out->lens = (size_t *)p, p += (size_t)n * sizeof(size_t);
        out->context_lens = (size_t *)p, p += (size_t)n * sizeof(size_t);
        int i = 0;
        for (const cJSON *t = cJSON_IsObject(in) ? in : in->child; t && i < n; t = t->next, i++) {
            const char *qs = cJSON_GetObjectItemCaseSensitive(t, "question")->valuestring;
            const char *cs = cJSON_GetObjectItemCaseSensitive(t, "context")->valuestring;
            out->lens[i] = strlen(qs), out->context_lens[i] = strlen(cs);
            out->texts[i] = memcpy(p, qs, out->lens[i] + 1), p += out->lens[i] + 1;
            out->contexts[i] = memcpy(p, cs, out->context_lens[i] + 1), p += out->context_lens[i] + 1;
            if (cJSON_IsObject(in)) break;
        }
        out->n = n;
        out->is_list = cJSON_IsArray(in);
        out->api = 1;
        out->top_k = out->qa.decode.top_k;
    }
    if (rc != 200) {
        free(out->store);
        memset(out, 0, sizeof *out);
    }
    cJSON_Delete(j);
    return rc;
}

typedef struct score_order {
    const float *p;
    int i;
} score_order;

static int cmp_score(const void *a, const void *b) {
    const score_order *x = a, *y = b;
    float pa = x->p[x->i], pb = y->p[y->i];
    if (pa != pb) return pa < pb ? 1 : -1;
    return x->i - y->i; /* ties keep label order, as a stable sort would */
}

char *bertc_serve_format(const bertc_serve_request *r, const float *probs, int NL, const char *const *labels) {
    if (NL < 1 || NL > 1 << 20) return NULL;
    score_order *ord = malloc((size_t)NL * sizeof *ord);
    cJSON *root = cJSON_CreateArray();
    int ok = ord && root;
    int K = r->top_k <= 0 || r->top_k > NL ? NL : r->top_k;
    for (int b = 0; ok && b < r->n; b++) {
        const float *p = probs + (size_t)b * NL;
        for (int i = 0; i < NL; i++) ord[i] = (score_order){p, i};
        qsort(ord, (size_t)NL, sizeof *ord, cmp_score);
        int nest = r->is_list || r->api;
        cJSON *list = nest ? cJSON_CreateArray() : root;
        if (!list) { ok = 0; break; }
        if (nest) cJSON_AddItemToArray(root, list);
        for (int k = 0; ok && k < K; k++) {
            cJSON *o = cJSON_CreateObject();
            ok = o && cJSON_AddStringToObject(o, "label", labels[ord[k].i] ? labels[ord[k].i] : "")
                 && cJSON_AddNumberToObject(o, "score", (double)p[ord[k].i]);
            if (o) cJSON_AddItemToArray(list, o);
        }
    }
    char *s = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    free(ord);
    return s;
}

void bertc_serve_scores(float *scores, const float *logits, const float *probs, int n, int NL, int fn) {
    for (int b = 0; b < n; b++) {
        const float *x = logits + (size_t)b * NL;
        float *y = scores + (size_t)b * NL;
        if (fn == BERTC_SERVE_FN_DEFAULT) memcpy(y, probs + (size_t)b * NL, (size_t)NL * sizeof *y);
        else if (fn == BERTC_SERVE_FN_NONE) memmove(y, x, (size_t)NL * sizeof *y);
        else if (fn == BERTC_SERVE_FN_SIGMOID)
            for (int i = 0; i < NL; i++) y[i] = (float)(1.0 / (1.0 + exp(-(double)x[i])));
        else {
            double m = x[0], sum = 0;
            for (int i = 1; i < NL; i++) m = x[i] > m ? x[i] : m;
            for (int i = 0; i < NL; i++) sum += exp((double)x[i] - m);
            for (int i = 0; i < NL; i++) y[i] = (float)(exp((double)x[i] - m) / sum);
        }
    }
}

char *bertc_serve_error_json(const bertc_serve_error *e) {
    cJSON *o = cJSON_CreateObject();
    char *s = NULL;
    if (o && cJSON_AddStringToObject(o, "error", e->msg) && cJSON_AddStringToObject(o, "error_type", e->type))
        s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* ---- The server ---- */

enum { REQ_READING, REQ_QUEUED, REQ_DONE, REQ_ANSWERED };

/* One HTTP request (MHD's con_cls). */
typedef struct sreq {
    struct sreq *next;          /* in the queue */
    struct MHD_Connection *conn;
    int state;                  /* REQ_*; QUEUED -> DONE under s->mu */
    int route;                  /* 1: POST /predict or POST / reading its body */
    int root;                   /* the body came to POST / (the Inference API's route) */
    const char *allow;          /* the Allow header of a 405 */
    char *body;                 /* (cap) the body so far, for /predict */
    size_t len, cap;
    size_t dropped;             /* body bytes past max_body, discarded */
    size_t reserved;            /* body bytes this request may hold (>= cap); the part over
                                 * FREE_BODY is charged to s->buffered */
    int shed;                   /* over max_buffered: body discarded, answered 503 at its end */
    struct timespec start;      /* headers in (CLOCK_MONOTONIC), for max_request_time */
    bertc_serve_request req;
    float *probs;               /* text classification: (req.n, NL) the model's scores */
    float *logits;              /* text classification: (req.n, NL) */
    char **answers;             /* token classification, question answering: (req.n) each input's
                                   JSON answer (its entities; its answer or answers) */
    int next_in, done_in;       /* inputs handed to / finished by the worker */
    int failed;                 /* the model failed on one of its inputs: answered fail_status */
    int fail_status;            /* 422 when the input was at fault (BERTC_ERR_ARG), else 500 */
    char fail_msg[480];
} sreq;

/* How a body is read, what the worker does with a batch of inputs and how an
 * answer is written: chosen once, by the model's head, when the server starts. */
typedef struct serve_task {
    /* parses and validates a complete body into q->req (200, or the refusal in *e) */
    int (*parse)(bertc_server *s, struct sreq *q, bertc_serve_error *e);
    /* 1: each input's answer is a JSON string in q->answers; 0: scores in q->probs/q->logits */
    int json_answers;
    /* scores texts[0..n) and stores input b's result in bq[b] at index bi[b]; an
     * error returned fails every request of the batch, one marked on a request
     * (mark_failed) only that one */
    int (*score)(bertc_server *s, struct sreq **bq, const int *bi, const char **texts, const size_t *lens, int n,
                 bertc_err *err);
    /* the 200 answer of a finished request (malloc'd), or NULL when out of memory */
    char *(*format)(bertc_server *s, const struct sreq *q);
} serve_task;

struct bertc_server {
    bertc_classifier *c;
    const serve_task *task;
    int strategy;               /* token classification: the aggregation strategy */
    bertc_serve_opts o;
    int NL, max_batch, port;
    const char **labels;        /* (NL) */
    struct MHD_Daemon *d;
    MHD_socket listen_fd;       /* after quiesce, closed after MHD_stop_daemon */
    char *info;                 /* GET /info without stats, built once */
    pthread_t worker;
    /* The worker's batch buffers, allocated with the server: */
    struct sreq **w_req;        /* (max_batch) the request of each batch row */
    int *w_idx;                 /* (max_batch) its input index */
    const char **w_texts;       /* (max_batch) */
    size_t *w_lens;             /* (max_batch) */
    float *w_probs;             /* (max_batch, NL) */
    float *w_logits;            /* (max_batch, NL) */
    struct MHD_Connection **w_resume; /* (max_batch) requests finished by a batch */
    int worker_started, stopped;

    pthread_mutex_t mu;         /* guards everything below */
    pthread_cond_t work;        /* the queue got a request, or stop */
    pthread_cond_t idle;        /* a request finished (for the drain) */
    sreq *head, *tail;          /* FIFO of queued requests */
    int queued;                 /* requests in the queue (waiting or scoring) */
    int open_requests;          /* requests MHD has started and not completed */
    int draining, stop_worker;
    size_t buffered;            /* body bytes charged by requests in flight (<= o.max_buffered) */
    bertc_serve_stats st;
};

static enum MHD_Result answer(struct MHD_Connection *conn, bertc_server *s, int status, char *json,
                              const char *allow) {
    static const char oom[] = "{\"error\":\"out of memory\",\"error_type\":\"backend\"}";
    struct MHD_Response *r = json ? MHD_create_response_from_buffer(strlen(json), json, MHD_RESPMEM_MUST_FREE)
                                  : MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(json);
        return MHD_NO;
    }
    if (!json) status = 500;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    pthread_mutex_lock(&s->mu);
    int draining = s->draining;
    pthread_mutex_unlock(&s->mu);
    if (draining) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    if (allow) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result answer_error(struct MHD_Connection *conn, bertc_server *s, sreq *q, bertc_serve_error *e) {
    if (q && q->route) {
        pthread_mutex_lock(&s->mu);
        s->st.rejected++;
        s->st.overloaded += e->status == 429 || e->status == 503;
        pthread_mutex_unlock(&s->mu);
    }
    return answer(conn, s, e->status, bertc_serve_error_json(e), e->status == 405 && q ? q->allow : NULL);
}

static char *info_json(bertc_server *s) {
    bertc_serve_stats st;
    bertc_server_stats(s, &st);
    cJSON *j = cJSON_Parse(s->info);
    cJSON *o = cJSON_CreateObject();
    if (j && o) {
        cJSON_AddNumberToObject(o, "requests", (double)st.requests);
        cJSON_AddNumberToObject(o, "inputs", (double)st.inputs);
        cJSON_AddNumberToObject(o, "batches", (double)st.batches);
        cJSON_AddNumberToObject(o, "rejected", (double)st.rejected);
        cJSON_AddNumberToObject(o, "overloaded", (double)st.overloaded);
        cJSON_AddNumberToObject(o, "queued", st.queued);
        cJSON_AddItemToObject(j, "stats", o);
        o = NULL;
    }
    cJSON_Delete(o);
    char *r = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return r;
}

/* The body is complete: validate, then queue (and suspend) or answer at once. */
static enum MHD_Result predict_body_done(struct MHD_Connection *conn, bertc_server *s, sreq *q) {
    bertc_serve_error e;
    if (q->shed)
        return serr(&e, 503, "the server holds %zu bytes of request bodies in flight (--max-buffered): retry later",
                    s->o.max_buffered),
               answer_error(conn, s, q, &e);
    if (q->dropped)
        return serr(&e, 413, "request body of %zu bytes is over the limit of %zu (--max-body)",
                    q->len + q->dropped, s->o.limits.max_body),
               answer_error(conn, s, q, &e);
    int rc = s->task->parse(s, q, &e);
    free(q->body);
    q->body = NULL;
    if (rc != 200) return answer_error(conn, s, q, &e);
    if (s->task->json_answers) q->answers = calloc((size_t)q->req.n, sizeof *q->answers);
    else {
        q->probs = calloc((size_t)q->req.n * (size_t)s->NL, sizeof *q->probs);
        q->logits = calloc((size_t)q->req.n * (size_t)s->NL, sizeof *q->logits);
        if (!q->logits) free(q->probs), q->probs = NULL;
    }
    if (!q->probs && !q->answers) return serr(&e, 500, "out of memory"), answer_error(conn, s, q, &e);
    pthread_mutex_lock(&s->mu);
    if (s->queued >= s->o.queue) {
        pthread_mutex_unlock(&s->mu);
        serr(&e, 429, "the queue is full (%d requests waiting or being scored, --queue); retry later", s->o.queue);
        return answer_error(conn, s, q, &e);
    }
    q->state = REQ_QUEUED;
    q->conn = conn;
    q->next = NULL;
    if (s->tail) s->tail->next = q;
    else s->head = q;
    s->tail = q;
    s->queued++;
    /* Suspend under the lock: the worker resumes only after taking it again. */
    MHD_suspend_connection(conn);
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
    return MHD_YES;
}

/* The first FREE_BODY bytes of every body are not charged to max_buffered, so
 * that small requests are served while large slow ones hold the budget; they
 * are bounded by the connection limit instead (max_connections x 64 KiB). */
enum { FREE_BODY = 65536 };
static size_t charge(size_t body) { return body > FREE_BODY ? body - FREE_BODY : 0; }

/* Lets q hold a body of `want` bytes, charging the part over FREE_BODY to the
 * server-wide budget; 0 when that would take the total over max_buffered
 * (nothing is reserved then). */
static int reserve(bertc_server *s, sreq *q, size_t want) {
    if (want <= q->reserved) return 1;
    pthread_mutex_lock(&s->mu);
    size_t more = charge(want) - charge(q->reserved);
    int ok = more <= s->o.max_buffered - s->buffered;
    if (ok) s->buffered += more, q->reserved = want;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static void release(bertc_server *s, sreq *q) {
    pthread_mutex_lock(&s->mu);
    s->buffered -= charge(q->reserved);
    pthread_mutex_unlock(&s->mu);
    q->reserved = 0;
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
    (void)version;
    bertc_server *s = cls;
    sreq *q = *con_cls;
    bertc_serve_error e;
    if (!q) { /* first call: headers are in */
        q = calloc(1, sizeof *q);
        if (!q) return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &q->start);
        *con_cls = q;
        pthread_mutex_lock(&s->mu);
        s->open_requests++;
        pthread_mutex_unlock(&s->mu);
        int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
        if (strcmp(url, "/health") == 0 || strcmp(url, "/info") == 0) {
            q->allow = "GET, HEAD";
            if (!get) return serr(&e, 405, "%s %s: use GET", method, url), answer_error(conn, s, q, &e);
            q->state = REQ_ANSWERED;
            return answer(conn, s, 200, url[1] == 'h' ? strdup("{\"status\":\"ok\"}") : info_json(s), NULL);
        }
        if (strcmp(url, "/predict") != 0 && strcmp(url, "/") != 0)
            return serr(&e, 404, "no such path: %s (use POST /predict, POST /, GET /health, GET /info)", url),
                   answer_error(conn, s, q, &e);
        q->allow = "POST";
        if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
            return serr(&e, 405, "%s %s: use POST", method, url), answer_error(conn, s, q, &e);
        q->root = url[1] == '\0';
        q->route = 1;
        /* An announced body over the limit is refused before it is read. */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        long n = 0;
        if (cl && bertc_parse_long(cl, 0, 0x7fffffffffffffffL, &n) == 0 && (unsigned long)n > s->o.limits.max_body)
            return serr(&e, 413, "request body of %ld bytes is over the limit of %zu (--max-body)", n,
                        s->o.limits.max_body),
                   answer_error(conn, s, q, &e);
        /* An announced body reserves its bytes now, so that slow senders cannot
         * hold more than max_buffered between them; refused before it is read. */
        if (cl && n > 0 && !reserve(s, q, (size_t)n))
            return serr(&e, 503, "the server holds %zu bytes of request bodies in flight (--max-buffered): "
                                 "retry later", s->o.max_buffered),
                   answer_error(conn, s, q, &e);
        return MHD_YES;
    }
    if (q->state == REQ_READING && *upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        /* a client still sending after max_request_time is cut (MHD's timeout counts silence only) */
        if (seconds_since(&q->start) > s->o.max_request_time) return MHD_NO;
        size_t want = q->len + n, ahead = want < 2048 ? 4096 : 2 * want; /* chunked: reserve ahead */
        if (ahead > s->o.limits.max_body) ahead = s->o.limits.max_body;
        if (!q->dropped && !q->shed && n <= s->o.limits.max_body - q->len && !reserve(s, q, ahead) &&
            !reserve(s, q, want)) {
            /* a chunked body grew past the budget: let go of it, answer 503 at its end */
            q->shed = 1;
            free(q->body);
            q->body = NULL;
            q->len = q->cap = 0;
            release(s, q);
        }
        if (q->shed) {
            q->dropped += n;
            return q->dropped > 4 * s->o.limits.max_body + 65536 ? MHD_NO : MHD_YES;
        }
        if (q->dropped || n > s->o.limits.max_body - q->len) {
            /* Chunked bodies announce no length: discard past the limit and
             * answer 413 at the end, but close a client that keeps sending. */
            q->dropped += n;
            return q->dropped > 4 * s->o.limits.max_body + 65536 ? MHD_NO : MHD_YES;
        }
        if (q->len + n > q->cap) {
            size_t cap = q->cap ? q->cap : 4096;
            while (cap < q->len + n) cap *= 2;
            if (cap > s->o.limits.max_body) cap = s->o.limits.max_body;
            if (cap > q->reserved) cap = q->reserved; /* stay within the reservation (>= len + n) */
            char *b = realloc(q->body, cap);
            if (!b) return MHD_NO;
            q->body = b;
            q->cap = cap;
        }
        memcpy(q->body + q->len, upload_data, n);
        q->len += n;
        return MHD_YES;
    }
    if (q->state == REQ_READING) return predict_body_done(conn, s, q);
    if (q->state == REQ_DONE) { /* resumed by the worker */
        q->state = REQ_ANSWERED;
        if (q->failed) return serr(&e, q->fail_status, "%s", q->fail_msg), answer_error(conn, s, q, &e);
        char *json = s->task->format(s, q);
        pthread_mutex_lock(&s->mu);
        s->st.requests += json != NULL;
        pthread_mutex_unlock(&s->mu);
        return answer(conn, s, 200, json, NULL);
    }
    return MHD_NO; /* not reached: a queued request is suspended */
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)conn;
    (void)toe;
    bertc_server *s = cls;
    sreq *q = *con_cls;
    if (!q) return;
    *con_cls = NULL;
    free(q->body);
    free(q->probs);
    free(q->logits);
    for (int i = 0; q->answers && i < q->req.n; i++) free(q->answers[i]);
    free(q->answers);
    bertc_serve_request_free(&q->req);
    release(s, q);
    free(q);
    pthread_mutex_lock(&s->mu);
    s->open_requests--;
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
}

/* ---- the tasks the server answers ---- */

static int parse_texts(bertc_server *s, sreq *q, bertc_serve_error *e) {
    return bertc_serve_parse_route(&q->req, q->body ? q->body : "", q->len, &s->o.limits,
                                   q->root ? BERTC_SERVE_ROUTE_ROOT : BERTC_SERVE_ROUTE_PREDICT, e);
}

/* Records that input i of q failed (under s->mu): its request is answered
 * with the message, 422 when the input was at fault. */
static void mark_failed(bertc_server *s, sreq *q, int i, const bertc_err *err) {
    pthread_mutex_lock(&s->mu);
    if (!q->failed) {
        q->failed = 1;
        q->fail_status = err->code == BERTC_ERR_ARG ? 422 : 500;
        snprintf(q->fail_msg, sizeof q->fail_msg, "inputs[%d]: %.440s", i, err->msg);
    }
    pthread_mutex_unlock(&s->mu);
}

static int score_text(bertc_server *s, sreq **bq, const int *bi, const char **texts, const size_t *lens, int n,
                      bertc_err *err) {
    int NL = s->NL;
    int rc = bertc_classifier_run(s->c, texts, lens, NULL, NULL, n, s->w_probs, s->w_logits, err);
    pthread_mutex_lock(&s->mu);
    for (int b = 0; rc == BERTC_OK && b < n; b++) {
        memcpy(bq[b]->probs + (size_t)bi[b] * NL, s->w_probs + (size_t)b * NL, (size_t)NL * sizeof(float));
        memcpy(bq[b]->logits + (size_t)bi[b] * NL, s->w_logits + (size_t)b * NL, (size_t)NL * sizeof(float));
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* The scores the request asked for: the model's own probabilities unless
 * function_to_apply names another function (the same one gives them as is). */
static char *format_text(bertc_server *s, const sreq *q) {
    int fn = q->req.function, ml = bertc_classifier_multi_label(s->c);
    if ((fn == BERTC_SERVE_FN_SOFTMAX && !ml) || (fn == BERTC_SERVE_FN_SIGMOID && ml)) fn = BERTC_SERVE_FN_DEFAULT;
    if (fn == BERTC_SERVE_FN_DEFAULT) return bertc_serve_format(&q->req, q->probs, s->NL, s->labels);
    float *sc = malloc((size_t)q->req.n * (size_t)s->NL * sizeof *sc);
    if (!sc) return NULL;
    bertc_serve_scores(sc, q->logits, q->probs, q->req.n, s->NL, fn);
    char *r = bertc_serve_format(&q->req, sc, s->NL, s->labels);
    free(sc);
    return r;
}

static int score_token(bertc_server *s, sreq **bq, const int *bi, const char **texts, const size_t *lens, int n,
                       bertc_err *err) {
    bertc_entity *ents[n];
    int counts[n];
    int rc = bertc_token_entities(s->c, texts, lens, n, s->strategy, ents, counts, err);
    for (int b = 0; rc == BERTC_OK && b < n; b++) {
        char *json = bertc_token_entities_json(ents[b], counts[b], s->strategy);
        bertc_token_entities_free(ents[b], counts[b]);
        if (!json && rc == BERTC_OK) rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
        pthread_mutex_lock(&s->mu);
        bq[b]->answers[bi[b]] = json;
        pthread_mutex_unlock(&s->mu);
    }
    return rc;
}

/* One input (a string, or one question) is answered with its JSON answer (its
 * list of entities; its answer, or list of answers), a list of inputs with a
 * list of those, as the pipelines return them. */
static char *format_answers(bertc_server *s, const sreq *q) {
    (void)s;
    if (!q->req.is_list) return strdup(q->answers[0] ? q->answers[0] : "[]");
    size_t len = 2;
    for (int i = 0; i < q->req.n; i++) len += strlen(q->answers[i]) + 2;
    char *out = malloc(len + 1), *p = out;
    if (!out) return NULL;
    *p++ = '[';
    for (int i = 0; i < q->req.n; i++) {
        if (i) *p++ = ',', *p++ = ' ';
        size_t k = strlen(q->answers[i]);
        memcpy(p, q->answers[i], k);
        p += k;
    }
    *p++ = ']';
    *p = '\0';
    return out;
}

/* Question answering: the body's parameters are checked against the model
 * here (max_seq_len, doc_stride), so a request the pipeline would refuse is
 * answered 422 before it is queued. */
static int parse_qa(bertc_server *s, sreq *q, bertc_serve_error *e) {
    int rc = bertc_serve_parse_qa(&q->req, q->body ? q->body : "", q->len, &s->o.limits, e);
    if (rc != 200) return rc;
    bertc_qa_predict_opts resolved;
    bertc_err err = {0};
    if (bertc_qa_predict_opts_resolve(&resolved, &q->req.qa, s->c, &err) != BERTC_OK) {
        bertc_serve_request_free(&q->req);
        return serr(e, 422, "parameters.%s", err.msg);
    }
    q->req.qa = resolved;
    return 200;
}

/* Each question is answered on its own (its windows make the forward
 * batches); a question the model cannot take fails only its request. */
static int score_qa(bertc_server *s, sreq **bq, const int *bi, const char **texts, const size_t *lens, int n,
                    bertc_err *err) {
    (void)err;
    for (int b = 0; b < n; b++) {
        const bertc_serve_request *r = &bq[b]->req;
        bertc_qa_answer *a = malloc((size_t)r->qa.decode.top_k * sizeof *a);
        bertc_err e = {0};
        int na = 0;
        int rc = a ? bertc_qa_answers(a, &na, s->c, texts[b], lens[b], r->contexts[bi[b]], r->context_lens[bi[b]],
                                      &r->qa, NULL, &e)
                   : bertc_fail(&e, BERTC_ERR_NOMEM, "out of memory");
        char *json = rc == BERTC_OK ? bertc_qa_answers_json(a, na, r->contexts[bi[b]]) : NULL;
        free(a);
        if (rc == BERTC_OK && !json) rc = bertc_fail(&e, BERTC_ERR_NOMEM, "out of memory");
        if (rc != BERTC_OK) {
            mark_failed(s, bq[b], bi[b], &e);
            continue;
        }
        pthread_mutex_lock(&s->mu);
        bq[b]->answers[bi[b]] = json;
        pthread_mutex_unlock(&s->mu);
    }
    return BERTC_OK;
}

static const serve_task SERVE_TEXT = {parse_texts, 0, score_text, format_text};
static const serve_task SERVE_TOKEN = {parse_texts, 1, score_token, format_answers};
static const serve_task SERVE_QA = {parse_qa, 1, score_qa, format_answers};

/* The worker: takes up to max_batch inputs from the head of the queue (across
 * requests, in order), scores them, resumes the requests it finished. */
static void *worker_main(void *arg) {
    bertc_server *s = arg;
    if (s->o.worker_init) s->o.worker_init(s->o.worker_arg);
    int B = s->max_batch;
    sreq **bq = s->w_req;
    int *bi = s->w_idx;
    const char **texts = s->w_texts;
    size_t *lens = s->w_lens;
    struct MHD_Connection **resume = s->w_resume;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stop_worker) pthread_cond_wait(&s->work, &s->mu);
        if (!s->head) break; /* stopping, and nothing left to answer */
        int n = 0;
        for (sreq *q = s->head; q && n < B; q = q->next)
            while (q->next_in < q->req.n && n < B) {
                bq[n] = q;
                bi[n] = q->next_in++;
                n++;
            }
        pthread_mutex_unlock(&s->mu);
        bertc_err err = {0};
        int rc = BERTC_OK;
        if (n > 0) {
            for (int b = 0; b < n; b++) {
                texts[b] = bq[b]->req.texts[bi[b]];
                lens[b] = bq[b]->req.lens[bi[b]];
            }
            rc = s->task->score(s, bq, bi, texts, lens, n, &err);
        }
        pthread_mutex_lock(&s->mu);
        for (int b = 0; b < n; b++) {
            sreq *q = bq[b];
            if (rc != BERTC_OK && !q->failed) {
                q->failed = 1;
                q->fail_status = 500;
                snprintf(q->fail_msg, sizeof q->fail_msg, "inputs[%d]: %.440s", bi[b], err.msg);
            }
            q->done_in++;
        }
        s->st.batches += n > 0 && rc == BERTC_OK;
        s->st.inputs += rc == BERTC_OK ? (uint64_t)n : 0;
        /* Finished requests leave the queue; at most n of them (each gave an input). */
        int nr = 0;
        for (sreq **pp = &s->head, *prev = NULL; *pp;) {
            sreq *q = *pp;
            if (q->done_in == q->req.n) {
                *pp = q->next;
                if (s->tail == q) s->tail = prev;
                s->queued--;
                q->state = REQ_DONE;
                resume[nr++] = q->conn;
            } else {
                prev = q;
                pp = &q->next;
            }
        }
        if (nr) pthread_cond_broadcast(&s->idle);
        pthread_mutex_unlock(&s->mu);
        /* After this a request may be answered and freed at any time: resume only. */
        for (int i = 0; i < nr; i++) MHD_resume_connection(resume[i]);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static char *build_info(bertc_server *s) {
    const bertc_classifier *c = s->c;
    cJSON *j = cJSON_CreateObject();
    cJSON *labels = cJSON_CreateArray();
    if (!j || !labels) {
        cJSON_Delete(j);
        cJSON_Delete(labels);
        return NULL;
    }
    cJSON_AddStringToObject(j, "model", c->hf.dir ? c->hf.dir : "");
    cJSON_AddStringToObject(j, "model_type", c->hf.cfg.model_type == BERT_ARCH_DISTILBERT ? "distilbert" : "bert");
    cJSON_AddStringToObject(j, "task", bert_head_of(c->hf.cfg.task)->name);
    if (c->hf.cfg.task == BERT_TASK_TOKEN_CLS)
        cJSON_AddStringToObject(j, "aggregation_strategy", bertc_token_strategy_name(s->strategy));
    for (int i = 0; i < s->NL; i++) cJSON_AddItemToArray(labels, cJSON_CreateString(s->labels[i]));
    cJSON_AddItemToObject(j, "labels", labels);
    cJSON_AddBoolToObject(j, "trained_classifier", !c->hf.new_head);
    cJSON_AddNumberToObject(j, "max_length", c->opts.max_length);
    cJSON_AddStringToObject(j, "precision", bert_precision_name(c->opts.precision)); /* auto resolved */
    cJSON_AddNumberToObject(j, "max_batch", s->max_batch);
    cJSON_AddNumberToObject(j, "max_body", (double)s->o.limits.max_body);
    cJSON_AddNumberToObject(j, "max_inputs", s->o.limits.max_inputs);
    cJSON_AddNumberToObject(j, "max_chars", (double)s->o.limits.max_chars);
    cJSON_AddNumberToObject(j, "queue", s->o.queue);
    cJSON_AddNumberToObject(j, "timeout", s->o.timeout);
    cJSON_AddNumberToObject(j, "max_connections", s->o.max_connections);
    cJSON_AddNumberToObject(j, "max_per_ip", s->o.max_per_ip);
    cJSON_AddNumberToObject(j, "max_buffered", (double)s->o.max_buffered);
    cJSON_AddNumberToObject(j, "max_request_time", s->o.max_request_time);
    char *r = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return r;
}

void bertc_server_stats(const bertc_server *s, bertc_serve_stats *st) {
    bertc_server *m = (bertc_server *)s; /* the mutex is not part of the observable state */
    pthread_mutex_lock(&m->mu);
    *st = m->st;
    st->queued = m->queued;
    pthread_mutex_unlock(&m->mu);
}

int bertc_server_port(const bertc_server *s) { return s->port; }

int bertc_server_start(bertc_server **out, bertc_classifier *c, const bertc_serve_opts *o, bertc_err *err) {
    *out = NULL;
    bertc_serve_opts def;
    if (!o) {
        bertc_serve_opts_default(&def);
        o = &def;
    }
    if (o->port < 0 || o->port > 65535) return bertc_fail(err, BERTC_ERR_ARG, "port must be in 0..65535 (got %d)", o->port);
    if (o->queue < 1 || o->queue > 1000000) return bertc_fail(err, BERTC_ERR_ARG, "queue must be in 1..1000000 (got %d)", o->queue);
    if (o->timeout < 1 || o->timeout > 86400)
        return bertc_fail(err, BERTC_ERR_ARG, "timeout must be in 1..86400 seconds (got %d)", o->timeout);
    if (o->limits.max_body < 1 || o->limits.max_body > (size_t)1 << 30)
        return bertc_fail(err, BERTC_ERR_ARG, "max body must be in 1..%zu bytes (got %zu)", (size_t)1 << 30, o->limits.max_body);
    if (o->max_connections < 1 || o->max_connections > 1000000)
        return bertc_fail(err, BERTC_ERR_ARG, "max connections must be in 1..1000000 (got %d)", o->max_connections);
    if (o->max_per_ip < 0 || o->max_per_ip > 1000000)
        return bertc_fail(err, BERTC_ERR_ARG, "max connections per IP must be in 0..1000000, 0 = no limit (got %d)",
                          o->max_per_ip);
    if (o->max_buffered < o->limits.max_body || o->max_buffered > (size_t)1 << 40)
        return bertc_fail(err, BERTC_ERR_ARG, "max buffered must be in max body (%zu)..%zu bytes (got %zu)",
                          o->limits.max_body, (size_t)1 << 40, o->max_buffered);
    if (o->max_request_time < 1 || o->max_request_time > 86400)
        return bertc_fail(err, BERTC_ERR_ARG, "max request time must be in 1..86400 seconds (got %d)",
                          o->max_request_time);
    if (o->limits.max_inputs < 1 || o->limits.max_inputs > 1000000)
        return bertc_fail(err, BERTC_ERR_ARG, "max inputs must be in 1..1000000 (got %d)", o->limits.max_inputs);
    if (o->limits.max_chars < 0) return bertc_fail(err, BERTC_ERR_ARG, "max chars must be >= 0 (got %ld)", o->limits.max_chars);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)o->port);
    if (!o->host || inet_pton(AF_INET, o->host, &addr.sin_addr) != 1)
        return bertc_fail(err, BERTC_ERR_ARG, "host '%s' is not an IPv4 address (e.g. 127.0.0.1)", o->host ? o->host : "");
    bertc_server *s = calloc(1, sizeof *s);
    if (!s) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    s->c = c;
    s->o = *o;
    /* the one place the head is asked: everything after goes through s->task */
    s->task = c->hf.cfg.task == BERT_TASK_TOKEN_CLS ? &SERVE_TOKEN : c->hf.cfg.task == BERT_TASK_QA ? &SERVE_QA
                                                                                                  : &SERVE_TEXT;
    s->strategy = o->aggregation_strategy;
    s->listen_fd = MHD_INVALID_SOCKET;
    if (s->o.limits.max_chars == 0) s->o.limits.max_chars = 250L * c->opts.max_length;
    s->NL = bertc_classifier_num_labels(c);
    s->max_batch = c->opts.batch_size;
    s->labels = malloc((size_t)s->NL * sizeof *s->labels);
    size_t B = (size_t)s->max_batch;
    s->w_req = malloc(B * sizeof *s->w_req);
    s->w_idx = malloc(B * sizeof *s->w_idx);
    s->w_texts = malloc(B * sizeof *s->w_texts);
    s->w_lens = malloc(B * sizeof *s->w_lens);
    s->w_probs = malloc(B * (size_t)s->NL * sizeof *s->w_probs);
    s->w_logits = malloc(B * (size_t)s->NL * sizeof *s->w_logits);
    s->w_resume = malloc(B * sizeof *s->w_resume);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->idle, NULL);
    if (!s->labels || !s->w_req || !s->w_idx || !s->w_texts || !s->w_lens || !s->w_probs || !s->w_logits || !s->w_resume) {
        bertc_server_free(s);
        return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < s->NL; i++) s->labels[i] = bertc_classifier_label(c, i);
    s->info = build_info(s);
    if (!s->info) {
        bertc_server_free(s);
        return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    }
    if (pthread_create(&s->worker, NULL, worker_main, s) != 0) {
        bertc_server_free(s);
        return bertc_fail(err, BERTC_ERR_NOMEM, "cannot start the worker thread");
    }
    s->worker_started = 1;
    /* One internal polling thread (epoll on Linux) for every connection:
     * suspend/resume needs it, and a stalled client then costs no thread. */
    s->d = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME, (uint16_t)o->port, NULL, NULL,
                            on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)o->timeout,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)o->max_connections,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)o->max_per_ip,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024U, MHD_OPTION_END);
    if (!s->d) {
        int e = errno;
        bertc_server_free(s);
        return bertc_fail(err, BERTC_ERR_IO, "cannot listen on %s:%d (%s)", o->host, o->port,
                          e ? strerror(e) : "port in use?");
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : o->port;
    *out = s;
    return BERTC_OK;
}

int bertc_server_stop(bertc_server *s) {
    if (!s || s->stopped) return 0;
    s->stopped = 1;
    int left = 0;
    if (s->d) {
        pthread_mutex_lock(&s->mu);
        s->draining = 1;
        pthread_mutex_unlock(&s->mu);
        s->listen_fd = MHD_quiesce_daemon(s->d);
        /* MHD no longer accepts, but the kernel would keep completing handshakes
         * into the backlog; shutting the socket down (it stays open until MHD
         * is stopped, as MHD asks) makes new connections be refused. */
        if (s->listen_fd != MHD_INVALID_SOCKET) shutdown(s->listen_fd, SHUT_RDWR);
        /* Requests already received are answered: first everything queued is
         * scored (the queue is bounded, and each keep-alive connection now gets
         * Connection: close, so it ends), then the answers are sent, for at most
         * the connection timeout (a client stalled mid-request is cut there). */
        pthread_mutex_lock(&s->mu);
        while (s->queued > 0) pthread_cond_wait(&s->idle, &s->mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += s->o.timeout;
        while (s->open_requests > 0)
            if (pthread_cond_timedwait(&s->idle, &s->mu, &until) == ETIMEDOUT) break;
        left = s->open_requests;
        pthread_mutex_unlock(&s->mu);
    }
    if (s->worker_started) {
        /* The worker exits once the queue is empty, resuming every request it held. */
        pthread_mutex_lock(&s->mu);
        s->stop_worker = 1;
        pthread_cond_signal(&s->work);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->worker, NULL);
        s->worker_started = 0;
    }
    if (s->d) {
        MHD_stop_daemon(s->d);
        s->d = NULL;
    }
    if (s->listen_fd != MHD_INVALID_SOCKET) close(s->listen_fd);
    s->listen_fd = MHD_INVALID_SOCKET;
    return left;
}

void bertc_server_free(bertc_server *s) {
    if (!s) return;
    s->stopped = 0;
    if (s->d || s->worker_started) bertc_server_stop(s);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->idle);
    free(s->labels);
    free(s->info);
    free(s->w_req);
    free(s->w_idx);
    free(s->w_texts);
    free(s->w_lens);
    free(s->w_probs);
    free(s->w_logits);
    free(s->w_resume);
    free(s);
}
