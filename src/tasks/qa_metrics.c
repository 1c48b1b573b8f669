/* qa_metrics.c: SQuAD v1.1 / v2.0 exact match and F1 (qa_metrics.h). */
#include "qa_metrics.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ------------------------------------------------- Python str semantics */

/* Decodes s into code points (ill-formed bytes become U+FFFD). *out malloc'd. */
static int decode(int32_t **out, int *n, const char *s, size_t len) {
    int32_t *cp = malloc((len + 1) * sizeof *cp);
    if (!cp) return -1;
    size_t i = 0;
    int k = 0;
    while (i < len) {
        utf8proc_int32_t c;
        utf8proc_ssize_t m = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &c);
        if (m <= 0) c = 0xFFFD, m = 1;
        cp[k++] = c;
        i += (size_t)m;
    }
    *out = cp, *n = k;
    return 0;
}

static int cat_of(int32_t c) { return utf8proc_category(c); }

/* Unicode "Cased": Lu, Ll, Lt, or a character with a case mapping. */
static int is_cased(int32_t c) {
    int k = cat_of(c);
    return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT ||
           utf8proc_tolower(c) != c || utf8proc_toupper(c) != c;
}

/* Unicode "Case_Ignorable": Mn, Me, Cf, Lm, Sk and the Word_Break MidLetter,
 * MidNumLet and Single_Quote characters. */
static int is_case_ignorable(int32_t c) {
    int k = cat_of(c);
    if (k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_ME || k == UTF8PROC_CATEGORY_CF ||
        k == UTF8PROC_CATEGORY_LM || k == UTF8PROC_CATEGORY_SK)
        return 1;
    switch (c) {
    case 0x27: case 0x2E: case 0x3A: case 0xB7: case 0x387: case 0x5F4: case 0x2018: case 0x2019:
    case 0x2024: case 0x2027: case 0xFE13: case 0xFE52: case 0xFE55: case 0xFF07: case 0xFF0E: case 0xFF1A:
        return 1;
    default:
        return 0;
    }
}

/* CPython's handle_capital_sigma: final sigma when preceded by a cased letter
 * (skipping case-ignorables) and not followed by one. */
static int32_t lower_sigma(const int32_t *s, int n, int i) {
    int j = i - 1;
    while (j >= 0 && is_case_ignorable(s[j])) j--;
    int fin = j >= 0 && is_cased(s[j]);
    if (fin) {
        j = i + 1;
        while (j < n && is_case_ignorable(s[j])) j++;
        fin = j == n || !is_cased(s[j]);
    }
    return fin ? 0x3C2 : 0x3C3;
}

/* re's \w for str patterns: alphanumeric (L*, N*) or '_'. */
static int is_word(int32_t c) {
    if (c == '_') return 1;
    int k = cat_of(c);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO);
}

static int is_ascii_punct(int32_t c) {
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
}

/* normalize_answer on code points: lower -> remove_punc -> remove_articles ->
 * white_space_fix. out needs 2 n + 1 entries (U+0130 lower-cases to two). */
static int normalize_cp(int32_t *out, const int32_t *s, int n) {
    int32_t *a = malloc((2 * (size_t)n + 1) * sizeof *a);
    if (!a) return -1;
    int m = 0;
    for (int i = 0; i < n; i++) { /* lower, then drop ASCII punctuation */
        int32_t c = s[i];
        if (c == 0x130) {
            a[m++] = 'i', a[m++] = 0x307;
            continue;
        }
        c = c == 0x3A3 ? lower_sigma(s, n, i) : utf8proc_tolower(c);
        if (!is_ascii_punct(c)) a[m++] = c;
    }
    /* re.sub(r"\b(a|an|the)\b", " ", a): boundaries are judged on a itself */
    int32_t *b = malloc((2 * (size_t)n + 1) * sizeof *b);
    if (!b) {
        free(a);
        return -1;
    }
    int k = 0;
    for (int i = 0; i < m;) {
        int len = 0;
        if (a[i] == 'a' || a[i] == 't') {
            int lb = i == 0 || !is_word(a[i - 1]);
            static const char *const art[3] = {"a", "an", "the"};
            for (int w = 0; lb && w < 3 && !len; w++) {
                int L = (int)strlen(art[w]), ok = i + L <= m;
                for (int q = 0; ok && q < L; q++) ok = a[i + q] == art[w][q];
                if (ok && (i + L == m || !is_word(a[i + L]))) len = L;
            }
        }
        if (len) b[k++] = ' ', i += len;
        else b[k++] = a[i++];
    }
    /* " ".join(text.split()) */
    int o = 0;
    for (int i = 0; i < k;) {
        while (i < k && bertc_qa_py_isspace(b[i])) i++;
        if (i == k) break;
        if (o) out[o++] = ' ';
        while (i < k && !bertc_qa_py_isspace(b[i])) out[o++] = b[i++];
    }
    free(a), free(b);
    return o;
}

static char *encode(const int32_t *cp, int n, size_t *len) {
    char *s = malloc(4 * (size_t)n + 1);
    if (!s) return NULL;
    size_t k = 0;
    for (int i = 0; i < n; i++) k += (size_t)utf8proc_encode_char(cp[i], (utf8proc_uint8_t *)s + k);
    s[k] = 0;
    *len = k;
    return s;
}

int bertc_qa_normalize(char **out, size_t *out_len, const char *s, size_t len, bertc_err *err) {
    int32_t *cp = NULL, *nm = NULL;
    int n = 0;
    if (decode(&cp, &n, s, len) || !(nm = malloc((2 * (size_t)n + 1) * sizeof *nm))) {
        free(cp);
        return bertc_fail(err, BERTC_ERR_NOMEM, "SQuAD metrics: out of memory");
    }
    int m = normalize_cp(nm, cp, n);
    char *r = m < 0 ? NULL : encode(nm, m, out_len);
    free(cp), free(nm);
    if (!r) return bertc_fail(err, BERTC_ERR_NOMEM, "SQuAD metrics: out of memory");
    *out = r;
    return BERTC_OK;
}

/* ------------------------------------------------------------- scores */

/* A normalized answer split into tokens (pointers into text). */
typedef struct toks {
    char *text;
    size_t len;
    int n;
    const char **t;
    size_t *tl;
} toks;

static int toks_make(toks *k, const char *s, size_t len, bertc_err *err) {
    memset(k, 0, sizeof *k);
    int rc = bertc_qa_normalize(&k->text, &k->len, s, len, err);
    if (rc) return rc;
    size_t cap = k->len / 2 + 2;
    k->t = malloc(cap * sizeof *k->t), k->tl = malloc(cap * sizeof *k->tl);
    if (!k->t || !k->tl) return bertc_fail(err, BERTC_ERR_NOMEM, "SQuAD metrics: out of memory");
    /* normalized text has single ASCII spaces between tokens */
    for (size_t i = 0; i < k->len;) {
        size_t j = i;
        while (j < k->len && k->text[j] != ' ') j++;
        k->t[k->n] = k->text + i, k->tl[k->n] = j - i, k->n++;
        i = j + 1;
    }
    return BERTC_OK;
}

static void toks_free(toks *k) { free(k->text), free(k->t), free(k->tl); }

/* sum(Counter(a) & Counter(b)).values(): greedy one-to-one matching of equal tokens. */
static int common_count(const toks *a, const toks *b) {
    char *used = calloc((size_t)b->n + 1, 1);
    if (!used) return -1;
    int c = 0;
    for (int i = 0; i < a->n; i++)
        for (int j = 0; j < b->n; j++)
            if (!used[j] && a->tl[i] == b->tl[j] && memcmp(a->t[i], b->t[j], a->tl[i]) == 0) {
                used[j] = 1, c++;
                break;
            }
    free(used);
    return c;
}

/* exact and F1 of one pred/gold pair; v2 selects the v2.0 empty-token rule. */
static int pair_score(bertc_qa_score *out, const toks *p, const toks *g, int v2, bertc_err *err) {
    out->exact = p->len == g->len && memcmp(p->text, g->text, p->len) == 0;
    int same = common_count(p, g);
    if (same < 0) return bertc_fail(err, BERTC_ERR_NOMEM, "SQuAD metrics: out of memory");
    if (v2 && (p->n == 0 || g->n == 0)) {
        out->f1 = p->n == g->n; /* int(gold_toks == pred_toks): both empty */
        return BERTC_OK;
    }
    if (same == 0) {
        out->f1 = 0;
        return BERTC_OK;
    }
    double precision = 1.0 * same / p->n, recall = 1.0 * same / g->n;
    out->f1 = (2 * precision * recall) / (precision + recall);
    return BERTC_OK;
}

static int score_max(bertc_qa_score *out, const char *pred, size_t pred_len, const char *const *golds,
                     const size_t *gold_lens, int ngold, int v2, bertc_err *err) {
    toks p, g;
    int rc = toks_make(&p, pred, pred_len, err), any = 0;
    bertc_qa_score best = {0, 0};
    for (int i = 0; !rc && i < ngold; i++) {
        rc = toks_make(&g, golds[i], gold_lens[i], err);
        if (!rc && v2 && g.len == 0) { /* v2.0 drops golds that normalize to "" */
            toks_free(&g);
            continue;
        }
        bertc_qa_score s;
        if (!rc) rc = pair_score(&s, &p, &g, v2, err);
        toks_free(&g);
        if (!rc) {
            if (!any || s.exact > best.exact) best.exact = s.exact;
            if (!any || s.f1 > best.f1) best.f1 = s.f1;
            any = 1;
        }
    }
    if (!rc && !any) { /* v2.0 no-answer question: the only gold is "" */
        rc = toks_make(&g, "", 0, err);
        if (!rc) rc = pair_score(&best, &p, &g, v2, err);
        toks_free(&g);
    }
    toks_free(&p);
    if (!rc) *out = best;
    return rc;
}

int bertc_qa_score_v1(bertc_qa_score *out, const char *pred, size_t pred_len, const char *const *golds,
                      const size_t *gold_lens, int ngold, bertc_err *err) {
    if (ngold < 1)
        return bertc_fail(err, BERTC_ERR_ARG, "SQuAD v1.1 scoring needs at least one gold answer (use v2.0 for "
                          "questions without one)");
    return score_max(out, pred, pred_len, golds, gold_lens, ngold, 0, err);
}

int bertc_qa_score_v2(bertc_qa_score *out, const char *pred, size_t pred_len, const char *const *golds,
                      const size_t *gold_lens, int ngold, bertc_err *err) {
    if (ngold < 0) return bertc_fail(err, BERTC_ERR_ARG, "SQuAD v2.0 scoring: %d gold answers", ngold);
    return score_max(out, pred, pred_len, golds, gold_lens, ngold, 1, err);
}

int bertc_qa_evaluate(bertc_qa_totals *out, const bertc_qa_set *set, const char *const *preds,
                      const size_t *pred_lens, int v2, bertc_err *err) {
    if (set->n < 1) return bertc_fail(err, BERTC_ERR_ARG, "SQuAD metrics: no questions to score");
    bertc_qa_totals t;
    memset(&t, 0, sizeof t);
    t.version = v2 ? 2 : 1;
    for (int i = 0; i < set->n; i++) {
        const bertc_qa_example *e = &set->ex[i];
        bertc_qa_score s;
        int rc = v2 ? bertc_qa_score_v2(&s, preds[i], pred_lens[i], (const char *const *)e->answer_text,
                                        e->answer_len, e->n_answers, err)
                    : bertc_qa_score_v1(&s, preds[i], pred_lens[i], (const char *const *)e->answer_text,
                                        e->answer_len, e->n_answers, err);
        if (rc) return bertc_err_prefix(err, "question \"%s\"", e->id);
        t.exact += s.exact, t.f1 += s.f1, t.total++;
        if (e->n_answers > 0) t.has_exact += s.exact, t.has_f1 += s.f1, t.has_total++;
        else t.no_exact += s.exact, t.no_f1 += s.f1, t.no_total++;
    }
    t.exact = 100.0 * t.exact / t.total, t.f1 = 100.0 * t.f1 / t.total;
    if (t.has_total) t.has_exact = 100.0 * t.has_exact / t.has_total, t.has_f1 = 100.0 * t.has_f1 / t.has_total;
    if (t.no_total) t.no_exact = 100.0 * t.no_exact / t.no_total, t.no_f1 = 100.0 * t.no_f1 / t.no_total;
    *out = t;
    return BERTC_OK;
}

cJSON *bertc_qa_totals_json(const bertc_qa_totals *t) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    int ok = 1;
    if (t->version == 1) {
        ok &= cJSON_AddNumberToObject(j, "exact_match", t->exact) != NULL;
        ok &= cJSON_AddNumberToObject(j, "f1", t->f1) != NULL;
    } else {
        ok &= cJSON_AddNumberToObject(j, "exact", t->exact) != NULL;
        ok &= cJSON_AddNumberToObject(j, "f1", t->f1) != NULL;
        ok &= cJSON_AddNumberToObject(j, "total", t->total) != NULL;
        if (t->has_total) {
            ok &= cJSON_AddNumberToObject(j, "HasAns_exact", t->has_exact) != NULL;
            ok &= cJSON_AddNumberToObject(j, "HasAns_f1", t->has_f1) != NULL;
            ok &= cJSON_AddNumberToObject(j, "HasAns_total", t->has_total) != NULL;
        }
        if (t->no_total) {
            ok &= cJSON_AddNumberToObject(j, "NoAns_exact", t->no_exact) != NULL;
            ok &= cJSON_AddNumberToObject(j, "NoAns_f1", t->no_f1) != NULL;
            ok &= cJSON_AddNumberToObject(j, "NoAns_total", t->no_total) != NULL;
        }
    }
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}
