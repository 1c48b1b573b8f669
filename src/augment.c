/* augment.c: EDA text augmentation with WordNet synonyms. See augment.h. */
#include "augment.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wn.h>

#include "data.h"

void bertc_augment_opts_default(bertc_augment_opts *a) {
    a->method = BERTC_AUG_EDA;
    a->alpha_sr = a->alpha_ri = a->alpha_rs = a->p_rd = 0.1;
    a->n = 4;
    a->seed = 42;
    a->top_k = 10;
    a->temperature = 1.0;
    a->max_length = 128;
    a->model[0] = 0;
}

int bertc_augment_parse(bertc_augment_opts *a, const char *spec, bertc_err *err) {
    bertc_augment_opts t = *a;
    const char *colon = strchr(spec, ':');
    size_t mlen = colon ? (size_t)(colon - spec) : strlen(spec);
    if (mlen == 3 && strncmp(spec, "eda", 3) == 0) t.method = BERTC_AUG_EDA;
    else if (mlen == 10 && strncmp(spec, "contextual", 10) == 0) t.method = BERTC_AUG_CONTEXTUAL;
    else return bertc_fail(err, BERTC_ERR_ARG, "'%.*s': unknown augmentation method (eda or contextual)", (int)mlen, spec);
    const char *p = colon ? colon + 1 : NULL;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char item[1100];
        if (n == 0 || n >= sizeof item) return bertc_fail(err, BERTC_ERR_ARG, "'%s': empty or overlong KEY=VALUE", spec);
        memcpy(item, p, n);
        item[n] = 0;
        char *eq = strchr(item, '=');
        if (!eq) return bertc_fail(err, BERTC_ERR_ARG, "'%s': expected KEY=VALUE, not '%s'", spec, item);
        *eq = 0;
        const char *key = item, *val = eq + 1;
        double d;
        long l;
        int ctx = t.method == BERTC_AUG_CONTEXTUAL;
        if (ctx && strcmp(key, "top_k") == 0) {
            if (bertc_parse_long(val, 1, 64, &l)) return bertc_fail(err, BERTC_ERR_ARG, "top_k: '%s' is not an integer in 1..64", val);
            t.top_k = (int)l;
        } else if (ctx && strcmp(key, "max_length") == 0) {
            if (bertc_parse_long(val, 8, 4096, &l))
                return bertc_fail(err, BERTC_ERR_ARG, "max_length: '%s' is not an integer in 8..4096", val);
            t.max_length = (int)l;
        } else if (ctx && strcmp(key, "temperature") == 0) {
            if (bertc_parse_double(val, 1e-3, 100, &d))
                return bertc_fail(err, BERTC_ERR_ARG, "temperature: '%s' is not a number in [0.001, 100]", val);
            t.temperature = d;
        } else if (ctx && strcmp(key, "model") == 0) {
            if (!*val || strlen(val) >= sizeof t.model) return bertc_fail(err, BERTC_ERR_ARG, "model: empty or too long");
            snprintf(t.model, sizeof t.model, "%s", val);
        } else if (ctx && strcmp(key, "alpha") != 0 && strcmp(key, "n") != 0 && strcmp(key, "seed") != 0) {
            return bertc_fail(err, BERTC_ERR_ARG, "'%s': unknown key for contextual (alpha, n, seed, top_k, temperature, max_length, model)",
                              key);
        } else if (!ctx && (strcmp(key, "top_k") == 0 || strcmp(key, "temperature") == 0 ||
                            strcmp(key, "max_length") == 0 || strcmp(key, "model") == 0)) {
            return bertc_fail(err, BERTC_ERR_ARG, "'%s': a key of contextual, not of eda", key);
        } else if (strcmp(key, "n") == 0) {
            if (bertc_parse_long(val, 1, 1000, &l)) return bertc_fail(err, BERTC_ERR_ARG, "n: '%s' is not an integer in 1..1000", val);
            t.n = (int)l;
        } else if (strcmp(key, "seed") == 0) {
            if (bertc_parse_long(val, 0, 0x7fffffffffffffffL, &l))
                return bertc_fail(err, BERTC_ERR_ARG, "seed: '%s' is not a non-negative integer", val);
            t.seed = (uint64_t)l;
        } else {
            double *dst[4] = {NULL, NULL, NULL, NULL};
            if (strcmp(key, "alpha") == 0) {
                dst[0] = &t.alpha_sr, dst[1] = &t.alpha_ri, dst[2] = &t.alpha_rs, dst[3] = &t.p_rd;
            } else if (strcmp(key, "alpha_sr") == 0) dst[0] = &t.alpha_sr;
            else if (strcmp(key, "alpha_ri") == 0) dst[0] = &t.alpha_ri;
            else if (strcmp(key, "alpha_rs") == 0) dst[0] = &t.alpha_rs;
            else if (strcmp(key, "p_rd") == 0 || strcmp(key, "alpha_rd") == 0) dst[0] = &t.p_rd;
            else
                return bertc_fail(err, BERTC_ERR_ARG, "'%s': unknown key (alpha, alpha_sr, alpha_ri, alpha_rs, p_rd, n, seed)",
                                  key);
            if (bertc_parse_double(val, 0, 1, &d)) return bertc_fail(err, BERTC_ERR_ARG, "%s: '%s' is not a number in [0, 1]", key, val);
            for (int i = 0; i < 4; i++)
                if (dst[i]) *dst[i] = d;
        }
        p = end ? end + 1 : NULL;
    }
    if (t.method == BERTC_AUG_EDA && t.alpha_sr == 0 && t.alpha_ri == 0 && t.alpha_rs == 0 && t.p_rd == 0)
        return bertc_fail(err, BERTC_ERR_ARG, "'%s': every operation's rate is 0", spec);
    *a = t;
    return BERTC_OK;
}

/* ---------------------------------------------------------------- WordNet */

static char wn_msg[256];
static int wn_open;

/* The library reports through this pointer; keep its last line, print nothing. */
static int wn_capture(char *msg) {
    if (!wn_msg[0]) {
        snprintf(wn_msg, sizeof wn_msg, "%s", msg);
        size_t n = strlen(wn_msg);
        while (n && (wn_msg[n - 1] == '\n' || wn_msg[n - 1] == '\r')) wn_msg[--n] = 0;
    }
    return 0;
}

int bertc_wordnet_open(bertc_err *err) {
    if (wn_open) return BERTC_OK;
    display_message = wn_capture;
    wn_msg[0] = 0;
    const char *dir = getenv("WNSEARCHDIR");
    if (!dir || !*dir) dir = "/usr/share/wordnet";
    if (wninit() != 0)
        return bertc_fail(err, BERTC_ERR_NOTFOUND,
                          "WordNet dictionary not found in %s (%s); install Debian's wordnet-base or set WNSEARCHDIR", dir,
                          wn_msg[0] ? wn_msg : "wninit failed");
    wn_open = 1;
    return BERTC_OK;
}

/* ---------------------------------------------------------------- words */

static int words_push(bertc_words *w, const char *s, size_t n) {
    if (w->n == w->cap) {
        int cap = w->cap ? w->cap * 2 : 16;
        char **p = realloc(w->w, (size_t)cap * sizeof *p);
        if (!p) return -1;
        w->w = p;
        w->cap = cap;
    }
    char *c = malloc(n + 1);
    if (!c) return -1;
    memcpy(c, s, n);
    c[n] = 0;
    w->w[w->n++] = c;
    return 0;
}

/* Inserts s (taking ownership) at position at. */
static int words_insert(bertc_words *w, int at, char *s) {
    if (w->n == w->cap) {
        int cap = w->cap ? w->cap * 2 : 16;
        char **p = realloc(w->w, (size_t)cap * sizeof *p);
        if (!p) return -1;
        w->w = p;
        w->cap = cap;
    }
    memmove(w->w + at + 1, w->w + at, (size_t)(w->n - at) * sizeof *w->w);
    w->w[at] = s;
    w->n++;
    return 0;
}

void bertc_words_free(bertc_words *w) {
    if (!w) return;
    for (int i = 0; i < w->n; i++) free(w->w[i]);
    free(w->w);
    memset(w, 0, sizeof *w);
}

static void words_clear(bertc_words *w) {
    for (int i = 0; i < w->n; i++) free(w->w[i]);
    w->n = 0;
}

int bertc_words_split(bertc_words *w, const char *text, size_t len, bertc_err *err) {
    words_clear(w);
    size_t i = 0;
    while (i < len) {
        while (i < len && isspace((unsigned char)text[i])) i++;
        size_t s = i;
        while (i < len && !isspace((unsigned char)text[i])) i++;
        if (i > s && words_push(w, text + s, i - s)) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory splitting a text");
    }
    return BERTC_OK;
}

int bertc_words_join(const bertc_words *w, char **out, size_t *out_len, bertc_err *err) {
    size_t n = 0;
    for (int i = 0; i < w->n; i++) n += strlen(w->w[i]) + 1;
    char *s = malloc(n + 1);
    if (!s) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory joining a text");
    size_t at = 0;
    for (int i = 0; i < w->n; i++) {
        if (i) s[at++] = ' ';
        size_t k = strlen(w->w[i]);
        memcpy(s + at, w->w[i], k);
        at += k;
    }
    s[at] = 0;
    *out = s;
    *out_len = at;
    return BERTC_OK;
}

int bertc_words_copy(bertc_words *dst, const bertc_words *src, bertc_err *err) {
    words_clear(dst);
    for (int i = 0; i < src->n; i++)
        if (words_push(dst, src->w[i], strlen(src->w[i]))) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    return BERTC_OK;
}

int bertc_aug_protected(const char *tok) {
    const char *o = strchr(tok, '['), *a = strchr(tok, '<');
    if (o && strchr(o, ']')) return 1;
    if (a && strchr(a, '>')) return 1;
    /* a piece of markup that whitespace cut ("<br /><br />" is "<br", "/><br", "/>") */
    if (strstr(tok, "/>")) return 1;
    for (const char *c = tok; (c = strchr(c, '<')) != NULL; c++)
        if (isalpha((unsigned char)c[1]) || c[1] == '/' || c[1] == '!') return 1;
    return 0;
}

/* EDA's stop words (eda.py): never chosen for synonym replacement. */
static const char *const stop_words[] = {
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours", "yourself", "yourselves",
    "he", "him", "his", "himself", "she", "her", "hers", "herself", "it", "its", "itself", "they", "them", "their",
    "theirs", "themselves", "what", "which", "who", "whom", "this", "that", "these", "those", "am", "is", "are",
    "was", "were", "be", "been", "being", "have", "has", "had", "having", "do", "does", "did", "doing", "a", "an",
    "the", "and", "but", "if", "or", "because", "as", "until", "while", "of", "at", "by", "for", "with", "about",
    "against", "between", "into", "through", "during", "before", "after", "above", "below", "to", "from", "up",
    "down", "in", "out", "on", "off", "over", "under", "again", "further", "then", "once", "here", "there", "when",
    "where", "why", "how", "all", "any", "both", "each", "few", "more", "most", "other", "some", "such", "no", "nor",
    "not", "only", "own", "same", "so", "than", "too", "very", "s", "t", "can", "will", "just", "don", "should",
    "now", NULL};

int bertc_aug_is_stop(const char *w) {
    for (int i = 0; stop_words[i]; i++)
        if (strcmp(w, stop_words[i]) == 0) return 1;
    return 0;
}

/* The core of tok: [*b, *e) without leading/trailing ASCII punctuation. Returns 1
 * when the core is non-empty and all ASCII letters; lower-cased into low (cap). */
int bertc_aug_word_core(const char *tok, size_t *b, size_t *e, char *low, size_t cap) {
    size_t n = strlen(tok), s = 0;
    while (s < n && ispunct((unsigned char)tok[s])) s++;
    while (n > s && ispunct((unsigned char)tok[n - 1])) n--;
    *b = s;
    *e = n;
    if (n == s || n - s >= cap) return 0;
    for (size_t i = s; i < n; i++) {
        if (!isalpha((unsigned char)tok[i])) return 0;
        low[i - s] = (char)tolower((unsigned char)tok[i]);
    }
    low[n - s] = 0;
    return 1;
}

static int words_has(const bertc_words *w, const char *s) {
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->w[i], s) == 0) return 1;
    return 0;
}

/* Adds the lemmas of every synset of form (lower case, NUL-terminated) for pos. */
static int add_synsets(bertc_words *out, const char *word, const char *form, int pos) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", form);
    SynsetPtr ss = findtheinfo_ds(buf, pos, SYNS, ALLSENSES);
    int rc = 0;
    for (SynsetPtr s = ss; s && !rc; s = s->nextss) {
        for (int i = 0; i < s->wcount && !rc; i++) {
            char lem[256];
            size_t k = 0;
            /* '_' and '-' become spaces; an adjective marker "(p)"/"(a)"/"(ip)" is cut;
             * only letters and spaces kept (EDA's get_synonyms) */
            for (const char *c = s->words[i]; *c && *c != '(' && k + 1 < sizeof lem; c++) {
                char ch = *c == '_' || *c == '-' ? ' ' : (char)tolower((unsigned char)*c);
                if (ch == ' ' || (ch >= 'a' && ch <= 'z')) lem[k++] = ch;
            }
            while (k && lem[k - 1] == ' ') k--;
            lem[k] = 0;
            size_t st = 0;
            while (lem[st] == ' ') st++;
            if (!lem[st] || strcmp(lem + st, word) == 0 || words_has(out, lem + st)) continue;
            if (words_push(out, lem + st, strlen(lem + st))) rc = -1;
        }
    }
    free_syns(ss);
    return rc;
}

int bertc_wordnet_synonyms(const char *word, bertc_words *out, bertc_err *err) {
    words_clear(out);
    if (!wn_open) return bertc_fail(err, BERTC_ERR_ARG, "WordNet is not open (bertc_wordnet_open)");
    if (strlen(word) >= 200) return BERTC_OK;
    for (int pos = NOUN; pos <= ADV; pos++) {
        if (add_synsets(out, word, word, pos)) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
        /* morphological base forms ("movies" -> "movie"), as NLTK's morphy */
        char buf[256];
        snprintf(buf, sizeof buf, "%s", word);
        char *base = morphstr(buf, pos);
        char bases[8][256];
        int nb = 0;
        while (base && nb < 8) {
            snprintf(bases[nb++], sizeof bases[0], "%s", base);
            base = morphstr(NULL, pos);
        }
        for (int i = 0; i < nb; i++)
            if (strcmp(bases[i], word) != 0 && add_synsets(out, word, bases[i], pos))
                return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    }
    return BERTC_OK;
}

/* ---------------------------------------------------------------- the four operations */

/* tok with its core [b, e) replaced by rep (capitalised when the core was). */
char *bertc_aug_rebuild(const char *tok, size_t b, size_t e, const char *rep) {
    size_t n = strlen(tok), r = strlen(rep);
    char *s = malloc(b + r + (n - e) + 1);
    if (!s) return NULL;
    memcpy(s, tok, b);
    memcpy(s + b, rep, r);
    if (r && isupper((unsigned char)tok[b])) s[b] = (char)toupper((unsigned char)s[b]);
    memcpy(s + b + r, tok + e, n - e);
    s[b + r + n - e] = 0;
    return s;
}

/* Indices of the unprotected tokens into idx (w->n ints); returns their count. */
static int free_positions(const bertc_words *w, int *idx) {
    int k = 0;
    for (int i = 0; i < w->n; i++)
        if (!bertc_aug_protected(w->w[i])) idx[k++] = i;
    return k;
}

int bertc_eda_sr(bertc_words *w, int n_sr, bertc_rng *r, bertc_err *err) {
    /* the distinct candidate words (lower-cased cores), in first-seen order, then shuffled */
    bertc_words cand = {0}, syn = {0};
    char low[200];
    int rc = BERTC_OK;
    for (int i = 0; i < w->n && !rc; i++) {
        size_t b, e;
        if (bertc_aug_protected(w->w[i]) || !bertc_aug_word_core(w->w[i], &b, &e, low, sizeof low) || bertc_aug_is_stop(low) ||
            words_has(&cand, low))
            continue;
        if (words_push(&cand, low, strlen(low))) rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    }
    int *order = rc ? NULL : malloc((size_t)(cand.n > 0 ? cand.n : 1) * sizeof *order);
    if (!rc && !order) rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    if (!rc) {
        for (int i = 0; i < cand.n; i++) order[i] = i;
        bertc_rng_shuffle(r, order, cand.n);
    }
    int replaced = 0;
    for (int c = 0; !rc && c < cand.n && replaced < n_sr; c++) {
        const char *word = cand.w[order[c]];
        if ((rc = bertc_wordnet_synonyms(word, &syn, err))) break;
        if (syn.n == 0) continue;
        const char *pick = syn.w[bertc_rng_below(r, (uint64_t)syn.n)];
        for (int i = 0; i < w->n; i++) { /* every occurrence, as EDA */
            size_t b, e;
            if (bertc_aug_protected(w->w[i]) || !bertc_aug_word_core(w->w[i], &b, &e, low, sizeof low) || strcmp(low, word) != 0)
                continue;
            char *s = bertc_aug_rebuild(w->w[i], b, e, pick);
            if (!s) {
                rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
                break;
            }
            free(w->w[i]);
            w->w[i] = s;
        }
        replaced++;
    }
    free(order);
    bertc_words_free(&cand);
    bertc_words_free(&syn);
    return rc;
}

int bertc_eda_ri(bertc_words *w, int n_ri, bertc_rng *r, bertc_err *err) {
    bertc_words syn = {0};
    int *idx = malloc((size_t)(w->n + n_ri + 1) * sizeof *idx);
    if (!idx) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    int rc = BERTC_OK;
    for (int k = 0; k < n_ri && !rc; k++) {
        int m = free_positions(w, idx);
        if (m == 0) break;
        int found = 0;
        for (int tries = 0; tries < 10 && !found; tries++) { /* EDA's add_word: up to 10 words */
            char low[200];
            size_t b, e;
            const char *tok = w->w[idx[bertc_rng_below(r, (uint64_t)m)]];
            if (!bertc_aug_word_core(tok, &b, &e, low, sizeof low)) continue;
            if ((rc = bertc_wordnet_synonyms(low, &syn, err))) break;
            found = syn.n > 0;
        }
        if (!found || rc) break; /* EDA gives up this insertion and the rest */
        const char *pick = syn.w[bertc_rng_below(r, (uint64_t)syn.n)];
        int at = (int)bertc_rng_below(r, (uint64_t)w->n + 1);
        char *s = strdup(pick);
        if (!s || words_insert(w, at, s)) {
            free(s);
            rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
        }
    }
    free(idx);
    bertc_words_free(&syn);
    return rc;
}

void bertc_eda_rs(bertc_words *w, int n_rs, bertc_rng *r) {
    int *idx = malloc((size_t)(w->n > 0 ? w->n : 1) * sizeof *idx);
    if (!idx) return;
    int m = free_positions(w, idx);
    for (int k = 0; k < n_rs && m >= 2; k++) {
        int a = (int)bertc_rng_below(r, (uint64_t)m), b = a;
        for (int t = 0; t < 3 && b == a; t++) b = (int)bertc_rng_below(r, (uint64_t)m); /* EDA: 3 tries */
        char *x = w->w[idx[a]];
        w->w[idx[a]] = w->w[idx[b]];
        w->w[idx[b]] = x;
    }
    free(idx);
}

void bertc_eda_rd(bertc_words *w, double p_rd, bertc_rng *r) {
    int *idx = malloc((size_t)(w->n > 0 ? w->n : 1) * sizeof *idx);
    if (!idx) return;
    int m = free_positions(w, idx);
    if (m <= 1) {
        free(idx);
        return;
    }
    /* draw every unprotected word's fate first; keep one at random when all would go */
    char *del = calloc((size_t)w->n, 1);
    if (!del) {
        free(idx);
        return;
    }
    int gone = 0;
    for (int k = 0; k < m; k++)
        if (bertc_rng_uniform(r) < p_rd) del[idx[k]] = 1, gone++;
    if (gone == m) del[idx[bertc_rng_below(r, (uint64_t)m)]] = 0;
    int o = 0;
    for (int i = 0; i < w->n; i++) {
        if (del[i]) free(w->w[i]);
        else w->w[o++] = w->w[i];
    }
    w->n = o;
    free(del);
    free(idx);
}

/* ---------------------------------------------------------------- EDA's mix */

static int count_at_least_one(double alpha, int words) {
    int n = (int)(alpha * words);
    return n > 1 ? n : 1;
}

int bertc_eda_text(char **out, size_t *out_len, const char *text, size_t len, const bertc_augment_opts *a,
                   bertc_rng *r, bertc_err *err) {
    if (a->method != BERTC_AUG_EDA) return bertc_fail(err, BERTC_ERR_ARG, "bertc_eda_text: the method is not eda");
    bertc_words orig = {0}, w = {0};
    int rc = bertc_words_split(&orig, text, len, err);
    int *idx = rc ? NULL : malloc((size_t)(orig.n > 0 ? orig.n : 1) * sizeof *idx);
    if (!rc && !idx) rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    int words = rc ? 0 : free_positions(&orig, idx);
    free(idx);
    double rates[4] = {a->alpha_sr, a->alpha_ri, a->alpha_rs, a->p_rd};
    int active = 0;
    for (int k = 0; k < 4; k++) active += rates[k] > 0;
    int per = active ? a->n / active + 1 : 0, total = per * active;
    char **gen = rc ? NULL : calloc((size_t)(total > 0 ? total : 1), sizeof *gen);
    size_t *glen = rc ? NULL : calloc((size_t)(total > 0 ? total : 1), sizeof *glen);
    if (!rc && (!gen || !glen)) rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
    int g = 0;
    for (int k = 0; k < 4 && !rc; k++) {
        if (!(rates[k] > 0)) continue;
        for (int j = 0; j < per && !rc; j++) {
            if ((rc = bertc_words_copy(&w, &orig, err))) break;
            switch (k) {
            case 0: rc = bertc_eda_sr(&w, count_at_least_one(rates[k], words), r, err); break;
            case 1: rc = bertc_eda_ri(&w, count_at_least_one(rates[k], words), r, err); break;
            case 2: bertc_eda_rs(&w, count_at_least_one(rates[k], words), r); break;
            default: bertc_eda_rd(&w, rates[k], r); break;
            }
            if (!rc) rc = bertc_words_join(&w, &gen[g], &glen[g], err);
            if (!rc) g++;
        }
    }
    if (!rc) {
        /* EDA: shuffle the generated sentences and keep the first n */
        int *ord = malloc((size_t)(g > 0 ? g : 1) * sizeof *ord);
        if (!ord) rc = bertc_fail(err, BERTC_ERR_NOMEM, "out of memory");
        else {
            for (int i = 0; i < g; i++) ord[i] = i;
            bertc_rng_shuffle(r, ord, g);
            for (int i = 0; i < a->n; i++) {
                out[i] = gen[ord[i]];
                out_len[i] = glen[ord[i]];
                gen[ord[i]] = NULL;
            }
            free(ord);
        }
    }
    for (int i = 0; gen && i < total; i++) free(gen[i]);
    free(gen);
    free(glen);
    bertc_words_free(&orig);
    bertc_words_free(&w);
    return rc;
}

int bertc_augment_dataset(bertc_dataset *ds, const bertc_augment_opts *a, bertc_err *err) {
    const char *path = ds->path ? ds->path : "data";
    size_t m = (size_t)ds->n * (size_t)(a->n + 1);
    if (m > 0x7fffffff) return bertc_fail(err, BERTC_ERR_ARG, "%s: %d examples x %d copies is too many", path, ds->n, a->n + 1);
    bertc_mlm *mlm = NULL;
    if (a->method == BERTC_AUG_CONTEXTUAL) {
        if (!a->model[0]) return bertc_fail(err, BERTC_ERR_ARG, "contextual: no masked-LM model named (model=...)");
        if (bertc_mlm_open(&mlm, a->model, a->max_length, err)) return err->code;
    } else if (bertc_wordnet_open(err))
        return err->code;
    bertc_example *ex = malloc((m > 0 ? m : 1) * sizeof *ex);
    char **texts = calloc(m > 0 ? m : 1, sizeof *texts);
    size_t *lens = calloc(m > 0 ? m : 1, sizeof *lens);
    int rc = ex && texts && lens ? BERTC_OK : bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
    bertc_rng r;
    bertc_rng_seed(&r, a->seed);
    size_t at = 0;
    for (int i = 0; i < ds->n && !rc; i++) {
        ex[at++] = ds->ex[i];
        size_t first = at;
        rc = mlm ? bertc_contextual_text(texts + first, lens + first, ds->ex[i].text, ds->ex[i].len, a, mlm, &r, err)
                 : bertc_eda_text(texts + first, lens + first, ds->ex[i].text, ds->ex[i].len, a, &r, err);
        if (rc) {
            bertc_err_prefix(err, "%s: example %d", path, i + 1);
            break;
        }
        for (int k = 0; k < a->n; k++, at++) {
            ex[at] = ds->ex[i];
            ex[at].text = texts[at];
            ex[at].len = lens[at];
        }
    }
    bertc_dataset out;
    if (!rc) rc = bertc_data_from_examples(&out, ds, ex, (int)m, err);
    if (!rc) {
        bertc_data_free(ds);
        *ds = out;
    }
    for (size_t i = 0; texts && i < m; i++) free(texts[i]);
    free(texts);
    free(lens);
    free(ex);
    bertc_mlm_free(mlm);
    return rc;
}
