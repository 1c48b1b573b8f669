/* fuzz_data.c: bertc_data_load on arbitrary files in each format. Byte 0 picks
 * the format (csv, tsv, jsonl, fastText, aclImdb .tar.gz) and the options
 * (a pair column, an explicit label set); the rest is the file. Then the label
 * checks, shuffle/limit and split run on what loaded. */
#include "../src/data.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const char *const names[] = {"d.csv", "d.tsv", "d.jsonl", "d.txt", "d.tar.gz"};
    int fmt = data[0] % 5;
    const char *path = fuzz_path(names[fmt]);
    if (fuzz_write(path, data + 1, size - 1) != 0) return 0;
    bertc_data_opts o;
    bertc_data_opts_default(&o);
    static const char *const labels[] = {"neg", "pos", "2"};
    if (data[0] & 0x10) o.text_pair_column = "pair";
    if (data[0] & 0x20) {
        o.labels = labels;
        o.num_labels = 3;
    }
    bertc_err err = {0};
    bertc_dataset ds = {0}, tr = {0}, ev = {0};
    int rc = bertc_data_load(&ds, path, (data[0] & 0x40) ? "test" : "train", &o, &err);
    if (rc != BERTC_OK) {
        if (err.code == BERTC_OK || !err.msg[0] || ds.n != 0 || ds.ex) abort();
        return 0;
    }
    long counts[4096];
    if (ds.n <= 0 || ds.num_labels <= 0) abort();
    for (int i = 0; i < ds.n; i++) {
        const bertc_example *x = &ds.ex[i];
        if (x->label < 0 || x->label >= ds.num_labels || !x->text || x->text[x->len] != '\0') abort();
        if (x->pair && x->pair[x->pair_len] != '\0') abort();
    }
    if (ds.num_labels <= 4096) bertc_data_label_counts(&ds, counts);
    (void)bertc_data_check_classes(&ds, &err);
    if (ds.n >= 2 && bertc_data_split(&ds, 0.5, 7, &tr, &ev, &err) == BERTC_OK && tr.n + ev.n != ds.n) abort();
    if (bertc_data_shuffle_limit(&ds, 42, ds.n / 2, &err) != BERTC_OK && ds.n / 2 > 0) abort();
    bertc_data_free(&tr);
    bertc_data_free(&ev);
    bertc_data_free(&ds);
    return 0;
}
