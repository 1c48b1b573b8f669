/* test_augment.c: EDA (src/augment.h) on hand-checked examples: each operation
 * does what it says (synonym replacement with WordNet synonyms, every occurrence,
 * punctuation and capitals kept; insertion of synonyms; swaps; deletion),
 * protected tokens ([CLS], [SEP], <s>) are never touched, the mix is deterministic
 * per seed and the spec parser checks its keys. Needs Debian's WordNet
 * (wordnet-base); the WordNet-missing error is checked in test_augment.sh. */
#include "../src/augment.h"
#include "../src/data.h"
#include "test.h"

static int split(bertc_words *w, const char *s) {
    bertc_err err = {0};
    return bertc_words_split(w, s, strlen(s), &err);
}

static int has(const bertc_words *w, const char *s) {
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->w[i], s) == 0) return 1;
    return 0;
}

static int is_syn_of(const char *cand, const char *word) {
    bertc_words syn = {0};
    bertc_err err = {0};
    int ok = bertc_wordnet_synonyms(word, &syn, &err) == BERTC_OK && has(&syn, cand);
    bertc_words_free(&syn);
    return ok;
}

static void lower(char *dst, const char *s, size_t cap) {
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++) dst[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    dst[i] = 0;
}

int main(void) {
    bertc_err err = {0};
    if (bertc_wordnet_open(&err) != BERTC_OK) {
        printf("SKIP: %s\n", err.msg);
        return 77;
    }
    bertc_rng r;
    bertc_words w = {0}, syn = {0};

    /* protected tokens */
    CHECK(bertc_aug_protected("[CLS]") && bertc_aug_protected("[SEP]") && bertc_aug_protected("<s>") &&
              bertc_aug_protected("</s>") && bertc_aug_protected("x[MASK].") && bertc_aug_protected("<br"  "/>"),
          "markers are protected");
    CHECK(!bertc_aug_protected("movie") && !bertc_aug_protected("[oops") && !bertc_aug_protected("3<4") &&
              !bertc_aug_protected("a>b"),
          "plain words are not protected");
    CHECK(bertc_aug_protected("<br") && bertc_aug_protected("/><br") && bertc_aug_protected("/>") &&
              bertc_aug_protected("movie.<br") && bertc_aug_protected("<i>great"),
          "pieces of markup cut by whitespace (IMDB's <br /><br />) are protected");

    /* WordNet synonyms, hand-checked against WordNet 3.0 (wn movie -synsn) */
    CHECK(bertc_wordnet_synonyms("movie", &syn, &err) == BERTC_OK, "synonyms: %s", err.msg);
    CHECK(has(&syn, "film") && has(&syn, "picture") && has(&syn, "motion picture") && !has(&syn, "movie"),
          "synonyms of movie: film, picture, motion picture (not movie itself); got %d", syn.n);
    CHECK(bertc_wordnet_synonyms("movies", &syn, &err) == BERTC_OK && has(&syn, "film"),
          "movies: synonyms of the base form movie (morphy)");
    CHECK(bertc_wordnet_synonyms("xqzzy", &syn, &err) == BERTC_OK && syn.n == 0, "no synonyms for a non-word");

    /* SR: one word (the only non-stop word: movie), every occurrence, punctuation
     * and capital kept; stop words untouched */
    bertc_rng_seed(&r, 1);
    split(&w, "[CLS] The Movie, this movie. [SEP]");
    CHECK(bertc_eda_sr(&w, 1, &r, &err) == BERTC_OK, "sr: %s", err.msg);
    CHECK(w.n == 6, "sr keeps the token count, got %d", w.n);
    if (w.n == 6) {
        CHECK(!strcmp(w.w[0], "[CLS]") && !strcmp(w.w[5], "[SEP]") && !strcmp(w.w[1], "The") && !strcmp(w.w[3], "this"),
              "sr touches only the candidate: '%s' '%s' '%s' '%s'", w.w[0], w.w[1], w.w[3], w.w[5]);
        size_t a = strlen(w.w[2]), b = strlen(w.w[4]);
        CHECK(a > 1 && w.w[2][a - 1] == ',' && b > 1 && w.w[4][b - 1] == '.', "sr keeps punctuation: '%s' '%s'",
              w.w[2], w.w[4]);
        CHECK(w.w[2][0] >= 'A' && w.w[2][0] <= 'Z', "sr keeps the capital: '%s'", w.w[2]);
        char c1[64], c2[64];
        lower(c1, w.w[2], sizeof c1);
        lower(c2, w.w[4], sizeof c2);
        c1[strlen(c1) - 1] = 0;
        c2[strlen(c2) - 1] = 0;
        CHECK(!strcmp(c1, c2), "sr replaces every occurrence by the same synonym: '%s' '%s'", c1, c2);
        CHECK(is_syn_of(c1, "movie"), "sr's '%s' is a WordNet synonym of movie", c1);
    }
    /* SR with more replacements than candidates: all candidates replaced, nothing else */
    bertc_rng_seed(&r, 2);
    split(&w, "good movie and the actors");
    CHECK(bertc_eda_sr(&w, 10, &r, &err) == BERTC_OK, "sr: %s", err.msg);
    CHECK(w.n == 5 && !strcmp(w.w[2], "and") && !strcmp(w.w[3], "the") && is_syn_of(w.w[0], "good") &&
              is_syn_of(w.w[1], "movie") && is_syn_of(w.w[4], "actors"),
          "sr n=10: every non-stop word replaced by a synonym");

    /* RI: two synonyms of words of the text inserted, the originals kept in order */
    bertc_rng_seed(&r, 3);
    split(&w, "[CLS] good movie [SEP]");
    CHECK(bertc_eda_ri(&w, 2, &r, &err) == BERTC_OK, "ri: %s", err.msg);
    CHECK(w.n >= 6, "ri inserts two words (multi-word synonyms count as one insertion), got %d tokens", w.n);
    {
        const char *orig[] = {"[CLS]", "good", "movie", "[SEP]"};
        int k = 0, inserted_ok = 1, ins = 0;
        for (int i = 0; i < w.n; i++) {
            if (k < 4 && !strcmp(w.w[i], orig[k])) k++;
            else ins++;
        }
        CHECK(k == 4, "ri keeps the original tokens in order");
        (void)inserted_ok;
        CHECK(ins == w.n - 4, "ri: %d inserted tokens", ins);
    }
    /* RI inserts synonyms: with one-word texts the inserted token is a synonym */
    bertc_rng_seed(&r, 4);
    split(&w, "film");
    CHECK(bertc_eda_ri(&w, 1, &r, &err) == BERTC_OK && w.n >= 2, "ri on one word");
    {
        /* rebuild the inserted (possibly multi-word) synonym: the tokens other than "film" */
        char ins[256] = "";
        int seen_film = 0;
        for (int i = 0; i < w.n; i++) {
            if (!seen_film && !strcmp(w.w[i], "film") && (i == 0 || i == w.n - 1)) {
                seen_film = 1;
                continue;
            }
            if (ins[0]) strcat(ins, " ");
            strncat(ins, w.w[i], sizeof ins - strlen(ins) - 2);
        }
        CHECK(seen_film && is_syn_of(ins, "film"), "ri inserted '%s', a synonym of film", ins);
    }

    /* RS: a permutation of the words; protected tokens stay where they are */
    for (int s = 0; s < 50; s++) {
        bertc_rng_seed(&r, (uint64_t)s);
        split(&w, "[CLS] a b c [SEP] d e");
        bertc_eda_rs(&w, 3, &r);
        int ok = w.n == 7 && !strcmp(w.w[0], "[CLS]") && !strcmp(w.w[4], "[SEP]");
        const char *letters[] = {"a", "b", "c", "d", "e"};
        for (int i = 0; i < 5; i++) ok &= has(&w, letters[i]);
        CHECK(ok, "rs seed %d: a permutation with [CLS]/[SEP] in place", s);
    }
    bertc_rng_seed(&r, 7);
    split(&w, "a b");
    bertc_eda_rs(&w, 1, &r);
    CHECK(w.n == 2 && ((!strcmp(w.w[0], "b") && !strcmp(w.w[1], "a")) || (!strcmp(w.w[0], "a") && !strcmp(w.w[1], "b"))),
          "rs on two words");

    /* RD: p = 1 keeps exactly one word plus the protected ones; p = 0 keeps all;
     * p = 0.5 on 1000 words deletes about half (binomial, 5 sigma = 79) */
    bertc_rng_seed(&r, 5);
    split(&w, "[CLS] a b c d [SEP]");
    bertc_eda_rd(&w, 1.0, &r);
    CHECK(w.n == 3 && !strcmp(w.w[0], "[CLS]") && !strcmp(w.w[2], "[SEP]"), "rd p=1: one word left between the markers");
    split(&w, "a b c d");
    bertc_eda_rd(&w, 0.0, &r);
    CHECK(w.n == 4, "rd p=0 deletes nothing");
    {
        char big[4000];
        size_t at = 0;
        for (int i = 0; i < 1000; i++) at += (size_t)snprintf(big + at, sizeof big - at, "w ");
        split(&w, big);
        bertc_eda_rd(&w, 0.5, &r);
        CHECK(w.n > 500 - 79 && w.n < 500 + 79, "rd p=0.5 keeps about half of 1000: %d", w.n);
    }
    split(&w, "alone");
    bertc_eda_rd(&w, 1.0, &r);
    CHECK(w.n == 1, "rd never deletes a lone word");

    /* the mix: n outputs, deterministic per seed, different for another seed */
    bertc_augment_opts a;
    bertc_augment_opts_default(&a);
    CHECK(a.n == 4 && a.alpha_sr == 0.1 && a.p_rd == 0.1, "EDA defaults: n 4, alpha 0.1");
    a.n = 6;
    const char *text = "[CLS] This movie was a wonderful surprise , the actors were great and the story kept me "
                       "watching until the very end [SEP]";
    char *o1[6], *o2[6], *o3[6];
    size_t l1[6], l2[6], l3[6];
    bertc_rng_seed(&r, 42);
    CHECK(bertc_eda_text(o1, l1, text, strlen(text), &a, &r, &err) == BERTC_OK, "eda: %s", err.msg);
    bertc_rng_seed(&r, 42);
    CHECK(bertc_eda_text(o2, l2, text, strlen(text), &a, &r, &err) == BERTC_OK, "eda: %s", err.msg);
    bertc_rng_seed(&r, 43);
    CHECK(bertc_eda_text(o3, l3, text, strlen(text), &a, &r, &err) == BERTC_OK, "eda: %s", err.msg);
    int same = 1, differ = 0, changed = 0;
    for (int i = 0; i < 6; i++) {
        same &= l1[i] == l2[i] && !strcmp(o1[i], o2[i]);
        differ |= strcmp(o1[i], o3[i]) != 0;
        changed += strcmp(o1[i], text) != 0;
        CHECK(!strncmp(o1[i], "[CLS]", 5) || strstr(o1[i], "[CLS]"), "eda copy %d keeps [CLS]: %s", i, o1[i]);
        CHECK(strstr(o1[i], "[SEP]") != NULL, "eda copy %d keeps [SEP]", i);
        free(o1[i]);
        free(o2[i]);
        free(o3[i]);
    }
    CHECK(same, "eda: the same seed gives the same copies");
    CHECK(differ, "eda: another seed gives other copies");
    CHECK(changed >= 4, "eda: most copies differ from the text (%d of 6)", changed);

    /* the data set: each original, then its n copies, labels kept */
    {
        bertc_dataset ds = {0};
        bertc_data_opts o;
        bertc_data_opts_default(&o);
        const char *path = "/tmp/bertc_test_augment.jsonl";
        FILE *f = fopen(path, "w");
        REQUIRE(f, "cannot write %s", path);
        fputs("{\"text\": \"a truly good movie\", \"label\": \"pos\"}\n{\"text\": \"a bad and boring film\", \"label\": \"neg\"}\n", f);
        fclose(f);
        REQUIRE(bertc_data_load(&ds, path, "train", &o, &err) == BERTC_OK, "load: %s", err.msg);
        bertc_augment_opts_default(&a);
        a.n = 3;
        CHECK(bertc_augment_dataset(&ds, &a, &err) == BERTC_OK, "augment: %s", err.msg);
        CHECK(ds.n == 8, "2 examples x (1 + 3) = 8, got %d", ds.n);
        for (int i = 0; i < ds.n && ds.n == 8; i++)
            CHECK(!strcmp(ds.labels[ds.ex[i].label], i < 4 ? "pos" : "neg"), "example %d keeps its label", i);
        CHECK(ds.n == 8 && !strcmp(ds.ex[0].text, "a truly good movie") && !strcmp(ds.ex[4].text, "a bad and boring film"),
              "originals first, unchanged");
        bertc_data_free(&ds);
        remove(path);
    }

    /* the spec parser */
    bertc_augment_opts_default(&a);
    CHECK(bertc_augment_parse(&a, "eda:alpha=0.2,p_rd=0,n=3,seed=7", &err) == BERTC_OK, "parse: %s", err.msg);
    CHECK(a.alpha_sr == 0.2 && a.alpha_ri == 0.2 && a.alpha_rs == 0.2 && a.p_rd == 0 && a.n == 3 && a.seed == 7,
          "parse: keys apply left to right");
    bertc_augment_opts before = a;
    CHECK(bertc_augment_parse(&a, "eda:alpha=2", &err) == BERTC_ERR_ARG && strstr(err.msg, "alpha"), "alpha=2 rejected");
    CHECK(bertc_augment_parse(&a, "eda:beta=1", &err) == BERTC_ERR_ARG && strstr(err.msg, "beta"), "unknown key named");
    CHECK(bertc_augment_parse(&a, "eda:n=0", &err) == BERTC_ERR_ARG, "n=0 rejected");
    CHECK(bertc_augment_parse(&a, "eda:alpha=0", &err) == BERTC_ERR_ARG, "all rates 0 rejected");
    CHECK(bertc_augment_parse(&a, "backtranslate", &err) == BERTC_ERR_ARG, "unknown method rejected");
    CHECK(!memcmp(&a, &before, sizeof a), "a failed parse leaves the options unchanged");

    bertc_words_free(&w);
    bertc_words_free(&syn);
    return TEST_END();
}
