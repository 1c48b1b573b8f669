/* tokenizer_json.c: tokenizer.json (the `tokenizers` serialisation) for BERT's
 * WordPiece: read, check against what tokenizer.c implements, write.
 *
 * The layout, as tokenizers 0.23 / transformers 5.24 write it for BERT:
 *   {"version": "1.0", "truncation": null, "padding": null,
 *    "added_tokens": [{"id", "content", "single_word", "lstrip", "rstrip",
 *                      "normalized", "special"}, ...],
 *    "normalizer": {"type": "BertNormalizer", "clean_text", "handle_chinese_chars",
 *                   "strip_accents": null|bool, "lowercase"},
 *    "pre_tokenizer": {"type": "BertPreTokenizer"},
 *    "post_processor": {"type": "TemplateProcessing", "single": [...], "pair": [...],
 *                       "special_tokens": {...}},
 *    "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
 *    "model": {"type": "WordPiece", "unk_token": "[UNK]",
 *              "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
 *              "vocab": {"[PAD]": 0, ...}}}
 * Every message is "PATH: FIELD: what is wrong; what bertc reads". */
#include "tokenizer_json.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TJ_MAX_BYTES (256u << 20) /* tokenizer.json size limit */

static const char *json_kind(const cJSON *j) {
    if (!j) return "nothing";
    if (cJSON_IsNull(j)) return "null";
    if (cJSON_IsBool(j)) return "a boolean";
    if (cJSON_IsNumber(j)) return "a number";
    if (cJSON_IsString(j)) return "a string";
    if (cJSON_IsArray(j)) return "an array";
    return "an object";
}

/* A string from the file, made safe for a one-line message: control bytes,
 * '"' and '\\' escaped, cut at about 60 bytes. */
typedef struct shown { char s[260]; } shown;
static shown esc(const char *in) {
    shown o;
    size_t k = 0;
    for (size_t i = 0; in[i] && k < 240; i++) {
        unsigned char c = (unsigned char)in[i];
        if (i >= 60) { memcpy(o.s + k, "...", 3); k += 3; break; }
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') k += (size_t)snprintf(o.s + k, sizeof o.s - k, "\\x%02x", c);
        else o.s[k++] = (char)c;
    }
    o.s[k] = '\0';
    return o;
}

static const cJSON *get(const cJSON *o, const char *key) { return cJSON_GetObjectItemCaseSensitive(o, key); }

/* A string field that must equal want (absent allowed when absent_ok). */
static int want_str(const cJSON *o, const char *path, const char *field, const char *key, const char *want,
                    int absent_ok, const char *why, bertc_err *err) {
    const cJSON *v = get(o, key);
    if (!v && absent_ok) return BERTC_OK;
    if (!cJSON_IsString(v))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s.%s: expected the string \"%s\", got %s", path, field, key,
                          want, json_kind(v));
    if (strcmp(v->valuestring, want) != 0)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s.%s is \"%s\"; %s", path, field, key, esc(v->valuestring).s, why);
    return BERTC_OK;
}

/* A boolean field: *out = its value, or dflt when absent. */
static int get_bool(const cJSON *o, const char *path, const char *field, const char *key, int dflt, int *out,
                    bertc_err *err) {
    const cJSON *v = get(o, key);
    if (!v) { *out = dflt; return BERTC_OK; }
    if (!cJSON_IsBool(v))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s.%s: expected true or false, got %s", path, field, key,
                          json_kind(v));
    *out = cJSON_IsTrue(v);
    return BERTC_OK;
}

/* An integer field in [lo, hi]. */
static int get_int(const cJSON *o, const char *path, const char *field, const char *key, long lo, long hi, long *out,
                   bertc_err *err) {
    const cJSON *v = get(o, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double)lo ||
        v->valuedouble > (double)hi)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s.%s: expected an integer in %ld..%ld, got %s", path, field,
                          key, lo, hi, cJSON_IsNumber(v) ? "another number" : json_kind(v));
    *out = (long)v->valuedouble;
    return BERTC_OK;
}

/* The section's "type" (NULL with an error when it is not an object with a string type). */
static const char *type_of(const cJSON *o, const char *path, const char *field, bertc_err *err) {
    if (!cJSON_IsObject(o)) {
        bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s: expected an object, got %s", path, field, json_kind(o));
        return NULL;
    }
    const cJSON *t = get(o, "type");
    if (!cJSON_IsString(t)) {
        bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s.type: expected a string, got %s", path, field, json_kind(t));
        return NULL;
    }
    return t->valuestring;
}

/* ---- model: WordPiece and its vocabulary ---- */

static int read_model(bert_tokenizer **out, const cJSON *root, const char *path, bert_tokenizer_opts *opts,
                      int normalizer_options, bertc_err *err) {
    const cJSON *m = get(root, "model");
    if (!cJSON_IsObject(m))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: model: expected an object, got %s", path, json_kind(m));
    const cJSON *type = get(m, "type");
    if (type && !cJSON_IsString(type))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: model.type: expected a string, got %s", path, json_kind(type));
    /* Older files (DistilBERT's on the Hub) have no model.type: a WordPiece has
     * max_input_chars_per_word and no merges. */
    if (!type && (!get(m, "max_input_chars_per_word") || get(m, "merges")))
        return bertc_fail(err, BERTC_ERR_FORMAT,
                          "%s: model.type: missing and the model is not a WordPiece; bertc reads WordPiece tokenizers only",
                          path);
    if (type && strcmp(type->valuestring, "WordPiece") != 0)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: model.type is \"%s\"; bertc reads WordPiece tokenizers only",
                          path, esc(type->valuestring).s);
    int rc;
    if ((rc = want_str(m, path, "model", "unk_token", "[UNK]", 1, "bertc's WordPiece uses [UNK]", err)) ||
        (rc = want_str(m, path, "model", "continuing_subword_prefix", "##", 1,
                       "bertc's WordPiece continues words with \"##\"", err)))
        return rc;
    long maxc = 100;
    if (get(m, "max_input_chars_per_word") &&
        (rc = get_int(m, path, "model", "max_input_chars_per_word", 1, 1 << 20, &maxc, err)))
        return rc;
    if (normalizer_options) {
        opts->max_input_chars_per_word = (int)maxc;
    } else if (maxc != 100) {
        return bertc_fail(err, BERTC_ERR_FORMAT,
                          "%s: model.max_input_chars_per_word is %ld; transformers' BertTokenizer uses 100 whatever "
                          "the file says, so bertc refuses the ambiguity (set it to 100, or tokenizer_class "
                          "\"PreTrainedTokenizerFast\" in tokenizer_config.json to use it)",
                          path, maxc);
    }

    const cJSON *vocab = get(m, "vocab");
    if (!cJSON_IsObject(vocab))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: model.vocab: expected an object of token -> id, got %s", path,
                          json_kind(vocab));
    int n = cJSON_GetArraySize(vocab);
    if (n < 1) return bertc_fail(err, BERTC_ERR_FORMAT, "%s: model.vocab: empty", path);
    const char **toks = calloc((size_t)n, sizeof *toks);
    size_t *lens = calloc((size_t)n, sizeof *lens);
    if (!toks || !lens) {
        free(toks);
        free(lens);
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory for %d tokens", path, n);
    }
    rc = BERTC_OK;
    const cJSON *e;
    cJSON_ArrayForEach(e, vocab) {
        if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) || e->valuedouble < 0 ||
            e->valuedouble >= n) {
            rc = bertc_fail(err, BERTC_ERR_FORMAT,
                            "%s: model.vocab[\"%s\"]: id must be an integer in 0..%d (ids 0..n-1, one per token)",
                            path, esc(e->string).s, n - 1);
            break;
        }
        int id = (int)e->valuedouble;
        if (toks[id]) {
            rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: model.vocab: id %d is given to both \"%s\" and \"%s\"", path,
                            id, esc(toks[id]).s, esc(e->string).s);
            break;
        }
        toks[id] = e->string;
        lens[id] = strlen(e->string);
    }
    /* n distinct ids in 0..n-1: every id has its token. */
    if (rc == BERTC_OK) rc = bert_tokenizer_load_tokens(out, toks, lens, n, path, opts, err);
    free(toks);
    free(lens);
    if (rc != BERTC_OK) return rc;
    for (int id = 0; id < n; id++)
        if (!bert_tokenizer_id_to_token(*out, id)) { /* a token twice (duplicate JSON key) */
            rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: model.vocab: a token appears twice (id %d loses it)", path, id);
            bert_tokenizer_free(*out);
            *out = NULL;
            return rc;
        }
    return BERTC_OK;
}

/* ---- normalizer, pre_tokenizer ---- */

static int read_normalizer(const cJSON *root, const char *path, bert_tokenizer_opts *opts, int normalizer_options,
                           bertc_err *err) {
    const cJSON *n = get(root, "normalizer");
    if (!n || cJSON_IsNull(n))
        return bertc_fail(err, BERTC_ERR_FORMAT,
                          "%s: normalizer: null; bertc implements BertNormalizer only (clean text, CJK, accents, "
                          "lower case)", path);
    const char *type = type_of(n, path, "normalizer", err);
    if (!type) return err->code;
    if (strcmp(type, "BertNormalizer") != 0)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: normalizer.type is \"%s\"; bertc implements BertNormalizer only",
                          path, esc(type).s);
    int clean = 1, chinese = 1, lower = 1, rc;
    if ((rc = get_bool(n, path, "normalizer", "clean_text", 1, &clean, err)) ||
        (rc = get_bool(n, path, "normalizer", "handle_chinese_chars", 1, &chinese, err)) ||
        (rc = get_bool(n, path, "normalizer", "lowercase", 1, &lower, err)))
        return rc;
    if (!clean)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: normalizer.clean_text is false; bertc always cleans the text",
                          path);
    const cJSON *s = get(n, "strip_accents");
    int strip = -1;
    if (s && !cJSON_IsNull(s)) {
        if (!cJSON_IsBool(s))
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: normalizer.strip_accents: expected null, true or false, got %s",
                              path, json_kind(s));
        strip = cJSON_IsTrue(s);
    }
    if (normalizer_options) {
        opts->do_lower_case = lower;
        opts->strip_accents = strip;
        opts->tokenize_chinese_chars = chinese;
    }
    return BERTC_OK;
}

static int read_pre_tokenizer(const cJSON *root, const char *path, bertc_err *err) {
    const cJSON *p = get(root, "pre_tokenizer");
    if (!p || cJSON_IsNull(p))
        return bertc_fail(err, BERTC_ERR_FORMAT,
                          "%s: pre_tokenizer: null; bertc implements BertPreTokenizer only (whitespace and punctuation)",
                          path);
    const char *type = type_of(p, path, "pre_tokenizer", err);
    if (!type) return err->code;
    if (strcmp(type, "BertPreTokenizer") != 0)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: pre_tokenizer.type is \"%s\"; bertc implements BertPreTokenizer only",
                          path, esc(type).s);
    return BERTC_OK;
}

/* ---- post_processor: [CLS] A [SEP] (B [SEP]) ---- */

/* One template piece: {"SpecialToken": {"id": tok, "type_id": t}} or {"Sequence": {"id": "A"|"B", ...}}. */
static int piece_is(const cJSON *p, const char *kind, const char *id, int type_id) {
    const cJSON *k = get(p, kind);
    const cJSON *i = get(k, "id"), *t = get(k, "type_id");
    return cJSON_IsObject(k) && cJSON_IsString(i) && strcmp(i->valuestring, id) == 0 && cJSON_IsNumber(t) &&
           t->valuedouble == type_id;
}

/* The special token `name` in special_tokens maps to exactly its vocabulary id. */
static int special_ok(const cJSON *sp, const char *name, int id) {
    const cJSON *e = get(sp, name);
    const cJSON *ids = get(e, "ids"), *toks = get(e, "tokens");
    return cJSON_IsObject(e) && cJSON_GetArraySize(ids) == 1 && cJSON_IsNumber(cJSON_GetArrayItem(ids, 0)) &&
           cJSON_GetArrayItem(ids, 0)->valuedouble == id && cJSON_GetArraySize(toks) == 1 &&
           cJSON_IsString(cJSON_GetArrayItem(toks, 0)) &&
           strcmp(cJSON_GetArrayItem(toks, 0)->valuestring, name) == 0;
}

static int read_post_processor(const cJSON *root, const char *path, const bert_tokenizer *t, bertc_err *err) {
    const cJSON *p = get(root, "post_processor");
    bert_special_ids sp = bert_tokenizer_special_ids(t);
    if (!p || cJSON_IsNull(p))
        return bertc_fail(err, BERTC_ERR_FORMAT,
                          "%s: post_processor: null; bertc always builds [CLS] A [SEP] (B [SEP]) (TemplateProcessing)",
                          path);
    const char *type = type_of(p, path, "post_processor", err);
    if (!type) return err->code;
    if (strcmp(type, "BertProcessing") == 0) {
        const char *keys[2] = {"cls", "sep"};
        const char *names[2] = {"[CLS]", "[SEP]"};
        int ids[2] = {sp.cls, sp.sep};
        for (int k = 0; k < 2; k++) {
            const cJSON *a = get(p, keys[k]);
            const cJSON *s = cJSON_GetArrayItem(a, 0), *i = cJSON_GetArrayItem(a, 1);
            if (cJSON_GetArraySize(a) != 2 || !cJSON_IsString(s) || strcmp(s->valuestring, names[k]) != 0 ||
                !cJSON_IsNumber(i) || i->valuedouble != ids[k])
                return bertc_fail(err, BERTC_ERR_FORMAT, "%s: post_processor.%s: expected [\"%s\", %d] (the vocabulary's id)",
                                  path, keys[k], names[k], ids[k]);
        }
        return BERTC_OK;
    }
    if (strcmp(type, "TemplateProcessing") != 0)
        return bertc_fail(err, BERTC_ERR_FORMAT,
                          "%s: post_processor.type is \"%s\"; bertc implements BERT's TemplateProcessing/BertProcessing only",
                          path, esc(type).s);
    const cJSON *single = get(p, "single"), *pair = get(p, "pair");
    if (cJSON_GetArraySize(single) != 3 || !piece_is(cJSON_GetArrayItem(single, 0), "SpecialToken", "[CLS]", 0) ||
        !piece_is(cJSON_GetArrayItem(single, 1), "Sequence", "A", 0) ||
        !piece_is(cJSON_GetArrayItem(single, 2), "SpecialToken", "[SEP]", 0))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: post_processor.single: expected \"[CLS]:0 $A:0 [SEP]:0\"", path);
    if (cJSON_GetArraySize(pair) != 5 || !piece_is(cJSON_GetArrayItem(pair, 0), "SpecialToken", "[CLS]", 0) ||
        !piece_is(cJSON_GetArrayItem(pair, 1), "Sequence", "A", 0) ||
        !piece_is(cJSON_GetArrayItem(pair, 2), "SpecialToken", "[SEP]", 0) ||
        !piece_is(cJSON_GetArrayItem(pair, 3), "Sequence", "B", 1) ||
        !piece_is(cJSON_GetArrayItem(pair, 4), "SpecialToken", "[SEP]", 1))
        return bertc_fail(err, BERTC_ERR_FORMAT,
                          "%s: post_processor.pair: expected \"[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1\"", path);
    const cJSON *st = get(p, "special_tokens");
    if (!special_ok(st, "[CLS]", sp.cls) || !special_ok(st, "[SEP]", sp.sep) || cJSON_GetArraySize(st) != 2)
        return bertc_fail(err, BERTC_ERR_FORMAT,
                          "%s: post_processor.special_tokens: expected [CLS] -> %d and [SEP] -> %d only (the vocabulary's ids)",
                          path, sp.cls, sp.sep);
    return BERTC_OK;
}

/* ---- added_tokens, truncation, padding ---- */

static int read_added_tokens(const cJSON *root, const char *path, const bert_tokenizer *t, bertc_err *err) {
    const cJSON *a = get(root, "added_tokens");
    if (!a || cJSON_IsNull(a)) return BERTC_OK;
    if (!cJSON_IsArray(a))
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: added_tokens: expected an array, got %s", path, json_kind(a));
    static const char *names[5] = {"[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"};
    static const char *off[4] = {"single_word", "lstrip", "rstrip", "normalized"};
    int i = 0, rc;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        char field[48];
        snprintf(field, sizeof field, "added_tokens[%d]", i++);
        const cJSON *c = get(e, "content");
        long id = 0;
        if (!cJSON_IsString(c))
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s.content: expected a string, got %s", path, field,
                              json_kind(c));
        int k = 0;
        while (k < 5 && strcmp(c->valuestring, names[k]) != 0) k++;
        if (k == 5)
            return bertc_fail(err, BERTC_ERR_FORMAT,
                              "%s: %s.content is \"%s\"; bertc's tokenizer knows only BERT's special tokens "
                              "[CLS] [SEP] [PAD] [UNK] [MASK]", path, field, esc(c->valuestring).s);
        if ((rc = get_int(e, path, field, "id", 0, INT32_MAX, &id, err))) return rc;
        int vid = bert_tokenizer_token_to_id(t, c->valuestring, strlen(c->valuestring));
        if (id != vid)
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s.id is %ld but model.vocab gives %s the id %d", path, field,
                              id, c->valuestring, vid);
        for (int f = 0; f < 4; f++) {
            int v = 0;
            if ((rc = get_bool(e, path, field, off[f], 0, &v, err))) return rc;
            if (v)
                return bertc_fail(err, BERTC_ERR_FORMAT, "%s: %s.%s is true; bertc matches special tokens as they are",
                                  path, field, off[f]);
        }
    }
    return BERTC_OK;
}

static int read_trunc_pad(const cJSON *root, const char *path, const bert_tokenizer *t, bertc_err *err) {
    const cJSON *tr = get(root, "truncation"), *pd = get(root, "padding");
    int rc;
    if (tr && !cJSON_IsNull(tr)) {
        long stride;
        if (!cJSON_IsObject(tr))
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: truncation: expected null or an object, got %s", path,
                              json_kind(tr));
        if ((rc = want_str(tr, path, "truncation", "direction", "Right", 1, "bertc truncates on the right", err)) ||
            (rc = want_str(tr, path, "truncation", "strategy", "LongestFirst", 1,
                           "bertc truncates pairs longest_first", err)))
            return rc;
        if (get(tr, "stride") && (rc = get_int(tr, path, "truncation", "stride", 0, 0, &stride, err))) return rc;
    }
    if (pd && !cJSON_IsNull(pd)) {
        long v = 0;
        if (!cJSON_IsObject(pd))
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: padding: expected null or an object, got %s", path,
                              json_kind(pd));
        if ((rc = want_str(pd, path, "padding", "direction", "Right", 1, "bertc pads on the right", err)) ||
            (rc = want_str(pd, path, "padding", "pad_token", "[PAD]", 1, "bertc pads with [PAD]", err)))
            return rc;
        if (get(pd, "pad_id") && (rc = get_int(pd, path, "padding", "pad_id", 0, INT32_MAX, &v, err))) return rc;
        if (get(pd, "pad_id") && v != bert_tokenizer_special_ids(t).pad)
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: padding.pad_id is %ld but [PAD] is id %d", path, v,
                              bert_tokenizer_special_ids(t).pad);
        if (get(pd, "pad_type_id") && (rc = get_int(pd, path, "padding", "pad_type_id", 0, 0, &v, err))) return rc;
    }
    return BERTC_OK;
}

int bert_tokenizer_json_load(bert_tokenizer **out, bert_tokenizer_opts *opts, const char *path,
                             int normalizer_options, bertc_err *err) {
    cJSON *root = NULL;
    int rc = bertc_json_read(&root, path, TJ_MAX_BYTES, err);
    if (rc != BERTC_OK) return rc;
    bert_tokenizer *t = NULL;
    bert_tokenizer_opts o = *opts;
    if (!cJSON_IsObject(root))
        rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: expected a JSON object, got %s", path, json_kind(root));
    /* The normaliser first: its options go into the tokenizer being built. */
    if (!rc) rc = read_normalizer(root, path, &o, normalizer_options, err);
    if (!rc) rc = read_pre_tokenizer(root, path, err);
    if (!rc) rc = read_model(&t, root, path, &o, normalizer_options, err);
    if (!rc) rc = read_post_processor(root, path, t, err);
    if (!rc) rc = read_added_tokens(root, path, t, err);
    if (!rc) rc = read_trunc_pad(root, path, t, err);
    cJSON_Delete(root);
    if (rc != BERTC_OK) {
        bert_tokenizer_free(t);
        return rc;
    }
    *opts = o;
    *out = t;
    return BERTC_OK;
}

/* ---- writing ---- */

static cJSON *template_piece(const char *kind, const char *id, int type_id) {
    cJSON *p = cJSON_CreateObject(), *k = cJSON_CreateObject();
    if (!p || !k) { cJSON_Delete(p); cJSON_Delete(k); return NULL; }
    cJSON_AddStringToObject(k, "id", id);
    cJSON_AddNumberToObject(k, "type_id", type_id);
    cJSON_AddItemToObject(p, kind, k);
    return p;
}

static cJSON *special_entry(const char *name, int id) {
    cJSON *e = cJSON_CreateObject();
    if (!e) return NULL;
    cJSON_AddStringToObject(e, "id", name);
    cJSON_AddItemToObject(e, "ids", cJSON_CreateIntArray(&id, 1));
    cJSON_AddItemToObject(e, "tokens", cJSON_CreateStringArray(&name, 1));
    return e;
}

static cJSON *tokenizer_json(const bert_tokenizer *t) {
    const bert_tokenizer_opts *o = bert_tokenizer_get_opts(t);
    bert_special_ids sp = bert_tokenizer_special_ids(t);
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    cJSON_AddStringToObject(j, "version", "1.0");
    cJSON_AddNullToObject(j, "truncation");
    cJSON_AddNullToObject(j, "padding");

    /* added_tokens: the special tokens the vocabulary has, by id */
    cJSON *added = cJSON_AddArrayToObject(j, "added_tokens");
    const char *names[5] = {"[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"};
    int ids[5] = {sp.cls, sp.sep, sp.pad, sp.unk, sp.mask}, order[5] = {0, 1, 2, 3, 4};
    for (int a = 1; a < 5; a++)  /* insertion sort by id */
        for (int b = a; b > 0 && ids[order[b]] < ids[order[b - 1]]; b--) {
            int x = order[b]; order[b] = order[b - 1]; order[b - 1] = x;
        }
    for (int k = 0; k < 5 && added; k++) {
        int s = order[k];
        if (ids[s] < 0) continue;
        cJSON *e = cJSON_CreateObject();
        if (!e) break;
        cJSON_AddNumberToObject(e, "id", ids[s]);
        cJSON_AddStringToObject(e, "content", names[s]);
        cJSON_AddBoolToObject(e, "single_word", 0);
        cJSON_AddBoolToObject(e, "lstrip", 0);
        cJSON_AddBoolToObject(e, "rstrip", 0);
        cJSON_AddBoolToObject(e, "normalized", 0);
        cJSON_AddBoolToObject(e, "special", 1);
        cJSON_AddItemToArray(added, e);
    }

    cJSON *n = cJSON_AddObjectToObject(j, "normalizer");
    if (n) {
        cJSON_AddStringToObject(n, "type", "BertNormalizer");
        cJSON_AddBoolToObject(n, "clean_text", 1);
        cJSON_AddBoolToObject(n, "handle_chinese_chars", o->tokenize_chinese_chars != 0);
        if (o->strip_accents < 0) cJSON_AddNullToObject(n, "strip_accents");
        else cJSON_AddBoolToObject(n, "strip_accents", o->strip_accents != 0);
        cJSON_AddBoolToObject(n, "lowercase", o->do_lower_case != 0);
    }
    cJSON *pt = cJSON_AddObjectToObject(j, "pre_tokenizer");
    if (pt) cJSON_AddStringToObject(pt, "type", "BertPreTokenizer");

    cJSON *pp = cJSON_AddObjectToObject(j, "post_processor");
    if (pp) {
        cJSON_AddStringToObject(pp, "type", "TemplateProcessing");
        cJSON *single = cJSON_AddArrayToObject(pp, "single"), *pair = cJSON_AddArrayToObject(pp, "pair");
        if (single) {
            cJSON_AddItemToArray(single, template_piece("SpecialToken", "[CLS]", 0));
            cJSON_AddItemToArray(single, template_piece("Sequence", "A", 0));
            cJSON_AddItemToArray(single, template_piece("SpecialToken", "[SEP]", 0));
        }
        if (pair) {
            cJSON_AddItemToArray(pair, template_piece("SpecialToken", "[CLS]", 0));
            cJSON_AddItemToArray(pair, template_piece("Sequence", "A", 0));
            cJSON_AddItemToArray(pair, template_piece("SpecialToken", "[SEP]", 0));
            cJSON_AddItemToArray(pair, template_piece("Sequence", "B", 1));
            cJSON_AddItemToArray(pair, template_piece("SpecialToken", "[SEP]", 1));
        }
        cJSON *st = cJSON_AddObjectToObject(pp, "special_tokens");
        if (st) {
            cJSON_AddItemToObject(st, "[CLS]", special_entry("[CLS]", sp.cls));
            cJSON_AddItemToObject(st, "[SEP]", special_entry("[SEP]", sp.sep));
        }
    }
    cJSON *d = cJSON_AddObjectToObject(j, "decoder");
    if (d) {
        cJSON_AddStringToObject(d, "type", "WordPiece");
        cJSON_AddStringToObject(d, "prefix", "##");
        cJSON_AddBoolToObject(d, "cleanup", 1);
    }
    cJSON *m = cJSON_AddObjectToObject(j, "model");
    if (m) {
        cJSON_AddStringToObject(m, "type", "WordPiece");
        cJSON_AddStringToObject(m, "unk_token", "[UNK]");
        cJSON_AddStringToObject(m, "continuing_subword_prefix", "##");
        cJSON_AddNumberToObject(m, "max_input_chars_per_word", o->max_input_chars_per_word);
        cJSON *v = cJSON_AddObjectToObject(m, "vocab");
        int V = bert_tokenizer_vocab_size(t);
        for (int id = 0; v && id < V; id++) {
            cJSON *num = cJSON_CreateNumber(id);
            if (!num) { cJSON_Delete(j); return NULL; }
            cJSON_AddItemToObject(v, bert_tokenizer_id_to_token(t, id), num);
        }
    }
    return j;
}

/* Every id has a token (the callers' precondition for writing). */
static int check_dense(const bert_tokenizer *t, const char *path, bertc_err *err) {
    int V = bert_tokenizer_vocab_size(t);
    for (int id = 0; id < V; id++)
        if (!bert_tokenizer_id_to_token(t, id))
            return bertc_fail(err, BERTC_ERR_ARG,
                              "%s: id %d has no token (its token appears again later in the source vocabulary)", path,
                              id);
    return BERTC_OK;
}

int bert_tokenizer_json_write(const bert_tokenizer *t, const char *path, bertc_err *err) {
    int rc = check_dense(t, path, err);
    if (rc != BERTC_OK) return rc;
    cJSON *j = tokenizer_json(t);
    char *text = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    if (!text) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
    rc = bertc_write_file_atomic(path, text, strlen(text), err);
    cJSON_free(text);
    return rc;
}

int bert_tokenizer_write_vocab_txt(const bert_tokenizer *t, const char *path, bertc_err *err) {
    int rc = check_dense(t, path, err);
    if (rc != BERTC_OK) return rc;
    int V = bert_tokenizer_vocab_size(t);
    size_t total = 0;
    for (int id = 0; id < V; id++) {
        const char *s = bert_tokenizer_id_to_token(t, id);
        size_t n = strlen(s);
        /* vocab.txt readers trim trailing white space and split on line breaks */
        if (strpbrk(s, "\n\r") || (n > 0 && strchr(" \t\v\f", s[n - 1])))
            return bertc_fail(err, BERTC_ERR_ARG, "%s: token of id %d holds a line break or ends in white space; "
                              "it cannot be a vocab.txt line", path, id);
        total += n + 1;
    }
    char *buf = malloc(total + 1);
    if (!buf) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", path);
    size_t pos = 0;
    for (int id = 0; id < V; id++) {
        const char *s = bert_tokenizer_id_to_token(t, id);
        size_t n = strlen(s);
        memcpy(buf + pos, s, n);
        buf[pos + n] = '\n';
        pos += n + 1;
    }
    rc = bertc_write_file_atomic(path, buf, pos, err);
    free(buf);
    return rc;
}
