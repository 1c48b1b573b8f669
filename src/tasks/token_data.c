/* token_data.c: tagged-sentence readers (CoNLL, JSON Lines), label lists,
 * shuffling, and run_ner.py's word-piece alignment. Contract in token_data.h. */
#include "tasks/token_data.h"
#include "data.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define MAX_FILE_BYTES ((size_t)INT_MAX) /* word and tag counts stay within int */

struct bertc_token_store {
    char *file;      /* the CoNLL file buffer: words and tags point into it */
    char **blocks;   /* JSONL strings, copied into blocks */
    int nblocks;
    size_t block_left;
    char *next;      /* next free byte of the last block */
    char **words;    /* (n_words) all words, sentences are slices of it */
    int32_t *tags;   /* (n_words) */
};

/* ------------------------------------------------------------------ */
/* Building a data set                                                  */

typedef struct span {
    size_t start;  /* index of the first word in the word arrays */
    int n;         /* words */
    long line;     /* line where the sentence starts */
} span;

typedef struct builder {
    const char *path;
    bertc_err *err;
    const char *const *labels; /* given list or NULL */
    int num_labels;
    struct bertc_token_store *st;
    const char **tagname;      /* (nw) the tag string of each word */
    size_t nw, capw;
    span *sp;
    size_t ns, caps;
    int is_conll;              /* word i of sentence s is on line s.line + i */
    long docstarts;            /* -DOCSTART- lines skipped */
} builder;

static int nomem(builder *B) {
    return bertc_fail(B->err, BERTC_ERR_NOMEM, "%s: out of memory reading the data", B->path);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need) {
        if (c > SIZE_MAX / 2) return -1;
        c *= 2;
    }
    size_t bytes;
    if (bertc_mul_size(c, elem, &bytes)) return -1;
    void *q = realloc(*p, bytes);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

static int add_word(builder *B, char *word, const char *tag) {
    if (B->nw >= (size_t)INT_MAX) return bertc_fail(B->err, BERTC_ERR_NOMEM, "%s: more than %d words", B->path, INT_MAX);
    size_t cap = B->capw;
    if (grow((void **)&B->st->words, &cap, B->nw + 1, sizeof *B->st->words)) return nomem(B);
    size_t cap2 = B->capw;
    if (grow((void **)&B->tagname, &cap2, B->nw + 1, sizeof *B->tagname)) return nomem(B);
    B->capw = cap < cap2 ? cap : cap2;
    B->st->words[B->nw] = word;
    B->tagname[B->nw] = tag;
    B->nw++;
    return BERTC_OK;
}

static int add_sentence(builder *B, size_t start, long line) {
    if (B->ns >= (size_t)INT_MAX - 1) return bertc_fail(B->err, BERTC_ERR_NOMEM, "%s: too many sentences", B->path);
    if (grow((void **)&B->sp, &B->caps, B->ns + 1, sizeof *B->sp)) return nomem(B);
    B->sp[B->ns++] = (span){start, (int)(B->nw - start), line};
    return BERTC_OK;
}

/* ------------------------------------------------------------------ */
/* CoNLL                                                                */

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

static int read_conll(builder *B) {
    char *buf;
    size_t len;
    if (bertc_read_file(B->path, MAX_FILE_BYTES, &buf, &len, B->err)) return B->err ? B->err->code : BERTC_ERR_IO;
    B->st->file = buf;
    B->is_conll = 1;
    char *p = buf, *end = buf + len;
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
    long line = 0, sent_line = 0;
    size_t start = 0;
    int in_sentence = 0;
    while (p < end) {
        line++;
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        char *s = p;
        p = nl ? nl + 1 : end;
        if (memchr(s, '\0', (size_t)(le - s)))
            return bertc_fail(B->err, BERTC_ERR_FORMAT, "%s:%ld: a NUL byte; a CoNLL file is text: one \"WORD ... TAG\" per line",
                              B->path, line);
        while (le > s && is_space(le[-1])) le--;
        while (s < le && is_space(*s)) s++;
        /* first column [s, e1), last column [l0, le) */
        char *e1 = s;
        while (e1 < le && !is_space(*e1)) e1++;
        int blank = (s == le);
        int docstart = !blank && (size_t)(e1 - s) == 10 && memcmp(s, "-DOCSTART-", 10) == 0;
        if (blank || docstart) {
            B->docstarts += docstart;
            if (in_sentence) {
                int rc = add_sentence(B, start, sent_line);
                if (rc) return rc;
                in_sentence = 0;
            }
            continue;
        }
        if (e1 == le) {
            int shown = (int)(le - s) > 60 ? 60 : (int)(le - s);
            return bertc_fail(B->err, BERTC_ERR_FORMAT,
                              "%s:%ld: one column \"%.*s\"%s: a CoNLL line needs the word first and its tag last, "
                              "separated by spaces or a tab (e.g. \"EU B-ORG\"); separate sentences with a blank line",
                              B->path, line, shown, s, shown < (int)(le - s) ? "..." : "");
        }
        char *l0 = le;
        while (l0 > e1 && !is_space(l0[-1])) l0--;
        *e1 = '\0';
        *le = '\0'; /* le is at most the '\n' or trailing space we cut, or end (the NUL of the buffer) */
        if (!in_sentence) {
            start = B->nw;
            sent_line = line;
            in_sentence = 1;
        }
        int rc = add_word(B, s, l0);
        if (rc) return rc;
    }
    if (in_sentence) return add_sentence(B, start, sent_line);
    return BERTC_OK;
}

/* ------------------------------------------------------------------ */
/* JSON Lines                                                           */

static const char *label_preview(char *out, size_t cap, const char *const *labels, int k) {
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < k; i++) {
        size_t need = strlen(labels[i]) + 2;
        if (used + need + 8 >= cap) {
            snprintf(out + used, cap - used, "%s...", i ? ", " : "");
            break;
        }
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? ", " : "", labels[i]);
    }
    return out;
}

static char *arena_copy(builder *B, const char *s) {
    struct bertc_token_store *st = B->st;
    size_t len = strlen(s) + 1;
    if (len > st->block_left || !st->next) {
        size_t sz = len > 65536 ? len : 65536;
        char **nb = realloc(st->blocks, (size_t)(st->nblocks + 1) * sizeof *nb);
        if (!nb) return NULL;
        st->blocks = nb;
        if (!(nb[st->nblocks] = malloc(sz))) return NULL;
        st->next = nb[st->nblocks++];
        st->block_left = sz;
    }
    char *d = st->next;
    memcpy(d, s, len);
    st->next += len;
    st->block_left -= len;
    return d;
}

/* One JSONL line: a sentence, {"tokens": [...], "ner_tags": [...]}. */
static int jsonl_sentence(void *ctx, const cJSON *o, long line) {
    builder *B = ctx;
    int rc = BERTC_OK;
    const cJSON *toks = cJSON_GetObjectItemCaseSensitive(o, "tokens");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(o, "ner_tags");
    if (!toks || !tags) {
        rc = bertc_fail(B->err, BERTC_ERR_NOTFOUND,
                        "%s:%ld: no \"%s\" key: each line needs \"tokens\" (a list of words) and "
                        "\"ner_tags\" (a list of tags, one per word)",
                        B->path, line, toks ? "ner_tags" : "tokens");
    } else if (!cJSON_IsArray(toks) || !cJSON_IsArray(tags)) {
        rc = bertc_fail(B->err, BERTC_ERR_FORMAT, "%s:%ld: \"%s\" must be a list (e.g. [\"EU\", \"rejects\"])",
                        B->path, line, cJSON_IsArray(toks) ? "ner_tags" : "tokens");
    } else if (cJSON_GetArraySize(toks) != cJSON_GetArraySize(tags)) {
        rc = bertc_fail(B->err, BERTC_ERR_FORMAT,
                        "%s:%ld: %d tokens but %d ner_tags: give exactly one tag per token",
                        B->path, line, cJSON_GetArraySize(toks), cJSON_GetArraySize(tags));
    } else {
        size_t start = B->nw;
        const cJSON *w = toks->child, *t = tags->child;
        for (int i = 0; w && t && !rc; i++, w = w->next, t = t->next) {
            if (!cJSON_IsString(w) || !w->valuestring) {
                rc = bertc_fail(B->err, BERTC_ERR_FORMAT, "%s:%ld: tokens[%d] is not a string: tokens must be a list of strings",
                                B->path, line, i);
                break;
            }
            const char *tagname = NULL;
            if (cJSON_IsString(t) && t->valuestring) {
                tagname = arena_copy(B, t->valuestring);
                if (!tagname) { rc = nomem(B); break; }
            } else if (cJSON_IsNumber(t) && t->valuedouble == floor(t->valuedouble)) {
                if (!B->labels) {
                    rc = bertc_fail(B->err, BERTC_ERR_ARG,
                                    "%s:%ld: ner_tags[%d] is the integer %.0f: integer tags are ids into a label "
                                    "list, so give the label names (a model's id2label) or write the tags as strings",
                                    B->path, line, i, t->valuedouble);
                    break;
                }
                if (!(t->valuedouble >= 0 && t->valuedouble < B->num_labels)) {
                    rc = bertc_fail(B->err, BERTC_ERR_FORMAT,
                                    "%s:%ld: ner_tags[%d] = %.0f is not a label id: ids run from 0 to %d",
                                    B->path, line, i, t->valuedouble, B->num_labels - 1);
                    break;
                }
                tagname = B->labels[(int)t->valuedouble];
            } else {
                rc = bertc_fail(B->err, BERTC_ERR_FORMAT,
                                "%s:%ld: ner_tags[%d] must be a tag name (string) or a label id (integer)",
                                B->path, line, i);
                break;
            }
            char *word = arena_copy(B, w->valuestring);
            if (!word) { rc = nomem(B); break; }
            rc = add_word(B, word, tagname);
        }
        if (!rc) rc = add_sentence(B, start, line);
    }
    return rc;
}

static int read_jsonl(builder *B) {
    return bertc_jsonl_each(B->path, MAX_FILE_BYTES, "{\"tokens\": [\"EU\", ...], \"ner_tags\": [\"B-ORG\", ...]}",
                            jsonl_sentence, B, B->err);
}

/* ------------------------------------------------------------------ */
/* Labels                                                               */

typedef struct named {
    const char *name;
    int id;
} named;

static int cmp_named(const void *a, const void *b) {
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}
static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Fills ds->labels and the word tag ids from the tag names. */
static int map_tags(builder *B, bertc_token_dataset *ds) {
    int rc = BERTC_OK;
    int k = 0;
    const char **names = NULL;
    if (B->labels) {
        k = B->num_labels;
        names = malloc((size_t)(k > 0 ? k : 1) * sizeof *names);
        if (!names) return nomem(B);
        memcpy(names, B->labels, (size_t)k * sizeof *names);
    } else {
        /* run_ner.py: sorted(set(tags)) */
        const char **all = malloc((B->nw ? B->nw : 1) * sizeof *all);
        if (!all) return nomem(B);
        memcpy(all, B->tagname, B->nw * sizeof *all);
        qsort(all, B->nw, sizeof *all, cmp_str);
        for (size_t i = 0; i < B->nw; i++)
            if (k == 0 || strcmp(all[k - 1], all[i]) != 0) all[k++] = all[i];
        names = all;
    }
    named *idx = malloc((size_t)(k > 0 ? k : 1) * sizeof *idx);
    ds->labels = calloc((size_t)(k > 0 ? k : 1), sizeof *ds->labels);
    B->st->tags = malloc((B->nw ? B->nw : 1) * sizeof *B->st->tags);
    if (!idx || !ds->labels || !B->st->tags) {
        rc = nomem(B);
        goto done;
    }
    ds->num_labels = k;
    for (int i = 0; i < k; i++) {
        if (!(ds->labels[i] = strdup(names[i]))) {
            rc = nomem(B);
            goto done;
        }
        idx[i] = (named){names[i], i};
    }
    qsort(idx, (size_t)k, sizeof *idx, cmp_named);
    size_t w = 0;
    for (size_t s = 0; s < B->ns && !rc; s++) {
        for (int i = 0; i < B->sp[s].n; i++, w++) {
            named key = {B->tagname[w], 0};
            const named *hit = bsearch(&key, idx, (size_t)k, sizeof *idx, cmp_named);
            if (!hit) {
                char preview[400];
                rc = bertc_fail(B->err, BERTC_ERR_NOTFOUND,
                                "%s:%ld: tag \"%.100s\" is not one of the %d labels given (%s): fix the tag, "
                                "or train a new model whose labels include it",
                                B->path, B->sp[s].line + (B->is_conll ? i : 0), B->tagname[w], k,
                                label_preview(preview, sizeof preview, (const char *const *)ds->labels, k));
                break;
            }
            B->st->tags[w] = hit->id;
        }
    }
done:
    free(idx);
    free(names);
    return rc;
}

static int check_labels(const char *path, const char *const *labels, int k, bertc_err *err) {
    if (k < 0 || (k > 0 && !labels))
        return bertc_fail(err, BERTC_ERR_ARG, "%s: %d labels but no names: give the label names in id order", path, k);
    if (!labels) return BERTC_OK;
    if (k == 0) return bertc_fail(err, BERTC_ERR_ARG, "%s: an empty label list: give the label names in id order", path);
    for (int i = 0; i < k; i++) {
        if (!labels[i] || !labels[i][0])
            return bertc_fail(err, BERTC_ERR_ARG, "%s: label %d is empty: every label needs a name", path, i);
        for (int j = 0; j < i; j++)
            if (strcmp(labels[i], labels[j]) == 0)
                return bertc_fail(err, BERTC_ERR_ARG, "%s: label \"%.100s\" is given twice (ids %d and %d): names must be distinct",
                                  path, labels[i], j, i);
    }
    return BERTC_OK;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int bertc_token_data_load(bertc_token_dataset *ds, const char *path, const char *format,
                          const char *const *labels, int num_labels, bertc_err *err) {
    memset(ds, 0, sizeof *ds);
    if (!path) return bertc_fail(err, BERTC_ERR_ARG, "token data: no file given");
    int rc = check_labels(path, labels, num_labels, err);
    if (rc) return rc;
    int jsonl;
    if (!format) {
        jsonl = ends_with(path, ".jsonl") || ends_with(path, ".ndjson") || ends_with(path, ".json");
    } else if (strcmp(format, "conll") == 0) {
        jsonl = 0;
    } else if (strcmp(format, "jsonl") == 0) {
        jsonl = 1;
    } else {
        return bertc_fail(err, BERTC_ERR_ARG, "%s: unknown token data format \"%.40s\": use conll or jsonl", path, format);
    }
    builder B = {0};
    B.path = path;
    B.err = err;
    B.labels = labels;
    B.num_labels = num_labels;
    B.st = calloc(1, sizeof *B.st);
    ds->store_ = B.st;
    if (!B.st || !(ds->path = strdup(path))) {
        rc = nomem(&B);
        goto fail;
    }
    rc = jsonl ? read_jsonl(&B) : read_conll(&B);
    if (!rc) rc = map_tags(&B, ds);
    if (rc) goto fail;
    ds->sent = malloc((B.ns ? B.ns : 1) * sizeof *ds->sent);
    if (!ds->sent) {
        rc = nomem(&B);
        goto fail;
    }
    for (size_t s = 0; s < B.ns; s++) {
        ds->sent[s] = (bertc_token_sentence){B.sp[s].n, B.st->words + B.sp[s].start, B.st->tags + B.sp[s].start,
                                             B.sp[s].line};
    }
    ds->n = (int)B.ns;
    ds->n_words = (long)B.nw;
    ds->docstarts = B.docstarts;
    free(B.tagname);
    free(B.sp);
    return BERTC_OK;
fail:
    free(B.tagname);
    free(B.sp);
    {
        bertc_err keep = err ? *err : (bertc_err){0};
        bertc_token_data_free(ds);
        if (err) *err = keep;
    }
    return rc;
}

void bertc_token_data_free(bertc_token_dataset *ds) {
    if (!ds) return;
    struct bertc_token_store *st = ds->store_;
    if (st) {
        free(st->file);
        for (int i = 0; i < st->nblocks; i++) free(st->blocks[i]);
        free(st->blocks);
        free(st->words);
        free(st->tags);
        free(st);
    }
    if (ds->labels)
        for (int i = 0; i < ds->num_labels; i++) free(ds->labels[i]);
    free(ds->labels);
    free(ds->sent);
    free(ds->path);
    memset(ds, 0, sizeof *ds);
}

int bertc_token_data_shuffle_limit(bertc_token_dataset *ds, uint64_t seed, long limit, bertc_err *err) {
    const char *path = ds->path ? ds->path : "token data";
    int n = ds->n;
    int *perm = malloc((size_t)(n > 0 ? n : 1) * sizeof *perm);
    bertc_token_sentence *sent = malloc((size_t)(n > 0 ? n : 1) * sizeof *sent);
    if (!perm || !sent) {
        free(perm);
        free(sent);
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
    }
    /* the permutation of data.c's bertc_data_shuffle_limit */
    for (int i = 0; i < n; i++) perm[i] = i;
    bertc_rng r;
    bertc_rng_seed(&r, seed);
    bertc_rng_shuffle(&r, perm, n);
    int keep = (limit < 0 || limit >= n) ? n : (int)limit;
    long words = 0;
    for (int i = 0; i < keep; i++) {
        sent[i] = ds->sent[perm[i]];
        words += sent[i].n;
    }
    free(ds->sent);
    free(perm);
    ds->sent = sent;
    ds->n = keep;
    ds->n_words = words;
    return BERTC_OK;
}

/* ------------------------------------------------------------------ */
/* Alignment                                                            */

int bertc_token_b_to_i(int32_t *map, const char *const *labels, int num_labels, bertc_err *err) {
    for (int i = 0; i < num_labels; i++) {
        map[i] = i;
        const char *name = labels[i];
        if (strncmp(name, "B-", 2) != 0) continue;
        /* name.replace("B-", "I-"): every non-overlapping occurrence, left to right */
        char *want = strdup(name);
        if (!want) return bertc_fail(err, BERTC_ERR_NOMEM, "label_all_tokens: out of memory");
        for (char *q = want; (q = strstr(q, "B-")) != NULL; q += 2) q[0] = 'I';
        for (int j = 0; j < num_labels; j++) {
            if (strcmp(labels[j], want) == 0) { /* list.index: the first */
                map[i] = j;
                break;
            }
        }
        free(want);
    }
    return BERTC_OK;
}

static int features_reserve(bertc_token_features *f, int need, bertc_err *err) {
    if (need <= f->cap) return BERTC_OK;
    int cap = f->cap ? f->cap : 64;
    while (cap < need) cap = cap > INT_MAX / 2 ? INT_MAX : cap * 2;
    int32_t **arrays[4] = {&f->input_ids, &f->type_ids, &f->word_ids, &f->labels};
    for (int a = 0; a < 4; a++) {
        int32_t *q = realloc(*arrays[a], (size_t)cap * sizeof *q);
        if (!q) return bertc_fail(err, BERTC_ERR_NOMEM, "token alignment: out of memory for %d tokens", need);
        *arrays[a] = q;
    }
    f->cap = cap;
    return BERTC_OK;
}

int bertc_token_align(bertc_token_features *out, const bert_tokenizer *tok,
                      const bertc_token_sentence *s, int max_length,
                      const int32_t *label_all_map, bertc_err *err) {
    if (max_length != 0 && max_length < 2)
        return bertc_fail(err, BERTC_ERR_ARG,
                          "token alignment: max_length %d leaves no room for [CLS] and [SEP]: use 0 (no limit) or at least 2",
                          max_length);
    bert_special_ids sp = bert_tokenizer_special_ids(tok);
    long budget = max_length > 0 ? max_length - 2 : (long)INT_MAX - 2; /* pieces kept */
    out->n = 0;
    out->words_cut = 0;
    int rc = features_reserve(out, 2, err);
    if (rc) return rc;
    out->input_ids[0] = sp.cls;
    out->word_ids[0] = -1;
    out->labels[0] = BERTC_TOKEN_IGNORE;
    int n = 1;
    long pieces = 0; /* pieces seen so far, kept or not */
    for (int w = 0; w < s->n; w++) {
        const char *word = s->words[w];
        rc = bert_tokenize(tok, word, strlen(word), &out->enc_, err);
        if (rc) return rc;
        int np = out->enc_.n;
        if (np == 0) continue; /* nothing to label: no token, as transformers */
        long keep = budget - pieces;
        if (keep < 0) keep = 0;
        if (keep > np) keep = np;
        if (keep < np) out->words_cut++;
        pieces += np;
        if (keep == 0) continue;
        if ((long)n + keep + 1 > INT_MAX)
            return bertc_fail(err, BERTC_ERR_ARG, "token alignment: a sentence of more than %d pieces: give a max_length",
                              INT_MAX - 2);
        rc = features_reserve(out, n + (int)keep + 1, err);
        if (rc) return rc;
        for (int p = 0; p < (int)keep; p++, n++) {
            out->input_ids[n] = out->enc_.ids[p];
            out->word_ids[n] = w;
            if (!s->tags) out->labels[n] = BERTC_TOKEN_IGNORE;
            else if (p == 0) out->labels[n] = s->tags[w];
            else out->labels[n] = label_all_map ? label_all_map[s->tags[w]] : BERTC_TOKEN_IGNORE;
        }
    }
    out->input_ids[n] = sp.sep;
    out->word_ids[n] = -1;
    out->labels[n] = BERTC_TOKEN_IGNORE;
    n++;
    memset(out->type_ids, 0, (size_t)n * sizeof *out->type_ids);
    out->n = n;
    return BERTC_OK;
}

void bertc_token_features_free(bertc_token_features *f) {
    if (!f) return;
    free(f->input_ids);
    free(f->type_ids);
    free(f->word_ids);
    free(f->labels);
    bert_encoding_free(&f->enc_);
    memset(f, 0, sizeof *f);
}
