/* token_decode.c: token-classification logits -> entities, as transformers 5.24's
 * TokenClassificationPipeline.postprocess (see token_decode.h for the steps). */
#include "tasks/token_decode.h"
#include "ops_cpu.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const STRATEGY_NAMES[] = {"none", "simple", "first", "average", "max"};
#define N_STRATEGIES 5

int bertc_token_strategy_parse(int *out, const char *name, bertc_err *err) {
    for (int s = 0; name && s < N_STRATEGIES; s++)
        if (strcasecmp(name, STRATEGY_NAMES[s]) == 0) { *out = s; return BERTC_OK; }
    return bertc_fail(err, BERTC_ERR_ARG,
                      "aggregation strategy \"%s\" is unknown: use none, simple, first, average or max",
                      name ? name : "(null)");
}

const char *bertc_token_strategy_name(int strategy) {
    return strategy >= 0 && strategy < N_STRATEGIES ? STRATEGY_NAMES[strategy] : "?";
}

/* ------------------------------------------------------------------ UTF-8 (tokenizer.h's decoder) */

/* Python's len() of the string s[0..n) decodes to. */
static int utf8_len(const char *s, size_t n) {
    int32_t cp;
    int count = 0;
    for (size_t i = 0; i < n; i += bert_utf8_next((const uint8_t *)s, n, i, &cp)) count++;
    return count;
}

static int utf8_put(char *o, int32_t c) {
    if (c < 0x80) { o[0] = (char)c; return 1; }
    if (c < 0x800) { o[0] = (char)(0xC0 | (c >> 6)); o[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12)); o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F)); return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18)); o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F)); o[3] = (char)(0x80 | (c & 0x3F)); return 4;
}

/* A malloc'd, NUL-terminated, well-formed copy of s[0..n): what Python holds after
 * decoding with "replace" (each ill-formed subpart becomes U+FFFD, 3 bytes). */
static char *utf8_clean_dup(const char *s, size_t n) {
    if (n > SIZE_MAX / 3 - 1) return NULL;
    char *o = malloc(3 * n + 1), *p = o;
    if (!o) return NULL;
    int32_t cp;
    for (size_t i = 0; i < n;) {
        int k = bert_utf8_next((const uint8_t *)s, n, i, &cp);
        if (cp == 0xFFFD) p += utf8_put(p, cp);
        else { memcpy(p, s + i, (size_t)k); p += k; }
        i += (size_t)k;
    }
    *p = '\0';
    return o;
}

/* ---------------------------------------------------------------- strings */

/* A growable byte buffer; ok drops to 0 on the first failed allocation. */
typedef struct sbuf { char *s; size_t n, cap; int ok; } sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
    if (!b->ok) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1) cap *= 2;
        char *t = realloc(b->s, cap);
        if (!t) { b->ok = 0; return; }
        b->s = t; b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}
static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }
static char *sb_done(sbuf *b) {
    if (b->ok && !b->s) sb_add(b, "", 0);
    if (b->ok) return b->s;
    free(b->s);
    return NULL;
}

/* Appends s with every non-overlapping `from` (left to right) replaced by `to`,
 * as Python's and Rust's str.replace. */
static void sb_replace(sbuf *b, const char *s, const char *from, const char *to) {
    size_t fl = strlen(from);
    for (const char *hit; (hit = strstr(s, from)); s = hit + fl) {
        sb_add(b, s, (size_t)(hit - s));
        sb_str(b, to);
    }
    sb_str(b, s);
}

/* tokenizers' decoders::wordpiece::cleanup, applied in this order. */
static const char *const CLEANUP[][2] = {
    {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
    {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
};
#define N_CLEANUP (sizeof CLEANUP / sizeof CLEANUP[0])

char *bertc_token_decode_words(const char *const *tokens, int n) {
    sbuf out = {.ok = 1};
    for (int i = 0; i < n && out.ok; i++) {
        /* the decoder's per-token step: prefix, then cleanup of that piece alone */
        sbuf piece = {.ok = 1};
        const char *t = tokens[i];
        if (i > 0 && strncmp(t, "##", 2) == 0) sb_str(&piece, t + 2);
        else {
            if (i > 0) sb_str(&piece, " ");
            sb_str(&piece, t);
        }
        char *cur = sb_done(&piece);
        for (size_t r = 0; cur && r < N_CLEANUP; r++) {
            if (!strstr(cur, CLEANUP[r][0])) continue;
            sbuf next = {.ok = 1};
            sb_replace(&next, cur, CLEANUP[r][0], CLEANUP[r][1]);
            free(cur);
            cur = sb_done(&next);
        }
        if (!cur) { out.ok = 0; break; }
        sb_str(&out, cur);
        free(cur);
    }
    return sb_done(&out);
}

/* ------------------------------------------------------------ the decoding */

/* A token that survives the special-token filter (gather_pre_entities). */
typedef struct pre_entity {
    const double *p; /* (NL) its probabilities */
    char *word;      /* the token, or the text under an [UNK] */
    int index, start, end, is_subword;
} pre_entity;

/* An entity before grouping (aggregate / aggregate_word): label names a row of id2label. */
typedef struct raw_entity {
    int label;
    double score;
    int index;
    char *word;
    int start, end;
} raw_entity;

static int argmax(const double *v, int NL) {
    int k = 0;
    for (int j = 1; j < NL; j++)
        if (v[j] > v[k]) k = j; /* first maximum, as numpy's argmax */
    return k;
}

/* get_tag: "B-X" -> (B, X), "I-X" -> (I, X), anything else -> (I, itself). */
static const char *tag_of(const char *label, int *is_b) {
    *is_b = strncmp(label, "B-", 2) == 0;
    return (*is_b || strncmp(label, "I-", 2) == 0) ? label + 2 : label;
}

static int ignored(const char *label, const char *const *ignore, int n_ignore) {
    for (int i = 0; i < n_ignore; i++)
        if (ignore[i] && strcmp(ignore[i], label) == 0) return 1;
    return 0;
}

/* aggregate_word: one entity for pre[0..k) (a token and its subwords). */
static int aggregate_word(raw_entity *out, const pre_entity *pre, int k, int NL, int strategy) {
    const char **words = malloc((size_t)k * sizeof *words);
    if (!words) return -1;
    for (int i = 0; i < k; i++) words[i] = pre[i].word;
    out->word = bertc_token_decode_words(words, k);
    free(words);
    if (!out->word) return -1;
    if (strategy == BERTC_TOKEN_FIRST) {
        out->label = argmax(pre[0].p, NL);
        out->score = pre[0].p[out->label];
    } else if (strategy == BERTC_TOKEN_MAX) {
        /* max(entities, key=scores.max()): the first token with the largest maximum */
        int best = 0;
        double bmax = pre[0].p[argmax(pre[0].p, NL)];
        for (int i = 1; i < k; i++) {
            double m = pre[i].p[argmax(pre[i].p, NL)];
            if (m > bmax) { bmax = m; best = i; }
        }
        out->label = argmax(pre[best].p, NL);
        out->score = pre[best].p[out->label];
    } else { /* AVERAGE: argmax of the mean probability row */
        double *avg = calloc((size_t)NL, sizeof *avg);
        if (!avg) return -1;
        for (int i = 0; i < k; i++)
            for (int j = 0; j < NL; j++) avg[j] += pre[i].p[j];
        for (int j = 0; j < NL; j++) avg[j] /= k;
        out->label = argmax(avg, NL);
        out->score = avg[out->label];
        free(avg);
    }
    out->index = -1;
    out->start = pre[0].start;
    out->end = pre[k - 1].end;
    return 0;
}

/* group_sub_entities: one bertc_entity for raw[0..k). */
static int group_sub_entities(bertc_entity *out, const raw_entity *raw, int k,
                              const char *const *id2label) {
    const char *first = id2label[raw[0].label], *dash = strchr(first, '-');
    out->entity = strdup(dash ? dash + 1 : first); /* label.split("-", 1)[-1] */
    const char **words = malloc((size_t)k * sizeof *words);
    if (!out->entity || !words) { free(words); return -1; }
    double sum = 0;
    for (int i = 0; i < k; i++) { words[i] = raw[i].word; sum += raw[i].score; }
    out->word = bertc_token_decode_words(words, k);
    free(words);
    if (!out->word) return -1;
    out->score = sum / k;
    out->index = -1;
    out->start = raw[0].start;
    out->end = raw[k - 1].end;
    return 0;
}

void bertc_token_entities_free(bertc_entity *ents, int n) {
    if (!ents) return;
    for (int i = 0; i < n; i++) { free(ents[i].entity); free(ents[i].word); }
    free(ents);
}

/* Checks what bertc_token_decode reads before it reads it. */
static int check_args(const bert_tokenizer *tok, const char *text, size_t len, const bert_encoding *enc,
                      const float *logits, int NL, const char *const *id2label, int strategy,
                      bertc_err *err) {
    if (!tok || (!text && len) || !enc || (!logits && enc->n) || !id2label)
        return bertc_fail(err, BERTC_ERR_ARG, "bertc_token_decode: tokenizer, text, encoding, logits and "
                                              "id2label must not be NULL");
    if (NL < 1)
        return bertc_fail(err, BERTC_ERR_ARG, "bertc_token_decode: %d labels: a token classifier needs at least one", NL);
    for (int j = 0; j < NL; j++)
        if (!id2label[j])
            return bertc_fail(err, BERTC_ERR_ARG, "bertc_token_decode: id2label[%d] is NULL: give every label a name", j);
    if (strategy < 0 || strategy >= N_STRATEGIES)
        return bertc_fail(err, BERTC_ERR_ARG, "bertc_token_decode: aggregation strategy %d is unknown "
                                              "(0 none, 1 simple, 2 first, 3 average, 4 max)", strategy);
    if (enc->n < 0 || (enc->n > 0 && (!enc->ids || !enc->offsets || !enc->byte_offsets)))
        return bertc_fail(err, BERTC_ERR_ARG, "bertc_token_decode: the encoding is empty or freed: bert_encode the text first");
    for (int i = 0; i < enc->n; i++) {
        int32_t b = enc->byte_offsets[2 * i], e = enc->byte_offsets[2 * i + 1];
        if (b < 0 || e < b || (size_t)e > len || enc->offsets[2 * i] < 0 ||
            enc->offsets[2 * i + 1] < enc->offsets[2 * i])
            return bertc_fail(err, BERTC_ERR_ARG, "bertc_token_decode: token %d spans bytes [%d, %d) of a %zu-byte "
                                                  "text: the encoding is not of this text", i, b, e, len);
        for (int j = 0; j < NL; j++)
            if (!isfinite(logits[(size_t)i * NL + j]))
                return bertc_fail(err, BERTC_ERR_NUMERIC, "bertc_token_decode: logit of token %d, label %d (%s) is %g: "
                                                          "the model produced non-finite values", i, j, id2label[j],
                                  (double)logits[(size_t)i * NL + j]);
    }
    return BERTC_OK;
}

/* Softmax of each row as numpy does it in the pipeline: x - max, exp, / sum. */
static void softmax_rows(double *p, const float *logits, int n, int NL) {
    for (size_t i = 0; i < (size_t)n * NL; i++) p[i] = logits[i];
    for (int i = 0; i < n; i++) cpu_softmax_double(p + (size_t)i * NL, NL);
}

/* gather_pre_entities: fills pre (capacity enc->n) and returns how many, or -1. */
static int gather_pre_entities(pre_entity *pre, const bert_tokenizer *tok, const char *text,
                               const bert_encoding *enc, const double *p, int NL) {
    bert_special_ids sp = bert_tokenizer_special_ids(tok);
    int m = 0;
    for (int i = 0; i < enc->n; i++) {
        int id = enc->ids[i], s = enc->offsets[2 * i], e = enc->offsets[2 * i + 1];
        /* special_tokens_mask: only the [CLS]/[SEP] the template added (span (0, 0));
         * a literal "[SEP]" typed in the text is a token of the text. */
        if (s == 0 && e == 0 && (id == sp.cls || id == sp.sep || id == sp.pad)) continue;
        const char *b = text + enc->byte_offsets[2 * i];
        size_t nb = (size_t)(enc->byte_offsets[2 * i + 1] - enc->byte_offsets[2 * i]);
        const char *token = bert_tokenizer_id_to_token(tok, id);
        pre_entity *q = &pre[m];
        if (id == sp.unk || !token) { /* [UNK]: the word is the text it covers */
            q->word = utf8_clean_dup(b, nb);
            q->is_subword = 0;
        } else {
            q->word = strdup(token);
            /* len(word) != len(sentence[start:end]) (a WordPiece model has "##") */
            q->is_subword = utf8_len(token, strlen(token)) != e - s;
        }
        if (!q->word) return -1;
        q->p = p + (size_t)i * NL;
        q->index = i;
        q->start = s;
        q->end = e;
        m++;
    }
    return m;
}

int bertc_token_decode(bertc_entity **out, int *n_out, const bert_tokenizer *tok,
                       const char *text, size_t len, const bert_encoding *enc,
                       const float *logits, int NL, const char *const *id2label,
                       int strategy, const char *const *ignore_labels, int n_ignore,
                       bertc_err *err) {
    static const char *const default_ignore[] = {"O"};
    if (!out || !n_out)
        return bertc_fail(err, BERTC_ERR_ARG, "bertc_token_decode: out and n_out must not be NULL");
    int rc = check_args(tok, text, len, enc, logits, NL, id2label, strategy, err);
    if (rc != BERTC_OK) return rc;
    if (!ignore_labels) { ignore_labels = default_ignore; n_ignore = 1; }
    if (n_ignore < 0) n_ignore = 0;

    int n = enc->n, n_pre = 0, n_raw = 0, n_ent = 0;
    size_t cells;
    double *p = NULL;
    pre_entity *pre = NULL;
    raw_entity *raw = NULL;
    bertc_entity *ents = NULL;
    if (bertc_mul_size((size_t)n, (size_t)NL, &cells) == 0 && n > 0) {
        p = malloc(cells * sizeof *p);
        pre = calloc((size_t)n, sizeof *pre);
        raw = calloc((size_t)n, sizeof *raw);
        ents = calloc((size_t)n, sizeof *ents);
        if (!p || !pre || !raw || !ents) goto nomem;
    } else if (n > 0) goto nomem;

    softmax_rows(p, logits, n, NL);
    if ((n_pre = n > 0 ? gather_pre_entities(pre, tok, text, enc, p, NL) : 0) < 0) {
        n_pre = n; /* free whatever was filled */
        goto nomem;
    }

    /* aggregate: one raw entity per token (none, simple) or per word */
    if (strategy == BERTC_TOKEN_NONE || strategy == BERTC_TOKEN_SIMPLE) {
        for (int i = 0; i < n_pre; i++, n_raw++) {
            raw_entity *r = &raw[n_raw];
            r->label = argmax(pre[i].p, NL);
            r->score = pre[i].p[r->label];
            r->index = pre[i].index;
            r->start = pre[i].start;
            r->end = pre[i].end;
            if (!(r->word = strdup(pre[i].word))) goto nomem;
        }
    } else {
        /* aggregate_words: a word is a token and the subword tokens after it */
        for (int i = 0; i < n_pre;) {
            int k = 1;
            while (i + k < n_pre && pre[i + k].is_subword) k++;
            if (aggregate_word(&raw[n_raw], pre + i, k, NL, strategy) != 0) {
                n_raw++; /* its word, if any, is freed below */
                goto nomem;
            }
            n_raw++;
            i += k;
        }
    }

    if (strategy == BERTC_TOKEN_NONE) {
        for (int i = 0; i < n_raw; i++) {
            const char *label = id2label[raw[i].label];
            if (ignored(label, ignore_labels, n_ignore)) continue;
            bertc_entity *e = &ents[n_ent++];
            e->entity = strdup(label);
            e->score = raw[i].score;
            e->index = raw[i].index;
            e->word = raw[i].word;
            raw[i].word = NULL;
            e->start = raw[i].start;
            e->end = raw[i].end;
            if (!e->entity) goto nomem;
        }
    } else {
        /* group_entities: extend the group while the tag matches and the next is not B- */
        for (int i = 0; i < n_raw;) {
            int k = 1, last_b, b;
            while (i + k < n_raw) {
                const char *t0 = tag_of(id2label[raw[i + k - 1].label], &last_b);
                const char *t1 = tag_of(id2label[raw[i + k].label], &b);
                if (b || strcmp(t0, t1) != 0) break;
                k++;
            }
            bertc_entity *e = &ents[n_ent++];
            if (group_sub_entities(e, raw + i, k, id2label) != 0) goto nomem;
            if (ignored(e->entity, ignore_labels, n_ignore)) {
                n_ent--;
                free(e->entity); free(e->word);
                memset(e, 0, sizeof *e);
            }
            i += k;
        }
    }

    for (int i = 0; i < n_pre; i++) free(pre[i].word);
    for (int i = 0; i < n_raw; i++) free(raw[i].word);
    free(p); free(pre); free(raw);
    if (n_ent == 0) { free(ents); ents = NULL; }
    *out = ents;
    *n_out = n_ent;
    return BERTC_OK;

nomem:
    for (int i = 0; pre && i < n_pre; i++) free(pre[i].word);
    for (int i = 0; raw && i < n_raw; i++) free(raw[i].word);
    bertc_token_entities_free(ents, ents ? n : 0);
    free(p); free(pre); free(raw);
    return bertc_fail(err, BERTC_ERR_NOMEM, "bertc_token_decode: out of memory decoding %d tokens x %d labels", n, NL);
}

/* ------------------------------------------------------------------- JSON */

char *bertc_token_float_repr(char *buf, size_t cap, double v) {
    if (isnan(v)) { snprintf(buf, cap, "NaN"); return buf; }
    if (isinf(v)) { snprintf(buf, cap, v > 0 ? "Infinity" : "-Infinity"); return buf; }
    if (v == 0) { snprintf(buf, cap, signbit(v) ? "-0.0" : "0.0"); return buf; }
    /* the fewest significant digits that read back to v (Python's repr, David Gay's mode 0) */
    char sci[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec - 1, v);
        if (strtod(sci, NULL) == v) break;
    }
    /* sci is [-]d[.ddd]e[+-]XX: split into sign, digits and the decimal exponent */
    const char *s = sci;
    int neg = *s == '-';
    if (neg) s++;
    char digits[24];
    int nd = 0;
    for (; *s && *s != 'e'; s++)
        if (*s != '.') digits[nd++] = *s;
    int exp10 = atoi(s + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = '\0';
    int decpt = exp10 + 1; /* v = 0.DIGITS x 10^decpt */
    /* at most 17 digits, 19 zeros, sign, point, exponent: 48 bytes always suffice */
    char tmp[64], *o = tmp;
    if (neg) *o++ = '-';
    if (decpt > -4 && decpt <= 16) { /* float_repr_style 'r': fixed between 1e-4 and 1e16 */
        if (decpt <= 0) {
            *o++ = '0'; *o++ = '.';
            for (int z = 0; z < -decpt; z++) *o++ = '0';
            for (int d = 0; d < nd; d++) *o++ = digits[d];
        } else if (decpt >= nd) {
            for (int d = 0; d < nd; d++) *o++ = digits[d];
            for (int z = 0; z < decpt - nd; z++) *o++ = '0';
            *o++ = '.'; *o++ = '0';
        } else {
            for (int d = 0; d < nd; d++) {
                if (d == decpt) *o++ = '.';
                *o++ = digits[d];
            }
        }
        *o = '\0';
    } else {
        *o++ = digits[0];
        if (nd > 1) { *o++ = '.'; memcpy(o, digits + 1, (size_t)nd - 1); o += nd - 1; }
        snprintf(o, sizeof tmp - (size_t)(o - tmp), "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
    snprintf(buf, cap, "%s", tmp);
    return buf;
}

/* A JSON string as json.dumps writes it with ensure_ascii (the default). */
static void json_string(sbuf *b, const char *s) {
    size_t n = strlen(s);
    sb_add(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        int32_t c;
        int k = bert_utf8_next((const uint8_t *)s, n, i, &c);
        char e[16];
        i += (size_t)k;
        switch (c) {
        case '"': sb_str(b, "\\\""); continue;
        case '\\': sb_str(b, "\\\\"); continue;
        case '\n': sb_str(b, "\\n"); continue;
        case '\r': sb_str(b, "\\r"); continue;
        case '\t': sb_str(b, "\\t"); continue;
        case '\b': sb_str(b, "\\b"); continue;
        case '\f': sb_str(b, "\\f"); continue;
        default: break;
        }
        if (c >= 0x20 && c < 0x7F) { e[0] = (char)c; sb_add(b, e, 1); }
        else if (c < 0x10000) { snprintf(e, sizeof e, "\\u%04x", (unsigned)c); sb_str(b, e); }
        else {
            unsigned v = (unsigned)c - 0x10000;
            snprintf(e, sizeof e, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
            sb_str(b, e);
        }
    }
    sb_add(b, "\"", 1);
}

char *bertc_token_entities_json(const bertc_entity *ents, int n, int strategy) {
    sbuf b = {.ok = 1};
    char num[48];
    sb_str(&b, "[");
    for (int i = 0; i < n; i++) {
        const bertc_entity *e = &ents[i];
        sb_str(&b, i ? ", {" : "{");
        sb_str(&b, strategy == BERTC_TOKEN_NONE ? "\"entity\": " : "\"entity_group\": ");
        json_string(&b, e->entity);
        sb_str(&b, ", \"score\": ");
        sb_str(&b, bertc_token_float_repr(num, sizeof num, e->score));
        if (strategy == BERTC_TOKEN_NONE) {
            snprintf(num, sizeof num, ", \"index\": %d", e->index);
            sb_str(&b, num);
        }
        sb_str(&b, ", \"word\": ");
        json_string(&b, e->word);
        snprintf(num, sizeof num, ", \"start\": %d, \"end\": %d}", e->start, e->end);
        sb_str(&b, num);
    }
    sb_str(&b, "]");
    return sb_done(&b);
}

cJSON *bertc_token_entities_cjson(const bertc_entity *ents, int n, int strategy) {
    cJSON *arr = cJSON_CreateArray();
    char num[48];
    for (int i = 0; arr && i < n; i++) {
        const bertc_entity *e = &ents[i];
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return NULL;
        }
        int ok = cJSON_AddStringToObject(o, strategy == BERTC_TOKEN_NONE ? "entity" : "entity_group", e->entity) &&
                 cJSON_AddRawToObject(o, "score", bertc_token_float_repr(num, sizeof num, e->score)) &&
                 (strategy != BERTC_TOKEN_NONE || cJSON_AddNumberToObject(o, "index", e->index)) &&
                 cJSON_AddStringToObject(o, "word", e->word) &&
                 cJSON_AddNumberToObject(o, "start", e->start) &&
                 cJSON_AddNumberToObject(o, "end", e->end);
        if (!ok) { cJSON_Delete(arr); return NULL; }
    }
    return arr;
}
