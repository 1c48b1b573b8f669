/* report.c: RUN_DIR/report.html from the files of a run directory.
 *
 * Order of work: load and type-check every input first (so a malformed file
 * fails before anything is written), then draw the charts into RUN_DIR/report/,
 * then build the page in memory, embedding each PNG as base64, and write it
 * atomically. The file format is documented in docs/run-dir.md. */
#include "report.h"
#include "chart.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_JSON_BYTES ((size_t)256 << 20) /* run.json, data.json, eval.json, attention.json */
#define MAX_LINE_RECORDS 50000000L         /* lines in a .jsonl file */
#define N_EXAMPLES 5                       /* correct and wrong predictions shown, each */
#define REVIEW_CHARS 400                   /* characters of a review shown in a table */

/* ---- string builder -------------------------------------------------------- */

typedef struct sb {
    char *p;
    size_t len, cap;
    int oom;
} sb;

static void sb_putn(sb *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->len + n + 1) {
            if (cap > SIZE_MAX / 2) { b->oom = 1; return; }
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(sb *b, const char *s) { sb_putn(b, s, strlen(s)); }

__attribute__((format(printf, 2, 3))) static void sb_printf(sb *b, const char *fmt, ...) {
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) { b->oom = 1; return; }
    if ((size_t)n < sizeof tmp) { sb_putn(b, tmp, (size_t)n); return; }
    /* Longer than the stack buffer: format again into the heap. */
    char *big = malloc((size_t)n + 1);
    if (!big) { b->oom = 1; return; }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_putn(b, big, (size_t)n);
    free(big);
}

/* HTML-escapes s, at most max_chars code points (0: all), "..." when cut.
 * Control characters other than newline and tab are dropped. */
static void sb_esc_n(sb *b, const char *s, size_t max_chars) {
    if (!s) return;
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xC0) != 0x80) {
            if (max_chars && chars == max_chars) { sb_puts(b, "&hellip;"); return; }
            chars++;
        }
        switch (*p) {
        case '&': sb_puts(b, "&amp;"); break;
        case '<': sb_puts(b, "&lt;"); break;
        case '>': sb_puts(b, "&gt;"); break;
        case '"': sb_puts(b, "&quot;"); break;
        case '\'': sb_puts(b, "&#39;"); break;
        default:
            if (*p < 0x20 && *p != '\n' && *p != '\t') break;
            sb_putn(b, (const char *)p, 1);
        }
    }
}
static void sb_esc(sb *b, const char *s) { sb_esc_n(b, s, 0); }

static void sb_base64(sb *b, const unsigned char *d, size_t n) {
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4];
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)d[i] << 16 | (i + 1 < n ? (unsigned)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
        q[0] = A[v >> 18 & 63];
        q[1] = A[v >> 12 & 63];
        q[2] = i + 1 < n ? A[v >> 6 & 63] : '=';
        q[3] = i + 2 < n ? A[v & 63] : '=';
        sb_putn(b, q, 4);
    }
}

/* ---- typed JSON access ----------------------------------------------------- */

/* Where a JSON value came from, for messages: "dir/eval.json" or "dir/log.jsonl:12". */
typedef struct where {
    const char *path;
    long line; /* 0 for a whole-file JSON */
} where;

static int bad(bertc_err *err, const where *w, const char *key, const char *want) {
    if (w->line)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s:%ld: \"%s\" should be %s", w->path, w->line, key, want);
    return bertc_fail(err, BERTC_ERR_FORMAT, "%s: \"%s\" should be %s", w->path, key, want);
}

/* A number, or NaN when the key is absent or null. */
static int get_num(const cJSON *o, const char *key, double *v, const where *w, bertc_err *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    *v = NAN;
    if (!it || cJSON_IsNull(it)) return BERTC_OK;
    if (!cJSON_IsNumber(it)) return bad(err, w, key, "a number");
    *v = it->valuedouble;
    return BERTC_OK;
}

/* A string (owned by o), or NULL when absent or null. */
static int get_str(const cJSON *o, const char *key, const char **v, const where *w, bertc_err *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    *v = NULL;
    if (!it || cJSON_IsNull(it)) return BERTC_OK;
    if (!cJSON_IsString(it)) return bad(err, w, key, "a string");
    *v = it->valuestring;
    return BERTC_OK;
}

/* An array of numbers (null entries become NaN) into a malloc'd *v; NULL when absent. */
static int get_nums(const cJSON *o, const char *key, double **v, size_t *n, const where *w, bertc_err *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    *v = NULL;
    *n = 0;
    if (!it || cJSON_IsNull(it)) return BERTC_OK;
    if (!cJSON_IsArray(it)) return bad(err, w, key, "an array of numbers");
    size_t cnt = (size_t)cJSON_GetArraySize(it), i = 0;
    double *a = malloc(sizeof(double) * (cnt ? cnt : 1));
    if (!a) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: \"%s\": out of memory", w->path, key);
    const cJSON *e;
    cJSON_ArrayForEach(e, it) {
        if (cJSON_IsNull(e)) a[i++] = NAN;
        else if (cJSON_IsNumber(e)) a[i++] = e->valuedouble;
        else { free(a); return bad(err, w, key, "an array of numbers"); }
    }
    *v = a;
    *n = cnt;
    return BERTC_OK;
}

/* An array of strings: a malloc'd array of pointers into o; NULL when absent. */
static int get_strs(const cJSON *o, const char *key, const char ***v, size_t *n, const where *w, bertc_err *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    *v = NULL;
    *n = 0;
    if (!it || cJSON_IsNull(it)) return BERTC_OK;
    if (!cJSON_IsArray(it)) return bad(err, w, key, "an array of strings");
    size_t cnt = (size_t)cJSON_GetArraySize(it), i = 0;
    const char **a = malloc(sizeof(char *) * (cnt ? cnt : 1));
    if (!a) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: \"%s\": out of memory", w->path, key);
    const cJSON *e;
    cJSON_ArrayForEach(e, it) {
        if (!cJSON_IsString(e)) { free(a); return bad(err, w, key, "an array of strings"); }
        a[i++] = e->valuestring;
    }
    *v = a;
    *n = cnt;
    return BERTC_OK;
}

/* An array of equally long arrays of numbers, row-major into a malloc'd *v. */
static int get_matrix(const cJSON *o, const char *key, double **v, size_t *rows, size_t *cols,
                      const where *w, bertc_err *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    *v = NULL;
    *rows = *cols = 0;
    if (!it || cJSON_IsNull(it)) return BERTC_OK;
    if (!cJSON_IsArray(it)) return bad(err, w, key, "an array of rows (arrays of numbers)");
    size_t R = (size_t)cJSON_GetArraySize(it), C = 0, i = 0;
    if (R) {
        const cJSON *first = cJSON_GetArrayItem(it, 0);
        if (!cJSON_IsArray(first)) return bad(err, w, key, "an array of rows (arrays of numbers)");
        C = (size_t)cJSON_GetArraySize(first);
    }
    size_t total;
    if (bertc_mul_size(R, C, &total) || total > ((size_t)1 << 26))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: \"%s\" is too large (%zu x %zu)", w->path, key, R, C);
    double *a = malloc(sizeof(double) * (total ? total : 1));
    if (!a) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: \"%s\": out of memory", w->path, key);
    const cJSON *row;
    size_t r = 0;
    cJSON_ArrayForEach(row, it) {
        if (!cJSON_IsArray(row) || (size_t)cJSON_GetArraySize(row) != C) {
            free(a);
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: \"%s\": row %zu is not an array of %zu numbers",
                              w->path, key, r, C);
        }
        r++;
        const cJSON *e;
        cJSON_ArrayForEach(e, row) {
            if (cJSON_IsNull(e)) a[i++] = NAN;
            else if (cJSON_IsNumber(e)) a[i++] = e->valuedouble;
            else { free(a); return bad(err, w, key, "an array of rows (arrays of numbers)"); }
        }
    }
    *v = a;
    *rows = R;
    *cols = C;
    return BERTC_OK;
}

/* Loads dir/name as one JSON object. A missing file is not an error: *out stays NULL. */
static int load_json(const char *dir, const char *name, cJSON **out, char *path, size_t pcap, bertc_err *err) {
    *out = NULL;
    if (bertc_path_join(path, pcap, dir, name) != 0)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    if (access(path, F_OK) != 0) return BERTC_OK;
    char *text = NULL;
    size_t len = 0;
    int rc = bertc_read_file(path, MAX_JSON_BYTES, &text, &len, err);
    if (rc) return rc;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root || !cJSON_IsObject(root)) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        cJSON_Delete(root);
        free(text);
        return bertc_fail(err, BERTC_ERR_FORMAT, root ? "%s: expected a JSON object at the top"
                                                      : "%s: invalid JSON near byte %zu", path, off);
    }
    free(text);
    *out = root;
    return BERTC_OK;
}

/* Calls fn on each non-blank line of dir/name parsed as a JSON object.
 * *present is 0 when the file does not exist. */
typedef int (*line_fn)(void *ctx, const cJSON *o, const where *w, bertc_err *err);

static int each_jsonl(const char *dir, const char *name, char *path, size_t pcap, int *present,
                      line_fn fn, void *ctx, bertc_err *err) {
    *present = 0;
    if (bertc_path_join(path, pcap, dir, name) != 0)
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    if (access(path, F_OK) != 0) return BERTC_OK;
    FILE *f = fopen(path, "rb");
    if (!f) return bertc_fail(err, BERTC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    *present = 1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    where w = {path, 0};
    int rc = BERTC_OK;
    while (rc == BERTC_OK && (n = getline(&line, &cap, f)) >= 0) {
        w.line++;
        if (w.line > MAX_LINE_RECORDS) {
            rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: more than %ld lines", path, MAX_LINE_RECORDS);
            break;
        }
        size_t k = 0;
        while (k < (size_t)n && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r' || line[k] == '\n')) k++;
        if (k == (size_t)n) continue;
        cJSON *o = cJSON_ParseWithLength(line, (size_t)n);
        if (!o || !cJSON_IsObject(o)) {
            rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s:%ld: not a JSON object", path, w.line);
        } else {
            rc = fn(ctx, o, &w, err);
        }
        cJSON_Delete(o);
    }
    if (rc == BERTC_OK && ferror(f)) rc = bertc_fail(err, BERTC_ERR_IO, "%s: read error", path);
    free(line);
    fclose(f);
    return rc;
}

/* ---- growable number lists ------------------------------------------------- */

typedef struct dlist {
    double *v;
    size_t n, cap;
} dlist;

static int dl_push(dlist *l, double x) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        double *v = realloc(l->v, cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = x;
    return 0;
}

/* ---- log.jsonl ------------------------------------------------------------- */

typedef struct logdata {
    dlist tstep, tloss;                 /* training entries */
    dlist estep, eepoch, eloss, eacc, ef1; /* evaluation entries */
    dlist eprec, erec;                  /* evaluation entries (token classification) */
} logdata;

static int log_line(void *ctx, const cJSON *o, const where *w, bertc_err *err) {
    logdata *L = ctx;
    double step, epoch, loss, eloss, eacc, ef1, eprec, erec;
    int rc;
    if ((rc = get_num(o, "step", &step, w, err)) || (rc = get_num(o, "epoch", &epoch, w, err)) ||
        (rc = get_num(o, "loss", &loss, w, err)) || (rc = get_num(o, "eval_loss", &eloss, w, err)) ||
        (rc = get_num(o, "eval_accuracy", &eacc, w, err)) || (rc = get_num(o, "eval_f1", &ef1, w, err)) ||
        (rc = get_num(o, "eval_precision", &eprec, w, err)) || (rc = get_num(o, "eval_recall", &erec, w, err)))
        return rc;
    int is_eval = cJSON_HasObjectItem(o, "eval_loss") || cJSON_HasObjectItem(o, "eval_accuracy");
    int oom = 0;
    if (is_eval) {
        oom |= dl_push(&L->estep, step) | dl_push(&L->eepoch, epoch) | dl_push(&L->eloss, eloss) |
               dl_push(&L->eacc, eacc) | dl_push(&L->ef1, ef1) | dl_push(&L->eprec, eprec) |
               dl_push(&L->erec, erec);
    } else if (cJSON_HasObjectItem(o, "loss")) {
        oom |= dl_push(&L->tstep, step) | dl_push(&L->tloss, loss);
    } /* other records (a final train summary, say) are ignored */
    if (oom) return bertc_fail(err, BERTC_ERR_NOMEM, "%s:%ld: out of memory", w->path, w->line);
    return BERTC_OK;
}

static void log_free(logdata *L) {
    dlist *all[] = {&L->tstep, &L->tloss, &L->estep, &L->eepoch, &L->eloss, &L->eacc, &L->ef1, &L->eprec, &L->erec};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]->v);
}

/* ---- predictions.jsonl ----------------------------------------------------- */

typedef struct example {
    char *text, *label, *pred;
    double score;
} example;

typedef struct preddata {
    const char *const *labels; /* names for integer labels, may be NULL */
    size_t nlabels;
    long total, correct;
    int multi;                 /* 1: some line has label lists (a multi-label eval) */
    example right[N_EXAMPLES], wrong[N_EXAMPLES];
    size_t nright, nwrong;
} preddata;

/* One label as a string, or an integer index into labels; NULL when neither. */
static const char *label_name(const cJSON *it, const preddata *P, char *buf, size_t cap) {
    if (cJSON_IsString(it)) return it->valuestring;
    if (cJSON_IsNumber(it) && it->valuedouble == floor(it->valuedouble) && fabs(it->valuedouble) < 1e9) {
        long i = (long)it->valuedouble;
        if (P->labels && i >= 0 && (size_t)i < P->nlabels) return P->labels[i];
        snprintf(buf, cap, "%ld", i);
        return buf;
    }
    return NULL;
}

/* A label given as a string or an integer index into labels, or (multi-label)
 * a list of them, shown joined by ", " ("(none)" for an empty list). Returns a
 * malloc'd string or NULL with err set. */
static char *label_text(const cJSON *o, const char *key, const preddata *P, const where *w, bertc_err *err) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    char buf[64];
    if (cJSON_IsArray(it)) {
        sb b = {0};
        const cJSON *e;
        cJSON_ArrayForEach(e, it) {
            const char *s = label_name(e, P, buf, sizeof buf);
            if (!s) {
                free(b.p);
                bad(err, w, key, "a label name or index, or a list of them");
                return NULL;
            }
            if (b.len) sb_puts(&b, ", ");
            sb_puts(&b, s);
        }
        if (!b.len) sb_puts(&b, "(none)");
        char *r = b.oom ? NULL : strdup(b.p); /* the builder's block is 64 KiB */
        free(b.p);
        if (!r) bertc_fail(err, BERTC_ERR_NOMEM, "%s:%ld: out of memory", w->path, w->line);
        return r;
    }
    const char *s = label_name(it, P, buf, sizeof buf);
    if (!s) {
        bad(err, w, key, "a label name or index, or a list of them");
        return NULL;
    }
    char *r = strdup(s);
    if (!r) bertc_fail(err, BERTC_ERR_NOMEM, "%s:%ld: out of memory", w->path, w->line);
    return r;
}

/* Two label lists hold the same labels (in any order; lists have no repeats). */
static int same_labels(const cJSON *a, const cJSON *b) {
    if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) return 0;
    const cJSON *x, *y;
    cJSON_ArrayForEach(x, a) {
        int found = 0;
        cJSON_ArrayForEach(y, b) found |= cJSON_Compare(x, y, 1);
        if (!found) return 0;
    }
    return 1;
}

static int pred_line(void *ctx, const cJSON *o, const where *w, bertc_err *err) {
    preddata *P = ctx;
    const char *text;
    double score;
    int rc;
    if ((rc = get_str(o, "text", &text, w, err)) || (rc = get_num(o, "score", &score, w, err))) return rc;
    char *label = label_text(o, "label", P, w, err);
    if (!label) return err ? err->code : BERTC_ERR_FORMAT;
    char *pred = label_text(o, "pred", P, w, err);
    if (!pred) { free(label); return err ? err->code : BERTC_ERR_FORMAT; }
    const cJSON *jl = cJSON_GetObjectItemCaseSensitive(o, "label"), *jp = cJSON_GetObjectItemCaseSensitive(o, "pred");
    int lists = cJSON_IsArray(jl) && cJSON_IsArray(jp);
    if (cJSON_IsArray(jl) != cJSON_IsArray(jp)) {
        free(label);
        free(pred);
        return bad(err, w, cJSON_IsArray(jl) ? "pred" : "label", "a list, as the other one is (multi-label)");
    }
    P->multi |= lists;
    /* multi-label: right when the predicted set is exactly the true set */
    int ok = lists ? same_labels(jl, jp) : strcmp(label, pred) == 0;
    P->total++;
    P->correct += ok;
    example *slot = NULL;
    if (ok && P->nright < N_EXAMPLES) slot = &P->right[P->nright++];
    if (!ok && P->nwrong < N_EXAMPLES) slot = &P->wrong[P->nwrong++];
    if (!slot) { free(label); free(pred); return BERTC_OK; }
    slot->text = strdup(text ? text : "");
    slot->label = label;
    slot->pred = pred;
    slot->score = score;
    if (!slot->text) return bertc_fail(err, BERTC_ERR_NOMEM, "%s:%ld: out of memory", w->path, w->line);
    return BERTC_OK;
}

static void pred_free(preddata *P) {
    for (size_t i = 0; i < P->nright; i++) { free(P->right[i].text); free(P->right[i].label); free(P->right[i].pred); }
    for (size_t i = 0; i < P->nwrong; i++) { free(P->wrong[i].text); free(P->wrong[i].label); free(P->wrong[i].pred); }
}

/* ---- the report ------------------------------------------------------------ */

typedef struct rep {
    const char *dir;
    char figdir[4096];
    sb html;
    bertc_err *err;
} rep;

/* Path of figure `name` in the report folder. */
static const char *fig_path(rep *r, const char *name) {
    static char p[8192];
    snprintf(p, sizeof p, "%s/%s", r->figdir, name);
    return p;
}

static void fig_remove(rep *r, const char *name) { unlink(fig_path(r, name)); }

/* Appends <figure> with the PNG at report/name embedded as a data: URI. */
static int embed(rep *r, const char *name, const char *alt) {
    char *png = NULL;
    size_t len = 0;
    int rc = bertc_read_file(fig_path(r, name), (size_t)64 << 20, &png, &len, r->err);
    if (rc) return rc;
    sb_puts(&r->html, "<figure><img class=\"chart\" id=\"fig-");
    for (const char *p = name; *p && *p != '.'; p++) sb_putn(&r->html, p, 1);
    sb_puts(&r->html, "\" alt=\"");
    sb_esc(&r->html, alt);
    sb_puts(&r->html, "\" src=\"data:image/png;base64,");
    sb_base64(&r->html, (const unsigned char *)png, len);
    sb_puts(&r->html, "\"></figure>\n");
    free(png);
    return BERTC_OK;
}

static void missing(rep *r, const char *file, const char *how) {
    sb_puts(&r->html, "<p class=\"missing\">Not in this run: <code>");
    sb_esc(&r->html, file);
    sb_puts(&r->html, "</code> is missing or has no such entries (");
    sb_esc(&r->html, how);
    sb_puts(&r->html, ").</p>\n");
}

/* The text field key of obj (a report as bertc eval printed it), escaped,
 * between open and close; nothing when obj or the field is absent. *shown
 * (when not NULL): 1 when it was written. */
static int text_block(rep *r, const cJSON *obj, const char *key, const char *open, const char *close, int *shown,
                      const where *w) {
    const char *text = NULL;
    int rc = obj ? get_str(obj, key, &text, w, r->err) : BERTC_OK;
    if (shown) *shown = text != NULL;
    if (rc || !text) return rc;
    sb_puts(&r->html, open);
    sb_esc(&r->html, text);
    sb_puts(&r->html, close);
    return BERTC_OK;
}

/* eval.json's report_text, folded under the table it repeats */
#define AS_TEXT_OPEN "<details><summary>As text</summary><pre>"
#define AS_TEXT_CLOSE "</pre></details>\n"

static void h2(rep *r, const char *id, const char *title) {
    sb_printf(&r->html, "<section id=\"%s\">\n<h2>", id);
    sb_esc(&r->html, title);
    sb_puts(&r->html, "</h2>\n");
}

static void fmt_num(char *buf, size_t cap, double v, const char *fmt) {
    if (!isfinite(v)) snprintf(buf, cap, "&ndash;");
    else snprintf(buf, cap, fmt, v);
}

static void fmt_duration(char *buf, size_t cap, double s) {
    if (!isfinite(s) || s < 0) snprintf(buf, cap, "&ndash;");
    else if (s < 60) snprintf(buf, cap, "%.1f s", s);
    else if (s < 3600) snprintf(buf, cap, "%dm %02ds", (int)(s / 60), (int)fmod(s, 60));
    else snprintf(buf, cap, "%dh %02dm %02ds", (int)(s / 3600), (int)fmod(s / 60, 60), (int)fmod(s, 60));
}

/* A JSON value as table text: strings raw, everything else as compact JSON. */
static void sb_json_value(sb *b, const cJSON *v) {
    if (cJSON_IsString(v)) { sb_esc(b, v->valuestring); return; }
    char *s = cJSON_PrintUnformatted(v);
    if (s) sb_esc_n(b, s, 300);
    else b->oom = 1;
    free(s);
}

/* Summary line and run settings (run.json). */
static int section_run(rep *r, const cJSON *run, const char *path) {
    where w = {path, 0};
    h2(r, "settings", "Run settings");
    if (!run) { missing(r, "run.json", "written by bertc train"); sb_puts(&r->html, "</section>\n"); return BERTC_OK; }
    const cJSON *settings = cJSON_GetObjectItemCaseSensitive(run, "settings");
    if (settings && !cJSON_IsObject(settings) && !cJSON_IsNull(settings))
        return bad(r->err, &w, "settings", "an object");
    double wall, sps;
    int rc;
    if ((rc = get_num(run, "wall_seconds", &wall, &w, r->err)) ||
        (rc = get_num(run, "train_samples_per_second", &sps, &w, r->err)))
        return rc;
    char buf[128];
    sb_puts(&r->html, "<table class=\"kv\" id=\"run-table\">\n");
    const cJSON *it;
    cJSON_ArrayForEach(it, run) {
        if (strcmp(it->string, "settings") == 0) continue;
        sb_puts(&r->html, "<tr><th>");
        sb_esc(&r->html, it->string);
        sb_puts(&r->html, "</th><td>");
        if (strcmp(it->string, "wall_seconds") == 0) {
            fmt_duration(buf, sizeof buf, wall);
            sb_puts(&r->html, buf);
        } else if (cJSON_IsNumber(it)) {
            fmt_num(buf, sizeof buf, it->valuedouble, "%.6g");
            sb_puts(&r->html, buf);
        } else {
            sb_json_value(&r->html, it);
        }
        sb_puts(&r->html, "</td></tr>\n");
    }
    sb_puts(&r->html, "</table>\n");
    if (cJSON_IsObject(settings)) {
        sb_puts(&r->html, "<h3>Settings</h3>\n<table class=\"kv\" id=\"settings-table\">\n");
        cJSON_ArrayForEach(it, settings) {
            sb_puts(&r->html, "<tr><th>");
            sb_esc(&r->html, it->string);
            sb_puts(&r->html, "</th><td>");
            sb_json_value(&r->html, it);
            sb_puts(&r->html, "</td></tr>\n");
        }
        sb_puts(&r->html, "</table>\n");
    }
    sb_puts(&r->html, "</section>\n");
    return BERTC_OK;
}

/* Label distribution, sample reviews, token lengths (data.json). */
static int section_data(rep *r, const cJSON *data, const char *path) {
    where w = {path, 0};
    int rc = BERTC_OK;
    const char **labels = NULL;
    double *counts = NULL, *edges = NULL, *hc = NULL;
    size_t nl = 0, nc = 0, ne = 0, nh = 0;

    h2(r, "labels", "Label distribution");
    if (data && ((rc = get_strs(data, "labels", &labels, &nl, &w, r->err)) ||
                 (rc = get_nums(data, "counts", &counts, &nc, &w, r->err))))
        goto done;
    if (counts && labels && nl != nc) {
        rc = bertc_fail(r->err, BERTC_ERR_FORMAT, "%s: \"labels\" has %zu entries but \"counts\" has %zu",
                        path, nl, nc);
        goto done;
    }
    if (counts && nc) {
        bertc_chart_frame f = {"Sentiment Distribution", "Label", "Count", 0, 0};
        if ((rc = bertc_chart_bar(fig_path(r, "label_distribution.png"), &f, labels, counts, nc, r->err)) ||
            (rc = embed(r, "label_distribution.png", "Bar chart of examples per label")))
            goto done;
    } else {
        fig_remove(r, "label_distribution.png");
        missing(r, "data.json", "labels and counts, written by bertc data");
    }

    /* Sample reviews, as the notebook prints them. */
    const cJSON *samples = data ? cJSON_GetObjectItemCaseSensitive(data, "samples") : NULL;
    if (samples && !cJSON_IsArray(samples)) { rc = bad(r->err, &w, "samples", "an array of {text, label}"); goto done; }
    if (samples && cJSON_GetArraySize(samples) > 0) {
        sb_puts(&r->html, "<h3>Sample reviews</h3>\n<ol class=\"samples\">\n");
        const cJSON *s;
        int k = 0;
        cJSON_ArrayForEach(s, samples) {
            const char *text = NULL, *label = NULL;
            if (!cJSON_IsObject(s)) { rc = bad(r->err, &w, "samples", "an array of {text, label}"); goto done; }
            if ((rc = get_str(s, "text", &text, &w, r->err))) goto done;
            const cJSON *lab = cJSON_GetObjectItemCaseSensitive(s, "label");
            char lbuf[64] = "";
            if (cJSON_IsString(lab)) label = lab->valuestring;
            else if (cJSON_IsNumber(lab)) {
                long i = (long)lab->valuedouble;
                if (labels && i >= 0 && (size_t)i < nl) label = labels[i];
                else { snprintf(lbuf, sizeof lbuf, "%ld", i); label = lbuf; }
            }
            sb_puts(&r->html, "<li><q>");
            sb_esc_n(&r->html, text, REVIEW_CHARS);
            sb_puts(&r->html, "</q> <span class=\"label\">");
            sb_esc(&r->html, label ? label : "?");
            sb_puts(&r->html, "</span></li>\n");
            if (++k == 10) break;
        }
        sb_puts(&r->html, "</ol>\n");
    }
    sb_puts(&r->html, "</section>\n");

    h2(r, "lengths", "Token lengths");
    const cJSON *len = data ? cJSON_GetObjectItemCaseSensitive(data, "lengths") : NULL;
    if (len && !cJSON_IsObject(len)) { rc = bad(r->err, &w, "lengths", "an object"); goto done; }
    if (len && ((rc = get_nums(len, "bin_edges", &edges, &ne, &w, r->err)) ||
                (rc = get_nums(len, "counts", &hc, &nh, &w, r->err))))
        goto done;
    if (edges && hc && nh > 0) {
        if (ne != nh + 1) {
            rc = bertc_fail(r->err, BERTC_ERR_FORMAT, "%s: lengths: \"bin_edges\" needs %zu entries (counts + 1), has %zu",
                            path, nh + 1, ne);
            goto done;
        }
        double st[6];
        const char *keys[6] = {"mean", "p50", "p90", "p99", "max_length", "truncated_share"};
        for (int i = 0; i < 6; i++)
            if ((rc = get_num(len, keys[i], &st[i], &w, r->err))) goto done;
        char label[64];
        snprintf(label, sizeof label, "max_length = %.0f", st[4]);
        bertc_chart_frame f = {"Review Length in Tokens", "Tokens per review (after WordPiece)", "Reviews", 0, 0};
        rc = bertc_chart_histogram(fig_path(r, "token_lengths.png"), &f, edges, hc, nh, st[4], label, r->err);
        if (rc) { bertc_err_prefix(r->err, "%s: lengths", path); goto done; }
        if ((rc = embed(r, "token_lengths.png", "Histogram of tokens per review"))) goto done;
        char b[6][64];
        fmt_num(b[0], 64, st[0], "%.1f");
        fmt_num(b[1], 64, st[1], "%.0f");
        fmt_num(b[2], 64, st[2], "%.0f");
        fmt_num(b[3], 64, st[3], "%.0f");
        fmt_num(b[4], 64, st[4], "%.0f");
        fmt_num(b[5], 64, st[5] * 100, "%.1f%%");
        sb_printf(&r->html, "<table class=\"kv\"><tr><th>mean</th><td>%s</td><th>median</th><td>%s</td>"
                            "<th>p90</th><td>%s</td><th>p99</th><td>%s</td><th>max_length</th><td>%s</td>"
                            "<th>truncated</th><td>%s</td></tr></table>\n",
                  b[0], b[1], b[2], b[3], b[4], b[5]);
    } else {
        fig_remove(r, "token_lengths.png");
        missing(r, "data.json", "lengths, written by bertc data");
    }
    sb_puts(&r->html, "</section>\n");
done:
    free(labels);
    free(counts);
    free(edges);
    free(hc);
    return rc;
}

/* Training loss per logged step; eval loss and accuracy per evaluation (log.jsonl). */
static int section_log(rep *r, const logdata *L, int present) {
    int rc;
    h2(r, "training", "Training loss");
    if (L->tloss.n) {
        int has_step = 1;
        for (size_t i = 0; i < L->tstep.n; i++) has_step &= isfinite(L->tstep.v[i]);
        bertc_series s = {"training loss", has_step ? L->tstep.v : NULL, L->tloss.v, L->tloss.n};
        bertc_line_panel p = {{"Training Loss", has_step ? "Step" : "Logged entry", "Loss", 0, 0}, &s, 1, 1};
        if ((rc = bertc_chart_lines(fig_path(r, "training_loss.png"), NULL, &p, 1, r->err)) ||
            (rc = embed(r, "training_loss.png", "Training loss per logged step")))
            return rc;
    } else {
        fig_remove(r, "training_loss.png");
        missing(r, "log.jsonl", present ? "no training entries with \"loss\"" : "written by bertc train");
    }
    sb_puts(&r->html, "</section>\n");

    h2(r, "evaluation", "Evaluation loss and accuracy");
    if (L->eloss.n) {
        int by_epoch = 1, any_f1 = 0, whole = 1;
        for (size_t i = 0; i < L->eepoch.n; i++) by_epoch &= isfinite(L->eepoch.v[i]);
        for (size_t i = 0; i < L->ef1.n; i++) any_f1 |= isfinite(L->ef1.v[i]);
        const double *x = by_epoch ? L->eepoch.v : L->estep.v;
        for (size_t i = 0; i < L->eloss.n; i++) whole &= x[i] == floor(x[i]);
        const char *xl = by_epoch ? "Epoch" : "Step";
        bertc_series sl = {"eval loss", x, L->eloss.v, L->eloss.n};
        bertc_series sa[2] = {{"accuracy", x, L->eacc.v, L->eacc.n}, {"F1", x, L->ef1.v, L->ef1.n}};
        bertc_line_panel p[2] = {{{"Validation Loss", xl, "Loss", 0, 0}, &sl, 1, whole},
                                 {{"Validation Accuracy", xl, "Accuracy", 0, 0}, sa, any_f1 ? 2 : 1, whole}};
        if ((rc = bertc_chart_lines(fig_path(r, "eval_metrics.png"), NULL, p, 2, r->err)) ||
            (rc = embed(r, "eval_metrics.png", "Evaluation loss and accuracy per evaluation")))
            return rc;
        sb_puts(&r->html, "<table class=\"grid\" id=\"eval-table\"><tr><th>epoch</th><th>step</th>"
                          "<th>eval loss</th><th>accuracy</th><th>F1</th></tr>\n");
        for (size_t i = 0; i < L->eloss.n; i++) {
            char b[5][64];
            fmt_num(b[0], 64, L->eepoch.v[i], "%.2f");
            fmt_num(b[1], 64, L->estep.v[i], "%.0f");
            fmt_num(b[2], 64, L->eloss.v[i], "%.4f");
            fmt_num(b[3], 64, L->eacc.v[i], "%.4f");
            fmt_num(b[4], 64, L->ef1.v[i], "%.4f");
            sb_printf(&r->html, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
                      b[0], b[1], b[2], b[3], b[4]);
        }
        sb_puts(&r->html, "</table>\n");
    } else {
        fig_remove(r, "eval_metrics.png");
        missing(r, "log.jsonl", present ? "no evaluation entries with \"eval_loss\"" : "written by bertc train");
    }
    sb_puts(&r->html, "</section>\n");
    return BERTC_OK;
}

static int report_row(rep *r, const cJSON *o, const char *name, const where *w) {
    double p, rc_, f1, sup;
    int rc;
    if ((rc = get_num(o, "precision", &p, w, r->err)) || (rc = get_num(o, "recall", &rc_, w, r->err)) ||
        (rc = get_num(o, "f1", &f1, w, r->err)) || (rc = get_num(o, "support", &sup, w, r->err)))
        return rc;
    char b[4][64];
    fmt_num(b[0], 64, p, "%.2f");
    fmt_num(b[1], 64, rc_, "%.2f");
    fmt_num(b[2], 64, f1, "%.2f");
    fmt_num(b[3], 64, sup, "%.0f");
    sb_puts(&r->html, "<tr><th>");
    sb_esc(&r->html, name);
    sb_printf(&r->html, "</th><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", b[0], b[1], b[2], b[3]);
    return BERTC_OK;
}

/* A precision/recall/F1/support table: one row per object of per (named by its
 * name_key), a separator, then the averages avg_keys[0..navg) of ev that are
 * present, under avg_names. */
static int report_table(rep *r, const char *id, const char *first_col, const cJSON *per, const char *name_key,
                        const cJSON *ev, const char *const *avg_keys, const char *const *avg_names, int navg,
                        const where *w) {
    int rc;
    sb_printf(&r->html, "<table class=\"grid\" id=\"%s\">\n<tr><th>%s</th><th>precision</th>"
                        "<th>recall</th><th>f1-score</th><th>support</th></tr>\n", id, first_col);
    const cJSON *row;
    cJSON_ArrayForEach(row, per) {
        const char *name = NULL;
        if ((rc = get_str(row, name_key, &name, w, r->err)) || (rc = report_row(r, row, name ? name : "?", w)))
            return rc;
    }
    int first = 1;
    for (int k = 0; k < navg; k++) {
        const cJSON *a = ev ? cJSON_GetObjectItemCaseSensitive(ev, avg_keys[k]) : NULL;
        if (!a) continue;
        if (first) sb_puts(&r->html, "<tr class=\"sep\"><td colspan=\"5\"></td></tr>\n");
        first = 0;
        if ((rc = report_row(r, a, avg_names[k], w))) return rc;
    }
    sb_puts(&r->html, "</table>\n");
    return BERTC_OK;
}

/* A multi-label eval.json (it has "per_label"): each label is its own yes/no
 * decision, so instead of a confusion matrix a bar chart of the per-label F1,
 * then the per-label table with the micro, macro, weighted and samples
 * averages, subset accuracy, Hamming loss and the threshold. */
static int section_eval_multilabel(rep *r, const cJSON *ev, const char *path) {
    where w = {path, 0};
    int rc = BERTC_OK;
    const cJSON *per = cJSON_GetObjectItemCaseSensitive(ev, "per_label");
    if (!cJSON_IsArray(per)) return bad(r->err, &w, "per_label", "an array of objects");
    size_t n = (size_t)cJSON_GetArraySize(per), i = 0;
    const char **names = malloc(sizeof *names * (n ? n : 1));
    double *f1 = malloc(sizeof *f1 * (n ? n : 1));
    if (!names || !f1) {
        rc = bertc_fail(r->err, BERTC_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    const cJSON *row;
    cJSON_ArrayForEach(row, per) {
        if (!cJSON_IsObject(row)) { rc = bad(r->err, &w, "per_label", "an array of objects"); goto done; }
        if ((rc = get_str(row, "label", &names[i], &w, r->err)) || (rc = get_num(row, "f1", &f1[i], &w, r->err)))
            goto done;
        if (!names[i]) names[i] = "?";
        i++;
    }
    const char *avg_keys[4] = {"micro_avg", "macro_avg", "weighted_avg", "samples_avg"};
    const char *avg_names[4] = {"micro avg", "macro avg", "weighted avg", "samples avg"};
    for (int k = 0; k < 4; k++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(ev, avg_keys[k]);
        if (a && !cJSON_IsObject(a)) { rc = bad(r->err, &w, avg_keys[k], "an object"); goto done; }
    }
    double subset, hamming, threshold;
    if ((rc = get_num(ev, "subset_accuracy", &subset, &w, r->err)) ||
        (rc = get_num(ev, "hamming_loss", &hamming, &w, r->err)) ||
        (rc = get_num(ev, "threshold", &threshold, &w, r->err)))
        goto done;

    fig_remove(r, "confusion_matrix.png");
    h2(r, "confusion", "Per-label F1");
    sb_puts(&r->html, "<p>A multi-label model makes one yes/no decision per label, so there is no single "
                      "confusion matrix: each label's precision, recall and F1 are in the table below.</p>\n");
    if (n > 0 && n <= 1000) {
        bertc_chart_frame f = {"F1 per label", "Label", "F1", 0, 0};
        if ((rc = bertc_chart_bar(fig_path(r, "per_label_f1.png"), &f, names, f1, n, r->err)) ||
            (rc = embed(r, "per_label_f1.png", "Bar chart of the F1 of each label")))
            goto done;
    } else {
        fig_remove(r, "per_label_f1.png");
        if (n == 0) missing(r, "eval.json", "per_label, written by bertc eval --output");
    }
    sb_puts(&r->html, "</section>\n");

    h2(r, "classification-report", "Classification report");
    if (n > 0) {
        if ((rc = report_table(r, "classification-report", "", per, "label", ev, avg_keys, avg_names, 4, &w)))
            goto done;
    } else {
        missing(r, "eval.json", "per_label, written by bertc eval --output");
    }
    char b[3][64];
    fmt_num(b[0], 64, subset, "%.4f");
    fmt_num(b[1], 64, hamming, "%.4f");
    fmt_num(b[2], 64, threshold, "%g");
    sb_printf(&r->html,
              "<table class=\"kv\" id=\"multilabel-summary\"><tr><th>subset accuracy</th><td>%s</td></tr>"
              "<tr><th>Hamming loss</th><td>%s</td></tr><tr><th>threshold</th><td>%s</td></tr></table>\n",
              b[0], b[1], b[2]);
    if ((rc = text_block(r, ev, "report_text", AS_TEXT_OPEN, AS_TEXT_CLOSE, NULL, &w))) goto done;
    sb_puts(&r->html, "</section>\n");
done:
    free(names);
    free(f1);
    return rc;
}

/* Confusion matrix and classification report (eval.json). */
static int section_eval(rep *r, const cJSON *ev, const char *path) {
    if (ev && cJSON_HasObjectItem(ev, "per_label")) return section_eval_multilabel(r, ev, path);
    where w = {path, 0};
    int rc = BERTC_OK;
    const char **labels = NULL;
    double *cm = NULL;
    size_t nl = 0, R = 0, C = 0;

    fig_remove(r, "per_label_f1.png");

    h2(r, "confusion", "Confusion matrix");
    if (ev && ((rc = get_strs(ev, "labels", &labels, &nl, &w, r->err)) ||
               (rc = get_matrix(ev, "confusion_matrix", &cm, &R, &C, &w, r->err))))
        goto done;
    if (cm && R > 0) {
        if (R != C || (labels && nl != R)) {
            rc = bertc_fail(r->err, BERTC_ERR_FORMAT,
                            "%s: \"confusion_matrix\" is %zu x %zu; it must be square with one row per label (%zu labels)",
                            path, R, C, nl);
            goto done;
        }
        bertc_heatmap h = {{"Confusion Matrix", "Predicted", "True", 0, 0}, cm, R, C, labels, labels,
                           BERTC_CMAP_BLUES, 1, NAN, NAN, "count"};
        if ((rc = bertc_chart_heatmap(fig_path(r, "confusion_matrix.png"), &h, r->err)) ||
            (rc = embed(r, "confusion_matrix.png", "Confusion matrix heatmap with counts")))
            goto done;
    } else {
        fig_remove(r, "confusion_matrix.png");
        missing(r, "eval.json", "confusion_matrix, written by bertc eval --output");
    }
    sb_puts(&r->html, "</section>\n");

    h2(r, "classification-report", "Classification report");
    const cJSON *per = ev ? cJSON_GetObjectItemCaseSensitive(ev, "per_class") : NULL;
    if (per && !cJSON_IsArray(per)) { rc = bad(r->err, &w, "per_class", "an array of objects"); goto done; }
    if (per && cJSON_GetArraySize(per) > 0) {
        sb_puts(&r->html, "<table class=\"grid\" id=\"classification-report\">\n<tr><th></th><th>precision</th>"
                          "<th>recall</th><th>f1-score</th><th>support</th></tr>\n");
        const cJSON *row;
        cJSON_ArrayForEach(row, per) {
            const char *name = NULL;
            if (!cJSON_IsObject(row)) { rc = bad(r->err, &w, "per_class", "an array of objects"); goto done; }
            if ((rc = get_str(row, "label", &name, &w, r->err)) || (rc = report_row(r, row, name ? name : "?", &w)))
                goto done;
        }
        double acc;
        if ((rc = get_num(ev, "accuracy", &acc, &w, r->err))) goto done;
        const cJSON *macro = cJSON_GetObjectItemCaseSensitive(ev, "macro_avg");
        const cJSON *weighted = cJSON_GetObjectItemCaseSensitive(ev, "weighted_avg");
        if ((macro && !cJSON_IsObject(macro)) || (weighted && !cJSON_IsObject(weighted))) {
            rc = bad(r->err, &w, macro && !cJSON_IsObject(macro) ? "macro_avg" : "weighted_avg", "an object");
            goto done;
        }
        double sup = NAN;
        if (macro && (rc = get_num(macro, "support", &sup, &w, r->err))) goto done;
        char b[2][64];
        fmt_num(b[0], 64, acc, "%.2f");
        fmt_num(b[1], 64, sup, "%.0f");
        sb_printf(&r->html, "<tr class=\"sep\"><th>accuracy</th><td></td><td></td><td>%s</td><td>%s</td></tr>\n",
                  b[0], b[1]);
        if (macro && (rc = report_row(r, macro, "macro avg", &w))) goto done;
        if (weighted && (rc = report_row(r, weighted, "weighted avg", &w))) goto done;
        sb_puts(&r->html, "</table>\n");
        if ((rc = text_block(r, ev, "report_text", AS_TEXT_OPEN, AS_TEXT_CLOSE, NULL, &w))) goto done;
    } else {
        missing(r, "eval.json", "per_class, written by bertc eval --output");
    }
    sb_puts(&r->html, "</section>\n");
done:
    free(labels);
    free(cm);
    return rc;
}

/* Attention heatmap for one review (attention.json). */
static int section_attention(rep *r, const cJSON *at, const char *path) {
    where w = {path, 0};
    int rc = BERTC_OK;
    const char **tokens = NULL, *text = NULL, *pred = NULL;
    double *wts = NULL, layer = NAN, head = NAN, score = NAN;
    size_t nt = 0, R = 0, C = 0;

    h2(r, "attention", "Attention for a sample review");
    if (at && ((rc = get_strs(at, "tokens", &tokens, &nt, &w, r->err)) ||
               (rc = get_matrix(at, "weights", &wts, &R, &C, &w, r->err)) ||
               (rc = get_str(at, "text", &text, &w, r->err)) || (rc = get_num(at, "layer", &layer, &w, r->err)) ||
               (rc = get_num(at, "head", &head, &w, r->err)) || (rc = get_num(at, "score", &score, &w, r->err))))
        goto done;
    if (at) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(at, "pred");
        char pbuf[64];
        if (cJSON_IsString(p)) pred = p->valuestring;
        else if (cJSON_IsNumber(p)) { snprintf(pbuf, sizeof pbuf, "%.0f", p->valuedouble); pred = pbuf; }
        else if (p && !cJSON_IsNull(p)) { rc = bad(r->err, &w, "pred", "a label name or index"); goto done; }
        if (wts && R > 0) {
            if (R != C || (tokens && nt != R) || R > 2048) {
                rc = bertc_fail(r->err, BERTC_ERR_FORMAT,
                                "%s: \"weights\" is %zu x %zu; it must be square, at most 2048, with one row per token (%zu tokens)",
                                path, R, C, nt);
                goto done;
            }
            char title[256];
            if (isnan(head)) snprintf(title, sizeof title, "Attention Weights (layer %.0f, mean of heads)", layer);
            else snprintf(title, sizeof title, "Attention Weights (layer %.0f, head %.0f)", layer, head);
            bertc_heatmap h = {{title, "Tokens (attended to)", "Tokens (attending)", 0, 0}, wts, R, C, tokens, tokens,
                               BERTC_CMAP_VIRIDIS, 0, NAN, NAN, "attention weight"};
            if ((rc = bertc_chart_heatmap(fig_path(r, "attention.png"), &h, r->err)) ||
                (rc = embed(r, "attention.png", "Attention heatmap, tokens on both axes")))
                goto done;
            sb_puts(&r->html, "<p class=\"pred\">Predicted <b>");
            sb_esc(&r->html, pred ? pred : "?");
            char sbuf[64];
            fmt_num(sbuf, sizeof sbuf, score, "%.2f");
            sb_printf(&r->html, "</b> (score %s) for this review", sbuf);
            sb_printf(&r->html, ", %zu tokens:</p>\n<blockquote>", R);
            sb_esc_n(&r->html, text, 1000);
            sb_puts(&r->html, "</blockquote>\n");
            goto close;
        }
    }
    fig_remove(r, "attention.png");
    missing(r, "attention.json", "written by bertc attention");
close:
    sb_puts(&r->html, "</section>\n");
done:
    free(tokens);
    free(wts);
    return rc;
}

static void example_rows(rep *r, const example *ex, size_t n, const char *cls, int with_score) {
    for (size_t i = 0; i < n; i++) {
        char sbuf[64];
        fmt_num(sbuf, sizeof sbuf, ex[i].score, "%.3f");
        sb_printf(&r->html, "<tr class=\"%s\"><td class=\"text\">", cls);
        sb_esc_n(&r->html, ex[i].text, REVIEW_CHARS);
        sb_puts(&r->html, "</td><td>");
        sb_esc(&r->html, ex[i].label);
        sb_puts(&r->html, "</td><td>");
        sb_esc(&r->html, ex[i].pred);
        if (with_score) sb_printf(&r->html, "</td><td>%s", sbuf);
        sb_puts(&r->html, "</td></tr>\n");
    }
}

static void section_predictions(rep *r, const preddata *P, int present) {
    h2(r, "predictions", "Correct and wrong predictions");
    if (!present || P->total == 0) {
        missing(r, "predictions.jsonl", "written by bertc eval --predictions");
    } else {
        if (P->multi)
            sb_printf(&r->html,
                      "<p>%ld predictions, %ld with exactly the true labels (%.2f%%, the subset accuracy). "
                      "The first %zu exactly right and %zu not:</p>\n",
                      P->total, P->correct, 100.0 * (double)P->correct / (double)P->total, P->nright, P->nwrong);
        else
            sb_printf(&r->html, "<p>%ld predictions, %ld correct (%.2f%%). The first %zu correct and %zu wrong:</p>\n",
                      P->total, P->correct, 100.0 * (double)P->correct / (double)P->total, P->nright, P->nwrong);
        /* multi-label lines have probabilities per label, no single score */
        sb_puts(&r->html, "<table class=\"grid\" id=\"predictions\"><tr><th>review</th><th>true</th>"
                          "<th>predicted</th>");
        sb_puts(&r->html, P->multi ? "</tr>\n" : "<th>score</th></tr>\n");
        example_rows(r, P->right, P->nright, "right", !P->multi);
        example_rows(r, P->wrong, P->nwrong, "wrong", !P->multi);
        sb_puts(&r->html, "</table>\n");
    }
    sb_puts(&r->html, "</section>\n");
}

/* ---- token classification (NER) -------------------------------------------- */

#define N_SENTENCES 10     /* sample sentences shown */
#define SENTENCE_WORDS 300 /* words of a sample sentence shown */
#define N_TYPE_COLOURS 5   /* .t0 .. .t4 in the CSS, the chart palette's colours */
#define MAX_TYPES 256      /* entity types given their own colour slot */

/* One entity of a tag sequence: words [begin, end) of type (not NUL-terminated). */
typedef struct entity {
    size_t begin, end;
    const char *type;
    size_t tlen;
} entity;

/* seqeval's split of a tag: prefix = chunk[0], type = chunk[1:].split('-', 1)[-1]
 * or "_" when that is empty. An empty tag counts as "O". */
static void tag_split(const char *tag, char *prefix, const char **type, size_t *tlen) {
    if (!tag || !*tag) { *prefix = 'O'; *type = "_"; *tlen = 1; return; }
    *prefix = tag[0];
    const char *rest = tag + 1;
    while ((*rest & 0xC0) == 0x80) rest++; /* the rest of a multi-byte first character */
    const char *dash = strchr(rest, '-');
    const char *t = dash ? dash + 1 : rest;
    if (!*t) { *type = "_"; *tlen = 1; return; }
    *type = t;
    *tlen = strlen(t);
}

/* seqeval.metrics.sequence_labeling.end_of_chunk / start_of_chunk (default mode). */
static int chunk_ends(char prev, char tag, int same_type) {
    if (prev == 'E' || prev == 'S') return 1;
    if ((prev == 'B' || prev == 'I') && (tag == 'B' || tag == 'S' || tag == 'O')) return 1;
    return prev != 'O' && prev != '.' && !same_type;
}
static int chunk_starts(char prev, char tag, int same_type) {
    if (tag == 'B' || tag == 'S') return 1;
    if ((prev == 'E' || prev == 'S' || prev == 'O') && (tag == 'E' || tag == 'I')) return 1;
    return tag != 'O' && tag != '.' && !same_type;
}

/* seqeval's get_entities for one sentence: a B-X, or an I-X that does not
 * continue an X, starts an entity. out has room for n entities; returns the
 * count, sorted by first word. Types point into tags. */
static size_t get_entities(entity *out, const char *const *tags, size_t n) {
    char prev = 'O';
    const char *ptype = "";
    size_t plen = 0, begin = 0, k = 0;
    for (size_t i = 0; i <= n; i++) {
        char tag;
        const char *type;
        size_t tl;
        tag_split(i < n ? tags[i] : "O", &tag, &type, &tl);
        int same = tl == plen && memcmp(type, ptype, tl) == 0;
        if (chunk_ends(prev, tag, same) && k < n) out[k++] = (entity){begin, i, ptype, plen};
        if (chunk_starts(prev, tag, same)) begin = i;
        prev = tag;
        ptype = type;
        plen = tl;
    }
    for (size_t i = 1; i < k; i++) /* insertion sort by begin; ends are already in order */
        for (size_t j = i; j > 0 && out[j].begin < out[j - 1].begin; j--) {
            entity t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return k;
}

/* Entity types in colour order: those of eval.json's per_type first (so the
 * samples use the bar chart's colours), then the rest as they are met. */
typedef struct typeset {
    const char *name[MAX_TYPES];
    size_t len[MAX_TYPES];
    size_t n;
} typeset;

static size_t type_index(typeset *ts, const char *t, size_t len) {
    for (size_t i = 0; i < ts->n; i++)
        if (ts->len[i] == len && memcmp(ts->name[i], t, len) == 0) return i;
    if (ts->n == MAX_TYPES) return MAX_TYPES;
    ts->name[ts->n] = t;
    ts->len[ts->n] = len;
    return ts->n++;
}

static void sb_esc_len(sb *b, const char *s, size_t len) {
    char buf[128];
    if (len >= sizeof buf) len = sizeof buf - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    sb_esc(b, buf);
}

/* predictions.jsonl of a token-classification eval: {"words", "tags", "pred"}. */
typedef struct tokpred {
    long total, right;
    cJSON *right_s[N_SENTENCES], *wrong_s[N_SENTENCES]; /* copies of the first lines of each kind */
    size_t nright, nwrong;
} tokpred;

/* words, tags and pred of one line, checked to be equally long arrays of strings. */
static int tok_line_arrays(const cJSON *o, const char ***words, const char ***tags, const char ***pred, size_t *n,
                           const where *w, bertc_err *err) {
    size_t nw = 0, nt = 0, np = 0;
    int rc;
    *words = *tags = *pred = NULL;
    if ((rc = get_strs(o, "words", words, &nw, w, err)) || (rc = get_strs(o, "tags", tags, &nt, w, err)) ||
        (rc = get_strs(o, "pred", pred, &np, w, err)))
        goto fail;
    const char *absent = !*words ? "words" : !*tags ? "tags" : !*pred ? "pred" : NULL;
    if (absent) { rc = bad(err, w, absent, "an array of strings (a token-classification prediction)"); goto fail; }
    if (nt != nw || np != nw) {
        rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s:%ld: \"words\" has %zu entries, \"tags\" %zu and \"pred\" %zu; "
                        "they must be equally long", w->path, w->line, nw, nt, np);
        goto fail;
    }
    *n = nw;
    return BERTC_OK;
fail:
    free(*words);
    free(*tags);
    free(*pred);
    *words = *tags = *pred = NULL;
    return rc;
}

static int tok_pred_line(void *ctx, const cJSON *o, const where *w, bertc_err *err) {
    tokpred *T = ctx;
    const char **words, **tags, **pred;
    size_t n;
    int rc = tok_line_arrays(o, &words, &tags, &pred, &n, w, err);
    if (rc) return rc;
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) ok = strcmp(tags[i], pred[i]) == 0;
    free(words);
    free(tags);
    free(pred);
    T->total++;
    T->right += ok;
    cJSON **slot = NULL;
    if (ok && T->nright < N_SENTENCES) slot = &T->right_s[T->nright++];
    if (!ok && T->nwrong < N_SENTENCES) slot = &T->wrong_s[T->nwrong++];
    if (slot && !(*slot = cJSON_Duplicate(o, 1))) {
        if (ok) T->nright--; else T->nwrong--;
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s:%ld: out of memory", w->path, w->line);
    }
    return BERTC_OK;
}

static void tokpred_free(tokpred *T) {
    for (size_t i = 0; i < T->nright; i++) cJSON_Delete(T->right_s[i]);
    for (size_t i = 0; i < T->nwrong; i++) cJSON_Delete(T->wrong_s[i]);
}

/* Loss (training and eval) and entity F1, precision, recall per step (log.jsonl). */
static int tok_section_curves(rep *r, const logdata *L, int present) {
    int rc;
    fig_remove(r, "training_loss.png");
    fig_remove(r, "eval_metrics.png");
    h2(r, "training", "Loss and entity F1");
    if (L->tloss.n || L->eloss.n) {
        bertc_series loss[2] = {{"training loss", L->tstep.v, L->tloss.v, L->tloss.n},
                                {"eval loss", L->estep.v, L->eloss.v, L->eloss.n}};
        bertc_series f1[3] = {{"F1", L->estep.v, L->ef1.v, L->ef1.n},
                              {"precision", L->estep.v, L->eprec.v, L->eprec.n},
                              {"recall", L->estep.v, L->erec.v, L->erec.n}};
        bertc_line_panel p[2] = {{{"Loss", "Step", "Loss", 0, 0}, loss, 2, 1},
                                 {{"Entity F1 (seqeval)", "Step", "Score", 0, 0}, f1, 3, 1}};
        if ((rc = bertc_chart_lines(fig_path(r, "training_curves.png"), NULL, p, 2, r->err)) ||
            (rc = embed(r, "training_curves.png", "Training and evaluation loss, and entity F1, precision and recall per step")))
            return rc;
    } else {
        fig_remove(r, "training_curves.png");
        missing(r, "log.jsonl", present ? "no entries with \"loss\" or \"eval_loss\"" : "written by bertc train");
    }
    if (L->eloss.n) {
        sb_puts(&r->html, "<table class=\"grid\" id=\"eval-table\"><tr><th>epoch</th><th>step</th><th>eval loss</th>"
                          "<th>token accuracy</th><th>precision</th><th>recall</th><th>F1</th></tr>\n");
        for (size_t i = 0; i < L->eloss.n; i++) {
            char b[7][64];
            fmt_num(b[0], 64, L->eepoch.v[i], "%.2f");
            fmt_num(b[1], 64, L->estep.v[i], "%.0f");
            fmt_num(b[2], 64, L->eloss.v[i], "%.4f");
            fmt_num(b[3], 64, L->eacc.v[i], "%.4f");
            fmt_num(b[4], 64, L->eprec.v[i], "%.4f");
            fmt_num(b[5], 64, L->erec.v[i], "%.4f");
            fmt_num(b[6], 64, L->ef1.v[i], "%.4f");
            sb_printf(&r->html, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
                      b[0], b[1], b[2], b[3], b[4], b[5], b[6]);
        }
        sb_puts(&r->html, "</table>\n");
    }
    sb_puts(&r->html, "</section>\n");
    return BERTC_OK;
}

/* Per-type F1 chart with its table, tag confusion matrix, seqeval report (eval.json). */
static int tok_section_eval(rep *r, const cJSON *ev, const char *path, typeset *ts) {
    where w = {path, 0};
    int rc = BERTC_OK;
    const char **names = NULL, **labels = NULL;
    double *f1 = NULL, *cm = NULL;
    size_t n = 0, nl = 0, R = 0, C = 0;
    fig_remove(r, "per_label_f1.png");

    h2(r, "per-type", "Entity F1 per type");
    const cJSON *per = ev ? cJSON_GetObjectItemCaseSensitive(ev, "per_type") : NULL;
    if (per && !cJSON_IsArray(per)) { rc = bad(r->err, &w, "per_type", "an array of objects"); goto done; }
    n = per ? (size_t)cJSON_GetArraySize(per) : 0;
    names = malloc(sizeof *names * (n ? n : 1));
    f1 = malloc(sizeof *f1 * (n ? n : 1));
    if (!names || !f1) { rc = bertc_fail(r->err, BERTC_ERR_NOMEM, "%s: out of memory", path); goto done; }
    size_t i = 0;
    const cJSON *row;
    if (per) cJSON_ArrayForEach(row, per) {
        if (!cJSON_IsObject(row)) { rc = bad(r->err, &w, "per_type", "an array of objects"); goto done; }
        if ((rc = get_str(row, "type", &names[i], &w, r->err)) || (rc = get_num(row, "f1", &f1[i], &w, r->err)))
            goto done;
        if (!names[i]) names[i] = "?";
        type_index(ts, names[i], strlen(names[i]));
        i++;
    }
    const char *avg_keys[3] = {"micro", "macro", "weighted"};
    const char *avg_names[3] = {"micro avg", "macro avg", "weighted avg"};
    for (int k = 0; k < 3; k++) {
        const cJSON *a = ev ? cJSON_GetObjectItemCaseSensitive(ev, avg_keys[k]) : NULL;
        if (a && !cJSON_IsObject(a)) { rc = bad(r->err, &w, avg_keys[k], "an object"); goto done; }
    }
    if (n > 0 && n <= 1000) {
        bertc_chart_frame f = {"Entity F1 per type", "Entity type", "F1", 0, 0};
        sb_puts(&r->html, "<div class=\"side\">\n");
        if ((rc = bertc_chart_bar(fig_path(r, "per_type_f1.png"), &f, names, f1, n, r->err)) ||
            (rc = embed(r, "per_type_f1.png", "Bar chart of the entity F1 of each type")))
            goto done;
        if ((rc = report_table(r, "per-type-table", "type", per, "type", ev, avg_keys, avg_names, 3, &w)))
            goto done;
        sb_puts(&r->html, "</div>\n");
    } else {
        fig_remove(r, "per_type_f1.png");
        missing(r, "eval.json", n ? "per_type has more than 1000 types" : "per_type, written by bertc eval --run-dir");
    }
    sb_puts(&r->html, "</section>\n");

    h2(r, "confusion", "Tag confusion matrix");
    if (ev && ((rc = get_strs(ev, "labels", &labels, &nl, &w, r->err)) ||
               (rc = get_matrix(ev, "confusion", &cm, &R, &C, &w, r->err))))
        goto done;
    for (size_t k = 0; k < nl; k++) { /* types of the tags, after those of per_type */
        char pre;
        const char *t;
        size_t tl;
        tag_split(labels[k], &pre, &t, &tl);
        if (pre != 'O') type_index(ts, t, tl);
    }
    if (cm && R > 0) {
        if (R != C || (labels && nl != R) || R > 2048) {
            rc = bertc_fail(r->err, BERTC_ERR_FORMAT,
                            "%s: \"confusion\" is %zu x %zu; it must be square, at most 2048, with one row per tag "
                            "of \"labels\" (%zu tags)", path, R, C, nl);
            goto done;
        }
        bertc_heatmap h = {{"Tag Confusion Matrix (words)", "Predicted tag", "Gold tag", 0, 0}, cm, R, C, labels, labels,
                           BERTC_CMAP_BLUES, 1, NAN, NAN, "words"};
        if ((rc = bertc_chart_heatmap(fig_path(r, "confusion_matrix.png"), &h, r->err)) ||
            (rc = embed(r, "confusion_matrix.png", "Tag confusion matrix: gold tags in rows, predicted tags in columns, word counts")))
            goto done;
        sb_puts(&r->html, "<p>Rows are the gold tags, columns the predicted ones; each cell counts words "
                          "(the tag of a word's first sub-word).</p>\n");
    } else {
        fig_remove(r, "confusion_matrix.png");
        missing(r, "eval.json", "labels and confusion, written by bertc eval --run-dir");
    }
    sb_puts(&r->html, "</section>\n");

    h2(r, "classification-report", "Classification report (seqeval)");
    int shown;
    if ((rc = text_block(r, ev, "report", "<pre id=\"seqeval-report\">", "</pre>\n", &shown, &w))) goto done;
    if (!shown) missing(r, "eval.json", "report, written by bertc eval --run-dir");
    sb_puts(&r->html, "</section>\n");
done:
    free(names);
    free(f1);
    free(labels);
    free(cm);
    return rc;
}

/* One line of a sample: the words with each entity of e as a coloured span;
 * an entity that other lacks (same words, same type) is marked "miss". */
static void tok_row(rep *r, const char *cls, const char *who, const char *const *words, size_t n,
                    const entity *e, size_t ne, const entity *other, size_t no, typeset *ts, const char *miss_note) {
    sb *h = &r->html;
    sb_printf(h, "<div class=\"tags %s\"><span class=\"who\">%s</span>", cls, who);
    size_t i = 0, k = 0;
    while (i < n) {
        while (k < ne && e[k].begin < i) k++; /* overlapping spans (malformed tags): first one wins */
        if (k < ne && e[k].begin == i && e[k].end > i) {
            const entity *x = &e[k];
            int found = 0;
            for (size_t j = 0; j < no && !found; j++)
                found = other[j].begin == x->begin && other[j].end == x->end && other[j].tlen == x->tlen &&
                        memcmp(other[j].type, x->type, x->tlen) == 0;
            size_t t = type_index(ts, x->type, x->tlen);
            sb_printf(h, " <span class=\"ent t%zu%s\" data-type=\"", t % N_TYPE_COLOURS, found ? "" : " miss");
            sb_esc_len(h, x->type, x->tlen);
            sb_puts(h, "\" title=\"");
            sb_esc_len(h, x->type, x->tlen);
            if (!found) { sb_puts(h, ": "); sb_puts(h, miss_note); }
            sb_puts(h, "\">");
            size_t end = x->end < n ? x->end : n;
            for (; i < end; i++) {
                if (i > x->begin) sb_puts(h, " ");
                sb_esc(h, words[i]);
            }
            sb_puts(h, "<sup>");
            sb_esc_len(h, x->type, x->tlen);
            sb_puts(h, found ? "" : " &#10007;");
            sb_puts(h, "</sup></span>");
            k++;
        } else {
            sb_puts(h, " ");
            sb_esc(h, words[i]);
            i++;
        }
    }
    sb_puts(h, "</div>\n");
}

/* One sample sentence, gold then predicted. The line was checked when it was read. */
static int tok_sentence(rep *r, const cJSON *o, const char *cls, typeset *ts) {
    const char **words, **tags, **pred;
    size_t n;
    where w = {"predictions.jsonl", 0};
    int rc = tok_line_arrays(o, &words, &tags, &pred, &n, &w, r->err);
    if (rc) return rc;
    size_t shown = n < SENTENCE_WORDS ? n : SENTENCE_WORDS;
    entity *g = malloc(sizeof *g * (shown + 1)), *p = malloc(sizeof *p * (shown + 1));
    if (!g || !p) { rc = bertc_fail(r->err, BERTC_ERR_NOMEM, "predictions.jsonl: out of memory"); goto done; }
    size_t ng = get_entities(g, tags, shown), np = get_entities(p, pred, shown);
    sb_printf(&r->html, "<li class=\"sent %s\">\n", cls);
    tok_row(r, "gold", "gold", words, shown, g, ng, p, np, ts, "not predicted");
    tok_row(r, "pred", "predicted", words, shown, p, np, g, ng, ts, "not in gold");
    if (shown < n) sb_printf(&r->html, "<p class=\"sub\">&hellip; and %zu more words</p>\n", n - shown);
    sb_puts(&r->html, "</li>\n");
done:
    free(g);
    free(p);
    free(words);
    free(tags);
    free(pred);
    return rc;
}

/* Up to N_SENTENCES samples: sentences with a wrong tag first (at least half
 * when there are enough), then sentences tagged right. */
static int tok_section_samples(rep *r, const tokpred *T, int present, typeset *ts) {
    int rc = BERTC_OK;
    h2(r, "predictions", "Sample sentences");
    if (!present || T->total == 0) {
        missing(r, "predictions.jsonl", "written by bertc eval --run-dir");
        sb_puts(&r->html, "</section>\n");
        return BERTC_OK;
    }
    size_t nr = T->nright < N_SENTENCES / 2 ? T->nright : N_SENTENCES / 2;
    size_t nw = T->nwrong < N_SENTENCES - nr ? T->nwrong : N_SENTENCES - nr;
    if (nr + nw < N_SENTENCES) nr = T->nright < N_SENTENCES - nw ? T->nright : N_SENTENCES - nw;
    sb_printf(&r->html,
              "<p>%ld sentences, %ld with every tag right (%.2f%%). Below, %zu with a wrong tag and %zu without. "
              "Entities are grouped from the tags as seqeval groups them (a B-X, or an I-X that does not continue "
              "an X, starts one); each sentence shows the gold entities, then the predicted ones, and an entity "
              "with no exact match (same words, same type) on the other line has a dashed outline and "
              "&#10007;.</p>\n",
              T->total, T->right, 100.0 * (double)T->right / (double)T->total, nw, nr);
    sb_puts(&r->html, "<ol class=\"sentences\" id=\"samples\">\n");
    for (size_t i = 0; i < nw && !rc; i++) rc = tok_sentence(r, T->wrong_s[i], "wrong", ts);
    for (size_t i = 0; i < nr && !rc; i++) rc = tok_sentence(r, T->right_s[i], "right", ts);
    if (rc) return rc;
    sb_puts(&r->html, "</ol>\n<p class=\"legend\">Types:");
    for (size_t i = 0; i < ts->n; i++) {
        sb_printf(&r->html, " <span class=\"ent t%zu\">", i % N_TYPE_COLOURS);
        sb_esc_len(&r->html, ts->name[i], ts->len[i]);
        sb_puts(&r->html, "</span>");
    }
    sb_puts(&r->html, "</p>\n</section>\n");
    return BERTC_OK;
}

static const char CSS[] =
    "body{font-family:'DejaVu Sans',system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1a1a1a}"
    "main{max-width:1100px;margin:0 auto;padding:24px 32px 64px;background:#fff}"
    "h1{font-size:26px;margin:8px 0 4px}h2{font-size:20px;border-bottom:2px solid #e3e6ea;padding-bottom:4px;margin-top:36px}"
    "h3{font-size:16px;margin-top:20px}.sub{color:#555;margin:0 0 12px}"
    "nav a{margin-right:14px;color:#1f77b4;text-decoration:none;font-size:14px}"
    "figure{margin:12px 0}img.chart{max-width:100%;height:auto;border:1px solid #e3e6ea}"
    "table{border-collapse:collapse;margin:10px 0;font-size:14px}"
    "table.grid th,table.grid td{border-bottom:1px solid #e3e6ea;padding:5px 12px;text-align:right;vertical-align:top}"
    "table.grid th:first-child{text-align:left}table.grid tr.sep th,table.grid tr.sep td{border-top:2px solid #ccd}"
    "table.kv th{text-align:left;padding:3px 14px 3px 0;color:#444;font-weight:600}table.kv td{padding:3px 18px 3px 0}"
    "td.text{text-align:left!important;max-width:620px;font-size:13px;color:#333}"
    "tr.right td:nth-child(3){color:#2ca02c;font-weight:600}tr.wrong td:nth-child(3){color:#d62728;font-weight:600}"
    ".missing{color:#8a6d3b;background:#fcf8e3;padding:8px 12px;border-radius:4px}"
    "ol.samples li{margin:6px 0;font-size:14px}.label{font-weight:600;color:#1f77b4}"
    "blockquote{font-size:13px;color:#333;border-left:3px solid #ccd;margin:8px 0;padding:4px 12px}"
    "pre{background:#f6f7f9;padding:10px;font-size:13px}";

/* Only the token-classification page uses these (the text page keeps its bytes). */
static const char TOKEN_CSS[] =
    ".side{display:flex;flex-wrap:wrap;gap:20px;align-items:flex-start}.side figure{flex:1 1 520px}"
    "ol.sentences li{margin:10px 0;font-size:14px}ol.sentences li.wrong{border-left:3px solid #d62728;padding-left:8px}"
    "ol.sentences li.right{border-left:3px solid #2ca02c;padding-left:8px}"
    ".tags{line-height:2.1}.who{display:inline-block;width:78px;color:#666;font-size:12px}"
    ".ent{padding:2px 4px;border-radius:4px;border:1px solid transparent}.ent sup{font-size:10px;font-weight:700;margin-left:3px}"
    ".ent.miss{border:2px dashed #d62728}"
    ".t0{background:#c6dbef}.t1{background:#fdd0a2}.t2{background:#c7e9c0}.t3{background:#fcbba1}.t4{background:#dadaeb}";

/* Everything both pages read, loaded and type-checked before anything is drawn. */
typedef struct inputs {
    cJSON *run, *data, *ev, *at;
    logdata L;
    int log_present;
    char prun[4096], pdata[4096], peval[4096], pattn[4096], plog[4096];
} inputs;

/* A page kind: loads what only it reads, creates the report folder, draws its
 * charts and writes the whole page into r->html. One is chosen per run. */
typedef int (*page_fn)(rep *r, const inputs *in);

static int make_figdir(rep *r) {
    if (mkdir(r->figdir, 0755) != 0 && errno != EEXIST)
        return bertc_fail(r->err, BERTC_ERR_IO, "%s: cannot create folder: %s", r->figdir, strerror(errno));
    return BERTC_OK;
}

static void page_head(rep *r, const char *model, const char *h1, const char *extra_css) {
    sb *h = &r->html;
    sb_puts(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>bertc report");
    if (model) { sb_puts(h, ": "); sb_esc(h, model); }
    sb_printf(h, "</title>\n<style>%s%s</style>\n</head>\n<body>\n<main>\n<h1>%s</h1>\n", CSS, extra_css, h1);
    sb_puts(h, "<p class=\"sub\">Run directory <code>");
    sb_esc(h, r->dir);
    sb_puts(h, "</code>");
    if (model) { sb_puts(h, " &middot; model <code>"); sb_esc(h, model); sb_puts(h, "</code>"); }
}

static void page_foot(rep *r) {
    sb_puts(&r->html, "<footer><p class=\"sub\">Written by bertc. Charts are also in <code>report/</code> beside this page.</p></footer>\n"
                      "</main>\n</body>\n</html>\n");
}

/* The page of a text-classification run (one label, or labels, per text). */
static int page_text(rep *r, const inputs *in) {
    bertc_err *err = r->err;
    preddata P = {0};
    const char **elabels = NULL;
    size_t nel = 0;
    char ppred[4096];
    int pred_present = 0, rc;
    const cJSON *ev = in->ev;

    /* Integer labels in predictions are named from eval.json, else data.json. */
    {
        where w = {ev ? in->peval : in->pdata, 0};
        const cJSON *src = ev && cJSON_HasObjectItem(ev, "labels") ? ev : in->data;
        if (src && (rc = get_strs(src, "labels", &elabels, &nel, &w, err))) goto done;
        P.labels = elabels;
        P.nlabels = nel;
    }
    if ((rc = each_jsonl(r->dir, "predictions.jsonl", ppred, sizeof ppred, &pred_present, pred_line, &P, err)) ||
        (rc = make_figdir(r)))
        goto done;
    fig_remove(r, "training_curves.png"); /* charts of a token-classification page */
    fig_remove(r, "per_type_f1.png");

    const char *model = NULL;
    double acc = NAN, loss = NAN, subset = NAN, hamming = NAN;
    int multi = ev && cJSON_HasObjectItem(ev, "per_label");
    {
        where wr = {in->prun, 0}, we = {in->peval, 0};
        if ((in->run && (rc = get_str(in->run, "model", &model, &wr, err))) ||
            (ev && ((rc = get_num(ev, "accuracy", &acc, &we, err)) || (rc = get_num(ev, "loss", &loss, &we, err)) ||
                    (rc = get_num(ev, "subset_accuracy", &subset, &we, err)) ||
                    (rc = get_num(ev, "hamming_loss", &hamming, &we, err)))))
            goto done;
        /* an eval run without run.json: its eval.json names the model */
        if (!model && ev && (rc = get_str(ev, "model", &model, &we, err))) goto done;
    }
    sb *h = &r->html;
    page_head(r, model, "BERT text classification: run report", "");
    if (isfinite(acc)) sb_printf(h, " &middot; test accuracy <b>%.2f%%</b>", acc * 100);
    if (multi && isfinite(subset)) sb_printf(h, " &middot; subset accuracy <b>%.2f%%</b>", subset * 100);
    if (multi && isfinite(hamming)) sb_printf(h, " &middot; Hamming loss %.4f", hamming);
    if (isfinite(loss)) sb_printf(h, " &middot; test loss %.4f%s", loss, multi ? " (binary cross-entropy)" : "");
    sb_puts(h, "</p>\n<nav><a href=\"#labels\">Data</a><a href=\"#training\">Training</a>"
               "<a href=\"#evaluation\">Evaluation</a><a href=\"#confusion\">");
    sb_puts(h, multi ? "Per-label F1" : "Confusion matrix");
    sb_puts(h, "</a>"
               "<a href=\"#classification-report\">Classification report</a><a href=\"#attention\">Attention</a>"
               "<a href=\"#predictions\">Predictions</a><a href=\"#settings\">Settings</a></nav>\n");
    if ((rc = section_data(r, in->data, in->pdata)) || (rc = section_log(r, &in->L, in->log_present)) ||
        (rc = section_eval(r, ev, in->peval)) || (rc = section_attention(r, in->at, in->pattn)))
        goto done;
    section_predictions(r, &P, pred_present);
    if ((rc = section_run(r, in->run, in->prun))) goto done;
    page_foot(r);
done:
    free(elabels);
    pred_free(&P);
    return rc;
}

/* The page of a token-classification (NER) run: loss and entity-F1 curves,
 * per-type F1, tag confusion matrix, seqeval report, highlighted samples. */
static int page_token(rep *r, const inputs *in) {
    bertc_err *err = r->err;
    tokpred T = {0};
    typeset *ts = calloc(1, sizeof *ts);
    char ppred[4096];
    int present = 0, rc;
    if (!ts) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", r->dir);
    if ((rc = each_jsonl(r->dir, "predictions.jsonl", ppred, sizeof ppred, &present, tok_pred_line, &T, err)) ||
        (rc = make_figdir(r)))
        goto done;
    static const char *const text_only[] = {"label_distribution.png", "token_lengths.png", "attention.png"};
    for (size_t i = 0; i < sizeof text_only / sizeof text_only[0]; i++) fig_remove(r, text_only[i]);

    /* Header numbers: eval.json's, else the last evaluation of run.json. */
    const char *model = NULL;
    const cJSON *src = in->ev ? in->ev : in->run;
    where wr = {in->prun, 0}, ws = {in->ev ? in->peval : in->prun, 0};
    const char *keys[2][5] = {{"f1", "precision", "recall", "accuracy", "loss"},
                              {"eval_f1", "eval_precision", "eval_recall", "eval_accuracy", "eval_loss"}};
    double v[5] = {NAN, NAN, NAN, NAN, NAN}, sentences = NAN, words = NAN;
    if (in->run && (rc = get_str(in->run, "model", &model, &wr, err))) goto done;
    if (!model && in->ev && (rc = get_str(in->ev, "model", &model, &ws, err))) goto done;
    for (int k = 0; k < 5 && src; k++)
        if ((rc = get_num(src, keys[in->ev ? 0 : 1][k], &v[k], &ws, err))) goto done;
    if (in->ev && ((rc = get_num(in->ev, "sentences", &sentences, &ws, err)) ||
                   (rc = get_num(in->ev, "words", &words, &ws, err))))
        goto done;

    sb *h = &r->html;
    page_head(r, model, "BERT token classification (NER): run report", TOKEN_CSS);
    if (isfinite(v[0])) sb_printf(h, " &middot; entity F1 <b>%.2f%%</b>", v[0] * 100);
    if (isfinite(v[1])) sb_printf(h, " &middot; precision %.2f%%", v[1] * 100);
    if (isfinite(v[2])) sb_printf(h, " &middot; recall %.2f%%", v[2] * 100);
    if (isfinite(v[3])) sb_printf(h, " &middot; token accuracy %.2f%%", v[3] * 100);
    if (isfinite(v[4])) sb_printf(h, " &middot; loss %.4f", v[4]);
    if (isfinite(sentences)) sb_printf(h, " &middot; %.0f sentences", sentences);
    if (isfinite(words)) sb_printf(h, ", %.0f words", words);
    sb_puts(h, "</p>\n<nav><a href=\"#training\">Training</a><a href=\"#per-type\">Per-type F1</a>"
               "<a href=\"#confusion\">Tag confusion matrix</a><a href=\"#classification-report\">Classification report</a>"
               "<a href=\"#predictions\">Sample sentences</a><a href=\"#settings\">Settings</a></nav>\n");
    if ((rc = tok_section_curves(r, &in->L, in->log_present)) || (rc = tok_section_eval(r, in->ev, in->peval, ts)) ||
        (rc = tok_section_samples(r, &T, present, ts)) || (rc = section_run(r, in->run, in->prun)))
        goto done;
    page_foot(r);
done:
    tokpred_free(&T);
    free(ts);
    return rc;
}

/* The task of a run: run.json's settings.task, else eval.json's task. */
static int is_token_run(const cJSON *run, const cJSON *ev) {
    const cJSON *settings = run ? cJSON_GetObjectItemCaseSensitive(run, "settings") : NULL;
    const cJSON *task = cJSON_IsObject(settings) ? cJSON_GetObjectItemCaseSensitive(settings, "task") : NULL;
    if (!cJSON_IsString(task) && ev) task = cJSON_GetObjectItemCaseSensitive(ev, "task");
    return cJSON_IsString(task) && strcmp(task->valuestring, "token-classification") == 0;
}

int bertc_report_write(const char *run_dir, bertc_err *err) {
    if (!run_dir || !bertc_is_dir(run_dir))
        return bertc_fail(err, BERTC_ERR_NOTFOUND, "%s: not a run directory (see docs/run-dir.md)",
                          run_dir ? run_dir : "(null)");
    rep r = {.dir = run_dir, .err = err};
    inputs *in = calloc(1, sizeof *in);
    char phtml[4096];
    int rc;
    if (!in) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", run_dir);

    /* 1. Load and check everything both pages read. */
    if ((rc = load_json(run_dir, "run.json", &in->run, in->prun, sizeof in->prun, err)) ||
        (rc = load_json(run_dir, "data.json", &in->data, in->pdata, sizeof in->pdata, err)) ||
        (rc = load_json(run_dir, "eval.json", &in->ev, in->peval, sizeof in->peval, err)) ||
        (rc = load_json(run_dir, "attention.json", &in->at, in->pattn, sizeof in->pattn, err)) ||
        (rc = each_jsonl(run_dir, "log.jsonl", in->plog, sizeof in->plog, &in->log_present, log_line, &in->L, err)))
        goto done;
    if (bertc_path_join(r.figdir, sizeof r.figdir, run_dir, "report") != 0 ||
        bertc_path_join(phtml, sizeof phtml, run_dir, "report.html") != 0) {
        rc = bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", run_dir);
        goto done;
    }

    /* 2. The page of the run's task: its own inputs, its charts, its sections. */
    page_fn page = is_token_run(in->run, in->ev) ? page_token : page_text;
    if ((rc = page(&r, in))) goto done;
    if (r.html.oom) { rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory building the page", phtml); goto done; }
    rc = bertc_write_file_atomic(phtml, r.html.p, r.html.len, err);

done:
    free(r.html.p);
    log_free(&in->L);
    cJSON_Delete(in->run);
    cJSON_Delete(in->data);
    cJSON_Delete(in->ev);
    cJSON_Delete(in->at);
    free(in);
    return rc;
}
