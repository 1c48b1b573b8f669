/* data.c: data set readers (aclImdb folder/.tar.gz, CSV/TSV, JSON Lines, fastText),
 * label sets, seeded shuffle/limit and validation splits. See data.h and docs/data.md. */
#include "data.h"

#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rng.h"

/* ---------------------------------------------------------------- text pool */

/* Texts live in a list of blocks that never move, so example pointers stay valid
 * while a file is being read. A CSV/TSV/fastText file buffer becomes a block itself
 * (it is parsed in place). */
typedef struct pool_block {
    struct pool_block *next;
    char *data;
    size_t used, cap;  /* bytes */
} pool_block;

struct bertc_pool {
    pool_block *head;
};

enum { POOL_BLOCK = 1 << 20 };

static void pool_free(bertc_pool *p) {
    if (!p) return;
    for (pool_block *b = p->head; b;) {
        pool_block *next = b->next;
        free(b->data);
        free(b);
        b = next;
    }
    free(p);
}

/* Adds buf (malloc'd, cap bytes) as a full block; the pool owns it from now on,
 * also on failure (then it is freed). */
static int pool_adopt(bertc_pool *p, char *buf, size_t cap) {
    pool_block *b = malloc(sizeof *b);
    if (!b) {
        free(buf);
        return -1;
    }
    b->data = buf;
    b->used = b->cap = cap;
    /* Adopted blocks go behind the head so the head keeps its free room. */
    if (p->head) {
        b->next = p->head->next;
        p->head->next = b;
    } else {
        b->next = NULL;
        p->head = b;
    }
    return 0;
}

/* n bytes that stay put until pool_free; NULL when out of memory. */
static char *pool_alloc(bertc_pool *p, size_t n) {
    pool_block *h = p->head;
    if (!h || h->cap - h->used < n) {
        size_t cap = n > POOL_BLOCK ? n : POOL_BLOCK;
        pool_block *b = malloc(sizeof *b);
        char *d = malloc(cap);
        if (!b || !d) {
            free(b);
            free(d);
            return NULL;
        }
        b->data = d;
        b->used = 0;
        b->cap = cap;
        b->next = h;
        p->head = h = b;
    }
    char *out = h->data + h->used;
    h->used += n;
    return out;
}

static char *pool_strndup(bertc_pool *p, const char *s, size_t n) {
    char *d = pool_alloc(p, n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* ---------------------------------------------------------------- loader state */

typedef struct loader {
    const bertc_data_opts *o;
    const char *path;
    bertc_err *err;
    bertc_pool *pool;
    bertc_example *ex;
    const char **raw;  /* (n) the label as written, in the pool */
    int n, cap;
    /* multi-label: every label as written (mn of them), example i's are
     * mraw[moff[i] .. moff[i] + ex[i].num_label_ids) */
    const char **mraw;
    int mn, mcap, mmark;
    int *moff;          /* (cap) */
} loader;

/* Appends one label (as written, in the pool) to the example being read next. */
static int ml_push(loader *L, const char *raw) {
    if (L->mn == L->mcap) {
        if (L->mcap >= INT_MAX / 2) return bertc_fail(L->err, BERTC_ERR_NOMEM, "%s: too many labels", L->path);
        int cap = L->mcap ? 2 * L->mcap : 1024;
        const char **m = realloc(L->mraw, (size_t)cap * sizeof *m);
        if (!m) return bertc_fail(L->err, BERTC_ERR_NOMEM, "%s: out of memory for labels", L->path);
        L->mraw = m;
        L->mcap = cap;
    }
    L->mraw[L->mn++] = raw;
    return BERTC_OK;
}

static int add_example(loader *L, const char *text, size_t len, const char *pair, size_t pair_len,
                       const char *raw_label, long line, long id, int rating) {
    if (L->n == L->cap) {
        if (L->cap >= INT_MAX / 2)
            return bertc_fail(L->err, BERTC_ERR_NOMEM, "%s: more than %d examples", L->path, INT_MAX / 2);
        int cap = L->cap ? 2 * L->cap : 1024;
        bertc_example *ex = realloc(L->ex, (size_t)cap * sizeof *ex);
        if (ex) L->ex = ex;
        const char **raw = ex ? realloc(L->raw, (size_t)cap * sizeof *raw) : NULL;
        if (raw) L->raw = raw;
        int *moff = raw ? realloc(L->moff, (size_t)cap * sizeof *moff) : NULL;
        if (!ex || !raw || !moff)
            return bertc_fail(L->err, BERTC_ERR_NOMEM, "%s: cannot allocate %d examples", L->path, cap);
        L->moff = moff;
        L->cap = cap;
    }
    bertc_example *e = &L->ex[L->n];
    e->text = text;
    e->len = len;
    e->pair = pair;
    e->pair_len = pair ? pair_len : 0;
    e->label = -1;
    e->rating = rating;
    e->id = id;
    e->line = line;
    L->raw[L->n] = raw_label;
    e->label_ids = NULL;
    e->num_label_ids = 0;
    if (L->o->multi_label) {
        L->moff[L->n] = L->mmark;
        e->num_label_ids = L->mn - L->mmark;
        L->mmark = L->mn;
    }
    L->n++;
    return BERTC_OK;
}

static int nomem(loader *L) {
    return bertc_fail(L->err, BERTC_ERR_NOMEM, "%s: out of memory while reading", L->path);
}

/* "path:line" or "path" (line 0) into buf. */
static const char *where(char *buf, size_t cap, const char *path, long line) {
    if (line > 0) snprintf(buf, cap, "%s:%ld", path, line);
    else snprintf(buf, cap, "%s", path);
    return buf;
}

/* ---------------------------------------------------------------- labels */

/* A label is an integer when it is an optional '-' and 1..18 digits, nothing else. */
static int label_int(const char *s, long *v) {
    const char *p = s + (*s == '-');
    size_t nd = strspn(p, "0123456789");
    if (nd == 0 || nd > 18 || p[nd] != '\0') return 0;
    return bertc_parse_long(s, LONG_MIN, LONG_MAX, v) == 0;
}

static int all_int(const char *const *names, int k) {
    long v;
    for (int i = 0; i < k; i++)
        if (!label_int(names[i], &v)) return 0;
    return k > 0;
}

/* The id of raw in names[0..k), or -1. Integer label sets match by value ("01" is
 * "1"); name sets match exactly, then accept an integer id in [0, k). */
static int match_label(const char *const *names, int k, int names_ints, const char *raw) {
    long v, w;
    if (names_ints) {
        if (!label_int(raw, &v)) return -1;
        for (int i = 0; i < k; i++)
            if (label_int(names[i], &w) && w == v) return i;
        return -1;
    }
    for (int i = 0; i < k; i++)
        if (strcmp(names[i], raw) == 0) return i;
    if (label_int(raw, &v) && v >= 0 && v < k) return (int)v;
    return -1;
}

static void free_labels(char **labels, int k) {
    if (!labels) return;
    for (int i = 0; i < k; i++) free(labels[i]);
    free(labels);
}

static char **copy_labels(const char *const *names, int k) {
    char **out = calloc((size_t)(k > 0 ? k : 1), sizeof *out);
    if (!out) return NULL;
    for (int i = 0; i < k; i++) {
        out[i] = strdup(names[i]);
        if (!out[i]) {
            free_labels(out, k);
            return NULL;
        }
    }
    return out;
}

/* A short "a, b, c" list of the label names for messages. */
static void label_list(char *buf, size_t cap, const char *const *names, int k) {
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < k && at < cap; i++) {
        int w = snprintf(buf + at, cap - at, "%s%s", i ? ", " : "", names[i]);
        if (w < 0) break;
        at += (size_t)w;
    }
    if (at >= cap && cap > 4) memcpy(buf + cap - 4, "...", 4);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_long(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Gives each of the nraw labels as written (raw[j], of example owner[j], or of
 * example j when owner is NULL) an id in ids[j], and ds its label set (data.h). */
static int resolve_ids(loader *L, bertc_dataset *ds, const char **raw, int nraw, const int *owner, int *ids) {
    const bertc_data_opts *o = L->o;
    char wb[1200], lb[600];
    if (o->labels) {
        if (o->num_labels < 1)
            return bertc_fail(L->err, BERTC_ERR_ARG, "%s: an explicit label list needs at least one label", L->path);
        int ints = all_int(o->labels, o->num_labels);
        for (int i = 0; i < nraw; i++) {
            int id = match_label(o->labels, o->num_labels, ints, raw[i]);
            if (id < 0) {
                label_list(lb, sizeof lb, o->labels, o->num_labels);
                return bertc_fail(L->err, BERTC_ERR_NOTFOUND,
                                  "%s: label \"%s\" is not one of the %d labels (%s)",
                                  where(wb, sizeof wb, L->path, L->ex[owner ? owner[i] : i].line), raw[i],
                                  o->num_labels, lb);
            }
            ids[i] = id;
        }
        ds->labels = copy_labels(o->labels, o->num_labels);
        if (!ds->labels) return nomem(L);
        ds->num_labels = o->num_labels;
        ds->labels_are_ints = ints;
        return BERTC_OK;
    }

    /* Distinct labels, sorted. */
    const char **u = malloc((size_t)(nraw > 0 ? nraw : 1) * sizeof *u);
    if (!u) return nomem(L);
    if (nraw > 0) memcpy(u, raw, (size_t)nraw * sizeof *u);
    qsort(u, (size_t)nraw, sizeof *u, cmp_str);
    int k = 0;
    for (int i = 0; i < nraw; i++)
        if (k == 0 || strcmp(u[k - 1], u[i]) != 0) u[k++] = u[i];
    int ints = all_int(u, k);
    if (ints) {
        /* Numeric order, distinct by value; names are the canonical decimals. */
        long *v = malloc((size_t)k * sizeof *v);
        if (!v) {
            free(u);
            return nomem(L);
        }
        for (int i = 0; i < k; i++) label_int(u[i], &v[i]);
        qsort(v, (size_t)k, sizeof *v, cmp_long);
        int m = 0;
        for (int i = 0; i < k; i++)
            if (m == 0 || v[m - 1] != v[i]) v[m++] = v[i];
        ds->labels = calloc((size_t)m, sizeof *ds->labels);
        for (int i = 0; ds->labels && i < m; i++) {
            char num[32];
            snprintf(num, sizeof num, "%ld", v[i]);
            if (!(ds->labels[i] = strdup(num))) break;
        }
        ds->num_labels = m;
        if (!ds->labels || !ds->labels[m - 1]) {
            free(v);
            free(u);
            return nomem(L);
        }
        for (int i = 0; i < nraw; i++) {
            long x;
            label_int(raw[i], &x);
            long *hit = bsearch(&x, v, (size_t)m, sizeof *v, cmp_long);
            ids[i] = (int)(hit - v);
        }
        free(v);
    } else {
        ds->labels = copy_labels(u, k);
        if (!ds->labels) {
            free(u);
            return nomem(L);
        }
        ds->num_labels = k;
        for (int i = 0; i < nraw; i++) {
            const char **hit = bsearch(&raw[i], u, (size_t)k, sizeof *u, cmp_str);
            ids[i] = (int)(hit - u);
        }
    }
    ds->labels_are_ints = ints;
    free(u);
    return BERTC_OK;
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Single label: ex[i].label from raw[i]. Multi-label: every example's ids into
 * one array (sorted, duplicates dropped), label = the first or -1. */
static int resolve_labels(loader *L, bertc_dataset *ds) {
    if (!L->o->multi_label) {
        int *ids = malloc((size_t)(L->n > 0 ? L->n : 1) * sizeof *ids);
        if (!ids) return nomem(L);
        int rc = resolve_ids(L, ds, L->raw, L->n, NULL, ids);
        for (int i = 0; !rc && i < L->n; i++) L->ex[i].label = ids[i];
        free(ids);
        return rc;
    }
    if (L->mn == 0 && !L->o->labels)
        return bertc_fail(L->err, BERTC_ERR_FORMAT, "%s: no example has a label", L->path);
    int *ids = malloc((size_t)(L->mn > 0 ? L->mn : 1) * sizeof *ids);
    int *owner = calloc((size_t)(L->mn > 0 ? L->mn : 1), sizeof *owner);
    if (!ids || !owner) {
        free(ids);
        free(owner);
        return nomem(L);
    }
    for (int i = 0; i < L->n; i++)
        for (int k = 0; k < L->ex[i].num_label_ids; k++) owner[L->moff[i] + k] = i;
    int rc = resolve_ids(L, ds, L->mraw, L->mn, owner, ids);
    free(owner);
    if (rc) {
        free(ids);
        return rc;
    }
    for (int i = 0; i < L->n; i++) {
        bertc_example *e = &L->ex[i];
        int *x = ids + L->moff[i], m = 0;
        qsort(x, (size_t)e->num_label_ids, sizeof *x, cmp_int);
        for (int k = 0; k < e->num_label_ids; k++)
            if (m == 0 || x[m - 1] != x[k]) x[m++] = x[k];
        e->num_label_ids = m;
        e->label_ids = m ? x : NULL;
        e->label = m ? x[0] : -1;
    }
    ds->ml_ids = ids;
    ds->ml_count = (size_t)L->mn;
    ds->multi_label = 1;
    return BERTC_OK;
}

/* ---------------------------------------------------------------- aclImdb */

/* "<id>_<rating>.txt" -> id, rating. 0 on success. */
static int imdb_name(const char *name, long *id, int *rating) {
    size_t a = strspn(name, "0123456789");
    if (a == 0 || a > 9 || name[a] != '_') return -1;
    const char *r = name + a + 1;
    size_t b = strspn(r, "0123456789");
    if (b == 0 || b > 2 || strcmp(r + b, ".txt") != 0) return -1;
    *id = strtol(name, NULL, 10);
    *rating = (int)strtol(r, NULL, 10);
    return 0;
}

/* Classifies an archive entry path: 1 when it is SPLIT/{neg,pos}/FILE (any prefix),
 * with *label and *file pointing into name; 0 when it is to be skipped. */
static int imdb_entry(const char *name, const char *split, const char **label, const char **file) {
    const char *c[3] = {0};  /* the last three components */
    size_t l[3] = {0};
    const char *end = name + strlen(name);
    const char *p = end;
    for (int i = 2; i >= 0; i--) {
        const char *q = p;
        while (q > name && q[-1] != '/') q--;
        c[i] = q;
        l[i] = (size_t)(p - q);
        if (q == name) {
            if (i > 0) return 0;
            break;
        }
        p = q - 1;
    }
    if (l[0] != strlen(split) || strncmp(c[0], split, l[0]) != 0) return 0;
    if (l[1] != 3 || (strncmp(c[1], "neg", 3) != 0 && strncmp(c[1], "pos", 3) != 0)) return 0;
    if (l[2] == 0 || c[2][0] == '.') return 0;  /* directories, ._ resource forks */
    *label = strncmp(c[1], "neg", 3) == 0 ? "neg" : "pos";
    *file = c[2];
    return 1;
}

enum { DATA_MAX_ARCHIVE_ENTRIES = 1000000 };
#define DATA_MAX_ARCHIVE_BYTES ((uint64_t)4 << 30)

static int imdb_archive(loader *L, const char *split) {
    /* Decompression-bomb limits, checked on every header before its data is read
     * or skipped (skipping a gzip entry decompresses it too). */
    uint64_t max_total = L->o->max_archive_bytes ? L->o->max_archive_bytes : DATA_MAX_ARCHIVE_BYTES;
    long max_entries = L->o->max_archive_entries > 0 ? L->o->max_archive_entries : DATA_MAX_ARCHIVE_ENTRIES;
    uint64_t total = 0; /* the declared sizes of the entries so far */
    long entries = 0;
    struct archive *a = archive_read_new();
    if (!a) return nomem(L);
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    int rc = BERTC_OK;
    if (archive_read_open_filename(a, L->path, 1 << 16) != ARCHIVE_OK) {
        /* A system error is I/O; anything else (not gzip, not tar) is the format. */
        int e = archive_errno(a);
        int code = (e == ENOENT || e == EACCES || e == EISDIR || e == EIO) ? BERTC_ERR_IO : BERTC_ERR_FORMAT;
        rc = bertc_fail(L->err, code, "%s: unreadable or corrupt archive: %s", L->path,
                        archive_error_string(a) ? archive_error_string(a) : "unknown error");
        archive_read_free(a);
        return rc;
    }
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        if (++entries > max_entries) {
            rc = bertc_fail(L->err, BERTC_ERR_FORMAT,
                            "%s: more than %ld entries: refused as a possible decompression bomb "
                            "(unpack it and pass the folder if it is genuine)", L->path, max_entries);
            break;
        }
        /* what the headers declare, and what has been decompressed (headers, pax records) */
        int64_t declared = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
        int64_t pos = archive_filter_bytes(a, 0);
        if (declared > 0) total += (uint64_t)declared;
        if (declared < 0 || total > max_total || (pos > 0 && (uint64_t)pos > max_total)) {
            const char *n = archive_entry_pathname(e);
            rc = bertc_fail(L->err, BERTC_ERR_FORMAT,
                            "%s: entry %s takes the archive past %llu bytes uncompressed: refused as a possible "
                            "decompression bomb (unpack it and pass the folder if it is genuine)",
                            L->path, n ? n : "?", (unsigned long long)max_total);
            break;
        }
        if (archive_entry_filetype(e) != AE_IFREG) continue;
        const char *name = archive_entry_pathname(e), *label, *file;
        if (!name || !imdb_entry(name, split, &label, &file)) continue;
        long id;
        int rating;
        if (imdb_name(file, &id, &rating) != 0) {
            rc = bertc_fail(L->err, BERTC_ERR_FORMAT, "%s: entry %s: name is not <id>_<rating>.txt",
                            L->path, name);
            break;
        }
        int64_t size = archive_entry_size(e);
        if (!archive_entry_size_is_set(e) || size < 0 || (uint64_t)size > L->o->max_bytes) {
            rc = bertc_fail(L->err, BERTC_ERR_FORMAT, "%s: entry %s: bad size %lld", L->path, name,
                            (long long)size);
            break;
        }
        char *buf = pool_alloc(L->pool, (size_t)size + 1);
        if (!buf) {
            rc = nomem(L);
            break;
        }
        size_t got = 0;
        while (got < (size_t)size) {
            la_ssize_t k = archive_read_data(a, buf + got, (size_t)size - got);
            if (k <= 0) break;
            got += (size_t)k;
        }
        if (got != (size_t)size) {
            const char *m = archive_error_string(a);
            rc = bertc_fail(L->err, BERTC_ERR_FORMAT, "%s: entry %s: truncated or corrupt (%zu of %lld bytes): %s",
                            L->path, name, got, (long long)size, m ? m : "unexpected end");
            break;
        }
        buf[size] = '\0';
        if ((rc = add_example(L, buf, (size_t)size, NULL, 0, label, 0, id, rating))) break;
    }
    if (rc == BERTC_OK && r != ARCHIVE_EOF) {
        const char *m = archive_error_string(a);
        rc = bertc_fail(L->err, BERTC_ERR_FORMAT, "%s: unreadable or corrupt archive: %s", L->path,
                        m ? m : "unknown error");
    }
    archive_read_free(a);
    return rc;
}

static int read_into_pool(loader *L, const char *file, char **out, size_t *len) {
    FILE *f = fopen(file, "rb");
    if (!f) return bertc_fail(L->err, BERTC_ERR_IO, "%s: cannot open: %s", file, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > L->o->max_bytes) {
        fclose(f);
        return bertc_fail(L->err, BERTC_ERR_IO, "%s: not a regular file of at most %zu bytes", file,
                          L->o->max_bytes);
    }
    size_t n = (size_t)st.st_size;
    char *buf = pool_alloc(L->pool, n + 1);
    if (!buf) {
        fclose(f);
        return nomem(L);
    }
    size_t got = fread(buf, 1, n, f);
    int bad = ferror(f);
    fclose(f);
    if (got != n || bad) return bertc_fail(L->err, BERTC_ERR_IO, "%s: short read (%zu of %zu bytes)", file, got, n);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return BERTC_OK;
}

static int has_pos_neg(const char *dir) {
    char p[PATH_MAX];
    return bertc_path_join(p, sizeof p, dir, "pos") == 0 && bertc_is_dir(p) &&
           bertc_path_join(p, sizeof p, dir, "neg") == 0 && bertc_is_dir(p);
}

static const char *base_name(const char *path) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    const char *b = path + n;
    while (b > path && b[-1] != '/') b--;
    return b;
}

static int imdb_dir(loader *L, const char *split, int explicit_split) {
    char root[PATH_MAX], sub[PATH_MAX], file[PATH_MAX];
    if (has_pos_neg(L->path)) {
        const char *b = base_name(L->path);
        size_t bl = strcspn(b, "/");
        if (explicit_split && (bl != strlen(split) || strncmp(b, split, bl) != 0))
            return bertc_fail(L->err, BERTC_ERR_ARG,
                              "%s: is already a split folder (has pos/ and neg/); drop the :%s", L->path, split);
        snprintf(root, sizeof root, "%s", L->path);
    } else if (bertc_path_join(root, sizeof root, L->path, split) == 0 && has_pos_neg(root)) {
    } else if (bertc_path_join(sub, sizeof sub, L->path, "aclImdb") == 0 &&
               bertc_path_join(root, sizeof root, sub, split) == 0 && has_pos_neg(root)) {
    } else {
        return bertc_fail(L->err, BERTC_ERR_FORMAT,
                          "%s: not an aclImdb folder: no pos/ and neg/ in it, in %s/ or in aclImdb/%s/",
                          L->path, split, split);
    }
    static const char *const labels[2] = {"neg", "pos"};
    for (int k = 0; k < 2; k++) {
        if (bertc_path_join(sub, sizeof sub, root, labels[k]) != 0)
            return bertc_fail(L->err, BERTC_ERR_ARG, "%s: path too long", L->path);
        DIR *d = opendir(sub);
        if (!d) return bertc_fail(L->err, BERTC_ERR_IO, "%s: cannot open folder: %s", sub, strerror(errno));
        struct dirent *de;
        int rc = BERTC_OK;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.') continue;
            long id;
            int rating;
            if (imdb_name(de->d_name, &id, &rating) != 0) {
                rc = bertc_fail(L->err, BERTC_ERR_FORMAT, "%s/%s: name is not <id>_<rating>.txt", sub, de->d_name);
                break;
            }
            char *text = NULL;
            size_t len = 0;
            if (bertc_path_join(file, sizeof file, sub, de->d_name) != 0) {
                rc = bertc_fail(L->err, BERTC_ERR_ARG, "%s: path too long", sub);
                break;
            }
            if ((rc = read_into_pool(L, file, &text, &len))) break;
            if ((rc = add_example(L, text, len, NULL, 0, labels[k], 0, id, rating))) break;
        }
        closedir(d);
        if (rc) return rc;
    }
    return BERTC_OK;
}

/* The documented aclImdb order: label id, then file id (then rating, then text). */
static int cmp_imdb(const void *a, const void *b) {
    const bertc_example *x = a, *y = b;
    if (x->label != y->label) return x->label < y->label ? -1 : 1;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    if (x->rating != y->rating) return x->rating < y->rating ? -1 : 1;
    return strcmp(x->text, y->text);
}

/* ---------------------------------------------------------------- CSV / TSV */

/* Reads the whole file into a pool block (parsed in place afterwards). */
static int slurp(loader *L, char **buf, size_t *len) {
    char *b;
    size_t n;
    if (bertc_read_file(L->path, L->o->max_bytes, &b, &n, L->err)) return L->err ? L->err->code : BERTC_ERR_IO;
    if (pool_adopt(L->pool, b, n + 1)) return nomem(L);
    /* A UTF-8 byte order mark is not part of the first field. */
    if (n >= 3 && memcmp(b, "\xEF\xBB\xBF", 3) == 0) {
        b += 3;
        n -= 3;
    }
    *buf = b;
    *len = n;
    return BERTC_OK;
}

typedef struct csv_fields {
    char **f;      /* field starts (NUL-terminated, in the buffer) */
    size_t *len;   /* field lengths */
    int n, cap;
} csv_fields;

/* Parses one RFC 4180 record starting at *pp, in place: quotes removed, "" -> ",
 * each field NUL-terminated. Advances *pp past the record's line end and *line by
 * the newlines consumed. Returns BERTC_OK, or a format error naming path:line. */
static int csv_record(loader *L, char **pp, char *end, char delim, long *line, csv_fields *fs) {
    char *r = *pp, *w = *pp;
    long start = *line;
    char wb[1200];
    fs->n = 0;
    for (;;) {
        if (fs->n == fs->cap) {
            int cap = fs->cap ? 2 * fs->cap : 16;
            if (cap > 1 << 20) return bertc_fail(L->err, BERTC_ERR_FORMAT, "%s: too many fields", where(wb, sizeof wb, L->path, start));
            char **f = realloc(fs->f, (size_t)cap * sizeof *f);
            if (f) fs->f = f;
            size_t *l = f ? realloc(fs->len, (size_t)cap * sizeof *l) : NULL;
            if (!f || !l) return nomem(L);
            fs->len = l;
            fs->cap = cap;
        }
        char *field = w;
        if (r < end && *r == '"') {
            r++;
            for (;;) {
                if (r >= end)
                    return bertc_fail(L->err, BERTC_ERR_FORMAT, "%s: quoted field is never closed",
                                      where(wb, sizeof wb, L->path, start));
                if (*r == '"') {
                    if (r + 1 < end && r[1] == '"') {
                        *w++ = '"';
                        r += 2;
                        continue;
                    }
                    r++;
                    break;
                }
                if (*r == '\n') (*line)++;
                *w++ = *r++;
            }
            if (r < end && *r == '\r' && (r + 1 == end || r[1] == '\n')) r++;
            if (r < end && *r != delim && *r != '\n')
                return bertc_fail(L->err, BERTC_ERR_FORMAT,
                                  "%s: unexpected character '%c' after a closing quote (a quote inside a quoted field is written \"\")",
                                  where(wb, sizeof wb, L->path, *line), *r);
        } else {
            while (r < end && *r != delim && *r != '\n') *w++ = *r++;
            if (r < end && *r == '\n' && w > field && w[-1] == '\r') w--;
            else if (r == end && w > field && w[-1] == '\r') w--;
        }
        /* w <= r here, and the buffer has a NUL at end, so this write stays inside. */
        int term = r < end ? *r : -1;
        *w = '\0';
        fs->f[fs->n] = field;
        fs->len[fs->n] = (size_t)(w - field);
        fs->n++;
        w++;
        if (r < end) r++;
        if (term == '\n') (*line)++;
        if (term != delim) break;
    }
    *pp = r;
    return BERTC_OK;
}

static int find_column(const csv_fields *h, const char *name) {
    for (int i = 0; i < h->n; i++)
        if (strcmp(h->f[i], name) == 0) return i;
    return -1;
}

static int read_csv(loader *L, char delim) {
    char *p, *end;
    size_t n;
    int rc = slurp(L, &p, &n);
    if (rc) return rc;
    end = p + n;
    csv_fields h = {0}, fs = {0};
    long line = 1;
    char wb[1200];
    int have_header = 0, ct = -1, cp = -1, cl = -1;
    while (p < end) {
        long at = line;
        csv_fields *cur = have_header ? &fs : &h;
        if ((rc = csv_record(L, &p, end, delim, &line, cur))) break;
        if (cur->n == 1 && cur->len[0] == 0) continue; /* a blank line */
        if (!have_header) {
            have_header = 1;
            const char *tc = L->o->text_column, *lc = L->o->label_column, *pc = L->o->text_pair_column;
            ct = find_column(&h, tc);
            cl = find_column(&h, lc);
            cp = pc ? find_column(&h, pc) : -1;
            const char *miss = ct < 0 ? tc : cl < 0 ? lc : (pc && cp < 0) ? pc : NULL;
            if (miss) {
                char cols[600];
                label_list(cols, sizeof cols, (const char *const *)h.f, h.n);
                rc = bertc_fail(L->err, BERTC_ERR_NOTFOUND, "%s: no column \"%s\" in the header (columns: %s)",
                                where(wb, sizeof wb, L->path, at), miss, cols);
                break;
            }
            continue;
        }
        if (fs.n != h.n) {
            rc = bertc_fail(L->err, BERTC_ERR_FORMAT, "%s: %d fields, but the header has %d",
                            where(wb, sizeof wb, L->path, at), fs.n, h.n);
            break;
        }
        if (L->o->multi_label) {
            /* the field split at label_separator (whole when none); empty parts skipped */
            const char *sep = L->o->label_separator;
            size_t sl = sep ? strlen(sep) : 0;
            char *q = fs.f[cl], *qend = fs.f[cl] + fs.len[cl];
            while (!rc && q < qend) {
                char *e = sl ? strstr(q, sep) : NULL;
                if (!e || e > qend) e = qend;
                char *a = q, *b = e;
                while (a < b && (*a == ' ' || *a == '\t')) a++;
                while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
                if (b > a) {
                    *b = '\0'; /* the field is NUL-terminated in place; parts become strings */
                    rc = ml_push(L, a);
                }
                q = e + sl;
                if (!sl) break;
            }
            if (!rc)
                rc = add_example(L, fs.f[ct], fs.len[ct], cp >= 0 ? fs.f[cp] : NULL, cp >= 0 ? fs.len[cp] : 0,
                                 NULL, at, -1, -1);
            if (rc) break;
            continue;
        }
        if (fs.len[cl] == 0) {
            rc = bertc_fail(L->err, BERTC_ERR_FORMAT, "%s: empty label in column \"%s\"",
                            where(wb, sizeof wb, L->path, at), L->o->label_column);
            break;
        }
        if ((rc = add_example(L, fs.f[ct], fs.len[ct], cp >= 0 ? fs.f[cp] : NULL, cp >= 0 ? fs.len[cp] : 0,
                              fs.f[cl], at, -1, -1)))
            break;
    }
    if (rc == BERTC_OK && !have_header)
        rc = bertc_fail(L->err, BERTC_ERR_FORMAT, "%s: empty file: no header row", L->path);
    free(h.f);
    free(h.len);
    free(fs.f);
    free(fs.len);
    return rc;
}

/* ---------------------------------------------------------------- JSON Lines */

static int json_str(loader *L, const cJSON *o, const char *key, long line, int required, const char **s, size_t *len) {
    char wb[1200];
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *s = NULL;
    *len = 0;
    if (!v) {
        if (!required) return BERTC_OK;
        return bertc_fail(L->err, BERTC_ERR_NOTFOUND, "%s: no \"%s\" key", where(wb, sizeof wb, L->path, line), key);
    }
    if (!cJSON_IsString(v) || !v->valuestring)
        return bertc_fail(L->err, BERTC_ERR_FORMAT, "%s: \"%s\" must be a string", where(wb, sizeof wb, L->path, line), key);
    *len = strlen(v->valuestring);
    if (!(*s = pool_strndup(L->pool, v->valuestring, *len))) return nomem(L);
    return BERTC_OK;
}

/* The next line of [*p, end) that is not blank, parsed as exactly one JSON
 * value, advancing *p past it and counting lines in *line: 1 with *obj an
 * object (the caller cJSON_Deletes it), 0 at the end of the buffer, -1 when
 * the line is not one JSON object (*obj NULL; *line is that line). */
static int jsonl_next(char **p, const char *end, long *line, cJSON **obj) {
    *obj = NULL;
    while (*p < end) {
        ++*line;
        char *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        *p = nl ? nl + 1 : (char *)end;
        size_t len = (size_t)(le - s);
        if (strspn(s, " \t\r") >= len) continue; /* a blank line */
        const char *jend = NULL;
        cJSON *o = cJSON_ParseWithLengthOpts(s, len, &jend, 0);
        if (o && jend && strspn(jend, " \t\r") < (size_t)(le - jend)) { /* more after the value */
            cJSON_Delete(o);
            o = NULL;
        }
        if (!cJSON_IsObject(o)) {
            cJSON_Delete(o);
            return -1;
        }
        *obj = o;
        return 1;
    }
    return 0;
}

int bertc_jsonl_each(const char *path, size_t max_bytes, const char *hint, bertc_jsonl_fn each, void *ctx,
                     bertc_err *err) {
    char *buf;
    size_t n;
    if (bertc_read_file(path, max_bytes, &buf, &n, err)) return err ? err->code : BERTC_ERR_IO;
    char *p = buf, *end = buf + n;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
    long line = 0;
    int rc = BERTC_OK;
    cJSON *o = NULL;
    int got;
    while (rc == BERTC_OK && (got = jsonl_next(&p, end, &line, &o)) != 0) {
        if (got < 0) {
            rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s:%ld: invalid JSON: each line must be one JSON object%s%s", path,
                            line, hint ? " " : "", hint ? hint : "");
            break;
        }
        rc = each(ctx, o, line);
        cJSON_Delete(o);
    }
    free(buf);
    return rc;
}

/* One JSONL object: an example (text, optional pair, label). */
static int jsonl_example(void *ctx, const cJSON *o, long line) {
    loader *L = ctx;
    char wb[1200];
    const char *text, *pair = NULL, *label = NULL;
    size_t tl, pl = 0, ll;
    int rc = json_str(L, o, L->o->text_column, line, 1, &text, &tl);
    if (!rc && L->o->text_pair_column) rc = json_str(L, o, L->o->text_pair_column, line, 1, &pair, &pl);
    if (!rc) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, L->o->label_column);
        if (!v) {
            rc = bertc_fail(L->err, BERTC_ERR_NOTFOUND, "%s: no \"%s\" key", where(wb, sizeof wb, L->path, line),
                            L->o->label_column);
        } else if (cJSON_IsArray(v) && !L->o->multi_label) {
            rc = bertc_fail(L->err, BERTC_ERR_FORMAT,
                            "%s: \"%s\" is a list: several labels per text need multi-label mode "
                            "(bertc train --multi-label; bertc eval of a multi-label model)",
                            where(wb, sizeof wb, L->path, line), L->o->label_column);
        } else if (L->o->multi_label) {
            /* a list of strings/integers, or one of them */
            const cJSON *it = cJSON_IsArray(v) ? v->child : v;
            for (; it && !rc; it = cJSON_IsArray(v) ? it->next : NULL) {
                char num[32];
                const char *nm = NULL;
                if (cJSON_IsNumber(it) && it->valuedouble == floor(it->valuedouble) &&
                    fabs(it->valuedouble) <= 9007199254740992.0) {
                    snprintf(num, sizeof num, "%lld", (long long)it->valuedouble);
                    nm = num;
                } else if (cJSON_IsString(it) && it->valuestring && it->valuestring[0]) {
                    nm = it->valuestring;
                }
                if (!nm) {
                    rc = bertc_fail(L->err, BERTC_ERR_FORMAT,
                                    "%s: \"%s\" must hold non-empty strings or integers",
                                    where(wb, sizeof wb, L->path, line), L->o->label_column);
                    break;
                }
                const char *copy = pool_strndup(L->pool, nm, strlen(nm));
                rc = copy ? ml_push(L, copy) : nomem(L);
            }
        } else if (cJSON_IsNumber(v)) {
            double d = v->valuedouble;
            if (!(d == floor(d) && fabs(d) <= 9007199254740992.0)) {
                rc = bertc_fail(L->err, BERTC_ERR_FORMAT, "%s: \"%s\" must be a string or an integer",
                                where(wb, sizeof wb, L->path, line), L->o->label_column);
            } else {
                char num[32];
                snprintf(num, sizeof num, "%lld", (long long)d);
                if (!(label = pool_strndup(L->pool, num, strlen(num)))) rc = nomem(L);
            }
        } else if (cJSON_IsString(v) && v->valuestring && v->valuestring[0]) {
            rc = json_str(L, o, L->o->label_column, line, 1, &label, &ll);
        } else {
            rc = bertc_fail(L->err, BERTC_ERR_FORMAT, "%s: \"%s\" must be a non-empty string or an integer",
                            where(wb, sizeof wb, L->path, line), L->o->label_column);
        }
    }
    if (!rc) rc = add_example(L, text, tl, pair, pl, label, line, -1, -1);
    return rc;
}

static int read_jsonl(loader *L) {
    return bertc_jsonl_each(L->path, L->o->max_bytes, NULL, jsonl_example, L, L->err);
}

/* ---------------------------------------------------------------- fastText */

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'; }

/* A line is: one or more leading "PREFIXname" words (the first is the label, the
 * others are parsed and skipped), then the text (the rest of the line, without a
 * trailing \r). */
static int read_fasttext(loader *L) {
    char *p, *end, wb[1200];
    size_t n;
    int rc = slurp(L, &p, &n);
    if (rc) return rc;
    end = p + n;
    const char *prefix = L->o->label_prefix;
    size_t pl = strlen(prefix);
    long line = 0;
    while (p < end) {
        line++;
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        char *s = p;
        p = nl ? nl + 1 : end;
        while (le > s && le[-1] == '\r') le--;
        *le = '\0';
        while (s < le && is_ws(*s)) s++;
        if (s == le) continue; /* a blank line */
        char *label = NULL;
        while (s < le && (size_t)(le - s) >= pl && memcmp(s, prefix, pl) == 0) {
            char *name = s + pl, *e = name;
            while (e < le && !is_ws(*e)) e++;
            if (e == name)
                return bertc_fail(L->err, BERTC_ERR_FORMAT, "%s: empty label after \"%s\"",
                                  where(wb, sizeof wb, L->path, line), prefix);
            s = e;
            while (s < le && is_ws(*s)) s++;
            if (!label || L->o->multi_label) {
                if (!label) label = name;
                *e = '\0'; /* e < le or e == le (already NUL) */
                if (L->o->multi_label && (rc = ml_push(L, name))) return rc;
            }
        }
        if (!label && !L->o->multi_label)
            return bertc_fail(L->err, BERTC_ERR_FORMAT, "%s: no \"%s\" label at the start of the line",
                              where(wb, sizeof wb, L->path, line), prefix);
        if ((rc = add_example(L, s, (size_t)(le - s), NULL, 0, label, line, -1, -1))) return rc;
    }
    return BERTC_OK;
}

/* ---------------------------------------------------------------- load */

void bertc_data_opts_default(bertc_data_opts *o) {
    memset(o, 0, sizeof *o);
    o->format = NULL;
    o->text_column = "text";
    o->text_pair_column = NULL;
    o->label_column = "label";
    o->label_prefix = "__label__";
    o->labels = NULL;
    o->num_labels = 0;
    o->max_bytes = (size_t)4 << 30;
    o->max_archive_bytes = DATA_MAX_ARCHIVE_BYTES;
    o->max_archive_entries = DATA_MAX_ARCHIVE_ENTRIES;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static const char *format_from_path(const char *path) {
    if (bertc_is_dir(path) || ends_with(path, ".tar.gz") || ends_with(path, ".tgz")) return "imdb";
    if (ends_with(path, ".csv")) return "csv";
    if (ends_with(path, ".tsv")) return "tsv";
    if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson") || ends_with(path, ".json")) return "jsonl";
    if (ends_with(path, ".txt") || ends_with(path, ".ft") || ends_with(path, ".fasttext")) return "fasttext";
    return NULL;
}

int bertc_data_load(bertc_dataset *ds, const char *spec, const char *default_split,
                    const bertc_data_opts *opts, bertc_err *err) {
    memset(ds, 0, sizeof *ds);
    bertc_data_opts defaults;
    if (!opts) {
        bertc_data_opts_default(&defaults);
        opts = &defaults;
    }
    if (!spec || !*spec) return bertc_fail(err, BERTC_ERR_ARG, "data: no file given");
    if (!opts->text_column || !opts->label_column || !opts->label_prefix || !*opts->label_prefix)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: text_column, label_column and label_prefix must be set", spec);

    /* PATH[:SPLIT]: a spec that exists as a whole is never split. */
    char split[8];
    int explicit_split = 0;
    size_t plen = strlen(spec);
    struct stat st;
    const char *colon = strrchr(spec, ':');
    if (stat(spec, &st) != 0 && colon && (strcmp(colon + 1, "train") == 0 || strcmp(colon + 1, "test") == 0)) {
        snprintf(split, sizeof split, "%s", colon + 1);
        plen = (size_t)(colon - spec);
        explicit_split = 1;
    } else {
        const char *d = default_split ? default_split : "train";
        if (strcmp(d, "train") != 0 && strcmp(d, "test") != 0)
            return bertc_fail(err, BERTC_ERR_ARG, "%s: split \"%s\" is not train or test", spec, d);
        snprintf(split, sizeof split, "%s", d);
    }
    char *path = strndup(spec, plen);
    if (!path) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", spec);
    if (stat(path, &st) != 0) {
        int e = errno;
        bertc_fail(err, BERTC_ERR_IO, "%s: cannot open: %s", path, strerror(e));
        free(path);
        return BERTC_ERR_IO;
    }
    const char *fmt = (opts->format && *opts->format && strcmp(opts->format, "auto") != 0) ? opts->format
                                                                                          : format_from_path(path);
    static const char *const known[] = {"imdb", "csv", "tsv", "jsonl", "fasttext"};
    int fi = -1;
    for (int i = 0; fmt && i < 5; i++)
        if (strcmp(fmt, known[i]) == 0) fi = i;
    if (fi < 0) {
        bertc_fail(err, BERTC_ERR_UNSUPPORTED,
                   "%s: unknown data format%s%s%s; name it: format imdb, csv, tsv, jsonl or fasttext", path,
                   fmt ? " \"" : " (from the file name)", fmt ? fmt : "", fmt ? "\"" : "");
        free(path);
        return BERTC_ERR_UNSUPPORTED;
    }
    if (explicit_split && fi != 0) {
        bertc_fail(err, BERTC_ERR_ARG, "%s: a :%s split only applies to aclImdb data, not %s", path, split, known[fi]);
        free(path);
        return BERTC_ERR_ARG;
    }

    loader L = {.o = opts, .path = path, .err = err};
    L.pool = calloc(1, sizeof *L.pool);
    int rc = L.pool ? BERTC_OK : nomem(&L);
    if (!rc) {
        switch (fi) {
        case 0: rc = S_ISDIR(st.st_mode) ? imdb_dir(&L, split, explicit_split) : imdb_archive(&L, split); break;
        case 1: rc = read_csv(&L, ','); break;
        case 2: rc = read_csv(&L, '\t'); break;
        case 3: rc = read_jsonl(&L); break;
        default: rc = read_fasttext(&L); break;
        }
    }
    if (!rc && L.n == 0)
        rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: no examples%s%s", path, fi == 0 ? " in split " : "",
                        fi == 0 ? split : "");
    if (!rc) rc = resolve_labels(&L, ds);
    if (!rc && fi == 0) qsort(L.ex, (size_t)L.n, sizeof *L.ex, cmp_imdb);
    free(L.raw);
    free(L.mraw);
    free(L.moff);
    if (rc) {
        free(L.ex);
        pool_free(L.pool);
        free(ds->ml_ids);
        free_labels(ds->labels, ds->num_labels);
        free(path);
        memset(ds, 0, sizeof *ds);
        return rc;
    }
    ds->ex = L.ex;
    ds->n = L.n;
    ds->pool = L.pool;
    ds->path = path;
    ds->has_pair = opts->text_pair_column != NULL;
    snprintf(ds->format, sizeof ds->format, "%s", known[fi]);
    if (fi == 0) snprintf(ds->split, sizeof ds->split, "%s", split);
    for (int i = 0; i < ds->n; i++) ds->text_bytes += ds->ex[i].len + ds->ex[i].pair_len;
    return BERTC_OK;
}

/* ---------------------------------------------------------------- labels after loading */

int bertc_data_map_labels(bertc_dataset *ds, const char *const *names, int k, bertc_err *err) {
    if (!names || k < 1) return bertc_fail(err, BERTC_ERR_ARG, "%s: no label set to map onto", ds->path ? ds->path : "data");
    int ints = all_int(names, k);
    int *map = malloc((size_t)(ds->num_labels > 0 ? ds->num_labels : 1) * sizeof *map);
    if (!map) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", ds->path);
    for (int j = 0; j < ds->num_labels; j++) {
        map[j] = match_label(names, k, ints, ds->labels[j]);
        if (map[j] >= 0) continue;
        long line = 0;
        for (int i = 0; i < ds->n && !line; i++)
            for (int k = 0; k < (ds->multi_label ? ds->ex[i].num_label_ids : 1); k++)
                if ((ds->multi_label ? ds->ex[i].label_ids[k] : ds->ex[i].label) == j) {
                    line = ds->ex[i].line;
                    break;
                }
        char wb[1200], lb[600];
        label_list(lb, sizeof lb, names, k);
        int rc = bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: label \"%s\" is not one of the %d training labels (%s)",
                            where(wb, sizeof wb, ds->path, line), ds->labels[j], k, lb);
        free(map);
        return rc;
    }
    char **copy = copy_labels(names, k);
    if (!copy) {
        free(map);
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", ds->path);
    }
    if (ds->multi_label) {
        for (size_t j = 0; j < ds->ml_count; j++) ds->ml_ids[j] = map[ds->ml_ids[j]];
        for (int i = 0; i < ds->n; i++) {
            bertc_example *e = &ds->ex[i];
            if (e->num_label_ids > 0) qsort((int *)e->label_ids, (size_t)e->num_label_ids, sizeof(int), cmp_int);
            e->label = e->num_label_ids > 0 ? e->label_ids[0] : -1;
        }
    } else {
        for (int i = 0; i < ds->n; i++) ds->ex[i].label = map[ds->ex[i].label];
    }
    free(map);
    free_labels(ds->labels, ds->num_labels);
    ds->labels = copy;
    ds->num_labels = k;
    ds->labels_are_ints = ints;
    return BERTC_OK;
}

void bertc_data_label_counts(const bertc_dataset *ds, long *counts) {
    for (int k = 0; k < ds->num_labels; k++) counts[k] = 0;
    for (int i = 0; i < ds->n; i++) {
        if (ds->multi_label)
            for (int k = 0; k < ds->ex[i].num_label_ids; k++) counts[ds->ex[i].label_ids[k]]++;
        else
            counts[ds->ex[i].label]++;
    }
}

void bertc_data_multi_hot(const bertc_dataset *ds, const bertc_example *e, float *row) {
    for (int k = 0; k < ds->num_labels; k++) row[k] = 0.0f;
    if (ds->multi_label)
        for (int k = 0; k < e->num_label_ids; k++) row[e->label_ids[k]] = 1.0f;
    else if (e->label >= 0 && e->label < ds->num_labels)
        row[e->label] = 1.0f;
}

int bertc_data_check_classes(const bertc_dataset *ds, bertc_err *err) {
    const char *path = ds->path ? ds->path : "data";
    if (ds->n == 0) return bertc_fail(err, BERTC_ERR_FORMAT, "%s: no examples", path);
    long *counts = calloc((size_t)ds->num_labels, sizeof *counts);
    if (!counts) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
    bertc_data_label_counts(ds, counts);
    int present = 0;
    for (int k = 0; k < ds->num_labels; k++) present += counts[k] > 0;
    free(counts);
    if (present >= 2) return BERTC_OK;
    if (ds->multi_label)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: only %d of the %d labels occur in the %d examples; training needs "
                          "at least two", path, present, ds->num_labels, ds->n);
    return bertc_fail(err, BERTC_ERR_FORMAT,
                      "%s: all %d examples have the label \"%s\"; training needs at least two classes", path,
                      ds->n, ds->labels[ds->ex[0].label]);
}

/* ---------------------------------------------------------------- shuffle, limit, split */

/* out = the examples exs[idx[0..m)] (exs[0..m) when idx is NULL) with their own
 * compact copy of the texts (one block) and of src's labels, path and format. */
static int examples_copy(bertc_dataset *out, const bertc_dataset *src, const bertc_example *exs, const int *idx,
                         int m, bertc_err *err) {
    const char *path = src->path ? src->path : "data";
    memset(out, 0, sizeof *out);
    size_t bytes = 1;
    for (int i = 0; i < m; i++) {
        const bertc_example *e = &exs[idx ? idx[i] : i];
        bytes += e->len + 1 + (e->pair ? e->pair_len + 1 : 0);
    }
    out->pool = calloc(1, sizeof *out->pool);
    out->ex = malloc((size_t)(m > 0 ? m : 1) * sizeof *out->ex);
    out->labels = copy_labels((const char *const *)src->labels, src->num_labels);
    out->path = strdup(path);
    char *block = out->pool ? pool_alloc(out->pool, bytes) : NULL;
    if (!block || !out->ex || !out->labels || !out->path) {
        free(out->ex);
        free_labels(out->labels, src->num_labels);
        free(out->path);
        pool_free(out->pool);
        memset(out, 0, sizeof *out);
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory copying %d examples", path, m);
    }
    if (src->multi_label) {
        size_t total = 0;
        for (int i = 0; i < m; i++) total += (size_t)exs[idx ? idx[i] : i].num_label_ids;
        out->ml_ids = malloc((total > 0 ? total : 1) * sizeof *out->ml_ids);
        if (!out->ml_ids) {
            free(out->ex);
            free_labels(out->labels, src->num_labels);
            free(out->path);
            pool_free(out->pool);
            memset(out, 0, sizeof *out);
            return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory copying %d examples", path, m);
        }
        out->ml_count = total;
        out->multi_label = 1;
    }
    size_t mlat = 0;
    for (int i = 0; i < m; i++) {
        bertc_example e = exs[idx ? idx[i] : i];
        if (src->multi_label) {
            if (e.num_label_ids) memcpy(out->ml_ids + mlat, e.label_ids, (size_t)e.num_label_ids * sizeof(int));
            e.label_ids = e.num_label_ids ? out->ml_ids + mlat : NULL;
            mlat += (size_t)e.num_label_ids;
        }
        memcpy(block, e.text, e.len);
        block[e.len] = '\0';
        e.text = block;
        block += e.len + 1;
        if (e.pair) {
            memcpy(block, e.pair, e.pair_len);
            block[e.pair_len] = '\0';
            e.pair = block;
            block += e.pair_len + 1;
        }
        out->ex[i] = e;
        out->text_bytes += e.len + e.pair_len;
    }
    out->n = m;
    out->num_labels = src->num_labels;
    out->labels_are_ints = src->labels_are_ints;
    out->has_pair = src->has_pair;
    memcpy(out->format, src->format, sizeof out->format);
    memcpy(out->split, src->split, sizeof out->split);
    return BERTC_OK;
}

static int subset_copy(bertc_dataset *out, const bertc_dataset *src, const int *idx, int m, bertc_err *err) {
    return examples_copy(out, src, src->ex, idx, m, err);
}

int bertc_data_from_examples(bertc_dataset *out, const bertc_dataset *like, const bertc_example *ex, int m,
                             bertc_err *err) {
    return examples_copy(out, like, ex, NULL, m, err);
}

static int *permutation(int n, uint64_t seed) {
    int *perm = malloc((size_t)(n > 0 ? n : 1) * sizeof *perm);
    if (!perm) return NULL;
    for (int i = 0; i < n; i++) perm[i] = i;
    bertc_rng r;
    bertc_rng_seed(&r, seed);
    bertc_rng_shuffle(&r, perm, n);
    return perm;
}

int bertc_data_shuffle_limit(bertc_dataset *ds, uint64_t seed, long limit, bertc_err *err) {
    const char *path = ds->path ? ds->path : "data";
    int *perm = permutation(ds->n, seed);
    if (!perm) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
    int rc = BERTC_OK;
    if (limit < 0 || limit >= ds->n) {
        bertc_example *ex = malloc((size_t)(ds->n > 0 ? ds->n : 1) * sizeof *ex);
        if (!ex) {
            rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
        } else {
            for (int i = 0; i < ds->n; i++) ex[i] = ds->ex[perm[i]];
            free(ds->ex);
            ds->ex = ex;
        }
    } else {
        bertc_dataset kept;
        rc = subset_copy(&kept, ds, perm, (int)limit, err);
        if (!rc) {
            bertc_data_free(ds);
            *ds = kept;
        }
    }
    free(perm);
    return rc;
}

int bertc_data_split(const bertc_dataset *ds, double fraction, uint64_t seed,
                     bertc_dataset *out_train, bertc_dataset *out_eval, bertc_err *err) {
    const char *path = ds->path ? ds->path : "data";
    memset(out_train, 0, sizeof *out_train);
    memset(out_eval, 0, sizeof *out_eval);
    if (!(fraction > 0 && fraction < 1))
        return bertc_fail(err, BERTC_ERR_ARG, "%s: validation fraction %g must be between 0 and 1", path, fraction);
    double want = ceil(fraction * (double)ds->n - 1e-9);
    int n_eval = (int)want;
    if (n_eval < 1 || n_eval >= ds->n)
        return bertc_fail(err, BERTC_ERR_ARG,
                          "%s: a validation fraction of %g of %d examples leaves %d for validation and %d for training; "
                          "each needs at least one",
                          path, fraction, ds->n, n_eval, ds->n - n_eval);
    int *perm = permutation(ds->n, seed);
    if (!perm) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
    int rc = subset_copy(out_eval, ds, perm, n_eval, err);
    if (!rc) rc = subset_copy(out_train, ds, perm + n_eval, ds->n - n_eval, err);
    if (rc) bertc_data_free(out_eval);
    free(perm);
    return rc;
}

void bertc_data_free(bertc_dataset *ds) {
    if (!ds) return;
    free(ds->ex);
    free(ds->ml_ids);
    free_labels(ds->labels, ds->num_labels);
    free(ds->path);
    pool_free(ds->pool);
    memset(ds, 0, sizeof *ds);
}

/* ---------------------------------------------------------------- writing */

typedef struct wbuf {
    char *p;
    size_t n, cap;
    int oom;
} wbuf;

static void wb_put(wbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}
static void wb_str(wbuf *b, const char *s) { wb_put(b, s, strlen(s)); }

/* An RFC 4180 field: quoted ("" inside) when it holds the delimiter, a quote,
 * CR or LF, as the reader above parses it. */
static void wb_field(wbuf *b, const char *s, size_t n, char delim) {
    int quote = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == delim || s[i] == '"' || s[i] == '\n' || s[i] == '\r') quote = 1;
    if (!quote) {
        wb_put(b, s, n);
        return;
    }
    wb_put(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') wb_put(b, "\"", 1);
        wb_put(b, s + i, 1);
    }
    wb_put(b, "\"", 1);
}

/* The label field of e: its name, or for multi-label the names joined by sep. */
static void wb_labels(wbuf *b, const bertc_dataset *ds, const bertc_example *e, const char *sep, char delim) {
    wbuf f = {0};
    if (ds->multi_label) {
        for (int k = 0; k < e->num_label_ids; k++) {
            if (k) wb_str(&f, sep);
            wb_str(&f, ds->labels[e->label_ids[k]]);
        }
    } else {
        wb_str(&f, ds->labels[e->label]);
    }
    if (f.oom) b->oom = 1;
    else wb_field(b, f.p ? f.p : "", f.n, delim);
    free(f.p);
}

static void wb_json(wbuf *b, cJSON *j) {
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;
    if (!s) b->oom = 1;
    else wb_str(b, s);
    free(s);
    cJSON_Delete(j);
}

static cJSON *label_json(const bertc_dataset *ds, int k) {
    if (!ds->labels_are_ints) return cJSON_CreateString(ds->labels[k]);
    return cJSON_CreateNumber(strtod(ds->labels[k], NULL));
}

int bertc_data_write(const bertc_dataset *ds, const char *path, const char *format, const bertc_data_opts *cols,
                     bertc_err *err) {
    bertc_data_opts defaults;
    if (!cols) {
        bertc_data_opts_default(&defaults);
        cols = &defaults;
    }
    const char *fmt = format && strcmp(format, "auto") != 0 ? format : format_from_path(path);
    if (!fmt || strcmp(fmt, "imdb") == 0)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: cannot write this format%s%s; name a .csv, .tsv, .jsonl or fastText .txt file",
                          path, fmt ? " " : "", fmt ? fmt : "");
    int csv = strcmp(fmt, "csv") == 0, tsv = strcmp(fmt, "tsv") == 0, jsonl = strcmp(fmt, "jsonl") == 0,
        ft = strcmp(fmt, "fasttext") == 0;
    if (!csv && !tsv && !jsonl && !ft)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: unknown data format %s; name it: csv, tsv, jsonl or fasttext", path, fmt);
    const char *sep = cols->label_separator ? cols->label_separator : ",";
    if ((csv || tsv) && ds->multi_label && !cols->label_separator)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: multi-label CSV/TSV needs a label separator (--label-separator)", path);
    if (ft && ds->has_pair)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: fastText lines have no second text; write CSV, TSV or JSON Lines", path);
    const char *text_col = cols->text_column ? cols->text_column : "text";
    const char *label_col = cols->label_column ? cols->label_column : "label";
    const char *pair_col = cols->text_pair_column ? cols->text_pair_column : "text_pair";
    const char *prefix = cols->label_prefix ? cols->label_prefix : "__label__";
    char delim = tsv ? '\t' : ',';
    wbuf b = {0};
    if (csv || tsv) {
        wb_field(&b, text_col, strlen(text_col), delim);
        if (ds->has_pair) {
            wb_put(&b, &delim, 1);
            wb_field(&b, pair_col, strlen(pair_col), delim);
        }
        wb_put(&b, &delim, 1);
        wb_field(&b, label_col, strlen(label_col), delim);
        wb_put(&b, "\n", 1);
    }
    for (int i = 0; i < ds->n; i++) {
        const bertc_example *e = &ds->ex[i];
        if (csv || tsv) {
            wb_field(&b, e->text, e->len, delim);
            if (ds->has_pair) {
                wb_put(&b, &delim, 1);
                wb_field(&b, e->pair ? e->pair : "", e->pair_len, delim);
            }
            wb_put(&b, &delim, 1);
            wb_labels(&b, ds, e, sep, delim);
        } else if (jsonl) {
            cJSON *o = cJSON_CreateObject();
            if (!o) b.oom = 1;
            else {
                cJSON_AddItemToObject(o, text_col, cJSON_CreateString(e->text));
                if (ds->has_pair) cJSON_AddItemToObject(o, pair_col, cJSON_CreateString(e->pair ? e->pair : ""));
                if (ds->multi_label) {
                    cJSON *a = cJSON_CreateArray();
                    for (int k = 0; a && k < e->num_label_ids; k++)
                        cJSON_AddItemToArray(a, label_json(ds, e->label_ids[k]));
                    cJSON_AddItemToObject(o, label_col, a);
                } else {
                    cJSON_AddItemToObject(o, label_col, label_json(ds, e->label));
                }
            }
            wb_json(&b, o);
        } else {
            int nl = ds->multi_label ? e->num_label_ids : 1;
            for (int k = 0; k < nl; k++) {
                wb_str(&b, prefix);
                wb_str(&b, ds->labels[ds->multi_label ? e->label_ids[k] : e->label]);
                wb_put(&b, " ", 1);
            }
            for (size_t c = 0; c < e->len; c++) /* one example a line: line breaks become spaces */
                wb_put(&b, e->text[c] == '\n' || e->text[c] == '\r' ? " " : e->text + c, 1);
        }
        wb_put(&b, "\n", 1);
    }
    if (b.oom) {
        free(b.p);
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory writing %d examples", path, ds->n);
    }
    int rc = bertc_write_file_atomic(path, b.p ? b.p : "", b.n, err);
    free(b.p);
    return rc;
}
