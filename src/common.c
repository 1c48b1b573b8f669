/* common.c: error slots, checked parsing, size arithmetic, file helpers. */
#include "common.h"

#include <cjson/cJSON.h>
#include <utf8proc.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *bertc_status_name(int code) {
    switch (code) {
    case BERTC_OK: return "ok";
    case BERTC_ERR_IO: return "i/o error";
    case BERTC_ERR_FORMAT: return "format error";
    case BERTC_ERR_UNSUPPORTED: return "unsupported";
    case BERTC_ERR_ARG: return "bad argument";
    case BERTC_ERR_NOMEM: return "out of memory";
    case BERTC_ERR_NOTFOUND: return "not found";
    case BERTC_ERR_NUMERIC: return "non-finite value";
    case BERTC_ERR_INTERRUPTED: return "interrupted";
    default: return "unknown error";
    }
}

int bertc_fail(bertc_err *err, int code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

int bertc_err_prefix(bertc_err *err, const char *fmt, ...) {
    if (!err) return BERTC_OK;
    char prefix[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t pl = strnlen(prefix, sizeof err->msg - 3);
    memcpy(err->msg, prefix, pl);
    memcpy(err->msg + pl, ": ", 2);
    size_t room = sizeof err->msg - pl - 3;
    size_t ol = strnlen(old, room);
    memcpy(err->msg + pl + 2, old, ol);
    err->msg[pl + 2 + ol] = '\0';
    return err->code;
}

int bertc_parse_long(const char *s, long lo, long hi, long *out) {
    if (!s || !*s) return -1;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int bertc_parse_double(const char *s, double lo, double hi, double *out) {
    if (!s || !*s) return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v) || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int bertc_mul_size(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return -1;
    *out = a * b;
    return 0;
}

int bertc_add_size(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return -1;
    *out = a + b;
    return 0;
}

void bertc_set_threads(int n) {
    if (n <= 0) return;
    omp_set_num_threads(n);
    extern void openblas_set_num_threads(int);
    openblas_set_num_threads(n);
}

void *bertc_scratch(void *buf, size_t *cap, size_t bytes) {
    if (bytes <= *cap) return buf;
    free(buf);
    void *p = bytes <= SIZE_MAX - 63 ? aligned_alloc(64, (bytes + 63) / 64 * 64) : NULL;
    *cap = p ? bytes : 0;
    return p;
}

int bertc_read_file(const char *path, size_t max_bytes, char **out, size_t *len,
                    bertc_err *err) {
    *out = NULL;
    if (len) *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return bertc_fail(err, BERTC_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max_bytes) {
        fclose(f);
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: file is %lld bytes, more than the %zu allowed",
                          path, (long long)st.st_size, max_bytes);
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, n + 1);
    }
    size_t got = fread(buf, 1, n, f);
    int bad = ferror(f);
    fclose(f);
    if (got != n || bad) {
        free(buf);
        return bertc_fail(err, BERTC_ERR_IO, "%s: short read (%zu of %zu bytes)", path, got, n);
    }
    buf[n] = '\0';
    *out = buf;
    if (len) *len = n;
    return BERTC_OK;
}

int bertc_fsync_dir(const char *dir, bertc_err *err) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot open directory: %s", dir, strerror(errno));
    int rc = fsync(fd);
    close(fd);
    if (rc != 0) return bertc_fail(err, BERTC_ERR_IO, "%s: fsync failed: %s", dir, strerror(errno));
    return BERTC_OK;
}

static void parent_dir(char *out, size_t cap, const char *path) {
    snprintf(out, cap, "%s", path);
    char *slash = strrchr(out, '/');
    if (!slash) snprintf(out, cap, ".");
    else if (slash == out) out[1] = '\0';
    else *slash = '\0';
}

int bertc_write_file_atomic(const char *path, const void *data, size_t len, bertc_err *err) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            return bertc_fail(err, BERTC_ERR_IO, "%s: write failed: %s", path, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return bertc_fail(err, BERTC_ERR_IO, "%s: fsync/close failed: %s", path, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return bertc_fail(err, BERTC_ERR_IO, "%s: rename failed: %s", path, strerror(e));
    }
    char dir[PATH_MAX];
    parent_dir(dir, sizeof dir, path);
    return bertc_fsync_dir(dir, err);
}

int bertc_path_join(char *out, size_t cap, const char *dir, const char *name) {
    size_t dl = strlen(dir);
    int n = (dl > 0 && dir[dl - 1] == '/') ? snprintf(out, cap, "%s%s", dir, name)
                                            : snprintf(out, cap, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

int bertc_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int bertc_is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static _Thread_local int rmtree_errno; /* first failure of the walk in progress */

static int rmtree_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0 && errno != ENOENT && !rmtree_errno) rmtree_errno = errno;
    return 0;
}

int bertc_rmtree(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) != 0) return errno == ENOENT ? 0 : -1;
    rmtree_errno = 0;
    if (nftw(path, rmtree_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && !rmtree_errno) rmtree_errno = errno ? errno : EIO;
    if (rmtree_errno) {
        errno = rmtree_errno;
        return -1;
    }
    return 0;
}

static int cmp_str_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *bertc_json_duplicate_key(const cJSON *obj, int *nomem) {
    size_t n = 0;
    *nomem = 0;
    for (const cJSON *c = obj->child; c; c = c->next) n++;
    if (n < 2) return NULL;
    const char **keys = malloc(n * sizeof *keys);
    if (!keys) {
        *nomem = 1;
        return NULL;
    }
    size_t i = 0;
    for (const cJSON *c = obj->child; c; c = c->next) keys[i++] = c->string;
    qsort(keys, n, sizeof *keys, cmp_str_ptr);
    const char *dup = NULL;
    for (i = 1; i < n && !dup; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0) dup = keys[i];
    free(keys);
    return dup;
}

size_t bertc_utf8_invalid_at(const char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &c);
        if (k <= 0) return i;
        i += (size_t)k;
    }
    return len;
}

int bertc_utf8_valid(const char *s, size_t len) { return bertc_utf8_invalid_at(s, len) == len; }

void bertc_shape_str(char *out, size_t cap, const int64_t *shape, int rank) {
    size_t k = (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < rank && k < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < cap) snprintf(out + k, cap - k, "]");
}

int bertc_json_read(cJSON **out, const char *path, size_t max_bytes, bertc_err *err) {
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = bertc_read_file(path, max_bytes, &text, &len, err);
    if (rc != BERTC_OK) return rc;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(text, &end, 1);
    if (!j || strlen(text) != len) {
        size_t at = (end && end >= text) ? (size_t)(end - text) : 0;
        free(text);
        cJSON_Delete(j);
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: not valid JSON (near byte %zu)", path, at);
    }
    free(text);
    *out = j;
    return BERTC_OK;
}
