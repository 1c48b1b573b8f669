/* cmd_serve.c: `bertc serve`: one model behind POST /predict (and POST /), GET /health and
 * GET /info (src/serve.h), until SIGTERM or SIGINT, which stop accepting,
 * answer what is in flight and exit 0. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include "../src/heads.h"
#include "../src/serve.h"
#include "../src/tasks/token_decode.h"
#include "commands.h"
#include "flags.h"

static void set_worker_threads(void *arg) { cli_set_threads(*(long *)arg); }

int cmd_serve(int argc, char **argv) {
    cli_flag fl[] = {
        CLI_TASK_FLAG,
        {"model", "all-MiniLM-L6-v2", "model folder or cached model name", 0, 0, 0},
        {"host", "127.0.0.1", "IPv4 address to listen on", 0, 0, 0},
        {"port", "8080", "TCP port (0 = any free port; the one chosen is printed)", 0, 0, 0},
        {"aggregation-strategy", "simple", "token-classification models: none|simple|first|average|max", 0, 0, 0},
        {"max-batch", "32", "most inputs scored in one forward pass (dynamic batching across requests)", 0, 0, 0},
        {"max-length", "0", "tokens per input incl. specials; longer inputs are truncated (0 = the model's maximum)", 0, 0, 0},
        {"truncation", "head", "head|tail|head+tail", 0, 0, 0},
        {"threads", "0", "CPU threads for the model (0 = all cores)", 0, 0, 0},
        CLI_PRECISION_FLAG,
        {"max-body", "2000000", "bytes per request body (413 over it)", 0, 0, 0},
        {"max-inputs", "32", "texts per request (422 over it)", 0, 0, 0},
        {"max-chars", "0", "characters per text (422 over it; 0 = 250 x max length, as TEI)", 0, 0, 0},
        {"queue", "64", "requests waiting or being scored at once (429 over it)", 0, 0, 0},
        {"timeout", "10", "seconds before an idle or stalled connection is closed", 0, 0, 0},
        {"max-connections", "512", "open connections at once; more are closed on accept", 0, 0, 0},
        {"max-per-ip", "64", "open connections from one IP address; more are closed (0 = no limit)", 0, 0, 0},
        {"max-buffered", "67108864", "request-body bytes held by all requests in flight (503 over it)", 0, 0, 0},
        {"max-request-time", "60", "seconds to send a whole request; a client still sending is cut", 0, 0, 0},
        {"seed", "42", "seed of a new head when the model has no classifier", 0, 0, 0},
        {NULL, NULL, NULL, 0, 0, 0},
    };
    free(cli_parse_or_exit("serve", "", NULL, fl, argc, argv, NULL));
    bertc_serve_opts o;
    bertc_serve_opts_default(&o);
    o.host = cli_str(fl, "host");
    o.port = (int)cli_int(fl, "port", 0, 65535);
    int batch = (int)cli_int(fl, "max-batch", 1, 4096);
    int max_length = (int)cli_int(fl, "max-length", 0, 1 << 20);
    if (max_length == 1) cli_die(2, "--max-length: must be 0 (the model's maximum) or at least 2");
    long threads = cli_int(fl, "threads", 0, 1024);
    o.limits.max_body = (size_t)cli_int(fl, "max-body", 1, 1L << 30);
    o.limits.max_inputs = (int)cli_int(fl, "max-inputs", 1, 1000000);
    o.limits.max_chars = cli_int(fl, "max-chars", 0, 1L << 30);
    o.queue = (int)cli_int(fl, "queue", 1, 1000000);
    o.timeout = (int)cli_int(fl, "timeout", 1, 86400);
    {
        bertc_err se = {0};
        if (bertc_token_strategy_parse(&o.aggregation_strategy, cli_str(fl, "aggregation-strategy"), &se))
            cli_die(2, "--aggregation-strategy: %s", se.msg);
    }
    o.max_connections = (int)cli_int(fl, "max-connections", 1, 1000000);
    o.max_per_ip = (int)cli_int(fl, "max-per-ip", 0, 1000000);
    o.max_buffered = (size_t)cli_int(fl, "max-buffered", 1, 1L << 40);
    if (o.max_buffered < o.limits.max_body) cli_die(2, "--max-buffered: must be at least --max-body (%zu)", o.limits.max_body);
    o.max_request_time = (int)cli_int(fl, "max-request-time", 1, 86400);
    o.worker_init = set_worker_threads;
    o.worker_arg = &threads;
    long seed = cli_int(fl, "seed", 0, 0x7fffffffL);

    /* Every thread started from here on (MHD's, the worker, OpenMP's) inherits
     * this mask, so SIGTERM/SIGINT reach only the sigwait below. MHD writes with
     * MSG_NOSIGNAL; SIGPIPE is ignored in case a library does not. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* OpenMP's thread count is per thread: set it here (the model sizes its
     * thread pool when it is built) and again on the worker that runs it. */
    cli_set_threads(threads);
    const char *task_name = cli_str(fl, "task"); /* tasks.c checked it */
    int task = task_name && bert_head_by_name(task_name) ? bert_head_by_name(task_name)->task : -1;
    bertc_classifier *c = cli_open_classifier(cli_str(fl, "model"), batch, max_length, cli_str(fl, "truncation"), 0, seed,
                                              cli_precision(fl), task);
    bertc_err err = {0};
    bertc_server *s = NULL;
    if (bertc_server_start(&s, c, &o, &err) != BERTC_OK) cli_die(1, "%s", err.msg);
    char labels[32] = "";
    if (c->hf.cfg.task != BERT_TASK_QA) snprintf(labels, sizeof labels, ", %d labels", bertc_classifier_num_labels(c));
    fprintf(stderr, "bertc serve: listening on http://%s:%d (model %s, %s%s, max batch %d, max length %d)\n", o.host,
            bertc_server_port(s), c->hf.dir, bert_head_of(c->hf.cfg.task)->name, labels, batch, c->opts.max_length);
    fflush(stderr);

    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "bertc serve: %s: no new connections; answering requests in flight\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT");
    int left = bertc_server_stop(s);
    bertc_serve_stats st;
    bertc_server_stats(s, &st);
    fprintf(stderr,
            "bertc serve: stopped: %llu requests answered, %llu inputs in %llu batches (%.2f per batch), "
            "%llu refused (%llu with 429 or 503)%s\n",
            (unsigned long long)st.requests, (unsigned long long)st.inputs, (unsigned long long)st.batches,
            st.batches ? (double)st.inputs / (double)st.batches : 0.0, (unsigned long long)st.rejected,
            (unsigned long long)st.overloaded, left ? "; some connections were cut at the timeout" : "");
    bertc_server_free(s);
    bertc_classifier_free(c);
    return 0;
}
