/* tokenizer.c: BERT BasicTokenizer + WordPiece as the `tokenizers` library
 * (BertNormalizer, BertPreTokenizer, WordPiece, TemplateProcessing) does it.
 *
 * The pipeline, in the order tokenizers applies it (normalizers/bert.rs):
 *   0. special tokens are cut out of the raw text first ("[SEP]" -> [SEP]);
 *   1. clean: drop NUL, U+FFFD and Cc Cf Co Cs (not Cn: see is_other) except \t\n\r;
 *      \t\n\r and Z* (Zs Zl Zp) become a space;
 *   2. CJK ideographs get a space on each side;
 *   3. strip accents (strip_accents, or unset and lower-casing on): NFD, drop Mn;
 *   4. lower-case, per character (Rust's char::to_lowercase: simple mapping plus
 *      U+0130's full mapping "i\u0307", SpecialCasing's only multi-character one);
 *   5. pre-tokenize: split on whitespace, isolate punctuation (ASCII punctuation
 *      or any P* category), checked on the normalised characters;
 *   6. WordPiece: greedy longest match, "##" for continuations, a whole word
 *      becomes [UNK] when one position cannot be matched or it has more than
 *      max_input_chars_per_word characters.
 * Every normalised character remembers the original character it came from, so
 * a piece's offsets are [first source char, last source char + 1), as in
 * tokenizers' alignments. The text is streamed once; nothing is O(n^2). */
#include "tokenizer.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

void bert_tokenizer_opts_default(bert_tokenizer_opts *o) {
    o->do_lower_case = 1;
    o->strip_accents = -1;
    o->tokenize_chinese_chars = 1;
    o->max_input_chars_per_word = 100;
    o->model_max_length = 0;
}

/* ---------------------------------------------------------------- vocabulary */

struct bert_tokenizer {
    bert_tokenizer_opts opts;
    int lower, strip;        /* resolved flags */
    int vocab_size;          /* lines in vocab.txt */
    char *mem;               /* the file, lines NUL-terminated in place */
    const char **tok;        /* (vocab_size) token of each id, NULL if shadowed */
    uint32_t *tok_len;       /* (vocab_size) bytes */
    int32_t *table;          /* open-addressing hash: id or -1; (mask + 1) slots */
    uint32_t mask;
    int max_tok_chars;       /* longest token in code points: bounds the match loop */
    bert_special_ids sp;
    int nspecial;
    const char *special_str[5];
    int special_len[5], special_id[5];
};

#define FNV_INIT 2166136261u
static uint32_t fnv1a(uint32_t h, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

/* Id of (cont ? "##" : "") + s[0..n), or -1. */
static int vocab_find(const bert_tokenizer *t, int cont, const char *s, size_t n) {
    uint32_t h = fnv1a(cont ? fnv1a(FNV_INIT, "##", 2) : FNV_INIT, s, n);
    size_t want = n + (cont ? 2 : 0);
    for (uint32_t i = h & t->mask;; i = (i + 1) & t->mask) {
        int id = t->table[i];
        if (id < 0) return -1;
        const char *k = t->tok[id];
        if (t->tok_len[id] != want) continue;
        if (cont && (k[0] != '#' || k[1] != '#')) continue;
        if (memcmp(k + (cont ? 2 : 0), s, n) == 0) return id;
    }
}

/* Unicode White_Space (PropList.txt): Zs, Zl, Zp plus U+0009..000D and U+0085.
 * Used for trimming vocab lines as Rust's str::trim_end does. */
static int is_white_space(int32_t c) {
    if ((c >= 9 && c <= 13) || c == 0x85 || c == ' ') return 1;
    if (c < 0x80) return 0;
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_ZS || k == UTF8PROC_CATEGORY_ZL || k == UTF8PROC_CATEGORY_ZP;
}

/* Allocates t->tok, t->tok_len and the empty hash table for n ids. */
static int vocab_alloc(bert_tokenizer *t, size_t n, const char *what, bertc_err *err) {
    if (n == 0 || n > INT32_MAX / 4)
        return bertc_fail(err, BERTC_ERR_FORMAT, "%s: vocabulary: %zu tokens (want 1 to %d)", what, n,
                          INT32_MAX / 4);
    t->vocab_size = (int)n;
    uint32_t cap = 1;
    while (cap < 2 * n) cap <<= 1;
    t->mask = cap - 1;
    t->tok = calloc(n, sizeof *t->tok);
    t->tok_len = calloc(n, sizeof *t->tok_len);
    t->table = malloc((size_t)cap * sizeof *t->table);
    if (!t->tok || !t->tok_len || !t->table)
        return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory for %zu tokens", what, n);
    memset(t->table, 0xff, (size_t)cap * sizeof *t->table);
    return BERTC_OK;
}

/* Enters id (t->tok[id], t->tok_len[id] set) into the hash table. */
static void vocab_insert(bert_tokenizer *t, int id) {
    const char *tok = t->tok[id];
    uint32_t len = t->tok_len[id];
    for (uint32_t s = fnv1a(FNV_INIT, tok, len) & t->mask;; s = (s + 1) & t->mask) {
        int old = t->table[s];
        if (old < 0) { t->table[s] = id; break; }
        if (t->tok_len[old] == len && memcmp(t->tok[old], tok, len) == 0) {
            t->table[s] = id;      /* later line wins, as in a HashMap insert */
            t->tok[old] = NULL;
            break;
        }
    }
}

/* Finds the special tokens once the vocabulary is in place. */
static int vocab_specials(bert_tokenizer *t, const char *what, bertc_err *err) {
    static const char *names[5] = {"[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"};
    int ids[5];
    for (int k = 0; k < 5; k++) {
        ids[k] = bert_tokenizer_token_to_id(t, names[k], strlen(names[k]));
        if (ids[k] < 0 && k < 4)
            return bertc_fail(err, BERTC_ERR_FORMAT, "%s: vocabulary has no %s token (required)", what, names[k]);
        if (ids[k] >= 0) {
            t->special_str[t->nspecial] = names[k];
            t->special_len[t->nspecial] = (int)strlen(names[k]);
            t->special_id[t->nspecial] = ids[k];
            t->nspecial++;
        }
    }
    t->sp = (bert_special_ids){ids[0], ids[1], ids[2], ids[3], ids[4]};
    return BERTC_OK;
}

/* A new tokenizer with its options checked and resolved. */
static int tokenizer_new(bert_tokenizer **out, const bert_tokenizer_opts *opts, const char *what, bertc_err *err) {
    bert_tokenizer_opts def;
    if (!opts) { bert_tokenizer_opts_default(&def); opts = &def; }
    if (opts->max_input_chars_per_word < 1)
        return bertc_fail(err, BERTC_ERR_ARG, "tokenizer: max_input_chars_per_word: %d is not positive",
                          opts->max_input_chars_per_word);
    bert_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", what);
    t->opts = *opts;
    t->lower = opts->do_lower_case != 0;
    t->strip = opts->strip_accents < 0 ? t->lower : opts->strip_accents != 0;
    *out = t;
    return BERTC_OK;
}

int bert_tokenizer_load(bert_tokenizer **out, const char *vocab_path,
                        const bert_tokenizer_opts *opts, bertc_err *err) {
    size_t pl = strlen(vocab_path);
    if (pl >= 5 && strcmp(vocab_path + pl - 5, ".json") == 0)  /* hf_model.vocab_path may be tokenizer.json */
        return bertc_fail(err, BERTC_ERR_ARG, "%s: a JSON file, not a vocab.txt: load a model folder's tokenizer "
                          "with hf_model_tokenizer or hf_tokenizer_load (hfmodel.h)", vocab_path);
    bert_tokenizer *t = NULL;
    int rc = tokenizer_new(&t, opts, vocab_path, err);
    if (rc != BERTC_OK) return rc;
    size_t len = 0;
    rc = bertc_read_file(vocab_path, (size_t)1 << 30, &t->mem, &len, err);
    if (rc != BERTC_OK) { free(t); return rc; }

    /* Lines as Rust's BufRead::lines: split on \n; a final \n ends the last line
     * rather than starting an empty one. */
    size_t nlines = 0;
    for (size_t i = 0; i < len; i++) nlines += t->mem[i] == '\n';
    if (len > 0 && t->mem[len - 1] != '\n') nlines++;
    if ((rc = vocab_alloc(t, nlines, vocab_path, err)) != BERTC_OK) goto fail;

    size_t pos = 0;
    for (int id = 0; id < t->vocab_size; id++) {
        char *line = t->mem + pos;
        char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + 1;
        /* Validate UTF-8 and trim trailing White_Space (which covers a CRLF's \r). */
        size_t i = 0, keep = 0;
        int chars = 0;
        while (i < ll) {
            utf8proc_int32_t c;
            utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)line + i,
                                                  (utf8proc_ssize_t)(ll - i), &c);
            if (k <= 0) {
                rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: line %d: invalid UTF-8 at byte %zu",
                                vocab_path, id + 1, i);
                goto fail;
            }
            i += (size_t)k;
            chars++;
            if (!is_white_space(c)) keep = i;
        }
        line[keep] = '\0';
        if (chars > t->max_tok_chars) t->max_tok_chars = chars;
        t->tok[id] = line;
        t->tok_len[id] = (uint32_t)keep;
        vocab_insert(t, id);
    }
    if ((rc = vocab_specials(t, vocab_path, err)) != BERTC_OK) goto fail;
    *out = t;
    return BERTC_OK;
fail:
    bert_tokenizer_free(t);
    return rc;
}

int bert_tokenizer_load_tokens(bert_tokenizer **out, const char *const *tokens, const size_t *lens, int n,
                               const char *source, const bert_tokenizer_opts *opts, bertc_err *err) {
    if (!source) source = "tokenizer";
    bert_tokenizer *t = NULL;
    int rc = tokenizer_new(&t, opts, source, err);
    if (rc != BERTC_OK) return rc;
    size_t total = 0;
    for (int id = 0; id < n; id++) total += tokens[id] ? lens[id] + 1 : 0;
    if ((rc = vocab_alloc(t, n > 0 ? (size_t)n : 0, source, err)) != BERTC_OK) goto fail;
    if (!(t->mem = malloc(total + 1))) {
        rc = bertc_fail(err, BERTC_ERR_NOMEM, "%s: out of memory", source);
        goto fail;
    }
    size_t pos = 0;
    for (int id = 0; id < n; id++) {
        if (!tokens[id]) continue;  /* an id without a token */
        const char *s = tokens[id];
        size_t i = 0;
        int chars = 0;
        while (i < lens[id]) {
            utf8proc_int32_t c;
            utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                                  (utf8proc_ssize_t)(lens[id] - i), &c);
            if (k <= 0) {
                rc = bertc_fail(err, BERTC_ERR_FORMAT, "%s: token of id %d: invalid UTF-8 at byte %zu",
                                source, id, i);
                goto fail;
            }
            i += (size_t)k;
            chars++;
        }
        memcpy(t->mem + pos, s, lens[id]);
        t->mem[pos + lens[id]] = '\0';
        if (chars > t->max_tok_chars) t->max_tok_chars = chars;
        t->tok[id] = t->mem + pos;
        t->tok_len[id] = (uint32_t)lens[id];
        pos += lens[id] + 1;
        vocab_insert(t, id);
    }
    if ((rc = vocab_specials(t, source, err)) != BERTC_OK) goto fail;
    *out = t;
    return BERTC_OK;
fail:
    bert_tokenizer_free(t);
    return rc;
}

void bert_tokenizer_free(bert_tokenizer *t) {
    if (!t) return;
    free(t->mem);
    free(t->tok);
    free(t->tok_len);
    free(t->table);
    free(t);
}

int bert_tokenizer_vocab_size(const bert_tokenizer *t) { return t->vocab_size; }
const bert_tokenizer_opts *bert_tokenizer_get_opts(const bert_tokenizer *t) { return &t->opts; }
bert_special_ids bert_tokenizer_special_ids(const bert_tokenizer *t) { return t->sp; }

int bert_tokenizer_token_to_id(const bert_tokenizer *t, const char *token, size_t len) {
    return vocab_find(t, 0, token, len);
}

const char *bert_tokenizer_id_to_token(const bert_tokenizer *t, int id) {
    if (id < 0 || id >= t->vocab_size) return NULL;
    return t->tok[id];
}

/* ------------------------------------------------------------------- scratch */

typedef struct pieces {
    int32_t *id, *off, *boff; /* (n), (n, 2), (n, 2) */
    int n, cap;
} pieces;

struct bert_scratch {
    pieces a, b;              /* word pieces of text A and text B */
    /* the word being built: normalised chars and where each came from */
    int32_t *wcp, *wci, *wbs, *wbe; /* (wcap) code point, source char index, source bytes */
    int wcap;
    char *wbytes;             /* (4 * wcap) the word in UTF-8 */
    int32_t *wcb;             /* (wcap + 1) byte start of each char in wbytes */
};

static int grow_i32(int32_t **p, size_t n) {
    void *q = realloc(*p, n * sizeof **p);
    if (!q) return -1;
    *p = q;
    return 0;
}

static int pieces_reserve(pieces *p, int need) {
    if (need <= p->cap) return 0;
    int cap = p->cap ? p->cap : 64;
    while (cap < need) {
        if (cap > INT32_MAX / 4) return -1;
        cap *= 2;
    }
    if (grow_i32(&p->id, (size_t)cap) || grow_i32(&p->off, 2 * (size_t)cap) ||
        grow_i32(&p->boff, 2 * (size_t)cap))
        return -1;
    p->cap = cap;
    return 0;
}

static int pieces_push(pieces *p, int id, int32_t c0, int32_t c1, int32_t b0, int32_t b1) {
    if (p->n == p->cap && pieces_reserve(p, p->n + 1)) return -1;
    int i = p->n++;
    p->id[i] = id;
    p->off[2 * i] = c0; p->off[2 * i + 1] = c1;
    p->boff[2 * i] = b0; p->boff[2 * i + 1] = b1;
    return 0;
}

static void pieces_free(pieces *p) {
    free(p->id); free(p->off); free(p->boff);
    memset(p, 0, sizeof *p);
}

static int scratch_get(bert_encoding *e) {
    if (!e->scratch) e->scratch = calloc(1, sizeof *e->scratch);
    return e->scratch ? 0 : -1;
}

static int word_reserve(struct bert_scratch *s, int need) {
    if (need <= s->wcap) return 0;
    int cap = s->wcap ? s->wcap : 128;
    while (cap < need) cap *= 2;
    if (grow_i32(&s->wcp, (size_t)cap) || grow_i32(&s->wci, (size_t)cap) ||
        grow_i32(&s->wbs, (size_t)cap) || grow_i32(&s->wbe, (size_t)cap) ||
        grow_i32(&s->wcb, (size_t)cap + 1))
        return -1;
    char *b = realloc(s->wbytes, 4 * (size_t)cap);
    if (!b) return -1;
    s->wbytes = b;
    s->wcap = cap;
    return 0;
}

/* ------------------------------------------------------ normalise + split */

/* Decodes one code point at s[i] (i < n) with utf8proc. Ill-formed input
 * yields U+FFFD for each maximal subpart (Unicode's recommended practice, which
 * Python's "replace" error handler follows), so code-point offsets agree with
 * bytes.decode("utf-8", "replace"). utf8proc_iterate says only that a sequence
 * is ill-formed, not how far, so the subpart is measured with it too: the
 * longest run of bytes from s[i] that some continuation makes well-formed. A
 * lead byte's allowed second bytes always include 0x80 or 0xBF (E0: A0..BF,
 * ED: 80..9F, F0: 90..BF, F4: 80..8F) and later bytes take 0x80..0xBF, so
 * completing with all 0x80 or all 0xBF tries every case. */
int bert_utf8_next(const uint8_t *s, size_t n, size_t i, int32_t *cp) {
    utf8proc_int32_t c;
    utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(n - i), &c);
    if (k > 0) {
        *cp = c;
        return (int)k;
    }
    *cp = 0xFFFD;
    int len = s[i] >= 0xF0 ? 4 : s[i] >= 0xE0 ? 3 : 2; /* the length the lead byte announces */
    int sub = 1;
    for (int j = 1; j < len && i + (size_t)j < n; j++) { /* s[i..i+j] a prefix of a well-formed sequence? */
        uint8_t buf[4];
        memcpy(buf, s + i, (size_t)j + 1);
        int ok = 0;
        for (int f = 0; f < 2 && !ok; f++) {
            for (int r = j + 1; r < len; r++) buf[r] = f ? 0xBF : 0x80;
            ok = utf8proc_iterate(buf, len, &c) == len;
        }
        if (!ok) break;
        sub = j + 1;
    }
    return sub;
}

/* What tokenizers' clean_text drops as "control": Cc, Cf, Co (and Cs, which
 * valid UTF-8 never carries). Unassigned code points (Cn) are KEPT: checked
 * against tokenizers 0.23.3 over every code point (its unicode_categories
 * tables have no "not assigned" entries), unlike what its comment suggests. */
static int is_other(utf8proc_category_t k) {
    return k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF ||
           k == UTF8PROC_CATEGORY_CO || k == UTF8PROC_CATEGORY_CS;
}

static int is_punct(int32_t c) {
    if (c < 0x80)
        return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
               (c >= 123 && c <= 126);
    utf8proc_category_t k = utf8proc_category(c);
    return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

/* The CJK ranges of tokenizers' BertNormalizer (is_chinese_char). Note: it
 * starts a range at U+2B920 where transformers' slow tokenizer has U+2B820. */
static int is_cjk(int32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

typedef struct splitter {
    const bert_tokenizer *t;
    struct bert_scratch *s;
    pieces *out;
    int wn;                  /* chars in the current word (may exceed what is stored) */
    int32_t first_ci, first_bs, last_ci, last_be; /* the word's source span */
    int failed;              /* allocation failure */
} splitter;

/* WordPiece on the current word, then reset it. */
static void flush_word(splitter *sp) {
    if (sp->wn == 0) return;
    const bert_tokenizer *t = sp->t;
    struct bert_scratch *s = sp->s;
    pieces *out = sp->out;
    int n = sp->wn;
    sp->wn = 0;
    if (n > t->opts.max_input_chars_per_word) {
        if (pieces_push(out, t->sp.unk, sp->first_ci, sp->last_ci + 1, sp->first_bs, sp->last_be))
            sp->failed = 1;
        return;
    }
    int nb = 0;
    for (int i = 0; i < n; i++) {
        s->wcb[i] = nb;
        nb += (int)utf8proc_encode_char(s->wcp[i], (utf8proc_uint8_t *)s->wbytes + nb);
    }
    s->wcb[n] = nb;
    int mark = out->n;
    for (int start = 0; start < n;) {
        int end = n < start + t->max_tok_chars ? n : start + t->max_tok_chars, id = -1;
        for (; end > start; end--) {
            id = vocab_find(t, start > 0, s->wbytes + s->wcb[start], (size_t)(s->wcb[end] - s->wcb[start]));
            if (id >= 0) break;
        }
        if (id < 0) { /* one unmatched position: the whole word is [UNK] */
            out->n = mark;
            if (pieces_push(out, t->sp.unk, s->wci[0], s->wci[n - 1] + 1, s->wbs[0], s->wbe[n - 1]))
                sp->failed = 1;
            return;
        }
        if (pieces_push(out, id, s->wci[start], s->wci[end - 1] + 1, s->wbs[start], s->wbe[end - 1])) {
            sp->failed = 1;
            return;
        }
        start = end;
    }
}

/* Appends a normalised char c that came from source char ci (bytes [bs, be)). */
static void word_add(splitter *sp, int32_t c, int32_t ci, int32_t bs, int32_t be) {
    struct bert_scratch *s = sp->s;
    if (sp->wn == 0) { sp->first_ci = ci; sp->first_bs = bs; }
    sp->last_ci = ci; sp->last_be = be;
    if (sp->wn <= sp->t->opts.max_input_chars_per_word) { /* beyond that it is [UNK] anyway */
        if (sp->wn >= s->wcap && word_reserve(s, sp->wn + 1)) { sp->failed = 1; return; }
        s->wcp[sp->wn] = c; s->wci[sp->wn] = ci; s->wbs[sp->wn] = bs; s->wbe[sp->wn] = be;
    }
    sp->wn++;
}

/* Pre-tokenizer step for one normalised char. */
static void emit(splitter *sp, int32_t c, int32_t ci, int32_t bs, int32_t be) {
    if (c == ' ') { flush_word(sp); return; }
    if (is_punct(c)) {
        flush_word(sp);
        word_add(sp, c, ci, bs, be);
        flush_word(sp);
        return;
    }
    word_add(sp, c, ci, bs, be);
}

static void emit_lower(splitter *sp, int32_t c, int32_t ci, int32_t bs, int32_t be) {
    if (sp->t->lower) {
        if (c == 0x130) { /* SpecialCasing.txt: U+0130 lowercases to "i\u0307" */
            emit(sp, 'i', ci, bs, be);
            emit(sp, 0x307, ci, bs, be);
            return;
        }
        c = utf8proc_tolower(c);
    }
    emit(sp, c, ci, bs, be);
}

/* Normalises one source char (steps 1 to 4) and feeds the result on. */
static void normalise_char(splitter *sp, int32_t c, int32_t ci, int32_t bs, int32_t be) {
    const bert_tokenizer *t = sp->t;
    if (c < 0x80) { /* ASCII fast path: same rules, no table look-ups */
        if (c == '\t' || c == '\n' || c == '\r' || c == ' ') { flush_word(sp); return; }
        if (c < 0x20 || c == 0x7F) return;
        if (t->lower && c >= 'A' && c <= 'Z') c += 'a' - 'A';
        emit(sp, c, ci, bs, be);
        return;
    }
    if (c == 0xFFFD) return;
    utf8proc_category_t k = utf8proc_category(c);
    if (is_other(k)) return;
    if (k == UTF8PROC_CATEGORY_ZS || k == UTF8PROC_CATEGORY_ZL || k == UTF8PROC_CATEGORY_ZP) {
        flush_word(sp);
        return;
    }
    int cjk = t->opts.tokenize_chinese_chars && is_cjk(c);
    if (cjk) flush_word(sp);
    if (t->strip) {
        utf8proc_int32_t d[32];
        int last_bc = 0;
        utf8proc_ssize_t m = utf8proc_decompose_char(c, d, 32, UTF8PROC_DECOMPOSE, &last_bc);
        if (m < 0 || m > 32) { d[0] = c; m = 1; }
        for (utf8proc_ssize_t j = 0; j < m; j++)
            if (utf8proc_category(d[j]) != UTF8PROC_CATEGORY_MN) emit_lower(sp, d[j], ci, bs, be);
    } else {
        emit_lower(sp, c, ci, bs, be);
    }
    if (cjk) flush_word(sp);
}

/* Tokenizes text into p (appending). */
static int tokenize_into(const bert_tokenizer *t, struct bert_scratch *s, pieces *p,
                         const char *text, size_t len, bertc_err *err) {
    if (len >= (size_t)INT32_MAX)
        return bertc_fail(err, BERTC_ERR_ARG, "tokenizer: text of %zu bytes (limit 2^31-1)", len);
    if (!text && len) return bertc_fail(err, BERTC_ERR_ARG, "tokenizer: text is NULL");
    splitter sp = {.t = t, .s = s, .out = p};
    const uint8_t *u = (const uint8_t *)text;
    int32_t ci = 0;
    for (size_t i = 0; i < len && !sp.failed; ci++) {
        if (u[i] == '[') { /* special tokens are matched on the raw text, before cleaning */
            int k = 0;
            for (; k < t->nspecial; k++)
                if (len - i >= (size_t)t->special_len[k] &&
                    memcmp(text + i, t->special_str[k], (size_t)t->special_len[k]) == 0)
                    break;
            if (k < t->nspecial) {
                int L = t->special_len[k];
                flush_word(&sp);
                if (pieces_push(p, t->special_id[k], ci, ci + L, (int32_t)i, (int32_t)i + L))
                    sp.failed = 1;
                i += (size_t)L;
                ci += L - 1;
                continue;
            }
        }
        int32_t c;
        int k = bert_utf8_next(u, len, i, &c);
        normalise_char(&sp, c, ci, (int32_t)i, (int32_t)(i + (size_t)k));
        i += (size_t)k;
    }
    flush_word(&sp);
    if (sp.failed) return bertc_fail(err, BERTC_ERR_NOMEM, "tokenizer: out of memory");
    return BERTC_OK;
}

/* ------------------------------------------------------------------ encoding */

static int enc_reserve(bert_encoding *e, int need) {
    if (need <= e->cap) return 0;
    int cap = e->cap ? e->cap : 64;
    while (cap < need) {
        if (cap > INT32_MAX / 4) return -1;
        cap *= 2;
    }
    if (grow_i32(&e->ids, (size_t)cap) || grow_i32(&e->type_ids, (size_t)cap) ||
        grow_i32(&e->offsets, 2 * (size_t)cap) || grow_i32(&e->byte_offsets, 2 * (size_t)cap))
        return -1;
    e->cap = cap;
    return 0;
}

static void enc_push(bert_encoding *e, int id, int type, const int32_t *off, const int32_t *boff) {
    int i = e->n++;
    e->ids[i] = id;
    e->type_ids[i] = type;
    e->offsets[2 * i] = off ? off[0] : 0;
    e->offsets[2 * i + 1] = off ? off[1] : 0;
    e->byte_offsets[2 * i] = boff ? boff[0] : 0;
    e->byte_offsets[2 * i + 1] = boff ? boff[1] : 0;
}

static void enc_copy(bert_encoding *e, const pieces *p, int from, int to, int type) {
    for (int i = from; i < to; i++) enc_push(e, p->id[i], type, p->off + 2 * i, p->boff + 2 * i);
}

int bert_tokenize(const bert_tokenizer *t, const char *text, size_t len,
                  bert_encoding *out, bertc_err *err) {
    if (scratch_get(out)) return bertc_fail(err, BERTC_ERR_NOMEM, "tokenizer: out of memory");
    pieces *p = &out->scratch->a;
    p->n = 0;
    out->n = 0;
    int rc = tokenize_into(t, out->scratch, p, text, len, err);
    if (rc != BERTC_OK) return rc;
    if (enc_reserve(out, p->n)) return bertc_fail(err, BERTC_ERR_NOMEM, "tokenizer: out of memory");
    enc_copy(out, p, 0, p->n, 0);
    return BERTC_OK;
}

int bert_encode(const bert_tokenizer *t, const char *a, size_t alen,
                const char *b, size_t blen, int max_length, bert_trunc trunc,
                bert_encoding *out, bertc_err *err) {
    int pair = b != NULL && blen > 0; /* transformers: an empty text_pair is no pair */
    int nspec = pair ? 3 : 2;
    out->n = 0;
    if (max_length < 0 || (max_length > 0 && max_length < nspec))
        return bertc_fail(err, BERTC_ERR_ARG,
                          "tokenizer: max_length %d is below the %d special tokens of a %s",
                          max_length, nspec, pair ? "pair" : "single text");
    if (trunc < BERT_TRUNC_HEAD || trunc > BERT_TRUNC_HEAD_TAIL)
        return bertc_fail(err, BERTC_ERR_ARG, "tokenizer: truncation strategy %d unknown", (int)trunc);
    if (scratch_get(out)) return bertc_fail(err, BERTC_ERR_NOMEM, "tokenizer: out of memory");
    struct bert_scratch *s = out->scratch;
    s->a.n = s->b.n = 0;
    int rc = tokenize_into(t, s, &s->a, a, alen, err);
    if (rc == BERTC_OK && pair) rc = tokenize_into(t, s, &s->b, b, blen, err);
    if (rc != BERTC_OK) return rc;
    int na = s->a.n, nb = s->b.n;
    int room = max_length > 0 ? max_length - nspec : INT32_MAX - 3;
    if (enc_reserve(out, (na < room ? na : room) + (nb < room ? nb : room) + nspec))
        return bertc_fail(err, BERTC_ERR_NOMEM, "tokenizer: out of memory");

    enc_push(out, t->sp.cls, 0, NULL, NULL);
    if (!pair) {
        if (na <= room) enc_copy(out, &s->a, 0, na, 0);
        else if (trunc == BERT_TRUNC_HEAD) enc_copy(out, &s->a, 0, room, 0);
        else if (trunc == BERT_TRUNC_TAIL) enc_copy(out, &s->a, na - room, na, 0);
        else {
            int head = room >= 256 ? 128 : room / 2;
            enc_copy(out, &s->a, 0, head, 0);
            enc_copy(out, &s->a, na - (room - head), na, 0);
        }
        enc_push(out, t->sp.sep, 0, NULL, NULL);
        return BERTC_OK;
    }
    /* longest_first as tokenizers' truncate_encodings: the shorter input keeps
     * min(its length, room/2); the longer (B on a tie) gets what is left. */
    int ka = na, kb = nb;
    if (na + nb > room) {
        int a_short = na < nb; /* on a tie A counts as the shorter */
        if (na == nb) a_short = 1;
        int ns = a_short ? na : nb;
        int keep_s = ns < room / 2 ? ns : room / 2;
        if (a_short) { ka = keep_s; kb = room - keep_s; }
        else { kb = keep_s; ka = room - keep_s; }
    }
    enc_copy(out, &s->a, 0, ka, 0);
    enc_push(out, t->sp.sep, 0, NULL, NULL);
    enc_copy(out, &s->b, 0, kb, 1);
    enc_push(out, t->sp.sep, 1, NULL, NULL);
    return BERTC_OK;
}

int bert_batch_longest(const bert_encoding *encs, int B) {
    int T = 0;
    for (int i = 0; i < B; i++)
        if (encs[i].n > T) T = encs[i].n;
    return T;
}

int bert_pad_batch(int32_t *input_ids, int32_t *token_type_ids, int32_t *attention_mask,
                   const bert_tokenizer *t, const bert_encoding *encs, int B, int T,
                   bertc_err *err) {
    if (B < 0 || T < 0) return bertc_fail(err, BERTC_ERR_ARG, "tokenizer: batch B=%d T=%d", B, T);
    for (int b = 0; b < B; b++) {
        int n = encs[b].n;
        if (n > T)
            return bertc_fail(err, BERTC_ERR_ARG,
                              "tokenizer: encoding %d has %d tokens, more than T=%d (truncate first)",
                              b, n, T);
        size_t row = (size_t)b * (size_t)T;
        for (int i = 0; i < T; i++) {
            input_ids[row + i] = i < n ? encs[b].ids[i] : t->sp.pad;
            if (token_type_ids) token_type_ids[row + i] = i < n ? encs[b].type_ids[i] : 0;
            if (attention_mask) attention_mask[row + i] = i < n;
        }
    }
    return BERTC_OK;
}

void bert_encoding_free(bert_encoding *e) {
    if (!e) return;
    free(e->ids); free(e->type_ids); free(e->offsets); free(e->byte_offsets);
    if (e->scratch) {
        struct bert_scratch *s = e->scratch;
        pieces_free(&s->a);
        pieces_free(&s->b);
        free(s->wcp); free(s->wci); free(s->wbs); free(s->wbe); free(s->wcb); free(s->wbytes);
        free(s);
    }
    memset(e, 0, sizeof *e);
}
