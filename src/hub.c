/* hub.c: model downloads from the Hugging Face Hub (see hub.h).
 *
 * Sections: settings from the environment; one file (resume, status checks);
 * the folder (lock, files, validation, atomic rename). */
#include "hub.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safetensors.h"

#define HUB_DEFAULT_ENDPOINT "https://huggingface.co"
#define HUB_MAX_TOKEN 4096
#define HUB_MAX_URL 4096

/* ---- Settings ---- */

static hub_progress_fn g_progress;
static void *g_progress_ctx;

void hub_set_progress(hub_progress_fn fn, void *ctx) {
    g_progress = fn;
    g_progress_ctx = ctx;
}

void hub_opts_default(hub_opts *o) {
    memset(o, 0, sizeof *o);
    o->connect_timeout_s = 30;
    o->stall_timeout_s = 60;
    o->progress = g_progress;
    o->progress_ctx = g_progress_ctx;
}

static int env_true(const char *name) {
    const char *v = getenv(name);
    if (!v) return 0;
    return !strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on");
}

int hub_offline(void) { return env_true("HF_HUB_OFFLINE"); }

static int name_part_ok(const char *s, size_t n) {
    if (n < 1 || n > 96 || s[0] == '.' || s[0] == '-') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '_' || c == '-';
        if (!ok || (c == '.' && i + 1 < n && s[i + 1] == '.')) return 0;
    }
    return 1;
}

int hub_valid_name(const char *name) {
    if (!name) return 0;
    const char *slash = strchr(name, '/');
    if (!slash) return name_part_ok(name, strlen(name));
    if (strchr(slash + 1, '/')) return 0;
    return name_part_ok(name, (size_t)(slash - name)) && name_part_ok(slash + 1, strlen(slash + 1));
}

/* The token from opts, $HF_TOKEN or the token file, into out ("" when none). */
static int find_token(char *out, size_t cap, const hub_opts *o, bertc_err *err) {
    out[0] = '\0';
    const char *t = o->token ? o->token : getenv("HF_TOKEN");
    char path[PATH_MAX], *text = NULL;
    const char *where = o->token ? "hub_opts.token" : "HF_TOKEN";
    if (!t || !*t) {
        if (o->token) return BERTC_OK; /* "" asks for no token */
        const char *tp = getenv("HF_TOKEN_PATH"), *hh = getenv("HF_HOME"), *xdg = getenv("XDG_CACHE_HOME"),
                   *home = getenv("HOME");
        if (tp && *tp) snprintf(path, sizeof path, "%s", tp);
        else if (hh && *hh) snprintf(path, sizeof path, "%s/token", hh);
        else if (xdg && *xdg) snprintf(path, sizeof path, "%s/huggingface/token", xdg);
        else snprintf(path, sizeof path, "%s/.cache/huggingface/token", home && *home ? home : ".");
        if (!bertc_is_file(path)) return BERTC_OK;
        size_t len;
        int rc = bertc_read_file(path, HUB_MAX_TOKEN, &text, &len, err);
        if (rc != BERTC_OK) return rc;
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
            text[--len] = '\0';
        t = text;
        where = path;
    }
    size_t n = strlen(t);
    int bad = n >= cap;
    for (size_t i = 0; i < n && !bad; i++) bad = (unsigned char)t[i] < 0x21 || (unsigned char)t[i] == 0x7f;
    if (!bad) memcpy(out, t, n + 1);
    free(text);
    if (bad)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: the Hub token is too long or has spaces/control characters",
                          where);
    return BERTC_OK;
}

/* ---- One file ---- */

typedef struct fetch {
    const char *name, *file;     /* for messages and progress */
    FILE *fp;                    /* the .part file, opened for appending */
    uint64_t offset;             /* bytes the .part held before this request */
    uint64_t written;            /* bytes written by this request */
    uint64_t max_bytes;          /* refuse a file larger than this */
    int truncated;               /* 1: the server ignored Range, the .part was restarted */
    int write_failed;            /* 1: fwrite failed (disk full?) */
    int too_big;
    long range_start;            /* from Content-Range of the final response; -1: none */
    const hub_opts *o;
} fetch;

static size_t on_header(char *buf, size_t size, size_t n, void *ud) {
    fetch *f = ud;
    size_t len = size * n;
    if (len >= 5 && !strncasecmp(buf, "HTTP/", 5)) f->range_start = -1; /* a new response (redirects) */
    if (len > 14 && !strncasecmp(buf, "Content-Range:", 14)) {
        char tmp[128];
        size_t k = len - 14 < sizeof tmp - 1 ? len - 14 : sizeof tmp - 1;
        memcpy(tmp, buf + 14, k);
        tmp[k] = '\0';
        char *p = strstr(tmp, "bytes"), *dash;
        if (p && (dash = strchr(p, '-'))) {
            *dash = '\0';
            long v;
            p += 5;
            while (*p == ' ') p++;
            if (bertc_parse_long(p, 0, LONG_MAX, &v) == 0) f->range_start = v;
        }
    }
    return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *ud) {
    fetch *f = ud;
    size_t len = size * n;
    if (f->written == 0 && f->offset > 0 && f->range_start != (long)f->offset && !f->truncated) {
        /* 200 instead of 206 (or a range we did not ask for): start the file over. */
        if (fflush(f->fp) != 0 || ftruncate(fileno(f->fp), 0) != 0) {
            f->write_failed = 1;
            return 0;
        }
        f->truncated = 1;
        f->offset = 0;
    }
    if (f->offset + f->written + len > f->max_bytes) {
        f->too_big = 1;
        return 0;
    }
    if (fwrite(buf, 1, len, f->fp) != len) {
        f->write_failed = 1;
        return 0;
    }
    f->written += len;
    return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    fetch *f = ud;
    (void)ultotal;
    (void)ulnow;
    if (f->o->progress && dlnow >= 0 && dltotal >= 0)
        f->o->progress(f->o->progress_ctx, f->name, f->file, f->offset + (uint64_t)dlnow,
                       dltotal > 0 ? f->offset + (uint64_t)dltotal : 0);
    return 0;
}

/* The transfer-level outcome of one request. */
enum { FETCH_OK, FETCH_404, FETCH_416, FETCH_FAIL };

static int fetch_once(CURL *c, fetch *f, const char *url, const char *auth_header, const char *part_path,
                      long *status, bertc_err *err) {
    struct stat st;
    f->fp = fopen(part_path, "ab");
    if (!f->fp) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot open: %s", part_path, strerror(errno)), FETCH_FAIL;
    if (fstat(fileno(f->fp), &st) != 0) {
        fclose(f->fp);
        return bertc_fail(err, BERTC_ERR_IO, "%s: %s", part_path, strerror(errno)), FETCH_FAIL;
    }
    f->offset = (uint64_t)st.st_size;
    f->written = 0;
    f->truncated = f->write_failed = f->too_big = 0;
    f->range_start = -1;

    char range[48];
    struct curl_slist *hdrs = NULL;
    if (auth_header) hdrs = curl_slist_append(hdrs, auth_header);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "bertc/0.1");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, f->o->connect_timeout_s > 0 ? f->o->connect_timeout_s : 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, f->o->stall_timeout_s > 0 ? f->o->stall_timeout_s : 60L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, f);
    if (f->offset > 0) {
        snprintf(range, sizeof range, "%llu-", (unsigned long long)f->offset);
        curl_easy_setopt(c, CURLOPT_RANGE, range);
    }
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(hdrs);
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_off_t clen = -1;
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen);
    int fl = fflush(f->fp), fs = fsync(fileno(f->fp)), cl = fclose(f->fp);
    f->fp = NULL;
    uint64_t have = f->offset + f->written;

    if (f->write_failed || fl || fs || cl)
        return bertc_fail(err, BERTC_ERR_IO, "%s: write failed: %s", part_path, strerror(errno)), FETCH_FAIL;
    if (f->too_big)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: larger than %llu bytes, refused", url,
                          (unsigned long long)f->max_bytes),
               FETCH_FAIL;
    if (cc == CURLE_HTTP_RETURNED_ERROR && *status == 404) return FETCH_404;
    if (cc == CURLE_HTTP_RETURNED_ERROR && *status == 416) return FETCH_416;
    if (cc == CURLE_HTTP_RETURNED_ERROR && (*status == 401 || *status == 403))
        return bertc_fail(err, BERTC_ERR_ARG,
                          "%s: HTTP %ld: the Hub refused access (gated or private model? set HF_TOKEN to a token "
                          "that may read it)",
                          url, *status),
               FETCH_FAIL;
    if (cc == CURLE_HTTP_RETURNED_ERROR)
        return bertc_fail(err, BERTC_ERR_IO, "%s: HTTP %ld", url, *status), FETCH_FAIL;
    if (cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_PROXY)
        return bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: %s (is HF_ENDPOINT right, or set HF_HUB_OFFLINE=1)",
                          url, curl_easy_strerror(cc)),
               FETCH_FAIL;
    if (cc != CURLE_OK)
        return bertc_fail(err, BERTC_ERR_IO,
                          "%s: download of %s stopped after %llu bytes: %s; nothing was installed, run the same "
                          "command again to resume",
                          url, f->file, (unsigned long long)have, curl_easy_strerror(cc)),
               FETCH_FAIL;
    if (*status != 200 && *status != 206)
        return bertc_fail(err, BERTC_ERR_IO, "%s: unexpected HTTP status %ld", url, *status), FETCH_FAIL;
    if (*status == 206 && f->range_start != (long)f->offset && !f->truncated)
        return bertc_fail(err, BERTC_ERR_IO, "%s: the server resumed at byte %ld, not %llu", url, f->range_start,
                          (unsigned long long)f->offset),
               FETCH_FAIL;
    if (clen >= 0 && (uint64_t)clen != f->written)
        return bertc_fail(err, BERTC_ERR_IO, "%s: got %llu bytes of %lld; run again to resume", url,
                          (unsigned long long)f->written, (long long)clen),
               FETCH_FAIL;
    return FETCH_OK;
}

/* Downloads one file into dir/file (via dir/file.part). Returns BERTC_OK, or
 * BERTC_ERR_NOTFOUND with *missing = 1 when the server says 404 (no message set
 * for an optional file). */
static int fetch_file(CURL *c, const char *name, const char *url_base, const char *dir, const char *file,
                      uint64_t max_bytes, const char *auth_header, const hub_opts *o, int *missing,
                      bertc_err *err) {
    char url[HUB_MAX_URL], part[PATH_MAX], final[PATH_MAX];
    *missing = 0;
    if ((size_t)snprintf(url, sizeof url, "%s/%s", url_base, file) >= sizeof url ||
        bertc_path_join(final, sizeof final, dir, file) != 0 ||
        (size_t)snprintf(part, sizeof part, "%s.part", final) >= sizeof part)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: URL or path too long", name);
    if (bertc_is_file(final)) return BERTC_OK; /* finished by an earlier attempt */
    fetch f = {.name = name, .file = file, .max_bytes = max_bytes, .o = o};
    long status = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        int r = fetch_once(c, &f, url, auth_header, part, &status, err);
        if (r == FETCH_OK) break;
        if (r == FETCH_416 && attempt == 0) { /* a stale .part longer than the file: start over */
            unlink(part);
            continue;
        }
        if (r == FETCH_404 || r == FETCH_416) {
            unlink(part);
            *missing = r == FETCH_404;
            return bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: HTTP %ld (not on the server)", url, status);
        }
        return err ? err->code : BERTC_ERR_IO;
    }
    if (rename(part, final) != 0)
        return bertc_fail(err, BERTC_ERR_IO, "%s: cannot rename to %s: %s", part, final, strerror(errno));
    return BERTC_OK;
}

/* ---- The folder ---- */


/* mkdir -p for the parent of path (the owner folder of "owner/name"). */
static int make_parent(const char *path, bertc_err *err) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    char *slash = strrchr(tmp, '/');
    if (!slash || slash == tmp) return BERTC_OK;
    *slash = '\0';
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) goto fail;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) goto fail;
    return BERTC_OK;
fail:
    return bertc_fail(err, BERTC_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
}

static int check_json_object(const char *dir, const char *file, int optional, bertc_err *err) {
    char path[PATH_MAX], *text = NULL;
    size_t len;
    if (bertc_path_join(path, sizeof path, dir, file) != 0) return bertc_fail(err, BERTC_ERR_ARG, "path too long");
    if (optional && !bertc_is_file(path)) return BERTC_OK;
    int rc = bertc_read_file(path, 16u << 20, &text, &len, err);
    if (rc != BERTC_OK) return rc;
    cJSON *j = cJSON_ParseWithLength(text, len);
    int ok = j && cJSON_IsObject(j);
    cJSON_Delete(j);
    free(text);
    if (!ok) return bertc_fail(err, BERTC_ERR_FORMAT, "%s: downloaded, but not a JSON object", path);
    return BERTC_OK;
}

static int validate(const char *dir, bertc_err *err) {
    char path[PATH_MAX];
    struct stat st;
    int rc;
    if ((rc = check_json_object(dir, "config.json", 0, err)) != BERTC_OK ||
        (rc = check_json_object(dir, "tokenizer_config.json", 1, err)) != BERTC_OK ||
        (rc = check_json_object(dir, "special_tokens_map.json", 1, err)) != BERTC_OK)
        return rc;
    bertc_path_join(path, sizeof path, dir, "vocab.txt");
    if (stat(path, &st) != 0 || st.st_size == 0)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: downloaded, but empty", path);
    bertc_path_join(path, sizeof path, dir, "model.safetensors");
    st_file *f = NULL;
    if ((rc = st_open(&f, path, err)) != BERTC_OK) return bertc_err_prefix(err, "downloaded model.safetensors");
    st_close(f);
    return BERTC_OK;
}

typedef struct hub_file {
    const char *file;
    int optional;
    uint64_t max_bytes;
} hub_file;

static const hub_file hub_files[] = {
    {"config.json", 0, 16u << 20},
    {"vocab.txt", 0, 256u << 20},
    {"tokenizer_config.json", 1, 16u << 20},
    {"special_tokens_map.json", 1, 16u << 20},
    {"model.safetensors", 0, (uint64_t)1 << 40},
};

int hub_download(const char *name, const char *cache_root, const hub_opts *opts, bertc_err *err) {
    hub_opts defaults;
    if (!opts) {
        hub_opts_default(&defaults);
        opts = &defaults;
    }
    if (!hub_valid_name(name))
        return bertc_fail(err, BERTC_ERR_ARG,
                          "\"%s\": not a Hub model id (owner/name, letters, digits, '.', '_', '-')", name ? name : "");
    const char *ep = opts->endpoint ? opts->endpoint : getenv("HF_ENDPOINT");
    if (!ep || !*ep) ep = HUB_DEFAULT_ENDPOINT;
    if (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8))
        return bertc_fail(err, BERTC_ERR_ARG, "HF_ENDPOINT \"%s\": must start with http:// or https://", ep);
    size_t eplen = strlen(ep);
    while (eplen > 8 && ep[eplen - 1] == '/') eplen--;
    const char *rev = opts->revision && *opts->revision ? opts->revision : "main";

    char token[HUB_MAX_TOKEN + 1], auth[HUB_MAX_TOKEN + 32];
    int rc = find_token(token, sizeof token, opts, err);
    if (rc != BERTC_OK) return rc;
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);

    char final[PATH_MAX], partial[PATH_MAX], lockp[PATH_MAX], url_base[HUB_MAX_URL];
    if (bertc_path_join(final, sizeof final, cache_root, name) != 0 ||
        (size_t)snprintf(partial, sizeof partial, "%s.partial", final) >= sizeof partial ||
        (size_t)snprintf(lockp, sizeof lockp, "%s.lock", final) >= sizeof lockp)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: cache path too long", cache_root);

    CURL *c = curl_easy_init();
    if (!c) return bertc_fail(err, BERTC_ERR_NOMEM, "libcurl: cannot create a handle");
    char *rev_esc = curl_easy_escape(c, rev, 0);
    if (!rev_esc || (size_t)snprintf(url_base, sizeof url_base, "%.*s/%s/resolve/%s", (int)eplen, ep, name,
                                     rev_esc) >= sizeof url_base) {
        curl_free(rev_esc);
        curl_easy_cleanup(c);
        return bertc_fail(err, BERTC_ERR_ARG, "%s: URL too long", name);
    }
    curl_free(rev_esc);

    int lock_fd = -1;
    if ((rc = make_parent(final, err)) != BERTC_OK) goto done;
    lock_fd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX) != 0) {
        rc = bertc_fail(err, BERTC_ERR_IO, "%s: cannot lock: %s", lockp, strerror(errno));
        goto done;
    }
    char probe[PATH_MAX];
    if (bertc_path_join(probe, sizeof probe, final, "config.json") == 0 && bertc_is_file(probe)) {
        rc = BERTC_OK; /* another process finished it while we waited */
        goto done;
    }
    if (mkdir(partial, 0755) != 0 && errno != EEXIST) {
        rc = bertc_fail(err, BERTC_ERR_IO, "%s: cannot create: %s", partial, strerror(errno));
        goto done;
    }
    for (size_t i = 0; i < sizeof hub_files / sizeof hub_files[0]; i++) {
        const hub_file *hf = &hub_files[i];
        int missing = 0;
        rc = fetch_file(c, name, url_base, partial, hf->file, hf->max_bytes, token[0] ? auth : NULL, opts,
                        &missing, err);
        if (rc == BERTC_OK) continue;
        if (missing && hf->optional) {
            rc = BERTC_OK;
            if (err) err->code = BERTC_OK, err->msg[0] = '\0';
            continue;
        }
        if (missing) {
            bertc_err_prefix(err, "%s: %s is required", name, hf->file);
            bertc_rmtree(partial); /* the server has no such model: nothing to resume */
        }
        goto done;
    }
    if ((rc = validate(partial, err)) != BERTC_OK) {
        bertc_rmtree(partial);
        goto done;
    }
    int fd; /* the completion marker (probe is reused for its path) */
    if (bertc_path_join(probe, sizeof probe, partial, ".complete") != 0 ||
        (fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
        rc = bertc_fail(err, BERTC_ERR_IO, "%s: cannot create: %s", probe, strerror(errno));
        goto done;
    }
    close(fd);
    if ((rc = bertc_fsync_dir(partial, err)) != BERTC_OK) goto done;
    if (rename(partial, final) != 0) {
        rc = bertc_fail(err, BERTC_ERR_IO, "cannot rename %s to %s: %s", partial, final, strerror(errno));
        goto done;
    }
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", final);
    char *slash = strrchr(parent, '/');
    if (slash) *slash = '\0';
    rc = bertc_fsync_dir(parent, err);
done:
    if (lock_fd >= 0) close(lock_fd);
    curl_easy_cleanup(c);
    return rc;
}
