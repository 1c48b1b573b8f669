/* test_data.c: src/data.c readers, label rules, errors, shuffle/limit and split.
 *
 * Committed inputs: tests/data/datasets/ (hostile CSV quoting, TSV pairs, JSONL,
 * fastText, a tiny aclImdb folder, one file per error). The real IMDB archive is
 * checked against facts that tools/gen_data.py read with Python's tarfile
 * (counts, bytes, CRC-32 of all texts in order, the first bytes of a few reviews). */
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <cjson/cJSON.h>

#include "../src/data.h"
#include "../src/rng.h"
#include <sys/stat.h>

#include "test.h"

static const char *ds_path(const char *name) { return test_data(name); }

static char dpath[4096];
static const char *dsf(const char *name) {
    snprintf(dpath, sizeof dpath, "%s", test_data(name));
    return dpath;
}

static int eq_text(const bertc_example *e, const char *want) {
    return e->len == strlen(want) && memcmp(e->text, want, e->len) == 0 && e->text[e->len] == '\0';
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Loading spec must fail with code, leave ds zeroed, and the message must contain
 * each of the (up to two) strings given. */
static void expect_fail(const char *spec, const bertc_data_opts *o, int code, const char *must1, const char *must2) {
    bertc_err err = {0};
    bertc_dataset ds;
    memset(&ds, 0x5a, sizeof ds);
    int rc = bertc_data_load(&ds, spec, "train", o, &err);
    CHECK(rc == code, "%s: status %d (%s), want %d; message: %s", spec, rc, bertc_status_name(rc), code, err.msg);
    CHECK(ds.n == 0 && ds.ex == NULL && ds.labels == NULL && ds.pool == NULL, "%s: ds not zeroed after failure", spec);
    CHECK(!must1 || strstr(err.msg, must1), "%s: message lacks \"%s\": %s", spec, must1, err.msg);
    CHECK(!must2 || strstr(err.msg, must2), "%s: message lacks \"%s\": %s", spec, must2, err.msg);
    bertc_data_free(&ds);
}

static int load(bertc_dataset *ds, const char *spec, const bertc_data_opts *o) {
    bertc_err err = {0};
    int rc = bertc_data_load(ds, spec, "train", o, &err);
    CHECK(rc == BERTC_OK, "%s: %s", spec, err.msg);
    return rc;
}

static void test_csv(void) {
    bertc_data_opts o;
    bertc_data_opts_default(&o);
    bertc_dataset ds = {0};
    if (load(&ds, ds_path("datasets/hostile.csv"), &o)) return;
    /* The expectations are what Python's csv.DictReader reads from the same file. */
    static const char *text[] = {"plain text", "comma, inside", "she said \"wow\" twice", "two\nlines\r\nthree",
                                 "caf\xc3\xa9 \xe2\x98\x83", ""};
    static const int label[] = {1, 0, 1, 0, 1, 0};
    static const long line[] = {2, 3, 4, 5, 9, 10};
    CHECK(ds.n == 6, "hostile.csv: %d rows, want 6", ds.n);
    CHECK(ds.num_labels == 2 && !strcmp(ds.labels[0], "neg") && !strcmp(ds.labels[1], "pos") && !ds.labels_are_ints,
          "hostile.csv: labels must be neg, pos");
    CHECK(!strcmp(ds.format, "csv") && !ds.has_pair && ds.split[0] == '\0', "hostile.csv: format");
    for (int i = 0; i < ds.n && i < 6; i++) {
        CHECK(eq_text(&ds.ex[i], text[i]), "hostile.csv row %d: text [%s]", i, ds.ex[i].text);
        CHECK(ds.ex[i].label == label[i] && ds.ex[i].line == line[i] && ds.ex[i].pair == NULL &&
                  ds.ex[i].rating == -1 && ds.ex[i].id == -1,
              "hostile.csv row %d: label %d line %ld", i, ds.ex[i].label, ds.ex[i].line);
    }
    bertc_data_free(&ds);

    /* TSV pairs, integer labels in numeric order (1, 2, 10: not byte order). */
    o.text_column = "premise";
    o.text_pair_column = "hypothesis";
    if (load(&ds, ds_path("datasets/pairs.tsv"), &o)) return;
    CHECK(ds.n == 4 && ds.has_pair && ds.labels_are_ints && ds.num_labels == 3 && !strcmp(ds.labels[0], "1") &&
              !strcmp(ds.labels[1], "2") && !strcmp(ds.labels[2], "10"),
          "pairs.tsv: labels must be 1, 2, 10");
    if (ds.n == 4) {
        CHECK(ds.ex[0].label == 2 && ds.ex[1].label == 1 && ds.ex[3].label == 0, "pairs.tsv: label ids");
        CHECK(eq_text(&ds.ex[1], "A \"quoted\"\ttab") && ds.ex[1].pair && !strcmp(ds.ex[1].pair, "Nobody.") &&
                  ds.ex[1].pair_len == 7,
              "pairs.tsv: row 2 [%s] [%s]", ds.ex[1].text, ds.ex[1].pair);
        CHECK(ds.text_bytes > 0, "text_bytes");
    }
    bertc_data_free(&ds);
    /* A pair column that is not there. */
    o.text_pair_column = "nope";
    expect_fail(dsf("datasets/pairs.tsv"), &o, BERTC_ERR_NOTFOUND, "pairs.tsv:1", "\"nope\"");
}

static void test_jsonl_fasttext(void) {
    bertc_data_opts o;
    bertc_data_opts_default(&o);
    bertc_dataset ds = {0};
    if (load(&ds, ds_path("datasets/reviews.jsonl"), &o) == BERTC_OK) {
        CHECK(ds.n == 3 && ds.num_labels == 2 && !strcmp(ds.format, "jsonl"), "reviews.jsonl: %d rows", ds.n);
        if (ds.n == 3) {
            CHECK(eq_text(&ds.ex[0], "good film") && ds.ex[0].label == 1 && ds.ex[0].line == 1, "jsonl row 1");
            CHECK(eq_text(&ds.ex[1], "bad \"film\"\nreally") && ds.ex[1].label == 0 && ds.ex[1].line == 3,
                  "jsonl row 2 [%s]", ds.ex[1].text);
            CHECK(eq_text(&ds.ex[2], "caf\xc3\xa9") && ds.ex[2].line == 4, "jsonl row 3");
        }
        bertc_data_free(&ds);
    }
    /* Integer and string "1" are the same label; the ids are the integers. */
    if (load(&ds, ds_path("datasets/ints.jsonl"), &o) == BERTC_OK) {
        CHECK(ds.n == 3 && ds.labels_are_ints && ds.num_labels == 2 && ds.ex[0].label == 1 && ds.ex[1].label == 0 &&
                  ds.ex[2].label == 1,
              "ints.jsonl: labels");
        bertc_data_free(&ds);
    }
    if (load(&ds, ds_path("datasets/reviews.txt"), &o) == BERTC_OK) {
        CHECK(ds.n == 3 && !strcmp(ds.format, "fasttext"), "reviews.txt: %d rows", ds.n);
        CHECK(ds.num_labels == 2 && !strcmp(ds.labels[0], "neg") && !strcmp(ds.labels[1], "pos"),
              "reviews.txt: only the first label of a line counts");
        if (ds.n == 3) {
            CHECK(eq_text(&ds.ex[0], "great movie") && ds.ex[0].label == 1, "fasttext line 1 [%s]", ds.ex[0].text);
            CHECK(eq_text(&ds.ex[1], "boring   film ") && ds.ex[1].label == 0 && ds.ex[1].line == 2,
                  "fasttext line 2 [%s]", ds.ex[1].text);
            CHECK(eq_text(&ds.ex[2], "") && ds.ex[2].label == 1 && ds.ex[2].line == 4, "fasttext line 4");
        }
        bertc_data_free(&ds);
    }
}

static void test_labels(void) {
    bertc_data_opts o;
    bertc_data_opts_default(&o);
    bertc_dataset ds = {0}, ev = {0};
    bertc_err err = {0};
    /* An explicit list sets the ids. */
    const char *pn[] = {"pos", "neg"};
    o.labels = pn;
    o.num_labels = 2;
    if (load(&ds, ds_path("datasets/hostile.csv"), &o) == BERTC_OK) {
        CHECK(ds.num_labels == 2 && !strcmp(ds.labels[0], "pos") && ds.ex[0].label == 0 && ds.ex[1].label == 1,
              "explicit labels pos,neg: pos must be 0");
        bertc_data_free(&ds);
    }
    /* Integer labels with a list of names: the integer is the id. */
    const char *ny[] = {"no", "yes"};
    o.labels = ny;
    if (load(&ds, ds_path("datasets/ints.jsonl"), &o) == BERTC_OK) {
        CHECK(ds.ex[0].label == 1 && ds.ex[1].label == 0 && !strcmp(ds.labels[1], "yes"), "ints as ids of names");
        bertc_data_free(&ds);
    }
    const char *only[] = {"pos"};
    o.labels = only;
    o.num_labels = 1;
    expect_fail(dsf("datasets/hostile.csv"), &o, BERTC_ERR_NOTFOUND, "hostile.csv:3", "\"neg\"");

    /* Eval onto training labels, at load time and afterwards. */
    bertc_data_opts_default(&o);
    if (load(&ds, ds_path("datasets/hostile.csv"), &o)) return;
    o.labels = (const char *const *)ds.labels;
    o.num_labels = ds.num_labels;
    expect_fail(dsf("datasets/eval_unseen.csv"), &o, BERTC_ERR_NOTFOUND, "eval_unseen.csv:4", "\"neutral\"");
    bertc_data_opts_default(&o);
    if (load(&ev, ds_path("datasets/eval_unseen.csv"), &o) == BERTC_OK) {
        CHECK(ev.num_labels == 3, "eval_unseen.csv: 3 labels of its own");
        int rc = bertc_data_map_labels(&ev, (const char *const *)ds.labels, ds.num_labels, &err);
        CHECK(rc == BERTC_ERR_NOTFOUND && strstr(err.msg, "eval_unseen.csv:4") && strstr(err.msg, "\"neutral\""),
              "map_labels: unseen label must name file:line and label: %s", err.msg);
        CHECK(ev.num_labels == 3, "map_labels failure must leave ds unchanged");
        bertc_data_free(&ev);
    }
    if (load(&ev, ds_path("datasets/reviews.jsonl"), &o) == BERTC_OK) {
        CHECK(bertc_data_map_labels(&ev, pn, 2, &err) == BERTC_OK, "map_labels: %s", err.msg);
        CHECK(ev.ex[0].label == 0 && ev.ex[1].label == 1 && !strcmp(ev.labels[0], "pos"), "map_labels remaps ids");
        bertc_data_free(&ev);
    }
    /* Classes. */
    CHECK(bertc_data_check_classes(&ds, &err) == BERTC_OK, "hostile.csv has two classes: %s", err.msg);
    long counts[2];
    bertc_data_label_counts(&ds, counts);
    CHECK(counts[0] == 3 && counts[1] == 3, "label counts %ld %ld", counts[0], counts[1]);
    bertc_data_free(&ds);
    if (load(&ds, ds_path("datasets/one_class.csv"), &o) == BERTC_OK) {
        int rc = bertc_data_check_classes(&ds, &err);
        CHECK(rc == BERTC_ERR_FORMAT && strstr(err.msg, "one_class.csv") && strstr(err.msg, "\"pos\""),
              "one class: %d %s", rc, err.msg);
        bertc_data_free(&ds);
    }
}

static void test_errors(void) {
    bertc_data_opts o;
    bertc_data_opts_default(&o);
    expect_fail(dsf("datasets/nope.csv"), &o, BERTC_ERR_IO, "nope.csv", NULL);
    expect_fail(dsf("datasets/bad_fields.csv"), &o, BERTC_ERR_FORMAT, "bad_fields.csv:5", "3 fields");
    expect_fail(dsf("datasets/missing_column.csv"), &o, BERTC_ERR_NOTFOUND, "missing_column.csv:1", "\"text\"");
    expect_fail(dsf("datasets/unterminated.csv"), &o, BERTC_ERR_FORMAT, "unterminated.csv:3", "never closed");
    expect_fail(dsf("datasets/bad_quote.csv"), &o, BERTC_ERR_FORMAT, "bad_quote.csv:2", NULL);
    expect_fail(dsf("datasets/header_only.csv"), &o, BERTC_ERR_FORMAT, "header_only.csv", "no examples");
    expect_fail(dsf("datasets/empty.jsonl"), &o, BERTC_ERR_FORMAT, "empty.jsonl", "no examples");
    expect_fail(dsf("datasets/bad.jsonl"), &o, BERTC_ERR_FORMAT, "bad.jsonl:3", "invalid JSON");
    expect_fail(dsf("datasets/no_text.jsonl"), &o, BERTC_ERR_NOTFOUND, "no_text.jsonl:2", "\"text\"");
    expect_fail(dsf("datasets/float_label.jsonl"), &o, BERTC_ERR_FORMAT, "float_label.jsonl:1", "\"label\"");
    expect_fail(dsf("datasets/no_label.txt"), &o, BERTC_ERR_FORMAT, "no_label.txt:2", "__label__");
    expect_fail(dsf("datasets/data.xyz"), &o, BERTC_ERR_UNSUPPORTED, "data.xyz", "format");
    expect_fail(dsf("datasets/hostile.csv:test"), &o, BERTC_ERR_ARG, "hostile.csv", "aclImdb");
    o.format = "xml";
    expect_fail(dsf("datasets/hostile.csv"), &o, BERTC_ERR_UNSUPPORTED, "hostile.csv", "\"xml\"");
    /* The format option overrides the file name. */
    o.format = "csv";
    bertc_dataset ds = {0};
    if (load(&ds, ds_path("datasets/data.xyz"), &o) == BERTC_OK) {
        CHECK(ds.n == 1, "data.xyz as csv");
        bertc_data_free(&ds);
    }

    /* Archives: garbage, and the real one cut short. */
    char dir[] = "/tmp/bertc_test_data_XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp %s failed", dir);
        return;
    }
    char garbage[4200], cut[4200];
    snprintf(garbage, sizeof garbage, "%s/garbage.tar.gz", dir);
    snprintf(cut, sizeof cut, "%s/cut.tar.gz", dir);
    FILE *f = fopen(garbage, "wb");
    if (f) {
        fputs("this is not a gzip file at all\n", f);
        fclose(f);
    }
    expect_fail(garbage, NULL, BERTC_ERR_FORMAT, "garbage.tar.gz", "archive");
    FILE *in = fopen(test_imdb(), "rb"), *out = fopen(cut, "wb");
    if (in && out) {
        static char buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, in);
        fwrite(buf, 1, n, out);
    }
    if (in) fclose(in);
    if (out) fclose(out);
    expect_fail(cut, NULL, BERTC_ERR_FORMAT, "cut.tar.gz", NULL);
    unlink(garbage);
    unlink(cut);
    rmdir(dir);
}

/* A tiny aclImdb folder, written at test time (the dataset itself is only ever
 * read from ../shared): two reviews per label in train, one in test. */
static const struct { const char *path, *text; } mini_imdb[] = {
    {"aclImdb/train/neg/3_1.txt", "Awful."},      {"aclImdb/train/neg/11_4.txt", "Meh<br /><br />no."},
    {"aclImdb/train/pos/2_7.txt", "Nice."},       {"aclImdb/train/pos/10_9.txt", "Loved it."},
    {"aclImdb/test/neg/0_2.txt", "Worst."},       {"aclImdb/test/pos/0_10.txt", "Best."},
};
static const char *mini_dirs[] = {"aclImdb", "aclImdb/train", "aclImdb/train/neg", "aclImdb/train/pos",
                                  "aclImdb/test", "aclImdb/test/neg", "aclImdb/test/pos"};
#define N_MINI_DIRS (int)(sizeof mini_dirs / sizeof *mini_dirs)
#define N_MINI (int)(sizeof mini_imdb / sizeof *mini_imdb)

static void test_imdb_dir(void) {
    char root[] = "/tmp/bertc_test_imdb_XXXXXX", p[4200];
    if (!mkdtemp(root)) {
        CHECK(0, "mkdtemp %s failed", root);
        return;
    }
    for (int i = 0; i < N_MINI_DIRS; i++) {
        snprintf(p, sizeof p, "%s/%s", root, mini_dirs[i]);
        CHECK(mkdir(p, 0755) == 0, "mkdir %s", p);
    }
    for (int i = 0; i < N_MINI; i++) {
        snprintf(p, sizeof p, "%s/%s", root, mini_imdb[i].path);
        FILE *f = fopen(p, "wb");
        CHECK(f != NULL, "create %s", p);
        if (f) {
            fputs(mini_imdb[i].text, f); /* no trailing newline, as the dataset */
            fclose(f);
        }
    }
    bertc_dataset ds = {0};
    char spec[4300];
    snprintf(spec, sizeof spec, "%s", root);
    if (load(&ds, spec, NULL) == BERTC_OK) {
        /* neg before pos, then numeric ids: 3 < 11 and 2 < 10. */
        static const long ids[] = {3, 11, 2, 10};
        static const int ratings[] = {1, 4, 7, 9};
        CHECK(ds.n == 4 && !strcmp(ds.split, "train") && !strcmp(ds.format, "imdb"), "mini train: %d", ds.n);
        for (int i = 0; i < ds.n && i < 4; i++)
            CHECK(ds.ex[i].id == ids[i] && ds.ex[i].rating == ratings[i] && ds.ex[i].label == (i >= 2),
                  "mini train %d: id %ld rating %d", i, ds.ex[i].id, ds.ex[i].rating);
        if (ds.n == 4) CHECK(eq_text(&ds.ex[1], "Meh<br /><br />no."), "mini text keeps <br />");
        bertc_data_free(&ds);
    }
    snprintf(spec, sizeof spec, "%s:test", root);
    if (load(&ds, spec, NULL) == BERTC_OK) {
        CHECK(ds.n == 2 && !strcmp(ds.split, "test") && eq_text(&ds.ex[0], "Worst."), "mini test");
        bertc_data_free(&ds);
    }
    /* The split folder itself; a different :SPLIT on it is an error. */
    snprintf(spec, sizeof spec, "%s/aclImdb/test", root);
    if (load(&ds, spec, NULL) == BERTC_OK) {
        CHECK(ds.n == 2, "mini test folder");
        bertc_data_free(&ds);
    }
    snprintf(spec, sizeof spec, "%s/aclImdb/test:train", root);
    expect_fail(spec, NULL, BERTC_ERR_ARG, "aclImdb/test", "split folder");
    snprintf(spec, sizeof spec, "%s", ds_path("datasets"));
    expect_fail(spec, NULL, BERTC_ERR_FORMAT, "datasets", "aclImdb");
    for (int i = 0; i < N_MINI; i++) {
        snprintf(p, sizeof p, "%s/%s", root, mini_imdb[i].path);
        unlink(p);
    }
    for (int i = N_MINI_DIRS - 1; i >= 0; i--) {
        snprintf(p, sizeof p, "%s/%s", root, mini_dirs[i]);
        rmdir(p);
    }
    rmdir(root);
}

static void same_rows(const bertc_dataset *a, const bertc_dataset *b, int *same, int *identical) {
    *same = a->n == b->n;
    *identical = *same;
    for (int i = 0; *same && i < a->n; i++)
        if (a->ex[i].len != b->ex[i].len || memcmp(a->ex[i].text, b->ex[i].text, a->ex[i].len) ||
            a->ex[i].label != b->ex[i].label)
            *identical = 0;
}

static void test_shuffle_split(const bertc_dataset *imdb) {
    bertc_err err = {0};
    bertc_dataset a = {0}, b = {0}, tr = {0}, ev = {0};
    bertc_data_opts o;
    bertc_data_opts_default(&o);
    /* Same seed, same rows; the rows are exactly the documented definition. */
    if (load(&a, ds_path("datasets/hostile.csv"), &o) || load(&b, ds_path("datasets/hostile.csv"), &o)) return;
    /* The permutations below were computed independently of bertc: a Python
     * transcription of the published algorithms (splitmix64 seeding,
     * xoshiro256** "rotl(s1 * 5, 7) * 9", rejection sampling below
     * UINT64_MAX - UINT64_MAX % n, Fisher-Yates from the top) printed
     * shuffle(42, 6) = [3, 5, 4, 1, 2, 0], shuffle(7, 6) = [3, 5, 1, 2, 4, 0] and
     * shuffle(42, 20) as perm20 below. */
    static const int perm[6] = {3, 5, 4, 1, 2, 0}, perm7[6] = {3, 5, 1, 2, 4, 0};
    static const int perm20[20] = {13, 3, 8, 7, 12, 1, 5, 6, 17, 14, 16, 18, 0, 19, 9, 4, 15, 11, 10, 2};
    {
        int p[20];
        for (int i = 0; i < 20; i++) p[i] = i;
        bertc_rng r;
        bertc_rng_seed(&r, 42);
        bertc_rng_shuffle(&r, p, 20);
        CHECK(memcmp(p, perm20, sizeof p) == 0, "bertc_rng_shuffle(seed 42, 20) differs from the independent one");
    }
    long line0[6];
    for (int i = 0; i < 6; i++) line0[i] = a.ex[i].line;
    CHECK(bertc_data_shuffle_limit(&a, 42, 4, &err) == BERTC_OK, "shuffle: %s", err.msg);
    CHECK(bertc_data_shuffle_limit(&b, 42, 4, &err) == BERTC_OK, "shuffle: %s", err.msg);
    int same, ident;
    same_rows(&a, &b, &same, &ident);
    CHECK(a.n == 4 && ident, "same seed must give the same rows");
    for (int i = 0; i < a.n; i++)
        CHECK(a.ex[i].line == line0[perm[i]], "row %d is line %ld, definition says %ld", i, a.ex[i].line, line0[perm[i]]);
    bertc_data_free(&a);
    bertc_data_free(&b);
    /* limit > n keeps all n, as the permutation for seed 7. */
    if (load(&a, ds_path("datasets/hostile.csv"), &o) == BERTC_OK) {
        CHECK(bertc_data_shuffle_limit(&a, 7, 1000, &err) == BERTC_OK && a.n == 6, "limit > n");
        for (int i = 0; i < a.n; i++)
            CHECK(a.ex[i].line == line0[perm7[i]], "seed 7: row %d is line %ld, want %ld", i, a.ex[i].line,
                  line0[perm7[i]]);
        long seen = 0;
        for (int i = 0; i < a.n; i++) seen |= 1L << a.ex[i].line;
        CHECK(seen == ((1L << 2) | (1L << 3) | (1L << 4) | (1L << 5) | (1L << 9) | (1L << 10)),
              "limit > n must keep every row once");
        bertc_data_free(&a);
    }
    bertc_data_free(&a);

    /* Splits on the small file: n_eval = ceil(fraction * n). */
    if (load(&a, ds_path("datasets/hostile.csv"), &o) == BERTC_OK) {
        CHECK(bertc_data_split(&a, 0.34, 1, &tr, &ev, &err) == BERTC_OK, "split: %s", err.msg);
        CHECK(ev.n == 3 && tr.n == 3 && a.n == 6 && tr.num_labels == 2, "split 0.34 of 6: eval %d train %d", ev.n, tr.n);
        long seen = 0;
        for (int i = 0; i < ev.n; i++) seen |= 1L << ev.ex[i].line;
        for (int i = 0; i < tr.n; i++) {
            CHECK(!(seen & (1L << tr.ex[i].line)), "split: a row in both halves");
            seen |= 1L << tr.ex[i].line;
        }
        CHECK(__builtin_popcountl((unsigned long)seen) == 6, "split must cover every row");
        bertc_data_free(&tr);
        bertc_data_free(&ev);
        CHECK(bertc_data_split(&a, 0.99, 1, &tr, &ev, &err) == BERTC_ERR_ARG && tr.n == 0 && ev.n == 0,
              "0.99 of 6 leaves no training rows: must fail");
        CHECK(bertc_data_split(&a, 0, 1, &tr, &ev, &err) == BERTC_ERR_ARG, "fraction 0 must fail");
        CHECK(bertc_data_split(&a, 1, 1, &tr, &ev, &err) == BERTC_ERR_ARG, "fraction 1 must fail");
        bertc_data_free(&a);
    }

    if (!imdb || imdb->n == 0) return;
    /* Different seeds, different rows (on the IMDB training set). */
    bertc_dataset c = {0}, d = {0};
    CHECK(bertc_data_split(imdb, 0.1, 42, &tr, &ev, &err) == BERTC_OK, "imdb split: %s", err.msg);
    CHECK(ev.n == 2500 && tr.n == 22500, "imdb split 0.1: eval %d train %d", ev.n, tr.n);
    CHECK(bertc_data_split(imdb, 0.1, 42, &c, &d, &err) == BERTC_OK, "imdb split: %s", err.msg);
    same_rows(&ev, &d, &same, &ident);
    CHECK(ident, "same seed, same validation rows");
    bertc_data_free(&c);
    bertc_data_free(&d);
    CHECK(bertc_data_split(imdb, 0.1, 43, &c, &d, &err) == BERTC_OK, "imdb split: %s", err.msg);
    same_rows(&ev, &d, &same, &ident);
    CHECK(same && !ident, "a different seed must give different rows");
    bertc_data_free(&c);
    bertc_data_free(&d);
    bertc_data_free(&ev);
    /* Shuffle tr to 10 rows, then 0.7 of 10 is 7, not 8. */
    CHECK(bertc_data_shuffle_limit(&tr, 42, 10, &err) == BERTC_OK && tr.n == 10, "limit 10");
    CHECK(bertc_data_split(&tr, 0.7, 3, &c, &d, &err) == BERTC_OK && d.n == 7 && c.n == 3, "0.7 of 10: eval %d", d.n);
    bertc_data_free(&c);
    bertc_data_free(&d);
    bertc_data_free(&tr);
}

/* The real archive against tools/gen_data.py's facts. */
static void check_split(const bertc_dataset *ds, const cJSON *f, const char *split) {
    CHECK(ds->n == (int)cJSON_GetObjectItem(f, "n")->valuedouble, "%s: %d reviews", split, ds->n);
    CHECK(ds->num_labels == 2 && !strcmp(ds->labels[0], "neg") && !strcmp(ds->labels[1], "pos"),
          "%s: labels neg, pos", split);
    long counts[2] = {0, 0};
    if (ds->num_labels == 2) bertc_data_label_counts(ds, counts);
    const cJSON *pl = cJSON_GetObjectItem(f, "per_label");
    CHECK(counts[0] == (long)cJSON_GetArrayItem(pl, 0)->valuedouble &&
              counts[1] == (long)cJSON_GetArrayItem(pl, 1)->valuedouble,
          "%s: per label %ld %ld", split, counts[0], counts[1]);
    uLong crc = crc32(0L, Z_NULL, 0);
    size_t bytes = 0;
    for (int i = 0; i < ds->n; i++) {
        crc = crc32(crc, (const Bytef *)ds->ex[i].text, (uInt)ds->ex[i].len);
        bytes += ds->ex[i].len;
    }
    CHECK(bytes == (size_t)cJSON_GetObjectItem(f, "bytes")->valuedouble && bytes == ds->text_bytes,
          "%s: %zu bytes of text", split, bytes);
    CHECK(crc == (uLong)cJSON_GetObjectItem(f, "crc32")->valuedouble,
          "%s: CRC-32 of the texts in order differs from Python's tarfile", split);
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(f, "examples")) {
        int i = (int)cJSON_GetObjectItem(e, "index")->valuedouble;
        if (i < 0 || i >= ds->n) {
            CHECK(0, "%s: index %d", split, i);
            continue;
        }
        const bertc_example *x = &ds->ex[i];
        CHECK(x->label == (int)cJSON_GetObjectItem(e, "label")->valuedouble &&
                  x->id == (long)cJSON_GetObjectItem(e, "id")->valuedouble &&
                  x->rating == (int)cJSON_GetObjectItem(e, "rating")->valuedouble &&
                  x->len == (size_t)cJSON_GetObjectItem(e, "len")->valuedouble,
              "%s[%d]: label %d id %ld rating %d len %zu", split, i, x->label, x->id, x->rating, x->len);
        const char *hex = cJSON_GetObjectItem(e, "head_hex")->valuestring;
        char got[256] = {0};
        for (size_t k = 0; k < x->len && k < 100; k++) snprintf(got + 2 * k, 3, "%02x", (unsigned char)x->text[k]);
        CHECK(strcmp(got, hex) == 0, "%s[%d]: first bytes differ: %.40s", split, i, x->text);
    }
}

int main(void) {
    bertc_data_free(NULL);
    bertc_dataset z = {0};
    bertc_data_free(&z);

    test_csv();
    test_jsonl_fasttext();
    test_labels();
    test_errors();
    test_imdb_dir();

    bertc_err err = {0};
    char *text = NULL;
    REQUIRE(bertc_read_file(test_fixture("data/imdb.json"), 1 << 20, &text, NULL, &err) == BERTC_OK,
            "%s (run make fixtures)", err.msg);
    cJSON *facts = cJSON_Parse(text);
    free(text);
    REQUIRE(facts != NULL, "data/imdb.json: invalid JSON");

    bertc_dataset train = {0}, test = {0};
    double t0 = now_s();
    int rc = bertc_data_load(&train, test_imdb(), "train", NULL, &err);
    double t1 = now_s();
    CHECK(rc == BERTC_OK, "%s", err.msg);
    if (rc == BERTC_OK) {
        printf("IMDB train split: %d reviews, %.1f MB of text, loaded in %.3f s\n", train.n, train.text_bytes / 1e6,
               t1 - t0);
        check_split(&train, cJSON_GetObjectItem(facts, "train"), "train");
        /* Well under a couple of seconds (not enforced under the sanitizers). */
        if (!getenv("BERTC_SANITIZED")) CHECK(t1 - t0 < 3.0, "IMDB train load took %.2f s", t1 - t0);
    }
    char spec[4200];
    snprintf(spec, sizeof spec, "%s:test", test_imdb());
    rc = bertc_data_load(&test, spec, "train", NULL, &err);
    CHECK(rc == BERTC_OK, "%s", err.msg);
    if (rc == BERTC_OK) {
        CHECK(!strcmp(test.split, "test"), "split name");
        check_split(&test, cJSON_GetObjectItem(facts, "test"), "test");
    }
    bertc_data_free(&test);
    test_shuffle_split(&train);
    bertc_data_free(&train);
    bertc_data_free(&train);
    cJSON_Delete(facts);
    return TEST_END();
}
