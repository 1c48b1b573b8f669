/* hub.h: downloads a BERT model folder from the Hugging Face Hub (or any server
 * with the Hub's URL layout) into bertc's model cache, with libcurl.
 *
 * What it does: fetches config.json, vocab.txt, tokenizer_config.json (optional),
 * special_tokens_map.json (optional) and model.safetensors from
 *     {endpoint}/{name}/resolve/{revision}/{file}
 * following redirects (the Hub sends weights to a CDN), with the token as
 * "Authorization: Bearer" (libcurl drops it when a redirect leaves the host),
 * and moves the folder into the cache atomically:
 *     CACHE/NAME.partial/FILE.part   being downloaded (a second attempt resumes it
 *                                    with a Range request)
 *     CACHE/NAME.partial/FILE        complete (Content-Length checked), fsync'd
 *     CACHE/NAME                     renamed from NAME.partial only once every file
 *                                    is there and valid: config.json and the
 *                                    tokenizer JSON files parse as JSON objects,
 *                                    vocab.txt is not empty, model.safetensors
 *                                    passes st_open. A .complete marker is added.
 * So an interrupted or failed download never leaves anything at CACHE/NAME.
 * A transfer error (cut connection, stall, timeout) keeps NAME.partial for the
 * resume; an HTTP error or a file that fails validation removes it. Concurrent
 * downloads of one name are serialised with flock on CACHE/NAME.lock.
 *
 * Where things come from, as huggingface_hub reads them:
 *   endpoint  opts->endpoint, else $HF_ENDPOINT, else https://huggingface.co
 *   token     opts->token, else $HF_TOKEN, else the file $HF_TOKEN_PATH, else
 *             ${HF_HOME:-${XDG_CACHE_HOME:-~/.cache}/huggingface}/token; none if
 *             all are absent. A token with control characters is refused.
 *   offline   $HF_HUB_OFFLINE=1 (or true/yes/on): hub_offline() says so, and
 *             hf_model_resolve does not download.
 * The cache itself is bertc's own (CACHE = ${XDG_CACHE_HOME:-~/.cache}/bertc/models,
 * one plain folder per model; the caller passes it), not huggingface_hub's
 * blob/snapshot layout under HF_HOME: a cached model is an ordinary folder
 * every tool can read.
 *
 * What it does not: sharded checkpoints, pytorch_model.bin, commit hashes /
 * etags (a resumed file is assumed to be the same revision), printing. Progress
 * goes to a callback; the CLI installs one that draws a bar on a terminal.
 *
 *     hub_opts o; hub_opts_default(&o);
 *     o.progress = my_bar;                   // optional
 *     if (hub_download("owner/name", cache_root, &o, &err) != BERTC_OK) ...
 *     // cache_root/owner/name/ now holds the model
 */
#ifndef BERTC_HUB_H
#define BERTC_HUB_H

#include <stdint.h>
#include "common.h"

/* Called while a file downloads: done and total bytes of that file (total 0
 * while unknown), including what an earlier attempt already had. */
typedef void (*hub_progress_fn)(void *ctx, const char *name, const char *file, uint64_t done,
                                uint64_t total);

typedef struct hub_opts {
    const char *endpoint;     /* NULL: $HF_ENDPOINT or https://huggingface.co */
    const char *revision;     /* NULL: "main" (a branch, tag or commit) */
    const char *token;        /* NULL: from the environment (above); "": send none */
    long connect_timeout_s;   /* connection setup limit; 30 */
    long stall_timeout_s;     /* abort when under 1 byte/s for this long; 60 */
    hub_progress_fn progress; /* NULL: none */
    void *progress_ctx;
} hub_opts;

/* Fills o with the defaults above; progress is the one set by hub_set_progress. */
void hub_opts_default(hub_opts *o);

/* Sets the process-wide progress callback that hub_opts_default hands out, so
 * that downloads started deep inside hf_model_load report to the CLI's bar.
 * Call it before starting threads. NULL removes it. */
void hub_set_progress(hub_progress_fn fn, void *ctx);

/* 1 when $HF_HUB_OFFLINE is set to 1/true/yes/on, else 0. */
int hub_offline(void);

/* 1 when name is a Hub model id: "name" or "owner/name", each part 1..96 of
 * [A-Za-z0-9._-], not starting with '.' or '-', without "..". */
int hub_valid_name(const char *name);

/* Downloads model name into cache_root/name as described above. Returns
 * BERTC_OK when cache_root/name is complete (also when another process finished
 * it meanwhile). Errors, one line naming the URL or file and the fix:
 *   BERTC_ERR_NOTFOUND  the server could not be reached, or answered 404 for a
 *                       required file
 *   BERTC_ERR_ARG       bad name, endpoint or token; 401/403 (token missing or wrong)
 *   BERTC_ERR_IO        a transfer cut, stalled or failed (run again to resume),
 *                       another HTTP error, or a local file error
 *   BERTC_ERR_FORMAT    a downloaded file failed validation (nothing is kept) */
int hub_download(const char *name, const char *cache_root, const hub_opts *opts, bertc_err *err);

#endif /* BERTC_HUB_H */
