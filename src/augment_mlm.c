/* augment_mlm.c: contextual word substitution with a masked-LM head (the second
 * augmentation method of augment.h). See augment.h, "Contextual substitution". */
#include "augment.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bert.h"
#include "hfmodel.h"
#include "ops_cpu.h"
#include "safetensors.h"
#include "tokenizer.h"

struct bertc_mlm {
    hf_model hf;          /* the encoder (its classification head is not used) */
    bert_model m;         /* built for Bmax x Tmax, inference */
    bert_tokenizer *tok;
    bert_special_ids sp;
    int V, C, L, Bmax, Tmax;
    float *dw, *db, *lnw, *lnb, *decw, *decb; /* the head; decw points at wte when tied */
    int tied;                                 /* 1: decw is hf.params.wte (not owned) */
    float eps;
    unsigned char *cand; /* (V) 1: a whole word of letters (not special, not a ##piece) */
    float *hidden;       /* ((L+1), Bmax, Tmax, C) */
    float *rowbuf;       /* (Bmax*Tmax, C) x 3 and (Bmax*Tmax) x 2 */
};

/* Where each family keeps the head (transformers' names). The decoder weight is
 * optional (tied to the word embeddings); its bias is the Linear's own
 * (decoder.bias: what the forward adds) or, in files that kept only the tied
 * alias, cls.predictions.bias. */
typedef struct {
    const char *dense_w, *dense_b, *ln_w, *ln_w2, *ln_b, *ln_b2, *dec_w, *dec_b, *dec_b2;
} mlm_names;
static const mlm_names bert_names = {
    .dense_w = "cls.predictions.transform.dense.weight", .dense_b = "cls.predictions.transform.dense.bias",
    .ln_w = "cls.predictions.transform.LayerNorm.weight", .ln_w2 = "cls.predictions.transform.LayerNorm.gamma",
    .ln_b = "cls.predictions.transform.LayerNorm.bias", .ln_b2 = "cls.predictions.transform.LayerNorm.beta",
    .dec_w = "cls.predictions.decoder.weight", .dec_b = "cls.predictions.decoder.bias", .dec_b2 = "cls.predictions.bias"};
static const mlm_names distil_names = {
    .dense_w = "vocab_transform.weight", .dense_b = "vocab_transform.bias", .ln_w = "vocab_layer_norm.weight",
    .ln_w2 = NULL, .ln_b = "vocab_layer_norm.bias", .ln_b2 = NULL, .dec_w = "vocab_projector.weight",
    .dec_b = "vocab_projector.bias", .dec_b2 = NULL};

static const st_tensor *find2(const st_file *f, const char *a, const char *b) {
    const st_tensor *t = st_find(f, a);
    return t || !b ? t : st_find(f, b);
}

/* Copies tensor name (numel floats, shape rows x cols or (cols) when rows is 0) into a new array. */
static int take(float **dst, const st_file *f, const st_tensor *t, const char *name, int64_t rows, int64_t cols,
                bertc_err *err) {
    if (!t) return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s: missing (a masked-LM head needs it)", st_path(f), name);
    int ok = rows ? (t->rank == 2 && t->shape[0] == rows && t->shape[1] == cols) : (t->rank == 1 && t->shape[0] == cols);
    if (!ok)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s: shape does not match the model (%lld x %lld expected)",
                          st_path(f), t->name, (long long)(rows ? rows : 1), (long long)cols);
    *dst = malloc(t->numel * sizeof **dst);
    if (!*dst) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", t->name);
    return st_tensor_to_f32(*dst, t->numel, f, t, err);
}

static int no_head(bertc_err *err, const char *model) {  /* the one message for a folder without a head */
    return bertc_fail(err, BERTC_ERR_ARG,
                      "contextual substitution is not available: %s has no masked-LM head (no cls.predictions.* or "
                      "vocab_transform.* tensors); use eda, or a folder saved from BertForMaskedLM (contextual:model=PATH)",
                      model);
}

static int has_head(const st_file *f, const mlm_names **names) {
    *names = NULL;
    if (st_find(f, bert_names.dense_w)) *names = &bert_names;
    else if (st_find(f, distil_names.dense_w)) *names = &distil_names;
    return *names != NULL;
}

int bertc_augment_has_mlm_head(const char *model, int *has, bertc_err *err) {
    char dir[4096], file[4200];
    *has = 0;
    if (hf_model_resolve(model, dir, sizeof dir, err)) return err->code;
    if (bertc_path_join(file, sizeof file, dir, "model.safetensors"))
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    st_file *f = NULL;
    if (st_open(&f, file, err)) return err->code;
    const mlm_names *names;
    *has = has_head(f, &names);
    st_close(f);
    return BERTC_OK;
}

int bertc_augment_need_mlm_head(const char *model, bertc_err *err) {
    int has = 0;
    if (bertc_augment_has_mlm_head(model, &has, err)) return err->code;
    return has ? BERTC_OK : no_head(err, model);
}

void bertc_mlm_free(bertc_mlm *m) {
    if (!m) return;
    if (!m->tied) free(m->decw);
    bert_model_free(&m->m);
    hf_model_free(&m->hf);
    bert_tokenizer_free(m->tok);
    free(m->dw);
    free(m->db);
    free(m->lnw);
    free(m->lnb);
    free(m->decb);
    free(m->cand);
    free(m->hidden);
    free(m->rowbuf);
    free(m);
}

static int load_head(bertc_mlm *m, const char *dir, bertc_err *err) {
    char file[4200];
    if (bertc_path_join(file, sizeof file, dir, "model.safetensors"))
        return bertc_fail(err, BERTC_ERR_ARG, "%s: path too long", dir);
    st_file *f = NULL;
    if (st_open(&f, file, err)) return err->code;
    const mlm_names *nm;
    int rc = BERTC_OK;
    if (!has_head(f, &nm)) rc = no_head(err, dir);
    const int64_t V = m->V, C = m->C;
    if (!rc) rc = take(&m->dw, f, st_find(f, nm->dense_w), nm->dense_w, C, C, err);
    if (!rc) rc = take(&m->db, f, st_find(f, nm->dense_b), nm->dense_b, 0, C, err);
    if (!rc) rc = take(&m->lnw, f, find2(f, nm->ln_w, nm->ln_w2), nm->ln_w, 0, C, err);
    if (!rc) rc = take(&m->lnb, f, find2(f, nm->ln_b, nm->ln_b2), nm->ln_b, 0, C, err);
    if (!rc) rc = take(&m->decb, f, find2(f, nm->dec_b, nm->dec_b2), nm->dec_b, 0, V, err);
    const st_tensor *dec = rc ? NULL : st_find(f, nm->dec_w);
    if (!rc && dec) rc = take(&m->decw, f, dec, nm->dec_w, V, C, err);
    else if (!rc) m->decw = m->hf.params.wte, m->tied = 1; /* tied to the word embeddings, as transformers ties them */
    st_close(f);
    return rc;
}

/* Marks the vocabulary entries a word may be replaced by: letters only, not a
 * special or [unusedN] entry, not a ##continuation. */
static int mark_candidates(bertc_mlm *m, bertc_err *err) {
    m->cand = calloc((size_t)m->V, 1);
    if (!m->cand) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    int nv = bert_tokenizer_vocab_size(m->tok);
    for (int id = 0; id < nv && id < m->V; id++) {
        const char *s = bert_tokenizer_id_to_token(m->tok, id);
        if (!s || !*s || id == m->sp.cls || id == m->sp.sep || id == m->sp.pad || id == m->sp.unk || id == m->sp.mask)
            continue;
        int ok = 1;
        for (const char *c = s; *c && ok; c++) ok = isalpha((unsigned char)*c) != 0;
        m->cand[id] = (unsigned char)ok;
    }
    return BERTC_OK;
}

int bertc_mlm_open(bertc_mlm **out, const char *model, int max_length, bertc_err *err) {
    *out = NULL;
    bertc_mlm *m = calloc(1, sizeof *m);
    if (!m) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    char dir[4096];
    int rc = hf_model_resolve(model, dir, sizeof dir, err);
    hf_load_opts o;
    hf_load_opts_default(&o);
    o.task = BERT_TASK_TEXT_CLS; /* the encoder; its classifier is not used */
    /* the head first: a folder without one is refused before its encoder is read */
    if (!rc) rc = bertc_augment_need_mlm_head(dir, err);
    if (!rc) rc = hf_model_load(&m->hf, dir, &o, err);
    if (!rc) rc = hf_model_tokenizer(&m->tok, &m->hf, err);
    if (!rc) {
        m->V = m->hf.cfg.vocab_size;
        m->C = m->hf.cfg.hidden_size;
        m->L = m->hf.cfg.num_layers;
        m->eps = m->hf.cfg.layer_norm_eps;
        m->sp = bert_tokenizer_special_ids(m->tok);
        m->Tmax = max_length > 0 ? max_length : 128;
        if (m->Tmax > m->hf.cfg.max_position) m->Tmax = m->hf.cfg.max_position;
        if (m->Tmax < 8) rc = bertc_fail(err, BERTC_ERR_ARG, "max_length: %d is below 8", m->Tmax);
        m->Bmax = 8;
    }
    if (!rc) rc = load_head(m, dir, err);
    if (!rc) rc = mark_candidates(m, err);
    if (!rc) rc = bert_model_build(&m->m, &m->hf.cfg, m->hf.params_memory, m->Bmax, m->Tmax, BERT_INFER, err);
    if (!rc) {
        size_t BT = (size_t)m->Bmax * m->Tmax;
        m->hidden = malloc((size_t)(m->L + 1) * BT * (size_t)m->C * sizeof *m->hidden);
        m->rowbuf = malloc((BT * 3 * (size_t)m->C + 2 * BT) * sizeof *m->rowbuf);
        if (!m->hidden || !m->rowbuf) rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", model);
    }
    if (rc) {
        bertc_mlm_free(m);
        return rc;
    }
    *out = m;
    return BERTC_OK;
}

int bertc_mlm_vocab_size(const bertc_mlm *m) { return m->V; }

int bertc_mlm_logits(bertc_mlm *m, const int *ids, const int *mask, int B, int T, const int *rows, int nrows,
                     float *logits, bertc_err *err) {
    if (B < 1 || B > m->Bmax || T < 1 || T > m->Tmax || nrows < 0 || nrows > B * T)
        return bertc_fail(err, BERTC_ERR_ARG, "masked-LM batch %d x %d (%d rows) outside %d x %d", B, T, nrows, m->Bmax,
                          m->Tmax);
    for (int i = 0; i < nrows; i++)
        if (rows[i] < 0 || rows[i] >= B * T) return bertc_fail(err, BERTC_ERR_ARG, "masked-LM row %d outside the batch", rows[i]);
    if (bert_forward(&m->m, ids, NULL, mask, B, T, NULL, m->hidden, NULL, err)) return err->code;
    if (nrows == 0) return BERTC_OK;
    const int C = m->C;
    const float *last = m->hidden + (size_t)m->L * B * T * C; /* the encoder's output */
    float *x = m->rowbuf, *t = x + (size_t)nrows * C, *g = t + (size_t)nrows * C;
    float *mean = g + (size_t)nrows * C, *rstd = mean + nrows;
    for (int i = 0; i < nrows; i++) memcpy(x + (size_t)i * C, last + (size_t)rows[i] * C, (size_t)C * sizeof *x);
    /* transformers' BertPredictionHeadTransform / DistilBERT's vocab_transform:
     * dense, GELU (exact erf), LayerNorm; then the decoder over the vocabulary */
    cpu_matmul_forward(t, x, m->dw, m->db, nrows, C, C);
    cpu_gelu_forward(g, t, (size_t)nrows * C);
    cpu_layernorm_forward(t, mean, rstd, g, m->lnw, m->lnb, m->eps, nrows, C);
    cpu_matmul_forward(logits, t, m->decw, m->decb, nrows, C, m->V);
    return BERTC_OK;
}

/* ------------------------------------------------------------ substitution */

/* One masked word: the copy it belongs to, its word index, its token position
 * in the copy and what replaces it (a vocabulary id, -1: kept). */
typedef struct {
    int copy, word, pos, pick;
} mask_at;

typedef struct {
    int *v;
    int n, cap;
} ivec;

static int ivec_push(ivec *a, int x) {
    if (a->n == a->cap) {
        int cap = a->cap ? 2 * a->cap : 256;
        int *v = realloc(a->v, (size_t)cap * sizeof *v);
        if (!v) return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

/* Appends the word pieces of s[0..n) to a. */
static int push_pieces(ivec *a, const bertc_mlm *m, bert_encoding *e, const char *s, size_t n, bertc_err *err) {
    if (n == 0) return BERTC_OK;
    if (bert_tokenize(m->tok, s, n, e, err)) return err->code;
    for (int i = 0; i < e->n; i++)
        if (ivec_push(a, e->ids[i])) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    return BERTC_OK;
}

/* The replacement of one [MASK]: among the top_k candidate entries by score
 * (not the word itself, whatever its case), one drawn with probability
 * softmax(score / temperature); -1 when there is none. */
static int pick(const bertc_mlm *m, const float *lg, const char *orig_low, const bertc_augment_opts *a, bertc_rng *r) {
    int k = a->top_k, have = 0;
    int top[64];
    float sc[64];
    if (k > 64) k = 64;
    for (int id = 0; id < m->V; id++) {
        if (!m->cand[id]) continue;
        float s = lg[id];
        if (have == k && !(s > sc[k - 1])) continue;
        const char *w = bert_tokenizer_id_to_token(m->tok, id);
        if (strcasecmp(w, orig_low) == 0) continue;
        int at = have < k ? have++ : k - 1;
        while (at > 0 && s > sc[at - 1]) { /* ties keep the lower id first */
            sc[at] = sc[at - 1];
            top[at] = top[at - 1];
            at--;
        }
        sc[at] = s;
        top[at] = id;
    }
    if (have == 0) return -1;
    double p[64], sum = 0;
    for (int i = 0; i < have; i++) sum += p[i] = exp(((double)sc[i] - sc[0]) / a->temperature);
    double u = bertc_rng_uniform(r) * sum, acc = 0;
    for (int i = 0; i < have; i++)
        if ((acc += p[i]) > u) return top[i];
    return top[have - 1];
}

int bertc_contextual_text(char **out, size_t *out_len, const char *text, size_t len, const bertc_augment_opts *a,
                          bertc_mlm *m, bertc_rng *r, bertc_err *err) {
    bertc_words orig = {0}, w = {0};
    bert_encoding enc = {0};
    ivec *toks = NULL, *wstart = NULL, elig = {0};
    mask_at *masks = NULL;
    int *sel = NULL, nmask = 0, nc = a->n, rc = bertc_words_split(&orig, text, len, err);
    char low[200];
    int free_words = 0;
    for (int i = 0; !rc && i < orig.n; i++) {
        size_t b, e;
        if (bertc_aug_protected(orig.w[i])) continue;
        free_words++;
        if (bertc_aug_word_core(orig.w[i], &b, &e, low, sizeof low) && !bertc_aug_is_stop(low) && ivec_push(&elig, i))
            rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    }
    int nsub = (int)(a->alpha_sr * free_words);
    if (nsub < 1) nsub = 1;
    if (nsub > elig.n) nsub = elig.n;
    toks = rc ? NULL : calloc((size_t)nc, sizeof *toks);
    wstart = rc ? NULL : calloc((size_t)nc, sizeof *wstart);
    masks = rc ? NULL : malloc((size_t)(nc * nsub > 0 ? nc * nsub : 1) * sizeof *masks);
    sel = rc ? NULL : malloc((size_t)(elig.n > 0 ? elig.n : 1) * sizeof *sel);
    char *is_masked = rc ? NULL : calloc((size_t)(orig.n > 0 ? orig.n : 1), 1);
    if (!rc && (!toks || !wstart || !masks || !sel || !is_masked)) rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    /* 1. each copy: which words are masked (drawn first, in copy order), its pieces */
    for (int c = 0; c < nc && !rc; c++) {
        for (int i = 0; i < elig.n; i++) sel[i] = elig.v[i];
        bertc_rng_shuffle(r, sel, elig.n);
        memset(is_masked, 0, (size_t)orig.n);
        for (int k = 0; k < nsub; k++) is_masked[sel[k]] = 1;
        for (int i = 0; i < orig.n && !rc; i++) {
            if (ivec_push(&wstart[c], toks[c].n)) {
                rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
                break;
            }
            const char *s = orig.w[i];
            if (!is_masked[i]) {
                rc = push_pieces(&toks[c], m, &enc, s, strlen(s), err);
                continue;
            }
            size_t b, e;
            bertc_aug_word_core(s, &b, &e, low, sizeof low);
            if ((rc = push_pieces(&toks[c], m, &enc, s, b, err))) break;
            masks[nmask++] = (mask_at){.copy = c, .word = i, .pos = toks[c].n, .pick = -1};
            if (ivec_push(&toks[c], m->sp.mask)) rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
            else rc = push_pieces(&toks[c], m, &enc, s + e, strlen(s + e), err);
        }
    }
    /* 2. windows of at most Tmax - 2 pieces, cut at word starts, that hold a
     * [MASK]: [CLS] window [SEP], Bmax at a time; each [MASK] scored in its window */
    const int W = m->Tmax - 2, BT = m->Bmax * m->Tmax;
    int *ids = NULL, *am = NULL, *rows = NULL, *which = NULL;
    float *lg = NULL;
    if (!rc) {
        ids = malloc((size_t)BT * sizeof *ids);
        am = malloc((size_t)BT * sizeof *am);
        rows = malloc((size_t)BT * sizeof *rows);
        which = malloc((size_t)BT * sizeof *which);
        lg = malloc((size_t)BT * (size_t)m->V * sizeof *lg);
        if (!ids || !am || !rows || !which || !lg) rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    }
    int next = 0; /* the first mask not yet scored (masks are in copy, then position order) */
    while (!rc && next < nmask) {
        int B = 0, T = 2, nrows = 0;
        int starts[64], ends[64];
        /* plan the batch: up to Bmax windows, each starting at the word of the next unscored mask */
        int mk = next;
        while (mk < nmask && B < m->Bmax) {
            int c = masks[mk].copy;
            const ivec *ws = &wstart[c];
            /* the window starts at the last word start that keeps this mask inside and
             * at most W/2 pieces before it, so a mask sees context on both sides */
            int s = masks[mk].pos, wi = masks[mk].word;
            while (wi > 0 && masks[mk].pos - ws->v[wi - 1] <= W / 2) s = ws->v[--wi];
            if (wi == masks[mk].word) s = ws->v[wi];
            int e = s + W < toks[c].n ? s + W : toks[c].n;
            /* end at a word start when the window is cut */
            if (e < toks[c].n) {
                int cut = e;
                for (int j = ws->n - 1; j >= 0; j--)
                    if (ws->v[j] <= e) {
                        cut = ws->v[j];
                        break;
                    }
                if (cut > masks[mk].pos) e = cut;
            }
            starts[B] = s;
            ends[B] = e;
            if (e - s + 2 > T) T = e - s + 2;
            /* every mask of this copy inside [s, e) is scored in this window */
            while (mk < nmask && masks[mk].copy == c && masks[mk].pos < e) {
                which[nrows++] = mk;
                mk++;
            }
            B++;
        }
        for (int b = 0, q = 0; b < B; b++) {
            int c = masks[which[q]].copy, s = starts[b], e = ends[b];
            int *row = ids + (size_t)b * T, *mr = am + (size_t)b * T;
            row[0] = m->sp.cls;
            memcpy(row + 1, toks[c].v + s, (size_t)(e - s) * sizeof *row);
            row[e - s + 1] = m->sp.sep;
            for (int t = 0; t < T; t++) mr[t] = t < e - s + 2;
            for (int t = e - s + 2; t < T; t++) row[t] = m->sp.pad;
            for (; q < nrows && masks[which[q]].copy == c && masks[which[q]].pos < e; q++)
                rows[q] = b * T + 1 + masks[which[q]].pos - s;
        }
        if ((rc = bertc_mlm_logits(m, ids, am, B, T, rows, nrows, lg, err))) break;
        for (int q = 0; q < nrows; q++) {
            mask_at *k = &masks[which[q]];
            size_t b, e;
            bertc_aug_word_core(orig.w[k->word], &b, &e, low, sizeof low);
            k->pick = pick(m, lg + (size_t)q * m->V, low, a, r);
        }
        next = mk;
    }
    /* 3. each copy: the words with their replacements (capitalised as the word was) */
    for (int c = 0, q = 0; c < nc && !rc; c++) {
        if ((rc = bertc_words_copy(&w, &orig, err))) break;
        for (; q < nmask && masks[q].copy == c && !rc; q++) {
            if (masks[q].pick < 0) continue;
            size_t b, e;
            const char *s = orig.w[masks[q].word];
            bertc_aug_word_core(s, &b, &e, low, sizeof low);
            char *nw = bertc_aug_rebuild(s, b, e, bert_tokenizer_id_to_token(m->tok, masks[q].pick));
            if (!nw) rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
            else {
                free(w.w[masks[q].word]);
                w.w[masks[q].word] = nw;
            }
        }
        if (!rc) rc = bertc_words_join(&w, &out[c], &out_len[c], err);
        if (rc)
            for (int j = 0; j < c; j++) free(out[j]);
    }
    for (int c = 0; toks && c < nc; c++) free(toks[c].v);
    for (int c = 0; wstart && c < nc; c++) free(wstart[c].v);
    free(toks);
    free(wstart);
    free(elig.v);
    free(masks);
    free(sel);
    free(is_masked);
    free(ids);
    free(am);
    free(rows);
    free(which);
    free(lg);
    bert_encoding_free(&enc);
    bertc_words_free(&orig);
    bertc_words_free(&w);
    return rc;
}
