/* qa_data.c: SQuAD readers and run_qa.py's features (qa_data.h). */
#include "qa_data.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#define QA_MAX_FILE ((size_t)4 << 30) /* 4 GiB: SQuAD v2 train is 40 MB */

/* ---------------------------------------------------------------- helpers */

int bertc_qa_py_isspace(int32_t cp) {
    if (cp < 0 || cp > 0x10FFFF) return 0;
    const utf8proc_property_t *p = utf8proc_get_property(cp);
    return p->category == UTF8PROC_CATEGORY_ZS || p->bidi_class == UTF8PROC_BIDI_CLASS_WS ||
           p->bidi_class == UTF8PROC_BIDI_CLASS_B || p->bidi_class == UTF8PROC_BIDI_CLASS_S;
}

/* Code points in s[0..len), or -1 when s is not valid UTF-8. */
static int utf8_chars(const char *s, size_t len) {
    size_t i = 0;
    int n = 0;
    while (i < len) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &c);
        if (k <= 0) return -1;
        i += (size_t)k;
        n++;
    }
    return n;
}

/* Byte position of code point `cp` in s (valid UTF-8), or (size_t)-1 past the end. */
static size_t utf8_byte_of(const char *s, size_t len, int cp) {
    size_t i = 0;
    for (int n = 0; n < cp; n++) {
        if (i >= len) return (size_t)-1;
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
    }
    return i;
}

static int line_of(const char *text, size_t pos) {
    int line = 1;
    for (size_t i = 0; i < pos; i++) line += text[i] == '\n';
    return line;
}

static void example_free(bertc_qa_example *e) {
    free(e->id), free(e->question), free(e->context);
    for (int a = 0; a < e->n_answers; a++) free(e->answer_text[a]);
    free(e->answer_text), free(e->answer_len), free(e->answer_start), free(e->answer_byte);
    memset(e, 0, sizeof *e);
}

void bertc_qa_set_free(bertc_qa_set *s) {
    if (!s) return;
    for (int i = 0; i < s->n; i++) example_free(&s->ex[i]);
    free(s->ex);
    memset(s, 0, sizeof *s);
}

/* A string field of obj, or NULL (with the message set) when missing or not a string. */
static const char *get_str(const cJSON *obj, const char *field, const char *where, bertc_err *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (!cJSON_IsString(v) || !v->valuestring) {
        bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s \"%s\"; every question needs it as a string", where,
                   v ? "non-string field" : "missing field", field);
        return NULL;
    }
    return v->valuestring;
}

static char *dup_str(const char *s) {
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

/* Fills e from id/question/context strings and n answers (texts[a], starts[a]
 * cJSON values); where names the place for messages ("file:line" or "file"). */
static int example_fill(bertc_qa_example *e, const char *where, const char *id, const char *question,
                        const char *context, int n, const cJSON *const *texts, const cJSON *const *starts,
                        bertc_err *err) {
    e->id = dup_str(id), e->question = dup_str(question), e->context = dup_str(context);
    e->answer_text = calloc((size_t)n + 1, sizeof *e->answer_text);
    e->answer_len = calloc((size_t)n + 1, sizeof *e->answer_len);
    e->answer_start = calloc((size_t)n + 1, sizeof *e->answer_start);
    e->answer_byte = calloc((size_t)n + 1, sizeof *e->answer_byte);
    if (!e->id || !e->question || !e->context || !e->answer_text || !e->answer_len || !e->answer_start ||
        !e->answer_byte)
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: question \"%s\": out of memory", where, id);
    e->question_len = strlen(question), e->context_len = strlen(context);
    if (e->context_len == 0)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: question \"%s\": empty context; give the paragraph text",
                          where, id);
    if (utf8_chars(question, e->question_len) < 0 || utf8_chars(id, strlen(id)) < 0)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: question \"%s\": invalid UTF-8 in the id or question", where,
                          id);
    e->context_chars = utf8_chars(context, e->context_len);
    if (e->context_chars < 0)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: question \"%s\": invalid UTF-8 in the context", where, id);
    for (int a = 0; a < n; a++) {
        if (!cJSON_IsString(texts[a]) || !texts[a]->valuestring)
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: question \"%s\": answer %d: text must be a string", where,
                              id, a);
        if (!cJSON_IsNumber(starts[a]) || starts[a]->valuedouble != (double)(long)starts[a]->valuedouble ||
            starts[a]->valuedouble < 0 || starts[a]->valuedouble > e->context_chars)
            return bertc_fail(err, BERTC_ERR_FORMAT,
                              "%s: question \"%s\": answer %d: answer_start must be an integer in 0..%d "
                              "(code points of the context)",
                              where, id, a, e->context_chars);
        const char *t = texts[a]->valuestring;
        int start = (int)starts[a]->valuedouble;
        size_t tl = strlen(t), b = utf8_byte_of(context, e->context_len, start);
        if (tl == 0)
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: question \"%s\": answer %d: empty text", where, id, a);
        if (b == (size_t)-1 || b + tl > e->context_len || memcmp(context + b, t, tl) != 0)
            return bertc_fail(err, BERTC_ERR_FORMAT,
                              "%s: question \"%s\": answer %d \"%.60s\" is not the context's text at answer_start "
                              "%d (code points, as Python indexes); fix the offset or the text",
                              where, id, a, t, start);
        e->answer_text[a] = dup_str(t);
        if (!e->answer_text[a]) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", where);
        e->n_answers = a + 1;
        e->answer_len[a] = tl, e->answer_start[a] = start, e->answer_byte[a] = b;
    }
    return BERTC_OK;
}

static int set_push(bertc_qa_set *s, int *cap, bertc_err *err) {
    if (s->n == *cap) {
        int nc = *cap ? *cap * 2 : 256;
        bertc_qa_example *p = realloc(s->ex, (size_t)nc * sizeof *p);
        if (!p) return bertc_fail(err, BERTC_ERR_NOMEM, "out of memory reading questions");
        s->ex = p, *cap = nc;
    }
    memset(&s->ex[s->n], 0, sizeof s->ex[s->n]);
    s->n++;
    return BERTC_OK;
}

/* ------------------------------------------------------------ SQuAD JSON */

static int parse_squad(bertc_qa_set *s, const char *name, const cJSON *root, bertc_err *err) {
    int cap = 0;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!cJSON_IsArray(data))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: no \"data\" array: not a SQuAD file (SQuAD JSON or JSON Lines)",
                          name);
    int di = 0;
    const cJSON *art, *par, *qa;
    cJSON_ArrayForEach(art, data) {
        const cJSON *pars = cJSON_GetObjectItemCaseSensitive(art, "paragraphs");
        if (!cJSON_IsArray(pars))
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: data[%d]: missing field \"paragraphs\" (an array)", name,
                              di);
        int pi = 0;
        cJSON_ArrayForEach(par, pars) {
            char where[600];
            snprintf(where, sizeof where, "%s: data[%d].paragraphs[%d]", name, di, pi);
            const char *context = get_str(par, "context", where, err);
            if (!context) return err->code;
            const cJSON *qas = cJSON_GetObjectItemCaseSensitive(par, "qas");
            if (!cJSON_IsArray(qas))
                return bertc_fail(err, BERTC_ERR_FORMAT, "%s: missing field \"qas\" (an array)", where);
            int qi = 0;
            cJSON_ArrayForEach(qa, qas) {
                char w2[700];
                snprintf(w2, sizeof w2, "%s.qas[%d]", where, qi);
                const char *id = get_str(qa, "id", w2, err), *q = id ? get_str(qa, "question", w2, err) : NULL;
                if (!q) return err->code;
                const cJSON *ans = cJSON_GetObjectItemCaseSensitive(qa, "answers");
                if (!cJSON_IsArray(ans))
                    return bertc_fail(err, BERTC_ERR_FORMAT, "%s: question \"%s\": missing field \"answers\" (an array)",
                                      name, id);
                const cJSON *imp = cJSON_GetObjectItemCaseSensitive(qa, "is_impossible");
                int n = cJSON_GetArraySize(ans);
                if (imp && !cJSON_IsBool(imp))
                    return bertc_fail(err, BERTC_ERR_FORMAT, "%s: question \"%s\": is_impossible must be true or false",
                                      name, id);
                if (cJSON_IsTrue(imp) && n > 0)
                    return bertc_fail(err, BERTC_ERR_FORMAT,
                                      "%s: question \"%s\": is_impossible is true but it has %d answers", name, id, n);
                const cJSON **texts = calloc((size_t)n + 1, sizeof *texts), **starts = calloc((size_t)n + 1, sizeof *starts);
                if (!texts || !starts) {
                    free(texts), free(starts);
                    return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", name);
                }
                int a = 0, rc = BERTC_OK;
                const cJSON *an;
                cJSON_ArrayForEach(an, ans) {
                    texts[a] = cJSON_GetObjectItemCaseSensitive(an, "text");
                    starts[a] = cJSON_GetObjectItemCaseSensitive(an, "answer_start");
                    if (!texts[a] || !starts[a])
                        rc = bertc_fail(err, BERTC_ERR_FORMAT,
                                        "%s: question \"%s\": answer %d: missing field \"%s\"", name, id, a,
                                        texts[a] ? "answer_start" : "text");
                    a++;
                }
                if (!rc) rc = set_push(s, &cap, err);
                if (!rc) rc = example_fill(&s->ex[s->n - 1], name, id, q, context, n, texts, starts, err);
                free(texts), free(starts);
                if (rc) return rc;
                qi++;
            }
            pi++;
        }
        di++;
    }
    return BERTC_OK;
}

/* ----------------------------------------------------------- JSON Lines */

static int parse_jsonl_line(bertc_qa_set *s, int *cap, const char *name, int line, const char *p, size_t n,
                            bertc_err *err) {
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(p, n, &end, 0);
    if (!o || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s:%d: not a JSON object (one object per line: id, question, "
                          "context, answers)", name, line);
    }
    while (end && end < p + n && (*end == ' ' || *end == '\t' || *end == '\r')) end++;
    int rc = BERTC_OK;
    if (end && end < p + n)
        rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s:%d: text after the JSON object; one object per line", name, line);
    char where[600];
    snprintf(where, sizeof where, "%s:%d", name, line);
    const char *id = rc ? NULL : get_str(o, "id", where, err);
    const char *q = id ? get_str(o, "question", where, err) : NULL;
    const char *c = q ? get_str(o, "context", where, err) : NULL;
    if (!rc && !c) rc = err->code;
    const cJSON *ans = rc ? NULL : cJSON_GetObjectItemCaseSensitive(o, "answers");
    const cJSON *texts = cJSON_GetObjectItemCaseSensitive(ans, "text");
    const cJSON *starts = cJSON_GetObjectItemCaseSensitive(ans, "answer_start");
    if (!rc && (!cJSON_IsObject(ans) || !cJSON_IsArray(texts) || !cJSON_IsArray(starts)))
        rc = bertc_fail(err, BERTC_ERR_FORMAT,
                        "%s: question \"%s\": missing field \"answers\" as {\"text\": [...], \"answer_start\": [...]}",
                        where, id);
    int na = rc ? 0 : cJSON_GetArraySize(texts);
    if (!rc && cJSON_GetArraySize(starts) != na)
        rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: question \"%s\": %d answer texts but %d answer_start values",
                        where, id, na, cJSON_GetArraySize(starts));
    const cJSON **tv = rc ? NULL : calloc((size_t)na + 1, sizeof *tv), **sv = rc ? NULL : calloc((size_t)na + 1, sizeof *sv);
    if (!rc && (!tv || !sv)) rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", where);
    for (int a = 0; !rc && a < na; a++) tv[a] = cJSON_GetArrayItem(texts, a), sv[a] = cJSON_GetArrayItem(starts, a);
    if (!rc) rc = set_push(s, cap, err);
    if (!rc) {
        rc = example_fill(&s->ex[s->n - 1], where, id, q, c, na, tv, sv, err);
        s->ex[s->n - 1].line = line;
    }
    free(tv), free(sv);
    cJSON_Delete(o);
    return rc;
}

static int parse_jsonl(bertc_qa_set *s, const char *name, const char *text, size_t len, bertc_err *err) {
    int cap = 0, line = 0;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && text[j] != '\n') j++;
        line++;
        size_t k = i;
        while (k < j && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r')) k++;
        if (k < j) {
            int rc = parse_jsonl_line(s, &cap, name, line, text + i, j - i, err);
            if (rc) return rc;
        }
        i = j + 1;
    }
    return BERTC_OK;
}

/* ------------------------------------------------------------ the reader */

static int cmp_idp(const void *a, const void *b) {
    return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

/* Duplicate ids: results are keyed by id, so two questions with one id are an error. */
static int check_ids(const bertc_qa_set *s, const char *name, bertc_err *err) {
    int n = s->n;
    char *const **p = malloc((size_t)(n ? n : 1) * sizeof *p);
    if (!p) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", name);
    for (int i = 0; i < n; i++) p[i] = &s->ex[i].id;
    qsort(p, (size_t)n, sizeof *p, cmp_idp);
    int rc = BERTC_OK;
    for (int i = 1; i < n && !rc; i++)
        if (strcmp(*p[i - 1], *p[i]) == 0)
            rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: question id \"%s\" appears twice; ids must be unique", name,
                            *p[i]);
    free((void *)p);
    return rc;
}

int bertc_qa_parse(bertc_qa_set *out, const char *name, const char *text, size_t len, bertc_err *err) {
    bertc_qa_set s = {0};
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')) i++;
    if (i == len) return bertc_fail(err, BERTC_ERR_FORMAT, "%s: empty file; expected SQuAD JSON or JSON Lines", name);
    if (text[i] != '{')
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s:%d: expected '{' (SQuAD JSON or JSON Lines)", name,
                          line_of(text, i));
    /* JSON Lines when the first non-blank line is a whole object with an "id" */
    size_t j = i;
    while (j < len && text[j] != '\n') j++;
    cJSON *first = cJSON_ParseWithLength(text + i, j - i);
    int jsonl = first && cJSON_GetObjectItemCaseSensitive(first, "id") != NULL;
    cJSON_Delete(first);
    int rc;
    if (jsonl) {
        s.format = 2;
        rc = parse_jsonl(&s, name, text, len, err);
    } else {
        s.format = 1;
        const char *end = NULL;
        cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
        if (!root) {
            size_t at = end ? (size_t)(end - text) : 0;
            const char *ep = cJSON_GetErrorPtr();
            if (!end && ep && ep >= text && ep <= text + len) at = (size_t)(ep - text);
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s:%d: bad JSON (SQuAD JSON or JSON Lines expected)", name,
                              line_of(text, at));
        }
        size_t k = end ? (size_t)(end - text) : len;
        while (k < len && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r' || text[k] == '\n' || !text[k])) k++;
        if (k < len)
            rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s:%d: text after the JSON document", name, line_of(text, k));
        else
            rc = parse_squad(&s, name, root, err);
        cJSON_Delete(root);
    }
    if (!rc) rc = check_ids(&s, name, err);
    if (rc) {
        bertc_qa_set_free(&s);
        return rc;
    }
    *out = s;
    return BERTC_OK;
}

int bertc_qa_read(bertc_qa_set *out, const char *path, bertc_err *err) {
    char *text = NULL;
    size_t len = 0;
    int rc = bertc_read_file(path, QA_MAX_FILE, &text, &len, err);
    if (rc) return rc;
    rc = bertc_qa_parse(out, path, text, len, err);
    free(text);
    return rc;
}

/* ------------------------------------------------------------- features */

void bertc_qa_opts_default(bertc_qa_opts *o) {
    o->max_length = 384;
    o->stride = 128;
    o->pad_to_max_length = 1;
    o->lstrip_question = 1;
}

void bertc_qa_features_free(bertc_qa_features *f) {
    if (!f) return;
    free(f->len), free(f->example), free(f->input_ids), free(f->token_type_ids), free(f->attention_mask);
    free(f->offsets), free(f->context_offsets), free(f->context_bytes), free(f->sequence_ids), free(f->word_ids);
    free(f->start_positions), free(f->end_positions);
    memset(f, 0, sizeof *f);
}

static int grow(void **p, size_t elems, size_t size) {
    size_t bytes;
    if (bertc_mul_size(elems, size, &bytes)) return -1;
    void *q = realloc(*p, bytes ? bytes : 1);
    if (!q) return -1;
    *p = q;
    return 0;
}

static int features_reserve(bertc_qa_features *f, int rows, bertc_err *err) {
    if (rows <= f->cap) return BERTC_OK;
    int cap = f->cap ? f->cap : 64;
    while (cap < rows) cap *= 2;
    size_t M = (size_t)f->M, C = (size_t)cap;
    if (grow((void **)&f->len, C, 4) || grow((void **)&f->example, C, 4) || grow((void **)&f->input_ids, C * M, 4) ||
        grow((void **)&f->token_type_ids, C * M, 4) || grow((void **)&f->attention_mask, C * M, 4) ||
        grow((void **)&f->offsets, C * M * 2, 4) || grow((void **)&f->context_offsets, C * M * 2, 4) ||
        grow((void **)&f->context_bytes, C * M * 2, 4) || grow((void **)&f->sequence_ids, C * M, 1) ||
        grow((void **)&f->word_ids, C * M, 4) || grow((void **)&f->start_positions, C, 4) ||
        grow((void **)&f->end_positions, C, 4))
        return bertc_fail(err, BERTC_ERR_NOMEM, "QA features: out of memory for %d features of %d tokens", cap, f->M);
    f->cap = cap;
    return BERTC_OK;
}

/* Word ids of a tokenized text: a piece starts a new word unless its token is
 * a "##" continuation (what the `tokenizers` BertPreTokenizer's words give). */
static void word_ids_of(int32_t *out, const bert_tokenizer *tok, const bert_encoding *e) {
    int w = -1;
    for (int i = 0; i < e->n; i++) {
        const char *t = bert_tokenizer_id_to_token(tok, e->ids[i]);
        if (!(t && t[0] == '#' && t[1] == '#' && i > 0)) w++;
        out[i] = w;
    }
}

/* One feature row: [CLS] q [SEP] c[b..e) [SEP] (+ padding). */
static void put_row(bertc_qa_features *f, int r, const bert_special_ids *sp, const bert_encoding *q,
                    const int32_t *qw, const bert_encoding *c, const int32_t *cw, int b, int e, int ex_index) {
    size_t M = (size_t)f->M, base = (size_t)r * M;
    int32_t *ids = f->input_ids + base, *tt = f->token_type_ids + base, *am = f->attention_mask + base;
    int32_t *off = f->offsets + 2 * base, *coff = f->context_offsets + 2 * base, *cb = f->context_bytes + 2 * base;
    int8_t *seq = f->sequence_ids + base;
    int32_t *wid = f->word_ids + base;
    int t = 0;
#define PUT(id_, type_, seq_, b0_, b1_, w_, cb0_, cb1_)                                                          \
    do {                                                                                                         \
        ids[t] = (id_), tt[t] = (type_), am[t] = 1, seq[t] = (int8_t)(seq_), off[2 * t] = (b0_),                 \
        off[2 * t + 1] = (b1_), wid[t] = (w_);                                                                   \
        coff[2 * t] = (seq_) == 1 ? (b0_) : -1, coff[2 * t + 1] = (seq_) == 1 ? (b1_) : -1;                      \
        cb[2 * t] = (cb0_), cb[2 * t + 1] = (cb1_);                                                              \
        t++;                                                                                                     \
    } while (0)
    PUT(sp->cls, 0, -1, 0, 0, -1, -1, -1);
    for (int i = 0; i < q->n; i++) PUT(q->ids[i], 0, 0, q->offsets[2 * i], q->offsets[2 * i + 1], qw[i], -1, -1);
    PUT(sp->sep, 0, -1, 0, 0, -1, -1, -1);
    for (int i = b; i < e; i++)
        PUT(c->ids[i], 1, 1, c->offsets[2 * i], c->offsets[2 * i + 1], cw[i], c->byte_offsets[2 * i],
            c->byte_offsets[2 * i + 1]);
    PUT(sp->sep, 1, -1, 0, 0, -1, -1, -1);
#undef PUT
    f->len[r] = t;
    f->example[r] = ex_index;
    for (int k = t; k < f->M; k++) {
        ids[k] = sp->pad, tt[k] = 0, am[k] = 0, seq[k] = -1, wid[k] = -1;
        off[2 * k] = off[2 * k + 1] = 0;
        coff[2 * k] = coff[2 * k + 1] = cb[2 * k] = cb[2 * k + 1] = -1;
    }
}

/* run_qa's prepare_train_features labels for row r (see qa_data.h). */
static int label_row(bertc_qa_features *f, int r, const bertc_qa_example *ex, bertc_err *err) {
    f->start_positions[r] = f->end_positions[r] = 0; /* the [CLS] index */
    if (ex->n_answers == 0) return BERTC_OK;
    size_t base = (size_t)r * f->M;
    const int32_t *off = f->offsets + 2 * base;
    const int8_t *seq = f->sequence_ids + base;
    int T = f->padded ? f->M : f->len[r];
    int start_char = ex->answer_start[0];
    int end_char = start_char + utf8_chars(ex->answer_text[0], ex->answer_len[0]);
    int ts = 0, te = T - 1;
    while (ts < T && seq[ts] != 1) ts++;
    while (te >= 0 && seq[te] != 1) te--;
    if (ts >= T || te < 0)
        return bertc_fail(err, BERTC_ERR_FORMAT,
                          "question \"%s\": the context has no tokens (only spaces or control characters?) but the "
                          "question has an answer",
                          ex->id);
    if (!(off[2 * ts] <= start_char && off[2 * te + 1] >= end_char)) return BERTC_OK;
    while (ts < T && off[2 * ts] <= start_char) ts++;
    while (te >= 0 && off[2 * te + 1] >= end_char) te--;
    f->start_positions[r] = ts - 1;
    f->end_positions[r] = te + 1;
    return BERTC_OK;
}

static int features_add(bertc_qa_features *f, const bert_tokenizer *tok, const bertc_qa_example *ex, int ex_index,
                        const bertc_qa_opts *o, bert_encoding *q, bert_encoding *c, int32_t **words, int *wcap,
                        bertc_err *err) {
    int M = o->max_length, S = o->stride;
    if (f->F == 0) { /* nothing kept yet: (re)start with these options */
        if (f->cap && f->M != M) bertc_qa_features_free(f);
        f->M = M, f->padded = o->pad_to_max_length;
    }
    if (f->M != M || f->padded != o->pad_to_max_length)
        return bertc_fail(err, BERTC_ERR_ARG, "QA features: options differ from the earlier features' (max length %d)",
                          f->M);
    if (M < 4 || M > 1 << 20 || S < 0)
        return bertc_fail(err, BERTC_ERR_ARG, "QA features: max length %d / stride %d: need max length 4..%d and "
                          "stride >= 0", M, S, 1 << 20);
    const char *qt = ex->question;
    size_t ql = ex->question_len;
    while (o->lstrip_question && ql > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)qt, (utf8proc_ssize_t)ql, &cp);
        if (k <= 0 || !bertc_qa_py_isspace(cp)) break;
        qt += k, ql -= (size_t)k;
    }
    int rc = bert_tokenize(tok, qt, ql, q, err);
    if (!rc) rc = bert_tokenize(tok, ex->context, ex->context_len, c, err);
    if (rc) return bertc_err_prefix(err, "question \"%s\"", ex->id);
    int nq = q->n, nc = c->n;
    if (nq + nc > *wcap) {
        int cap = (nq + nc) * 2 + 16;
        if (grow((void **)words, (size_t)cap, sizeof **words))
            return bertc_fail(err, BERTC_ERR_NOMEM, "QA features: out of memory");
        *wcap = cap;
    }
    word_ids_of(*words, tok, q);
    word_ids_of(*words + nq, tok, c);
    int count = 1, W = nc, step = 1;
    if (nq + nc + 3 > M) {
        W = M - 3 - nq;
        if (W <= 0)
            return bertc_fail(err, BERTC_ERR_ARG,
                              "question \"%s\": %d question tokens leave no room for the context in max length %d "
                              "(transformers: \"Sequence to truncate too short to respect the provided "
                              "max_length\"); shorten the question or raise the max length",
                              ex->id, nq, M);
        if (S >= W)
            return bertc_fail(err, BERTC_ERR_ARG,
                              "question \"%s\": stride %d must be less than the %d context tokens a window holds "
                              "(max length %d - 3 - %d question tokens); lower the stride",
                              ex->id, S, W, M, nq);
        step = W - S;
        count = 1 + (nc - W + step - 1) / step;
    }
    rc = features_reserve(f, f->F + count, err);
    if (rc) return rc;
    bert_special_ids sp = bert_tokenizer_special_ids(tok);
    for (int k = 0; k < count; k++) {
        int b = k * step, e = b + W < nc ? b + W : nc;
        put_row(f, f->F, &sp, q, *words, c, *words + nq, b, e, ex_index);
        rc = label_row(f, f->F, ex, err);
        if (rc) return rc;
        f->F++;
    }
    return BERTC_OK;
}

int bertc_qa_features_add(bertc_qa_features *out, const bert_tokenizer *tok, const bertc_qa_example *ex,
                          int ex_index, const bertc_qa_opts *opts, bertc_err *err) {
    bertc_qa_opts d;
    if (!opts) bertc_qa_opts_default(&d), opts = &d;
    bert_encoding q = {0}, c = {0};
    int32_t *words = NULL;
    int wcap = 0;
    int rc = features_add(out, tok, ex, ex_index, opts, &q, &c, &words, &wcap, err);
    bert_encoding_free(&q), bert_encoding_free(&c), free(words);
    return rc;
}

int bertc_qa_features_build(bertc_qa_features *out, const bert_tokenizer *tok, const bertc_qa_set *set,
                            const bertc_qa_opts *opts, bertc_err *err) {
    bertc_qa_opts d;
    if (!opts) bertc_qa_opts_default(&d), opts = &d;
    bert_encoding q = {0}, c = {0};
    int32_t *words = NULL;
    int wcap = 0, rc = BERTC_OK;
    for (int i = 0; i < set->n && !rc; i++) rc = features_add(out, tok, &set->ex[i], i, opts, &q, &c, &words, &wcap, err);
    bert_encoding_free(&q), bert_encoding_free(&c), free(words);
    return rc;
}
