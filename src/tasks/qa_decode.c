/* qa_decode.c: run_qa's postprocess_qa_predictions and the 4.57 pipeline's
 * postprocess (qa_decode.h). */
#include "qa_decode.h"
#include "ops_cpu.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

void bertc_qa_postprocess_opts_default(bertc_qa_postprocess_opts *o) {
    o->version_2_with_negative = 0;
    o->n_best_size = 20;
    o->max_answer_length = 30;
    o->null_score_diff_threshold = 0.0f;
}

void bertc_qa_pipeline_opts_default(bertc_qa_pipeline_opts *o) {
    o->top_k = 1;
    o->max_answer_len = 15;
    o->handle_impossible_answer = 0;
    o->align_to_words = 1;
}

void bertc_qa_predictions_free(bertc_qa_prediction *p, int n) {
    if (!p) return;
    for (int i = 0; i < n; i++) free(p[i].nbest), memset(&p[i], 0, sizeof p[i]);
}

/* ------------------------------------------------------ shared helpers */

/* A candidate with the order it was found in, for stable sorting. */
typedef struct cand {
    bertc_qa_candidate c;
    double dscore;  /* the score used for ordering */
    long order;
} cand;

static int cmp_cand(const void *pa, const void *pb) {
    const cand *a = pa, *b = pb;
    if (a->dscore != b->dscore) return a->dscore > b->dscore ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

static int push(cand **v, int *n, int *cap, const cand *c) {
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 64;
        cand *p = realloc(*v, (size_t)nc * sizeof *p);
        if (!p) return -1;
        *v = p, *cap = nc;
    }
    (*v)[(*n)++] = *c;
    return 0;
}

/* idx[0..k) = the k largest of x[0..T) in descending order (np.argsort(x)[::-1][:k];
 * equal values: the higher index first, as the reversed argsort of distinct runs).
 * One pass with an insertion-sorted buffer: O(T k). */
static int top_indices(int *idx, const float *x, int T, int k) {
    int cnt = 0;
    for (int t = 0; t < T; t++) {
        /* t beats idx[q] when larger, or equal and later (t > idx[q] always) */
        if (cnt == k && !(x[t] >= x[idx[cnt - 1]])) continue;
        int q = cnt < k ? cnt++ : k - 1;
        while (q > 0 && x[t] >= x[idx[q - 1]]) {
            idx[q] = idx[q - 1];
            q--;
        }
        idx[q] = t;
    }
    return cnt;
}

/* ----------------------------------------------- (a) run_qa postprocess */

static const char EMPTY_TEXT[] = "empty";

static int postprocess_example(bertc_qa_prediction *out, const bertc_qa_example *ex, const bertc_qa_features *f,
                               const int *feats, int nf, const float *SL, const float *EL,
                               const bertc_qa_postprocess_opts *o, int *sidx, int *eidx, cand **v, int *cap,
                               bertc_err *err) {
    int n = 0, M = f->M, have_null = 0;
    cand null = {0};
    long order = 0;
    for (int k = 0; k < nf; k++) {
        int r = feats[k], T = f->padded ? M : f->len[r];
        const float *sl = SL + (size_t)r * M, *el = EL + (size_t)r * M;
        const int32_t *co = f->context_offsets + 2 * (size_t)r * M, *cb = f->context_bytes + 2 * (size_t)r * M;
        for (int t = 0; t < T; t++)
            if (!isfinite(sl[t]) || !isfinite(el[t]))
                return bertc_fail(err, BERTC_ERR_NUMERIC, "QA postprocess: feature %d token %d: non-finite logit", r,
                                  t);
        float fnull = sl[0] + el[0];
        if (!have_null || null.c.score > fnull) {
            memset(&null, 0, sizeof null);
            null.c.score = fnull, null.c.start_logit = sl[0], null.c.end_logit = el[0];
            null.dscore = fnull;
            have_null = 1;
        }
        int ns = top_indices(sidx, sl, T, o->n_best_size), ne = top_indices(eidx, el, T, o->n_best_size);
        for (int a = 0; a < ns; a++)
            for (int b = 0; b < ne; b++) {
                int s = sidx[a], e = eidx[b];
                if (co[2 * s] < 0 || co[2 * e] < 0) continue;
                if (e < s || e - s + 1 > o->max_answer_length) continue;
                cand c = {0};
                c.c.start = co[2 * s], c.c.end = co[2 * e + 1];
                c.c.byte_start = cb[2 * s], c.c.byte_end = cb[2 * e + 1];
                c.c.start_logit = sl[s], c.c.end_logit = el[e];
                c.c.score = sl[s] + el[e];
                c.dscore = c.c.score, c.order = order++;
                if (push(v, &n, cap, &c)) return bertc_fail(err, BERTC_ERR_NOMEM, "QA postprocess: out of memory");
            }
    }
    int v2 = o->version_2_with_negative;
    if (v2 && have_null) {
        null.order = order++;
        if (push(v, &n, cap, &null)) return bertc_fail(err, BERTC_ERR_NOMEM, "QA postprocess: out of memory");
    }
    qsort(*v, (size_t)n, sizeof **v, cmp_cand);
    if (n > o->n_best_size) n = o->n_best_size;
    if (v2 && have_null) {
        int found = 0;
        for (int i = 0; i < n && !found; i++) found = (*v)[i].c.start == 0 && (*v)[i].c.end == 0;
        if (!found && push(v, &n, cap, &null)) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    }
    /* no candidate, or only the null one: run_qa's "empty" placeholder goes first */
    int placeholder = n == 0 || (n == 1 && (*v)[0].c.start == (*v)[0].c.end);
    int total = n + placeholder;
    bertc_qa_candidate *nb = malloc((size_t)total * sizeof *nb);
    if (!nb) return bertc_fail(err, BERTC_ERR_NOMEM, "QA postprocess: out of memory");
    if (placeholder) {
        memset(&nb[0], 0, sizeof nb[0]);
        nb[0].start = nb[0].end = nb[0].byte_start = nb[0].byte_end = -1;
    }
    for (int i = 0; i < n; i++) nb[placeholder + i] = (*v)[i].c;
    double mx = -INFINITY, sum = 0;
    for (int i = 0; i < total; i++) mx = nb[i].score > mx ? nb[i].score : mx;
    for (int i = 0; i < total; i++) sum += (nb[i].probability = exp((double)nb[i].score - mx));
    for (int i = 0; i < total; i++) nb[i].probability /= sum;
    out->nbest = nb, out->n_best = total;
#define SET_TEXT(cand_)                                                                              \
    do {                                                                                             \
        const bertc_qa_candidate *c_ = (cand_);                                                      \
        out->start = c_->start, out->end = c_->end;                                                  \
        if (c_->start < 0) out->text = EMPTY_TEXT, out->text_len = 5;                                \
        else out->text = ex->context + c_->byte_start, out->text_len = (size_t)(c_->byte_end - c_->byte_start); \
    } while (0)
    out->score_diff = 0;
    if (!v2) {
        SET_TEXT(&nb[0]);
        return BERTC_OK;
    }
    int i = 0; /* the best non-null prediction (the placeholder's text "empty" counts as non-null) */
    while (i < total && nb[i].start == nb[i].end && nb[i].start == 0) i++;
    if (i == total) i = 0; /* unreachable: a lone null gets the placeholder */
    float diff = null.c.score - nb[i].start_logit;
    diff = diff - nb[i].end_logit;
    out->score_diff = diff;
    if (diff > o->null_score_diff_threshold) {
        out->text = ex->context, out->text_len = 0, out->start = out->end = 0;
    } else {
        SET_TEXT(&nb[i]);
    }
#undef SET_TEXT
    return BERTC_OK;
}

int bertc_qa_postprocess(bertc_qa_prediction *out, const bertc_qa_set *set, const bertc_qa_features *f,
                         const float *start_logits, const float *end_logits, const bertc_qa_postprocess_opts *o,
                         bertc_err *err) {
    bertc_qa_postprocess_opts d;
    if (!o) bertc_qa_postprocess_opts_default(&d), o = &d;
    if (o->n_best_size < 1 || o->max_answer_length < 1)
        return bertc_fail(err, BERTC_ERR_ARG, "QA postprocess: n_best_size %d and max_answer_length %d must be >= 1",
                          o->n_best_size, o->max_answer_length);
    for (int r = 0; r < f->F; r++)
        if (f->example[r] < 0 || f->example[r] >= set->n)
            return bertc_fail(err, BERTC_ERR_ARG, "QA postprocess: feature %d names example %d of %d: features and "
                              "set do not match", r, f->example[r], set->n);
    /* features of each example, in feature order (counting sort) */
    int *start = calloc((size_t)set->n + 1, sizeof *start), *order = malloc(((size_t)f->F + 1) * sizeof *order);
    int *sidx = malloc(((size_t)o->n_best_size + 1) * sizeof *sidx);
    int *eidx = malloc(((size_t)o->n_best_size + 1) * sizeof *eidx);
    int rc = BERTC_OK;
    if (!start || !order || !sidx || !eidx) rc = bertc_fail(err, BERTC_ERR_NOMEM, "QA postprocess: out of memory");
    for (int r = 0; !rc && r < f->F; r++) start[f->example[r] + 1]++;
    for (int i = 0; !rc && i < set->n; i++) start[i + 1] += start[i];
    int *fill = rc ? NULL : calloc((size_t)set->n + 1, sizeof *fill);
    if (!rc && !fill) rc = bertc_fail(err, BERTC_ERR_NOMEM, "QA postprocess: out of memory");
    for (int r = 0; !rc && r < f->F; r++) order[start[f->example[r]] + fill[f->example[r]]++] = r;
    cand *v = NULL;
    int cap = 0;
    for (int i = 0; !rc && i < set->n; i++) {
        memset(&out[i], 0, sizeof out[i]);
        rc = postprocess_example(&out[i], &set->ex[i], f, order + start[i], start[i + 1] - start[i], start_logits,
                                 end_logits, o, sidx, eidx, &v, &cap, err);
        if (rc) bertc_err_prefix(err, "question \"%s\"", set->ex[i].id);
    }
    if (rc) bertc_qa_predictions_free(out, set->n);
    free(v), free(start), free(order), free(fill), free(sidx), free(eidx);
    return rc;
}

/* ------------------------------------------- (b) the pipeline's postprocess */

/* a.lower() == b.lower(), code point by code point. */
static int lower_equal(const char *a, size_t al, const char *b, size_t bl) {
    size_t i = 0, j = 0;
    while (i < al && j < bl) {
        utf8proc_int32_t x, y;
        utf8proc_ssize_t m = utf8proc_iterate((const utf8proc_uint8_t *)a + i, (utf8proc_ssize_t)(al - i), &x);
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)b + j, (utf8proc_ssize_t)(bl - j), &y);
        if (m <= 0 || k <= 0) return al - i == bl - j && memcmp(a + i, b + j, al - i) == 0;
        if (utf8proc_tolower(x) != utf8proc_tolower(y)) return 0;
        i += (size_t)m, j += (size_t)k;
    }
    return i == al && j == bl;
}

/* Softmax over the window's n tokens with non-context tokens other than [CLS]
 * set to -10000 (select_starts_ends). */
static void masked_softmax(double *p, const float *x, const int8_t *seq, int n) {
    for (int t = 0; t < n; t++) p[t] = (t == 0 || seq[t] == 1) ? (double)x[t] : -10000.0;
    cpu_softmax_double(p, n);
}

int bertc_qa_pipeline_decode(bertc_qa_answer *out, int *n_out, const bertc_qa_example *ex,
                             const bertc_qa_features *f, int first, int count, const float *start_logits,
                             const float *end_logits, const bertc_qa_pipeline_opts *o, bertc_err *err) {
    bertc_qa_pipeline_opts d;
    if (!o) bertc_qa_pipeline_opts_default(&d), o = &d;
    *n_out = 0;
    if (o->top_k < 1 || o->max_answer_len < 1)
        return bertc_fail(err, BERTC_ERR_ARG, "QA pipeline: top_k %d and max_answer_len %d must be >= 1", o->top_k,
                          o->max_answer_len);
    if (first < 0 || count < 1 || first + count > f->F)
        return bertc_fail(err, BERTC_ERR_ARG, "QA pipeline: features %d..%d out of 0..%d", first, first + count - 1,
                          f->F - 1);
    int M = f->M, pre = o->align_to_words ? o->top_k * 2 + 10 : o->top_k;
    double *ps = malloc((size_t)M * sizeof *ps), *pe = malloc((size_t)M * sizeof *pe);
    cand *spans = NULL, *ans = NULL;
    int nspans = 0, scap = 0, nans = 0, acap = 0, rc = BERTC_OK;
    double min_null = 1000000.0;
    if (!ps || !pe) rc = bertc_fail(err, BERTC_ERR_NOMEM, "QA pipeline: out of memory");
    for (int r = first; !rc && r < first + count; r++) {
        int n = f->len[r];
        size_t base = (size_t)r * M;
        const int8_t *seq = f->sequence_ids + base;
        const int32_t *off = f->offsets + 2 * base, *cb = f->context_bytes + 2 * base, *wid = f->word_ids + base;
        for (int t = 0; t < n; t++)
            if (!isfinite(start_logits[base + t]) || !isfinite(end_logits[base + t]))
                rc = bertc_fail(err, BERTC_ERR_NUMERIC, "QA pipeline: feature %d token %d: non-finite logit", r, t);
        if (rc) break;
        masked_softmax(ps, start_logits + base, seq, n);
        masked_softmax(pe, end_logits + base, seq, n);
        if (o->handle_impossible_answer && ps[0] * pe[0] < min_null) min_null = ps[0] * pe[0];
        nspans = 0;
        for (int s = 1; s < n && !rc; s++) {
            if (seq[s] != 1) continue;
            for (int e = s; e < n && e - s < o->max_answer_len && seq[e] == 1; e++) {
                cand c = {0};
                c.c.start = s, c.c.end = e;
                c.dscore = ps[s] * pe[e], c.order = (long)s * n + e;
                if (push(&spans, &nspans, &scap, &c)) rc = bertc_fail(err, BERTC_ERR_NOMEM, "QA pipeline: out of memory");
            }
        }
        if (rc) break;
        qsort(spans, (size_t)nspans, sizeof *spans, cmp_cand);
        for (int k = 0; k < nspans && k < pre; k++) {
            int s = spans[k].c.start, e = spans[k].c.end, a = s, b = e;
            if (o->align_to_words) { /* the whole first and last words, as far as the window holds them */
                while (a > 0 && seq[a - 1] == 1 && wid[a - 1] == wid[s]) a--;
                while (b + 1 < n && seq[b + 1] == 1 && wid[b + 1] == wid[e]) b++;
            }
            cand c = {0};
            c.c.start = off[2 * a], c.c.end = off[2 * b + 1];
            c.c.byte_start = cb[2 * a], c.c.byte_end = cb[2 * b + 1];
            c.dscore = spans[k].dscore;
            int j = 0;
            for (; j < nans; j++)
                if (lower_equal(ex->context + ans[j].c.byte_start, (size_t)(ans[j].c.byte_end - ans[j].c.byte_start),
                                ex->context + c.c.byte_start, (size_t)(c.c.byte_end - c.c.byte_start)))
                    break;
            if (j < nans) {
                ans[j].dscore += c.dscore;
            } else {
                c.order = nans;
                if (push(&ans, &nans, &acap, &c)) rc = bertc_fail(err, BERTC_ERR_NOMEM, "QA pipeline: out of memory");
            }
        }
    }
    if (!rc && o->handle_impossible_answer) {
        cand c = {0};
        c.dscore = min_null, c.order = nans;
        if (push(&ans, &nans, &acap, &c)) rc = bertc_fail(err, BERTC_ERR_NOMEM, "QA pipeline: out of memory");
    }
    if (!rc) {
        qsort(ans, (size_t)nans, sizeof *ans, cmp_cand);
        int k = nans < o->top_k ? nans : o->top_k;
        for (int i = 0; i < k; i++) {
            out[i].score = ans[i].dscore;
            out[i].start = ans[i].c.start, out[i].end = ans[i].c.end;
            out[i].byte_start = ans[i].c.byte_start, out[i].byte_end = ans[i].c.byte_end;
        }
        *n_out = k;
    }
    free(ps), free(pe), free(spans), free(ans);
    return rc;
}
