/* safetensors.c: the validated reader (mmap) and streaming writer of safetensors.h. */
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host (the format is little-endian)"
#endif

/* Integers in the header are JSON numbers, which cJSON holds as doubles: exact up
 * to 2^53. Anything larger cannot describe a real file anyway. */
#define ST_MAX_JSON_INT 9007199254740992.0

static const struct { const char *name; size_t size; } st_dtypes[ST_NUM_DTYPES] = {
    [ST_BOOL] = {"BOOL", 1}, [ST_U8] = {"U8", 1}, [ST_I8] = {"I8", 1},
    [ST_F8_E5M2] = {"F8_E5M2", 1}, [ST_F8_E4M3] = {"F8_E4M3", 1},
    [ST_I16] = {"I16", 2}, [ST_U16] = {"U16", 2}, [ST_F16] = {"F16", 2}, [ST_BF16] = {"BF16", 2},
    [ST_I32] = {"I32", 4}, [ST_U32] = {"U32", 4}, [ST_F32] = {"F32", 4},
    [ST_I64] = {"I64", 8}, [ST_U64] = {"U64", 8}, [ST_F64] = {"F64", 8},
};

const char *st_dtype_name(int dtype) {
    return (dtype >= 0 && dtype < ST_NUM_DTYPES) ? st_dtypes[dtype].name : "?";
}

size_t st_dtype_size(int dtype) {
    return (dtype >= 0 && dtype < ST_NUM_DTYPES) ? st_dtypes[dtype].size : 0;
}

static int st_dtype_from_name(const char *s) {
    for (int i = 0; i < ST_NUM_DTYPES; i++)
        if (strcmp(s, st_dtypes[i].name) == 0) return i;
    return -1;
}

/* ---- Conversions ---- */

float st_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);           /* inf or NaN (payload kept) */
    } else if (exp != 0) {
        bits = sign | ((exp + 112) << 23) | (man << 13);   /* normal: rebias 15 -> 127 */
    } else if (man == 0) {
        bits = sign;                                       /* signed zero */
    } else {
        /* subnormal: man * 2^-24, exact in fp32 */
        float v = (float)man * 0x1p-24f;
        return sign ? -v : v;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float st_bf16_to_f32(uint16_t b) {
    uint32_t bits = (uint32_t)b << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

int st_tensor_to_f32(float *dst, size_t n, const st_file *f, const st_tensor *t, bertc_err *err) {
    const char *path = st_path(f);
    if (t->numel != n)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: tensor %s: has %zu elements, expected %zu",
                          path, t->name, t->numel, n);
    const unsigned char *src = t->data;
    switch (t->dtype) {
    case ST_F32:
        if (n) memcpy(dst, src, n * 4);
        return BERTC_OK;
    case ST_F16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            dst[i] = st_f16_to_f32(h);
        }
        return BERTC_OK;
    case ST_BF16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, src + 2 * i, 2);
            dst[i] = st_bf16_to_f32(h);
        }
        return BERTC_OK;
    default:
        return bertc_fail(err, BERTC_ERR_UNSUPPORTED,
                          "%s: tensor %s: dtype %s is not a float type bertc reads (F32, F16, BF16)",
                          path, t->name, st_dtype_name(t->dtype));
    }
}

/* ---- Reader ---- */

typedef struct st_name_idx {
    const char *name;
    int idx;
} st_name_idx;

struct st_file {
    char *path;
    unsigned char *map;     /* the whole file, read-only */
    size_t map_len;
    size_t header_len;      /* N */
    size_t data_len;        /* map_len - 8 - N */
    int n;
    st_tensor *tensors;     /* n, in the header's order */
    st_name_idx *by_name;   /* n, sorted by name */
    int n_meta;
    char **meta_keys, **meta_vals;
};

const char *st_path(const st_file *f) { return f ? f->path : "(null)"; }
int st_num_tensors(const st_file *f) { return f ? f->n : 0; }
size_t st_header_len(const st_file *f) { return f ? f->header_len : 0; }
size_t st_data_len(const st_file *f) { return f ? f->data_len : 0; }

const st_tensor *st_tensor_at(const st_file *f, int i) {
    return (f && i >= 0 && i < f->n) ? &f->tensors[i] : NULL;
}

static int cmp_name_idx(const void *a, const void *b) {
    return strcmp(((const st_name_idx *)a)->name, ((const st_name_idx *)b)->name);
}

const st_tensor *st_find(const st_file *f, const char *name) {
    if (!f || !name || f->n == 0) return NULL;
    st_name_idx key = {name, 0};
    const st_name_idx *hit = bsearch(&key, f->by_name, (size_t)f->n, sizeof key, cmp_name_idx);
    return hit ? &f->tensors[hit->idx] : NULL;
}

const char *st_metadata(const st_file *f, const char *key) {
    if (!f) return NULL;
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_vals[i];
    return NULL;
}

void st_close(st_file *f) {
    if (!f) return;
    if (f->map && f->map_len) munmap(f->map, f->map_len);
    if (f->tensors)
        for (int i = 0; i < f->n; i++) free((char *)f->tensors[i].name);
    free(f->tensors);
    free(f->by_name);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_vals[i]);
    }
    free(f->meta_keys);
    free(f->meta_vals);
    free(f->path);
    free(f);
}

/* A JSON number that is a non-negative integer below 2^53. */
static int json_uint(const cJSON *j, uint64_t *out) {
    if (!cJSON_IsNumber(j)) return 0;
    double v = j->valuedouble;
    if (!(v >= 0 && v <= ST_MAX_JSON_INT) || v != floor(v)) return 0;
    *out = (uint64_t)v;
    return 1;
}

typedef struct st_range { uint64_t begin, end; int idx; } st_range;

static int cmp_range(const void *a, const void *b) {
    const st_range *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* Parses and checks one header entry into t (name not yet set). */
static int parse_entry(st_tensor *t, const cJSON *e, const char *path, size_t data_len,
                       uint64_t *begin, uint64_t *end, bertc_err *err) {
    const char *name = e->string;
    if (!cJSON_IsObject(e))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: tensor %s: entry is not a JSON object", path, name);
    int nomem = 0;
    const char *dup = bertc_json_duplicate_key(e, &nomem);
    if (nomem) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory reading the header", path);
    if (dup)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: tensor %s: duplicate key \"%s\"", path, name, dup);

    const cJSON *jd = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    if (!cJSON_IsString(jd))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: tensor %s: dtype missing or not a string", path, name);
    t->dtype = st_dtype_from_name(jd->valuestring);
    if (t->dtype < 0)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: tensor %s: unknown dtype \"%.32s\"", path, name,
                          jd->valuestring);

    const cJSON *js = cJSON_GetObjectItemCaseSensitive(e, "shape");
    if (!cJSON_IsArray(js))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: tensor %s: shape missing or not an array", path, name);
    int rank = cJSON_GetArraySize(js);
    if (rank > ST_MAX_RANK)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: tensor %s: shape has %d dimensions, at most %d allowed",
                          path, name, rank, ST_MAX_RANK);
    t->rank = rank;
    size_t numel = 1;
    int i = 0;
    for (const cJSON *d = js->child; d; d = d->next, i++) {
        uint64_t v;
        if (!json_uint(d, &v))
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: tensor %s: shape[%d] is not a non-negative integer",
                              path, name, i);
        t->shape[i] = (int64_t)v;
        if (bertc_mul_size(numel, (size_t)v, &numel) != 0)
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: tensor %s: element count overflows", path, name);
    }
    t->numel = numel;
    if (bertc_mul_size(numel, st_dtype_size(t->dtype), &t->nbytes) != 0)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: tensor %s: byte count overflows", path, name);

    const cJSON *jo = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsArray(jo) || cJSON_GetArraySize(jo) != 2 || !json_uint(jo->child, begin) ||
        !json_uint(jo->child->next, end))
        return bertc_fail(err, BERTC_ERR_FORMAT,
                          "%s: tensor %s: data_offsets must be [begin, end] of non-negative integers",
                          path, name);
    if (*end < *begin)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: tensor %s: data_offsets [%llu, %llu] end before they begin",
                          path, name, (unsigned long long)*begin, (unsigned long long)*end);
    if (*end > data_len)
        return bertc_fail(err, BERTC_ERR_FORMAT,
                          "%s: tensor %s: data_offsets [%llu, %llu] run past the end of the file "
                          "(data section is %zu bytes)",
                          path, name, (unsigned long long)*begin, (unsigned long long)*end, data_len);
    if (*end - *begin != t->nbytes) {
        char sh[256];
        bertc_shape_str(sh, sizeof sh, t->shape, t->rank);
        return bertc_fail(err, BERTC_ERR_FORMAT,
                          "%s: tensor %s: data_offsets span %llu bytes but dtype %s x shape %s needs %zu",
                          path, name, (unsigned long long)(*end - *begin), st_dtype_name(t->dtype), sh,
                          t->nbytes);
    }
    t->offset = (size_t)*begin;
    return BERTC_OK;
}

static int parse_metadata(st_file *f, const cJSON *m, const char *path, bertc_err *err) {
    if (!cJSON_IsObject(m))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: __metadata__ is not an object of strings", path);
    int nomem = 0;
    const char *dup = bertc_json_duplicate_key(m, &nomem);
    if (nomem) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory reading the header", path);
    if (dup) return bertc_fail(err, BERTC_ERR_FORMAT, "%s: __metadata__: duplicate key \"%s\"", path, dup);
    int n = cJSON_GetArraySize(m);
    if (n == 0) return BERTC_OK;
    f->meta_keys = calloc((size_t)n, sizeof *f->meta_keys);
    f->meta_vals = calloc((size_t)n, sizeof *f->meta_vals);
    if (!f->meta_keys || !f->meta_vals)
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory reading __metadata__", path);
    for (const cJSON *c = m->child; c; c = c->next) {
        if (!cJSON_IsString(c))
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: __metadata__: value of \"%s\" is not a string",
                              path, c->string);
        f->meta_keys[f->n_meta] = strdup(c->string);
        f->meta_vals[f->n_meta] = strdup(c->valuestring);
        f->n_meta++;
        if (!f->meta_keys[f->n_meta - 1] || !f->meta_vals[f->n_meta - 1])
            return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory reading __metadata__", path);
    }
    return BERTC_OK;
}

/* Validates the header JSON text (NUL-terminated, hlen bytes) and fills f. */
static int parse_header(st_file *f, const char *text, size_t hlen, bertc_err *err) {
    const char *path = f->path;
    /* well-formed UTF-8 and no NUL byte: bad is the first offending byte */
    const char *nul = memchr(text, 0, hlen);
    size_t bad = bertc_utf8_invalid_at(text, nul ? (size_t)(nul - text) : hlen);
    if (bad < hlen)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: header is not valid UTF-8 (byte %zu of %zu)", path,
                          bad, hlen);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: header is not valid JSON (near byte %zu of %zu)", path,
                          at, hlen);
    }
    int rc = BERTC_OK;
    st_range *ranges = NULL;
    if (!cJSON_IsObject(root)) {
        rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: header is not a JSON object", path);
        goto done;
    }
    int nomem = 0;
    const char *dup = bertc_json_duplicate_key(root, &nomem);
    if (nomem) { rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory reading the header", path); goto done; }
    if (dup) { rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: duplicate key \"%s\" in the header", path, dup); goto done; }

    int n = 0;
    for (const cJSON *c = root->child; c; c = c->next)
        if (strcmp(c->string, "__metadata__") != 0) n++;
    if (n > 0) {
        f->tensors = calloc((size_t)n, sizeof *f->tensors);
        f->by_name = calloc((size_t)n, sizeof *f->by_name);
        ranges = calloc((size_t)n, sizeof *ranges);
        if (!f->tensors || !f->by_name || !ranges) {
            rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory for %d tensors", path, n);
            goto done;
        }
    }
    for (const cJSON *c = root->child; c; c = c->next) {
        if (strcmp(c->string, "__metadata__") == 0) {
            if ((rc = parse_metadata(f, c, path, err)) != BERTC_OK) goto done;
            continue;
        }
        st_tensor *t = &f->tensors[f->n];
        uint64_t b = 0, e = 0;
        if ((rc = parse_entry(t, c, path, f->data_len, &b, &e, err)) != BERTC_OK) goto done;
        t->name = strdup(c->string);
        if (!t->name) { rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path); goto done; }
        t->data = f->map + 8 + f->header_len + t->offset;
        ranges[f->n] = (st_range){b, e, f->n};
        f->by_name[f->n] = (st_name_idx){t->name, f->n};
        f->n++;
    }

    /* The ranges, sorted by begin, must tile [0, data_len) exactly. */
    if (n > 0) qsort(ranges, (size_t)n, sizeof *ranges, cmp_range);
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        const st_range *r = &ranges[i];
        if (r->begin != at) {
            rc = bertc_fail(err, BERTC_ERR_FORMAT,
                            "%s: tensor %s: data_offsets [%llu, %llu] %s (previous data ends at %llu); "
                            "tensors must tile the data section with no gap and no overlap",
                            path, f->tensors[r->idx].name, (unsigned long long)r->begin,
                            (unsigned long long)r->end, r->begin > at ? "leave a gap" : "overlap",
                            (unsigned long long)at);
            goto done;
        }
        at = r->end;
    }
    if (at != f->data_len) {
        rc = bertc_fail(err, BERTC_ERR_FORMAT,
                        "%s: %llu trailing bytes after the last tensor (data section is %zu bytes, tensors "
                        "cover %llu)",
                        path, (unsigned long long)(f->data_len - at), f->data_len, (unsigned long long)at);
        goto done;
    }
    if (n > 0) qsort(f->by_name, (size_t)n, sizeof *f->by_name, cmp_name_idx);
done:
    free(ranges);
    cJSON_Delete(root);
    return rc;
}

int st_open(st_file **out, const char *path, bertc_err *err) {
    *out = NULL;
    st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
    }
    int rc = BERTC_OK;
    char *text = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        rc = bertc_fail(err, errno == ENOENT ? BERTC_ERR_NOTFOUND : BERTC_ERR_IO, "%s: cannot open: %s", path,
                        strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = bertc_fail(err, BERTC_ERR_IO, "%s: not a regular file", path);
        goto fail;
    }
    if (st.st_size < 8) {
        rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: file is %lld bytes, too short for the 8-byte header length",
                        path, (long long)st.st_size);
        goto fail;
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: file too large to map", path);
        goto fail;
    }
    f->map_len = (size_t)st.st_size;
    void *m = mmap(NULL, f->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        f->map_len = 0;
        rc = bertc_fail(err, BERTC_ERR_IO, "%s: mmap failed: %s", path, strerror(errno));
        goto fail;
    }
    f->map = m;
    close(fd);
    fd = -1;

    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | f->map[i];
    if (hlen >= ST_MAX_HEADER) {
        rc = bertc_fail(err, BERTC_ERR_FORMAT,
                        "%s: header length %llu is not below the 100000000-byte limit (corrupt or not safetensors)",
                        path, (unsigned long long)hlen);
        goto fail;
    }
    if (hlen > f->map_len - 8) {
        rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: header length %llu runs past the end of the file (%zu bytes)",
                        path, (unsigned long long)hlen, f->map_len);
        goto fail;
    }
    f->header_len = (size_t)hlen;
    f->data_len = f->map_len - 8 - f->header_len;
    text = malloc(f->header_len + 1);
    if (!text) {
        rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: cannot allocate %zu bytes for the header", path, f->header_len);
        goto fail;
    }
    memcpy(text, f->map + 8, f->header_len);
    text[f->header_len] = '\0';
    if ((rc = parse_header(f, text, f->header_len, err)) != BERTC_OK) goto fail;
    free(text);
    *out = f;
    return BERTC_OK;
fail:
    if (fd >= 0) close(fd);
    free(text);
    st_close(f);
    return rc;
}

/* ---- Writer ---- */

static int write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        size_t chunk = len > ((size_t)1 << 30) ? ((size_t)1 << 30) : len;
        ssize_t w = write(fd, p, chunk);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* cJSON prints integers >= 1e15 in exponent form, which no safetensors reader
 * accepts; offsets and dimensions stay below that. */
#define ST_MAX_WRITE_INT 999999999999999.0

int st_write(const char *path, const st_entry *entries, int n, bertc_err *err) {
    if (n < 0) return bertc_fail(err, BERTC_ERR_ARG, "%s: negative tensor count", path);
    int rc = BERTC_OK;
    char *json = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *meta = cJSON_AddObjectToObject(root, "__metadata__");
    if (!root || !meta || !cJSON_AddStringToObject(meta, "format", "pt")) goto nomem;

    size_t off = 0;
    for (int i = 0; i < n; i++) {
        const st_entry *e = &entries[i];
        if (!e->name || !*e->name || strcmp(e->name, "__metadata__") == 0) {
            rc = bertc_fail(err, BERTC_ERR_ARG, "%s: tensor %d: missing or reserved name", path, i);
            goto done;
        }
        if (e->dtype < 0 || e->dtype >= ST_NUM_DTYPES || e->rank < 0 || e->rank > ST_MAX_RANK) {
            rc = bertc_fail(err, BERTC_ERR_ARG, "%s: tensor %s: bad dtype or rank", path, e->name);
            goto done;
        }
        size_t numel = 1, nbytes, end;
        cJSON *t = cJSON_AddObjectToObject(root, e->name);
        cJSON *shape = t ? cJSON_AddArrayToObject(t, "shape") : NULL;
        if (!t || !shape || !cJSON_AddStringToObject(t, "dtype", st_dtype_name(e->dtype))) goto nomem;
        for (int d = 0; d < e->rank; d++) {
            if (e->shape[d] < 0 || (double)e->shape[d] > ST_MAX_WRITE_INT ||
                bertc_mul_size(numel, (size_t)e->shape[d], &numel) != 0) {
                rc = bertc_fail(err, BERTC_ERR_ARG, "%s: tensor %s: bad shape[%d]", path, e->name, d);
                goto done;
            }
            cJSON *num = cJSON_CreateNumber((double)e->shape[d]);
            if (!num || !cJSON_AddItemToArray(shape, num)) { cJSON_Delete(num); goto nomem; }
        }
        if (bertc_mul_size(numel, st_dtype_size(e->dtype), &nbytes) != 0 ||
            bertc_add_size(off, nbytes, &end) != 0 || (double)end > ST_MAX_WRITE_INT) {
            rc = bertc_fail(err, BERTC_ERR_ARG, "%s: tensor %s: too large", path, e->name);
            goto done;
        }
        if (nbytes > 0 && !e->data) {
            rc = bertc_fail(err, BERTC_ERR_ARG, "%s: tensor %s: no data", path, e->name);
            goto done;
        }
        double offs[2] = {(double)off, (double)end};
        cJSON *jo = cJSON_CreateDoubleArray(offs, 2);
        if (!jo || !cJSON_AddItemToObject(t, "data_offsets", jo)) { cJSON_Delete(jo); goto nomem; }
        off = end;
    }
    {
        /* the tensors are root's keys (beside __metadata__, refused above as a name) */
        int oom = 0;
        const char *twice = bertc_json_duplicate_key(root, &oom);
        if (oom) goto nomem;
        if (twice) {
            rc = bertc_fail(err, BERTC_ERR_ARG, "%s: tensor name %s given twice", path, twice);
            goto done;
        }
    }

    json = cJSON_PrintUnformatted(root);
    if (!json) goto nomem;
    size_t jlen = strlen(json), hlen = (jlen + 7) & ~(size_t)7;
    if (hlen >= ST_MAX_HEADER) {
        rc = bertc_fail(err, BERTC_ERR_ARG, "%s: header would be %zu bytes, over the limit", path, hlen);
        goto done;
    }
    char *padded = realloc(json, hlen + 8);
    if (!padded) goto nomem;
    json = padded;
    /* 8-byte little-endian length, then the JSON padded with spaces. */
    memmove(json + 8, json, jlen);
    memset(json + 8 + jlen, ' ', hlen - jlen);
    for (int i = 0; i < 8; i++) json[i] = (char)((uint64_t)hlen >> (8 * i));

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        rc = bertc_fail(err, BERTC_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        goto done;
    }
    int bad = write_all(fd, json, hlen + 8);
    for (int i = 0; i < n && !bad; i++) {
        size_t numel = 1;
        for (int d = 0; d < entries[i].rank; d++) numel *= (size_t)entries[i].shape[d];
        bad = write_all(fd, entries[i].data, numel * st_dtype_size(entries[i].dtype));
    }
    if (!bad) bad = fsync(fd);
    int e = errno;
    if (close(fd) != 0 && !bad) { bad = 1; e = errno; }
    if (bad) {
        unlink(path);
        rc = bertc_fail(err, BERTC_ERR_IO, "%s: write failed: %s", path, strerror(e));
    }
    goto done;
nomem:
    rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory building the header", path);
done:
    cJSON_free(json);
    cJSON_Delete(root);
    return rc;
}
