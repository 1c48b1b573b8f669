/* test_tokenizer.c: the C tokenizer against transformers' BertTokenizerFast.
 *
 * Reads the fixtures tools/gen_tokenizer.py writes (format in its docstring):
 * edge cases, code point sweeps, pairs with longest_first, padding batches, a
 * cased vocabulary and other option sets, vocab.txt variants (CRLF, blank line,
 * spaces, duplicates) and all 50,000 IMDB reviews at max_length 512 (every 10th
 * under BERTC_SANITIZED=1). Requires exact equality of ids, type ids, offsets
 * and padded arrays; prints the first mismatches of each group. */
#include "../src/tokenizer.h"
#include "test.h"

#include <stdint.h>
#include <time.h>
#include <unistd.h>

typedef struct cur {
    const uint8_t *p, *end;
    int bad;
} cur;

static uint32_t rd_u32(cur *c) {
    if (c->end - c->p < 4) { c->bad = 1; return 0; }
    uint32_t v = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 | (uint32_t)c->p[3] << 24;
    c->p += 4;
    return v;
}
static int32_t rd_i32(cur *c) { return (int32_t)rd_u32(c); }
static const uint8_t *rd_bytes(cur *c, size_t n) {
    if ((size_t)(c->end - c->p) < n) { c->bad = 1; return NULL; }
    const uint8_t *q = c->p;
    c->p += n;
    return q;
}
static const int32_t *rd_arr(cur *c, size_t n, int32_t *tmp) { /* copies: alignment */
    const uint8_t *q = rd_bytes(c, 4 * n);
    if (q) memcpy(tmp, q, 4 * n);
    return tmp;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A printable excerpt of a text: up to 60 bytes, non-printables as \xNN. */
static const char *excerpt(const uint8_t *s, size_t n) {
    static char b[512];
    size_t o = 0;
    for (size_t i = 0; i < n && i < 60 && o < sizeof b - 8; i++) {
        if (s[i] >= 32 && s[i] < 127) b[o++] = (char)s[i];
        else o += (size_t)snprintf(b + o, sizeof b - o, "\\x%02x", s[i]);
    }
    if (n > 60) o += (size_t)snprintf(b + o, sizeof b - o, "...(%zu bytes)", n);
    b[o] = 0;
    return b;
}

static int shown;
static int32_t *tmp_a, *tmp_b, *tmp_c;
static size_t tmp_cap;

static void tmp_reserve(size_t n) {
    if (n <= tmp_cap) return;
    tmp_a = realloc(tmp_a, 4 * n); tmp_b = realloc(tmp_b, 4 * n); tmp_c = realloc(tmp_c, 4 * n);
    tmp_cap = n;
}

/* Compares one encoding; returns 1 if equal, else prints the first difference. */
static int compare(const char *group, uint32_t rec, const uint8_t *a, size_t alen, const bert_tokenizer *tok,
                   const bert_encoding *e, uint32_t n, const int32_t *ids, const int32_t *types,
                   const int32_t *offs) {
    uint32_t m = (uint32_t)e->n < n ? (uint32_t)e->n : n;
    const char *what = NULL;
    uint32_t i = 0;
    for (; i < m; i++) {
        if (e->ids[i] != ids[i]) { what = "id"; break; }
        if (e->type_ids[i] != types[i]) { what = "type_id"; break; }
        if (offs && (e->offsets[2 * i] != offs[2 * i] || e->offsets[2 * i + 1] != offs[2 * i + 1])) {
            what = "offset"; break;
        }
    }
    if (!what && (uint32_t)e->n == n) return 1;
    if (shown++ < 12) {
        fprintf(stderr, "MISMATCH %s record %u: text \"%s\"\n", group, rec, excerpt(a, alen));
        if (!what) fprintf(stderr, "  length: expected %u tokens, got %d\n", n, e->n);
        else {
            const char *et = bert_tokenizer_id_to_token(tok, ids[i]);
            const char *gt = bert_tokenizer_id_to_token(tok, e->ids[i]);
            fprintf(stderr, "  at token %u (%s): expected id %d '%s' type %d (%d,%d), got id %d '%s' type %d (%d,%d)\n",
                    i, what, ids[i], et ? et : "?", types[i], offs ? offs[2 * i] : -1,
                    offs ? offs[2 * i + 1] : -1, e->ids[i], gt ? gt : "?", e->type_ids[i],
                    e->offsets[2 * i], e->offsets[2 * i + 1]);
        }
    }
    return 0;
}

static void run_group(const char *name) {
    char file[256];
    snprintf(file, sizeof file, "tokenizer/%s.bin", name);
    const char *path = test_fixture(file);
    char *buf = NULL;
    size_t len = 0;
    bertc_err err = {0};
    int rc = bertc_read_file(path, (size_t)1 << 31, &buf, &len, &err);
    CHECK(rc == BERTC_OK, "%s: %s (run `make fixtures`)", path, err.msg);
    if (rc) return;
    cur c = {(const uint8_t *)buf, (const uint8_t *)buf + len, 0};
    const uint8_t *magic = rd_bytes(&c, 8);
    CHECK(magic && memcmp(magic, "BTOKFIX1", 8) == 0, "%s: bad magic", path);
    uint32_t nrec = rd_u32(&c);
    bert_tokenizer_opts o;
    bert_tokenizer_opts_default(&o);
    o.do_lower_case = (int)rd_u32(&c);
    o.strip_accents = rd_i32(&c);
    o.tokenize_chinese_chars = (int)rd_u32(&c);
    uint32_t vl = rd_u32(&c);
    const uint8_t *vp = rd_bytes(&c, vl);
    char vrel[512], vpath[4096];
    snprintf(vrel, sizeof vrel, "tokenizer/%.*s", (int)vl, vp ? (const char *)vp : "");
    snprintf(vpath, sizeof vpath, "%s", test_fixture(vrel));
    bert_tokenizer *tok = NULL;
    rc = bert_tokenizer_load(&tok, vpath, &o, &err);
    CHECK(rc == BERTC_OK, "%s: %s", vpath, err.msg);
    if (rc) { free(buf); return; }
    int32_t vsize = rd_i32(&c);
    CHECK(bert_tokenizer_vocab_size(tok) == vsize, "%s: vocab size %d, transformers %d", name,
          bert_tokenizer_vocab_size(tok), vsize);
    uint32_t nchk = rd_u32(&c);
    for (uint32_t k = 0; k < nchk && !c.bad; k++) {
        int32_t id = rd_i32(&c), tl = rd_i32(&c);
        const uint8_t *ts = tl > 0 ? rd_bytes(&c, (size_t)tl) : NULL;
        const char *got = bert_tokenizer_id_to_token(tok, id);
        if (tl < 0) CHECK(got == NULL, "%s: id %d: expected no token, got '%s'", name, id, got ? got : "");
        else {
            CHECK(got && strlen(got) == (size_t)tl && (tl == 0 || memcmp(got, ts, (size_t)tl) == 0),
                  "%s: id %d: expected '%.*s', got '%s'", name, id, tl, ts ? (const char *)ts : "", got ? got : "(none)");
            if (got) CHECK(bert_tokenizer_token_to_id(tok, got, strlen(got)) >= 0, "%s: token_to_id('%s')", name, got);
        }
    }

    int sanitized = getenv("BERTC_SANITIZED") != NULL;
    int is_imdb = strcmp(name, "imdb") == 0;
    bert_encoding e = {0};
    bert_encoding batch[64] = {{0}};
    uint32_t ok = 0, bad = 0, skipped = 0;
    double t_encode = 0;
    size_t bytes_in = 0;
    int saved_shown = shown;
    shown = 0;
    for (uint32_t r = 0; r < nrec && !c.bad; r++) {
        uint32_t kind = rd_u32(&c);
        int32_t max_length = rd_i32(&c);
        if (kind == 2) {
            uint32_t B = rd_u32(&c);
            CHECK(B <= 64, "%s: batch of %u", name, B);
            if (B > 64) break;
            for (uint32_t b = 0; b < B; b++) {
                uint32_t l = rd_u32(&c);
                const uint8_t *s = rd_bytes(&c, l);
                rc = bert_encode(tok, (const char *)s, l, NULL, 0, max_length, BERT_TRUNC_HEAD, &batch[b], &err);
                CHECK(rc == BERTC_OK, "%s: batch encode: %s", name, err.msg);
            }
            uint32_t T = rd_u32(&c);
            tmp_reserve((size_t)B * T + 1);
            rd_arr(&c, (size_t)B * T, tmp_a); rd_arr(&c, (size_t)B * T, tmp_b); rd_arr(&c, (size_t)B * T, tmp_c);
            int gotT = max_length ? max_length : bert_batch_longest(batch, (int)B);
            CHECK((uint32_t)gotT == T, "%s record %u: T expected %u got %d", name, r, T, gotT);
            int32_t *ids = malloc(4 * (size_t)B * T), *ty = malloc(4 * (size_t)B * T), *mk = malloc(4 * (size_t)B * T);
            rc = bert_pad_batch(ids, ty, mk, tok, batch, (int)B, (int)T, &err);
            CHECK(rc == BERTC_OK, "%s: pad: %s", name, err.msg);
            size_t diff = (size_t)-1;
            for (size_t i = 0; i < (size_t)B * T; i++)
                if (ids[i] != tmp_a[i] || ty[i] != tmp_b[i] || mk[i] != tmp_c[i]) { diff = i; break; }
            if (diff == (size_t)-1) ok++;
            else {
                bad++;
                CHECK(0, "%s record %u: padded batch differs at row %zu col %zu: expected (%d,%d,%d) got (%d,%d,%d)",
                      name, r, diff / T, diff % T, tmp_a[diff], tmp_b[diff], tmp_c[diff], ids[diff], ty[diff], mk[diff]);
            }
            if (T > 0 && B > 0) { /* T one short of the longest must be refused */
                int longest = bert_batch_longest(batch, (int)B);
                if (longest > 0)
                    CHECK(bert_pad_batch(ids, ty, mk, tok, batch, (int)B, longest - 1, &err) == BERTC_ERR_ARG,
                          "%s: pad to T below the longest was accepted", name);
            }
            free(ids); free(ty); free(mk);
            continue;
        }
        int32_t trunc = rd_i32(&c);
        uint32_t alen = rd_u32(&c);
        const uint8_t *a = rd_bytes(&c, alen);
        uint32_t blen = 0;
        const uint8_t *b = NULL;
        if (kind == 1) { blen = rd_u32(&c); b = rd_bytes(&c, blen); if (!b) b = (const uint8_t *)""; }
        uint32_t has_off = rd_u32(&c), n = rd_u32(&c);
        tmp_reserve((size_t)2 * n + 1);
        rd_arr(&c, n, tmp_a); rd_arr(&c, n, tmp_b);
        if (has_off) rd_arr(&c, 2 * (size_t)n, tmp_c);
        if (c.bad) break;
        if (is_imdb && sanitized && r % 10 != 0) { skipped++; continue; }
        double t0 = now();
        rc = bert_encode(tok, (const char *)a, alen, (const char *)b, blen, max_length, (bert_trunc)trunc, &e, &err);
        t_encode += now() - t0;
        bytes_in += alen + blen;
        if (rc != BERTC_OK) { bad++; CHECK(0, "%s record %u: encode failed: %s", name, r, err.msg); continue; }
        if (compare(name, r, a, alen, tok, &e, n, tmp_a, tmp_b, has_off ? tmp_c : NULL)) ok++;
        else bad++;
        /* bert_tokenize gives the same pieces as an untruncated single encode. */
        if (kind == 0 && max_length == 0 && r % 7 == 0 && e.n >= 2) {
            bert_encoding p = {0};
            rc = bert_tokenize(tok, (const char *)a, alen, &p, &err);
            int same = rc == BERTC_OK && p.n == e.n - 2 &&
                       (p.n == 0 || (memcmp(p.ids, e.ids + 1, 4 * (size_t)p.n) == 0 &&
                                     memcmp(p.offsets, e.offsets + 2, 8 * (size_t)p.n) == 0));
            CHECK(same, "%s record %u: bert_tokenize differs from bert_encode", name, r);
            bert_encoding_free(&p);
        }
    }
    CHECK(!c.bad, "%s: fixture truncated or malformed", path);
    CHECK(bad == 0, "%s: %u of %u records differ from transformers (first ones above)", name, bad, ok + bad);
    if (bad == 0) test_passed_ += (int)ok;
    printf("  %-14s %6u records match%s", name, ok, skipped ? " (sanitized: every 10th)" : "");
    if (is_imdb) printf(", %.1f MB tokenized in %.2f s (%.1f MB/s)", bytes_in / 1e6, t_encode, bytes_in / 1e6 / t_encode);
    printf("\n");
    shown += saved_shown;
    bert_encoding_free(&e);
    for (int i = 0; i < 64; i++) bert_encoding_free(&batch[i]);
    bert_tokenizer_free(tok);
    free(buf);
}

/* Contract checks that need no reference: errors, buffer reuse. */
static void api_checks(void) {
    bertc_err err = {0};
    bert_tokenizer *tok = NULL;
    CHECK(bert_tokenizer_load(&tok, "/nonexistent/vocab.txt", NULL, &err) == BERTC_ERR_IO && !tok,
          "missing vocab must be an I/O error");
    char path[] = "/tmp/bertc_tok_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) { CHECK(0, "mkstemp"); return; }
    const char no_unk[] = "[PAD]\n[CLS]\n[SEP]\nhello\n";
    CHECK(write(fd, no_unk, sizeof no_unk - 1) == (ssize_t)(sizeof no_unk - 1), "write");
    close(fd);
    CHECK(bert_tokenizer_load(&tok, path, NULL, &err) == BERTC_ERR_FORMAT && strstr(err.msg, "[UNK]"),
          "vocab without [UNK] must be refused: %s", err.msg);
    FILE *f = fopen(path, "wb");
    fputs("[PAD]\n[UNK]\n[CLS]\n[SEP]\nbad\xff\n", f);
    fclose(f);
    CHECK(bert_tokenizer_load(&tok, path, NULL, &err) == BERTC_ERR_FORMAT, "vocab with invalid UTF-8 must be refused");
    f = fopen(path, "wb");
    fputs("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n##lo\nhel\n", f);
    fclose(f);
    CHECK(bert_tokenizer_load(&tok, path, NULL, &err) == BERTC_OK, "tiny vocab: %s", err.msg);
    unlink(path);
    if (!tok) return;
    bert_special_ids sp = bert_tokenizer_special_ids(tok);
    CHECK(sp.pad == 0 && sp.unk == 1 && sp.cls == 2 && sp.sep == 3 && sp.mask == -1, "special ids");
    CHECK(bert_tokenizer_vocab_size(tok) == 7, "vocab size");
    CHECK(bert_tokenizer_id_to_token(tok, 7) == NULL && bert_tokenizer_id_to_token(tok, -1) == NULL, "id range");
    bert_encoding e = {0};
    CHECK(bert_encode(tok, "x", 1, NULL, 0, 1, BERT_TRUNC_HEAD, &e, &err) == BERTC_ERR_ARG, "max_length 1 single");
    CHECK(bert_encode(tok, "x", 1, "y", 1, 2, BERT_TRUNC_HEAD, &e, &err) == BERTC_ERR_ARG, "max_length 2 pair");
    CHECK(bert_encode(tok, "x", 1, NULL, 0, 8, (bert_trunc)7, &e, &err) == BERTC_ERR_ARG, "bad strategy");
    CHECK(bert_encode(tok, "HELLO hello [MASK]", 18, NULL, 0, 0, BERT_TRUNC_HEAD, &e, &err) == BERTC_OK, "encode");
    /* hello hello [ unk(mask) ] -> [MASK] absent from this vocab, so it is split like text */
    CHECK(e.n == 7 && e.ids[1] == 4 && e.ids[2] == 4 && e.ids[3] == 1, "tiny encode: n=%d", e.n);
    int32_t *ids = e.ids;
    int cap = e.cap;
    CHECK(bert_encode(tok, "hello", 5, NULL, 0, 0, BERT_TRUNC_HEAD, &e, &err) == BERTC_OK && e.ids == ids &&
          e.cap == cap, "a smaller input must reuse the encoding's buffers");
    bert_encoding_free(&e);
    bert_encoding_free(&e); /* twice is harmless */
    bert_tokenizer_free(tok);
    bert_tokenizer_free(NULL);
}

/* The one UTF-8 decoder (utf8proc underneath): bert_utf8_next against Python's
 * bytes.decode("utf-8", "replace") (the expected code points were printed by
 * Python 3.11: one U+FFFD per maximal subpart), and bertc_utf8_invalid_at. */
static void utf8_checks(void) {
    static const struct { const char *in; int n; int32_t want[5]; } cases[] = {
        {"\xe2\x82", 1, {0xFFFD}},
        {"\xe2\x82" "A", 2, {0xFFFD, 0x41}},
        {"\xed\xa0\x80", 3, {0xFFFD, 0xFFFD, 0xFFFD}},
        {"\xf0\x80\x80", 3, {0xFFFD, 0xFFFD, 0xFFFD}},
        {"\xf0\x9f\x98", 1, {0xFFFD}},
        {"\xc0\xaf", 2, {0xFFFD, 0xFFFD}},
        {"\xf4\x90\x80\x80", 4, {0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD}},
        {"\xe0\x9f\x80", 3, {0xFFFD, 0xFFFD, 0xFFFD}},
        {"\xf1\x80\x80\xc0", 2, {0xFFFD, 0xFFFD}},
        {"a\xe2\x82\xac\xf0\x9f\x98\x80", 3, {0x61, 0x20AC, 0x1F600}},
        {"\xef\xbf\xbd\x80", 2, {0xFFFD, 0xFFFD}},
    };
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        const uint8_t *u = (const uint8_t *)cases[t].in;
        size_t n = strlen(cases[t].in), i = 0;
        int got = 0, same = 1;
        while (i < n) {
            int32_t cp;
            int k = bert_utf8_next(u, n, i, &cp);
            if (k < 1) { same = 0; break; }
            same &= got < 5 && cp == cases[t].want[got];
            got++;
            i += (size_t)k;
        }
        CHECK(same && got == cases[t].n, "bert_utf8_next case %zu: %d code points (want %d) or other values", t, got,
              cases[t].n);
        /* only the last two cases start with well-formed text */
        size_t bad = bertc_utf8_invalid_at(cases[t].in, n);
        size_t want_bad = t == 9 ? n : t == 10 ? 3 : 0;
        CHECK(bad == want_bad, "bertc_utf8_invalid_at case %zu: %zu, want %zu", t, bad, want_bad);
    }
    CHECK(bertc_utf8_valid("a\0b", 3) && bertc_utf8_valid("", 0), "NUL and the empty string are well-formed");
}

int main(void) {
    api_checks();
    utf8_checks();
    const char *groups[] = {"edge", "sweep_uncased", "cased", "cased_strip", "lower_nostrip", "nocjk",
                            "vocab_crlf", "vocab_blank", "vocab_spaces", "vocab_dup", "vocab_noeol", "imdb"};
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) run_group(groups[g]);
    free(tmp_a); free(tmp_b); free(tmp_c);
    return TEST_END();
}
