/* test_multilabel_data.c: multi-label data sets (tests/data/multilabel/): the same
 * four reviews as JSON Lines label lists, fastText lines with several __label__
 * words and CSV with --label-separator ",", each read into the same label set
 * (funny, neg, pos, strong: byte order) and the same per-example label ids
 * (sorted, duplicates dropped; one example without labels); multi-hot rows,
 * label counts, mapping onto a training label set, shuffle/limit and split
 * carrying the ids; a list label without multi-label mode is an error. */
#include "../src/data.h"
#include "test.h"

/* expected ids per example in the label set {funny, neg, pos, strong} */
static const int want_n[4] = {2, 2, 0, 1};
static const int want_ids[4][2] = {{0, 2}, {1, 3}, {0, 0}, {2, 0}};

static void check_set(const char *file, const bertc_dataset *ds) {
    static const char *names[4] = {"funny", "neg", "pos", "strong"};
    CHECK(ds->multi_label && ds->n == 4 && ds->num_labels == 4, "%s: n %d, %d labels, multi %d", file, ds->n,
          ds->num_labels, ds->multi_label);
    if (ds->n != 4 || ds->num_labels != 4) return;
    for (int k = 0; k < 4; k++) CHECK(strcmp(ds->labels[k], names[k]) == 0, "%s: label %d is %s", file, k, ds->labels[k]);
    for (int i = 0; i < 4; i++) {
        const bertc_example *e = &ds->ex[i];
        int ok = e->num_label_ids == want_n[i];
        for (int k = 0; ok && k < want_n[i]; k++) ok = e->label_ids[k] == want_ids[i][k];
        CHECK(ok, "%s: example %d: %d labels (want %d)", file, i, e->num_label_ids, want_n[i]);
        CHECK(e->label == (want_n[i] ? want_ids[i][0] : -1), "%s: example %d: label %d", file, i, e->label);
    }
    CHECK(strncmp(ds->ex[0].text, "great", 5) == 0 && strcmp(ds->ex[2].text, "nothing special") == 0,
          "%s: texts: \"%s\", \"%s\"", file, ds->ex[0].text, ds->ex[2].text);
    long counts[4];
    bertc_data_label_counts(ds, counts);
    CHECK(counts[0] == 1 && counts[1] == 1 && counts[2] == 2 && counts[3] == 1, "%s: counts %ld %ld %ld %ld", file,
          counts[0], counts[1], counts[2], counts[3]);
    float row[4];
    bertc_data_multi_hot(ds, &ds->ex[1], row);
    CHECK(row[0] == 0 && row[1] == 1 && row[2] == 0 && row[3] == 1, "%s: multi-hot of example 1", file);
    bertc_data_multi_hot(ds, &ds->ex[2], row);
    CHECK(row[0] == 0 && row[1] == 0 && row[2] == 0 && row[3] == 0, "%s: multi-hot of the unlabelled example", file);
}

int main(void) {
    bertc_err err = {0};
    bertc_data_opts o;
    const char *files[3] = {"reviews.jsonl", "reviews.txt", "reviews.csv"};
    for (int f = 0; f < 3; f++) {
        bertc_data_opts_default(&o);
        o.multi_label = 1;
        if (f == 2) o.label_separator = ",";
        char path[600];
        snprintf(path, sizeof path, "multilabel/%s", files[f]);
        bertc_dataset ds = {0};
        int rc = bertc_data_load(&ds, test_data(path), NULL, &o, &err);
        CHECK(rc == BERTC_OK, "%s: %s", files[f], err.msg);
        if (rc == BERTC_OK) check_set(files[f], &ds);
        if (f == 0 && rc == BERTC_OK) {
            /* map onto a bigger training label set (other order) */
            const char *train[5] = {"strong", "pos", "neg", "long", "funny"};
            rc = bertc_data_map_labels(&ds, train, 5, &err);
            CHECK(rc == BERTC_OK && ds.num_labels == 5 && ds.ex[1].num_label_ids == 2 && ds.ex[1].label_ids[0] == 0 &&
                      ds.ex[1].label_ids[1] == 2 && ds.ex[0].label_ids[0] == 1 && ds.ex[0].label_ids[1] == 4 &&
                      ds.ex[0].label == 1,
                  "map_labels: %s", err.msg);
            const char *tooshort[2] = {"pos", "neg"};
            CHECK(bertc_data_map_labels(&ds, tooshort, 2, &err) == BERTC_ERR_NOTFOUND && strstr(err.msg, "strong"),
                  "map onto a set without 'strong': %s", err.msg);
            /* split and shuffle/limit keep the ids with their examples */
            bertc_dataset tr = {0}, ev = {0};
            rc = bertc_data_split(&ds, 0.5, 7, &tr, &ev, &err);
            CHECK(rc == BERTC_OK && tr.multi_label && ev.multi_label && tr.n + ev.n == 4, "split: %s", err.msg);
            int total = 0;
            for (int i = 0; rc == BERTC_OK && i < tr.n; i++) total += tr.ex[i].num_label_ids;
            for (int i = 0; rc == BERTC_OK && i < ev.n; i++) total += ev.ex[i].num_label_ids;
            CHECK(total == 5, "split: %d labels in the two halves, want 5", total);
            bertc_data_free(&tr);
            bertc_data_free(&ev);
            rc = bertc_data_shuffle_limit(&ds, 3, 2, &err);
            CHECK(rc == BERTC_OK && ds.n == 2, "shuffle_limit: %s", err.msg);
            for (int i = 0; rc == BERTC_OK && i < 2; i++) {
                const bertc_example *e = &ds.ex[i];
                int n = e->num_label_ids;
                int want = strcmp(e->text, "awful") == 0 || strncmp(e->text, "great", 5) == 0 ? 2
                           : strcmp(e->text, "just good") == 0                                 ? 1
                                                                                                : 0;
                CHECK(n == want && (n == 0 || e->label == e->label_ids[0]), "shuffle_limit: \"%s\" has %d labels",
                      e->text, n);
            }
        }
        bertc_data_free(&ds);
    }
    /* a label list without multi-label mode */
    bertc_data_opts_default(&o);
    bertc_dataset ds = {0};
    int rc = bertc_data_load(&ds, test_data("multilabel/reviews.jsonl"), NULL, &o, &err);
    CHECK(rc == BERTC_ERR_FORMAT && strstr(err.msg, "multi-label") && strstr(err.msg, ":1:"),
          "a list label in single-label mode: rc %d: %s", rc, err.msg);
    bertc_data_free(&ds);
    /* single-label CSV is unchanged by the new fields */
    rc = bertc_data_load(&ds, test_data("multilabel/reviews.csv"), NULL, &o, &err);
    CHECK(rc == BERTC_ERR_FORMAT && strstr(err.msg, "empty label"), "single-label CSV with an empty label: %s", err.msg);
    bertc_data_free(&ds);
    return TEST_END();
}
