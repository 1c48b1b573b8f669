/* hub.c: model downloads from the Hugging Face Hub (see hub.h).
 *
 * Sections: settings from the environment; the cache layout; metadata (HEAD);
 * one file (resume, size and SHA-256 checks); the folder (lock, files,
 * validation, atomic rename). */
#include "hub.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <dirent.h>
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
#include "sha256.h"

#define HUB_DEFAULT_ENDPOINT "https://huggingface.co"
#define HUB_MAX_TOKEN 4096
#define HUB_MAX_URL 4096

/* ---- Settings ---- */

static hub_progress_fn g_progress;
static void *g_progress_ctx;
static int g_downloads;

void hub_set_downloads(int allowed) { g_downloads = allowed != 0; }
int hub_downloads_allowed(void) { return g_downloads; }

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
        if (!ok || ((c == '.' || c == '-') && i + 1 < n && s[i + 1] == c)) return 0; /* "..", "--" */
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

int hub_valid_revision(const char *rev) {
    if (!rev) return 0;
    size_t n = strlen(rev);
    if (n < 1 || n > 128 || rev[0] == '.' || rev[0] == '-' || strstr(rev, "..")) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = rev[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

static int is_hex(const char *s, size_t n) {
    if (strlen(s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
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

/* ---- The cache layout ---- */

int hub_cache_root(char *out, size_t cap) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    size_t n;
    if (xdg && *xdg) n = (size_t)snprintf(out, cap, "%s/bertc/models", xdg);
    else n = (size_t)snprintf(out, cap, "%s/.cache/bertc/models", home && *home ? home : ".");
    return n < cap ? 0 : -1;
}

/* "models--OWNER--NAME" (or "models--NAME") for a valid id, into out. */
static int repo_folder_name(char *out, size_t cap, const char *id) {
    const char *slash = strchr(id, '/');
    size_t n = slash ? (size_t)snprintf(out, cap, "models--%.*s--%s", (int)(slash - id), id, slash + 1)
                     : (size_t)snprintf(out, cap, "models--%s", id);
    return n < cap ? 0 : -1;
}

/* cache_root/models--OWNER--NAME[/sub[/leaf]] into out; -1 when too long. */
static int repo_path(char *out, size_t cap, const char *root, const char *id, const char *sub, const char *leaf) {
    char folder[256];
    if (repo_folder_name(folder, sizeof folder, id) != 0) return -1;
    size_t n = (size_t)snprintf(out, cap, "%s/%s%s%s%s%s", root, folder, sub ? "/" : "", sub ? sub : "",
                                leaf ? "/" : "", leaf ? leaf : "");
    return n < cap ? 0 : -1;
}

/* The commit that refs/rev names (40 hex) into commit; 0 when there is none. */
static int read_ref(const char *root, const char *id, const char *rev, char commit[41]) {
    char path[PATH_MAX], buf[64];
    if (repo_path(path, sizeof path, root, id, "refs", rev) != 0) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) buf[--n] = '\0';
    if (!is_hex(buf, 40)) return 0;
    memcpy(commit, buf, 41);
    return 1;
}

int hub_cache_find(const char *id, const char *revision, const char *cache_root, char *out, size_t cap) {
    const char *rev = revision && *revision ? revision : "main";
    char commit[41], snap[PATH_MAX], probe[PATH_MAX];
    if (!hub_valid_name(id) || !hub_valid_revision(rev)) return 0;
    if (is_hex(rev, 40)) memcpy(commit, rev, 41);
    else if (!read_ref(cache_root, id, rev, commit)) return 0;
    if (repo_path(snap, sizeof snap, cache_root, id, "snapshots", commit) != 0 ||
        bertc_path_join(probe, sizeof probe, snap, ".complete") != 0 || !bertc_is_file(probe))
        return 0;
    if ((size_t)snprintf(out, cap, "%s", snap) >= cap) return 0;
    return 1;
}

/* mkdir -p path. */
static int make_dirs(const char *path, bertc_err *err) {
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s", path) >= sizeof tmp)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", path);
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

/* Writes refs/rev = commit atomically (refs/.rev.tmp, then rename). */
static int write_ref(const char *root, const char *id, const char *rev, const char *commit, bertc_err *err) {
    char dir[PATH_MAX], path[PATH_MAX], tmp[PATH_MAX];
    if (repo_path(dir, sizeof dir, root, id, "refs", NULL) != 0 ||
        repo_path(path, sizeof path, root, id, "refs", rev) != 0 ||
        (size_t)snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, rev) >= sizeof tmp)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: cache path too long", root);
    int rc = make_dirs(dir, err);
    if (rc != BERTC_OK) return rc;
    FILE *f = fopen(tmp, "wb");
    if (!f) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    int bad = fputs(commit, f) < 0;
    bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return bertc_fail(err, BERTC_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    return bertc_fsync_dir(dir, err);
}

/* ---- Metadata (HEAD, as huggingface_hub's get_hf_file_metadata) ---- */

typedef struct hub_meta {
    long status;
    char commit[48];       /* X-Repo-Commit */
    char etag[160];        /* ETag, normalised (no W/, no quotes) */
    char linked_etag[160]; /* X-Linked-Etag: the LFS oid (SHA-256) */
    long long clen;        /* Content-Length; -1: none */
    long long linked_size; /* X-Linked-Size; -1: none */
} hub_meta;

/* value of "Name: value\r\n" into out (trimmed, quotes and W/ removed) when the
 * header line is name. */
static int header_value(const char *line, size_t len, const char *name, char *out, size_t cap) {
    size_t k = strlen(name);
    if (len <= k || strncasecmp(line, name, k) || line[k] != ':') return 0;
    const char *v = line + k + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t')) end--;
    if (end - v >= 2 && !strncmp(v, "W/", 2)) v += 2;
    if (end - v >= 2 && *v == '"' && end[-1] == '"') v++, end--;
    size_t n = (size_t)(end - v) < cap - 1 ? (size_t)(end - v) : cap - 1;
    memcpy(out, v, n);
    out[n] = '\0';
    return 1;
}

static size_t on_meta_header(char *buf, size_t size, size_t n, void *ud) {
    hub_meta *m = ud;
    size_t len = size * n;
    char v[160];
    long x;
    if (len >= 5 && !strncasecmp(buf, "HTTP/", 5)) {
        m->commit[0] = m->etag[0] = m->linked_etag[0] = '\0';
        m->clen = m->linked_size = -1;
    } else if (header_value(buf, len, "X-Repo-Commit", v, sizeof v)) {
        snprintf(m->commit, sizeof m->commit, "%.47s", v);
    } else if (header_value(buf, len, "X-Linked-Etag", v, sizeof v)) {
        snprintf(m->linked_etag, sizeof m->linked_etag, "%s", v);
    } else if (header_value(buf, len, "ETag", v, sizeof v)) {
        snprintf(m->etag, sizeof m->etag, "%s", v);
    } else if (header_value(buf, len, "X-Linked-Size", v, sizeof v)) {
        m->linked_size = bertc_parse_long(v, 0, LONG_MAX, &x) == 0 ? x : -2;
    } else if (header_value(buf, len, "Content-Length", v, sizeof v)) {
        m->clen = bertc_parse_long(v, 0, LONG_MAX, &x) == 0 ? x : -2;
    }
    return len;
}

static void common_opts(CURL *c, const hub_opts *o, struct curl_slist *hdrs) {
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "bertc/0.1");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->connect_timeout_s > 0 ? o->connect_timeout_s : 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, o->stall_timeout_s > 0 ? o->stall_timeout_s : 60L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
}

/* What the server says about one file: etag, size and commit, checked.
 * *missing = 1 on a 404 (error set). */
typedef struct file_meta {
    char commit[41];
    char etag[129];
    uint64_t size;
} file_meta;

static int head_file(CURL *c, const char *url, const char *file, const char *auth, const hub_opts *o,
                     file_meta *fm, int *missing, bertc_err *err) {
    hub_meta m = {.clen = -1, .linked_size = -1};
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept-Encoding: identity");
    if (auth) hdrs = curl_slist_append(hdrs, auth);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_meta_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &m);
    common_opts(c, o, hdrs);
    CURLcode cc = curl_easy_perform(c);
    curl_slist_free_all(hdrs);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &m.status);
    *missing = 0;
    if (cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_PROXY)
        return bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: %s (is HF_ENDPOINT right, or set HF_HUB_OFFLINE=1)", url,
                          curl_easy_strerror(cc));
    if (cc != CURLE_OK) return bertc_fail(err, BERTC_ERR_IO, "%s: %s", url, curl_easy_strerror(cc));
    if (m.status == 404) {
        *missing = 1;
        return bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: HTTP 404 (not on the server)", url);
    }
    if (m.status == 401 || m.status == 403)
        return bertc_fail(err, BERTC_ERR_ARG,
                          "%s: HTTP %ld: the Hub refused access (gated or private model? set HF_TOKEN to a token "
                          "that may read it)",
                          url, m.status);
    if (m.status < 200 || m.status >= 400) return bertc_fail(err, BERTC_ERR_IO, "%s: HTTP %ld", url, m.status);
    const char *etag = m.linked_etag[0] ? m.linked_etag : m.etag;
    long long size = m.linked_size >= 0 ? m.linked_size : m.status < 300 ? m.clen : -1;
    if (!is_hex(m.commit, 40))
        return bertc_fail(err, BERTC_ERR_IO,
                          "%s: no commit id (X-Repo-Commit) in the answer: is HF_ENDPOINT a Hugging Face Hub?", url);
    size_t el = strlen(etag);
    int etag_ok = el > 0 && el <= 128;
    for (size_t i = 0; i < el && etag_ok; i++)
        etag_ok = (etag[i] >= '0' && etag[i] <= '9') || (etag[i] >= 'a' && etag[i] <= 'z') ||
                  (etag[i] >= 'A' && etag[i] <= 'Z') || etag[i] == '-' || etag[i] == '_';
    if (!etag_ok)
        return bertc_fail(err, BERTC_ERR_IO, "%s: no usable ETag (X-Linked-Etag/ETag) for %s: is HF_ENDPOINT a Hugging Face Hub?",
                          url, file);
    if (size < 0)
        return bertc_fail(err, BERTC_ERR_IO, "%s: no size (X-Linked-Size/Content-Length) for %s: is HF_ENDPOINT a Hugging Face Hub?",
                          url, file);
    memcpy(fm->commit, m.commit, 41);
    memcpy(fm->etag, etag, el + 1);
    fm->size = (uint64_t)size;
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
        return bertc_fail(err, BERTC_ERR_FORMAT,
                          "%s: more than the %llu bytes the Hub's metadata gives: the download is corrupt, nothing "
                          "was kept",
                          url, (unsigned long long)f->max_bytes),
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

/* Deletes dir/FILE.*.part except keep (a .part of another ETag: the remote changed). */
static void drop_other_parts(const char *dir, const char *file, const char *keep) {
    DIR *d = opendir(dir);
    if (!d) return;
    size_t fl = strlen(file);
    struct dirent *e;
    char path[PATH_MAX];
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > fl + 6 && !strncmp(e->d_name, file, fl) && e->d_name[fl] == '.' && !strcmp(e->d_name + n - 5, ".part") &&
            strcmp(e->d_name, keep) && bertc_path_join(path, sizeof path, dir, e->d_name) == 0)
            unlink(path);
    }
    closedir(d);
}

/* Downloads one file into dir/file (via dir/file.ETAG.part) and checks it
 * against fm: size, and SHA-256 when the ETag is one. BERTC_ERR_FORMAT (the
 * .part removed) on a mismatch. */
static int fetch_file(CURL *c, const char *name, const char *url, const char *dir, const char *file,
                      const file_meta *fm, uint64_t max_bytes, const char *auth_header, const hub_opts *o,
                      bertc_err *err) {
    char part[PATH_MAX], final[PATH_MAX], leaf[300];
    snprintf(leaf, sizeof leaf, "%s.%s.part", file, fm->etag);
    if (bertc_path_join(final, sizeof final, dir, file) != 0 || bertc_path_join(part, sizeof part, dir, leaf) != 0)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    if (bertc_is_file(final)) return BERTC_OK; /* verified by an earlier attempt */
    if (fm->size > max_bytes)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %llu bytes, more than bertc accepts for %s (%llu)", url,
                          (unsigned long long)fm->size, file, (unsigned long long)max_bytes);
    drop_other_parts(dir, file, leaf);
    fetch f = {.name = name, .file = file, .max_bytes = fm->size, .o = o};
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
            return bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: HTTP %ld (not on the server)", url, status);
        }
        if (err && err->code == BERTC_ERR_FORMAT) unlink(part);
        return err ? err->code : BERTC_ERR_IO;
    }
    char hex[65];
    uint64_t have = 0;
    int rc = sha256_file(part, hex, &have, err);
    if (rc != BERTC_OK) return rc;
    if (have != fm->size) {
        unlink(part);
        return bertc_fail(err, BERTC_ERR_FORMAT,
                          "%s: got %llu bytes, the Hub's metadata says %llu: the download is corrupt, nothing was kept",
                          url, (unsigned long long)have, (unsigned long long)fm->size);
    }
    if (is_hex(fm->etag, 64) && strcmp(hex, fm->etag)) {
        unlink(part);
        return bertc_fail(err, BERTC_ERR_FORMAT,
                          "%s: SHA-256 %s, the Hub's ETag says %s: the download is corrupt, nothing was kept", url,
                          hex, fm->etag);
    }
    if (rename(part, final) != 0)
        return bertc_fail(err, BERTC_ERR_IO, "%s: cannot rename to %s: %s", part, final, strerror(errno));
    return BERTC_OK;
}

/* ---- The folder ---- */

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

/* Removes the .incomplete/COMMIT downloads of other commits (stale: the revision moved). */
static void drop_other_commits(const char *incomplete, const char *commit) {
    DIR *d = opendir(incomplete);
    if (!d) return;
    struct dirent *e;
    char path[PATH_MAX];
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && strcmp(e->d_name, commit) &&
            bertc_path_join(path, sizeof path, incomplete, e->d_name) == 0)
            bertc_rmtree(path);
    closedir(d);
}

/* After a download that kept nothing: removes the empty folders it made. */
static void prune_empty(const char *root, const char *id) {
    char path[PATH_MAX];
    if (repo_path(path, sizeof path, root, id, ".incomplete", NULL) == 0) rmdir(path);
    if (repo_path(path, sizeof path, root, id, NULL, NULL) == 0) rmdir(path); /* fails unless empty */
}

/* One download of id at one commit: the paths and handles its steps share. */
typedef struct hub_job {
    const char *id, *commit, *cache_root;
    const char *ep;           /* the endpoint, without trailing '/' (eplen bytes) */
    int eplen;
    const char *auth;         /* "Authorization: Bearer ..." or NULL */
    const hub_opts *o;
    CURL *c;
    file_meta config;         /* config.json's metadata, read first */
    char tmpd[PATH_MAX];      /* .incomplete/COMMIT */
    char snap[PATH_MAX];      /* snapshots/COMMIT */
} hub_job;

/* Fetches every file of hub_files into j->tmpd, each from the commit and
 * checked against its metadata, then validates the folder. */
static int fetch_all(hub_job *j, bertc_err *err) {
    char url[HUB_MAX_URL];
    for (size_t i = 0; i < sizeof hub_files / sizeof hub_files[0]; i++) {
        const hub_file *hf = &hub_files[i];
        file_meta fm = j->config;
        int missing = 0, rc;
        if ((size_t)snprintf(url, sizeof url, "%.*s/%s/resolve/%s/%s", j->eplen, j->ep, j->id, j->commit,
                             hf->file) >= sizeof url)
            return bertc_fail(err, BERTC_ERR_ARG, "%s: URL too long", j->id);
        if (i > 0 && (rc = head_file(j->c, url, hf->file, j->auth, j->o, &fm, &missing, err)) != BERTC_OK) {
            if (missing && hf->optional) {
                if (err) err->code = BERTC_OK, err->msg[0] = '\0';
                continue;
            }
            return missing ? bertc_err_prefix(err, "%s: %s is required", j->id, hf->file) : rc;
        }
        if (strcmp(fm.commit, j->commit))
            return bertc_fail(err, BERTC_ERR_IO, "%s: %s answered for commit %s, not %s", url, hf->file, fm.commit,
                              j->commit);
        rc = fetch_file(j->c, j->id, url, j->tmpd, hf->file, &fm, hf->max_bytes, j->auth, j->o, err);
        if (rc == BERTC_ERR_NOTFOUND) return bertc_err_prefix(err, "%s: %s is required", j->id, hf->file);
        if (rc != BERTC_OK) return rc;
    }
    return validate(j->tmpd, err);
}

/* Marks j->tmpd complete and renames it to snapshots/COMMIT (fsync'd). */
static int install(hub_job *j, bertc_err *err) {
    char probe[PATH_MAX], snaps[PATH_MAX];
    int fd, rc;
    if (bertc_path_join(probe, sizeof probe, j->tmpd, ".complete") != 0 ||
        repo_path(snaps, sizeof snaps, j->cache_root, j->id, "snapshots", NULL) != 0)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", j->tmpd);
    if ((fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
        return bertc_fail(err, BERTC_ERR_IO, "%s: cannot create: %s", probe, strerror(errno));
    close(fd);
    if ((rc = bertc_fsync_dir(j->tmpd, err)) != BERTC_OK || (rc = make_dirs(snaps, err)) != BERTC_OK) return rc;
    if (rename(j->tmpd, j->snap) != 0)
        return bertc_fail(err, BERTC_ERR_IO, "cannot rename %s to %s: %s", j->tmpd, j->snap, strerror(errno));
    return bertc_fsync_dir(snaps, err);
}

int hub_download(const char *id, const char *cache_root, const hub_opts *opts, char *out, size_t cap,
                 bertc_err *err) {
    hub_opts defaults;
    if (!opts) {
        hub_opts_default(&defaults);
        opts = &defaults;
    }
    if (!hub_valid_name(id))
        return bertc_fail(err, BERTC_ERR_ARG,
                          "\"%s\": not a Hub model id (owner/name, letters, digits, '.', '_', '-')", id ? id : "");
    const char *rev = opts->revision && *opts->revision ? opts->revision : "main";
    if (!hub_valid_revision(rev))
        return bertc_fail(err, BERTC_ERR_ARG, "revision \"%s\": letters, digits, '.', '_', '-' only (no '/')", rev);
    const char *ep = opts->endpoint ? opts->endpoint : getenv("HF_ENDPOINT");
    if (!ep || !*ep) ep = HUB_DEFAULT_ENDPOINT;
    if (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8))
        return bertc_fail(err, BERTC_ERR_ARG, "HF_ENDPOINT \"%s\": must start with http:// or https://", ep);
    size_t eplen = strlen(ep);
    while (eplen > 8 && ep[eplen - 1] == '/') eplen--;
    if (eplen > HUB_MAX_URL / 2) return bertc_fail(err, BERTC_ERR_ARG, "HF_ENDPOINT: too long");

    char token[HUB_MAX_TOKEN + 1], auth[HUB_MAX_TOKEN + 32];
    int rc = find_token(token, sizeof token, opts, err);
    if (rc != BERTC_OK) return rc;
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);

    char folder[256], locks[PATH_MAX], lockp[PATH_MAX], incomplete[PATH_MAX], url[HUB_MAX_URL], probe[PATH_MAX];
    if (repo_folder_name(folder, sizeof folder, id) != 0 ||
        bertc_path_join(locks, sizeof locks, cache_root, ".locks") != 0 ||
        (size_t)snprintf(lockp, sizeof lockp, "%s/%s.lock", locks, folder) >= sizeof lockp ||
        repo_path(incomplete, sizeof incomplete, cache_root, id, ".incomplete", NULL) != 0)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: cache path too long", cache_root);

    hub_job j = {.id = id, .cache_root = cache_root, .ep = ep, .eplen = (int)eplen, .auth = token[0] ? auth : NULL,
                 .o = opts, .c = curl_easy_init()};
    if (!j.c) return bertc_fail(err, BERTC_ERR_NOMEM, "libcurl: cannot create a handle");
    int lock_fd = -1, made_tmp = 0, missing = 0;

    /* 1. Which commit the revision names (config.json's metadata). */
    char *rev_esc = curl_easy_escape(j.c, rev, 0);
    int long_url = !rev_esc || (size_t)snprintf(url, sizeof url, "%.*s/%s/resolve/%s/config.json", (int)eplen, ep,
                                                id, rev_esc) >= sizeof url;
    curl_free(rev_esc);
    if (long_url) {
        rc = bertc_fail(err, BERTC_ERR_ARG, "%s: URL too long", id);
        goto done;
    }
    if ((rc = head_file(j.c, url, "config.json", j.auth, opts, &j.config, &missing, err)) != BERTC_OK) {
        if (missing) bertc_err_prefix(err, "%s: no model of that id at revision %s on %.*s", id, rev, (int)eplen, ep);
        goto done;
    }
    j.commit = j.config.commit;
    if (repo_path(j.snap, sizeof j.snap, cache_root, id, "snapshots", j.commit) != 0 ||
        bertc_path_join(j.tmpd, sizeof j.tmpd, incomplete, j.commit) != 0) {
        rc = bertc_fail(err, BERTC_ERR_ARG, "%s: cache path too long", cache_root);
        goto done;
    }

    /* 2. One download per model at a time; the commit may be here already
     * (under another revision, or another process just finished it). */
    if ((rc = make_dirs(locks, err)) != BERTC_OK) goto done;
    lock_fd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX) != 0) {
        rc = bertc_fail(err, BERTC_ERR_IO, "%s: cannot lock: %s", lockp, strerror(errno));
        goto done;
    }
    if (bertc_path_join(probe, sizeof probe, j.snap, ".complete") != 0 || !bertc_is_file(probe)) {
        /* 3. The files into .incomplete/COMMIT, then one rename into snapshots/. */
        if ((rc = make_dirs(j.tmpd, err)) != BERTC_OK) goto done;
        made_tmp = 1;
        drop_other_commits(incomplete, j.commit);
        if ((rc = fetch_all(&j, err)) != BERTC_OK || (rc = install(&j, err)) != BERTC_OK) goto done;
        made_tmp = 0;
        rmdir(incomplete);
    }
    if (strcmp(rev, j.commit) && (rc = write_ref(cache_root, id, rev, j.commit, err)) != BERTC_OK) goto done;
    if ((size_t)snprintf(out, cap, "%s", j.snap) >= cap) rc = bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", j.snap);
done:
    /* A transfer error keeps the download to resume; anything else that failed
     * (corrupt file, failed validation, a required file missing) keeps nothing. */
    if (rc != BERTC_OK && rc != BERTC_ERR_IO && made_tmp) {
        bertc_rmtree(j.tmpd);
        prune_empty(cache_root, id);
    }
    if (lock_fd >= 0) close(lock_fd);
    curl_easy_cleanup(j.c);
    return rc;
}
