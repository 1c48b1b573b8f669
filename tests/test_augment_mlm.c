/* test_augment_mlm.c: contextual word substitution (src/augment_mlm.c).
 * - The masked-LM head's scores equal transformers' BertForMaskedLM /
 *   DistilBertForMaskedLM logits at every [MASK] (tools/gen_mlm.py: tied
 *   decoder, DistilBERT's names, an untied decoder of its own).
 * - Substitution: the same seed gives the same copies, another seed others;
 *   the word count is kept, only eligible words change (not stop words, not
 *   [CLS]/[SEP]/<br />), at most n_sub of them per copy, punctuation and capitals
 *   kept; a long text cut into windows of 16 pieces works the same way.
 * - A folder without a masked-LM head: "not available", BERTC_ERR_ARG.
 * - The spec parser: contextual keys, and keys of the other method refused. */
#include "../src/augment.h"
#include "npy.h"
#include "test.h"

static int split(bertc_words *w, const char *s) {
    bertc_err err = {0};
    return bertc_words_split(w, s, strlen(s), &err);
}

/* Checks one copy against its original: same word count; a changed word is an
 * eligible one (letters in its core, not a stop word, not protected), keeps its
 * punctuation and capital; returns the number of changed words (-1: a breach). */
static int changed_words(const char *orig, const char *copy) {
    bertc_words a = {0}, b = {0};
    split(&a, orig);
    split(&b, copy);
    int changed = 0;
    if (a.n != b.n) changed = -1;
    for (int i = 0; changed >= 0 && i < a.n; i++) {
        if (strcmp(a.w[i], b.w[i]) == 0) continue;
        size_t ab, ae, bb, be;
        char la[200], lb[200];
        if (bertc_aug_protected(a.w[i]) || !bertc_aug_word_core(a.w[i], &ab, &ae, la, sizeof la) || bertc_aug_is_stop(la) ||
            !bertc_aug_word_core(b.w[i], &bb, &be, lb, sizeof lb) || ab != bb ||
            strcmp(a.w[i] + ae, b.w[i] + be) != 0 || (a.w[i][ab] >= 'A' && a.w[i][ab] <= 'Z') != (b.w[i][bb] >= 'A' && b.w[i][bb] <= 'Z')) {
            fprintf(stderr, "  breach: '%s' -> '%s'\n", a.w[i], b.w[i]);
            changed = -1;
        } else
            changed++;
    }
    bertc_words_free(&a);
    bertc_words_free(&b);
    return changed;
}

static void parity(const char *fx, const char *c) {
    char dir[512], p[600];
    snprintf(dir, sizeof dir, "%s/mlm/%s", fx, c);
    bertc_err err = {0};
    bertc_mlm *m = NULL;
    CHECK(bertc_mlm_open(&m, dir, 64, &err) == BERTC_OK, "%s: open: %s", c, err.msg);
    if (!m) return;
    npy ids = {0}, mask = {0}, rows = {0}, ref = {0};
    snprintf(p, sizeof p, "%s/ref/input_ids.npy", dir);
    int bad = npy_load(&ids, p, 'i');
    snprintf(p, sizeof p, "%s/ref/attention_mask.npy", dir);
    bad |= npy_load(&mask, p, 'i');
    snprintf(p, sizeof p, "%s/ref/rows.npy", dir);
    bad |= npy_load(&rows, p, 'i');
    snprintf(p, sizeof p, "%s/ref/logits.npy", dir);
    bad |= npy_load(&ref, p, 'f');
    CHECK(!bad, "%s: reference files", c);
    if (!bad) {
        int B = (int)ids.shape[0], T = (int)ids.shape[1], N = (int)rows.n, V = bertc_mlm_vocab_size(m);
        CHECK(V == ref.shape[1], "%s: vocabulary %d vs the reference's %ld", c, V, ref.shape[1]);
        float *lg = malloc((size_t)N * V * sizeof *lg);
        CHECK(bertc_mlm_logits(m, ids.i, mask.i, B, T, rows.i, N, lg, &err) == BERTC_OK, "%s: logits: %s", c, err.msg);
        size_t where = 0;
        float d = test_max_abs_diff(lg, ref.f, (size_t)N * V, &where);
        CHECK(d < 2e-4f, "%s: masked-LM scores differ from transformers' by %g (row %zu, id %zu)", c, d, where / V, where % V);
        int same = 1;
        for (int q = 0; q < N; q++) {
            int a = 0, b = 0;
            for (int v = 1; v < V; v++) {
                if (lg[(size_t)q * V + v] > lg[(size_t)q * V + a]) a = v;
                if (ref.f[(size_t)q * V + v] > ref.f[(size_t)q * V + b]) b = v;
            }
            same &= a == b;
        }
        CHECK(same, "%s: the best prediction differs from transformers' at some [MASK]", c);
        printf("%s: %d [MASK]s x %d entries, max |diff| %.3g vs transformers\n", c, N, V, d);
        int bad_rows[1] = {B * T};
        CHECK(bertc_mlm_logits(m, ids.i, mask.i, B, T, bad_rows, 1, lg, &err) == BERTC_ERR_ARG, "%s: a row outside the batch is refused", c);
        free(lg);
    }
    npy_free(&ids);
    npy_free(&mask);
    npy_free(&rows);
    npy_free(&ref);
    bertc_mlm_free(m);
}

static int augment(bertc_mlm *m, const char *text, bertc_augment_opts *a, uint64_t seed, char **out, size_t *len) {
    bertc_rng r;
    bertc_rng_seed(&r, seed);
    bertc_err err = {0};
    int rc = bertc_contextual_text(out, len, text, strlen(text), a, m, &r, &err);
    if (rc) fprintf(stderr, "  contextual: %s\n", err.msg);
    return rc;
}

int main(void) {
    const char *F = test_env_("BERTC_FIXTURES", "build/fixtures");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/mlm/bert/model.safetensors", F);
    FILE *probe = fopen(dir, "rb");
    REQUIRE(probe, "fixture %s (tools/gen_mlm.py) missing", dir);
    fclose(probe);

    parity(F, "bert");
    parity(F, "distil");
    parity(F, "untied");

    /* substitution */
    bertc_err err = {0};
    bertc_mlm *m = NULL;
    snprintf(dir, sizeof dir, "%s/mlm/bert", F);
    REQUIRE(bertc_mlm_open(&m, dir, 64, &err) == BERTC_OK, "open: %s", err.msg);
    bertc_augment_opts a;
    bertc_augment_opts_default(&a);
    CHECK(bertc_augment_parse(&a, "contextual:alpha=0.3,n=6,top_k=5", &err) == BERTC_OK, "parse: %s", err.msg);
    const char *text = "[CLS] The movie was good, truly Great acting! <br /><br /> The story and the ending were sad. [SEP]";
    char *o1[6], *o2[6], *o3[6];
    size_t l1[6], l2[6], l3[6];
    REQUIRE(augment(m, text, &a, 7, o1, l1) == BERTC_OK && augment(m, text, &a, 7, o2, l2) == BERTC_OK &&
                augment(m, text, &a, 8, o3, l3) == BERTC_OK,
            "contextual_text");
    int same = 1, differ = 0, any = 0, ok = 1;
    /* 16 unprotected words x 0.3 -> n_sub 4 */
    for (int i = 0; i < 6; i++) {
        same &= l1[i] == l2[i] && strcmp(o1[i], o2[i]) == 0;
        differ |= strcmp(o1[i], o3[i]) != 0;
        int c = changed_words(text, o1[i]);
        ok &= c >= 0 && c <= 4;
        any |= c > 0;
        CHECK(strstr(o1[i], "[CLS]") == o1[i] && strstr(o1[i], "[SEP]") && strstr(o1[i], "<br /><br />"),
              "protected tokens kept: %s", o1[i]);
    }
    CHECK(same, "the same seed gives the same copies");
    CHECK(differ, "seeds 7 and 8 give different copies");
    CHECK(ok, "only eligible words change, at most n_sub = 4 per copy, punctuation and capitals kept");
    CHECK(any, "some copy changed");
    printf("seed 7, copy 0: %s\n", o1[0]);
    for (int i = 0; i < 6; i++) free(o1[i]), free(o2[i]), free(o3[i]);

    /* a long text in windows of 16 pieces (14 between [CLS] and [SEP]) */
    bertc_mlm_free(m);
    m = NULL;
    REQUIRE(bertc_mlm_open(&m, dir, 16, &err) == BERTC_OK, "open (16): %s", err.msg);
    char longtext[4096] = "";
    const char *words[] = {"great", "movie", "with", "a", "sad", "story,", "bad", "Acting", "and", "wonderful", "music."};
    for (int i = 0; i < 120; i++) {
        strcat(longtext, words[i % 11]);
        strcat(longtext, " ");
    }
    CHECK(bertc_augment_parse(&a, "contextual:alpha=0.2,n=3", &err) == BERTC_OK, "parse");
    char *lo[3], *lo2[3];
    size_t ll[3], ll2[3];
    REQUIRE(augment(m, longtext, &a, 3, lo, ll) == BERTC_OK && augment(m, longtext, &a, 3, lo2, ll2) == BERTC_OK, "long text");
    same = 1, ok = 1;
    int total = 0;
    for (int i = 0; i < 3; i++) {
        same &= strcmp(lo[i], lo2[i]) == 0;
        int c = changed_words(longtext, lo[i]);
        ok &= c >= 0 && c <= 24;
        total += c;
        free(lo[i]), free(lo2[i]);
    }
    CHECK(same && ok, "long text: deterministic, eligible words only, at most 24 per copy");
    CHECK(total >= 30, "long text: words in every window get replaced (%d of at most 72)", total);
    bertc_mlm_free(m);

    /* no head: not available */
    m = NULL;
    snprintf(dir, sizeof dir, "%s/train/tiny", F);
    CHECK(bertc_mlm_open(&m, dir, 64, &err) == BERTC_ERR_ARG && strstr(err.msg, "not available") && !m,
          "a folder without a masked-LM head: %s", err.msg);
    int has = 1;
    CHECK(bertc_augment_has_mlm_head(dir, &has, &err) == BERTC_OK && !has, "has_mlm_head: no");
    snprintf(dir, sizeof dir, "%s/mlm/distil", F);
    CHECK(bertc_augment_has_mlm_head(dir, &has, &err) == BERTC_OK && has, "has_mlm_head: DistilBERT's names");

    /* parser */
    bertc_augment_opts_default(&a);
    CHECK(bertc_augment_parse(&a, "contextual:model=/x/y,temperature=0.5,max_length=256", &err) == BERTC_OK &&
              a.method == BERTC_AUG_CONTEXTUAL && strcmp(a.model, "/x/y") == 0 && a.temperature == 0.5 && a.max_length == 256,
          "contextual keys");
    CHECK(bertc_augment_parse(&a, "contextual:p_rd=0.1", &err) == BERTC_ERR_ARG && strstr(err.msg, "p_rd"),
          "an EDA key for contextual is refused: %s", err.msg);
    CHECK(bertc_augment_parse(&a, "eda:top_k=3", &err) == BERTC_ERR_ARG && strstr(err.msg, "top_k"),
          "a contextual key for EDA is refused: %s", err.msg);
    CHECK(bertc_augment_parse(&a, "contextual:top_k=0", &err) == BERTC_ERR_ARG, "top_k 0 is refused");
    return TEST_END();
}
