/* test_token_metrics.c: entity-level scores (src/tasks/token_metrics.h)
 * against seqeval 1.2.2, from the fixtures of tools/gen_token.py:
 *  - 400 seeded random cases over five label sets (IOB2, IOBES, odd names such
 *    as "PER", ".", "B", "U-ORG", non-ASCII types), with invalid sequences,
 *    empty sentences, all-O, words cut off (pred -1 = "O") and zero division;
 *  - hand cases (seqeval's docstring example, gold only, predictions only,
 *    I- after O);
 *  - CoNLL-2003 test.txt with a corrupted copy as predictions (its gold ids are
 *    also checked against bertc's own reading of the file when it exists).
 * Every per-type and averaged precision/recall/F1 must be bit-equal to seqeval's
 * float64 result (no tolerance: the summation order is numpy's), supports and
 * accuracy equal, and classification_report's text equal byte for byte.
 * Where seqeval raises (no entity type: report; no token: accuracy) bertc's
 * documented fallbacks are checked instead.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tasks/token_data.h"
#include "tasks/token_metrics.h"
#include "test.h"

static int num_eq(const cJSON *x, double v) { return cJSON_IsNumber(x) && x->valuedouble == v; }

static int32_t **id_lists(const cJSON *a, int **lens, int *n) {
    *n = cJSON_GetArraySize(a);
    int32_t **out = calloc((size_t)*n + 1, sizeof *out);
    *lens = calloc((size_t)*n + 1, sizeof **lens);
    int s = 0;
    for (const cJSON *row = a->child; row; row = row->next, s++) {
        int L = cJSON_GetArraySize(row);
        (*lens)[s] = L;
        out[s] = calloc((size_t)L + 1, sizeof **out);
        int w = 0;
        for (const cJSON *x = row->child; x; x = x->next, w++) out[s][w] = (int32_t)x->valuedouble;
    }
    return out;
}

static void free_lists(int32_t **a, int n) {
    for (int i = 0; i < n; i++) free(a[i]);
    free(a);
}

/* Compares one averaged row [p, r, f, support] (or null where seqeval gives nan). */
static int avg_eq(const cJSON *want, const bertc_token_prf *got) {
    if (cJSON_IsNull(want)) return got->precision == 0 && got->recall == 0 && got->f1 == 0; /* documented fallback */
    return num_eq(cJSON_GetArrayItem(want, 0), got->precision) && num_eq(cJSON_GetArrayItem(want, 1), got->recall) &&
           num_eq(cJSON_GetArrayItem(want, 2), got->f1) && num_eq(cJSON_GetArrayItem(want, 3), (double)got->support);
}

static int conll_cross_check(const cJSON *o, int32_t **gold, const int *lens, int n, char **labels, int k) {
    const cJSON *file = cJSON_GetObjectItem(o, "file");
    if (!cJSON_IsString(file) || !bertc_is_file(file->valuestring)) return 0;
    bertc_err err = {0};
    bertc_token_dataset ds = {0};
    int rc = bertc_token_data_load(&ds, file->valuestring, "conll", NULL, 0, &err);
    CHECK(rc == BERTC_OK, "%s", err.msg);
    int same = rc == BERTC_OK && ds.n == n && ds.num_labels == k;
    for (int l = 0; same && l < k; l++) same = strcmp(ds.labels[l], labels[l]) == 0;
    for (int s = 0; same && s < n; s++) {
        same = ds.sent[s].n == lens[s];
        for (int w = 0; same && w < lens[s]; w++) same = ds.sent[s].tags[w] == gold[s][w];
    }
    CHECK(same, "%s: bertc's gold tags differ from the fixture's", file->valuestring);
    bertc_token_data_free(&ds);
    return 1;
}

static void run_case(const cJSON *o, int *cases, int *reports, int *conll) {
    const char *name = cJSON_GetObjectItem(o, "name")->valuestring;
    const cJSON *L = cJSON_GetObjectItem(o, "labels");
    int k = cJSON_GetArraySize(L);
    char **labels = calloc((size_t)k, sizeof *labels);
    for (int i = 0; i < k; i++) labels[i] = cJSON_GetArrayItem(L, i)->valuestring;
    int *lg, *lp, ng, np;
    int32_t **gold = id_lists(cJSON_GetObjectItem(o, "gold"), &lg, &ng);
    int32_t **pred = id_lists(cJSON_GetObjectItem(o, "pred"), &lp, &np);
    bertc_token_scores sc = {0};
    bertc_err err = {0};
    int rc = bertc_token_metrics(&sc, (const int32_t *const *)gold, (const int32_t *const *)pred, lg, ng,
                                 (const char *const *)labels, k, &err);
    CHECK(rc == BERTC_OK, "%s: %s", name, err.msg);
    const cJSON *types = cJSON_GetObjectItem(o, "types");
    int nt = cJSON_GetArraySize(types), ok = rc == BERTC_OK && sc.num_types == nt;
    long sum_support = 0;
    for (int i = 0; ok && i < nt; i++) {
        const bertc_token_type_score *t = &sc.types[i];
        ok = strcmp(t->name, cJSON_GetArrayItem(types, i)->valuestring) == 0 &&
             num_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "p"), i), t->s.precision) &&
             num_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "r"), i), t->s.recall) &&
             num_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "f"), i), t->s.f1) &&
             num_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "support"), i), (double)t->s.support);
        if (!ok)
            fprintf(stderr, "  %s type %s: p %.17g r %.17g f %.17g support %ld\n", name, t->name, t->s.precision,
                    t->s.recall, t->s.f1, t->s.support);
        sum_support += t->s.support;
    }
    CHECK(ok, "%s: per-type scores differ from seqeval (%d types, want %d)", name, sc.num_types, nt);
    CHECK(avg_eq(cJSON_GetObjectItem(o, "micro"), &sc.micro), "%s: micro avg %.17g %.17g %.17g", name,
          sc.micro.precision, sc.micro.recall, sc.micro.f1);
    CHECK(avg_eq(cJSON_GetObjectItem(o, "macro"), &sc.macro), "%s: macro avg %.17g %.17g %.17g", name,
          sc.macro.precision, sc.macro.recall, sc.macro.f1);
    CHECK(avg_eq(cJSON_GetObjectItem(o, "weighted"), &sc.weighted), "%s: weighted avg %.17g %.17g %.17g", name,
          sc.weighted.precision, sc.weighted.recall, sc.weighted.f1);
    CHECK(sc.precision == sc.micro.precision && sc.recall == sc.micro.recall && sc.f1 == sc.micro.f1,
          "%s: overall != micro", name);
    CHECK(sc.micro.support == sum_support, "%s: micro support", name);
    const cJSON *acc = cJSON_GetObjectItem(o, "accuracy");
    if (cJSON_IsNull(acc)) CHECK(sc.tokens == 0 && sc.accuracy == 0, "%s: no tokens -> accuracy 0", name);
    else CHECK(num_eq(acc, sc.accuracy), "%s: accuracy %.17g, want %.17g", name, sc.accuracy, acc->valuedouble);
    int no_pred = 0, no_gold = 0;
    for (int i = 0; i < sc.num_types; i++) {
        no_pred += sc.types[i].predicted == 0;
        no_gold += sc.types[i].s.support == 0;
    }
    CHECK(no_pred == sc.types_no_pred && no_gold == sc.types_no_gold, "%s: ill-defined counts", name);

    int digits = cJSON_GetObjectItem(o, "digits")->valueint;
    char *text = NULL;
    rc = bertc_token_report(&text, &sc, digits, &err);
    CHECK(rc == BERTC_OK && text, "%s: report: %s", name, err.msg);
    const cJSON *want = cJSON_GetObjectItem(o, "report");
    if (cJSON_IsString(want) && text) {
        int same = strcmp(text, want->valuestring) == 0;
        CHECK(same, "%s: classification_report differs:\n--- bertc\n%s--- seqeval\n%s", name, text, want->valuestring);
        (*reports)++;
        if (strncmp(name, "conll", 5) == 0 || strcmp(name, "docstring") == 0) printf("%s (digits %d):\n%s", name, digits, text);
    } else if (text) {
        CHECK(sc.num_types == 0 && strstr(text, "weighted avg"), "%s: report without types", name);
    }
    free(text);
    if (cJSON_GetObjectItem(o, "file")) {
        *conll += conll_cross_check(o, gold, lg, ng, labels, k);
        printf("%s: f1 %.4f precision %.4f recall %.4f accuracy %.4f over %ld words\n", name, sc.f1, sc.precision,
               sc.recall, sc.accuracy, sc.tokens);
    }
    bertc_token_scores_free(&sc);
    bertc_token_scores_free(&sc);
    free_lists(gold, ng);
    free_lists(pred, np);
    free(lg);
    free(lp);
    free(labels);
    (*cases)++;
}

static void test_errors(void) {
    const char *labels[] = {"O", "B-PER", "I-PER"};
    int32_t g[] = {0, 1, 2}, p[] = {0, -1, 3}, p2[] = {-2, 0, 0};
    const int32_t *gold[] = {g}, *pred[] = {p}, *pred2[] = {p2};
    int lens[] = {3};
    bertc_token_scores sc = {0};
    bertc_err err = {0};
    CHECK(bertc_token_metrics(&sc, gold, pred, lens, 1, labels, 3, &err) == BERTC_ERR_ARG &&
              strstr(err.msg, "sentence 0 word 2"),
          "pred id 3 of 3 labels must be refused: %s", err.msg);
    printf("  %s\n", err.msg);
    CHECK(bertc_token_metrics(&sc, gold, pred2, lens, 1, labels, 3, &err) == BERTC_ERR_ARG, "pred -2 must be refused");
    const char *empty[] = {"O", ""};
    int32_t z[] = {0, 0, 0};
    const int32_t *zz[] = {z};
    CHECK(bertc_token_metrics(&sc, zz, zz, lens, 1, empty, 2, &err) == BERTC_ERR_ARG, "empty label name must be refused");
    printf("  %s\n", err.msg);
    CHECK(sc.types == NULL && sc.num_types == 0, "scores zeroed after failure");
    /* -1 is "O": a cut word against gold O is correct, against B-PER a miss */
    int32_t pc[] = {-1, -1, -1};
    const int32_t *predc[] = {pc};
    CHECK(bertc_token_metrics(&sc, gold, predc, lens, 1, labels, 3, &err) == BERTC_OK && sc.tokens_correct == 1 &&
              sc.num_types == 1 && sc.types[0].s.support == 1 && sc.recall == 0,
          "pred -1 counts as O");
    char *text = NULL;
    CHECK(bertc_token_report(&text, &sc, 21, &err) == BERTC_ERR_ARG && !text, "digits 21 must be refused");
    bertc_token_scores_free(&sc);
}

int main(void) {
    const char *path = test_fixture("token/metrics.jsonl");
    char *buf = NULL;
    size_t len = 0;
    bertc_err err = {0};
    REQUIRE(bertc_read_file(path, (size_t)1 << 30, &buf, &len, &err) == BERTC_OK, "%s (make build/fixtures/token.stamp)", err.msg);
    printf("errors:\n");
    test_errors();
    int cases = 0, reports = 0, conll = 0, had_conll_case = 0;
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        if (!o) {
            CHECK(0, "%s: bad fixture line", path);
            break;
        }
        had_conll_case |= cJSON_GetObjectItem(o, "file") != NULL;
        run_case(o, &cases, &reports, &conll);
        cJSON_Delete(o);
    }
    free(buf);
    printf("seqeval parity: %d cases, %d classification reports byte for byte\n", cases, reports);
    CHECK(cases >= 400 && reports >= 200, "too few cases (%d) or reports (%d)", cases, reports);
    int rc = TEST_END();
    if (rc == 0 && !(had_conll_case && conll)) {
        printf("SKIP: CoNLL-2003 test.txt was not scored (missing when the fixture was made or now; set BERTC_CONLL)\n");
        return 77;
    }
    return rc;
}
