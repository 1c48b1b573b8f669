/* test_token_data.c: token-classification data (src/tasks/token_data.h).
 *
 * 1. Readers on small files this test writes: CoNLL (columns, blank runs,
 *    -DOCSTART-, CRLF, BOM, no final newline) and JSON Lines, and every error
 *    case: message naming FILE:LINE and the right status.
 * 2. Shuffle + limit picks the same rows as data.c's bertc_data_shuffle_limit.
 * 3. run_ner.py's b_to_i_label.
 * 4. Alignment against transformers (fixtures from tools/gen_token.py: every
 *    CoNLL-2003 dev sentence at max_length 128 and 16, and an edge list at 128,
 *    16, 8, 3, 2): input_ids, word_ids, labels with and without label_all_tokens,
 *    and the count of words cut.
 * 5. CoNLL-2003 ($BERTC_CONLL, default $BERTC_ROOT/../shared/data/conll2003):
 *    sentence, token, -DOCSTART- and tag counts of its README, and the dev set
 *    read by bertc equal to the generator's Python reading. When the files are
 *    missing this part prints SKIP and the test exits 77 (after the rest passed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "data.h"
#include "hfmodel.h"
#include "tasks/token_data.h"
#include "test.h"

/* CHECK, and return from a void function when it fails. */
#define REQUIRE_VOID(cond, ...)                \
    do {                                       \
        int ok_ = !!(cond);                    \
        CHECK(ok_, __VA_ARGS__);               \
        if (!ok_) return;                      \
    } while (0)

static char tmpdir[1024];

static const char *write_tmp_n(const char *name, const char *content, size_t len) {
    static char path[4][1200];
    static int slot;
    char *p = path[slot++ & 3];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    if (!content) { /* a file that does not exist */
        unlink(p);
        return p;
    }
    FILE *f = fopen(p, "wb");
    if (!f) return p;
    fwrite(content, 1, len, f);
    fclose(f);
    return p;
}

static const char *write_tmp(const char *name, const char *content) {
    return write_tmp_n(name, content, content ? strlen(content) : 0);
}

static int load_str(bertc_token_dataset *ds, const char *name, const char *content, const char *format,
                    const char *const *labels, int k, bertc_err *err) {
    return bertc_token_data_load(ds, write_tmp(name, content), format, labels, k, err);
}

/* The load must fail with code and a message containing want. */
static void expect_fail(const char *name, const char *content, const char *format, const char *const *labels,
                        int k, int code, const char *want) {
    bertc_err err = {0};
    bertc_token_dataset ds = {0};
    int rc = load_str(&ds, name, content, format, labels, k, &err);
    CHECK(rc == code, "%s: status %d, want %d (%s)", name, rc, code, err.msg);
    CHECK(strstr(err.msg, want) != NULL, "%s: message \"%s\" lacks \"%s\"", name, err.msg, want);
    CHECK(ds.n == 0 && ds.sent == NULL && ds.labels == NULL, "%s: ds not zeroed after failure", name);
    printf("  %-22s -> %s\n", name, err.msg);
}

static void test_conll(void) {
    bertc_err err = {0};
    bertc_token_dataset ds = {0};
    /* BOM, 4 columns, CRLF, -DOCSTART- + blank, a blank run, tabs, no final newline */
    const char *text = "\xEF\xBB\xBF-DOCSTART- -X- -X- O\r\n\r\n"
                       "EU NNP B-NP B-ORG\r\nrejects VBZ B-VP O\r\n\r\n\r\n   \r\n"
                       "Peter\tB-PER\nBlackburn  I-PER\n-DOCSTART- O\nBRUSSELS B-LOC";
    int rc = load_str(&ds, "a.conll", text, "conll", NULL, 0, &err);
    REQUIRE_VOID(rc == BERTC_OK, "conll load: %s", err.msg);
    CHECK(ds.n == 3 && ds.n_words == 5 && ds.docstarts == 2, "conll: %d sentences %ld words %ld docstarts", ds.n,
          ds.n_words, ds.docstarts);
    const char *want_labels[] = {"B-LOC", "B-ORG", "B-PER", "I-PER", "O"}; /* sorted, as run_ner.py */
    CHECK(ds.num_labels == 5, "conll: %d labels", ds.num_labels);
    for (int i = 0; i < 5 && i < ds.num_labels; i++)
        CHECK(strcmp(ds.labels[i], want_labels[i]) == 0, "label %d = %s", i, ds.labels[i]);
    if (ds.n == 3) {
        CHECK(ds.sent[0].n == 2 && strcmp(ds.sent[0].words[0], "EU") == 0 && strcmp(ds.sent[0].words[1], "rejects") == 0,
              "sentence 0 words");
        CHECK(ds.sent[0].tags[0] == 1 && ds.sent[0].tags[1] == 4, "sentence 0 tags");
        CHECK(ds.sent[0].line == 3 && ds.sent[1].line == 8 && ds.sent[2].line == 11, "lines %ld %ld %ld",
              ds.sent[0].line, ds.sent[1].line, ds.sent[2].line);
        CHECK(ds.sent[1].n == 2 && strcmp(ds.sent[1].words[1], "Blackburn") == 0 && ds.sent[1].tags[1] == 3,
              "sentence 1 (tab, double space)");
        CHECK(ds.sent[2].n == 1 && strcmp(ds.sent[2].words[0], "BRUSSELS") == 0 && ds.sent[2].tags[0] == 0,
              "sentence 2 (no final newline)");
    }
    bertc_token_data_free(&ds);
    bertc_token_data_free(&ds); /* harmless twice */

    /* explicit labels keep their ids; the format is guessed from the name */
    const char *lab[] = {"O", "B-ORG", "I-ORG", "B-PER", "I-PER", "B-LOC", "I-LOC"};
    rc = load_str(&ds, "b.txt", "EU B-ORG\nrejects O\n\nPeter B-PER\n", NULL, lab, 7, &err);
    CHECK(rc == BERTC_OK && ds.num_labels == 7 && ds.n == 2, "explicit labels: %s", err.msg);
    if (rc == BERTC_OK && ds.n == 2) {
        CHECK(ds.sent[0].tags[0] == 1 && ds.sent[0].tags[1] == 0 && ds.sent[1].tags[0] == 3, "explicit ids");
        CHECK(strcmp(ds.labels[6], "I-LOC") == 0, "labels copied in id order");
    }
    bertc_token_data_free(&ds);

    printf("conll errors:\n");
    expect_fail("one_col.conll", "EU B-ORG\nrejects O\nlonely\n", "conll", NULL, 0, BERTC_ERR_FORMAT, "one_col.conll:3: one column");
    expect_fail("unknown_tag.conll", "EU B-ORG\n\nPeter B-FOO\n", "conll", lab, 7, BERTC_ERR_NOTFOUND,
                "unknown_tag.conll:3: tag \"B-FOO\" is not one of the 7 labels");
    {
        static const char nul[] = "EU B-ORG\nre\0jects O\n";
        bertc_err err2 = {0};
        rc = bertc_token_data_load(&ds, write_tmp_n("nul.conll", nul, sizeof nul - 1), "conll", NULL, 0, &err2);
        CHECK(rc == BERTC_ERR_FORMAT && strstr(err2.msg, "nul.conll:2: a NUL byte"), "NUL byte: %s", err2.msg);
        printf("  %-22s -> %s\n", "nul.conll", err2.msg);
    }
    const char *dup[] = {"O", "B-X", "O"};
    expect_fail("dup_labels.conll", "a O\n", "conll", dup, 3, BERTC_ERR_ARG, "given twice");
    const char *empty[] = {"O", ""};
    expect_fail("empty_label.conll", "a O\n", "conll", empty, 2, BERTC_ERR_ARG, "label 1 is empty");
    expect_fail("fmt.conll", "a O\n", "xml", NULL, 0, BERTC_ERR_ARG, "use conll or jsonl");
    expect_fail("missing.conll", NULL, "conll", NULL, 0, BERTC_ERR_IO, "missing");
}

static void test_jsonl(void) {
    bertc_err err = {0};
    bertc_token_dataset ds = {0};
    const char *text = "{\"tokens\": [\"EU\", \"rejects\"], \"ner_tags\": [\"B-ORG\", \"O\"]}\n"
                       "\n"
                       "{\"tokens\": [], \"ner_tags\": []}\r\n"
                       "{\"id\": 7, \"tokens\": [\"\", \"Peter\"], \"ner_tags\": [\"O\", \"B-PER\"]}";
    int rc = load_str(&ds, "a.jsonl", text, NULL, NULL, 0, &err);
    CHECK(rc == BERTC_OK && ds.n == 3 && ds.n_words == 4 && ds.num_labels == 3, "jsonl: %s n=%d", err.msg, ds.n);
    if (rc == BERTC_OK && ds.n == 3) {
        CHECK(ds.sent[1].n == 0 && ds.sent[1].line == 3, "empty sentence kept at line 3");
        CHECK(ds.sent[2].line == 4 && strcmp(ds.sent[2].words[0], "") == 0 && ds.sent[2].tags[1] == 1,
              "empty word kept; B-PER = 1");
    }
    bertc_token_data_free(&ds);
    const char *lab[] = {"O", "B-PER", "I-PER"};
    rc = load_str(&ds, "ids.jsonl", "{\"tokens\": [\"a\", \"b\"], \"ner_tags\": [1, \"I-PER\"]}\n", "jsonl", lab, 3, &err);
    CHECK(rc == BERTC_OK && ds.n == 1 && ds.sent[0].tags[0] == 1 && ds.sent[0].tags[1] == 2, "integer tags: %s", err.msg);
    bertc_token_data_free(&ds);

    printf("jsonl errors:\n");
    expect_fail("bad.jsonl", "{\"tokens\": [\"a\"], \"ner_tags\": [\"O\"]}\n{\"tokens\": [\"a\"\n", "jsonl", NULL, 0,
                BERTC_ERR_FORMAT, "bad.jsonl:2: invalid JSON");
    expect_fail("array.jsonl", "[1, 2]\n", "jsonl", NULL, 0, BERTC_ERR_FORMAT, "array.jsonl:1: invalid JSON");
    expect_fail("unequal.jsonl", "\n{\"tokens\": [\"a\", \"b\"], \"ner_tags\": [\"O\"]}\n", "jsonl", NULL, 0,
                BERTC_ERR_FORMAT, "unequal.jsonl:2: 2 tokens but 1 ner_tags");
    expect_fail("notlist.jsonl", "{\"tokens\": \"a b\", \"ner_tags\": [\"O\"]}\n", "jsonl", NULL, 0, BERTC_ERR_FORMAT,
                "notlist.jsonl:1: \"tokens\" must be a list");
    expect_fail("tagnotlist.jsonl", "{\"tokens\": [\"a\"], \"ner_tags\": \"O\"}\n", "jsonl", NULL, 0, BERTC_ERR_FORMAT,
                "tagnotlist.jsonl:1: \"ner_tags\" must be a list");
    expect_fail("nokey.jsonl", "{\"words\": [\"a\"], \"ner_tags\": [\"O\"]}\n", "jsonl", NULL, 0, BERTC_ERR_NOTFOUND,
                "nokey.jsonl:1: no \"tokens\" key");
    expect_fail("numtoken.jsonl", "{\"tokens\": [\"a\", 5], \"ner_tags\": [\"O\", \"O\"]}\n", "jsonl", NULL, 0,
                BERTC_ERR_FORMAT, "numtoken.jsonl:1: tokens[1] is not a string");
    expect_fail("intnolabels.jsonl", "{\"tokens\": [\"a\"], \"ner_tags\": [0]}\n", "jsonl", NULL, 0, BERTC_ERR_ARG,
                "intnolabels.jsonl:1: ner_tags[0] is the integer 0");
    expect_fail("intrange.jsonl", "{\"tokens\": [\"a\"], \"ner_tags\": [3]}\n", "jsonl", lab, 3, BERTC_ERR_FORMAT,
                "intrange.jsonl:1: ner_tags[0] = 3 is not a label id");
    expect_fail("floattag.jsonl", "{\"tokens\": [\"a\"], \"ner_tags\": [0.5]}\n", "jsonl", lab, 3, BERTC_ERR_FORMAT,
                "floattag.jsonl:1: ner_tags[0] must be");
    expect_fail("unknown.jsonl", "{\"tokens\": [\"a\"], \"ner_tags\": [\"O\"]}\n{\"tokens\": [\"a\"], \"ner_tags\": [\"B-X\"]}\n",
                "jsonl", lab, 3, BERTC_ERR_NOTFOUND, "unknown.jsonl:2: tag \"B-X\"");
}

/* Shuffle + limit: the same rows as data.c's bertc_data_shuffle_limit. */
static void test_shuffle(void) {
    enum { N = 57 };
    char conll[N * 16], jsonl[N * 48];
    size_t a = 0, b = 0;
    for (int i = 0; i < N; i++) {
        a += (size_t)snprintf(conll + a, sizeof conll - a, "s%d O\n\n", i);
        b += (size_t)snprintf(jsonl + b, sizeof jsonl - b, "{\"text\": \"s%d\", \"label\": \"%s\"}\n", i, i % 2 ? "x" : "y");
    }
    const char *cp = write_tmp("shuf.conll", conll), *jp = write_tmp("shuf.jsonl", jsonl);
    uint64_t seeds[] = {42, 0, 12345};
    long limits[] = {-1, 10, 57, 1000, 0};
    int same = 1, runs = 0;
    for (int s = 0; s < 3; s++)
        for (int l = 0; l < 5; l++) {
            bertc_err err = {0};
            bertc_token_dataset ds = {0};
            bertc_dataset ref = {0};
            bertc_data_opts o;
            bertc_data_opts_default(&o);
            if (bertc_token_data_load(&ds, cp, "conll", NULL, 0, &err) || bertc_data_load(&ref, jp, NULL, &o, &err) ||
                bertc_token_data_shuffle_limit(&ds, seeds[s], limits[l], &err) ||
                bertc_data_shuffle_limit(&ref, seeds[s], limits[l], &err)) {
                CHECK(0, "shuffle setup: %s", err.msg);
                same = 0;
            } else {
                same &= ds.n == ref.n && ds.n_words == ds.n;
                for (int i = 0; i < ds.n && i < ref.n; i++) same &= strcmp(ds.sent[i].words[0], ref.ex[i].text) == 0;
                runs++;
            }
            bertc_token_data_free(&ds);
            bertc_data_free(&ref);
        }
    CHECK(same && runs == 15, "shuffle_limit differs from bertc_data_shuffle_limit");
    printf("shuffle_limit: same rows as bertc_data_shuffle_limit in %d seed/limit runs\n", runs);
}

static void test_b_to_i(void) {
    const char *lab[] = {"O", "B-PER", "I-PER", "B-LOC", "B-B-X", "I-I-X", "I-B-X", "XB-Y", "I-Y"};
    int32_t map[9], want[9] = {0, 2, 2, 3, 5, 5, 6, 7, 8}; /* "B-B-X".replace -> "I-I-X" */
    bertc_err err = {0};
    CHECK(bertc_token_b_to_i(map, lab, 9, &err) == BERTC_OK, "b_to_i");
    for (int i = 0; i < 9; i++) CHECK(map[i] == want[i], "b_to_i[%d] (%s) = %d, want %d", i, lab[i], map[i], want[i]);
}

static int int_array_eq(const cJSON *a, const int32_t *v, int n) {
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n) return 0;
    int i = 0;
    for (const cJSON *x = a->child; x; x = x->next, i++)
        if (!cJSON_IsNumber(x) || (int32_t)x->valuedouble != v[i]) return 0;
    return 1;
}

/* Alignment against transformers. Returns the dev sentences (words, tags) of
 * the fixture through dev_json (cJSON objects, max_length 128 records). */
static void test_align(cJSON ***dev_out, int *n_dev_out, char ***labels_out, int *k_out) {
    const char *path = test_fixture("token/align.jsonl");
    char *buf = NULL;
    size_t len = 0;
    bertc_err err = {0};
    REQUIRE_VOID(bertc_read_file(path, (size_t)1 << 30, &buf, &len, &err) == BERTC_OK, "%s (make build/fixtures/token.stamp)", err.msg);
    bert_tokenizer *tok = NULL;
    int rc = hf_tokenizer_load(&tok, test_model_dir(), &err);
    if (rc) free(buf);
    REQUIRE_VOID(rc == BERTC_OK, "tokenizer %s: %s", test_model_dir(), err.msg);
    bertc_token_features f = {0};
    int32_t *b2i = NULL;
    char **labels = NULL;
    int k = 0, records = 0, bad = 0, dev128 = 0, cut_total = 0;
    cJSON **dev = NULL;
    int n_dev = 0;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        if (!o) { CHECK(0, "%s: bad fixture line", path); break; }
        const char *kind = cJSON_GetObjectItem(o, "kind")->valuestring;
        if (strcmp(kind, "meta") == 0) {
            const cJSON *L = cJSON_GetObjectItem(o, "labels"), *B = cJSON_GetObjectItem(o, "b_to_i");
            k = cJSON_GetArraySize(L);
            labels = calloc((size_t)k, sizeof *labels);
            b2i = calloc((size_t)k, sizeof *b2i);
            for (int i = 0; i < k; i++) labels[i] = strdup(cJSON_GetArrayItem(L, i)->valuestring);
            CHECK(bertc_token_b_to_i(b2i, (const char *const *)labels, k, &err) == BERTC_OK && int_array_eq(B, b2i, k),
                  "b_to_i differs from run_ner.py's on the fixture labels");
            const cJSON *v = cJSON_GetObjectItem(o, "versions");
            printf("alignment reference: transformers %s, tokenizers %s\n",
                   cJSON_GetObjectItem(v, "transformers")->valuestring, cJSON_GetObjectItem(v, "tokenizers")->valuestring);
            cJSON_Delete(o);
            continue;
        }
        const cJSON *W = cJSON_GetObjectItem(o, "words"), *T = cJSON_GetObjectItem(o, "tags");
        int n = cJSON_GetArraySize(W), m = cJSON_GetObjectItem(o, "max_length")->valueint;
        char **words = calloc((size_t)n + 1, sizeof *words);
        int32_t *tags = calloc((size_t)n + 1, sizeof *tags);
        for (int i = 0; i < n; i++) {
            words[i] = cJSON_GetArrayItem(W, i)->valuestring;
            tags[i] = cJSON_GetArrayItem(T, i)->valueint;
        }
        bertc_token_sentence s = {n, words, tags, 0};
        const char *name = cJSON_GetObjectItem(o, "name")->valuestring;
        for (int all = 0; all < 2; all++) {
            rc = bertc_token_align(&f, tok, &s, m, all ? b2i : NULL, &err);
            int ok = rc == BERTC_OK && int_array_eq(cJSON_GetObjectItem(o, "input_ids"), f.input_ids, f.n) &&
                     int_array_eq(cJSON_GetObjectItem(o, "word_ids"), f.word_ids, f.n) &&
                     int_array_eq(cJSON_GetObjectItem(o, all ? "labels_all" : "labels_first"), f.labels, f.n) &&
                     f.words_cut == cJSON_GetObjectItem(o, "words_cut")->valueint;
            for (int i = 0; ok && i < f.n; i++) ok = f.type_ids[i] == 0;
            if (!ok && bad++ < 10)
                CHECK(0, "%s max_length %d label_all %d: alignment differs from transformers (n %d, cut %d; %s)", name, m,
                      all, f.n, f.words_cut, rc ? err.msg : "");
            else if (!ok)
                test_failed_++;
            else
                test_passed_++;
        }
        /* unlabelled text: same ids, every label -100 */
        bertc_token_sentence u = {n, words, NULL, 0};
        rc = bertc_token_align(&f, tok, &u, m, b2i, &err);
        int all_ignored = rc == BERTC_OK;
        for (int i = 0; all_ignored && i < f.n; i++) all_ignored = f.labels[i] == BERTC_TOKEN_IGNORE;
        CHECK(all_ignored && int_array_eq(cJSON_GetObjectItem(o, "input_ids"), f.input_ids, f.n), "%s: no tags", name);
        cut_total += f.words_cut;
        free(words);
        free(tags);
        records++;
        if (strcmp(kind, "dev") == 0 && m == 128) {
            dev128++;
            dev = realloc(dev, (size_t)(n_dev + 1) * sizeof *dev);
            dev[n_dev++] = o;
        } else {
            cJSON_Delete(o);
        }
    }
    printf("alignment: %d records x 2 label settings, %d mismatches (%d dev sentences at 128; %d words cut in all)\n",
           records, bad, dev128, cut_total);
    CHECK(records > 100, "only %d alignment records", records);
    bertc_err e2 = {0};
    bertc_token_sentence one = {0, NULL, NULL, 0};
    CHECK(bertc_token_align(&f, tok, &one, 1, NULL, &e2) == BERTC_ERR_ARG, "max_length 1 must be refused");
    CHECK(bertc_token_align(&f, tok, &one, 0, NULL, &e2) == BERTC_OK && f.n == 2, "max_length 0: no truncation");
    bertc_token_features_free(&f);
    bertc_token_features_free(&f);
    bert_tokenizer_free(tok);
    free(b2i);
    free(buf);
    *dev_out = dev;
    *n_dev_out = n_dev;
    *labels_out = labels;
    *k_out = k;
}

typedef struct conll_want {
    const char *file;
    int sentences;
    long tokens, docstarts;
} conll_want;

/* Returns 1 when the files were there (checked), 0 when missing. */
static int test_conll2003(cJSON **dev, int n_dev, char **fix_labels, int fix_k) {
    char def[4096];
    snprintf(def, sizeof def, "%s/../shared/data/conll2003", test_env_("BERTC_ROOT", "."));
    const char *dir = test_env_("BERTC_CONLL", def);
    const conll_want want[] = {{"train.txt", 14041, 203621, 0}, {"dev.txt", 3250, 51362, 0}, {"test.txt", 3453, 46435, 230}};
    static char paths[3][8192];
    for (int i = 0; i < 3; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/%s", dir, want[i].file);
        if (!bertc_is_file(paths[i])) {
            printf("SKIP: CoNLL-2003 counts and dev parity not checked: %s is missing (set BERTC_CONLL)\n", paths[i]);
            return 0;
        }
    }
    for (int i = 0; i < 3; i++) {
        bertc_err err = {0};
        bertc_token_dataset ds = {0};
        int rc = bertc_token_data_load(&ds, paths[i], "conll", NULL, 0, &err);
        CHECK(rc == BERTC_OK, "%s", err.msg);
        CHECK(ds.n == want[i].sentences && ds.n_words == want[i].tokens && ds.docstarts == want[i].docstarts,
              "%s: %d sentences, %ld tokens, %ld -DOCSTART-; README says %d, %ld, %ld", want[i].file, ds.n, ds.n_words,
              ds.docstarts, want[i].sentences, want[i].tokens, want[i].docstarts);
        CHECK(ds.num_labels == 9, "%s: %d labels, want 9", want[i].file, ds.num_labels);
        printf("%s: %d sentences, %ld tokens, %ld -DOCSTART- skipped, %d labels\n", want[i].file, ds.n, ds.n_words,
               ds.docstarts, ds.num_labels);
        if (i == 0) { /* the README's tag counts for train */
            const char *names[] = {"O", "B-LOC", "B-PER", "B-ORG", "I-PER", "I-ORG", "B-MISC", "I-MISC", "I-LOC"};
            const long counts[] = {169578, 7085, 6592, 6277, 4536, 3748, 3280, 1313, 1212};
            long got[9] = {0};
            for (int s = 0; s < ds.n; s++)
                for (int w = 0; w < ds.sent[s].n; w++) got[ds.sent[s].tags[w]]++;
            for (int t = 0; t < 9; t++) {
                long c = -1;
                for (int l = 0; l < ds.num_labels; l++)
                    if (strcmp(ds.labels[l], names[t]) == 0) c = got[l];
                CHECK(c == counts[t], "train: %s appears %ld times, README says %ld", names[t], c, counts[t]);
            }
        }
        if (i == 1) { /* bertc's reading equals the generator's Python reading */
            int same = n_dev == ds.n && fix_k == ds.num_labels;
            for (int l = 0; same && l < fix_k; l++) same = strcmp(fix_labels[l], ds.labels[l]) == 0;
            for (int s = 0; same && s < ds.n; s++) {
                const cJSON *W = cJSON_GetObjectItem(dev[s], "words"), *T = cJSON_GetObjectItem(dev[s], "tags");
                same = cJSON_GetArraySize(W) == ds.sent[s].n && int_array_eq(T, ds.sent[s].tags, ds.sent[s].n);
                for (int w = 0; same && w < ds.sent[s].n; w++)
                    same = strcmp(cJSON_GetArrayItem(W, w)->valuestring, ds.sent[s].words[w]) == 0;
            }
            CHECK(same, "dev.txt: bertc's sentences differ from the fixture's (%d vs %d)", ds.n, n_dev);
            printf("dev.txt: words, tags and labels equal to the generator's reading\n");
        }
        bertc_token_data_free(&ds);
    }
    return 1;
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "%s/bertc_token_data_XXXXXX", test_env_("TMPDIR", "/tmp"));
    REQUIRE(mkdtemp(tmpdir) != NULL, "mkdtemp %s", tmpdir);
    test_conll();
    test_jsonl();
    test_shuffle();
    test_b_to_i();
    cJSON **dev = NULL;
    int n_dev = 0, k = 0;
    char **labels = NULL;
    test_align(&dev, &n_dev, &labels, &k);
    int ran = test_conll2003(dev, n_dev, labels, k);
    for (int i = 0; i < n_dev; i++) cJSON_Delete(dev[i]);
    free(dev);
    for (int i = 0; i < k; i++) free(labels[i]);
    free(labels);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    int rc = TEST_END();
    if (rc == 0 && !ran) return 77; /* everything else passed; CoNLL-2003 was not there */
    return rc;
}
