/* serve.h: an HTTP server for one classifier, as Text Embeddings Inference
 * serves a classification model: POST /predict, GET /health, GET /info; and
 * as the Inference API / Inference Endpoints serve it: POST / (what
 * huggingface_hub.InferenceClient(model="http://host:port") posts to).
 *
 * One libmicrohttpd polling thread reads requests, validates them
 * (bertc_serve_parse) and appends them to one bounded FIFO queue, then suspends
 * the connection. One worker thread owns the classifier (which is not
 * thread-safe): it takes up to batch_size inputs from the head of the queue,
 * across requests (dynamic batching), runs them as one batch, and resumes each
 * request once all its inputs are scored. A full queue answers 429 at once.
 *
 * It does not load the model (the caller opens a bertc_classifier and keeps
 * it alive until bertc_server_free), does not print and does not install
 * signal handlers: the caller waits for SIGTERM and calls bertc_server_stop.
 *
 * Memory: a bertc_server owns its daemon, its queue and the memory of every
 * request; bertc_server_free releases them (NULL is harmless). A parsed
 * bertc_serve_request owns its texts; bertc_serve_request_free releases them.
 *
 *     bertc_serve_opts o; bertc_serve_opts_default(&o);
 *     o.port = 8080;
 *     bertc_server *s = NULL;
 *     if (bertc_server_start(&s, classifier, &o, &err)) ... err.msg
 *     ... wait for SIGTERM ...
 *     bertc_server_stop(s);   // stop accepting, answer what is in flight
 *     bertc_server_free(s);
 */
#ifndef BERTC_SERVE_H
#define BERTC_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include "classifier.h"

/* Request limits; each violation is answered with a JSON error. */
typedef struct bertc_serve_limits {
    size_t max_body; /* bytes of a request body; more -> 413 (default 2,000,000) */
    int max_inputs;  /* texts per request; more, or none -> 422 (default 32) */
    long max_chars;  /* Unicode code points per text; more -> 422 (default 250 x max length) */
} bertc_serve_limits;

typedef struct bertc_serve_opts {
    const char *host;     /* IPv4 address to bind (default "127.0.0.1") */
    int port;             /* TCP port; 0 = any free port (see bertc_server_port) */
    bertc_serve_limits limits;
    int queue;            /* requests waiting or being scored at once; more -> 429 (default 64) */
    int timeout;          /* seconds a connection may stay idle or stall mid-request (default 10) */
    /* Slow-client limits: together they bound what clients can make the server hold. */
    int max_connections;  /* open connections at once; more are closed on accept (default 512) */
    int max_per_ip;       /* open connections from one IP address; more are closed (default 64) */
    size_t max_buffered;  /* request-body bytes held by all requests in flight; a request that would
                           * go over it -> 503 (default 64 MiB). A body announced by Content-Length
                           * reserves its size before it is read; a chunked one as it arrives. The
                           * first 64 KiB of each body are not counted (so small requests are served
                           * while big slow ones hold the budget): bodies take at most
                           * max_buffered + max_connections x 64 KiB in all. */
    int max_request_time; /* seconds from a request's headers to the end of its body; a client still
                           * sending after it is disconnected (default 60). --timeout bounds
                           * silence; this bounds a client that trickles a byte now and then. */
    int aggregation_strategy; /* token-classification models: how tokens become entities
                                 (token_decode.h's BERTC_TOKEN_*; default BERTC_TOKEN_SIMPLE) */
    /* Called once on the worker thread before it scores anything (e.g. to set
     * the OpenMP thread count, which is per thread); may be NULL. */
    void (*worker_init)(void *arg);
    void *worker_arg;
} bertc_serve_opts;

/* Defaults as above; limits.max_chars = 0 means 250 x the classifier's max length. */
void bertc_serve_opts_default(bertc_serve_opts *o);

/* ---- Request bodies (pure functions: what the fuzz harness exercises) ---- */

/* What turns a text-classification model's logits into scores (the pipeline's
 * function_to_apply): the model's own (softmax, or sigmoid for a multi-label
 * model), or the one a request names. */
enum { BERTC_SERVE_FN_DEFAULT = 0, BERTC_SERVE_FN_SOFTMAX, BERTC_SERVE_FN_SIGMOID, BERTC_SERVE_FN_NONE };

/* The route a body came to: TEI's POST /predict or the Inference API's POST /. */
enum { BERTC_SERVE_ROUTE_PREDICT = 0, BERTC_SERVE_ROUTE_ROOT = 1 };

/* A validated request body: {"inputs": "t"} or {"inputs": ["t1", ...]}, with
 * optional TEI fields "top_k" (integer >= 1, or null for every label) and
 * "raw_scores" (true: logits), and the Inference API's "parameters": {"top_k":
 * k or null, "function_to_apply": "softmax"|"sigmoid"|"none"} (a "parameters"
 * value wins over the top-level one). Other keys are ignored, as TEI does.
 * Shapes (text classification): a TEI request to /predict answers a string with
 * one list and a list of inputs with a list of lists; an Inference API request
 * (POST /, or "parameters" present) answers every input with a list, the whole
 * a list of those ([[...]] for a string, as InferenceClient reads it), and
 * defaults to every label. */
typedef struct bertc_serve_request {
    int n;          /* texts, 1..max_inputs */
    int is_list;    /* 1: "inputs" was a list */
    int api;        /* 1: answer in the Inference API's shape (a list of lists always) */
    int top_k;      /* labels per text; 0 = all (top_k null; the Inference API's default); TEI default 1 */
    int function;   /* BERTC_SERVE_FN_*: how logits become scores */
    char **texts;   /* (n) NUL-terminated UTF-8, inside store */
    size_t *lens;   /* (n) bytes */
    char *store;    /* one allocation holding texts, lens and the bytes */
} bertc_serve_request;

/* Why a request was refused: the HTTP status, TEI's error_type and a message. */
typedef struct bertc_serve_error {
    int status;       /* 400, 413, 422, 429, 404, 405, 500, 503 */
    const char *type; /* "validation", "overloaded", "not_found", "method_not_allowed",
                         "backend", "unavailable" (static strings) */
    char msg[256];    /* one line */
} bertc_serve_error;

/* Parses and validates len bytes of a request body (not NUL-terminated) sent
 * to /predict. On success returns 200 and fills *out (free with
 * bertc_serve_request_free); else returns the status (400 malformed JSON, wrong
 * types, invalid UTF-8, a NUL; 413 over max_body; 422 empty inputs, too many, a
 * text over max_chars, a top_k below 1 or an unknown function_to_apply), fills
 * *e and leaves *out zeroed. */
int bertc_serve_parse(bertc_serve_request *out, const char *body, size_t len, const bertc_serve_limits *lim,
                      bertc_serve_error *e);
/* The same for a body sent to route (BERTC_SERVE_ROUTE_*): the root route
 * always answers in the Inference API's shape. */
int bertc_serve_parse_route(bertc_serve_request *out, const char *body, size_t len, const bertc_serve_limits *lim,
                            int route, bertc_serve_error *e);
void bertc_serve_request_free(bertc_serve_request *r);

/* The answer for r given scores (r->n, NL) and the label names, as
 * transformers' pipeline prints it: [{"label": L, "score": p}, ...] sorted by
 * score for a string input to /predict, a list of those for a list or an
 * Inference API request (r->api). A malloc'd NUL-terminated string, or NULL
 * when out of memory. */
char *bertc_serve_format(const bertc_serve_request *r, const float *probs, int NL, const char *const *labels);

/* scores (n, NL) from logits (n, NL) by fn (BERTC_SERVE_FN_SOFTMAX, _SIGMOID or
 * _NONE; _DEFAULT copies probs, the model's own scores). */
void bertc_serve_scores(float *scores, const float *logits, const float *probs, int n, int NL, int fn);

/* {"error": msg, "error_type": type} as a malloc'd string, or NULL. */
char *bertc_serve_error_json(const bertc_serve_error *e);

/* ---- The server ---- */

typedef struct bertc_server bertc_server;

/* What the server has done so far (also in GET /info under "stats"). */
typedef struct bertc_serve_stats {
    uint64_t requests;  /* /predict requests answered 200 */
    uint64_t inputs;    /* texts scored */
    uint64_t batches;   /* forward passes */
    uint64_t rejected;  /* /predict requests answered 4xx/5xx (429 included) */
    uint64_t overloaded;/* of which 429 (queue full) or 503 (max_buffered) */
    int queued;         /* requests waiting or being scored now */
} bertc_serve_stats;

/* Binds host:port and starts the polling and worker threads. The classifier
 * must outlive the server; its batch_size is the largest batch and its
 * max_length the token limit per text. */
int bertc_server_start(bertc_server **out, bertc_classifier *c, const bertc_serve_opts *o, bertc_err *err);

/* The bound port (useful with port 0). */
int bertc_server_port(const bertc_server *s);

void bertc_server_stats(const bertc_server *s, bertc_serve_stats *st);

/* Graceful stop: stops accepting connections, answers requests already
 * received (responses then carry Connection: close), waits up to the
 * connection timeout for them to be sent, then stops the threads. Returns
 * the number of requests still unanswered when it gave up (0 normally). */
int bertc_server_stop(bertc_server *s);

/* Stops (if not stopped) and frees. NULL is harmless. */
void bertc_server_free(bertc_server *s);

#endif
