/* hub.h: downloads a BERT model folder from the Hugging Face Hub (or any server
 * with the Hub's URL layout) into bertc's model cache, with libcurl, and finds
 * it there again without the network.
 *
 * The cache (docs/models.md), CACHE = ${XDG_CACHE_HOME:-~/.cache}/bertc/models:
 *     CACHE/NAME/                          a model installed under a local name by a
 *                                          tool (tools/setup.sh: all-MiniLM-L6-v2)
 *     CACHE/aliases.json                   {"owner/name": "NAME"}: Hub ids served by a
 *                                          local name (written by tools/setup.sh)
 *     CACHE/models--OWNER--NAME/           one Hub model id ("models--NAME" without owner),
 *         refs/REVISION                    the commit REVISION named when it was fetched
 *         snapshots/COMMIT/                the files of that commit: a plain model folder
 *                                          (config.json, vocab.txt, ..., .complete)
 *         .incomplete/COMMIT/              a download in progress: FILE.ETAG.part while a
 *                                          file transfers, FILE once it is verified
 *     CACHE/.locks/models--OWNER--NAME.lock   flock'd while downloading
 * Hub ids cannot start with '.' or contain "--", so none of bertc's own names
 * (.incomplete, .locks, .complete, refs/.REV.tmp) is a legal model name or
 * revision, and no two ids share a folder.
 *
 * A download (hub_download), as huggingface_hub does it:
 *   1. HEAD {endpoint}/{id}/resolve/{revision}/config.json without following the
 *      redirect: X-Repo-Commit names the commit; every file is then fetched from
 *      /resolve/{commit}/ so all come from one commit.
 *   2. For each file, HEAD gives its ETag and size: X-Linked-Etag / X-Linked-Size
 *      for LFS files (the LFS oid, the SHA-256 of the content), else ETag /
 *      Content-Length. GET follows redirects (the Hub sends weights to a CDN) with
 *      the token as "Authorization: Bearer" (libcurl drops it when a redirect
 *      leaves the endpoint's host).
 *   3. The .part is named by the ETag: a resumed transfer (Range request)
 *      continues only a .part of the same ETag; a .part of another ETag (the
 *      remote file changed) is deleted and the file starts over.
 *   4. A finished file must have the metadata's size and, when the ETag is a
 *      SHA-256 (64 hex digits: LFS files), that SHA-256. Small git files carry a
 *      git blob SHA-1 as ETag, not checked; they are validated as JSON / text.
 *   5. config.json and the tokenizer JSON files parse as JSON objects, vocab.txt
 *      is not empty, model.safetensors passes st_open; then .complete is written,
 *      .incomplete/COMMIT is renamed to snapshots/COMMIT, refs/REVISION written.
 * So nothing ever appears at snapshots/COMMIT half-done. A transfer error (cut
 * connection, stall, timeout) keeps .incomplete/COMMIT for the resume; a size or
 * SHA-256 mismatch, a failed validation or a missing required file removes it
 * (and the model's folder when nothing else is in it).
 *
 * Where settings come from, as huggingface_hub reads them:
 *   endpoint  opts->endpoint, else $HF_ENDPOINT, else https://huggingface.co
 *   token     opts->token, else $HF_TOKEN, else the file $HF_TOKEN_PATH, else
 *             ${HF_HOME:-${XDG_CACHE_HOME:-~/.cache}/huggingface}/token; none if
 *             all are absent. A token with control characters is refused.
 *   offline   $HF_HUB_OFFLINE=1 (or true/yes/on): hub_offline() says so, and
 *             hf_model_resolve does not download.
 *   allowed   downloads are off in the library unless the caller turns them on
 *             (hf_load_opts.allow_download, or hub_set_downloads for the process
 *             default, which the bertc command line does).
 *
 * What it does not: sharded checkpoints, pytorch_model.bin, revisions with '/'
 * (refs/pr/1), updating a cached revision ("main" stays at the commit first
 * fetched; pass a commit or delete the folder), printing. Progress goes to a
 * callback; the CLI installs one that draws a bar on a terminal.
 *
 *     hub_opts o; hub_opts_default(&o);
 *     char dir[PATH_MAX];
 *     if (hub_download("owner/name", cache_root, &o, dir, sizeof dir, &err) != BERTC_OK) ...
 *     // dir = cache_root/models--owner--name/snapshots/COMMIT
 */
#ifndef BERTC_HUB_H
#define BERTC_HUB_H

#include <stddef.h>
#include <stdint.h>
#include "common.h"

/* Called while a file downloads: done and total bytes of that file (total 0
 * while unknown), including what an earlier attempt already had. */
typedef void (*hub_progress_fn)(void *ctx, const char *name, const char *file, uint64_t done,
                                uint64_t total);

typedef struct hub_opts {
    const char *endpoint;     /* NULL: $HF_ENDPOINT or https://huggingface.co */
    const char *revision;     /* NULL: "main" (a branch, tag or commit; hub_valid_revision) */
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

/* The process-wide default of hf_load_opts.allow_download (and of every load
 * that takes no options): 0 until hub_set_downloads(1). The bertc command sets
 * it at start-up; a program linking libbertc decides for itself. Call it before
 * starting threads. */
void hub_set_downloads(int allowed);
int hub_downloads_allowed(void);

/* 1 when $HF_HUB_OFFLINE is set to 1/true/yes/on, else 0. */
int hub_offline(void);

/* 1 when name is a Hub model id: "name" or "owner/name", each part 1..96 of
 * [A-Za-z0-9._-], not starting with '.' or '-', without ".." or "--". */
int hub_valid_name(const char *name);

/* 1 when rev can be a revision here: 1..128 of [A-Za-z0-9._-], not starting
 * with '.' or '-', without "..". */
int hub_valid_revision(const char *rev);

/* CACHE above into out (capacity cap); -1 when it does not fit. */
int hub_cache_root(char *out, size_t cap);

/* 1 and the folder in out when id at revision (NULL: "main") is complete in
 * cache_root: snapshots/rev for a 40-hex commit, else snapshots/(refs/rev).
 * Never uses the network. 0 when it is not there (out untouched). */
int hub_cache_find(const char *id, const char *revision, const char *cache_root, char *out, size_t cap);

/* Downloads model id into cache_root as described above and puts the snapshot
 * folder into out (capacity cap). Returns BERTC_OK when it is complete (also
 * when it already was, or another process finished it meanwhile). Errors, one
 * line naming the URL or file and the fix:
 *   BERTC_ERR_NOTFOUND  the server could not be reached, or answered 404 for a
 *                       required file
 *   BERTC_ERR_ARG       bad id, revision, endpoint or token; 401/403 (token
 *                       missing or wrong)
 *   BERTC_ERR_IO        a transfer cut, stalled or failed (run again to resume),
 *                       another HTTP error, a server without the Hub's headers,
 *                       or a local file error
 *   BERTC_ERR_FORMAT    a downloaded file has the wrong size or SHA-256, or fails
 *                       validation (nothing is kept) */
int hub_download(const char *id, const char *cache_root, const hub_opts *opts, char *out, size_t cap,
                 bertc_err *err);

#endif /* BERTC_HUB_H */
