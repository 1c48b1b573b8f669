/* npy.h: reads the .npy files the fixture generators write (numpy format 1.x,
 * little-endian '<f4' or '<i4', C order), for tests only.
 *
 *     npy a;
 *     if (npy_load(&a, path, 'f')) ...   // 'f' float32, 'i' int32
 *     ... a.f[i], a.shape[0..a.ndim), a.n ...
 *     npy_free(&a);
 */
#ifndef BERTC_TESTS_NPY_H
#define BERTC_TESTS_NPY_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct npy {
    int ndim;
    long shape[8];
    size_t n;     /* number of elements */
    float *f;     /* data when loaded as 'f' */
    int *i;       /* data when loaded as 'i' */
} npy;

static inline void npy_free(npy *a) {
    free(a->f);
    free(a->i);
    memset(a, 0, sizeof *a);
}

/* Returns 0 on success, -1 (with a message on stderr) on anything unexpected. */
static inline int npy_load(npy *a, const char *path, char kind) {
    memset(a, 0, sizeof *a);
    FILE *fp = fopen(path, "rb");
    if (!fp) { fprintf(stderr, "npy: cannot open %s\n", path); return -1; }
    unsigned char pre[10];
    char hdr[4096];
    if (fread(pre, 1, 10, fp) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0 || pre[6] != 1) goto bad;
    size_t hl = pre[8] | (size_t)pre[9] << 8;
    if (hl >= sizeof hdr || fread(hdr, 1, hl, fp) != hl) goto bad;
    hdr[hl] = 0;
    const char *want = kind == 'f' ? "'<f4'" : "'<i4'";
    if (!strstr(hdr, want) || !strstr(hdr, "'fortran_order': False")) goto bad;
    const char *s = strstr(hdr, "'shape': (");
    if (!s) goto bad;
    s += 10;
    a->n = 1;
    while (*s && *s != ')') {
        char *end;
        long d = strtol(s, &end, 10);
        if (end == s || d < 0 || a->ndim == 8) goto bad;
        a->shape[a->ndim++] = d;
        a->n *= (size_t)d;
        s = end;
        while (*s == ',' || *s == ' ') s++;
    }
    void *data = malloc(a->n * 4 + 1);
    if (!data || fread(data, 4, a->n, fp) != a->n) { free(data); goto bad; }
    if (kind == 'f') a->f = data; else a->i = data;
    fclose(fp);
    return 0;
bad:
    fprintf(stderr, "npy: %s: not a little-endian C-order %s array\n", path, kind == 'f' ? "float32" : "int32");
    fclose(fp);
    return -1;
}

#endif
