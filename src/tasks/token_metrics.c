/* token_metrics.c: seqeval's entity extraction, scores and report. Contract in
 * token_metrics.h; the rules are seqeval 1.2.2's metrics/sequence_labeling.py. */
#include "tasks/token_metrics.h"
#include "metrics.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A tag as seqeval reads it: prefix = the first character, type = what follows
 * the first '-' after it (or all of the rest when there is no '-'), "_" if empty. */
typedef struct tag_info {
    int prefix; /* the first character when it is ASCII ('B', 'I', 'E', 'S', 'O', '.', ...), else 0 */
    int type;   /* index into the interned type names */
} tag_info;

typedef struct entity {
    int type;
    long start, end; /* word positions in the joined sequence, end inclusive */
} entity;

typedef struct ent_list {
    entity *e;
    size_t n, cap;
} ent_list;

static int ent_push(ent_list *l, int type, long start, long end) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        entity *q = realloc(l->e, cap * sizeof *q);
        if (!q) return -1;
        l->e = q;
        l->cap = cap;
    }
    l->e[l->n++] = (entity){type, start, end};
    return 0;
}

/* seqeval's end_of_chunk and start_of_chunk, literally. */
static int end_of_chunk(int prev_tag, int tag, int prev_type, int type) {
    int end = 0;
    if (prev_tag == 'E' || prev_tag == 'S') end = 1;
    if (prev_tag == 'B' && (tag == 'B' || tag == 'S' || tag == 'O')) end = 1;
    if (prev_tag == 'I' && (tag == 'B' || tag == 'S' || tag == 'O')) end = 1;
    if (prev_tag != 'O' && prev_tag != '.' && prev_type != type) end = 1;
    return end;
}
static int start_of_chunk(int prev_tag, int tag, int prev_type, int type) {
    int start = 0;
    if (tag == 'B' || tag == 'S') start = 1;
    if ((prev_tag == 'E' || prev_tag == 'S' || prev_tag == 'O') && (tag == 'E' || tag == 'I')) start = 1;
    if (tag != 'O' && tag != '.' && prev_type != type) start = 1;
    return start;
}

/* State of get_entities over the joined sequence. */
typedef struct chunker {
    int prev_tag, prev_type;
    long begin;
} chunker;

static int chunk_step(chunker *c, ent_list *out, tag_info t, long i) {
    if (end_of_chunk(c->prev_tag, t.prefix, c->prev_type, t.type) &&
        ent_push(out, c->prev_type, c->begin, i - 1))
        return -1;
    if (start_of_chunk(c->prev_tag, t.prefix, c->prev_type, t.type)) c->begin = i;
    c->prev_tag = t.prefix;
    c->prev_type = t.type;
    return 0;
}

/* numpy's pairwise summation of doubles (add.reduce on a contiguous array),
 * so that means are bit-equal to seqeval's np.average. */
static double pairwise_sum(const double *a, long n) {
    if (n < 8) {
        double res = 0.;
        for (long i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        long i;
        for (int j = 0; j < 8; j++) r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    long n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

static bertc_token_prf prf(long tp, long pred, long gold) {
    bertc_token_prf s = {0, 0, 0, gold};
    if (pred > 0) s.precision = (double)tp / (double)pred;
    if (gold > 0) s.recall = (double)tp / (double)gold;
    double denom = s.precision + s.recall;
    if (denom != 0) s.f1 = 2.0 * s.precision * s.recall / denom;
    return s;
}

static size_t utf8_char_len(const unsigned char *s) {
    if (s[0] < 0x80) return 1;
    size_t n = 1;
    while (s[n] && (s[n] & 0xC0) == 0x80) n++;
    return n;
}

/* Interned type names: a type's index is its position in names[]. */
typedef struct types {
    char **names;
    int n, cap;
} types;

static int intern(types *T, const char *s, size_t len) {
    for (int i = 0; i < T->n; i++)
        if (strlen(T->names[i]) == len && memcmp(T->names[i], s, len) == 0) return i;
    if (T->n == T->cap) {
        int cap = T->cap ? T->cap * 2 : 16;
        char **q = realloc(T->names, (size_t)cap * sizeof *q);
        if (!q) return -1;
        T->names = q;
        T->cap = cap;
    }
    char *d = malloc(len + 1);
    if (!d) return -1;
    memcpy(d, s, len);
    d[len] = '\0';
    T->names[T->n] = d;
    return T->n++;
}

/* seqeval: tag = chunk[0]; type = chunk[1:].split('-', maxsplit=1)[-1] or '_' */
static int parse_tag(tag_info *out, types *T, const char *label) {
    const unsigned char *u = (const unsigned char *)label;
    size_t first = utf8_char_len(u);
    out->prefix = (first == 1) ? u[0] : 0;
    const char *rest = label + first;
    const char *dash = strchr(rest, '-');
    const char *type = dash ? dash + 1 : rest;
    size_t len = strlen(type);
    out->type = len ? intern(T, type, len) : intern(T, "_", 1);
    return out->type < 0 ? -1 : 0;
}

typedef struct named_type {
    const char *name;
    int k; /* interned index */
} named_type;
static int cmp_named_type(const void *a, const void *b) {
    return strcmp(((const named_type *)a)->name, ((const named_type *)b)->name);
}

int bertc_token_metrics(bertc_token_scores *out, const int32_t *const *gold,
                        const int32_t *const *pred, const int *lens, int n_sent,
                        const char *const *labels, int num_labels, bertc_err *err) {
    memset(out, 0, sizeof *out);
    if (n_sent < 0 || num_labels < 1 || !labels || (n_sent > 0 && (!gold || !pred || !lens)))
        return bertc_fail(err, BERTC_ERR_ARG, "token metrics: give n_sent >= 0 sentences of gold and predicted ids "
                                              "and at least one label name (got %d sentences, %d labels)",
                          n_sent, num_labels);
    for (int i = 0; i < num_labels; i++)
        if (!labels[i] || !labels[i][0])
            return bertc_fail(err, BERTC_ERR_ARG, "token metrics: label %d has no name: seqeval needs a tag such as \"O\" or \"B-PER\"", i);

    int rc = BERTC_OK;
    types T = {0};
    tag_info *info = malloc((size_t)(num_labels + 1) * sizeof *info); /* [0] is "O" for pred -1 */
    ent_list eg = {0}, ep = {0};
    long *counts = NULL;
    named_type *order = NULL;
    double *vals = NULL;
    if (!info) goto nomem;
    if (parse_tag(&info[0], &T, "O")) goto nomem;
    for (int i = 0; i < num_labels; i++)
        if (parse_tag(&info[i + 1], &T, labels[i])) goto nomem;
    int o_is_label = -1; /* the id named "O", for accuracy against pred -1 */
    for (int i = 0; i < num_labels; i++)
        if (strcmp(labels[i], "O") == 0) o_is_label = i;

    /* get_entities over the sentences joined with an "O" after each */
    chunker cg = {'O', -1, 0}, cp = {'O', -1, 0};
    long pos = 0;
    for (int s = 0; s < n_sent; s++) {
        if (lens[s] < 0 || (lens[s] > 0 && (!gold[s] || !pred[s]))) {
            rc = bertc_fail(err, BERTC_ERR_ARG, "token metrics: sentence %d has %d words but no ids", s, lens[s]);
            goto done;
        }
        for (int w = 0; w < lens[s]; w++, pos++) {
            int g = gold[s][w], p = pred[s][w];
            if (g < 0 || g >= num_labels || p < -1 || p >= num_labels) {
                rc = bertc_fail(err, BERTC_ERR_ARG,
                                "token metrics: sentence %d word %d: gold id %d / predicted id %d outside the %d labels "
                                "(gold 0..%d, predicted -1..%d, -1 = \"O\" for a word cut off)",
                                s, w, g, p, num_labels, num_labels - 1, num_labels - 1);
                goto done;
            }
            if (chunk_step(&cg, &eg, info[g + 1], pos) || chunk_step(&cp, &ep, info[p + 1], pos)) goto nomem;
            out->tokens++;
            if (p == g || (p < 0 && g == o_is_label)) out->tokens_correct++;
        }
        if (chunk_step(&cg, &eg, info[0], pos) || chunk_step(&cp, &ep, info[0], pos)) goto nomem;
        pos++;
    }
    out->accuracy = out->tokens ? (double)out->tokens_correct / (double)out->tokens : 0.0;

    /* per type: gold, predicted and correct counts. Entities come out with strictly
       increasing ends, so one merge on the end finds the equal ones. */
    int K = T.n;
    counts = calloc((size_t)K * 3, sizeof *counts);
    order = malloc((size_t)K * sizeof *order);
    if (!counts || !order) goto nomem;
    long *cgold = counts, *cpred = counts + K, *ctp = counts + 2 * K;
    for (size_t i = 0; i < eg.n; i++) cgold[eg.e[i].type]++;
    for (size_t i = 0; i < ep.n; i++) cpred[ep.e[i].type]++;
    for (size_t i = 0, j = 0; i < eg.n && j < ep.n;) {
        if (eg.e[i].end < ep.e[j].end) i++;
        else if (eg.e[i].end > ep.e[j].end) j++;
        else {
            if (eg.e[i].start == ep.e[j].start && eg.e[i].type == ep.e[j].type) ctp[eg.e[i].type]++;
            i++;
            j++;
        }
    }
    int nt = 0;
    size_t name_bytes = 0;
    for (int k = 0; k < K; k++)
        if (cgold[k] || cpred[k]) {
            order[nt++] = (named_type){T.names[k], k};
            name_bytes += strlen(T.names[k]) + 1;
        }
    qsort(order, (size_t)nt, sizeof *order, cmp_named_type); /* Python's sorted(): code points */
    out->types = calloc((size_t)(nt ? nt : 1), sizeof *out->types);
    out->names_ = malloc(name_bytes ? name_bytes : 1);
    vals = malloc((size_t)(nt ? nt : 1) * 5 * sizeof *vals);
    if (!out->types || !out->names_ || !vals) goto nomem;
    out->num_types = nt;
    long tp = 0, np = 0, ng = 0;
    char *nm = out->names_;
    for (int i = 0; i < nt; i++) {
        int k = order[i].k;
        bertc_token_type_score *ts = &out->types[i];
        size_t len = strlen(T.names[k]) + 1;
        memcpy(nm, T.names[k], len);
        ts->name = nm;
        nm += len;
        ts->s = prf(ctp[k], cpred[k], cgold[k]);
        ts->predicted = cpred[k];
        ts->correct = ctp[k];
        tp += ctp[k];
        np += cpred[k];
        ng += cgold[k];
        if (cpred[k] == 0) out->types_no_pred++;
        if (cgold[k] == 0) out->types_no_gold++;
    }
    out->micro = prf(tp, np, ng);
    out->precision = out->micro.precision;
    out->recall = out->micro.recall;
    out->f1 = out->micro.f1;

    /* macro: np.average(x) = pairwise sum / n; weighted: sum(x * w) / sum(w) */
    double *vp = vals, *vr = vals + nt, *vf = vals + 2 * nt, *vw = vals + 3 * nt, *vx = vals + 4 * nt;
    for (int i = 0; i < nt; i++) {
        vp[i] = out->types[i].s.precision;
        vr[i] = out->types[i].s.recall;
        vf[i] = out->types[i].s.f1;
        vw[i] = (double)out->types[i].s.support;
    }
    out->macro.support = ng;
    out->weighted.support = ng;
    if (nt > 0) {
        out->macro.precision = pairwise_sum(vp, nt) / (double)nt;
        out->macro.recall = pairwise_sum(vr, nt) / (double)nt;
        out->macro.f1 = pairwise_sum(vf, nt) / (double)nt;
    }
    if (ng > 0) {
        double scl = pairwise_sum(vw, nt);
        double *src[3] = {vp, vr, vf}, *dst[3] = {&out->weighted.precision, &out->weighted.recall, &out->weighted.f1};
        for (int m = 0; m < 3; m++) {
            for (int i = 0; i < nt; i++) vx[i] = src[m][i] * vw[i];
            *dst[m] = pairwise_sum(vx, nt) / scl;
        }
    }
    goto done;
nomem:
    rc = bertc_fail(err, BERTC_ERR_NOMEM, "token metrics: out of memory");
done:
    for (int i = 0; i < T.n; i++) free(T.names[i]);
    free(T.names);
    free(info);
    free(eg.e);
    free(ep.e);
    free(counts);
    free(order);
    free(vals);
    if (rc) bertc_token_scores_free(out);
    return rc;
}

/* ------------------------------------------------------------------ */
/* classification_report                                                */

/* seqeval's StringReporter: sklearn's layout (metrics.h's report table), one row
 * per entity type, then micro, macro and weighted averages. */
static void report_row(bertc_report_text *t, const char *name, const bertc_token_prf *s) {
    bertc_report_row(t, name, s->precision, s->recall, s->f1, (long long)s->support);
}

int bertc_token_report(char **text, const bertc_token_scores *s, int digits, bertc_err *err) {
    *text = NULL;
    if (digits < 0 || digits > 20)
        return bertc_fail(err, BERTC_ERR_ARG, "token report: digits %d: use 0 to 20", digits);
    const char **names = malloc((size_t)(s->num_types > 0 ? s->num_types : 1) * sizeof *names);
    if (!names) return bertc_fail(err, BERTC_ERR_NOMEM, "token report: out of memory");
    for (int i = 0; i < s->num_types; i++) names[i] = s->types[i].name;
    bertc_report_text t;
    bertc_report_start(&t, names, s->num_types, digits);
    free(names);
    for (int i = 0; i < s->num_types; i++) report_row(&t, s->types[i].name, &s->types[i].s);
    bertc_report_printf(&t, "\n");
    report_row(&t, "micro avg", &s->micro);
    report_row(&t, "macro avg", &s->macro);
    report_row(&t, "weighted avg", &s->weighted);
    return bertc_report_finish(&t, text, "token report", err);
}

void bertc_token_scores_free(bertc_token_scores *s) {
    if (!s) return;
    free(s->types);
    free(s->names_);
    memset(s, 0, sizeof *s);
}
