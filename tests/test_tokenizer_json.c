/* test_tokenizer_json.c: tokenizer.json-only folders (transformers 5.x
 * save_pretrained) against transformers, and bertc's own tokenizer.json.
 *
 * Fixtures from tools/gen_tokenizer_json.py (BTOKFIX1 records, see
 * tools/gen_tokenizer.py):
 *   1. uncased, cased (lowercase false), accents (strip_accents false): each
 *      folder loaded through hf_tokenizer_load (no vocab.txt there) gives the
 *      options transformers saved and exactly its ids, type ids and offsets for
 *      the edge corpus and the first 5,000 IMDB reviews (every 10th under
 *      BERTC_SANITIZED=1);
 *   2. the vocabulary read from uncased/tokenizer.json equals the model's
 *      vocab.txt token for token;
 *   3. bad/<case>/tokenizer.json (BPE, Unigram, Sequence+NFKC normaliser,
 *      Metaspace, no vocab, other "##", an unknown added token, an lstrip one,
 *      max_input_chars_per_word 200 under BertTokenizer, left padding,
 *      no [CLS], an id gap) is refused with BERTC_ERR_FORMAT and one line
 *      naming the field;
 *   4. hf_model_load on the uncased folder, saved with hf_model_save_into: the
 *      tokenizer.json bertc writes equals transformers' section by section
 *      (cJSON_Compare: model with vocab, normalizer, pre_tokenizer,
 *      post_processor, decoder, added_tokens), its vocab.txt is the model's,
 *      and the saved folder tokenizes the edge corpus to the same ids;
 *   5. precedence: a folder with both files reads tokenizer.json; a
 *      tokenizer_config.json that disagrees with tokenizer.json's normaliser
 *      wins for tokenizer_class BertTokenizer and loses for
 *      PreTrainedTokenizerFast, as in transformers 5.24. */
#include "../src/hfmodel.h"
#include "../src/tokenizer_json.h"
#include "test.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <sys/stat.h>
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
static int32_t rd_at(const uint8_t *q, size_t i) { /* unaligned little-endian i32 */
    q += 4 * i;
    return (int32_t)((uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24);
}

/* Runs the records of fixture `name` through tok (NULL: load the folder the
 * header names with hf_tokenizer_load and check its options). Returns the
 * number of records that differ (-1: unreadable). */
static int run_group(const char *name, const bert_tokenizer *given) {
    char file[256];
    snprintf(file, sizeof file, "tokenizer_json/%s.bin", name);
    const char *path = test_fixture(file);
    char *buf = NULL;
    size_t len = 0;
    bertc_err err = {0};
    int rc = bertc_read_file(path, (size_t)1 << 31, &buf, &len, &err);
    CHECK(rc == BERTC_OK, "%s: %s (run `make build/fixtures/tokenizer_json.stamp`)", path, err.msg);
    if (rc) return -1;
    cur c = {(const uint8_t *)buf, (const uint8_t *)buf + len, 0};
    const uint8_t *magic = rd_bytes(&c, 8);
    CHECK(magic && memcmp(magic, "BTOKFIX1", 8) == 0, "%s: bad magic", path);
    uint32_t nrec = rd_u32(&c);
    int lower = (int)rd_u32(&c), strip = rd_i32(&c), cjk = (int)rd_u32(&c);
    uint32_t fl = rd_u32(&c);
    const uint8_t *fp = rd_bytes(&c, fl);
    char rel[512], folder[4096];
    snprintf(rel, sizeof rel, "tokenizer_json/%.*s", (int)fl, fp ? (const char *)fp : "");
    snprintf(folder, sizeof folder, "%s", test_fixture(rel));
    bert_tokenizer *own = NULL;
    const bert_tokenizer *tok = given;
    if (!tok) {
        char vt[4200];
        snprintf(vt, sizeof vt, "%s/vocab.txt", folder);
        CHECK(access(vt, F_OK) != 0, "%s: exists; the folder must be tokenizer.json-only", vt);
        rc = hf_tokenizer_load(&own, folder, &err);
        CHECK(rc == BERTC_OK, "hf_tokenizer_load(%s): %s", folder, err.msg);
        if (rc) { free(buf); return -1; }
        tok = own;
        const bert_tokenizer_opts *o = bert_tokenizer_get_opts(tok);
        CHECK(o->do_lower_case == lower && o->strip_accents == strip && o->tokenize_chinese_chars == cjk,
              "%s: options lower %d strip %d cjk %d, transformers saved %d %d %d", name, o->do_lower_case,
              o->strip_accents, o->tokenize_chinese_chars, lower, strip, cjk);
    }
    int32_t vsize = rd_i32(&c);
    CHECK(bert_tokenizer_vocab_size(tok) == vsize, "%s: vocab size %d, transformers %d", name,
          bert_tokenizer_vocab_size(tok), vsize);
    uint32_t nchk = rd_u32(&c);
    for (uint32_t k = 0; k < nchk && !c.bad; k++) {
        int32_t id = rd_i32(&c), tl = rd_i32(&c);
        const uint8_t *ts = tl > 0 ? rd_bytes(&c, (size_t)tl) : NULL;
        const char *got = bert_tokenizer_id_to_token(tok, id);
        CHECK(got && tl >= 0 && strlen(got) == (size_t)tl && (tl == 0 || memcmp(got, ts, (size_t)tl) == 0),
              "%s: id %d: token '%s'", name, id, got ? got : "(none)");
    }
    int sanitized = getenv("BERTC_SANITIZED") != NULL && strstr(name, "imdb");
    bert_encoding e = {0};
    int bad = 0, ok = 0, shown = 0;
    for (uint32_t r = 0; r < nrec && !c.bad; r++) {
        uint32_t kind = rd_u32(&c);
        int32_t max_length = rd_i32(&c), trunc = rd_i32(&c);
        uint32_t alen = rd_u32(&c);
        const uint8_t *a = rd_bytes(&c, alen);
        uint32_t has_off = rd_u32(&c), n = rd_u32(&c);
        const uint8_t *ids = rd_bytes(&c, 4 * (size_t)n), *types = rd_bytes(&c, 4 * (size_t)n);
        const uint8_t *offs = has_off ? rd_bytes(&c, 8 * (size_t)n) : NULL;
        if (c.bad || kind != 0) { c.bad = 1; break; }
        if (sanitized && r % 10 != 0) continue;
        rc = bert_encode(tok, (const char *)a, alen, NULL, 0, max_length, (bert_trunc)trunc, &e, &err);
        int same = rc == BERTC_OK && (uint32_t)e.n == n;
        uint32_t i = 0;
        for (; same && i < n; i++)
            same = e.ids[i] == rd_at(ids, i) && e.type_ids[i] == rd_at(types, i) &&
                   (!offs || (e.offsets[2 * i] == rd_at(offs, 2 * i) && e.offsets[2 * i + 1] == rd_at(offs, 2 * i + 1)));
        if (same) { ok++; continue; }
        bad++;
        if (shown++ < 5)
            fprintf(stderr, "MISMATCH %s record %u (%u bytes): %s at token %u: expected id %d, got %d (n %u vs %d)\n",
                    name, r, alen, rc ? err.msg : "differs", i ? i - 1 : 0, i && i <= n ? rd_at(ids, i - 1) : -1,
                    i && (int)i <= e.n ? e.ids[i - 1] : -1, n, e.n);
    }
    CHECK(!c.bad, "%s: fixture truncated or malformed", path);
    CHECK(bad == 0, "%s: %d of %d records differ from transformers", name, bad, ok + bad);
    printf("  %-16s %5d records match%s\n", name, ok, sanitized ? " (sanitized: every 10th)" : "");
    bert_encoding_free(&e);
    bert_tokenizer_free(own);
    free(buf);
    return c.bad ? -1 : bad;
}

/* 2. tokenizer.json's vocabulary is vocab.txt's. */
static void same_vocab_as_model(void) {
    bertc_err err = {0};
    char vt[4200];
    snprintf(vt, sizeof vt, "%s/vocab.txt", test_model_dir());
    bert_tokenizer *a = NULL, *b = NULL;
    CHECK(bert_tokenizer_load(&a, vt, NULL, &err) == BERTC_OK, "%s: %s", vt, err.msg);
    CHECK(hf_tokenizer_load(&b, test_fixture("tokenizer_json/uncased"), &err) == BERTC_OK, "uncased: %s", err.msg);
    if (!a || !b) { bert_tokenizer_free(a); bert_tokenizer_free(b); return; }
    int V = bert_tokenizer_vocab_size(a), diff = -1;
    CHECK(V == bert_tokenizer_vocab_size(b), "vocab sizes %d vs %d", V, bert_tokenizer_vocab_size(b));
    for (int id = 0; id < V && diff < 0; id++) {
        const char *x = bert_tokenizer_id_to_token(a, id), *y = bert_tokenizer_id_to_token(b, id);
        if (!x || !y || strcmp(x, y) != 0) diff = id;
    }
    CHECK(diff < 0, "tokenizer.json and vocab.txt differ at id %d", diff);
    if (diff < 0) printf("  vocabulary: %d tokens, identical to vocab.txt\n", V);
    bert_tokenizer_free(a);
    bert_tokenizer_free(b);
}

/* 3. Refusals. */
static void bad_files(void) {
    char *buf = NULL;
    size_t len = 0;
    bertc_err err = {0};
    const char *exp = test_fixture("tokenizer_json/bad/expect.txt");
    if (bertc_read_file(exp, 1 << 20, &buf, &len, &err) != BERTC_OK) {
        CHECK(0, "%s: %s", exp, err.msg);
        return;
    }
    int n = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char *f = strchr(line, '\t');
        char *m = f ? strchr(f + 1, '\t') : NULL;
        if (!f || !m) { CHECK(0, "expect.txt: bad line %s", line); continue; }
        *f++ = '\0';
        *m++ = '\0';
        char rel[300];
        snprintf(rel, sizeof rel, "tokenizer_json/bad/%s", line);
        bert_tokenizer *t = NULL;
        bertc_err e2 = {0};
        int rc = hf_tokenizer_load(&t, test_fixture(rel), &e2);
        CHECK(rc == BERTC_ERR_FORMAT && !t && strstr(e2.msg, "tokenizer.json: ") && strstr(e2.msg, f) &&
                  strstr(e2.msg, m) && !strchr(e2.msg, '\n'),
              "bad/%s: expected FORMAT naming \"%s\" and \"%s\", got %d: %s", line, f, m, rc, e2.msg);
        if (rc == BERTC_ERR_FORMAT) printf("  refused %-10s %s\n", line, strstr(e2.msg, "tokenizer.json: "));
        bert_tokenizer_free(t);
        n++;
    }
    CHECK(n >= 12, "only %d bad cases", n);
    free(buf);
}

static cJSON *load_json(const char *path) {
    char *buf = NULL;
    size_t len = 0;
    bertc_err err = {0};
    if (bertc_read_file(path, 64u << 20, &buf, &len, &err) != BERTC_OK) return NULL;
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    return j;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) { fputs(text, f); fclose(f); }
}

/* 4. bertc's saved folder carries a tokenizer.json equal in meaning to transformers'. */
static void saved_folder(void) {
    bertc_err err = {0};
    hf_model m = {0};
    hf_load_opts lo;
    hf_load_opts_default(&lo);
    const char *src = test_fixture("tokenizer_json/uncased");
    int rc = hf_model_load(&m, src, &lo, &err);
    CHECK(rc == BERTC_OK, "hf_model_load(%s): %s", src, err.msg);
    if (rc) return;
    CHECK(m.vocab_path && strstr(m.vocab_path, "tokenizer.json"), "vocab_path %s", m.vocab_path ? m.vocab_path : "");
    char dir[] = "/tmp/bertc_tokjson_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    rc = hf_model_save_into(&m, dir, &err);
    CHECK(rc == BERTC_OK, "hf_model_save_into: %s", err.msg);
    char p1[4200], p2[4200];
    snprintf(p1, sizeof p1, "%s/tokenizer.json", src);
    snprintf(p2, sizeof p2, "%s/tokenizer.json", dir);
    cJSON *ref = load_json(p1), *got = load_json(p2);
    CHECK(ref && got, "tokenizer.json unreadable (%s, %s)", p1, p2);
    static const char *sections[] = {"model", "normalizer", "pre_tokenizer", "post_processor", "decoder",
                                     "added_tokens", "truncation", "padding"};
    for (size_t k = 0; ref && got && k < sizeof sections / sizeof *sections; k++) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(ref, sections[k]);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(got, sections[k]);
        CHECK(a && b && cJSON_Compare(a, b, 1), "saved tokenizer.json: \"%s\" differs from transformers'",
              sections[k]);
    }
    if (ref && got) printf("  saved tokenizer.json: model, normalizer, pre_tokenizer, post_processor, decoder, "
                           "added_tokens equal transformers'\n");
    cJSON_Delete(ref);
    cJSON_Delete(got);
    /* its vocab.txt is the model's, byte for byte */
    char *x = NULL, *y = NULL;
    size_t xl = 0, yl = 0;
    snprintf(p1, sizeof p1, "%s/vocab.txt", test_model_dir());
    snprintf(p2, sizeof p2, "%s/vocab.txt", dir);
    CHECK(bertc_read_file(p1, 64u << 20, &x, &xl, &err) == BERTC_OK &&
              bertc_read_file(p2, 64u << 20, &y, &yl, &err) == BERTC_OK && xl == yl && memcmp(x, y, xl) == 0,
          "saved vocab.txt differs from the model's");
    free(x);
    free(y);
    /* the saved folder tokenizes as transformers does */
    bert_tokenizer *t = NULL;
    rc = hf_tokenizer_load(&t, dir, &err);
    CHECK(rc == BERTC_OK, "hf_tokenizer_load(saved): %s", err.msg);
    if (t) CHECK(run_group("uncased_edge", t) == 0, "saved folder: edge corpus differs");
    bert_tokenizer_free(t);

    /* 5. precedence. A vocab.txt that disagrees: tokenizer.json wins. */
    snprintf(p2, sizeof p2, "%s/vocab.txt", dir);
    write_text(p2, "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\n");
    t = NULL;
    CHECK(hf_tokenizer_load(&t, dir, &err) == BERTC_OK && bert_tokenizer_vocab_size(t) == 30522,
          "both files: tokenizer.json must win (%s)", err.msg);
    bert_tokenizer_free(t);
    /* tokenizer_config.json (BertTokenizer) says cased; tokenizer.json lower-cases: config wins */
    snprintf(p2, sizeof p2, "%s/tokenizer_config.json", dir);
    write_text(p2, "{\"do_lower_case\": false, \"tokenizer_class\": \"BertTokenizer\"}\n");
    t = NULL;
    CHECK(hf_tokenizer_load(&t, dir, &err) == BERTC_OK && bert_tokenizer_get_opts(t)->do_lower_case == 0,
          "BertTokenizer: tokenizer_config.json's do_lower_case must win (%s)", err.msg);
    bert_tokenizer_free(t);
    write_text(p2, "{\"do_lower_case\": false, \"tokenizer_class\": \"PreTrainedTokenizerFast\"}\n");
    t = NULL;
    CHECK(hf_tokenizer_load(&t, dir, &err) == BERTC_OK && bert_tokenizer_get_opts(t)->do_lower_case == 1,
          "PreTrainedTokenizerFast: tokenizer.json's normalizer must win (%s)", err.msg);
    bert_tokenizer_free(t);
    hf_model_free(&m);
    const char *names[] = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                           "special_tokens_map.json", "vocab.txt"};
    for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
        snprintf(p2, sizeof p2, "%s/%s", dir, names[k]);
        unlink(p2);
    }
    rmdir(dir);
}

int main(void) {
    printf("tokenizer.json-only folders against transformers:\n");
    const char *groups[] = {"uncased_edge", "uncased_imdb", "cased_edge", "cased_imdb", "accents_edge",
                            "accents_imdb"};
    for (size_t g = 0; g < sizeof groups / sizeof *groups; g++) run_group(groups[g], NULL);
    same_vocab_as_model();
    bad_files();
    saved_folder();
    return TEST_END();
}
